"""The beta quantile kernel (the PERT's inverse CDF) against scipy's betaincinv."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from netsim.beta_inverse import beta_ppf

RELATIVE = 2e-14  # the stated agreement with scipy


def _uniforms(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            rng.uniform(size=n),
            2.0 ** -rng.uniform(1.0, 54.0, n // 10),  # lower tail, to the samplers' 2**-54
            1.0 - 2.0 ** -rng.uniform(1.0, 53.0, n // 10),  # upper tail
            [2.0**-54, 0.5, 0.5 + 2.0**-53, 1.0 - 2.0**-53],
        ]
    )


def _residual(a: float, b: float, x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """|I_x(a, b) - u| relative to the tail probability, in the tail u lies in
    (scipy's forward betainc is accurate where its inverse sometimes is not)."""
    lower = u <= 0.5
    return np.where(
        lower,
        np.abs(special.betainc(a, b, x) - u) / u,
        np.abs(special.betainc(b, a, 1.0 - x) - (1.0 - u)) / (1.0 - u),
    )


def _relative_error(a: float, b: float, u: np.ndarray) -> float:
    """Largest relative difference from scipy's betaincinv, leaving out the points
    where scipy's answer is the worse one (a larger residual I_x - u than ours)."""
    mine, theirs = beta_ppf(a, b, u), special.betaincinv(a, b, u)
    assert not np.isnan(mine).any()
    difference = np.abs(mine - theirs) / theirs
    scipy_worse = _residual(a, b, theirs, u) > _residual(a, b, mine, u)
    return float(np.max(np.where(scipy_worse, 0.0, difference)))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1.0, 5.0),
        (5.0, 1.0),
        (1.0, 1.0),
        (2.3, 3.7),
        (3.0, 3.0),
        (1.05, 4.95),
        (11.0, 1.5),
        (100.0, 150.0),
        (1000.0, 1000.0),
    ],
)
def test_equals_scipy_over_the_whole_range(a, b):
    # a PERT's shapes lie in [1, 1 + shape]; the default shape 4 gives [1, 5]
    assert _relative_error(a, b, _uniforms(1, 100_000)) < RELATIVE


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(1.0, 30.0, allow_nan=False),
    b=st.floats(1.0, 30.0, allow_nan=False),
    seed=st.integers(0, 2**32 - 1),
)
def test_equals_scipy_for_any_shapes(a, b, seed):
    assert _relative_error(a, b, _uniforms(seed, 2_000)) < RELATIVE


def test_monotone_and_ends():
    u = np.linspace(0.0, 1.0, 200_001)
    x = beta_ppf(2.5, 1.7, u)
    assert x[0] == 0.0 and x[-1] == 1.0
    assert np.all(np.diff(x) >= 0.0)
    assert np.isnan(beta_ppf(2.0, 2.0, np.array([np.nan, -0.1, 1.1]))).all()


def test_far_tail_beyond_the_start_table():
    u = np.array([1e-300, 1e-100, 1e-30])
    np.testing.assert_allclose(beta_ppf(2.0, 3.0, u), special.betaincinv(2.0, 3.0, u), rtol=1e-13)


def test_shapes_below_one_use_scipy():
    u = _uniforms(2, 1_000)
    np.testing.assert_array_equal(beta_ppf(0.05, 5.0, u), special.betaincinv(0.05, 5.0, u))
