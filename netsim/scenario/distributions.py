"""Input distributions: validated parameters, inverse CDFs and point values.

Sampling is two-stage (uniforms first, then ``ppf``), so every distribution here
is defined by its inverse cumulative distribution function on (0, 1). Each one
is monotone non-decreasing in ``u``, which keeps rank correlations imposed on the
uniforms intact (the PERT's tabled quantile to within a few units in the last place,
between uniforms far closer than any two a sampler draws).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from netsim.errors import ScenarioError
from netsim.kernels.beta_quantile import beta_ppf
from netsim.kernels.beta_table import beta_table

__all__ = [
    "DISTRIBUTION_KINDS",
    "LARGEST_UNIFORM",
    "MAX_MAGNITUDE",
    "SMALLEST_UNIFORM",
    "Distribution",
    "make_distribution",
]

# Every sampler gives the inverse CDFs uniforms in [SMALLEST_UNIFORM, LARGEST_UNIFORM], inside
# (0, 1): so a distribution's draws lie in ``Distribution.support``, and a normal's within
# 8.3 standard deviations. 1 - 2**-53 is the largest double below 1 (1 - 2**-54 is 1.0).
MAX_MAGNITUDE = 1e100  # no number of a scenario is larger: products of them must stay finite
SMALLEST_UNIFORM = 2.0**-54
LARGEST_UNIFORM = 1.0 - 2.0**-53


@dataclass(frozen=True)
class Distribution:
    """A validated univariate distribution.

    Parameters
    ----------
    kind : str
        One of :data:`DISTRIBUTION_KINDS`.
    params : Mapping[str, Any]
        The parameters of that kind (see :func:`make_distribution`).
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    # --- values ---------------------------------------------------------------
    @property
    def point(self) -> float:
        """The point value used by the deterministic base case.

        ``fixed`` its value, ``uniform`` the midpoint, ``triangular``/``pert``
        the mode, ``normal``/``truncnormal`` the mean parameter, ``lognormal``
        the median, ``bernoulli`` the probability (the expected effect of an
        event), ``discrete`` the mean.
        """
        p = self.params
        match self.kind:
            case "fixed":
                return float(p["value"])
            case "uniform":
                return 0.5 * (p["low"] + p["high"])
            case "triangular" | "pert":
                return float(p["mode"])
            case "normal" | "truncnormal":
                return float(p["mean"])
            case "lognormal":
                return float(p["median"])
            case "bernoulli":
                return float(p["p"])
            case "discrete":
                return float(np.dot(p["values"], p["weights"]))
        raise AssertionError(self.kind)  # pragma: no cover - kinds are validated

    @property
    def support(self) -> tuple[float, float]:
        """The smallest and largest value a sampler can draw (the inverse CDF at the
        extreme uniforms the samplers give); e.g. a normal's mean +- 8.3 sd."""
        ends = self.ppf(np.array([SMALLEST_UNIFORM, LARGEST_UNIFORM]))
        return float(ends[0]), float(ends[1])

    @property
    def is_constant(self) -> bool:
        """True when every draw gives the same value."""
        if self.kind == "fixed":
            return True
        if self.kind == "bernoulli":
            return self.params["p"] in (0.0, 1.0)
        return False

    def frozen(self) -> Any:
        """The equivalent frozen ``scipy.stats`` distribution (for tests and moments)."""
        from scipy import stats  # about a second to import: sampling does not need it

        p = self.params
        match self.kind:
            case "fixed":
                return stats.uniform(loc=p["value"], scale=0.0)
            case "uniform":
                return stats.uniform(loc=p["low"], scale=p["high"] - p["low"])
            case "triangular":
                width = p["high"] - p["low"]
                return stats.triang(c=(p["mode"] - p["low"]) / width, loc=p["low"], scale=width)
            case "pert":
                a, b = _pert_shape(p)
                return stats.beta(a, b, loc=p["low"], scale=p["high"] - p["low"])
            case "normal":
                return stats.norm(loc=p["mean"], scale=p["sd"])
            case "truncnormal":
                lo = (p["low"] - p["mean"]) / p["sd"]
                hi = (p["high"] - p["mean"]) / p["sd"]
                return stats.truncnorm(lo, hi, loc=p["mean"], scale=p["sd"])
            case "lognormal":
                return stats.lognorm(s=p["sigma"], scale=p["median"])
            case "bernoulli":
                return stats.bernoulli(p["p"])
            case "discrete":
                return stats.rv_discrete(values=(p["values"], p["weights"]))
        raise AssertionError(self.kind)  # pragma: no cover

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF.

        Parameters
        ----------
        u : ndarray
            Uniforms in the open interval (0, 1).

        Returns
        -------
        ndarray of float64
            Values in the distribution's own units, same shape as ``u``.
        """
        u = np.asarray(u, dtype=np.float64)
        p = self.params
        # Each closed form is scipy.stats' own (its ``_ppf`` times scale plus loc), so
        # draws equal the frozen distribution's ppf bit for bit (tests/test_sampling.py)
        # without importing scipy.stats.
        match self.kind:
            case "fixed":
                return np.full(u.shape, float(p["value"]))
            case "uniform":
                return u * (p["high"] - p["low"]) + p["low"]
            case "triangular":
                width = p["high"] - p["low"]
                c = (p["mode"] - p["low"]) / width
                standard = np.where(u < c, np.sqrt(c * u), 1 - np.sqrt((1 - c) * (1 - u)))
                return standard * width + p["low"]
            case "pert":
                # the one exception: scipy's betaincinv costs ~2 us a value, so the beta
                # quantile comes from a table checked against an exact numba solver, within
                # 1e-10 relative (netsim/kernels/beta_table.py, tests/test_beta_inverse.py)
                a, b = _pert_shape(p)
                standard = beta_table(a, b).ppf(u) if min(a, b) >= 1.0 else beta_ppf(a, b, u)
                return standard * (p["high"] - p["low"]) + p["low"]
            case "normal":
                return p["mean"] + p["sd"] * special.ndtri(u)
            case "lognormal":
                return np.exp(p["sigma"] * special.ndtri(u)) * p["median"]
            case "bernoulli":
                return (u > 1.0 - p["p"]).astype(np.float64)
            case "discrete":
                cumulative = np.cumsum(p["weights"])
                cumulative[-1] = 1.0
                index = np.searchsorted(cumulative, u, side="left")
                return np.asarray(p["values"], dtype=np.float64)[index]
        # truncnormal: scipy's tail-safe algorithm
        return np.asarray(self.frozen().ppf(u), dtype=np.float64)

    def describe(self) -> str:
        """A one-line human description, e.g. ``pert(low=0.6, mode=1.2, high=1.8)``."""
        inner = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{self.kind}({inner})"


def _short(value: Any) -> str:
    if isinstance(value, tuple | list | np.ndarray):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _pert_shape(p: Mapping[str, Any]) -> tuple[float, float]:
    width = p["high"] - p["low"]
    shape = p.get("shape", 4.0)
    alpha = 1.0 + shape * (p["mode"] - p["low"]) / width
    beta = 1.0 + shape * (p["high"] - p["mode"]) / width
    return alpha, beta


# --- construction and validation ----------------------------------------------

_REQUIRED: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "pert": ("low", "mode", "high"),
    "normal": ("mean", "sd"),
    "truncnormal": ("mean", "sd", "low", "high"),
    "lognormal": ("median", "sigma"),
    "bernoulli": ("p",),
    "discrete": ("values", "weights"),
}
_OPTIONAL: dict[str, tuple[str, ...]] = {"pert": ("shape",)}

DISTRIBUTION_KINDS: tuple[str, ...] = tuple(_REQUIRED)
"""The distribution kinds a scenario may name in ``dist``."""


def make_distribution(
    kind: str,
    params: Mapping[str, Any],
    *,
    key: str = "",
    path: str | None = None,
) -> Distribution:
    """Validate parameters and build a :class:`Distribution`.

    Parameters
    ----------
    kind : str
        ``fixed(value)``, ``uniform(low, high)``, ``triangular(low, mode, high)``,
        ``pert(low, mode, high[, shape=4])``, ``normal(mean, sd)``,
        ``truncnormal(mean, sd, low, high)``, ``lognormal(median, sigma)`` (sigma of
        the log), ``bernoulli(p)``, ``discrete(values, weights)``.
    params : Mapping
        Parameter values; numbers must be finite.
    key, path : str
        Key path and file used in error messages.

    Raises
    ------
    ScenarioError
        On an unknown kind, missing or unknown parameters, non-finite numbers, or
        violated ordering rules (``low <= mode <= high``, ``sd > 0``, ...).
    """

    def fail(message: str) -> ScenarioError:
        return ScenarioError(message, path=path, key=key)

    if kind not in _REQUIRED:
        raise fail(f"{key}.dist={kind!r} is not one of {', '.join(DISTRIBUTION_KINDS)}")
    allowed = set(_REQUIRED[kind]) | set(_OPTIONAL.get(kind, ()))
    for name in params:
        if name not in allowed:
            raise fail(f"{key}.{name} is not a parameter of {kind} (allowed: {sorted(allowed)})")
    for name in _REQUIRED[kind]:
        if name not in params:
            raise fail(f"{key}.{name} is missing (required by {kind})")

    clean: dict[str, Any] = {}
    for name, value in params.items():
        if kind == "discrete":
            clean[name] = _number_list(value, f"{key}.{name}", fail)
        else:
            clean[name] = _number(value, f"{key}.{name}", fail)

    check = _CHECKS[kind]
    check(clean, key, fail)
    ordered = {
        name: clean[name] for name in (*_REQUIRED[kind], *_OPTIONAL.get(kind, ())) if name in clean
    }
    return Distribution(kind, ordered)


def _number(value: Any, key: str, fail: Callable[[str], ScenarioError]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"{key}={value!r} must be a number")
    value = float(value)
    if not np.isfinite(value):
        raise fail(f"{key}={value} must be finite")
    if abs(value) > MAX_MAGNITUDE:
        raise fail(f"{key}={value:g} is beyond +-{MAX_MAGNITUDE:g} (it would overflow the model)")
    return value


def _number_list(value: Any, key: str, fail: Callable[[str], ScenarioError]) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise fail(f"{key}={value!r} must be a non-empty list of numbers")
    return tuple(_number(v, f"{key}[{i}]", fail) for i, v in enumerate(value))


def _check_order(names: tuple[str, ...]):
    def check(p: dict[str, Any], key: str, fail: Callable[[str], ScenarioError]) -> None:
        for lower, upper in itertools.pairwise(names):
            if p[lower] > p[upper]:
                raise fail(f"{key}.{lower}={p[lower]!r} must be <= {upper}={p[upper]!r}")
        if p[names[0]] == p[names[-1]]:
            raise fail(
                f"{key}.{names[0]}={p[names[0]]:g} equals {names[-1]}: use dist='fixed' "
                "for a constant"
            )

    return check


def _check_positive(*names: str):
    def check(p: dict[str, Any], key: str, fail: Callable[[str], ScenarioError]) -> None:
        for name in names:
            if p[name] <= 0:
                raise fail(f"{key}.{name}={p[name]!r} must be > 0")

    return check


def _check_pert(p: dict[str, Any], key: str, fail: Callable[[str], ScenarioError]) -> None:
    _check_order(("low", "mode", "high"))(p, key, fail)
    if "shape" in p and p["shape"] <= 0:
        raise fail(f"{key}.shape={p['shape']!r} must be > 0")


def _check_truncnormal(p: dict[str, Any], key: str, fail: Callable[[str], ScenarioError]) -> None:
    _check_positive("sd")(p, key, fail)
    _check_order(("low", "high"))(p, key, fail)
    if not p["low"] <= p["mean"] <= p["high"]:
        raise fail(f"{key}.mean={p['mean']!r} must lie in [low={p['low']!r}, high={p['high']!r}]")


def _check_bernoulli(p: dict[str, Any], key: str, fail: Callable[[str], ScenarioError]) -> None:
    if not 0.0 <= p["p"] <= 1.0:
        raise fail(f"{key}.p={p['p']!r} must be a probability in [0, 1]")


def _check_discrete(p: dict[str, Any], key: str, fail: Callable[[str], ScenarioError]) -> None:
    values, weights = p["values"], p["weights"]
    if len(values) != len(weights):
        raise fail(f"{key}.values has {len(values)} entries but weights has {len(weights)}")
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise fail(f"{key}.values={list(values)} must be strictly increasing")
    if any(w < 0 for w in weights):
        raise fail(f"{key}.weights={list(weights)} must be >= 0")
    if abs(sum(weights) - 1.0) > 1e-9:
        raise fail(f"{key}.weights={list(weights)} must sum to 1 (sum={sum(weights):g})")


_CHECKS = {
    "fixed": lambda p, key, fail: None,
    "uniform": _check_order(("low", "high")),
    "triangular": _check_order(("low", "mode", "high")),
    "pert": _check_pert,
    "normal": _check_positive("sd"),
    "truncnormal": _check_truncnormal,
    "lognormal": _check_positive("median", "sigma"),
    "bernoulli": _check_bernoulli,
    "discrete": _check_discrete,
}
