"""Runs streamed to a Zarr store chunk by chunk, resumable after any interruption.

The store is created whole before any draw is simulated: coordinates, the
per-parameter tables, provenance attrs (including the scenario document, so
``--resume`` needs nothing else) and empty, compressed arrays chunked along
``draw``. Each chunk of draws is then computed, written, and only afterwards
flagged in ``chunk_done``. A run killed at any point (SIGINT, SIGKILL) leaves
at worst one chunk written but not flagged; :func:`write_missing_chunks`
recomputes exactly the unflagged chunks -- the same numbers, since a chunk is a
pure function of the run's settings -- so a resumed store equals an
uninterrupted one. The attr ``complete`` becomes 1 last; :func:`open_store`
refuses an incomplete store unless asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from netsim import __version__
from netsim.defaults import DEFAULT_CHUNK
from netsim.engine import UNITS, coordinates
from netsim.errors import ScenarioError
from netsim.runner import chunk_ranges, compute_chunk
from netsim.scenario import Scenario

__all__ = [
    "bands_of_store",
    "create_store",
    "open_store",
    "scenario_of_store",
    "store_progress",
    "write_missing_chunks",
]

ZARR_FORMAT = 2  # string coordinates have a settled encoding in format 2


def _zarr() -> Any:
    try:
        import zarr
    except ImportError as error:  # pragma: no cover - the dask extra brings zarr
        raise ScenarioError("Zarr output needs zarr: pip install 'netsim[dask]'") from error
    return zarr


def create_store(
    path: str | Path,
    scenario: Scenario,
    draws: int,
    seed: int,
    sampler: str,
    chunk_size: int = DEFAULT_CHUNK,
) -> Path:
    """Create an empty run store (fails if ``path`` exists)."""
    path = Path(path)
    if path.exists():
        raise ScenarioError(f"{path} exists: finish it with --resume {path}, or remove it")
    if not path.parent.exists():
        raise ScenarioError(f"--out {path}: folder {path.parent} does not exist")
    zarr = _zarr()
    ranges = chunk_ranges(0, draws, chunk_size)
    coords = coordinates(scenario)
    coords["draw"] = ("draw", np.arange(draws))
    coords["parameter"] = ("parameter", list(scenario.parameter_names))
    skeleton = xr.Dataset(
        {
            "parameter_unit": ("parameter", [p.unit for p in scenario.parameters]),
            "parameter_distribution": (
                "parameter",
                [p.distribution.describe() for p in scenario.parameters],
            ),
            "parameter_source": ("parameter", [p.source for p in scenario.parameters]),
        },
        coords=coords,
        attrs={
            "scenario": scenario.name,
            "scenario_hash": scenario.scenario_hash,
            "scenario_document": scenario.document_json,
            "netsim_version": __version__,
            "units": UNITS,
            "seed": int(seed),
            "sampler": sampler,
            "draws": int(draws),
            "chunk_size": int(chunk_size),
            "complete": 0,
        },
    )
    skeleton.to_zarr(path, mode="w-", zarr_format=ZARR_FORMAT, consolidated=False)
    group = zarr.open_group(path, mode="r+", zarr_format=ZARR_FORMAT)
    base = (len(scenario.years), len(scenario.countries))
    arrays = {"total": (("draw", "year", "country"), base)}
    for axis in scenario.axes:
        dims = ("draw", "year", "country", axis.name)
        arrays[f"by_{axis.name}"] = (dims, (*base, len(axis.segments)))
    for name, (dims, shape) in arrays.items():
        array = group.create_array(
            name,
            shape=(draws, *shape),
            chunks=(chunk_size, *shape),
            dtype="float32",
            fill_value=np.nan,
        )
        array.attrs.update({"_ARRAY_DIMENSIONS": list(dims), "units": UNITS})
    inputs = group.create_array(
        "inputs",
        shape=(draws, len(scenario.parameters)),
        chunks=(chunk_size, len(scenario.parameters)),
        dtype="float64",
        fill_value=np.nan,
    )
    inputs.attrs.update(
        {
            "_ARRAY_DIMENSIONS": ["draw", "parameter"],
            "long_name": "sampled inputs, each in its parameter's unit",
        }
    )
    done = group.create_array(
        "chunk_done", shape=(len(ranges),), chunks=(1,), dtype="uint8", fill_value=0
    )
    done.attrs.update(
        {"_ARRAY_DIMENSIONS": ["chunk"], "long_name": "1 once the chunk's draws are written"}
    )
    return path


def _group(path: str | Path, mode: str = "r") -> Any:
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: store not found")
    try:
        return _zarr().open_group(path, mode=mode, zarr_format=ZARR_FORMAT)
    except Exception as error:  # zarr raises several kinds for "not a store"
        raise ScenarioError(f"{path}: not a netsim Zarr store ({error})") from None


def store_progress(path: str | Path) -> tuple[int, int]:
    """(chunks written, chunks in all) of a store."""
    group = _group(path)
    if "chunk_done" not in group:
        raise ScenarioError(f"{path}: not a netsim run store (or one still being created)")
    done = group["chunk_done"][:]
    return int(done.sum()), int(done.size)


def scenario_of_store(path: str | Path) -> Scenario:
    """Rebuild the scenario a store was made from (checked against its hash)."""
    from netsim.engine import load_scenario

    attrs = dict(_group(path).attrs)
    if "scenario_document" not in attrs:
        raise ScenarioError(f"{path}: not a netsim run store (no scenario_document)")
    scenario = load_scenario(json.loads(attrs["scenario_document"]))
    if scenario.scenario_hash != attrs.get("scenario_hash"):
        raise ScenarioError(
            f"{path}: the stored scenario no longer gives the store's hash (netsim "
            f"{attrs.get('netsim_version')} wrote it; this is {__version__})"
        )
    return scenario


def write_missing_chunks(
    path: str | Path,
    scenario: Scenario | None = None,
    *,
    client: Any = None,
    progress: Callable[[int], Any] | None = None,
) -> Path:
    """Compute and write every chunk not yet flagged done, then mark the store complete.

    Parameters
    ----------
    path : str or Path
        A store from :func:`create_store` (new or interrupted).
    scenario : Scenario, optional
        Defaults to the one stored in the store.
    client : dask.distributed.Client, optional
        Compute the chunks on a cluster; this process writes them.
    progress : callable, optional
        Called with the draws finished after each chunk.
    """
    group = _group(path, mode="r+")
    attrs = dict(group.attrs)
    scenario = scenario_of_store(path) if scenario is None else scenario
    draws, seed, sampler = int(attrs["draws"]), int(attrs["seed"]), str(attrs["sampler"])
    ranges = chunk_ranges(0, draws, int(attrs["chunk_size"]))
    done = group["chunk_done"]
    missing = [i for i, flag in enumerate(done[:]) if not flag]
    names = ["total"] + [f"by_{a.name}" for a in scenario.axes]

    def write(index: int, inputs: np.ndarray, arrays: dict[str, np.ndarray]) -> None:
        a, b = ranges[index]
        group["inputs"][a:b] = inputs
        for name in names:
            group[name][a:b] = arrays[name]
        done[index] = 1  # only after the data: an unflagged chunk is simply redone
        if progress is not None:
            progress(b - a)

    if client is None:
        for index in missing:
            a, b = ranges[index]
            write(index, *compute_chunk(scenario, draws, seed, sampler, a, b))
    else:
        from dask.distributed import as_completed

        shared = client.scatter(scenario, broadcast=True)
        futures = {
            client.submit(compute_chunk, shared, draws, seed, sampler, *ranges[i], pure=False): i
            for i in missing
        }
        for future in as_completed(futures):
            write(futures[future], *future.result())
            future.release()
    group.attrs["complete"] = 1
    return Path(path)


def open_store(path: str | Path, allow_incomplete: bool = False) -> xr.Dataset:
    """Open a run store lazily; an incomplete store is refused unless ``allow_incomplete``."""
    written, total = store_progress(path)
    attrs = dict(_group(path).attrs)
    if not attrs.get("complete") and not allow_incomplete:
        raise ScenarioError(
            f"{path} is incomplete ({written} of {total} chunks written): finish it with "
            f"netsim run --resume {path}"
        )
    return xr.open_dataset(
        path, engine="zarr", consolidated=False, chunks=None, drop_variables=["chunk_done"]
    )


def bands_of_store(
    path: str | Path,
    q: Any = (0.05, 0.5, 0.95),
    confidence: float = 0.95,
    progress: Callable[[int], Any] | None = None,
) -> xr.Dataset:
    """The bands of every cell of a complete store, read back chunk by chunk (as
    :func:`netsim.runner.reduce_bands`: the store never has to fit in memory)."""
    from netsim.runner import CellLayout, summarise
    from netsim.stats import _as_quantiles

    dataset = open_store(path)
    scenario = scenario_of_store(path)
    names = ["total"] + [f"by_{a.name}" for a in scenario.axes]

    def fetch(a: int, b: int) -> dict[str, np.ndarray]:
        return {name: dataset[name][a:b].values for name in names}

    layout = CellLayout(scenario)
    draws = int(dataset.attrs["draws"])
    summary = summarise(layout, fetch, draws, int(dataset.attrs["chunk_size"]), progress=progress)
    result = layout.dataset(summary, _as_quantiles(q), confidence)
    result.attrs.update(
        {k: dataset.attrs[k] for k in ("seed", "sampler", "scenario", "scenario_hash")}
    )
    return result
