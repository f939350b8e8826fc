"""Sampling the inputs: uniforms, rank correlation, inverse CDFs.

Stage one makes uniforms ``u[draw, parameter]`` with one of three samplers:

``mc``
    Each uniform is a pure function of ``(seed, parameter name, draw index)``:
    SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
    generators") evaluated at the draw index, keyed by a BLAKE2b hash of the seed
    and the name. Any chunking, any subset of draws and any order of parameters
    in the file give the same numbers; adding a parameter changes no other.
``lhs``
    Latin hypercube for a fixed total of ``n`` draws, one independent one-dimensional
    design per parameter, keyed by name: draw ``i`` of a column lies in stratum
    ``pi(i)`` of ``n`` equal strata, ``pi`` a keyed pseudo-random permutation of
    ``0 .. n - 1`` (:func:`keyed_permutation`), at a keyed uniform place inside it. A
    permutation evaluated at any draw index costs what a keyed uniform costs, so a
    chunk of a huge run costs its own size (``scipy.stats.qmc.LatinHypercube`` builds
    the whole design for every chunk: measured two hours of sampling for 4 million
    draws in chunks, against two minutes for ``mc``).
``sobol``
    Scrambled Sobol' points (:class:`scipy.stats.qmc.Sobol`) for a fixed total of
    draws, dimensions in the sorted order of parameter names; chunks use
    ``fast_forward``. Balance properties hold for powers of two.

Stage two (:mod:`netsim.sampling.copula`, :mod:`netsim.sampling.inputs`) imposes the
scenario's rank correlations and maps each column through its inverse CDF. For ``lhs``
the correlated columns are reordered instead (:mod:`netsim.sampling.reordering`,
Iman-Conover), so that every column keeps one draw per stratum; for ``sobol`` the
Gaussian copula acts on the points, and the correlated columns lose the design's one
point per interval (a run says which in its attr ``correlation_method``).
"""

from __future__ import annotations

import hashlib
import warnings

import numpy as np

from netsim.errors import ArgumentValueError
from netsim.kernels.streams import keyed_uniforms_kernel
from netsim.scenario.distributions import LARGEST_UNIFORM, SMALLEST_UNIFORM

__all__ = [
    "LARGEST_UNIFORM",
    "SAMPLERS",
    "SMALLEST_UNIFORM",
    "check_request",
    "keyed_permutation",
    "keyed_uniforms",
    "open_interval",
    "sample_uniforms",
    "stream_key",
]

SAMPLERS = ("mc", "lhs", "sobol")
MAX_DRAWS = 2**50  # about 10**15

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


FEISTEL_ROUNDS = 8


def keyed_permutation(index: np.ndarray, n: int, key: int) -> np.ndarray:
    """``pi(index)`` for a pseudo-random permutation ``pi`` of ``0 .. n - 1`` keyed by ``key``.

    A balanced Feistel network on the ``2 h`` bits of the smallest power of four
    ``>= n`` (a bijection of that domain, whatever its round function), walked in
    cycles until the value falls below ``n`` (a bijection of ``0 .. n - 1``: each walk
    stays on its own cycle). The round function is SplitMix64's finaliser of the half
    and a per-round key. Every index is computed on its own.

    Parameters
    ----------
    index : ndarray of uint64
        Indices in ``[0, n)``.
    n : int
        Size of the permuted range (>= 1).
    key : int
        64-bit key.

    Returns
    -------
    ndarray of uint64
    """
    half_bits = max(1, (max(n - 1, 1).bit_length() + 1) // 2)
    mask = np.uint64((1 << half_bits) - 1)
    shift = np.uint64(half_bits)
    round_keys = [np.uint64(stream_key(key, f"round {r}")) for r in range(FEISTEL_ROUNDS)]
    limit = np.uint64(n)

    def shuffle(x: np.ndarray) -> np.ndarray:
        left, right = x >> shift, x & mask
        for round_key in round_keys:
            with np.errstate(over="ignore"):
                z = right + round_key
                z = (z ^ (z >> np.uint64(30))) * _MIX_1
                z = (z ^ (z >> np.uint64(27))) * _MIX_2
                z = z ^ (z >> np.uint64(31))
            left, right = right, left ^ (z & mask)
        return (left << shift) | right

    out = shuffle(np.asarray(index, dtype=np.uint64))
    outside = out >= limit
    while outside.any():  # cycle walking: at most a few steps (the domain is < 4 n)
        out[outside] = shuffle(out[outside])
        outside = out >= limit
    return out


def check_request(draws: int, seed: int, sampler: str, start: int, stop: int) -> None:
    if sampler not in SAMPLERS:
        raise ArgumentValueError(
            f"sampler={sampler!r} must be one of {', '.join(SAMPLERS)}", argument="sampler"
        )
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 1:
        raise ArgumentValueError(f"draws={draws!r} must be a whole number >= 1", argument="draws")
    if draws > MAX_DRAWS:
        raise ArgumentValueError(
            f"draws={draws:,} is beyond {MAX_DRAWS:,}: no run of that size would finish "
            "(a trillion draws already take months at this kernel's speed)",
            argument="draws",
        )
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise ArgumentValueError(
            f"seed={seed!r} must be a whole number in [0, 2**63)", argument="seed"
        )
    if not 0 <= start <= stop <= draws:
        raise ArgumentValueError(
            f"draw range [{start}, {stop}) must lie within [0, {draws})", argument="start"
        )


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
        index = np.arange(start, stop, dtype=np.uint64)
        for j, name in enumerate(names):
            key = stream_key(seed, name)
            stratum = keyed_permutation(index, draws, key)
            jitter = keyed_uniforms(stream_key(seed, f"{name}\x1flhs"), start, stop)
            out[:, j] = open_interval((stratum.astype(np.float64) + jitter) / draws)
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
