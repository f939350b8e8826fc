"""Convergence: order-statistic intervals cover, auto-stopped runs reach their precision;
scenario comparison on common random numbers, exceedance and CAGR."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import netsim
from netsim.analyze.bands import run_bands
from netsim.analyze.comparison import cagr, compare, exceedance
from netsim.cli import main
from netsim.errors import ScenarioError
from netsim.model.layout import headline_draws
from netsim.run.precision import simulate_to_precision
from netsim.stats.intervals import (
    band_intervals,
    interval_coverage,
    interval_ranks,
    mean_standard_error,
)

from .conftest import CONFIGS, NET_CONFIG
from .helpers import without_funnel


@given(n=st.integers(1, 5000), q=st.sampled_from([0.001, 0.05, 0.25, 0.5, 0.9, 0.95, 0.999]))
def test_interval_ranks_have_binomial_coverage(n, q):
    low, high = interval_ranks(n, q, 0.95)
    # P(X(low+1) <= xi_q <= X(high+1)) = B(high) - B(low), 1-based ranks low+1, high+1;
    # an open end (low = -1, high = n) is certain
    above = 1.0 if high >= n else stats.binom.cdf(high, n, q)
    below = 0.0 if low < 0 else stats.binom.cdf(low, n, q)
    assert above - below >= 0.95 - 1e-12
    # netsim's CDF is scipy.special.bdtr (cephes), scipy.stats' is boost's: the two agree
    # within 1e-10 (5e-11 the worst of 3,000 random cases up to n = 300,000)
    assert interval_coverage(n, q, low, high) == pytest.approx(above - below, abs=1e-10)


@pytest.mark.parametrize(("n", "q"), [(1000, 0.001), (50, 0.05), (1000, 0.999), (3, 0.5)])
def test_too_few_draws_give_an_open_bound_not_a_false_one(n, q):
    """The sample minimum as a '95 %' bound of P0.1 from 1,000 draws covers 63 %: the
    bound is open instead, and the coverage reported is the interval's own."""
    draws = xr.DataArray(np.random.default_rng(1).normal(size=(n, 2)), dims=("draw", "cell"))
    result = band_intervals(draws, [q], 0.95)
    low, high = float(result["low"][0, 0]), float(result["high"][0, 0])
    assert np.isinf(low) or np.isinf(high)
    assert float(result["coverage"][0]) >= 0.95


def test_intervals_cover_true_quantiles_of_a_known_distribution():
    """Over 400 samples of 500 lognormal draws, the 95 % intervals of P5/P50/P95
    cover the exact quantiles at least 95 % of the time (minus 3 binomial sd)."""
    rng = np.random.default_rng(4)
    q = [0.05, 0.5, 0.95]
    exact = stats.lognorm(s=0.4).ppf(q)
    trials = 400
    draws = rng.lognormal(sigma=0.4, size=(500, trials))
    result = band_intervals(xr.DataArray(draws, dims=("draw", "trial")), q)
    covered = (result["low"] <= exact[:, None]) & (exact[:, None] <= result["high"])
    floor = 0.95 - 3 * np.sqrt(0.95 * 0.05 / trials)
    assert np.all(covered.mean("trial").values >= floor)
    assert np.all(result["low"] <= result["value"]) and np.all(result["value"] <= result["high"])


@pytest.mark.slow
def test_precision_run_reaches_its_target_against_a_much_larger_run(net_top_down):
    net = net_top_down  # the top-down model: its 20x larger run fits in memory
    target = 0.01
    run = simulate_to_precision(net, target, seed=5, first_draws=500)
    assert run.attrs["precision_met"] == 1
    assert run.attrs["precision_achieved"] <= target
    used = run.sizes["draw"]
    assert used == run.attrs["draws"] > 500
    # batching changes no draw: the run is exactly the first `used` draws
    direct = netsim.simulate(net, used, seed=5)
    np.testing.assert_array_equal(run["total"].values, direct["total"].values)
    large = netsim.simulate(net, 20 * used, seed=5)
    for name, small in headline_draws(run).items():
        truth = netsim.bands(headline_draws(large)[name])
        error = np.abs(netsim.bands(small) - truth) / np.abs(truth)
        assert float(error.max()) <= target, name


def test_mean_standard_error_matches_formula(net_run):
    total = netsim.global_total(net_run["total"])
    result = mean_standard_error(total)
    values = total.sel(year=2031).values
    assert float(result["standard_error"].sel(year=2031)) == pytest.approx(
        values.std(ddof=1) / np.sqrt(values.size), rel=1e-12
    )


@pytest.fixture(scope="module")
def bull_bear():
    return (
        netsim.load_scenario(CONFIGS / "bull.toml"),
        netsim.load_scenario(CONFIGS / "bear.toml"),
    )


def test_compare_with_itself_is_exactly_zero(net):
    result = compare(net, {"same": net}, draws=1000, seed=2, by="region")
    assert np.all(result["difference"].values == 0.0)
    assert np.all(result["prob_greater"].values == 0.0)


def test_compare_bull_and_bear_are_paired(net, bull_bear):
    bull, bear = bull_bear
    result = compare(net, {"bull": bull, "bear": bear}, draws=2000, seed=3, by="global")
    final = result.sel(year=2031)
    assert float(final["prob_greater"].sel(scenario="bull")) > 0.95
    assert float(final["prob_greater"].sel(scenario="bear")) < 0.05
    # paired draws: the spread of the difference is far below that of either run
    spread = final["difference"].sel(scenario="bull", quantile=0.95) - final["difference"].sel(
        scenario="bull", quantile=0.05
    )
    base_spread = final["base"].sel(quantile=0.95) - final["base"].sel(quantile=0.05)
    assert float(spread) < 0.5 * float(base_spread)
    with pytest.raises(ScenarioError, match="sampler mc or lhs"):
        compare(net, {"bull": bull}, draws=100, sampler="sobol")


def test_exceedance_and_cagr(net, net_run):
    total = netsim.global_total(net_run["total"])
    result = exceedance(total.sel(year=2031), 4300.0)
    assert float(result["probability"]) == pytest.approx(
        float(np.mean(total.sel(year=2031).values > 4300.0))
    )
    base = netsim.global_total(netsim.deterministic(net)["total"])
    growth = cagr(base, 2026, 2031)
    expected = 100 * ((float(base.sel(year=2031)) / float(base.sel(year=2026))) ** 0.2 - 1)
    assert float(growth) == pytest.approx(expected, rel=1e-12)
    assert float(growth) == pytest.approx(7.15, abs=0.005)  # the report's CAGR
    with pytest.raises(ScenarioError, match="CAGR years"):
        cagr(base, 2031, 2026)


@pytest.mark.slow
def test_raising_a_driver_never_lowers_its_own_segment_without_recalibration(net):
    """A paired comparison of a change, not recalibrated (the default for a change and for
    overlays alike): a more optimistic PRRT driver gives a larger PRRT market in every
    draw. Recalibrated, the solver would take the gain back through PRRT's premium."""
    raised = netsim.load_scenario(
        CONFIGS / "net_market.toml",
        ["drivers.targeted_prrt_expansion.impact.mode=2.0"],
        recalibrate=False,
    )
    assert raised.calibration.inherited_from is not None
    base_run = netsim.simulate(net, 2000, seed=8)
    raised_run = netsim.simulate(raised, 2000, seed=8)
    prrt = {"modality": "PRRT", "year": 2031}
    difference = netsim.global_total(raised_run["by_modality"].sel(prrt)) - netsim.global_total(
        base_run["by_modality"].sel(prrt)
    )
    assert float(difference.min()) >= 0.0 and float(difference.mean()) > 0.0
    result = compare(net, {"raised": raised}, draws=2000, seed=8, output="by_modality", by="global")
    assert not bool(result["recalibrated"].sel(scenario="raised"))
    assert float(result["prob_greater"].sel(scenario="raised", year=2031, modality="PRRT")) > 0.99
    # an overlay that says nothing is treated the same way
    assert netsim.load_scenario(CONFIGS / "bull.toml").calibration.inherited_from is not None


@pytest.mark.slow
def test_compare_refuses_scenarios_with_other_cells(net):
    import tomllib

    document = tomllib.loads((CONFIGS / "net_market.toml").read_text())
    shares = document["regions"]["Europe"]["country_shares"]
    shares["Atlantis"] = shares.pop("Germany")
    other = netsim.load_scenario(without_funnel(document))  # its funnel names Germany
    with pytest.raises(netsim.ScenarioError, match="other countries than the base"):
        compare(net, {"atlantis": other}, draws=100)


@pytest.mark.slow
def test_an_overlay_changing_a_given_baseline_moves_the_market():
    # a baseline given in the file (no global targets solve it) is the overlay's own, not
    # "the base's solution": compare shows its effect exactly
    from .test_market_shapes import country_market

    base = netsim.load_scenario(country_market({}))
    raised = netsim.load_scenario(
        country_market({}), ["market.baseline_growth.value=6"], recalibrate=False
    )
    result = compare(base, {"raised": raised}, draws=50, seed=1, by="global")
    final = result.sel(scenario="raised", year=2030)
    assert float(final["prob_greater"]) == 1.0
    expected = 1000.0 * (1.06**5 - 1.05**5)
    assert float(final["difference"].sel(quantile=0.5)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    ("sampler", "kind"),
    [
        pytest.param("mc", "exact", id="mc"),
        pytest.param("lhs", "at least", id="lhs"),
        pytest.param("sobol", "at least", id="sobol"),
    ],
)
def test_bands_say_what_their_coverage_holds_for_the_sampler(net, sampler, kind):
    """Exact binomial coverage holds for independent draws only; a Latin hypercube or
    scrambled Sobol' design gives conservative intervals, and the result says so."""
    run = netsim.simulate(net, 256, seed=1, sampler=sampler)
    result = run_bands(run, "total", "global")
    assert result.attrs["sampler"] == sampler
    assert result.attrs["coverage_kind"] == kind
    assert sampler in result.attrs["coverage_note"]
    assert (
        band_intervals(run["total"].sum("country"), sampler=sampler).attrs["coverage_kind"] == kind
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sampler", "said"),
    [
        pytest.param("mc", "coverage exact (mc", id="mc"),
        pytest.param("lhs", "coverage at least as stated (lhs", id="lhs"),
    ],
)
def test_the_printed_bands_say_what_their_coverage_holds(tmp_path, capsys, sampler, said):
    run = tmp_path / f"{sampler}.nc"
    argv = ["run", str(NET_CONFIG), "--draws", "256", "--sampler", sampler, "--out", str(run)]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(["bands", str(run)]) == 0
    title = capsys.readouterr().out.splitlines()[0]
    assert said in title


@pytest.mark.slow
def test_library_and_cli_keep_the_same_solution_for_a_change(net, tmp_path, capsys):
    """One default for a change: ``load_scenario(path, sets)`` and ``netsim compare --set``
    both keep the base's growth solution, so the library and the CLI give the same
    numbers, and a stronger PRRT driver gives a larger PRRT market (recalibrated, the
    solver took the gain back and the library's difference came out negative)."""
    change = "drivers.targeted_prrt_expansion.impact.mode=1.8"
    changed = netsim.load_scenario(NET_CONFIG, [change])
    assert changed.calibration.inherited_from == str(NET_CONFIG)
    library = compare(
        net, {"changed": changed}, draws=2000, seed=3, output="by_modality", by="global"
    )
    out = tmp_path / "compare.nc"
    argv = ["compare", str(NET_CONFIG), "--set", change, "--draws", "2000", "--seed", "3"]
    assert main([*argv, "--output", "by_modality", "--out", str(out)]) == 0
    assert "the base's" in capsys.readouterr().out
    with xr.open_dataset(out, engine="h5netcdf") as written:
        cli = written.load()
    np.testing.assert_array_equal(cli["difference"].values, library["difference"].values)
    prrt = library["difference"].sel(scenario="changed", year=2031, modality="PRRT")
    assert float(prrt.sel(quantile=0.5)) > 0.0
    run = netsim.simulate(changed, 10, seed=1)
    assert run.attrs["calibration_used"] == f"kept from {NET_CONFIG} (not recalibrated)"
    solved = netsim.load_scenario(NET_CONFIG, [change], recalibrate=True)
    assert netsim.simulate(solved, 10, seed=1).attrs["calibration_used"] == (
        "solved for this scenario"
    )
