"""Invariants 1 and 2 (reproducible, additive) and the kernel against its numpy oracle."""

from __future__ import annotations

import copy

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netsim
from netsim.model.arrays import draw_arrays, model_arrays
from netsim.model.numpy_oracle import reference_propagate

from .helpers import small_scenario


def concat_segments(ds, scenario):
    return np.concatenate([ds[f"by_{a.name}"].values for a in scenario.axes], axis=-1)


# --- reproducibility -------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 37, 1000, 100_000])
def test_chunk_size_does_not_change_a_bit(net, chunk_size):
    reference = netsim.simulate(net, 600, seed=5, chunk_size=600)
    chunked = netsim.simulate(net, 600, seed=5, chunk_size=chunk_size)
    for name in reference.data_vars:
        np.testing.assert_array_equal(reference[name].values, chunked[name].values)


def test_thread_count_does_not_change_a_bit(net):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = netsim.simulate(net, 3000, seed=2)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = netsim.simulate(net, 3000, seed=2)
    finally:
        numba.set_num_threads(before)
    for name in one.data_vars:
        np.testing.assert_array_equal(one[name].values, two[name].values)


def test_same_seed_same_bits_and_seed_zero_is_a_seed(net):
    a = netsim.simulate(net, 200, seed=0)
    b = netsim.simulate(net, 200, seed=0)
    c = netsim.simulate(net, 200, seed=1)
    np.testing.assert_array_equal(a["total"].values, b["total"].values)
    assert not np.array_equal(a["total"].values, c["total"].values)


def test_mc_prefix_property(net):
    small = netsim.simulate(net, 300, seed=9)
    large = netsim.simulate(net, 1200, seed=9)
    for name in ("total", "by_modality", "by_indication", "by_end_user", "inputs"):
        prefix = large[name].isel(draw=slice(0, 300))
        np.testing.assert_array_equal(small[name].values, prefix.values)


@pytest.mark.parametrize("sampler", ["lhs", "sobol"])
def test_qmc_chunks_are_slices_of_one_design(net, sampler):
    whole = netsim.sample_inputs(net, 512, seed=4, sampler=sampler)
    parts = [
        netsim.sample_inputs(net, 512, seed=4, sampler=sampler, start=a, stop=a + 128)
        for a in range(0, 512, 128)
    ]
    np.testing.assert_array_equal(whole, np.concatenate(parts))


@given(st.permutations(range(6)), st.sampled_from(["mc", "lhs"]))
def test_reordering_drivers_changes_no_draw(order, sampler):
    document = small_scenario(driver_impacts=(1.0, 0.8, 0.6, 0.4, 0.2, 0.1))
    shuffled = copy.deepcopy(document)
    names = list(document["drivers"])
    shuffled["drivers"] = {names[i]: document["drivers"][names[i]] for i in order}
    a, b = netsim.load_scenario(document), netsim.load_scenario(shuffled)
    inputs_a = netsim.sample_inputs(a, 64, seed=3, sampler=sampler)
    inputs_b = netsim.sample_inputs(b, 64, seed=3, sampler=sampler)
    for name in a.parameter_names:
        np.testing.assert_array_equal(
            inputs_a[:, a.parameter_index[name]], inputs_b[:, b.parameter_index[name]]
        )


def test_adding_a_driver_changes_no_other_draw():
    document = small_scenario()
    extended = copy.deepcopy(document)
    extended["drivers"]["new_one"] = copy.deepcopy(document["drivers"]["d0"])
    a, b = netsim.load_scenario(document), netsim.load_scenario(extended)
    inputs_a, inputs_b = (netsim.sample_inputs(s, 100, seed=8) for s in (a, b))
    for name in a.parameter_names:
        np.testing.assert_array_equal(
            inputs_a[:, a.parameter_index[name]], inputs_b[:, b.parameter_index[name]]
        )


# --- additivity ------------------------------------------------------------------------------


def check_additive(ds, scenario):
    total = ds["total"].values.astype(np.float64)
    for axis in scenario.axes:
        summed = ds[f"by_{axis.name}"].values.astype(np.float64).sum(axis=-1)
        np.testing.assert_allclose(summed, total, rtol=1e-6)
    regions = netsim.by_region(ds["total"])
    np.testing.assert_allclose(
        regions.sum("region").values, netsim.global_total(ds["total"]).values, rtol=1e-9
    )


def test_net_run_is_additive(net, net_run):
    check_additive(net_run, net)


shares = st.lists(st.integers(1, 60), min_size=2, max_size=5).map(
    lambda xs: tuple(100.0 * x / sum(xs) for x in xs)
)


@given(
    shares,
    # impacts in pp; below 1e-6 pp the PERT bounds (0.5x, 1.5x) can round together
    st.lists(
        st.floats(-3.0, 3.0).filter(lambda x: x == 0 or abs(x) > 1e-6), min_size=1, max_size=4
    ),
    st.floats(0.0, 1.0),
    st.floats(0.0, 2.0),
    st.integers(0, 2**32),
)
def test_random_scenarios_are_additive(segment_shares, impacts, probability, noise, seed):
    # exact shares: fix the rounding residue on the last segment
    segment_shares = (*segment_shares[:-1], 100.0 - sum(segment_shares[:-1]))
    premiums = tuple(0.5 * i for i in range(len(segment_shares)))
    document = small_scenario(
        segment_shares=(segment_shares, (50.0, 25.0, 25.0)),
        premiums=(premiums, (0.0, 1.0, -1.0)),
        driver_impacts=tuple(impacts),
        event_probability=probability,
        noise=noise,
    )
    scenario = netsim.load_scenario(document)
    ds = netsim.simulate(scenario, 50, seed=seed)
    check_additive(ds, scenario)


# --- the kernel against the numpy oracle ------------------------------------------------------

ORACLE_CASES = {
    "net-mc": ("net", "mc"),
    "net-sobol": ("net", "sobol"),
    "small-lhs": ("small", "lhs"),
}


@pytest.mark.parametrize("case", list(ORACLE_CASES))
def test_kernel_equals_numpy_oracle(case, net):
    which, sampler = ORACLE_CASES[case]
    scenario = net if which == "net" else netsim.load_scenario(small_scenario())
    inputs = netsim.sample_inputs(scenario, 256, seed=1, sampler=sampler)
    kernel = netsim.propagate(scenario, inputs, dtype=np.float64)
    total, segments = reference_propagate(model_arrays(scenario), draw_arrays(scenario, inputs))
    np.testing.assert_allclose(kernel["total"].values, total, rtol=1e-12)
    np.testing.assert_allclose(concat_segments(kernel, scenario), segments, rtol=1e-12)


def test_float32_cube_matches_float64(net):
    inputs = netsim.sample_inputs(net, 100, seed=1)
    single = netsim.propagate(net, inputs)
    double = netsim.propagate(net, inputs, dtype=np.float64)
    assert single["total"].dtype == np.float32
    np.testing.assert_allclose(single["total"].values, double["total"].values, rtol=2e-7)


def test_propagate_accepts_a_callers_dataarray_in_any_column_order(net, net_run):
    inputs = net_run["inputs"].isel(draw=slice(0, 50))
    shuffled = inputs.isel(
        parameter=np.random.default_rng(0).permutation(inputs.sizes["parameter"])
    )
    again = netsim.propagate(net, shuffled)
    np.testing.assert_array_equal(again["total"].values, net_run["total"].values[:50])


def test_propagate_as_arrays(net):
    inputs = netsim.sample_inputs(net, 20, seed=1)
    arrays = netsim.propagate(net, inputs, as_arrays=True)
    top_down = {"total", "by_modality", "by_indication", "by_end_user"}
    funnel = {"patients", "patient_total"} | {
        f"{kind}_{axis}" for kind in ("treated_by", "patient_by") for axis in net.funnel.splits
    }
    products = {"by_product", "by_company", "other_products"}
    products |= {"treated_by_product", "patient_by_product", "patient_by_company"}
    assert set(arrays) == top_down | funnel | products
    np.testing.assert_array_equal(arrays["total"], netsim.propagate(net, inputs)["total"].values)


def test_dataset_contract(net_run, net):
    ds = net_run
    assert ds["total"].dims == ("draw", "year", "country")
    assert ds["by_modality"].dims == ("draw", "year", "country", "modality")
    assert ds["inputs"].dims == ("draw", "parameter")
    assert ds["total"].attrs["units"] == "USD million"
    assert ds["region"].dims == ("country",)
    assert ds.sizes["country"] == 21 and list(ds["year"].values) == list(range(2025, 2032))
    for key in ("seed", "sampler", "draws", "scenario_hash", "netsim_version"):
        assert key in ds.attrs
    assert ds.attrs["scenario_hash"] == net.scenario_hash


@settings(max_examples=30, deadline=None)
@given(
    # wide enough that about half the scenarios are refused by the worst-draw rule
    impacts=st.lists(st.floats(-30.0, 30.0), min_size=1, max_size=3),
    premiums=st.tuples(st.floats(-20.0, 20.0), st.floats(-20.0, 20.0)),
    noise=st.floats(0.0, 4.0),
    probability=st.floats(0.0, 1.0),
    corners=st.integers(0, 2**32 - 1),
)
def test_every_accepted_scenario_simulates_to_finite_non_negative_values(
    impacts, premiums, noise, probability, corners
):
    """Wide random scenarios: each is refused at load, or every draw it can give (its
    parameters anywhere in their supports, corners included) is a finite, non-negative
    market whose segments add up."""
    document = small_scenario(
        driver_impacts=tuple(impacts),
        premiums=((premiums[0], 0.0), (0.0, premiums[1], 0.0)),
        event_probability=probability,
        noise=noise,
    )
    try:
        scenario = netsim.load_scenario(document)
    except netsim.ScenarioError:
        return
    sampled = netsim.sample_inputs(scenario, 200, seed=1)
    ends = np.array([p.distribution.support for p in scenario.parameters])  # (P, 2)
    pick = np.random.default_rng(corners).integers(0, 2, size=(64, len(ends)))
    corner_rows = ends[np.arange(len(ends)), pick]
    out = netsim.propagate(scenario, np.vstack([sampled, corner_rows]), as_arrays=True)
    for name, values in out.items():
        assert np.isfinite(values).all(), name
        assert (values >= 0).all(), name
    for name, values in out.items():
        if name != "total":
            np.testing.assert_allclose(values.sum(axis=-1), out["total"], rtol=1e-5)
