"""Products in every kind of run: in memory, reduced to bands, streamed to Zarr, written
to NetCDF and read back (a Dask run: tests/test_scale.py), the same draws everywhere."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.model.layout import OutputLayout

from .helpers import products_scenario

OUTPUTS = ("by_product", "by_company", "other_products")


@pytest.fixture(scope="module")
def scenario() -> netsim.Scenario:
    return netsim.load_scenario(products_scenario())


@pytest.fixture(scope="module")
def in_memory(scenario) -> xr.Dataset:
    return netsim.simulate(scenario, 3000, seed=2, chunk_size=700)


def test_a_zarr_store_and_a_netcdf_file_hold_the_same_products(scenario, in_memory, tmp_path):
    store = netsim.simulate(scenario, 3000, seed=2, chunk_size=700, store=tmp_path / "r.zarr")
    netsim.write_netcdf(in_memory, tmp_path / "r.nc")
    for run in (store, netsim.open_run(tmp_path / "r.zarr"), netsim.open_run(tmp_path / "r.nc")):
        layout = OutputLayout.from_dataset(run)
        assert layout.products == ("a", "a_generic", "b", "c")
        assert layout.product_companies == ("A Co", "G Co", "B Co", "A Co")
        assert layout.product_axis == "axis0" and layout.axes == ("axis0", "axis1")
        for name in OUTPUTS:
            np.testing.assert_array_equal(run[name].values, in_memory[name].values, name)


def test_a_reduced_run_gives_the_products_bands_within_its_stated_accuracy(scenario, in_memory):
    reduced = netsim.simulate(scenario, 3000, seed=2, reduce="bands", chunk_size=700)
    width = reduced.attrs["max_relative_bin_width"]
    for name in OUTPUTS:
        exact = netsim.bands(netsim.global_total(in_memory[name]))
        scale = np.abs(exact).max(axis=0)  # a cell that reaches 0: relative to its largest
        error = np.abs(reduced[f"{name}_global"] - exact) / np.maximum(scale, 1e-300)
        assert float(error.max()) <= width, name
    assert OutputLayout.from_dataset(reduced).products == ("a", "a_generic", "b", "c")


def test_propagate_gives_the_products_of_a_callers_rows(scenario, in_memory):
    rows = in_memory["inputs"].isel(draw=slice(100, 150))
    mine = netsim.propagate(scenario, rows, as_arrays=True)
    for name in OUTPUTS:
        np.testing.assert_array_equal(mine[name], in_memory[name].values[100:150])


def test_a_run_whose_products_were_relabelled_is_refused(in_memory, tmp_path):
    """Products' names or companies edited in a file would put one product's numbers under
    another's name: refused in one line, as an edited country or segment is."""
    edited = in_memory.assign_coords(product=["a", "b", "a_generic", "c"])
    netsim.write_netcdf(edited, tmp_path / "edited.nc")
    with pytest.raises(netsim.ScenarioError, match="its products are not its scenario's"):
        netsim.open_run(tmp_path / "edited.nc")
    moved = in_memory.assign_coords(product_company=("product", ["G Co", "A Co", "B Co", "A Co"]))
    netsim.write_netcdf(moved, tmp_path / "moved.nc")
    with pytest.raises(netsim.ScenarioError, match="its products' companies are not"):
        netsim.open_run(tmp_path / "moved.nc")


def test_a_run_without_its_products_leaves_the_market_bit_for_bit(scenario, in_memory):
    """``products=False``: no product output allocated or written, the others as a whole run's."""
    rows = in_memory["inputs"].isel(draw=slice(0, 200))
    bare = netsim.propagate(scenario, rows, as_arrays=True, products=False)
    layout = OutputLayout.of(scenario)
    assert sorted(bare) == sorted(set(layout.outputs) - set(layout.product_outputs))
    for name, values in bare.items():
        np.testing.assert_array_equal(values, in_memory[name].values[:200], err_msg=name)
    labelled = netsim.propagate(scenario, rows, products=False)
    assert not set(layout.product_outputs) & set(labelled.data_vars)


@pytest.mark.parametrize(
    "funnel", [pytest.param(True, id="with-funnel"), pytest.param(False, id="top-down-alone")]
)
def test_propagate_without_the_products_leaves_every_other_output_bit_for_bit(net, funnel):
    inputs = netsim.sample_inputs(net, 300, seed=4)
    every = netsim.propagate(net, inputs, as_arrays=True, funnel=funnel)
    without = netsim.propagate(net, inputs, as_arrays=True, funnel=funnel, products=False)
    layout = OutputLayout.of(net)
    own = {*layout.product_outputs, *layout.patient_product_outputs}
    assert own and set(without) == set(every) - own
    for name, values in without.items():
        np.testing.assert_array_equal(values, every[name], err_msg=name)


def test_the_base_case_without_the_products_leaves_every_other_output_bit_for_bit(net):
    # what `netsim run` prints beside its tables: the totals, without the product kernels
    every = netsim.deterministic(net)
    without = netsim.deterministic(net, products=False)
    layout = OutputLayout.of(net)
    own = {*layout.product_outputs, *layout.patient_product_outputs}
    assert own and set(without.data_vars) == set(every.data_vars) - own
    xr.testing.assert_identical(without, every.drop_vars(sorted(own)))
