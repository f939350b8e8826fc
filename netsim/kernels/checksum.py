"""A position-weighted checksum of an output array: the digest a run file keeps of the
kernel's outputs, so that a cube recomputed from the file's inputs is known to be the
one written, bit for bit.

The checksum of an array of ``rows`` x ``m`` 32-bit words ``w[k, j]`` (its bytes in C
order; the rows are draws) is built row by row: ``a[k] = sum_j w[k, j] ((2j + 1) mod
2**32)`` and ``b[k] = sum_j w[k, j]`` (a multiply-add that vectorises), then over the
rows, each weighted by its index ``k`` in the whole array: ``(sum_k a[k] (2k + 1) +
b[k] k, sum_k b[k] + a[k] k)``, all modulo 2**64. The rows' terms add, so the sums may be
formed on any number of threads and chunk by chunk of rows (each chunk passing its
first row's index), and give the same pair. A changed word changes ``a[k]`` (its weight
is odd) and ``b[k]``; words moved within a row or between
rows change their weights. It is a check against a different kernel, CPU or math
library, not against tampering (the file's HDF5 checksums and labels digest cover
damage).

Written here rather than taken from zlib's CRC-32 (about 4 GB/s on one core) or hashlib:
it runs on every core at memory speed (7.4 GB/s on 2 cores, measured, where a 64-bit
weight per word ran at 2.2 to 4.8), and its rows' sums add.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from netsim.kernels.options import JIT_OPTIONS

__all__ = ["add_row_checksums", "array_words", "checksum_kernel", "checksum_steps", "row_terms"]


@numba.njit(**JIT_OPTIONS)
def checksum_steps(m):  # pragma: no cover - compiled
    """The weights ``(2j + 1) mod 2**32`` of the words ``j < m`` of a row (uint32)."""
    steps = np.empty(m, dtype=np.uint32)
    for j in range(m):
        steps[j] = np.uint32((2 * j + 1) & 0xFFFFFFFF)
    return steps


@numba.njit(**JIT_OPTIONS)
def row_terms(row, steps):  # pragma: no cover - compiled
    """A row's terms ``(a, b)`` (see the module) from its uint32 words and their weights."""
    a = np.uint64(0)
    b = np.uint64(0)
    for j in range(row.shape[0]):
        # a 32 x 32 -> 64-bit product: it vectorises (a 64-bit weight did not)
        w = np.uint64(row[j])
        a += w * np.uint64(steps[j])
        b += w
    return a, b


@numba.njit(**JIT_OPTIONS)
def add_row_checksums(terms, offset, out):  # pragma: no cover - compiled
    """Add the checksum of rows whose terms are ``terms`` ((rows, 2) uint64: ``a``, ``b``;
    the first row is row number ``offset`` of the whole array) into ``out`` (uint64, 2)."""
    total_weighted = np.uint64(0)
    total_plain = np.uint64(0)
    for i in range(terms.shape[0]):
        k = np.uint64(offset + i)
        a, b = terms[i, 0], terms[i, 1]
        total_weighted += a * (np.uint64(2) * k + np.uint64(1)) + b * k
        total_plain += b + a * k
    out[0] += total_weighted
    out[1] += total_plain


@numba.njit(parallel=True, **JIT_OPTIONS)
def checksum_kernel(words, offset, out):  # pragma: no cover - compiled
    """Add the checksum terms of ``words`` (2-D uint32, C-contiguous, whose first row is
    row number ``offset`` of the whole array) into ``out`` (uint64, 2): see the module."""
    n, m = words.shape
    steps = checksum_steps(m)
    terms = np.empty((n, 2), dtype=np.uint64)
    for i in prange(n):
        terms[i, 0], terms[i, 1] = row_terms(words[i], steps)
    add_row_checksums(terms, offset, out)


def array_words(values: np.ndarray) -> np.ndarray:
    """``values`` (C-contiguous, a whole number of 32-bit words a row) as a 2-D uint32
    view: (rows, words a row)."""
    values = np.ascontiguousarray(values)
    rows = values.shape[0] if values.ndim else 1
    return values.reshape(rows, -1).view(np.uint32)
