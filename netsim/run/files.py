"""Run files: the one reader (:func:`open_run`) and NetCDF writing (:func:`write_netcdf`).

``netsim run`` writes three kinds of run: a NetCDF file of the cube (its draws), a
NetCDF file of a run reduced to bands, and a Zarr store of the cube. :func:`open_run`
opens each of them and refuses anything else in one line; :func:`run_kind` tells
them apart.
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
from netsim.errors import ScenarioError, damage_found_by_hdf5
from netsim.files import DeferredErrorFile, OutputFile
from netsim.model.layout import OutputLayout
from netsim.run.conventions import from_cf, to_cf
from netsim.run.planning import memory_budget
from netsim.run.reduced import REDUCED_KIND

__all__ = ["DRAWS_KIND", "open_analysis", "open_run", "run_kind", "write_netcdf"]

DRAWS_KIND = "draws"  # a run holding its draws (NetCDF cube, Zarr store, in memory)


def write_netcdf(
    dataset: xr.Dataset, path: str | Path | OutputFile, reads: Iterable[str | Path] = ()
) -> Path:
    """Write a Dataset to NetCDF-4 through the one writer (:class:`netsim.files.OutputFile`),
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
    Chunks split the first dimension (the draws of a cube) into pieces of about
    :data:`CHECKSUM_CHUNK_BYTES`; strings (labels, sources) cannot carry it, and the
    labels' own digest covers them (:func:`labels_digest`)."""
    variables = {}
    for name, variable in dataset.variables.items():
        if variable.dtype.kind not in "fiub" or variable.ndim == 0 or 0 in variable.shape:
            continue
        row_bytes = variable.dtype.itemsize * int(np.prod(variable.shape[1:], dtype=np.int64))
        rows = max(1, min(variable.shape[0], CHECKSUM_CHUNK_BYTES // max(row_bytes, 1)))
        encoding = {**variable.encoding, "fletcher32": True}
        encoding["chunksizes"] = (rows, *variable.shape[1:])
        variables[name] = variable.copy(deep=False)
        variables[name].encoding = encoding
    return dataset.assign(variables) if variables else dataset


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


def _check_labels(dataset: xr.Dataset, path: Path) -> None:
    """Refuse a file whose labels differ from the digest stamped when it was written
    (a file stamped before the text variables were digested is checked without them:
    a digest of the newer kind never equals one of the earlier)."""
    stamped = dataset.attrs.get("labels_digest")
    if stamped is None or stamped == labels_digest(dataset):
        return
    if stamped != labels_digest(dataset, texts=False):
        raise ScenarioError(
            f"{path}: its labels, settings or texts were edited or damaged (their digest differs)"
        )


def run_kind(dataset: xr.Dataset) -> str:
    """``"draws"`` for a run holding its draws, ``"bands"`` for one reduced to bands."""
    return REDUCED_KIND if dataset.attrs.get("reduce") == REDUCED_KIND else DRAWS_KIND


def open_run(path: str | Path) -> xr.Dataset:
    """Open any run ``netsim run`` writes: a NetCDF cube, a NetCDF of bands, a Zarr store.

    A NetCDF file small enough for memory is read whole (a damaged one fails here, not
    halfway through an analysis); a larger one, and a Zarr store, are opened lazily.

    Raises
    ------
    ScenarioError
        In one line, for a path that is missing, not a netsim run (a scenario file,
        text, an empty or truncated file, a NetCDF file from elsewhere, a folder), or an
        incomplete Zarr store (naming the command that finishes it).
    """
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: file not found")
    if path.is_dir():
        from netsim.run.zarr_store import is_store, open_store

        if not is_store(path):
            raise ScenarioError(f"{path} is a folder, not a netsim run (nor a Zarr store)")
        dataset = open_store(path)
    elif not path.is_file():
        raise ScenarioError(f"{path} is not a regular file")
    else:
        dataset = _open_netcdf(path)
    OutputLayout.from_dataset(dataset, str(path))
    if run_kind(dataset) == DRAWS_KIND and "draw" not in dataset["total"].dims:
        raise ScenarioError(f"{path} is not a netsim run (its 'total' has no draws)")
    if run_kind(dataset) == REDUCED_KIND:
        lacking = [k for k in ("draws", "confidence") if k not in dataset.attrs]
        lacking += [k for k in ("quantile",) if k not in dataset.coords]
        lacking += [k for k in ("total_global", "total_global_interval") if k not in dataset]
        if lacking:
            raise ScenarioError(
                f"{path} is not a complete netsim run reduced to bands (no {', '.join(lacking)})"
            )
        _check_reduced(dataset, path)
    _check_against_document(dataset, path)
    _check_labels(dataset, path)
    return dataset


def _check_against_document(dataset: xr.Dataset, path: Path) -> None:
    """The run's labels are the ones of the scenario document it carries: years,
    countries with their regions, axes and segments, in order (an edited coordinate
    would put one year's or country's numbers under another's name)."""
    text = dataset.attrs.get("scenario_document")
    if text is None:
        return  # runs of earlier versions carry no document
    try:
        document = json.loads(str(text))
        years = list(range(int(document["years"]["base"]), int(document["years"]["final"]) + 1))
        countries, regions = [], []
        for region, table in document["regions"].items():
            for country in table["country_shares"]:
                if country != "source":
                    countries.append(country)
                    regions.append(region)
        axes = {a: [s for s in t["segments"]] for a, t in document.get("axes", {}).items()}
        products = document.get("products", {})
        companies = [str(t["company"]) for t in products.values()]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ScenarioError(f"{path}: its scenario document is damaged") from None
    layout = OutputLayout.from_dataset(dataset, str(path))
    found = {
        "years": (list(layout.years), years),
        "countries": (list(layout.countries), countries),
        "regions of the countries": (list(layout.country_regions), regions),
        "axes": (sorted(layout.axes), sorted(axes)),
    }
    found.update(
        {f"segments of {a}": (list(layout.segments_of(a)), axes.get(a)) for a in layout.axes}
    )
    found["products"] = (list(layout.products), list(products))
    found["products' companies"] = (list(layout.product_companies), companies)
    for what, (labels, expected) in found.items():
        if labels != expected:
            raise ScenarioError(
                f"{path}: its {what} are not its scenario's (the file was edited or damaged)"
            )


def _check_reduced(dataset: xr.Dataset, path: Path) -> None:
    """A reduced run's settings and bands are possible: draws >= 1, a confidence in
    (0, 1), quantiles in [0, 1] and increasing, every band finite or NaN (a rank outside
    the histogram's range), non-negative and inside its own interval."""
    try:
        draws, confidence = int(dataset.attrs["draws"]), float(dataset.attrs["confidence"])
    except (TypeError, ValueError):
        raise ScenarioError(f"{path}: its draws or confidence are not numbers") from None
    q = np.asarray(dataset["quantile"].values, dtype=np.float64)
    if (
        draws < 1
        or not 0.0 < confidence < 1.0
        or not (np.all((q >= 0) & (q <= 1)) and np.all(np.diff(q) > 0))
    ):
        raise ScenarioError(f"{path}: its draws, confidence or quantiles are impossible")
    for name in dataset.data_vars:
        if f"{name}_interval" not in dataset:
            continue
        value = np.asarray(dataset[name].values, dtype=np.float64)
        interval = dataset[f"{name}_interval"]
        low = np.asarray(interval.sel(bound="low").values, dtype=np.float64)
        high = np.asarray(interval.sel(bound="high").values, dtype=np.float64)
        known = ~np.isnan(value)
        with np.errstate(invalid="ignore"):
            bad = (
                np.isinf(value)
                | (value < 0)
                | (known & ~np.isnan(low) & (low > value))
                | (known & ~np.isnan(high) & (value > high))
            )
        if bad.any():
            raise ScenarioError(f"{path}: its {name} bands are impossible (the file was edited)")


def open_analysis(path: str | Path, variable: str | tuple[str, ...], made_by: str) -> xr.Dataset:
    """Open a NetCDF file of an analysis result (e.g. Sobol indices) holding ``variable``
    (or every one of several).

    Raises
    ------
    ScenarioError
        In one line, for anything else, naming the command ``made_by`` that writes one.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(
            f"{path}: file not found" if not path.exists() else f"{path} is not a file"
        )
    # read whole whatever its size (indices of groups per cell, not draws): a damaged
    # chunk found later, by a command that also reads a run, was blamed on the run
    dataset = _open_netcdf(path, "a netsim result file", whole=True)
    for name in (variable,) if isinstance(variable, str) else variable:
        if name not in dataset:
            raise ScenarioError(f"{path} holds no {name!r} (write one with {made_by})")
    _check_labels(dataset, path)
    return dataset


def _open_netcdf(path: Path, what: str = "a netsim run", whole: bool = False) -> xr.Dataset:
    """A NetCDF-4 file written by netsim, read whole when it fits the memory budget (or
    if ``whole``).

    ``what`` names the file wanted in the messages (e.g. "a netsim run")."""
    with path.open("rb") as handle:
        signature = handle.read(8)
    if signature != b"\x89HDF\r\n\x1a\n":
        if path.suffix.lower() == ".toml":
            raise ScenarioError(
                f"{path} is a scenario file, not {what} (netsim run writes a run from it)"
            )
        kind = "an empty file" if not signature else "not a NetCDF-4 file"
        raise ScenarioError(f"{path} is not {what} ({kind})")
    try:
        _read_root_attributes(path)
        dataset = xr.open_dataset(path, engine="h5netcdf")
    except Exception as error:  # h5py and h5netcdf raise many kinds for a damaged file
        raise ScenarioError(
            f"{path} is not a readable NetCDF file, damaged or truncated ({_first_line(error)})"
        ) from None
    if "netsim_version" not in dataset.attrs:
        dataset.close()
        raise ScenarioError(f"{path} is not {what} (a NetCDF file without netsim_version)")
    from_cf(dataset)  # the units UDUNITS does not define, back where netsim reads them
    if whole or path.stat().st_size <= memory_budget():
        try:
            dataset.load()
        except Exception as error:
            dataset.close()
            raise ScenarioError(f"{path} is {damage_found_by_hdf5(error)}") from None
        dataset.close()
    return dataset


def _read_root_attributes(path: Path) -> None:
    """Read the file's own attributes through h5py, raising if they are damaged.

    h5netcdf reads one of them halfway through making its file object: when that
    fails the half-made object, collected later, prints a traceback of its own. Read
    here first, a damaged header fails before h5netcdf sees the file."""
    import h5py

    with h5py.File(path, "r") as handle:
        dict(handle.attrs)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
