"""Runs reduced to bands: every cell's percentiles without the cube in memory.

Chunks of draws are folded into per-cell histograms (:class:`BandSummary`, mergeable),
so memory is one chunk's cube plus the histograms, whatever the number of draws. The
same fold serves a run simulated here, on a Dask cluster, or read back from a Zarr
store.

A reduced run's Dataset holds, for each output (``total``, ``by_<axis>``) and level, the
bands ``<output>`` (by country), ``<output>_region`` and ``<output>_global`` over
``(quantile, ...)`` and their order-statistic intervals ``<name>_interval``; the
countries' regions are the coordinate ``country_region`` (``region`` is a dimension).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from netsim.defaults import DEFAULT_CHUNK
from netsim.errors import ArgumentValueError, ScenarioError
from netsim.kernels.checksum import add_row_checksums, array_words, checksum_kernel
from netsim.kernels.regions import region_sum_checksum_kernel, region_sum_kernel
from netsim.model.layout import OutputLayout, sum_countries
from netsim.model.propagate import computed_outputs
from netsim.run.chunks import chunk_ranges, compute_chunk
from netsim.run.distributed import fan_out, worker_count
from netsim.scenario.schema import Scenario
from netsim.stats.intervals import coverage_attrs, honest_bounds
from netsim.stats.quantiles import as_quantiles, order_statistics
from netsim.stats.sketches import DEFAULT_BINS, BandSummary, kept_ranks

__all__ = [
    "PILOT_DRAWS",
    "REDUCED_KIND",
    "CellLayout",
    "reduce_bands",
    "reduce_run",
    "reduced_name",
    "selected_outputs",
    "summarise",
]

PILOT_DRAWS = 8192  # the first draws fix the histogram bins of a reduced run
REDUCED_KIND = "bands"  # the ``reduce`` attr of a reduced run's Dataset


def reduced_name(output: str, by: str) -> str:
    """The variable of a reduced run holding ``output`` summed ``by`` a level."""
    return output if by == "country" else f"{output}_{by}"


@dataclass(frozen=True)
class _Block:
    name: str  # e.g. "by_modality_region"
    output: str  # "total" or "by_<axis>"
    by: str  # country | region | global
    dims: tuple[str, ...]  # without draw
    shape: tuple[int, ...]
    offset: int  # first cell in the flat layout

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


LEVELS = ("country", "region", "global")


def selected_outputs(layout: OutputLayout, outputs: Any = None) -> tuple[str, ...]:
    """The outputs a reduced run folds, in the layout's order: every one (``None``), or
    those named (a sequence, or one comma-separated string) and ``total``, which every
    reader of a run needs.

    Raises
    ------
    ArgumentValueError
        For a name that is not an output of the scenario, or an empty selection.
    """
    if outputs is None:
        return layout.outputs
    names = outputs.split(",") if isinstance(outputs, str) else list(outputs)
    names = [str(name).strip() for name in names]
    unknown = [name for name in names if name not in layout.outputs]
    if unknown or not names:
        raise ArgumentValueError(
            f"outputs={unknown[0] if unknown else ''!r} is not an output of this scenario: "
            f"choose from {', '.join(layout.outputs)}",
            argument="outputs",
        )
    return tuple(name for name in layout.outputs if name in names or name == "total")


class CellLayout:
    """Every cell a reduced run summarises: each output per country, per region and
    global (or at the ``levels`` asked for, of the ``outputs`` asked for: cells nobody
    asked for are never binned), laid out flat for one :class:`BandSummary`."""

    def __init__(
        self,
        layout: OutputLayout,
        levels: tuple[str, ...] = LEVELS,
        outputs: tuple[str, ...] | None = None,
    ):
        self.layout = layout
        self.region_of = layout.region_index
        self.outputs = layout.outputs if outputs is None else outputs
        # the patient funnel's kernel runs only when one of its outputs is folded, the
        # products' only when one of theirs is
        self.funnel = any(name not in layout.market_outputs for name in self.outputs)
        own = (*layout.product_outputs, *layout.patient_product_outputs)
        self.products = any(name in own for name in self.outputs)
        blocks, offset = [], 0
        # the country cells of every output first, then every sum: the sums are binned as
        # one matrix (one call of the histogram kernel for all of them; block by block,
        # the narrow ones kept a thread each: 160 against 25 ms a chunk, measured)
        for by in (level for level in LEVELS if level in levels):
            for output in self.outputs:
                shape = layout.shape(output, by)
                name = reduced_name(output, by)
                blocks.append(_Block(name, output, by, layout.dims(output, by), shape, offset))
                offset += int(np.prod(shape))
        self.blocks = tuple(blocks)
        self.cells = offset
        summed = [b for b in self.blocks if b.by != "country"]
        self.sums_from = summed[0].offset if summed else offset  # first cell of the sums
        self._sums: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # reused chunk to chunk
        self._summed = np.empty((0, offset - self.sums_from))  # every sum of a chunk

    def buffers(self, draws: int) -> dict[str, np.ndarray]:
        """float32 arrays a chunk of ``draws`` draws is computed into: every output the
        kernels this layout needs write (the top-down model's alone without the funnel,
        none of the products' without theirs)."""
        names = computed_outputs(self.layout, self.funnel, self.products)
        return self.layout.allocate(draws, np.float32, names)

    def compute(
        self,
        scenario: Scenario,
        run: tuple[int, int, str],
        start: int,
        stop: int,
        buffers: Mapping[str, np.ndarray],
    ) -> dict[str, np.ndarray]:
        """The outputs of draws ``[start, stop)`` of a run of (draws, seed, sampler) that
        this layout folds: only the kernels they need run."""
        draws, seed, sampler = run
        return compute_chunk(
            scenario, draws, seed, sampler, start, stop, buffers, self.funnel, self.products
        )[1]

    def views(self, arrays: Mapping[str, np.ndarray]) -> Iterator[tuple[_Block, np.ndarray]]:
        """Each block's values as a (draws, cells) matrix (region and world sums in float64)."""
        sums: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        n_regions = len(self.layout.regions)
        for block in self.blocks:
            values = arrays[block.output]
            n = values.shape[0]
            if block.by == "country":
                yield block, values.reshape(n, -1)
                continue
            if block.output not in sums:  # country is the third axis: (draw, year, country, ...)
                sums[block.output] = sum_countries(
                    values, 2, self.region_of, n_regions, self._scratch(block.output, n)
                )
            by_region, world = sums[block.output]
            yield block, (by_region if block.by == "region" else world).reshape(n, -1)

    def _scratch(self, output: str, draws: int) -> tuple[np.ndarray, np.ndarray]:
        """float64 region and world sums of ``draws`` draws of ``output``, reused from the
        last chunk where it was as large (fresh memory costs page faults every chunk)."""
        region_shape = (draws, *self.layout.shape(output, "region"))
        world_shape = (draws, *self.layout.shape(output, "global"))
        held = self._sums.get(output)
        if held is None or held[0].shape[0] < draws:
            held = (np.empty(region_shape), np.empty(world_shape))
            self._sums[output] = held
        return held[0][:draws], held[1][:draws]

    def matrices(
        self, arrays: Mapping[str, np.ndarray], checksums: np.ndarray | None = None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """(first cell, (draws, cells) matrix): each output's country cells, then every
        region and world sum as one float64 matrix; ``checksums`` as :meth:`fold`."""
        n = next(iter(arrays.values())).shape[0]
        if self._summed.shape[0] < n:
            self._summed = np.empty((n, self.cells - self.sums_from))
        summed = self._summed[:n]
        at = {(b.output, b.by): b for b in self.blocks}
        unsummed = set(self.layout.outputs)
        for block in self.blocks:
            if block.by == "country":
                yield block.offset, arrays[block.output].reshape(n, -1)
            elif block.by == "region" or (block.output, "region") not in at:
                checksum = None
                if checksums is not None:
                    checksum = checksums[self.layout.outputs.index(block.output)]
                self._sum_into(summed, arrays[block.output], at, block.output, checksum)
                unsummed.discard(block.output)
        if checksums is not None:  # outputs no sum of this layout reads
            for name in unsummed:
                index = self.layout.outputs.index(name)
                checksum_kernel(array_words(arrays[name]), 0, checksums[index])
        if self.cells > self.sums_from:
            yield self.sums_from, summed

    def _sum_into(
        self,
        summed: np.ndarray,
        values: np.ndarray,
        at: dict[tuple[str, str], _Block],
        output: str,
        checksum: np.ndarray | None = None,
    ) -> None:
        """Sum one output's countries into its region and world columns of ``summed``,
        written in place (views of the matrix: no scratch, no copy); a level not kept is
        summed into scratch. With ``checksum`` (uint64, 2), add the output's checksum
        into it, taken in the same pass over its cells."""
        n = values.shape[0]
        cube = values.reshape(n, values.shape[1], values.shape[2], -1)
        segments = cube.shape[3]
        views = []
        for by, places in (("region", len(self.layout.regions)), ("global", None)):
            block = at.get((output, by))
            shape = (n, cube.shape[1], places, segments) if places else (n, cube.shape[1], segments)
            if block is None:
                views.append(np.empty(shape))
            else:
                first = block.offset - self.sums_from
                views.append(summed[:, first : first + block.size].reshape(shape))
                assert np.shares_memory(views[-1], summed)  # a view, written in place
        cube = np.ascontiguousarray(cube)
        if checksum is None:
            region_sum_kernel(cube, self.region_of, *views)
        elif cube.dtype == np.float32:  # a word a cell: the sums' pass takes the checksum
            terms = np.empty((n, 2), dtype=np.uint64)
            region_sum_checksum_kernel(cube, cube.view(np.uint32), self.region_of, *views, terms)
            add_row_checksums(terms, 0, checksum)
        else:
            region_sum_kernel(cube, self.region_of, *views)
            checksum_kernel(array_words(values), 0, checksum)

    def last_sums(self, output: str, by: str, draws: int) -> np.ndarray | None:
        """The sums of ``output`` ``by`` region or worldwide of the chunk last folded (its
        first ``draws`` draws), ``(draw, *shape)``; None if this layout has no such cells."""
        for block in self.blocks:
            if block.output == output and block.by == by and by != "country":
                first = block.offset - self.sums_from
                return self._summed[:draws, first : first + block.size].reshape(
                    (draws, *block.shape)
                )
        return None

    def fold(
        self,
        summary: BandSummary,
        arrays: Mapping[str, np.ndarray],
        checksums: np.ndarray | None = None,
    ) -> None:
        """Add one chunk's outputs to ``summary``; with ``checksums`` ((outputs, 2) uint64,
        the layout's outputs in order), add each output's checksum of the chunk
        (:mod:`netsim.kernels.checksum`, rows numbered from the chunk's first draw)
        into it, taken in the pass that sums the output's regions."""
        for offset, matrix in self.matrices(arrays, checksums):
            summary.add(matrix, offset=offset)

    def pilot_range(self, arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Each cell's smallest and largest value in a chunk, for fixing the bins."""
        lowest, highest = np.empty(self.cells), np.empty(self.cells)
        for offset, matrix in self.matrices(arrays):
            cells = slice(offset, offset + matrix.shape[1])
            lowest[cells], highest[cells] = matrix.min(axis=0), matrix.max(axis=0)
        return lowest, highest

    def pilot_summary(
        self, arrays: Mapping[str, np.ndarray], bins: int, q: np.ndarray | None
    ) -> BandSummary:
        """An empty summary whose bins the pilot ``arrays`` fix: every cell's range, and
        with ``q``, the ranges around each quantile kept bin by bin (the rest of a cell's
        bins as one count a block: about a tenth of the counts)."""
        if q is None:
            return BandSummary.from_range(*self.pilot_range(arrays), bins)
        draws = next(iter(arrays.values())).shape[0]
        ranks = kept_ranks(draws, q)  # (quantile, 2), -1 and draws open
        lowest, highest = np.empty(self.cells), np.empty(self.cells)
        keep = np.empty((q.size, 2, self.cells))
        for offset, matrix in self.matrices(arrays):
            cells = slice(offset, offset + matrix.shape[1])
            lowest[cells], highest[cells] = matrix.min(axis=0), matrix.max(axis=0)
            values = order_statistics(matrix, np.clip(ranks, 0, draws - 1).reshape(-1))
            keep[:, :, cells] = values.reshape(q.size, 2, -1)
        keep[:, 0][ranks[:, 0] < 0] = -np.inf
        keep[:, 1][ranks[:, 1] >= draws] = np.inf
        return BandSummary.from_range(lowest, highest, bins, keep)

    def dataset(self, summary: BandSummary, q: np.ndarray, confidence: float) -> xr.Dataset:
        """Bands and their order-statistic intervals of every block, labelled."""
        layout = self.layout
        n = summary.draws
        values = summary.quantiles(q)
        bounds, coverage = honest_bounds(
            lambda ranks: summary.order_statistics(ranks.astype(np.float64)), n, q, confidence
        )  # (bound, quantile, cells)
        width = summary.relative_bin_width
        coords = layout.coords()
        coords["country_region"] = coords.pop("region")
        coords["region"] = ("region", list(layout.regions))
        coords["quantile"] = q
        coords["bound"] = ["low", "high"]
        coords["coverage"] = ("quantile", coverage)
        if layout.parameters:
            coords["parameter"] = ("parameter", list(layout.parameters))
        variables: dict[str, Any] = dict(layout.parameter_variables()) if layout.parameters else {}
        for block in self.blocks:
            cells = slice(block.offset, block.offset + block.size)
            attrs = {"units": layout.unit, "output": block.output, "by": block.by}
            variables[block.name] = (
                ("quantile", *block.dims),
                values[:, cells].reshape((q.size, *block.shape)),
                attrs,
            )
            variables[f"{block.name}_interval"] = (
                ("bound", "quantile", *block.dims),
                bounds[:, :, cells].reshape((2, q.size, *block.shape)),
                {**attrs, "long_name": f"{100 * confidence:.10g} % order-statistic interval"},
            )
        return xr.Dataset(
            variables,
            coords=coords,
            attrs={
                **layout.provenance,
                "reduce": REDUCED_KIND,
                "draws": n,
                "confidence": confidence,
                "histogram_bins": summary.bins,
                "histogram_counts_per_cell": round(summary.counts.size / max(1, summary.cells), 1),
                "max_relative_bin_width": float(np.nanmax(width))
                if np.isfinite(width).any()
                else 0.0,
                "accuracy": "each band within one bin of the exact order statistics, so "
                "within max_relative_bin_width of them (0.2 % or better for the NET "
                "market and its funnel, 0.5 % for its products, tested); NaN where a rank "
                "falls outside the histogram's range or between the ranges kept bin by "
                "bin around the asked quantiles",
            },
        )


def _fold_range(
    scenario: Scenario,
    template: BandSummary,
    draws: int,
    seed: int,
    sampler: str,
    chunk_size: int,
    start: int,
    stop: int,
    outputs: tuple[str, ...] | None = None,
) -> BandSummary:
    """Simulate draws ``[start, stop)`` chunk by chunk into an empty copy of ``template``
    (the unit of work a Dask worker runs), folding ``outputs`` (every one: None)."""
    layout = OutputLayout.of(scenario)
    cells = CellLayout(layout, outputs=outputs)
    summary = template.empty_like()
    local_chunk = min(chunk_size, PILOT_DRAWS)  # as reduce_bands folds: memory, speed
    buffers = cells.buffers(min(local_chunk, stop - start))
    for a, b in chunk_ranges(start, stop, local_chunk):
        cells.fold(summary, cells.compute(scenario, (draws, seed, sampler), a, b, buffers))
    return summary


def summarise(
    cells: CellLayout,
    fetch: Callable[[int, int], Mapping[str, np.ndarray]],
    draws: int,
    chunk_size: int = DEFAULT_CHUNK,
    bins: int = DEFAULT_BINS,
    progress: Callable[[int], Any] | None = None,
    q: np.ndarray | None = None,
) -> BandSummary:
    """Fold draws ``[0, draws)`` into a :class:`BandSummary`, chunk by chunk.

    ``fetch(start, stop)`` returns the output arrays of those draws (simulated,
    or read back from a store). The first :data:`PILOT_DRAWS` draws fix the bins,
    whatever the chunk size, so the summary does not depend on the chunking. With
    ``q``, only the bins around those quantiles are kept bin by bin
    (:meth:`CellLayout.pilot_summary`): other ranks read NaN.
    """
    pilot = min(draws, PILOT_DRAWS)
    arrays = fetch(0, pilot)
    summary = cells.pilot_summary(arrays, bins, q)
    cells.fold(summary, arrays)
    del arrays
    if progress is not None:
        progress(pilot)
    for a, b in chunk_ranges(pilot, draws, chunk_size):
        cells.fold(summary, fetch(a, b))
        if progress is not None:
            progress(b - a)
    return summary


def reduce_bands(
    scenario: Scenario,
    draws: int,
    seed: int = 0,
    sampler: str = "mc",
    *,
    q: Any = (0.05, 0.5, 0.95),
    confidence: float = 0.95,
    chunk_size: int = DEFAULT_CHUNK,
    bins: int = DEFAULT_BINS,
    client: Any = None,
    progress: Callable[[int], Any] | None = None,
    outputs: Any = None,
) -> xr.Dataset:
    """Bands of every cell without holding the cube: chunks folded into histograms.

    ``outputs``: the outputs to fold (names, or one comma-separated string; ``total``
    always), every one by default; the patient funnel's kernel runs only when one of
    its outputs is among them, the products' kernels only when one of theirs is.

    Memory is one chunk's cube plus the histograms, whatever the number of draws: only
    the bins around the quantiles ``q`` are kept bin by bin (about a tenth of a cell's
    4,098 for P5, P50 and P95; every cell's in int64), the rest as one count a block.

    Returns
    -------
    xarray.Dataset
        For each output (``total``, ``by_<axis>``) and level (country, ``_region``,
        ``_global``): the bands over ``(quantile, year, ...)`` and their intervals
        ``<name>_interval (bound, quantile, ...)``. Attrs: ``draws``,
        ``max_relative_bin_width`` and the accuracy statement.
    """
    qs = as_quantiles(q)
    if draws < 1:
        raise ScenarioError(f"draws={draws} must be >= 1")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer):
        raise ScenarioError(f"chunk_size={chunk_size!r} must be a whole number >= 1")
    layout = OutputLayout.of(scenario)
    cells = CellLayout(layout, outputs=selected_outputs(layout, outputs))
    pilot = min(draws, PILOT_DRAWS)
    # one chunk's outputs, reused chunk after chunk (fresh memory costs page faults);
    # chunks here of at most the pilot's size: their memory is 190 MB for the NET
    # scenario, and folding is fastest there (measured: 8,192 draws 10 % faster than
    # 16,384 or 4,096). Results do not depend on it.
    local_chunk = min(chunk_size, PILOT_DRAWS)
    buffers = cells.buffers(pilot)

    def fetch(a: int, b: int) -> dict[str, np.ndarray]:
        return cells.compute(scenario, (draws, seed, sampler), a, b, buffers)

    local_draws = draws if client is None else pilot
    summary = summarise(cells, fetch, local_draws, local_chunk, bins, progress, qs)
    if client is not None and draws > pilot:
        per_task = max(chunk_size, -(-(draws - pilot) // (2 * worker_count(client))))

        def merge(task: tuple[Any, ...], part: BandSummary) -> None:
            summary.merge(part)
            if progress is not None:
                progress(part.draws)

        fan_out(
            client,
            _fold_range,
            (scenario, summary.empty_like()),
            (
                (draws, seed, sampler, chunk_size, a, b, cells.outputs)
                for a, b in chunk_ranges(pilot, draws, per_task)
            ),
            merge,
        )
    result = cells.dataset(summary, qs, confidence)
    result.attrs.update({"seed": int(seed), **coverage_attrs(sampler)})
    return result


def reduce_run(
    dataset: xr.Dataset,
    q: Any = (0.05, 0.5, 0.95),
    confidence: float = 0.95,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[int], Any] | None = None,
) -> xr.Dataset:
    """The bands of every cell of a run holding its draws (a Zarr store, a NetCDF cube),
    read chunk by chunk as :func:`reduce_bands` simulates them: the run never has to fit
    in memory."""
    layout = OutputLayout.from_dataset(dataset)
    cells = CellLayout(layout)
    draws = int(dataset.sizes["draw"])

    def fetch(a: int, b: int) -> dict[str, np.ndarray]:
        return {name: np.asarray(dataset[name][a:b].values) for name in layout.outputs}

    qs = as_quantiles(q)
    summary = summarise(cells, fetch, draws, chunk_size, progress=progress, q=qs)
    result = cells.dataset(summary, qs, confidence)
    result.attrs.update({k: dataset.attrs[k] for k in ("seed",) if k in dataset.attrs})
    result.attrs.update(coverage_attrs(dataset.attrs.get("sampler")))
    return result
