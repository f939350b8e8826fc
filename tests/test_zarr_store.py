"""The Zarr store (netsim.run.zarr_store), through the library: a damaged store is
refused with netsim's own error naming the store and the file inside it, by reading and by
resuming alike; a consolidated one is read as written. Through the command line, the
damaged stores of the corpus: tests/test_corpus.py; a store on a full disk or stopped by a
signal: tests/test_files.py; a killed run resumed: tests/test_scale.py."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import xarray as xr
import zarr

import netsim
from netsim.cli import main
from netsim.errors import RunFileError
from netsim.run.reading import open_run
from netsim.run.zarr_store import create_store, resume_store, write_missing_chunks

from .conftest import NET_CONFIG
from .corpus import chunk_as_folder, chunk_as_link_loop


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("store") / "run.zarr"
    argv = ["run", str(NET_CONFIG), "--draws", "400", "--chunk-size", "200", "--no-progress"]
    assert main([*argv, "--out", str(store)]) == 0
    return store


def _edited_units(store: Path) -> None:
    attrs = (store / "total" / ".zattrs").read_text()
    (store / "total" / ".zattrs").write_text(attrs.replace("USD million", "EUR million"))


def _fifo(key: str) -> Callable[[Path], None]:
    """A file of the store replaced by a FIFO: reading it would wait forever."""

    def damage(store: Path) -> None:
        (store / key).unlink()
        os.mkfifo(store / key)

    return damage


def _to_dev_zero(key: str) -> Callable[[Path], None]:
    """A file of the store replaced by a link to /dev/zero: reading it would never end."""

    def damage(store: Path) -> None:
        (store / key).unlink()
        (store / key).symlink_to("/dev/zero")

    return damage


def _digest_of_a_file_outside(store: Path) -> None:
    attrs = json.loads((store / ".zattrs").read_text())
    attrs["metadata_digests"]["../../../../../../../../dev/zero"] = "0" * 64
    (store / ".zattrs").write_text(json.dumps(attrs))


def _subgroup(store: Path) -> None:
    """A group inside the store (Zarr would list it, and read its files)."""
    (store / "subgroup").mkdir()
    (store / "subgroup" / ".zgroup").write_text('{"zarr_format": 2}')


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (chunk_as_folder, "chunk total/0.0.0 is damaged"),
        (chunk_as_link_loop, "chunk total/0.0.0 is damaged"),
        (_edited_units, "total/.zattrs is not the file written with the store"),
        (
            lambda s: (s / "total" / ".zarray").write_text('{"shape": [4'),
            "total/.zarray is damaged",
        ),
        (lambda s: (s / ".zattrs").write_text("[]"), ".zattrs is damaged"),
        (lambda s: (s / "draw" / ".zattrs").unlink(), "draw/.zattrs is missing"),
        (_fifo(".zattrs"), ".zattrs is not a file"),
        (_fifo("total/0.0.0"), "chunk total/0.0.0 is damaged"),
        (_to_dev_zero("total/.zarray"), "total/.zarray is not a file"),
        (_to_dev_zero("year/0"), "year/0 is not a file"),
        (_digest_of_a_file_outside, ".zattrs is damaged (its metadata_digests)"),
        (_subgroup, "subgroup is a group"),
    ],
    ids=[
        "chunk-folder",
        "chunk-link-loop",
        "units",
        "zarray-truncated",
        "zattrs-list",
        "no-zattrs",
        "zattrs-fifo",
        "chunk-fifo",
        "zarray-dev-zero",
        "coordinate-dev-zero",
        "digest-outside",
        "subgroup",
    ],
)
def test_open_run_refuses_a_damaged_store_with_its_own_error(tmp_path, small_store, damage, named):
    """Library callers get netsim's error (never IsADirectoryError, JSONDecodeError or
    TypeError) naming the store and the file in it; resuming refuses it the same way."""
    store = tmp_path / "run.zarr"
    shutil.copytree(small_store, store)
    damage(store)
    for read in (open_run, resume_store):
        with pytest.raises(RunFileError) as refused:
            read(store)
        assert type(refused.value) is RunFileError  # a damaged run's own kind
        assert str(refused.value).startswith(f"{store}: {named}"), str(refused.value)


def test_a_consolidated_store_completes_and_reads_as_written(tmp_path, small_store):
    """A .zmetadata agreeing with the files is no damage, also once the store completes
    (its root attrs then say complete, the consolidated ones do not)."""
    scenario = netsim.load_scenario(NET_CONFIG)
    store = tmp_path / "run.zarr"
    create_store(store, scenario, 400, 0, "mc", 200)
    zarr.consolidate_metadata(str(store), zarr_format=2)
    write_missing_chunks(store, scenario)
    read, written = open_run(store), open_run(small_store)
    xr.testing.assert_identical(read["total"].load(), written["total"].load())
    assert read.attrs["units"] == written.attrs["units"]


def test_the_store_holds_the_cubes_draws(run_kinds_opened):
    cube, store = run_kinds_opened["cube"], run_kinds_opened["zarr"]
    assert list(store.data_vars) != list(cube.data_vars)  # a store lists them in its own order
    for name in cube.data_vars:
        xr.testing.assert_identical(store[name].compute(), cube[name])
    assert netsim.OutputLayout.from_dataset(store) == netsim.OutputLayout.from_dataset(cube)
