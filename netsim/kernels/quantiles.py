"""Exact quantiles over the draws of every cell, by histogram selection."""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from netsim.kernels.options import JIT_OPTIONS

__all__ = ["CELLS_PER_BLOCK", "ROWS_PER_TILE", "quantile_kernel"]


@numba.njit(**JIT_OPTIONS)
def _lerp(low, high, fraction):  # pragma: no cover - compiled
    # numpy's linear interpolation, the same operations in the same order
    # (numpy.lib._function_base_impl._lerp), so results match np.quantile.
    difference = high - low
    if fraction >= 0.5:
        return high - difference * (1.0 - fraction)
    return low + difference * fraction


@numba.njit(**JIT_OPTIONS)
def _column_quantiles(
    column, lowest, highest, positions, out, counts, marker, buffer
):  # pragma: no cover
    """Exact quantiles of one column by histogram selection (two passes, then small sorts).

    ``lowest`` and ``highest`` are the column's extremes. The bin of a value is a
    monotone function of it, so the k-th smallest value lies in the bin where the
    cumulative count passes k; only those bins' values are sorted.
    """
    n = column.shape[0]
    if not (highest > lowest):  # constant column (or NaN present: handled by caller)
        for j in range(positions.shape[0]):
            out[j] = lowest
        return
    n_bins = counts.shape[0]
    bin_scale = n_bins / (highest - lowest)
    counts[:] = 0
    for i in range(n):
        b = int((column[i] - lowest) * bin_scale)
        if b >= n_bins:
            b = n_bins - 1
        counts[b] += 1
    # the ranks needed, and the bins that hold them
    n_positions = positions.shape[0]
    ranks = np.empty(2 * n_positions, dtype=np.int64)
    for j in range(n_positions):
        k = int(np.floor(positions[j]))
        ranks[2 * j] = k
        ranks[2 * j + 1] = min(k + 1, n - 1)
    rank_bin = np.empty(ranks.shape[0], dtype=np.int64)
    rank_before = np.empty(ranks.shape[0], dtype=np.int64)
    marker[:] = -1
    n_marked = 0
    bin_offset = np.empty(ranks.shape[0] + 1, dtype=np.int64)
    bin_offset[0] = 0
    marked_bins = np.empty(ranks.shape[0], dtype=np.int64)
    for j in range(ranks.shape[0]):
        cumulative = 0
        b = 0
        while cumulative + counts[b] <= ranks[j]:
            cumulative += counts[b]
            b += 1
        rank_bin[j] = b
        rank_before[j] = cumulative
        if marker[b] < 0:
            marker[b] = n_marked
            marked_bins[n_marked] = b
            bin_offset[n_marked + 1] = bin_offset[n_marked] + counts[b]
            n_marked += 1
    fill = bin_offset[:n_marked].copy()
    for i in range(n):
        x = column[i]
        b = int((x - lowest) * bin_scale)
        if b >= n_bins:
            b = n_bins - 1
        slot = marker[b]
        if slot >= 0:
            buffer[fill[slot]] = x
            fill[slot] += 1
    for slot in range(n_marked):
        buffer[bin_offset[slot] : bin_offset[slot + 1]].sort()
    for j in range(n_positions):
        low_rank, high_rank = 2 * j, 2 * j + 1
        slot = marker[rank_bin[low_rank]]
        low = buffer[bin_offset[slot] + ranks[low_rank] - rank_before[low_rank]]
        slot = marker[rank_bin[high_rank]]
        high = buffer[bin_offset[slot] + ranks[high_rank] - rank_before[high_rank]]
        out[j] = _lerp(low, high, positions[j] - np.floor(positions[j]))
    for slot in range(n_marked):
        marker[marked_bins[slot]] = -1


@numba.njit(**JIT_OPTIONS)
def _sorted_quantiles(column, positions, out):  # pragma: no cover - compiled
    """Quantiles of a sorted column (numpy's interpolation between neighbours)."""
    n = column.shape[0]
    for p in range(positions.shape[0]):
        k = int(np.floor(positions[p]))
        low = np.float64(column[k])
        high = np.float64(column[min(k + 1, n - 1)])
        out[p] = _lerp(low, high, positions[p] - np.floor(positions[p]))


# cells gathered per pass over the draws, copied out in tiles of rows: a tile (256 rows x
# 32 cells) stays in cache while each cell's run is copied, and a block's scratch (32 x
# draws) stays in the last-level cache for the selection passes. 30 % faster than
# gathering 64 cells a row at a time (benchmarks/run.py; 16 to 64 cells and 256 to 1024
# rows measured within noise of each other)
CELLS_PER_BLOCK = 32
ROWS_PER_TILE = 256


@numba.njit(parallel=True, **JIT_OPTIONS)
def quantile_kernel(data, positions, n_tasks, out, has_nan):  # pragma: no cover - compiled
    """Quantiles over the first axis of a 2-D array, per column.

    Parameters
    ----------
    data : ndarray, shape (n, m), C-contiguous, float32 or float64
        ``n`` draws of ``m`` cells. A column holding NaN or infinities is sorted
        instead of binned (numpy's results, infinities included).
    positions : ndarray, shape (q,)
        Fractional ranks ``q * (n - 1)``, as numpy's ``linear`` method.
    n_tasks : int
        Parallel tasks, each with its own scratch arrays (``CELLS_PER_BLOCK * n``
        values of ``data``'s type and ``n`` float64).
    out : ndarray, shape (q, m), float64
        The quantiles.
    has_nan : ndarray of bool, shape (m,)
        Set where a column holds NaN (its quantiles are undefined: the caller raises).
    """
    n, m = data.shape
    n_blocks = (m + CELLS_PER_BLOCK - 1) // CELLS_PER_BLOCK
    n_tasks = max(1, min(n_blocks, n_tasks))
    for task in prange(n_tasks):
        block_column = np.empty((CELLS_PER_BLOCK, n), dtype=data.dtype)
        lowest = np.empty(CELLS_PER_BLOCK, dtype=data.dtype)
        highest = np.empty(CELLS_PER_BLOCK, dtype=data.dtype)
        nonfinite = np.empty(CELLS_PER_BLOCK, dtype=np.int64)
        counts = np.empty(4096, dtype=np.int64)
        marker = np.empty(4096, dtype=np.int64)
        buffer = np.empty(n, dtype=np.float64)
        result = np.empty(positions.shape[0])
        for block in range(task, n_blocks, n_tasks):
            first = block * CELLS_PER_BLOCK
            width = min(m, first + CELLS_PER_BLOCK) - first
            # gather a block of columns, one pass over the rows, keeping each one's extremes
            for j in range(width):
                lowest[j] = data[0, first + j]
                highest[j] = data[0, first + j]
                nonfinite[j] = 0
            # in tiles of rows: a tile's lines stay in cache while each column's
            # values are copied out in one contiguous run (a row at a time would write
            # CELLS_PER_BLOCK scattered streams)
            for tile in range(0, n, ROWS_PER_TILE):
                tile_end = min(n, tile + ROWS_PER_TILE)
                for j in range(width):
                    column = block_column[j]
                    low_j, high_j = lowest[j], highest[j]
                    nonfinite_j = nonfinite[j]
                    for i in range(tile, tile_end):
                        x = data[i, first + j]
                        column[i] = x
                        low_j = min(low_j, x)
                        high_j = max(high_j, x)
                        nonfinite_j += (x - x) != 0.0  # NaN and infinities
                    lowest[j], highest[j], nonfinite[j] = low_j, high_j, nonfinite_j
            for j in range(width):
                has_nan[first + j] = False
                if nonfinite[j] > 0:  # no bins: sort (NaN sorts last)
                    column = block_column[j]
                    column.sort()
                    has_nan[first + j] = column[n - 1] != column[n - 1]
                    _sorted_quantiles(column, positions, out[:, first + j])
                    continue
                _column_quantiles(
                    block_column[j],
                    np.float64(lowest[j]),
                    np.float64(highest[j]),
                    positions,
                    result,
                    counts,
                    marker,
                    buffer,
                )
                for p in range(positions.shape[0]):
                    out[p, first + j] = result[p]
