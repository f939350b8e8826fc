"""A scenario's products as the kernels take them, and their place in the output layout.

:func:`product_arrays` builds the scenario-level :class:`ProductArrays` once per scenario
(each draw's own values come from :mod:`netsim.model.product_values`);
:func:`run_product_kernels` runs the kernels into a run's arrays after the market's own
kernels (:func:`netsim.model.propagate.propagate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from netsim.kernels.products import (
    KIND_GENERIC,
    KIND_LAUNCH,
    KIND_MARKET,
    ProductArrays,
    product_funnel_kernel,
    product_kernel,
)
from netsim.model.arrays import driver_geography, event_geography
from netsim.scenario.memo import per_scenario
from netsim.scenario.product_types import Product
from netsim.scenario.schema import Scenario

__all__ = [
    "dataset_products",
    "product_arrays",
    "product_attrs",
    "product_fields",
    "run_product_kernels",
]

_KINDS = {"market": KIND_MARKET, "launch": KIND_LAUNCH, "generic": KIND_GENERIC}

_NAMES = {
    "by_product": "market value by product",
    "by_company": "market value by company (its products summed)",
    "other_products": "market value of the products not named, by segment",
    "treated_by_product": "treated patients by product",
    "patient_by_product": "patient-based market value by product",
    "patient_by_company": "patient-based market value by company",
    "npv": "net present value by product, risk-adjusted on the draws",
}


def product_attrs(output: str, unit: str) -> dict[str, str]:
    """The ``units`` and ``long_name`` of a product output."""
    return {
        "units": "patients" if output == "treated_by_product" else unit,
        "long_name": _NAMES[output],
    }


def product_fields(scenario: Scenario) -> dict[str, Any]:
    """The output layout's product fields of a scenario (none without products)."""
    products = scenario.products
    if not products:
        return {}
    axis = products[0].axis
    funnel = scenario.funnel
    return {
        "products": tuple(p.id for p in products),
        "product_companies": tuple(p.company for p in products),
        "companies": scenario.companies,
        "product_axis": axis,
        "patient_products": funnel is not None and axis in funnel.splits,
    }


def dataset_products(dataset: xr.Dataset) -> dict[str, Any]:
    """The output layout's product fields of a run, from its coordinates (none when it
    has no ``product_company`` coordinate: a scenario without products)."""
    if "product_company" not in dataset.coords or "company" not in dataset.coords:
        return {}
    other = dataset.get("other_products")
    return {
        "products": tuple(str(p) for p in dataset["product"].values),
        "product_companies": tuple(str(c) for c in dataset["product_company"].values),
        "companies": tuple(str(c) for c in dataset["company"].values),
        "product_axis": "" if other is None else str(other.dims[-1]),
        "patient_products": "patient_by_product" in dataset.data_vars,
    }


_PRODUCT_ARRAYS: dict[int, ProductArrays] = {}


def product_arrays(scenario: Scenario) -> ProductArrays:
    """The products' kernel arrays (built once per scenario object)."""
    return per_scenario(_PRODUCT_ARRAYS, scenario, _build)


def _indices(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _offsets(product: Product, regions: tuple[str, ...], launch: bool) -> list[float]:
    if launch:
        offsets = product.launch_offsets
    else:
        loss = product.loss_of_exclusivity
        offsets = {} if loss is None else loss.offsets
    return [offsets.get(r, 0.0) for r in regions]


def _logistic(uptake: Any, at: float) -> float:
    """The logistic of an uptake at ``at`` (a fraction of its years to peak, from the
    middle): its value at launch (-0.5) and at the peak (0.5); 0 and 1 for another curve."""
    if uptake is None or uptake.curve != "logistic":
        return 0.5 + at
    return float(1.0 / (1.0 + np.exp(-uptake.steepness * at)))


def _first_alike(offsets: list[list[float]]) -> np.ndarray:
    """``(P, R)``: for each product and region, the first region with the same offset
    (the kernel computes a curve once for the regions that share it)."""
    return _indices([[row.index(offset) for offset in row] for row in offsets]).reshape(
        len(offsets), -1
    )


def _starts(groups: list[int], n_groups: int) -> np.ndarray:
    """``(n_groups + 1,)``: where each group's run starts in ``groups`` sorted."""
    return _indices([0, *np.cumsum(np.bincount(groups, minlength=n_groups)).tolist()])


def _build(scenario: Scenario) -> ProductArrays:
    products = scenario.products
    regions = tuple(r.name for r in scenario.regions)
    region_index = {name: i for i, name in enumerate(regions)}
    ids = [p.id for p in products]
    axis = next(a for a in scenario.axes if a.name == products[0].axis)
    placements = [
        (j, axis.segment_names.index(s)) for j, p in enumerate(products) for s in p.segments
    ]
    companies = scenario.companies
    ramp_onset, ramp_rate, ramp_norm, driver_geo = driver_geography(scenario)
    links = [
        (k, ids.index(name), weight)
        for k, driver in enumerate(scenario.drivers)
        for name, weight in driver.products.items()
    ]
    event_links = [
        (e, ids.index(name), weight)
        for e, event in enumerate(scenario.events)
        for name, weight in event.products.items()
    ]
    uptakes = [p.uptake for p in products]
    launch_offsets = [_offsets(p, regions, True) for p in products]
    loe_offsets = [_offsets(p, regions, False) for p in products]
    company_of = [companies.index(p.company) for p in products]
    return ProductArrays(
        kind=_indices([_KINDS[p.kind] for p in products]),
        curve=_indices([int(u is not None and u.curve == "bass") for u in uptakes]),
        steepness=np.array([0.0 if u is None else u.steepness for u in uptakes]),
        curve_low=np.array([_logistic(u, -0.5) for u in uptakes]),
        curve_scale=np.array([1.0 / (_logistic(u, 0.5) - _logistic(u, -0.5)) for u in uptakes]),
        innovation=np.array([1.0 if u is None else u.innovation or 1.0 for u in uptakes]),
        imitation=np.array([0.0 if u is None else u.imitation for u in uptakes]),
        has_loe=_indices([int(p.loss_of_exclusivity is not None) for p in products]),
        originator=_indices(
            [-1 if p.generic_of is None else ids.index(p.generic_of) for p in products]
        ),
        order=_indices(sorted(range(len(products)), key=lambda j: products[j].kind == "generic")),
        sells_in=np.array(
            [[float(not p.regions or r in p.regions) for r in regions] for p in products]
        ),
        launch_offset=np.array(launch_offsets),
        loe_offset=np.array(loe_offsets),
        launch_region=_first_alike(launch_offsets),
        loe_region=_first_alike(loe_offsets),
        placement_product=_indices([j for j, _ in placements]),
        placement_segment=_indices([s for _, s in placements]),
        placement_start=_starts([j for j, _ in placements], len(products)),
        company_of=_indices(company_of),
        company_products=_indices(sorted(range(len(products)), key=lambda j: company_of[j])),
        company_start=_starts(company_of, len(companies)),
        n_companies=_indices([len(companies)]),
        region_of=_indices([region_index[c.region] for c in scenario.countries]),
        years=np.asarray(scenario.years, dtype=np.float64),
        ramp_onset=ramp_onset,
        ramp_rate=ramp_rate,
        ramp_norm=ramp_norm,
        driver_geo=driver_geo,
        link_driver=_indices([k for k, _, _ in links]),
        link_product=_indices([j for _, j, _ in links]),
        link_weight=np.array([w for _, _, w in links], dtype=np.float64),
        event_geo=event_geography(scenario),
        event_link_event=_indices([e for e, _, _ in event_links]),
        event_link_product=_indices([j for _, j, _ in event_links]),
        event_link_weight=np.array([w for _, _, w in event_links], dtype=np.float64),
    )


def run_product_kernels(
    scenario: Scenario, draws: Any, out: Mapping[str, np.ndarray], rows: slice, funnel: bool
) -> None:
    """The products' outputs of rows ``rows``, after the market's kernels have written
    their segments' values there (the patient-based ones too, with ``funnel``)."""
    axis = scenario.products[0].axis
    arrays = product_arrays(scenario)
    product_kernel(
        arrays,
        draws,
        out[f"by_{axis}"][rows],
        out["by_product"][rows],
        out["by_company"][rows],
        out["other_products"][rows],
    )
    if not funnel or "patient_by_product" not in out:
        return
    product_funnel_kernel(
        arrays,
        draws,
        out[f"treated_by_{axis}"][rows],
        out[f"patient_by_{axis}"][rows],
        out["treated_by_product"][rows],
        out["patient_by_product"][rows],
        out["patient_by_company"][rows],
    )
