"""Band summaries (netsim.stats.sketches): shipped small, merged to the count, and kept
bin by bin only around the asked quantiles."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from netsim.errors import ScenarioError
from netsim.kernels.histogram import BIN_BLOCK
from netsim.stats.intervals import honest_bounds
from netsim.stats.quantiles import order_statistics
from netsim.stats.sketches import CELLS_PER_READ, BandSummary, kept_ranks

PILOT = 8192


@pytest.mark.parametrize(
    "draws",
    [pytest.param(2_000, id="2000-draws"), pytest.param(60_000, id="60000-draws")],
)
def test_a_shipped_summary_is_a_tenth_of_its_counts_and_the_same_to_the_count(draws):
    rng = np.random.default_rng(3)
    cells = 200
    data = rng.lognormal(5.0, 0.2, size=(draws, cells))
    summary = BandSummary.from_pilot(data[:500])
    summary.add(data)
    shipped = pickle.dumps(summary, protocol=5)
    assert len(shipped) <= summary.counts.nbytes / 10
    back = pickle.loads(shipped)
    assert back.counts.dtype == np.int64
    assert np.array_equal(back.counts, summary.counts)
    for name in ("low", "inverse_width", "log_scale", "minimum", "maximum"):
        assert np.array_equal(getattr(back, name), getattr(summary, name)), name
    merged = summary.empty_like()
    merged.merge(back)
    merged.merge(back)
    assert np.array_equal(merged.counts, 2 * summary.counts)


def _kept_around(pilot: np.ndarray, q: np.ndarray) -> BandSummary:
    """A summary of ``pilot``'s cells keeping bin by bin only the bins around ``q``."""
    ranks = kept_ranks(pilot.shape[0], q)
    keep = order_statistics(pilot, np.clip(ranks, 0, pilot.shape[0] - 1).reshape(-1))
    keep = keep.reshape(q.size, 2, -1)
    keep[:, 0][ranks[:, 0] < 0] = -np.inf
    keep[:, 1][ranks[:, 1] >= pilot.shape[0]] = np.inf
    return BandSummary.from_range(pilot.min(axis=0), pilot.max(axis=0), keep=keep)


@pytest.fixture(scope="module")
def mixed_cells():
    """Cells of several shapes: narrow lognormal, a product that sells in 70 % of draws
    (exact zeros), and a wide lognormal on log bins."""
    rng = np.random.default_rng(11)
    draws = 30_000
    data = rng.lognormal(5.0, 0.2, size=(draws, 90))
    data[:, :30] *= rng.random((draws, 30)) < 0.7
    data[:, 60:] = rng.lognormal(0.0, 2.0, size=(draws, 30))
    return data


@pytest.mark.parametrize(
    ("q", "largest_share"),
    [
        pytest.param((0.05, 0.5, 0.95), 0.25, id="P5-P50-P95"),
        # ranges reaching the pilot's extremes go on to the under- and overflow
        pytest.param((0.001, 0.999), 0.6, id="tails"),
        pytest.param((0.5, 0.51), 0.15, id="overlapping-ranges"),
    ],
)
def test_bins_kept_around_the_quantiles_read_as_every_bin_would(mixed_cells, q, largest_share):
    q = np.asarray(q)
    every_bin = BandSummary.from_pilot(mixed_cells[:PILOT])
    kept = _kept_around(mixed_cells[:PILOT], q)
    assert kept.counts.size <= largest_share * every_bin.counts.size
    for summary in (every_bin, kept):
        summary.add(mixed_cells)
    np.testing.assert_array_equal(kept.quantiles(q), every_bin.quantiles(q))
    draws = mixed_cells.shape[0]
    with_kept, _ = honest_bounds(lambda r: kept.order_statistics(r.astype(float)), draws, q, 0.95)
    with_all, _ = honest_bounds(
        lambda r: every_bin.order_statistics(r.astype(float)), draws, q, 0.95
    )
    np.testing.assert_array_equal(with_kept, with_all)
    assert not np.isnan(with_kept).any()


def test_a_rank_between_the_kept_bins_reads_nan_never_a_guess(mixed_cells):
    kept = _kept_around(mixed_cells[:PILOT], np.array([0.05, 0.95]))
    kept.add(mixed_cells)
    middle = kept.quantiles(np.array([0.5]))[0]
    positive = (mixed_cells[:PILOT] > 0).all(axis=0)  # a median of 0 is kept with the zeros
    assert np.isnan(middle[positive]).all()
    exact = np.quantile(mixed_cells, 0.5, axis=0)
    known = ~np.isnan(middle)
    np.testing.assert_allclose(middle[known], exact[known], rtol=5e-3)


def test_kept_bins_ship_and_merge_to_the_count(mixed_cells):
    kept = _kept_around(mixed_cells[:PILOT], np.array([0.05, 0.5, 0.95]))
    kept.add(mixed_cells)
    back = pickle.loads(pickle.dumps(kept, protocol=5))
    np.testing.assert_array_equal(back.blocks, kept.blocks)
    np.testing.assert_array_equal(back.offsets, kept.offsets)
    merged = kept.empty_like()
    merged.merge(back)
    merged.merge(kept)
    np.testing.assert_array_equal(merged.counts, 2 * kept.counts)
    every_bin = BandSummary.from_pilot(mixed_cells[:PILOT])
    with pytest.raises(ScenarioError, match="same bins"):
        merged.merge(every_bin)


def _cell_by_cell(summary: BandSummary, ranks: tuple[int, ...]) -> np.ndarray:
    """Each cell's values of ``ranks`` (len(ranks), cells), read one cell at a time: its
    slots listed block by block (a block kept bin by bin: its bins; one kept as one count:
    its first bin), the slot holding a rank found by walking the cell's running count."""
    values = np.empty((len(ranks), summary.cells))
    for cell in range(summary.cells):
        entries = summary.blocks[cell]
        size = np.where(entries & 1, BIN_BLOCK, 1)
        size[-1] = min(size[-1], summary.bins + 2 - BIN_BLOCK * (entries.size - 1))
        first_bin = np.repeat(BIN_BLOCK * np.arange(entries.size), size)
        bins = first_bin + np.concatenate([np.arange(k) for k in size])
        fine = np.repeat((entries & 1).astype(bool), size)
        counts = summary.counts[summary.offsets[cell] : summary.offsets[cell + 1]]
        running = np.cumsum(counts)
        one = summary._cells(slice(cell, cell + 1))
        for r, rank in enumerate(ranks):
            slot = int(np.argmax(running > rank))
            picked = slice(slot, slot + 1)
            before = running[picked] - counts[picked]
            values[r, cell] = one._rank_value(
                bins[picked], before, counts[picked], fine[picked], rank, summary.draws
            )[0]
    return values


def test_every_rank_reads_the_slot_a_cell_by_cell_walk_finds(mixed_cells):
    # more cells than one read takes at once (CELLS_PER_READ), blocks of both kinds, the
    # zeros of a product that may not sell, linear and log bins
    data = np.tile(mixed_cells[:200], (1, 6))
    kept = _kept_around(data[:100], np.array([0.1, 0.9]))
    kept.add(data)
    assert kept.cells > CELLS_PER_READ and 0 < kept.fine.mean() < 1
    ranks = (0, 1, 19, 20, 100, 179, 180, 198, 199)
    with np.errstate(divide="ignore", invalid="ignore"):
        read = kept.order_statistics(np.array(ranks, dtype=float))
        np.testing.assert_array_equal(read, _cell_by_cell(kept, ranks))
