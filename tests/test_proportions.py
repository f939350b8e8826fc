"""Estimated probabilities carry exact binomial intervals, honest at 0 and 1: the
interval against scipy's, its coverage over seeds near 0, at 0.5 and near 1, and the
intervals in exceedance, compare and reconcile (library, tables, files)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from netsim.analyze.comparison import compare, exceedance
from netsim.cli import main
from netsim.stats.proportions import proportion_interval

from .conftest import NET_CONFIG


@pytest.mark.parametrize(
    ("successes", "trials"),
    [
        pytest.param(0, 20_000, id="none"),
        pytest.param(20_000, 20_000, id="all"),
        pytest.param(1, 7, id="one-of-seven"),
        pytest.param(512, 1_000, id="half"),
    ],
)
def test_interval_is_scipy_exact_interval(successes, trials):
    low, high = proportion_interval(np.array([successes]), trials)
    expected = stats.binomtest(successes, trials).proportion_ci(0.95, method="exact")
    assert float(low[0]) == pytest.approx(expected.low, rel=1e-9, abs=1e-15)
    assert float(high[0]) == pytest.approx(expected.high, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(
    "p",
    [
        pytest.param(0.0005, id="near-0"),
        pytest.param(0.5, id="half"),
        pytest.param(0.9995, id="near-1"),
    ],
)
def test_exceedance_interval_covers_over_seeds(p):
    """4,000 seeds of 1,000 uniform draws each: the 95 % interval of P(u > 1 - p) holds p
    at least 95 % of the time, less three binomial standard deviations (the old
    ``p +- 1.96 sqrt(p (1 - p) / n)`` held p = 0.0005 only 39 % of the time: every seed
    without a draw above gave a zero-width interval at 0)."""
    seeds, draws = 4_000, 1_000
    uniforms = np.random.default_rng(11).random((draws, seeds))
    data = xr.DataArray(uniforms, dims=("draw", "seed"))
    result = exceedance(data, 1.0 - p)
    low = result["probability_interval"].sel(bound="low").values
    high = result["probability_interval"].sel(bound="high").values
    coverage = np.mean((low <= p) & (p <= high))
    assert coverage >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / seeds), coverage
    assert np.all(high > low)  # never a zero-width interval, at the edges too


def test_compare_gives_its_probability_an_interval(net):
    result = compare(net, {"same": net}, draws=1000, seed=2, by="global")
    interval = result["prob_greater_interval"]
    assert np.all(result["prob_greater"].values == 0.0)
    assert np.all(interval.sel(bound="low").values == 0.0)
    # 0 of 1,000 paired draws: at most 0.37 % at 95 %, not a certainty of 0
    np.testing.assert_allclose(interval.sel(bound="high").values, 1 - 0.025 ** (1 / 1000))


@pytest.mark.slow
def test_reconcile_prints_and_writes_the_interval(tmp_path, capsys):
    out, csv = tmp_path / "r.nc", tmp_path / "r.csv"
    # SSA injections priced far above any top-down share: every draw has the patient-based
    # model above, so P = 1 and its interval must still reach below 1
    raised = [
        f"funnel.cost.segments.SSA.price_per_dose.{point}={value}"
        for point, value in (("high", 650000.0), ("mode", 450000.0), ("low", 250000.0))
    ]
    argv = ["reconcile", str(NET_CONFIG), "--draws", "400", "--seed", "4", "--no-plot"]
    argv += [arg for change in raised for arg in ("--set", change)]
    assert main([*argv, "--out", str(out), "--csv", str(csv)]) == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if "P(patient > top)" in line)
    assert "95 % low" in header and "95 % high" in header
    with xr.open_dataset(out) as written:
        interval = written["prob_patient_above_interval"].load()
        above = written["prob_patient_above"].load()
    assert np.all(interval.sel(bound="low") <= above) and np.all(
        above <= interval.sel(bound="high")
    )
    assert np.all(above.values == 1.0)
    np.testing.assert_allclose(interval.sel(bound="low").values, 0.025 ** (1 / 400))
    assert "95 % low" in csv.read_text().splitlines()[0]
