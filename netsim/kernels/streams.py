"""Keyed random streams: SplitMix64 evaluated at a draw index, for many keys at once."""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from netsim.kernels.options import JIT_OPTIONS

__all__ = ["keyed_uniforms_kernel"]


@numba.njit(parallel=True, **JIT_OPTIONS)
def keyed_uniforms_kernel(keys, start, out):  # pragma: no cover - compiled
    """Uniforms of several keyed streams, draws ``start .. start + len(out)``.

    ``out[i, j]`` is output ``start + i`` of SplitMix64 seeded with ``keys[j]``, the
    53 high bits centred in their interval: the same integer operations as
    :func:`netsim.sampling.uniforms.keyed_uniforms`, so the same values bit for bit.

    Parameters
    ----------
    keys : ndarray of uint64, shape (P,)
    start : uint64
        Index of the first draw.
    out : ndarray of float64, shape (n, P)
    """
    golden = np.uint64(0x9E3779B97F4A7C15)
    mix_1 = np.uint64(0xBF58476D1CE4E5B9)
    mix_2 = np.uint64(0x94D049BB133111EB)
    scale = 1.0 / 2.0**53
    for i in prange(out.shape[0]):
        counter = (start + np.uint64(i) + np.uint64(1)) * golden
        for j in range(keys.shape[0]):
            z = keys[j] + counter
            z = (z ^ (z >> np.uint64(30))) * mix_1
            z = (z ^ (z >> np.uint64(27))) * mix_2
            z = z ^ (z >> np.uint64(31))
            out[i, j] = (np.float64(z >> np.uint64(11)) + 0.5) * scale
