"""The worst draw of a calibrated scenario: no market can fall by 100 % or more in a year.

Every sampled value lies in its distribution's support (the samplers' uniforms stay
inside the open interval), so the growth of every country, year and segment in every
draw lies between bounds computed here from the model's arrays: the baseline, plus
each driver's impact at the end of its support that lowers (or raises) growth, times
its ramp's largest value and its geography, plus the noise at its extremes and every
event at full strength. If the lower bound of a country's growth reaches -100 %, or of
a segment's share growth, some draw would give a negative or undefined market; if the
compounded upper bound passes ``limits.max_value``, some draw would overflow. Either
way the scenario is refused at load, naming the largest contributor.
"""

from __future__ import annotations

import numpy as np

from netsim.errors import ScenarioError
from netsim.model.arrays import funnel_arrays, funnel_scales, model_arrays
from netsim.scenario.schema import Scenario

__all__ = ["check_worst_draw"]


def _supports(parameters: tuple, scale: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    ends = np.array([p.distribution.support for p in parameters]).reshape(-1, 2) * scale
    return ends[:, 0], ends[:, 1]


def check_worst_draw(scenario: Scenario) -> None:
    """Raise :class:`ScenarioError` if some draw could give a negative, undefined or
    overflowing market (see the module notes)."""
    model = model_arrays(scenario)
    n_regions = model.share0.shape[0]
    low_impact, high_impact = _supports(tuple(d.impact for d in scenario.drivers))
    low_event, high_event = _supports(tuple(e.impact for e in scenario.events))
    low_global, high_global = _supports(scenario.noise_global)
    low_region, high_region = _supports(scenario.noise_region)
    forecast = model.forecast_years.size
    low_region = low_region.reshape(n_regions, forecast)
    high_region = high_region.reshape(n_regions, forecast)

    # each driver's largest lowering and raising effect (fraction per year), (K, R, T1)
    reach = model.ramp_norm[:, None, None] * model.geo
    driver_low = np.minimum(low_impact, 0.0)[:, None, None] * reach
    driver_high = np.maximum(high_impact, 0.0)[:, None, None] * reach
    # each event's shock at full strength, (E, R, T1)
    event_low = np.minimum(low_event, 0.0)[:, None, None] * model.event_geo
    event_high = np.maximum(high_event, 0.0)[:, None, None] * model.event_geo

    drive_low = low_global[None, :] + low_region + driver_low.sum(0) + event_low.sum(0)
    drive_high = high_global[None, :] + high_region + driver_high.sum(0) + event_high.sum(0)
    growth_low = model.baseline + drive_low[model.region_of]  # (C, T1)
    growth_high = model.baseline + drive_high[model.region_of]

    countries = scenario.countries
    if not np.all(growth_low > -1.0):
        c, t = np.unravel_index(np.argmin(growth_low), growth_low.shape)
        r = model.region_of[c]
        parts = {d.impact.name: driver_low[k, r, t] for k, d in enumerate(scenario.drivers)}
        parts.update({e.impact.name: event_low[j, r, t] for j, e in enumerate(scenario.events)})
        parts["noise"] = low_global[t] + low_region[r, t]
        worst = min(parts, key=parts.get)
        raise ScenarioError(
            f"in its worst draw, {countries[c].name}'s market would grow by "
            f"{100 * growth_low[c, t]:.4g} % in {scenario.years[t + 1]} (a market cannot fall "
            f"by 100 % or more in a year); the largest fall comes from {worst} "
            f"({100 * parts[worst]:.4g} pp): narrow its distribution",
            path=scenario.path,
            key=worst,
        )
    scale_high = scenario.base_scale.distribution.support[1]
    with np.errstate(over="ignore"):
        peak = model.base_value * scale_high * np.prod(1.0 + growth_high, axis=1)
    if not np.all(peak.sum() <= scenario.limits.max_value):
        raise ScenarioError(
            f"in its best draw the market would reach {peak.sum():.3g} {scenario.unit}, over "
            f"limits.max_value={scenario.limits.max_value:g}: some growth figure is far too "
            "large (check the impacts, premiums and noise)",
            path=scenario.path,
            key="limits.max_value",
        )
    _check_segments(scenario, model, driver_low, driver_high, event_low, event_high)
    if scenario.funnel is not None:
        _check_funnel(scenario)


def _check_segments(
    scenario: Scenario,
    model: object,
    driver_low: np.ndarray,
    driver_high: np.ndarray,
    event_low: np.ndarray,
    event_high: np.ndarray,
) -> None:
    """A segment's share grows by ``1 + premium + tilts``: that factor must stay > 0."""
    n_segments = model.premium.size
    tilt_low = np.zeros((n_segments, *driver_low.shape[1:]))
    for k, s, w in zip(model.tilt_driver, model.tilt_segment, model.tilt_weight, strict=True):
        tilt_low[s] += np.minimum(w * driver_low[k], w * driver_high[k])
    for e in range(model.event_tilt.shape[0]):
        for s in np.flatnonzero(model.event_tilt[e]):
            w = model.event_tilt[e, s]
            tilt_low[s] += np.minimum(w * event_low[e], w * event_high[e])
    share_growth_low = model.premium[:, None, None] + tilt_low  # (S, R, T1)
    if np.all(share_growth_low > -1.0):
        return
    s, r, t = np.unravel_index(np.argmin(share_growth_low), share_growth_low.shape)
    names = [(a.name, seg.name) for a in scenario.axes for seg in a.segments]
    axis, segment = names[s]
    raise ScenarioError(
        f"in its worst draw, segment {axis}/{segment} in {scenario.regions[r].name} would grow "
        f"by {100 * share_growth_low[s, r, t]:.4g} % in {scenario.years[t + 1]} relative to "
        "its axis (a share cannot fall by 100 % or more in a year): narrow the impacts or "
        "tilts that act on it",
        path=scenario.path,
        key=f"axes.{axis}",
    )


def _check_funnel(scenario: Scenario) -> None:
    """The funnel's factors in every draw: none falls by 100 % or more in a year or is
    wiped out by an event (a split axis keeps a positive share in every region), cases
    start at most at the population, and the value stays within ``limits.max_value``."""
    funnel = scenario.funnel
    arrays = funnel_arrays(scenario)
    factors = funnel.factors
    regions = [r.name for r in scenario.regions]
    path = scenario.path
    ends = (
        np.array([f.parameter.distribution.support for f in factors])
        * (funnel_scales(scenario)[:, None])
    )
    base_low = ends[:, 0][:, None] * arrays.factor_region  # (F, R)
    base_high = ends[:, 1][:, None] * arrays.factor_region
    low_impact, high_impact = _supports(tuple(d.impact for d in scenario.drivers))
    low_event, high_event = _supports(tuple(e.impact for e in scenario.events))
    n_years = arrays.forecast_years.size
    growth_low = np.repeat(arrays.factor_trend[:, None, None], len(regions), 1).repeat(n_years, 2)
    growth_high = growth_low.copy()
    reach = arrays.ramp_norm[:, None, None] * arrays.driver_geo  # (K, R, T1)
    for k, f, w in zip(arrays.link_driver, arrays.link_factor, arrays.link_weight, strict=True):
        ends_k = np.array([w * low_impact[k], w * high_impact[k], 0.0])
        growth_low[f] += ends_k.min() * reach[k]
        growth_high[f] += ends_k.max() * reach[k]
    event_low = np.ones((len(factors), len(regions), n_years))
    event_high = np.ones_like(event_low)
    for e, f, w in zip(
        arrays.event_link_event, arrays.event_link_factor, arrays.event_link_weight, strict=True
    ):
        ends_e = np.array([w * low_event[e], w * high_event[e], 0.0])
        event_low[f] *= 1.0 + ends_e.min() * arrays.event_geo[e]
        event_high[f] *= 1.0 + ends_e.max() * arrays.event_geo[e]
    names = [f"funnel {f.name}" for f in factors]
    if not np.all(growth_low > -1.0):
        f, r, t = np.unravel_index(np.argmin(growth_low), growth_low.shape)
        raise ScenarioError(
            f"in its worst draw, {names[f]} in {regions[r]} would change by "
            f"{100 * growth_low[f, r, t]:.4g} % in {scenario.years[t + 1]} (a factor cannot "
            "fall by 100 % or more in a year): narrow its trend or the weights and impacts "
            "of the drivers acting on it",
            path=path,
            key="funnel",
        )
    if not np.all(event_low > 0.0):
        f, r, t = np.unravel_index(np.argmin(event_low), event_low.shape)
        raise ScenarioError(
            f"in its worst draw, the events acting on {names[f]} would take all of it in "
            f"{regions[r]} in {scenario.years[t + 1]}: narrow their weights or impacts",
            path=path,
            key="funnel",
        )
    for axis in funnel.splits:
        members = [i for i, f in enumerate(factors) if f.kind == "split" and f.axis == axis]
        for r, region in enumerate(regions):
            if not base_low[members, r].max() > 0:
                raise ScenarioError(
                    f"funnel.split.{axis}: in {region} every segment's share can be 0 (its "
                    "lower end, times by_region), which would leave the treated patients "
                    "without a segment: give one segment a share that stays above 0",
                    path=path,
                    key=f"funnel.split.{axis}",
                )
    cases = [i for i, f in enumerate(factors) if f.kind == "cases"]
    per_person = np.prod(base_high[cases], axis=0)[arrays.region_of] * arrays.country_cases
    if not np.all(per_person <= 1.0):
        c = int(np.argmax(per_person))
        raise ScenarioError(
            f"funnel.rate: up to {per_person[c]:.4g} cases per person in "
            f"{scenario.countries[c].name} in the base year (rate x duration x by_region x "
            "by_country over per): a country cannot have more cases than people",
            path=path,
            key="funnel.rate",
        )
    # the largest value any draw could reach: every factor at its highest, grown at its
    # fastest, moved up by every event, cases capped at the population, shares at 1
    with np.errstate(over="ignore"):
        reach_high = base_high * np.prod(1.0 + growth_high, axis=2) * event_high.max(axis=2)
        reach_high = np.maximum(reach_high, base_high)
        costs = [i for i, f in enumerate(factors) if f.kind == "cost"]
        per_treated = (reach_high[costs[0::2]] * reach_high[costs[1::2]]).sum(axis=0)  # (R,)
        peak = (
            arrays.population.max(axis=1)  # treated patients are at most the population
            * per_treated[arrays.region_of]
            * arrays.price_index
        ).sum()
    if not peak <= scenario.limits.max_value:
        raise ScenarioError(
            f"in its best draw the patient-based market could reach {peak:.3g} "
            f"{scenario.unit}, over limits.max_value={scenario.limits.max_value:g}: a price, "
            "price index, per_market_unit or trend of the funnel is far too large",
            path=path,
            key="funnel.cost",
        )
