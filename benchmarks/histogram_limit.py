"""The streaming-histogram micro-benchmark the reduce path's fold is measured against.

One cell's values, contiguous float64, binned into 4,096 int32 counts that stay in the
core's L1 cache: the least a histogram increment costs on this machine (a read-modify-
write at a data-dependent address), against which the fold's nanoseconds a value (which
also gathers each cell's values out of the draw-major cube and keeps its extremes) are
read.
"""

from __future__ import annotations

import statistics
import time

import numba
import numpy as np

from netsim.kernels.options import JIT_OPTIONS


@numba.njit(**JIT_OPTIONS)
def stream_into_histogram(values, low, scale, counts):  # pragma: no cover - compiled
    """Bin ``values`` into ``counts`` (underflow, bins, overflow), as the fold bins a cell."""
    n_bins = counts.shape[0] - 2
    for i in range(values.shape[0]):
        position = (values[i] - low) * scale
        if not position >= 0.0:
            counts[0] += 1
        elif position >= n_bins:
            counts[n_bins + 1] += 1
        else:
            counts[int(position) + 1] += 1


def nanoseconds_a_value(repeat: int = 5, values: int = 4_000_000, bins: int = 4096) -> float:
    """Median nanoseconds a value of the micro-benchmark on one core: lognormal values
    spread over the bins' middle half, as a cell's draws are over its pilot's margins."""
    data = np.random.default_rng(0).lognormal(5.0, 0.1, values)
    low, high = data.min(), data.max()
    span = high - low
    low, scale = low - 0.5 * span, bins / (2.0 * span)
    counts = np.zeros(bins + 2, dtype=np.int32)
    stream_into_histogram(data[:10], low, scale, counts)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        stream_into_histogram(data, low, scale, counts)
        times.append(time.perf_counter() - started)
    return statistics.median(times) / values * 1e9
