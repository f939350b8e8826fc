"""Bands: exact order statistics, monotone in q, invariant to draw order."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import netsim
from netsim.errors import ArgumentValueError, ScenarioError

values = hnp.arrays(
    dtype=st.sampled_from([np.float32, np.float64]),
    shape=st.tuples(st.integers(1, 300), st.integers(1, 40)),
    elements=st.one_of(
        st.floats(-1e6, 1e6, width=32),
        st.sampled_from([0.0, 1.0, 2.5]),  # many ties
    ),
)
quantile_lists = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5)


@given(values, quantile_lists)
def test_quantiles_equal_numpy(data, q):
    expected = np.quantile(data.astype(np.float64), q, axis=0)
    np.testing.assert_allclose(netsim.quantiles(data, q), expected, rtol=1e-12, atol=1e-9)


@given(values, st.randoms(use_true_random=False))
def test_bands_invariant_to_draw_order_and_monotone(data, random):
    array = xr.DataArray(data, dims=("draw", "cell"))
    order = list(range(data.shape[0]))
    random.shuffle(order)
    q = [0.01, 0.05, 0.5, 0.95, 0.99]
    a = netsim.bands(array, q)
    b = netsim.bands(array.isel(draw=order), q)
    np.testing.assert_array_equal(a.values, b.values)
    assert np.all(np.diff(a.values, axis=0) >= 0)


def test_bands_of_a_run_match_xarray_quantile(net_run):
    q = [0.05, 0.5, 0.95]
    for name in ("total", "by_modality"):
        ours = netsim.bands(net_run[name], q)
        theirs = net_run[name].astype(np.float64).quantile(q, dim="draw")
        assert ours.dims == theirs.dims
        np.testing.assert_allclose(ours.values, theirs.values, rtol=1e-12)


def test_large_column_uses_histogram_bins_correctly():
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.lognormal(size=(200_000, 3)), np.full((5, 3), 1e9)])
    q = [0.0, 0.05, 0.5, 0.95, 1.0]
    np.testing.assert_allclose(
        netsim.quantiles(data.astype(np.float32), q),
        np.quantile(data.astype(np.float32).astype(float), q, axis=0),
        rtol=1e-12,
    )


@pytest.mark.parametrize("q", [[1.5], [-0.1], []])
def test_bad_quantiles(q, net_run):
    with pytest.raises(ArgumentValueError) as refused:
        netsim.bands(net_run["total"], q)
    assert refused.value.argument == "q"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("row", [0, 1, 2_499, 4_999])
def test_nan_is_an_error(dtype, row):
    # one NaN anywhere in one column of many: found during the gather, not by a
    # separate pass over the data
    data = np.random.default_rng(row).normal(size=(5_000, 70)).astype(dtype)
    data[row, 37] = np.nan
    with pytest.raises(ScenarioError, match="NaN"):
        netsim.quantiles(data, [0.05, 0.5, 0.95])
    with pytest.raises(ScenarioError, match="NaN"):
        netsim.quantiles(np.array([[1.0], [np.nan]]), 0.5)


def test_infinities_give_numpys_quantiles():
    data = np.random.default_rng(5).normal(size=(1_001, 3))
    data[:10, 0] = np.inf  # the top 1 %: P95 stays finite, the maximum is inf
    data[:600, 1] = -np.inf  # most of the column: the median is -inf
    q = [0.0, 0.05, 0.5, 0.95, 1.0]
    with np.errstate(invalid="ignore"):  # numpy's lerp of -inf and -inf: nan, as ours
        expected = np.quantile(data, q, axis=0)
    np.testing.assert_array_equal(netsim.quantiles(data, q), expected)


def test_a_shrinking_country_has_a_negative_cagr_not_a_damaged_run(tmp_path):
    # a falling market is good input: its CAGR bands are negative, its values are checked
    from netsim.analyze.bands import run_bands

    from .helpers import small_scenario

    document = small_scenario()
    document["countries"] = {
        "R1-a": {"growth_premium": {"value": -20.0, "source": "assumption: a country in decline"}}
    }
    run = netsim.simulate(netsim.load_scenario(document), 300, seed=2)
    growth = run_bands(run, "total", "country", cagr=(2026, 2031))
    assert float(growth["value"].sel(country="R1-a", quantile=0.5).max()) < -10.0
    assert float(growth["value"].sel(country="R0-a", quantile=0.5).min()) > -10.0
    run["total"][:, 1, 0] = np.nan  # a damaged file is still refused
    with pytest.raises(ScenarioError, match="missing values"):
        run_bands(run, "total", "country", cagr=(2026, 2031))
