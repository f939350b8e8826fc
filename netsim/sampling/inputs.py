"""Sampling ``inputs[draw, parameter]``: uniforms, then the copula, then inverse CDFs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from netsim.sampling.copula import correlate_uniforms
from netsim.sampling.uniforms import sample_uniforms
from netsim.scenario.schema import Scenario

__all__ = ["sample_inputs"]


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
    uniforms = correlate_uniforms(scenario, uniforms)
    inputs = np.empty_like(uniforms)

    def transform(j: int) -> None:
        inputs[:, j] = scenario.parameters[j].distribution.ppf(uniforms[:, j])

    # the inverse CDFs (scipy's ufuncs, the beta kernel) release the GIL: columns run in
    # parallel, each writes its own
    with ThreadPoolExecutor(max_workers=numba.get_num_threads()) as pool:
        list(pool.map(transform, range(len(scenario.parameters))))
    if return_uniforms:
        return inputs, uniforms
    return inputs
