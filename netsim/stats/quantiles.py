"""Exact quantiles over the draws: percentile bands of any labelled cube."""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
import xarray as xr

from netsim.errors import ArgumentValueError, ScenarioError
from netsim.kernels.quantiles import quantile_kernel

__all__ = ["as_quantiles", "bands", "order_statistics", "quantiles"]


def as_quantiles(q: float | Sequence[float]) -> np.ndarray:
    """Quantiles as a float64 vector: each in [0, 1], none twice.

    Raises
    ------
    ScenarioError
        Otherwise, showing the values as given.
    """
    try:
        values = np.atleast_1d(np.asarray(q, dtype=np.float64))
    except (TypeError, ValueError):
        raise ArgumentValueError(
            f"q={q!r} must be a number or a list of numbers", argument="q"
        ) from None
    if values.ndim != 1 or values.size == 0:
        raise ArgumentValueError(f"q={q!r} must be a number or a list of numbers", argument="q")
    shown = [float(v) for v in values]
    if not np.all((values >= 0.0) & (values <= 1.0)):
        raise ArgumentValueError(f"q={shown} must lie in [0, 1]", argument="q")
    return values


def _select(data: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Values at fractional ``positions`` of the sorted draws (axis 0), as numpy's lerp."""
    data = np.asarray(data)
    if data.shape[0] < 1:
        raise ScenarioError("quantiles need at least one draw")
    if data.dtype not in (np.float32, np.float64):
        data = data.astype(np.float64)
    flat = np.ascontiguousarray(data.reshape(data.shape[0], -1))
    out = np.empty((positions.size, flat.shape[1]))
    positions = np.ascontiguousarray(positions, dtype=np.float64)
    has_nan = np.empty(flat.shape[1], dtype=np.bool_)
    quantile_kernel(flat, positions, numba.get_num_threads(), out, has_nan)
    if has_nan.any():  # found during the kernel's own pass over the data
        raise ScenarioError("the data hold NaN: quantiles are undefined")
    return out.reshape((positions.size, *data.shape[1:]))


def order_statistics(data: np.ndarray, ranks: Sequence[int]) -> np.ndarray:
    """The ``ranks``-th smallest values over axis 0 (0-based), exactly.

    Returns
    -------
    ndarray, shape (len(ranks), ...), float64
    """
    ranks = np.asarray(ranks, dtype=np.int64)
    n = np.asarray(data).shape[0]
    if ranks.size and (ranks.min() < 0 or ranks.max() >= n):
        raise ScenarioError(f"ranks must lie in [0, {n})")
    return _select(data, ranks.astype(np.float64))


def quantiles(data: np.ndarray, q: float | Sequence[float]) -> np.ndarray:
    """Exact quantiles over axis 0, as ``np.quantile(data, q, axis=0)`` (linear method).

    Parameters
    ----------
    data : ndarray, shape (n, ...)
        float32 or float64, no NaN.
    q : float or sequence of float in [0, 1]

    Returns
    -------
    ndarray, shape (len(q), ...), float64
    """
    qs = as_quantiles(q)
    n = np.asarray(data).shape[0]
    return _select(data, qs * (n - 1))


def bands(
    data: xr.DataArray, q: float | Sequence[float] = (0.05, 0.5, 0.95), dim: str = "draw"
) -> xr.DataArray:
    """Percentile bands over the draws.

    Parameters
    ----------
    data : xarray.DataArray
        With a ``draw`` dimension (e.g. ``ds["total"]``).
    q : float or sequence of float
        Quantiles in [0, 1]; default P5, P50, P95.
    dim : str
        The dimension to reduce.

    Returns
    -------
    xarray.DataArray
        Dimension ``quantile`` first, then the other dimensions of ``data``;
        equal to ``data.quantile(q, dim)`` (numpy's linear interpolation),
        computed by a parallel selection kernel instead of a sort.
    """
    if dim not in data.dims:
        raise ScenarioError(f"data has no {dim!r} dimension (dims: {data.dims})")
    qs = as_quantiles(q)
    ordered = data.transpose(dim, ...)
    values = quantiles(ordered.values, qs)
    others = [d for d in ordered.dims if d != dim]
    coords = {k: v for k, v in ordered.coords.items() if dim not in v.dims}
    coords["quantile"] = qs
    return xr.DataArray(
        values, dims=("quantile", *others), coords=coords, name=data.name, attrs=dict(data.attrs)
    )
