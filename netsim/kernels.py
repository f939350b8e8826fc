"""The numba kernels of netsim, and the one place that sets their options (the beta
quantile kernel, the PERT's inverse CDF, is in :mod:`netsim.beta_inverse`; the lane
vectors the propagation kernel computes with are in :mod:`netsim.lanes`).

Kernels take arrays and scalars only, write into preallocated ``out`` arrays and
validate nothing (the callers in :mod:`netsim.engine` and :mod:`netsim.stats`
do). Each is a pure function of its inputs: one draw's outputs depend on that
draw's inputs alone, so results are bit-identical for any chunking and any
number of threads.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from netsim.lanes import LANES, broadcast, clip, load, store, store_products_transposed

__all__ = [
    "JIT_OPTIONS",
    "fill_kernel",
    "keyed_uniforms_kernel",
    "propagate_kernel",
    "quantile_kernel",
    "region_sum_kernel",
]

JIT_OPTIONS = {
    # (numba.njit is nopython: kernels never fall back to object mode)
    # nogil: callers may run kernels from several Python threads at once.
    "nogil": True,
    # cache: compiled code is stored beside the source, so a fresh process starts fast.
    "cache": True,
    # fastmath off: reassociation would make results depend on vector width and break
    # bit-identical reproducibility (tests/test_reproducibility.py).
    "fastmath": False,
    # numpy error model: division by zero gives inf/nan instead of a Python exception
    # check in the inner loops; inputs are validated before they reach a kernel.
    "error_model": "numpy",
}

DRAWS_PER_TASK = 64  # draws handled by one parallel task, sharing its scratch arrays


@numba.njit(**JIT_OPTIONS)
def _tilts_by_segment(tilt_segment, n_segments):  # pragma: no cover - compiled
    """The driver tilts grouped by segment, each group in file order (a stable
    counting sort): segment ``s``'s tilts are ``tilt_of[tilts_from[s]:tilts_from[s + 1]]``."""
    tilts_from = np.zeros(n_segments + 1, dtype=np.int64)
    for i in range(tilt_segment.shape[0]):
        tilts_from[tilt_segment[i] + 1] += 1
    for s in range(n_segments):
        tilts_from[s + 1] += tilts_from[s]
    tilt_of = np.empty(tilt_segment.shape[0], dtype=np.int64)
    slot = tilts_from[:n_segments].copy()
    for i in range(tilt_segment.shape[0]):
        tilt_of[slot[tilt_segment[i]]] = i
        slot[tilt_segment[i]] += 1
    return tilts_from, tilt_of


@numba.njit(**JIT_OPTIONS)
def _cube_cells(n_years, n_regions, region_of, axis_start):  # pragma: no cover - compiled
    """Where the two factors of each cube cell are in the kernel's scratch rows.

    Cell ``f`` of a draw's row of output ``o`` (0: ``total``, then one per axis; the
    row flattened as year, country[, segment]) is ``value_rows[value_of[i]] *
    share_rows[share_of[i]]`` with ``i = cell_start[o] + f``. ``value_rows`` are
    (year, country) and ``share_rows`` (region, year, segment), then one row of ones
    that ``total``'s cells multiply.
    """
    n_countries = region_of.shape[0]
    n_axes = axis_start.shape[0] - 1
    n_segments = axis_start[n_axes]
    cell_start = np.zeros(n_axes + 2, dtype=np.int64)
    cell_start[1] = n_years * n_countries
    for a in range(n_axes):
        width = axis_start[a + 1] - axis_start[a]
        cell_start[a + 2] = cell_start[a + 1] + n_years * n_countries * width
    value_of = np.empty(cell_start[n_axes + 1], dtype=np.int64)
    share_of = np.empty(cell_start[n_axes + 1], dtype=np.int64)
    for f in range(cell_start[1]):
        value_of[f] = f
        share_of[f] = n_regions * n_years * n_segments  # the row of ones
    for a in range(n_axes):
        width = axis_start[a + 1] - axis_start[a]
        for f in range(cell_start[a + 2] - cell_start[a + 1]):
            year_country = f // width
            year = year_country // n_countries
            region = region_of[year_country - year * n_countries]
            segment = axis_start[a] + f - year_country * width
            value_of[cell_start[a + 1] + f] = year_country
            share_of[cell_start[a + 1] + f] = (region * n_years + year) * n_segments + segment
    return cell_start, value_of, share_of


@numba.njit(**JIT_OPTIONS)
def _write_cells(
    out, first, n_lanes, value_rows, share_rows, value_of, share_of
):  # pragma: no cover
    """``out[first + l, f] = value_rows[value_of[f], l] * share_rows[share_of[f], l]``
    for lanes ``l < n_lanes`` and every cell ``f``: a whole block eight cells at a time
    (transposed in registers), the rest cell by cell."""
    n_cells = value_of.shape[0]
    done = 0
    if n_lanes == LANES:  # blocks of LANES cells x LANES draws
        done = n_cells - n_cells % LANES
        for f in range(0, done, LANES):
            store_products_transposed(out, first, f, value_rows, share_rows, value_of, share_of)
    for lane in range(n_lanes):
        for f in range(done, n_cells):
            out[first + lane, f] = value_rows[value_of[f], lane] * share_rows[share_of[f], lane]


@numba.njit(parallel=True, **JIT_OPTIONS)
def propagate_kernel(
    base_value,
    region_of,
    baseline,
    forecast_years,
    ramp_onset,
    ramp_rate,
    ramp_norm,
    geo,
    share0,
    premium,
    axis_start,
    tilt_driver,
    tilt_segment,
    tilt_weight,
    event_segment,
    event_geo,
    event_tilt,
    scale,
    impact,
    delay,
    noise_global,
    noise_region,
    event_severity,
    event_activity,
    total,
    by_axis,
):  # pragma: no cover - compiled; checked against netsim.reference in tests
    """Propagate every draw through years, countries and segments.

    Draws are computed :data:`~netsim.lanes.LANES` at a time, as lane vectors
    (:mod:`netsim.lanes`): every scratch array ends in a lane axis, and each
    operation runs on eight independent draws at once, in SIMD registers. Each lane
    performs exactly the operations, in the order, that one draw on its own would:
    a draw's outputs do not depend on its neighbours, the chunking or the threads.

    Parameters
    ----------
    base_value ... event_tilt : ndarray
        Scenario arrays, see :class:`netsim.model.ModelArrays` (growth as fractions).
    scale ... event_activity : ndarray
        Per-draw arrays, see :class:`netsim.model.DrawArrays`.
    total : ndarray, shape (draw, year, country), C-contiguous
        Output, USD million (float32 or float64).
    by_axis : tuple of ndarray, each shape (draw, year, country, segment of that axis)
        Outputs, USD million, C-contiguous, one per axis; each sums to ``total`` over
        its segments.
    """
    n_draws = scale.shape[0]
    n_countries = base_value.shape[0]
    n_forecast = forecast_years.shape[0]
    n_years = n_forecast + 1
    n_drivers = ramp_onset.shape[0]
    n_regions = share0.shape[0]
    n_segments = premium.shape[0]
    n_axes = axis_start.shape[0] - 1
    n_events = event_segment.shape[0]
    tilts_from, tilt_of = _tilts_by_segment(tilt_segment, n_segments)
    cell_start, value_of, share_of = _cube_cells(n_years, n_regions, region_of, axis_start)
    n_share_rows = n_regions * n_years * n_segments
    total_rows = total.reshape((n_draws, n_years * n_countries))
    n_tasks = (n_draws + DRAWS_PER_TASK - 1) // DRAWS_PER_TASK
    for task in prange(n_tasks):
        # this block's inputs, gathered lane by lane
        lane_scale = np.empty(LANES)
        lane_delay = np.empty((n_drivers, LANES))
        lane_impact = np.empty((n_drivers, LANES))
        lane_noise = np.empty((n_forecast, LANES))
        lane_severity = np.empty((n_events, LANES))
        lane_activity = np.empty((n_events, n_forecast, LANES))
        ramps = np.empty((n_drivers, n_forecast, LANES))
        drive = np.empty((n_regions, n_forecast, LANES))
        shock = np.empty((n_events, n_regions, n_forecast, LANES))
        # share paths as rows (region, year, segment), then a row of ones for total
        share_rows = np.empty((n_share_rows + 1, LANES))
        store(share_rows[n_share_rows], broadcast(1.0))
        value_rows = np.empty((n_years * n_countries, LANES))  # (year, country)
        task_end = min(n_draws, (task + 1) * DRAWS_PER_TASK)
        for first in range(task * DRAWS_PER_TASK, task_end, LANES):
            # lane l computes draw first + l; a short last block repeats its last draw
            # in the spare lanes, which are never written out
            for lane in range(LANES):
                d = min(first + lane, task_end - 1)
                lane_scale[lane] = scale[d]
                for k in range(n_drivers):
                    lane_delay[k, lane] = delay[d, k]
                    lane_impact[k, lane] = impact[d, k]
                for t in range(n_forecast):
                    lane_noise[t, lane] = noise_global[d, t]
                    for r in range(n_regions):
                        drive[r, t, lane] = noise_region[d, r, t]
                for e in range(n_events):
                    lane_severity[e, lane] = event_severity[d, e]
                    for t in range(n_forecast):
                        lane_activity[e, t, lane] = event_activity[d, e, t]
            for t in range(n_forecast):
                for r in range(n_regions):
                    store(drive[r, t], load(lane_noise[t]) + load(drive[r, t]))
            for e in range(n_events):
                for t in range(n_forecast):
                    active = load(lane_severity[e]) * load(lane_activity[e, t])
                    for r in range(n_regions):
                        store(shock[e, r, t], active * event_geo[e, r, t])
            for c in range(n_countries):
                store(value_rows[c], base_value[c] * load(lane_scale))

            # drive: noise plus each driver's impact x ramp(t - delay) x geography
            for k in range(n_drivers):
                onset = ramp_onset[k] + load(lane_delay[k]) - 1.0
                amplitude = ramp_norm[k] * load(lane_impact[k])
                for t in range(n_forecast):
                    x = (forecast_years[t] - onset) * ramp_rate[k]
                    ramp = clip(x, 0.0, 1.0) * amplitude
                    store(ramps[k, t], ramp)
                    for r in range(n_regions):
                        store(drive[r, t], load(drive[r, t]) + ramp * geo[k, r, t])
            # segment shares evolve per region (every country of a region starts from the
            # region's shares and sees the same tilts); drive[] gains the events' effect
            for r in range(n_regions):
                for s in range(n_segments):
                    store(share_rows[r * n_years * n_segments + s], broadcast(share0[r, s]))
                for t in range(n_forecast):
                    # this year's shares, and next year's, grown then renormalised in place
                    now = (r * n_years + t) * n_segments
                    after = now + n_segments
                    driven = load(drive[r, t])
                    for e in range(n_events):
                        # an event moves its segment's value: the total moves by its share
                        driven += load(share_rows[now + event_segment[e]]) * load(shock[e, r, t])
                    store(drive[r, t], driven)
                    for a in range(n_axes):
                        norm = broadcast(0.0)
                        for s in range(axis_start[a], axis_start[a + 1]):
                            # segment growth: premium, then the drivers' tilts (in file
                            # order; ramp x geography is the product drive[] received), then
                            # the events' tilts
                            growth = broadcast(premium[s])
                            for i in range(tilts_from[s], tilts_from[s + 1]):
                                k = tilt_driver[tilt_of[i]]
                                growth += tilt_weight[tilt_of[i]] * (
                                    load(ramps[k, t]) * geo[k, r, t]
                                )
                            for e in range(n_events):
                                w = event_tilt[e, s]
                                if w != 0.0:
                                    growth += w * load(shock[e, r, t])
                            grown = load(share_rows[now + s]) * (1.0 + growth)
                            store(share_rows[after + s], grown)
                            norm += grown
                        # renormalise each axis to 1: guarded by tests/test_invariants.py
                        inverse = 1.0 / norm
                        for s in range(axis_start[a], axis_start[a + 1]):
                            store(share_rows[after + s], load(share_rows[after + s]) * inverse)

            # country totals by year
            for t in range(n_forecast):
                for c in range(n_countries):
                    growth = 1.0 + (baseline[c, t] + load(drive[region_of[c], t]))
                    here = t * n_countries + c
                    store(value_rows[here + n_countries], load(value_rows[here]) * growth)

            # the cube: total, then each axis as value x share
            n_lanes = min(LANES, task_end - first)
            _write_cells(
                total_rows,
                first,
                n_lanes,
                value_rows,
                share_rows,
                value_of[: cell_start[1]],
                share_of[: cell_start[1]],
            )
            for a in range(n_axes):
                cells = slice(cell_start[a + 1], cell_start[a + 2])
                _write_cells(
                    by_axis[a].reshape((n_draws, cell_start[a + 2] - cell_start[a + 1])),
                    first,
                    n_lanes,
                    value_rows,
                    share_rows,
                    value_of[cells],
                    share_of[cells],
                )


@numba.njit(**JIT_OPTIONS)
def _lerp(low, high, fraction):  # pragma: no cover - compiled
    # numpy's linear interpolation, the same operations in the same order
    # (numpy.lib._function_base_impl._lerp), so results match np.quantile.
    difference = high - low
    if fraction >= 0.5:
        return high - difference * (1.0 - fraction)
    return low + difference * fraction


@numba.njit(**JIT_OPTIONS)
def _column_quantiles(
    column, lowest, highest, positions, out, counts, marker, buffer
):  # pragma: no cover
    """Exact quantiles of one column by histogram selection (two passes, then small sorts).

    ``lowest`` and ``highest`` are the column's extremes. The bin of a value is a
    monotone function of it, so the k-th smallest value lies in the bin where the
    cumulative count passes k; only those bins' values are sorted.
    """
    n = column.shape[0]
    if not (highest > lowest):  # constant column (or NaN present: handled by caller)
        for j in range(positions.shape[0]):
            out[j] = lowest
        return
    n_bins = counts.shape[0]
    bin_scale = n_bins / (highest - lowest)
    counts[:] = 0
    for i in range(n):
        b = int((column[i] - lowest) * bin_scale)
        if b >= n_bins:
            b = n_bins - 1
        counts[b] += 1
    # the ranks needed, and the bins that hold them
    n_positions = positions.shape[0]
    ranks = np.empty(2 * n_positions, dtype=np.int64)
    for j in range(n_positions):
        k = int(np.floor(positions[j]))
        ranks[2 * j] = k
        ranks[2 * j + 1] = min(k + 1, n - 1)
    rank_bin = np.empty(ranks.shape[0], dtype=np.int64)
    rank_before = np.empty(ranks.shape[0], dtype=np.int64)
    marker[:] = -1
    n_marked = 0
    bin_offset = np.empty(ranks.shape[0] + 1, dtype=np.int64)
    bin_offset[0] = 0
    marked_bins = np.empty(ranks.shape[0], dtype=np.int64)
    for j in range(ranks.shape[0]):
        cumulative = 0
        b = 0
        while cumulative + counts[b] <= ranks[j]:
            cumulative += counts[b]
            b += 1
        rank_bin[j] = b
        rank_before[j] = cumulative
        if marker[b] < 0:
            marker[b] = n_marked
            marked_bins[n_marked] = b
            bin_offset[n_marked + 1] = bin_offset[n_marked] + counts[b]
            n_marked += 1
    fill = bin_offset[:n_marked].copy()
    for i in range(n):
        x = column[i]
        b = int((x - lowest) * bin_scale)
        if b >= n_bins:
            b = n_bins - 1
        slot = marker[b]
        if slot >= 0:
            buffer[fill[slot]] = x
            fill[slot] += 1
    for slot in range(n_marked):
        buffer[bin_offset[slot] : bin_offset[slot + 1]].sort()
    for j in range(n_positions):
        low_rank, high_rank = 2 * j, 2 * j + 1
        slot = marker[rank_bin[low_rank]]
        low = buffer[bin_offset[slot] + ranks[low_rank] - rank_before[low_rank]]
        slot = marker[rank_bin[high_rank]]
        high = buffer[bin_offset[slot] + ranks[high_rank] - rank_before[high_rank]]
        out[j] = _lerp(low, high, positions[j] - np.floor(positions[j]))
    for slot in range(n_marked):
        marker[marked_bins[slot]] = -1


@numba.njit(**JIT_OPTIONS)
def _sorted_quantiles(column, positions, out):  # pragma: no cover - compiled
    """Quantiles of a sorted column (numpy's interpolation between neighbours)."""
    n = column.shape[0]
    for p in range(positions.shape[0]):
        k = int(np.floor(positions[p]))
        low = np.float64(column[k])
        high = np.float64(column[min(k + 1, n - 1)])
        out[p] = _lerp(low, high, positions[p] - np.floor(positions[p]))


# cells gathered per pass over the draws, copied out in tiles of rows: a tile (256 rows x
# 32 cells) stays in cache while each cell's run is copied, and a block's scratch (32 x
# draws) stays in the last-level cache for the selection passes. 30 % faster than
# gathering 64 cells a row at a time (benchmarks/run.py; 16 to 64 cells and 256 to 1024
# rows measured within noise of each other)
CELLS_PER_BLOCK = 32
ROWS_PER_TILE = 256


@numba.njit(parallel=True, **JIT_OPTIONS)
def quantile_kernel(data, positions, n_tasks, out, has_nan):  # pragma: no cover - compiled
    """Quantiles over the first axis of a 2-D array, per column.

    Parameters
    ----------
    data : ndarray, shape (n, m), C-contiguous, float32 or float64
        ``n`` draws of ``m`` cells. A column holding NaN or infinities is sorted
        instead of binned (numpy's results, infinities included).
    positions : ndarray, shape (q,)
        Fractional ranks ``q * (n - 1)``, as numpy's ``linear`` method.
    n_tasks : int
        Parallel tasks, each with its own scratch arrays (``CELLS_PER_BLOCK * n``
        values of ``data``'s type and ``n`` float64).
    out : ndarray, shape (q, m), float64
        The quantiles.
    has_nan : ndarray of bool, shape (m,)
        Set where a column holds NaN (its quantiles are undefined: the caller raises).
    """
    n, m = data.shape
    n_blocks = (m + CELLS_PER_BLOCK - 1) // CELLS_PER_BLOCK
    n_tasks = max(1, min(n_blocks, n_tasks))
    for task in prange(n_tasks):
        block_column = np.empty((CELLS_PER_BLOCK, n), dtype=data.dtype)
        lowest = np.empty(CELLS_PER_BLOCK, dtype=data.dtype)
        highest = np.empty(CELLS_PER_BLOCK, dtype=data.dtype)
        nonfinite = np.empty(CELLS_PER_BLOCK, dtype=np.int64)
        counts = np.empty(4096, dtype=np.int64)
        marker = np.empty(4096, dtype=np.int64)
        buffer = np.empty(n, dtype=np.float64)
        result = np.empty(positions.shape[0])
        for block in range(task, n_blocks, n_tasks):
            first = block * CELLS_PER_BLOCK
            width = min(m, first + CELLS_PER_BLOCK) - first
            # gather a block of columns, one pass over the rows, keeping each one's extremes
            for j in range(width):
                lowest[j] = data[0, first + j]
                highest[j] = data[0, first + j]
                nonfinite[j] = 0
            # in tiles of rows: a tile's lines stay in cache while each column's
            # values are copied out in one contiguous run (a row at a time would write
            # CELLS_PER_BLOCK scattered streams)
            for tile in range(0, n, ROWS_PER_TILE):
                tile_end = min(n, tile + ROWS_PER_TILE)
                for j in range(width):
                    column = block_column[j]
                    low_j, high_j = lowest[j], highest[j]
                    nonfinite_j = nonfinite[j]
                    for i in range(tile, tile_end):
                        x = data[i, first + j]
                        column[i] = x
                        low_j = min(low_j, x)
                        high_j = max(high_j, x)
                        nonfinite_j += (x - x) != 0.0  # NaN and infinities
                    lowest[j], highest[j], nonfinite[j] = low_j, high_j, nonfinite_j
            for j in range(width):
                has_nan[first + j] = False
                if nonfinite[j] > 0:  # no bins: sort (NaN sorts last)
                    column = block_column[j]
                    column.sort()
                    has_nan[first + j] = column[n - 1] != column[n - 1]
                    _sorted_quantiles(column, positions, out[:, first + j])
                    continue
                _column_quantiles(
                    block_column[j],
                    np.float64(lowest[j]),
                    np.float64(highest[j]),
                    positions,
                    result,
                    counts,
                    marker,
                    buffer,
                )
                for p in range(positions.shape[0]):
                    out[p, first + j] = result[p]


@numba.njit(parallel=True, **JIT_OPTIONS)
def keyed_uniforms_kernel(keys, start, out):  # pragma: no cover - compiled
    """Uniforms of several keyed streams, draws ``start .. start + len(out)``.

    ``out[i, j]`` is output ``start + i`` of SplitMix64 seeded with ``keys[j]``, the
    53 high bits centred in their interval: the same integer operations as
    :func:`netsim.sampling.keyed_uniforms`, so the same values bit for bit.

    Parameters
    ----------
    keys : ndarray of uint64, shape (P,)
    start : uint64
        Index of the first draw.
    out : ndarray of float64, shape (n, P)
    """
    golden = np.uint64(0x9E3779B97F4A7C15)
    mix_1 = np.uint64(0xBF58476D1CE4E5B9)
    mix_2 = np.uint64(0x94D049BB133111EB)
    scale = 1.0 / 2.0**53
    for i in prange(out.shape[0]):
        counter = (start + np.uint64(i) + np.uint64(1)) * golden
        for j in range(keys.shape[0]):
            z = keys[j] + counter
            z = (z ^ (z >> np.uint64(30))) * mix_1
            z = (z ^ (z >> np.uint64(27))) * mix_2
            z = z ^ (z >> np.uint64(31))
            out[i, j] = (np.float64(z >> np.uint64(11)) + 0.5) * scale


@numba.njit(parallel=True, **JIT_OPTIONS)
def fill_kernel(out, value):  # pragma: no cover - compiled
    """Write ``value`` into every element of a 2-D array, in parallel over rows.

    The benchmark's measure of this machine's memory write bandwidth.
    """
    for i in prange(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = value


@numba.njit(parallel=True, **JIT_OPTIONS)
def region_sum_kernel(values, region_of, by_region, world):  # pragma: no cover - compiled
    """Sum countries into regions and the world, per draw (float64 sums).

    Parameters
    ----------
    values : ndarray, shape (draw, year, country, segment)
    region_of : ndarray of int64, shape (country,)
    by_region : ndarray, shape (draw, year, region, segment), overwritten
    world : ndarray, shape (draw, year, segment), overwritten
    """
    n, n_years, n_countries, n_segments = values.shape
    n_regions = by_region.shape[2]
    for d in prange(n):
        for t in range(n_years):
            for s in range(n_segments):
                world[d, t, s] = 0.0
                for r in range(n_regions):
                    by_region[d, t, r, s] = 0.0
            for c in range(n_countries):
                r = region_of[c]
                for s in range(n_segments):
                    v = np.float64(values[d, t, c, s])
                    by_region[d, t, r, s] += v
                    world[d, t, s] += v
