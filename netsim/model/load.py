"""Loading a scenario: read the document, validate it, calibrate it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from netsim.errors import ScenarioError
from netsim.model.bounds import check_worst_draw
from netsim.model.calibration import calibrate, inherit_calibration, restore_calibration
from netsim.sampling.copula import correlation_factor
from netsim.scenario.documents import apply_overrides, load_document
from netsim.scenario.parse import parse_scenario
from netsim.scenario.schema import Scenario

__all__ = ["load_scenario", "scenario_of_run"]


def load_scenario(
    source: str | Path | Mapping[str, Any],
    overrides: list[str] | None = None,
    *,
    reuse_solution: bool = True,
    recalibrate: bool | None = None,
    parent: Scenario | None = None,
) -> Scenario:
    """Load, validate and calibrate a scenario.

    Parameters
    ----------
    source : str, Path or Mapping
        A TOML file (an overlay's ``[overlay] extends`` chain is followed) or a
        dict of the same shape.
    overrides : list of str, optional
        ``key.path=value`` assignments applied on top (the CLI's ``--set``).
    reuse_solution : bool
        Read the calibration from the solver's cache when this scenario has been
        solved before by this code (the default), or solve it again regardless
        (``netsim validate``). Both give the same parameters, bit for bit.
    recalibrate : bool, optional
        None (the default, the CLI's too): a scenario file is calibrated; an overlay
        keeps its parent's solved growth parameters unless it says ``recalibrate =
        true``; ``overrides`` keep the solution of the scenario they change. A change
        is then the change and nothing else: solving anew would move the baseline
        growth until the report's targets hold again, taking back most of the change
        (a stronger PRRT driver, ``impact.mode = 1.8``, gave a smaller PRRT market).
        False: neither an overlay nor ``overrides`` is recalibrated, whatever the
        overlay says. True: everything is solved anew. The scenario's ``calibration``
        says which was used (``inherited_from``), and so do the runs made from it
        (attr ``calibration_used``).
    parent : Scenario, optional
        The scenario an overlay document extends, already loaded (from its
        ``[overlay] extends`` file, as this function loads it): an overlay that keeps
        its parent's solution then takes it from here instead of loading the parent
        again (a caller that changes one scenario many times, such as ``netsim serve``).

    Returns
    -------
    Scenario
        Frozen and calibrated: its base case meets every calibration target (an
        inherited calibration reports its targets for information only).

    Raises
    ------
    ScenarioError
        Naming the file and key path of the first invalid entry.
    """
    if isinstance(source, Mapping):
        document, label = dict(source), "<scenario dict>"
    else:
        document, label = load_document(source)
    if overrides and recalibrate is not True:
        parent = _build(document, label, reuse_solution, recalibrate)
        changed = parse_scenario(apply_overrides(document, overrides), label)
        correlation_factor(changed)
        calibrated = inherit_calibration(changed, parent)
        check_worst_draw(calibrated)
        return calibrated
    if overrides:
        document = apply_overrides(document, overrides)
    return _build(document, label, reuse_solution, recalibrate, parent)


def _build(
    document: dict[str, Any],
    label: str,
    reuse_solution: bool,
    recalibrate: bool | None,
    loaded_parent: Scenario | None = None,
) -> Scenario:
    overlay = document.get("overlay")
    scenario = parse_scenario(document, label)
    correlation_factor(scenario)  # an impossible correlation matrix fails at load, not later
    inherits = overlay is not None and (
        not overlay.get("recalibrate", False) if recalibrate is None else not recalibrate
    )
    if inherits:
        parent = loaded_parent or _build(
            overlay["parent"], overlay["extends"], reuse_solution, recalibrate
        )
        calibrated = inherit_calibration(scenario, parent)
    else:
        calibrated = calibrate(scenario, reuse_solution=reuse_solution)
    check_worst_draw(calibrated)  # no draw may give a negative or overflowing market
    return calibrated


def scenario_of_run(document_json: str, calibration: str, label: str) -> Scenario:
    """The scenario a run file was made from: its stored document and calibration.

    Raises
    ------
    ScenarioError
        Naming ``label`` (the run file) when either is damaged or no longer valid.
    """
    import json

    try:
        document = json.loads(document_json)
    except ValueError as error:
        raise ScenarioError(f"{label}: the stored scenario document is damaged ({error})") from None
    if not isinstance(document, dict):
        raise ScenarioError(f"{label}: the stored scenario document is not a table")
    try:
        scenario = parse_scenario(document, label)
        correlation_factor(scenario)
        restored = restore_calibration(scenario, calibration)
        check_worst_draw(restored)
        return restored
    except ScenarioError as error:
        raise ScenarioError(f"{label}: the stored scenario is invalid: {error}") from None
