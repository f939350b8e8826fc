"""Sampling the inputs: uniforms, rank correlation, inverse CDFs.

Stage one makes uniforms ``u[draw, parameter]`` with one of three samplers:

``mc``
    Each uniform is a pure function of ``(seed, parameter name, draw index)``:
    SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
    generators") evaluated at the draw index, keyed by a BLAKE2b hash of the seed
    and the name. Any chunking, any subset of draws and any order of parameters
    in the file give the same numbers; adding a parameter changes no other.
``lhs``
    Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`), one independent
    one-dimensional design per parameter, keyed by name, for a fixed total of draws.
``sobol``
    Scrambled Sobol' points (:class:`scipy.stats.qmc.Sobol`) for a fixed total of
    draws, dimensions in the sorted order of parameter names; chunks use
    ``fast_forward``. Balance properties hold for powers of two.

Stage two imposes the scenario's rank correlations with a Gaussian copula (per
draw, so it keeps every property above, and it leaves each marginal exactly
uniform) and maps each column through its distribution's inverse CDF.
"""

from __future__ import annotations

import hashlib
import warnings
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from scipy import special

from netsim.errors import ScenarioError
from netsim.kernels import keyed_uniforms_kernel
from netsim.scenario import Scenario

__all__ = ["SAMPLERS", "correlation_factor", "keyed_uniforms", "sample_inputs", "sample_uniforms"]

SAMPLERS = ("mc", "lhs", "sobol")

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def stream_key(seed: int, name: str) -> int:
    """A 64-bit key for the random stream of one parameter under one seed."""
    digest = hashlib.blake2b(f"{seed}\x1f{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def keyed_uniforms(key: int, start: int, stop: int) -> np.ndarray:
    """Uniforms in (0, 1) for draw indices ``start <= i < stop`` of one stream.

    Output ``i`` is the ``i``-th output of SplitMix64 seeded with ``key``: the
    53 high bits of the mixed counter, centred in their interval so that 0 and 1
    never occur.
    """
    index = np.arange(start, stop, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(key) + (index + np.uint64(1)) * _GOLDEN_GAMMA
        z = (z ^ (z >> np.uint64(30))) * _MIX_1
        z = (z ^ (z >> np.uint64(27))) * _MIX_2
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 2.0**53)


def _check_request(draws: int, seed: int, sampler: str, start: int, stop: int) -> None:
    if sampler not in SAMPLERS:
        raise ScenarioError(f"sampler={sampler!r} must be one of {', '.join(SAMPLERS)}")
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise ScenarioError(f"draws={draws!r} must be a whole number >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ScenarioError(f"seed={seed!r} must be a whole number >= 0")
    if not 0 <= start <= stop <= draws:
        raise ScenarioError(f"draw range [{start}, {stop}) must lie within [0, {draws})")


def sample_uniforms(
    names: tuple[str, ...],
    draws: int,
    seed: int,
    sampler: str = "mc",
    start: int = 0,
    stop: int | None = None,
) -> np.ndarray:
    """Independent uniforms for draws ``start..stop`` of a ``draws``-draw design.

    Returns
    -------
    ndarray, shape (stop - start, len(names))
    """
    stop = draws if stop is None else stop
    _check_request(draws, seed, sampler, start, stop)
    out = np.empty((stop - start, len(names)))
    if sampler == "mc":
        # keyed_uniforms for every column at once, in a parallel kernel (same values)
        keys = np.array([stream_key(seed, name) for name in names], dtype=np.uint64)
        keyed_uniforms_kernel(keys, np.uint64(start), out)
    elif sampler == "lhs":
        from scipy.stats import qmc  # imported on use: scipy.stats takes about a second

        for j, name in enumerate(names):
            design = qmc.LatinHypercube(d=1, rng=stream_key(seed, name)).random(draws)
            out[:, j] = design[start:stop, 0]
    else:
        from scipy.stats import qmc

        order = sorted(range(len(names)), key=lambda j: names[j])
        engine = qmc.Sobol(d=max(1, len(names)), scramble=True, rng=seed)
        if start:
            engine.fast_forward(start)
        with warnings.catch_warnings():
            # scipy warns when n is not a power of two; the module docstring says so
            warnings.simplefilter("ignore", UserWarning)
            points = engine.random(stop - start)
        # Sobol points can be exactly 0; keep uniforms inside the open interval
        points = np.clip(points, 2.0**-54, 1.0 - 2.0**-53)
        for column, j in enumerate(order):
            out[:, j] = points[:, column]
    return out


def correlation_factor(scenario: Scenario) -> tuple[np.ndarray, np.ndarray] | None:
    """The Gaussian-copula factor for the scenario's correlated parameters.

    Returns
    -------
    (columns, factor) or None
        ``columns`` indexes the correlated parameters; ``factor`` is ``L`` with
        ``L @ L.T`` the normal-scores correlation ``2 sin(pi rho_s / 6)`` that
        gives Spearman ``rho_s`` exactly.

    Raises
    ------
    ScenarioError
        If the rank correlation matrix is not positive semi-definite.
    """
    if not scenario.correlations:
        return None
    names = sorted(
        {p for c in scenario.correlations for p in c.parameters},
        key=scenario.parameter_index.__getitem__,
    )
    position = {name: i for i, name in enumerate(names)}
    rank = np.eye(len(names))
    for c in scenario.correlations:
        i, j = position[c.parameters[0]], position[c.parameters[1]]
        rank[i, j] = rank[j, i] = c.rho
    eigenvalues = np.linalg.eigvalsh(rank)
    if eigenvalues.min() < -1e-10:
        raise ScenarioError(
            f"the correlation matrix of {', '.join(names)} is not positive semi-definite "
            f"(smallest eigenvalue {eigenvalues.min():.4g}): these correlations cannot all hold "
            "at once",
            path=scenario.path,
            key="correlations",
        )
    normal = 2.0 * np.sin(np.pi * rank / 6.0)
    values, vectors = np.linalg.eigh(normal)
    if values.min() < -1e-10:
        raise ScenarioError(
            "the normal-scores correlation derived from correlations is not positive "
            f"semi-definite (smallest eigenvalue {values.min():.4g})",
            path=scenario.path,
            key="correlations",
        )
    factor = vectors * np.sqrt(np.clip(values, 0.0, None))[None, :]
    columns = np.array([scenario.parameter_index[n] for n in names])
    return columns, factor


def correlate_uniforms(scenario: Scenario, uniforms: np.ndarray) -> np.ndarray:
    """Impose the scenario's rank correlations on independent uniforms (a copy)."""
    copula = correlation_factor(scenario)
    if copula is None:
        return uniforms
    columns, factor = copula
    out = uniforms.copy()
    # the standard normal's ppf and cdf (what scipy.stats.norm computes)
    scores = special.ndtri(uniforms[:, columns]) @ factor.T
    out[:, columns] = np.clip(special.ndtr(scores), 2.0**-54, 1.0 - 2.0**-53)
    return out


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
