"""Writing and reading runs: NetCDF files written atomically."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import xarray as xr

from netsim.errors import ScenarioError

__all__ = ["check_writable", "open_run", "write_netcdf"]


def check_writable(path: str | Path) -> Path:
    """Check that ``path`` can be written (its folder exists) before any work is done."""
    path = Path(path)
    if path.is_dir():
        raise ScenarioError(f"--out {path} is a directory; name a file")
    if not path.parent.exists():
        raise ScenarioError(f"--out {path}: folder {path.parent} does not exist")
    return path


def write_netcdf(dataset: xr.Dataset, path: str | Path) -> Path:
    """Write a Dataset to NetCDF-4 atomically.

    The file is written under a temporary name in the same folder and renamed
    into place when complete, so an interrupted write (exception, Ctrl-C, kill)
    never leaves a partial file at ``path``.

    Returns
    -------
    Path
        The written file.
    """
    path = check_writable(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        dataset.to_netcdf(temporary, engine="h5netcdf")
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return path


def open_run(path: str | Path) -> xr.Dataset:
    """Open a run written by :func:`write_netcdf` (lazily)."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: file not found")
    return xr.open_dataset(path, engine="h5netcdf")
