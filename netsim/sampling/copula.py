"""Rank correlations between inputs: a Gaussian copula on the uniforms, per draw."""

from __future__ import annotations

import numpy as np
from scipy import special

from netsim.errors import ScenarioError
from netsim.sampling.uniforms import open_interval
from netsim.scenario.schema import Scenario

__all__ = ["correlate_uniforms", "correlation_factor"]


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
    out[:, columns] = open_interval(special.ndtr(scores))
    return out
