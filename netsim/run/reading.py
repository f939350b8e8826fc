"""Run files, read: the one reader (:func:`open_run`) of every run ``netsim run`` writes.

``netsim run`` writes three kinds of run: a NetCDF file of the cube (its draws), a
NetCDF file of a run reduced to bands, and a Zarr store of the cube. :func:`open_run`
opens each of them and refuses anything else in one line; :func:`run_kind` tells
them apart.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr

from netsim.errors import RunFileError, ScenarioError, damage_found_by_hdf5
from netsim.model.layout import OutputLayout
from netsim.run.conventions import from_cf
from netsim.run.planning import memory_budget
from netsim.run.recompute import is_record, recomputed_cube
from netsim.run.reduced import REDUCED_KIND
from netsim.run.writing import labels_digest

__all__ = ["DRAWS_KIND", "open_analysis", "open_run", "run_kind"]

DRAWS_KIND = "draws"  # a run holding its draws (NetCDF cube, Zarr store, in memory)


def _check_labels(dataset: xr.Dataset, path: Path) -> None:
    """Refuse a file whose labels differ from the digest stamped when it was written
    (a file stamped before the text variables were digested is checked without them:
    a digest of the newer kind never equals one of the earlier)."""
    stamped = dataset.attrs.get("labels_digest")
    if stamped is None or stamped == labels_digest(dataset):
        return
    if stamped != labels_digest(dataset, texts=False):
        raise RunFileError(
            f"{path}: its labels, settings or texts were edited or damaged (their digest differs)"
        )


def run_kind(dataset: xr.Dataset) -> str:
    """``"draws"`` for a run holding its draws, ``"bands"`` for one reduced to bands."""
    return REDUCED_KIND if dataset.attrs.get("reduce") == REDUCED_KIND else DRAWS_KIND


def open_run(path: str | Path) -> xr.Dataset:
    """Open any run ``netsim run`` writes: a NetCDF cube, a NetCDF of bands, a Zarr store.

    A NetCDF file small enough for memory is read whole (a damaged one fails here, not
    halfway through an analysis); a larger one, and a Zarr store, are opened lazily.

    Raises
    ------
    ScenarioError
        In one line, for a path that is missing, not a netsim run (a scenario file,
        text, an empty or truncated file, a NetCDF file from elsewhere, a folder), or an
        incomplete Zarr store (naming the command that finishes it).
    """
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: file not found")
    if path.is_dir():
        from netsim.run.zarr_store import is_store, open_store

        if not is_store(path):
            raise RunFileError(f"{path} is a folder, not a netsim run (nor a Zarr store)")
        dataset = open_store(path)
    elif not path.is_file():
        raise RunFileError(f"{path} is not a regular file")
    else:
        dataset = _open_netcdf(path)
        if is_record(dataset):  # the recipe and the answer: the cube is recomputed
            _check_labels(dataset, path)
            dataset = recomputed_cube(dataset, str(path))
    OutputLayout.from_dataset(dataset, str(path))
    if run_kind(dataset) == DRAWS_KIND and "draw" not in dataset["total"].dims:
        raise RunFileError(f"{path} is not a netsim run (its 'total' has no draws)")
    if run_kind(dataset) == REDUCED_KIND:
        lacking = [k for k in ("draws", "confidence") if k not in dataset.attrs]
        lacking += [k for k in ("quantile",) if k not in dataset.coords]
        lacking += [k for k in ("total_global", "total_global_interval") if k not in dataset]
        if lacking:
            raise RunFileError(
                f"{path} is not a complete netsim run reduced to bands (no {', '.join(lacking)})"
            )
        _check_reduced(dataset, path)
    _check_against_document(dataset, path)
    if "recomputed" not in dataset.attrs:  # a record's labels were checked as read
        _check_labels(dataset, path)
    return dataset


def _check_against_document(dataset: xr.Dataset, path: Path) -> None:
    """The run's labels are the ones of the scenario document it carries: years,
    countries with their regions, axes and segments, in order (an edited coordinate
    would put one year's or country's numbers under another's name)."""
    text = dataset.attrs.get("scenario_document")
    if text is None:
        return  # runs of earlier versions carry no document
    try:
        document = json.loads(str(text))
        years = list(range(int(document["years"]["base"]), int(document["years"]["final"]) + 1))
        countries, regions = [], []
        for region, table in document["regions"].items():
            for country in table["country_shares"]:
                if country != "source":
                    countries.append(country)
                    regions.append(region)
        axes = {a: [s for s in t["segments"]] for a, t in document.get("axes", {}).items()}
        products = document.get("products", {})
        companies = [str(t["company"]) for t in products.values()]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise RunFileError(f"{path}: its scenario document is damaged") from error
    layout = OutputLayout.from_dataset(dataset, str(path))
    found = {
        "years": (list(layout.years), years),
        "countries": (list(layout.countries), countries),
        "regions of the countries": (list(layout.country_regions), regions),
        "axes": (sorted(layout.axes), sorted(axes)),
    }
    found.update(
        {f"segments of {a}": (list(layout.segments_of(a)), axes.get(a)) for a in layout.axes}
    )
    found["products"] = (list(layout.products), list(products))
    found["products' companies"] = (list(layout.product_companies), companies)
    for what, (labels, expected) in found.items():
        if labels != expected:
            raise RunFileError(
                f"{path}: its {what} are not its scenario's (the file was edited or damaged)"
            )


def _check_reduced(dataset: xr.Dataset, path: Path) -> None:
    """A reduced run's settings and bands are possible: draws >= 1, a confidence in
    (0, 1), quantiles in [0, 1] and increasing, every band finite or NaN (a rank outside
    the histogram's range), non-negative and inside its own interval."""
    try:
        draws, confidence = int(dataset.attrs["draws"]), float(dataset.attrs["confidence"])
    except (TypeError, ValueError) as error:
        raise RunFileError(f"{path}: its draws or confidence are not numbers") from error
    q = np.asarray(dataset["quantile"].values, dtype=np.float64)
    if (
        draws < 1
        or not 0.0 < confidence < 1.0
        or not (np.all((q >= 0) & (q <= 1)) and np.all(np.diff(q) > 0))
    ):
        raise RunFileError(f"{path}: its draws, confidence or quantiles are impossible")
    for name in dataset.data_vars:
        if f"{name}_interval" not in dataset:
            continue
        value = np.asarray(dataset[name].values, dtype=np.float64)
        interval = dataset[f"{name}_interval"]
        low = np.asarray(interval.sel(bound="low").values, dtype=np.float64)
        high = np.asarray(interval.sel(bound="high").values, dtype=np.float64)
        known = ~np.isnan(value)
        with np.errstate(invalid="ignore"):
            bad = (
                np.isinf(value)
                | (value < 0)
                | (known & ~np.isnan(low) & (low > value))
                | (known & ~np.isnan(high) & (value > high))
            )
        if bad.any():
            raise RunFileError(f"{path}: its {name} bands are impossible (the file was edited)")


def open_analysis(path: str | Path, variable: str | tuple[str, ...], made_by: str) -> xr.Dataset:
    """Open a NetCDF file of an analysis result (e.g. Sobol indices) holding ``variable``
    (or every one of several).

    Raises
    ------
    ScenarioError
        In one line, for anything else, naming the command ``made_by`` that writes one.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(
            f"{path}: file not found" if not path.exists() else f"{path} is not a file"
        )
    # read whole whatever its size (indices of groups per cell, not draws): a damaged
    # chunk found later, by a command that also reads a run, was blamed on the run
    dataset = _open_netcdf(path, "a netsim result file", whole=True)
    for name in (variable,) if isinstance(variable, str) else variable:
        if name not in dataset:
            raise RunFileError(f"{path} holds no {name!r} (write one with {made_by})")
    _check_labels(dataset, path)
    return dataset


def _open_netcdf(path: Path, what: str = "a netsim run", whole: bool = False) -> xr.Dataset:
    """A NetCDF-4 file written by netsim, read whole when it fits the memory budget (or
    if ``whole``).

    ``what`` names the file wanted in the messages (e.g. "a netsim run")."""
    with path.open("rb") as handle:
        signature = handle.read(8)
    if signature != b"\x89HDF\r\n\x1a\n":
        if path.suffix.lower() == ".toml":
            raise RunFileError(
                f"{path} is a scenario file, not {what} (netsim run writes a run from it)"
            )
        kind = "an empty file" if not signature else "not a NetCDF-4 file"
        raise RunFileError(f"{path} is not {what} ({kind})")
    try:
        _read_root_attributes(path)
        dataset = xr.open_dataset(path, engine="h5netcdf")
    except Exception as error:  # h5py and h5netcdf raise many kinds for a damaged file
        raise RunFileError(
            f"{path} is not a readable NetCDF file, damaged or truncated ({_first_line(error)})"
        ) from error
    if "netsim_version" not in dataset.attrs:
        dataset.close()
        raise RunFileError(f"{path} is not {what} (a NetCDF file without netsim_version)")
    from_cf(dataset)  # the units UDUNITS does not define, back where netsim reads them
    if whole or path.stat().st_size <= memory_budget():
        try:
            dataset.load()
        except Exception as error:
            dataset.close()
            raise RunFileError(f"{path} is {damage_found_by_hdf5(error)}") from error
        dataset.close()
    return dataset


def _read_root_attributes(path: Path) -> None:
    """Read the file's own attributes through h5py, raising if they are damaged.

    h5netcdf reads one of them halfway through making its file object: when that
    fails the half-made object, collected later, prints a traceback of its own. Read
    here first, a damaged header fails before h5netcdf sees the file."""
    import h5py

    with h5py.File(path, "r") as handle:
        dict(handle.attrs)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
