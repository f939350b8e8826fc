"""The kinds of run ``netsim run`` writes, made once a session for the tests that read them
(tests/test_run_kinds.py, tests/test_reading.py, tests/test_zarr_store.py), and paths that
are not runs. Loaded as fixtures by tests/conftest.py."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import shutil

import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.cli import main
from netsim.run.zarr_store import create_store

DRAWS, SEED, CHUNK = 3000, 5, 1000
KINDS = ("cube", "record", "zarr", "reduced")


@pytest.fixture(scope="session")
def run_kinds_made(tmp_path_factory):
    """The kinds of run, written by ``netsim run`` with the same draws and seed:
    kind -> (path, what the command printed). Written once a test run: the first
    worker to need them writes them (under a lock), the others read what it wrote."""
    from .helpers import shared_by_workers

    shared = shared_by_workers(tmp_path_factory)
    folder = shared / "run-kinds"
    printed_file = folder / "printed.json"
    with open(shared / "run-kinds.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not printed_file.exists():
            folder.mkdir(exist_ok=True)
            printed = _write_run_kinds(folder)
            printed_file.write_text(json.dumps(printed))
        printed = json.loads(printed_file.read_text())
    return {kind: (folder / RUN_FILES[kind], printed[kind]) for kind in KINDS}


RUN_FILES = {"cube": "run.nc", "record": "record.nc", "zarr": "run.zarr", "reduced": "bands.nc"}


def _write_run_kinds(folder) -> dict[str, str]:
    """Write each kind of run into ``folder``: kind -> what ``netsim run`` printed."""
    from .conftest import NET_CONFIG

    extra = {"cube": ["--cube"], "zarr": ["--chunk-size", str(CHUNK)], "reduced": ["--reduce"]}
    printed = {}
    for kind, name in RUN_FILES.items():
        argv = ["run", str(NET_CONFIG), "--draws", str(DRAWS), "--seed", str(SEED)]
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            status = main(
                [*argv, "--out", str(folder / name), "--no-progress", *extra.get(kind, [])]
            )
        assert status == 0, kind
        printed[kind] = output.getvalue()
    return printed


@pytest.fixture(scope="session")
def run_kinds(run_kinds_made):
    """kind -> path of each kind of run."""
    return {kind: path for kind, (path, _) in run_kinds_made.items()}


@pytest.fixture(scope="session")
def run_kinds_opened(run_kinds):
    """kind -> each kind of run, opened."""
    return {kind: netsim.open_run(path) for kind, path in run_kinds.items()}


NON_RUNS = (
    "scenario.toml",
    "text",
    "empty",
    "truncated",
    "foreign-netcdf4",
    "foreign-netcdf3",
    "analysis-result",
    "base-case",
    "folder",
    "incomplete-zarr",
    "foreign-zarr",
    "broken-zarr",
    "missing",
)


@pytest.fixture(scope="session")
def non_runs(tmp_path_factory, run_kinds, net):
    """Paths that are not netsim runs, by name."""
    from .conftest import NET_CONFIG

    folder = tmp_path_factory.mktemp("non-runs")
    paths = {name: folder / name for name in NON_RUNS}
    paths["scenario.toml"] = folder / "net_market.toml"
    shutil.copy(NET_CONFIG, paths["scenario.toml"])
    paths["text"] = folder / "notes.txt"
    paths["text"].write_text("not a run\n")
    paths["empty"] = folder / "empty.nc"
    paths["empty"].write_bytes(b"")
    paths["truncated"] = folder / "truncated.nc"
    whole = run_kinds["cube"].read_bytes()
    paths["truncated"].write_bytes(whole[: len(whole) // 2])
    foreign = xr.Dataset({"temperature": ("time", np.arange(4.0))}, coords={"time": np.arange(4)})
    paths["foreign-netcdf4"] = folder / "foreign4.nc"
    foreign.to_netcdf(paths["foreign-netcdf4"], engine="h5netcdf")
    paths["foreign-netcdf3"] = folder / "foreign3.nc"
    foreign.to_netcdf(paths["foreign-netcdf3"], engine="scipy")
    paths["analysis-result"] = folder / "spearman.nc"  # written by netsim, not a run
    netsim.write_netcdf(xr.Dataset({"spearman": ("parameter", [0.5])}), paths["analysis-result"])
    paths["base-case"] = folder / "base.nc"  # netsim's outputs without draws
    netsim.write_netcdf(netsim.deterministic(net), paths["base-case"])
    paths["folder"].mkdir()
    paths["incomplete-zarr"] = folder / "incomplete.zarr"
    create_store(paths["incomplete-zarr"], net, DRAWS, SEED, "mc", CHUNK)
    paths["foreign-zarr"] = folder / "foreign.zarr"
    foreign.to_zarr(paths["foreign-zarr"], zarr_format=2, consolidated=False)
    paths["broken-zarr"] = folder / "broken.zarr"
    paths["broken-zarr"].mkdir()
    (paths["broken-zarr"] / ".zgroup").write_text("{not json")
    paths["missing"] = folder / "missing.nc"
    return paths
