"""Input distributions: one class per kind, in a registry keyed by ``dist``.

Sampling is two-stage (uniforms first, then ``ppf``), so every distribution here
is defined by its inverse cumulative distribution function on (0, 1). Each one
is monotone non-decreasing in ``u``, which keeps rank correlations imposed on the
uniforms intact (the PERT's tabled quantile to within a few units in the last place,
between uniforms far closer than any two a sampler draws).

Each kind is a :class:`DistributionKind` registered in :data:`DISTRIBUTIONS` with
:func:`register`: its parameters (required and optional), its checks, its mathematical
support, its point value (the deterministic base case's), its quantile function (what
the samplers call, :mod:`netsim.sampling.inputs`, or compute with the same operations
in their kernel, :mod:`netsim.kernels.sampling`) and its scipy equivalent (for tests
and moments). A scenario's ``dist = "<name>"`` looks its kind up there; adding a kind is
one class here, its quantile (a closed form, a scipy ufunc or a kernel of
:mod:`netsim.kernels`) and one row of ``tests/test_distributions.py`` (CONTRIBUTING.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from netsim.errors import ScenarioError
from netsim.kernels.beta_quantile import beta_ppf
from netsim.kernels.beta_table import beta_table

__all__ = [
    "DISTRIBUTIONS",
    "DISTRIBUTION_KINDS",
    "EXTREME_NORMAL_SCORES",
    "LARGEST_UNIFORM",
    "MAX_MAGNITUDE",
    "SMALLEST_UNIFORM",
    "Distribution",
    "DistributionKind",
    "make_distribution",
    "register",
    "standard_normal_quantile",
]

# Every sampler gives the inverse CDFs uniforms in [SMALLEST_UNIFORM, LARGEST_UNIFORM], inside
# (0, 1): so a distribution's draws lie in ``Distribution.support``, and a normal's within
# 8.3 standard deviations. 1 - 2**-53 is the largest double below 1 (1 - 2**-54 is 1.0).
MAX_MAGNITUDE = 1e100  # no number of a scenario is larger: products of them must stay finite
SMALLEST_UNIFORM = 2.0**-54
LARGEST_UNIFORM = 1.0 - 2.0**-53
# scipy.special.ndtri at those two uniforms: the ends of every normal's and lognormal's
# support. A scenario's support checks take them from here, so loading one imports no
# scipy.special (about a tenth of a fresh ``netsim run``, measured; tests/
# test_distributions.py checks both against scipy bit for bit)
EXTREME_NORMAL_SCORES = {
    SMALLEST_UNIFORM: float.fromhex("-0x1.095b059d67c4dp+3"),
    LARGEST_UNIFORM: float.fromhex("0x1.06b48528cea52p+3"),
}

Params = Mapping[str, Any]
Fail = Callable[[str], ScenarioError]


class DistributionKind:
    """One kind of distribution a scenario may name in ``dist``.

    A subclass sets :attr:`name`, :attr:`required` (and :attr:`optional`) and defines
    :meth:`point`, :meth:`bounds`, :meth:`ppf` and :meth:`frozen`; :meth:`check` adds its
    rules on the parameters (each number is already checked finite and within
    ``MAX_MAGNITUDE``). ``params`` is always the validated mapping of its parameters.
    """

    name: ClassVar[str]
    required: ClassVar[tuple[str, ...]]
    optional: ClassVar[tuple[str, ...]] = ()
    lists: ClassVar[bool] = False  # its parameters are lists of numbers, not numbers

    @property
    def parameters(self) -> tuple[str, ...]:
        """Every parameter it takes, in the order they are kept and shown."""
        return (*self.required, *self.optional)

    def check(self, params: Params, key: str, fail: Fail) -> None:
        """Refuse parameters that break a rule of this kind (``fail(message)`` makes the
        error; ``key`` is the distribution's key path)."""

    def point(self, params: Params) -> float:
        """The value the deterministic base case uses."""
        raise NotImplementedError

    def bounds(self, params: Params) -> tuple[float, float]:
        """The mathematical support (a normal's is infinite)."""
        raise NotImplementedError

    def ppf(self, params: Params, u: np.ndarray) -> np.ndarray:
        """The inverse CDF at uniforms ``u`` in (0, 1), float64."""
        raise NotImplementedError

    def frozen(self, params: Params) -> Any:
        """The equivalent frozen ``scipy.stats`` distribution."""
        raise NotImplementedError

    def is_constant(self, params: Params) -> bool:
        """Whether every draw gives the same value."""
        return False


DISTRIBUTIONS: dict[str, DistributionKind] = {}
"""Every kind of distribution, keyed by the ``dist`` that names it."""


def register(kind: type[DistributionKind]) -> type[DistributionKind]:
    """Class decorator: add a :class:`DistributionKind` to :data:`DISTRIBUTIONS`."""
    DISTRIBUTIONS[kind.name] = kind()
    return kind


def standard_normal_quantile(u: np.ndarray) -> np.ndarray:
    """``scipy.special.ndtri(u)``; at the extreme uniforms alone (a support check) from
    :data:`EXTREME_NORMAL_SCORES`, without importing scipy.special."""
    if u.size <= len(EXTREME_NORMAL_SCORES) and all(
        float(x) in EXTREME_NORMAL_SCORES for x in u.flat
    ):
        return np.array([EXTREME_NORMAL_SCORES[float(x)] for x in u.flat]).reshape(u.shape)
    from scipy import special

    return special.ndtri(u)


def _stats() -> Any:
    from scipy import stats  # about a second to import: sampling does not need it

    return stats


# --- rules several kinds share ------------------------------------------------


def check_order(params: Params, names: tuple[str, ...], key: str, fail: Fail) -> None:
    """``names`` in non-decreasing order, the first below the last."""
    for lower, upper in itertools.pairwise(names):
        if params[lower] > params[upper]:
            raise fail(f"{key}.{lower}={params[lower]!r} must be <= {upper}={params[upper]!r}")
    if params[names[0]] == params[names[-1]]:
        raise fail(
            f"{key}.{names[0]}={params[names[0]]:g} equals {names[-1]}: use dist='fixed' "
            "for a constant"
        )


def check_positive(params: Params, names: tuple[str, ...], key: str, fail: Fail) -> None:
    """Each of ``names`` above 0."""
    for name in names:
        if params[name] <= 0:
            raise fail(f"{key}.{name}={params[name]!r} must be > 0")


# --- the kinds ----------------------------------------------------------------
# Each closed-form quantile is scipy.stats' own (its ``_ppf`` times scale plus loc), so
# draws equal the frozen distribution's ppf bit for bit (tests/test_distributions.py)
# without importing scipy.stats.


@register
class Fixed(DistributionKind):
    """A constant: ``fixed(value)``."""

    name = "fixed"
    required = ("value",)

    def point(self, params: Params) -> float:
        return float(params["value"])

    def bounds(self, params: Params) -> tuple[float, float]:
        return float(params["value"]), float(params["value"])

    def ppf(self, params: Params, u: np.ndarray) -> np.ndarray:
        return np.full(u.shape, float(params["value"]))

    def frozen(self, params: Params) -> Any:
        return _stats().uniform(loc=params["value"], scale=0.0)

    def is_constant(self, params: Params) -> bool:
        return True


@register
class Uniform(DistributionKind):
    """``uniform(low, high)``; its point is the midpoint."""

    name = "uniform"
    required = ("low", "high")

    def check(self, params: Params, key: str, fail: Fail) -> None:
        check_order(params, ("low", "high"), key, fail)

    def point(self, params: Params) -> float:
        return 0.5 * (params["low"] + params["high"])

    def bounds(self, params: Params) -> tuple[float, float]:
        return float(params["low"]), float(params["high"])

    def ppf(self, params: Params, u: np.ndarray) -> np.ndarray:
        return u * (params["high"] - params["low"]) + params["low"]

    def frozen(self, params: Params) -> Any:
        return _stats().uniform(loc=params["low"], scale=params["high"] - params["low"])


@register
class Triangular(DistributionKind):
    """``triangular(low, mode, high)``; its point is the mode."""

    name = "triangular"
    required = ("low", "mode", "high")

    def check(self, params: Params, key: str, fail: Fail) -> None:
        check_order(params, ("low", "mode", "high"), key, fail)

    def point(self, params: Params) -> float:
        return float(params["mode"])

    def bounds(self, params: Params) -> tuple[float, float]:
        return float(params["low"]), float(params["high"])

    def ppf(self, params: Params, u: np.ndarray) -> np.ndarray:
        width = params["high"] - params["low"]
        c = (params["mode"] - params["low"]) / width
        standard = np.where(u < c, np.sqrt(c * u), 1 - np.sqrt((1 - c) * (1 - u)))
        return standard * width + params["low"]

    def frozen(self, params: Params) -> Any:
        width = params["high"] - params["low"]
        c = (params["mode"] - params["low"]) / width
        return _stats().triang(c=c, loc=params["low"], scale=width)


@register
class Pert(DistributionKind):
    """``pert(low, mode, high[, shape=4])``: a beta on [low, high] with its mode at
    ``mode``; its point is the mode."""

    name = "pert"
    required = ("low", "mode", "high")
    optional = ("shape",)

    def check(self, params: Params, key: str, fail: Fail) -> None:
        check_order(params, ("low", "mode", "high"), key, fail)
        if "shape" in params and params["shape"] <= 0:
            raise fail(f"{key}.shape={params['shape']!r} must be > 0")

    def point(self, params: Params) -> float:
        return float(params["mode"])

    def bounds(self, params: Params) -> tuple[float, float]:
        return float(params["low"]), float(params["high"])

    @staticmethod
    def beta_shape(params: Params) -> tuple[float, float]:
        """The beta's two shape parameters (alpha, beta)."""
        width = params["high"] - params["low"]
        shape = params.get("shape", 4.0)
        alpha = 1.0 + shape * (params["mode"] - params["low"]) / width
        beta = 1.0 + shape * (params["high"] - params["mode"]) / width
        return alpha, beta

    def ppf(self, params: Params, u: np.ndarray) -> np.ndarray:
        # the one exception to scipy's closed forms: its betaincinv costs ~2 us a value, so
        # the beta quantile comes from a table checked against an exact numba solver,
        # within 1e-10 relative (netsim/kernels/beta_table.py, tests/test_beta_inverse.py)
        a, b = self.beta_shape(params)
        standard = beta_table(a, b).ppf(u) if min(a, b) >= 1.0 else beta_ppf(a, b, u)
        return standard * (params["high"] - params["low"]) + params["low"]

    def frozen(self, params: Params) -> Any:
        a, b = self.beta_shape(params)
        return _stats().beta(a, b, loc=params["low"], scale=params["high"] - params["low"])


@register
class Normal(DistributionKind):
    """``normal(mean, sd)``; its point is the mean."""

    name = "normal"
    required = ("mean", "sd")

    def check(self, params: Params, key: str, fail: Fail) -> None:
        check_positive(params, ("sd",), key, fail)

    def point(self, params: Params) -> float:
        return float(params["mean"])

    def bounds(self, params: Params) -> tuple[float, float]:
        return -np.inf, np.inf

    def ppf(self, params: Params, u: np.ndarray) -> np.ndarray:
        return params["mean"] + params["sd"] * standard_normal_quantile(u)

    def frozen(self, params: Params) -> Any:
        return _stats().norm(loc=params["mean"], scale=params["sd"])


@register
class TruncatedNormal(DistributionKind):
    """``truncnormal(mean, sd, low, high)``: a normal cut to [low, high]; its point is
    the mean parameter."""

    name = "truncnormal"
    required = ("mean", "sd", "low", "high")

    def check(self, params: Params, key: str, fail: Fail) -> None:
        check_positive(params, ("sd",), key, fail)
        check_order(params, ("low", "high"), key, fail)
        if not params["low"] <= params["mean"] <= params["high"]:
            raise fail(
                f"{key}.mean={params['mean']!r} must lie in [low={params['low']!r}, "
                f"high={params['high']!r}]"
            )

    def point(self, params: Params) -> float:
        return float(params["mean"])

    def bounds(self, params: Params) -> tuple[float, float]:
        return float(params["low"]), float(params["high"])

    def ppf(self, params: Params, u: np.ndarray) -> np.ndarray:
        # scipy's tail-safe algorithm
        return np.asarray(self.frozen(params).ppf(u), dtype=np.float64)

    def frozen(self, params: Params) -> Any:
        low = (params["low"] - params["mean"]) / params["sd"]
        high = (params["high"] - params["mean"]) / params["sd"]
        return _stats().truncnorm(low, high, loc=params["mean"], scale=params["sd"])


@register
class LogNormal(DistributionKind):
    """``lognormal(median, sigma)`` (sigma of the log); its point is the median."""

    name = "lognormal"
    required = ("median", "sigma")

    def check(self, params: Params, key: str, fail: Fail) -> None:
        check_positive(params, ("median", "sigma"), key, fail)

    def point(self, params: Params) -> float:
        return float(params["median"])

    def bounds(self, params: Params) -> tuple[float, float]:
        return 0.0, np.inf

    def ppf(self, params: Params, u: np.ndarray) -> np.ndarray:
        return np.exp(params["sigma"] * standard_normal_quantile(u)) * params["median"]

    def frozen(self, params: Params) -> Any:
        return _stats().lognorm(s=params["sigma"], scale=params["median"])


@register
class Bernoulli(DistributionKind):
    """``bernoulli(p)``: 1 with probability ``p``, else 0; its point is ``p`` (the
    expected effect of an event)."""

    name = "bernoulli"
    required = ("p",)

    def check(self, params: Params, key: str, fail: Fail) -> None:
        if not 0.0 <= params["p"] <= 1.0:
            raise fail(f"{key}.p={params['p']!r} must be a probability in [0, 1]")

    def point(self, params: Params) -> float:
        return float(params["p"])

    def bounds(self, params: Params) -> tuple[float, float]:
        return 0.0, 1.0

    def ppf(self, params: Params, u: np.ndarray) -> np.ndarray:
        return (u > 1.0 - params["p"]).astype(np.float64)

    def frozen(self, params: Params) -> Any:
        return _stats().bernoulli(params["p"])

    def is_constant(self, params: Params) -> bool:
        return params["p"] in (0.0, 1.0)


@register
class Discrete(DistributionKind):
    """``discrete(values, weights)``: each value with its weight; its point is the mean."""

    name = "discrete"
    required = ("values", "weights")
    lists = True

    def check(self, params: Params, key: str, fail: Fail) -> None:
        values, weights = params["values"], params["weights"]
        if len(values) != len(weights):
            raise fail(f"{key}.values has {len(values)} entries but weights has {len(weights)}")
        if any(b <= a for a, b in itertools.pairwise(values)):
            raise fail(f"{key}.values={list(values)} must be strictly increasing")
        if any(w < 0 for w in weights):
            raise fail(f"{key}.weights={list(weights)} must be >= 0")
        if abs(sum(weights) - 1.0) > 1e-9:
            raise fail(f"{key}.weights={list(weights)} must sum to 1 (sum={sum(weights):g})")

    def point(self, params: Params) -> float:
        return float(np.dot(params["values"], params["weights"]))

    def bounds(self, params: Params) -> tuple[float, float]:
        return float(min(params["values"])), float(max(params["values"]))

    def ppf(self, params: Params, u: np.ndarray) -> np.ndarray:
        cumulative = np.cumsum(params["weights"])
        cumulative[-1] = 1.0
        index = np.searchsorted(cumulative, u, side="left")
        return np.asarray(params["values"], dtype=np.float64)[index]

    def frozen(self, params: Params) -> Any:
        return _stats().rv_discrete(values=(params["values"], params["weights"]))


DISTRIBUTION_KINDS: tuple[str, ...] = tuple(DISTRIBUTIONS)
"""The distribution kinds a scenario may name in ``dist``."""


# --- a validated distribution -------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    """A validated univariate distribution.

    Parameters
    ----------
    kind : str
        One of :data:`DISTRIBUTION_KINDS` (its class is ``DISTRIBUTIONS[kind]``).
    params : Mapping[str, Any]
        The parameters of that kind (see :func:`make_distribution`).
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> DistributionKind:
        """Its kind's class in :data:`DISTRIBUTIONS`."""
        return DISTRIBUTIONS[self.kind]

    @property
    def point(self) -> float:
        """The point value used by the deterministic base case: ``fixed`` its value,
        ``uniform`` the midpoint, ``triangular``/``pert`` the mode,
        ``normal``/``truncnormal`` the mean parameter, ``lognormal`` the median,
        ``bernoulli`` the probability (the expected effect of an event), ``discrete``
        the mean."""
        return self.family.point(self.params)

    @property
    def support(self) -> tuple[float, float]:
        """The smallest and largest value a sampler can draw (the inverse CDF at the
        extreme uniforms the samplers give); e.g. a normal's mean +- 8.3 sd."""
        ends = self.ppf(np.array([SMALLEST_UNIFORM, LARGEST_UNIFORM]))
        return float(ends[0]), float(ends[1])

    @property
    def bounds(self) -> tuple[float, float]:
        """The mathematical support (a normal's is infinite; :attr:`support` is what a
        sampler can draw)."""
        return self.family.bounds(self.params)

    @property
    def is_constant(self) -> bool:
        """True when every draw gives the same value."""
        return self.family.is_constant(self.params)

    def frozen(self) -> Any:
        """The equivalent frozen ``scipy.stats`` distribution (for tests and moments)."""
        return self.family.frozen(self.params)

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
        return self.family.ppf(self.params, np.asarray(u, dtype=np.float64))

    def describe(self) -> str:
        """A one-line human description, e.g. ``pert(low=0.6, mode=1.2, high=1.8)``."""
        inner = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{self.kind}({inner})"


def _short(value: Any) -> str:
    if isinstance(value, tuple | list | np.ndarray):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


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
        A key of :data:`DISTRIBUTIONS`: ``fixed(value)``, ``uniform(low, high)``,
        ``triangular(low, mode, high)``, ``pert(low, mode, high[, shape=4])``,
        ``normal(mean, sd)``, ``truncnormal(mean, sd, low, high)``,
        ``lognormal(median, sigma)`` (sigma of the log), ``bernoulli(p)``,
        ``discrete(values, weights)``.
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

    family = DISTRIBUTIONS.get(kind) if isinstance(kind, str) else None
    if family is None:
        raise fail(f"{key}.dist={kind!r} is not one of {', '.join(DISTRIBUTION_KINDS)}")
    allowed = set(family.parameters)
    for name in params:
        if name not in allowed:
            raise fail(f"{key}.{name} is not a parameter of {kind} (allowed: {sorted(allowed)})")
    for name in family.required:
        if name not in params:
            raise fail(f"{key}.{name} is missing (required by {kind})")
    read = _number_list if family.lists else _number
    clean = {name: read(value, f"{key}.{name}", fail) for name, value in params.items()}
    family.check(clean, key, fail)
    return Distribution(kind, {name: clean[name] for name in family.parameters if name in clean})


def _number(value: Any, key: str, fail: Fail) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"{key}={value!r} must be a number")
    value = float(value)
    if not np.isfinite(value):
        raise fail(f"{key}={value} must be finite")
    if abs(value) > MAX_MAGNITUDE:
        raise fail(f"{key}={value:g} is beyond +-{MAX_MAGNITUDE:g} (it would overflow the model)")
    return value


def _number_list(value: Any, key: str, fail: Fail) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise fail(f"{key}={value!r} must be a non-empty list of numbers")
    return tuple(_number(v, f"{key}[{i}]", fail) for i, v in enumerate(value))
