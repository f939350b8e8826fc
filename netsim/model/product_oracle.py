"""The products' model in vectorised numpy: the oracle for :mod:`netsim.kernels.products`.

The same equations as the kernels, written from their documented semantics with array
operations over draws, regions and years (a loop over products only, in the order a
generic needs its originator), not from their loops. The tests compare the kernels with it.
"""

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
    KIND_GENERIC,
    KIND_MARKET,
    ProductArrays,
)
from netsim.kernels.propagate import DrawArrays

__all__ = ["reference_product_shares", "reference_products"]


def _logistic(x: np.ndarray, years_to_peak: np.ndarray, steepness: float) -> np.ndarray:
    def sigmoid(z: np.ndarray | float) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))

    low, high = sigmoid(-0.5 * steepness), sigmoid(0.5 * steepness)
    inside = (sigmoid(steepness * (x / years_to_peak - 0.5)) - low) / (high - low)
    return np.where(x <= 0.0, 0.0, np.where(x >= years_to_peak, 1.0, inside))


def _bass(x: np.ndarray, years_to_peak: np.ndarray, p: float, q: float) -> np.ndarray:
    def adopted(t: np.ndarray) -> np.ndarray:
        fall = np.exp(-(p + q) * t)
        return (1.0 - fall) / (1.0 + (q / p) * fall)

    inside = adopted(np.maximum(x, 0.0)) / adopted(years_to_peak)
    return np.where(x <= 0.0, 0.0, np.where(x >= years_to_peak, 1.0, inside))


def _kept(x: np.ndarray, floor: np.ndarray, half_life: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.0, 1.0, floor + (1.0 - floor) * 0.5 ** (np.maximum(x, 0.0) / half_life))


def _effects(arrays: ProductArrays, draws: DrawArrays) -> np.ndarray:
    """Each product's drivers' and events' multiplier, (draw, region, year, product)."""
    n_draws = draws.impact.shape[0]
    n_regions, n_years = arrays.launch_offset.shape[1], arrays.years.shape[0]
    n_products = arrays.kind.shape[0]
    onset = arrays.ramp_onset[None, :] + draws.delay - 1.0  # (D, K)
    ramps = (
        np.clip(
            (arrays.years[None, None, 1:] - onset[:, :, None]) * arrays.ramp_rate[None, :, None],
            0,
            1,
        )
        * (arrays.ramp_norm[None, :] * draws.impact)[:, :, None]
    )  # (D, K, T1)
    growth = np.zeros((n_draws, n_regions, n_years - 1, n_products))
    for k, p, w in zip(arrays.link_driver, arrays.link_product, arrays.link_weight, strict=True):
        growth[..., p] += w * ramps[:, k, None, :] * arrays.driver_geo[None, k]
    level = np.ones((n_draws, n_regions, n_years, n_products))
    level *= arrays.sells_in.T[None, :, None, :]  # 0 where a product does not sell
    for t in range(1, n_years):
        level[:, :, t] = np.maximum(level[:, :, t - 1] * (1.0 + growth[:, :, t - 1]), 0.0)
    for e, p, w in zip(
        arrays.event_link_event, arrays.event_link_product, arrays.event_link_weight, strict=True
    ):
        shock = (
            draws.event_severity[:, e, None, None]
            * draws.event_activity[:, e, None, :]
            * arrays.event_geo[None, e]
        )  # (D, R, T1)
        level[:, :, 1:, p] = np.maximum(level[:, :, 1:, p] * (1.0 + w * shock), 0.0)
    return level


def reference_product_shares(
    arrays: ProductArrays, draws: DrawArrays, n_segments: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Value and patient shares of every placement, (draw, region, year, placement), and
    other products' value share, (draw, region, year, segment)."""
    values = draws.products
    years = arrays.years[None, None, :]  # (1, 1, T)
    effect = _effects(arrays, draws)
    shape = effect.shape[:3]
    before = np.zeros(effect.shape)
    raw = np.zeros(effect.shape)
    for p in arrays.order:

        def column(field: int, p: int = p) -> np.ndarray:
            return values[:, p, field][:, None, None]  # (D, 1, 1)

        if arrays.kind[p] == KIND_GENERIC:
            o = arrays.originator[p]
            loe = values[:, o, FIELD_LOE][:, None, None] + arrays.loe_offset[None, o, :, None]
            kept = _kept(years + 1.0 - loe, values[:, o, FIELD_FLOOR][:, None, None],
                         values[:, o, FIELD_HALF_LIFE][:, None, None])  # fmt: skip
            raw[..., p] = column(FIELD_BASE) * before[..., o] * (1.0 - kept) * effect[..., p]
            continue
        if arrays.kind[p] == KIND_MARKET:
            steps = np.arange(shape[2])[None, None, :]
            path = column(FIELD_BASE) * (1.0 + column(FIELD_TREND)) ** steps
        else:
            since = years + 1.0 - (column(FIELD_LAUNCH) + arrays.launch_offset[None, p, :, None])
            peak_years = np.broadcast_to(column(FIELD_YEARS_TO_PEAK), since.shape)
            if arrays.curve[p] == 0:
                curve = _logistic(since, peak_years, arrays.steepness[p])
            else:
                curve = _bass(since, peak_years, arrays.innovation[p], arrays.imitation[p])
            path = column(FIELD_APPROVED) * column(FIELD_BASE) * curve
        path = np.broadcast_to(path, shape) * effect[..., p]
        kept = np.ones(shape)
        if arrays.has_loe[p]:
            loe = column(FIELD_LOE) + arrays.loe_offset[None, p, :, None]
            floor, half_life = column(FIELD_FLOOR), column(FIELD_HALF_LIFE)
            kept = _kept(years + 1.0 - loe, floor, half_life)
            if arrays.kind[p] == KIND_MARKET:
                path = path / _kept(arrays.years[0] + 1.0 - loe, floor, half_life)
        before[..., p] = path
        raw[..., p] = path * kept
    product, segment = arrays.placement_product, arrays.placement_segment
    price = values[:, product, FIELD_PRICE][:, None, None, :]  # (D, 1, 1, M)
    placed = raw[..., product]  # (D, R, T, M)
    volume = np.zeros((*shape, n_segments))
    value = np.zeros((*shape, n_segments))
    for m, s in enumerate(segment):
        volume[..., s] += placed[..., m]
        value[..., s] += placed[..., m] * price[..., m]
    scale = 1.0 / np.maximum(1.0, volume)  # the named products' patients fit in the segment
    left = np.maximum(1.0 - volume * scale, 0.0)  # the other products' patients, at price 1
    average = value * scale + left  # the segment's average price
    value_scale = (scale / average)[..., segment]
    return placed * price * value_scale, placed * scale[..., segment], left / average


def reference_products(
    arrays: ProductArrays, draws: DrawArrays, segment_values: np.ndarray
) -> dict[str, np.ndarray]:
    """``by_product``, ``by_company`` and ``other_products`` (float64) from the segments'
    values ``(draw, year, country, segment)``."""
    value_share, _, other = reference_product_shares(arrays, draws, segment_values.shape[3])
    region = arrays.region_of
    # (D, T, C, M): the segment's value in each country times its region's share
    shares = value_share[:, region].transpose(0, 2, 1, 3)
    placed = segment_values[..., arrays.placement_segment].astype(np.float64) * shares
    n_products = arrays.kind.shape[0]
    by_product = np.zeros((*segment_values.shape[:3], n_products))
    for m, p in enumerate(arrays.placement_product):
        by_product[..., p] += placed[..., m]
    by_company = np.zeros((*segment_values.shape[:3], int(arrays.n_companies[0])))
    for p, company in enumerate(arrays.company_of):
        by_company[..., company] += by_product[..., p]
    left = other[:, region].transpose(0, 2, 1, 3)
    return {
        "by_product": by_product,
        "by_company": by_company,
        "other_products": segment_values.astype(np.float64) * left,
    }
