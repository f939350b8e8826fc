"""Sampling ``inputs[draw, parameter]`` in one pass over the draws: uniforms, the
Gaussian copula and the inverse CDFs, a draw at a time in registers.

The same values, bit for bit, as the step-by-step path (keyed uniforms, then
``scipy.special.ndtri``/``ndtr`` for the copula, then each distribution's ``ppf``):
each step is the same IEEE operations in the same order (:mod:`netsim.kernels.normal`
for the normal's functions, :func:`netsim.kernels.beta_table.tabled_quantile` for the
PERT's). That path made one numpy pass over memory per step and column, read and
wrote columns of a (draws, parameters) matrix at a stride, and spent Python calls
per column and block: 38 ns a value against 1 to 20 ns of arithmetic.

Distribution kinds the kernel does not compute (``FALLBACK``: truncated normal, a PERT
without a table) get their correlated uniforms written, and the caller applies their
``ppf`` to those columns afterwards. A lognormal's ``ppf`` is ``exp(sigma * ndtri(u)) *
median`` with numpy's ``exp`` (not libm's to the bit): the kernel writes ``sigma *
ndtri(u)`` and the caller takes numpy's ``exp`` of the column and multiplies
(:meth:`netsim.sampling.columns.KernelColumns.finish`), the same operations as ``ppf``.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from netsim.kernels.beta_table import tabled_quantile
from netsim.kernels.normal import normal_cdf, normal_quantile
from netsim.kernels.options import JIT_OPTIONS

__all__ = [
    "BERNOULLI",
    "DISCRETE",
    "FALLBACK",
    "FIXED",
    "LOGNORMAL",
    "NORMAL",
    "PERT",
    "ROWS_PER_BLOCK",
    "TRIANGULAR",
    "UNIFORM",
    "sample_kernel",
    "sample_serial_kernel",
]

# kind codes of the columns (and what ``parameters[j]`` holds for each)
FALLBACK = 0  # nothing: the caller's ppf
FIXED = 1  # value
UNIFORM = 2  # low, high - low
TRIANGULAR = 3  # low, high - low, c = (mode - low) / width, 1 - c
PERT = 4  # low, high - low, alpha, beta (its table: index[j])
NORMAL = 5  # mean, sd
BERNOULLI = 6  # 1 - p
DISCRETE = 7  # nothing (its cumulative weights and values: index[j])
LOGNORMAL = 8  # sigma: the kernel writes sigma * ndtri(u), the caller exp() * median

# draws per parallel task: a task's scratch is one row, so this only sets how finely
# the draws are shared out (100 tasks for 100,000 draws)
ROWS_PER_BLOCK = 1024

_SMALLEST_UNIFORM = 2.0**-54  # netsim.scenario.distributions.SMALLEST_UNIFORM
_LARGEST_UNIFORM = 1.0 - 2.0**-53  # and LARGEST_UNIFORM


@numba.njit(**JIT_OPTIONS)
def _keyed_row(keys, draw, row):  # pragma: no cover - compiled
    """``row[j]``: output ``draw`` of SplitMix64 keyed by ``keys[j]`` (the operations of
    :func:`netsim.kernels.streams.keyed_uniforms_kernel`)."""
    counter = (draw + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    for j in range(keys.shape[0]):
        z = keys[j] + counter
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        row[j] = (np.float64(z >> np.uint64(11)) + 0.5) * (1.0 / 2.0**53)


@numba.njit(**JIT_OPTIONS)
def _copula_row(row, columns, factor, normal):  # pragma: no cover - compiled
    """Replace the correlated columns of one draw by their correlated uniforms: normal
    scores of all of them first, then each one's product with the factor in column
    order, back through the normal's CDF, clipped into the samplers' open interval (as
    :func:`netsim.sampling.copula.correlated_column`)."""
    for k in range(columns.shape[0]):
        normal[k] = normal_quantile(row[columns[k]])
    for k in range(columns.shape[0]):
        score = normal[0] * factor[k, 0]
        for m in range(1, columns.shape[0]):
            score += normal[m] * factor[k, m]
        row[columns[k]] = min(max(normal_cdf(score), _SMALLEST_UNIFORM), _LARGEST_UNIFORM)


@numba.njit(**JIT_OPTIONS)
def _discrete_value(u, sizes, cumulative, values, d):  # pragma: no cover - compiled
    """The first value of discrete distribution ``d`` whose cumulative weight is >= u
    (numpy's searchsorted, side left)."""
    k = 0
    while k < sizes[d] - 1 and cumulative[d, k] < u:
        k += 1
    return values[d, k]


@numba.njit(**JIT_OPTIONS)
def _sample_rows(
    first, last, keys, start, uniforms, keep, columns, copula, inputs
):  # pragma: no cover
    """Draws ``first .. last`` of ``inputs`` (see :func:`sample_kernel`). Each column's
    inverse CDF is its kind's ``ppf``, the same operations in the same order. Arrays
    are indexed in place, never sliced per value (a view costs an atomic reference
    count that the threads contend for)."""
    kinds, parameters, index, tables, discrete = columns
    nodes, spacing, values, slopes = tables
    sizes, cumulative, discrete_values = discrete
    correlated, factor = copula
    row = np.empty(kinds.shape[0])
    normal = np.empty(correlated.shape[0])
    for i in range(first, last):
        if keys.shape[0]:
            _keyed_row(keys, start + np.uint64(i), row)
        else:
            for j in range(kinds.shape[0]):
                row[j] = uniforms[i, j]
        if correlated.shape[0]:
            _copula_row(row, correlated, factor, normal)
        if keep:
            for j in range(kinds.shape[0]):
                uniforms[i, j] = row[j]
        for j in range(kinds.shape[0]):
            u, kind = row[j], kinds[j]
            if kind == FIXED:
                value = parameters[j, 0]
            elif kind == UNIFORM:
                value = u * parameters[j, 1] + parameters[j, 0]
            elif kind == TRIANGULAR:
                c = parameters[j, 2]
                standard = np.sqrt(c * u) if u < c else 1 - np.sqrt(parameters[j, 3] * (1 - u))
                value = standard * parameters[j, 1] + parameters[j, 0]
            elif kind == PERT:
                t = index[j]
                a, b = parameters[j, 2], parameters[j, 3]
                standard = tabled_quantile(u, a, b, spacing, values, slopes, t, nodes[t])
                value = standard * parameters[j, 1] + parameters[j, 0]
            elif kind == NORMAL:
                value = parameters[j, 0] + parameters[j, 1] * normal_quantile(u)
            elif kind == BERNOULLI:
                value = 1.0 if u > parameters[j, 0] else 0.0
            elif kind == DISCRETE:
                value = _discrete_value(u, sizes, cumulative, discrete_values, index[j])
            elif kind == LOGNORMAL:
                value = parameters[j, 0] * normal_quantile(u)
            else:  # FALLBACK: the caller's ppf
                value = np.nan
            inputs[i, j] = value


@numba.njit(parallel=True, **JIT_OPTIONS)
def sample_kernel(keys, start, uniforms, keep, columns, copula, inputs):  # pragma: no cover
    """Sample ``inputs[draw, parameter]``, parallel over blocks of draws.

    Parameters
    ----------
    keys : ndarray of uint64, shape (P,) or (0,)
        Each column's SplitMix64 key (the ``mc`` sampler): the uniforms are made here,
        draws ``start .. start + n``. Empty: they are read from ``uniforms``.
    start : uint64
        Index of the first draw in the run.
    uniforms : ndarray of float64, shape (n, P), or (0, P) when neither read nor kept
    keep : bool
        Write each draw's uniforms (after the copula) into ``uniforms``.
    columns : tuple
        ``(kinds, parameters, index, tables, discrete)``
        (:class:`netsim.sampling.columns.KernelColumns`): each column's kind code
        (int64 (P,), :data:`FIXED` ...), its numbers (float64 (P, 4), as the kind
        code's comment lists them), its PERT table's or discrete distribution's row
        (int64 (P,)); the PERT tables ``(nodes (T,), spacing (T, 2), values (T, 2, M),
        slopes (T, 2, M))`` padded to ``M`` nodes, the discrete distributions ``(sizes
        (D,), cumulative (D, K), values (D, K))`` padded to ``K``.
    copula : tuple
        ``(columns (k,) int64, factor (k, k))``: the correlated columns and the
        copula's factor (``k = 0``: no copula).
    inputs : ndarray of float64, shape (n, P)
        Written; FALLBACK columns get NaN, LOGNORMAL ones ``sigma * ndtri(u)`` (the
        caller takes their ``exp`` and multiplies by the median).
    """
    n = inputs.shape[0]
    n_blocks = (n + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    # the parallel loop's body takes flat tuples of arrays only (numba's parfors refuse a
    # tuple holding tuples): unpacked here, packed again per block
    kinds, parameters, index, tables, discrete = columns
    for block in prange(n_blocks):
        first = block * ROWS_PER_BLOCK
        last = min(n, first + ROWS_PER_BLOCK)
        block_columns = (kinds, parameters, index, tables, discrete)
        _sample_rows(first, last, keys, start, uniforms, keep, block_columns, copula, inputs)


@numba.njit(**JIT_OPTIONS)
def sample_serial_kernel(keys, start, uniforms, keep, columns, copula, inputs):  # pragma: no cover
    """:func:`sample_kernel` on one thread (the same values), for a chunk so small that
    waking the threads costs more than its work."""
    _sample_rows(0, inputs.shape[0], keys, start, uniforms, keep, columns, copula, inputs)
