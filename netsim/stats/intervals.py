"""How sure a percentile is: distribution-free order-statistic intervals, standard errors.

The confidence interval of a percentile is distribution-free: for ``n`` draws and
quantile ``q``, the order statistics ``X(r) <= xi_q <= X(s)`` with ``r`` and ``s``
from the binomial(n, q) distribution cover the true quantile with probability
at least ``confidence``, whatever the output's distribution (for independent
draws: the ``mc`` sampler).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from netsim.errors import ScenarioError
from netsim.stats.quantiles import as_quantiles, order_statistics, quantiles

__all__ = [
    "band_intervals",
    "honest_bounds",
    "interval_coverage",
    "interval_ranks",
    "mean_standard_error",
]


def interval_ranks(n: int, q: float, confidence: float = 0.95) -> tuple[int, int]:
    """0-based ranks ``(low, high)`` of the order statistics bracketing quantile ``q``.

    ``P(X(low) <= xi_q <= X(high)) >= confidence`` for ``n`` independent draws. When
    ``n`` is too small for that, the missing end is open: ``low = -1`` stands for
    minus infinity, ``high = n`` for plus infinity (a bound of the sample's minimum or
    maximum would cover less than it says: 61 % for q = 0.001 and 1,000 draws).
    """
    if not 0.0 < confidence < 1.0:
        raise ScenarioError(f"confidence={confidence} must lie in (0, 1)")
    from scipy import stats  # imported on use: a plain run never needs it (about a second)

    alpha = 1.0 - confidence
    low = int(stats.binom.ppf(alpha / 2.0, n, q))  # 1-based r, with B(r - 1) < alpha / 2
    high = int(stats.binom.ppf(1.0 - alpha / 2.0, n, q)) + 1  # 1-based s, B(s - 1) >= 1 - a/2
    return max(low - 1, -1), min(high - 1, n)


def interval_coverage(n: int, q: float, low: int, high: int) -> float:
    """The exact probability that the order statistics of 0-based ranks ``low`` and
    ``high`` (``-1`` and ``n`` open) bracket the ``q`` quantile of ``n`` independent draws
    of a continuous distribution: ``B(high) - B(low)`` with ``B`` the binomial(n, q) CDF."""
    from scipy import stats

    above = 1.0 if high >= n else float(stats.binom.cdf(high, n, q))
    below = 0.0 if low < 0 else float(stats.binom.cdf(low, n, q))
    return above - below


def honest_bounds(
    order_statistics_of: Callable[[np.ndarray], np.ndarray],
    n: int,
    q: np.ndarray,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each quantile's interval, ``(bounds (2, len(q), cells), coverage (len(q),))``.

    ``order_statistics_of(ranks)`` gives the values of 0-based ranks, ``(len(ranks),
    cells)``. An end no order statistic can give at ``confidence`` is infinite.
    """
    ranks = np.array([interval_ranks(n, float(v), confidence) for v in q])  # (Q, 2)
    coverage = np.array([interval_coverage(n, float(v), *r) for v, r in zip(q, ranks, strict=True)])
    inside = np.clip(ranks, 0, n - 1)
    values = order_statistics_of(inside.reshape(-1)).reshape(q.size, 2, -1)
    values[:, 0][ranks[:, 0] < 0] = -np.inf
    values[:, 1][ranks[:, 1] >= n] = np.inf
    return values.transpose(1, 0, 2), coverage


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
        order statistics; infinite where too few draws give none) over
        ``(quantile, ...)``, ``relative_halfwidth`` ``max(high - value, value - low) /
        |value|``, and ``coverage`` (quantile): the exact probability the interval holds
        the quantile, at least ``confidence``. Attrs: ``confidence``, ``draws``.
    """
    if dim not in data.dims:
        raise ScenarioError(f"data has no {dim!r} dimension (dims: {data.dims})")
    qs = as_quantiles(q)
    ordered = data.transpose(dim, ...)
    values = np.asarray(ordered.values)
    n = values.shape[0]
    estimate = quantiles(values, qs)
    bounds, coverage = honest_bounds(
        lambda ranks: order_statistics(values, ranks).reshape(ranks.size, -1), n, qs, confidence
    )
    shape = (qs.size, *values.shape[1:])
    low, high = bounds[0].reshape(shape), bounds[1].reshape(shape)
    others = [d for d in ordered.dims if d != dim]
    coords = {k: v for k, v in ordered.coords.items() if dim not in v.dims}
    coords["quantile"] = qs
    labelled = ("quantile", *others)
    with np.errstate(invalid="ignore", divide="ignore"):
        halfwidth = np.maximum(high - estimate, estimate - low) / np.abs(estimate)
    units = {"units": data.attrs.get("units", "")}
    return xr.Dataset(
        {
            "value": (labelled, estimate, units),
            "low": (labelled, low, units),
            "high": (labelled, high, units),
            "relative_halfwidth": (labelled, halfwidth),
            "coverage": ("quantile", coverage),
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
