"""Choosing what an analysis looks at: one output of a run, aggregated, and one cell of it.

An *output* is ``total`` or ``by_<axis>``; it is summed over countries ``by``
``country`` (no sum), ``region`` or ``global``. A *cell* picks one value of it,
e.g. ``{"year": 2031, "region": "Europe", "modality": "PRRT"}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from netsim.errors import ScenarioError
from netsim.model.layout import OutputLayout, aggregate
from netsim.run.planning import check_fits_in_memory
from netsim.run.reading import DRAWS_KIND, run_kind

__all__ = [
    "LABEL_DIMS",
    "cell_grid",
    "default_cell",
    "load_draws",
    "parse_cell",
    "require_draws",
    "run_base_case",
    "run_scenario",
    "select_cell",
    "select_output",
]

# dimensions of analysis results that are not cells of the forecast
LABEL_DIMS = ("parameter", "driver", "bound", "quantile", "draw", "scenario", "period")


def require_draws(dataset: xr.Dataset, analysis: str) -> None:
    """Refuse a run reduced to bands for an analysis that needs every draw."""
    if run_kind(dataset) != DRAWS_KIND:
        raise ScenarioError(
            f"{analysis} needs the run's draws, and this run was reduced to bands "
            "(run it again with a NetCDF or Zarr output of the cube)"
        )


def select_output(dataset: xr.Dataset, output: str = "total", by: str = "region") -> xr.DataArray:
    """One output of a run, summed over countries ``by`` region or globally.

    Parameters
    ----------
    dataset : xarray.Dataset
        A run holding its draws (in memory, a NetCDF cube or a Zarr store).
    output : str
        ``total`` or ``by_<axis>``.
    by : {"country", "region", "global"}

    Returns
    -------
    xarray.DataArray
        float64, in the run's unit, with the run's ``draw`` dimension (Dask-backed
        for a Zarr store: computed when used).
    """
    require_draws(dataset, f"selecting {output!r} draw by draw")
    layout = OutputLayout.from_dataset(dataset)
    layout.check(output, by)
    if output in layout.value_outputs:
        raise ScenarioError(
            f"{output!r} is not stored in a run: netsim value (netsim.analyze.value.value) "
            "computes it from the run's by_product and inputs"
        )
    data = dataset[output]
    if "draw" not in data.dims:
        raise ScenarioError(f"dataset's {output!r} has no 'draw' dimension: it is not a run")
    return aggregate(data, by)


def load_draws(data: xr.DataArray, what: str) -> xr.DataArray:
    """``data`` in memory (computing a Dask-backed selection), if it fits the budget.

    Raises
    ------
    ScenarioError
        If the data hold NaN: a run's values are never missing unless its file was
        damaged (a store's chunk lost, a value edited), and a missing value is never
        read as a number.
    """
    if data.chunks is not None:
        check_fits_in_memory(data.size * 8, what)
        data = data.compute()
    values = np.asarray(data.values, dtype=np.float64)
    if np.isnan(values).any():
        raise ScenarioError(f"{what} hold missing values (NaN): the run is damaged")
    if np.isinf(values).any() or (data.name != "inputs" and (values < 0).any()):
        raise ScenarioError(
            f"{what} hold impossible values (infinite or negative): the run is damaged"
        )
    return data


def parse_cell(items: Iterable[str]) -> dict[str, Any]:
    """``["year=2031", "region=Europe"]`` -> ``{"year": 2031, "region": "Europe"}``."""
    cell: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(f"cell {item!r} must look like dim=label (e.g. year=2031)")
        key, value = key.strip(), value.strip()
        if key in cell:
            raise ScenarioError(f"cell names {key!r} twice ({item!r})")
        cell[key] = int(value) if key == "year" and value.lstrip("-").isdigit() else value
    return cell


def select_cell(data: xr.DataArray | xr.Dataset, cell: Mapping[str, Any]) -> Any:
    """``data.sel(cell)`` with an error that names the dimension and the labels it has."""
    for dim, label in cell.items():
        if dim not in data.dims:
            raise ScenarioError(f"cell {dim}={label}: no dimension {dim!r} (dims: {data.dims})")
        labels = data[dim].values.tolist()
        if label not in labels:
            raise ScenarioError(f"cell {dim}={label}: not one of {labels}")
    return data.sel(dict(cell))


def default_cell(data: xr.DataArray | xr.Dataset, given: Mapping[str, Any]) -> dict[str, Any]:
    """The cell an analysis ranks: ``given``, with the final year where no year is given
    and the only label of any dimension that has one.

    Raises
    ------
    ScenarioError
        If a dimension with several labels is left unnamed (naming each, with an example).
    """
    cell = dict(given)
    select_cell(data, cell)  # unknown dims or labels fail here, by name
    if "year" in data.dims and "year" not in cell:
        cell = {"year": int(data["year"].values[-1]), **cell}
    for dim in data.dims:
        if dim not in cell and dim not in LABEL_DIMS and data.sizes[dim] == 1:
            cell[dim] = data[dim].values[0].item()
    missing = [d for d in data.dims if d not in cell and d not in LABEL_DIMS]
    if missing:
        raise ScenarioError(
            f"the cell must name {', '.join(missing)} (e.g. "
            + " ".join(f"{d}={data[d].values[0]}" for d in missing)
            + ")"
        )
    return cell


def cell_grid(layout: OutputLayout, output: str, by: str) -> xr.DataArray:
    """The cells of one output summed ``by`` a level, as zeros with their labels (no
    draws): what :func:`default_cell` needs to check a cell before anything is computed,
    so a cell left unnamed is refused at once rather than after a long analysis."""
    layout.check(output, by)
    dims = layout.dims(output, by)
    labels = {
        "year": list(layout.years),
        "country": list(layout.countries),
        "region": list(layout.regions),
        "stage": list(layout.stages),
        "product": list(layout.products),
        "company": list(layout.companies),
        **{axis: list(layout.segments_of(axis)) for axis in layout.axes},
    }
    return xr.DataArray(
        np.zeros(layout.shape(output, by)), dims=dims, coords={d: labels[d] for d in dims}
    )


def run_scenario(dataset: xr.Dataset) -> Any:
    """The scenario a run was made from, rebuilt from the scenario document and
    calibration the run file carries.

    Raises
    ------
    ScenarioError
        For a run that carries no scenario document (written by an early version).
    """
    from netsim.model.load import scenario_of_run

    attrs = dataset.attrs
    if "scenario_document" not in attrs or "calibration" not in attrs:
        raise ScenarioError("the run carries no scenario document to rebuild its scenario from")
    label = str(dataset.encoding.get("source", "the run"))
    return scenario_of_run(str(attrs["scenario_document"]), str(attrs["calibration"]), label)


def run_base_case(dataset: xr.Dataset, output: str = "total", by: str = "global") -> xr.DataArray:
    """The deterministic base case of the scenario a run was made from (the report's own
    forecast, which calibration reproduces), as one output summed ``by`` a level."""
    from netsim.model.propagate import deterministic

    return aggregate(deterministic(run_scenario(dataset))[output], by)
