"""Columns of the input matrix gathered into the kernels' per-draw arrays."""

from __future__ import annotations

import numba
from numba import prange

from netsim.kernels.options import JIT_OPTIONS

__all__ = [
    "GATHER_ROWS_PER_BLOCK",
    "gather_columns_kernel",
    "gather_columns_serial_kernel",
    "gather_fields_kernel",
    "gather_fields_serial_kernel",
]

GATHER_ROWS_PER_BLOCK = 2048  # draws a parallel task gathers (tasks share the draws out)


@numba.njit(parallel=True, **JIT_OPTIONS)
def gather_columns_kernel(inputs, columns, divisor, out):  # pragma: no cover - compiled
    """``out[i, k] = inputs[i, columns[k]] / divisor`` (a division, as numpy's: the same
    float as ``inputs[:, columns] / divisor``), parallel over draws.

    One pass instead of numpy's gather, then divide, then copy: a third of the time
    converting a chunk's inputs took.
    """
    for i in prange(inputs.shape[0]):
        for k in range(columns.shape[0]):
            out[i, k] = inputs[i, columns[k]] / divisor


@numba.njit(**JIT_OPTIONS)
def gather_columns_serial_kernel(inputs, columns, divisor, out):  # pragma: no cover - compiled
    """:func:`gather_columns_kernel` on one thread (the same floats): for a small gather,
    where starting the threads costs more than the work (measured: 180 gathers of 4,096
    draws in one Sobol run took 1.2 s in parallel on a loaded 2-core machine, most of the
    run's time beyond the kernel)."""
    for i in range(inputs.shape[0]):
        for k in range(columns.shape[0]):
            out[i, k] = inputs[i, columns[k]] / divisor


@numba.njit(**JIT_OPTIONS)
def _gather_field_rows(
    first, last, inputs, columns, divisors, field, slot, fields
):  # pragma: no cover
    """Rows ``first .. last`` of :func:`gather_fields_kernel`."""
    for i in range(first, last):
        for k in range(columns.shape[0]):
            fields[field[k]][i, slot[k]] = inputs[i, columns[k]] / divisors[k]


@numba.njit(parallel=True, **JIT_OPTIONS)
def gather_fields_kernel(inputs, columns, divisors, field, slot, fields):  # pragma: no cover
    """``fields[field[k]][i, slot[k]] = inputs[i, columns[k]] / divisors[k]``: several
    gathers (:func:`gather_columns_kernel`, the same floats) into several arrays in one
    pass over the draws, parallel over blocks of them.

    One launch of the threads instead of one a gather: a run's per-draw arrays took nine
    parallel gathers a chunk, and on a loaded two-core machine each launch cost about
    10 ms waiting for both threads (measured: the per-draw arrays of 100,000 NET draws
    in chunks took as long as sampling them).

    Parameters
    ----------
    inputs : ndarray of float64, shape (n, P)
    columns, field, slot : ndarray of int64, shape (K,)
        Gather ``k`` reads column ``columns[k]`` into column ``slot[k]`` of array
        ``field[k]``.
    divisors : ndarray of float64, shape (K,)
    fields : tuple of ndarray of float64, each (n, width), C-contiguous
    """
    n = inputs.shape[0]
    n_blocks = (n + GATHER_ROWS_PER_BLOCK - 1) // GATHER_ROWS_PER_BLOCK
    for block in prange(n_blocks):
        first = block * GATHER_ROWS_PER_BLOCK
        last = min(n, first + GATHER_ROWS_PER_BLOCK)
        _gather_field_rows(first, last, inputs, columns, divisors, field, slot, fields)


@numba.njit(**JIT_OPTIONS)
def gather_fields_serial_kernel(inputs, columns, divisors, field, slot, fields):  # pragma: no cover
    """:func:`gather_fields_kernel` on one thread (the same floats), for a small chunk."""
    _gather_field_rows(0, inputs.shape[0], inputs, columns, divisors, field, slot, fields)
