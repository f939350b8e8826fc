"""Regression tests for faults a hostile reading of the patient funnel found: each fails on
the fault it names."""

from __future__ import annotations

import numpy as np
import pytest

import netsim
from netsim.cli.entry import main
from netsim.errors import ScenarioError
from netsim.model.layout import OutputLayout

from .conftest import NET_CONFIG


@pytest.fixture(scope="module")
def small_run(net):
    """A 300-draw run of the NET scenario with its draws."""
    return netsim.simulate(net, 300, seed=5)


def test_duration_does_not_grow_with_the_incidence_trend():
    """[funnel.rate] trend is the incidence's trend (2 % a year in the NET file); the years
    with the disease grow by duration_trend only (set to 0 here). With the drivers' funnel
    weights on the rate at 0, Germany's cases (population growth 0) must grow by 2 % a
    year, not 1.02**2 - 1."""
    unlinked = [
        f"drivers.{name}.funnel.rate=0"
        for name in ("rising_prevalence", "imaging_diagnostics", "liquid_biopsy")
    ]
    scenario = netsim.load_scenario(NET_CONFIG, [*unlinked, "funnel.rate.duration_trend.value=0"])
    cases = netsim.deterministic(scenario)["patients"].sel(country="Germany", stage="cases")
    growth = cases.values[1:] / cases.values[:-1] - 1
    np.testing.assert_allclose(growth, 0.02, rtol=1e-9)


def test_reconcile_run_reads_the_patients_by_label(small_run, tmp_path):
    """A run whose stage coordinate is in another order (a valid xarray selection, which
    open_run accepts) must give the same funnel check as the run itself, or be refused;
    the check was read by position, so it counted the wrong stage."""
    expected = netsim.reconcile_run(small_run)["check_funnel"].values
    reordered = small_run.sel(stage=list(small_run["stage"].values[::-1]))
    path = netsim.write_netcdf(reordered, tmp_path / "reordered.nc")
    try:
        got = netsim.reconcile_run(netsim.open_run(path))["check_funnel"].values
    except ScenarioError:
        got = expected  # refusing is as good as reading it right
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    reversed_years = small_run.isel(year=slice(None, None, -1))
    try:
        got = netsim.reconcile_run(reversed_years)["check_funnel"].values
    except ScenarioError:
        got = expected
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_patient_counts_are_not_labelled_in_the_market_unit(net):
    """`patients` and `treated_by_<axis>` count patients: a tornado or a comparison of them
    must not call them USD million."""
    patients = OutputLayout.of(net).output_attrs("patients")["units"]
    assert patients != net.unit
    tornado = netsim.tornado(net, "patients", "global")
    assert tornado["base"].attrs.get("units") == patients
    other = netsim.load_scenario(NET_CONFIG, ["funnel.stages.treated.share.mode=70"])
    result = netsim.compare(net, {"more treated": other}, 200, 0, "mc", "patients", "global")
    assert result["difference"].attrs.get("units") == patients


@pytest.mark.slow
def test_plot_fan_of_a_reduced_run_refuses_an_unknown_output_in_one_line(net, tmp_path, capsys):
    """Bad input to any command: one line, status 2, no traceback (a reduced run raised a
    KeyError for an --output it does not hold)."""
    run = netsim.simulate(net, 200, seed=1, reduce="bands")
    path = netsim.write_netcdf(run, tmp_path / "bands.nc")
    capsys.readouterr()
    status = main(
        ["plot", "fan", str(path), "--output", "nonsense", "--out", str(tmp_path / "f.png")]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("netsim: error: ") and err.count("\n") == 1
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob(".*partial"))


def test_a_bad_cost_per_year_is_named_by_its_own_key():
    """The error names the key the file holds (cost_per_year), not price_per_dose."""
    with pytest.raises(ScenarioError) as error:
        netsim.load_scenario(NET_CONFIG, ["funnel.cost.segments.Others.cost_per_year.low=-5"])
    assert "cost_per_year" in str(error.value)
    assert "price_per_dose" not in str(error.value)


@pytest.mark.slow
def test_reconcile_refuses_a_year_named_twice(tmp_path, capsys):
    """As netsim bands does ("name a year twice"): no duplicated rows."""
    argv = ["reconcile", str(NET_CONFIG), "--draws", "20", "--no-plot", "--year", "2026", "2026"]
    capsys.readouterr()
    status = main(argv)
    out = capsys.readouterr().out
    assert status == 2 or sum(line.lstrip().startswith("2026 ") for line in out.splitlines()) == 1


@pytest.mark.slow
def test_two_outputs_that_are_one_file_are_refused(tmp_path, capsys):
    """--plot and --csv through a link to one file: one would silently replace the other."""
    (tmp_path / "y.csv").symlink_to(tmp_path / "x.png")
    argv = ["reconcile", str(NET_CONFIG), "--draws", "50", "--plot", str(tmp_path / "x.png")]
    assert main([*argv, "--csv", str(tmp_path / "y.csv")]) == 2
    err = capsys.readouterr().err
    assert "the same file" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


@pytest.mark.slow
def test_bands_of_a_patient_output(small_run, tmp_path, capsys):
    """bands --output shows any output of a run, patients in patients, values in the unit."""
    path = netsim.write_netcdf(small_run, tmp_path / "run.nc")
    assert main(["bands", str(path), "--output", "patients", "--by", "region"]) == 0
    text = capsys.readouterr().out
    assert "bands of patients (region), patients" in text and "advanced" in text
    assert main(["bands", str(path), "--output", "patient_by_modality", "--year", "2031"]) == 0
    text = capsys.readouterr().out
    assert "USD million" in text and "PRRT" in text
    assert main(["bands", str(path), "--output", "patient_total", "--by", "modality"]) == 2


def test_the_implied_treated_share_of_a_region_is_its_own(net):
    """With --by region the implied share is the one the region's patients get: the file's
    figure, as the French count target solved it, times the region's by_region multiplier
    (0.7 in Asia-Pacific); by country, times the country's own too (India 0.5)."""
    result = netsim.reconcile(net, draws=50, seed=1, by="region")
    solved = net.calibration.funnel_scale["stages.treated"]
    assert solved != 1.0
    point = net.parameter("funnel.stages.treated.share").distribution.point * solved
    factor = result["implied_price_factor"]
    for region, multiplier in (("North America", 1.0), ("Asia-Pacific", 0.7)):
        expected = point * float(factor.sel(region=region)) * multiplier
        assert float(result["implied_treated_share"].sel(region=region)) == pytest.approx(
            expected, rel=1e-12
        )
    by_country = netsim.reconcile(net, draws=50, seed=1, by="country")
    expected = point * float(by_country["implied_price_factor"].sel(country="India")) * 0.7 * 0.5
    got = float(by_country["implied_treated_share"].sel(country="India"))
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
def test_reconcile_notes_an_unbalanced_sobol_design(capsys):
    argv = ["reconcile", str(NET_CONFIG), "--draws", "100", "--sampler", "sobol", "--no-plot"]
    assert main(argv) == 0
    assert "not a power of two" in capsys.readouterr().err
