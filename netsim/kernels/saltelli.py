"""The sums of Saltelli's Sobol estimators, per block of consecutive design rows."""

from __future__ import annotations

import numba
from numba import prange

from netsim.kernels.options import JIT_OPTIONS

__all__ = [
    "MOMENTS",
    "saltelli_base_sums_kernel",
    "saltelli_group_kernel",
]

# the products :func:`saltelli_group_kernel` sums for the moments, in its order
MOMENTS = ("uu", "ww", "uw", "up", "us", "wp", "ws", "qq", "qp", "qs")


# cells a task of :func:`saltelli_base_sums_kernel` owns: its accumulators (7 rows of 64
# float64) stay in L1 while every design row passes
BASE_CELLS_PER_TASK = 64


@numba.njit(parallel=True, **JIT_OPTIONS)
def saltelli_base_sums_kernel(
    centred_a, centred_b, sum_a, sum_b, squares_a, squares_b, base_moments
):  # pragma: no cover - compiled
    """The base matrices' sums in one pass over their centred outputs.

    Per block ``r`` of consecutive rows and cell ``c``: ``sum_a[r, c] = sum(a)``,
    ``sum_b = sum(b)``, ``squares_a = sum(a * a)``, ``squares_b = sum(b * b)``; over every
    row, with ``p = (a + b) / 2`` and ``s = (a * a + b * b) / 2``: ``base_moments[0] =
    sum(p * p)``, ``[1] = sum(s * s)``, ``[2] = sum(p * s)``. Each sum adds its rows in
    order, as numpy's reduction over a leading axis does, so the sums are numpy's to the
    bit (tests/test_sensitivity.py); numpy took 11 passes over ``(rows, cells)`` and six
    temporaries (measured at n = 4,096 and 210 cells: the base's sums took 19 to 24 ms
    with numpy, 10 ms with this kernel, centring included). Parallel
    over groups of :data:`BASE_CELLS_PER_TASK` cells, each task owning its cells' sums.

    Parameters
    ----------
    centred_a, centred_b : ndarray (rows, cells), float64
    sum_a, sum_b, squares_a, squares_b : ndarray (blocks, cells), overwritten
    base_moments : ndarray (3, cells), overwritten
    """
    blocks, cells = sum_a.shape
    rows = centred_a.shape[0] // blocks
    tasks = (cells + BASE_CELLS_PER_TASK - 1) // BASE_CELLS_PER_TASK
    for task in prange(tasks):
        first = task * BASE_CELLS_PER_TASK
        last = min(cells, first + BASE_CELLS_PER_TASK)
        for c in range(first, last):
            base_moments[0, c] = 0.0
            base_moments[1, c] = 0.0
            base_moments[2, c] = 0.0
        for r in range(blocks):
            for c in range(first, last):
                sum_a[r, c] = 0.0
                sum_b[r, c] = 0.0
                squares_a[r, c] = 0.0
                squares_b[r, c] = 0.0
            for i in range(r * rows, (r + 1) * rows):
                for c in range(first, last):
                    a = centred_a[i, c]
                    b = centred_b[i, c]
                    sum_a[r, c] += a
                    sum_b[r, c] += b
                    squares_a[r, c] += a * a
                    squares_b[r, c] += b * b
                    p = 0.5 * (a + b)
                    s = 0.5 * (a * a + b * b)
                    base_moments[0, c] += p * p
                    base_moments[1, c] += s * s
                    base_moments[2, c] += p * s


@numba.njit(parallel=True, **JIT_OPTIONS)
def saltelli_group_kernel(
    centred_a, centred_b, f_ab, center, first_sum, difference_sum, total_sum, moments
):  # pragma: no cover - compiled
    """One group's estimator sums and the moments of its row terms, in one pass over its
    outputs, block by block.

    With ``D = (f_ab - center) - centred_a`` (exactly 0 where the group changes nothing),
    over the rows of block ``r`` (rows ``r * m .. (r + 1) * m - 1``):
    ``first_sum[r] = sum(centred_b D)``, ``difference_sum[r] = sum(D)``, ``total_sum[r] =
    sum(D**2)``; and, for the estimators' iid-row variance, with per row ``u = centred_b
    D``, ``w = D``, ``q = D**2 / 2``, ``p = (centred_a + centred_b) / 2`` and ``s =
    (centred_a**2 + centred_b**2) / 2``, ``moments[r, k, c]`` is the sum of the ``k``-th
    product of :data:`MOMENTS` (``uu``, ``ww``, ``uw``, ``up``, ``us``, ``wp``, ``ws``,
    ``qq``, ``qp``, ``qs``).

    One pass instead of numpy's many passes over ``(rows, cells)`` arrays and their
    temporaries (measured: 10 ms a group at n = 4,096 and 210 cells against about 1 ms),
    and one instead of two kernels reading the same three arrays. The blocks run in
    parallel: each writes its own rows of the sums and adds its rows in order, so the
    sums are the same whatever the threads. Guarded by tests/test_sensitivity.py (against
    numpy's sums of the same products).

    Parameters
    ----------
    centred_a, centred_b, f_ab : ndarray (rows, cells), float64
    center : ndarray (cells,)
    first_sum, difference_sum, total_sum : ndarray (blocks, cells), overwritten
    moments : ndarray (blocks, 10, cells), overwritten
    """
    blocks, cells = first_sum.shape
    rows = centred_a.shape[0] // blocks
    for r in prange(blocks):
        for c in range(cells):
            first_sum[r, c] = 0.0
            difference_sum[r, c] = 0.0
            total_sum[r, c] = 0.0
        for k in range(10):
            for c in range(cells):
                moments[r, k, c] = 0.0
        for i in range(r * rows, (r + 1) * rows):
            for c in range(cells):
                a = centred_a[i, c]
                b = centred_b[i, c]
                d = (f_ab[i, c] - center[c]) - a
                first_sum[r, c] += b * d
                difference_sum[r, c] += d
                total_sum[r, c] += d * d
                u = b * d
                q = 0.5 * d * d
                p = 0.5 * (a + b)
                s = 0.5 * (a * a + b * b)
                moments[r, 0, c] += u * u
                moments[r, 1, c] += d * d
                moments[r, 2, c] += u * d
                moments[r, 3, c] += u * p
                moments[r, 4, c] += u * s
                moments[r, 5, c] += d * p
                moments[r, 6, c] += d * s
                moments[r, 7, c] += q * q
                moments[r, 8, c] += q * p
                moments[r, 9, c] += q * s
