"""The distributions a scenario may name (netsim.scenario.distributions): one row per
kind in ROWS, each checked for its fit under every sampler, its agreement with
scipy.stats, its support, its point value and its refusals. A kind registered without
a row here fails test_every_kind_has_a_row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from scipy import stats

from netsim.errors import ScenarioError
from netsim.kernels.beta_table import TABLE_ERROR
from netsim.sampling.uniforms import sample_uniforms
from netsim.scenario.distributions import (
    DISTRIBUTIONS,
    EXTREME_NORMAL_SCORES,
    LARGEST_UNIFORM,
    SMALLEST_UNIFORM,
    make_distribution,
)

N = 20_000
SAMPLERS = ("mc", "lhs", "sobol")


@dataclass(frozen=True)
class Row:
    """One kind's case: its parameters, its point value and mathematical support, a
    parameter set it refuses and the words of that refusal."""

    kind: str
    params: dict[str, Any]
    point: float
    bounds: tuple[float, float]
    refused: dict[str, Any]
    message: str
    tolerance: float = 0.0  # of its quantile against scipy's, in its unit
    outcomes: tuple[float, ...] = ()  # a discrete kind's values (chi-square, not KS)
    weights: tuple[float, ...] = field(default=())


ROWS = [
    Row(
        "fixed", {"value": 2.5}, 2.5, (2.5, 2.5), {"value": "2.5"}, "x.value='2.5' must be a number"
    ),
    Row(
        "uniform",
        {"low": -1.0, "high": 3.0},
        1.0,
        (-1.0, 3.0),
        {"low": 3.0, "high": -1.0},
        "x.low=3.0 must be <= high=-1.0",
    ),
    Row(
        "triangular",
        {"low": 0.0, "mode": 1.0, "high": 4.0},
        1.0,
        (0.0, 4.0),
        {"low": 0.0, "mode": 5.0, "high": 4.0},
        "x.mode=5.0 must be <= high=4.0",
    ),
    Row(
        "pert",
        {"low": 0.6, "mode": 1.2, "high": 1.8},
        1.2,
        (0.6, 1.8),
        {"low": 0.6, "mode": 1.2, "high": 1.8, "shape": 0},
        "x.shape=0.0 must be > 0",
        tolerance=TABLE_ERROR * 1.2,
    ),
    Row(
        "normal",
        {"mean": 2.0, "sd": 0.5},
        2.0,
        (-np.inf, np.inf),
        {"mean": 2.0, "sd": 0.0},
        "x.sd=0.0 must be > 0",
    ),
    Row(
        "truncnormal",
        {"mean": 0.0, "sd": 1.0, "low": -0.5, "high": 2.0},
        0.0,
        (-0.5, 2.0),
        {"mean": 3.0, "sd": 1.0, "low": -0.5, "high": 2.0},
        "x.mean=3.0 must lie in [low=-0.5, high=2.0]",
    ),
    Row(
        "lognormal",
        {"median": 1.0, "sigma": 0.3},
        1.0,
        (0.0, np.inf),
        {"median": -1.0, "sigma": 0.3},
        "x.median=-1.0 must be > 0",
    ),
    Row(
        "bernoulli",
        {"p": 0.15},
        0.15,
        (0.0, 1.0),
        {"p": 1.5},
        "x.p=1.5 must be a probability in [0, 1]",
        outcomes=(0.0, 1.0),
        weights=(0.85, 0.15),
    ),
    Row(
        "discrete",
        {"values": [2026, 2027, 2028], "weights": [0.3, 0.5, 0.2]},
        2026 * 0.3 + 2027 * 0.5 + 2028 * 0.2,
        (2026.0, 2028.0),
        {"values": [2026, 2027], "weights": [0.3, 0.6]},
        "x.weights=[0.3, 0.6] must sum to 1 (sum=0.9)",
        outcomes=(2026.0, 2027.0, 2028.0),
        weights=(0.3, 0.5, 0.2),
    ),
]
# more cases of a kind: a PERT skewed to the left, far from zero
EXTRA = [
    Row(
        "pert",
        {"low": -20.0, "mode": -8.0, "high": -3.0},
        -8.0,
        (-20.0, -3.0),
        {"low": -20.0, "mode": -8.0},
        "x.high is missing (required by pert)",
        tolerance=TABLE_ERROR * 17.0,
    )
]


CASES = [pytest.param(row, id=row.kind) for row in ROWS] + [
    pytest.param(row, id=f"{row.kind}-skewed") for row in EXTRA
]


def test_every_kind_has_a_row():
    assert sorted(row.kind for row in ROWS) == sorted(DISTRIBUTIONS)


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("row", CASES)
def test_draws_fit_the_distribution_under_every_sampler(row, sampler):
    distribution = make_distribution(row.kind, row.params)
    values = distribution.ppf(sample_uniforms(("x",), N, seed=21, sampler=sampler)[:, 0])
    if distribution.is_constant:
        assert (values == row.point).all()
    elif row.outcomes:
        observed = [np.sum(values == outcome) for outcome in row.outcomes]
        assert sum(observed) == N  # nothing outside the outcomes
        # a correct sampler fails this 0.1 % of the time for mc; qmc points fit far better
        assert stats.chisquare(observed, np.array(row.weights) * N).pvalue > 1e-3
    else:
        assert stats.kstest(values, distribution.frozen().cdf).pvalue > 1e-3


@pytest.mark.parametrize("row", CASES)
def test_quantile_equals_scipy_stats(row):
    # the closed forms avoid importing scipy.stats; they must be its ppf exactly, down
    # to the samplers' extreme uniforms. The PERT's beta quantile comes from netsim's own
    # checked table: within 1e-10 relative, so within 1e-10 of the distribution's width
    distribution = make_distribution(row.kind, row.params)
    u = np.concatenate(
        [[SMALLEST_UNIFORM, LARGEST_UNIFORM, 0.5], np.random.default_rng(3).uniform(size=20_000)]
    )
    expected = distribution.frozen().ppf(u)
    if row.kind == "fixed":  # scipy's zero-width uniform gives its value everywhere
        expected = np.full(u.shape, row.point)
    np.testing.assert_allclose(distribution.ppf(u), expected, rtol=0, atol=row.tolerance)


@pytest.mark.parametrize("row", CASES)
def test_point_and_support(row):
    distribution = make_distribution(row.kind, row.params)
    assert distribution.point == pytest.approx(row.point, rel=1e-15)
    assert distribution.bounds == row.bounds
    low, high = distribution.support  # the extreme draws: within the mathematical support
    assert row.bounds[0] <= low <= high <= row.bounds[1]
    assert np.isfinite([low, high]).all()


def test_the_extreme_normal_scores_are_scipys_bit_for_bit():
    # support checks take ndtri at the samplers' extreme uniforms from these constants
    # (no scipy.special import when a scenario loads): they must be scipy's values
    from scipy import special

    assert set(EXTREME_NORMAL_SCORES) == {SMALLEST_UNIFORM, LARGEST_UNIFORM}
    for u, score in EXTREME_NORMAL_SCORES.items():
        assert score == special.ndtri(u)


@pytest.mark.parametrize("row", CASES)
def test_support_is_the_ppf_at_the_extreme_uniforms_bit_for_bit(row):
    # the support of a normal or lognormal is taken from the constants above, any other
    # uniforms from scipy: both ways give the ppf's own numbers
    distribution = make_distribution(row.kind, row.params)
    ends = np.array([SMALLEST_UNIFORM, 0.5, LARGEST_UNIFORM])
    values = distribution.ppf(ends)
    assert distribution.support == (values[0], values[2])


@pytest.mark.parametrize("row", CASES)
def test_refusal_names_the_key_and_the_rule(row):
    with pytest.raises(ScenarioError) as caught:
        make_distribution(row.kind, row.refused, key="x", path="f.toml")
    assert str(caught.value) == f"f.toml: {row.message}"
    assert caught.value.key == "x"


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        pytest.param("gamma", {}, "x.dist='gamma' is not one of fixed, uniform", id="unknown-kind"),
        pytest.param(
            "normal",
            {"mean": 0.0, "sd": 1.0, "low": 0.0},
            "x.low is not a parameter of normal (allowed: ['mean', 'sd'])",
            id="unknown-parameter",
        ),
        pytest.param(
            "uniform", {"low": float("nan"), "high": 1.0}, "x.low=nan must be finite", id="nan"
        ),
        pytest.param(
            "uniform", {"low": 0.0, "high": 1e101}, "x.high=1e+101 is beyond +-1e+100", id="huge"
        ),
        pytest.param(
            "uniform", {"low": 1.0, "high": 1.0}, "x.low=1 equals high: use dist='fixed'", id="flat"
        ),
        pytest.param(
            "discrete", {"values": 3, "weights": [1.0]}, "must be a non-empty list", id="not-list"
        ),
        pytest.param("bernoulli", {"p": True}, "x.p=True must be a number", id="boolean"),
    ],
)
def test_rules_every_kind_shares(kind, params, message):
    with pytest.raises(ScenarioError) as caught:
        make_distribution(kind, params, key="x")
    assert message in str(caught.value)


def test_parameters_are_kept_in_their_kinds_order():
    distribution = make_distribution("pert", {"shape": 3, "high": 2, "mode": 1, "low": 0})
    assert list(distribution.params) == ["low", "mode", "high", "shape"]
    assert distribution.describe() == "pert(low=0, mode=1, high=2, shape=3)"
