"""Counts as calibration targets of the patient funnel: a check with ``solve`` is met by
the base case after solving its factor, refused when the solved value is implausible,
kept by run files and inherited by overlays that do not recalibrate."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import netsim
from netsim.analyze.reconcile import _check_counts
from netsim.cli import main
from netsim.model.arrays import expected_draw_arrays
from netsim.model.calibration import calibration_json, restore_calibration
from netsim.model.propagate import run_kernel

from .helpers import write_toml
from .test_funnel import A, funnel_document


def _solving(document: dict, check: str, factor: str, low: float, high: float) -> dict:
    document = copy.deepcopy(document)
    solve = {"factor": factor, "low": low, "high": high, "source": A}
    document["funnel"]["checks"][check]["solve"] = solve
    return document


def _with_cases_check(document: dict, value: float) -> dict:
    """A second check: the people with the disease in R1 in 2027 (drivers and events act
    by then), solved with the duration."""
    document = copy.deepcopy(document)
    document["funnel"]["checks"]["prevalence"] = {
        "stage": "cases",
        "year": 2027,
        "places": ["R1"],
        "value": value,
        "source": A,
        "solve": {"factor": "duration", "low": 1.0, "high": 30.0, "source": A},
    }
    return document


def kernel_counts(scenario: netsim.Scenario) -> np.ndarray:
    """Each check's count in the base case as the numba kernel computes it (the solver
    uses the numpy oracle: the two are independent)."""
    arrays = run_kernel(scenario, expected_draw_arrays(scenario))
    from netsim.model.arrays import point_inputs

    return _check_counts(scenario, arrays, point_inputs(scenario))[0]


def test_a_count_target_is_met_after_solving():
    document = _solving(funnel_document(), "registry", "stages.diagnosed", 10.0, 95.0)
    plain = netsim.load_scenario(funnel_document())
    unsolved = float(kernel_counts(plain)[0])
    assert abs(unsolved / 1500.0 - 1.0) > 0.05  # the test means something: it must move
    scenario = netsim.load_scenario(document)
    (multiplier,) = scenario.calibration.funnel_scale.values()
    assert scenario.calibration.funnel_scale == {"stages.diagnosed": multiplier}
    np.testing.assert_allclose(kernel_counts(scenario), [1500.0], rtol=1e-6)  # float32 cells
    # the factor is scaled as a whole: every draw's diagnosed share moves by the multiplier
    inputs = netsim.sample_inputs(scenario, 50, seed=3)
    moved = netsim.propagate(scenario, inputs, as_arrays=True, dtype=np.float64)["patients"]
    before = netsim.propagate(plain, inputs, as_arrays=True, dtype=np.float64)["patients"]
    np.testing.assert_allclose(moved[:, 0, :, 1], before[:, 0, :, 1] * multiplier, rtol=1e-12)
    np.testing.assert_array_equal(moved[..., 0], before[..., 0])  # cases untouched


def test_two_targets_are_solved_together():
    """A count in a forecast year solved with the duration, and the registry count (which
    also depends on the duration) with the diagnosed share: both met at once."""
    document = _with_cases_check(
        _solving(funnel_document(), "registry", "stages.diagnosed", 10.0, 95.0), 2400.0
    )
    scenario = netsim.load_scenario(document)
    assert set(scenario.calibration.funnel_scale) == {"stages.diagnosed", "duration"}
    np.testing.assert_allclose(kernel_counts(scenario), [1500.0, 2400.0], rtol=1e-6)


@pytest.mark.slow
def test_validate_and_reconcile_report_the_target_and_its_solved_factor(tmp_path, capsys):
    document = _solving(funnel_document(), "registry", "stages.diagnosed", 10.0, 95.0)
    path = tmp_path / "scenario.toml"
    write_toml(document, path)
    assert main(["validate", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "the patient funnel's count targets" in printed
    row = next(line for line in printed.splitlines() if line.strip().startswith("registry"))
    assert "1,500" in row and "yes" in row and "funnel.stages.diagnosed.share" in row
    assert main(["reconcile", str(path), "--draws", "200", "--no-plot"]) == 0
    printed = capsys.readouterr().out
    assert "target: funnel.stages.diagnosed.share = " in printed


def _registry(value: float, factor: str, low: float, high: float):
    """A change: the registry check made a target of ``value`` solving ``factor``."""

    def change(document: dict) -> dict:
        document = _solving(document, "registry", factor, low, high)
        document["funnel"]["checks"]["registry"]["value"] = value
        return document

    return change


# (change, what the one-line message says)
BAD_TARGETS = {
    "implausible solved value": (
        _registry(1500.0, "stages.diagnosed", 10.0, 50.0),
        "funnel.checks.registry.solve: meeting 'registry' (1,500 patients in 2025) needs "
        "funnel.stages.diagnosed.share = ",
    ),
    "share pushed over 100 %": (  # its point stays plausible, its upper end does not
        _registry(2120.0, "stages.diagnosed", 10.0, 100.0),
        "funnel.checks.registry.solve: meeting 'registry' scales funnel.stages.diagnosed.share",
    ),
    "factor that does not change the count": (
        _registry(1500.0, "cost.s0.price_per_dose", 1.0, 1e6),
        "funnel.checks.registry.solve.factor='cost.s0.price_per_dose' does not change",
    ),
    "later stage than the count's": (
        _registry(1500.0, "stages.treated", 1.0, 100.0),
        "funnel.checks.registry.solve.factor='stages.treated' does not change",
    ),
    "one factor for two targets": (
        lambda d: _with_cases_check(_registry(1500.0, "duration", 1.0, 30.0)(d), 2400.0),
        "factor 'duration' is already solved by another check",
    ),
    "low above high": (
        _registry(1500.0, "stages.diagnosed", 90.0, 10.0),
        "funnel.checks.registry.solve: low=90 must be below high=10",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", [pytest.param(k, id=k.replace(" ", "-")) for k in BAD_TARGETS])
def test_an_implausible_or_impossible_target_is_refused_in_one_line(case, tmp_path, capsys):
    change, message = BAD_TARGETS[case]
    document = change(funnel_document())
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.load_scenario(document)
    assert message in str(caught.value)
    path = tmp_path / "scenario.toml"
    write_toml(document, path)
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_a_run_keeps_the_solved_factor_and_refuses_a_changed_one():
    document = _solving(funnel_document(), "registry", "stages.diagnosed", 10.0, 95.0)
    scenario = netsim.load_scenario(document)
    text = calibration_json(scenario.calibration)
    plain = netsim.load_scenario(funnel_document())
    fresh = netsim.load_scenario(document, recalibrate=True)
    again = restore_calibration(fresh, text)
    assert again.calibration.funnel_scale == scenario.calibration.funnel_scale
    assert again.scenario_hash == scenario.scenario_hash
    changed = text.replace('"funnel_scale": {"stages.diagnosed": ', '"funnel_scale": {"x": ')
    with pytest.raises(netsim.ScenarioError, match="does not fit"):
        restore_calibration(fresh, changed)
    factor = scenario.calibration.funnel_scale["stages.diagnosed"]
    off = text.replace(repr(factor), repr(factor * 1.01))
    assert off != text
    with pytest.raises(netsim.ScenarioError, match="misses targets: registry"):
        restore_calibration(fresh, off)
    # the multiplier is part of the model's hash: a run of the unsolved funnel differs
    assert plain.scenario_hash != scenario.scenario_hash


def test_an_overlay_that_does_not_recalibrate_keeps_the_solved_factor():
    document = _solving(funnel_document(), "registry", "stages.diagnosed", 10.0, 95.0)
    scenario = netsim.load_scenario(document)
    change = ["funnel.stages.diagnosed.share.mode=70"]
    kept = netsim.load_scenario(document, change, recalibrate=False)
    resolved = netsim.load_scenario(document, change, recalibrate=True)
    factor = scenario.calibration.funnel_scale["stages.diagnosed"]
    assert kept.calibration.funnel_scale["stages.diagnosed"] == factor
    assert abs(resolved.calibration.funnel_scale["stages.diagnosed"] - factor) > 1e-3
    np.testing.assert_allclose(kernel_counts(resolved), [1500.0], rtol=1e-6)


def test_the_solved_multipliers_are_memoised_with_the_growth_parameters(tmp_path, monkeypatch):
    """A later load reads the multipliers back bit for bit without solving (no
    scipy.optimize at start-up); a memo whose multipliers no longer meet the targets is
    solved again, never used."""
    import json

    import scipy.optimize

    from netsim.cache_files import read_entry, store_entry

    monkeypatch.setenv("NETSIM_CACHE_DIR", str(tmp_path))
    calls, real = [], scipy.optimize.root
    monkeypatch.setattr(scipy.optimize, "root", lambda *a, **k: calls.append(1) or real(*a, **k))
    document = _solving(funnel_document(), "registry", "stages.diagnosed", 10.0, 95.0)
    solved = netsim.load_scenario(document)
    assert len(calls) == 1
    (entry,) = (tmp_path / "calibration").glob("*.json")
    memo = json.loads(read_entry(entry))
    assert memo["unknowns"][-1] == "funnel:stages.diagnosed"
    again = netsim.load_scenario(document)
    assert len(calls) == 1  # read back
    assert again.calibration.funnel_scale == solved.calibration.funnel_scale
    memo["solution"][-1] *= 1.01
    store_entry(entry, json.dumps(memo).encode())  # well formed, its digest right: wrong
    third = netsim.load_scenario(document)
    assert len(calls) == 2  # the damaged multiplier is solved again
    assert third.calibration.funnel_scale == solved.calibration.funnel_scale
