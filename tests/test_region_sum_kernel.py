"""The countries' sums into regions and the world (netsim.kernels.regions) against a
pure-numpy oracle, bit for bit: every sum from 0, its countries added in their order."""

from __future__ import annotations

import numpy as np
import pytest

from netsim.kernels.regions import region_sum_checksum_kernel, region_sum_kernel


def oracle(values: np.ndarray, region_of: np.ndarray, n_regions: int):
    """(by_region, world) of ``values`` (draw, year, country, segment), in float64, each
    sum formed by adding the countries one by one in their order, starting from 0."""
    draws, years, countries, segments = values.shape
    by_region = np.zeros((draws, years, n_regions, segments))
    world = np.zeros((draws, years, segments))
    for c in range(countries):
        cells = values[:, :, c, :].astype(np.float64)
        world = world + cells
        by_region[:, :, region_of[c], :] = by_region[:, :, region_of[c], :] + cells
    return by_region, world


def _cube(dtype: type, segments: int) -> np.ndarray:
    rng = np.random.default_rng(21)
    cube = rng.lognormal(5.0, 2.0, size=(97, 7, 21, segments)).astype(dtype)
    cube[3, 2, 4, 0] = np.nan  # a NaN makes its sums NaN
    cube[5, 1, :, :] = -0.0  # sums of negative zeros start from +0
    cube[6, 0, 7, -1] = np.inf
    cube[8] *= -1.0
    return cube


# five regions, the fourth of them without a country (its sums are 0)
REGION_OF = np.array([0, 2, 1, 0, 4, 2, 2, 1, 0, 4, 1, 2, 0, 0, 1, 4, 2, 1, 0, 4, 2])


@pytest.mark.parametrize(
    ("dtype", "segments"),
    [
        pytest.param(np.float32, 1, id="float32-no-segment-axis"),
        pytest.param(np.float32, 14, id="float32-14-segments"),
        pytest.param(np.float64, 6, id="float64-6-segments"),
    ],
)
def test_the_sums_are_the_oracle_s_bit_for_bit(dtype, segments):
    cube = _cube(dtype, segments)
    expected_region, expected_world = oracle(cube, REGION_OF, 5)
    by_region = np.full_like(expected_region, 7.0)  # overwritten, not added to
    world = np.full_like(expected_world, 7.0)
    region_sum_kernel(cube, REGION_OF, by_region, world)
    assert np.array_equal(by_region.view(np.uint64), expected_region.view(np.uint64))
    assert np.array_equal(world.view(np.uint64), expected_world.view(np.uint64))
    if dtype is np.float32:  # the run file's pass: the same sums beside the checksum
        by_region[:], world[:] = 7.0, 7.0
        terms = np.empty((cube.shape[0], 2), dtype=np.uint64)
        region_sum_checksum_kernel(cube, cube.view(np.uint32), REGION_OF, by_region, world, terms)
        assert np.array_equal(by_region.view(np.uint64), expected_region.view(np.uint64))
        assert np.array_equal(world.view(np.uint64), expected_world.view(np.uint64))
