"""Rank correlations between inputs: a Gaussian copula on the uniforms, per draw.

The correlated parameters are taken in the sorted order of their names and the
normal-scores correlation is factored by its symmetric square root, so moving a
driver in the file changes no draw. Everything here is scalar IEEE arithmetic in a
fixed order, without LAPACK or BLAS: those pick their kernels by CPU, and a product
through them differs in the last bits between machines (measured: the symmetric
square root of the NET correlation matrix from ``np.linalg.eigh`` and ``@`` has three
different SHA-256 digests under OpenBLAS's Haswell, SkylakeX and Sandybridge kernels),
while a Dask cluster's workers must draw the same inputs on every machine.
"""

from __future__ import annotations

import math

import numpy as np

from netsim.errors import ScenarioError
from netsim.sampling.uniforms import open_interval
from netsim.scenario.memo import per_scenario
from netsim.scenario.schema import Scenario

__all__ = [
    "correlate_uniforms",
    "correlated_column",
    "correlation_factor",
    "normal_scores",
    "symmetric_eigen",
]

JACOBI_SWEEPS = 100  # cyclic sweeps at most; a correlation matrix needs fewer than ten


def symmetric_eigen(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors of a small symmetric matrix (cyclic Jacobi rotations).

    Written here rather than taken from ``np.linalg.eigh`` for bit-identical results on
    every machine (see the module notes); accurate to a few ulps of the largest
    eigenvalue (tested against ``eigh``).

    Returns
    -------
    values : ndarray (n,)
        In increasing order.
    vectors : ndarray (n, n)
        Column ``k`` is the eigenvector of ``values[k]``.
    """
    a = [[float(x) for x in row] for row in np.asarray(matrix, dtype=np.float64)]
    n = len(a)
    v = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
    scale = sum(a[i][i] * a[i][i] for i in range(n)) + 1e-300
    for _ in range(JACOBI_SWEEPS):
        off = sum(a[i][j] * a[i][j] for i in range(n) for j in range(i + 1, n))
        if off <= 1e-32 * scale:
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                if a[p][q] == 0.0:
                    continue
                theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q])
                if abs(theta) > 1e150:
                    t = 0.5 / theta
                else:
                    t = math.copysign(1.0, theta) / (abs(theta) + math.sqrt(theta * theta + 1.0))
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for k in range(n):  # columns p and q
                    akp, akq = a[k][p], a[k][q]
                    a[k][p] = c * akp - s * akq
                    a[k][q] = s * akp + c * akq
                for k in range(n):  # rows p and q
                    apk, aqk = a[p][k], a[q][k]
                    a[p][k] = c * apk - s * aqk
                    a[q][k] = s * apk + c * aqk
                for k in range(n):
                    vkp, vkq = v[k][p], v[k][q]
                    v[k][p] = c * vkp - s * vkq
                    v[k][q] = s * vkp + c * vkq
    order = sorted(range(n), key=lambda k: a[k][k])
    values = np.array([a[k][k] for k in order])
    vectors = np.array([[v[i][k] for k in order] for i in range(n)])
    return values, vectors


def _symmetric_root(values: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``V diag(sqrt(max(values, 0))) V^T``, summed in a fixed order."""
    n = values.size
    roots = [math.sqrt(max(float(x), 0.0)) for x in values]
    root = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            total = 0.0
            for k in range(n):
                total += float(vectors[i, k]) * roots[k] * float(vectors[j, k])
            root[i, j] = root[j, i] = total  # symmetric to the bit
    return root


def correlation_factor(scenario: Scenario) -> tuple[np.ndarray, np.ndarray] | None:
    """The Gaussian-copula factor for the scenario's correlated parameters.

    Returns
    -------
    (columns, factor) or None
        ``columns`` indexes the correlated parameters, in the sorted order of their
        names; ``factor`` is the symmetric square root of the normal-scores correlation
        ``2 sin(pi rho_s / 6)``, which gives Spearman ``rho_s`` exactly.

    Raises
    ------
    ScenarioError
        If the rank correlation matrix is not positive semi-definite.
    """
    if not scenario.correlations:
        return None
    return per_scenario(_FACTORS, scenario, _factor)


_FACTORS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _factor(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    names = sorted({p for c in scenario.correlations for p in c.parameters})
    position = {name: i for i, name in enumerate(names)}
    rank = np.eye(len(names))
    for c in scenario.correlations:
        i, j = position[c.parameters[0]], position[c.parameters[1]]
        rank[i, j] = rank[j, i] = c.rho
    eigenvalues, _ = symmetric_eigen(rank)
    if eigenvalues.min() < -1e-10:
        raise ScenarioError(
            f"the correlation matrix of {', '.join(names)} is not positive semi-definite "
            f"(smallest eigenvalue {eigenvalues.min():.4g}): these correlations cannot all hold "
            "at once",
            path=scenario.path,
            key="correlations",
        )
    normal = 2.0 * np.sin(np.pi * rank / 6.0)
    values, vectors = symmetric_eigen(normal)
    if values.min() < -1e-10:
        raise ScenarioError(
            "the normal-scores correlation derived from correlations is not positive "
            f"semi-definite (smallest eigenvalue {values.min():.4g})",
            path=scenario.path,
            key="correlations",
        )
    columns = np.array([scenario.parameter_index[n] for n in names])
    return columns, _symmetric_root(values, vectors)


def correlate_uniforms(scenario: Scenario, uniforms: np.ndarray) -> np.ndarray:
    """Impose the scenario's rank correlations on independent uniforms (a copy)."""
    copula = correlation_factor(scenario)
    if copula is None:
        return uniforms
    columns, factor = copula
    out = uniforms.copy()
    normal = normal_scores(uniforms, columns)
    for i, column in enumerate(columns):
        out[:, column] = correlated_column(normal, factor, i)
    return out


def normal_scores(uniforms: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The standard normal's ppf (what scipy.stats.norm computes) of the correlated
    columns, (draws, len(columns))."""
    from scipy import special  # the step-by-step path only: the sampling kernel needs none

    return special.ndtri(uniforms[:, columns])


def correlated_column(normal: np.ndarray, factor: np.ndarray, i: int) -> np.ndarray:
    """The ``i``-th correlated column's uniforms from the independent normal scores.

    The product with the factor is taken element by element in a fixed order (a BLAS
    product is not), so the values do not depend on the machine; columns are
    independent of each other (callers may compute them on several threads).
    """
    score = normal[:, 0] * factor[i, 0]
    for j in range(1, normal.shape[1]):
        score += normal[:, j] * factor[i, j]
    from scipy import special

    return open_interval(special.ndtr(score))
