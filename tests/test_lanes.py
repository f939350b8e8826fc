"""The lane vectors of netsim.lanes: each operation equals the scalar operation of
each lane, bit for bit, so the kernel's results do not depend on them."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from netsim.kernels.lanes import (
    LANES,
    broadcast,
    clip,
    load,
    load_transposed,
    store,
    store_products_transposed,
)

special = st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 5e-324, 1e308])
values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), special)
lane_arrays = arrays(np.float64, LANES, elements=values)


def assert_same_bits(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal values, NaN where NaN and the same sign of zero."""
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    finite = ~np.isnan(expected)
    np.testing.assert_array_equal(actual[finite], expected[finite])
    np.testing.assert_array_equal(np.signbit(actual[finite]), np.signbit(expected[finite]))


@numba.njit
def _arithmetic(x_row, y_row, scalar, out):
    x, y = load(x_row), load(y_row)
    store(out[0], x + y)
    store(out[1], x - y)
    store(out[2], x * y)
    store(out[3], x / y)
    store(out[4], scalar + x)
    store(out[5], x - scalar)
    store(out[6], scalar * y)
    store(out[7], scalar / x)
    accumulated = x
    accumulated += y
    accumulated *= scalar
    store(out[8], accumulated)
    store(out[9], broadcast(scalar))


@given(lane_arrays, lane_arrays, values)
def test_arithmetic_is_the_scalar_arithmetic_of_each_lane(x, y, scalar):
    out = np.empty((10, LANES))
    with np.errstate(all="ignore"):
        _arithmetic(x, y, scalar, out)
        expected = [
            x + y,
            x - y,
            x * y,
            x / y,
            scalar + x,
            x - scalar,
            scalar * y,
            scalar / x,
            (x + y) * scalar,
            np.full(LANES, scalar),
        ]
    for actual, wanted in zip(out, expected, strict=True):
        assert_same_bits(actual, wanted)


@numba.njit
def _clip(x_row, low, high, out):
    store(out[0], clip(load(x_row), low, high))
    for lane in range(LANES):  # the scalar code the kernel had before
        out[1, lane] = min(max(x_row[lane], low), high)


@given(lane_arrays)
def test_clip_equals_numbas_scalar_min_and_max(x):
    out = np.empty((2, LANES))
    _clip(x, 0.0, 1.0, out)
    assert_same_bits(out[0], out[1])


@numba.njit
def _store_block(out, first_row, first_cell, value_rows, share_rows, value_of, share_of):
    store_products_transposed(
        out, first_row, first_cell, value_rows, share_rows, value_of, share_of
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_transposed_store_writes_exactly_the_eight_by_eight_products(dtype, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n_rows = data.draw(st.integers(8, 12))
    n_cells = data.draw(st.integers(8, 20))
    first_row = data.draw(st.integers(0, n_rows - 8))
    first_cell = data.draw(st.integers(0, n_cells - 8))
    value_rows = rng.normal(size=(5, LANES)) * 1e3
    share_rows = rng.random((7, LANES))
    value_of = rng.integers(0, 5, n_cells)
    share_of = rng.integers(0, 7, n_cells)
    out = np.full((n_rows, n_cells), -1.0, dtype=dtype)
    _store_block(out, first_row, first_cell, value_rows, share_rows, value_of, share_of)

    expected = np.full_like(out, -1.0)
    cells = np.arange(first_cell, first_cell + 8)
    products = value_rows[value_of[cells]] * share_rows[share_of[cells]]  # (cell, lane)
    expected[first_row : first_row + 8, first_cell : first_cell + 8] = products.T.astype(dtype)
    np.testing.assert_array_equal(out, expected)  # and nothing else touched


@numba.njit
def _load_block(rows, first_row, source, first_draw, first_cell):
    load_transposed(rows, first_row, source, first_draw, first_cell)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_transposed_load_reads_exactly_the_eight_by_eight_block(dtype, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    n_draws = data.draw(st.integers(8, 12))
    n_cells = data.draw(st.integers(8, 20))
    n_rows = data.draw(st.integers(8, 12))
    first_draw = data.draw(st.integers(0, n_draws - 8))
    first_cell = data.draw(st.integers(0, n_cells - 8))
    first_row = data.draw(st.integers(0, n_rows - 8))
    source = (rng.normal(size=(n_draws, n_cells)) * 1e3).astype(dtype)
    source[0, 0] = -0.0  # widened with its sign
    rows = np.full((n_rows, LANES), -1.0)
    _load_block(rows, first_row, source, first_draw, first_cell)

    expected = np.full_like(rows, -1.0)
    block = source[first_draw : first_draw + 8, first_cell : first_cell + 8]
    expected[first_row : first_row + 8] = block.T.astype(np.float64)
    assert_same_bits(rows, expected)  # and nothing else touched
