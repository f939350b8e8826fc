"""The propagation kernel: every draw through years, countries and segments.

Its inputs are two typed tuples: :class:`ModelArrays` (the scenario's arrays, built by
:func:`netsim.model.arrays.model_arrays`) and :class:`DrawArrays` (the per-draw arrays,
:func:`netsim.model.arrays.draw_arrays`). The kernel reads their fields by name, so
no argument order can drift from the arrays that feed it; a field it needs and does
not find fails when the kernel compiles.

Each block of eight draws goes through the same stages, in this order (each marked by
a comment below): gather the draws into lanes; start every path (noise, event shocks,
base-year values); add the drivers; evolve the segment shares and the events' effect;
grow the countries; write the cube (or, for :func:`propagate_region_sums_kernel`, sum
one output's cells into regions and the world instead). The stages stay in one loop
body: as separate functions they cost 4 to 7 % (numba passes the tuples of arrays to
each call, and ``inline="always"`` miscompiled them inside the parallel loop). Eight
draws are computed side by side as one SIMD lane vector (:mod:`netsim.kernels.lanes`); each lane
performs exactly the operations, in the order, that one draw on its own would, so a
draw's outputs do not depend on its neighbours, the chunking or the threads (the
pinned digest in ``tests/test_regression.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba import prange

from netsim.kernels.lanes import LANES, broadcast, clip, load, store, store_products_transposed
from netsim.kernels.options import JIT_OPTIONS
from netsim.kernels.regions import region_members

__all__ = [
    "DrawArrays",
    "ModelArrays",
    "propagate_kernel",
    "propagate_region_sums_kernel",
    "sum_cells_by_region",
    "write_cells",
]

DRAWS_PER_TASK = 64  # draws handled by one parallel task, sharing its scratch arrays


class ModelArrays(NamedTuple):
    """Scenario-level kernel inputs. Shapes: C countries, R regions, T1 forecast
    years, K drivers and restraints, S segments of all axes, E events, M (event,
    segment) moves (one per segment an event names)."""

    base_value: np.ndarray  # (C,) market value in the base year, before base_scale
    region_of: np.ndarray  # (C,) int64 region index
    baseline: np.ndarray  # (C, T1) calibrated growth, fraction
    forecast_years: np.ndarray  # (T1,) float64
    ramp_onset: np.ndarray  # (K,) year
    ramp_rate: np.ndarray  # (K,) 1 / ramp years
    ramp_norm: np.ndarray  # (K,) scale giving the stated first-order CAGR effect
    geo: np.ndarray  # (K, R, T1) normalised region weights
    share0: np.ndarray  # (R, S) base-year segment shares per region, each axis sums to 1
    premium: np.ndarray  # (S,) segment growth premium, fraction
    axis_start: np.ndarray  # (A + 1,) int64 segment offsets of each axis
    tilt_driver: np.ndarray  # (N,) int64
    tilt_segment: np.ndarray  # (N,) int64
    tilt_weight: np.ndarray  # (N,) float64
    event_of: np.ndarray  # (M,) int64 event of each (event, segment) move, events in order
    event_segment: np.ndarray  # (M,) int64 segment whose value that move shifts
    event_geo: np.ndarray  # (E, R, T1) absolute region weights
    event_tilt: np.ndarray  # (E, S) share tilts per unit of shock (1 on each event segment)


class DrawArrays(NamedTuple):
    """Per-draw kernel inputs (D draws)."""

    scale: np.ndarray  # (D,) base-size multiplier
    impact: np.ndarray  # (D, K) fraction per year
    delay: np.ndarray  # (D, K) years
    noise_global: np.ndarray  # (D, T1) fraction
    noise_region: np.ndarray  # (D, R, T1) fraction
    event_severity: np.ndarray  # (D, E) fraction
    event_activity: np.ndarray  # (D, E, T1) in [0, 1]
    funnel_base: np.ndarray  # (D, F) base value of each funnel factor (F = 0 without one)
    products: np.ndarray  # (D, P, fields) each product's values (P = 0 without products)

    @property
    def draws(self) -> int:
        return self.scale.shape[0]


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
def write_cells(
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


@numba.njit(**JIT_OPTIONS)
def sum_cells_by_region(
    by_region,
    world,
    first,
    n_lanes,
    value_rows,
    share_rows,
    region_of,
    members,
    starts,
    share_from,
    year_step,
    region_step,
    lane_sum,
):  # pragma: no cover - compiled
    """One output's cells of a block of draws summed into regions and the world, the cells
    formed as :func:`write_cells` forms them and added as
    :func:`netsim.kernels.regions.region_sum_kernel` adds them (from 0, countries in their
    order), so every sum is the same bit for bit, and no cell goes through memory.

    ``by_region[first + l, t, r, j]`` sums ``value_rows[t * C + c, l] * share_rows[h, l]``
    over region ``r``'s countries ``c``, with ``h = share_from + j + t * year_step + r *
    region_step`` (the share row of that cell: ``total``'s cells take the row of ones,
    ``year_step = region_step = 0``); ``world[first + l, t, j]`` sums every country.
    ``lane_sum`` is scratch of :data:`LANES` values.
    """
    n_years, n_regions, width = by_region.shape[1], by_region.shape[2], by_region.shape[3]
    n_countries = region_of.shape[0]
    for t in range(n_years):
        row = t * n_countries
        for j in range(width):
            share_row = share_from + j + t * year_step
            world_sum = broadcast(0.0)
            for c in range(n_countries):
                share = load(share_rows[share_row + region_of[c] * region_step])
                world_sum += load(value_rows[row + c]) * share
            store(lane_sum, world_sum)
            for lane in range(n_lanes):
                world[first + lane, t, j] = lane_sum[lane]
            for r in range(n_regions):
                share = load(share_rows[share_row + r * region_step])
                part = broadcast(0.0)
                for i in range(starts[r], starts[r + 1]):
                    part += load(value_rows[row + members[i]]) * share
                store(lane_sum, part)
                for lane in range(n_lanes):
                    by_region[first + lane, t, r, j] = lane_sum[lane]


@numba.njit(**JIT_OPTIONS)
def propagate_kernel(model, draws, total, by_axis):  # pragma: no cover - compiled
    """Propagate every draw through years, countries and segments.

    Parameters
    ----------
    model : ModelArrays
        The scenario's arrays (growth as fractions).
    draws : DrawArrays
        The per-draw arrays.
    total : ndarray, shape (draw, year, country), C-contiguous
        Output, in the market's unit (float32 or float64).
    by_axis : tuple of ndarray, each shape (draw, year, country, segment of that axis)
        Outputs, C-contiguous, one per axis; each sums to ``total`` over its segments.
    """
    _propagate(model, draws, total, by_axis, -1, np.empty((0, 0, 0, 0)), np.empty((0, 0, 0)))


@numba.njit(**JIT_OPTIONS)
def propagate_region_sums_kernel(
    model, draws, output, by_region, world
):  # pragma: no cover - compiled
    """Every draw's region and world sums of one output, without its cells.

    The sums are those :func:`netsim.kernels.regions.region_sum_kernel` gives of the
    float64 cube :func:`propagate_kernel` writes, bit for bit, but each block of draws
    sums its cells while they are in registers: the cube is never written to memory nor
    read back (the work a scenario's Sobol run repeats for every evaluation).

    Parameters
    ----------
    model : ModelArrays
    draws : DrawArrays
    output : int
        0 for ``total``, ``a + 1`` for the outputs of axis ``a``.
    by_region : ndarray of float64, shape (draw, year, region, segment of that axis)
        Overwritten; ``total``'s sums have one segment.
    world : ndarray of float64, shape (draw, year, segment of that axis)
        Overwritten.
    """
    _propagate(
        model, draws, np.empty((0, 0, 0)), (np.empty((0, 0, 0, 0)),), output, by_region, world
    )


@numba.njit(parallel=True, **JIT_OPTIONS)
def _propagate(model, draws, total, by_axis, summed, by_region, world):  # pragma: no cover
    """The kernels' one loop nest: with ``summed`` < 0 it writes the cube ``total`` and
    ``by_axis`` (:func:`propagate_kernel`), otherwise the region and world sums of output
    ``summed`` (:func:`propagate_region_sums_kernel`)."""
    # the contract: every field by name (a missing one fails at compile time)
    base_value, region_of, baseline = model.base_value, model.region_of, model.baseline
    forecast_years, ramp_onset = model.forecast_years, model.ramp_onset
    ramp_rate, ramp_norm, geo = model.ramp_rate, model.ramp_norm, model.geo
    share0, premium, axis_start = model.share0, model.premium, model.axis_start
    tilt_driver, tilt_segment = model.tilt_driver, model.tilt_segment
    tilt_weight, event_of, event_segment = model.tilt_weight, model.event_of, model.event_segment
    event_geo, event_tilt = model.event_geo, model.event_tilt
    scale, impact, delay = draws.scale, draws.impact, draws.delay
    noise_global, noise_region = draws.noise_global, draws.noise_region
    event_severity, event_activity = draws.event_severity, draws.event_activity
    n_draws = scale.shape[0]
    n_countries = base_value.shape[0]
    n_forecast = forecast_years.shape[0]
    n_years = n_forecast + 1
    n_drivers = ramp_onset.shape[0]
    n_regions = share0.shape[0]
    n_segments = premium.shape[0]
    n_axes = axis_start.shape[0] - 1
    n_events = event_tilt.shape[0]
    n_moves = event_segment.shape[0]
    tilts_from, tilt_of = _tilts_by_segment(tilt_segment, n_segments)
    cell_start, value_of, share_of = _cube_cells(n_years, n_regions, region_of, axis_start)
    n_share_rows = n_regions * n_years * n_segments
    members, starts = region_members(region_of, n_regions)
    # the share row of the summed output's first cell, and its steps by year and region
    share_from, year_step, region_step = n_share_rows, 0, 0  # total: the row of ones
    if summed > 0:
        share_from = axis_start[summed - 1]
        year_step, region_step = n_segments, n_years * n_segments
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
        lane_sum = np.empty(LANES)
        task_end = min(n_draws, (task + 1) * DRAWS_PER_TASK)
        for first in range(task * DRAWS_PER_TASK, task_end, LANES):
            # stage 1, gather the draws into lanes: lane l computes draw first + l; a
            # short last block repeats its last draw in the spare lanes, never written out
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
            # stage 2, start every path: noise, the events' shocks, base-year values
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

            # stage 3, the drivers: drive gains impact x ramp(t - delay) x geography
            for k in range(n_drivers):
                onset = ramp_onset[k] + load(lane_delay[k]) - 1.0
                amplitude = ramp_norm[k] * load(lane_impact[k])
                for t in range(n_forecast):
                    x = (forecast_years[t] - onset) * ramp_rate[k]
                    ramp = clip(x, 0.0, 1.0) * amplitude
                    store(ramps[k, t], ramp)
                    for r in range(n_regions):
                        store(drive[r, t], load(drive[r, t]) + ramp * geo[k, r, t])
            # stage 4, the shares: segment shares evolve per region (every country of a
            # region starts from its shares and sees the same tilts); drive[] gains the
            # events' effect
            for r in range(n_regions):
                for s in range(n_segments):
                    store(share_rows[r * n_years * n_segments + s], broadcast(share0[r, s]))
                for t in range(n_forecast):
                    # this year's shares, and next year's, grown then renormalised in place
                    now = (r * n_years + t) * n_segments
                    after = now + n_segments
                    driven = load(drive[r, t])
                    for m in range(n_moves):
                        # an event moves each of its segments' value: the total moves by
                        # the segment's share of the shock
                        e = event_of[m]
                        driven += load(share_rows[now + event_segment[m]]) * load(shock[e, r, t])
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

            # stage 5, the countries: values grown year by year
            for t in range(n_forecast):
                for c in range(n_countries):
                    growth = 1.0 + (baseline[c, t] + load(drive[region_of[c], t]))
                    here = t * n_countries + c
                    store(value_rows[here + n_countries], load(value_rows[here]) * growth)

            # stage 6, the cube: total, then each axis as value x share; or one output's
            # sums by region and worldwide
            n_lanes = min(LANES, task_end - first)
            if summed >= 0:
                sum_cells_by_region(
                    by_region,
                    world,
                    first,
                    n_lanes,
                    value_rows,
                    share_rows,
                    region_of,
                    members,
                    starts,
                    share_from,
                    year_step,
                    region_step,
                    lane_sum,
                )
                continue
            write_cells(
                total.reshape((n_draws, n_years * n_countries)),
                first,
                n_lanes,
                value_rows,
                share_rows,
                value_of[: cell_start[1]],
                share_of[: cell_start[1]],
            )
            for a in range(n_axes):
                cells = slice(cell_start[a + 1], cell_start[a + 2])
                write_cells(
                    by_axis[a].reshape((n_draws, cell_start[a + 2] - cell_start[a + 1])),
                    first,
                    n_lanes,
                    value_rows,
                    share_rows,
                    value_of[cells],
                    share_of[cells],
                )
