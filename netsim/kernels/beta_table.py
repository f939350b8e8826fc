"""The PERT's beta quantile from a per-shape interpolation table, with a checked error.

The exact solver (:mod:`netsim.kernels.beta_quantile`, Newton on the incomplete beta
function) costs about 0.44 us a value: sampling the NET scenario's 28 PERT impacts took
four times as long as propagating them. A PERT's shapes are fixed per parameter, so
each shape pair gets a table, built once, and a value costs one power and one cubic:
about 20 ns.

The table interpolates each half of the distribution in the variable that makes it
smooth. For ``u <= 1/2`` the quantile ``x`` is an analytic function of ``v = u**(1/a)``
(near 0, ``I_x(a, b) ~ x**a / (a B(a, b))``, so ``x ~ (a B u)**(1/a)``: the power
removes the tail's singularity); for ``u > 1/2``, ``y = 1 - x`` is one of
``w = (1 - u)**(1/b)``. Each half is a cubic Hermite interpolant on equally spaced
nodes, with the exact quantile and its exact derivative at every node.

Error bound: at every interval's midpoint, where a cubic Hermite interpolant's error
peaks (it is proportional to ``t**2 (1 - t)**2``), the table is compared with the exact
quantile; the nodes are doubled until every midpoint is within :data:`CHECKED_ERROR`
relative (of ``x`` below the median, of ``1 - x`` above it), so the stated bound
:data:`TABLE_ERROR` holds with a margin of four. tests/test_beta_inverse.py checks it on
dense grids, far tails included, for PERT shapes and others.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from netsim.cache_files import code_digest, entry_path, read_entry, store_entry
from netsim.kernels.beta_quantile import _start_table, exact_tail_quantile, log_density
from netsim.kernels.options import JIT_OPTIONS

__all__ = ["TABLE_ERROR", "BetaTable", "beta_table", "build_beta_table", "tabled_quantile"]

TABLE_ERROR = 1e-10  # stated relative error of a tabled quantile (x below the median, 1 - x above)
CHECKED_ERROR = TABLE_ERROR / 4  # what every interval's midpoint must meet when built
FIRST_NODES = 129  # nodes per half to start with; then as many as the error's h**4 law asks
MAX_NODES = 32_769  # beyond this (extreme shapes) the exact solver is used instead (a
# failed build then takes about 0.15 s)


@numba.njit(**JIT_OPTIONS)
def _hermite(position, values, slopes, spacing, table, half, nodes):  # pragma: no cover
    """The cubic Hermite interpolant at ``position`` (in nodes) of the equally spaced
    nodes ``values[table, half, :nodes]`` (slopes likewise, node spacing ``spacing``).

    Indexes the tables in place rather than taking views of them: a view per value
    costs a reference count, an atomic operation that threads sharing the tables
    contend for (measured: 84 ns a value on two threads in the sampling kernel)."""
    k = min(int(position), nodes - 2)
    t = position - k
    t2 = t * t
    t3 = t2 * t
    return (
        (2.0 * t3 - 3.0 * t2 + 1.0) * values[table, half, k]
        + (t3 - 2.0 * t2 + t) * spacing * slopes[table, half, k]
        + (3.0 * t2 - 2.0 * t3) * values[table, half, k + 1]
        + (t3 - t2) * spacing * slopes[table, half, k + 1]
    )


@numba.njit(**JIT_OPTIONS)
def tabled_quantile(u, a, b, spacing, values, slopes, table, nodes):  # pragma: no cover
    """Tabled beta quantile at one ``u`` from table ``table`` of ``nodes`` nodes a half
    (``spacing (T, 2)``, ``values`` and ``slopes (T, 2, >= nodes)``): half 0
    (``u <= 1/2``) in ``v = u**(1/a)``, half 1 in ``w = (1 - u)**(1/b)`` giving
    ``1 - x``. The sampling kernel calls it per draw, :func:`_table_kernel` per
    column: the same value either way."""
    if not (0.0 < u < 1.0):  # the ends, and NaN passed through
        return u if not (u < 0.0 or u > 1.0) else math.nan
    if u <= 0.5:
        v = u if a == 1.0 else math.exp(math.log(u) / a)
        step = spacing[table, 0]
        return _hermite(v / step, values, slopes, step, table, 0, nodes)
    tail = 1.0 - u  # exact for u > 1/2
    w = tail if b == 1.0 else math.exp(math.log(tail) / b)
    step = spacing[table, 1]
    return 1.0 - _hermite(w / step, values, slopes, step, table, 1, nodes)


@numba.njit(**JIT_OPTIONS)
def _table_kernel(u, a, b, spacing, values, slopes, out):  # pragma: no cover - compiled
    """:func:`tabled_quantile` at each ``u`` (one table: ``spacing (2,)``, ``values``
    and ``slopes (2, nodes)``). Serial and GIL-free, as the exact kernel: callers run
    columns on their own threads."""
    nodes = values.shape[1]
    spacing_2d = spacing.reshape((1, 2))
    values_3d = values.reshape((1, 2, nodes))
    slopes_3d = slopes.reshape((1, 2, nodes))
    for i in range(u.shape[0]):
        out[i] = tabled_quantile(u[i], a, b, spacing_2d, values_3d, slopes_3d, 0, nodes)


@numba.njit(**JIT_OPTIONS)
def _build_half(
    a, b, log_beta, n, table_log_p, start_log_x, values, slopes, midpoint_error
):  # pragma: no cover - compiled
    """Nodes of one half (``x`` of Beta(a, b) as a function of ``v = u**(1/a)`` on
    ``[0, 2**(-1/a)]``) and the largest relative error at the intervals' midpoints.

    Returns the node spacing in ``v``."""
    top = math.exp(-math.log(2.0) / a)
    spacing = top / (n - 1)
    # v = 0: x = 0, and dx/dv is the limit (a B(a, b))**(1/a)
    values[0] = 0.0
    slopes[0] = math.exp((math.log(a) + log_beta) / a)
    for k in range(1, n):
        v = k * spacing
        log_v = math.log(v)
        x = exact_tail_quantile(a, b, log_beta, a * log_v, table_log_p, start_log_x)
        values[k] = x
        # dx/dv = (du/dv) / f(x) = a v**(a - 1) / f(x)
        slopes[k] = math.exp(math.log(a) + (a - 1.0) * log_v - log_density(a, b, log_beta, x))
    worst = 0.0
    for k in range(n - 1):
        v = (k + 0.5) * spacing
        exact = exact_tail_quantile(a, b, log_beta, a * math.log(v), table_log_p, start_log_x)
        tabled = _hermite(
            k + 0.5, values.reshape((1, 1, n)), slopes.reshape((1, 1, n)), spacing, 0, 0, n
        )
        error = abs(tabled - exact) / exact
        if not error <= worst:  # also keeps a NaN
            worst = error
    midpoint_error[0] = worst
    return spacing


@dataclass(frozen=True)
class BetaTable:
    """The quantile table of one Beta(a, b) (both halves), or none where the check
    could not be met (then :meth:`ppf` solves exactly).

    Attributes
    ----------
    a, b : float
        Shape parameters (dimensionless), >= 1.
    nodes : int
        Nodes per half (0: no table, exact solver).
    checked_error : float
        Largest relative error found at the intervals' midpoints when built.
    """

    a: float
    b: float
    nodes: int
    checked_error: float
    spacing: np.ndarray  # (2,) node spacing of each half
    values: np.ndarray  # (2, nodes): x of the lower half, 1 - x of the upper
    slopes: np.ndarray  # (2, nodes): their derivatives in v (w)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles at ``u`` (ends 0 and 1 kept, anything outside [0, 1] NaN), within
        :data:`TABLE_ERROR` relative of the exact quantile (of ``1 - x`` above the median)."""
        u = np.asarray(u, dtype=np.float64)
        if not self.nodes:
            from netsim.kernels.beta_quantile import beta_ppf

            return beta_ppf(self.a, self.b, u)
        out = np.empty(u.size)
        flat = np.ascontiguousarray(u).ravel()
        _table_kernel(flat, self.a, self.b, self.spacing, self.values, self.slopes, out)
        return out.reshape(u.shape)


@functools.lru_cache(maxsize=1024)
def beta_table(a: float, b: float) -> BetaTable:
    """The checked quantile table of Beta(a, b), a, b >= 1 (built once per shape pair).

    Nodes per half start at :data:`FIRST_NODES` and grow (at least doubling) until every interval's
    midpoint is within :data:`CHECKED_ERROR` of the exact quantile (about 1 ms for a
    PERT's shapes); a shape that needs more than :data:`MAX_NODES` gets no table.

    A built table is kept in the ``beta_tables`` folder of
    :func:`netsim.defaults.cache_root` and read back, bit for bit, by a later process:
    building the 26 tables of the NET file took about 0.1 s of every ``netsim run`` (and
    scipy's ``betaincinv`` for the solver's starting points), reading them a few ms. An
    entry is keyed by the shapes, this module's and the exact solver's source and the
    numpy, scipy and numba versions, and carries the SHA-256 of its content: one that
    does not match is built anew, never trusted.
    """
    a, b = _shapes(a, b)
    path = _stored_path(a, b)
    table = _read_table(path, a, b)
    if table is None:
        table = build_beta_table(a, b)
        _store_table(path, table)
    return table


def build_beta_table(a: float, b: float) -> BetaTable:
    """:func:`beta_table` built here and now (the cache neither read nor written)."""
    a, b = _shapes(a, b)
    table_log_p, lower_log_x, upper_log_y, log_beta = _start_table(a, b)
    n = FIRST_NODES
    error = np.zeros(1)
    while n <= MAX_NODES:
        values, slopes, spacing = np.empty((2, n)), np.empty((2, n)), np.empty(2)
        spacing[0] = _build_half(
            a, b, log_beta, n, table_log_p, lower_log_x, values[0], slopes[0], error
        )
        lower_error = error[0]
        spacing[1] = _build_half(
            b, a, log_beta, n, table_log_p, upper_log_y, values[1], slopes[1], error
        )
        worst = max(lower_error, error[0])
        if lower_error <= CHECKED_ERROR and error[0] <= CHECKED_ERROR:  # False for NaN
            return BetaTable(a, b, n, float(worst), spacing, values, slopes)
        if not math.isfinite(worst):
            break  # the exact quantile itself breaks down (shapes near 1e17): no table
        # a cubic Hermite's error falls as spacing**4: aim at the check with a margin,
        # at least doubling
        n = max(2 * n - 1, int((n - 1) * 1.25 * (worst / CHECKED_ERROR) ** 0.25) + 1)
    return BetaTable(a, b, 0, math.nan, np.zeros(2), np.zeros((2, 0)), np.zeros((2, 0)))


def _shapes(a: float, b: float) -> tuple[float, float]:
    """The shapes as floats; below 1 (or NaN) a ValueError (no table: the exact solver)."""
    a, b = float(a), float(b)
    if not (a >= 1.0 and b >= 1.0):
        raise ValueError(f"beta_table needs shapes >= 1, got a={a}, b={b}")
    return a, b


def _stored_path(a: float, b: float) -> Path | None:
    """The cache file of Beta(a, b)'s table, or None (no cache)."""
    return entry_path("beta_tables", [float.hex(a), float.hex(b), _code_digest()], ".bin")


@functools.cache
def _code_digest() -> str:
    """SHA-256 of the sources that build a table and the libraries' versions."""
    here = Path(__file__)
    return code_digest((here, here.with_name("beta_quantile.py")), ("numpy", "scipy", "numba"))


def _read_table(path: Path | None, a: float, b: float) -> BetaTable | None:
    """The stored table, or None (no cache, no entry, or one whose digest or layout
    does not hold)."""
    body = read_entry(path)
    if body is None or len(body) % 8:
        return None
    numbers = np.frombuffer(body, dtype=np.float64)
    nodes = int(numbers[0]) if numbers.size and math.isfinite(numbers[0]) else -1
    if nodes < 0 or numbers.size != 4 + 4 * nodes:
        return None
    values = numbers[4 : 4 + 2 * nodes].reshape(2, nodes).copy()
    slopes = numbers[4 + 2 * nodes :].reshape(2, nodes).copy()
    return BetaTable(a, b, nodes, float(numbers[1]), numbers[2:4].copy(), values, slopes)


def _store_table(path: Path | None, table: BetaTable) -> None:
    """Keep a table (atomically, with its SHA-256); skipped when there is no cache."""
    head = np.array([table.nodes, table.checked_error, *table.spacing], dtype=np.float64)
    store_entry(
        path,
        b"".join(np.ascontiguousarray(p).tobytes() for p in (head, table.values, table.slopes)),
    )
