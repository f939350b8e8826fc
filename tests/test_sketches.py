"""Band summaries (netsim.stats.sketches): shipped small, merged to the count."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from netsim.stats.sketches import BandSummary


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
