"""Sensitivity of a scenario's forecast, as labelled cubes over (parameter, year, place, segment).

* :func:`tornado` -- each input at its P10 and P90, the others at the base case;
* :func:`spearman` and :func:`prcc` -- rank correlations of a run's inputs and outputs;
* :func:`sobol` -- variance-based indices on the propagation kernel (grouped where
  inputs are correlated), with bootstrap intervals;
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
from scipy import stats

from netsim.engine import propagate, run_kernel
from netsim.errors import ScenarioError
from netsim.model import expected_draw_arrays
from netsim.outputs import aggregate, check_output, select_cell, select_output
from netsim.saltelli import sobol_indices
from netsim.sampling import correlate_uniforms
from netsim.scenario import Scenario

__all__ = [
    "MAX_ATTRIBUTION_PLAYERS",
    "attribution",
    "correlation_groups",
    "input_source",
    "prcc",
    "ranking",
    "sobol",
    "spearman",
    "tail_attribution",
    "tornado",
]

MAX_ATTRIBUTION_PLAYERS = 16  # exact Shapley values cost 2**players base-case rows


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
        ``total`` or ``by_<axis>``.
    by : {"country", "region", "global"}
    low, high : float
        Quantiles of each input's distribution (default P10 and P90). For a 0/1
        event this gives "does not happen" and "happens" when its probability
        lies between them.

    Returns
    -------
    xarray.Dataset
        ``base`` (the deterministic base case), ``low`` and ``high`` (the output
        with one input moved), ``swing = high - low`` (USD million; negative
        where raising the input lowers the output), over ``(parameter, year,
        <by>[, segment])``; coordinates ``input_low``, ``input_high``,
        ``input_base`` in each parameter's unit. Each value equals
        ``deterministic(scenario, {name: value})`` exactly.
    """
    check_output(scenario, output, by)
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
    values = aggregate(
        run_kernel(scenario, expected_draw_arrays(scenario, rows)), scenario, output, by
    )
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
    for name in ("base", "low", "high", "swing"):
        result[name].attrs["units"] = "USD million"
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


def _ranks(values: np.ndarray) -> np.ndarray:
    """Centred, unit-norm average ranks of each column (zeros for a constant column)."""
    ranked = stats.rankdata(values, axis=0, method="average")
    ranked -= ranked.mean(axis=0)
    norm = np.sqrt((ranked**2).sum(axis=0))
    return np.divide(ranked, norm, out=np.zeros_like(ranked), where=norm > 0)


def _inputs_and_output(
    dataset: xr.Dataset, output: str, by: str
) -> tuple[np.ndarray, xr.DataArray]:
    if "inputs" not in dataset:
        raise ScenarioError("the dataset has no 'inputs' (use a run from netsim.simulate)")
    data = select_output(dataset, output, by)
    inputs = dataset["inputs"].transpose("draw", "parameter").values
    return np.asarray(inputs, dtype=np.float64), data


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
        See :func:`netsim.outputs.select_output`.

    Returns
    -------
    xarray.DataArray
        In [-1, 1], dims ``(parameter, year, <by>[, segment])``; 0 for an input
        (or a cell) that never varies.
    """
    inputs, data = _inputs_and_output(dataset, output, by)
    x = _ranks(inputs)
    y = _ranks(data.transpose("draw", ...).values.reshape(data.sizes["draw"], -1))
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
    x = _ranks(inputs)
    y = _ranks(data.transpose("draw", ...).values.reshape(data.sizes["draw"], -1))
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


def input_source(name: str) -> str:
    """The driver, restraint, event or noise term a parameter belongs to:
    its name's first two parts (``events.isotope_outage.occurs.2027`` ->
    ``events.isotope_outage``)."""
    return ".".join(name.split(".")[:2])


def correlation_groups(scenario: Scenario, group: str = "parameter") -> list[list[int]]:
    """Partition of the parameters for grouped Sobol indices.

    Parameters
    ----------
    scenario : Scenario
    group : {"parameter", "driver"}
        ``parameter``: every parameter alone; ``driver``: all parameters of one
        driver, restraint, event or noise term together (:func:`input_source`).
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
        for name, i in index.items():
            join(first.setdefault(input_source(name), i), i)
    groups: dict[int, list[int]] = {}
    for i in range(len(index)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def sobol(
    scenario: Scenario,
    n: int = 1024,
    output: str = "total",
    by: str = "region",
    *,
    group: str = "parameter",
    seed: int = 0,
    n_boot: int = 200,
    confidence: float = 0.95,
) -> xr.Dataset:
    """Sobol first-order and total indices of every input on every cell, on the kernel.

    Correlated inputs are grouped (:func:`correlation_groups`): their group gets
    one pair of indices, labelled ``a + b``, since Sobol indices of single
    dependent inputs are not defined.

    Parameters
    ----------
    scenario : Scenario
    n : int
        Base sample size (power of two); the kernel runs ``n (groups + 2)`` draws.
    output, by : str
        Which output, summed how (see :func:`netsim.outputs.aggregate`).
    seed, n_boot, confidence
        As :func:`netsim.saltelli.sobol_indices`.

    Returns
    -------
    xarray.Dataset
        As :func:`netsim.saltelli.sobol_indices`, over ``(parameter, year, <by>[, segment])``.
    """
    check_output(scenario, output, by)

    def model(x: np.ndarray) -> xr.DataArray:
        arrays = propagate(scenario, x, dtype=np.float64, as_arrays=True)
        return aggregate(arrays, scenario, output, by)

    transform = None
    if scenario.correlations:

        def transform(uniforms: np.ndarray) -> np.ndarray:
            return correlate_uniforms(scenario, uniforms)

    partition = correlation_groups(scenario, group)
    names = scenario.parameter_names
    labels = None
    if group == "driver":
        labels = [
            " + ".join(dict.fromkeys(input_source(names[i]) for i in members))
            for members in partition
        ]
    result = sobol_indices(
        model,
        [p.distribution for p in scenario.parameters],
        n,
        names=names,
        groups=partition,
        group_labels=labels,
        uniform_transform=transform,
        seed=seed,
        n_boot=n_boot,
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
        over ``(driver, year, <by>[, segment])``, USD million; coordinate ``kind``
        (driver, restraint or event).
    """
    check_output(scenario, output, by)
    drivers, events = scenario.drivers, scenario.events
    n_players = len(drivers) + len(events)
    if n_players > MAX_ATTRIBUTION_PLAYERS:
        raise ScenarioError(
            f"attribution computes exact Shapley values over 2**{n_players} base cases; "
            f"it supports up to {MAX_ATTRIBUTION_PLAYERS} drivers, restraints and events"
        )
    masks = np.arange(2**n_players)
    on = ((masks[:, None] >> np.arange(n_players)[None, :]) & 1).astype(np.float64)
    base = expected_draw_arrays(scenario)
    rows = expected_draw_arrays(scenario, [{}] * masks.size)
    rows.impact[:] = base.impact * on[:, : len(drivers)]
    rows.event_activity[:] = base.event_activity * on[:, len(drivers) :, None]
    values = aggregate(run_kernel(scenario, rows), scenario, output, by)
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
            "units": "USD million",
        },
    )
    for name in result.data_vars:
        result[name].attrs["units"] = "USD million"
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
        ``contribution`` (USD million) and ``share`` (of the shortfall) over
        ``parameter``; scalars ``shortfall``, ``reference_offset``,
        ``interaction``, ``threshold``, ``median``; attr ``tail_draws``.
    """
    check_output(scenario, output, by)
    if not 0.0 < tail < 0.5:
        raise ScenarioError(f"tail={tail} must lie in (0, 0.5)")
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
        arrays = propagate(scenario, rows, dtype=np.float64, as_arrays=True)
        out = select_cell(aggregate(arrays, scenario, output, by), cell)
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
            "contribution": ("parameter", contribution, {"units": "USD million"}),
            "share": (
                "parameter",
                contribution / shortfall if shortfall else np.zeros_like(contribution),
            ),
            "shortfall": ((), shortfall, {"units": "USD million"}),
            "reference_offset": ((), offset, {"units": "USD million"}),
            "interaction": ((), interaction, {"units": "USD million"}),
            "threshold": ((), float(threshold), {"units": "USD million"}),
            "median": ((), float(median), {"units": "USD million"}),
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
