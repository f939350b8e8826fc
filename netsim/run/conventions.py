"""The CF conventions (CF-1.10) on every NetCDF file netsim writes, and back on reading.

A file says what it is to any reader of NetCDF, not only to netsim: ``Conventions``,
``title``, ``history``, ``source`` and ``references`` on the file; a ``long_name`` on
every coordinate (the calendar ``year`` as a plain integer with no ``units``, as CF
allows for a dimensionless label; ``quantile`` in units of ``1``).

A unit that UDUNITS does not define (a currency such as ``USD million``, counts of
``patients``, ``% per year``, ``pp``) cannot be a CF ``units`` attribute: CF reads a
variable without one as dimensionless, and the compliance checker refuses one it cannot
parse. Such a unit is written into the ``long_name`` (``market value (USD million)``),
where every reader sees it, and kept whole in ``netsim_units``; :func:`from_cf` puts it
back as ``units`` when netsim reads the file, so the rest of netsim sees the units it
wrote. Every variable gets a ``long_name`` (its name in words where it had none).
"""

from __future__ import annotations

from typing import Any

import xarray as xr

from netsim import __version__

__all__ = ["CF_VERSION", "from_cf", "to_cf"]

CF_VERSION = "CF-1.10"
UNITS_KEPT = ("1", "%")  # the units netsim writes that UDUNITS reads as they are
NETSIM_UNITS = "netsim_units"  # a unit UDUNITS does not define, kept for netsim's reader

COORDINATE_NAMES = {
    "year": "calendar year",
    "draw": "Monte Carlo draw (index)",
    "quantile": "quantile (probability of a value at or below it)",
    "country": "country",
    "region": "region",
    "country_region": "region of each country",
    "parameter": "sampled input",
    "driver": "driver, restraint or event",
    "bound": "end of the interval",
    "scenario": "scenario compared with the base",
    "stage": "stage of the patient funnel",
    "check": "stated figure the funnel is checked against",
}
COORDINATE_UNITS = {"quantile": "1", "draw": "1"}
VARIABLE_NAMES = {
    "first_order": "first-order Sobol index",
    "total_order": "total Sobol index",
    "first_order_interval": "interval of the first-order Sobol index",
    "total_order_interval": "interval of the total Sobol index",
    "variance": "variance of the output",
    "spearman": "Spearman rank correlation of input and output",
    "prcc": "partial rank correlation of input and output",
}
# a variable only one kind of result holds -> what the result is, for its title
RESULT_TITLES = {
    "first_order": "Sobol sensitivity indices",
    "swing": "tornado: the output with each input at its low and high value",
    "contribution": "attribution of the base case to each driver",
    "prob_greater": "paired comparison of scenarios",
    "ratio": "patient-based against top-down forecast",
}


def to_cf(dataset: xr.Dataset) -> xr.Dataset:
    """``dataset`` with the CF-1.10 attributes of a file (a shallow copy: the data are
    not copied).

    ``history`` names the netsim version and the settings that made the data (seed,
    sampler, draws), after any history the dataset had; it carries no clock time, so the
    same command writes the same bytes (a run is reproduced bit for bit, its file too).
    """
    result = dataset.copy(deep=False)
    for name, variable in result.variables.items():
        coordinate = name in result.coords
        variable.attrs = _variable_attrs(str(name), dict(variable.attrs), coordinate)
        if coordinate and variable.dtype.kind == "f":
            # a coordinate has no missing values: CF forbids the fill value xarray adds
            variable.encoding = {**variable.encoding, "_FillValue": None}
    stamp = f"netsim {__version__}: {_made(dataset)}"
    earlier = str(dataset.attrs.get("history", ""))
    result.attrs.update(
        {
            "Conventions": CF_VERSION,
            "title": _title(dataset),
            "history": f"{earlier}\n{stamp}" if earlier else stamp,
            "source": f"netsim {__version__}: Monte Carlo scenario simulation of a market "
            "forecast (numba kernel)",
            "references": _references(dataset),
        }
    )
    return result


def from_cf(dataset: xr.Dataset) -> xr.Dataset:
    """Undo :func:`to_cf`'s changes to the variables, in place: ``units`` back from
    ``netsim_units``, the ``long_name`` without the unit it carried, and the names and
    units it gave by default left out again, so that a file read back labels its data as
    the dataset written did. Returns ``dataset``."""
    for name, variable in dataset.variables.items():
        attrs = variable.attrs
        if NETSIM_UNITS in attrs:
            unit = str(attrs.pop(NETSIM_UNITS))
            long_name = str(attrs.get("long_name", ""))
            if long_name.endswith(f" ({unit})"):
                attrs["long_name"] = long_name[: -len(f" ({unit})")]
            attrs["units"] = unit
        coordinate = name in dataset.coords
        if attrs.get("long_name") == _default_name(str(name), coordinate):
            del attrs["long_name"]
        if coordinate and name in COORDINATE_UNITS and attrs.get("units") == COORDINATE_UNITS[name]:
            del attrs["units"]
    return dataset


def _default_name(name: str, coordinate: bool) -> str:
    """The ``long_name`` :func:`to_cf` gives a variable that has none."""
    names = COORDINATE_NAMES if coordinate else VARIABLE_NAMES
    return names.get(name, name.replace("_", " "))


def _variable_attrs(name: str, attrs: dict[str, Any], coordinate: bool) -> dict[str, Any]:
    """A variable's attrs with a ``long_name`` (every variable has one) and a ``units``
    UDUNITS reads, or the unit moved into the ``long_name`` and ``netsim_units``."""
    attrs.setdefault("long_name", _default_name(name, coordinate))
    if coordinate and name in COORDINATE_UNITS:
        attrs.setdefault("units", COORDINATE_UNITS[name])
    unit = attrs.get("units")
    if unit is None or str(unit) in UNITS_KEPT:
        return attrs
    attrs.pop("units")
    attrs[NETSIM_UNITS] = str(unit)
    attrs["long_name"] = f"{attrs['long_name']} ({unit})"
    return attrs


def _title(dataset: xr.Dataset) -> str:
    """What the file holds, in a reader's words."""
    scenario = str(dataset.attrs.get("scenario", "")).strip()
    draws = dataset.attrs.get("draws", dataset.sizes.get("draw"))
    counted = f", {int(draws):,} draws" if draws is not None else ""
    if "total" in dataset.data_vars and "draw" in dataset.dims:
        what = f"Monte Carlo market forecast{counted}"
    elif dataset.attrs.get("reduce"):
        what = f"percentile bands of a Monte Carlo market forecast{counted}"
    elif "total" in dataset.data_vars:
        what = "deterministic base case of a market forecast"
    elif "method" in dataset.attrs:
        what = f"{dataset.attrs['method']} sensitivity analysis{counted}"
    else:
        what = next(
            (f"{text}{counted}" for name, text in RESULT_TITLES.items() if name in dataset),
            "netsim result: " + ", ".join(str(n) for n in dataset.data_vars),
        )
    return f"{scenario}: {what}" if scenario else what


def _made(dataset: xr.Dataset) -> str:
    """How the data were made, from the settings a dataset records."""
    settings = [
        f"{key} {dataset.attrs[key]}"
        for key in ("seed", "sampler", "draws", "scenario_hash")
        if key in dataset.attrs
    ]
    return "written" + (f" ({', '.join(settings)})" if settings else "")


def _references(dataset: xr.Dataset) -> str:
    where = []
    if "scenario_document" in dataset.attrs:
        where.append("every figure of the scenario in the attribute scenario_document")
    if "parameter_source" in dataset.variables:
        where.append("every sampled input's in the variable parameter_source")
    if not where:
        return "netsim's documentation (README.md, docs/config.md)"
    return (
        "Sources, each a report's quoted figure or a stated assumption with its reason: "
        + "; ".join(where)
    )
