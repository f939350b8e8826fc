"""Net present values of products, draw by draw.

A product's cash flow in year ``y`` is ``(revenue x margin - costs) x (1 - tax)``: its
revenue is its worldwide ``by_product`` (the market's unit), its costs those of the phases
its draw reaches (a phase's cost spread evenly over its years, paid in every draw that has
passed the phases before it) and its launch cost in the year of launch when every phase
succeeds. A draw that fails a phase has no revenue (the kernels give it no share) and bears
the costs of the phases it entered, nothing after: the probability of success acts on the
draws, not as a factor on an expected value. A negative cash flow earns the tax back (the
company's other profits absorb the loss). The cash flows are discounted to the base year,
``(1 + discount_rate)^-(y - base year)``; with ``terminal_growth`` the final year's
operating cash flow (``revenue x margin x (1 - tax)``, without that year's one-off phase
or launch costs) continues as a growing perpetuity, ``x (1 + g) / (r - g)``, discounted from
the final year. In a base case's row every phase's column holds its probability, so the same
formula gives the risk-adjusted (expected) value there.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from netsim.errors import ScenarioError
from netsim.model.layout import OutputLayout
from netsim.model.product_values import approval
from netsim.scenario.product_types import Product
from netsim.scenario.schema import Scenario

__all__ = ["npv_of_arrays", "product_costs", "product_npv", "worldwide_revenue"]


def worldwide_revenue(by_product: np.ndarray) -> np.ndarray:
    """``by_product (draw, year, country, product)`` summed over countries, float64."""
    return np.asarray(by_product, dtype=np.float64).sum(axis=2)


def _columns(scenario: Scenario, inputs: np.ndarray, names: list[str]) -> np.ndarray:
    index = scenario.parameter_index
    return inputs[:, [index[name] for name in names]]


def product_costs(scenario: Scenario, product: Product, inputs: np.ndarray) -> np.ndarray:
    """A product's costs in each year of each draw, ``(draw, year)`` in the market's unit:
    each phase's cost where its draw reached it, the launch cost where it was approved."""
    years = scenario.years
    costs = np.zeros((inputs.shape[0], len(years)))
    reached = np.ones(inputs.shape[0])
    for phase in product.phases:
        cost = _columns(scenario, inputs, [phase.cost.name])[:, 0] * reached
        for year in phase.years:
            costs[:, years.index(year)] += cost / len(phase.years)
        reached = reached * _columns(scenario, inputs, [phase.success.name])[:, 0]
    if product.launch_cost is not None:
        launch = np.floor(_columns(scenario, inputs, [product.launch.name])[:, 0])
        at = np.clip(launch - years[0], 0, None).astype(np.int64)
        inside = launch <= years[-1]
        amount = _columns(scenario, inputs, [product.launch_cost.name])[:, 0]
        paid = amount * approval(scenario, product, inputs) * inside
        np.add.at(costs, (np.arange(inputs.shape[0]), np.minimum(at, len(years) - 1)), paid)
    return costs


def product_npv(scenario: Scenario, revenue: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """Every product's net present value in each draw, ``(draw, product)`` in the market's
    unit, from its worldwide revenue ``(draw, year, product)`` and the draws' inputs
    ``(draw, parameter)``; NaN for a product without valuation inputs."""
    steps = np.asarray(scenario.years, dtype=np.float64) - scenario.years[0]
    out = np.full((inputs.shape[0], len(scenario.products)), np.nan)
    for j, product in enumerate(scenario.products):
        valuation = product.valuation
        if valuation is None:
            continue
        names = [valuation.discount_rate.name, valuation.tax_rate.name, valuation.margin.name]
        rate, tax, margin = (_columns(scenario, inputs, names) / 100.0).T
        operating = revenue[:, :, j] * margin[:, None] * (1.0 - tax)[:, None]
        costs = product_costs(scenario, product, inputs) * (1.0 - tax)[:, None]
        discount = (1.0 + rate)[:, None] ** -steps[None, :]
        value = ((operating - costs) * discount).sum(axis=1)
        if valuation.terminal_growth is not None:
            growth = _columns(scenario, inputs, [valuation.terminal_growth.name])[:, 0] / 100.0
            value += operating[:, -1] * (1.0 + growth) / (rate - growth) * discount[:, -1]
        out[:, j] = value
    return out


def npv_of_arrays(
    scenario: Scenario, arrays: Mapping[str, np.ndarray], inputs: np.ndarray
) -> xr.DataArray:
    """``npv (draw, product)`` of kernel arrays (``propagate(as_arrays=True)`` or
    ``run_kernel``) and the rows of inputs they were propagated from, labelled."""
    layout = OutputLayout.of(scenario)
    if not layout.products:
        raise ScenarioError(f"scenario {scenario.name!r} has no products to value")
    values = product_npv(scenario, worldwide_revenue(arrays["by_product"]), inputs)
    return xr.DataArray(
        values,
        dims=("draw", "product"),
        coords={"product": list(layout.products)},
        name="npv",
        attrs=layout.output_attrs("npv"),
    )
