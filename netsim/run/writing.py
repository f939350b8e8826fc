"""Run files, written: every NetCDF file netsim writes goes through :func:`write_netcdf`,
with the CF-1.10 attributes, HDF5's Fletcher-32 checksum on every numeric chunk and a
digest of the labels no checksum covers (:func:`labels_digest`, checked by the reader,
:mod:`netsim.run.reading`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import xarray as xr

from netsim import __version__
from netsim.output_files import DeferredErrorFile, OutputFile
from netsim.run.conventions import to_cf

__all__ = ["labels_digest", "write_netcdf"]


def write_netcdf(
    dataset: xr.Dataset, path: str | Path | OutputFile, reads: Iterable[str | Path] = ()
) -> Path:
    """Write a Dataset to NetCDF-4 through the one writer (:class:`netsim.output_files.OutputFile`),
    with the CF-1.10 attributes (:func:`netsim.run.conventions.to_cf`).

    Parameters
    ----------
    dataset : xarray.Dataset
        Dask-backed data are computed first.
    path : str, Path or OutputFile
        The file, or an :class:`OutputFile` made earlier (so that its folder was proven
        writable before the computation).
    reads : iterable of paths
        Files the caller read: ``path`` may not be one of them.

    Returns
    -------
    Path
        The written file.
    """
    if "netsim_version" not in dataset.attrs:
        dataset = dataset.assign_attrs(netsim_version=__version__)
    dataset = to_cf(dataset.assign_attrs(labels_digest=labels_digest(dataset)))
    if isinstance(path, OutputFile):
        return path.commit(lambda temporary: _write_h5netcdf(dataset, temporary))
    with OutputFile(path, reads) as output:
        return output.commit(lambda temporary: _write_h5netcdf(dataset, temporary))


def _write_h5netcdf(dataset: xr.Dataset, path: Path) -> None:
    """The Dataset as NetCDF-4 through xarray's h5netcdf store, into ``path``.

    The store writes into a :class:`DeferredErrorFile`: HDF5 left with a failed write
    (a full disk) crashes the interpreter when it closes, so failures are kept aside
    and raised once HDF5 is done. Going through the store directly also keeps
    ``to_netcdf`` from looking up a Dask scheduler (it imports ``dask.distributed``,
    0.5 to 0.7 s of a small ``netsim run``).
    """
    import h5netcdf
    from xarray.backends import H5NetCDFStore

    if any(variable.chunks is not None for variable in dataset.variables.values()):
        dataset = dataset.load()
    dataset = _with_checksums(dataset)
    target = DeferredErrorFile(path)
    try:
        handle = h5netcdf.File(target, "w")
        store = H5NetCDFStore(handle, lock=threading.Lock())
        try:
            dataset.dump_to_store(store)
        finally:
            store.close()
    finally:
        target.finish()


CHECKSUM_CHUNK_BYTES = 4 * 2**20  # HDF5 checks a checksum per chunk of about this size


def _with_checksums(dataset: xr.Dataset) -> xr.Dataset:
    """``dataset`` with every numeric variable stored in chunks that carry HDF5's
    Fletcher-32 checksum, which HDF5 verifies whenever a chunk is read: a byte of the
    file changed on disk or in transfer is refused as damage, never read as a number.
    Chunks split the first dimension (the draws of a cube) into pieces of at most
    :data:`CHECKSUM_CHUNK_BYTES` (:func:`chunk_rows`); strings (labels, sources) cannot
    carry it, and the labels' own digest covers them (:func:`labels_digest`)."""
    variables = {}
    for name, variable in dataset.variables.items():
        if variable.dtype.kind not in "fiub" or variable.ndim == 0 or 0 in variable.shape:
            continue
        row_bytes = variable.dtype.itemsize * int(np.prod(variable.shape[1:], dtype=np.int64))
        rows = chunk_rows(variable.shape[0], row_bytes)
        encoding = {**variable.encoding, "fletcher32": True}
        encoding["chunksizes"] = (rows, *variable.shape[1:])
        variables[name] = variable.copy(deep=False)
        variables[name].encoding = encoding
    return dataset.assign(variables) if variables else dataset


def chunk_rows(rows: int, row_bytes: int) -> int:
    """Rows a chunk of a variable of ``rows`` rows of ``row_bytes`` bytes holds: as few
    chunks as keep each within :data:`CHECKSUM_CHUNK_BYTES`, the rows spread evenly over
    them. HDF5 stores the last chunk whole, so chunks of the largest size that fits
    would leave up to a chunk of padding on disk (a file of 100,000 draws of the NET
    file kept 16 MB of it, 7 %: half of a per-draw total's two chunks was padding).
    """
    largest = max(1, min(rows, CHECKSUM_CHUNK_BYTES // max(row_bytes, 1)))
    chunks = -(-rows // largest)
    return -(-rows // chunks)


DIGESTED_ATTRS = ("draws", "seed", "sampler", "confidence", "reduce", "units", "scenario_hash")
# the texts no HDF5 checksum covers, which a report prints (its assumptions, each with
# its value and source, come from the document)
DIGESTED_TEXTS = ("scenario_document", "calibration")


def labels_digest(dataset: xr.Dataset, *, texts: bool = True) -> str:
    """SHA-256 of what labels a file's numbers: every coordinate's values, every text
    variable (a parameter's unit, distribution and source), the attrs that say what
    the numbers are (draws, confidence, quantiles, units ...) and the scenario document
    and calibration the file carries. Stamped by
    :func:`write_netcdf`, checked by :func:`open_run` and :func:`open_analysis`: an
    edited label (a quantile renamed, a confidence changed, a unit or source changed
    by a damaged byte, which no checksum of HDF5 covers) would otherwise put a number
    under a false name.

    ``texts=False`` gives the digest of the earlier files, which left the text
    variables, the document and the calibration out."""

    def plain(value: object) -> object:
        return value.item() if isinstance(value, np.generic) else value

    def values(variable: xr.DataArray) -> list:
        return [plain(v) for v in np.asarray(variable.values).reshape(-1).tolist()]

    content: dict[str, object] = {
        name: values(coordinate) for name, coordinate in sorted(dataset.coords.items())
    }
    digested = DIGESTED_ATTRS + DIGESTED_TEXTS if texts else DIGESTED_ATTRS
    content["attrs"] = {k: plain(dataset.attrs[k]) for k in digested if k in dataset.attrs}
    if texts:
        content["texts"] = {
            str(name): values(variable)
            for name, variable in sorted(dataset.data_vars.items(), key=lambda item: str(item[0]))
            if variable.dtype.kind in "OSU"
        }
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
