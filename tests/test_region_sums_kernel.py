"""The kernel's own region and world sums (what a scenario's Sobol run indexes) against the
straightforward way: the full float64 cube, then its countries summed into regions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import netsim
from netsim.analyze import sensitivity
from netsim.analyze.saltelli import sobol_indices
from netsim.errors import ScenarioError
from netsim.model.layout import OutputLayout, sum_countries
from netsim.model.propagate import propagate_region_sums
from netsim.sampling.copula import correlate_uniforms


def _summed_cube(scenario, rows, output):
    """``output`` of ``rows`` as a run computes it (every cell, float64), then summed."""
    layout = OutputLayout.of(scenario)
    cube = netsim.propagate(
        scenario, rows, as_arrays=True, dtype=np.float64, funnel=False, check=False
    )[output]
    return sum_countries(cube, 2, layout.region_index, len(layout.regions))


def _kernel_sums(scenario, rows, output):
    layout = OutputLayout.of(scenario)
    shape = (rows.shape[0], *layout.shape(output))
    out = (
        np.full((*shape[:2], len(layout.regions), *shape[3:]), np.nan),
        np.full(shape[:2] + shape[3:], np.nan),
    )
    return propagate_region_sums(scenario, rows, output, out)


@pytest.mark.parametrize(
    "draws",
    [
        pytest.param(1, id="one-draw"),
        pytest.param(13, id="a-short-lane-block"),
        pytest.param(1003, id="several-tasks"),
    ],
)
def test_every_top_down_output_sums_as_the_cube_does_bit_for_bit(net, draws):
    """The full NET file (funnel, products, events): every top-down output, a draw count
    that leaves a lane block short and one that spans several parallel tasks."""
    rows = np.asarray(netsim.sample_inputs(net, draws, seed=11))
    for output in OutputLayout.of(net).top_down_outputs:
        by_region, world = _kernel_sums(net, rows, output)
        expected_region, expected_world = _summed_cube(net, rows, output)
        np.testing.assert_array_equal(by_region, expected_region, err_msg=output)
        np.testing.assert_array_equal(world, expected_world, err_msg=output)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), draws=st.integers(1, 70))
def test_region_sums_of_any_rows_equal_the_cube_summed(net_top_down, seed, draws):
    rows = np.asarray(netsim.sample_inputs(net_top_down, draws, seed=seed))
    by_region, world = _kernel_sums(net_top_down, rows, "by_modality")
    expected_region, expected_world = _summed_cube(net_top_down, rows, "by_modality")
    np.testing.assert_array_equal(by_region, expected_region)
    np.testing.assert_array_equal(world, expected_world)


def test_an_output_the_kernel_does_not_sum_is_refused(net):
    rows = np.asarray(netsim.sample_inputs(net, 2, seed=1))
    with pytest.raises(ScenarioError, match="patient_total"):
        propagate_region_sums(net, rows, "patient_total", (np.empty(0), np.empty(0)))


@pytest.mark.parametrize(
    ("output", "by"),
    [
        pytest.param("by_modality", "region", id="by_modality-by-region"),
        pytest.param("total", "global", id="total-worldwide"),
    ],
)
def test_sobol_indices_equal_those_of_the_summed_cube(net_top_down, output, by):
    """A scenario's Sobol run against the generic routine on the same design, its model the
    straightforward one (every cell, then summed): the same indices, intervals and
    variances, bit for bit."""
    scenario, n = net_top_down, 64
    result = sensitivity.sobol(scenario, n, output, by, group="driver", seed=4)

    def summed_cube(x: np.ndarray) -> np.ndarray:
        by_region, world = _summed_cube(scenario, x, output)
        return by_region if by == "region" else world

    def copula(uniforms: np.ndarray) -> np.ndarray:
        return correlate_uniforms(scenario, uniforms)

    # a scenario without a funnel or products: every parameter is an input of the output
    expected = sobol_indices(
        summed_cube,
        [p.distribution for p in scenario.parameters],
        n,
        groups=sensitivity.correlation_groups(scenario, "driver"),
        uniform_transform=copula if scenario.correlations else None,
        seed=4,
    )
    assert result.sizes["parameter"] == expected.sizes["parameter"] > 2
    for name in ("first_order", "total_order", "first_order_interval", "total_order_interval"):
        np.testing.assert_array_equal(result[name].values, expected[name].values, err_msg=name)
    np.testing.assert_array_equal(result["variance"].values, expected["variance"].values)
