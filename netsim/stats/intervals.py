"""How sure a percentile is: distribution-free order-statistic intervals, standard errors.

The confidence interval of a percentile is distribution-free: for ``n`` draws and
quantile ``q``, the order statistics ``X(r) <= xi_q <= X(s)`` with ``r`` and ``s``
from the binomial(n, q) distribution cover the true quantile with probability
at least ``confidence``, whatever the output's distribution (for independent
draws: the ``mc`` sampler).

What the stated ``coverage`` means depends on the sampler, and every result says so
(:func:`coverage_statement`): exact for ``mc`` (independent draws); for ``lhs`` and
``sobol`` the designs spread the draws more evenly than independent ones, so the number
of draws below a percentile varies less than the binomial law says and the interval
holds the percentile at least as often as stated (observed 1.000 where 0.955 was
stated): conservative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

from netsim.errors import ArgumentValueError, ScenarioError
from netsim.stats.quantiles import as_quantiles, order_statistics, quantiles

__all__ = [
    "COVERAGE_KINDS",
    "band_intervals",
    "coverage_attrs",
    "coverage_statement",
    "honest_bounds",
    "interval_coverage",
    "interval_ranks",
    "mean_standard_error",
]


# what the stated coverage of an order-statistic interval is, per sampler
COVERAGE_KINDS = {"mc": "exact", "lhs": "at least", "sobol": "at least"}
_DESIGNS = {"lhs": "a Latin hypercube design", "sobol": "a scrambled Sobol' design"}


def coverage_statement(sampler: str | None) -> tuple[str, str]:
    """``(kind, note)``: whether the stated coverage of order-statistic intervals is
    ``exact`` or ``at least`` for draws of ``sampler``, and a one-line note saying why.

    ``None`` (draws of unknown origin) states the condition: exact for independent draws.
    """
    if sampler is None:
        return "exact if the draws are independent", (
            "coverage exact for independent draws (the binomial law of order statistics)"
        )
    if sampler not in COVERAGE_KINDS:
        raise ArgumentValueError(
            f"sampler={sampler!r} must be one of {', '.join(COVERAGE_KINDS)}", argument="sampler"
        )
    kind = COVERAGE_KINDS[sampler]
    if kind == "exact":
        return kind, f"coverage exact ({sampler}: independent draws)"
    return kind, (
        f"coverage at least as stated ({sampler}: {_DESIGNS[sampler]} spreads its draws more "
        "evenly than independent ones, so its intervals are conservative)"
    )


def interval_ranks(n: int, q: float, confidence: float = 0.95) -> tuple[int, int]:
    """0-based ranks ``(low, high)`` of the order statistics bracketing quantile ``q``.

    ``P(X(low) <= xi_q <= X(high)) >= confidence`` for ``n`` independent draws. When
    ``n`` is too small for that, the missing end is open: ``low = -1`` stands for
    minus infinity, ``high = n`` for plus infinity (a bound of the sample's minimum or
    maximum would cover less than it says: 61 % for q = 0.001 and 1,000 draws).
    """
    if not 0.0 < confidence < 1.0:
        raise ArgumentValueError(
            f"confidence={confidence} must lie in (0, 1)", argument="confidence"
        )
    alpha = 1.0 - confidence
    low = _binomial_quantile(alpha / 2.0, n, q)  # 1-based r, with B(r - 1) < alpha / 2
    high = _binomial_quantile(1.0 - alpha / 2.0, n, q) + 1  # 1-based s, B(s - 1) >= 1 - a/2
    return max(low - 1, -1), min(high - 1, n)


def _binomial_cdf(k: int, n: int, q: float) -> float:
    """P(Binomial(n, q) <= k), scipy's ``binom.cdf`` (both are ``scipy.special.bdtr``).

    scipy.special alone, not scipy.stats: a run writing its file's bands needs these
    intervals, and scipy.stats costs about a second of imports (scipy.optimize with it)."""
    from scipy import special

    if k < 0:
        return 0.0
    return 1.0 if k >= n else float(special.bdtr(k, n, q))


def _binomial_quantile(p: float, n: int, q: float) -> int:
    """The smallest ``k`` with ``P(Binomial(n, q) <= k) >= p`` (``binom.ppf``), by
    bisection on the CDF (at most 64 evaluations for any ``n``)."""
    low, high = -1, n  # cdf(low) < p <= cdf(high) = 1
    while high - low > 1:
        middle = (low + high) // 2
        if _binomial_cdf(middle, n, q) >= p:
            high = middle
        else:
            low = middle
    return high


def interval_coverage(n: int, q: float, low: int, high: int) -> float:
    """The exact probability that the order statistics of 0-based ranks ``low`` and
    ``high`` (``-1`` and ``n`` open) bracket the ``q`` quantile of ``n`` independent draws
    of a continuous distribution: ``B(high) - B(low)`` with ``B`` the binomial(n, q) CDF."""
    return _binomial_cdf(high, n, q) - _binomial_cdf(low, n, q)


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
    sampler: str | None = None,
) -> xr.Dataset:
    """Percentile bands with their distribution-free confidence intervals.

    Parameters
    ----------
    sampler : {"mc", "lhs", "sobol"}, optional
        The sampler the draws came from: it decides what the stated coverage means
        (:func:`coverage_statement`). ``None``: draws of unknown origin.

    Returns
    -------
    xarray.Dataset
        ``value`` (as :func:`netsim.bands`), ``low`` and ``high`` (the interval's
        order statistics; infinite where too few draws give none) over
        ``(quantile, ...)``, ``relative_halfwidth`` ``max(high - value, value - low) /
        |value|``, and ``coverage`` (quantile): the probability the interval holds
        the quantile for independent draws, at least ``confidence``. Attrs:
        ``confidence``, ``draws``, ``sampler``, ``coverage_kind`` (``exact`` for mc,
        ``at least`` for lhs and sobol) and ``coverage_note`` (why, in one line).
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
        attrs={"confidence": confidence, "draws": n, **coverage_attrs(sampler)},
    )


def coverage_attrs(sampler: str | None) -> dict[str, str]:
    """The attrs that say what an interval's stated coverage means for ``sampler``."""
    kind, note = coverage_statement(sampler)
    return {"sampler": sampler or "unknown", "coverage_kind": kind, "coverage_note": note}


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
