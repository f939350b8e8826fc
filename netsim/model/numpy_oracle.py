"""The model in vectorised numpy: the oracle for the numba kernel.

Same equations as :func:`netsim.kernels.propagate.propagate_kernel`, written with array
operations over draws and countries and a loop over years only. Calibration uses
it (one draw, float64), the tests compare the kernel against it, and the
benchmark measures the kernel's speed-up over it.
"""

from __future__ import annotations

import numpy as np

from netsim.model.arrays import DrawArrays, ModelArrays

__all__ = ["reference_propagate"]


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
