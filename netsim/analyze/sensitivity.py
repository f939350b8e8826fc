"""Sensitivity of a scenario's forecast, as labelled cubes over (parameter, year, place, segment).

* :func:`tornado` -- each input at its P10 and P90, the others at the base case;
* :func:`spearman` and :func:`prcc` -- rank correlations of a run's inputs and outputs;
* :func:`sobol` -- variance-based indices on the propagation kernel (grouped where
  inputs are correlated), with jackknife intervals over the blocks of one scrambled design;
* :func:`attribution` -- the base case's waterfall from the baseline to the
  forecast, one step per driver, restraint and event (Shapley values: they do
  not depend on an order and add up exactly);
* :func:`tail_attribution` -- for the draws below the P10 of one cell, each
  input's part of the shortfall against the median.

Every function returns xarray with a ``parameter`` (or ``driver``) dimension
followed by the output's own dimensions, so one call answers for every year,
place and segment; :func:`ranking` sorts one cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import factorial
from typing import Any

import numpy as np
import xarray as xr

from netsim.analyze.cells import (
    cell_grid,
    default_cell,
    load_draws,
    require_draws,
    select_cell,
    select_output,
)
from netsim.analyze.npv import npv_of_arrays
from netsim.analyze.saltelli import DEFAULT_BLOCKS, sobol_indices
from netsim.errors import ScenarioError
from netsim.model.arrays import expected_draw_arrays, override_rows
from netsim.model.layout import OutputLayout, sum_countries
from netsim.model.propagate import propagate, propagate_region_sums, run_kernel
from netsim.sampling.copula import correlate_uniforms
from netsim.scenario.schema import Scenario

__all__ = [
    "MAX_ATTRIBUTION_PLAYERS",
    "METHODS",
    "analyze",
    "attribution",
    "correlation_groups",
    "prcc",
    "ranking",
    "sobol",
    "spearman",
    "tail_attribution",
    "tornado",
]

MAX_ATTRIBUTION_PLAYERS = 16  # exact Shapley values cost 2**players base-case rows
METHODS = ("tornado", "spearman", "prcc", "sobol", "attribution", "tail")
RUN_METHODS = ("spearman", "prcc", "tail")  # the methods that work on a run's draws
VALUE_METHODS = ("tornado", "sobol")  # the methods that take a product's net present value
DEFAULT_RUN_DRAWS = 20_000  # draws of the run a run method makes when given none
DEFAULT_SOBOL_N = 1024


def _parameter_coords(scenario: Scenario) -> dict[str, Any]:
    return {
        "parameter": list(scenario.parameter_names),
        "source": ("parameter", [p.source for p in scenario.parameters]),
    }


def tornado(
    scenario: Scenario,
    output: str = "total",
    by: str = "region",
    low: float = 0.1,
    high: float = 0.9,
) -> xr.Dataset:
    """One-at-a-time swings: each input at its ``low`` and ``high`` quantile, others at base.

    Parameters
    ----------
    scenario : Scenario
    output : str
        ``total``, ``by_<axis>``, another output of the layout, or ``npv`` (each
        product's net present value, ``by="global"``).
    by : {"country", "region", "global"}
    low, high : float
        Quantiles of each input's distribution (default P10 and P90). For a 0/1
        event this gives "does not happen" and "happens" when its probability
        lies between them.

    Returns
    -------
    xarray.Dataset
        ``base`` (the deterministic base case), ``low`` and ``high`` (the output
        with one input moved), ``swing = high - low`` (in the market's unit; negative
        where raising the input lowers the output), over ``(parameter, year,
        <by>[, segment])``; coordinates ``input_low``, ``input_high``,
        ``input_base`` in each parameter's unit. Each value equals
        ``deterministic(scenario, {name: value})`` exactly.
    """
    OutputLayout.of(scenario).check(output, by)
    if not 0.0 < low < high < 1.0:
        raise ScenarioError(
            f"tornado quantiles low={low}, high={high} must satisfy 0 < low < high < 1"
        )
    inputs_low = np.array(
        [float(p.distribution.ppf(np.array([low]))[0]) for p in scenario.parameters]
    )
    inputs_high = np.array(
        [float(p.distribution.ppf(np.array([high]))[0]) for p in scenario.parameters]
    )
    names = scenario.parameter_names
    rows: list[dict[str, float]] = [{}]
    rows += [{name: v} for name, v in zip(names, inputs_low, strict=True)]
    rows += [{name: v} for name, v in zip(names, inputs_high, strict=True)]
    values = _base_case_values(scenario, rows, output, by)
    n = len(names)
    base = values.isel(draw=0, drop=True)
    coords = _parameter_coords(scenario)
    coords["input_low"] = ("parameter", inputs_low)
    coords["input_high"] = ("parameter", inputs_high)
    coords["input_base"] = ("parameter", [p.distribution.point for p in scenario.parameters])
    coords["unit"] = ("parameter", [p.unit for p in scenario.parameters])
    at_low = values.isel(draw=slice(1, n + 1)).rename(draw="parameter").assign_coords(coords)
    at_high = (
        values.isel(draw=slice(n + 1, 2 * n + 1)).rename(draw="parameter").assign_coords(coords)
    )
    result = xr.Dataset({"base": base, "low": at_low, "high": at_high, "swing": at_high - at_low})
    unit = OutputLayout.of(scenario).unit_of(output)
    for name in ("base", "low", "high", "swing"):
        result[name].attrs["units"] = unit
    result.attrs.update(
        {
            "method": "tornado",
            "output": output,
            "by": by,
            "low_quantile": low,
            "high_quantile": high,
        }
    )
    return result


def _base_case_values(
    scenario: Scenario, rows: list[dict[str, float]], output: str, by: str
) -> xr.DataArray:
    """One output of base-case rows (each mapping: the inputs moved from their points),
    summed ``by`` a level, with a ``draw`` dimension over the rows; ``npv`` from the
    rows' revenue and inputs (:mod:`netsim.analyze.npv`)."""
    arrays = run_kernel(scenario, expected_draw_arrays(scenario, rows))
    if output in OutputLayout.of(scenario).value_outputs:
        return npv_of_arrays(scenario, arrays, override_rows(scenario, rows))
    return OutputLayout.of(scenario).aggregate_arrays(arrays, output, by)


def centred_ranks(values: np.ndarray) -> np.ndarray:
    """Centred, unit-norm average ranks of each column (zeros for a constant column)."""
    from scipy import stats  # imported on use: scipy.stats takes about a second

    ranked = stats.rankdata(values, axis=0, method="average")
    ranked -= ranked.mean(axis=0)
    norm = np.sqrt((ranked**2).sum(axis=0))
    return np.divide(ranked, norm, out=np.zeros_like(ranked), where=norm > 0)


def _inputs_and_output(
    dataset: xr.Dataset, output: str, by: str
) -> tuple[np.ndarray, xr.DataArray]:
    require_draws(dataset, "a rank-based sensitivity")
    selected = select_output(dataset, output, by)  # refuses what is not a run, by name
    if "inputs" not in dataset:
        raise ScenarioError("the dataset has no 'inputs' (use a run from netsim.simulate)")
    data = load_draws(selected, f"the draws of {output} by {by}")
    inputs = load_draws(dataset["inputs"].transpose("draw", "parameter"), "the sampled inputs")
    return np.asarray(inputs.values, dtype=np.float64), data


def _label_correlation(
    values: np.ndarray, dataset: xr.Dataset, data: xr.DataArray, method: str, output: str, by: str
) -> xr.DataArray:
    cell_dims = [d for d in data.dims if d != "draw"]
    coords = {k: v for k, v in data.coords.items() if "draw" not in v.dims}
    coords["parameter"] = dataset["parameter"].values
    shape = (values.shape[0], *[data.sizes[d] for d in cell_dims])
    return xr.DataArray(
        values.reshape(shape),
        dims=("parameter", *cell_dims),
        coords=coords,
        name=method,
        attrs={"method": method, "output": output, "by": by, "draws": int(data.sizes["draw"])},
    )


def spearman(dataset: xr.Dataset, output: str = "total", by: str = "region") -> xr.DataArray:
    """Spearman rank correlation of every input with every cell of one output of a run.

    Parameters
    ----------
    dataset : xarray.Dataset
        A run (``netsim.simulate`` or a file from ``netsim run``) with ``inputs``.
    output, by : str
        See :func:`netsim.analyze.cells.select_output`.

    Returns
    -------
    xarray.DataArray
        In [-1, 1], dims ``(parameter, year, <by>[, segment])``; 0 for an input
        (or a cell) that never varies.
    """
    inputs, data = _inputs_and_output(dataset, output, by)
    x = centred_ranks(inputs)
    y = centred_ranks(data.transpose("draw", ...).values.reshape(data.sizes["draw"], -1))
    return _label_correlation(x.T @ y, dataset, data, "spearman", output, by)


def prcc(dataset: xr.Dataset, output: str = "total", by: str = "region") -> xr.DataArray:
    """Partial rank correlation of every input with every cell, the other inputs held.

    Computed from the rank correlation matrix: with ``A`` the inverse of the
    inputs' rank correlations and ``c`` their correlations with a cell,
    ``PRCC_i = (A c)_i / sqrt(s A_ii + (A c)_i^2)``, ``s = 1 - c' A c``.

    Returns
    -------
    xarray.DataArray
        In [-1, 1], dims ``(parameter, year, <by>[, segment])``; 0 for an input
        that never varies; NaN where the inputs' ranks determine the cell's ranks
        completely (``s`` = 0, nothing left to correlate).
    """
    inputs, data = _inputs_and_output(dataset, output, by)
    x = centred_ranks(inputs)
    y = centred_ranks(data.transpose("draw", ...).values.reshape(data.sizes["draw"], -1))
    varying = np.flatnonzero((x != 0).any(axis=0))
    if inputs.shape[0] <= varying.size + 2:
        raise ScenarioError(
            f"prcc needs more draws than varying inputs: {inputs.shape[0]} draws, "
            f"{varying.size} inputs"
        )
    xv = x[:, varying]
    inverse = np.linalg.inv(xv.T @ xv)
    cross = xv.T @ y
    projected = inverse @ cross
    residual = np.clip(1.0 - (cross * projected).sum(axis=0), 0.0, None)
    denominator = np.sqrt(residual[None, :] * np.diag(inverse)[:, None] + projected**2)
    values = np.zeros((x.shape[1], y.shape[1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        partial = np.where(residual[None, :] > 1e-12, projected / denominator, np.nan)
    values[varying] = partial
    return _label_correlation(values, dataset, data, "prcc", output, by)


def correlation_groups(scenario: Scenario, group: str = "parameter") -> list[list[int]]:
    """Partition of the parameters for grouped Sobol indices.

    Parameters
    ----------
    scenario : Scenario
    group : {"parameter", "driver"}
        ``parameter``: every parameter alone; ``driver``: all parameters of one
        driver, restraint, event or noise term together (their ``owner``).
        Either way, parameters joined by ``[[correlations]]`` share a group.
    """
    if group not in ("parameter", "driver"):
        raise ScenarioError(f"group {group!r} must be 'parameter' or 'driver'")
    index = scenario.parameter_index
    parent = list(range(len(index)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(a: int, b: int) -> None:
        a, b = root(a), root(b)
        parent[max(a, b)] = min(a, b)

    for correlation in scenario.correlations:
        join(*(index[p] for p in correlation.parameters))
    if group == "driver":
        first: dict[str, int] = {}
        for i, parameter in enumerate(scenario.parameters):
            join(first.setdefault(parameter.owner, i), i)
    groups: dict[int, list[int]] = {}
    for i in range(len(index)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def _inputs_of(scenario: Scenario, output: str) -> list[int]:
    """The parameters an output can depend on: a top-down output none of a funnel's or the
    products' own, a product's output (or value) none of the funnel's, a patient-based
    output none of the products' unless it is a product's (unless a correlation ties one
    left out to the others: then all)."""
    layout = OutputLayout.of(scenario)
    funnel = {p.name for p in scenario.funnel.parameters} if scenario.funnel else set()
    products = {p.name for p in scenario.parameters if p.owner.startswith(PRODUCT_OWNERS)}
    if output in layout.top_down_outputs:
        left_out = funnel | products
    elif output in (*layout.product_outputs, *layout.value_outputs):
        left_out = funnel
    elif output in layout.funnel_outputs:
        left_out = products
    else:
        left_out = set()
    if any(left_out & set(c.parameters) for c in scenario.correlations):
        left_out = set()
    return [i for i, p in enumerate(scenario.parameters) if p.name not in left_out]


PRODUCT_OWNERS = ("products.", "valuation")  # the owners of the products' own inputs


class _KernelModel:
    """The kernel as Sobol's model: rows of the used inputs in, one output summed by a
    level out. Every evaluation has n rows, so the input rows, the kernel's outputs and
    their region sums are written into the same arrays each time (fresh ones cost their
    page faults: most of a Sobol run's time beyond the kernel); each result is only valid
    until the next call (:func:`netsim.analyze.saltelli.sobol_indices` keeps a copy of the
    one it needs longer). A top-down output summed by region or worldwide comes from
    :func:`netsim.model.propagate.propagate_region_sums`: the same sums, bit for bit,
    without writing the output's cells and reading them back."""

    def __init__(self, scenario: Scenario, output: str, by: str, used: list[int]):
        self.scenario, self.output, self.by, self.used = scenario, output, by, used
        self.layout = OutputLayout.of(scenario)
        self.value = output in self.layout.value_outputs
        self.top_down = self.value or output in self.layout.market_outputs
        self.computed = self.layout.market_outputs if self.top_down else self.layout.outputs
        self.points = np.array([p.distribution.point for p in scenario.parameters])
        self.rows = np.empty((0, self.points.size))
        self.buffers: dict[str, np.ndarray] = {}
        self.sums: tuple[np.ndarray, np.ndarray] | None = None
        self.labelled = False

    def __call__(self, x: np.ndarray) -> xr.DataArray | np.ndarray:
        n = x.shape[0]
        if self.rows.shape[0] != n:
            self.rows = np.repeat(self.points[None, :], n, axis=0)
            self.buffers, self.sums = {}, None
        self.rows[:, self.used] = x  # the other columns stay at their point values
        if self.by != "country" and self.output in self.layout.top_down_outputs:
            return self._region_sums()
        if not self.buffers:
            self.buffers = self.layout.allocate(n, np.float64, self.computed)
        arrays = propagate(  # designed from the scenario's own distributions: within
            self.scenario,
            self.rows,
            as_arrays=True,
            funnel=not self.top_down,
            out=self.buffers,
            dtype=np.float64,
            check=False,
        )
        if self.value:  # net present values, from the rows' revenue and inputs
            npv = npv_of_arrays(self.scenario, arrays, self.rows)
            if self.labelled:
                return npv.values
            self.labelled = True
            return npv
        if not self.labelled:  # the labels come from the first evaluation
            self.labelled = True
            return self.layout.aggregate_arrays(arrays, self.output, self.by)
        values = arrays[self.output]
        if self.by == "country":
            return values
        by_region, world = sum_countries(
            values, 2, self.layout.region_index, len(self.layout.regions), out=self._sum_arrays()
        )
        return by_region if self.by == "region" else world

    def _sum_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The (by_region, world) arrays every evaluation's sums are written into."""
        if self.sums is None:
            shape = (self.rows.shape[0], *self.layout.shape(self.output))
            regions = len(self.layout.regions)
            self.sums = (
                np.empty((*shape[:2], regions, *shape[3:])),
                np.empty(shape[:2] + shape[3:]),
            )
        return self.sums

    def _region_sums(self) -> xr.DataArray | np.ndarray:
        """The output of the current rows, summed by region or worldwide in the kernel."""
        by_region, world = propagate_region_sums(
            self.scenario, self.rows, self.output, self._sum_arrays()
        )
        values = by_region if self.by == "region" else world
        if self.labelled:
            return values
        self.labelled = True  # the labels of the old path's first evaluation, on one draw
        one_draw = self.layout.allocate(1, np.float64, (self.output,))
        template = self.layout.aggregate_arrays(one_draw, self.output, self.by)
        return xr.DataArray(values, dims=template.dims, coords=template.coords)


def sobol(
    scenario: Scenario,
    n: int = 1024,
    output: str = "total",
    by: str = "region",
    *,
    group: str = "parameter",
    seed: int = 0,
    blocks: int = DEFAULT_BLOCKS,
    confidence: float = 0.95,
) -> xr.Dataset:
    """Sobol first-order and total indices of every input on every cell, on the kernel.

    The scenario's Sobol analysis, built on the generic
    :func:`netsim.analyze.saltelli.sobol_indices` (public as ``netsim.sobol_indices``, for
    any model a caller brings): here the model is the scenario's kernel, the marginals its
    parameters, and the result is labelled with its cells.

    Correlated inputs are grouped (:func:`correlation_groups`): their group gets
    one pair of indices, labelled ``a + b``, since Sobol indices of single
    dependent inputs are not defined.

    Parameters
    ----------
    scenario : Scenario
    n : int
        Base sample size (power of two); the kernel runs ``n (groups + 2)`` draws.
    output, by : str
        Which output, summed how (see :func:`netsim.model.layout.aggregate`).
    seed, blocks, confidence
        As :func:`netsim.analyze.saltelli.sobol_indices`.

    Returns
    -------
    xarray.Dataset
        As :func:`netsim.analyze.saltelli.sobol_indices`, over
        ``(parameter, year, <by>[, segment])``.
    """
    layout = OutputLayout.of(scenario)
    layout.check(output, by)
    used = _inputs_of(scenario, output)
    points = np.array([p.distribution.point for p in scenario.parameters])
    model = _KernelModel(scenario, output, by, used)

    transform = None
    if scenario.correlations:

        def transform(uniforms: np.ndarray) -> np.ndarray:
            full = np.full((uniforms.shape[0], points.size), 0.5)
            full[:, used] = uniforms
            return correlate_uniforms(scenario, full)[:, used]

    position = {index: i for i, index in enumerate(used)}
    partition = [
        [position[i] for i in members]
        for members in correlation_groups(scenario, group)
        if members[0] in position
    ]
    names = [scenario.parameter_names[i] for i in used]
    labels = None
    if group == "driver":
        owners = [scenario.parameters[i].owner for i in used]
        labels = [" + ".join(dict.fromkeys(owners[i] for i in members)) for members in partition]
    result = sobol_indices(
        model,
        [scenario.parameters[i].distribution for i in used],
        n,
        names=names,
        groups=partition,
        group_labels=labels,
        uniform_transform=transform,
        seed=seed,
        blocks=blocks,
        confidence=confidence,
    )
    result.attrs.update({"output": output, "by": by, "group": group, "scenario": scenario.name})
    return result


def attribution(scenario: Scenario, output: str = "total", by: str = "region") -> xr.Dataset:
    """The base case as a waterfall: baseline plus one step per driver, restraint and event.

    The baseline has every driver's and restraint's impact at zero and no
    event; the forecast is :func:`netsim.deterministic`. Each step is the
    Shapley value of that driver (its marginal effect averaged over every order
    of switching the others on), so the steps do not depend on the order of the
    file and add up to ``forecast - baseline`` exactly (to rounding).

    Returns
    -------
    xarray.Dataset
        ``baseline`` and ``forecast`` over the output's cells, ``contribution``
        over ``(driver, year, <by>[, segment])``, in the market's unit; coordinate ``kind``
        (driver, restraint or event).
    """
    OutputLayout.of(scenario).check(output, by)
    drivers, events = scenario.drivers, scenario.events
    n_players = len(drivers) + len(events)
    if n_players > MAX_ATTRIBUTION_PLAYERS:
        raise ScenarioError(
            f"attribution computes exact Shapley values over 2**{n_players} base cases; "
            f"it supports up to {MAX_ATTRIBUTION_PLAYERS} drivers, restraints and events"
        )
    unit = OutputLayout.of(scenario).unit_of(output)
    masks = np.arange(2**n_players)
    on = ((masks[:, None] >> np.arange(n_players)[None, :]) & 1).astype(np.float64)
    base = expected_draw_arrays(scenario)
    rows = expected_draw_arrays(scenario, [{}] * masks.size)
    rows.impact[:] = base.impact * on[:, : len(drivers)]
    rows.event_activity[:] = base.event_activity * on[:, len(drivers) :, None]
    values = OutputLayout.of(scenario).aggregate_arrays(run_kernel(scenario, rows), output, by)
    flat = values.values.reshape(masks.size, -1)
    size = on.sum(axis=1).astype(int)
    weight = np.array(
        [
            factorial(s) * factorial(n_players - s - 1) / factorial(n_players)
            for s in range(n_players)
        ]
    )
    contribution = np.empty((n_players, flat.shape[1]))
    for i in range(n_players):
        without = masks[(masks >> i) & 1 == 0]
        contribution[i] = weight[size[without]] @ (flat[without | (1 << i)] - flat[without])
    cells = values.isel(draw=0, drop=True)
    labels = [f"{d.group}.{d.id}" for d in drivers] + [f"events.{e.id}" for e in events]
    kinds = [d.group.rstrip("s") for d in drivers] + ["event"] * len(events)
    result = xr.Dataset(
        {
            "baseline": cells.copy(data=flat[0].reshape(cells.shape)),
            "forecast": cells.copy(data=flat[-1].reshape(cells.shape)),
            "contribution": (
                ("driver", *cells.dims),
                contribution.reshape((n_players, *cells.shape)),
            ),
        },
        coords={"driver": labels, "kind": ("driver", kinds)},
        attrs={
            "method": "attribution (Shapley values)",
            "output": output,
            "by": by,
            "units": unit,
        },
    )
    for name in result.data_vars:
        result[name].attrs["units"] = unit
    return result


def tail_attribution(
    scenario: Scenario,
    dataset: xr.Dataset,
    cell: Mapping[str, Any],
    output: str = "total",
    by: str = "global",
    tail: float = 0.1,
) -> xr.Dataset:
    """Which inputs make the downside: each input's part of the tail's shortfall.

    The tail is the draws of ``cell`` below its ``tail`` quantile; the shortfall
    is ``mean(tail) - median``. From the reference point (every input at its
    sample median, value ``f(ref)``), input ``i``'s contribution is the mean over
    tail draws of ``f(ref with x_i as in the draw) - f(ref)``, on the kernel.
    What one-at-a-time moves do not explain is reported as ``interaction``, and
    ``f(ref) - median`` as ``reference_offset``, so that
    ``shortfall = reference_offset + sum(contribution) + interaction``.

    Returns
    -------
    xarray.Dataset
        ``contribution`` (in the market's unit) and ``share`` (of the shortfall) over
        ``parameter``; scalars ``shortfall``, ``reference_offset``,
        ``interaction``, ``threshold``, ``median``; attr ``tail_draws``.
    """
    OutputLayout.of(scenario).check(output, by)
    if not 0.0 < tail < 0.5:
        raise ScenarioError(f"tail={tail} must lie in (0, 0.5)")
    layout = OutputLayout.of(scenario)
    unit = layout.unit_of(output)
    inputs, data = _inputs_and_output(dataset, output, by)
    picked = select_cell(data, cell)
    if picked.dims != ("draw",):
        raise ScenarioError(
            f"the cell {dict(cell)} does not pick one value per draw; name every dimension of "
            f"{[d for d in data.dims if d != 'draw']}"
        )
    values = np.asarray(picked.values, dtype=np.float64)
    threshold, median = np.quantile(values, [tail, 0.5])
    in_tail = values < threshold
    if not in_tail.any():
        raise ScenarioError(f"no draw lies below the P{100 * tail:g} of {dict(cell)}")
    tail_inputs = inputs[in_tail]
    reference = np.median(inputs, axis=0)

    def evaluate(rows: np.ndarray) -> np.ndarray:
        # the inputs' medians may fall between two event years: the kernel takes a year
        # as whole, so these designed rows are not held to a file's rules
        arrays = propagate(scenario, rows, dtype=np.float64, as_arrays=True, check=False)
        out = select_cell(layout.aggregate_arrays(arrays, output, by), cell)
        return np.asarray(out.values, dtype=np.float64)

    reference_value = float(evaluate(reference[None, :])[0])
    contribution = np.zeros(inputs.shape[1])
    for i in range(inputs.shape[1]):
        if np.all(tail_inputs[:, i] == reference[i]):
            continue
        rows = np.repeat(reference[None, :], tail_inputs.shape[0], axis=0)
        rows[:, i] = tail_inputs[:, i]
        contribution[i] = evaluate(rows).mean() - reference_value
    shortfall = float(values[in_tail].mean() - median)
    offset = reference_value - float(median)
    interaction = shortfall - offset - float(contribution.sum())
    return xr.Dataset(
        {
            "contribution": ("parameter", contribution, {"units": unit}),
            "share": (
                "parameter",
                contribution / shortfall if shortfall else np.zeros_like(contribution),
            ),
            "shortfall": ((), shortfall, {"units": unit}),
            "reference_offset": ((), offset, {"units": unit}),
            "interaction": ((), interaction, {"units": unit}),
            "threshold": ((), float(threshold), {"units": unit}),
            "median": ((), float(median), {"units": unit}),
        },
        coords={"parameter": dataset["parameter"].values},
        attrs={
            "method": "tail attribution",
            "output": output,
            "by": by,
            "cell": ", ".join(f"{k}={v}" for k, v in cell.items()),
            "tail": tail,
            "tail_draws": int(in_tail.sum()),
        },
    )


def ranking(
    result: xr.Dataset | xr.DataArray, cell: Mapping[str, Any], variable: str | None = None
) -> xr.DataArray:
    """The parameters sorted by the absolute value of one cell's sensitivity.

    Parameters
    ----------
    result : Dataset or DataArray
        From any function of this module.
    cell : mapping
        One label per output dimension (e.g. year, region, segment).
    variable : str, optional
        The Dataset variable to rank by (default: ``swing``, ``total_order``,
        ``contribution`` -- whichever the result has).
    """
    if isinstance(result, xr.Dataset):
        if variable is None:
            variable = next(
                (v for v in ("swing", "total_order", "contribution") if v in result), None
            )
        if variable is None or variable not in result:
            raise ScenarioError(f"no variable {variable!r} to rank by in {list(result.data_vars)}")
        data = result[variable]
    else:
        data = result
    picked = select_cell(data, cell)
    leading = "driver" if "driver" in picked.dims else "parameter"
    if picked.dims != (leading,):
        raise ScenarioError(
            f"the cell {dict(cell)} leaves dims {picked.dims}; name one label of each output dim"
        )
    order = np.argsort(-np.nan_to_num(np.abs(picked.values), nan=-1.0), kind="stable")
    return picked.isel({leading: order})


def analyze(
    scenario: Scenario,
    method: str,
    output: str = "total",
    by: str = "global",
    *,
    run: xr.Dataset | None = None,
    draws: int | None = None,
    seed: int = 0,
    group: str = "parameter",
    cell: Mapping[str, Any] | None = None,
) -> tuple[xr.Dataset | xr.DataArray, dict[str, Any]]:
    """Run one sensitivity method and choose the cell to rank.

    Parameters
    ----------
    scenario : Scenario
    method : {"tornado", "spearman", "prcc", "sobol", "attribution", "tail"}
    output, by : str
        Which output, summed how.
    run : xarray.Dataset, optional
        The draws of ``spearman``, ``prcc`` and ``tail`` (a run of this scenario);
        without it a run of ``draws`` draws (default 20,000) and ``seed`` is made.
    draws : int, optional
        The draws of that run, or the base sample size of ``sobol`` (default 1,024).
    seed : int
    group : {"parameter", "driver"}
        Sobol indices per parameter or per driver (:func:`correlation_groups`).
    cell : mapping, optional
        Labels of the cell to rank; the final year, and any dimension with one label,
        are filled in (:func:`netsim.analyze.cells.default_cell`).

    Returns
    -------
    (result, cell)
        The method's result over every cell, and the complete cell.
    """
    if method not in METHODS:
        raise ScenarioError(f"method={method!r} is not one of {', '.join(METHODS)}")
    layout = OutputLayout.of(scenario)
    layout.check(output, by)
    if output in layout.value_outputs and method not in VALUE_METHODS:
        raise ScenarioError(
            f"method={method!r} does not take output {output!r}: {', '.join(VALUE_METHODS)} "
            "do (netsim value gives a run's net present values)"
        )
    given = dict(cell or {})
    default_cell(cell_grid(layout, output, by), given)  # an unnamed cell: refused before work
    if method in RUN_METHODS:
        if run is None:
            from netsim.run.simulate import simulate

            run = simulate(scenario, DEFAULT_RUN_DRAWS if draws is None else draws, seed)
        elif draws is not None:
            raise ScenarioError(
                f"{method}: give draws or a run, not both (the run's draws are used)"
            )
        else:
            require_draws(run, method)
            OutputLayout.from_dataset(run, "run")  # refuses what is not a run, by name
            if run.attrs.get("scenario_hash") != scenario.scenario_hash:
                raise ScenarioError(
                    f"{method}: the run was not made from this scenario (its hash differs)"
                )
    elif run is not None:
        raise ScenarioError(f"{method} works on the scenario itself, not on a run's draws")
    if method == "tail":
        chosen = default_cell(select_output(run, output, by).isel(draw=0), given)
        return tail_attribution(scenario, run, chosen, output, by), chosen
    if method == "tornado":
        result: Any = tornado(scenario, output, by)
    elif method == "spearman":
        result = spearman(run, output, by)
    elif method == "prcc":
        result = prcc(run, output, by)
    elif method == "sobol":
        n = DEFAULT_SOBOL_N if draws is None else draws
        result = sobol(scenario, n, output, by, group=group, seed=seed)
    else:
        result = attribution(scenario, output, by)
    probe = result if isinstance(result, xr.DataArray) else result[next(iter(result.data_vars))]
    return result, default_cell(probe, given)
