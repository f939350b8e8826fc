"""A caller's input rows checked as a scenario file's figures are.

:func:`netsim.propagate` takes rows a caller brings (a risk model's own draws). A value
a file would be refused for (an impact of -60 pp, a base scale of -1 or 1e300, an event
occurring 1e9 times, an event in the year 2026.5) would give an impossible market
without a word, so every column is held to

* its distribution's support: ``[low, high]`` of a uniform, triangular, PERT or
  truncated normal, ``[0, 1]`` of an occurrence, the values' range of a discrete
  distribution, the value of a fixed one, ``> 0`` for a lognormal (a normal has none);
* the scenario's ``[limits]`` (:mod:`netsim.scenario.limits`): impacts within
  ``growth_pp`` (events: ``event_pp``), noise draws within ``growth_pp``, delays within
  ``[0, max_years]``, the base scale above 0 and the base market below ``max_value``;
* whole numbers for event years, within the years a scenario may span.

Within these, the worst draw of any row was checked at load (:mod:`netsim.model.bounds`),
so every accepted row simulates to finite, non-negative values. The bounds are built once
per scenario and the check is a few vectorised comparisons (measured in the harness's
``propagate`` overhead row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netsim.errors import ScenarioError
from netsim.scenario.limits import EARLIEST_YEAR, LATEST_YEAR, MIN_VALUE
from netsim.scenario.memo import per_scenario
from netsim.scenario.schema import Scenario

__all__ = ["RowBounds", "check_rows", "row_bounds"]


@dataclass(frozen=True)
class RowBounds:
    """Per column: the lowest and highest value allowed, the rule each end comes from,
    and whether the column must hold whole numbers."""

    low: np.ndarray
    high: np.ndarray
    low_rule: tuple[str, ...]
    high_rule: tuple[str, ...]
    whole: np.ndarray


def _limits_by_column(scenario: Scenario) -> dict[int, tuple[float, float, str]]:
    """``column -> (low, high, rule)`` from the scenario's limits."""
    limits, index = scenario.limits, scenario.parameter_index
    bounds: dict[int, tuple[float, float, str]] = {}
    growth = (-limits.growth_pp, limits.growth_pp, f"limits.growth_pp={limits.growth_pp:g}")
    for driver in scenario.drivers:
        bounds[index[driver.impact.name]] = growth
        bounds[index[driver.delay.name]] = (
            0.0,
            float(limits.max_years),
            f"limits.max_years={limits.max_years}",
        )
    for parameter in (*scenario.noise_global, *scenario.noise_region):
        bounds[index[parameter.name]] = growth
    event_rule = f"limits.event_pp={limits.event_pp:g}"
    for event in scenario.events:
        bounds[index[event.impact.name]] = (-limits.event_pp, limits.event_pp, event_rule)
        for occurs in event.occurs:
            bounds[index[occurs.name]] = (0.0, 1.0, "an occurrence lies in [0, 1]")
        if event.year is not None:
            bounds[index[event.year.name]] = (
                float(EARLIEST_YEAR),
                float(LATEST_YEAR),
                f"years lie in {EARLIEST_YEAR}-{LATEST_YEAR}",
            )
    scale_low = max(MIN_VALUE / scenario.base_size, np.nextafter(0.0, 1.0))
    bounds[index[scenario.base_scale.name]] = (
        scale_low,
        limits.max_value / scenario.base_size,
        f"the base market {scenario.base_size:g} x base_scale lies in "
        f"[{MIN_VALUE:g}, limits.max_value={limits.max_value:g}]",
    )
    return bounds


def _build(scenario: Scenario) -> RowBounds:
    n = len(scenario.parameters)
    low, high = np.empty(n), np.empty(n)
    low_rule, high_rule = [""] * n, [""] * n
    whole = np.zeros(n, dtype=bool)
    limited = _limits_by_column(scenario)
    for j, parameter in enumerate(scenario.parameters):
        distribution = parameter.distribution
        low[j], high[j] = distribution.bounds
        rule = f"the support of its {distribution.kind} distribution"
        low_rule[j] = high_rule[j] = rule
        if j in limited:
            limit_low, limit_high, limit_rule = limited[j]
            if limit_low > low[j]:
                low[j], low_rule[j] = limit_low, limit_rule
            if limit_high < high[j]:
                high[j], high_rule[j] = limit_high, limit_rule
        whole[j] = any(event.year is parameter for event in scenario.events)
    return RowBounds(low, high, tuple(low_rule), tuple(high_rule), whole)


_BOUNDS: dict[int, RowBounds] = {}


def row_bounds(scenario: Scenario) -> RowBounds:
    """The bounds of every column of the scenario's input rows (built once per scenario)."""
    return per_scenario(_BOUNDS, scenario, _build)


def check_rows(scenario: Scenario, matrix: np.ndarray, draw: np.ndarray) -> None:
    """Refuse the first value of ``matrix`` (draws, P), finite already, that breaks a rule.

    Raises
    ------
    ScenarioError
        A ``ValueError`` naming the parameter, the row (its ``draw`` label) and the rule:
        ``inputs[draw 3, 'restraints.isotope_supply.impact']=-60 is below -50
        (limits.growth_pp=50)``.
    """
    bounds = row_bounds(scenario)
    below, above = matrix < bounds.low, matrix > bounds.high
    broken = below | above
    if bounds.whole.any():
        years = matrix[:, bounds.whole]
        broken[:, bounds.whole] |= years != np.floor(years)
    if not broken.any():
        return
    row, column = (int(i) for i in np.argwhere(broken)[0])
    value, name = float(matrix[row, column]), scenario.parameter_names[column]
    where = f"inputs[draw {int(draw[row])}, {name!r}]={value:.10g}"
    if below[row, column]:
        rule = f"is below {bounds.low[column]:.10g} ({bounds.low_rule[column]})"
    elif above[row, column]:
        rule = f"is above {bounds.high[column]:.10g} ({bounds.high_rule[column]})"
    else:
        rule = "is not a whole year"
    raise ScenarioError(f"{where} {rule} (check=False takes rows checked already)")
