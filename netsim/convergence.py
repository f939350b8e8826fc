"""How sure are the bands: standard errors, order-statistic intervals, runs to a precision.

The confidence interval of a percentile is distribution-free: for ``n`` draws and
quantile ``q``, the order statistics ``X(r) <= xi_q <= X(s)`` with ``r`` and ``s``
from the binomial(n, q) distribution cover the true quantile with probability
at least ``confidence``, whatever the output's distribution (for independent
draws: the ``mc`` sampler).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from netsim.engine import propagate, simulate
from netsim.errors import ScenarioError
from netsim.sampling import sample_inputs
from netsim.scenario import Scenario
from netsim.stats import _as_quantiles, by_region, global_total, order_statistics, quantiles

__all__ = [
    "HEADLINE_QUANTILES",
    "band_intervals",
    "headline_outputs",
    "interval_ranks",
    "mean_standard_error",
    "relative_precision",
    "simulate_to_precision",
]

HEADLINE_QUANTILES = (0.05, 0.5, 0.95)


def interval_ranks(n: int, q: float, confidence: float = 0.95) -> tuple[int, int]:
    """0-based ranks ``(low, high)`` of the order statistics bracketing quantile ``q``.

    ``P(X(low) <= xi_q <= X(high)) >= confidence`` for ``n`` independent draws
    (clipped to ``[0, n - 1]`` when ``n`` is too small to reach it).
    """
    if not 0.0 < confidence < 1.0:
        raise ScenarioError(f"confidence={confidence} must lie in (0, 1)")
    from scipy import stats  # imported on use: a plain run never needs it (about a second)

    alpha = 1.0 - confidence
    low = int(stats.binom.ppf(alpha / 2.0, n, q))  # 1-based r, with B(r - 1) < alpha / 2
    high = int(stats.binom.ppf(1.0 - alpha / 2.0, n, q)) + 1  # 1-based s, B(s - 1) >= 1 - a/2
    return max(low - 1, 0), min(high - 1, n - 1)


def band_intervals(
    data: xr.DataArray,
    q: float | Sequence[float] = HEADLINE_QUANTILES,
    confidence: float = 0.95,
    dim: str = "draw",
) -> xr.Dataset:
    """Percentile bands with their distribution-free confidence intervals.

    Returns
    -------
    xarray.Dataset
        ``value`` (as :func:`netsim.bands`), ``low`` and ``high`` (the interval's
        order statistics) over ``(quantile, ...)``, and ``relative_halfwidth``
        ``max(high - value, value - low) / |value|``. Attrs: ``confidence``, ``draws``.
    """
    if dim not in data.dims:
        raise ScenarioError(f"data has no {dim!r} dimension (dims: {data.dims})")
    qs = _as_quantiles(q)
    ordered = data.transpose(dim, ...)
    values = np.asarray(ordered.values)
    n = values.shape[0]
    ranks = np.array([interval_ranks(n, float(v), confidence) for v in qs])
    estimate = quantiles(values, qs)
    bounds = order_statistics(values, ranks.reshape(-1)).reshape((qs.size, 2, *values.shape[1:]))
    others = [d for d in ordered.dims if d != dim]
    coords = {k: v for k, v in ordered.coords.items() if dim not in v.dims}
    coords["quantile"] = qs
    labelled = ("quantile", *others)
    low, high = bounds[:, 0], bounds[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        halfwidth = np.maximum(high - estimate, estimate - low) / np.abs(estimate)
    units = {"units": data.attrs.get("units", "")}
    return xr.Dataset(
        {
            "value": (labelled, estimate, units),
            "low": (labelled, low, units),
            "high": (labelled, high, units),
            "relative_halfwidth": (labelled, halfwidth),
        },
        coords=coords,
        attrs={"confidence": confidence, "draws": n},
    )


def mean_standard_error(data: xr.DataArray, dim: str = "draw") -> xr.Dataset:
    """Monte Carlo mean of every cell and its standard error ``sd / sqrt(n)``.

    For ``lhs`` and ``sobol`` runs the formula is conservative (those designs
    converge faster than independent draws).
    """
    values = data.astype(np.float64)
    n = values.sizes[dim]
    return xr.Dataset(
        {
            "mean": values.mean(dim),
            "standard_error": values.std(dim, ddof=1) / np.sqrt(n)
            if n > 1
            else values.mean(dim) * np.nan,
        },
        attrs={"draws": n},
    )


def headline_outputs(dataset: xr.Dataset) -> dict[str, xr.DataArray]:
    """The outputs ``netsim run`` reports: the global total by year, and the final
    year by region and by the first segmentation axis (draw first)."""
    final = int(dataset["year"].values[-1])
    out = {"global total": global_total(dataset["total"])}
    out[f"{final} by region"] = by_region(dataset["total"].sel(year=final))
    axes = [str(name) for name in dataset.data_vars if str(name).startswith("by_")]
    if axes:
        axis = axes[0]
        out[f"{final} by {axis[3:]}"] = global_total(dataset[axis].sel(year=final))
    return out


def relative_precision(
    dataset: xr.Dataset, q: Sequence[float] = HEADLINE_QUANTILES, confidence: float = 0.95
) -> float:
    """The widest relative half-width of the confidence intervals of every headline percentile."""
    worst = 0.0
    for data in headline_outputs(dataset).values():
        worst = max(worst, float(band_intervals(data, q, confidence)["relative_halfwidth"].max()))
    return worst


def simulate_to_precision(
    scenario: Scenario,
    precision: float,
    seed: int = 0,
    *,
    first_draws: int = 10_000,
    max_draws: int = 2_000_000,
    confidence: float = 0.95,
    q: Sequence[float] = HEADLINE_QUANTILES,
    progress: Callable[[int], Any] | None = None,
) -> xr.Dataset:
    """Simulate in batches until every headline percentile is known to ``precision``.

    After each batch the 95 % intervals of the headline percentiles
    (:func:`headline_outputs`) are computed; the run stops once the widest
    relative half-width is at most ``precision``, or at ``max_draws``. The next
    batch is sized from the sample-size law (half-width ~ 1 / sqrt(n)). Draws are
    keyed by index (``mc``), so the batches add draws and change none: the
    result equals ``simulate(scenario, draws_used, seed)``.

    Returns
    -------
    xarray.Dataset
        The run, with attrs ``precision_target``, ``precision_achieved``,
        ``precision_confidence``, ``precision_met`` (0 or 1) and ``draws``.
    """
    if not 0.0 < precision < 1.0:
        raise ScenarioError(f"precision {precision} must lie in (0, 1) (0.005 = 0.5 %)")
    if not 1 <= first_draws <= max_draws:
        raise ScenarioError(f"first_draws={first_draws} must lie in [1, max_draws={max_draws}]")
    dataset = simulate(scenario, first_draws, seed, "mc", progress=progress)
    draws = first_draws
    while True:
        achieved = relative_precision(dataset, q, confidence)
        if achieved <= precision or draws >= max_draws:
            break
        wanted = int(np.ceil(draws * 1.2 * (achieved / precision) ** 2))
        target = min(max_draws, max(wanted, draws + draws // 4), 8 * draws)
        inputs = sample_inputs(scenario, target, seed, "mc", draws, target)
        labelled = xr.DataArray(
            inputs,
            dims=("draw", "parameter"),
            coords={"draw": np.arange(draws, target), "parameter": list(scenario.parameter_names)},
        )
        extra = propagate(scenario, labelled, progress=progress)
        dataset = xr.concat([dataset, extra], dim="draw", data_vars="minimal", coords="minimal")
        draws = target
    dataset.attrs.update(
        {
            "draws": draws,
            "precision_target": precision,
            "precision_achieved": achieved,
            "precision_confidence": confidence,
            "precision_met": int(achieved <= precision),
        }
    )
    return dataset
