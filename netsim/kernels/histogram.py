"""Per-cell histograms of draws: the mergeable summaries of reduced runs."""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from netsim.kernels.options import JIT_OPTIONS
from netsim.kernels.quantiles import ROWS_PER_TILE

__all__ = ["BIN_BLOCK", "CELLS_PER_BLOCK", "LOG_KEY_SCALE", "histogram_kernel"]

# cells per gathered block: a chunk's block (32 x chunk draws, float64, 4 MB for the
# default chunk) stays in the last-level cache while each cell is binned
CELLS_PER_BLOCK = 32
# a positive float64's bits, read as an integer and times this, are 1023 + log2(x) to
# within 0.09 (exact at powers of two, linear between them): the logarithmic bins' key,
# monotone and continuous, for one conversion instead of a log (measured: the log was
# over half of the fold's time on the patient-based outputs)
LOG_KEY_SCALE = 2.0**-52
# a cell's bins (underflow, bins, overflow) go in blocks of this many: each block is kept
# bin by bin (around an asked quantile) or as one count (between them); a power of 2
BIN_BLOCK = 32


@numba.njit(parallel=True, **JIT_OPTIONS)
def histogram_kernel(  # pragma: no cover - compiled
    data, low, inverse_width, log_scale, n_bins, blocks, offsets, counts, minimum, maximum, n_tasks
):
    """Add the rows of ``data`` (draws, cells) to per-cell histograms kept in blocks.

    Each cell has ``n_bins + 2`` bins (underflow, ``n_bins`` bins, overflow), uniform in
    its value or, for ``log_scale`` cells, in the log key (the float64 value's bits times
    :data:`LOG_KEY_SCALE`). The bins go in blocks of :data:`BIN_BLOCK`; ``blocks[j, b]``
    says where block ``b`` of cell ``j`` is counted: ``2 * slot + 1`` for a block kept
    bin by bin from ``slot``, ``2 * slot`` for a block kept as one count at ``slot``
    (slots counted from ``offsets[j]`` in the flat ``counts``; ``offsets[j + 1]`` ends
    the cell). The same cost a value whichever way its block is kept: no branch on it.
    Parallel over blocks of cells, each task owning its cells' counts: a block of
    columns is gathered, then each cell's values are binned against its own counts,
    which stay in cache.
    """
    n, m = data.shape
    n_groups = (m + CELLS_PER_BLOCK - 1) // CELLS_PER_BLOCK
    n_tasks = max(1, min(n_groups, n_tasks))
    widest = 0  # the most slots a group of cells keeps
    for group in range(n_groups):
        first = group * CELLS_PER_BLOCK
        last = min(m, first + CELLS_PER_BLOCK)
        widest = max(widest, offsets[last] - offsets[first])
    for task in prange(n_tasks):
        # a tile of a group of cells (32 x 256 float64, 64 kB) and the group's counts as
        # int32 (512 kB for 32 cells of 4,096 bins kept bin by bin, about a tenth when
        # only the blocks around three quantiles are): both stay in this core's L2 while
        # the tile is binned (measured: 2x faster than binning whole columns against int64
        # rows); a chunk's counts cannot overflow int32
        column = np.empty((CELLS_PER_BLOCK, ROWS_PER_TILE), dtype=np.float64)
        column_bits = column.view(np.int64)
        local = np.empty(widest, dtype=np.int32)
        for group in range(task, n_groups, n_tasks):
            first = group * CELLS_PER_BLOCK
            last = min(m, first + CELLS_PER_BLOCK)
            base = offsets[first]
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
                    row = local[offsets[j] - base :]
                    where = blocks[j]
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
                            slot = 0
                        elif position >= n_bins:
                            slot = n_bins + 1
                        else:
                            slot = int(position) + 1
                        entry = where[slot // BIN_BLOCK]
                        # a block kept bin by bin adds the bin's place in it, one kept
                        # as one count adds nothing
                        row[(entry >> 1) + (slot & (BIN_BLOCK - 1) & -(entry & 1))] += 1
                    minimum[j], maximum[j] = lowest, highest
            for k in range(offsets[last] - base):
                counts[base + k] += local[k]
