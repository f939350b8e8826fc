"""The one output layout: what every run, analysis and table of a scenario looks like.

An :class:`OutputLayout` is built once from a scenario (:meth:`OutputLayout.of`) or
read back from a run file (:meth:`OutputLayout.from_dataset`). It owns the output
names (``total`` and one ``by_<axis>`` per segmentation axis), their dimensions and
shapes, the coordinates, the unit of the market, the provenance attrs of a run, and the
bytes one draw takes. Every producer (the base case, in-memory, reduced, Dask and Zarr
runs) labels its arrays here, and every consumer (bands, analyses, plots, the report,
the command line's tables) reads the names and units from here.

Sums of countries into regions or the world are one function, :func:`sum_countries`
(plain arrays) behind :func:`aggregate` (labelled data, in memory or Dask): float64
sums that keep NaN (a missing value is never counted as zero).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from netsim import __version__
from netsim.defaults import BY_CHOICES
from netsim.errors import ScenarioError
from netsim.kernels.regions import region_sum_kernel
from netsim.model.calibration import calibration_json, calibration_used
from netsim.model.outputs import (
    FUNNEL,
    MARKET_UNIT,
    OUTPUT_KINDS,
    PATIENT_PRODUCTS,
    PRODUCT_AXIS,
    PRODUCTS,
    TOP_DOWN,
    VALUE,
    OutputKind,
    kind_named,
    kind_of,
)
from netsim.model.products import dataset_products, product_attrs, product_fields
from netsim.scenario.documents import Sourced
from netsim.scenario.memo import per_scenario
from netsim.scenario.names import RESERVED_NAMES
from netsim.scenario.schema import Scenario
from netsim.xarray_setup import defer_dask_array_import

defer_dask_array_import()  # every run builds its Datasets here or after: see the module

__all__ = [
    "HEADLINE_QUANTILES",
    "RESERVED_NAMES",
    "Assumption",
    "HeadlineCell",
    "OutputLayout",
    "aggregate",
    "by_region",
    "coordinates",
    "global_total",
    "headline_draws",
    "sum_countries",
]

HEADLINE_QUANTILES = (0.05, 0.5, 0.95)  # the percentiles `netsim run` prints

# provenance attrs every run file carries (besides seed, sampler and draws)
PROVENANCE_ATTRS = (
    "scenario",
    "scenario_hash",
    "scenario_document",
    "calibration",
    "netsim_version",
    "units",
    "calibration_used",
)


@dataclass(frozen=True)
class HeadlineCell:
    """One table of a run summary: ``output`` summed ``by`` a level, one row per label
    of ``row_dim``, in every year (``year`` None) or one."""

    title: str
    output: str
    by: str
    row_dim: str
    year: int | None


@dataclass(frozen=True)
class Assumption(Sourced):
    """One sampled input as every table lists it (the report's inputs, the workbook's
    Assumptions sheet): from :meth:`OutputLayout.assumptions`, so that they cannot drift.

    Attributes
    ----------
    name : str
        The parameter (a column of ``inputs[draw, parameter]``).
    distribution : str
        Its distribution, described (``pert(low=0.6, mode=1.2, high=1.8)``).
    unit : str
        The unit of its draws (``pp``, ``years``, ``x``, ...).
    source : str
        Its source as written (``report: '...'`` or ``assumption: ...``).
    """

    name: str
    distribution: str
    unit: str
    source: str


@dataclass(frozen=True)
class OutputLayout:
    """Names, dims, shapes, coordinates, unit and provenance of a scenario's outputs.

    Attributes
    ----------
    years, countries, regions : tuple
        The labels of the ``year``, ``country`` and ``region`` dimensions.
    country_regions : tuple of str
        The region of each country (coordinate ``region`` on ``country``).
    axes, axis_labels, segments : tuple
        Each segmentation axis: its dimension name, its label, its segment labels.
    unit : str
        Unit of every output value (the scenario's ``market.unit``).
    parameters : tuple of str
        The sampled inputs, in ``inputs[draw, parameter]`` column order.
    parameter_units, parameter_distributions, parameter_sources : tuple of str
        One per parameter.
    provenance : mapping
        Attrs of every run: scenario name, hash and document, netsim version, units.
    stages, splits : tuple of str
        The patient funnel's stages (``cases`` first) and the axes it splits the treated
        patients over; empty for a scenario without a funnel.
    products, product_companies, companies : tuple of str
        The products, the company of each, and the companies in the order they first
        appear; empty for a scenario without products.
    product_axis : str
        The axis whose segments the products sell in (``""`` without products).
    patient_products : bool
        Whether the funnel splits its patients over that axis, so products have a
        patient-based view too.
    """

    years: tuple[int, ...]
    countries: tuple[str, ...]
    country_regions: tuple[str, ...]
    regions: tuple[str, ...]
    axes: tuple[str, ...]
    axis_labels: tuple[str, ...]
    segments: tuple[tuple[str, ...], ...]
    unit: str
    parameters: tuple[str, ...]
    parameter_units: tuple[str, ...]
    parameter_distributions: tuple[str, ...]
    parameter_sources: tuple[str, ...]
    provenance: Mapping[str, Any]
    stages: tuple[str, ...] = ()  # the patient funnel's stages (none without a funnel)
    splits: tuple[str, ...] = ()  # the axes the funnel splits treated patients over
    products: tuple[str, ...] = ()  # the products inside the market (none without them)
    product_companies: tuple[str, ...] = ()  # the company of each product
    companies: tuple[str, ...] = ()
    product_axis: str = ""
    patient_products: bool = False

    # --- construction -------------------------------------------------------------
    @classmethod
    def of(cls, scenario: Scenario) -> OutputLayout:
        """The layout of a scenario (built once per scenario object)."""
        return per_scenario(_LAYOUTS, scenario, cls._build)

    @classmethod
    def _build(cls, scenario: Scenario) -> OutputLayout:
        countries = scenario.countries
        funnel = scenario.funnel
        return cls(
            years=tuple(int(y) for y in scenario.years),
            countries=tuple(c.name for c in countries),
            country_regions=tuple(c.region for c in countries),
            regions=tuple(r.name for r in scenario.regions),
            axes=tuple(a.name for a in scenario.axes),
            axis_labels=tuple(a.label for a in scenario.axes),
            segments=tuple(a.segment_names for a in scenario.axes),
            unit=scenario.unit,
            parameters=scenario.parameter_names,
            parameter_units=tuple(p.unit for p in scenario.parameters),
            parameter_distributions=tuple(p.distribution.describe() for p in scenario.parameters),
            parameter_sources=tuple(p.source for p in scenario.parameters),
            provenance={
                "scenario": scenario.name,
                "scenario_hash": scenario.scenario_hash,
                "scenario_document": scenario.document_json,
                "calibration": ""
                if scenario.calibration is None
                else calibration_json(scenario.calibration),
                "netsim_version": __version__,
                "units": scenario.unit,
                "calibration_used": calibration_used(scenario),
            },
            stages=() if funnel is None else funnel.stages,
            splits=() if funnel is None else funnel.splits,
            **product_fields(scenario),
        )

    @classmethod
    def from_dataset(cls, dataset: xr.Dataset, label: str = "the data") -> OutputLayout:
        """The layout a run file was written with, read from its coordinates and attrs.

        Raises
        ------
        ScenarioError
            If ``dataset`` lacks what every netsim run has (``total``, ``year``,
            ``country`` and its regions).
        """
        if "total" not in dataset.data_vars or "year" not in dataset.coords:
            raise ScenarioError(f"{label} is not a netsim run (no 'total' output by year)")
        if "country_region" in dataset.coords:
            country_regions = dataset["country_region"].values
        elif "region" in dataset.coords and dataset["region"].dims == ("country",):
            country_regions = dataset["region"].values
        else:
            raise ScenarioError(f"{label} is not a netsim run (countries have no regions)")
        products = dataset_products(dataset)
        own = ("product", "company") if products else ()
        found = [a for a in _named_axes(dataset, f"{kind_named('by').name}_") if a not in own]
        splits = [
            a for a in _named_axes(dataset, f"{kind_named('patient_by').name}_") if a not in own
        ]
        stages = (
            tuple(str(s) for s in dataset["stage"].values)
            if "stage" in dataset.coords and "patient_total" in dataset.data_vars
            else ()
        )
        # the scenario's axis order and labels come from its document: a Zarr store lists
        # its variables in its own (alphabetical) order, so the variables cannot give them
        try:
            document = json.loads(str(dataset.attrs.get("scenario_document", "{}")))
        except ValueError:
            document = {}
        tables = document.get("axes") if isinstance(document, dict) else None
        declared = {
            str(name): str(table.get("label", name)) if isinstance(table, dict) else str(name)
            for name, table in (tables.items() if isinstance(tables, dict) else ())
        }
        order = list(declared)

        def in_order(names: list[str]) -> tuple[str, ...]:
            return tuple(
                sorted(names, key=lambda a: order.index(a) if a in declared else len(order))
            )

        axes = in_order(found)
        parameters = dataset["parameter"].values.tolist() if "parameter" in dataset.coords else []

        def table(name: str) -> tuple[str, ...]:
            if name in dataset:
                return tuple(str(v) for v in dataset[name].values)
            return ("",) * len(parameters)

        provenance = {k: dataset.attrs[k] for k in PROVENANCE_ATTRS if k in dataset.attrs}
        return cls(
            years=tuple(int(y) for y in dataset["year"].values),
            countries=tuple(str(c) for c in dataset["country"].values),
            country_regions=tuple(str(r) for r in country_regions),
            regions=tuple(dict.fromkeys(str(r) for r in country_regions)),
            axes=axes,
            axis_labels=tuple(declared.get(a, a) for a in axes),
            segments=tuple(tuple(str(s) for s in dataset[a].values) for a in axes),
            unit=str(dataset.attrs.get("units", dataset["total"].attrs.get("units", ""))),
            parameters=tuple(str(p) for p in parameters),
            parameter_units=table("parameter_unit"),
            parameter_distributions=table("parameter_distribution"),
            parameter_sources=table("parameter_source"),
            provenance=provenance,
            stages=stages,
            splits=in_order(splits) if stages else (),
            **products,
        )

    # --- names, dims and shapes (from the registry, netsim.model.outputs) --------------
    def _axes_by_kind(self) -> dict[str, tuple[str, ...]]:
        """The axes each per-axis kind has one output of."""
        return {"axes": self.axes, "splits": self.splits}

    def _has(self, model: str) -> bool:
        """Whether this layout's scenario computes the outputs of ``model``."""
        return {
            TOP_DOWN: True,
            PRODUCTS: bool(self.products),
            FUNNEL: bool(self.stages),
            PATIENT_PRODUCTS: self.patient_products,
            VALUE: bool(self.products),
        }[model]

    def outputs_of(self, *models: str) -> tuple[str, ...]:
        """The outputs of the registry's kinds of ``models`` (every model but the values
        when none is named), in declared order, those of models it computes."""
        wanted = models or (TOP_DOWN, PRODUCTS, FUNNEL, PATIENT_PRODUCTS)
        axes = self._axes_by_kind()
        names: list[str] = []
        for kind in OUTPUT_KINDS:
            if kind.model in wanted and self._has(kind.model):
                names += (
                    [kind.output(a) for a in axes[kind.per_axis]] if kind.per_axis else [kind.name]
                )
        return tuple(names)

    @functools.cached_property
    def outputs(self) -> tuple[str, ...]:
        """Every output: :attr:`market_outputs`, then :attr:`funnel_outputs` and the
        products' patient-based ones (:attr:`patient_product_outputs`)."""
        return self.outputs_of()

    @functools.cached_property
    def market_outputs(self) -> tuple[str, ...]:
        """The top-down model's outputs: :attr:`top_down_outputs`, then
        :attr:`product_outputs` (what a run without the funnel computes)."""
        return self.outputs_of(TOP_DOWN, PRODUCTS)

    @functools.cached_property
    def product_outputs(self) -> tuple[str, ...]:
        """With products: ``by_product``, ``by_company`` and ``other_products`` (what the
        named products leave of each segment of their axis); else none."""
        return self.outputs_of(PRODUCTS)

    @functools.cached_property
    def patient_product_outputs(self) -> tuple[str, ...]:
        """With products and a funnel split over their axis: ``treated_by_product``,
        ``patient_by_product`` and ``patient_by_company``; else none."""
        return self.outputs_of(PATIENT_PRODUCTS)

    @functools.cached_property
    def value_outputs(self) -> tuple[str, ...]:
        """With products: ``npv``, each product's net present value per draw (computed
        from a run's ``by_product`` and inputs: :mod:`netsim.analyze.npv`), worldwide."""
        return self.outputs_of(VALUE)

    @functools.cached_property
    def top_down_outputs(self) -> tuple[str, ...]:
        """``total``, then ``by_<axis>`` for each axis."""
        return self.outputs_of(TOP_DOWN)

    @functools.cached_property
    def funnel_outputs(self) -> tuple[str, ...]:
        """With a patient funnel: ``patients``, ``treated_by_<axis>`` for each split axis,
        ``patient_total`` and ``patient_by_<axis>``; else none."""
        return self.outputs_of(FUNNEL)

    def kind(self, output: str) -> tuple[OutputKind, str | None]:
        """The registry's kind of ``output`` and its axis (None for a single output)."""
        self.check(output, "global" if output in self.value_outputs else "country")
        return kind_of(output, self._axes_by_kind())

    def _own_dim(self, kind: OutputKind, axis: str | None) -> str | None:
        """The dimension an output of ``kind`` has after ``(year, place)``."""
        if axis is not None:
            return axis
        return self.product_axis if kind.extra_dim == PRODUCT_AXIS else kind.extra_dim

    def axis_of(self, output: str) -> str | None:
        """The axis an output splits by (None for ``total``, ``patients`` and
        ``patient_total``; ``product`` or ``company`` for the products' outputs)."""
        kind, axis = self.kind(output)
        own = self._own_dim(kind, axis)
        return own if axis is not None or kind.extra_is_axis else None

    def counterpart(self, output: str) -> str:
        """The top-down output a patient-based one is compared with (``patient_total``:
        ``total``; ``patient_by_<axis>``: ``by_<axis>``)."""
        try:
            kind, axis = kind_of(output, self._axes_by_kind())
        except KeyError:
            kind, axis = None, None
        if kind is None or kind.counterpart is None:
            raise ScenarioError(f"output {output!r} is not a patient-based value")
        return kind_named(kind.counterpart).output(axis)

    def segments_of(self, axis: str) -> tuple[str, ...]:
        return self.segments[self.axes.index(axis)]

    def check(self, output: str, by: str = "country") -> None:
        """Raise :class:`ScenarioError` unless ``output`` and ``by`` name an output."""
        if output not in self.outputs and output not in self.value_outputs:
            choices = (*self.outputs, *self.value_outputs)
            raise ScenarioError(f"output {output!r} is not one of {', '.join(choices)}")
        if by not in BY_CHOICES:
            raise ScenarioError(f"by={by!r} is not one of {', '.join(BY_CHOICES)}")
        if output in self.value_outputs and by != "global":
            raise ScenarioError(
                f"output {output!r} is a value per product worldwide: by must be 'global', "
                f"not {by!r}"
            )

    def dims(self, output: str, by: str = "country") -> tuple[str, ...]:
        """Dims of one draw of ``output`` summed ``by`` a level (no ``draw``)."""
        self.check(output, by)
        kind, axis = self.kind(output)
        own = self._own_dim(kind, axis)
        if kind.model == VALUE:
            return (own,)
        place = () if by == "global" else (by,)
        return ("year", *place, *(() if own is None else (own,)))

    def shape(self, output: str, by: str = "country") -> tuple[int, ...]:
        sizes = {"year": len(self.years), "country": len(self.countries)}
        sizes["region"] = len(self.regions)
        sizes["stage"] = len(self.stages)
        sizes["product"], sizes["company"] = len(self.products), len(self.companies)
        sizes.update({a: len(s) for a, s in zip(self.axes, self.segments, strict=True)})
        return tuple(sizes[d] for d in self.dims(output, by))

    @property
    def cells_per_draw(self) -> int:
        """Cells of one draw's cube: ``total`` and every ``by_<axis>``, by country."""
        return sum(int(np.prod(self.shape(o))) for o in self.outputs)

    @property
    def bytes_per_draw(self) -> int:
        """Bytes one draw adds to a run in memory: float32 cells, float64 inputs."""
        return 4 * self.cells_per_draw + 8 * len(self.parameters)

    @property
    def region_index(self) -> np.ndarray:
        """The region of each country, as an index into :attr:`regions` (int64)."""
        position = {r: i for i, r in enumerate(self.regions)}
        return np.array([position[r] for r in self.country_regions], dtype=np.int64)

    # --- labelling ------------------------------------------------------------------
    def coords(self) -> dict[str, Any]:
        """Coordinates of every output: year, country (with its region) and each axis."""
        coords: dict[str, Any] = {
            "year": ("year", np.asarray(self.years, dtype=np.int64)),
            "country": ("country", list(self.countries)),
            "region": ("country", list(self.country_regions)),
        }
        for axis, segments in zip(self.axes, self.segments, strict=True):
            coords[axis] = (axis, list(segments))
        if self.stages:
            coords["stage"] = ("stage", list(self.stages))
        if self.products:
            coords["product"] = ("product", list(self.products))
            coords["product_company"] = ("product", list(self.product_companies))
            coords["company"] = ("company", list(self.companies))
        return coords

    def output_attrs(self, output: str) -> dict[str, str]:
        """The ``units`` and ``long_name`` of an output (the registry's, with its axis)."""
        kind, axis = self.kind(output)
        if kind.model in (PRODUCTS, PATIENT_PRODUCTS, VALUE):
            return product_attrs(output, self.unit)
        unit = self.unit if kind.unit == MARKET_UNIT else kind.unit
        if axis is None:
            return {"units": unit, "long_name": kind.long_name}
        label = self.axis_labels[self.axes.index(axis)].lower()
        return {"units": unit, "long_name": f"{kind.long_name} by {label}"}

    def unit_of(self, output: str) -> str:
        """The unit of an output's values: the market's, or ``patients`` for counts."""
        return self.output_attrs(output)["units"]

    def allocate(
        self, draws: int, dtype: type = np.float32, names: tuple[str, ...] | None = None
    ) -> dict[str, np.ndarray]:
        """Empty output arrays of ``draws`` draws, by name (every output, or ``names``)."""
        return {
            o: np.empty((draws, *self.shape(o)), dtype=dtype)
            for o in (self.outputs if names is None else names)
        }

    def label(
        self,
        arrays: Mapping[str, Any],
        draw: np.ndarray | None = None,
        inputs: Any = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> xr.Dataset:
        """A run's Dataset from its arrays (numpy or Dask).

        Parameters
        ----------
        arrays : mapping
            Every output by name, each ``(draw, *dims)`` (or without ``draw`` when
            ``draw`` is None: the base case).
        draw : ndarray, optional
            The draw indices.
        inputs : array (draw, parameter), optional
            The sampled inputs; with them come each parameter's unit, distribution and
            source.
        attrs : mapping, optional
            Run attrs (seed, sampler, draws) added to the provenance.
        """
        lead = () if draw is None else ("draw",)
        variables: dict[str, Any] = {
            o: ((*lead, *self.dims(o)), arrays[o], self.output_attrs(o))
            for o in self.outputs
            if o in arrays or o in self.top_down_outputs  # the funnel's may be left out
        }
        coords = self.coords()
        if draw is not None:
            coords["draw"] = ("draw", np.asarray(draw, dtype=np.int64))
        if inputs is not None:
            variables.update(self.parameter_variables())
            variables["inputs"] = (
                ("draw", "parameter"),
                inputs,
                {"long_name": "sampled inputs, each in its parameter's unit"},
            )
            coords["parameter"] = ("parameter", list(self.parameters))
        return xr.Dataset(variables, coords=coords, attrs={**self.provenance, **(attrs or {})})

    def parameter_variables(self) -> dict[str, Any]:
        """The unit, distribution and source of every parameter (dim ``parameter``)."""
        return {
            "parameter_unit": ("parameter", list(self.parameter_units)),
            "parameter_distribution": ("parameter", list(self.parameter_distributions)),
            "parameter_source": ("parameter", list(self.parameter_sources)),
        }

    def assumptions(self) -> tuple[Assumption, ...]:
        """Every sampled input, in column order, with its distribution, unit and source:
        the one accessor the report's inputs table and the workbook's sheet read."""
        return tuple(
            Assumption(name, distribution, unit, source)
            for name, distribution, unit, source in zip(
                self.parameters,
                self.parameter_distributions,
                self.parameter_units,
                self.parameter_sources,
                strict=True,
            )
        )

    # --- aggregation and the run summary -----------------------------------------------
    def sum_arrays(
        self, arrays: Mapping[str, np.ndarray], output: str = "total", by: str = "region"
    ) -> np.ndarray:
        """One output of plain kernel arrays summed ``by`` a level, unlabelled: float64,
        ``(draw, year, <by>, ...)`` as :meth:`aggregate_arrays` labels it (for a caller in
        a loop: no xarray construction)."""
        self.check(output, by)
        values = arrays[output]
        if by == "country":
            return values.astype(np.float64)
        by_region, world = sum_countries(values, 2, self.region_index, len(self.regions))
        return by_region if by == "region" else world

    def aggregate_arrays(
        self, arrays: Mapping[str, np.ndarray], output: str = "total", by: str = "region"
    ) -> xr.DataArray:
        """One output of plain kernel arrays (``propagate(as_arrays=True)``), labelled and
        summed ``by`` a level (float64, with a ``draw`` dimension)."""
        self.check(output, by)
        dims = ("draw", *self.dims(output))
        data = xr.DataArray(
            arrays[output],
            dims=dims,
            coords={k: v for k, v in self.coords().items() if v[0] in dims},
            name=output,
            attrs=self.output_attrs(output),
        )
        return aggregate(data, by)

    def headline(self) -> tuple[HeadlineCell, ...]:
        """The tables ``netsim run`` prints: the global total in every year, and the
        final year by region and by the first axis."""
        final = self.years[-1]
        cells = [
            HeadlineCell("global total", "total", "global", "year", None),
            HeadlineCell(f"{final} by region", "total", "region", "region", final),
        ]
        if self.axes:
            axis = self.axes[0]
            cells.append(HeadlineCell(f"{final} by {axis}", f"by_{axis}", "global", axis, final))
        if self.stages:
            cells.append(
                HeadlineCell("patient-based global total", "patient_total", "global", "year", None)
            )
        return tuple(cells)


_LAYOUTS: dict[int, OutputLayout] = {}


def _named_axes(dataset: xr.Dataset, prefix: str) -> list[str]:
    """The axes of a run's ``<prefix><axis>`` variables (not a reduced run's sums or
    intervals)."""
    return [
        str(name)[len(prefix) :]
        for name in dataset.data_vars
        if str(name).startswith(prefix)
        and not str(name).endswith(("_region", "_global", "_interval"))
    ]


# --- the one region aggregation ---------------------------------------------------------


def sum_countries(
    values: np.ndarray,
    axis: int,
    region_of: np.ndarray,
    n_regions: int,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sum the countries (along ``axis``) of a plain array into regions and the world.

    Parameters
    ----------
    values : ndarray
        Any shape, countries along ``axis``; float32 or float64.
    axis : int
    region_of : ndarray of int64
        The region index of each country.
    n_regions : int
    out : (by_region, world), optional
        float64 arrays of the result's sizes to write into (a loop over chunks then
        allocates nothing).

    Returns
    -------
    by_region, world : ndarray, float64
        ``values`` with the country axis replaced by regions, and removed. NaN
        anywhere in a sum makes that sum NaN.
    """
    values = np.ascontiguousarray(values)
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    axis = axis % values.ndim
    lead = int(np.prod(values.shape[:axis]))
    trail = int(np.prod(values.shape[axis + 1 :]))
    cube = values.reshape(lead, 1, values.shape[axis], trail)
    if out is None:
        by_region, world = np.empty((lead, 1, n_regions, trail)), np.empty((lead, 1, trail))
    else:
        by_region = out[0].reshape(lead, 1, n_regions, trail)
        world = out[1].reshape(lead, 1, trail)
    region_sum_kernel(cube, region_of, by_region, world)
    shape = values.shape
    return (
        by_region.reshape((*shape[:axis], n_regions, *shape[axis + 1 :])),
        world.reshape((*shape[:axis], *shape[axis + 1 :])),
    )


def _region_order(data: xr.DataArray) -> tuple[list[str], np.ndarray]:
    if "region" not in data.coords or data["region"].dims != ("country",):
        raise ScenarioError("the data have no 'region' coordinate on 'country'")
    country_regions = [str(r) for r in data["region"].values]
    regions = list(dict.fromkeys(country_regions))
    position = {r: i for i, r in enumerate(regions)}
    return regions, np.array([position[r] for r in country_regions], dtype=np.int64)


def aggregate(data: xr.DataArray, by: str = "region") -> xr.DataArray:
    """Sum countries ``by`` region or globally (``country``: unchanged, as float64).

    Parameters
    ----------
    data : xarray.DataArray
        With a ``country`` dimension and its ``region`` coordinate; numpy or Dask.
    by : {"country", "region", "global"}

    Returns
    -------
    xarray.DataArray
        float64, the ``country`` dimension replaced by ``region`` (in the order the
        regions first appear) or removed; attrs kept. NaN is never skipped.
    """
    if by not in BY_CHOICES:
        raise ScenarioError(f"by={by!r} is not one of {', '.join(BY_CHOICES)}")
    if "country" not in data.dims:
        raise ScenarioError(f"the data have no 'country' dimension (dims: {data.dims})")
    if by == "country":
        return data.astype(np.float64)
    regions, region_of = _region_order(data)
    pick = 0 if by == "region" else 1
    if data.chunks is None:
        axis = data.dims.index("country")
        summed = sum_countries(data.values, axis, region_of, len(regions))[pick]
        dims = list(data.dims)
        if by == "region":
            dims[axis] = "region"
        else:
            dims.pop(axis)
    else:

        def blockwise(block: np.ndarray) -> np.ndarray:
            return sum_countries(block, -1, region_of, len(regions))[pick]

        sizes = {"output_sizes": {"region": len(regions)}} if by == "region" else {}
        result = xr.apply_ufunc(
            blockwise,
            data.chunk({"country": -1}),
            input_core_dims=[["country"]],
            output_core_dims=[["region"]] if by == "region" else [[]],
            dask="parallelized",
            output_dtypes=[np.float64],
            dask_gufunc_kwargs=sizes,
        )
        dims = [d for d in data.dims if d != "country"]
        if by == "region":
            dims.insert(data.dims.index("country"), "region")
        summed = result.transpose(*dims).data
    coords = {
        name: coord
        for name, coord in data.coords.items()
        if "country" not in coord.dims and name != "region"
    }
    if by == "region":
        coords["region"] = regions
    return xr.DataArray(summed, dims=dims, coords=coords, name=data.name, attrs=dict(data.attrs))


def global_total(data: xr.DataArray) -> xr.DataArray:
    """Sum over countries (float64; NaN stays NaN)."""
    return aggregate(data, "global")


def by_region(data: xr.DataArray) -> xr.DataArray:
    """Sum countries into their regions (float64, the scenario's region order)."""
    return aggregate(data, "region")


def headline_draws(dataset: xr.Dataset) -> dict[str, xr.DataArray]:
    """The draws of every headline table of a run (:meth:`OutputLayout.headline`):
    title -> DataArray ``(draw, <row dim>)``, float64."""
    if "draw" not in dataset.dims:
        raise ScenarioError("the headline tables need a run's draws (this data has none)")
    out = {}
    for cell in OutputLayout.from_dataset(dataset).headline():
        data = dataset[cell.output]
        if cell.year is not None:
            data = data.sel(year=cell.year, drop=True)
        out[cell.title] = aggregate(data, cell.by).transpose("draw", cell.row_dim)
    return out


def coordinates(scenario: Scenario) -> dict[str, Any]:
    """Coordinates of every output: year, country (with region) and each axis."""
    return OutputLayout.of(scenario).coords()
