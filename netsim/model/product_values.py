"""Each draw's product values for the kernels (``DrawArrays.products``), from
``inputs[draw, parameter]``: shares as fractions, a launching product's peak widened by its
reference class's forecast error and scaled by its order of entry, approval as the product
of its phases' successes."""

from __future__ import annotations

import numpy as np

from netsim.kernels.products import (
    FIELD_APPROVED,
    FIELD_BASE,
    FIELD_FLOOR,
    FIELD_HALF_LIFE,
    FIELD_LAUNCH,
    FIELD_LOE,
    FIELD_PRICE,
    FIELD_TREND,
    FIELD_YEARS_TO_PEAK,
    PRODUCT_FIELDS,
)
from netsim.scenario.product_types import Product
from netsim.scenario.schema import Parameter, Scenario

__all__ = ["NO_LOSS_OF_EXCLUSIVITY", "approval", "product_values"]

NO_LOSS_OF_EXCLUSIVITY = 1e9  # the year of a loss that never comes (no inf in the kernel)


def _column(
    scenario: Scenario, inputs: np.ndarray, parameter: Parameter | None, default: float
) -> np.ndarray | float:
    if parameter is None:
        return default
    return inputs[:, scenario.parameter_index[parameter.name]]


def approval(scenario: Scenario, product: Product, inputs: np.ndarray) -> np.ndarray:
    """1 in each draw where every phase of ``product`` succeeds, else 0 (the product of
    the phases' columns: the probability of approval in a base case's row)."""
    approved = np.ones(inputs.shape[0])
    for phase in product.phases:
        approved = approved * inputs[:, scenario.parameter_index[phase.success.name]]
    return approved


def product_values(scenario: Scenario, inputs: np.ndarray) -> np.ndarray:
    """Each draw's product values for the kernels, ``(draw, product, field)`` (the
    ``FIELD_*`` of :mod:`netsim.kernels.products`), from ``inputs[draw, parameter]``."""
    products = scenario.products
    values = np.zeros((inputs.shape[0], len(products), PRODUCT_FIELDS))
    for j, product in enumerate(products):

        def column(parameter: Parameter | None, default: float) -> np.ndarray | float:
            return _column(scenario, inputs, parameter, default)

        values[:, j, FIELD_PRICE] = column(product.price, 1.0)
        values[:, j, FIELD_APPROVED] = approval(scenario, product, inputs)
        values[:, j, FIELD_TREND] = np.asarray(column(product.trend, 0.0)) / 100.0
        if product.kind == "market":
            values[:, j, FIELD_BASE] = column(product.share, 0.0) / 100.0
        elif product.kind == "generic":
            values[:, j, FIELD_BASE] = column(product.capture, 0.0) / 100.0
        else:
            peak = column(product.uptake.peak, 0.0) / 100.0
            values[:, j, FIELD_BASE] = peak * column(product.forecast_error, 1.0)
            values[:, j, FIELD_LAUNCH] = column(product.launch, 0.0)
            values[:, j, FIELD_YEARS_TO_PEAK] = column(product.uptake.years_to_peak, 1.0)
        loss = product.loss_of_exclusivity
        values[:, j, FIELD_LOE] = NO_LOSS_OF_EXCLUSIVITY if loss is None else column(loss.year, 0.0)
        values[:, j, FIELD_FLOOR] = 1.0 if loss is None else column(loss.floor, 0.0) / 100.0
        values[:, j, FIELD_HALF_LIFE] = 1.0 if loss is None else column(loss.half_life, 1.0)
    _order_of_entry(products, values)
    return values


def _order_of_entry(products: tuple[Product, ...], values: np.ndarray) -> None:
    """Scale each launching product's peak by ``rank ** -exponent`` of its group: the
    rank counts the group's products in market, and those approved (in a base case's
    row, by their probability) and launched before it in the draw (at the same time, those
    listed before it)."""
    for j, product in enumerate(products):
        entry = product.order_of_entry
        if entry is None or product.kind != "launch" or entry.exponent == 0.0:
            continue
        rank = np.ones(values.shape[0])
        launch = values[:, j, FIELD_LAUNCH]
        for i, other in enumerate(products):
            if i == j or other.order_of_entry is None or other.order_of_entry.group != entry.group:
                continue
            if other.kind == "market":
                rank += 1.0
            elif other.kind == "launch":
                earlier = values[:, i, FIELD_LAUNCH] < launch
                if i < j:
                    earlier |= values[:, i, FIELD_LAUNCH] == launch
                rank += values[:, i, FIELD_APPROVED] * earlier
        values[:, j, FIELD_BASE] *= np.exp(-entry.exponent * np.log(rank))
