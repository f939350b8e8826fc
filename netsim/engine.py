"""The public entry points: load, calibrate, sample, propagate, label as xarray.

Each call validates its arguments, converts to arrays, runs a kernel and labels
the result. :func:`coordinates` is the one place that builds coordinates.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from netsim import __version__
from netsim.calibration import calibrate, inherit_calibration
from netsim.config import apply_overrides, load_document
from netsim.defaults import DEFAULT_CHUNK
from netsim.errors import ScenarioError
from netsim.kernels import propagate_kernel
from netsim.model import DrawArrays, draw_arrays, expected_draw_arrays, model_arrays
from netsim.sampling import correlation_factor, sample_inputs
from netsim.scenario import Scenario, parse_scenario

__all__ = [
    "coordinates",
    "deterministic",
    "label_run",
    "load_scenario",
    "propagate",
    "run_kernel",
    "simulate",
]

UNITS = "USD million"


def load_scenario(
    source: str | Path | Mapping[str, Any],
    overrides: list[str] | None = None,
    *,
    reuse_solution: bool = True,
) -> Scenario:
    """Load, validate and calibrate a scenario.

    Parameters
    ----------
    source : str, Path or Mapping
        A TOML file (an overlay's ``[overlay] extends`` chain is followed) or a
        dict of the same shape.
    overrides : list of str, optional
        ``key.path=value`` assignments applied on top (the CLI's ``--set``).
    reuse_solution : bool
        Read the calibration from the solver's cache when this scenario has been
        solved before by this code (the default), or solve it again regardless
        (``netsim validate``). Both give the same parameters, bit for bit.

    Returns
    -------
    Scenario
        Frozen and calibrated: its base case meets every calibration target. An
        overlay with ``recalibrate = false`` (the default) keeps its parent's
        solved growth parameters, so it differs from the parent only by what it changes.

    Raises
    ------
    ScenarioError
        Naming the file and key path of the first invalid entry.
    """
    if isinstance(source, Mapping):
        document, label = dict(source), "<scenario dict>"
    else:
        document, label = load_document(source)
    if overrides:
        document = apply_overrides(document, overrides)
    return _build(document, label, reuse_solution)


def _build(document: dict[str, Any], label: str, reuse_solution: bool) -> Scenario:
    overlay = document.get("overlay")
    scenario = parse_scenario(document, label)
    correlation_factor(scenario)  # an impossible correlation matrix fails at load, not later
    if overlay is not None and not overlay.get("recalibrate", False):
        parent = _build(overlay["parent"], overlay["extends"], reuse_solution)
        return inherit_calibration(scenario, parent)
    return calibrate(scenario, reuse_solution=reuse_solution)


def coordinates(scenario: Scenario) -> dict[str, Any]:
    """Coordinates of every output: year, country (with region) and each axis."""
    countries = scenario.countries
    coords: dict[str, Any] = {
        "year": ("year", np.asarray(scenario.years, dtype=np.int64)),
        "country": ("country", [c.name for c in countries]),
        "region": ("country", [c.region for c in countries]),
    }
    for axis in scenario.axes:
        coords[axis.name] = (axis.name, list(axis.segment_names))
    return coords


def _allocate(scenario: Scenario, draws: int, dtype: type) -> tuple[np.ndarray, tuple]:
    shape = (draws, len(scenario.years), len(scenario.countries))
    total = np.empty(shape, dtype=dtype)
    by_axis = tuple(np.empty((*shape, len(a.segments)), dtype=dtype) for a in scenario.axes)
    return total, by_axis


def _label(
    scenario: Scenario,
    total: np.ndarray,
    by_axis: tuple[np.ndarray, ...],
    draw: np.ndarray | None,
) -> xr.Dataset:
    lead = () if draw is None else ("draw",)
    variables = {
        "total": ((*lead, "year", "country"), total, {"units": UNITS, "long_name": "market value"}),
    }
    for axis, values in zip(scenario.axes, by_axis, strict=True):
        variables[f"by_{axis.name}"] = (
            (*lead, "year", "country", axis.name),
            values,
            {"units": UNITS, "long_name": f"market value by {axis.label.lower()}"},
        )
    coords = coordinates(scenario)
    if draw is not None:
        coords["draw"] = ("draw", draw)
    return xr.Dataset(
        variables,
        coords=coords,
        attrs={
            "scenario": scenario.name,
            "scenario_hash": scenario.scenario_hash,
            "netsim_version": __version__,
            "units": UNITS,
        },
    )


def deterministic(scenario: Scenario, overrides: Mapping[str, float] | None = None) -> xr.Dataset:
    """The deterministic base case: every input at its point value, events at their
    expected effect. The calibration targets hold for it.

    Parameters
    ----------
    scenario : Scenario
    overrides : mapping of str to float, optional
        Parameter values to use instead of their point values (e.g. one input
        at its P90, as the tornado does); an event's ``occurs`` (0 or 1) or
        ``year`` replaces its expectation.

    Returns
    -------
    xarray.Dataset
        ``total (year, country)`` and ``by_<axis> (year, country, <axis>)``, float64,
        USD million.
    """
    arrays = run_kernel(scenario, expected_draw_arrays(scenario, [dict(overrides or {})]))
    total, by_axis = arrays["total"], [arrays[f"by_{a.name}"] for a in scenario.axes]
    return _label(scenario, total[0], tuple(a[0] for a in by_axis), None)


def run_kernel(
    scenario: Scenario, draws: DrawArrays, dtype: type = np.float64
) -> dict[str, np.ndarray]:
    """Propagate already converted per-draw arrays (e.g. designed base-case rows).

    Returns
    -------
    dict of str to ndarray
        ``total (row, year, country)`` and ``by_<axis> (row, year, country, segment)``.
    """
    total, by_axis = _allocate(scenario, draws.draws, dtype)
    propagate_kernel(*model_arrays(scenario).kernel_args(), *draws.kernel_args(), total, by_axis)
    out = {"total": total}
    out.update({f"by_{a.name}": v for a, v in zip(scenario.axes, by_axis, strict=True)})
    return out


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
        matrix = inputs.transpose("draw", "parameter").sel(parameter=list(names)).values
        draw = inputs["draw"].values if "draw" in inputs.coords else np.arange(matrix.shape[0])
    else:
        matrix = np.asarray(inputs)
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


def _check_out(
    scenario: Scenario, out: Mapping[str, np.ndarray], draws: int
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Validate caller-provided output arrays; return them in kernel order."""
    names = ["total"] + [f"by_{a.name}" for a in scenario.axes]
    shapes = {"total": (draws, len(scenario.years), len(scenario.countries))}
    for axis in scenario.axes:
        shapes[f"by_{axis.name}"] = (*shapes["total"], len(axis.segments))
    arrays = []
    for name in names:
        array = out.get(name)
        if (
            not isinstance(array, np.ndarray)
            or array.shape != shapes[name]
            or array.dtype not in (np.float32, np.float64)
            or not array.flags.c_contiguous
            or not array.flags.writeable
        ):
            raise ScenarioError(
                f"out[{name!r}] must be a writeable C-contiguous float32/float64 array of "
                f"shape {shapes[name]}"
            )
        arrays.append(array)
    if len({a.dtype for a in arrays}) != 1:
        raise ScenarioError("out arrays must share one dtype")
    return arrays[0], tuple(arrays[1:])


def propagate(
    scenario: Scenario,
    inputs: Any,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    dtype: type = np.float32,
    progress: Any = None,
    as_arrays: bool = False,
    out: Mapping[str, np.ndarray] | None = None,
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
    dtype : numpy dtype
        Output precision, float32 (default) or float64.
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

    Returns
    -------
    xarray.Dataset or dict
        ``total (draw, year, country)`` and ``by_<axis>``, USD million, and
        ``inputs (draw, parameter)``.
    """
    matrix, draw = _input_matrix(scenario, inputs)
    if chunk_size < 1:
        raise ScenarioError(f"chunk_size={chunk_size} must be >= 1")
    model = model_arrays(scenario)
    if out is None:
        total, by_axis = _allocate(scenario, matrix.shape[0], dtype)
    else:
        total, by_axis = _check_out(scenario, out, matrix.shape[0])
    for start in range(0, matrix.shape[0], chunk_size):
        stop = min(start + chunk_size, matrix.shape[0])
        arrays = draw_arrays(scenario, matrix[start:stop])
        propagate_kernel(
            *model.kernel_args(),
            *arrays.kernel_args(),
            total[start:stop],
            tuple(a[start:stop] for a in by_axis),
        )
        if progress is not None:
            progress(stop - start)
    arrays = {"total": total}
    arrays.update({f"by_{a.name}": v for a, v in zip(scenario.axes, by_axis, strict=True)})
    if as_arrays:
        return arrays
    arrays["inputs"] = matrix
    return label_run(scenario, arrays, draw)


def label_run(scenario: Scenario, arrays: Mapping[str, Any], draw: np.ndarray) -> xr.Dataset:
    """A run's Dataset from its arrays (numpy or dask): ``total``, ``by_<axis>``,
    ``inputs`` (draw, parameter), with every parameter's unit, distribution and source."""
    by_axis = tuple(arrays[f"by_{a.name}"] for a in scenario.axes)
    dataset = _label(scenario, arrays["total"], by_axis, draw)
    dataset["inputs"] = xr.DataArray(
        arrays["inputs"],
        dims=("draw", "parameter"),
        coords={"draw": draw, "parameter": list(scenario.parameter_names)},
        attrs={"long_name": "sampled inputs, each in its parameter's unit"},
    )
    dataset["parameter_unit"] = ("parameter", [p.unit for p in scenario.parameters])
    dataset["parameter_distribution"] = (
        "parameter",
        [p.distribution.describe() for p in scenario.parameters],
    )
    dataset["parameter_source"] = ("parameter", [p.source for p in scenario.parameters])
    return dataset


def simulate(
    scenario: Scenario,
    draws: int,
    seed: int = 0,
    sampler: str = "mc",
    *,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Any = None,
    reduce: str | None = None,
    q: Any = (0.05, 0.5, 0.95),
    confidence: float = 0.95,
    client: Any = None,
    lazy: bool = False,
) -> xr.Dataset:
    """Sample the inputs and propagate them.

    Parameters
    ----------
    scenario : Scenario
    draws : int
        Number of draws (>= 1).
    seed : int
        Whole number >= 0.
    sampler : {"mc", "lhs", "sobol"}
        ``mc`` draws are keyed by (seed, parameter, draw index): the first ``n``
        draws of a larger run are exactly an ``n``-draw run.
    chunk_size : int
        Draws per kernel call; results do not depend on it.
    progress : callable, optional
        Called with the number of draws finished after each chunk.
    reduce : {None, "bands"}
        ``"bands"``: never hold the cube; fold chunks into histograms and return
        the bands (``q``) of every cell with their ``confidence`` intervals (see
        :func:`netsim.runner.reduce_bands`). Memory no longer grows with ``draws``.
    client : dask.distributed.Client, optional
        Run the chunks on this cluster; results are bit-identical to a local run.
    lazy : bool
        With ``client`` (and no ``reduce``): return Dask-backed arrays.

    Returns
    -------
    xarray.Dataset
        As :func:`propagate`, with attrs ``seed``, ``sampler``, ``draws``,
        ``scenario_hash`` and ``netsim_version``.
    """
    if reduce not in (None, "bands"):
        raise ScenarioError(f"reduce={reduce!r} must be None or 'bands'")
    if lazy and client is None:
        raise ScenarioError("lazy=True needs a Dask client")
    if reduce == "bands" or client is not None:
        from netsim import runner

        if not isinstance(draws, int | np.integer) or draws < 1:
            raise ScenarioError(f"draws={draws!r} must be a whole number >= 1")
        sample_inputs(scenario, draws, seed, sampler, 0, 0)  # checks seed and sampler
        if reduce == "bands":
            return runner.reduce_bands(
                scenario,
                int(draws),
                seed,
                sampler,
                q=q,
                confidence=confidence,
                chunk_size=chunk_size,
                client=client,
                progress=progress,
            )
        return runner.simulate_distributed(
            scenario,
            int(draws),
            seed,
            sampler,
            client,
            chunk_size=chunk_size,
            lazy=lazy,
            progress=progress,
        )
    inputs = sample_inputs(scenario, draws, seed, sampler)
    dataset = propagate(scenario, inputs, chunk_size=chunk_size, progress=progress)
    dataset.attrs.update({"seed": int(seed), "sampler": sampler, "draws": int(draws)})
    return dataset
