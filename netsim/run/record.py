"""A run's record: the recipe and the answer, streamed chunk by chunk, never the cube.

The cube is a pure function of the sampled inputs, and the kernel recomputes it faster
than a disk gives it back. So a run written by ``netsim run --out RUN.nc`` holds:

* the recipe: the inputs of every draw (``inputs[draw, parameter]``), the seed, sampler,
  scenario document, solved calibration and versions, and a checksum of each output's
  cells chunk by chunk (``output_checksum``, :mod:`netsim.kernels.checksum`), so that a
  cube recomputed from the inputs is known to be the one the run made, bit for bit;
* the answer a reader needs without netsim: the global and regional sums of the totals
  in every draw (``total_global``, ``total_region``, the patient-based ones likewise, and
  each table ``netsim run`` prints), and the bands of every output by region and
  worldwide (``bands_<output>_region``, ``bands_<output>_global``, with their
  order-statistic intervals), read from per-cell histograms as a reduced run's are.

:func:`netsim.run.reading.open_run` gives the cube back (:mod:`netsim.run.recompute`).
Memory is one chunk's cube, the histograms, the inputs and the kept sums, whatever the
draws: the printed tables are read from the kept sums, exactly.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from netsim.kernels.checksum import array_words, checksum_kernel
from netsim.model.layout import OutputLayout
from netsim.model.propagate import computed_outputs
from netsim.run.chunks import chunk_ranges, compute_chunk
from netsim.run.reduced import PILOT_DRAWS, CellLayout
from netsim.sampling.inputs import correlation_attrs
from netsim.scenario.schema import Scenario
from netsim.stats.intervals import coverage_attrs
from netsim.stats.quantiles import as_quantiles
from netsim.stats.sketches import DEFAULT_BINS, BandSummary

__all__ = [
    "CHECKSUM_CHUNK",
    "RECORD_KIND",
    "kept_sums",
    "kernels_of",
    "output_checksums",
    "record_chunk",
    "record_fits",
    "record_headline_draws",
    "record_of",
    "record_run",
    "sum_name",
]

RECORD_KIND = "record"  # the ``run_file`` attr of a run that keeps its recipe and answer
CHECKSUM_CHUNK = PILOT_DRAWS  # the most draws per checksum (and per chunk of the run)
# a chunk's cube is at most this large (the NET file with its products, 64 kB a draw, runs
# in chunks of 2,048 draws: 8,192 of them took its 100,000-draw run to 1.48 GB, measured)
CHUNK_BYTES = 160e6
# a run streams into its record while the record's draws (inputs and kept totals) take at
# most this much; a larger run is reduced to bands (a 2,000,000-draw record of the NET
# file held 5.5 GB, measured)
RECORD_DRAW_BYTES = 0.6e9
BANDS_PREFIX = "bands_"
# the levels whose bands a record keeps: every output by region and worldwide; by country
# the cube itself, recomputed (binning every country cell too made writing a 100,000-draw
# file of the NET file with its funnel 3.2 times a run without a file, measured)
BAND_LEVELS = ("region", "global")


def sum_name(output: str, by: str) -> str:
    """The variable of a record holding ``output`` summed ``by`` a level in every draw."""
    return f"{output}_{by}"


def kept_sums(layout: OutputLayout) -> tuple[tuple[str, str], ...]:
    """The (output, level) sums a record keeps per draw: the global and regional totals
    (top-down and, with a funnel, patient-based), and every table ``netsim run`` prints."""
    wanted = [
        (output, by)
        for output in ("total", "patient_total")
        if output in layout.outputs
        for by in ("global", "region")
    ]
    wanted += [(cell.output, cell.by) for cell in layout.headline()]
    return tuple(dict.fromkeys(wanted))


def kernels_of(layout: OutputLayout, wanted: tuple[tuple[str, str], ...]) -> tuple[bool, bool]:
    """Whether the patient funnel's kernel and the products' kernels must run for the
    ``(output, level)`` sums ``wanted``: (funnel, products), as
    :func:`netsim.model.propagate.computed_outputs` takes them."""
    outputs = {output for output, _ in wanted}
    own = {*layout.product_outputs, *layout.patient_product_outputs}
    return bool(outputs - set(layout.market_outputs)), bool(outputs & own)


def record_headline_draws(record: xr.Dataset, layout: OutputLayout) -> dict[str, xr.DataArray]:
    """The draws of every table ``netsim run`` prints, read from a record's kept sums:
    title -> DataArray ``(draw, <row dim>)``, float64 (as
    :func:`netsim.model.layout.headline_draws` reads them from a cube)."""
    out = {}
    for cell in layout.headline():
        data = record[sum_name(cell.output, cell.by)]
        if cell.year is not None:
            data = data.sel(year=cell.year, drop=True)
        out[cell.title] = data.transpose("draw", cell.row_dim)
    return out


def record_chunk(layout: OutputLayout) -> int:
    """Draws per chunk of a record's run (and per checksum): :data:`CHECKSUM_CHUNK`, or
    fewer (a power of two, at least 512) where a chunk's cube would pass
    :data:`CHUNK_BYTES`."""
    chunk = CHECKSUM_CHUNK
    while chunk > 512 and chunk * layout.bytes_per_draw > CHUNK_BYTES:
        chunk //= 2
    return chunk


def record_fits(layout: OutputLayout, draws: int) -> bool:
    """Whether a run of ``draws`` draws may stream into its record: its draws' inputs and
    kept totals (float64) take at most :data:`RECORD_DRAW_BYTES`."""
    kept = sum(int(np.prod(layout.shape(o, by))) for o, by in kept_sums(layout))
    return draws * 8 * (len(layout.parameters) + kept) <= RECORD_DRAW_BYTES


def output_checksums(layout: OutputLayout, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The checksum of each output of one chunk: (outputs, 2) uint64, in layout order."""
    sums = np.zeros((len(layout.outputs), 2), dtype=np.uint64)
    for index, name in enumerate(layout.outputs):
        checksum_kernel(array_words(arrays[name]), 0, sums[index])
    return sums


def record_run(
    scenario: Scenario,
    draws: int,
    seed: int = 0,
    sampler: str = "mc",
    *,
    bands: bool = True,
    q: Any = (0.05, 0.5, 0.95),
    confidence: float = 0.95,
    progress: Callable[[int], Any] | None = None,
) -> xr.Dataset:
    """Simulate a run chunk by chunk into its record (see the module).

    Parameters
    ----------
    scenario : Scenario
    draws, seed, sampler
        As :func:`netsim.simulate`; the draws are the same, bit for bit.
    bands : bool
        A record to be written: fold every cell into histograms for the bands of every
        output and keep the checksum of each output's cells. False keeps only what the
        printed tables need (the inputs and the kept sums, no ``output_checksum``): a
        run that writes nothing neither loads nor runs the checksum's kernel.
    q, confidence
        The bands' quantiles and their intervals' confidence.
    progress : callable, optional
        Called with the draws finished after each chunk.

    Returns
    -------
    xarray.Dataset
        ``inputs``, the kept sums (:func:`kept_sums`) over ``draw``, ``output_checksum``
        and, with ``bands``, the bands; attrs ``run_file="record"``, the provenance,
        seed, sampler, draws and versions.
    """
    layout = OutputLayout.of(scenario)
    # a record to be written keeps every output's bands and checksum: every kernel runs;
    # one that only prints runs the kernels of its kept sums alone (the products' kernels
    # not at all when no printed table needs them: two fewer compiled kernels to load)
    funnel, products = (True, True) if bands else kernels_of(layout, kept_sums(layout))
    names = computed_outputs(layout, funnel, products)
    buffers = layout.allocate(min(draws, record_chunk(layout)), np.float32, names)

    def fetch(a: int, b: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return compute_chunk(scenario, draws, seed, sampler, a, b, buffers, funnel, products)

    attrs = {"seed": int(seed), "sampler": sampler, **correlation_attrs(scenario, sampler)}
    return _record(layout, draws, fetch, attrs, bands, q, confidence, progress)


def record_of(
    dataset: xr.Dataset, q: Any = (0.05, 0.5, 0.95), confidence: float = 0.95
) -> xr.Dataset:
    """The record of a run held in memory (its cube and inputs, e.g. gathered from a Dask
    cluster): the same record :func:`record_run` makes of the same draws."""
    layout = OutputLayout.from_dataset(dataset)
    draws = int(dataset.sizes["draw"])

    def fetch(a: int, b: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        arrays = {name: np.asarray(dataset[name].values[a:b]) for name in layout.outputs}
        return np.asarray(dataset["inputs"].values[a:b]), arrays

    attrs = {
        key: value
        for key, value in dataset.attrs.items()
        if key in ("seed", "sampler", "correlation_method") or key.startswith("precision_")
    }
    return _record(layout, draws, fetch, attrs, True, q, confidence, None)


def _record(
    layout: OutputLayout,
    draws: int,
    fetch: Callable[[int, int], tuple[np.ndarray, dict[str, np.ndarray]]],
    run_attrs: dict[str, Any],
    bands: bool,
    q: Any,
    confidence: float,
    progress: Callable[[int], Any] | None,
) -> xr.Dataset:
    """The record of ``draws`` draws whose inputs and outputs ``fetch(start, stop)``
    gives, chunk by chunk."""
    chunk = record_chunk(layout)
    ranges = chunk_ranges(0, draws, chunk)
    inputs = np.empty((draws, len(layout.parameters)))
    kept = kept_sums(layout)
    sums = {key: np.empty((draws, *layout.shape(*key))) for key in kept}
    checksums = np.zeros((len(ranges), len(layout.outputs), 2), dtype=np.uint64) if bands else None
    cells = CellLayout(layout, BAND_LEVELS) if bands else None
    summary: BandSummary | None = None
    for index, (a, b) in enumerate(ranges):
        inputs[a:b], arrays = fetch(a, b)
        if cells is not None and checksums is not None:
            if summary is None:  # the first chunk is the pilot: it fixes the bins
                summary = cells.pilot_summary(arrays, DEFAULT_BINS, as_quantiles(q))
            # each output's checksum is taken in the pass that sums its regions (the
            # same checksums as output_checksums, without reading the chunk again)
            cells.fold(summary, arrays, checksums[index])
        for output, by in kept:  # the fold's own sums where it made them (the same sums)
            found = None if cells is None else cells.last_sums(output, by, b - a)
            sums[output, by][a:b] = (
                layout.sum_arrays(arrays, output, by) if found is None else found
            )
        if progress is not None:
            progress(b - a)
    attrs = {
        **layout.provenance,
        "run_file": RECORD_KIND,
        **run_attrs,
        "draws": int(draws),
        "checksum_chunk": chunk,
        **_versions(),
    }
    record = _labelled(layout, inputs, sums, checksums, attrs)
    if cells is not None and summary is not None:
        sampler = str(run_attrs.get("sampler", ""))
        bands_of_cells = _bands(cells, summary, as_quantiles(q), confidence, sampler)
        record = record.merge(bands_of_cells, compat="override", combine_attrs="override")
        record.attrs.update(bands_of_cells.attrs)
    return record


def _labelled(
    layout: OutputLayout,
    inputs: np.ndarray,
    sums: dict[tuple[str, str], np.ndarray],
    checksums: np.ndarray | None,
    attrs: dict[str, Any],
) -> xr.Dataset:
    draws = inputs.shape[0]
    coords = layout.coords()
    coords["country_region"] = coords.pop("region")
    coords["region"] = ("region", list(layout.regions))
    coords["draw"] = ("draw", np.arange(draws, dtype=np.int64))
    coords["parameter"] = ("parameter", list(layout.parameters))
    coords["output"] = ("output", list(layout.outputs))
    variables: dict[str, Any] = dict(layout.parameter_variables())
    variables["inputs"] = (
        ("draw", "parameter"),
        inputs,
        {"long_name": "sampled inputs, each in its parameter's unit"},
    )
    for (output, by), values in sums.items():
        unit = layout.unit_of(output)
        where = "worldwide" if by == "global" else "by region"
        variables[sum_name(output, by)] = (
            ("draw", *layout.dims(output, by)),
            values,
            {"units": unit, "long_name": f"{output} summed {where}, every draw"},
        )
    if checksums is None:  # a record that is not written (a run that only prints)
        return xr.Dataset(variables, coords=coords, attrs=attrs)
    # the bits of each unsigned 64-bit sum, as a signed integer every NetCDF reader takes
    variables["output_checksum"] = (
        ("checksum_chunk", "output", "checksum_part"),
        checksums.view(np.int64),
        {
            "long_name": "checksum of each output's float32 cells, chunk by chunk of draws "
            "(netsim.kernels.checksum: position-weighted sums of the 32-bit words, modulo "
            "2**64)",
        },
    )
    return xr.Dataset(variables, coords=coords, attrs=attrs)


def _bands(
    cells: CellLayout, summary: BandSummary, q: np.ndarray, confidence: float, sampler: str
) -> xr.Dataset:
    """The bands of every output and level, named ``bands_<name>`` (a reduced run's
    variables, whose names a record keeps for the cube)."""
    reduced = cells.dataset(summary, q, confidence)
    kept = [name for name in reduced.data_vars if not str(name).startswith("parameter_")]
    bands = reduced[kept].rename({name: f"{BANDS_PREFIX}{name}" for name in kept})
    bands.attrs = {
        "histogram_bins": reduced.attrs["histogram_bins"],
        "max_relative_bin_width": reduced.attrs["max_relative_bin_width"],
        "bands_accuracy": reduced.attrs["accuracy"],
        "confidence": confidence,
        **coverage_attrs(sampler),
    }
    return bands.drop_vars([c for c in bands.coords if c in ("parameter",)], errors="ignore")


def _versions() -> dict[str, str]:
    """The versions a recomputed cube may depend on in its last bits."""
    import numba

    return {
        "numpy_version": np.__version__,
        "numba_version": numba.__version__,
        "python_version": platform.python_version(),
        "machine": platform.machine(),
    }
