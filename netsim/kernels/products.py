"""The products kernels: every draw's products inside their segments.

They read the segment values the top-down kernel (or the patient funnel's) wrote, and the
per-draw arrays both models read (:class:`~netsim.kernels.propagate.DrawArrays`: the
drivers' impacts and delays, the events' severities and activity, and each product's own
values in ``products``), so a product's draw sees the same inputs as its market's.

For each draw, region and year every product's share of its segments' patients is

* in market: ``share x (1 + trend)^t`` (the base year's share, ``t`` years on);
* launching: ``approved x peak x curve(x)``, ``x`` the years from launch to the year's
  end, ``curve`` the logistic or Bass curve from 0 at launch to 1 at the years to peak;
* a generic: ``capture x`` the originator's share it lost to erosion;

times its drivers' and events' effect (a driver adds ``weight x impact x ramp x geo`` to
the share's yearly growth, as it does to a funnel factor; an event multiplies it by
``1 + weight x severity x geo`` while active), times the part its loss of exclusivity
leaves it, ``floor + (1 - floor) 2^(-x / half_life)`` for ``x`` years from the loss to the
year's end (for a product in market, relative to the part left in the base year, since its
base-year share is observed after it). Within each segment the named products' shares are
scaled down together when they would pass 1, and the patients no named product holds are
"other products". A product's share of the segment's value is its patients' share times its
price, over the segment's average price (the other products' patients at price 1): so the
products and other products sum to the segment exactly.

The curves use ``exp``: on one machine the outputs are the same bit for bit whatever the
chunking or threads; another maths library may change their last bits.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba import prange

from netsim.kernels.links import add_driver_links, apply_event_links, driver_ramps
from netsim.kernels.options import JIT_OPTIONS

__all__ = [
    "FIELD_APPROVED",
    "FIELD_BASE",
    "FIELD_FLOOR",
    "FIELD_HALF_LIFE",
    "FIELD_LAUNCH",
    "FIELD_LOE",
    "FIELD_PRICE",
    "FIELD_TREND",
    "FIELD_YEARS_TO_PEAK",
    "KIND_GENERIC",
    "KIND_LAUNCH",
    "KIND_MARKET",
    "PRODUCT_FIELDS",
    "ProductArrays",
    "product_funnel_kernel",
    "product_kernel",
    "product_shares_kernel",
]

DRAWS_PER_TASK = 64  # draws handled by one parallel task, sharing its scratch arrays

KIND_MARKET, KIND_LAUNCH, KIND_GENERIC = 0, 1, 2
CURVE_LOGISTIC, CURVE_BASS = 0, 1
# the per-draw values of each product, DrawArrays.products[draw, product, field]
FIELD_BASE = 0  # in market: base-year share; launching: peak share; generic: capture (fractions)
FIELD_TREND = 1  # fraction a year
FIELD_APPROVED = 2  # 1 when every phase succeeds (0 or 1 in a draw; the probability in a base case)
FIELD_LAUNCH = 3  # years
FIELD_YEARS_TO_PEAK = 4
FIELD_LOE = 5  # years (far in the future without a loss of exclusivity)
FIELD_FLOOR = 6  # fraction of the share kept
FIELD_HALF_LIFE = 7  # years
FIELD_PRICE = 8  # x the segment's average price
PRODUCT_FIELDS = 9
LN2 = 0.6931471805599453


class ProductArrays(NamedTuple):
    """Scenario-level product inputs. Shapes: P products, M placements (a product in one
    of its segments), S segments of the products' axis, Q companies, R regions, C
    countries, T years (base year first), T1 forecast years, K drivers, E events."""

    kind: np.ndarray  # (P,) int64 KIND_*
    curve: np.ndarray  # (P,) int64 CURVE_*
    steepness: np.ndarray  # (P,) logistic slope over the years to peak
    curve_low: np.ndarray  # (P,) the logistic at launch, 1 / (1 + e^(s/2))
    curve_scale: np.ndarray  # (P,) 1 / (its value at the peak - curve_low)
    innovation: np.ndarray  # (P,) Bass p, a year
    imitation: np.ndarray  # (P,) Bass q, a year
    has_loe: np.ndarray  # (P,) int64 1 with a loss of exclusivity
    originator: np.ndarray  # (P,) int64 a generic's originator, -1 for the others
    order: np.ndarray  # (P,) int64 products in the order computed: originators first
    sells_in: np.ndarray  # (P, R) 1 where a product sells, else 0
    launch_offset: np.ndarray  # (P, R) years
    loe_offset: np.ndarray  # (P, R) years
    placement_product: np.ndarray  # (M,) int64
    placement_segment: np.ndarray  # (M,) int64 segment of the products' axis
    company_of: np.ndarray  # (P,) int64
    n_companies: np.ndarray  # (1,) int64 Q
    region_of: np.ndarray  # (C,) int64
    years: np.ndarray  # (T,) float64
    ramp_onset: np.ndarray  # (K,)
    ramp_rate: np.ndarray  # (K,)
    ramp_norm: np.ndarray  # (K,)
    driver_geo: np.ndarray  # (K, R, T1)
    link_driver: np.ndarray  # (L,) int64
    link_product: np.ndarray  # (L,) int64
    link_weight: np.ndarray  # (L,)
    event_geo: np.ndarray  # (E, R, T1)
    event_link_event: np.ndarray  # (N,) int64
    event_link_product: np.ndarray  # (N,) int64
    event_link_weight: np.ndarray  # (N,)


@numba.njit(**JIT_OPTIONS)
def _uptake(products, p, x, years_to_peak):  # pragma: no cover - compiled
    """The fraction of the peak share ``x`` years after launch: 0 until launch, 1 from the
    years to peak on (tests/test_products.py checks both curves' closed forms)."""
    if x <= 0.0:
        return 0.0
    if x >= years_to_peak:
        return 1.0
    if products.curve[p] == 0:  # logistic, from 0 at launch to 1 at the years to peak
        now = 1.0 / (1.0 + np.exp(-products.steepness[p] * (x / years_to_peak - 0.5)))
        return (now - products.curve_low[p]) * products.curve_scale[p]
    rate = products.innovation[p] + products.imitation[p]  # Bass, scaled to 1 at the peak
    ratio = products.imitation[p] / products.innovation[p]
    fall = np.exp(-rate * x)
    at_peak = np.exp(-rate * years_to_peak)
    return ((1.0 - fall) / (1.0 + ratio * fall)) / ((1.0 - at_peak) / (1.0 + ratio * at_peak))


@numba.njit(**JIT_OPTIONS)
def _kept(x, floor, half_life):  # pragma: no cover - compiled
    """The part of its share an originator keeps ``x`` years after its loss of exclusivity."""
    if x <= 0.0:
        return 1.0
    return floor + (1.0 - floor) * np.exp(-x * LN2 / half_life)


@numba.njit(**JIT_OPTIONS)
def _multipliers(products, draws, d, ramps, level, growth, effect):  # pragma: no cover
    """Each product's drivers' and events' effect on its share in every region and year of
    draw ``d``, into ``effect`` (region, year, product)."""
    n_regions, n_years, n_products = effect.shape
    driver_ramps(
        products.ramp_onset,
        products.ramp_rate,
        products.ramp_norm,
        products.years[1:],
        draws.delay[d],
        draws.impact[d],
        ramps,
    )
    for r in range(n_regions):
        for p in range(n_products):
            level[p] = products.sells_in[p, r]  # 0 where it does not sell
            growth[p] = 0.0
        for t in range(n_years):
            if t > 0:
                add_driver_links(
                    products.link_driver,
                    products.link_product,
                    products.link_weight,
                    ramps,
                    products.driver_geo,
                    r,
                    t,
                    growth,
                )
                for p in range(n_products):
                    level[p] = max(level[p] * (1.0 + growth[p]), 0.0)
                    growth[p] = 0.0
            for p in range(n_products):
                effect[r, t, p] = level[p]
            if t > 0:
                apply_event_links(
                    products.event_link_event,
                    products.event_link_product,
                    products.event_link_weight,
                    products.event_geo,
                    draws.event_severity[d],
                    draws.event_activity[d],
                    r,
                    t,
                    effect[r, t],
                )


@numba.njit(**JIT_OPTIONS)
def _raw_shares(products, values, r, t, effect, before, raw, kept):  # pragma: no cover
    """Each product's share of its segments' patients in region ``r`` and year ``t``,
    before the segments are scaled (``values`` is one draw's ``products`` row). ``kept``
    holds each originator's part kept after its loss in this year (a generic reads it),
    and from index P on, for a product in market, the part kept in the base year (written
    when ``t`` is 0)."""
    year = products.years[t]
    n_products = products.order.shape[0]
    for i in range(n_products):
        p = products.order[i]
        kind = products.kind[p]
        if kind == 2:  # a generic: its part of the originator's loss
            o = products.originator[p]
            raw[p] = values[p, FIELD_BASE] * before[o] * (1.0 - kept[o]) * effect[r, t, p]
            continue
        if kind == 0:  # in market: the base share on its trend
            path = values[p, FIELD_BASE]
            for _ in range(t):
                path *= 1.0 + values[p, FIELD_TREND]
        else:  # launching: approved x peak x the uptake curve
            since = year + 1.0 - (values[p, FIELD_LAUNCH] + products.launch_offset[p, r])
            path = values[p, FIELD_APPROVED] * values[p, FIELD_BASE]
            if path != 0.0:
                path *= _uptake(products, p, since, values[p, FIELD_YEARS_TO_PEAK])
        path *= effect[r, t, p]
        if products.has_loe[p] == 0:
            before[p] = path
            raw[p] = path
            kept[p] = 1.0
            continue
        loe = values[p, FIELD_LOE] + products.loe_offset[p, r]
        floor, half_life = values[p, FIELD_FLOOR], values[p, FIELD_HALF_LIFE]
        if kind == 0:  # its base-year share is observed after the erosion so far
            if t == 0:
                kept[n_products + p] = _kept(year + 1.0 - loe, floor, half_life)
            path /= kept[n_products + p]
        kept[p] = _kept(year + 1.0 - loe, floor, half_life)
        before[p] = path
        raw[p] = path * kept[p]


@numba.njit(**JIT_OPTIONS)
def _shares(products, draws, d, scratch, value_share, volume_share, other):  # pragma: no cover
    """Draw ``d``'s value and patient shares of every placement, (region, year, placement),
    and the value share left to other products, (region, year, segment)."""
    ramps, level, growth, effect, before, raw, volume, value, kept = scratch
    _multipliers(products, draws, d, ramps, level, growth, effect)
    values = draws.products[d]
    n_regions, n_years, n_segments = other.shape
    n_placements = products.placement_product.shape[0]
    for r in range(n_regions):
        for t in range(n_years):
            _raw_shares(products, values, r, t, effect, before, raw, kept)
            for s in range(n_segments):
                volume[s] = 0.0
                value[s] = 0.0
            for m in range(n_placements):
                p = products.placement_product[m]
                s = products.placement_segment[m]
                volume[s] += raw[p]
                value[s] += raw[p] * values[p, FIELD_PRICE]
            for s in range(n_segments):
                # the named products' patients scaled down together to fit: shares never
                # pass 1 (tests/test_products.py, over random product sets); the value
                # shares are patients x price over the segment's average price, the other
                # products' patients at price 1, so products and other products sum to 1
                scale = 1.0 / max(1.0, volume[s])
                left = max(1.0 - volume[s] * scale, 0.0)
                average = value[s] * scale + left
                other[r, t, s] = left / average
                volume[s] = scale  # from here the segment's scale
                value[s] = scale / average  # and its value scale
            for m in range(n_placements):
                p = products.placement_product[m]
                s = products.placement_segment[m]
                volume_share[r, t, m] = raw[p] * volume[s]
                value_share[r, t, m] = raw[p] * values[p, FIELD_PRICE] * value[s]


@numba.njit(**JIT_OPTIONS)
def _scratch(products, n_regions, n_years, n_segments):  # pragma: no cover - compiled
    """One task's scratch arrays for :func:`_shares`."""
    n_products = products.kind.shape[0]
    return (
        np.empty((products.ramp_onset.shape[0], n_years - 1)),  # ramps
        np.empty(n_products),  # level
        np.empty(n_products),  # growth
        np.empty((n_regions, n_years, n_products)),  # effect
        np.empty(n_products),  # before the loss of exclusivity
        np.empty(n_products),  # raw shares
        np.empty(n_segments),  # patients' shares, then the scale
        np.empty(n_segments),  # value shares
        np.empty(2 * n_products),  # the part kept after a loss: now, then in the base year
    )


@numba.njit(**JIT_OPTIONS)
def _split(products, d, segment, share, weights, out, by_company):  # pragma: no cover
    """``out[d, t, c, p]``: the sum over product ``p``'s placements of the segment's value
    (``segment[d, t, c, s]``) times its share of it, and the companies' sums
    (``weights`` holds P + Q values: the products', then the companies')."""
    n_years, n_countries = out.shape[1], out.shape[2]
    n_products, n_companies = out.shape[3], by_company.shape[3]
    n_placements = products.placement_product.shape[0]
    for t in range(n_years):
        for c in range(n_countries):
            here = share[products.region_of[c], t]  # (placement,)
            values = segment[d, t, c]  # (segment,)
            for i in range(n_products + n_companies):
                weights[i] = 0.0
            for m in range(n_placements):
                weights[products.placement_product[m]] += (
                    values[products.placement_segment[m]] * here[m]
                )
            products_row, companies_row = out[d, t, c], by_company[d, t, c]
            for p in range(n_products):
                products_row[p] = weights[p]
                weights[n_products + products.company_of[p]] += weights[p]
            for q in range(n_companies):
                companies_row[q] = weights[n_products + q]


@numba.njit(parallel=True, **JIT_OPTIONS)
def product_kernel(products, draws, segment, by_product, by_company, other):  # pragma: no cover
    """Every draw's products and companies in the top-down market.

    Parameters
    ----------
    products : ProductArrays
    draws : DrawArrays
        The per-draw arrays the top-down kernel read.
    segment : ndarray, (draw, year, country, segment of the products' axis)
        The top-down kernel's ``by_<axis>`` output.
    by_product : ndarray, (draw, year, country, product)
        Output: each product's value, in the market's unit.
    by_company : ndarray, (draw, year, country, company)
        Output: each company's products summed.
    other : ndarray, (draw, year, country, segment)
        Output: what the named products leave of each segment; products and other
        products sum to the segment.
    """
    n_draws = segment.shape[0]
    n_regions = products.launch_offset.shape[1]
    n_years = products.years.shape[0]
    n_products = products.kind.shape[0]
    n_segments = segment.shape[3]
    n_placements = products.placement_product.shape[0]
    n_tasks = (n_draws + DRAWS_PER_TASK - 1) // DRAWS_PER_TASK
    for task in prange(n_tasks):
        scratch = _scratch(products, n_regions, n_years, n_segments)
        value_share = np.empty((n_regions, n_years, n_placements))
        volume_share = np.empty((n_regions, n_years, n_placements))
        left = np.empty((n_regions, n_years, n_segments))
        weights = np.empty(n_products + by_company.shape[3])
        for d in range(task * DRAWS_PER_TASK, min(n_draws, (task + 1) * DRAWS_PER_TASK)):
            _shares(products, draws, d, scratch, value_share, volume_share, left)
            _split(products, d, segment, value_share, weights, by_product, by_company)
            for t in range(n_years):
                for c in range(segment.shape[2]):
                    r = products.region_of[c]
                    for s in range(n_segments):
                        other[d, t, c, s] = segment[d, t, c, s] * left[r, t, s]


@numba.njit(parallel=True, **JIT_OPTIONS)
def product_funnel_kernel(
    products, draws, treated, value, treated_by_product, patient_by_product, patient_by_company
):  # pragma: no cover - compiled
    """Every draw's products in the patient funnel: the treated patients of their segments
    times their patient shares, and the segments' patient-based value times their value
    shares (treated patients on the product x its price).

    Parameters
    ----------
    treated, value : ndarray, (draw, year, country, segment of the products' axis)
        The funnel's ``treated_by_<axis>`` and ``patient_by_<axis>``.
    treated_by_product, patient_by_product : ndarray, (draw, year, country, product)
        Outputs: patients, and value in the market's unit.
    patient_by_company : ndarray, (draw, year, country, company)
        Output: each company's patient-based value.
    """
    n_draws = treated.shape[0]
    n_regions = products.launch_offset.shape[1]
    n_years = products.years.shape[0]
    n_products = products.kind.shape[0]
    n_placements = products.placement_product.shape[0]
    n_tasks = (n_draws + DRAWS_PER_TASK - 1) // DRAWS_PER_TASK
    for task in prange(n_tasks):
        scratch = _scratch(products, n_regions, n_years, treated.shape[3])
        value_share = np.empty((n_regions, n_years, n_placements))
        volume_share = np.empty((n_regions, n_years, n_placements))
        left = np.empty((n_regions, n_years, treated.shape[3]))
        weights = np.empty(n_products + patient_by_company.shape[3])
        for d in range(task * DRAWS_PER_TASK, min(n_draws, (task + 1) * DRAWS_PER_TASK)):
            _shares(products, draws, d, scratch, value_share, volume_share, left)
            _split(products, d, value, value_share, weights, patient_by_product, patient_by_company)
            for t in range(n_years):  # patients: the companies' sum is not kept
                for c in range(treated.shape[2]):
                    r = products.region_of[c]
                    for p in range(n_products):
                        weights[p] = 0.0
                    for m in range(n_placements):
                        p = products.placement_product[m]
                        share = volume_share[r, t, m]
                        weights[p] += treated[d, t, c, products.placement_segment[m]] * share
                    for p in range(n_products):
                        treated_by_product[d, t, c, p] = weights[p]


@numba.njit(parallel=True, **JIT_OPTIONS)
def product_shares_kernel(products, draws, value_share, volume_share, other):  # pragma: no cover
    """Each draw's value and patient shares, (draw, region, year, placement), and other
    products' value share, (draw, region, year, segment): what the two kernels above
    multiply the segments by (for tests and the product pages)."""
    n_draws = value_share.shape[0]
    n_regions = products.launch_offset.shape[1]
    n_years = products.years.shape[0]
    n_tasks = (n_draws + DRAWS_PER_TASK - 1) // DRAWS_PER_TASK
    for task in prange(n_tasks):
        scratch = _scratch(products, n_regions, n_years, other.shape[3])
        for d in range(task * DRAWS_PER_TASK, min(n_draws, (task + 1) * DRAWS_PER_TASK)):
            _shares(products, draws, d, scratch, value_share[d], volume_share[d], other[d])
