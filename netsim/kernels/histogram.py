"""Per-cell histograms of draws: the mergeable summaries of reduced runs."""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from netsim.kernels.options import JIT_OPTIONS
from netsim.kernels.quantiles import ROWS_PER_TILE

__all__ = ["CELLS_PER_BLOCK", "histogram_kernel"]

# cells per gathered block: a chunk's block (32 x chunk draws, float64, 4 MB for the
# default chunk) stays in the last-level cache while each cell is binned
CELLS_PER_BLOCK = 32


@numba.njit(parallel=True, **JIT_OPTIONS)
def histogram_kernel(  # pragma: no cover - compiled
    data, low, inverse_width, log_scale, counts, minimum, maximum, n_tasks
):
    """Add the rows of ``data`` (draws, cells) to per-cell histograms.

    ``counts`` has shape (cells, bins + 2): underflow, the bins, overflow.
    Parallel over blocks of cells, each task owning its cells' counts: a block
    of columns is gathered, then each cell's values are binned against its own
    counts row, which stays in L1.
    """
    n, m = data.shape
    n_bins = counts.shape[1] - 2
    n_blocks = (m + CELLS_PER_BLOCK - 1) // CELLS_PER_BLOCK
    n_tasks = max(1, min(n_blocks, n_tasks))
    for task in prange(n_tasks):
        column = np.empty((CELLS_PER_BLOCK, n), dtype=data.dtype)
        for block in range(task, n_blocks, n_tasks):
            first = block * CELLS_PER_BLOCK
            last = min(m, first + CELLS_PER_BLOCK)
            # in tiles of rows, as the bands kernel does: each cell's values are copied
            # out in contiguous runs while the tile's lines stay in cache
            for tile in range(0, n, ROWS_PER_TILE):
                tile_end = min(n, tile + ROWS_PER_TILE)
                for j in range(first, last):
                    target = column[j - first]
                    for i in range(tile, tile_end):
                        target[i] = data[i, j]
            for j in range(first, last):
                values = column[j - first]
                row = counts[j]
                lowest, highest = minimum[j], maximum[j]
                start, scale = low[j], inverse_width[j]
                logarithmic = log_scale[j]
                for i in range(n):
                    x = values[i]
                    lowest = min(lowest, x)
                    highest = max(highest, x)
                    if logarithmic:
                        position = (np.log(x) - start) * scale if x > 0.0 else -1.0
                    else:
                        position = (x - start) * scale
                    if position < 0.0:
                        row[0] += 1
                    elif position >= n_bins:
                        row[n_bins + 1] += 1
                    else:
                        row[int(position) + 1] += 1
                minimum[j], maximum[j] = lowest, highest
