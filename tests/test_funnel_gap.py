"""Where the gap is: the absolute gaps of reconcile add up over cells, and the base-year
decomposition into the funnel's factors adds up to the gap (Shapley), with every factor
at its implied value making the two models agree (checked by the kernel)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.analyze.gap import log_variance
from netsim.analyze.reconcile import reconcile, reconcile_cells
from netsim.cli import main
from netsim.model.arrays import expected_draw_arrays
from netsim.model.propagate import run_kernel

from .conftest import NET_CONFIG
from .test_funnel import funnel_document, simple_funnel, with_funnel


@pytest.fixture(scope="module")
def full() -> netsim.Scenario:
    return netsim.load_scenario(funnel_document())


@pytest.mark.parametrize("by", [pytest.param(b, id=b) for b in ("region", "country", "axis0")])
def test_the_mean_gaps_of_the_cells_add_up_to_the_worlds(full, by):
    world = reconcile(full, draws=300, seed=2)
    cells = reconcile(full, draws=300, seed=2, by=by)
    cell_dims = [d for d in cells["gap_mean"].dims if d != "year"]
    summed = cells["gap_mean"].sum(cell_dims)
    # the runs' cells are float32: segments sum to the total within one rounding each
    np.testing.assert_allclose(summed.values, world["gap_mean"].values, rtol=1e-6)
    np.testing.assert_allclose(cells["gap_share"].sum(cell_dims).values, 1.0, rtol=1e-12)
    np.testing.assert_allclose(world["gap_share"].values, 1.0)
    # the bands are those of the paired differences
    assert (cells["gap"].sel(quantile=0.95) >= cells["gap"].sel(quantile=0.05)).all()


def _overrides(scenario: netsim.Scenario, result: xr.Dataset, pick: dict) -> dict[str, float]:
    """Every factor at its implied value (the mix at the top-down model's), as parameter
    overrides in the file's units."""
    funnel = scenario.funnel
    solved = scenario.calibration.funnel_scale
    changes = {}
    implied = result["gap_factor_implied"].sel(pick)
    for factor in funnel.factors:
        name = factor.parameter.name
        if name in implied["factor"].values:
            value = float(implied.sel(factor=name))
            changes[name] = value / solved.get(factor.name, 1.0)
    if "gap_implied_mix" in result:
        mix = result["gap_implied_mix"]
        for segment, share in zip(mix[mix.dims[0]].values, mix.values, strict=True):
            factor = next(
                f for f in funnel.factors if f.kind == "split" and f.segment == str(segment)
            )
            if factor.axis == funnel.cost_axis:
                changes[factor.parameter.name] = float(share)
    return changes


@pytest.mark.parametrize("by", [pytest.param(b, id=b) for b in ("global", "region", "axis0")])
def test_the_shapley_values_add_up_to_the_gap_and_the_implied_values_agree(full, by):
    result = reconcile(full, draws=200, seed=1, by=by)
    gap = result["gap_base_year"]
    shapley = result["gap_closed_shapley"].sum("factor")
    assert float(np.abs(gap).min()) > 1.0  # there is a gap to decompose
    np.testing.assert_allclose(shapley.values, gap.values, rtol=1e-9)
    # the base-year gap is the two base cases' difference
    base = result["patient_based_base"].isel(year=0) - result["top_down_base"].isel(year=0)
    np.testing.assert_allclose(gap.values, base.values, rtol=1e-9)
    # every factor at its implied value: the kernel's funnel meets the top-down value
    cells = [d for d in gap.dims]
    for pick in [dict(zip(cells, c, strict=True)) for c in np.ndindex(gap.shape)] or [{}]:
        pick = {d: gap[d].values[i] for d, i in pick.items()}
        rows = expected_draw_arrays(full, [_overrides(full, result, pick)])
        td, pb = reconcile_cells(full, run_kernel(full, rows), by)
        got = pb.isel(draw=0, year=0).sel(pick) / td.isel(draw=0, year=0).sel(pick)
        assert abs(float(got) - 1.0) < 1e-9, pick


def test_the_level_factors_share_the_log_gap_by_their_log_variance():
    """A pure product (a prevalence, one fixed stage, one cost): each lognormal factor's
    implied multiplier is (top-down / patient-based) ** (sigma^2 / sum sigma^2), the fixed
    stage keeps its value, and the multipliers' product closes the gap exactly."""
    sigmas = {
        "funnel.rate.value": 0.2,
        "funnel.cost.doses_per_year": 0.1,
        "funnel.cost.price_per_dose": 0.3,
    }
    scenario = netsim.load_scenario(with_funnel(simple_funnel(sigma_rate=0.2)))
    result = reconcile(scenario, draws=100, seed=0)
    ratio = float(result["top_down_base"].isel(year=0) / result["patient_based_base"].isel(year=0))
    point = result["gap_factor_point"]
    implied = result["gap_factor_implied"]
    logs = {
        name: float(np.log(implied.sel(factor=name) / point.sel(factor=name))) for name in sigmas
    }
    np.testing.assert_allclose(sum(logs.values()), np.log(ratio), rtol=1e-9)
    total = sum(s**2 for s in sigmas.values())
    for name, sigma in sigmas.items():
        # the log-variance is taken over 4,001 quantiles: close to sigma^2, not exact
        np.testing.assert_allclose(logs[name], np.log(ratio) * sigma**2 / total, rtol=5e-3)
    stage = "funnel.stages.treated.share"
    assert float(implied.sel(factor=stage)) == float(point.sel(factor=stage))
    assert float(result["gap_closed_shapley"].sel(factor=stage)) == 0.0


def test_log_variance_of_a_lognormal_is_its_sigma_squared():
    scenario = netsim.load_scenario(with_funnel(simple_funnel(sigma_rate=0.25)))
    distribution = scenario.parameter("funnel.rate.value").distribution
    assert abs(log_variance(distribution) / 0.25**2 - 1.0) < 5e-3
    assert log_variance(scenario.parameter("funnel.stages.treated.share").distribution) == 0.0


@pytest.mark.slow
def test_reconcile_prints_and_writes_the_gaps_and_the_decomposition(tmp_path, capsys):
    csv, out = tmp_path / "r.csv", tmp_path / "r.nc"
    argv = ["reconcile", str(NET_CONFIG), "--draws", "500", "--no-plot"]
    assert main([*argv, "--csv", str(csv), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "gap P50" in printed and "share of gap" in printed
    assert "the gap by factor" in printed and "the top-down model's mix" in printed
    factors = (tmp_path / "r_factors.csv").read_text().splitlines()
    assert factors[0].startswith("factor,gap,point,implied,closes alone")
    with xr.open_dataset(out) as written:
        shapley = written["gap_closed_shapley"].sum("factor")
        np.testing.assert_allclose(shapley.values, written["gap_base_year"].values, rtol=1e-9)
        assert "gap" in written and "gap_share" in written
    assert main([*argv, "--by", "country"]) == 0
    printed = capsys.readouterr().out
    assert "factors closing most of it (Shapley)" in printed
