"""Sums of countries into their regions and the world."""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from netsim.kernels.checksum import checksum_steps, row_terms
from netsim.kernels.options import JIT_OPTIONS

__all__ = [
    "region_members",
    "region_sum_checksum_kernel",
    "region_sum_kernel",
    "sum_countries_once",
    "sum_draw",
]


@numba.njit(**JIT_OPTIONS)
def region_members(region_of, n_regions):  # pragma: no cover - compiled
    """Each region's countries, in their order (a stable counting sort): region ``r``'s
    countries are ``members[starts[r]:starts[r + 1]]``."""
    n_countries = region_of.shape[0]
    members = np.empty(n_countries, dtype=np.int64)
    starts = np.zeros(n_regions + 1, dtype=np.int64)
    for c in range(n_countries):
        starts[region_of[c] + 1] += 1
    for r in range(n_regions):
        starts[r + 1] += starts[r]
    slot = starts[:n_regions].copy()
    for c in range(n_countries):
        members[slot[region_of[c]]] = c
        slot[region_of[c]] += 1
    return members, starts


@numba.njit(parallel=True, **JIT_OPTIONS)
def region_sum_kernel(values, region_of, by_region, world):  # pragma: no cover - compiled
    """Sum countries into regions and the world, per draw (float64 sums).

    Parameters
    ----------
    values : ndarray, shape (draw, year, country, segment)
    region_of : ndarray of int64, shape (country,)
    by_region : ndarray, shape (draw, year, region, segment), overwritten
    world : ndarray, shape (draw, year, segment), overwritten

    Each sum starts from 0 and adds its countries in their order (so a region's sum is
    the same whichever way the loops run: tests/test_regression.py pins them). A draw's
    cells are read once, in memory order, each added to its world's and its region's sum
    (:func:`sum_countries_once`; reading each segment's countries apart, strided, once
    for the world and once for the regions, took 2 to 2.7 times as long: 88 to 108
    against 40 to 44 ms of one core for the 16 outputs of a 2,048-draw chunk of the NET
    file, with and without the checksum, medians of 7 in alternation at load 5,
    measured; the same sums, bit for bit). The
    propagation kernel forms the same sums of its own cells, in the same order, without
    writing them (``propagate_region_sums_kernel``).
    """
    n, n_years = values.shape[0], values.shape[1]
    for d in prange(n):
        for t in range(n_years):
            sum_countries_once(values[d, t], region_of, by_region[d, t], world[d, t])


@numba.njit(parallel=True, **JIT_OPTIONS)
def region_sum_checksum_kernel(
    values, words, region_of, by_region, world, terms
):  # pragma: no cover - compiled
    """:func:`region_sum_kernel` and, in the same pass over each draw while its cells
    are in cache, the checksum terms of every draw's cells
    (:mod:`netsim.kernels.checksum`).

    Parameters
    ----------
    values : ndarray of float32, shape (draw, year, country, segment), C-contiguous
    words : ndarray of uint32
        ``values`` viewed as its 32-bit words, the same shape.
    region_of, by_region, world
        As :func:`region_sum_kernel`.
    terms : ndarray of uint64, shape (draw, 2), overwritten
        Each draw's terms ``(a, b)``, for :func:`netsim.kernels.checksum.add_row_checksums`.

    A separate checksum pass read a chunk's outputs from memory once more, in 16 more
    parallel calls: folding a 2,048-draw chunk of the NET file for a run file took 146
    against 155 ms of one core, and 0.82 against 1.23 s on two busy cores (medians of
    15 in alternation, measured).
    """
    n, n_years = values.shape[0], values.shape[1]
    row_words = words[0].size if n else 0
    steps = checksum_steps(row_words)
    for d in prange(n):
        terms[d, 0], terms[d, 1] = row_terms(words[d].reshape(row_words), steps)
        for t in range(n_years):
            sum_countries_once(values[d, t], region_of, by_region[d, t], world[d, t])


@numba.njit(**JIT_OPTIONS)
def sum_countries_once(cells, region_of, by_region, world):  # pragma: no cover - compiled
    """One (draw, year)'s sums, its cells read once, in memory order: ``cells`` (country,
    segment) into ``by_region`` (region, segment) and ``world`` (segment), overwritten.
    Each country's segments are added to the world's and its region's sums, so every sum
    starts from 0 and adds its countries in their order, as :func:`sum_draw` does."""
    n_countries, n_segments = cells.shape
    world[:] = 0.0
    by_region[:] = 0.0
    for c in range(n_countries):
        part = by_region[region_of[c]]
        for s in range(n_segments):
            value = np.float64(cells[c, s])
            world[s] += value
            part[s] += value


@numba.njit(**JIT_OPTIONS)
def sum_draw(cells_of_draw, starts, members, by_region, world):  # pragma: no cover - compiled
    """One draw's sums: ``cells_of_draw`` (year, country, segment) into ``by_region``
    (year, region, segment) and ``world`` (year, segment), as :func:`region_sum_kernel`."""
    n_years, n_countries, n_segments = cells_of_draw.shape
    n_regions = by_region.shape[1]
    for t in range(n_years):
        cells, regions, world_row = cells_of_draw[t], by_region[t], world[t]
        for s in range(n_segments):
            total = 0.0
            for c in range(n_countries):
                total += np.float64(cells[c, s])
            world_row[s] = total
            for r in range(n_regions):
                part = 0.0
                for i in range(starts[r], starts[r + 1]):
                    part += np.float64(cells[members[i], s])
                regions[r, s] = part
