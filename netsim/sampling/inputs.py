"""Sampling ``inputs[draw, parameter]``: uniforms, then block by block of draws the
copula and the inverse CDFs."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from netsim.sampling.copula import correlated_column, correlation_factor, normal_scores
from netsim.sampling.reordering import reordered_columns
from netsim.sampling.uniforms import sample_uniforms
from netsim.scenario.schema import Scenario

__all__ = ["correlation_attrs", "sample_inputs"]

# draws transformed together: at most 16,384 (P columns of float64 stay in the last-level
# cache), at least 1,024 (a block's Python work is P calls), else two blocks a thread
MAX_ROWS_PER_BLOCK = 16_384
MIN_ROWS_PER_BLOCK = 1_024


_POOL: tuple[int, int, ThreadPoolExecutor] | None = None  # (process id, threads, pool)


def _thread_pool(threads: int) -> ThreadPoolExecutor:
    """One pool of ``threads`` threads kept for the process: starting threads for every
    call cost 2.5 ms of a 10 ms chunk of 8,192 draws (measured in reduce mode). A forked
    child (a Dask worker process) gets its own, since its parent's threads are not in it."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid() or _POOL[1] != threads:
        _POOL = (os.getpid(), threads, ThreadPoolExecutor(threads, "netsim-sampling"))
    return _POOL[2]


# what each sampler does with the scenario's rank correlations, as a run's attrs say it
CORRELATION_METHODS = {
    "mc": "Gaussian copula on independent draws (the marginals kept, the rank correlations "
    "as specified)",
    "lhs": (
        "Iman-Conover rank reordering of the stratified columns: every column keeps one "
        "draw per stratum, the rank correlations are the Gaussian copula's"
    ),
    "sobol": (
        "Gaussian copula on the scrambled Sobol' points: the correlated columns keep their "
        "marginals and rank correlations but not the design's one point per interval (the "
        "others keep it)"
    ),
}


def correlation_attrs(scenario: Scenario, sampler: str) -> dict[str, str]:
    """``{"correlation_method": ...}`` for a run of a scenario with correlations (else
    empty): how the sampler imposed them, and what of its design that keeps."""
    if not scenario.correlations:
        return {}
    return {"correlation_method": CORRELATION_METHODS[sampler]}


def sample_inputs(
    scenario: Scenario,
    draws: int,
    seed: int = 0,
    sampler: str = "mc",
    start: int = 0,
    stop: int | None = None,
    *,
    return_uniforms: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Sample ``inputs[draw, parameter]`` for draws ``start..stop`` of a run.

    Parameters
    ----------
    scenario : Scenario
    draws : int
        Total draws of the run (fixes the LHS and Sobol designs).
    seed : int
        Any whole number >= 0 (0 is a seed like any other).
    sampler : {"mc", "lhs", "sobol"}
    start, stop : int
        The slice of draws wanted.
    return_uniforms : bool
        Also return the correlated uniforms (for rank-based sensitivity).

    Returns
    -------
    inputs : ndarray, shape (stop - start, P)
        Columns in ``scenario.parameter_names`` order, in each parameter's unit.
    """
    uniforms = sample_uniforms(scenario.parameter_names, draws, seed, sampler, start, stop)
    inputs = np.empty_like(uniforms)
    copula = correlation_factor(scenario)
    if copula is not None and sampler == "lhs":
        # the stratified columns reordered to the copula's ranks (Iman-Conover): each
        # keeps one draw per stratum (netsim.sampling.reordering)
        end = draws if stop is None else stop
        columns, reordered = reordered_columns(scenario, draws, seed, start, end)
        uniforms[:, columns] = reordered
        copula = None
    distributions = [p.distribution for p in scenario.parameters]

    def transform(rows: slice) -> None:
        # one block of rows, every column: the copula (each correlated column replaced by
        # its correlated uniforms, from scores taken before any was replaced), then the
        # inverse CDFs. A block's uniforms and inputs stay in cache while its columns
        # are read and written (measured: whole columns of a (draws, P) matrix, read and
        # written at a stride of P values, cost more than the inverse CDFs themselves)
        block = uniforms[rows]
        if copula is not None:
            columns, factor = copula
            normal = normal_scores(block, columns)
            for i, column in enumerate(columns):
                block[:, column] = correlated_column(normal, factor, i)
        for j, distribution in enumerate(distributions):
            inputs[rows, j] = distribution.ppf(block[:, j])

    # the inverse CDFs (scipy's ufuncs, the beta kernels) release the GIL: blocks run on
    # parallel threads; each value depends on its own uniform alone, so the blocks do not
    # change any value
    n = uniforms.shape[0]
    threads = numba.get_num_threads()
    size = min(MAX_ROWS_PER_BLOCK, max(MIN_ROWS_PER_BLOCK, -(-n // (2 * threads))))
    blocks = [slice(a, min(a + size, n)) for a in range(0, n, size)]
    if len(blocks) == 1:
        transform(blocks[0])
    else:
        list(_thread_pool(threads).map(transform, blocks))
    if return_uniforms:
        return inputs, uniforms
    return inputs
