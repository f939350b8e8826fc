"""Reconciling the two views of each product, draw by draw: its share of the top-down
segment (``by_product``) against its treated patients times its price in the patient
funnel (``patient_by_product``), worldwide.

Both views split a segment by the same shares on the same draws, so a product's ratio
patient-based / top-down is its segment's; what the product view adds is the gap in the
market's unit, its treated patients, and the revenue per treated patient-year each view
implies (the top-down one is the price at which the funnel would agree). A draw in which
the product does not sell (not launched, or failed) has no ratio: the ratio's bands are
over the draws where it sells, and say how many those are.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import xarray as xr

from netsim.defaults import DEFAULT_CHUNK
from netsim.errors import ArgumentValueError, ScenarioError
from netsim.model.layout import HEADLINE_QUANTILES, OutputLayout
from netsim.model.propagate import propagate
from netsim.sampling.inputs import sample_inputs
from netsim.sampling.uniforms import check_request
from netsim.scenario.schema import Scenario
from netsim.stats.intervals import coverage_attrs
from netsim.stats.proportions import PROPORTION_INTERVAL, proportion_interval

__all__ = ["PRODUCT_LEVELS", "reconcile_products"]

PRODUCT_LEVELS = ("product", "company")  # reconcile --by product | company


def _views(scenario: Scenario, by: str) -> tuple[str, str, str]:
    layout = OutputLayout.of(scenario)
    if not layout.products:
        raise ScenarioError(f"scenario {scenario.name!r} has no products to reconcile")
    if not layout.patient_products:
        raise ScenarioError(
            f"by={by!r}: the funnel does not split its patients over the products' axis "
            f"({layout.product_axis}), so products have no patient-based view"
        )
    return f"by_{by}", f"patient_by_{by}", "treated_by_product"


def _draws(
    scenario: Scenario, draws: int, seed: int, sampler: str, by: str, chunk_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Worldwide top-down and patient-based values ``(draw, year, cell)`` and treated
    patients ``(draw, year, product)``, chunk by chunk."""
    top_name, patient_name, treated_name = _views(scenario, by)
    layout = OutputLayout.of(scenario)
    cells = len(layout.products if by == "product" else layout.companies)
    shape = (draws, len(layout.years))
    top, patient = np.empty((*shape, cells)), np.empty((*shape, cells))
    treated = np.empty((*shape, len(layout.products)))
    buffers = None
    for start in range(0, draws, chunk_size):
        stop = min(start + chunk_size, draws)
        if buffers is not None and stop - start != buffers["total"].shape[0]:
            buffers = None
        rows = sample_inputs(scenario, draws, seed, sampler, start, stop)
        buffers = propagate(  # sampled from the scenario: within every rule
            scenario, rows, as_arrays=True, out=buffers, check=False, dtype=np.float64
        )
        top[start:stop] = buffers[top_name].sum(axis=2)
        patient[start:stop] = buffers[patient_name].sum(axis=2)
        treated[start:stop] = buffers[treated_name].sum(axis=2)
    return top, patient, treated


def reconcile_products(
    scenario: Scenario,
    draws: int = 20_000,
    seed: int = 0,
    sampler: str = "mc",
    by: str = "product",
    q: Sequence[float] = HEADLINE_QUANTILES,
    confidence: float = 0.95,
    chunk_size: int = DEFAULT_CHUNK,
) -> xr.Dataset:
    """Each product's (or company's) top-down and patient-based value, worldwide.

    Returns
    -------
    xarray.Dataset
        Over ``year`` and ``product`` (or ``company``): ``top_down``, ``patient_based``
        and ``gap`` (quantile, ...) in the market's unit; ``ratio`` (quantile, ...) over
        the draws where it sells, with ``selling_draws``; ``prob_patient_above`` and its
        interval over all draws; for products, ``treated_patients`` (quantile, ...) and
        the revenue per treated patient-year of each view (``revenue_per_patient_*``,
        in the funnel's price unit, the medians over the selling draws).
    """
    if by not in PRODUCT_LEVELS:
        raise ArgumentValueError(
            f"by={by!r} is not one of {', '.join(PRODUCT_LEVELS)}", argument="by"
        )
    check_request(draws, seed, sampler, 0, 0)
    top, patient, treated = _draws(scenario, int(draws), seed, sampler, by, chunk_size)
    layout = OutputLayout.of(scenario)
    dims = ("year", by)
    labels = layout.products if by == "product" else layout.companies
    coords = {"year": list(layout.years), by: list(labels), "quantile": list(q)}
    selling = top > 0

    def bands(values: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        if where is None:
            return np.quantile(values, q, axis=0)
        masked = np.where(where, values, np.nan)
        with warnings.catch_warnings():  # a cell with no selling draw: NaN, as it should be
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanquantile(masked, q, axis=0)

    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = patient / top
    above = ((patient > top) & selling).sum(axis=0)
    counts = selling.sum(axis=0)
    low, high = proportion_interval(above, int(draws), confidence)
    unit = scenario.unit
    result = xr.Dataset(
        {
            "top_down": (("quantile", *dims), bands(top), {"units": unit}),
            "patient_based": (("quantile", *dims), bands(patient), {"units": unit}),
            "gap": (("quantile", *dims), bands(patient - top), {"units": unit}),
            "ratio": (("quantile", *dims), bands(ratio, selling), {"units": "1"}),
            "selling_draws": (dims, counts),
            "prob_patient_above": (dims, above / int(draws)),
        },
        coords=coords,
        attrs={
            "by": by,
            "draws": int(draws),
            "seed": int(seed),
            "units": unit,
            **coverage_attrs(sampler),
        },
    )
    if by == "product":
        funnel = scenario.funnel
        per_unit = funnel.per_market_unit
        with np.errstate(divide="ignore", invalid="ignore"):
            top_price = top / treated * per_unit
            patient_price = patient / treated * per_unit
        result["treated_patients"] = (("quantile", *dims), bands(treated), {"units": "patients"})
        for name, price in (("top_down", top_price), ("patient_based", patient_price)):
            result[f"revenue_per_patient_{name}"] = (
                dims,
                bands(price, selling & (treated > 0))[len(q) // 2],
                {"units": f"{funnel.price_unit} a patient-year"},
            )
    result["prob_patient_above_interval"] = (("bound", *dims), np.stack([low, high]))
    result["prob_patient_above_interval"].attrs["method"] = (
        f"{PROPORTION_INTERVAL}; over all draws (one that does not sell is not above)"
    )
    return result.assign_coords(bound=["low", "high"])
