"""The outputs' checksum (netsim.kernels.checksum) against a pure-numpy oracle."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from netsim.kernels.checksum import add_row_checksums, array_words, checksum_kernel
from netsim.kernels.regions import region_sum_checksum_kernel, region_sum_kernel


def oracle(words: np.ndarray, offset: int = 0) -> np.ndarray:
    """The module's definition, in plain numpy (Python integers for the wrap-arounds)."""
    m = words.shape[1]
    steps = (2 * np.arange(m, dtype=np.uint64) + 1) % 2**32
    a = (words.astype(np.uint64) * steps).sum(axis=1)  # uint64: modulo 2**64
    b = words.astype(np.uint64).sum(axis=1)
    weighted = plain = 0
    for i, (row_a, row_b) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        k = offset + i
        weighted += row_a * (2 * k + 1) + row_b * k
        plain += row_b + row_a * k
    return np.array([weighted % 2**64, plain % 2**64], dtype=np.uint64)


def checksum(values: np.ndarray, offset: int = 0) -> np.ndarray:
    out = np.zeros(2, dtype=np.uint64)
    checksum_kernel(array_words(values), offset, out)
    return out


@pytest.fixture
def cube():
    return np.random.default_rng(7).lognormal(5.0, 1.0, size=(300, 7, 21)).astype(np.float32)


def test_the_kernel_is_the_definition(cube):
    assert np.array_equal(checksum(cube), oracle(array_words(cube)))


def test_chunks_of_rows_and_threads_give_the_same_checksum(cube):
    whole = checksum(cube)
    parts = np.zeros(2, dtype=np.uint64)
    for first in range(0, cube.shape[0], 128):
        checksum_kernel(array_words(cube[first : first + 128]), first, parts)
    assert np.array_equal(parts, whole)
    numba.set_num_threads(1)
    try:
        assert np.array_equal(checksum(cube), whole)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda c: c.__setitem__((5, 3, 2), np.nextafter(c[5, 3, 2], 1e9)), id="an-ulp"
        ),
        pytest.param(lambda c: c.__setitem__((0, 0, [0, 1]), c[0, 0, [1, 0]]), id="two-swapped"),
        pytest.param(lambda c: c.__setitem__([10, 11], c[[11, 10]]), id="two-draws-swapped"),
    ],
)
def test_a_changed_cube_has_another_checksum(cube, change):
    before = checksum(cube)
    changed = cube.copy()
    change(changed)
    assert not np.array_equal(changed, cube)
    assert not np.array_equal(checksum(changed), before)


@pytest.mark.parametrize(
    "segments",
    [pytest.param(None, id="no-segment-axis"), pytest.param(6, id="six-segments")],
)
def test_the_sums_pass_takes_the_same_checksum_and_sums(segments):
    # a run file's checksum taken in the pass that sums regions: the same pair as the
    # checksum's own kernel, and the same sums, bit for bit, as the sums' own kernel
    shape = (300, 7, 21) if segments is None else (300, 7, 21, segments)
    values = np.random.default_rng(11).lognormal(5.0, 1.0, size=shape).astype(np.float32)
    cube = values.reshape(300, 7, 21, -1)
    region_of = np.random.default_rng(12).integers(0, 5, size=21)
    expected_region, expected_world = (
        np.empty((300, 7, 5, cube.shape[3])),
        np.empty((300, 7, cube.shape[3])),
    )
    region_sum_kernel(cube, region_of, expected_region, expected_world)
    by_region, world = np.empty_like(expected_region), np.empty_like(expected_world)
    terms = np.empty((300, 2), dtype=np.uint64)
    region_sum_checksum_kernel(cube, cube.view(np.uint32), region_of, by_region, world, terms)
    for offset in (0, 4096):
        out = np.zeros(2, dtype=np.uint64)
        add_row_checksums(terms, offset, out)
        assert np.array_equal(out, oracle(array_words(values), offset))
    assert np.array_equal(by_region, expected_region)
    assert np.array_equal(world, expected_world)
