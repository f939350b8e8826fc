"""A scenario's distributions as the arrays the sampling kernel reads
(:mod:`netsim.kernels.sampling`), built once per scenario."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netsim.kernels import sampling as codes
from netsim.kernels.beta_table import beta_table
from netsim.scenario.distributions import Distribution, Pert
from netsim.scenario.memo import per_scenario
from netsim.scenario.schema import Scenario

__all__ = ["KernelColumns", "kernel_columns"]


@dataclass(frozen=True)
class KernelColumns:
    """Every column's kind code, numbers and tables, and the columns left to ``ppf``.

    Attributes
    ----------
    kinds : ndarray of int64 (P,)
    parameters : ndarray of float64 (P, 4)
    index : ndarray of int64 (P,)
    tables : tuple of ndarrays
        The PERT tables, as :func:`netsim.kernels.sampling.sample_kernel` takes them.
    discrete : tuple of ndarrays
        The discrete distributions' cumulative weights and values.
    fallback : tuple of int
        Columns the kernel leaves to their distribution's ``ppf``.
    lognormal : tuple of (int, float)
        The lognormal columns and their medians: the kernel writes ``sigma * ndtri(u)``,
        :meth:`finish` the rest of their ``ppf``.
    """

    kinds: np.ndarray
    parameters: np.ndarray
    index: np.ndarray
    tables: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    discrete: tuple[np.ndarray, np.ndarray, np.ndarray]
    fallback: tuple[int, ...]
    lognormal: tuple[tuple[int, float], ...] = ()

    def finish(self, inputs: np.ndarray) -> None:
        """The lognormal columns of the kernel's ``inputs`` (draws, P) made their values,
        in place: ``np.exp(column) * median``, the operations of their ``ppf`` after
        the normal quantile (numpy's ``exp``, as there: libm's differs in the last bit)."""
        for j, median in self.lognormal:
            inputs[:, j] = np.exp(inputs[:, j]) * median

    @property
    def for_kernel(self) -> tuple:
        """``(kinds, parameters, index, tables, discrete)``, as the kernel takes them."""
        return (self.kinds, self.parameters, self.index, self.tables, self.discrete)


_COLUMNS: dict[int, KernelColumns] = {}


def kernel_columns(scenario: Scenario) -> KernelColumns:
    """The scenario's :class:`KernelColumns` (built once per scenario object)."""
    return per_scenario(
        _COLUMNS, scenario, lambda s: build_columns(tuple(p.distribution for p in s.parameters))
    )


def build_columns(distributions: tuple[Distribution, ...]) -> KernelColumns:
    """:class:`KernelColumns` of distributions in column order. Each number is the one
    the kind's ``ppf`` computes with, by the same Python arithmetic, so the kernel's
    values equal ``ppf``'s bit for bit."""
    n = len(distributions)
    kinds = np.zeros(n, dtype=np.int64)
    parameters = np.zeros((n, 4))
    index = np.full(n, -1, dtype=np.int64)
    tables: list = []
    discrete: list[tuple[np.ndarray, np.ndarray]] = []
    for j, distribution in enumerate(distributions):
        kinds[j], numbers = _kind(distribution, tables, discrete)
        parameters[j, : len(numbers)] = numbers
        if kinds[j] == codes.PERT:
            index[j] = len(tables) - 1
        elif kinds[j] == codes.DISCRETE:
            index[j] = len(discrete) - 1
    fallback = tuple(int(j) for j in np.nonzero(kinds == codes.FALLBACK)[0])
    lognormal = tuple(
        (int(j), distributions[j].params["median"]) for j in np.nonzero(kinds == codes.LOGNORMAL)[0]
    )
    return KernelColumns(
        kinds, parameters, index, _packed_tables(tables), _packed(discrete), fallback, lognormal
    )


def _kind(distribution: Distribution, tables: list, discrete: list) -> tuple[int, tuple]:
    """A distribution's kind code and numbers; a PERT's table or a discrete
    distribution's arrays appended to ``tables`` or ``discrete``."""
    params = distribution.params
    kind = distribution.kind
    if kind == "fixed":
        return codes.FIXED, (float(params["value"]),)
    if kind == "uniform":
        return codes.UNIFORM, (params["low"], params["high"] - params["low"])
    if kind == "triangular":
        width = params["high"] - params["low"]
        c = (params["mode"] - params["low"]) / width
        return codes.TRIANGULAR, (params["low"], width, c, 1 - c)
    if kind == "pert":
        a, b = Pert.beta_shape(params)
        table = beta_table(a, b) if min(a, b) >= 1.0 else None
        if table is None or not table.nodes:
            return codes.FALLBACK, ()  # the exact solver: rare shapes, left to ppf
        tables.append(table)
        return codes.PERT, (params["low"], params["high"] - params["low"], a, b)
    if kind == "normal":
        return codes.NORMAL, (params["mean"], params["sd"])
    if kind == "lognormal":  # its exp and median applied after the kernel (finish)
        return codes.LOGNORMAL, (params["sigma"],)
    if kind == "bernoulli":
        return codes.BERNOULLI, (1.0 - params["p"],)
    if kind == "discrete":
        cumulative = np.cumsum(params["weights"])
        cumulative[-1] = 1.0
        discrete.append((cumulative, np.asarray(params["values"], dtype=np.float64)))
        return codes.DISCRETE, ()
    # truncated normal (scipy's own algorithm) and any kind added later: their own ppf
    return codes.FALLBACK, ()


def _packed_tables(tables: list) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The PERT tables padded to the most nodes: (nodes, spacing, values, slopes)."""
    width = max((t.nodes for t in tables), default=1)
    nodes = np.array([t.nodes for t in tables] or [0], dtype=np.int64)
    spacing = np.zeros((max(1, len(tables)), 2))
    values = np.zeros((max(1, len(tables)), 2, width))
    slopes = np.zeros_like(values)
    for t, table in enumerate(tables):
        spacing[t] = table.spacing
        values[t, :, : table.nodes] = table.values
        slopes[t, :, : table.nodes] = table.slopes
    return nodes, spacing, values, slopes


def _packed(discrete: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """The discrete distributions padded to the most values: (sizes, cumulative, values)."""
    width = max((c.size for c, _ in discrete), default=1)
    sizes = np.array([c.size for c, _ in discrete] or [0], dtype=np.int64)
    cumulative = np.ones((max(1, len(discrete)), width))
    values = np.zeros((max(1, len(discrete)), width))
    for d, (c, v) in enumerate(discrete):
        cumulative[d, : c.size] = c
        values[d, : v.size] = v
    return sizes, cumulative, values
