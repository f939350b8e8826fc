"""What a hostile session found, each case kept: edited and damaged run files, clashing
names, repeated arguments, outputs inside inputs, absurd requests."""

from __future__ import annotations

import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from netsim.cli import main

from .conftest import CONFIGS, NET_CONFIG


@pytest.fixture(scope="module")
def runs(small_runs):
    return small_runs


def _refused(argv, capsys, message=""):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and message in err, err


def _edited(source, target, edit):
    shutil.copy(source, target)
    with h5py.File(target, "r+") as handle:
        edit(handle)
    return target


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "edit", "message"),
    [
        pytest.param(
            "nc",
            lambda h: h["total"].__setitem__((slice(0, 3), -1, 0), -1e6),
            "impossible",
            id="nc-negative totals",
        ),
        pytest.param(
            "nc",
            lambda h: h["total"].__setitem__((0, -1, 0), np.inf),
            "impossible",
            id="nc-an infinite total",
        ),
        pytest.param(
            "nc",
            lambda h: h["year"].__setitem__(slice(None), np.flip(h["year"][:])),
            "years",
            id="nc-years reversed",
        ),
        pytest.param(
            "bands",
            lambda h: h.attrs.__setitem__("confidence", 0.5),
            "edited",
            id="bands-confidence edited",
        ),
        pytest.param(
            "bands",
            lambda h: h["quantile"].__setitem__(slice(None), [0.1, 0.5, 0.9]),
            "edited",
            id="bands-quantiles edited",
        ),
        pytest.param(
            "bands",
            lambda h: h["total_global"].__setitem__(slice(None), -h["total_global"][:]),
            "impossible",
            id="bands-negative bands",
        ),
        pytest.param(
            "bands",
            lambda h: h.attrs.__setitem__("draws", -3),
            "impossible",
            id="bands-negative draws",
        ),
    ],
)
def test_an_edited_run_file_is_refused(runs, tmp_path, kind, edit, message, capsys):
    path = _edited(runs[kind], tmp_path / "edited.nc", edit)
    _refused(["bands", str(path), "--year", "2031"], capsys, message)


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_a_damaged_store_chunk_is_refused_not_a_crash(runs, tmp_path, damage):
    store = tmp_path / "damaged.zarr"
    shutil.copytree(runs["zarr"], store)
    chunk = store / "total" / "0.0.0"
    if damage == "truncated":
        chunk.write_bytes(chunk.read_bytes()[:1000])
    elif damage == "empty":
        chunk.write_bytes(b"")
    else:
        chunk.write_bytes(np.random.default_rng(1).bytes(chunk.stat().st_size))
    # in a subprocess: a decompressor crash would show as a signal, not a status
    done = subprocess.run(
        [sys.executable, "-m", "netsim.cli", "bands", str(store)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "damaged" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_files_sharing_a_name_keep_their_own_rows(tmp_path, capsys):
    other = tmp_path / "sub"
    other.mkdir()
    bear = (
        (CONFIGS / "bear.toml")
        .read_text()
        .replace('extends = "net_market.toml"', f'extends = "{NET_CONFIG}"')
    )
    (other / "bull.toml").write_text(bear)
    assert (
        main(
            [
                "compare",
                str(NET_CONFIG),
                str(CONFIGS / "bull.toml"),
                str(other / "bull.toml"),
                "--draws",
                "200",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert str(CONFIGS / "bull.toml") in out and str(other / "bull.toml") in out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bands", "RUN", "--q", "0.5", "0.5"], "twice"),
        (["bands", "RUN", "--year", "2031", "2031"], "twice"),
        pytest.param(
            ["validate", "CONFIG", "--set", "[a]\n[b]\nc=1"], "one line", id="--set of three lines"
        ),
        (["run", "CONFIG", "--draws", "99999999999999999999"], "would finish"),
        (["run", "CONFIG", "--draws", "10", "--out", ""], "must end in .nc"),
        (["run", "CONFIG", "--draws", "10", "--out", "OUT/x.txt"], "must end in .nc"),
        (["run", "CONFIG", "--draws", "10", "--precision", "0.5"], "50 %"),
        (["bands", "ZARR", "--csv", "ZARR/x.csv"], "inside"),
        (["sensitivity", "CONFIG", "--at", "year=2031", "year=2026"], "twice"),
        (["validate", "CONFIG", "--set", "years.base=99999999999999999999999"], "1900-2200"),
    ],
)
def test_hostile_arguments_give_one_line(runs, tmp_path, argv, message, capsys):
    replace = {"RUN": str(runs["nc"]), "CONFIG": str(NET_CONFIG), "ZARR": str(runs["zarr"])}
    argv = [
        replace.get(a, a).replace("OUT", str(tmp_path)).replace("ZARR", str(runs["zarr"]))
        for a in argv
    ]
    _refused(argv, capsys, message)
    assert not list(tmp_path.iterdir())
    assert not list(runs["zarr"].glob("x.csv")) and not list(runs["zarr"].glob(".x.csv*"))


@pytest.mark.slow
def test_a_sobol_file_without_its_intervals_is_refused(tmp_path, capsys):
    import xarray as xr

    foreign = tmp_path / "foreign.nc"
    xr.Dataset(
        {"total_order": (("parameter", "year"), np.zeros((2, 2)))},
        coords={"parameter": ["a", "b"], "year": [2030, 2031]},
        attrs={"netsim_version": "0.1.0"},
    ).to_netcdf(foreign, engine="h5netcdf")
    _refused(
        ["plot", "sobol", str(foreign), "--out", str(tmp_path / "s.png")], capsys, "first_order"
    )


@pytest.mark.slow
def test_a_scenario_with_a_byte_order_mark_loads(tmp_path, capsys):
    config = tmp_path / "bom.toml"
    config.write_bytes(b"\xef\xbb\xbf" + NET_CONFIG.read_bytes())
    assert main(["validate", str(config)]) == 0


@pytest.mark.slow
def test_printing_to_a_full_stdout_says_what_was_written(tmp_path):
    out = tmp_path / "run.nc"
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "netsim.cli",
                "run",
                str(NET_CONFIG),
                "--draws",
                "50",
                "--out",
                str(out),
            ],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    assert done.returncode == 2
    assert "printing the results failed" in done.stderr and f"wrote {out}" in done.stderr


def test_histogram_ticks_of_five_digit_values_do_not_crowd(tmp_path, monkeypatch):
    import xarray as xr

    from netsim.present import plots

    seen = {}
    save = plots._save

    def capture(figure, output):
        seen["figure"] = figure
        figure.canvas.draw()
        return save(figure, output)

    monkeypatch.setattr(plots, "_save", capture)
    values = xr.DataArray(np.random.default_rng(2).normal(45_000, 3_000, 5000), dims="draw")
    plots.histogram(values, tmp_path / "h.png", "five digits")
    for axis in seen["figure"].axes:
        low, high = axis.get_xlim()
        labels = [
            t.get_text()
            for t in axis.get_xticklabels()
            if t.get_text() and low <= t.get_position()[0] <= high
        ]
        assert len(labels) <= 6 and all("," in text for text in labels), labels
