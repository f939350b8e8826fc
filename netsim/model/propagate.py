"""Propagating inputs through the model: the base case, a caller's own draws, designed rows.

Each call validates its arguments, converts them to the kernel's arrays, runs the
kernel and labels the result with the scenario's :class:`OutputLayout`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from netsim.defaults import DEFAULT_CHUNK
from netsim.errors import ArgumentValueError, ScenarioError
from netsim.kernels.funnel import funnel_kernel
from netsim.kernels.propagate import propagate_kernel, propagate_region_sums_kernel
from netsim.model.arguments import check_dtype, check_out, check_real, whole_number
from netsim.model.arrays import (
    DrawArrays,
    draw_arrays,
    expected_draw_arrays,
    funnel_arrays,
    model_arrays,
)
from netsim.model.layout import OutputLayout
from netsim.model.outputs import kind_named
from netsim.model.products import run_product_kernels
from netsim.model.row_checks import check_rows
from netsim.scenario.schema import Scenario

__all__ = ["deterministic", "propagate", "propagate_region_sums", "run_kernel"]


def deterministic(
    scenario: Scenario, overrides: Mapping[str, float] | None = None, *, products: bool = True
) -> xr.Dataset:
    """The deterministic base case: every input at its point value, events at their
    expected effect. The calibration targets hold for it.

    Parameters
    ----------
    scenario : Scenario
    overrides : mapping of str to float, optional
        Parameter values to use instead of their point values (e.g. one input
        at its P90, as the tornado does); an event's ``occurs`` (0 or 1) or
        ``year`` replaces its expectation.
    products : bool
        False: without the products' outputs, as :func:`propagate`'s ``products``
        (the other outputs are the same bit for bit). A base case shown beside the
        market's tables needs none of them, and a fresh process then loads no
        product kernel for it (about 0.1 s of a 1,000-draw ``netsim run``).

    Returns
    -------
    xarray.Dataset
        ``total (year, country)`` and ``by_<axis> (year, country, <axis>)``, float64,
        in the scenario's unit.
    """
    draws = expected_draw_arrays(scenario, [dict(overrides or {})])
    if products:
        arrays = run_kernel(scenario, draws)
    else:
        layout = OutputLayout.of(scenario)
        arrays = layout.allocate(1, np.float64, computed_outputs(layout, True, False))
        _propagate_rows(scenario, draws, arrays, slice(None), products=False)
    return OutputLayout.of(scenario).label({name: values[0] for name, values in arrays.items()})


def run_kernel(
    scenario: Scenario, draws: DrawArrays, dtype: type = np.float64
) -> dict[str, np.ndarray]:
    """Propagate already converted per-draw arrays (e.g. designed base-case rows).

    Returns
    -------
    dict of str to ndarray
        ``total (row, year, country)`` and ``by_<axis> (row, year, country, segment)``.
    """
    out = OutputLayout.of(scenario).allocate(draws.draws, dtype)
    _propagate_rows(scenario, draws, out, slice(None))
    return out


def propagate_region_sums(
    scenario: Scenario, rows: np.ndarray, output: str, out: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """One top-down output of designed rows, summed into regions and the world, without
    its cells: the sums :func:`netsim.model.layout.sum_countries` gives of
    :func:`propagate`'s float64 output, bit for bit, at the cost of the kernel alone
    (its cells are summed while they are in registers, never written to memory).

    Parameters
    ----------
    scenario : Scenario
    rows : ndarray (draws, P)
        Input values, columns in ``scenario.parameter_names`` order, already checked (as
        :func:`propagate`'s ``check=False``).
    output : str
        ``total`` or ``by_<axis>``.
    out : (by_region, world)
        C-contiguous float64 arrays, shapes (draw, year, region[, segment]) and (draw,
        year[, segment]), overwritten.

    Returns
    -------
    by_region, world : ndarray
        ``out``.
    """
    layout = OutputLayout.of(scenario)
    if output not in layout.top_down_outputs:
        raise ScenarioError(
            f"output {output!r} is not one of the top-down outputs "
            f"{', '.join(layout.top_down_outputs)}"
        )
    draws = draw_arrays(scenario, rows, products=False)
    by_region, world = out
    n, years, regions = by_region.shape[:3]
    propagate_region_sums_kernel(
        model_arrays(scenario),
        draws,
        layout.top_down_outputs.index(output),
        by_region.reshape((n, years, regions, -1)),
        world.reshape((n, years, -1)),
    )
    return by_region, world


def _propagate_rows(
    scenario: Scenario,
    draws: DrawArrays,
    out: Mapping[str, np.ndarray],
    rows: slice,
    funnel: bool = True,
    products: bool = True,
) -> None:
    """Run the kernels on ``draws`` into rows ``rows`` of every output array: the
    top-down model, then (with a funnel, unless ``funnel`` is False) the patient-based
    one, on the same draws, then (with products, unless ``products`` is False) the
    products in both."""
    layout = OutputLayout.of(scenario)
    outputs = [out[name][rows] for name in layout.top_down_outputs]
    by_axis = tuple(outputs[1:])
    if not by_axis:  # a market without axes: the kernel indexes a tuple of arrays, give it one
        by_axis = (np.empty((1, 1, 1, 1), dtype=outputs[0].dtype),)
    propagate_kernel(model_arrays(scenario), draws, outputs[0], by_axis)
    with_funnel = scenario.funnel is not None and funnel
    if with_funnel:
        _funnel_rows(scenario, draws, out, rows)
    if scenario.products and products:  # after the segments they split, in both models
        run_product_kernels(scenario, draws, out, rows, with_funnel)


def _funnel_rows(
    scenario: Scenario, draws: DrawArrays, out: Mapping[str, np.ndarray], rows: slice
) -> None:
    """The patient funnel's outputs of rows ``rows``."""
    layout = OutputLayout.of(scenario)
    treated = tuple(out[kind_named("treated_by").output(a)][rows] for a in layout.splits)
    by_axis = tuple(out[kind_named("patient_by").output(a)][rows] for a in layout.splits)
    if not layout.splits:  # the kernel indexes a tuple of arrays: give it one, unused
        treated = by_axis = (np.empty((1, 1, 1, 1), dtype=out["patient_total"].dtype),)
    funnel_kernel(
        funnel_arrays(scenario),
        draws,
        out["patients"][rows],
        treated,
        out["patient_total"][rows],
        by_axis,
    )


def _output_arrays(
    layout: OutputLayout,
    names: tuple[str, ...],
    matrix: np.ndarray,
    inputs: Any,
    out: Mapping[str, np.ndarray] | None,
    wanted: np.dtype | None,
) -> dict[str, np.ndarray]:
    """The arrays a run writes: fresh ones of dtype ``wanted`` (float32 by default), or
    the caller's ``out``, checked (:func:`check_out`) and of dtype ``wanted`` if given."""
    if out is None:
        return layout.allocate(matrix.shape[0], wanted or np.float32, names)
    shapes = {name: (matrix.shape[0], *layout.shape(name)) for name in names}
    given_inputs = inputs.values if isinstance(inputs, xr.DataArray) else inputs
    arrays = check_out(out, shapes, (matrix, np.asarray(given_inputs)))
    given = next(iter(arrays.values())).dtype
    if wanted is not None and wanted != given:
        raise ArgumentValueError(
            f"dtype={wanted.name} but the out arrays are {given.name}", argument="dtype"
        )
    return arrays


def _input_matrix(scenario: Scenario, inputs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate caller inputs; return (matrix in scenario column order, draw index)."""
    names = scenario.parameter_names
    if isinstance(inputs, xr.DataArray):
        if set(inputs.dims) != {"draw", "parameter"}:
            raise ScenarioError(f"inputs has dims {inputs.dims}; expected ('draw', 'parameter')")
        given = [str(p) for p in inputs["parameter"].values]
        missing = [n for n in names if n not in given]
        unknown = [n for n in given if n not in names]
        if missing or unknown:
            raise ScenarioError(
                f"inputs parameters do not match the scenario: missing {missing[:5]}, "
                f"unknown {unknown[:5]}"
            )
        check_real(inputs.values)
        matrix = inputs.transpose("draw", "parameter").sel(parameter=list(names)).values
        draw = inputs["draw"].values if "draw" in inputs.coords else np.arange(matrix.shape[0])
    else:
        matrix = np.asarray(inputs)
        check_real(matrix)
        if matrix.ndim != 2 or matrix.shape[1] != len(names):
            raise ScenarioError(
                f"inputs has shape {matrix.shape}; expected (draws, {len(names)}) with columns "
                "in scenario.parameter_names order"
            )
        draw = np.arange(matrix.shape[0])
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    if not np.isfinite(matrix).all():
        bad = names[int(np.nonzero(~np.isfinite(matrix).all(axis=0))[0][0])]
        raise ScenarioError(f"inputs hold NaN or inf (first in parameter {bad!r})")
    return matrix, np.asarray(draw, dtype=np.int64)


def computed_outputs(layout: OutputLayout, funnel: bool, products: bool) -> tuple[str, ...]:
    """The outputs :func:`propagate` computes: every one, without the patient funnel's
    (``funnel`` False), without the products' (``products`` False: ``by_product``,
    ``by_company``, ``other_products`` and their patient-based ones; the products'
    kernels only read the segments they split, so the other outputs do not change)."""
    names = layout.outputs if funnel else layout.market_outputs
    if products:
        return names
    own = (*layout.product_outputs, *layout.patient_product_outputs)
    return tuple(name for name in names if name not in own)


def propagate(
    scenario: Scenario,
    inputs: Any,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    dtype: type | None = None,
    progress: Any = None,
    as_arrays: bool = False,
    out: Mapping[str, np.ndarray] | None = None,
    funnel: bool = True,
    products: bool = True,
    check: bool = True,
) -> xr.Dataset | dict[str, np.ndarray]:
    """Propagate caller-supplied inputs through the scenario's model.

    A pure function of ``inputs``: the same rows give the same outputs, bit for
    bit, whatever the chunk size or the number of threads.

    Parameters
    ----------
    scenario : Scenario
    inputs : ndarray (draws, P) or DataArray (draw, parameter)
        Input values in each parameter's unit; an ndarray's columns follow
        ``scenario.parameter_names``. Event ``occurs`` columns act as multipliers
        (0 or 1 for a sampled draw), ``year`` columns as whole years.
    chunk_size : int
        Draws per kernel call (memory of the per-chunk input conversion).
    dtype : numpy dtype, optional
        Output precision, float32 or float64: by default float32, or the dtype of
        ``out``'s arrays (a different one is refused).
    progress : callable, optional
        Called with the number of draws finished after each chunk.
    as_arrays : bool
        Return plain arrays ``{"total": ..., "by_<axis>": ...}`` instead of a
        Dataset (for callers in a loop: no xarray construction).
    out : mapping of str to ndarray, optional
        Arrays to write into, shaped as the outputs (e.g. the dict an earlier
        ``as_arrays`` call returned): a caller in a loop then allocates nothing,
        which saves the page faults of fresh memory (most of a small call's
        overhead). Their contents are overwritten.
    funnel : bool
        False: the top-down outputs only, even for a scenario with a patient funnel (for
        a caller that needs no patient-based output: half the work).
    products : bool
        False: without the products' outputs (``by_product``, ``by_company``,
        ``other_products`` and their patient-based ones), for a caller that shows none:
        their kernel is most of a run's time. The other outputs are the same bit for bit.
    check : bool
        True (the default): every value is held to what a scenario file's figure would
        be, its distribution's support and the scenario's ``[limits]``, event years
        whole (:mod:`netsim.model.row_checks`), and the first one that breaks a rule is
        refused naming the parameter, the row and the rule. False: for a caller whose
        rows were checked already (or drawn from the scenario itself).

    Raises
    ------
    ScenarioError
        (a ``ValueError``) for a value or an argument that cannot give a true answer:
        NaN, a value a file would be refused for, ``chunk_size < 1``, a dtype other
        than float32 or float64, ``out`` arrays of the wrong shape, dtype or layout, or
        sharing memory with each other or with ``inputs``.
    ArgumentTypeError
        (a ``TypeError``) for an argument of the wrong type: a ``chunk_size`` that is a
        float or a bool, complex or non-numeric ``inputs``, ``out`` entries that are not
        arrays.

    Returns
    -------
    xarray.Dataset or dict
        ``total (draw, year, country)`` and ``by_<axis>``, in the scenario's unit, and
        ``inputs (draw, parameter)``.
    """
    chunk_size = whole_number(chunk_size, "chunk_size")
    wanted = None if dtype is None else check_dtype(dtype)
    matrix, draw = _input_matrix(scenario, inputs)
    if check:
        check_rows(scenario, matrix, draw)
    layout = OutputLayout.of(scenario)
    names = computed_outputs(layout, funnel, products)
    arrays = _output_arrays(layout, names, matrix, inputs, out, wanted)
    for start in range(0, matrix.shape[0], chunk_size):
        stop = min(start + chunk_size, matrix.shape[0])
        _propagate_rows(
            scenario,
            draw_arrays(scenario, matrix[start:stop], products),
            arrays,
            slice(start, stop),
            funnel,
            products,
        )
        if progress is not None:
            progress(stop - start)
    if as_arrays:
        return arrays
    return layout.label(arrays, draw=draw, inputs=matrix)
