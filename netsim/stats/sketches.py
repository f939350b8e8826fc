"""Mergeable summaries of draws: percentile bands without the cube in memory.

A :class:`BandSummary` holds, for every output cell, a histogram of fixed bins
(uniform in a log key for positive cells spanning a wide range, linear otherwise; the
key is the float's bits read as an integer: ``1023 + log2(x)`` to within 0.09, exact at
powers of two and linear between them, so a bin is at most its key width wide in
relative terms) plus the exact
minimum and maximum. Histograms of the same bins add, so chunks of draws can be
folded in any order, on any machine, and merged: the result does not depend on
the chunking.

The bins are fixed from a pilot: the first draws of the run (the same draws,
whatever the chunk size). Each cell's range is the pilot's range widened by a
margin on each side, cut into :data:`DEFAULT_BINS` bins. A quantile is read by
placing the ``j``-th of the ``c`` draws in a bin at fraction ``(j + 0.5) / c``
of the bin; its error is below one bin width, about 0.03 % relative for the NET
scenario (``relative_bin_width`` reports it per cell), and the tests check 0.1 %
against exact order statistics. Draws outside the bins are counted in an under-
or overflow bin; a quantile that falls there is NaN, never a wrong number -- save a
cell's exact zeros (a product that may not sell): its bins start just above 0, so its
zeros are the underflow, read as 0.

The bins go in blocks of :data:`~netsim.kernels.histogram.BIN_BLOCK`. When the quantiles
a run reports are known before its first draw, only the blocks around each (wide enough
for the ranks of its order-statistic interval, placed from the pilot) are kept bin by
bin; every other block is one count. A band then reads exactly what the full histogram
would give, from about a tenth of the counts (the memory of a reduced run, the summary a
worker ships); a rank that falls in a block kept as one count reads NaN, never a guess.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numba
import numpy as np

from netsim.errors import ArgumentValueError, ScenarioError
from netsim.kernels.histogram import BIN_BLOCK, LOG_KEY_SCALE, histogram_kernel

__all__ = ["DEFAULT_BINS", "BandSummary", "kept_ranks"]

DEFAULT_BINS = 4096
MARGIN = 0.5  # widen the pilot's range by this fraction of itself on each side ...
MIN_MARGIN = 0.25  # ... and by at least this fraction of the value (linear bins);
# log bins: by this fraction of the pilot's range in the log key (at least a factor 3, so
# the margin is at least a factor 1.3 each side): a narrower margin than the linear
# bins', as the key's bins are up to 1.44x wider in relative terms than a log's
LOG_MARGIN = 0.25
CELLS_PER_READ = 512  # cells whose cumulative counts are formed at once when reading ranks
ZERO_OFFSET = 1e-3  # bins: where the first bin of a cell reaching 0 starts above 0
LOG_SCALE_RATIO = 3.0  # pilot max / min above which a cell's bins are uniform in log space
# a kept range reaches this many of the pilot's standard errors of a quantile's rank on
# each side: a run's interval ranks lie within 2 of its own (no more than the pilot's) of
# the true quantile, so a rank is missed only if the pilot's estimate is 6 standard errors
# off, about 2e-9 a quantile and cell (1e-4 for the 60,000 of the NET file's P5/P50/P95)
KEPT_STANDARD_ERRORS = 8.0
SHIPPED_LEVEL = 1  # zlib level of a shipped summary's counts (level 6: 8 % smaller, 5x slower)


def log_key(x: np.ndarray) -> np.ndarray:
    """The log bins' key of positive float64 values: their bits as integers times
    2**-52, ``1023 + e + f`` for ``x = 2**e (1 + f)``, 0 <= f < 1."""
    return np.ascontiguousarray(x, dtype=np.float64).view(np.int64) * LOG_KEY_SCALE


def from_log_key(key: np.ndarray) -> np.ndarray:
    """The value of a (fractional) log key: the inverse of :func:`log_key`, continuous."""
    exponent = np.floor(key)
    return np.ldexp(1.0 + (key - exponent), exponent.astype(np.int64) - 1023)


@dataclass
class BandSummary:
    """Histograms of every cell of a flat (draws, cells) output matrix.

    Attributes
    ----------
    low : ndarray (cells,)
        Lower edge of the first bin (log of the value where ``log_scale``).
    inverse_width : ndarray (cells,)
        Bins per unit (of log value, or of value).
    log_scale : ndarray of bool (cells,)
    bins : int
        Bins a cell's range is cut into (besides its underflow and overflow bins).
    blocks : ndarray of int64 (cells, blocks)
        Where each block of :data:`BIN_BLOCK` bins (underflow, bins, overflow) is
        counted: ``2 * slot + 1`` kept bin by bin from ``slot``, ``2 * slot`` as one
        count at ``slot`` (slots from the cell's offset).
    offsets : ndarray of int64 (cells + 1,)
        Where each cell's counts start in ``counts``.
    counts : ndarray of int64 (slots,)
        Every cell's counts, one after the other.
    minimum, maximum : ndarray (cells,)
        Exact extremes of the draws folded so far.
    """

    low: np.ndarray
    inverse_width: np.ndarray
    log_scale: np.ndarray
    bins: int
    blocks: np.ndarray
    offsets: np.ndarray
    counts: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray

    @classmethod
    def from_pilot(cls, pilot: np.ndarray, bins: int = DEFAULT_BINS) -> BandSummary:
        """Empty summary whose bins cover the pilot draws (draws, cells) with a margin."""
        pilot = np.asarray(pilot, dtype=np.float64)
        if pilot.ndim != 2 or pilot.shape[0] < 1:
            raise ScenarioError("a band summary needs a pilot of at least one draw")
        return cls.from_range(pilot.min(axis=0), pilot.max(axis=0), bins)

    @classmethod
    def from_range(
        cls,
        lowest: np.ndarray,
        highest: np.ndarray,
        bins: int = DEFAULT_BINS,
        keep: np.ndarray | None = None,
    ) -> BandSummary:
        """Empty summary whose bins cover each cell's pilot range ``[lowest, highest]``
        with a margin.

        ``keep``: (ranges, 2, cells) values; only the blocks of bins from each range's
        low to its high value (-inf: from the underflow, inf: to the overflow) are kept
        bin by bin, the others as one count each. None: every block bin by bin."""
        if bins < 16:
            raise ArgumentValueError(f"bins={bins} must be >= 16", argument="bins")
        lowest = np.asarray(lowest, dtype=np.float64)
        highest = np.asarray(highest, dtype=np.float64)
        # log bins only for positive cells spanning a wide range; linear bins are
        # accurate enough otherwise
        with np.errstate(divide="ignore", invalid="ignore"):
            log_scale = (lowest > 0.0) & (highest > LOG_SCALE_RATIO * lowest)
        start = np.where(log_scale, log_key(np.where(log_scale, lowest, 1.0)), lowest)
        stop = np.where(log_scale, log_key(np.where(log_scale, highest, 1.0)), highest)
        span = stop - start
        # at least a fraction of the cell's own size (a cell of zeros: of 1)
        size = np.maximum(np.abs(highest), np.abs(lowest))
        linear_floor = np.where(size > 0.0, size, 1.0) * MIN_MARGIN
        margin = np.where(log_scale, LOG_MARGIN * span, np.maximum(MARGIN * span, linear_floor))
        # a cell whose pilot reaches exactly 0 from above (a product that may not sell) has
        # no margin below 0, and its first bin starts a thousandth of a bin above it: its
        # zeros fall in the underflow bin, read as the cell's minimum (0), exactly
        from_zero = ~log_scale & (lowest == 0.0) & (highest > 0.0)
        inverse_width = np.where(from_zero, bins / (span + margin), bins / (span + 2.0 * margin))
        low = np.where(from_zero, ZERO_OFFSET / inverse_width, start - margin)
        cells = lowest.size
        n_blocks = -(-(bins + 2) // BIN_BLOCK)
        if keep is None:
            fine = np.ones((cells, n_blocks), dtype=bool)
        else:
            fine = np.zeros((cells, n_blocks), dtype=bool)
            index = np.arange(n_blocks)
            for low_value, high_value in np.asarray(keep, dtype=np.float64):
                first = _slot(low_value, low, inverse_width, log_scale, bins) // BIN_BLOCK
                last = _slot(high_value, low, inverse_width, log_scale, bins) // BIN_BLOCK
                fine |= (index >= first[:, None]) & (index <= last[:, None])
        blocks, offsets = _block_layout(fine, bins)
        return cls(
            low=low,
            inverse_width=inverse_width,
            log_scale=log_scale,
            bins=bins,
            blocks=blocks,
            offsets=offsets,
            counts=np.zeros(offsets[-1], dtype=np.int64),
            minimum=np.full(cells, np.inf),
            maximum=np.full(cells, -np.inf),
        )

    @property
    def fine(self) -> np.ndarray:
        """(cells, blocks) bool: which blocks are kept bin by bin."""
        return (self.blocks & 1).astype(bool)

    def __getstate__(self) -> dict[str, object]:
        """The summary as it is shipped (pickled: from a Dask worker to the client).

        The counts are the bulk and mostly small or zero: they travel in the narrowest
        unsigned integer type that holds the largest, compressed with zlib (level 1),
        losslessly, so a merged summary is the same to the count; the blocks' places
        travel as one bit a block (which are kept bin by bin), rebuilt on arrival
        (sizes measured by benchmarks/run.py)."""
        state = dict(self.__dict__)
        counts = np.ascontiguousarray(self.counts)
        largest = int(counts.max()) if counts.size else 0
        narrow = next(
            t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if largest <= np.iinfo(t).max
        )
        state["counts"] = (
            counts.shape,
            np.dtype(narrow).str,
            zlib.compress(counts.astype(narrow).tobytes(), SHIPPED_LEVEL),
        )
        state["blocks"] = (self.blocks.shape, np.packbits(self.fine, axis=None))
        del state["offsets"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        shape, dtype, packed = state["counts"]  # type: ignore[misc]
        counts = np.frombuffer(zlib.decompress(packed), dtype=np.dtype(dtype))
        block_shape, bits = state["blocks"]  # type: ignore[misc]
        fine = np.unpackbits(bits, count=int(np.prod(block_shape))).reshape(block_shape)
        blocks, offsets = _block_layout(fine.astype(bool), int(state["bins"]))  # type: ignore[arg-type]
        state = {
            **state,
            "counts": counts.reshape(shape).astype(np.int64),
            "blocks": blocks,
            "offsets": offsets,
        }
        self.__dict__.update(state)

    @property
    def draws(self) -> int:
        """Draws folded so far."""
        return int(self.counts[self.offsets[0] : self.offsets[1]].sum()) if self.cells else 0

    @property
    def cells(self) -> int:
        """Cells summarised."""
        return int(self.low.size)

    @property
    def relative_bin_width(self) -> np.ndarray:
        """Per cell: a bin's width relative to the smallest value seen (log bins: to any
        value) -- an upper bound on a band's relative error; for a cell whose draws reach
        0 (a product that may not sell), relative to its largest value; 0 for a cell of
        zeros (its bands are exact: every band is clipped to the values seen)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            width = 1.0 / self.inverse_width
            smallest = np.abs(self.minimum)
            scale = np.where(smallest > 0, smallest, np.abs(self.maximum))
            relative = np.where(scale > 0, width / scale, 0.0)
        # a log bin from key k to k + w spans 2**e (1 + f) to 2**e (1 + f + w) within an
        # octave: w / (1 + f) <= w relative, and no more across one
        relative[self.log_scale] = width[self.log_scale]
        return relative

    def empty_like(self) -> BandSummary:
        """A summary with the same bins and no draws (for a worker to fill)."""
        return BandSummary(
            self.low,
            self.inverse_width,
            self.log_scale,
            self.bins,
            self.blocks,
            self.offsets,
            np.zeros_like(self.counts),
            np.full_like(self.minimum, np.inf),
            np.full_like(self.maximum, -np.inf),
        )

    def _cells(self, cells: slice) -> BandSummary:
        """The summary of some cells: views of this one's arrays (folding into it folds
        into this one), their slots counted from the first one's."""
        offsets = self.offsets[cells.start : cells.stop + 1]
        return BandSummary(
            self.low[cells],
            self.inverse_width[cells],
            self.log_scale[cells],
            self.bins,
            self.blocks[cells],
            offsets - offsets[0],
            self.counts[offsets[0] : offsets[-1]],
            self.minimum[cells],
            self.maximum[cells],
        )

    def add(self, data: np.ndarray, offset: int = 0) -> None:
        """Fold draws (draws, cells) into the histograms of cells ``offset ...``."""
        data = np.ascontiguousarray(data)
        width = data.shape[1] if data.ndim == 2 else -1
        if data.ndim != 2 or offset < 0 or offset + width > self.cells:
            raise ScenarioError(
                f"data shape {data.shape} at offset {offset} does not fit {self.cells} cells"
            )
        part = self._cells(slice(offset, offset + width))
        histogram_kernel(
            data,
            part.low,
            part.inverse_width,
            part.log_scale,
            self.bins,
            part.blocks,
            part.offsets,
            part.counts,
            part.minimum,
            part.maximum,
            4 * numba.get_num_threads(),
        )

    def merge(self, other: BandSummary) -> None:
        """Add another summary of the same bins (e.g. from a worker) into this one."""
        if not (
            np.array_equal(self.low, other.low)
            and np.array_equal(self.inverse_width, other.inverse_width)
            and self.bins == other.bins
            and np.array_equal(self.blocks, other.blocks)
        ):
            raise ScenarioError("only summaries with the same bins can be merged")
        self.counts += other.counts
        np.minimum(self.minimum, other.minimum, out=self.minimum)
        np.maximum(self.maximum, other.maximum, out=self.maximum)

    def order_statistics(self, positions: np.ndarray) -> np.ndarray:
        """Estimated values at fractional 0-based ranks (numpy's linear rule between
        neighbours), shape (len(positions), cells); NaN where a rank falls outside the bins
        or in a block kept as one count."""
        positions = np.atleast_1d(np.asarray(positions, dtype=np.float64))
        n = self.draws
        if n < 1:
            raise ScenarioError("the summary holds no draws")
        # in blocks of cells: the dense cumulative counts of all cells at once would be as
        # large as a histogram kept bin by bin (660 MB for the NET file)
        out = np.empty((positions.size, self.cells))
        for first in range(0, self.cells, CELLS_PER_READ):
            cells = slice(first, min(first + CELLS_PER_READ, self.cells))
            out[:, cells] = self._cells(cells)._order_statistics(positions, n)
        return out

    def _order_statistics(self, positions: np.ndarray, n: int) -> np.ndarray:
        # the running count of every cell's slots, one after the other: cell j's counts
        # run from before_cell[j] (exclusive) to before_cell[j] + n, so the slot holding a
        # cell's rank-th smallest draw is the first whose running count exceeds
        # before_cell[j] + rank, found for every cell at once; only those slots' bins are
        # worked out (measured: building every slot's bin and cell, 2 million slots for
        # 512 cells kept bin by bin, took most of a 64-draw run file's writing)
        running = np.cumsum(self.counts)
        before_cell = np.concatenate([[0], running])[self.offsets[:-1]]
        # each block's first slot, over all cells in order (strictly increasing)
        block_start = (self.offsets[:-1, None] + (self.blocks >> 1)).ravel()
        n_blocks = self.blocks.shape[1]
        out = np.empty((positions.size, self.cells))
        for p, position in enumerate(positions):
            below = int(np.floor(position))
            fraction = position - below
            values = []
            for rank in (min(below, n - 1), min(below + 1, n - 1)):
                found = np.searchsorted(running, before_cell + rank, "right")
                # (a cell holding fewer than rank + 1 draws: the next cell's first slot)
                found = np.minimum(found, self.offsets[1:])
                inside = self.counts[found]
                block = np.searchsorted(block_start, found, "right") - 1
                owner, block_of_cell = np.divmod(block, n_blocks)
                bins = BIN_BLOCK * block_of_cell + (found - block_start[block])
                fine = (self.blocks.ravel()[block] & 1).astype(bool)
                before = running[found] - before_cell[owner] - inside
                values.append(self._rank_value(bins, before, inside, fine, rank, n))
            out[p] = values[0] + (values[1] - values[0]) * fraction if fraction else values[0]
        return out

    def _rank_value(
        self,
        slot: np.ndarray,
        before: np.ndarray,
        inside: np.ndarray,
        fine: np.ndarray,
        rank: int,
        n: int,
    ) -> np.ndarray:
        """Each cell's value of ``rank``, the ``inside`` draws of bin ``slot`` following
        ``before`` draws in smaller bins."""
        fraction = (rank - before + 0.5) / inside
        edge = self.low + (slot - 1 + fraction) / self.inverse_width
        value = np.where(self.log_scale, from_log_key(np.where(self.log_scale, edge, 1023.0)), edge)
        value = np.clip(value, self.minimum, self.maximum)
        # the extremes are exact; under- and overflow bins hold unknown positions
        value = np.where(rank == 0, self.minimum, value)
        value = np.where(rank == n - 1, self.maximum, value)
        # an underflow no wider than a thousandth of a bin (a cell reaching 0: its zeros)
        # reads as the minimum, within that thousandth
        narrow = (self.low - self.minimum) * self.inverse_width <= ZERO_OFFSET
        value = np.where((slot == 0) & narrow, self.minimum, value)
        # a block kept as one count: where in it the rank lies is unknown
        outside = ((slot == 0) & ~narrow) | (slot == self.bins + 1) | ~fine
        outside &= (rank != 0) & (rank != n - 1)
        return np.where(outside, np.nan, value)

    def quantiles(self, q: np.ndarray) -> np.ndarray:
        """Quantiles (numpy's linear method on the estimated order statistics), (len(q), cells)."""
        q = np.atleast_1d(np.asarray(q, dtype=np.float64))
        return self.order_statistics(q * (self.draws - 1))


def kept_ranks(pilot: int, q: np.ndarray) -> np.ndarray:
    """(len(q), 2) 0-based ranks of a pilot of ``pilot`` draws between which each
    quantile's bins are kept bin by bin: :data:`KEPT_STANDARD_ERRORS` standard errors of
    the quantile's rank (and one draw) each side; -1 stands for the underflow's side,
    ``pilot`` for the overflow's (a range that reaches the pilot's extremes goes on to
    the end of the bins: a larger run may reach further)."""
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    reach = KEPT_STANDARD_ERRORS * np.sqrt(q * (1.0 - q) / pilot) + 1.0 / pilot
    low = np.floor((q - reach) * (pilot - 1))
    high = np.ceil((q + reach) * (pilot - 1))
    low = np.where(low <= 0, -1, low)
    high = np.where(high >= pilot - 1, pilot, high)
    return np.stack([low, high], axis=1).astype(np.int64)


def _slot(
    values: np.ndarray, low: np.ndarray, inverse_width: np.ndarray, log_scale: np.ndarray, bins: int
) -> np.ndarray:
    """Each cell's bin (0 underflow, 1 ... bins, bins + 1 overflow) of one value a cell,
    as :func:`~netsim.kernels.histogram.histogram_kernel` places it; -inf is the
    underflow, inf the overflow."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.where(np.isfinite(values), values, 1.0)
        key = np.where(log_scale, log_key(np.abs(finite)) * np.sign(finite), finite)
        position = (key - low) * inverse_width
    slot = np.where(
        position >= 0.0, np.minimum(np.floor(np.minimum(position, bins)), bins) + 1, 0
    ).astype(np.int64)
    slot = np.where(values == -np.inf, 0, slot)
    return np.where(values == np.inf, bins + 1, slot)


def _block_layout(fine: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """(blocks, offsets) of cells whose blocks ``fine`` (cells, blocks) are kept bin by
    bin: each block's entry (``2 * slot + 1`` or ``2 * slot``) and each cell's first slot."""
    n_blocks = fine.shape[1]
    block_size = np.minimum(BIN_BLOCK, bins + 2 - BIN_BLOCK * np.arange(n_blocks))
    size = np.where(fine, block_size, 1)
    slot = np.cumsum(size, axis=1) - size
    blocks = (2 * slot + fine).astype(np.int64)
    offsets = np.zeros(fine.shape[0] + 1, dtype=np.int64)
    np.cumsum(size.sum(axis=1), out=offsets[1:])
    return blocks, offsets
