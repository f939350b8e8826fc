"""Scale: reduced bands against exact ones, Zarr stores killed and resumed, Dask runs
(with a killed worker) bit-identical to local ones, fast and thread-safe library calls."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.analyze.cells import select_output
from netsim.cli import main
from netsim.errors import ArgumentValueError, ScenarioError
from netsim.run.reduced import PILOT_DRAWS
from netsim.run.zarr_store import open_store, store_progress

from .conftest import CONFIGS, NET_CONFIG
from .helpers import small_scenario

RELATIVE_ACCURACY = 1e-3  # the stated accuracy of reduced bands (0.2 %), tested tighter
PRODUCT_ACCURACY = 5e-3  # ... and of products' (their cells span decades as sales start)


@pytest.fixture(scope="module")
def reference_run(net):
    return netsim.simulate(net, 3 * PILOT_DRAWS, seed=9)


@pytest.fixture(scope="module")
def reduced(net):
    return netsim.simulate(net, 3 * PILOT_DRAWS, seed=9, reduce="bands", chunk_size=5000)


@pytest.mark.slow
def test_reduced_bands_within_stated_accuracy_of_exact(reduced, reference_run):
    checked = 0
    for name, data in reduced.data_vars.items():
        if name.endswith("_interval") or "output" not in data.attrs:
            continue
        draws = select_output(reference_run, data.attrs["output"], data.attrs["by"])
        exact = netsim.bands(draws)
        # the stated accuracy is relative to the band, or, in a cell whose draws reach 0
        # (a product that may not sell), to the cell's largest value; a band of 0 is 0
        scale = xr.where(draws.min("draw") > 0, np.abs(exact), np.abs(draws).max("draw"))
        error = np.abs(data - exact) / np.maximum(scale, np.abs(exact))
        product = "product" in name or "company" in name  # stated: 0.5 % for products
        assert float(error.max()) <= (PRODUCT_ACCURACY if product else RELATIVE_ACCURACY), name
        assert float(error.max()) <= reduced.attrs["max_relative_bin_width"], name
        zeros = (exact == 0) & (draws.min("draw") == 0)
        assert np.all(data.where(zeros, 0) == 0), name
        checked += data.size
    assert checked > 8000  # every cell of every output at every level
    interval = reduced["total_global_interval"]
    assert np.all(interval.sel(bound="low") <= reduced["total_global"])
    assert np.all(reduced["total_global"] <= interval.sel(bound="high"))


@pytest.mark.slow
def test_reduced_bands_do_not_depend_on_chunking(net, reduced):
    other = netsim.simulate(net, 3 * PILOT_DRAWS, seed=9, reduce="bands", chunk_size=3333)
    for name in reduced.data_vars:
        np.testing.assert_array_equal(reduced[name].values, other[name].values)


def _store_arrays(path):
    dataset = open_store(path)
    return {name: dataset[name].values for name in ("total", "by_modality", "inputs")}


# Ctrl-C reaches the run as it would from a terminal, however the tests were started: a
# process launched in the background of a non-interactive shell inherits SIGINT ignored,
# and Python then installs no KeyboardInterrupt handler (the run would finish regardless)
_CONSOLE_WITH_CTRL_C = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from netsim.cli import console; sys.argv[0] = 'netsim'; sys.exit(console())"
)


def _run_cli(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-c", _CONSOLE_WITH_CTRL_C, "run", *args, "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def _wait_for_chunks(path, process, at_least, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"run ended before it could be interrupted: {process.communicate()}")
        try:
            if store_progress(path)[0] >= at_least:
                return
        except ScenarioError:
            pass  # not created yet
        time.sleep(0.05)
    pytest.fail("the run wrote no chunks in time")


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_killed_zarr_run_resumes_to_the_uninterrupted_store(tmp_path, how, capsys):
    settings = ["--draws", "12000", "--seed", "4", "--chunk-size", "400"]
    whole = tmp_path / "whole.zarr"
    assert main(["run", str(NET_CONFIG), *settings, "--out", str(whole), "--no-progress"]) == 0
    assert "streamed to" in capsys.readouterr().out

    broken = tmp_path / "broken.zarr"
    process = _run_cli(str(NET_CONFIG), *settings, "--out", str(broken))
    _wait_for_chunks(broken, process, at_least=3)
    process.send_signal(how)
    _, errors = process.communicate(timeout=60)
    written, total = store_progress(broken)
    assert 3 <= written < total, "the run should have been stopped part way"
    if how == signal.SIGINT:
        assert process.returncode == 130
        assert "--resume" in errors
    with pytest.raises(ScenarioError, match="incomplete"):
        open_store(broken)
    # a chunk write the kill cut short leaves zarr's temporary, never a chunk: plant one
    # so that every run of this test checks it is neither read nor kept
    partial = broken / "total" / "0.0.0.0123456789abcdef.partial"
    partial.write_bytes(b"cut short")
    with pytest.raises(ScenarioError, match="incomplete"):
        open_store(broken)

    assert main(["run", "--resume", str(broken), "--no-progress"]) == 0
    assert not partial.exists()
    resumed, reference = _store_arrays(broken), _store_arrays(whole)
    for name, values in reference.items():
        np.testing.assert_array_equal(resumed[name], values)
    assert dict(open_store(broken).attrs) == dict(open_store(whole).attrs)
    assert open_store(whole).attrs["complete"] == 1


@pytest.mark.slow
def test_zarr_store_equals_in_memory_run(tmp_path, net, capsys):
    path = tmp_path / "run.zarr"
    assert main(["run", str(NET_CONFIG), "--draws", "3000", "--seed", "2", "--out", str(path)]) == 0
    memory = netsim.simulate(net, 3000, seed=2)
    stored = open_store(path)
    for name in ("total", "by_indication", "inputs"):
        np.testing.assert_array_equal(stored[name].values, memory[name].values)
    assert stored.attrs["scenario_hash"] == net.scenario_hash
    assert main(["run", str(NET_CONFIG), "--out", str(path)]) == 2  # exists: no overwrite
    assert "--resume" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    "outputs",
    [
        pytest.param("total,by_modality", id="market-outputs"),
        pytest.param(("patient_total", "by_product"), id="funnel-and-product-outputs"),
    ],
)
def test_a_run_reduced_to_some_outputs_folds_them_as_every_output_run_does(net, reduced, outputs):
    some = netsim.simulate(
        net, 3 * PILOT_DRAWS, seed=9, reduce="bands", chunk_size=5000, outputs=outputs
    )
    names = outputs.split(",") if isinstance(outputs, str) else outputs
    folded = {str(name) for name in some.data_vars if not str(name).startswith("parameter")}
    expected = set()
    for output in ("total", *names):  # total always: every reader of a run needs it
        for level in ("", "_region", "_global"):
            expected |= {f"{output}{level}", f"{output}{level}_interval"}
    assert folded == expected
    for name in expected:  # the same cells, the same bins, the same draws
        np.testing.assert_array_equal(some[name].values, reduced[name].values)


def test_outputs_name_what_the_scenario_has_and_only_a_reduced_run_takes_them(net):
    from netsim.model.layout import OutputLayout
    from netsim.run.reduced import CellLayout, selected_outputs

    layout = OutputLayout.of(net)
    market = CellLayout(layout, outputs=selected_outputs(layout, "by_modality"))
    assert market.outputs == ("total", "by_modality")
    # neither the funnel's kernel nor the products' run for the top-down market's outputs
    assert not market.funnel and not market.products
    assert set(market.buffers(2)) == set(layout.top_down_outputs)
    funnel = CellLayout(layout, outputs=selected_outputs(layout, ["patient_total"]))
    assert funnel.funnel and not funnel.products
    products = CellLayout(layout, outputs=selected_outputs(layout, ["by_company"]))
    assert products.products and not products.funnel
    with pytest.raises(ArgumentValueError, match="outputs='by_nothing' is not an output"):
        selected_outputs(layout, "total,by_nothing")
    with pytest.raises(ArgumentValueError, match="give reduce='bands'"):
        netsim.simulate(net, 100, seed=1, outputs="total")


@pytest.mark.slow
def test_cli_refuses_an_unknown_output_in_one_line_writing_nothing(tmp_path, capsys):
    out = tmp_path / "bands.nc"
    command = ["run", str(NET_CONFIG), "--draws", "500", "--outputs", "total,by_nothing"]
    assert main([*command, "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "by_nothing" in error and "by_modality" in error
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_cli_reduces_when_the_cube_would_not_fit(tmp_path, monkeypatch, capsys):
    from netsim.run import planning

    monkeypatch.setattr(planning, "memory_budget", lambda: 1e6)
    out = tmp_path / "bands.nc"
    # the cube asked for (--cube) does not fit: the bands of every cell, by reduction
    argv = ["run", str(NET_CONFIG), "--draws", "9000", "--no-progress", "--cube"]
    assert main([*argv, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "computing the bands of every cell by reduction" in captured.err
    assert "reduced to bands" in captured.out
    bands = xr.open_dataset(out, engine="h5netcdf")
    assert bands.attrs["reduce"] == "bands" and "draw" not in bands.dims
    # a run file streamed into its record never holds the cube: every draw is kept
    record = tmp_path / "record.nc"
    assert main([*argv[:-1], "--out", str(record)]) == 0
    assert "reduction" not in capsys.readouterr().err
    with xr.open_dataset(record, engine="h5netcdf") as data:
        assert data.sizes["draw"] == 9000 and "reduce" not in data.attrs


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as local,
        # as the CLI makes it: not the default client, so every call must name it
        distributed.Client(local, set_as_default=False) as client,
    ):
        yield client


@pytest.mark.slow
def test_dask_run_is_bit_identical_to_local(cluster, net):
    local = netsim.simulate(net, 5000, seed=6, chunk_size=700)
    remote = netsim.simulate(net, 5000, seed=6, chunk_size=700, client=cluster)
    for name in ("total", "by_modality", "by_end_user", "inputs", "by_product", "by_company"):
        np.testing.assert_array_equal(remote[name].values, local[name].values)
    lazy = netsim.simulate(net, 5000, seed=6, chunk_size=700, client=cluster, lazy=True)
    assert lazy["total"].chunks is not None
    np.testing.assert_array_equal(lazy["by_indication"].values, local["by_indication"].values)


@pytest.mark.slow
def test_dask_reduced_bands_equal_local(cluster, net, reduced):
    remote = netsim.simulate(
        net, 3 * PILOT_DRAWS, seed=9, reduce="bands", chunk_size=5000, client=cluster
    )
    for name in reduced.data_vars:
        np.testing.assert_array_equal(remote[name].values, reduced[name].values)


@pytest.mark.slow
def test_resume_on_a_cluster_completes_a_store_and_refuses_a_damaged_one(cluster, tmp_path, capsys):
    """netsim run --resume --scheduler: an interrupted store (a chunk unflagged) is
    completed to the uninterrupted one; a store with a chunk file replaced by a folder is
    refused in one line, exit 2, before a chunk is added."""
    import shutil

    import zarr

    address = cluster.scheduler.address
    whole = tmp_path / "whole.zarr"
    base = ["run", str(NET_CONFIG), "--draws", "600", "--chunk-size", "200", "--no-progress"]
    assert main([*base, "--out", str(whole)]) == 0
    stores = {}
    for name in ("undone", "damaged"):
        stores[name] = tmp_path / f"{name}.zarr"
        shutil.copytree(whole, stores[name])
        zarr.open_group(stores[name], mode="r+", zarr_format=3)["netsim_chunks/done"][0] = 0
    chunk = stores["damaged"] / "total" / "2.0.0"
    chunk.unlink()
    chunk.mkdir()
    capsys.readouterr()
    resume = ["run", "--resume", "STORE", "--scheduler", address, "--no-progress"]
    assert main([str(stores["undone"]) if a == "STORE" else a for a in resume]) == 0
    assert "resumed" in capsys.readouterr().out
    xr.testing.assert_identical(open_store(stores["undone"]).load(), open_store(whole).load())
    assert main([str(stores["damaged"]) if a == "STORE" else a for a in resume]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"{stores['damaged']}: total/2.0.0 is damaged (a folder without zarr.json" in err
    flags = zarr.open_group(stores["damaged"], mode="r")["netsim_chunks/done"][:]
    assert flags.tolist() == [0, 1, 1]  # nothing added


@pytest.mark.slow
def test_dask_run_survives_a_killed_worker(cluster, net):
    local = netsim.simulate(net, 8000, seed=12, chunk_size=250)
    pids = list(cluster.run(os.getpid).values())
    killed = threading.Event()

    def kill_one_worker(done):
        if not killed.is_set():
            os.kill(pids[0], signal.SIGKILL)  # the worker process dies mid-run
            killed.set()

    remote = netsim.simulate(
        net, 8000, seed=12, chunk_size=250, client=cluster, progress=kill_one_worker
    )
    assert killed.is_set()
    for name in ("total", "by_modality", "inputs"):
        np.testing.assert_array_equal(remote[name].values, local[name].values)


@pytest.mark.slow
def test_dask_run_survives_losing_every_copy_of_the_scenario(cluster, net):
    """Every worker holding the scenario (the argument all chunks share) killed mid-run:
    scattered, it was lost for good and the run failed with a cancelled future; as a
    task of its own the scheduler computes it again."""
    local = netsim.simulate(net, 3000, seed=13, chunk_size=250)
    pids = cluster.run(os.getpid)
    killed = threading.Event()

    def kill_the_scenario_s_holders(done):
        if killed.is_set():
            return
        holders = {
            worker
            for key, workers in cluster.who_has().items()
            if not str(key).startswith("compute_chunk")
            for worker in workers
        }
        for worker in holders:
            os.kill(pids[worker], signal.SIGKILL)
        killed.set()

    remote = netsim.simulate(
        net, 3000, seed=13, chunk_size=250, client=cluster, progress=kill_the_scenario_s_holders
    )
    assert killed.is_set()
    np.testing.assert_array_equal(remote["total"].values, local["total"].values)


def test_propagate_is_thread_safe_and_reuses_buffers(net):
    inputs = [netsim.sample_inputs(net, 1500, seed=s) for s in range(4)]
    expected = [netsim.propagate(net, x, as_arrays=True)["total"] for x in inputs]
    failures = []

    def work(i):
        buffers = netsim.propagate(net, inputs[i], as_arrays=True)
        for _ in range(10):
            got = netsim.propagate(net, inputs[i], as_arrays=True, out=buffers)
            if (
                not np.array_equal(got["total"], expected[i])
                or got["total"] is not buffers["total"]
            ):
                failures.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with pytest.raises(ArgumentValueError, match="out\\['total'\\]"):
        netsim.propagate(net, inputs[0][:10], as_arrays=True, out={"total": np.empty(3)})


_WITHOUT_DASK = """
import sys
for name in ("dask", "distributed", "zarr"):
    sys.modules[name] = None  # as if not installed: importing it raises ImportError
from netsim.cli import main
out = sys.argv[2]
status = main(["run", sys.argv[1], "--draws", "600", "--out", out, "--no-progress"])
reduced = main(["run", sys.argv[1], "--draws", "600", "--reduce", "--no-progress"])
scheduler = main(["run", sys.argv[1], "--draws", "600", "--scheduler", "tcp://127.0.0.1:1"])
loaded = [m for m, module in sys.modules.items() if module and m.split(".")[0] == "dask"]
print(status, reduced, scheduler, loaded)
"""


@pytest.mark.slow
def test_runs_without_dask_installed(tmp_path):
    """Local runs (in memory and reduced) need no Dask; --scheduler says what to install."""
    out = tmp_path / "run.nc"
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_DASK, str(NET_CONFIG), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0 0 2 []"
    assert "--scheduler needs dask.distributed: pip install 'netsim[dask]'" in done.stderr
    assert netsim.open_run(out)["total"].sizes["draw"] == 600


def test_requests_that_cannot_fit_say_so_before_starting(net, tmp_path):
    import time

    from netsim.run.chunks import chunk_ranges
    from netsim.sampling.uniforms import sample_uniforms

    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="over the in-memory budget"):
        netsim.simulate(net, 10**12, seed=1)
    with pytest.raises(ScenarioError, match="GB free"):
        netsim.simulate(net, 10**12, seed=1, store=tmp_path / "huge.zarr")
    assert not (tmp_path / "huge.zarr").exists()
    ranges = chunk_ranges(0, 10**12, 16_384)  # lazy: no list of 61 million ranges
    assert len(ranges) == -(-(10**12) // 16_384) and ranges[-1] == (
        (len(ranges) - 1) * 16_384,
        10**12,
    )
    # a chunk of a Latin hypercube of a billion draws costs the chunk, not the design
    chunk = sample_uniforms(net.parameter_names, 10**9, 1, "lhs", 5 * 10**8, 5 * 10**8 + 1000)
    assert chunk.shape == (1000, len(net.parameter_names))
    assert time.perf_counter() - started < 30


def test_lhs_design_is_a_latin_hypercube_in_any_chunking():
    from netsim.sampling.uniforms import sample_uniforms

    names = ("a", "b", "c")
    whole = sample_uniforms(names, 1000, 4, "lhs")
    for j in range(3):
        assert sorted(np.floor(whole[:, j] * 1000).astype(int).tolist()) == list(range(1000))
    parts = [
        sample_uniforms(names, 1000, 4, "lhs", a, min(a + 300, 1000)) for a in range(0, 1000, 300)
    ]
    np.testing.assert_array_equal(np.vstack(parts), whole)


@pytest.mark.slow
@pytest.mark.parametrize(
    "edit", ["seed", "draws", "chunk_size", "sampler", "foreign scenario", "run_hash copied"]
)
def test_a_tampered_store_is_never_completed_with_other_draws(net, tmp_path, edit, capsys):
    """Edited settings, or another store's scenario, document and hashes copied in: the
    store is refused by --resume before a chunk is added, and by every reader."""
    import json

    import zarr

    from netsim.run.zarr_store import create_store, write_missing_chunks

    path, other = tmp_path / "run.zarr", tmp_path / "other.zarr"
    create_store(path, net, 1200, 4, "mc", 400)
    bull = netsim.load_scenario(CONFIGS / "bull.toml")
    create_store(other, bull, 1200, 4, "mc", 400)
    group = zarr.open_group(path, mode="r+", zarr_format=3)
    group["inputs"][0:400] = netsim.sample_inputs(net, 1200, 4, "mc", 0, 400)
    group["netsim_chunks/done"][0] = 1  # one chunk written, as by an interrupted run
    metadata = json.loads((path / "zarr.json").read_text())
    attrs = metadata["attributes"]
    foreign = json.loads((other / "zarr.json").read_text())["attributes"]
    if edit == "seed":
        attrs["seed"] = 5
    elif edit == "draws":
        attrs["draws"] = 800
    elif edit == "chunk_size":
        attrs["chunk_size"] = 300
    elif edit == "sampler":
        attrs["sampler"] = "lhs"
    else:
        for key in ("scenario_document", "scenario_hash", "calibration", "scenario"):
            attrs[key] = foreign[key]
        if edit == "run_hash copied":
            attrs["run_hash"] = foreign["run_hash"]
    (path / "zarr.json").write_text(json.dumps(metadata))
    before = group["inputs"][400:800].copy()
    with pytest.raises(ScenarioError):
        write_missing_chunks(path)
    np.testing.assert_array_equal(group["inputs"][400:800], before)  # nothing added
    assert main(["run", "--resume", str(path), "--no-progress"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    group["netsim_chunks/done"][:] = 1
    attrs["complete"] = 1
    (path / "zarr.json").write_text(json.dumps(metadata))
    assert main(["bands", str(path)]) == 2


@pytest.mark.parametrize("base_size", [1e-12, 1e12])
def test_reduced_bands_of_a_market_in_tiny_or_huge_units(base_size):
    # linear bins' smallest margin is a fraction of the cell's own size, whatever its unit
    # (a fixed 1e-9 floor made the bands of a 1e-12 market 9 % off)
    document = small_scenario()
    document["market"]["base_size"]["value"] = base_size
    scenario = netsim.load_scenario(document)
    reduced = netsim.simulate(scenario, 5000, seed=3, reduce="bands")
    exact = netsim.bands(select_output(netsim.simulate(scenario, 5000, seed=3), "total", "global"))
    relative = np.abs(reduced["total_global"] - exact) / np.abs(exact)
    assert float(relative.max()) <= float(reduced.attrs["max_relative_bin_width"])
    assert float(relative.max()) <= RELATIVE_ACCURACY


@pytest.mark.slow  # the 24,576-draw reduced run is the slow accuracy tests' own fixture
def test_reduced_accuracy_is_stated_as_the_bin_width(reduced):
    assert "within max_relative_bin_width" in reduced.attrs["accuracy"]
    # the market's and the funnel's cells within 0.2 %; the products' within 0.5 %: a
    # launch's first years span orders of magnitude over the draws (wider log bins)
    assert 0.0 < reduced.attrs["max_relative_bin_width"] < 5e-3


@pytest.mark.parametrize("chunk_size", [2.5, True, "8"])
def test_a_chunk_size_that_is_not_a_whole_number_is_refused(net, chunk_size):
    for reduce in (None, "bands"):
        with pytest.raises(ScenarioError, match="chunk_size"):
            netsim.simulate(net, 100, seed=1, chunk_size=chunk_size, reduce=reduce)
