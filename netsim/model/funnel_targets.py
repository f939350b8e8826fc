"""Solving the patient funnel to the counts its checks name as calibration targets.

A ``[funnel.checks.<id>]`` with ``solve = {factor, low, high}`` is met by scaling one
funnel factor (its whole distribution, by one multiplier, as the top-down model solves
a premium): the funnel's deterministic base case then counts the stated patients. All
targets are solved together (each count may depend on several solved factors, e.g. a
treated count on the duration another target solves), in logs, by
:func:`scipy.optimize.root`; the base case is the numpy oracle's
(:func:`netsim.model.numpy_oracle.reference_funnel`, one draw, float64), as the top-down
calibration uses its own. Each solved point must lie within its target's plausible
range, and a stage's or split's share, scaled, within 100 %: otherwise the load is
refused naming the target's key path.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from netsim.errors import ScenarioError
from netsim.model.arrays import expected_draw_arrays, funnel_arrays, funnel_scales
from netsim.model.numpy_oracle import reference_funnel, reference_funnel_factors
from netsim.scenario.schema import FunnelCheck, Scenario

__all__ = [
    "TARGET_TOLERANCE",
    "base_case_counts",
    "funnel_target_rows",
    "meets_funnel_targets",
    "solve_funnel_targets",
    "solved_factors",
    "unmet_targets",
]

TARGET_TOLERANCE = 1e-9  # relative miss of a solved count that still meets its target
SOLVER_OPTIONS = {"xtol": 1e-14}


def base_case_counts(scenario: Scenario, solved: Mapping[str, float] | None = None) -> np.ndarray:
    """Each check's count in the funnel's deterministic base case, with the factors
    scaled by ``solved`` (default: the scenario's calibration's multipliers).

    Returns
    -------
    ndarray, shape (check,)
        Patients.
    """
    funnel = scenario.funnel
    if funnel is None or not funnel.checks:
        return np.empty(0)
    draws = expected_draw_arrays(scenario)
    points = np.array([f.parameter.distribution.point for f in funnel.factors])
    draws = draws._replace(funnel_base=(points * funnel_scales(scenario, solved))[None, :])
    arrays = funnel_arrays(scenario)
    with np.errstate(all="ignore"):
        patients = reference_funnel(arrays, draws, funnel.splits)["patients"][0]
        factors = reference_funnel_factors(arrays, draws)[0]  # (region, year, factor)
    return np.array([_count(scenario, check, patients, factors) for check in funnel.checks])


def _count(
    scenario: Scenario, check: FunnelCheck, patients: np.ndarray, factors: np.ndarray
) -> float:
    """One check's count from the base case's patients (year, country, stage) and its
    factors' values (region, year, factor): the stage's patients in the check's
    countries, times the shares of its segments (which apply at every stage)."""
    funnel = scenario.funnel
    year = scenario.years.index(check.year)
    countries = [c.name for c in scenario.countries]
    places = np.array([countries.index(c) for c in check.countries])
    people = patients[year, places, funnel.stages.index(check.stage)]
    if check.axis is not None:
        members = {
            f.segment: i
            for i, f in enumerate(funnel.factors)
            if f.kind == "split" and f.axis == check.axis
        }
        region_of = funnel_arrays(scenario).region_of[places]
        columns = [members[s] for s in check.segments]
        people = people * factors[region_of, year][:, columns].sum(axis=1)
    return float(people.sum())


def _targets(scenario: Scenario) -> list[FunnelCheck]:
    funnel = scenario.funnel
    return [] if funnel is None else [c for c in funnel.checks if c.solve is not None]


def solved_factors(scenario: Scenario) -> list[str]:
    """The names of the factors the count targets solve, in the targets' order."""
    return [c.solve.factor for c in _targets(scenario)]


def meets_funnel_targets(scenario: Scenario, solved: Mapping[str, float]) -> bool:
    """Whether multipliers (e.g. a memoised solution) are finite, plausible and meet every
    count target."""
    if set(solved) != set(solved_factors(scenario)):
        return False
    if not all(np.isfinite(v) and v > 0 for v in solved.values()):
        return False
    try:
        _check_plausible(scenario, _targets(scenario), solved)
    except ScenarioError:
        return False
    return not unmet_targets(scenario, solved)


def solve_funnel_targets(scenario: Scenario) -> dict[str, float]:
    """The multiplier of each factor a count target solves, so that the base case meets
    every target.

    Parameters
    ----------
    scenario : Scenario
        Calibrated for its top-down model; its funnel's own solved multipliers, if any,
        are ignored (solved anew).

    Returns
    -------
    dict of str to float
        Factor name -> multiplier of its file values (empty without count targets).

    Raises
    ------
    ScenarioError
        When a target's count is 0 whatever the factor, cannot be met, or needs a factor
        outside its plausible range or a share over 100 %, naming its key path.
    """
    targets = _targets(scenario)
    if not targets:
        return {}
    funnel = scenario.funnel
    rows = [funnel.checks.index(c) for c in targets]
    names = [c.solve.factor for c in targets]
    wanted = np.log([c.value for c in targets])

    def counts(x: np.ndarray) -> np.ndarray:
        return base_case_counts(scenario, dict(zip(names, np.exp(x), strict=True)))[rows]

    start = counts(np.zeros(len(names)))
    for check, count in zip(targets, start, strict=True):
        if not count > 0:
            raise ScenarioError(
                f"{check.solve.key}: the funnel counts no patients for {check.label!r} "
                f"({check.year}), so scaling {check.solve.factor} cannot meet "
                f"{check.value:,.6g}",
                path=scenario.path,
                key=check.solve.key,
            )
    from scipy.optimize import root  # only for a funnel with count targets

    def residuals(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            missed = np.log(counts(x)) - wanted
        return np.where(np.isfinite(missed), missed, 1e6)

    x = root(residuals, np.zeros(len(names)), method="hybr", options=SOLVER_OPTIONS).x
    solved = dict(zip(names, (float(v) for v in np.exp(x)), strict=True))
    _check_plausible(scenario, targets, solved)
    missed = unmet_targets(scenario, solved)
    if missed:
        raise ScenarioError(
            f"the funnel cannot meet its count targets: {'; '.join(missed)}",
            path=scenario.path,
            key=targets[0].solve.key,
        )
    return solved


def unmet_targets(scenario: Scenario, solved: Mapping[str, float] | None = None) -> list[str]:
    """The count targets the base case misses (by more than :data:`TARGET_TOLERANCE`),
    each as ``label: wanted W, got G``; empty when all are met."""
    targets = _targets(scenario)
    if not targets:
        return []
    counts = base_case_counts(scenario, solved)
    missed = []
    for check in targets:
        got = counts[scenario.funnel.checks.index(check)]
        if not abs(got / check.value - 1.0) <= TARGET_TOLERANCE:
            missed.append(f"{check.label}: wanted {check.value:,.6g}, got {got:,.6g}")
    return missed


def _check_plausible(
    scenario: Scenario, targets: list[FunnelCheck], solved: Mapping[str, float]
) -> None:
    """Each solved point within its target's plausible range; a share's values, scaled
    (and times its region and country multipliers), within 100 %."""
    factors = {f.name: f for f in scenario.funnel.factors}
    for check in targets:
        solve = check.solve
        factor = factors[solve.factor]
        multiplier = solved[solve.factor]
        point = factor.parameter.distribution.point * multiplier
        unit = factor.parameter.unit
        if not (np.isfinite(point) and solve.low <= point <= solve.high):
            raise ScenarioError(
                f"{solve.key}: meeting {check.label!r} ({check.value:,.6g} patients in "
                f"{check.year}) needs {factor.parameter.name} = {point:.6g} {unit} (x "
                f"{multiplier:.4g}), outside its plausible range [{solve.low:g}, "
                f"{solve.high:g}] {unit}: check the count or the funnel's other factors",
                path=scenario.path,
                key=solve.key,
            )
        if factor.kind not in ("stage", "split"):
            continue
        _, high = factor.parameter.distribution.support
        widest = max(
            factor.by_region.get(c.region, 1.0) * factor.by_country.get(c.name, 1.0)
            for c in scenario.countries
        )
        if high * multiplier * widest > 100.0 + 1e-6:
            raise ScenarioError(
                f"{solve.key}: meeting {check.label!r} scales {factor.parameter.name} by "
                f"{multiplier:.4g}, so its values (up to {high:.6g} %, x its region and "
                f"country multipliers) would reach {high * multiplier * widest:.6g} %, over "
                "100 %",
                path=scenario.path,
                key=solve.key,
            )


def funnel_target_rows(scenario: Scenario) -> list[dict[str, object]]:
    """One row per count target: its label, year, wanted and achieved patients, the
    factor it solves (its parameter's name and unit), the file's point, the solved point
    and the plausible range."""
    targets = _targets(scenario)
    if not targets:
        return []
    calibration = scenario.calibration
    solved = {} if calibration is None else calibration.funnel_scale
    counts = base_case_counts(scenario)
    factors = {f.name: f for f in scenario.funnel.factors}
    rows = []
    for check in targets:
        factor = factors[check.solve.factor]
        point = factor.parameter.distribution.point
        achieved = float(counts[scenario.funnel.checks.index(check)])
        rows.append(
            {
                "id": check.id,
                "label": check.label,
                "year": check.year,
                "wanted": check.value,
                "achieved": achieved,
                "ok": abs(achieved / check.value - 1.0) <= TARGET_TOLERANCE,
                "parameter": factor.parameter.name,
                "unit": factor.parameter.unit,
                "point": point,
                "solved": point * solved.get(factor.name, 1.0),
                "low": check.solve.low,
                "high": check.solve.high,
            }
        )
    return rows
