"""Sensitivity: Sobol against analytic indices, tornado against deterministic, rank
correlations against scipy, attribution and tail attribution adding up."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import netsim
from netsim.analytic import ishigami, sobol_g
from netsim.analyze import sensitivity
from netsim.analyze.saltelli import SaltelliSums, _jackknife_spread, _ratios, sobol_indices
from netsim.errors import ScenarioError
from netsim.kernels.saltelli import (
    MOMENTS,
    saltelli_base_sums_kernel,
    saltelli_group_kernel,
)
from netsim.scenario.distributions import Distribution


def _assert_within_interval(result, exact, name):
    """The estimate is close to the exact index and the intervals are informative (their
    coverage is checked over many seeds below)."""
    low, high = result[f"{name}_interval"].values
    width = high - low
    assert np.all(width < 0.1), f"{name} intervals too wide to be informative: {width}"
    np.testing.assert_allclose(result[name].values, exact, atol=0.03)


@pytest.mark.parametrize(
    ("reference", "n"), [(ishigami(), 2**13), (sobol_g(), 2**12)], ids=["ishigami", "sobol_g"]
)
def test_sobol_matches_analytic_indices(reference, n):
    result = sobol_indices(reference.model, reference.distributions, n, seed=5)
    _assert_within_interval(result, reference.first_order, "first_order")
    _assert_within_interval(result, reference.total_order, "total_order")
    assert result.attrs["evaluations"] == n * (len(reference.distributions) + 2)


def test_zero_variance_input_has_exactly_zero_indices():
    reference = ishigami()
    constant = Distribution("fixed", {"value": 0.5})

    def model(x):  # the fourth input enters the formula but never varies
        return reference.model(x[:, :3]) + x[:, 3] ** 2

    result = sobol_indices(model, [*reference.distributions, constant], 1024, seed=1)
    assert result["first_order"].values[3] == 0.0
    assert result["total_order"].values[3] == 0.0


def test_grouped_indices_and_refusal_without_groups():
    reference = sobol_g((0.0, 1.0, 9.0))
    with pytest.raises(ScenarioError, match="correlated inputs"):
        sobol_indices(reference.model, reference.distributions, 64, uniform_transform=lambda u: u)
    grouped = sobol_indices(
        reference.model, reference.distributions, 2**12, groups=[[0, 1], [2]], seed=2
    )
    assert list(grouped["parameter"].values) == ["x1 + x2", "x3"]
    # the group's total index is that of x1 and x2 together: 1 - S3's complement
    partial = 1.0 / (3.0 * (1.0 + np.array([0.0, 1.0, 9.0])) ** 2)
    variance = np.prod(1 + partial) - 1
    closed_first = ((1 + partial[0]) * (1 + partial[1]) - 1) / variance
    assert abs(float(grouped["first_order"][0]) - closed_first) < 0.03


def test_scenario_sobol_groups_correlated_inputs(net):
    result = sensitivity.sobol(net, 64, "total", "global")
    labels = list(result["parameter"].values)
    assert "drivers.targeted_prrt_expansion.impact + restraints.isotope_supply.impact" in labels
    fixed = "drivers.imaging_diagnostics.delay"
    assert fixed in labels
    assert np.all(result["first_order"].sel(parameter=fixed).values == 0.0)
    assert np.all(result["total_order"].sel(parameter=fixed).values == 0.0)
    by_driver = sensitivity.sobol(net, 64, "total", "global", group="driver")
    assert "events.isotope_outage" in by_driver["parameter"].values
    assert by_driver.attrs["evaluations"] == 64 * (by_driver.sizes["parameter"] + 2)


@pytest.fixture(scope="module")
def tornado_by_country(net):
    return sensitivity.tornado(net, "by_modality", "country")


@settings(max_examples=8)
@given(index=st.integers(0, 69), side=st.sampled_from(["low", "high"]))
def test_tornado_equals_deterministic_at_shifted_inputs(net, tornado_by_country, index, side):
    name = net.parameter_names[index % len(net.parameter_names)]
    value = float(tornado_by_country[f"input_{side}"].sel(parameter=name))
    expected = netsim.deterministic(net, {name: value})["by_modality"]
    got = tornado_by_country[side].sel(parameter=name).transpose(*expected.dims)
    np.testing.assert_array_equal(got.values, expected.values)


def test_tornado_zero_swing_for_fixed_input_and_base_is_deterministic(net, tornado_by_country):
    swing = tornado_by_country["swing"].sel(parameter="drivers.liquid_biopsy.delay")
    assert np.all(swing.values == 0.0)
    base = netsim.deterministic(net)["by_modality"]
    np.testing.assert_array_equal(
        tornado_by_country["base"].transpose(*base.dims).values, base.values
    )
    top = sensitivity.ranking(
        tornado_by_country, {"year": 2031, "country": "Germany", "modality": "PRRT"}
    )
    assert top["parameter"].values[0] == "drivers.targeted_prrt_expansion.impact"


@pytest.mark.slow
def test_spearman_and_prcc_match_direct_computation(net_run):
    rho = sensitivity.spearman(net_run, "total", "global")
    cell = netsim.global_total(net_run["total"]).sel(year=2031).values
    inputs = net_run["inputs"].values
    for j in (0, 5, 21):
        expected = stats.spearmanr(inputs[:, j], cell).statistic
        assert float(rho.sel(year=2031).isel(parameter=j)) == pytest.approx(expected, abs=1e-10)
    assert float(rho.sel(year=2031, parameter="drivers.liquid_biopsy.delay")) == 0.0

    partial = sensitivity.prcc(net_run, "total", "global")
    ranks = stats.rankdata(inputs, axis=0)
    varying = np.flatnonzero(inputs.std(axis=0) > 0)
    y = stats.rankdata(cell)
    j = int(np.flatnonzero(np.array(net_run["parameter"].values) == "market.base_scale")[0])
    others = np.column_stack([np.ones(len(y)), ranks[:, [k for k in varying if k != j]]])

    def residual(v):
        return v - others @ np.linalg.lstsq(others, v, rcond=None)[0]

    expected = np.corrcoef(residual(ranks[:, j]), residual(y))[0, 1]
    assert float(partial.sel(year=2031).isel(parameter=j)) == pytest.approx(expected, abs=1e-8)
    assert np.nanmax(np.abs(partial.values)) <= 1.0 + 1e-12


def test_attribution_adds_up_to_the_base_case(net):
    result = sensitivity.attribution(net, "by_modality", "region")
    total = result["baseline"] + result["contribution"].sum("driver")
    np.testing.assert_allclose(total.values, result["forecast"].values, rtol=1e-12)
    base = netsim.by_region(netsim.deterministic(net)["by_modality"])
    np.testing.assert_allclose(
        result["forecast"].transpose(*base.dims).values, base.values, rtol=1e-12
    )
    off = {d.impact.name: 0.0 for d in net.drivers}
    for event in net.events:
        off.update({p.name: 0.0 for p in event.occurs})
    baseline = netsim.by_region(netsim.deterministic(net, off)["by_modality"])
    np.testing.assert_allclose(
        result["baseline"].transpose(*baseline.dims).values, baseline.values, rtol=1e-12
    )
    prrt = result["contribution"].sel(year=2031, region="Europe", modality="PRRT")
    assert prrt.sel(driver="drivers.targeted_prrt_expansion") > 0
    assert prrt.sel(driver="restraints.isotope_supply") < 0


def test_tail_attribution_decomposes_the_shortfall(net, net_run):
    result = sensitivity.tail_attribution(net, net_run, {"year": 2031}, "total", "global")
    parts = (
        float(result["reference_offset"])
        + float(result["contribution"].sum())
        + float(result["interaction"])
    )
    assert parts == pytest.approx(float(result["shortfall"]), rel=1e-12)
    assert float(result["shortfall"]) < 0
    assert result.attrs["tail_draws"] == 400
    assert float(result["contribution"].sel(parameter="drivers.liquid_biopsy.delay")) == 0.0
    worst = result["contribution"].idxmin().item()
    assert worst == "market.base_scale"
    with pytest.raises(ScenarioError, match="does not pick one value"):
        sensitivity.tail_attribution(net, net_run, {"year": 2031}, "total", "region")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("reference", "n"),
    [
        pytest.param(ishigami(), 64, id="ishigami-64"),
        pytest.param(sobol_g(), 64, id="g-64"),
        pytest.param(ishigami(), 256, id="ishigami-256"),
        pytest.param(ishigami(), 1024, id="ishigami-1024"),
    ],
)
def test_sobol_intervals_cover_the_exact_indices_over_seeds(reference, n):
    """Over 200 seeds, each 95 % interval holds the exact index at least 0.93 of the time,
    less three binomial standard deviations of 200 seeds (0.876), and 0.95 on average
    over the indices, less three standard deviations of all their seeds together. The
    blocks of one scrambling are dependent, so this is what the attrs call an estimated
    coverage (Sobol G at n = 256 has a test of its own below)."""
    seeds = 200
    hits = {"first_order": [], "total_order": []}
    for seed in range(seeds):
        result = sobol_indices(reference.model, reference.distributions, n, seed=seed)
        for name, exact in (
            ("first_order", reference.first_order),
            ("total_order", reference.total_order),
        ):
            low, high = result[f"{name}_interval"].values
            hits[name].append((low <= exact) & (exact <= high))
    assert result.attrs["interval_coverage"] == "estimated"
    floor = 0.93 - 3 * np.sqrt(0.93 * 0.07 / seeds)
    for name, found in hits.items():
        coverage = np.mean(found, axis=0)
        assert np.all(coverage >= floor), (name, coverage)
        assert np.mean(coverage) >= 0.95 - np.sqrt(0.95 * 0.05 / (seeds * coverage.size)) * 3


@pytest.mark.slow
def test_sobol_g_intervals_cover_where_every_block_shares_the_error():
    """Sobol G at n = 256 over 400 seeds kept apart from those the interval was tuned on
    (2,000 to 2,399; the benchmark uses 0 to 1,999): every index's 95 % interval holds
    the exact index at least 0.93 of the time, less 2.5 binomial standard deviations of
    400 seeds (0.898). The jackknife over the blocks alone covered the totals of x3 and x6
    0.89 and 0.85 of the time here: their error is shared by every block of the design
    (clusters of seeds at 2 to 3 times its RMS), and only the iid floor catches it."""
    reference, n, seeds = sobol_g(), 256, 400
    hits = {"first_order": [], "total_order": []}
    for seed in range(2000, 2000 + seeds):
        result = sobol_indices(reference.model, reference.distributions, n, seed=seed)
        for name in hits:
            exact = getattr(reference, name)
            low, high = result[f"{name}_interval"].values
            hits[name].append((low <= exact) & (exact <= high))
    floor = 0.93 - 2.5 * np.sqrt(0.93 * 0.07 / seeds)
    for name, found in hits.items():
        coverage = np.mean(found, axis=0)
        assert np.all(coverage >= floor), (name, coverage.round(3))


def test_the_iid_standard_errors_are_the_delete_one_row_jackknife_s():
    """The delta method's standard errors of the pooled indices (the interval's floor)
    against an independent route to the same quantity: the delete-one-row jackknife
    (blocks of one row), which agrees with the delta method to O(1 / n) for a smooth
    function of means. Independent uniform rows, n = 4,096: within 1 %."""
    reference, n = sobol_g(), 4096
    rng = np.random.default_rng(11)
    d = len(reference.distributions)
    x_a, x_b = rng.uniform(size=(2, n, d))
    f_a, f_b = reference.model(x_a)[:, None], reference.model(x_b)[:, None]
    sums = SaltelliSums.of_base(f_a, f_b, n)
    for i in range(d):
        x_ab = x_a.copy()
        x_ab[:, i] = x_b[:, i]
        sums.add_group(reference.model(x_ab)[:, None])
    rows = n
    total = {k: getattr(sums, k).sum(axis=0) for k in ("sum_ab", "sum_squares")}
    group = [np.stack(v) for v in (sums.first_sums, sums.difference_sums, sums.total_sums)]
    pooled = _ratios(total["sum_ab"], total["sum_squares"], *(g.sum(axis=1) for g in group), n)
    left_out = _ratios(
        total["sum_ab"] - sums.sum_ab,
        total["sum_squares"] - sums.sum_squares,
        *(g.sum(axis=1, keepdims=True) - g for g in group),
        rows - 1,
    )
    first_iid, total_iid = sums.iid_standard_errors(pooled)
    np.testing.assert_allclose(first_iid, _jackknife_spread(left_out.first), rtol=0.01)
    np.testing.assert_allclose(total_iid, _jackknife_spread(left_out.total), rtol=0.01)


def _accuracy_study():
    """benchmarks/sobol_accuracy.py, the one place that runs SALib beside netsim."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "sobol_accuracy.py"
    spec = importlib.util.spec_from_file_location("sobol_accuracy", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("sobol_accuracy", module)  # its dataclasses look themselves up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize(
    ("reference", "n"),
    [
        pytest.param(ishigami(), 1024, id="ishigami-1024"),
        pytest.param(sobol_g(), 1024, id="g-1024"),
        pytest.param(ishigami(), 64, id="ishigami-64"),
    ],
)
def test_sobol_estimates_are_unbiased_and_as_accurate_as_salib(reference, n):
    """Over 200 seeds: no index is biased by more than 0.01 beyond three standard errors
    of the mean over seeds, and no index's RMSE exceeds SALib's (on its own design of the
    same n, the same evaluations) by more than three standard errors of the log of their
    ratio over the seeds. Splitting the rows into 8 independently scrambled designs made
    the RMSE 4 to 6 times SALib's at n = 1,024."""
    pytest.importorskip("SALib")
    seeds = 200
    result = _accuracy_study().study(reference, n, seeds)
    for name in ("first_order", "total_order"):
        exact = getattr(reference, name)
        ours, theirs = (result.netsim[name] - exact) ** 2, (result.salib[name] - exact) ** 2
        error = result.netsim[name] - exact
        standard_error = error.std(axis=0, ddof=1) / np.sqrt(seeds)
        assert np.all(np.abs(error.mean(axis=0)) <= 3 * standard_error + 0.01), name
        log_ratio = 0.5 * (np.log(ours.mean(axis=0)) - np.log(theirs.mean(axis=0)))
        # delta method: var(log mean(e**2)) = var(e**2) / (seeds mean(e**2)**2)
        spread = 0.5 * np.sqrt(
            ours.var(axis=0, ddof=1) / (seeds * ours.mean(axis=0) ** 2)
            + theirs.var(axis=0, ddof=1) / (seeds * theirs.mean(axis=0) ** 2)
        )
        assert np.all(log_ratio <= 3 * spread), (name, np.exp(log_ratio), np.exp(3 * spread))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("reference", "n"),
    [pytest.param(ishigami(), 256, id="ishigami-256"), pytest.param(sobol_g(), 256, id="g-256")],
)
def test_sobol_estimates_are_salibs_on_the_same_design(reference, n):
    """SALib's ``analyze`` on netsim's own design (the same rows and evaluations, laid out
    as SALib's sampler lays them out), seed by seed: the two differ only in the constant
    ``f_B`` is centred on (the mean of ``f_A`` and ``f_B`` here, of every evaluation in
    SALib), a product of two errors of the design, so over 10 seeds every index's RMSE is
    SALib's within 1 %. The design noise that made netsim / SALib read up to 1.40x at 100
    seeds (each on its own design) is absent here: over 1,000 seeds of each n and both
    functions this ratio was 0.999 to 1.001."""
    pytest.importorskip("SALib")
    accuracy = _accuracy_study()
    ours, theirs = [], []
    for seed in range(10):
        result = sobol_indices(reference.model, reference.distributions, n, seed=seed)
        peer = accuracy.salib_indices(reference, n, seed, own_design=False)
        ours.append(np.r_[result["first_order"].values, result["total_order"].values])
        theirs.append(np.r_[peer["first_order"], peer["total_order"]])
    exact = np.r_[reference.first_order, reference.total_order]
    ratio = accuracy.rmse(np.array(ours), exact) / accuracy.rmse(np.array(theirs), exact)
    np.testing.assert_allclose(ratio, 1.0, atol=0.01)


def _kernel_inputs(seed: int, rows: int, cells: int) -> tuple[np.ndarray, ...]:
    """Random centred base outputs, a group's outputs and the centre, as the kernels take them."""
    rng = np.random.default_rng(seed)
    centred_a, centred_b = rng.normal(size=(2, rows, cells))
    f_ab = rng.normal(size=(rows, cells)) * 3.0 + 1.0
    return centred_a, centred_b, f_ab, rng.normal(size=cells)


def test_the_moments_kernel_equals_numpy_sums():
    """The one-pass kernel of a group's products of row terms against numpy's sums."""
    blocks, rows, cells = 4, 16, 5
    centred_a, centred_b, f_ab, center = _kernel_inputs(4, blocks * rows, cells)
    moments = np.empty((blocks, len(MOMENTS), cells))
    sums = [np.empty((blocks, cells)) for _ in range(3)]
    saltelli_group_kernel(centred_a, centred_b, f_ab, center, *sums, moments)
    d = (f_ab - center) - centred_a
    terms = {
        "u": centred_b * d,
        "w": d,
        "q": d * d / 2,
        "p": (centred_a + centred_b) / 2,
        "s": (centred_a**2 + centred_b**2) / 2,
    }
    for k, name in enumerate(MOMENTS):
        product = (terms[name[0]] * terms[name[1]]).reshape(blocks, rows, cells)
        np.testing.assert_allclose(moments[:, k], product.sum(axis=1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("blocks", "rows", "cells"),
    [
        pytest.param(4, 16, 5, id="fewer-cells-than-a-task"),
        pytest.param(16, 256, 210, id="cells-of-four-tasks"),
        pytest.param(1, 3, 130, id="one-block"),
    ],
)
def test_the_base_sums_kernel_is_numpys_sums_to_the_bit(blocks, rows, cells):
    """The one-pass kernel of the base matrices' sums gives what numpy's reductions over
    the leading axis give (each adds its rows in order), bit for bit: the Sobol indices
    and their intervals did not move when it replaced them."""
    rng = np.random.default_rng(blocks * rows + cells)
    f_a, f_b = rng.lognormal(3.0, 0.5, size=(2, blocks * rows, cells))
    sums = SaltelliSums.of_base(f_a, f_b, blocks)
    center = 0.5 * (f_a.mean(axis=0) + f_b.mean(axis=0))
    a, b = f_a - center, f_b - center
    by_block = (blocks, rows, cells)
    half_sum, half_squares = 0.5 * (a + b), 0.5 * (a**2 + b**2)
    np.testing.assert_array_equal(
        sums.sum_ab, a.reshape(by_block).sum(axis=1) + b.reshape(by_block).sum(axis=1)
    )
    np.testing.assert_array_equal(
        sums.sum_squares,
        (a * a).reshape(by_block).sum(axis=1) + (b * b).reshape(by_block).sum(axis=1),
    )
    expected = [(half_sum**2).sum(axis=0), (half_squares**2).sum(axis=0)]
    expected.append((half_sum * half_squares).sum(axis=0))
    np.testing.assert_array_equal(sums.base_moments, np.stack(expected))
    # and the kernel alone zeroes what it is given
    out = [np.full((blocks, cells), np.nan) for _ in range(4)] + [np.full((3, cells), np.nan)]
    saltelli_base_sums_kernel(a, b, *out)
    np.testing.assert_array_equal(out[0] + out[1], sums.sum_ab)


def test_the_sums_kernel_equals_numpy_sums():
    """The one-pass kernel of a group's sums against numpy's sums of the same products."""
    blocks, rows, cells = 4, 16, 5
    centred_a, centred_b, f_ab, center = _kernel_inputs(3, blocks * rows, cells)
    sums = [np.empty((blocks, cells)) for _ in range(3)]
    moments = np.empty((blocks, len(MOMENTS), cells))
    saltelli_group_kernel(centred_a, centred_b, f_ab, center, *sums, moments)
    d = ((f_ab - center) - centred_a).reshape(blocks, rows, cells)
    b = centred_b.reshape(blocks, rows, cells)
    expected = [(b * d).sum(axis=1), d.sum(axis=1), (d * d).sum(axis=1)]
    for got, want in zip(sums, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
