"""Per-cell histograms of draws: the mergeable summaries of reduced runs."""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from netsim.kernels.options import JIT_OPTIONS
from netsim.kernels.quantiles import ROWS_PER_TILE

__all__ = ["CELLS_PER_BLOCK", "LOG_KEY_SCALE", "histogram_kernel"]

# cells per gathered block: a chunk's block (32 x chunk draws, float64, 4 MB for the
# default chunk) stays in the last-level cache while each cell is binned
CELLS_PER_BLOCK = 32
# a positive float64's bits, read as an integer and times this, are 1023 + log2(x) to
# within 0.09 (exact at powers of two, linear between them): the logarithmic bins' key,
# monotone and continuous, for one conversion instead of a log (measured: the log was
# over half of the fold's time on the patient-based outputs)
LOG_KEY_SCALE = 2.0**-52


@numba.njit(parallel=True, **JIT_OPTIONS)
def histogram_kernel(  # pragma: no cover - compiled
    data, low, inverse_width, log_scale, counts, minimum, maximum, n_tasks
):
    """Add the rows of ``data`` (draws, cells) to per-cell histograms.

    ``counts`` has shape (cells, bins + 2): underflow, the bins, overflow. A cell's bins
    are uniform in its value, or for ``log_scale`` cells in the log key (the float64
    value's bits times :data:`LOG_KEY_SCALE`).
    Parallel over blocks of cells, each task owning its cells' counts: a block
    of columns is gathered, then each cell's values are binned against its own
    counts row, which stays in L1.
    """
    n, m = data.shape
    n_bins = counts.shape[1] - 2
    n_blocks = (m + CELLS_PER_BLOCK - 1) // CELLS_PER_BLOCK
    n_tasks = max(1, min(n_blocks, n_tasks))
    for task in prange(n_tasks):
        # a tile of a block of cells (32 x 256 float64, 64 kB) and the block's counts as
        # int32 (32 x (bins + 2), 512 kB for 4,096 bins): both stay in this core's L2
        # while the tile is binned (measured: 2x faster than binning whole columns
        # against int64 rows); a chunk's counts cannot overflow int32
        column = np.empty((CELLS_PER_BLOCK, ROWS_PER_TILE), dtype=np.float64)
        column_bits = column.view(np.int64)
        local = np.empty((CELLS_PER_BLOCK, n_bins + 2), dtype=np.int32)
        for block in range(task, n_blocks, n_tasks):
            first = block * CELLS_PER_BLOCK
            last = min(m, first + CELLS_PER_BLOCK)
            local[:] = 0
            for tile in range(0, n, ROWS_PER_TILE):
                tile_end = min(n, tile + ROWS_PER_TILE)
                rows = tile_end - tile
                # each cell's values copied out in contiguous runs while the tile's lines
                # stay in cache, as the bands kernel does
                for j in range(first, last):
                    target = column[j - first]
                    for i in range(rows):
                        target[i] = data[tile + i, j]
                for j in range(first, last):
                    values = column[j - first]
                    bits = column_bits[j - first]
                    row = local[j - first]
                    lowest, highest = minimum[j], maximum[j]
                    start, scale = low[j], inverse_width[j]
                    logarithmic = log_scale[j]
                    for i in range(rows):
                        x = values[i]
                        lowest = min(lowest, x)
                        highest = max(highest, x)
                        # log cells: the key of a value <= 0 is <= 0, below the bins
                        key = bits[i] * LOG_KEY_SCALE if logarithmic else x
                        position = (key - start) * scale
                        if not position >= 0.0:  # below the bins, or NaN
                            row[0] += 1
                        elif position >= n_bins:
                            row[n_bins + 1] += 1
                        else:
                            row[int(position) + 1] += 1
                    minimum[j], maximum[j] = lowest, highest
            for j in range(first, last):
                counts[j] += local[j - first]
