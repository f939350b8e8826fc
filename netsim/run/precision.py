"""Runs to a precision: batches of draws until the headline percentiles are sure enough."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from netsim.errors import ScenarioError
from netsim.model.layout import HEADLINE_QUANTILES, headline_draws
from netsim.model.propagate import propagate
from netsim.sampling.inputs import sample_inputs
from netsim.scenario.schema import Scenario
from netsim.stats.intervals import band_intervals

__all__ = ["relative_precision", "simulate_to_precision"]


def relative_precision(
    dataset: xr.Dataset, q: Sequence[float] = HEADLINE_QUANTILES, confidence: float = 0.95
) -> float:
    """The widest relative half-width of the confidence intervals of every headline percentile."""
    worst = 0.0
    for data in headline_draws(dataset).values():
        worst = max(worst, float(band_intervals(data, q, confidence)["relative_halfwidth"].max()))
    return worst


def simulate_to_precision(
    scenario: Scenario,
    precision: float,
    seed: int = 0,
    *,
    sampler: str = "mc",
    first_draws: int = 10_000,
    max_draws: int = 2_000_000,
    confidence: float = 0.95,
    q: Sequence[float] = HEADLINE_QUANTILES,
    progress: Callable[[int], Any] | None = None,
) -> xr.Dataset:
    """Simulate in batches until every headline percentile is known to ``precision``.

    After each batch the 95 % intervals of the headline percentiles
    (:func:`netsim.model.layout.headline_draws`) are computed; the run stops once the widest
    relative half-width is at most ``precision``, or at ``max_draws``. The next
    batch is sized from the sample-size law (half-width ~ 1 / sqrt(n)). Draws are
    keyed by index (``mc``), so the batches add draws and change none: the
    result equals ``simulate(scenario, draws_used, seed)``.

    Returns
    -------
    xarray.Dataset
        The run, with attrs ``precision_target``, ``precision_achieved``,
        ``precision_confidence``, ``precision_met`` (0 or 1) and ``draws``.
    """
    if not 0.0 < precision < 1.0:
        raise ScenarioError(f"precision {precision} must lie in (0, 1) (0.005 = 0.5 %)")
    if not 1 <= first_draws <= max_draws:
        raise ScenarioError(
            f"the first batch of {first_draws:,} draws is over max_draws={max_draws:,}"
        )
    if sampler != "mc":
        raise ScenarioError(
            f"a precision run needs sampler mc (independent, index-keyed draws), not {sampler!r}"
        )
    inputs = sample_inputs(scenario, first_draws, seed, "mc")
    dataset = propagate(scenario, inputs, progress=progress, check=False)  # sampled: within
    draws = first_draws
    while True:
        achieved = relative_precision(dataset, q, confidence)
        if achieved <= precision or draws >= max_draws:
            break
        wanted = int(np.ceil(draws * 1.2 * (achieved / precision) ** 2))
        target = min(max_draws, max(wanted, draws + draws // 4), 8 * draws)
        inputs = sample_inputs(scenario, target, seed, "mc", draws, target)
        labelled = xr.DataArray(
            inputs,
            dims=("draw", "parameter"),
            coords={"draw": np.arange(draws, target), "parameter": list(scenario.parameter_names)},
        )
        extra = propagate(scenario, labelled, progress=progress, check=False)
        dataset = xr.concat([dataset, extra], dim="draw", data_vars="minimal", coords="minimal")
        draws = target
    dataset.attrs.update(
        {
            "seed": int(seed),
            "sampler": "mc",
            "draws": draws,
            "precision_target": precision,
            "precision_achieved": achieved,
            "precision_confidence": confidence,
            "precision_met": int(achieved <= precision),
        }
    )
    return dataset
