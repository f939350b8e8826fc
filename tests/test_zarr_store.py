"""The Zarr run store (netsim.run.zarr_store): the format's own checksums and metadata,
netsim's bookkeeping beside the run's variables, stores it does not read refused in one
line; through the library, a damaged store refused with netsim's own error naming the
store and the file inside it, a consolidated one read as written. A store on a full disk or
stopped by a signal: tests/test_files.py; a killed run resumed: tests/test_scale.py.

The damages every command must refuse (metadata edited, chunks deleted, replaced or
flipped) are in the run-file corpus (tests/corpus.py); these are the store's own tests.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.cli import main
from netsim.errors import RunFileError
from netsim.run.reading import open_run
from netsim.run.zarr_store import create_store, write_missing_chunks

from .conftest import NET_CONFIG

DRAWS, CHUNK = 400, 200


@pytest.fixture(scope="module")
def store(tmp_path_factory, net) -> Path:
    """A finished store of the NET scenario: two chunks of draws."""
    path = tmp_path_factory.mktemp("store") / "run.zarr"
    create_store(path, net, DRAWS, 3, "mc", CHUNK)
    write_missing_chunks(path, net)
    return path


def _copy(store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run.zarr"
    shutil.copytree(store, copy)
    return copy


def test_plain_xarray_sees_only_the_run_s_variables(store):
    plain = xr.open_zarr(store, consolidated=False)
    run = netsim.open_run(store)
    assert set(plain.data_vars) == set(run.data_vars)
    assert {"total", "inputs", "parameter_source"} <= set(plain.data_vars)
    assert "metadata_digests" not in run.attrs  # netsim's bookkeeping, not the run's


def test_every_array_ends_its_codecs_with_the_format_s_checksum(store):
    import zarr
    from zarr.codecs import Crc32cCodec

    arrays = [
        array
        for _, array in zarr.open_group(store, mode="r").members(max_depth=None)
        if isinstance(array, zarr.Array)
    ]
    assert len(arrays) > 10
    for array in arrays:
        assert isinstance(array.metadata.codecs[-1], Crc32cCodec), array.path


def _flip(chunk: Path) -> None:
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0x01
    chunk.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(_flip, id="a-bit-flipped"),
        pytest.param(lambda chunk: chunk.write_bytes(chunk.read_bytes()[:-7]), id="cut-short"),
        pytest.param(lambda chunk: chunk.write_bytes(b""), id="emptied"),
    ],
)
def test_a_chunk_damaged_on_disk_is_refused_by_the_format_s_checksum(store, tmp_path, damage):
    """Zarr's crc32c finds it (before decompressing it); netsim says so in one line
    naming the store, the chunk and the array, and keeps Zarr's error as the cause."""
    path = _copy(store, tmp_path)
    damage(path / "total" / "1.0.0")
    run = netsim.open_run(path)
    with pytest.raises(RunFileError) as refused:
        run["total"].load()
    message = str(refused.value)
    assert message.startswith(f"{path}: chunk 1 of 'total' cannot be read, damaged"), message
    assert "\n" not in message
    assert "checksum" in str(refused.value.__cause__)
    np.testing.assert_array_equal(run["inputs"].values, netsim.open_run(store)["inputs"].values)


def _format_2_group(path: Path, attrs: dict) -> None:
    import zarr

    group = zarr.open_group(path, mode="w", zarr_format=2)
    group.attrs.update(attrs)
    group.create_array("total", shape=(4,), dtype="float32")


@pytest.mark.slow
def test_a_store_of_the_earlier_layout_is_refused_saying_so(tmp_path, capsys):
    """A format-2 store that netsim wrote (its checks among the data variables)."""
    path = tmp_path / "old.zarr"
    _format_2_group(path, {"netsim_version": "0.9.0", "scenario": "NET treatment market"})
    with pytest.raises(RunFileError) as refused:
        netsim.open_run(path)
    assert str(refused.value).startswith(f"{path}: a store of netsim 0.9.0's earlier layout")
    for argv in (["bands", str(path)], ["run", "--resume", str(path)]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "earlier layout" in err, err
        assert "netsim run CONFIG --out NEW.zarr" in err, err


@pytest.mark.parametrize(
    "zarr_format", [pytest.param(2, id="format-2"), pytest.param(3, id="format-3")]
)
def test_another_program_s_store_is_not_a_run(tmp_path, zarr_format):
    path = tmp_path / "foreign.zarr"
    xr.Dataset({"temperature": ("time", np.arange(4.0))}).to_zarr(
        path, zarr_format=zarr_format, consolidated=False
    )
    with pytest.raises(RunFileError) as refused:
        netsim.open_run(path)
    assert str(refused.value) == f"{path}: a Zarr store, not a netsim run (no netsim_version)"


# --- damaged Zarr stores, read through the library --------------------------------------


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("store") / "run.zarr"
    argv = ["run", str(NET_CONFIG), "--draws", "400", "--chunk-size", "200", "--no-progress"]
    assert main([*argv, "--out", str(store)]) == 0
    return store


def _first_chunk(store: Path, array: str = "total") -> Path:
    return next(p for p in sorted((store / array).iterdir()) if p.name != "zarr.json")


def _as_folder(store: Path) -> None:
    chunk = _first_chunk(store)
    chunk.unlink()
    chunk.mkdir()


def _as_link_loop(store: Path) -> None:
    chunk = _first_chunk(store)
    chunk.unlink()
    chunk.symlink_to(chunk.name)


def _edited_units(store: Path) -> None:
    metadata = (store / "total" / "zarr.json").read_text()
    (store / "total" / "zarr.json").write_text(metadata.replace("USD million", "EUR million"))


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
    import json

    metadata = json.loads((store / "zarr.json").read_text())
    metadata["attributes"]["metadata_digests"]["../../../../../../../../dev/zero"] = "0" * 64
    (store / "zarr.json").write_text(json.dumps(metadata))


def _subgroup(store: Path) -> None:
    """A group inside the store (Zarr would list it, and read its files)."""
    (store / "subgroup").mkdir()
    (store / "subgroup" / "zarr.json").write_text('{"zarr_format": 3, "node_type": "group"}')


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        pytest.param(_as_folder, "total/0.0.0 is damaged", id="chunk-folder"),
        pytest.param(_as_link_loop, "total/0.0.0 is damaged", id="chunk-link-loop"),
        pytest.param(_edited_units, "the metadata of total are not the ones written", id="units"),
        pytest.param(
            lambda s: (s / "total" / "zarr.json").write_text('{"shape": [4'),
            "total/zarr.json cannot be read by Zarr, damaged",
            id="array-metadata-truncated",
        ),
        pytest.param(
            lambda s: (s / "zarr.json").write_text("[]"),
            "zarr.json cannot be read by Zarr, damaged",
            id="group-metadata-list",
        ),
        pytest.param(
            lambda s: (s / "draw" / "zarr.json").unlink(),
            "draw is damaged (a folder without zarr.json",
            id="no-array-metadata",
        ),
        pytest.param(_fifo("zarr.json"), "zarr.json is damaged", id="group-metadata-fifo"),
        pytest.param(_fifo("total/0.0.0"), "total/0.0.0 is damaged", id="chunk-fifo"),
        pytest.param(
            _to_dev_zero("total/zarr.json"),
            "total/zarr.json is damaged",
            id="array-metadata-dev-zero",
        ),
        pytest.param(_to_dev_zero("year/0"), "year/0 is damaged", id="coordinate-dev-zero"),
        pytest.param(
            _digest_of_a_file_outside,
            "../../../../../../../../dev/zero is missing",
            id="digest-outside",
        ),
        pytest.param(_subgroup, "subgroup is not one of the arrays or groups", id="subgroup"),
    ],
)
def test_open_run_refuses_a_damaged_store_with_its_own_error(tmp_path, small_store, damage, named):
    """Library callers get netsim's error (never IsADirectoryError, JSONDecodeError or
    TypeError) naming the store and the file in it; resuming refuses it the same way."""
    from netsim.errors import RunFileError
    from netsim.run.zarr_store import resume_store

    store = tmp_path / "run.zarr"
    shutil.copytree(small_store, store)
    damage(store)
    for read in (open_run, resume_store):
        with pytest.raises(RunFileError) as refused:
            read(store)
        assert type(refused.value) is RunFileError  # a damaged run's own kind
        assert str(refused.value).startswith(f"{store}: {named}"), str(refused.value)


def test_a_consolidated_store_completes_and_reads_as_written(tmp_path, small_store):
    """Consolidated metadata agreeing with the files are no damage, also once the store completes
    (its root attrs then say complete, the consolidated ones do not)."""
    import zarr

    scenario = netsim.load_scenario(NET_CONFIG)
    store = tmp_path / "run.zarr"
    create_store(store, scenario, 400, 0, "mc", 200)
    with warnings.catch_warnings():  # consolidated metadata are not yet in format 3's spec
        warnings.simplefilter("ignore", zarr.errors.ZarrUserWarning)
        zarr.consolidate_metadata(str(store), zarr_format=3)
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
