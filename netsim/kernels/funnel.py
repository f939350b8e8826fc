"""The patient funnel kernel: every draw's patients, treated patients and their value.

It reads the same per-draw arrays as the top-down kernel (:class:`DrawArrays`: the
drivers' impacts and delays, the events' severities and activity, and the funnel's
own factors in ``funnel_base``), so the two models of one draw see the same inputs.
For each draw, region and year it evolves every funnel factor, then for each country
multiplies the population through the stages and the costs.

A factor's value in region ``r`` and forecast year ``t`` is its previous value times
``1 + trend + sum_k weight_k x impact_k x ramp_k(t) x geo_k(r, t)`` (the drivers act
on it as they act on growth, pp for pp), floored at 0; events then multiply it, while
active, by ``1 + weight x severity x geo`` (a temporary effect: the level itself does
not carry it). A stage's share is capped at 1, and each split axis's shares are
renormalised to sum to 1. Cases are at most the population (cases per person capped
at 1). A country then takes its region's cases per person and stage shares times its
own multipliers (``country_cases``, ``country_stage``), each capped at 1 again.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba import prange

from netsim.kernels.links import add_driver_links, apply_event_links, driver_ramps
from netsim.kernels.options import JIT_OPTIONS

__all__ = [
    "FACTOR_CASES",
    "FACTOR_COST",
    "FACTOR_SPLIT",
    "FACTOR_STAGE",
    "FunnelArrays",
    "funnel_kernel",
    "split_share_kernel",
]

DRAWS_PER_TASK = 64  # draws handled by one parallel task, sharing its scratch arrays

FACTOR_CASES, FACTOR_STAGE, FACTOR_SPLIT, FACTOR_COST = 0, 1, 2, 3  # factor kinds


class FunnelArrays(NamedTuple):
    """Scenario-level funnel inputs. Shapes: C countries, R regions, T years (base year
    first), T1 forecast years, F factors, K drivers, E events."""

    population: np.ndarray  # (C, T) persons
    region_of: np.ndarray  # (C,) int64
    price_index: np.ndarray  # (C,) price level / price units per market unit
    country_cases: np.ndarray  # (C,) multiplier of the region's cases per person
    country_stage: np.ndarray  # (C, S) multiplier of the region's share of each stage
    factor_kind: np.ndarray  # (F,) int64, FACTOR_*
    factor_trend: np.ndarray  # (F,) fraction a year
    factor_region: np.ndarray  # (F, R) multiplier of the base value
    case_factors: np.ndarray  # int64: factors multiplying the population into cases
    stage_factors: np.ndarray  # int64: each stage's share, in order
    split_start: np.ndarray  # (A + 1,) int64 offsets of each split axis in split_factors
    split_factors: np.ndarray  # int64: each split segment's share, axis by axis
    cost_axis: np.ndarray  # (1,) int64: the split axis carrying costs, -1 for none
    cost_doses: np.ndarray  # (N,) int64 doses factor of each cost (segment of cost_axis)
    cost_price: np.ndarray  # (N,) int64 price factor of each cost
    forecast_years: np.ndarray  # (T1,) float64
    ramp_onset: np.ndarray  # (K,) year
    ramp_rate: np.ndarray  # (K,) 1 / ramp years
    ramp_norm: np.ndarray  # (K,)
    driver_geo: np.ndarray  # (K, R, T1) normalised region weights
    link_driver: np.ndarray  # (L,) int64: driver -> factor links
    link_factor: np.ndarray  # (L,) int64
    link_weight: np.ndarray  # (L,) per unit of impact
    event_geo: np.ndarray  # (E, R, T1) absolute region weights
    event_link_event: np.ndarray  # (M,) int64: event -> factor links
    event_link_factor: np.ndarray  # (M,) int64
    event_link_weight: np.ndarray  # (M,) per unit of severity


@numba.njit(**JIT_OPTIONS)
def _factor_paths(funnel, draws, d, effective, level, growth, ramps):  # pragma: no cover
    """Every factor's value of draw ``d`` in each region and year, into ``effective``
    (region, year, factor)."""
    n_regions = effective.shape[0]
    n_years = effective.shape[1]
    n_factors = effective.shape[2]
    driver_ramps(
        funnel.ramp_onset,
        funnel.ramp_rate,
        funnel.ramp_norm,
        funnel.forecast_years,
        draws.delay[d],
        draws.impact[d],
        ramps,
    )
    n_links = funnel.link_driver.shape[0]
    growth[:] = 0.0  # the drivers' part of each factor's growth, reset after each year
    for r in range(n_regions):
        for f in range(n_factors):
            level[f] = draws.funnel_base[d, f] * funnel.factor_region[f, r]
        for t in range(n_years):
            if t > 0:
                add_driver_links(
                    funnel.link_driver,
                    funnel.link_factor,
                    funnel.link_weight,
                    ramps,
                    funnel.driver_geo,
                    r,
                    t,
                    growth,
                )
                for f in range(n_factors):
                    change = 1.0 + (funnel.factor_trend[f] + growth[f])
                    level[f] = max(level[f] * change, 0.0)
                for i in range(n_links):
                    growth[funnel.link_factor[i]] = 0.0
            for f in range(n_factors):
                effective[r, t, f] = level[f]
            if t > 0:
                apply_event_links(
                    funnel.event_link_event,
                    funnel.event_link_factor,
                    funnel.event_link_weight,
                    funnel.event_geo,
                    draws.event_severity[d],
                    draws.event_activity[d],
                    r,
                    t,
                    effective[r, t],
                )
            for j in range(funnel.stage_factors.shape[0]):  # a stage's share is at most 1
                f = funnel.stage_factors[j]
                effective[r, t, f] = min(effective[r, t, f], 1.0)
            for a in range(funnel.split_start.shape[0] - 1):
                norm = 0.0
                for s in range(funnel.split_start[a], funnel.split_start[a + 1]):
                    norm += effective[r, t, funnel.split_factors[s]]
                if norm > 0.0:
                    inverse = 1.0 / norm
                    for s in range(funnel.split_start[a], funnel.split_start[a + 1]):
                        effective[r, t, funnel.split_factors[s]] *= inverse


@numba.njit(parallel=True, **JIT_OPTIONS)
def funnel_kernel(
    funnel, draws, patients, treated_by, patient_total, patient_by
):  # pragma: no cover - compiled
    """Propagate every draw through the patient funnel.

    Parameters
    ----------
    funnel : FunnelArrays
    draws : DrawArrays
        The per-draw arrays the top-down kernel reads too.
    patients : ndarray, shape (draw, year, country, stage)
        Output: people at each stage (``cases`` first, the treated patients last).
    treated_by : tuple of ndarray, each (draw, year, country, segment)
        Output, one per split axis (a placeholder when there is none): the treated
        patients by segment; each sums to the last stage.
    patient_total : ndarray, shape (draw, year, country)
        Output: the patient-based market value, in the market's unit.
    patient_by : tuple of ndarray, each (draw, year, country, segment)
        Output, one per split axis: the value by segment; each sums to ``patient_total``.
    """
    n_draws = draws.scale.shape[0]
    n_countries = funnel.population.shape[0]
    n_years = funnel.population.shape[1]
    n_regions = funnel.factor_region.shape[1]
    n_factors = funnel.factor_trend.shape[0]
    n_drivers = funnel.ramp_onset.shape[0]
    n_stages = funnel.stage_factors.shape[0]
    n_splits = funnel.split_start.shape[0] - 1
    n_costs = funnel.cost_doses.shape[0]
    cost_axis = funnel.cost_axis[0]
    n_split_segments = funnel.split_factors.shape[0]
    n_tasks = (n_draws + DRAWS_PER_TASK - 1) // DRAWS_PER_TASK
    for task in prange(n_tasks):
        level = np.empty(n_factors)
        growth = np.empty(n_factors)
        ramps = np.empty((n_drivers, n_years - 1))
        effective = np.empty((n_regions, n_years, n_factors))
        # per region and year: cases per person, each stage's share, each split
        # segment's share, each cost per treated patient and their sum
        cases_rt = np.empty((n_regions, n_years))
        stage_rt = np.empty((n_regions, n_years, n_stages))
        share_rt = np.empty((n_regions, n_years, n_split_segments))
        cost_rt = np.empty((n_regions, n_years, n_costs))
        value_rt = np.empty((n_regions, n_years))
        treated = np.empty((n_years, n_countries))
        value = np.empty((n_years, n_countries))
        for d in range(task * DRAWS_PER_TASK, min(n_draws, (task + 1) * DRAWS_PER_TASK)):
            _factor_paths(funnel, draws, d, effective, level, growth, ramps)
            _per_region(
                funnel, effective, cost_axis, cases_rt, stage_rt, share_rt, cost_rt, value_rt
            )
            # every country: its population through the stages, and its value
            for t in range(n_years):
                for c in range(n_countries):
                    r = funnel.region_of[c]
                    # a multiplier of 1 leaves the region's capped value bit for bit
                    per_person = min(cases_rt[r, t] * funnel.country_cases[c], 1.0)
                    people = funnel.population[c, t] * per_person
                    patients[d, t, c, 0] = people
                    for j in range(n_stages):
                        people *= min(stage_rt[r, t, j] * funnel.country_stage[c, j], 1.0)
                        patients[d, t, c, j + 1] = people
                    treated[t, c] = people
                    value[t, c] = people * funnel.price_index[c] * value_rt[r, t]
                    patient_total[d, t, c] = value[t, c]
            # by segment, one split axis at a time (one lookup of its output arrays)
            for a in range(n_splits):
                first, last = funnel.split_start[a], funnel.split_start[a + 1]
                counts, values = treated_by[a], patient_by[a]
                for t in range(n_years):
                    for c in range(n_countries):
                        r = funnel.region_of[c]
                        people = treated[t, c]
                        for s in range(first, last):
                            counts[d, t, c, s - first] = people * share_rt[r, t, s]
                        if a == cost_axis:
                            scale = people * funnel.price_index[c]
                            for s in range(first, last):
                                values[d, t, c, s - first] = scale * cost_rt[r, t, s - first]
                        else:
                            for s in range(first, last):
                                values[d, t, c, s - first] = value[t, c] * share_rt[r, t, s]


@numba.njit(**JIT_OPTIONS)
def _per_region(
    funnel, effective, cost_axis, cases_rt, stage_rt, share_rt, cost_rt, value_rt
):  # pragma: no cover - compiled
    """What every country of a region shares in a year: cases per person (at most 1),
    the stages' shares, the split segments' shares, and each cost per treated patient
    (its segment's share x doses x price, with a cost axis) with their sum."""
    for r in range(effective.shape[0]):
        for t in range(effective.shape[1]):
            here = effective[r, t]
            per_person = 1.0
            for i in range(funnel.case_factors.shape[0]):
                per_person *= here[funnel.case_factors[i]]
            cases_rt[r, t] = min(per_person, 1.0)  # at most everyone
            for j in range(funnel.stage_factors.shape[0]):
                stage_rt[r, t, j] = here[funnel.stage_factors[j]]
            for s in range(funnel.split_factors.shape[0]):
                share_rt[r, t, s] = here[funnel.split_factors[s]]
            total = 0.0
            for i in range(funnel.cost_doses.shape[0]):
                cost = here[funnel.cost_doses[i]] * here[funnel.cost_price[i]]
                if cost_axis >= 0:
                    cost *= here[funnel.split_factors[funnel.split_start[cost_axis] + i]]
                cost_rt[r, t, i] = cost
                total += cost
            value_rt[r, t] = total


@numba.njit(parallel=True, **JIT_OPTIONS)
def split_share_kernel(funnel, draws, year, axis, out):  # pragma: no cover - compiled
    """Each draw's shares of split axis ``axis`` in year index ``year``, by region, into
    ``out`` (draw, region, segment): what the funnel splits every stage by."""
    n_draws = draws.scale.shape[0]
    n_years = funnel.population.shape[1]
    n_regions = funnel.factor_region.shape[1]
    n_factors = funnel.factor_trend.shape[0]
    first, last = funnel.split_start[axis], funnel.split_start[axis + 1]
    n_tasks = (n_draws + DRAWS_PER_TASK - 1) // DRAWS_PER_TASK
    for task in prange(n_tasks):
        level = np.empty(n_factors)
        growth = np.empty(n_factors)
        ramps = np.empty((funnel.ramp_onset.shape[0], n_years - 1))
        effective = np.empty((n_regions, n_years, n_factors))
        for d in range(task * DRAWS_PER_TASK, min(n_draws, (task + 1) * DRAWS_PER_TASK)):
            _factor_paths(funnel, draws, d, effective, level, growth, ramps)
            for r in range(n_regions):
                for s in range(first, last):
                    out[d, r, s - first] = effective[r, year, funnel.split_factors[s]]
