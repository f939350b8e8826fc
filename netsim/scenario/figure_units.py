"""The unit of every figure of a scenario document, from its key path.

A scenario's figures are in fixed units (docs/config.md): sizes in the market's
``market.unit``, shares in percent, growth in percentage points a year, years as years,
probabilities in [0, 1], weights and multipliers without a unit of their own. Tables list
each figure with its unit from here, so that no figure is shown without one.

The units of the sampled inputs (``pp``, ``years``, ``x``, ``%``, ...) are the
parameters' own (:class:`netsim.scenario.schema.Parameter`); a figure of such an input's
table (``drivers.x.impact.mode``) gets the same unit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from netsim.defaults import DEFAULT_UNIT

__all__ = ["figure_unit"]

CAGR = "% a year"
PREMIUM = "pp a year"
YEAR = "year"
YEARS = "years"
PERCENT = "%"
TIMES = "x"  # a multiplier (of a base size, a rate, a price)
WEIGHT = "weight"  # a relative weight, without a unit
PP = "pp"
TILT = "pp per pp"  # pp of a segment's growth per pp of the impact
TRENDS = frozenset({"trend", "duration_trend", "price_trend", "doses_trend"})


def _get(document: Mapping[str, Any], *parts: str) -> Any:
    table: Any = document
    for part in parts:
        if not isinstance(table, Mapping):
            return None
        table = table.get(part)
    return table


def _growth_figure(rest: Sequence[str], market_unit: str, kind: str = "cagr") -> str:
    """A ``share`` / ``growth_premium`` / ``cagr_target`` table's figure (or a target's)."""
    if not rest:
        return ""
    head, last = rest[0], rest[-1]
    if head == "share":
        return PERCENT
    if head == "growth_premium":
        return PREMIUM
    if last in ("year", "start", "end"):
        return YEAR
    if kind == "size":
        return market_unit
    if last == "tolerance":
        return PP
    return CAGR


def _funnel_unit(parts: Sequence[str], document: Mapping[str, Any], market_unit: str) -> str:
    section = parts[1] if len(parts) > 1 else ""
    last = parts[-1]
    funnel = _get(document, "funnel")
    if TRENDS.intersection(parts[-2:]):  # a trend (a number, or its table's value)
        return CAGR
    if "by_region" in parts or "by_country" in parts:
        return TIMES
    if section == "population":
        return "persons"
    if section == "population_growth":
        return CAGR
    if section == "rate":
        if "duration" in parts:
            return YEARS
        if last == "per":
            return "persons"
        per = _get(funnel, "rate", "per")
        if not isinstance(per, int | float) or isinstance(per, bool):
            return "rate"
        a_year = " a year" if _get(funnel, "rate", "kind") == "incidence" else ""
        return f"per {per:,.0f}{a_year}"
    if section in ("stages", "split"):
        return PERCENT
    if section == "cost":
        price = _get(funnel, "cost", "price_unit")
        price = price if isinstance(price, str) and price else "price units"
        if "price_index" in parts:
            return TIMES
        if last == "per_market_unit" or "per_market_unit" in parts:
            return f"{price} per {market_unit}"
        if "doses_per_year" in parts:
            return "doses a year"
        if "price_per_dose" in parts:
            return f"{price} a dose"
        if "cost_per_year" in parts:
            return f"{price} a year"
        return ""
    if section == "plausible":
        return PERCENT if "treated_share" in parts else TIMES
    if section == "checks" and "solve" in parts and len(parts) > 2:
        factor = _get(funnel, "checks", parts[2], "solve", "factor")
        if factor == "duration":
            return YEARS
        if factor == "rate":
            return _funnel_unit(("funnel", "rate", "value"), document, market_unit)
        return PERCENT if isinstance(factor, str) else ""
    if section == "checks":
        return YEAR if last == "year" else "patients"
    return ""


def figure_unit(parts: Sequence[str], document: Mapping[str, Any]) -> str:
    """The unit of the figure at key path ``parts`` of ``document`` (``""`` for a key
    netsim does not know, which a loaded scenario cannot hold).

    >>> figure_unit(("market", "base_size", "value"), {"market": {"unit": "EUR billion"}})
    'EUR billion'
    >>> figure_unit(("regions", "Europe", "share", "value"), {})
    '%'
    """
    if not parts:
        return ""
    market = _get(document, "market")
    market = market if isinstance(market, Mapping) else {}
    market_unit = market.get("unit", DEFAULT_UNIT)  # the unit a file naming none has
    market_unit = market_unit if isinstance(market_unit, str) and market_unit else DEFAULT_UNIT
    top, last = parts[0], parts[-1]
    if top == "years":
        return YEAR
    if top == "market":
        section = parts[1] if len(parts) > 1 else ""
        if section == "base_size":
            return market_unit
        if section == "base_scale":
            return TIMES
        if section in ("baseline_growth", "first_year_step"):
            return PREMIUM
        if section == "targets" and len(parts) > 3:
            kind = _get(market, "targets", parts[2], "kind")
            return _growth_figure(parts[3:], market_unit, "size" if kind == "size" else "cagr")
        return ""
    if top == "regions" and len(parts) > 2:
        if parts[2] == "country_shares":
            return "% of the region"
        return _growth_figure(parts[2:], market_unit)
    if top == "countries" and len(parts) > 2:
        if parts[2] == "share":
            return "% of the market"
        return _growth_figure(parts[2:], market_unit)
    if top == "axes" and len(parts) > 4 and parts[2] == "segments":
        return _growth_figure(parts[4:], market_unit)
    if top == "timelines":
        return YEAR if last == "onset" else YEARS
    if top == "geographies":
        return YEAR if "shift_years" in parts else WEIGHT
    if top in ("drivers", "restraints", "events") and len(parts) > 2:
        what = parts[2]
        if what == "impact":
            return PP
        if what in ("delay", "duration"):
            return YEARS
        if what == "tilts":
            return TILT
        if what in ("funnel", "products"):
            return WEIGHT
        if what == "probability":
            return "probability"
        if what == "year":
            return "probability" if last == "weights" else YEAR
        return ""
    if top == "noise":
        return PP
    if top == "correlations":
        return "Spearman rho"
    if top == "limits" and len(parts) > 1:
        name = parts[1]
        if name == "max_years":
            return YEARS
        if name == "max_value":
            return market_unit
        return PREMIUM if name.startswith("solved_") or name == "growth_pp" else PP
    if top == "funnel":
        return _funnel_unit(parts, document, market_unit)
    if top in ("products", "valuation", "forecast_errors"):
        return _product_unit(parts, market_unit)
    return ""


def _product_unit(parts: Sequence[str], market_unit: str) -> str:
    """A figure of ``[products]``, ``[valuation]`` or ``[forecast_errors]``."""
    names = set(parts[2:] if parts[0] == "products" else parts[1:])  # not the product's id
    if parts[0] == "forecast_errors" or "price" in names or "forecast_error" in names:
        return TIMES  # multipliers: actual / forecast, price / the segment's average
    if names & {"share", "peak", "floor", "capture", "tax_rate", "margin"}:
        return PERCENT
    if names & {"trend", "discount_rate", "terminal_growth"}:
        return CAGR
    if names & {"cost", "launch_cost"}:
        return market_unit
    if "probability" in names:
        return "probability"
    if names & {"launch", "year", "years"} and "years_to_peak" not in names:
        return YEAR
    if names & {"launch_offsets", "offsets", "years_to_peak", "half_life"}:
        return YEARS
    if names & {"steepness", "exponent"}:
        return "x"
    if names & {"innovation", "imitation"}:
        return "a year"
    return ""
