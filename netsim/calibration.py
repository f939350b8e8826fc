"""Calibration: solve the growth parameters so the base case reproduces the report.

Unknowns and targets are counted from the scenario:

* global targets (sizes and CAGRs of the global total) pin the global path. With
  two or more, the solver sets a ``baseline`` (every forecast year) and a
  ``first_year_step`` (the first forecast year only); with one, the baseline
  only; with none, ``market.baseline_growth`` is given.
* each region with a ``cagr_target`` has its growth premium solved;
* each segment with a ``cagr_target`` has its growth premium solved.

All unknowns are solved together by weighted least squares
(:func:`scipy.optimize.least_squares`), each residual scaled by its target's
tolerance. The report's figures agree only through rounding (3.1 x 1.0715^5 =
4.38, not 4.37): with three global targets on two unknowns the solution is the
point of the tolerance box closest to every target, and each target is then
checked against its interval ``[value - tolerance, value + tolerance)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import least_squares

from netsim.errors import ScenarioError
from netsim.model import expected_draw_arrays, flat_segment_index, model_arrays
from netsim.reference import reference_propagate
from netsim.scenario import Calibration, Scenario, Target

__all__ = ["achieved_values", "calibrate", "target_rows"]


def _unknowns(scenario: Scenario) -> list[str]:
    n_global = sum(t.scope == "global" for t in scenario.targets)
    names = []
    if n_global >= 1:
        names.append("baseline")
    if n_global >= 2:
        names.append("first_year_step")
    names += [f"region:{r.name}" for r in scenario.regions if r.growth_premium is None]
    names += [
        f"segment:{a.name}:{s.name}"
        for a in scenario.axes
        for s in a.segments
        if s.growth_premium is None
    ]
    return names


def _calibration_from(scenario: Scenario, names: list[str], x: np.ndarray) -> Calibration:
    values = dict(zip(names, x, strict=True))
    baseline = values.get("baseline", scenario.baseline_growth)
    step = values.get("first_year_step", scenario.first_year_step)
    region_premium = {
        r.name: values[f"region:{r.name}"] if r.growth_premium is None else r.growth_premium
        for r in scenario.regions
    }
    segment_premium = {
        (a.name, s.name): values[f"segment:{a.name}:{s.name}"]
        if s.growth_premium is None
        else s.growth_premium
        for a in scenario.axes
        for s in a.segments
    }
    return Calibration(
        float(baseline), float(step), region_premium, segment_premium, tuple(names), ()
    )


def achieved_values(scenario: Scenario, total: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Each target's achieved value for one path.

    Parameters
    ----------
    total : ndarray, shape (year, country)
    segments : ndarray, shape (year, country, segment)

    Returns
    -------
    ndarray
        One value per ``scenario.targets``, in the target's unit (USD million or %).
    """
    years = scenario.years
    region_of = np.array([c.region for c in scenario.countries])
    segment_index = flat_segment_index(scenario)
    out = np.empty(len(scenario.targets))
    for i, target in enumerate(scenario.targets):
        if target.scope == "global":
            path = total.sum(axis=1)
        elif target.scope == "region":
            path = total[:, region_of == target.name].sum(axis=1)
        else:
            path = segments[:, :, segment_index[(target.axis, target.name)]].sum(axis=1)
        if target.kind == "size":
            out[i] = path[years.index(target.year)]
        else:
            ratio = path[years.index(target.end)] / path[years.index(target.start)]
            out[i] = 100.0 * (ratio ** (1.0 / (target.end - target.start)) - 1.0)
    return out


def _base_case(scenario: Scenario, calibration: Calibration) -> np.ndarray:
    model = model_arrays(scenario, calibration)
    total, segments = reference_propagate(model, expected_draw_arrays(scenario))
    return achieved_values(scenario, total[0], segments[0])


def within(target: Target, achieved: float) -> bool:
    """Whether ``achieved`` lies in ``[value - tolerance, value + tolerance)``."""
    return target.value - target.tolerance <= achieved < target.value + target.tolerance


def calibrate(scenario: Scenario) -> Scenario:
    """Solve the scenario's growth parameters; return the scenario with them set.

    Raises
    ------
    ScenarioError
        When there are more unknowns than targets, or the solution misses a
        target's tolerance (the message lists each target, wanted and achieved).
    """
    names = _unknowns(scenario)
    targets = scenario.targets
    if len(names) > len(targets):
        raise ScenarioError(
            f"calibration has {len(names)} unknowns ({', '.join(names)}) but only "
            f"{len(targets)} targets",
            path=scenario.path,
        )
    tolerance = np.array([t.tolerance for t in targets])
    wanted = np.array([t.value for t in targets])

    def residuals(x: np.ndarray) -> np.ndarray:
        achieved = _base_case(scenario, _calibration_from(scenario, names, x))
        return (achieved - wanted) / tolerance

    if names:
        start = np.full(len(names), 0.0)
        if "baseline" in names:
            start[0] = 0.05
        solution = least_squares(
            residuals, start, method="trf", x_scale=0.01, xtol=1e-14, ftol=1e-14, gtol=1e-14
        )
        x = solution.x
    else:
        x = np.empty(0)
    calibration = _calibration_from(scenario, names, x)
    achieved = _base_case(scenario, calibration)
    calibration = dataclasses.replace(calibration, achieved=tuple(float(a) for a in achieved))
    missed = [(t, a) for t, a in zip(targets, achieved, strict=True) if not within(t, a)]
    if missed:
        rows = "; ".join(
            f"{t.label}: wanted {t.value:g} +- {t.tolerance:g}, got {a:.6g}" for t, a in missed
        )
        raise ScenarioError(f"calibration cannot meet every target: {rows}", path=scenario.path)
    return dataclasses.replace(scenario, calibration=calibration)


def inherit_calibration(scenario: Scenario, parent: Scenario) -> Scenario:
    """Give an overlay its parent's solved parameters (no recalibration).

    The overlay's own targets are then reported for information only.
    """
    calibration = parent.calibration
    region_premium = {
        r.name: calibration.region_premium[r.name] if r.growth_premium is None else r.growth_premium
        for r in scenario.regions
    }
    segment_premium = {}
    for axis in scenario.axes:
        for segment in axis.segments:
            key = (axis.name, segment.name)
            if segment.growth_premium is not None:
                segment_premium[key] = segment.growth_premium
            elif key in calibration.segment_premium:
                segment_premium[key] = calibration.segment_premium[key]
            else:
                raise ScenarioError(
                    f"axes.{axis.name}.segments.{segment.name} has no solved premium in the "
                    "parent scenario; set overlay.recalibrate = true",
                    path=scenario.path,
                )
    inherited = Calibration(
        calibration.baseline,
        calibration.first_year_step,
        region_premium,
        segment_premium,
        (),
        (),
        inherited_from=parent.path,
    )
    achieved = _base_case(scenario, inherited)
    inherited = dataclasses.replace(inherited, achieved=tuple(float(a) for a in achieved))
    return dataclasses.replace(scenario, calibration=inherited)


def target_rows(scenario: Scenario) -> list[dict[str, object]]:
    """One row per calibration target: label, wanted, tolerance, achieved, ok."""
    rows = []
    for target, achieved in zip(scenario.targets, scenario.calibration.achieved, strict=True):
        rows.append(
            {
                "target": target.label,
                "unit": "USD million" if target.kind == "size" else "% CAGR",
                "wanted": target.value,
                "tolerance": target.tolerance,
                "achieved": achieved,
                "ok": within(target, achieved),
            }
        )
    return rows
