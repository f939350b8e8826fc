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
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numba
import numpy as np

from netsim.errors import ArgumentValueError, ScenarioError
from netsim.kernels.histogram import LOG_KEY_SCALE, histogram_kernel

__all__ = ["DEFAULT_BINS", "BandSummary"]

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
    counts : ndarray of int64 (cells, bins + 2)
        Underflow, bins, overflow.
    minimum, maximum : ndarray (cells,)
        Exact extremes of the draws folded so far.
    """

    low: np.ndarray
    inverse_width: np.ndarray
    log_scale: np.ndarray
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
        cls, lowest: np.ndarray, highest: np.ndarray, bins: int = DEFAULT_BINS
    ) -> BandSummary:
        """Empty summary whose bins cover each cell's pilot range ``[lowest, highest]``
        with a margin."""
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
        return cls(
            low=low,
            inverse_width=inverse_width,
            log_scale=log_scale,
            counts=np.zeros((cells, bins + 2), dtype=np.int64),
            minimum=np.full(cells, np.inf),
            maximum=np.full(cells, -np.inf),
        )

    def __getstate__(self) -> dict[str, object]:
        """The summary as it is shipped (pickled: from a Dask worker to the client).

        The counts are the bulk (cells x bins x 8 bytes: 242 MB for the NET file with its
        funnel) and mostly small or zero: they travel in the narrowest unsigned integer
        type that holds the largest, compressed with zlib (level 1), losslessly, so a
        merged summary is the same to the count (a 45,000-draw task of the NET file:
        242 MB raw, about 8 MB shipped; measured by benchmarks/run.py)."""
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
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        shape, dtype, packed = state["counts"]  # type: ignore[misc]
        counts = np.frombuffer(zlib.decompress(packed), dtype=np.dtype(dtype))
        state = {**state, "counts": counts.reshape(shape).astype(np.int64)}
        self.__dict__.update(state)

    @property
    def draws(self) -> int:
        """Draws folded so far."""
        return int(self.counts[0].sum()) if self.counts.shape[0] else 0

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
            np.zeros_like(self.counts),
            np.full_like(self.minimum, np.inf),
            np.full_like(self.maximum, -np.inf),
        )

    def add(self, data: np.ndarray, offset: int = 0) -> None:
        """Fold draws (draws, cells) into the histograms of cells ``offset ...``."""
        data = np.ascontiguousarray(data)
        width = data.shape[1] if data.ndim == 2 else -1
        if data.ndim != 2 or offset < 0 or offset + width > self.counts.shape[0]:
            raise ScenarioError(
                f"data shape {data.shape} at offset {offset} does not fit "
                f"{self.counts.shape[0]} cells"
            )
        cells = slice(offset, offset + width)
        histogram_kernel(
            data,
            self.low[cells],
            self.inverse_width[cells],
            self.log_scale[cells],
            self.counts[cells],
            self.minimum[cells],
            self.maximum[cells],
            4 * numba.get_num_threads(),
        )

    def merge(self, other: BandSummary) -> None:
        """Add another summary of the same bins (e.g. from a worker) into this one."""
        if not (
            np.array_equal(self.low, other.low)
            and np.array_equal(self.inverse_width, other.inverse_width)
            and self.counts.shape == other.counts.shape
        ):
            raise ScenarioError("only summaries with the same bins can be merged")
        self.counts += other.counts
        np.minimum(self.minimum, other.minimum, out=self.minimum)
        np.maximum(self.maximum, other.maximum, out=self.maximum)

    def order_statistics(self, positions: np.ndarray) -> np.ndarray:
        """Estimated values at fractional 0-based ranks (numpy's linear rule between
        neighbours), shape (len(positions), cells); NaN where a rank falls outside the bins."""
        positions = np.atleast_1d(np.asarray(positions, dtype=np.float64))
        n = self.draws
        if n < 1:
            raise ScenarioError("the summary holds no draws")
        if self.counts.shape[0] > CELLS_PER_READ:
            # in blocks of cells: the cumulative counts of all cells at once would be as
            # large as the counts themselves (250 MB for the NET scenario)
            out = np.empty((positions.size, self.counts.shape[0]))
            for first in range(0, self.counts.shape[0], CELLS_PER_READ):
                cells = slice(first, first + CELLS_PER_READ)
                part = BandSummary(
                    self.low[cells],
                    self.inverse_width[cells],
                    self.log_scale[cells],
                    self.counts[cells],
                    self.minimum[cells],
                    self.maximum[cells],
                )
                out[:, cells] = part.order_statistics(positions)
            return out
        n_bins = self.counts.shape[1] - 2
        cumulative = np.cumsum(self.counts, axis=1)  # (cells, bins + 2)
        cells = np.arange(self.counts.shape[0])
        out = np.empty((positions.size, cells.size))
        for p, position in enumerate(positions):
            below = int(np.floor(position))
            fraction = position - below
            values = [
                self._rank_value(cumulative, cells, min(k, n - 1), n_bins)
                for k in (below, below + 1)
            ]
            out[p] = values[0] + (values[1] - values[0]) * fraction if fraction else values[0]
        return out

    def _rank_value(
        self, cumulative: np.ndarray, cells: np.ndarray, rank: int, n_bins: int
    ) -> np.ndarray:
        # the bin holding the rank-th smallest draw: the first whose cumulative count exceeds it
        slot = np.argmax(cumulative > rank, axis=1)
        before = np.where(slot > 0, cumulative[cells, np.maximum(slot - 1, 0)], 0)
        inside = self.counts[cells, slot]
        fraction = (rank - before + 0.5) / inside
        edge = self.low + (slot - 1 + fraction) / self.inverse_width
        value = np.where(self.log_scale, from_log_key(np.where(self.log_scale, edge, 1023.0)), edge)
        value = np.clip(value, self.minimum, self.maximum)
        # the extremes are exact; under- and overflow bins hold unknown positions
        value = np.where(rank == 0, self.minimum, value)
        value = np.where(rank == self.draws - 1, self.maximum, value)
        # an underflow no wider than a thousandth of a bin (a cell reaching 0: its zeros)
        # reads as the minimum, within that thousandth
        narrow = (self.low - self.minimum) * self.inverse_width <= ZERO_OFFSET
        value = np.where((slot == 0) & narrow, self.minimum, value)
        outside = ((slot == 0) & ~narrow) | (slot == n_bins + 1)
        outside &= (rank != 0) & (rank != self.draws - 1)
        return np.where(outside, np.nan, value)

    def quantiles(self, q: np.ndarray) -> np.ndarray:
        """Quantiles (numpy's linear method on the estimated order statistics), (len(q), cells)."""
        q = np.atleast_1d(np.asarray(q, dtype=np.float64))
        return self.order_statistics(q * (self.draws - 1))
