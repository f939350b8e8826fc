"""The benchmark's measure of this machine's memory write bandwidth, as a kernel reaches it."""

from __future__ import annotations

import numba
from numba import prange

from netsim.kernels.options import JIT_OPTIONS

__all__ = ["fill_kernel"]


@numba.njit(parallel=True, **JIT_OPTIONS)
def fill_kernel(out, value):  # pragma: no cover - compiled
    """Write ``value`` into every element of a 2-D array, in parallel over rows."""
    for i in prange(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = value
