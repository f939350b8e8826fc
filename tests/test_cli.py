"""The CLI in process, overlays, one subprocess smoke test. Writing a run to NetCDF:
tests/test_writing.py."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import netsim
from netsim.cli import main

from .conftest import CONFIGS, NET_CONFIG, ROOT


@pytest.mark.slow
def test_run_prints_bands_and_writes_netcdf(tmp_path, capsys):
    out = tmp_path / "run.nc"
    status = main(
        [
            "run",
            str(NET_CONFIG),
            "--draws",
            "1000",
            "--seed",
            "3",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    for fragment in (
        "global total, USD million",
        "2031 by region",
        "2031 by modality",
        "P95",
        "Asia-Pacific",
        "PRRT",
        "wrote",
    ):
        assert fragment in printed
    with netsim.open_run(out) as ds:
        assert ds.attrs["seed"] == 3 and ds.attrs["draws"] == 1000
        again = netsim.simulate(netsim.load_scenario(NET_CONFIG), 1000, seed=3)
        np.testing.assert_array_equal(ds["total"].values, again["total"].values)
        np.testing.assert_array_equal(ds["by_end_user"].values, again["by_end_user"].values)
        np.testing.assert_array_equal(ds["inputs"].values, again["inputs"].values)
        assert list(ds["region"].values[:3]) == ["North America"] * 3


@pytest.mark.slow
def test_printed_p50_matches_library(capsys):
    main(["run", str(NET_CONFIG), "--draws", "500", "--seed", "4", "--no-progress"])
    printed = capsys.readouterr().out
    ds = netsim.simulate(netsim.load_scenario(NET_CONFIG), 500, seed=4)
    band = netsim.bands(netsim.global_total(ds["total"]), [0.05, 0.5, 0.95]).sel(year=2031)
    assert f"{float(band.sel(quantile=0.5)):,.1f}" in printed


@pytest.mark.slow
def test_validate_prints_solved_parameters_and_targets(capsys):
    assert main(["validate", str(NET_CONFIG)]) == 0
    printed = capsys.readouterr().out
    assert "baseline" in printed and "(solved)" in printed
    # 7 report rows + 2 assumed, and the funnel's 2 count targets
    assert printed.count("  yes") == 11 and " NO" not in printed
    assert "the patient funnel's count targets" in printed


def test_overlays_keep_the_parent_calibration(net):
    bull = netsim.load_scenario(CONFIGS / "bull.toml")
    bear = netsim.load_scenario(CONFIGS / "bear.toml")
    assert bull.calibration.baseline == net.calibration.baseline
    assert bull.calibration.inherited_from.endswith("net_market.toml")
    final = {
        name: float(netsim.deterministic(s)["total"].sel(year=2031).sum())
        for name, s in [("bear", bear), ("base", net), ("bull", bull)]
    }
    assert final["bear"] < final["base"] < final["bull"]


@pytest.mark.slow
def test_console_script_leaves_out_what_a_run_cannot_use(tmp_path, net):
    # start-up: a run in memory imports no Dask (xarray would import dask.array, 0.2 to
    # 0.5 s, and to_netcdf dask.distributed, 0.5 to 0.7 s) and, with the calibration
    # solved once already (the `net` fixture), no scipy.optimize; same file as in process
    console_out, in_process_out = tmp_path / "console.nc", tmp_path / "in_process.nc"
    arguments = ["run", str(NET_CONFIG), "--draws", "100", "--seed", "2", "--no-progress"]
    code = (
        "import sys; from netsim.cli import console; "
        f"sys.argv = ['netsim', *{arguments!r}, '--out', {str(console_out)!r}]; "
        "status = console(); "
        "assert status == 0, status; "
        "assert sys.modules['dask'] is None; "
        "assert 'distributed' not in sys.modules; "
        "assert 'scipy.optimize' not in sys.modules, 'solved again'; "
        # the collector ran during the command and skips the libraries' objects at exit
        "import gc; assert gc.isenabled() and gc.get_freeze_count() > 50_000"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert main([*arguments, "--out", str(in_process_out)]) == 0
    assert console_out.read_bytes() == in_process_out.read_bytes()


# heavy modules a `netsim run` that prints and writes nothing never needs: each costs a
# fresh process tenths of a second (scipy.stats about a second), so none may creep back
# into start-up through an import at a module's top
OPTIONAL_HEAVY_MODULES = (
    "matplotlib",
    "openpyxl",
    "zarr",
    "h5netcdf",
    "h5py",
    "netCDF4",
    "distributed",
    "scipy.stats",
    "scipy.optimize",
    "scipy.special",  # the support checks' two normal quantiles are constants
    "scipy.linalg",  # numba's check for BLAS gets its one module alone (load_blas_alone)
    "jinja2",
    "netsim.present.plots",
    "netsim.present.report",
    "netsim.present.workbook",
    "netsim.analyze.sensitivity",
    "netsim.drafting",
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("draws", "one_thread"),
    [pytest.param(300, True, id="small-run"), pytest.param(3_000, False, id="larger-run")],
)
def test_a_printed_run_starts_without_the_optional_heavy_modules(net, draws, one_thread):
    # the console script's `netsim run` without --out: nothing of the plots, workbooks,
    # stores or analyses, Dask marked absent, and neither the checksum kernel (a written
    # run's digest) nor the products' kernels (no printed table splits by product)
    # loaded or run; a small run's kernels on one thread (a parallel call waits for
    # every thread: on a shared machine, for a time slice)
    code = (
        "import sys, numba; from netsim.cli import console; "
        f"sys.argv = ['netsim', 'run', {str(NET_CONFIG)!r}, '--draws', '{draws}', "
        "'--no-progress']; "
        "status = console(); assert status == 0, status; "
        "assert sys.modules['dask'] is None; "
        f"print(sorted(m for m in {OPTIONAL_HEAVY_MODULES!r} if sys.modules.get(m))); "
        "from netsim.kernels.checksum import checksum_kernel; "
        "from netsim.kernels.products import product_funnel_kernel, product_kernel; "
        "print(len(checksum_kernel.signatures + product_kernel.signatures "
        "+ product_funnel_kernel.signatures)); "
        "print(numba.get_num_threads() == (1 if "
        f"{one_thread} else numba.config.NUMBA_NUM_THREADS))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    *_, loaded, unused_kernel_signatures, threads_as_planned = result.stdout.splitlines()
    assert loaded == "[]"
    assert unused_kernel_signatures == "0"
    assert threads_as_planned == "True"


@pytest.mark.slow
def test_numba_finds_blas_through_the_module_loaded_alone():
    # numba's target set-up checks for BLAS by importing scipy.linalg.cython_blas: loaded
    # alone, the check passes without the scipy.linalg package, a jitted product goes
    # through the same module's BLAS, and scipy.linalg imports as usual afterwards
    code = (
        "import sys; from netsim.cli.entry import load_blas_alone; "
        "assert load_blas_alone() and not load_blas_alone(); "
        "import numba, numpy as np; from numba.np import arraymath; "
        "assert arraymath._HAVE_BLAS and 'scipy.linalg' not in sys.modules; "
        "m = np.arange(9.0).reshape(3, 3); "
        "assert (numba.njit(lambda a: a @ a)(m) == m @ m).all(); "
        "import scipy.linalg; from scipy.linalg import cython_blas; "
        "assert cython_blas is sys.modules['scipy.linalg.cython_blas']; "
        "assert np.allclose(scipy.linalg.inv(m + np.eye(3)) @ (m + np.eye(3)), np.eye(3))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "extra",
    [["--reduce"], ["--precision", "5%"], ["--sampler", "lhs"], ["--sampler", "sobol"]],
    ids=["reduce", "precision", "lhs", "sobol"],
)
def test_console_runs_every_local_mode_without_dask(extra, net):
    # the modes that leave Dask out need none of it (scipy.stats included): each runs
    code = (
        "import sys; from netsim.cli import console; "
        f"sys.argv = ['netsim', 'run', {str(NET_CONFIG)!r}, '--draws', '500', "
        f"'--no-progress', *{extra!r}]; "
        "status = console(); assert sys.modules['dask'] is None; sys.exit(status)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "global total, USD million" in result.stdout


@pytest.mark.slow
def test_only_commands_that_cannot_use_dask_leave_it_out(monkeypatch):
    from netsim.cli.entry import _parser, _uses_dask, leave_out_dask

    def uses(*argv: str) -> bool:
        return _uses_dask(_parser().parse_args(argv))

    assert not uses("run", "a.toml")
    assert not uses("run", "a.toml", "--out", "r.nc", "--reduce")
    assert not uses("validate", "a.toml")
    assert uses("run", "a.toml", "--out", "r.zarr")
    assert uses("run", "--resume", "r.zarr")
    assert uses("run", "a.toml", "--scheduler", "tcp://127.0.0.1:8786")
    assert uses("bands", "r.nc")
    # in a process that has xarray already (this one), it changes nothing
    before = sys.modules.get("dask", "absent")
    assert leave_out_dask() is False
    assert sys.modules.get("dask", "absent") is before
    # and main() in a caller's process never does it
    monkeypatch.setattr("netsim.cli.entry.leave_out_dask", lambda: pytest.fail("left out Dask"))
    assert main(["validate", str(NET_CONFIG)]) == 0


@pytest.mark.slow
def test_draws_1000_are_the_first_1000_of_a_larger_run(tmp_path):
    small, large = tmp_path / "small.nc", tmp_path / "large.nc"
    for draws, path in ((1000, small), (5000, large)):
        assert (
            main(
                [
                    "run",
                    str(NET_CONFIG),
                    "--draws",
                    str(draws),
                    "--seed",
                    "1",
                    "--out",
                    str(path),
                    "--no-progress",
                ]
            )
            == 0
        )
    with netsim.open_run(small) as a, netsim.open_run(large) as b:
        np.testing.assert_array_equal(a["total"].values, b["total"].values[:1000])
        np.testing.assert_array_equal(a["by_modality"].values, b["by_modality"].values[:1000])


@pytest.mark.slow
def test_subprocess_smoke(tmp_path):
    out = tmp_path / "smoke.nc"
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "netsim.cli",
            "run",
            str(NET_CONFIG),
            "--draws",
            "300",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "2031 by region" in result.stdout and out.exists()
    bad = subprocess.run(
        [sys.executable, "-m", "netsim.cli", "run", "nope.toml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip() == "netsim: error: nope.toml: file not found"


@pytest.mark.slow
@pytest.mark.parametrize("extra", [[], ["--reduce"]])
def test_reader_that_stops_early_loses_no_file(tmp_path, extra):
    """netsim run ... | head: the file is written first, and the closed pipe ends the run
    quietly (status 141, as for a Unix tool killed by SIGPIPE), with no traceback."""
    out = tmp_path / "piped.nc"
    command = [sys.executable, "-m", "netsim.cli", "run", str(NET_CONFIG), "--draws", "300"]
    read_end, write_end = os.pipe()
    os.close(read_end)  # a reader that has already gone: every write fails with EPIPE
    try:
        result = subprocess.run(
            [*command, "--out", str(out), "--no-progress", *extra],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=300,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert result.stderr == ""
    with netsim.open_run(out) as run:
        assert run.attrs["draws"] == 300


@pytest.mark.slow
def test_the_package_loads_its_names_on_use():
    # import netsim is light (the CLI decides what to import); every public name resolves
    heavy = ("numpy", "scipy", "numba", "xarray", *OPTIONAL_HEAVY_MODULES)
    code = f"import sys, netsim; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert dir(netsim) == sorted(netsim.__all__)
    for name in netsim.__all__:
        assert getattr(netsim, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'simulat'"):
        netsim.simulat  # noqa: B018 - a typo must fail loudly


@pytest.mark.slow
@pytest.mark.parametrize(
    "method",
    [
        pytest.param("sobol", id="sobol"),
        pytest.param("spearman", id="spearman"),
        pytest.param("prcc", id="prcc"),
        pytest.param("tail", id="tail"),
    ],
)
def test_a_cell_left_unnamed_is_refused_before_any_computation(tmp_path, method, capsys):
    """Without --at, a cell with several regions and segments is refused in one line
    before the method runs: --draws 0, which the method itself would refuse, shows
    which check came first (earlier, the method computed, then refused the cell)."""
    out = tmp_path / "sens.nc"
    argv = ["sensitivity", str(NET_CONFIG), "--method", method, "--draws", "0"]
    argv += ["--output", "by_modality", "--by", "region", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "the cell must name region, modality (e.g. region=North America modality=SSA)" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_resumed_run_s_progress_bar_counts_the_store_s_draws(tmp_path, monkeypatch, capsys):
    """The bar of ``run --resume`` starts at the draws written before and runs to the
    store's draws (not the default draws of a new run), with its ETA."""
    import zarr

    from netsim.cli import run as run_module

    store = tmp_path / "run.zarr"
    argv = ["run", str(NET_CONFIG), "--draws", "3000", "--chunk-size", "500", "--no-progress"]
    assert main([*argv, "--out", str(store)]) == 0
    group = zarr.open_group(str(store), mode="r+")
    group["netsim_chunks/done"][2:] = 0  # two of six chunks written: what a killed run leaves
    group.attrs["complete"] = 0
    capsys.readouterr()
    monkeypatch.setattr(run_module, "PROGRESS_AFTER_SECONDS", 0)  # shown at once
    assert main(["run", "--resume", str(store)]) == 0
    captured = capsys.readouterr()
    assert "2 of 6 chunks were written before" in captured.out
    assert "1.00k/3.00k [" in captured.err  # from the 1,000 draws written, of 3,000
    assert "<" in captured.err.split("1.00k/3.00k [")[1].split("]")[0]  # elapsed<ETA
