"""Writing a run to NetCDF (netsim.run.writing): the file is the one xarray writes with
the same CF attributes, but for the digest of its labels netsim stamps; a write
interrupted halfway leaves no file. Every kind of file against hostile targets:
tests/test_files.py."""

from __future__ import annotations

import pytest
import xarray as xr

import netsim
from netsim.run.conventions import to_cf
from netsim.run.writing import labels_digest


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
