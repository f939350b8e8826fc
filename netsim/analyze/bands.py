"""Bands of one output of a run of any kind: from its draws, or as a reduced run stored them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from netsim.analyze.cells import load_draws, require_draws, select_output
from netsim.analyze.comparison import cagr as cagr_of
from netsim.analyze.comparison import exceedance
from netsim.errors import ScenarioError
from netsim.model.layout import HEADLINE_QUANTILES, OutputLayout
from netsim.run.reading import DRAWS_KIND, run_kind
from netsim.run.reduced import reduced_name
from netsim.stats.intervals import band_intervals, coverage_attrs
from netsim.stats.quantiles import as_quantiles

__all__ = ["DEFAULT_CONFIDENCE", "output_and_level", "run_bands", "run_exceedance"]

DEFAULT_CONFIDENCE = 0.95  # of the intervals of bands computed from draws


def output_and_level(dataset: xr.Dataset, by: str, output: str | None = None) -> tuple[str, str]:
    """``(output, by)`` for a place level (``global``, ``region``, ``country``: the total)
    or an axis name (its output, summed globally); or, given an ``output``, that output
    summed ``by`` a place level."""
    layout = OutputLayout.from_dataset(dataset)
    if output is not None:
        if by not in ("global", "region", "country"):
            raise ScenarioError(
                f"by={by!r}: with an output named, choose global, region or country"
            )
        layout.check(output, by)
        return output, by
    if by in ("global", "region", "country"):
        return "total", by
    if by in layout.axes:
        return f"by_{by}", "global"
    raise ScenarioError(
        f"by={by!r} is not one of {', '.join(['global', 'region', 'country', *layout.axes])}"
    )


def _draws(
    dataset: xr.Dataset,
    output: str,
    by: str,
    years: Sequence[int] | None,
    cagr: tuple[int, int] | None,
) -> xr.DataArray:
    """The draws of one output (or of each draw's CAGR), checked: the market values must
    be finite and >= 0 (else the file is damaged); a CAGR may well be negative."""
    source = dataset.encoding.get("source")
    what = f"{source}: the draws of {output}" if source else f"the draws of {output}"
    data = select_output(dataset, output, by)
    if cagr is None:
        return load_draws(_selected(data, years), what)
    start, end = cagr
    growth = cagr_of(load_draws(data, what), start, end)
    if not np.isfinite(growth.values).all():
        raise ScenarioError(
            f"{what}: the CAGR {start}-{end} is undefined where a cell is worth 0 in {start} "
            "(choose a coarser --by, or other years)"
        )
    return growth.expand_dims(period=[f"{start}-{end}"])


def _selected(data: xr.DataArray, years: Sequence[int] | None) -> xr.DataArray:
    if not years:
        return data
    known = [int(y) for y in data["year"].values]
    if len(set(years)) != len(years):
        raise ScenarioError(f"years {list(years)} name a year twice")
    for year in years:
        if int(year) not in known:
            raise ScenarioError(f"year {year} is not in the run (it has {known})")
    return data.sel(year=[int(y) for y in years])


def run_bands(
    dataset: xr.Dataset,
    output: str = "total",
    by: str = "global",
    q: float | Sequence[float] | None = None,
    confidence: float | None = None,
    years: Sequence[int] | None = None,
    cagr: tuple[int, int] | None = None,
) -> xr.Dataset:
    """Percentile bands of one output of a run, with their order-statistic intervals.

    Parameters
    ----------
    dataset : xarray.Dataset
        Any run :func:`netsim.open_run` opens: its draws (exact bands), or a run reduced
        to bands (the quantiles and confidence it was reduced with).
    output, by : str
        See :func:`netsim.analyze.cells.select_output`.
    q : float or sequence of float, optional
        Quantiles; default P5, P50 and P95 (for a run reduced to bands: the quantiles
        it holds).
    confidence : float, optional
        Of the intervals; default 0.95 (for a run reduced to bands: its own).
    years : sequence of int, optional
        Only these years.
    cagr : (start, end), optional
        Bands of each draw's CAGR between two years (% per year) instead of the values;
        needs the draws.

    Returns
    -------
    xarray.Dataset
        ``value``, ``low``, ``high`` and ``relative_halfwidth`` over ``(quantile, ...)``
        (as :func:`netsim.stats.intervals.band_intervals`); from a run's draws also the
        ``mean`` and ``standard_deviation`` (n - 1) of each cell, which a run reduced to
        bands no longer has; attrs ``confidence``, ``draws``, ``units``, and what the
        intervals' coverage means for the run's sampler (``sampler``, ``coverage_kind``:
        exact for mc, at least for lhs and sobol; ``coverage_note``).
    """
    if q is not None:
        asked = as_quantiles(q)
        if np.unique(asked).size != asked.size:
            raise ScenarioError(f"q={[float(v) for v in asked]} names a quantile twice")
    if run_kind(dataset) == DRAWS_KIND:
        qs = as_quantiles(HEADLINE_QUANTILES if q is None else q)
        confidence = DEFAULT_CONFIDENCE if confidence is None else confidence
        data = _draws(dataset, output, by, years, cagr)
        result = band_intervals(data, qs, confidence, sampler=dataset.attrs.get("sampler"))
        result.attrs["units"] = data.attrs.get("units", "")
        return _with_moments(result, data)
    if cagr is not None:
        require_draws(dataset, "a CAGR")
    OutputLayout.from_dataset(dataset).check(output, by)
    if "quantile" not in dataset.coords:
        raise ScenarioError("this run reduced to bands has no 'quantile' coordinate")
    stored = np.asarray(dataset["quantile"].values, dtype=np.float64)
    qs = stored if q is None else as_quantiles(q)
    missing = [float(v) for v in qs if not np.isclose(stored, v, rtol=0, atol=1e-12).any()]
    if missing:
        raise ScenarioError(
            f"this run was reduced to the quantiles {stored.tolist()}: q={missing} needs a run "
            "reduced with them, or its draws"
        )
    held = float(dataset.attrs.get("confidence", np.nan))
    confidence = held if confidence is None else confidence
    if not np.isclose(held, confidence):
        raise ScenarioError(
            f"this run's intervals are {100 * held:g} % intervals: confidence={confidence:.10g} "
            "needs a run reduced with it, or its draws"
        )
    name = reduced_name(output, by)
    if name not in dataset or f"{name}_interval" not in dataset or "draws" not in dataset.attrs:
        raise ScenarioError(f"this run reduced to bands holds no bands {name!r} with intervals")
    picks = [int(np.argmin(np.abs(stored - v))) for v in qs]
    value = _selected(dataset[name].isel(quantile=picks), years)
    interval = _selected(dataset[f"{name}_interval"].isel(quantile=picks), years)
    low, high = interval.sel(bound="low", drop=True), interval.sel(bound="high", drop=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        halfwidth = np.maximum(high - value, value - low) / np.abs(value)
    units = {"units": dataset[name].attrs.get("units", "")}
    result = xr.Dataset(
        {
            "value": value.assign_attrs(units),
            "low": low.assign_attrs(units),
            "high": high.assign_attrs(units),
            "relative_halfwidth": halfwidth,
        },
        attrs={
            "confidence": confidence,
            "draws": int(dataset.attrs["draws"]),
            **units,
            **coverage_attrs(dataset.attrs.get("sampler")),
        },
    )
    return result.drop_vars([v for v in ("bound",) if v in result.coords])


def _with_moments(result: xr.Dataset, data: xr.DataArray) -> xr.Dataset:
    """``result`` with the ``mean`` and ``standard_deviation`` (n - 1) of each cell of
    ``data`` over its draws: the moments an analyst used to a spreadsheet's Monte Carlo
    add-in reads beside the percentiles. Summed over draws in one memory order, so that
    the same draws give the same bits whether read from a file or a store."""
    ordered = data.transpose("draw", ...)
    values = np.ascontiguousarray(ordered.values, dtype=np.float64)
    cells = ordered.isel(draw=0, drop=True)
    units = {"units": data.attrs.get("units", "")}
    result["mean"] = cells.copy(data=values.mean(axis=0)).assign_attrs(units, long_name="mean")
    spread = values.std(axis=0, ddof=1) if len(values) > 1 else np.full(cells.shape, np.nan)
    result["standard_deviation"] = cells.copy(data=spread).assign_attrs(
        units, long_name="standard deviation (n - 1; none from one draw)"
    )
    return result


def run_exceedance(
    dataset: xr.Dataset,
    threshold: float,
    output: str = "total",
    by: str = "global",
    years: Sequence[int] | None = None,
    cagr: tuple[int, int] | None = None,
) -> xr.Dataset:
    """``P(value > threshold)`` of every cell of one output of a run (needs its draws)."""
    require_draws(dataset, "an exceedance probability")
    return exceedance(_draws(dataset, output, by, years, cagr), threshold)
