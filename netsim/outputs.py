"""Choosing what an analysis looks at: one output of the cube, aggregated and labelled.

An *output* is ``total`` or ``by_<axis>``; it is summed over countries ``by``
``country`` (no sum), ``region`` or ``global``. A *cell* picks one value of it,
e.g. ``{"year": 2031, "region": "Europe", "modality": "PRRT"}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from netsim.defaults import BY_CHOICES
from netsim.errors import ScenarioError
from netsim.scenario import Scenario

__all__ = ["BY_CHOICES", "aggregate", "check_output", "parse_cell", "select_cell", "select_output"]


def check_output(scenario: Scenario, output: str, by: str) -> None:
    """Raise :class:`ScenarioError` unless ``output`` and ``by`` name a valid output."""
    names = ["total"] + [f"by_{a.name}" for a in scenario.axes]
    if output not in names:
        raise ScenarioError(f"output {output!r} is not one of {', '.join(names)}")
    if by not in BY_CHOICES:
        raise ScenarioError(f"by {by!r} is not one of {', '.join(BY_CHOICES)}")


def _membership(scenario: Scenario) -> np.ndarray:
    """(C, R) 0/1 matrix: country c lies in region r."""
    regions = [r.name for r in scenario.regions]
    matrix = np.zeros((len(scenario.countries), len(regions)))
    for c, country in enumerate(scenario.countries):
        matrix[c, regions.index(country.region)] = 1.0
    return matrix


def aggregate(
    arrays: Mapping[str, np.ndarray], scenario: Scenario, output: str = "total", by: str = "region"
) -> xr.DataArray:
    """Label and aggregate one output of plain kernel arrays (``propagate(as_arrays=True)``).

    Parameters
    ----------
    arrays : mapping of str to ndarray
        ``total (draw, year, country)`` and ``by_<axis> (draw, year, country, segment)``.
    scenario : Scenario
    output : str
        ``total`` or ``by_<axis>``.
    by : {"country", "region", "global"}

    Returns
    -------
    xarray.DataArray
        float64, dims ``(draw, year, <by>[, <axis>])`` (``global`` drops the
        country dimension), USD million.
    """
    check_output(scenario, output, by)
    values = np.asarray(arrays[output], dtype=np.float64)
    dims: list[str] = ["draw", "year", "country"]
    coords: dict[str, Any] = {"year": np.asarray(scenario.years, dtype=np.int64)}
    if by == "country":
        coords["country"] = [c.name for c in scenario.countries]
        coords["region"] = ("country", [c.region for c in scenario.countries])
    elif by == "region":
        values = np.moveaxis(np.tensordot(values, _membership(scenario), axes=([2], [0])), -1, 2)
        dims[2] = "region"
        coords["region"] = [r.name for r in scenario.regions]
    else:
        values = values.sum(axis=2)
        dims.pop()
    if output != "total":
        axis = next(a for a in scenario.axes if f"by_{a.name}" == output)
        dims.append(axis.name)
        coords[axis.name] = list(axis.segment_names)
    return xr.DataArray(
        values, dims=dims, coords=coords, name=output, attrs={"units": "USD million"}
    )


def select_output(dataset: xr.Dataset, output: str = "total", by: str = "region") -> xr.DataArray:
    """One output of a run's Dataset, summed over countries ``by`` region or globally.

    Returns
    -------
    xarray.DataArray
        float64, USD million, with the run's ``draw`` dimension.
    """
    if output not in dataset:
        names = [n for n in dataset.data_vars if n == "total" or n.startswith("by_")]
        raise ScenarioError(f"output {output!r} is not in the run (it has {', '.join(names)})")
    if by not in BY_CHOICES:
        raise ScenarioError(f"by {by!r} is not one of {', '.join(BY_CHOICES)}")
    data = dataset[output].astype(np.float64)
    if by == "global":
        return data.sum("country", keep_attrs=True)
    if by == "region":
        order = list(dict.fromkeys(dataset["region"].values.tolist()))
        return data.groupby("region").sum(keep_attrs=True).sel(region=order)
    return data


def parse_cell(items: Iterable[str]) -> dict[str, Any]:
    """``["year=2031", "region=Europe"]`` -> ``{"year": 2031, "region": "Europe"}``."""
    cell: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(f"--at {item!r} must look like dim=label (e.g. year=2031)")
        key, value = key.strip(), value.strip()
        cell[key] = int(value) if key == "year" and value.lstrip("-").isdigit() else value
    return cell


def select_cell(data: xr.DataArray | xr.Dataset, cell: Mapping[str, Any]) -> Any:
    """``data.sel(cell)`` with an error that names the dimension and the labels it has."""
    for dim, label in cell.items():
        if dim not in data.dims:
            raise ScenarioError(f"--at {dim}={label}: no dimension {dim!r} (dims: {data.dims})")
        labels = data[dim].values.tolist()
        if label not in labels:
            raise ScenarioError(f"--at {dim}={label}: not one of {labels}")
    return data.sel(dict(cell))
