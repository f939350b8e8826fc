"""Invariant 3: the deterministic base case meets DESIGN.md's calibration table."""

from __future__ import annotations

import json

import numpy as np
import pytest

import netsim
from netsim.cache_files import read_entry, store_entry
from netsim.errors import ScenarioError

from .conftest import NET_CONFIG


@pytest.fixture(scope="module")
def base(net):
    return netsim.deterministic(net)


def cagr(path, start: int, end: int) -> float:
    return 100.0 * ((path.sel(year=end) / path.sel(year=start)) ** (1 / (end - start)) - 1.0)


def global_path(base, variable="total", **selection):
    data = base[variable]
    if selection:
        data = data.sel(**selection)
    return data.sum("country")


def test_global_2025_is_the_exact_input(base):
    assert float(global_path(base).sel(year=2025)) == pytest.approx(2890.0, rel=1e-12)


def test_global_2026_within_rounding(base):
    assert 3095.0 <= float(global_path(base).sel(year=2026)) < 3105.0


def test_global_2031_within_rounding(base):
    assert 4365.0 <= float(global_path(base).sel(year=2031)) < 4375.0


def test_global_cagr_2026_2031(base):
    assert 7.145 <= float(cagr(global_path(base), 2026, 2031)) < 7.155


def test_solution_is_the_design_reconciliation(base):
    # the report's rounded figures only agree through rounding; DESIGN.md: 2026 near 3.096
    assert float(global_path(base).sel(year=2026)) == pytest.approx(3096.0, abs=1.0)


@pytest.mark.parametrize(
    ("axis", "segment", "share"),
    [
        ("modality", "SSA", 43.62),
        ("indication", "Gastrointestinal", 37.12),
        ("end_user", "Hospitals", 59.74),
    ],
)
def test_reported_2025_shares_are_exact(base, axis, segment, share):
    segment_total = global_path(base, f"by_{axis}").sel({axis: segment, "year": 2025})
    achieved = 100 * float(segment_total) / float(global_path(base).sel(year=2025))
    assert achieved == pytest.approx(share, abs=1e-9)


@pytest.mark.parametrize(
    ("axis", "segment", "target"),
    [
        ("modality", "PRRT", 10.01),
        ("indication", "Pancreas", 11.45),
        ("end_user", "Ambulatory Surgery Centers", 9.55),
    ],
)
def test_segment_cagr_targets(base, axis, segment, target):
    path = global_path(base, f"by_{axis}").sel({axis: segment})
    assert abs(float(cagr(path, 2026, 2031)) - target) <= 0.005


def test_north_america_share_2025_is_exact(base):
    regions = netsim.by_region(base["total"])
    share = 100 * float(
        regions.sel(region="North America", year=2025) / regions.sel(year=2025).sum()
    )
    assert share == pytest.approx(39.35, abs=1e-9)


def test_apac_cagr_and_fastest_growing(base):
    regions = netsim.by_region(base["total"])
    rates = {str(r): float(cagr(regions.sel(region=r), 2026, 2031)) for r in regions.region.values}
    assert abs(rates["Asia-Pacific"] - 9.86) <= 0.005
    assert max(rates, key=rates.get) == "Asia-Pacific"  # report: fastest growing market


@pytest.mark.slow
def test_baselines_are_solved_not_typed(tmp_path):
    # a different base size must still meet the targets, with different baselines
    default = netsim.load_scenario(NET_CONFIG)
    moved = netsim.load_scenario(NET_CONFIG, ["market.base_size.value=2800.0"], recalibrate=True)
    assert moved.calibration.baseline != default.calibration.baseline
    assert moved.calibration.first_year_step != default.calibration.first_year_step
    total = netsim.deterministic(moved)["total"].sum("country")
    assert 3095.0 <= float(total.sel(year=2026)) < 3105.0


def test_unreachable_target_is_an_error(net_text, tmp_path):
    path = tmp_path / "bad.toml"
    # a 2026 size far from what a 7.15 % CAGR to 4.37 bn allows cannot be met
    path.write_text(net_text.replace("value = 3100.0", "value = 3400.0"))
    with pytest.raises(ScenarioError, match=r"calibration cannot meet every target: size_2026"):
        netsim.load_scenario(path)


def test_deterministic_matches_kernel_and_reference(net):
    from netsim.model.arrays import expected_draw_arrays, model_arrays
    from netsim.model.numpy_oracle import reference_propagate

    base = netsim.deterministic(net)
    total, _ = reference_propagate(model_arrays(net), expected_draw_arrays(net))
    np.testing.assert_allclose(base["total"].values, total[0], rtol=1e-12)


class _CountingSolver:
    """scipy's least_squares, counting its calls."""

    def __init__(self, monkeypatch):
        import scipy.optimize

        self.calls, real = 0, scipy.optimize.least_squares

        def counted(*args, **kwargs):
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(scipy.optimize, "least_squares", counted)


def _parameters(scenario) -> tuple:
    cal = scenario.calibration
    return (cal.baseline, cal.first_year_step, cal.region_premium, cal.segment_premium)


@pytest.mark.slow
def test_solution_is_memoised_bit_for_bit(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSIM_CACHE_DIR", str(tmp_path))
    solver = _CountingSolver(monkeypatch)
    solved = netsim.load_scenario(NET_CONFIG)
    assert solver.calls == 1
    assert len(list((tmp_path / "calibration").glob("*.json"))) == 1
    read = netsim.load_scenario(NET_CONFIG)
    assert solver.calls == 1  # read back, not solved
    assert _parameters(read) == _parameters(solved)  # exact float equality
    assert read.calibration.achieved == solved.calibration.achieved
    assert read.scenario_hash == solved.scenario_hash
    again = netsim.load_scenario(NET_CONFIG, reuse_solution=False)
    assert solver.calls == 2  # validate's way: solved regardless, same numbers
    assert _parameters(again) == _parameters(solved)


@pytest.mark.slow
def test_memo_is_keyed_by_the_scenario(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSIM_CACHE_DIR", str(tmp_path))
    solver = _CountingSolver(monkeypatch)
    default = netsim.load_scenario(NET_CONFIG)
    moved = netsim.load_scenario(NET_CONFIG, ["market.base_size.value=2800.0"], recalibrate=True)
    assert solver.calls == 2
    assert len(list((tmp_path / "calibration").glob("*.json"))) == 2
    assert moved.calibration.baseline != default.calibration.baseline


@pytest.mark.slow
def test_a_damaged_memo_is_solved_again(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSIM_CACHE_DIR", str(tmp_path))
    solver = _CountingSolver(monkeypatch)
    solved = netsim.load_scenario(NET_CONFIG)
    (entry,) = (tmp_path / "calibration").glob("*.json")
    good = json.loads(read_entry(entry))
    edited = {**good, "solution": [v * 1.5 for v in good["solution"]]}  # well formed, wrong
    non_finite = {**good, "solution": [float("nan")] * len(good["solution"])}
    damages = (
        '{"unknowns": ["baseline"], "solution": [0.1]}',
        "{not json",
        "",
        json.dumps(edited),
        json.dumps(non_finite),
    )
    for damage in damages:
        entry.write_text(damage)  # no SHA-256 of its content: refused unread
        assert _parameters(netsim.load_scenario(NET_CONFIG)) == _parameters(solved)
        store_entry(entry, damage.encode())  # its digest matches: the content itself is checked
        assert _parameters(netsim.load_scenario(NET_CONFIG)) == _parameters(solved)
    assert solver.calls == 1 + 2 * len(damages)
    assert _parameters(netsim.load_scenario(NET_CONFIG)) == _parameters(solved)
    assert solver.calls == 1 + 2 * len(damages)  # the last solve rewrote a good entry


@pytest.mark.slow
def test_no_memo_when_the_cache_is_off_or_unwritable(tmp_path, monkeypatch):
    solver = _CountingSolver(monkeypatch)
    monkeypatch.setenv("NETSIM_CACHE_DIR", "")
    netsim.load_scenario(NET_CONFIG)
    netsim.load_scenario(NET_CONFIG)
    assert solver.calls == 2
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("NETSIM_CACHE_DIR", str(blocker))  # a file where a folder should be
    netsim.load_scenario(NET_CONFIG)
    assert solver.calls == 3
    assert list(tmp_path.iterdir()) == [blocker]  # nothing written, no partial file


def test_cache_folder_defaults(monkeypatch, tmp_path):
    from netsim.model.calibration import cache_folder

    monkeypatch.delenv("NETSIM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "netsim" / "calibration"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_folder() == tmp_path / "home" / ".cache" / "netsim" / "calibration"

    def no_home() -> None:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr("pathlib.Path.home", no_home)
    assert cache_folder() is None  # no cache, and the scenario still loads
    assert netsim.load_scenario(NET_CONFIG).calibration.achieved
