"""The Zarr run store: the format's own checksums and metadata, netsim's bookkeeping beside
the run's variables, and stores it does not read refused in one line.

The damages every command must refuse (metadata edited, chunks deleted, replaced or
flipped) are in the run-file corpus (tests/corpus.py); these are the store's own tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.cli import main
from netsim.errors import RunFileError
from netsim.run.zarr_store import create_store, write_missing_chunks

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
