"""Invariant 4: sampled marginals and correlations are what the scenario says."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import netsim
from netsim.errors import ArgumentValueError, ScenarioError
from netsim.sampling.uniforms import keyed_uniforms, sample_uniforms, stream_key

from .conftest import NET_CONFIG
from .helpers import small_scenario


@pytest.mark.slow
def test_sampling_and_running_do_not_import_scipy_stats():
    code = (
        "import sys, netsim; sc = netsim.load_scenario(sys.argv[1]); "
        "netsim.simulate(sc, 100, seed=1); print('scipy.stats' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(NET_CONFIG)], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_keyed_uniforms_are_uniform_and_independent_of_the_range():
    key = stream_key(7, "a.b")
    whole = keyed_uniforms(key, 0, 50_000)
    assert stats.kstest(whole, "uniform").pvalue > 1e-3
    np.testing.assert_array_equal(whole[1000:2000], keyed_uniforms(key, 1000, 2000))
    assert whole.min() > 0.0 and whole.max() < 1.0
    other = keyed_uniforms(stream_key(7, "a.c"), 0, 50_000)
    assert abs(stats.spearmanr(whole, other).statistic) < 4 / np.sqrt(50_000)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**63 - 1),
    start=st.integers(0, 2**50 - 300),  # draw indices up to the largest run netsim accepts
    length=st.integers(1, 300),
    names=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=6, unique=True),
)
def test_mc_kernel_equals_the_keyed_streams(seed, start, length, names):
    # sample_uniforms fills every column in one parallel kernel: the numpy formula's values
    stop = start + length
    kernel = sample_uniforms(tuple(names), stop, seed, "mc", start, stop)
    for j, name in enumerate(names):
        np.testing.assert_array_equal(
            kernel[:, j], keyed_uniforms(stream_key(seed, name), start, stop)
        )


def test_lhs_is_stratified():
    u = sample_uniforms(("a", "b"), 1000, seed=3, sampler="lhs")
    for column in u.T:
        np.testing.assert_array_equal(np.sort(np.floor(column * 1000)), np.arange(1000))


@pytest.mark.parametrize("rho", [-0.6, 0.3, 0.8])
def test_achieved_rank_correlation_and_marginals(rho):
    document = small_scenario()
    document["correlations"]["c"]["rho"] = rho
    scenario = netsim.load_scenario(document)
    n = 40_000
    inputs = netsim.sample_inputs(scenario, n, seed=12)
    i = scenario.parameter_index["market.base_scale"]
    j = scenario.parameter_index["events.outage.impact"]
    achieved = stats.spearmanr(inputs[:, i], inputs[:, j]).statistic
    # sampling sd of Spearman's rho is about (1 - rho^2) / sqrt(n); allow 5 of them
    assert abs(achieved - rho) < 5 * (1 - rho**2) / np.sqrt(n) + 1e-3
    for column in (i, j):
        distribution = scenario.parameters[column].distribution
        assert stats.kstest(inputs[:, column], distribution.frozen().cdf).pvalue > 1e-3


def test_uncorrelated_parameters_are_untouched_by_the_copula():
    document = small_scenario()
    document["correlations"]["c"]["rho"] = 0.7
    scenario = netsim.load_scenario(document)
    plain = sample_uniforms(scenario.parameter_names, 100, seed=1)
    _inputs, uniforms = netsim.sample_inputs(scenario, 100, seed=1, return_uniforms=True)
    k = scenario.parameter_index["drivers.d0.impact"]
    np.testing.assert_array_equal(plain[:, k], uniforms[:, k])


@pytest.mark.parametrize(
    ("draws", "seed", "sampler", "message"),
    [(0, 1, "mc", "draws=0"), (10, -1, "mc", "seed=-1"), (10, 1, "halton", "sampler")],
)
def test_bad_sampling_requests(net, draws, seed, sampler, message):
    with pytest.raises(ArgumentValueError, match=message) as refused:
        netsim.sample_inputs(net, draws, seed, sampler)
    assert refused.value.argument == message.partition("=")[0]


def test_symmetric_eigen_agrees_with_lapack():
    from netsim.sampling.copula import symmetric_eigen

    rng = np.random.default_rng(4)
    for n in (1, 2, 5, 12):
        a = rng.normal(size=(n, n))
        matrix = a @ a.T + np.eye(n)
        values, vectors = symmetric_eigen(matrix)
        expected = np.linalg.eigvalsh(matrix)
        np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12 * expected.max())
        np.testing.assert_allclose(vectors @ np.diag(values) @ vectors.T, matrix, atol=1e-11)
        np.testing.assert_allclose(vectors.T @ vectors, np.eye(n), atol=1e-13)


def test_copula_factor_is_the_symmetric_square_root(net):
    from netsim.sampling.copula import correlation_factor

    columns, factor = correlation_factor(net)
    names = [net.parameter_names[c] for c in columns]
    assert names == sorted(names)
    np.testing.assert_array_equal(factor, factor.T)
    rank = np.eye(len(names))
    for c in net.correlations:
        i, j = names.index(c.parameters[0]), names.index(c.parameters[1])
        rank[i, j] = rank[j, i] = c.rho
    np.testing.assert_allclose(factor @ factor, 2 * np.sin(np.pi * rank / 6), atol=1e-14)


def _reordered(document: dict, order: list[int]) -> dict:
    """The document with its drivers (a table) in another order."""
    reordered = dict(document)
    items = list(document["drivers"].items())
    reordered["drivers"] = dict(items[i] for i in order)
    return reordered


@settings(max_examples=6, deadline=None)
@given(st.permutations(range(6)), st.sampled_from(["mc", "lhs"]))
def test_moving_correlated_drivers_changes_no_draw(order, sampler):
    import tomllib

    document = tomllib.loads(NET_CONFIG.read_text())
    assert len(document["drivers"]) == 6
    assert any(c["rho"] != 0 for c in document["correlations"].values())
    base = netsim.load_scenario(document)
    moved = netsim.load_scenario(_reordered(document, list(order)))
    first = netsim.sample_inputs(base, 300, seed=2, sampler=sampler)
    second = netsim.sample_inputs(moved, 300, seed=2, sampler=sampler)
    for name in base.parameter_names:
        np.testing.assert_array_equal(
            first[:, base.parameter_index[name]], second[:, moved.parameter_index[name]]
        )


@pytest.mark.slow
@pytest.mark.skipif(
    __import__("platform").machine() != "x86_64", reason="OpenBLAS core types are x86-64 names"
)
def test_correlated_draws_do_not_depend_on_the_cpus_blas_kernels():
    code = (
        "import hashlib, netsim; "
        f"sc = netsim.load_scenario(r'{NET_CONFIG}'); "
        "x = netsim.sample_inputs(sc, 2000, seed=5); "
        "print(hashlib.sha256(x.tobytes()).hexdigest())"
    )
    digests = set()
    for core in ("Prescott", "Sandybridge", "Haswell"):
        env = {**__import__("os").environ, "OPENBLAS_CORETYPE": core}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
        )
        assert done.returncode == 0, done.stderr
        digests.add(done.stdout.strip())
    assert len(digests) == 1


@pytest.mark.slow
def test_a_library_run_defers_dask_array_until_a_dask_array_is_made():
    # xarray would import dask.array (0.28 s) to test numpy data against its type
    code = (
        "import sys, netsim; sc = netsim.load_scenario(sys.argv[1]); "
        "run = netsim.simulate(sc, 100, seed=1); netsim.bands(run['total']); "
        "print('dask.array' in sys.modules); "
        "import dask.array as da, xarray as xr; "
        "print(xr.DataArray(da.ones((4, 4), chunks=2)).chunks is not None)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(NET_CONFIG)], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]


def test_every_column_of_a_correlated_lhs_design_keeps_all_its_strata(net):
    """The copula's rank correlations come from reordering the stratified columns
    (Iman-Conover): each of the 1,000 strata of every column, correlated or not, holds
    exactly one draw (a Gaussian copula applied draw by draw left the 7 correlated NET
    parameters about 62 % of their strata), the rank correlations hold, and chunks give
    the same draws."""
    draws = 1000
    inputs, uniforms = netsim.sample_inputs(net, draws, seed=6, sampler="lhs", return_uniforms=True)
    strata = np.floor(uniforms * draws).astype(np.int64)
    for j, name in enumerate(net.parameter_names):
        assert np.array_equal(np.sort(strata[:, j]), np.arange(draws)), name
    for pair in net.correlations:
        i, j = (net.parameter_index[p] for p in pair.parameters)
        achieved = stats.spearmanr(inputs[:, i], inputs[:, j]).statistic
        # the sampling sd of Spearman's rho is about (1 - rho^2) / sqrt(n): 5 of them
        assert abs(achieved - pair.rho) < 5 * (1 - pair.rho**2) / np.sqrt(draws), pair
    chunked = [
        netsim.sample_inputs(net, draws, seed=6, sampler="lhs", start=a, stop=min(a + 300, draws))
        for a in range(0, draws, 300)
    ]
    np.testing.assert_array_equal(np.vstack(chunked), inputs)


@pytest.mark.parametrize(
    ("sampler", "said"),
    [
        pytest.param("mc", "Gaussian copula on independent draws", id="mc"),
        pytest.param("lhs", "Iman-Conover", id="lhs"),
        pytest.param("sobol", "not the design's one point per interval", id="sobol"),
    ],
)
def test_a_run_says_how_its_sampler_imposed_the_correlations(net, sampler, said):
    assert said in netsim.simulate(net, 64, seed=1, sampler=sampler).attrs["correlation_method"]


def test_a_correlated_lhs_design_too_large_to_rank_is_refused(net):
    """The ranks of a correlated Latin hypercube span the whole design: one of a billion
    draws is refused in one line, before any memory is taken."""
    with pytest.raises(ScenarioError, match="use sampler mc"):
        netsim.sample_inputs(net, 10**9, seed=1, sampler="lhs", start=0, stop=1000)
