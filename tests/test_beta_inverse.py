"""The beta quantile kernel (the PERT's inverse CDF) against scipy's betaincinv."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from netsim.kernels.beta_quantile import beta_ppf
from netsim.kernels.beta_table import (
    CHECKED_ERROR,
    TABLE_ERROR,
    BetaTable,
    beta_table,
    build_beta_table,
)

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


def _exact_relative_error(a: float, b: float, x: float, u: float) -> float:
    """|x - q| / q for the exact quantile q of Beta(a, b) at u (mpmath, 40 digits),
    solved in the tail u lies in so that tail keeps its precision."""
    with mpmath.workdps(40):
        if u <= 0.5:
            exact = mpmath.findroot(
                lambda t: mpmath.betainc(a, b, 0, t, regularized=True) - mpmath.mpf(u), x
            )
        else:  # in y = 1 - x, against 1 - u (exact in binary)
            y = mpmath.findroot(
                lambda t: mpmath.betainc(b, a, 0, t, regularized=True) - (1 - mpmath.mpf(u)),
                1.0 - x,
            )
            exact = 1 - y
        return float(abs((x - exact) / exact))


def _relative_error(a: float, b: float, u: np.ndarray) -> float:
    """Largest relative error: against scipy's betaincinv where the two agree within
    the bound, and against the exact quantile where they do not. scipy's own error
    reaches 5e-14 for some shapes (e.g. Beta(6, 29.659) at u = 0.81, and over 1 % of
    points of Beta(100, 150)): the 20 largest disagreements and 20 others at random
    are checked against the exact quantile (mpmath is slow)."""
    mine, theirs = beta_ppf(a, b, u), special.betaincinv(a, b, u)
    assert not np.isnan(mine).any()
    difference = np.abs(mine - theirs) / theirs
    disagree = np.flatnonzero(difference >= RELATIVE)
    largest = disagree[np.argsort(difference[disagree])[-20:]]
    others = np.setdiff1d(disagree, largest)
    sample = np.random.default_rng(0).permutation(others)[:20]
    exact = [_exact_relative_error(a, b, float(mine[i]), float(u[i])) for i in (*largest, *sample)]
    agreeing = difference[difference < RELATIVE]
    return max([*exact, float(agreeing.max(initial=0.0))])


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


def test_where_scipy_is_off_the_exact_quantile_decides():
    # scipy's betaincinv is 2.5e-14 off here; the kernel is within 1e-15 of exact
    a, b, u = 6.0, 29.659, 0.8100324216109024
    assert abs(beta_ppf(a, b, np.array([u]))[0] - special.betaincinv(a, b, u)) > 2e-15
    assert _exact_relative_error(a, b, float(beta_ppf(a, b, np.array([u]))[0]), u) < 2e-15
    assert _exact_relative_error(a, b, float(special.betaincinv(a, b, u)), u) > 2e-14


def test_far_tail_beyond_the_start_table():
    u = np.array([1e-300, 1e-100, 1e-30])
    np.testing.assert_allclose(beta_ppf(2.0, 3.0, u), special.betaincinv(2.0, 3.0, u), rtol=1e-13)


def test_shapes_below_one_use_scipy():
    u = _uniforms(2, 1_000)
    np.testing.assert_array_equal(beta_ppf(0.05, 5.0, u), special.betaincinv(0.05, 5.0, u))


# --- the checked table the samplers use (netsim/kernels/beta_table.py) -----------------


def _table_error_ratio(a: float, b: float, u: np.ndarray) -> float:
    """Largest error of the table against the exact solver, as a fraction of the stated
    bound: TABLE_ERROR relative to x below the median and to 1 - x above it, plus the
    rounding of 1 - (1 - x) there (half an ulp of 1)."""
    tabled, exact = beta_table(a, b).ppf(u), beta_ppf(a, b, u)
    lower = u <= 0.5
    bound = TABLE_ERROR * np.where(lower, exact, 1.0 - exact) + np.where(lower, 0.0, 2.0**-53)
    inside = exact > 0.0  # a quantile below the smallest double (huge a, tiny u) is 0 in both
    assert np.array_equal(tabled[~inside], exact[~inside])
    return float(np.max(np.abs(tabled - exact)[inside] / bound[inside]))


@pytest.mark.parametrize(
    ("a", "b"),
    [(1.0, 5.0), (5.0, 1.0), (1.0, 1.0), (3.0, 3.0), (2.3, 3.7), (1.05, 4.95), (4.99, 1.01),
     (11.0, 1.5), (26.0, 11.0), (100.0, 150.0), (2000.0, 1.0)],
)  # fmt: skip
def test_table_within_its_bound_over_the_whole_range(a, b):
    # dense: 100,000 uniforms and 20,000 in the far tails, to the samplers' 2**-54
    assert _table_error_ratio(a, b, _uniforms(1, 100_000)) <= 1.0


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(1.0, 30.0, allow_nan=False),
    b=st.floats(1.0, 30.0, allow_nan=False),
    seed=st.integers(0, 2**32 - 1),
)
def test_table_within_its_bound_for_any_shapes(a, b, seed):
    assert _table_error_ratio(a, b, _uniforms(seed, 5_000)) <= 1.0


@pytest.mark.parametrize("mode", [0.0, 0.13, 0.5, 0.77, 1.0])
def test_pert_shapes_get_tables_checked_with_margin(mode):
    # every PERT of the default shape 4 has a + b = 6, a, b in [1, 5]
    table = beta_table(1.0 + 4.0 * mode, 1.0 + 4.0 * (1.0 - mode))
    assert 0 < table.nodes <= 4_097
    assert table.checked_error <= CHECKED_ERROR


def test_table_ends_monotone_halves_and_fallback():
    table = beta_table(2.5, 1.7)
    u = np.linspace(0.0, 1.0, 200_001)
    x = table.ppf(u)
    assert x[0] == 0.0 and x[-1] == 1.0
    half = u.size // 2  # u[half] = 0.5: each half is monotone, and they meet at the median
    assert np.all(np.diff(x[: half + 1]) >= 0.0) and np.all(np.diff(x[half + 1 :]) >= 0.0)
    assert abs(x[half + 1] - x[half]) < 1e-5
    assert np.isnan(table.ppf(np.array([np.nan, -0.1, 1.1]))).all()
    # a shape whose table would need more than MAX_NODES nodes is solved exactly instead
    extreme = beta_table(1000.0, 1000.0)
    assert extreme.nodes == 0
    u = _uniforms(4, 1_000)
    np.testing.assert_array_equal(extreme.ppf(u), beta_ppf(1000.0, 1000.0, u))
    with pytest.raises(ValueError, match="shapes >= 1"):
        beta_table(0.5, 2.0)


@pytest.mark.parametrize(("a", "b"), [(2.25e13, 5.25e13), (3e18, 7e18), (1e300, 1e300)])
def test_shapes_where_the_exact_quantile_breaks_down_get_no_table_and_no_error(a, b):
    # the midpoint error is inf or NaN there: no table is built, quickly, and the exact
    # solver answers (it used to raise OverflowError, or take seconds)
    table = beta_table(a, b)
    assert table.nodes == 0
    u = np.array([2.0**-54, 0.3, 0.5, 0.9])
    np.testing.assert_array_equal(table.ppf(u), beta_ppf(a, b, u))


def test_a_scalar_uniform_gives_a_scalar():
    assert beta_table(2.0, 4.0).ppf(0.3).shape == ()
    assert beta_ppf(2.0, 4.0, 0.3).shape == ()


# --- the tables kept between processes ---------------------------------------------


def _assert_same_table(first: BetaTable, second: BetaTable) -> None:
    assert (first.a, first.b, first.nodes) == (second.a, second.b, second.nodes)
    assert first.checked_error == second.checked_error or (
        np.isnan(first.checked_error) and np.isnan(second.checked_error)
    )
    for name in ("spacing", "values", "slopes"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name), name)


@pytest.mark.parametrize(
    ("a", "b"),
    [pytest.param(2.6, 3.4, id="pert"), pytest.param(1000.0, 1000.0, id="no-table")],
)
def test_a_kept_table_is_read_back_bit_for_bit(a, b, tmp_path, monkeypatch):
    monkeypatch.setenv("NETSIM_CACHE_DIR", str(tmp_path))
    built = beta_table.__wrapped__(a, b)  # past the process's own memo: builds and keeps it
    (kept,) = (tmp_path / "beta_tables").iterdir()
    before = kept.read_bytes()
    read = beta_table.__wrapped__(a, b)
    assert kept.read_bytes() == before  # read, not rebuilt
    _assert_same_table(read, built)
    _assert_same_table(read, build_beta_table(a, b))


def test_a_damaged_kept_table_is_built_anew_not_trusted(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSIM_CACHE_DIR", str(tmp_path))
    built = beta_table.__wrapped__(2.6, 3.4)
    (kept,) = (tmp_path / "beta_tables").iterdir()
    intact = kept.read_bytes()
    damaged = bytearray(intact)
    damaged[40] ^= 0x01  # one bit of a node's value
    kept.write_bytes(bytes(damaged))
    _assert_same_table(beta_table.__wrapped__(2.6, 3.4), built)
    assert kept.read_bytes() == intact  # and kept again, whole
    kept.write_bytes(intact[:100])  # cut short
    _assert_same_table(beta_table.__wrapped__(2.6, 3.4), built)


def test_no_table_is_kept_when_the_cache_is_off(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSIM_CACHE_DIR", "")
    monkeypatch.chdir(tmp_path)
    _assert_same_table(beta_table.__wrapped__(2.6, 3.4), build_beta_table(2.6, 3.4))
    assert list(tmp_path.iterdir()) == []
