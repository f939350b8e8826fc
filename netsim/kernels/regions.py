"""Sums of countries into their regions and the world."""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from netsim.kernels.options import JIT_OPTIONS

__all__ = ["region_sum_kernel"]


@numba.njit(parallel=True, **JIT_OPTIONS)
def region_sum_kernel(values, region_of, by_region, world):  # pragma: no cover - compiled
    """Sum countries into regions and the world, per draw (float64 sums).

    Parameters
    ----------
    values : ndarray, shape (draw, year, country, segment)
    region_of : ndarray of int64, shape (country,)
    by_region : ndarray, shape (draw, year, region, segment), overwritten
    world : ndarray, shape (draw, year, segment), overwritten
    """
    n, n_years, n_countries, n_segments = values.shape
    n_regions = by_region.shape[2]
    # views of one (draw, year) and countries in their order: the same sums as indexing
    # all four dimensions in the inner loop, in 55 to 65 % of its time (measured on the
    # (28,672, 1, 21, 6) cube of a Sobol evaluation)
    for d in prange(n):
        for t in range(n_years):
            cells, regions, world_row = values[d, t], by_region[d, t], world[d, t]
            for s in range(n_segments):
                world_row[s] = 0.0
                for r in range(n_regions):
                    regions[r, s] = 0.0
            for c in range(n_countries):
                country, region = cells[c], regions[region_of[c]]
                for s in range(n_segments):
                    v = np.float64(country[s])
                    region[s] += v
                    world_row[s] += v
