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

Stage two (:mod:`netsim.sampling.copula`, :mod:`netsim.sampling.inputs`) imposes the
scenario's rank correlations and maps each column through its inverse CDF.
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

from netsim.errors import ScenarioError
from netsim.kernels.streams import keyed_uniforms_kernel
from netsim.scenario.distributions import LARGEST_UNIFORM, SMALLEST_UNIFORM

__all__ = [
    "LARGEST_UNIFORM",
    "SAMPLERS",
    "SMALLEST_UNIFORM",
    "check_request",
    "keyed_uniforms",
    "open_interval",
    "sample_uniforms",
    "stream_key",
]

SAMPLERS = ("mc", "lhs", "sobol")

# The open interval (0, 1) every inverse CDF is given (defined beside the distributions,
# whose supports it bounds): Sobol points and the copula's normal CDF can reach 0 or 1.


def open_interval(uniforms: np.ndarray) -> np.ndarray:
    """Uniforms clipped into ``[SMALLEST_UNIFORM, LARGEST_UNIFORM]``, inside (0, 1)."""
    return np.clip(uniforms, SMALLEST_UNIFORM, LARGEST_UNIFORM)


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


def check_request(draws: int, seed: int, sampler: str, start: int, stop: int) -> None:
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
    check_request(draws, seed, sampler, start, stop)
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
        points = open_interval(points)  # Sobol points can be exactly 0
        for column, j in enumerate(order):
            out[:, j] = points[:, column]
    return out
