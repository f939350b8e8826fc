"""Calibration: solve the growth parameters so the base case reproduces the report.

Unknowns and targets are counted from the scenario:

* global targets (sizes and CAGRs of the global total) pin the global path. With
  two or more, the solver sets a ``baseline`` (every forecast year) and a
  ``first_year_step`` (the first forecast year only); with one, the baseline
  only; with none, ``market.baseline_growth`` is given.
* each region with a ``cagr_target`` has its growth premium solved;
* each country with a ``cagr_target`` (``[countries.<name>]``) has its premium over its
  region's growth solved;
* each segment with a ``cagr_target`` has its growth premium solved.

All unknowns are solved together by weighted least squares
(:func:`scipy.optimize.least_squares`), each residual scaled by its target's
tolerance. The report's figures agree only through rounding (3.1 x 1.0715^5 =
4.38, not 4.37): with three global targets on two unknowns the solution is the
point of the tolerance box closest to every target, and each target is then
checked against its interval ``[value - tolerance, value + tolerance)``.

Solutions are memoised on disk, like numba's compiled kernels: keyed by the
scenario's merged document, the unknowns, netsim's own source, and the numpy and
scipy versions, in ``$NETSIM_CACHE_DIR`` (default ``~/.cache/netsim``). A scenario
is solved the first time it is loaded; a later load of the same scenario by the same
code reads the solution, bit for bit what the solver returned, and skips importing
scipy.optimize and solving (about 0.4 s of a ``netsim run`` start). Every load
recomputes the base case from the parameters and checks every target, cached or not.
Set ``NETSIM_CACHE_DIR`` to an empty string to solve every time. The multipliers a
patient funnel's count targets solve (:mod:`netsim.model.funnel_targets`) are memoised in
the same entry, after the growth parameters, and checked against their targets on reading.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netsim.cache_files import code_digest, entry_path, read_entry, store_entry
from netsim.defaults import cache_root
from netsim.errors import ScenarioError
from netsim.model.arrays import expected_draw_arrays, flat_segment_index, model_arrays
from netsim.model.funnel_targets import (
    meets_funnel_targets,
    solve_funnel_targets,
    solved_factors,
    unmet_targets,
)
from netsim.model.numpy_oracle import reference_propagate
from netsim.scenario.schema import Scenario, Target

__all__ = [
    "Calibration",
    "achieved_values",
    "cache_folder",
    "calibrate",
    "calibration_json",
    "calibration_used",
    "inherit_calibration",
    "restore_calibration",
    "target_rows",
]

SOLVER_OPTIONS = {"method": "trf", "x_scale": 0.01, "xtol": 1e-14, "ftol": 1e-14, "gtol": 1e-14}
MEMO_FOLDER = "calibration"  # the cache folder of solved calibrations
UNDEFINED_RESIDUAL = 1e12  # the miss of a trial point whose base case is not finite


@dataclass(frozen=True)
class Calibration:
    """Solved growth parameters (fractions per year) and what they achieve.

    ``country_premium`` holds the growth over its region's of every country with a
    premium of its own (given or solved), none for the others. ``funnel_scale`` holds
    the multiplier of each patient-funnel factor a count target solved
    (:mod:`netsim.model.funnel_targets`), none for the others.
    """

    baseline: float
    first_year_step: float
    region_premium: Mapping[str, float]
    segment_premium: Mapping[tuple[str, str], float]
    solved: tuple[str, ...]  # names of the parameters the solver set
    achieved: tuple[float, ...]  # per target of the scenario, in the target's unit
    inherited_from: str | None = None
    country_premium: Mapping[str, float] = field(default_factory=dict)
    funnel_scale: Mapping[str, float] = field(default_factory=dict)


def _unknowns(scenario: Scenario) -> list[str]:
    n_global = sum(t.scope == "global" for t in scenario.targets)
    names = []
    if n_global >= 1:
        names.append("baseline")
    if n_global >= 2:
        names.append("first_year_step")
    names += [f"region:{r.name}" for r in scenario.regions if r.growth_premium is None]
    names += [f"country:{c.name}" for c in scenario.countries if c.target is not None]
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
    country_premium = {
        c.name: values[f"country:{c.name}"] if c.target is not None else c.growth_premium
        for c in scenario.countries
        if c.has_premium
    }
    return Calibration(
        float(baseline),
        float(step),
        region_premium,
        segment_premium,
        tuple(names),
        (),
        country_premium=country_premium,
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
        One value per ``scenario.targets``, in the target's unit (the market's unit or %).
    """
    years = scenario.years
    region_of = np.array([c.region for c in scenario.countries])
    country_names = np.array([c.name for c in scenario.countries])
    segment_index = flat_segment_index(scenario)
    out = np.empty(len(scenario.targets))
    for i, target in enumerate(scenario.targets):
        if target.scope == "global":
            path = total.sum(axis=1)
        elif target.scope == "region":
            path = total[:, region_of == target.name].sum(axis=1)
        elif target.scope == "country":
            path = total[:, country_names == target.name].sum(axis=1)
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


def cache_folder() -> Path | None:
    """Where solved calibrations are kept: the ``calibration`` folder of
    :func:`netsim.defaults.cache_root` (``$NETSIM_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/netsim``, else ``~/.cache/netsim``); None when
    ``NETSIM_CACHE_DIR`` is set empty, or there is no home folder (no cache)."""
    root = cache_root()
    return None if root is None else root / MEMO_FOLDER


@functools.cache
def _code_digest() -> str:
    """SHA-256 of netsim's model sources and the numpy and scipy versions: a solution is
    reused only by the code (and libraries) that solved it."""
    return code_digest(sorted(Path(__file__).parent.glob("*.py")), ("numpy", "scipy"))


def _solution_file(scenario: Scenario, names: list[str]) -> Path | None:
    key = [scenario.document_hash, names, SOLVER_OPTIONS, _code_digest()]
    return entry_path(MEMO_FOLDER, key, ".json")


def _cached_solution(path: Path | None, names: list[str]) -> np.ndarray | None:
    """The memoised solution, or None (no cache, no entry, or one that does not check)."""
    body = read_entry(path)
    if body is None:
        return None
    try:
        entry = json.loads(body)
        if entry["unknowns"] == names and len(entry["solution"]) == len(names):
            return np.array([float(v) for v in entry["solution"]], dtype=np.float64)
    except (ValueError, KeyError, TypeError):
        pass
    return None


def _remember_solution(path: Path | None, names: list[str], x: np.ndarray) -> None:
    """Store a solution (float repr round-trips exactly); skipped when there is no cache."""
    entry = {"unknowns": names, "solution": [float(v) for v in x]}
    store_entry(path, json.dumps(entry).encode())


def _solve(scenario: Scenario, names: list[str]) -> np.ndarray:
    """Weighted least squares of every target's miss, in units of its tolerance."""
    if not names:
        return np.empty(0)
    from scipy.optimize import least_squares  # on a cache miss only: 0.25 s to import

    targets = scenario.targets
    tolerance = np.array([t.tolerance for t in targets])
    wanted = np.array([t.value for t in targets])

    def residuals(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            achieved = _base_case(scenario, _calibration_from(scenario, names, x))
            missed = (achieved - wanted) / tolerance
        # a trial point where the base case is undefined is far from every target
        return np.where(np.isfinite(missed), missed, UNDEFINED_RESIDUAL)

    start = np.full(len(names), 0.0)
    if "baseline" in names:
        start[0] = 0.05
    try:
        return least_squares(residuals, start, **SOLVER_OPTIONS).x
    except (ValueError, np.linalg.LinAlgError) as error:
        raise ScenarioError(f"calibration failed ({error})", path=scenario.path) from None


def _meets_targets(scenario: Scenario, names: list[str], x: np.ndarray) -> bool:
    """Whether a (cached) solution is finite, plausible and meets every target."""
    if not np.all(np.isfinite(x)):
        return False
    try:
        _check_plausible(scenario, names, x)
    except ScenarioError:
        return False
    with np.errstate(all="ignore"):
        achieved = _base_case(scenario, _calibration_from(scenario, names, x))
    return all(within(t, a) for t, a in zip(scenario.targets, achieved, strict=True))


def _check_plausible(scenario: Scenario, names: list[str], x: np.ndarray) -> None:
    """Every solved unknown within its plausible range (``limits.solved_*_pp``), else
    the targets that forced it are named: a mistyped figure is met by an absurd rate."""
    limits = scenario.limits
    for name, value in zip(names, x, strict=True):
        kind, _, rest = name.partition(":")
        if kind in ("baseline", "first_year_step"):
            bounds = limits.solved_baseline_pp if kind == "baseline" else limits.solved_step_pp
            key = "solved_baseline_pp" if kind == "baseline" else "solved_step_pp"
            forcing = [t for t in scenario.targets if t.scope == "global"]
        else:
            bounds, key = limits.solved_premium_pp, "solved_premium_pp"
            axis, _, segment = rest.partition(":") if kind == "segment" else ("", "", rest)
            forcing = [
                t
                for t in scenario.targets
                if t.scope == kind
                and t.name == (segment if kind == "segment" else rest)
                and (kind != "segment" or t.axis == axis)
            ]
        if not bounds[0] <= 100.0 * value <= bounds[1]:
            listed = ", ".join(f"{t.label} = {t.value:g}" for t in forcing)
            breach = (
                f"calibration solves {name} = {100 * value:+.4g} % a year, outside its plausible "
                f"range [{bounds[0]:g}, {bounds[1]:g}] (limits.{key})"
            )
            # the figures that force it: its targets (and, for the market's own growth, the
            # base size every global target is met from)
            keys = tuple(t.key for t in forcing if t.key)
            if kind in ("baseline", "first_year_step"):
                keys = ("market.base_size.value", *keys)
            raise ScenarioError(
                f"{breach}, to meet the targets {listed}: check those figures",
                path=scenario.path,
                breach=breach,
                figures=keys,
            )


def calibrate(scenario: Scenario, *, reuse_solution: bool = True) -> Scenario:
    """Solve the scenario's growth parameters; return the scenario with them set.

    The solution is memoised (see the module notes): the first load of a scenario
    solves it, later loads by the same code read it, unless ``reuse_solution`` is
    False (then it is solved again and the memo rewritten).

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
    # the funnel's count targets' multipliers are memoised with the growth parameters,
    # as unknowns ``funnel:<factor>`` after them
    funnel_names = [f"funnel:{name}" for name in solved_factors(scenario)]
    memo_names = names + funnel_names
    memo = _solution_file(scenario, memo_names) if memo_names else None
    memoised = _cached_solution(memo, memo_names) if reuse_solution else None
    cached = None if memoised is None else memoised[: len(names)]
    if cached is not None and not _meets_targets(scenario, names, cached):
        cached = None  # a damaged or foreign cache entry: solve again, never fail on it
    x = cached if cached is not None else _solve(scenario, names)
    _check_plausible(scenario, names, x)
    calibration = _calibration_from(scenario, names, x)
    achieved = _base_case(scenario, calibration)
    calibration = dataclasses.replace(calibration, achieved=tuple(float(a) for a in achieved))
    missed = [(t, a) for t, a in zip(targets, achieved, strict=True) if not within(t, a)]
    if missed:
        rows = "; ".join(
            f"{t.label}: wanted {t.value:g} +- {t.tolerance:g}, got {a:.6g}" for t, a in missed
        )
        raise ScenarioError(f"calibration cannot meet every target: {rows}", path=scenario.path)
    solved = dataclasses.replace(scenario, calibration=calibration)
    memoised_funnel = None if memoised is None else memoised[len(names) :]
    funnel_scale, funnel_read = _funnel_solution(solved, memoised_funnel)
    if cached is None or not funnel_read:
        _remember_solution(memo, memo_names, np.concatenate([x, list(funnel_scale.values())]))
    if not funnel_scale:
        return solved
    return dataclasses.replace(
        scenario, calibration=dataclasses.replace(calibration, funnel_scale=funnel_scale)
    )


def _funnel_solution(
    scenario: Scenario, memoised: np.ndarray | None
) -> tuple[dict[str, float], bool]:
    """The multipliers the funnel's count targets solve (in the targets' order), and
    whether they are the memoised ones: those are kept when they still meet every target
    (a later load by the same code then imports no scipy.optimize), else solved anew."""
    factors = solved_factors(scenario)
    if not factors:
        return {}, True
    if memoised is not None:
        solution = dict(zip(factors, (float(v) for v in memoised), strict=True))
        if meets_funnel_targets(scenario, solution):
            return solution, True
    solution = solve_funnel_targets(scenario)
    return {name: solution[name] for name in factors}, False


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
    country_premium = {}
    for country in scenario.countries:
        if country.target is None:
            if country.has_premium:
                country_premium[country.name] = country.growth_premium
        elif country.name in calibration.country_premium:
            country_premium[country.name] = calibration.country_premium[country.name]
        else:
            raise ScenarioError(
                f"countries.{country.name} has no solved premium in the parent scenario; set "
                "overlay.recalibrate = true",
                path=scenario.path,
            )
    # the baseline and first-year step are kept only where they were solved; given in the
    # file (no global targets to solve them), the overlay's own values hold
    unknowns = _unknowns(scenario)
    factor_names = set() if scenario.funnel is None else set(scenario.funnel.factor_names)
    inherited = Calibration(
        calibration.baseline if "baseline" in unknowns else scenario.baseline_growth,
        calibration.first_year_step if "first_year_step" in unknowns else scenario.first_year_step,
        region_premium,
        segment_premium,
        (),
        (),
        inherited_from=parent.path,
        country_premium=country_premium,
        funnel_scale={k: v for k, v in calibration.funnel_scale.items() if k in factor_names},
    )
    achieved = _base_case(scenario, inherited)
    inherited = dataclasses.replace(inherited, achieved=tuple(float(a) for a in achieved))
    return dataclasses.replace(scenario, calibration=inherited)


def calibration_used(scenario: Scenario) -> str:
    """Which growth solution a scenario carries, in words: ``solved for this scenario``,
    or ``kept from <file> (not recalibrated)`` for an overlay or a change that keeps the
    solution of the scenario it changes."""
    calibration = scenario.calibration
    if calibration is None:
        return "none"
    if calibration.inherited_from is None:
        return "solved for this scenario"
    return f"kept from {calibration.inherited_from} (not recalibrated)"


def calibration_json(calibration: Calibration) -> str:
    """The solved growth parameters as JSON (floats exact), for a run file's attrs."""
    data = {
        "baseline": float(calibration.baseline),
        "first_year_step": float(calibration.first_year_step),
        "region_premium": {k: float(v) for k, v in calibration.region_premium.items()},
        "segment_premium": [[a, s, float(v)] for (a, s), v in calibration.segment_premium.items()],
        "solved": list(calibration.solved),
        "inherited_from": calibration.inherited_from,
    }
    if calibration.country_premium:  # absent in a run of a market without country premiums
        data["country_premium"] = {k: float(v) for k, v in calibration.country_premium.items()}
    if calibration.funnel_scale:  # absent in a run of a funnel without count targets
        data["funnel_scale"] = {k: float(v) for k, v in calibration.funnel_scale.items()}
    return json.dumps(data)


def restore_calibration(scenario: Scenario, text: str) -> Scenario:
    """Give a scenario the parameters of :func:`calibration_json`, without solving.

    A run file rebuilds its scenario this way: the solver's last bits depend on the
    machine's linear algebra, so solving again elsewhere could move a parameter by an
    ulp and every draw with it. The base case is recomputed and, unless the
    calibration was inherited by an overlay, every target checked.

    Raises
    ------
    ScenarioError
        If the text is not such JSON, does not fit the scenario, or misses a target.
    """
    try:
        data = json.loads(text)
        calibration = Calibration(
            float(data["baseline"]),
            float(data["first_year_step"]),
            {str(k): float(v) for k, v in data["region_premium"].items()},
            {(str(a), str(s)): float(v) for a, s, v in data["segment_premium"]},
            tuple(str(n) for n in data["solved"]),
            (),
            inherited_from=data["inherited_from"],
            country_premium={str(k): float(v) for k, v in data.get("country_premium", {}).items()},
            funnel_scale={str(k): float(v) for k, v in data.get("funnel_scale", {}).items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ScenarioError(f"the stored calibration is damaged ({error})") from None
    regions = {r.name for r in scenario.regions}
    segments = {(a.name, s.name) for a in scenario.axes for s in a.segments}
    countries = {c.name for c in scenario.countries if c.has_premium}
    solvable = set() if scenario.funnel is None else set(scenario.funnel.factor_names)
    if (
        set(calibration.region_premium) != regions
        or set(calibration.segment_premium) != segments
        or set(calibration.country_premium) != countries
        or not set(calibration.funnel_scale) <= solvable
    ):
        raise ScenarioError("the stored calibration does not fit the stored scenario")
    achieved = _base_case(scenario, calibration)
    calibration = dataclasses.replace(calibration, achieved=tuple(float(a) for a in achieved))
    restored = dataclasses.replace(scenario, calibration=calibration)
    if calibration.inherited_from is None:
        missed = [
            t.label for t, a in zip(scenario.targets, achieved, strict=True) if not within(t, a)
        ]
        missed += unmet_targets(restored)
        if missed:
            raise ScenarioError(f"the stored calibration misses targets: {', '.join(missed)}")
    return restored


def target_rows(scenario: Scenario) -> list[dict[str, object]]:
    """One row per calibration target: label, wanted, tolerance, achieved, ok."""
    rows = []
    for target, achieved in zip(scenario.targets, scenario.calibration.achieved, strict=True):
        rows.append(
            {
                "target": target.label,
                "unit": scenario.unit if target.kind == "size" else "% CAGR",
                "wanted": target.value,
                "tolerance": target.tolerance,
                "achieved": achieved,
                "ok": within(target, achieved),
            }
        )
    return rows
