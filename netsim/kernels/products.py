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

A draw's work is laid out by what each step depends on: an uptake curve and an erosion
depend on the draw, the product and the year, and on the region only through its launch or
loss offset, so they are computed once per distinct offset; the shares are per region and
year; only the last step, the segments' values times their shares, runs per country (the
outputs' cells). Draws run in parallel, 64 to a task with its own scratch arrays, and
within a task eight at a time: each draw's raw shares on its own (their curves branch per
draw), then the segments' scaling, the products' and companies' sums and the cells of
eight draws as lane vectors (:mod:`netsim.kernels.lanes`: lane by lane the same IEEE
arithmetic in the same order, so the outputs are those of the scalar code bit for bit),
written as the top-down kernel writes its cube.

The curves use ``exp``: on one machine the outputs are the same bit for bit whatever the
chunking or threads; another maths library may change their last bits.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
from numba import prange

from netsim.kernels.lanes import LANES, broadcast, clip, load, load_transposed, store
from netsim.kernels.links import add_driver_links, apply_event_links, driver_ramps
from netsim.kernels.options import JIT_OPTIONS
from netsim.kernels.propagate import write_cells

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
    launch_region: np.ndarray  # (P, R) int64 the first region of the same launch offset
    loe_region: np.ndarray  # (P, R) int64 the first region of the same loss offset
    placement_product: np.ndarray  # (M,) int64, product by product
    placement_segment: np.ndarray  # (M,) int64 segment of the products' axis
    placement_start: np.ndarray  # (P + 1,) int64 product p's placements: start[p] to start[p + 1]
    company_of: np.ndarray  # (P,) int64
    company_products: np.ndarray  # (P,) int64 the products company by company, in product order
    company_start: np.ndarray  # (Q + 1,) int64 company q's: company_start[q] to [q + 1]
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
def _bass_at_peak(products, p, years_to_peak):  # pragma: no cover - compiled
    """The Bass curve's adopted fraction at the years to peak (what :func:`_uptake` divides
    by to reach 1 there): one value a draw and product."""
    rate = products.innovation[p] + products.imitation[p]
    ratio = products.imitation[p] / products.innovation[p]
    at_peak = np.exp(-rate * years_to_peak)
    return (1.0 - at_peak) / (1.0 + ratio * at_peak)


@numba.njit(**JIT_OPTIONS)
def _uptake(products, p, x, years_to_peak, bass_at_peak):  # pragma: no cover - compiled
    """The fraction of the peak share ``x`` years after launch: 0 until launch, 1 from the
    years to peak on (tests/test_products.py checks both curves' closed forms)."""
    if x <= 0.0:
        return 0.0
    if x >= years_to_peak:
        return 1.0
    if products.curve[p] == CURVE_LOGISTIC:  # from 0 at launch to 1 at the years to peak
        now = 1.0 / (1.0 + np.exp(-products.steepness[p] * (x / years_to_peak - 0.5)))
        return (now - products.curve_low[p]) * products.curve_scale[p]
    rate = products.innovation[p] + products.imitation[p]  # Bass, scaled to 1 at the peak
    ratio = products.imitation[p] / products.innovation[p]
    fall = np.exp(-rate * x)
    return ((1.0 - fall) / (1.0 + ratio * fall)) / bass_at_peak


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
            if t > 0 and products.link_driver.shape[0] > 0:  # else the level stays
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
def _curves(products, values, p, uptake, erosion):  # pragma: no cover - compiled
    """Product ``p``'s uptake curve (launching, when it can sell) and the part it keeps
    after its loss of exclusivity (with one), (region, year) of one draw: computed in the
    first region of each launch or loss offset only (the others read that region's row
    through ``launch_region`` and ``loe_region``), so the ``exp`` calls are one per
    distinct offset, year and product, not per region."""
    n_regions, n_years = uptake.shape
    years = products.years
    if products.kind[p] == KIND_LAUNCH and values[p, FIELD_APPROVED] * values[p, FIELD_BASE] != 0:
        years_to_peak = values[p, FIELD_YEARS_TO_PEAK]
        bass_at_peak = 1.0
        if products.curve[p] == CURVE_BASS:
            bass_at_peak = _bass_at_peak(products, p, years_to_peak)
        for r in range(n_regions):
            if products.launch_region[p, r] == r:
                launch = values[p, FIELD_LAUNCH] + products.launch_offset[p, r]
                for t in range(n_years):
                    since = years[t] + 1.0 - launch
                    uptake[r, t] = _uptake(products, p, since, years_to_peak, bass_at_peak)
    if products.has_loe[p] != 0:
        floor, half_life = values[p, FIELD_FLOOR], values[p, FIELD_HALF_LIFE]
        for r in range(n_regions):
            if products.loe_region[p, r] == r:
                loe = values[p, FIELD_LOE] + products.loe_offset[p, r]
                for t in range(n_years):
                    erosion[r, t] = _kept(years[t] + 1.0 - loe, floor, half_life)


@numba.njit(**JIT_OPTIONS)
def _raw_shares(
    products, values, effect, uptake, erosion, before, kept, raw_rows, lane
):  # pragma: no cover - compiled
    """Lane ``lane`` of each product's share of its segments' patients, rows (region,
    year, product), before the segments are scaled (``values`` is one draw's ``products``
    row); ``before`` holds it before the loss of exclusivity and ``kept`` the part the
    loss leaves (a generic reads its originator's)."""
    n_regions, n_years, n_products = effect.shape
    for i in range(n_products):
        p = products.order[i]
        kind = products.kind[p]
        if kind == KIND_GENERIC:  # its part of the originator's loss
            o = products.originator[p]
            capture = values[p, FIELD_BASE]
            for r in range(n_regions):
                for t in range(n_years):
                    lost = 1.0 - kept[r, t, o]
                    row = (r * n_years + t) * n_products + p
                    raw_rows[row, lane] = capture * before[r, t, o] * lost * effect[r, t, p]
            continue
        _curves(products, values, p, uptake, erosion)
        trend = 1.0 + values[p, FIELD_TREND]
        start = values[p, FIELD_BASE]  # in market: the base share on its trend
        if kind == KIND_LAUNCH:  # launching: approved x peak x the uptake curve
            start = values[p, FIELD_APPROVED] * values[p, FIELD_BASE]
        with_loss = products.has_loe[p] != 0
        for r in range(n_regions):
            launch_row, loss_row = products.launch_region[p, r], products.loe_region[p, r]
            path = start
            for t in range(n_years):
                if kind == KIND_MARKET:
                    here = path
                    path *= trend
                else:
                    here = start
                    if start != 0.0:
                        here *= uptake[launch_row, t]
                here *= effect[r, t, p]
                row = (r * n_years + t) * n_products + p
                if not with_loss:
                    before[r, t, p] = here
                    raw_rows[row, lane] = here
                    kept[r, t, p] = 1.0
                    continue
                if kind == KIND_MARKET:  # its base-year share is observed after the erosion so far
                    here /= erosion[loss_row, 0]
                kept[r, t, p] = erosion[loss_row, t]
                before[r, t, p] = here
                raw_rows[row, lane] = here * erosion[loss_row, t]


@numba.njit(**JIT_OPTIONS)
def _rows(n, width):  # pragma: no cover - compiled
    """``n`` lane rows (``width`` values each a draw of the block) as one array."""
    return np.empty((n * width, LANES))


@numba.njit(**JIT_OPTIONS)
def _segment_shares(
    products, raw_rows, price_rows, placed, value_rows, volume_rows, other_rows, with_volume
):  # pragma: no cover - compiled
    """Eight draws' value (and with ``with_volume`` patient) share rows of every placement,
    (region, year, placement), and other products' value share rows, (region, year,
    segment), from the raw share rows (region, year, product) and the price rows
    (product); ``placed[s]`` counts segment ``s``'s placements. Lane by lane the scalar
    arithmetic in the same order (:mod:`netsim.kernels.lanes`)."""
    n_regions, n_years = products.launch_offset.shape[1], products.years.shape[0]
    n_products, n_segments = products.kind.shape[0], placed.shape[0]
    placement_product, placement_segment = products.placement_product, products.placement_segment
    n_placements = placement_product.shape[0]
    for r in range(n_regions):
        for t in range(n_years):
            cell = r * n_years + t
            for s in range(n_segments):
                if placed[s] == 0:  # no named product: all other products' (1 / 1 exactly)
                    store(other_rows[cell * n_segments + s], broadcast(1.0))
                    continue
                volume, value = broadcast(0.0), broadcast(0.0)
                for m in range(n_placements):
                    if placement_segment[m] == s:
                        p = placement_product[m]
                        raw = load(raw_rows[cell * n_products + p])
                        volume = volume + raw
                        value = value + raw * load(price_rows[p])
                # the named products' patients scaled down together to fit: shares never
                # pass 1 (tests/test_products.py, over random product sets); the value
                # shares are patients x price over the segment's average price, the other
                # products' patients at price 1, so products and other products sum to 1
                scale = 1.0 / clip(volume, 1.0, np.inf)
                left = clip(1.0 - volume * scale, 0.0, np.inf)
                average = value * scale + left
                store(other_rows[cell * n_segments + s], left / average)
                value_scale = scale / average
                for m in range(n_placements):
                    if placement_segment[m] == s:
                        p = placement_product[m]
                        raw = load(raw_rows[cell * n_products + p])
                        share = raw * load(price_rows[p]) * value_scale
                        store(value_rows[cell * n_placements + m], share)
                        if with_volume:
                            store(volume_rows[cell * n_placements + m], raw * scale)


@numba.njit(**JIT_OPTIONS)
def _block_shares(
    products, draws, first, n_lanes, scratch, value_rows, volume_rows, other_rows, with_volume
):  # pragma: no cover - compiled
    """The share rows of draws ``first`` to ``first + n_lanes`` (a block's lanes): value
    (and with ``with_volume`` patient) shares of every placement, (region, year,
    placement), and the value share left to other products, (region, year, segment). A
    short block's spare lanes repeat its last draw (never written out)."""
    ramps, level, growth, effect, uptake, erosion, before, kept = scratch[:8]
    placed, raw_rows, price_rows = scratch[8:]
    for lane in range(LANES):
        d = first + min(lane, n_lanes - 1)
        values = draws.products[d]
        _multipliers(products, draws, d, ramps, level, growth, effect)
        _raw_shares(products, values, effect, uptake, erosion, before, kept, raw_rows, lane)
        for p in range(values.shape[0]):
            price_rows[p, lane] = values[p, FIELD_PRICE]
    _segment_shares(
        products, raw_rows, price_rows, placed, value_rows, volume_rows, other_rows, with_volume
    )


@numba.njit(**JIT_OPTIONS)
def _scratch(products, n_regions, n_years, n_segments):  # pragma: no cover - compiled
    """One task's scratch arrays for :func:`_block_shares`."""
    n_products = products.kind.shape[0]
    placed = np.zeros(n_segments, dtype=np.int64)
    for m in range(products.placement_segment.shape[0]):
        placed[products.placement_segment[m]] += 1
    return (
        np.empty((products.ramp_onset.shape[0], n_years - 1)),  # ramps
        np.empty(n_products),  # level
        np.empty(n_products),  # growth
        np.empty((n_regions, n_years, n_products)),  # effect
        np.empty((n_regions, n_years)),  # one product's uptake curve
        np.empty((n_regions, n_years)),  # one product's part kept after its loss
        np.empty((n_regions, n_years, n_products)),  # before the loss of exclusivity
        np.empty((n_regions, n_years, n_products)),  # the part kept after the loss
        placed,  # each segment's placements
        _rows(n_regions * n_years, n_products),  # raw shares
        _rows(1, n_products),  # prices
    )


@numba.njit(**JIT_OPTIONS)
def _cell_tables(region_of, n_years, n_cells, n_width, n_shares):  # pragma: no cover
    """Where each cell of a (year, country, ``n_width``) output row is in a block's lane
    rows (:func:`~netsim.kernels.propagate.write_cells`): its value row (the cell's own),
    and its share row, region by region (``n_shares`` a region and year), or the row of
    ones (``n_shares`` 0)."""
    n_countries = region_of.shape[0]
    value_of = np.arange(n_cells)
    share_of = np.zeros(n_cells, dtype=np.int64)
    if n_shares > 0:
        for f in range(n_cells):
            year_country = f // n_width
            t = year_country // n_countries
            r = region_of[year_country - t * n_countries]
            share_of[f] = (r * n_years + t) * n_shares + f - year_country * n_width
    return value_of, share_of


@numba.njit(**JIT_OPTIONS)
def _gather(source, first, n_lanes, rows):  # pragma: no cover - compiled
    """``rows[f, l] = source[first + l, f]``: a block's draws of ``source`` (draw, cell) as
    lane rows, eight cells at a time (transposed in registers) when the block is whole."""
    n_cells = source.shape[1]
    done = 0
    if n_lanes == LANES:
        done = n_cells - n_cells % LANES
        for f in range(0, done, LANES):
            load_transposed(rows, f, source, first, f)
    for lane in range(n_lanes):
        for f in range(done, n_cells):
            rows[f, lane] = source[first + lane, f]


@numba.njit(**JIT_OPTIONS)
def _split(products, segment_rows, share_rows, product_rows, company_rows):  # pragma: no cover
    """Eight draws' products, (year, country, product) rows: the sum over each product's
    placements of its segment's value times its share, and, unless ``company_rows`` is
    empty, the companies' sums (year, country, company). Each sum adds in placement or
    product order from 0, eight draws at once (:mod:`netsim.kernels.lanes`)."""
    n_years = products.years.shape[0]
    region_of = products.region_of
    n_countries = region_of.shape[0]
    n_products, n_placements = products.kind.shape[0], products.placement_product.shape[0]
    n_segments = segment_rows.shape[0] // (n_years * n_countries)
    placement_start, placement_segment = products.placement_start, products.placement_segment
    company_start, company_products = products.company_start, products.company_products
    n_companies = company_start.shape[0] - 1
    with_companies = company_rows.shape[0] > 0
    one_each = n_placements == n_products  # then placement p is product p's only one
    for p in range(n_products):
        one_each = one_each and placement_start[p + 1] == p + 1
    for t in range(n_years):
        for c in range(n_countries):
            cell = t * n_countries + c
            shares = (region_of[c] * n_years + t) * n_placements
            for p in range(n_products):
                if one_each:  # the same sum, without the loop over one placement
                    value = load(segment_rows[cell * n_segments + placement_segment[p]])
                    total = broadcast(0.0) + value * load(share_rows[shares + p])
                    store(product_rows[cell * n_products + p], total)
                    continue
                total = broadcast(0.0)
                for m in range(placement_start[p], placement_start[p + 1]):
                    value = load(segment_rows[cell * n_segments + placement_segment[m]])
                    total = total + value * load(share_rows[shares + m])
                store(product_rows[cell * n_products + p], total)
            if with_companies:
                for q in range(n_companies):
                    total = broadcast(0.0)
                    for i in range(company_start[q], company_start[q + 1]):
                        total = total + load(product_rows[cell * n_products + company_products[i]])
                    store(company_rows[cell * n_companies + q], total)


@numba.njit(parallel=True, **JIT_OPTIONS)
def product_kernel(products, draws, segment, by_product, by_company, other):  # pragma: no cover
    """Every draw's products and companies in the top-down market.

    Each draw's shares are computed on their own; the cells (each a segment's value times
    a share) eight draws at a time, as the top-down kernel writes its cube.

    Parameters
    ----------
    products : ProductArrays
    draws : DrawArrays
        The per-draw arrays the top-down kernel read.
    segment : ndarray, (draw, year, country, segment of the products' axis)
        The top-down kernel's ``by_<axis>`` output.
    by_product : ndarray, (draw, year, country, product), C-contiguous
        Output: each product's value, in the market's unit.
    by_company : ndarray, (draw, year, country, company), C-contiguous
        Output: each company's products summed.
    other : ndarray, (draw, year, country, segment), C-contiguous
        Output: what the named products leave of each segment; products and other
        products sum to the segment.
    """
    n_draws, n_years, n_countries, n_segments = segment.shape
    n_regions = products.launch_offset.shape[1]
    n_products, n_companies = by_product.shape[3], by_company.shape[3]
    n_placements = products.placement_product.shape[0]
    cells = n_years * n_countries
    product_cells = _cell_tables(products.region_of, n_years, cells * n_products, n_products, 0)
    company_cells = _cell_tables(products.region_of, n_years, cells * n_companies, n_companies, 0)
    other_cells = _cell_tables(
        products.region_of, n_years, cells * n_segments, n_segments, n_segments
    )
    by_product_rows = by_product.reshape((n_draws, cells * n_products))
    by_company_rows = by_company.reshape((n_draws, cells * n_companies))
    other_rows = other.reshape((n_draws, cells * n_segments))
    segment_cells = segment.reshape((n_draws, cells * n_segments))
    n_tasks = (n_draws + DRAWS_PER_TASK - 1) // DRAWS_PER_TASK
    for task in prange(n_tasks):
        scratch = _scratch(products, n_regions, n_years, n_segments)
        segment_rows, product_rows = _rows(cells, n_segments), _rows(cells, n_products)
        company_rows, ones = _rows(cells, n_companies), np.ones((1, LANES))
        share_rows = _rows(n_regions * n_years, n_placements)
        left_rows = _rows(n_regions * n_years, n_segments)
        task_end = min(n_draws, (task + 1) * DRAWS_PER_TASK)
        for first in range(task * DRAWS_PER_TASK, task_end, LANES):
            n_lanes = min(LANES, task_end - first)  # a short block's spare lanes are not written
            _block_shares(
                products, draws, first, n_lanes, scratch, share_rows, share_rows, left_rows, False
            )
            _gather(segment_cells, first, n_lanes, segment_rows)
            _split(products, segment_rows, share_rows, product_rows, company_rows)
            write_cells(by_product_rows, first, n_lanes, product_rows, ones, *product_cells)
            write_cells(by_company_rows, first, n_lanes, company_rows, ones, *company_cells)
            write_cells(other_rows, first, n_lanes, segment_rows, left_rows, *other_cells)


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
        Outputs, C-contiguous: patients, and value in the market's unit.
    patient_by_company : ndarray, (draw, year, country, company), C-contiguous
        Output: each company's patient-based value.
    """
    n_draws, n_years, n_countries, n_segments = treated.shape
    n_regions = products.launch_offset.shape[1]
    n_products, n_companies = patient_by_product.shape[3], patient_by_company.shape[3]
    n_placements = products.placement_product.shape[0]
    cells = n_years * n_countries
    product_cells = _cell_tables(products.region_of, n_years, cells * n_products, n_products, 0)
    company_cells = _cell_tables(products.region_of, n_years, cells * n_companies, n_companies, 0)
    treated_rows_out = treated_by_product.reshape((n_draws, cells * n_products))
    value_rows_out = patient_by_product.reshape((n_draws, cells * n_products))
    company_rows_out = patient_by_company.reshape((n_draws, cells * n_companies))
    treated_cells = treated.reshape((n_draws, cells * n_segments))
    value_cells = value.reshape((n_draws, cells * n_segments))
    n_tasks = (n_draws + DRAWS_PER_TASK - 1) // DRAWS_PER_TASK
    for task in prange(n_tasks):
        scratch = _scratch(products, n_regions, n_years, n_segments)
        value_rows, treated_rows = _rows(cells, n_segments), _rows(cells, n_segments)
        value_product_rows, company_rows = _rows(cells, n_products), _rows(cells, n_companies)
        treated_product_rows, no_rows = _rows(cells, n_products), _rows(0, 1)
        value_share_rows = _rows(n_regions * n_years, n_placements)
        volume_share_rows = _rows(n_regions * n_years, n_placements)
        left_rows = _rows(n_regions * n_years, n_segments)
        ones = np.ones((1, LANES))
        task_end = min(n_draws, (task + 1) * DRAWS_PER_TASK)
        for first in range(task * DRAWS_PER_TASK, task_end, LANES):
            n_lanes = min(LANES, task_end - first)
            _block_shares(
                products, draws, first, n_lanes, scratch, value_share_rows, volume_share_rows,
                left_rows, True,
            )  # fmt: skip
            _gather(value_cells, first, n_lanes, value_rows)
            _gather(treated_cells, first, n_lanes, treated_rows)
            _split(products, value_rows, value_share_rows, value_product_rows, company_rows)
            _split(products, treated_rows, volume_share_rows, treated_product_rows, no_rows)
            write_cells(value_rows_out, first, n_lanes, value_product_rows, ones, *product_cells)
            write_cells(company_rows_out, first, n_lanes, company_rows, ones, *company_cells)
            write_cells(
                treated_rows_out, first, n_lanes, treated_product_rows, ones, *product_cells
            )


@numba.njit(parallel=True, **JIT_OPTIONS)
def product_shares_kernel(products, draws, value_share, volume_share, other):  # pragma: no cover
    """Each draw's value and patient shares, (draw, region, year, placement), and other
    products' value share, (draw, region, year, segment), C-contiguous: what the two
    kernels above multiply the segments by (for tests and the product pages)."""
    n_draws, n_regions, n_years, n_placements = value_share.shape
    n_segments = other.shape[3]
    outputs = (
        value_share.reshape((n_draws, n_regions * n_years * n_placements)),
        volume_share.reshape((n_draws, n_regions * n_years * n_placements)),
        other.reshape((n_draws, n_regions * n_years * n_segments)),
    )
    n_tasks = (n_draws + DRAWS_PER_TASK - 1) // DRAWS_PER_TASK
    for task in prange(n_tasks):
        scratch = _scratch(products, n_regions, n_years, n_segments)
        rows = (
            _rows(n_regions * n_years, n_placements),
            _rows(n_regions * n_years, n_placements),
            _rows(n_regions * n_years, n_segments),
        )
        task_end = min(n_draws, (task + 1) * DRAWS_PER_TASK)
        for first in range(task * DRAWS_PER_TASK, task_end, LANES):
            n_lanes = min(LANES, task_end - first)
            _block_shares(products, draws, first, n_lanes, scratch, *rows, True)
            for i in range(3):
                for lane in range(n_lanes):
                    for f in range(rows[i].shape[0]):
                        outputs[i][first + lane, f] = rows[i][f, lane]
