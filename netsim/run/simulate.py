"""``simulate``: sample and propagate a run, the one entry point above its strategies.

A run goes one of five ways (:func:`netsim.run.planning.plan_run` decides): the cube
in memory; reduced to the bands of every cell (:mod:`netsim.run.reduced`); streamed to
a resumable Zarr store (:mod:`netsim.run.zarr_store`); in batches until the headline
percentiles are sure enough (:mod:`netsim.run.precision`); and each of the first three
with its chunks on a Dask cluster (:mod:`netsim.run.distributed`). Every way gives the
same draws, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from netsim.defaults import DEFAULT_CHUNK
from netsim.errors import ArgumentValueError, ScenarioError
from netsim.model.layout import OutputLayout
from netsim.model.propagate import propagate
from netsim.run.chunks import chunk_ranges, compute_chunk
from netsim.run.distributed import fan_out
from netsim.run.planning import plan_run
from netsim.run.precision import simulate_to_precision
from netsim.run.reduced import reduce_bands
from netsim.run.zarr_store import create_store, open_store, write_missing_chunks
from netsim.sampling.inputs import correlation_attrs, sample_inputs
from netsim.sampling.uniforms import check_request
from netsim.scenario.schema import Scenario

__all__ = ["simulate"]


def _checked_plan(
    scenario: Scenario,
    draws: int,
    reduce: str | None,
    store: str | Path | None,
    precision: float | None,
    lazy: bool,
    outputs: Any,
    client: Any,
) -> Any:
    """The run's plan (:func:`netsim.run.planning.plan_run`), refusing the arguments
    that do not go with it."""
    layout = OutputLayout.of(scenario)
    plan = plan_run(layout, draws, reduce=reduce, store=store, precision=precision)
    if plan.strategy != "memory" and lazy:
        raise ScenarioError(f"lazy=True returns a cube in memory: not with a {plan.strategy} run")
    if outputs is not None and plan.strategy != "reduced":
        raise ArgumentValueError(
            f"outputs= selects the outputs a run reduced to bands folds, and this run is "
            f"{plan.strategy}: give reduce='bands' too",
            argument="outputs",
        )
    if plan.strategy == "precision" and client is not None:
        raise ScenarioError("precision runs batch by batch in this process: not with a client")
    return plan


def simulate(
    scenario: Scenario,
    draws: int,
    seed: int = 0,
    sampler: str = "mc",
    *,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[int], Any] | None = None,
    reduce: str | None = None,
    q: Any = (0.05, 0.5, 0.95),
    confidence: float = 0.95,
    client: Any = None,
    lazy: bool = False,
    store: str | Path | None = None,
    precision: float | None = None,
    max_draws: int = 2_000_000,
    outputs: Any = None,
) -> xr.Dataset:
    """Sample the inputs and propagate them.

    Parameters
    ----------
    scenario : Scenario
    draws : int
        Number of draws (>= 1); with ``precision``, the first batch.
    seed : int
        Whole number >= 0.
    sampler : {"mc", "lhs", "sobol"}
        ``mc`` draws are keyed by (seed, parameter, draw index): the first ``n``
        draws of a larger run are exactly an ``n``-draw run.
    chunk_size : int
        Draws per kernel call, Dask task or Zarr chunk; results do not depend on it.
    progress : callable, optional
        Called with the number of draws finished after each chunk.
    reduce : {None, "bands", "auto"}
        ``"bands"``: never hold the cube; fold chunks into histograms and return
        the bands (``q``) of every cell with their ``confidence`` intervals (see
        :func:`netsim.run.reduced.reduce_bands`). ``"auto"``: do so only when the
        cube would not fit in memory (:func:`netsim.run.planning.plan_run`).
    client : dask.distributed.Client, optional
        Run the chunks on this cluster; results are bit-identical to a local run.
    lazy : bool
        With ``client`` (and no ``reduce``): return Dask-backed arrays.
    store : path, optional
        Stream the cube to a new Zarr store there (resumable after an interruption:
        :func:`netsim.run.zarr_store.resume_store`) and return it, opened lazily.
    precision : float, optional
        Run in batches (``mc`` only) until every headline percentile's 95 % interval
        is within this relative half-width, or ``max_draws`` (see
        :func:`netsim.run.precision.simulate_to_precision`).
    max_draws : int
        The cap of a ``precision`` run.
    outputs : sequence of str or str, optional
        A reduced run only: the outputs to fold (``total`` always), every one by
        default (:func:`netsim.run.reduced.reduce_bands`).

    Returns
    -------
    xarray.Dataset
        The run: ``total``, ``by_<axis>`` and ``inputs`` over draws (or the bands of
        a reduced run), with attrs ``seed``, ``sampler``, ``draws`` and the
        scenario's provenance.
    """
    draws = _checked(draws, seed, sampler, chunk_size, lazy, client)
    plan = _checked_plan(scenario, draws, reduce, store, precision, lazy, outputs, client)
    if plan.strategy == "precision":
        return simulate_to_precision(
            scenario,
            precision,
            seed,
            sampler=sampler,
            first_draws=draws,
            max_draws=max_draws,
            progress=progress,
        )
    if plan.strategy == "reduced":
        return reduce_bands(
            scenario,
            draws,
            seed,
            sampler,
            q=q,
            confidence=confidence,
            chunk_size=chunk_size,
            client=client,
            progress=progress,
            outputs=outputs,
        )
    if plan.strategy == "zarr":
        create_store(store, scenario, draws, seed, sampler, chunk_size)
        write_missing_chunks(store, scenario, client=client, progress=progress)
        return open_store(store)
    if client is not None:
        return _on_cluster(scenario, draws, seed, sampler, client, chunk_size, lazy, progress)
    inputs = sample_inputs(scenario, draws, seed, sampler)
    # drawn from the scenario's own distributions: within every rule by construction
    dataset = propagate(scenario, inputs, chunk_size=chunk_size, progress=progress, check=False)
    dataset.attrs.update(seed=int(seed), sampler=sampler, draws=draws)
    dataset.attrs.update(correlation_attrs(scenario, sampler))
    return dataset


def _checked(draws: int, seed: int, sampler: str, chunk_size: Any, lazy: bool, client: Any) -> int:
    """Refuse arguments that cannot make a run; returns ``draws`` as an int."""
    check_request(draws, seed, sampler, 0, 0)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer):
        raise ScenarioError(f"chunk_size={chunk_size!r} must be a whole number >= 1")
    if chunk_size < 1:
        raise ScenarioError(f"chunk_size={chunk_size} must be >= 1")
    if lazy and client is None:
        raise ScenarioError("lazy=True needs a Dask client")
    return int(draws)


def _on_cluster(
    scenario: Scenario,
    draws: int,
    seed: int,
    sampler: str,
    client: Any,
    chunk_size: int,
    lazy: bool,
    progress: Callable[[int], Any] | None,
) -> xr.Dataset:
    """The cube of a run whose chunks are computed on a Dask cluster: gathered here, or
    (``lazy``) as Dask arrays computed when used."""
    layout = OutputLayout.of(scenario)
    ranges = chunk_ranges(0, draws, chunk_size)
    if lazy:
        import dask
        import dask.array

        shared = dask.delayed(scenario)
        columns: dict[str, list[Any]] = {name: [] for name in (*layout.outputs, "inputs")}
        for a, b in ranges:
            chunk = dask.delayed(compute_chunk, pure=True)(shared, draws, seed, sampler, a, b)
            inputs, arrays = chunk[0], chunk[1]
            for name in layout.outputs:
                columns[name].append(
                    dask.array.from_delayed(
                        arrays[name], (b - a, *layout.shape(name)), dtype=np.float32
                    )
                )
            columns["inputs"].append(
                dask.array.from_delayed(inputs, (b - a, len(layout.parameters)), dtype=np.float64)
            )
        arrays = {name: dask.array.concatenate(parts) for name, parts in columns.items()}
        inputs = arrays.pop("inputs")
    else:
        arrays = layout.allocate(draws, np.float32)
        inputs = np.empty((draws, len(layout.parameters)))

        def place(task: tuple[Any, ...], result: tuple[np.ndarray, dict[str, np.ndarray]]) -> None:
            a, b = task[-2:]
            inputs[a:b] = result[0]
            for name in layout.outputs:
                arrays[name][a:b] = result[1][name]
            if progress is not None:
                progress(b - a)

        fan_out(
            client,
            compute_chunk,
            (scenario,),
            ((draws, seed, sampler, a, b) for a, b in ranges),
            place,
        )
    attrs = {"seed": int(seed), "sampler": sampler, "draws": draws}
    attrs.update(correlation_attrs(scenario, sampler))
    return layout.label(arrays, draw=np.arange(draws), inputs=inputs, attrs=attrs)
