"""The model in vectorised numpy: the oracle for the numba kernels.

Same equations as :func:`netsim.kernels.propagate.propagate_kernel` and
:func:`netsim.kernels.funnel.funnel_kernel`, written with array operations over draws
and countries and a loop over years only, from the kernels' documented semantics rather
than their loops. Calibration uses them (one draw, float64), the tests compare the
kernels against them, and the benchmark measures the kernel's speed-up.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from netsim.model.arrays import DrawArrays, FunnelArrays, ModelArrays

__all__ = ["reference_funnel", "reference_funnel_factors", "reference_propagate"]


def reference_propagate(
    model: ModelArrays,
    draws: DrawArrays,
    dtype: type = np.float64,
) -> tuple[np.ndarray, np.ndarray]:
    """Propagate draws through the model.

    Parameters
    ----------
    model : ModelArrays
    draws : DrawArrays
    dtype : numpy dtype
        Output dtype (computation is float64).

    Returns
    -------
    total : ndarray, shape (draw, year, country)
        In the market's unit.
    segments : ndarray, shape (draw, year, country, segment)
        In the market's unit.
    """
    n_draws = draws.draws
    n_countries = model.base_value.shape[0]
    n_forecast = model.forecast_years.shape[0]
    n_segments = model.premium.shape[0]
    years = model.forecast_years

    onset = model.ramp_onset[None, :] + draws.delay - 1.0  # (D, K)
    ramp = (
        np.clip(
            (years[None, None, :] - onset[:, :, None]) * model.ramp_rate[None, :, None], 0.0, 1.0
        )
        * (model.ramp_norm[None, :] * draws.impact)[:, :, None]
    )  # (D, K, T1)
    amplitude = ramp[:, :, None, :] * model.geo[None]  # (D, K, R, T1)
    drive = (
        amplitude.sum(axis=1) + draws.noise_global[:, None, :] + draws.noise_region
    )  # (D, R, T1)
    segment_growth = np.broadcast_to(
        model.premium, (n_draws, *drive.shape[1:], n_segments)
    ).copy()  # (D, R, T1, S)
    for k, s, w in zip(model.tilt_driver, model.tilt_segment, model.tilt_weight, strict=True):
        segment_growth[..., s] += w * amplitude[:, k]
    shock = (
        draws.event_severity[:, :, None, None]
        * draws.event_activity[:, :, None, :]
        * model.event_geo[None]
    )  # (D, E, R, T1)
    segment_growth += np.einsum("derk,es->drks", shock, model.event_tilt)

    total = np.empty((n_draws, n_forecast + 1, n_countries), dtype=dtype)
    segments = np.empty((n_draws, n_forecast + 1, n_countries, n_segments), dtype=dtype)
    value = model.base_value[None, :] * draws.scale[:, None]  # (D, C)
    share = np.broadcast_to(
        model.share0[model.region_of], (n_draws, n_countries, n_segments)
    ).copy()
    total[:, 0] = value
    segments[:, 0] = value[..., None] * share
    region = model.region_of
    bounds = list(zip(model.axis_start[:-1], model.axis_start[1:], strict=True))
    for t in range(n_forecast):
        regional = drive[:, region, t]
        for e, segment in zip(model.event_of, model.event_segment, strict=True):
            regional = regional + share[:, :, segment] * shock[:, e, region, t]
        value = value * (1.0 + (model.baseline[None, :, t] + regional))
        share = share * (1.0 + segment_growth[:, region, t, :])
        for low, high in bounds:
            share[..., low:high] /= share[..., low:high].sum(axis=-1, keepdims=True)
        total[:, t + 1] = value
        segments[:, t + 1] = value[..., None] * share
    return total, segments


def reference_funnel_factors(funnel: FunnelArrays, draws: DrawArrays) -> np.ndarray:
    """Every funnel factor's value in each draw, region and year, after its trend, the
    drivers and events acting on it, the stages' cap at 1 and each split's
    renormalisation: shape (draw, region, year, factor), in the kernel's units."""
    n_draws, n_factors = draws.funnel_base.shape
    n_years = funnel.population.shape[1]
    n_regions = funnel.factor_region.shape[1]
    onset = funnel.ramp_onset[None, :] + draws.delay - 1.0  # (D, K)
    x = (funnel.forecast_years[None, None, :] - onset[:, :, None]) * funnel.ramp_rate[None, :, None]
    ramps = np.clip(x, 0.0, 1.0) * (funnel.ramp_norm[None, :] * draws.impact)[:, :, None]

    level = draws.funnel_base[:, None, :] * funnel.factor_region.T[None, :, :]  # (D, R, F)
    value = np.empty((n_draws, n_regions, n_years, n_factors))
    value[:, :, 0] = level
    links = zip(funnel.link_driver, funnel.link_factor, funnel.link_weight, strict=True)
    links = list(links)
    event_links = list(
        zip(
            funnel.event_link_event,
            funnel.event_link_factor,
            funnel.event_link_weight,
            strict=True,
        )
    )
    for t in range(1, n_years):
        growth = np.broadcast_to(funnel.factor_trend, level.shape).copy()
        for k, f, w in links:
            growth[:, :, f] += w * ramps[:, k, t - 1][:, None] * funnel.driver_geo[k, :, t - 1]
        level = np.maximum(level * (1.0 + growth), 0.0)
        value[:, :, t] = level
        for e, f, w in event_links:
            shock = (draws.event_severity[:, e] * draws.event_activity[:, e, t - 1])[:, None]
            value[:, :, t, f] *= 1.0 + w * shock * funnel.event_geo[e, :, t - 1]
    value = np.maximum(value, 0.0)
    stages = funnel.stage_factors
    value[..., stages] = np.minimum(value[..., stages], 1.0)
    for first, last in pairwise(funnel.split_start):
        members = funnel.split_factors[first:last]
        total = value[..., members].sum(axis=-1, keepdims=True)
        safe = np.where(total > 0, total, 1.0)
        value[..., members] = np.where(total > 0, value[..., members] / safe, value[..., members])
    return value


def reference_funnel(
    funnel: FunnelArrays, draws: DrawArrays, splits: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """The patient funnel's outputs, as :func:`netsim.kernels.funnel.funnel_kernel` fills
    them, in float64.

    Parameters
    ----------
    funnel : FunnelArrays
    draws : DrawArrays
    splits : tuple of str
        The split axes, in the order of ``funnel.split_start``.

    Returns
    -------
    dict of str to ndarray
        ``patients`` (draw, year, country, stage), ``patient_total`` (draw, year, country)
        in the market's unit, and per split axis ``treated_by_<axis>`` (patients) and
        ``patient_by_<axis>`` (market's unit), each (draw, year, country, segment).
    """
    value = reference_funnel_factors(funnel, draws)
    here = np.moveaxis(value[:, funnel.region_of], 1, 2)  # (D, T, C, F)
    per_person = np.prod(here[..., funnel.case_factors], axis=-1)
    per_person = np.minimum(np.minimum(per_person, 1.0) * funnel.country_cases, 1.0)
    cases = funnel.population.T[None] * per_person
    shares = np.minimum(here[..., funnel.stage_factors] * funnel.country_stage, 1.0)
    patients = np.concatenate(
        [cases[..., None], cases[..., None] * np.cumprod(shares, axis=-1)], axis=-1
    )
    treated = patients[..., -1]
    out = {"patients": patients}
    groups = [funnel.split_factors[a:b] for a, b in pairwise(funnel.split_start)]
    cost_axis = int(funnel.cost_axis[0])
    per_cost = treated[..., None] * here[..., funnel.cost_doses] * here[..., funnel.cost_price]
    per_cost = per_cost * funnel.price_index[None, None, :, None]
    if cost_axis >= 0:
        per_cost = per_cost * here[..., groups[cost_axis]]
    out["patient_total"] = per_cost.sum(axis=-1)
    for a, (axis, members) in enumerate(zip(splits, groups, strict=True)):
        out[f"treated_by_{axis}"] = treated[..., None] * here[..., members]
        if a == cost_axis:
            out[f"patient_by_{axis}"] = per_cost
        else:
            out[f"patient_by_{axis}"] = out["patient_total"][..., None] * here[..., members]
    return out
