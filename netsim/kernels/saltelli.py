"""The sums of Saltelli's Sobol estimators, per block of consecutive design rows."""

from __future__ import annotations

import numba
from numba import prange

from netsim.kernels.options import JIT_OPTIONS

__all__ = ["saltelli_group_sums_kernel"]


@numba.njit(parallel=True, **JIT_OPTIONS)
def saltelli_group_sums_kernel(
    centred_a, centred_b, f_ab, center, first_sum, difference_sum, total_sum
):  # pragma: no cover - compiled
    """One group's sums in one pass over its outputs, block by block.

    With ``D = (f_ab - center) - centred_a`` (exactly 0 where the group changes nothing):
    ``first_sum[r] = sum(centred_b D)``, ``difference_sum[r] = sum(D)``, ``total_sum[r] =
    sum(D**2)`` over the rows of block ``r`` (rows ``r * m .. (r + 1) * m - 1``).

    One pass instead of numpy's five passes over ``(rows, cells)`` arrays and three
    temporaries: measured 10 ms a group at n = 4,096 and 210 cells against about 1 ms
    here. The blocks run in parallel: each writes its own row of the sums and adds its
    rows in order, so the sums are the same whatever the threads. Guarded by
    tests/test_sensitivity.py (the kernel against numpy's sums).

    Parameters
    ----------
    centred_a, centred_b, f_ab : ndarray (rows, cells), float64
    center : ndarray (cells,)
    first_sum, difference_sum, total_sum : ndarray (blocks, cells), overwritten
    """
    blocks, cells = first_sum.shape
    rows = centred_a.shape[0] // blocks
    for r in prange(blocks):
        for c in range(cells):
            first_sum[r, c] = 0.0
            difference_sum[r, c] = 0.0
            total_sum[r, c] = 0.0
        for i in range(r * rows, (r + 1) * rows):
            for c in range(cells):
                d = (f_ab[i, c] - center[c]) - centred_a[i, c]
                first_sum[r, c] += centred_b[i, c] * d
                difference_sum[r, c] += d
                total_sum[r, c] += d * d
