"""Run records: a run file that keeps the recipe and the answer, and gives the cube back.

netsim.run.record writes them, netsim.run.recompute reads them (through open_run).
"""

from __future__ import annotations

import subprocess
import sys

import h5py
import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.errors import RunFileError
from netsim.model.layout import OutputLayout, headline_draws
from netsim.run.recompute import BIT_FOR_BIT, WITHIN_TOLERANCE
from netsim.run.record import (
    CHECKSUM_CHUNK,
    kept_sums,
    record_headline_draws,
    record_of,
    record_run,
    sum_name,
)
from netsim.run.writing import write_netcdf
from netsim.stats.quantiles import bands

from .conftest import NET_CONFIG

DRAWS = CHECKSUM_CHUNK + 1_000  # several checksum chunks, the last short


@pytest.fixture(scope="module")
def record_file(net, tmp_path_factory):
    """A record of the NET scenario (with its funnel), written to NetCDF."""
    path = tmp_path_factory.mktemp("record") / "run.nc"
    write_netcdf(record_run(net, DRAWS, seed=5), path)
    return path


@pytest.fixture(scope="module")
def cube(net):
    return netsim.simulate(net, DRAWS, seed=5)


def test_a_record_opens_as_the_cube_bit_for_bit(record_file, cube):
    opened = netsim.open_run(record_file)
    assert opened.attrs["recomputed"] == BIT_FOR_BIT
    assert set(opened.data_vars) == set(cube.data_vars)
    for name in cube.data_vars:
        assert np.array_equal(opened[name].values, cube[name].values), name
    assert opened.attrs["draws"] == DRAWS and opened.attrs["seed"] == 5


def test_a_record_holds_the_tables_a_run_prints_exactly(net, record_file, cube):
    """The kept sums give the printed tables' draws, equal to the cube's sums."""
    record = xr.open_dataset(record_file, engine="h5netcdf")
    kept = record_headline_draws(record, OutputLayout.of(net))
    for title, draws in headline_draws(cube).items():
        assert np.array_equal(kept[title].values, draws.values), title
    record.close()


def test_plain_xarray_reads_the_bands_of_every_output(net, record_file, cube):
    """Without netsim: the bands of every output by region and worldwide, within the
    stated bin width of the exact percentiles of the cube (by country: the cube, which
    open_run recomputes)."""
    record = xr.open_dataset(record_file, engine="h5netcdf")
    layout = OutputLayout.of(net)
    for output in layout.outputs:
        for suffix in ("_region", "_global"):
            assert f"bands_{output}{suffix}" in record, output
        assert f"bands_{output}" not in record
    world = netsim.global_total(cube["total"])
    exact = bands(world, [0.05, 0.5, 0.95]).values
    stored = record["bands_total_global"].values
    width = float(record.attrs["max_relative_bin_width"])
    assert np.allclose(stored, exact, rtol=width, atol=0)
    record.close()


def _edit(path, name, change):
    """Change a variable of a NetCDF file in place, as another program would (HDF5
    recomputes the chunk's checksum, so only netsim's own checks can see it)."""
    with h5py.File(path, "r+") as handle:
        values = handle[name][...]
        handle[name][...] = change(values)


def test_another_cpu_s_last_bits_are_taken_within_tolerance(record_file, tmp_path, cube):
    """A checksum that differs while every total agrees (what another CPU or math library
    gives) opens, saying the tolerance held, not bit for bit."""
    copy = tmp_path / "other_cpu.nc"
    copy.write_bytes(record_file.read_bytes())
    _edit(copy, "output_checksum", lambda v: v + 1)
    opened = netsim.open_run(copy)
    assert opened.attrs["recomputed"] == WITHIN_TOLERANCE
    assert np.array_equal(opened["total"].values, cube["total"].values)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("total_global", id="global-totals"),
        pytest.param("total_region", id="regional-totals"),
        pytest.param("patient_total_global", id="patient-totals"),
    ],
)
def test_edited_totals_are_refused_as_a_damaged_run(record_file, tmp_path, name):
    copy = tmp_path / "edited.nc"
    copy.write_bytes(record_file.read_bytes())

    def nudge(values):
        values = values.copy()
        values.reshape(values.shape[0], -1)[DRAWS - 3, 0] *= 1.001  # one draw, 0.1 %
        return values

    _edit(copy, name, nudge)
    with pytest.raises(RunFileError, match=f"its {name} of draw {DRAWS - 3} is not what"):
        netsim.open_run(copy)


def test_edited_inputs_are_refused(record_file, tmp_path):
    copy = tmp_path / "inputs.nc"
    copy.write_bytes(record_file.read_bytes())
    _edit(copy, "inputs", lambda v: v * 1.01)
    with pytest.raises(RunFileError, match="its inputs of draws 0-2047 are not the ones its seed"):
        netsim.open_run(copy)


def test_a_recipe_copied_from_another_run_is_refused(net, record_file, tmp_path):
    """Inputs, totals and checksums copied together from a run of another seed agree with
    one another as the run's own do: only the seed tells them apart, and it is checked."""
    other = tmp_path / "seed_6.nc"
    write_netcdf(record_run(net, DRAWS, seed=6), other)
    copy = tmp_path / "spliced.nc"
    copy.write_bytes(record_file.read_bytes())
    recipe = [
        "inputs",
        "output_checksum",
        *(sum_name(o, by) for o, by in kept_sums(OutputLayout.of(net))),
    ]
    with h5py.File(other, "r") as source:
        for name in recipe:
            _edit(copy, name, lambda _, name=name: source[name][...])
    with pytest.raises(RunFileError, match="are not the ones its seed 5 and sampler mc give"):
        netsim.open_run(copy)


def test_a_damaged_run_file_is_its_own_kind_of_error_with_its_cause(record_file, tmp_path):
    """A truncated file: refused as a run file error (a ValueError), HDF5's error kept."""
    copy = tmp_path / "truncated.nc"
    copy.write_bytes(record_file.read_bytes()[:100_000])
    with pytest.raises(RunFileError, match="damaged or truncated") as caught:
        netsim.open_run(copy)
    assert isinstance(caught.value, ValueError) and caught.value.__cause__ is not None


def test_the_kept_sums_name_the_totals_and_the_printed_tables(net):
    kept = kept_sums(OutputLayout.of(net))
    assert ("total", "global") in kept and ("total", "region") in kept
    assert ("patient_total", "region") in kept
    assert ("by_modality", "global") in kept  # the printed table of the first axis
    assert sum_name("total", "region") == "total_region"


@pytest.mark.slow
def test_netsim_run_writes_a_record_a_tenth_of_the_cube_and_cube_on_request(tmp_path):
    """`make run`'s 20,000 draws: the record is at most 10 % of the in-memory cube; the
    same run with --cube writes the cube; both print the same tables."""
    net = netsim.load_scenario(NET_CONFIG)
    printed = {}
    for name, extra in (("record", []), ("cube", ["--cube"])):
        command = [sys.executable, "-m", "netsim.cli", "run", str(NET_CONFIG), "--draws"]
        command += ["20000", "--seed", "1", "--no-progress", "--out", str(tmp_path / f"{name}.nc")]
        done = subprocess.run(
            [*command, *extra],
            capture_output=True,
            text=True,
            check=True,
        )
        printed[name] = done.stdout.splitlines()[1:-1]
    assert printed["record"] == printed["cube"]
    cube_bytes = 20_000 * OutputLayout.of(net).bytes_per_draw
    assert (tmp_path / "record.nc").stat().st_size <= 0.10 * cube_bytes
    assert (tmp_path / "cube.nc").stat().st_size >= cube_bytes
    record, cube = netsim.open_run(tmp_path / "record.nc"), netsim.open_run(tmp_path / "cube.nc")
    assert np.array_equal(record["by_modality"].values, cube["by_modality"].values)


@pytest.mark.slow
def test_edited_totals_are_refused_in_one_line_by_every_verb(record_file, tmp_path):
    copy = tmp_path / "edited.nc"
    copy.write_bytes(record_file.read_bytes())
    _edit(copy, "total_global", lambda v: v * 1.01)
    done = subprocess.run(
        [sys.executable, "-m", "netsim.cli", "bands", str(copy)], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "its total_global of draw" in done.stderr


def test_the_record_of_a_cube_in_memory_is_the_streamed_record(net, cube):
    """A run gathered from a cluster, or run to a precision, is written as the record a
    local run streams: the same inputs, totals, checksums and bands."""
    streamed, made = record_run(net, DRAWS, seed=5), record_of(cube)
    for name in ("inputs", "total_global", "total_region", "output_checksum"):
        assert np.array_equal(made[name].values, streamed[name].values), name
    assert np.array_equal(
        made["bands_by_modality_region"].values, streamed["bands_by_modality_region"].values
    )
    assert made.attrs["seed"] == streamed.attrs["seed"] == 5


@pytest.mark.slow
def test_a_precision_run_writes_its_record(tmp_path, capsys):
    from netsim.cli import main

    out = tmp_path / "precise.nc"
    command = ["run", str(NET_CONFIG), "--draws", "2000"]
    assert main([*command, "--precision", "5%", "--no-progress", "--out", str(out)]) == 0
    capsys.readouterr()
    opened = netsim.open_run(out)
    assert opened.attrs["recomputed"] == BIT_FOR_BIT
    assert "precision_achieved" in opened.attrs
    assert opened["total"].sizes["draw"] == opened.attrs["draws"]
