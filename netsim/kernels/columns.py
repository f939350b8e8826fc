"""Columns of the input matrix gathered into the kernels' per-draw arrays."""

from __future__ import annotations

import numba
from numba import prange

from netsim.kernels.options import JIT_OPTIONS

__all__ = ["gather_columns_kernel"]


@numba.njit(parallel=True, **JIT_OPTIONS)
def gather_columns_kernel(inputs, columns, divisor, out):  # pragma: no cover - compiled
    """``out[i, k] = inputs[i, columns[k]] / divisor`` (a division, as numpy's: the same
    float as ``inputs[:, columns] / divisor``), parallel over draws.

    One pass instead of numpy's gather, then divide, then copy: a third of the time
    converting a chunk's inputs took.
    """
    for i in prange(inputs.shape[0]):
        for k in range(columns.shape[0]):
            out[i, k] = inputs[i, columns[k]] / divisor
