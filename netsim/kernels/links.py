"""How drivers and events act on the patient funnel's factors and on products, for one draw:
each driver's impact times its ramp, year by year (what a linked factor's growth gains; the
propagation kernel computes the same, lane by lane, inline), and each active event's shock
on the factors it is linked to."""

from __future__ import annotations

import numba

from netsim.kernels.options import JIT_OPTIONS

__all__ = ["add_driver_links", "apply_event_links", "driver_ramps"]


@numba.njit(**JIT_OPTIONS)
def driver_ramps(
    ramp_onset, ramp_rate, ramp_norm, forecast_years, delay, impact, ramps
):  # pragma: no cover - compiled
    """``ramps[k, t]``: driver ``k``'s normalised impact x its ramp in forecast year ``t``,
    0 before its onset plus ``delay[k]``, rising by ``ramp_rate[k]`` a year to full."""
    for k in range(ramp_onset.shape[0]):
        onset = ramp_onset[k] + delay[k] - 1.0
        amplitude = ramp_norm[k] * impact[k]
        for t in range(forecast_years.shape[0]):
            x = (forecast_years[t] - onset) * ramp_rate[k]
            ramps[k, t] = min(max(x, 0.0), 1.0) * amplitude


@numba.njit(**JIT_OPTIONS)
def apply_event_links(
    link_event, link_target, link_weight, event_geo, severity, activity, r, t, row
):  # pragma: no cover - compiled
    """Multiply ``row[target]`` by ``1 + weight x severity x activity x geo`` for each
    (event, target) link, in region ``r`` and year index ``t`` (> 0), floored at 0."""
    for i in range(link_event.shape[0]):
        e = link_event[i]
        shock = severity[e] * activity[e, t - 1] * event_geo[e, r, t - 1]
        target = link_target[i]
        moved = row[target] * (1.0 + link_weight[i] * shock)
        row[target] = max(moved, 0.0)


@numba.njit(**JIT_OPTIONS)
def add_driver_links(
    link_driver, link_target, link_weight, ramps, driver_geo, r, t, growth
):  # pragma: no cover - compiled
    """Add to ``growth[target]`` each (driver, target) link's ``weight x ramp x geo`` in
    region ``r`` and year index ``t`` (> 0): what the driver adds to the target's growth."""
    for i in range(link_driver.shape[0]):
        k = link_driver[i]
        growth[link_target[i]] += link_weight[i] * ramps[k, t - 1] * driver_geo[k, r, t - 1]
