"""Writing a run to NetCDF (netsim.run.writing): the file is the one xarray writes with
the same CF attributes, but for the digest of its labels netsim stamps; a write
interrupted halfway leaves no file. Every kind of file against hostile targets:
tests/test_files.py."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

import netsim
from netsim.run.conventions import to_cf
from netsim.run.writing import CHECKSUM_CHUNK_BYTES, chunk_rows, labels_digest


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch, net):
    ds = netsim.simulate(net, 50, seed=1)
    out = tmp_path / "run.nc"

    def explode(self, store, **kwargs):  # the in-memory writer, interrupted mid-file
        store.ds.attrs["half"] = "a file"
        raise KeyboardInterrupt

    monkeypatch.setattr(type(ds), "dump_to_store", explode)
    with pytest.raises(KeyboardInterrupt):
        netsim.write_netcdf(ds, out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("chunked", [False, True])
def test_written_file_is_what_xarray_writes(tmp_path, net, chunked):
    # in memory the Dataset goes through xarray's store directly (no Dask scheduler
    # lookup); Dask-backed data through to_netcdf; both give to_netcdf's file
    ds = netsim.simulate(net, 40, seed=2)
    if chunked:
        ds = ds.chunk({"draw": 16})
    netsim.write_netcdf(ds, tmp_path / "ours.nc")
    # with the same CF attributes (netsim.run.conventions)
    to_cf(ds).to_netcdf(tmp_path / "xarray.nc", engine="h5netcdf")
    with (
        netsim.open_run(tmp_path / "ours.nc") as ours,
        netsim.open_run(tmp_path / "xarray.nc") as theirs,
    ):
        # the same file, but for the digest of its labels that netsim stamps
        assert ours.attrs.pop("labels_digest") == labels_digest(theirs)
        xr.testing.assert_identical(ours.load(), theirs.load())
        for name in ours.variables:
            assert ours[name].encoding["dtype"] == theirs[name].encoding["dtype"]


@given(rows=st.integers(1, 10**7), row_bytes=st.integers(1, 2 * CHECKSUM_CHUNK_BYTES))
def test_chunks_fit_their_size_and_pad_less_than_a_row_each(rows, row_bytes):
    chunk = chunk_rows(rows, row_bytes)
    chunks = -(-rows // chunk)
    assert 1 <= chunk <= rows
    assert chunk * row_bytes <= CHECKSUM_CHUNK_BYTES or chunk == 1
    # as few chunks as the size allows, and the last one short by less than a row a chunk
    assert chunks == -(-rows // max(1, min(rows, CHECKSUM_CHUNK_BYTES // row_bytes)))
    assert chunks * chunk - rows < chunks


def test_a_written_variable_takes_its_own_bytes_not_a_padded_chunk(tmp_path):
    # 100,000 draws of 7 years in float64 (a per-draw total of a run record): chunks of
    # the largest size within the checksum's limit would leave 1.5 chunks' worth, half
    # of the file's data, as padding on disk
    draws = 100_000
    totals = xr.Dataset({"total_global": (("draw", "year"), np.ones((draws, 7)))})
    out = netsim.write_netcdf(totals, tmp_path / "totals.nc")
    with h5py.File(out, "r") as handle:
        stored = handle["total_global"].id.get_storage_size()
        assert handle["total_global"].fletcher32
    assert stored <= 1.001 * draws * 7 * 8
