"""Rank correlations for a Latin hypercube design without losing its strata (Iman and
Conover 1982, "A distribution-free approach to inducing rank correlation among input
variables").

A Gaussian copula applied draw by draw mixes the stratified columns it correlates, so a
correlated column no longer holds one draw per stratum (measured: the 7 correlated
parameters of a 1,000-draw NET design kept about 62 % of their strata, what independent
draws give). Iman and Conover keep each column's values and reorder them instead: the
copula's scores of the whole design are taken as the target ranks, and the draw whose
score ranks ``k``-th in a column gets that column's ``k``-th stratum. Every column then
keeps exactly one draw per stratum, and the achieved rank correlations are those of the
copula's scores, as before.

Each draw's place inside its stratum is the Latin hypercube's own keyed jitter, and the
ranks are those of the whole design (a stable sort: ties go by draw index), so a chunk
of a run gets the same values whatever the chunking; the ranks of a design are computed
once per process and kept: 4 bytes per draw and correlated parameter (28 MB for a
million draws of the NET scenario's 7), and 8 more while the copula's scores are ranked.

No scipy or OpenTURNS routine does this for a design evaluated chunk by chunk; the
reordering is a sort, written here.
"""

from __future__ import annotations

import threading

import numpy as np

from netsim.errors import ScenarioError
from netsim.sampling.copula import correlated_column, correlation_factor, normal_scores
from netsim.sampling.uniforms import keyed_uniforms, open_interval, sample_uniforms, stream_key
from netsim.scenario.memo import per_scenario
from netsim.scenario.schema import Scenario

__all__ = ["reordered_columns", "stratified_ranks"]

SCORE_BLOCK = 65_536  # draws whose uniforms and normal scores are held at once
# the most memory a design's ranks and scores may take (4 GiB, a quarter of a 16 GB
# machine): about 46 million draws of the NET scenario's 7 correlated parameters
MAX_RANKING_BYTES = 2**32
_LOCK = threading.Lock()
_KEPT: dict[int, dict[tuple[int, int], np.ndarray]] = {}  # per scenario: (draws, seed) -> ranks


def stratified_ranks(scenario: Scenario, draws: int, seed: int) -> np.ndarray:
    """The stratum of every draw in every correlated column, ``(draws, k)`` uint32 (k
    correlated parameters, in :func:`netsim.sampling.copula.correlation_factor` order):
    each column a permutation of ``0 .. draws - 1``."""
    designs = per_scenario(_KEPT, scenario, lambda _: {})
    key = (draws, seed)
    with _LOCK:
        kept = designs.get(key)
    if kept is not None:
        return kept
    columns, factor = correlation_factor(scenario)
    names = tuple(scenario.parameter_names[c] for c in columns)
    needed = draws * (12 * len(names) + 8)  # scores, ranks, one column's sort order
    if needed > MAX_RANKING_BYTES:
        raise ScenarioError(
            f"draws={draws:,}: a Latin hypercube design with {len(names)} correlated "
            f"parameters ranks them over all its draws, {needed / 1e9:.1f} GB in memory, "
            f"over {MAX_RANKING_BYTES / 1e9:.1f} GB: use sampler mc for a run this large"
        )
    # the copula's scores of the whole design, block by block of draws (the uniforms and
    # normal scores of one block at a time), then each column's ranks
    scores = np.empty((draws, len(names)))
    for start in range(0, draws, SCORE_BLOCK):
        stop = min(start + SCORE_BLOCK, draws)
        uniforms = sample_uniforms(names, draws, seed, "lhs", start, stop)
        normal = normal_scores(uniforms, np.arange(len(names)))
        for i in range(len(names)):
            scores[start:stop, i] = correlated_column(normal, factor, i)
    ranks = np.empty((draws, len(names)), dtype=np.uint32 if draws < 2**32 else np.uint64)
    for i in range(len(names)):
        order = np.argsort(scores[:, i], kind="stable")
        ranks[order, i] = np.arange(draws, dtype=ranks.dtype)
    del scores
    with _LOCK:
        designs.clear()  # one design at a time: a run asks for its own chunk after chunk
        designs[key] = ranks
    return ranks


def reordered_columns(
    scenario: Scenario, draws: int, seed: int, start: int, stop: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(columns, uniforms)``: the correlated columns' uniforms of draws ``start..stop``
    of a ``draws``-draw Latin hypercube design, rank-correlated and stratified."""
    columns, _ = correlation_factor(scenario)
    ranks = stratified_ranks(scenario, draws, seed)[start:stop]
    out = np.empty((stop - start, columns.size))
    for i, column in enumerate(columns):
        name = scenario.parameter_names[column]
        jitter = keyed_uniforms(stream_key(seed, f"{name}\x1flhs"), start, stop)
        out[:, i] = open_interval((ranks[:, i].astype(np.float64) + jitter) / draws)
    return columns, out
