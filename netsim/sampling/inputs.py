"""Sampling ``inputs[draw, parameter]``: the uniforms, the copula and the inverse CDFs
in one pass over the draws (:mod:`netsim.kernels.sampling`), the same values bit for
bit as taking them step by step (:mod:`netsim.sampling.uniforms`,
:mod:`netsim.sampling.copula`, each distribution's ``ppf``)."""

from __future__ import annotations

import numpy as np

from netsim.kernels.sampling import sample_kernel, sample_serial_kernel
from netsim.sampling.columns import kernel_columns
from netsim.sampling.copula import correlation_factor
from netsim.sampling.reordering import reordered_columns
from netsim.sampling.uniforms import check_request, sample_uniforms, stream_key
from netsim.scenario.schema import Scenario

__all__ = ["correlation_attrs", "sample_inputs"]

# a sample of at most this many values runs on one thread: about 0.7 ms of work at 20 ns
# a value, less than waking the threads costs on a busy machine (measured: about 10 ms a
# parallel launch at a load average of 8 on two cores, netsim.kernels.columns)
SERIAL_SAMPLE_VALUES = 2**15


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
    stop = draws if stop is None else stop
    check_request(draws, seed, sampler, start, stop)
    names = scenario.parameter_names
    columns = kernel_columns(scenario)
    copula = correlation_factor(scenario)
    keep = return_uniforms or bool(columns.fallback)
    if sampler == "mc":
        # the keyed uniforms are made inside the kernel, a draw at a time
        keys = np.array([stream_key(seed, name) for name in names], dtype=np.uint64)
        uniforms = np.empty((stop - start if keep else 0, len(names)))
    else:
        keys = np.empty(0, dtype=np.uint64)
        uniforms = sample_uniforms(names, draws, seed, sampler, start, stop)
        keep = True
    if copula is not None and sampler == "lhs":
        # the stratified columns reordered to the copula's ranks (Iman-Conover): each
        # keeps one draw per stratum (netsim.sampling.reordering)
        reordered_at, reordered = reordered_columns(scenario, draws, seed, start, stop)
        uniforms[:, reordered_at] = reordered
        copula = None
    correlated, factor = copula if copula is not None else (np.empty(0, np.int64), np.empty((0, 0)))
    inputs = np.empty((stop - start, len(names)))
    # a small chunk on one thread: waking the threads costs more than its work
    small = inputs.size <= SERIAL_SAMPLE_VALUES
    kernel = sample_serial_kernel if small else sample_kernel
    copula_arrays = (np.asarray(correlated, np.int64), factor)
    kernel(keys, np.uint64(start), uniforms, keep, columns.for_kernel, copula_arrays, inputs)
    columns.finish(inputs)  # the lognormals' exp and median
    for j in columns.fallback:  # kinds the kernel leaves to their own ppf
        inputs[:, j] = scenario.parameters[j].distribution.ppf(uniforms[:, j])
    if return_uniforms:
        return inputs, uniforms
    return inputs
