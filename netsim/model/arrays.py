"""Turning a scenario and its inputs into the plain arrays the kernels take.

Two kinds of arrays, typed tuples the kernel defines
(:mod:`netsim.kernels.propagate`): :class:`ModelArrays` depend on the scenario and its
calibration only (built once per scenario); :class:`DrawArrays` hold
the per-draw inputs, converted from ``inputs[draw, parameter]`` (sampled or a
caller's own) or set to their expected values for the deterministic base case.
All growth quantities are fractions per year (pp / 100).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from netsim.errors import ScenarioError
from netsim.kernels.columns import (
    gather_columns_kernel,
    gather_columns_serial_kernel,
    gather_fields_kernel,
    gather_fields_serial_kernel,
)
from netsim.kernels.funnel import (
    FACTOR_CASES,
    FACTOR_COST,
    FACTOR_SPLIT,
    FACTOR_STAGE,
    FunnelArrays,
)
from netsim.kernels.products import PRODUCT_FIELDS
from netsim.kernels.propagate import DrawArrays, ModelArrays
from netsim.model.product_values import product_values
from netsim.scenario.memo import per_scenario
from netsim.scenario.schema import Geography, Scenario

__all__ = [
    "DrawArrays",
    "FunnelArrays",
    "ModelArrays",
    "draw_arrays",
    "expected_draw_arrays",
    "funnel_arrays",
    "funnel_scales",
    "model_arrays",
    "override_rows",
]

# a gather of at most this many values runs on one thread: about 1 ms of copying, less
# than waking the threads costs on a busy machine (gather_columns_serial_kernel). Measured
# on the fields of 4,096 NET draws (286,720 values, one Sobol evaluation), medians of 41 in
# alternation on two loaded cores: 0.69 ms on one thread, 10.8 ms in parallel (3.2 ms at
# best); a run's chunk of 16,384 draws stays parallel
SERIAL_GATHER_VALUES = 2**19


def segment_offsets(scenario: Scenario) -> np.ndarray:
    """Start offset of each axis in the flat segment dimension, plus the total."""
    sizes = [len(axis.segments) for axis in scenario.axes]
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def flat_segment_index(scenario: Scenario) -> dict[tuple[str, str], int]:
    index: dict[tuple[str, str], int] = {}
    for offset, axis in zip(segment_offsets(scenario), scenario.axes, strict=False):
        for j, segment in enumerate(axis.segments):
            index[(axis.name, segment.name)] = int(offset) + j
    return index


def normalisation_window(scenario: Scenario) -> tuple[int, int]:
    """Growth years over which a driver's mean ramp is scaled to 1.

    The period of the first global CAGR target (its growth years start+1..end),
    else every forecast year.
    """
    for target in scenario.targets:
        if target.scope == "global" and target.kind == "cagr":
            return target.start + 1, target.end
    return scenario.years[1], scenario.years[-1]


def ramp_profile(years: np.ndarray, onset: float, ramp_rate: float, delay: float) -> np.ndarray:
    """Unscaled impact profile in [0, 1]: 0 before ``onset + delay``, rising by
    ``ramp_rate`` per year to 1 (the kernel computes the same inline)."""
    return np.clip((years - (onset + delay - 1.0)) * ramp_rate, 0.0, 1.0)


_MODEL_ARRAYS: dict[int, ModelArrays] = {}


def model_arrays(scenario: Scenario, calibration: Any = None) -> ModelArrays:
    """The scenario-level kernel arrays, built once per scenario object.

    Parameters
    ----------
    scenario : Scenario
    calibration : netsim.model.calibration.Calibration, optional
        Growth parameters to use instead of ``scenario.calibration`` (not cached).
    """
    if calibration is not None:
        return _build_model_arrays(scenario, calibration)
    return per_scenario(_MODEL_ARRAYS, scenario, lambda s: _build_model_arrays(s, None))


def _build_model_arrays(scenario: Scenario, calibration: Any) -> ModelArrays:
    calibration = calibration or scenario.calibration
    if calibration is None:
        raise ScenarioError("the scenario has not been calibrated (use netsim.load_scenario)")
    regions = tuple(r.name for r in scenario.regions)
    region_index = {name: i for i, name in enumerate(regions)}
    countries = scenario.countries
    n_forecast = len(scenario.years) - 1
    forecast_years = np.asarray(scenario.years[1:], dtype=np.float64)

    base_value = np.array(
        [
            scenario.base_size * scenario.regions[region_index[c.region]].share * c.share_of_region
            for c in countries
        ]
    )
    region_of = np.array([region_index[c.region] for c in countries], dtype=np.int64)

    baseline = np.empty((len(countries), n_forecast))
    for i, country in enumerate(countries):
        baseline[i, :] = calibration.baseline + calibration.region_premium[country.region]
        if country.name in calibration.country_premium:  # its own growth over its region's
            baseline[i, :] += calibration.country_premium[country.name]
    baseline[:, 0] += calibration.first_year_step

    drivers = scenario.drivers
    ramp_onset, ramp_rate, ramp_norm, geo = driver_geography(scenario)
    for k, driver in enumerate(drivers):
        if not driver.acts_on_growth:  # it acts on funnel factors only
            geo[k] = 0.0

    axis_start = segment_offsets(scenario)
    n_segments = int(axis_start[-1])
    segment_index = flat_segment_index(scenario)
    share_row = np.array([s.share for axis in scenario.axes for s in axis.segments])
    share0 = np.repeat(share_row[None, :], len(regions), axis=0)
    premium = np.empty(n_segments)
    for axis in scenario.axes:
        for segment in axis.segments:
            key = (axis.name, segment.name)
            premium[segment_index[key]] = (
                segment.growth_premium
                if segment.growth_premium is not None
                else calibration.segment_premium[key]
            )

    tilts = [
        (k, segment_index[key], w) for k, d in enumerate(drivers) for key, w in d.tilts.items()
    ]
    tilt_driver = np.array([t[0] for t in tilts], dtype=np.int64)
    tilt_segment = np.array([t[1] for t in tilts], dtype=np.int64)
    tilt_weight = np.array([t[2] for t in tilts], dtype=np.float64)

    events = scenario.events
    moves = [(j, segment_index[key]) for j, e in enumerate(events) for key in e.segments]
    event_of = np.array([j for j, _ in moves], dtype=np.int64)
    event_segment = np.array([s for _, s in moves], dtype=np.int64)
    event_geo = event_geography(scenario)
    event_tilt = np.zeros((len(events), n_segments))
    for j, s in moves:
        event_tilt[j, s] = 1.0
    for j, event in enumerate(events):
        if not event.acts_on_growth:  # it acts on funnel factors only
            event_geo[j] = 0.0
        for key, weight in event.tilts.items():
            event_tilt[j, segment_index[key]] += weight

    return ModelArrays(
        base_value=base_value,
        region_of=region_of,
        baseline=baseline,
        forecast_years=forecast_years,
        ramp_onset=ramp_onset,
        ramp_rate=ramp_rate,
        ramp_norm=ramp_norm,
        geo=geo,
        share0=share0,
        premium=premium,
        axis_start=axis_start,
        tilt_driver=tilt_driver,
        tilt_segment=tilt_segment,
        tilt_weight=tilt_weight,
        event_of=event_of,
        event_segment=event_segment,
        event_geo=event_geo,
        event_tilt=event_tilt,
    )


def driver_geography(
    scenario: Scenario,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each driver's ramp (onset, rate, normalisation) and its normalised region weights
    (driver, region, forecast year): the same for growth and for funnel factors."""
    drivers = scenario.drivers
    regions = tuple(r.name for r in scenario.regions)
    forecast_years = np.asarray(scenario.years[1:], dtype=np.float64)
    region_share = np.array([r.share for r in scenario.regions])
    window_start, window_end = normalisation_window(scenario)
    in_window = (forecast_years >= window_start) & (forecast_years <= window_end)
    ramp_onset = np.array([d.timeline.onset for d in drivers], dtype=np.float64)
    ramp_rate = 1.0 / np.array([d.timeline.ramp_years for d in drivers], dtype=np.float64)
    ramp_norm = np.empty(len(drivers))
    geo = np.empty((len(drivers), len(regions), len(forecast_years)))
    for k, driver in enumerate(drivers):
        profile = ramp_profile(
            forecast_years, ramp_onset[k], ramp_rate[k], driver.delay.distribution.point
        )
        mean_in_window = profile[in_window].mean()
        if mean_in_window <= 0:
            raise ScenarioError(
                f"{driver.group}.{driver.id}: its timeline has no effect in {window_start}-"
                f"{window_end}, so its impact on that CAGR cannot be scaled",
                path=scenario.path,
            )
        ramp_norm[k] = 1.0 / mean_in_window
        weights = region_weight_matrix(driver.geography, regions, scenario.years)
        geo[k] = weights / (region_share @ weights)[None, :]
    return ramp_onset, ramp_rate, ramp_norm, geo


def event_geography(scenario: Scenario) -> np.ndarray:
    """Each event's absolute region weights (event, region, forecast year)."""
    regions = tuple(r.name for r in scenario.regions)
    event_geo = np.empty((len(scenario.events), len(regions), len(scenario.years) - 1))
    for j, event in enumerate(scenario.events):
        event_geo[j] = region_weight_matrix(event.geography, regions, scenario.years)
    return event_geo


_FUNNEL_ARRAYS: dict[int, FunnelArrays] = {}
_FACTOR_KINDS = {"cases": FACTOR_CASES, "stage": FACTOR_STAGE, "split": FACTOR_SPLIT}


def funnel_arrays(scenario: Scenario) -> FunnelArrays:
    """The funnel's kernel arrays (built once per scenario object).

    Raises
    ------
    ScenarioError
        If the scenario has no funnel.
    """
    return per_scenario(_FUNNEL_ARRAYS, scenario, _build_funnel_arrays)


def _indices(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _build_funnel_arrays(scenario: Scenario) -> FunnelArrays:
    funnel = scenario.funnel
    if funnel is None:
        raise ScenarioError(f"scenario {scenario.name!r} has no patient funnel ([funnel])")
    regions = tuple(r.name for r in scenario.regions)
    countries = scenario.countries
    region_index = {name: i for i, name in enumerate(regions)}
    steps = np.arange(len(scenario.years), dtype=np.float64)
    population = np.array(
        [
            funnel.population[c.name] * (1.0 + funnel.population_growth[c.name]) ** steps
            for c in countries
        ]
    )
    factors = funnel.factors
    index = {f.name: i for i, f in enumerate(factors)}
    kind = _indices([_FACTOR_KINDS.get(f.kind, FACTOR_COST) for f in factors])
    factor_region = np.array([[f.by_region.get(r, 1.0) for r in regions] for f in factors])
    split_start, split_factors = [0], []
    for axis in funnel.splits:
        split_factors += [i for i, f in enumerate(factors) if f.kind == "split" and f.axis == axis]
        split_start.append(len(split_factors))
    costs = [f for f in factors if f.kind == "cost"]
    cases = [f for f in factors if f.kind == "cases"]
    stages = [f for f in factors if f.kind == "stage"]
    country_cases = np.array(
        [np.prod([f.by_country.get(c.name, 1.0) for f in cases]) for c in countries]
    )
    country_stage = np.array(
        [[f.by_country.get(c.name, 1.0) for f in stages] for c in countries], dtype=np.float64
    ).reshape(len(countries), len(stages))
    ramp_onset, ramp_rate, ramp_norm, driver_geo = driver_geography(scenario)
    links = [
        (k, index[name], weight)
        for k, driver in enumerate(scenario.drivers)
        for name, weight in driver.funnel.items()
    ]
    event_links = [
        (e, index[name], weight)
        for e, event in enumerate(scenario.events)
        for name, weight in event.funnel.items()
    ]
    return FunnelArrays(
        population=population,
        region_of=_indices([region_index[c.region] for c in countries]),
        price_index=np.array([funnel.price_index[c.name] for c in countries]),
        country_cases=country_cases,
        country_stage=country_stage,
        factor_kind=kind,
        factor_trend=np.array([f.trend for f in factors]),
        factor_region=factor_region.reshape(len(factors), len(regions)),
        case_factors=_indices([i for i, f in enumerate(factors) if f.kind == "cases"]),
        stage_factors=_indices([i for i, f in enumerate(factors) if f.kind == "stage"]),
        split_start=_indices(split_start),
        split_factors=_indices(split_factors),
        cost_axis=_indices(
            [-1 if funnel.cost_axis is None else funnel.splits.index(funnel.cost_axis)]
        ),
        cost_doses=_indices([index[f.name] for f in costs[0::2]]),
        cost_price=_indices([index[f.name] for f in costs[1::2]]),
        forecast_years=np.asarray(scenario.years[1:], dtype=np.float64),
        ramp_onset=ramp_onset,
        ramp_rate=ramp_rate,
        ramp_norm=ramp_norm,
        driver_geo=driver_geo,
        link_driver=_indices([link[0] for link in links]),
        link_factor=_indices([link[1] for link in links]),
        link_weight=np.array([link[2] for link in links], dtype=np.float64),
        event_geo=event_geography(scenario),
        event_link_event=_indices([link[0] for link in event_links]),
        event_link_factor=_indices([link[1] for link in event_links]),
        event_link_weight=np.array([link[2] for link in event_links], dtype=np.float64),
    )


def funnel_scales(scenario: Scenario, solved: Mapping[str, float] | None = None) -> np.ndarray:
    """Each funnel factor's multiplier from its file value into the kernel's unit: its
    unit's scale (1/100 for percent) times the multiplier a count target solved for it
    (``solved``, by default the scenario's calibration's; 1 for a factor not solved).

    Returns
    -------
    ndarray, shape (F,)
    """
    if solved is None:
        calibration = scenario.calibration
        solved = {} if calibration is None else calibration.funnel_scale
    return np.array([f.scale * solved.get(f.name, 1.0) for f in scenario.funnel.factors])


def _funnel_base(scenario: Scenario, inputs: np.ndarray) -> np.ndarray:
    """Each funnel factor's base value per draw, in the kernel's unit (D, F)."""
    if scenario.funnel is None:
        return np.zeros((inputs.shape[0], 0))
    factors = scenario.funnel.factors
    return np.ascontiguousarray(
        _columns(scenario, inputs, [f.parameter.name for f in factors]) * funnel_scales(scenario)
    )


def _columns(
    scenario: Scenario, inputs: np.ndarray, names: list[str], divisor: float = 1.0
) -> np.ndarray:
    """The named columns of ``inputs``, divided by ``divisor``, as a new C-contiguous
    (draws, len(names)) array."""
    out = np.empty((inputs.shape[0], len(names)))
    if names and inputs.shape[0]:
        index = scenario.parameter_index
        columns = np.array([index[n] for n in names], dtype=np.int64)
        # a small gather on one thread (gather_columns_serial_kernel says why)
        small = out.size <= SERIAL_GATHER_VALUES
        gather = gather_columns_serial_kernel if small else gather_columns_kernel
        gather(inputs, columns, float(divisor), out)
    return out


class GatherPlan(NamedTuple):
    """Every per-draw array's columns of the input matrix, gathered in one kernel call
    (:func:`netsim.kernels.columns.gather_fields_kernel`): gather ``k`` reads column
    ``columns[k]``, divided by ``divisors[k]``, into column ``slot[k]`` of field
    ``field[k]``, a ``(draws, widths[field])`` array. The fields are :data:`GATHERED`."""

    columns: np.ndarray
    divisors: np.ndarray
    field: np.ndarray
    slot: np.ndarray
    widths: tuple[int, ...]


# the gathered fields, in order: the base scale, the drivers' impacts (pp -> fraction) and
# delays, the global and regional noise (pp -> fraction), the events' severities (pp ->
# fraction), every event's ``occurs`` columns in event order, every dated event's year
GATHERED = (
    "scale",
    "impact",
    "delay",
    "noise_global",
    "noise_region",
    "severity",
    "occurs",
    "year",
)

_GATHER_PLANS: dict[int, GatherPlan] = {}


def gather_plan(scenario: Scenario) -> GatherPlan:
    """The scenario's :class:`GatherPlan` (built once per scenario object)."""
    return per_scenario(_GATHER_PLANS, scenario, _build_gather_plan)


def _build_gather_plan(scenario: Scenario) -> GatherPlan:
    events = scenario.events
    groups = (
        ([scenario.base_scale.name], 1.0),
        ([d.impact.name for d in scenario.drivers], 100.0),
        ([d.delay.name for d in scenario.drivers], 1.0),
        ([p.name for p in scenario.noise_global], 100.0),
        ([p.name for p in scenario.noise_region], 100.0),
        ([e.impact.name for e in events], 100.0),
        ([p.name for e in events for p in e.occurs], 1.0),
        ([e.year.name for e in events if e.kind != "yearly"], 1.0),
    )
    index = scenario.parameter_index
    rows = [
        (index[name], divisor, field, slot)
        for field, (names, divisor) in enumerate(groups)
        for slot, name in enumerate(names)
    ]
    columns, divisors, field, slot = (np.array(c) for c in zip(*rows, strict=True))
    return GatherPlan(
        columns.astype(np.int64),
        divisors.astype(np.float64),
        field.astype(np.int64),
        slot.astype(np.int64),
        tuple(len(names) for names, _ in groups),
    )


def draw_arrays(scenario: Scenario, inputs: np.ndarray, products: bool = True) -> DrawArrays:
    """Convert ``inputs[draw, parameter]`` (columns in ``scenario.parameter_names`` order);
    with ``products`` False, no product's values (for a run without its products)."""
    inputs = np.ascontiguousarray(inputs, dtype=np.float64)
    n_draws = inputs.shape[0]
    forecast = np.asarray(scenario.years[1:], dtype=np.float64)
    plan = gather_plan(scenario)
    fields = tuple(np.empty((n_draws, width)) for width in plan.widths)
    if n_draws:
        # one pass for every field (a small chunk on one thread: gather_fields_kernel)
        small = n_draws * plan.columns.size <= SERIAL_GATHER_VALUES
        gather = gather_fields_serial_kernel if small else gather_fields_kernel
        gather(inputs, plan.columns, plan.divisors, plan.field, plan.slot, fields)
    scale, impact, delay, noise_global, noise_region, severity, occurs, year = fields
    noise_region = noise_region.reshape(n_draws, len(scenario.regions), len(forecast))
    activity = np.zeros((n_draws, len(scenario.events), len(forecast)))
    first_occurs, dated = 0, 0
    for j, event in enumerate(scenario.events):
        event_occurs = occurs[:, first_occurs : first_occurs + len(event.occurs)]
        first_occurs += len(event.occurs)
        if event.kind == "yearly":
            activity[:, j, :] = event_occurs
        else:
            start = year[:, dated : dated + 1]
            dated += 1
            active = (forecast[None, :] >= start) & (forecast[None, :] < start + event.duration)
            activity[:, j, :] = event_occurs * active
    return DrawArrays(
        scale.reshape(n_draws),
        impact,
        delay,
        noise_global,
        noise_region,
        severity,
        activity,
        _funnel_base(scenario, inputs),
        product_values(scenario, inputs) if products else np.zeros((n_draws, 0, PRODUCT_FIELDS)),
    )


def point_inputs(scenario: Scenario) -> np.ndarray:
    """One row of inputs, every parameter at its point value, shape (1, P)."""
    return np.array([[p.distribution.point for p in scenario.parameters]])


def override_rows(
    scenario: Scenario, overrides: Sequence[Mapping[str, float]] = ({},)
) -> np.ndarray:
    """Rows of inputs at their point values, one per mapping of ``overrides`` (parameter
    name -> value set instead of its point value), shape (len(overrides), P)."""
    index = scenario.parameter_index
    rows = np.repeat(point_inputs(scenario), len(overrides), axis=0)
    for i, changes in enumerate(overrides):
        for name, value in changes.items():
            if name not in index:
                raise ScenarioError(f"no parameter named {name!r}")
            rows[i, index[name]] = value
    return rows


def expected_draw_arrays(
    scenario: Scenario, overrides: Sequence[Mapping[str, float]] = ({},)
) -> DrawArrays:
    """The deterministic base case: inputs at their points, events at their expected effect.

    Parameters
    ----------
    scenario : Scenario
    overrides : sequence of mappings
        One row per mapping: parameter name -> value set instead of its point
        value. An event whose ``occurs`` or ``year`` is set takes that value
        instead of its expectation (``occurs`` is a multiplier, 1 = happens).

    Returns
    -------
    DrawArrays
        ``len(overrides)`` rows.
    """
    arrays = draw_arrays(scenario, override_rows(scenario, overrides))
    forecast = np.asarray(scenario.years[1:], dtype=np.float64)
    for j, event in enumerate(scenario.events):
        for i, changes in enumerate(overrides):
            if event.kind == "yearly":
                arrays.event_activity[i, j, :] = [
                    changes.get(p.name, event.probability) for p in event.occurs
                ]
                continue
            occurs = changes.get(event.occurs[0].name, event.probability)
            if event.year.name in changes:
                values, weights = np.array([changes[event.year.name]]), np.ones(1)
            else:
                dist = event.year.distribution
                values = np.asarray(dist.params.get("values", (dist.params.get("value"),)), float)
                weights = np.asarray(dist.params.get("weights", (1.0,)), float)
            active = (forecast[:, None] >= values[None, :]) & (
                forecast[:, None] < values[None, :] + event.duration
            )
            arrays.event_activity[i, j, :] = occurs * (active @ weights)
    return arrays


def region_weight_matrix(
    geography: Geography, regions: tuple[str, ...], years: tuple[int, ...]
) -> np.ndarray:
    """Region weights of a geography for each forecast year, shape (region, year).

    Time-varying geographies move linearly from ``weights`` (at or before
    ``shift_start``) to ``weights_end`` (at or after ``shift_end``).
    """
    start = np.array([geography.weights[r] for r in regions])
    out = np.repeat(start[:, None], len(years) - 1, axis=1)
    if geography.weights_end is not None:
        end = np.array([geography.weights_end[r] for r in regions])
        forecast = np.asarray(years[1:], dtype=float)
        blend = np.clip(
            (forecast - geography.shift_start) / (geography.shift_end - geography.shift_start),
            0.0,
            1.0,
        )
        out = start[:, None] * (1 - blend) + end[:, None] * blend
    return out
