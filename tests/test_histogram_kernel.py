"""The histogram kernel of reduced runs against a pure-numpy oracle: every count, and the
extremes, to the bit, on values that reach every branch (under- and overflow, NaN,
infinities, zeros and negative values on log bins), float32 and float64, cells kept bin
by bin or as one count a block, and groups of cells and tiles of rows cut short."""

from __future__ import annotations

import numpy as np
import pytest

from netsim.kernels.histogram import BIN_BLOCK, LOG_KEY_SCALE, histogram_kernel
from netsim.stats.sketches import BandSummary


def _oracle(summary: BandSummary, data: np.ndarray) -> tuple[np.ndarray, ...]:
    """Counts, minimum and maximum after adding ``data`` (draws, cells), in numpy."""
    values = data.astype(np.float64)
    key = np.where(summary.log_scale, values.view(np.int64) * LOG_KEY_SCALE, values)
    with np.errstate(invalid="ignore"):
        position = (key - summary.low) * summary.inverse_width
        slot = np.where(
            ~(position >= 0.0),
            0,
            np.where(position >= summary.bins, summary.bins + 1, 0),
        )
        inside = (position >= 0.0) & (position < summary.bins)
    slot[inside] = position[inside].astype(np.int64) + 1
    counts = summary.counts.copy()
    cells = np.broadcast_to(np.arange(data.shape[1]), data.shape)
    entry = summary.blocks[cells, slot // BIN_BLOCK]
    place = summary.offsets[cells] + (entry >> 1) + np.where(entry & 1, slot % BIN_BLOCK, 0)
    np.add.at(counts, place.ravel(), 1)
    minimum, maximum = summary.minimum.copy(), summary.maximum.copy()
    for row in values:  # in order, as min(a, b): the first of equal values, never NaN
        minimum = np.where(row < minimum, row, minimum)
        maximum = np.where(row > maximum, row, maximum)
    return counts, minimum, maximum


def _cells(rng: np.random.Generator, draws: int, cells: int) -> np.ndarray:
    """Lognormal cells, a third on log bins (wide), with zeros, negative values, NaN and
    infinities sprinkled in (save two cells whose extremes are signed zeros)."""
    data = rng.lognormal(5.0, 0.15, size=(draws, cells))
    data[:, ::3] = rng.lognormal(0.0, 2.0, size=(draws, len(range(0, cells, 3))))
    for value, share in ((0.0, 0.02), (-0.0, 0.01), (-5.0, 0.01), (np.nan, 0.01)):
        data[rng.random(data.shape) < share] = value
    data[rng.random(data.shape) < 0.005] = np.inf
    data[rng.random(data.shape) < 0.005] = -np.inf
    # a cell whose smallest values are zeros of both signs, and one whose largest are:
    # the extremes keep the first of equal values, as min and max do
    zeros = np.where(rng.random(draws) < 0.5, 0.0, -0.0)
    data[:, 1] = np.where(rng.random(draws) < 0.1, zeros, rng.lognormal(5.0, 0.15, draws))
    data[:, 2] = -data[:, 1]
    return data


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("kept", [False, True], ids=["every-bin", "kept-around-quantiles"])
def test_histogram_kernel_counts_as_the_numpy_oracle(dtype, kept):
    rng = np.random.default_rng(5)
    cells, draws = 75, 1_000  # groups of 32 cells and tiles of rows cut short
    pilot = rng.lognormal(5.0, 0.1, size=(500, cells))
    pilot[:, ::3] = rng.lognormal(0.0, 2.0, size=(500, len(range(0, cells, 3))))
    keep = None
    if kept:
        keep = np.quantile(pilot, [[0.04, 0.06], [0.45, 0.55]], axis=0)
    summary = BandSummary.from_range(pilot.min(axis=0), pilot.max(axis=0), 256, keep)
    assert summary.log_scale.any() and not summary.log_scale.all()
    data = _cells(rng, draws, cells).astype(dtype)
    for chunk in (data[:333], data[333:]):  # two calls: extremes and counts carried on
        expected = _oracle(summary, chunk)
        summary.add(chunk)
        for name, want in zip(("counts", "minimum", "maximum"), expected, strict=True):
            got = getattr(summary, name)
            assert np.array_equal(got.view(np.int64), want.view(np.int64)), name


def test_histogram_kernel_on_one_task_and_many_tasks_counts_the_same():
    rng = np.random.default_rng(8)
    data = _cells(rng, 700, 40)
    pilot = rng.lognormal(5.0, 0.1, size=(200, 40))
    results = []
    for tasks in (1, 64):
        summary = BandSummary.from_range(pilot.min(axis=0), pilot.max(axis=0), 128)
        histogram_kernel(
            data,
            summary.low,
            summary.inverse_width,
            summary.log_scale,
            summary.bins,
            summary.blocks,
            summary.offsets,
            summary.counts,
            summary.minimum,
            summary.maximum,
            tasks,
        )
        results.append(summary)
    assert np.array_equal(results[0].counts, results[1].counts)
    assert np.array_equal(results[0].minimum, results[1].minimum)
