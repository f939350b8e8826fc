"""Scenarios side by side on common random numbers, exceedance probabilities and CAGRs.

Every estimated probability (``P(value > x)``, ``P(other > base)``) comes with its exact
binomial (Clopper-Pearson) interval.

Two scenarios run with the same seed draw every parameter they share from the
same keyed stream (the ``mc`` and ``lhs`` samplers key streams by parameter
name), so the difference of a draw in one and the same draw in the other is due
to what the overlay changes and nothing else: paired differences have far less
noise than differences of independent runs, and a scenario compared with itself
differs by exactly zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from netsim.analyze.cells import select_output
from netsim.errors import ScenarioError
from netsim.model.layout import OutputLayout
from netsim.run.simulate import simulate
from netsim.scenario.schema import Scenario
from netsim.stats.intervals import band_intervals, coverage_attrs
from netsim.stats.proportions import PROPORTION_INTERVAL, share_with_interval
from netsim.stats.quantiles import as_quantiles, bands

INTERVAL_CONFIDENCE = 0.95  # of the bands' intervals

__all__ = ["cagr", "compare", "exceedance"]


def compare(
    base: Scenario,
    others: Mapping[str, Scenario],
    draws: int = 20_000,
    seed: int = 0,
    sampler: str = "mc",
    output: str = "total",
    by: str = "region",
    q: Sequence[float] = (0.05, 0.5, 0.95),
) -> xr.Dataset:
    """Paired difference bands of other scenarios against a base, on common random numbers.

    Parameters
    ----------
    base : Scenario
    others : mapping of label to Scenario
        E.g. ``{"bull": bull, "bear": bear}``.
    draws, seed : int
    sampler : {"mc", "lhs"}
        ``sobol`` is refused: its columns follow the sorted parameter names, so an
        overlay that adds a parameter would shift every other stream.
    output, by : str
        See :func:`netsim.analyze.cells.select_output`.
    q : sequence of float
        Quantiles of the bands.

    Returns
    -------
    xarray.Dataset
        Over ``scenario`` (the others) and the output's dims: ``difference``
        (bands of other - base per draw, with ``quantile``), ``prob_greater``
        (P(other > base), the share of paired draws) and ``prob_greater_interval``
        (its 95 % Clopper-Pearson interval over ``(bound, ...)``), ``mean_difference``,
        ``recalibrated`` (whether each other scenario was solved anew or keeps the
        growth parameters of the scenario it changes); ``base`` and ``other`` bands;
        ``difference_interval``, ``base_interval`` and ``other_interval``: each band's
        95 % order-statistic interval over ``(bound, quantile, ...)``, infinite where too
        few draws give one. Values in the market's unit.
    """
    if sampler not in ("mc", "lhs"):
        raise ScenarioError(
            f"compare needs sampler mc or lhs (streams keyed by parameter name), not {sampler!r}"
        )
    if not others:
        raise ScenarioError("compare needs at least one other scenario")
    qs = as_quantiles(q)
    _check_same_cells(base, others)
    base_run = select_output(simulate(base, draws, seed, sampler), output, by)
    parts = []
    for label, scenario in others.items():
        other_run = select_output(simulate(scenario, draws, seed, sampler), output, by)
        difference = other_run - base_run
        greater, greater_interval = share_with_interval(other_run > base_run)
        parts.append(
            xr.Dataset(
                {
                    "difference": bands(difference, qs),
                    "difference_interval": _interval(difference, qs, sampler),
                    "prob_greater": greater,
                    "prob_greater_interval": greater_interval,
                    "mean_difference": difference.mean("draw"),
                    "other": bands(other_run, qs),
                    "other_interval": _interval(other_run, qs, sampler),
                }
            ).expand_dims(scenario=[label])
        )
    result = xr.concat(parts, dim="scenario")
    result["base"] = bands(base_run, qs)
    result["base_interval"] = _interval(base_run, qs, sampler)
    for name in (
        "difference",
        "mean_difference",
        "other",
        "base",
        *(f"{n}_interval" for n in ("difference", "other", "base")),
    ):
        result[name].attrs["units"] = OutputLayout.of(base).unit_of(output)
    result["prob_greater"].attrs["long_name"] = "P(other > base), paired draws"
    result["recalibrated"] = (
        "scenario",
        [s.calibration.inherited_from is None for s in others.values()],
        {"long_name": "solved anew (False: the growth parameters of the scenario it changes)"},
    )
    result.attrs.update(
        {
            "base": base.name,
            "draws": draws,
            "seed": seed,
            "output": output,
            "by": by,
            **coverage_attrs(sampler),
        }
    )
    return result


def _check_same_cells(base: Scenario, others: Mapping[str, Scenario]) -> None:
    """Paired draws need the same cells: refuse another scenario whose years, countries,
    axes or segments differ from the base's."""
    base_layout = OutputLayout.of(base)
    for label, scenario in others.items():
        layout = OutputLayout.of(scenario)
        for what in ("years", "countries", "country_regions", "axes", "segments"):
            if getattr(layout, what) != getattr(base_layout, what):
                raise ScenarioError(
                    f"compare pairs the draws of cells the scenarios share: {label!r} has other "
                    f"{what.replace('_', ' ')} than the base"
                )


def _interval(data: xr.DataArray, qs: np.ndarray, sampler: str) -> xr.DataArray:
    """The 95 % order-statistic interval of each band, over ``(bound, quantile, ...)``."""
    result = band_intervals(data, qs, INTERVAL_CONFIDENCE, sampler=sampler)
    interval = xr.concat([result["low"], result["high"]], dim="bound")
    interval = interval.assign_coords(bound=["low", "high"])
    interval.attrs["long_name"] = f"{100 * INTERVAL_CONFIDENCE:g} % order-statistic interval"
    interval.attrs["coverage_note"] = result.attrs["coverage_note"]
    return interval


def exceedance(
    data: xr.DataArray, threshold: float, dim: str = "draw", confidence: float = 0.95
) -> xr.Dataset:
    """``P(data > threshold)`` of every cell, with its exact binomial interval.

    Returns
    -------
    xarray.Dataset
        ``probability`` (the share of draws above ``threshold``) and
        ``probability_interval`` over ``(bound, ...)``: its Clopper-Pearson interval
        (:mod:`netsim.stats.proportions`), honest at 0 and 1 (0 of 20,000 draws gives
        ``[0, 1.8e-4]``, not a zero-width interval). Attrs ``threshold``, ``draws``,
        ``units``, ``confidence``, ``interval``.
    """
    if dim not in data.dims:
        raise ScenarioError(f"data has no {dim!r} dimension (dims: {data.dims})")
    if not np.isfinite(threshold):
        raise ScenarioError(f"threshold {threshold} must be a finite number")
    probability, interval = share_with_interval(data > threshold, dim, confidence)
    return xr.Dataset(
        {"probability": probability, "probability_interval": interval},
        attrs={
            "threshold": float(threshold),
            "draws": data.sizes[dim],
            "units": data.attrs.get("units", ""),
            "confidence": confidence,
            "interval": PROPORTION_INTERVAL,
        },
    )


def cagr(data: xr.DataArray, start: int | None = None, end: int | None = None) -> xr.DataArray:
    """Compound annual growth rate of every draw and cell between two years, in percent.

    ``100 ((value[end] / value[start]) ** (1 / (end - start)) - 1)``; defaults
    to the first and last year. Take :func:`netsim.bands` of the result for its
    distribution.
    """
    years = [int(y) for y in data["year"].values]
    start = years[0] if start is None else int(start)
    end = years[-1] if end is None else int(end)
    if start not in years or end not in years or end <= start:
        raise ScenarioError(f"CAGR years {start}-{end}: need start < end, both in {years}")
    ratio = data.sel(year=end).astype(np.float64) / data.sel(year=start).astype(np.float64)
    result = 100.0 * (ratio ** (1.0 / (end - start)) - 1.0)
    result.attrs = {"units": "% per year", "long_name": f"CAGR {start}-{end}"}
    return result.rename(f"cagr_{start}_{end}")
