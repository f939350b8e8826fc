"""How sure a percentile is: distribution-free order-statistic intervals, standard errors.

The confidence interval of a percentile is distribution-free: for ``n`` draws and
quantile ``q``, the order statistics ``X(r) <= xi_q <= X(s)`` with ``r`` and ``s``
from the binomial(n, q) distribution cover the true quantile with probability
at least ``confidence``, whatever the output's distribution (for independent
draws: the ``mc`` sampler).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from netsim.errors import ScenarioError
from netsim.stats.quantiles import as_quantiles, order_statistics, quantiles

__all__ = ["band_intervals", "interval_ranks", "mean_standard_error"]


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
    q: float | Sequence[float] = (0.05, 0.5, 0.95),
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
    qs = as_quantiles(q)
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
