"""Markets of other shapes than the NET file: no segmentation axis, countries with their
own share and growth, events on several segments, values counted in billions."""

from __future__ import annotations

import copy
import re
import tomllib

import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.cli import main
from netsim.errors import ScenarioError
from netsim.model.arrays import draw_arrays, expected_draw_arrays, model_arrays
from netsim.model.calibration import target_rows
from netsim.model.numpy_oracle import reference_propagate
from netsim.present.numbers import format_value, tick_decimals, value_decimals

from .conftest import NET_CONFIG
from .helpers import A, small_scenario, without_funnel, write_toml


def share(value: float) -> dict:
    return {"value": value, "source": A}


def flat_market(unit: str = "USD billion", base_size: float = 2.89) -> dict:
    """A market without segmentation: two regions, five countries, global targets, one
    driver and noise; its values in billions."""
    return {
        "scenario": {"name": "flat market"},
        "years": {"base": 2025, "final": 2031, "source": A},
        "market": {
            "unit": unit,
            "base_size": share(base_size),
            "base_scale": {"dist": "pert", "low": 0.95, "mode": 1.0, "high": 1.03, "source": A},
            "targets": {
                "size_2031": {
                    "kind": "size",
                    "year": 2031,
                    "value": round(base_size * 1.07**6, 4),
                    "tolerance": base_size * 1e-3,
                    "source": A,
                },
            },
        },
        "regions": {
            "North": {
                "share": share(60.0),
                "growth_premium": share(0.0),
                "country_shares": {"N1": 50.0, "N2": 30.0, "N3": 20.0, "source": A},
            },
            "South": {
                "share": share(40.0),
                "growth_premium": share(1.0),
                "country_shares": {"S1": 70.0, "S2": 30.0, "source": A},
            },
        },
        "timelines": {"ramp": {"onset": 2026, "ramp_years": 2, "source": A}},
        "geographies": {"all": {"weights": {"North": 1.0, "South": 1.0}, "source": A}},
        "drivers": {
            "demand": {
                "impact": {"dist": "pert", "low": 0.5, "mode": 1.0, "high": 2.0, "source": A},
                "timeline": "ramp",
                "geography": "all",
            }
        },
        "noise": {"global_sd": share(0.3), "region_sd": share(0.5)},
    }


# --- a market without segmentation ---------------------------------------------------------


@pytest.fixture(scope="module")
def flat():
    return netsim.load_scenario(flat_market())


def test_a_market_without_axes_loads_and_runs(flat):
    assert flat.axes == ()
    base = netsim.deterministic(flat)
    assert list(base.data_vars) == ["total"]
    assert float(base["total"].sel(year=2025).sum()) == pytest.approx(2.89, rel=1e-12)
    assert float(base["total"].sel(year=2031).sum()) == pytest.approx(2.89 * 1.07**6, rel=1e-3)
    cube = netsim.simulate(flat, 500, seed=3)
    assert {"total", "inputs"} <= set(cube.data_vars)
    assert not any(str(v).startswith("by_") for v in cube.data_vars)
    assert cube.attrs["units"] == "USD billion"
    reduced = netsim.simulate(flat, 500, seed=3, reduce="bands")
    assert reduced.attrs["units"] == "USD billion"
    median = reduced["total_global"].sel(quantile=0.5, year=2031)
    exact = np.median(cube["total"].sel(year=2031).sum("country").values)
    assert float(median) == pytest.approx(float(exact), rel=2e-3)


def test_an_empty_axes_table_is_no_axis():
    document = flat_market()
    document["axes"] = {}
    assert netsim.load_scenario(document).axes == ()


def test_a_market_without_axes_refuses_what_needs_one():
    document = flat_market()
    document["drivers"]["demand"]["tilts"] = {"product": {"A": 1.0}, "source": A}
    with pytest.raises(ScenarioError, match="'product' is not an axis"):
        netsim.load_scenario(document)
    document = flat_market()
    document["events"] = {
        "shock": {
            "kind": "yearly",
            "probability": share(0.1),
            "impact": {"dist": "fixed", "value": -5.0, "source": A},
            "segment": {"axis": "product", "name": "A"},
            "geography": "all",
        }
    }
    with pytest.raises(ScenarioError, match="product/A is not a segment of the scenario"):
        netsim.load_scenario(document)


def test_a_funnel_needs_the_axes_it_names():
    document = tomllib.loads(NET_CONFIG.read_text())
    for group in ("drivers", "restraints", "events"):
        document.pop(group)
    document.pop("correlations")
    del document["axes"]
    with pytest.raises(ScenarioError, match="funnel"):
        netsim.load_scenario(document)


@pytest.mark.slow
def test_the_command_line_on_a_market_without_axes(tmp_path, capsys):
    config = tmp_path / "flat.toml"
    write_toml(flat_market(), config)
    assert main(["validate", str(config)]) == 0
    run = tmp_path / "run.nc"
    common = ["--draws", "400", "--seed", "1", "--no-progress"]
    assert main(["run", str(config), *common, "--out", str(run)]) == 0
    bands = tmp_path / "bands.nc"
    assert main(["run", str(config), *common, "--reduce", "--out", str(bands)]) == 0
    printed = capsys.readouterr().out
    assert "USD billion" in printed and "USD million" not in printed
    for source in (run, bands):
        for by in ("global", "region", "country"):
            assert main(["bands", str(source), "--by", by]) == 0
    assert main(["bands", str(run), "--cagr", "2026", "2031"]) == 0
    assert main(["bands", str(run), "--by", "product"]) == 2
    for kind, source in (("fan", run), ("hist", run), ("tornado", config), ("waterfall", config)):
        picture = tmp_path / f"{kind}.png"
        assert main(["plot", kind, str(source), "--out", str(picture)]) == 0
        assert picture.stat().st_size > 0
    report = tmp_path / "report.html"
    assert main(["report", str(run), "--out", str(report)]) == 0
    html = report.read_text()
    assert "USD billion" in html and "USD million" not in html
    assert main(["sensitivity", str(config), "--method", "spearman", "--draws", "300"]) == 0
    assert main(["compare", str(config), "--set", "market.base_size.value=3.0"]) == 0


# --- countries with their own figures ---------------------------------------------------------


def country_market(countries: dict) -> dict:
    """One region World (countries A 60 %, B 30 %, C 10 % of it) growing 5 % a year, no
    noise, no drivers; ``countries`` is its ``[countries]`` table."""
    return {
        "scenario": {"name": "countries"},
        "years": {"base": 2025, "final": 2030, "source": A},
        "market": {
            "base_size": share(1000.0),
            "base_scale": {"dist": "fixed", "value": 1.0, "source": A},
            "baseline_growth": share(5.0),
        },
        "regions": {
            "World": {
                "share": share(100.0),
                "growth_premium": share(0.0),
                "country_shares": {"A": 60.0, "B": 30.0, "C": 10.0, "source": A},
            }
        },
        "countries": countries,
        "noise": {"global_sd": share(0.0), "region_sd": share(0.0)},
    }


def test_a_country_share_and_premium_are_exact():
    scenario = netsim.load_scenario(
        country_market({"A": {"share": share(40.0), "growth_premium": share(2.0)}})
    )
    total = netsim.deterministic(scenario)["total"]
    steps = np.arange(6)
    # A: 40 % of the market at 7 % a year; B and C split the other 60 % by 30 : 10
    np.testing.assert_allclose(total.sel(country="A"), 400.0 * 1.07**steps, rtol=1e-12)
    np.testing.assert_allclose(total.sel(country="B"), 450.0 * 1.05**steps, rtol=1e-12)
    np.testing.assert_allclose(total.sel(country="C"), 150.0 * 1.05**steps, rtol=1e-12)


def test_a_country_cagr_target_is_solved():
    target = {"value": 8.0, "tolerance": 0.005, "start": 2026, "end": 2030, "source": A}
    scenario = netsim.load_scenario(
        country_market({"B": {"share": share(25.0), "cagr_target": target}})
    )
    assert scenario.calibration.country_premium["B"] == pytest.approx(0.03, abs=1e-9)
    assert "country:B" in scenario.calibration.solved
    path = netsim.deterministic(scenario)["total"].sel(country="B")
    assert float(path.sel(year=2025)) == pytest.approx(250.0, rel=1e-12)
    achieved = 100 * ((float(path.sel(year=2030)) / float(path.sel(year=2026))) ** 0.25 - 1)
    assert abs(achieved - 8.0) < 0.005


@pytest.fixture(scope="module")
def net_with_countries(tmp_path_factory):
    """A copy of the NET file with Germany's own share and CAGR, and Japan's CAGR inside a
    region (Asia-Pacific) that has a CAGR target of its own."""
    text = NET_CONFIG.read_text() + (
        "\n[countries.Germany]\n"
        'share = { value = 8.0, source = "assumption: test" }\n'
        "cagr_target = { value = 8.5, tolerance = 0.005, start = 2026, end = 2031, "
        'source = "assumption: test" }\n'
        "\n[countries.Japan]\n"
        "cagr_target = { value = 6.0, tolerance = 0.005, start = 2026, end = 2031, "
        'source = "assumption: test" }\n'
    )
    path = tmp_path_factory.mktemp("countries") / "net_countries.toml"
    path.write_text(text)
    return path


def test_net_with_country_targets_meets_every_target(net_with_countries, net):
    scenario = netsim.load_scenario(net_with_countries)
    base = netsim.deterministic(scenario)["total"]
    world = base.sum("country")
    germany = base.sel(country="Germany")
    assert float(germany.sel(year=2025) / world.sel(year=2025)) == pytest.approx(0.08, abs=1e-12)
    for country, wanted in (("Germany", 8.5), ("Japan", 6.0)):
        path = base.sel(country=country)
        achieved = 100 * ((float(path.sel(year=2031)) / float(path.sel(year=2026))) ** 0.2 - 1)
        assert abs(achieved - wanted) < 0.005
    # the region keeps its share; its other countries split the rest by their shares
    europe = base.sel(year=2025).where(base["region"] == "Europe", drop=True)
    assert float(europe.sum() / world.sel(year=2025)) == pytest.approx(0.31, abs=1e-12)
    uk, france = (float(europe.sel(country=c)) for c in ("United Kingdom", "France"))
    assert uk == pytest.approx(france, rel=1e-12)
    assert uk == pytest.approx(2890.0 * (0.31 - 0.08) * 17.0 / 78.0, rel=1e-12)
    # every target of the NET file still met
    rows = target_rows(scenario)
    assert all(row["ok"] for row in rows)
    assert len(rows) == len(net.targets) + 2


@pytest.mark.slow
def test_a_run_with_country_premiums_reads_back(net_with_countries, tmp_path, capsys):
    run = tmp_path / "run.nc"
    common = ["--draws", "300", "--seed", "2", "--no-progress", "--out", str(run)]
    assert main(["run", str(net_with_countries), *common]) == 0
    assert main(["bands", str(run), "--by", "country", "--year", "2031"]) == 0
    assert main(["validate", str(net_with_countries)]) == 0
    assert "country premium Germany" in capsys.readouterr().out
    with xr.open_dataset(run) as data:
        assert "country_premium" in data.attrs["calibration"]


@pytest.mark.parametrize(
    ("countries", "message"),
    [
        ({"D": {"share": share(5.0)}}, "countries.D: 'D' is not a country of any region"),
        ({"A": {}}, "countries.A gives none of share, growth_premium or cagr_target"),
        (
            {
                "A": {
                    "growth_premium": share(1.0),
                    "cagr_target": {
                        "value": 6.0,
                        "tolerance": 0.01,
                        "start": 2026,
                        "end": 2030,
                        "source": A,
                    },
                }
            },
            "countries.A takes growth_premium",
        ),
        ({"A": {"share": share(100.0)}}, "countries.A.share.value=100 % must be below"),
        (
            {"A": {"share": share(60.0)}, "B": {"share": share(40.0)}},
            "sum to 100 %, not below the region's share 100 %",
        ),
        ({"A": {"share": share(0.0)}}, "countries.A.share.value=0.0 must be > 0"),
        ({"A": {"colour": "red", "share": share(5.0)}}, "countries.A.colour is not a known key"),
        ({"A": {"growth_premium": share(80.0)}}, 'countries."A".growth_premium.value'),
    ],
    ids=[
        "an unknown country",
        "no figure",
        "growth premium and CAGR",
        "share 100 %",
        "shares fill the region",
        "share 0",
        "an unknown key",
        "growth premium 80 pp",
    ],
)
def test_bad_country_tables(countries, message):
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(".", r"\.")):
        netsim.load_scenario(country_market(countries))


def test_a_country_alone_in_its_region():
    document = country_market({})
    document["regions"]["World"]["share"] = share(80.0)
    document["regions"]["Island"] = {
        "share": share(20.0),
        "growth_premium": share(0.0),
        "country_shares": {"I": 100.0, "source": A},
    }
    document["countries"] = {"I": {"share": share(20.0)}}
    assert netsim.load_scenario(document).countries[-1].share_of_region == 1.0
    for value, rule in ((25.0, "exceeds the share of its region"), (15.0, "must sum to")):
        document["countries"] = {"I": {"share": share(value)}}
        with pytest.raises(ScenarioError, match=rule):
            netsim.load_scenario(document)


def test_other_countries_without_a_share_cannot_split_the_rest():
    document = country_market({"A": {"share": share(50.0)}})
    document["regions"]["World"]["country_shares"] = {"A": 100.0, "B": 0.0, "C": 0.0, "source": A}
    with pytest.raises(ScenarioError, match="country_shares summing to 0"):
        netsim.load_scenario(document)


def test_country_premiums_must_be_identifiable():
    target = {"value": 8.0, "tolerance": 0.005, "start": 2026, "end": 2030, "source": A}
    document = country_market({name: {"cagr_target": dict(target)} for name in "ABC"})
    solved = netsim.load_scenario(document)  # a given baseline: every premium can be solved
    assert solved.calibration.country_premium["A"] == pytest.approx(0.03, abs=1e-9)
    del document["market"]["baseline_growth"]
    document["market"]["targets"] = {
        "size": {"kind": "size", "year": 2030, "value": 1400.0, "tolerance": 1.0, "source": A}
    }
    with pytest.raises(ScenarioError, match="every country's growth premium is solved"):
        netsim.load_scenario(document)
    document["market"].pop("targets")
    document["market"]["baseline_growth"] = share(5.0)
    document["regions"]["World"]["country_shares"] = {"A": 100.0, "source": A}
    document["countries"] = {"A": {"cagr_target": dict(target)}}
    document["regions"]["World"].pop("growth_premium")
    document["regions"]["World"]["cagr_target"] = dict(target)
    document["regions"]["Other"] = {
        "share": share(0.0),
        "growth_premium": share(0.0),
        "country_shares": {"O": 100.0, "source": A},
    }
    with pytest.raises(ScenarioError, match="'World' has a cagr_target and so has each"):
        netsim.load_scenario(document)


# --- events on several segments --------------------------------------------------------------


def test_one_listed_segment_is_the_single_segment_event_bit_for_bit():
    single = netsim.load_scenario(small_scenario())
    document = small_scenario()
    for event in document["events"].values():
        event["segments"] = [event.pop("segment")]
    listed = netsim.load_scenario(document)
    inputs = netsim.sample_inputs(single, 300, seed=4)
    one = netsim.propagate(single, inputs, as_arrays=True)
    other = netsim.propagate(listed, inputs, as_arrays=True)
    for name in one:
        np.testing.assert_array_equal(one[name], other[name])


def event_market(segments: list[dict]) -> dict:
    """One region, one country, one axis of three segments (20/30/50 %), 5 % growth and an
    event that occurs every year with impact -10 pp on ``segments``."""
    document = country_market({})
    document.pop("countries")
    document["regions"]["World"]["country_shares"] = {"A": 100.0, "source": A}
    document["axes"] = {
        "product": {
            "segments": {
                name: {"share": share(value), "growth_premium": share(0.0)}
                for name, value in (("x", 20.0), ("y", 30.0), ("z", 50.0))
            }
        }
    }
    document["geographies"] = {"all": {"weights": {"World": 1.0}, "source": A}}
    document["events"] = {
        "shock": {
            "kind": "yearly",
            "probability": share(1.0),
            "impact": {"dist": "fixed", "value": -10.0, "source": A},
            "segments": segments,
            "geography": "all",
        }
    }
    return document


def test_an_event_on_two_segments_moves_each_by_its_impact():
    scenario = netsim.load_scenario(
        event_market([{"axis": "product", "name": "x"}, {"axis": "product", "name": "y"}])
    )
    assert scenario.events[0].segments == (("product", "x"), ("product", "y"))
    names = [p.name for p in scenario.parameters if p.owner == "events.shock"]
    assert names[0] == "events.shock.impact" and len(names) == 1 + 5  # one impact, yearly occurs
    base = netsim.deterministic(scenario)
    total = base["total"].sel(country="A").values
    shares = base["by_product"].sel(country="A").values / total[:, None]
    # first year: x and y (half of the market) lose 10 % of their growth
    assert total[1] == pytest.approx(1000.0 * (1.05 - 0.5 * 0.10), rel=1e-12)
    grown = np.array([0.2 * 0.9, 0.3 * 0.9, 0.5])
    np.testing.assert_allclose(shares[1], grown / grown.sum(), rtol=1e-12)
    # later years: the total moves by x's and y's share at the start of the year
    for t in range(1, 5):
        moved = shares[t, 0] + shares[t, 1]
        assert total[t + 1] == pytest.approx(total[t] * (1.05 - 0.10 * moved), rel=1e-12)


@pytest.mark.parametrize(
    ("segments", "message"),
    [
        ([], "events.shock.segments must list at least one"),
        ("x", "events.shock.segments must list at least one"),
        (
            [{"axis": "product", "name": "x"}, {"axis": "product", "name": "x"}],
            r"events.shock.segments\[1\]: product/x is named twice",
        ),
        ([{"axis": "product", "name": "w"}], r"events.shock.segments\[0\]: product/w is not a"),
        ([{"axis": "product"}], r"events.shock.segments\[0\].name is missing"),
        ([{"axis": "product", "name": "x", "w": "v"}], r"segments\[0\].w is not a known key"),
        (["x"], r"events.shock.segments\[0\] must be a table"),
    ],
    ids=[
        "none",
        "a string",
        "named twice",
        "not a segment",
        "no name",
        "an unknown key",
        "not a table",
    ],
)
def test_bad_event_segments(segments, message):
    with pytest.raises(ScenarioError, match=message):
        netsim.load_scenario(event_market(segments))


def test_an_events_segments_must_share_one_axis():
    # two axes split the same market twice: an impact on a segment of each would move the
    # market twice (and, at -50 pp on all four, simulate a negative market)
    document = event_market([{"axis": "product", "name": "x"}, {"axis": "channel", "name": "web"}])
    document["axes"]["channel"] = {
        "segments": {
            "web": {"share": share(40.0), "growth_premium": share(0.0)},
            "shop": {"share": share(60.0), "growth_premium": share(0.0)},
        }
    }
    with pytest.raises(
        netsim.ScenarioError, match=r"segments\[1\]: channel/web is on another axis than product/x"
    ):
        netsim.load_scenario(document)


def test_an_event_takes_segment_or_segments_not_both():
    document = event_market([{"axis": "product", "name": "x"}])
    document["events"]["shock"]["segment"] = {"axis": "product", "name": "y"}
    with pytest.raises(ScenarioError, match="needs exactly one of segment"):
        netsim.load_scenario(document)
    del document["events"]["shock"]["segment"], document["events"]["shock"]["segments"]
    with pytest.raises(ScenarioError, match="needs exactly one of segment"):
        netsim.load_scenario(document)


# --- the kernel against the numpy oracle ---------------------------------------------------------


def oracle_scenario() -> dict:
    """The small test scenario with a country's own share and target, another's premium,
    and an event on two segments of one axis."""
    document = small_scenario()
    document["countries"] = {
        "R0-b": {
            "share": share(25.0),
            "cagr_target": {
                "value": 9.0,
                "tolerance": 0.01,
                "start": 2026,
                "end": 2031,
                "source": A,
            },
        },
        "R1-a": {"growth_premium": share(-1.5)},
    }
    document["events"]["launch"]["segments"] = [
        {"axis": "axis1", "name": "s1"},
        {"axis": "axis1", "name": "s2"},
    ]
    del document["events"]["launch"]["segment"]
    return document


def test_kernel_equals_numpy_oracle_with_countries_and_multi_segment_events():
    scenario = netsim.load_scenario(oracle_scenario())
    for sampler in ("mc", "lhs"):
        inputs = netsim.sample_inputs(scenario, 256, seed=7, sampler=sampler)
        kernel = netsim.propagate(scenario, inputs, dtype=np.float64)
        total, segments = reference_propagate(model_arrays(scenario), draw_arrays(scenario, inputs))
        np.testing.assert_allclose(kernel["total"].values, total, rtol=1e-12)
        both = np.concatenate([kernel[f"by_{a.name}"].values for a in scenario.axes], axis=-1)
        np.testing.assert_allclose(both, segments, rtol=1e-12)
    base = netsim.deterministic(scenario)["total"]
    oracle, _ = reference_propagate(model_arrays(scenario), expected_draw_arrays(scenario))
    np.testing.assert_allclose(base.values, oracle[0], rtol=1e-12)
    path = base.sel(country="R0-b")
    achieved = 100 * ((float(path.sel(year=2031)) / float(path.sel(year=2026))) ** 0.2 - 1)
    assert abs(achieved - 9.0) < 0.01
    assert float(path.sel(year=2025)) == pytest.approx(500.0 * 0.25, rel=1e-12)


def test_kernel_equals_numpy_oracle_without_axes(flat):
    inputs = netsim.sample_inputs(flat, 128, seed=2)
    kernel = netsim.propagate(flat, inputs, dtype=np.float64)
    total, segments = reference_propagate(model_arrays(flat), draw_arrays(flat, inputs))
    np.testing.assert_allclose(kernel["total"].values, total, rtol=1e-12)
    assert segments.shape[-1] == 0


# --- the unit ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("unit", ["USD billion", "EUR million"])
def test_the_unit_reaches_every_output(unit, tmp_path, capsys):
    size = 2.89 if "billion" in unit else 2890.0
    document = copy.deepcopy(without_funnel(tomllib.loads(NET_CONFIG.read_text())))
    document["market"]["unit"] = unit
    scale = size / 2890.0
    document["market"]["base_size"]["value"] = size
    for target in document["market"]["targets"].values():
        if target["kind"] == "size":
            target["value"] *= scale
            target["tolerance"] *= scale
    config = tmp_path / "market.toml"
    write_toml(document, config)
    run = tmp_path / "run.nc"
    common = ["--draws", "300", "--seed", "1", "--no-progress"]
    assert main(["run", str(config), *common, "--out", str(run)]) == 0
    printed = capsys.readouterr().out
    assert unit in printed and "USD million" not in printed.replace(unit, "")
    if "billion" in unit:
        assert "2.8900" in printed  # the 2025 base case, to five digits
    with xr.open_dataset(run) as data:
        assert data.attrs["units"] == unit
        # CF: a unit UDUNITS does not define is in the long_name (netsim.run.conventions)
        # a run file is a record: its totals carry the unit (the cube is recomputed)
        assert data["total_global"].attrs["long_name"].endswith(f"({unit})")
        assert data["total_global"].attrs["netsim_units"] == unit
    assert main(["bands", str(run), "--by", "region"]) == 0
    assert unit in capsys.readouterr().out
    report = tmp_path / "report.html"
    assert main(["report", str(run), "--out", str(report)]) == 0
    html = report.read_text()
    # the inputs' and figures' quotes and reasons are prose a source wrote ("a few USD
    # million"): the unit is checked everywhere else
    html = re.sub(r'<table id="(inputs|assumptions)">.*?</table>', "", html, flags=re.S)
    assert f"Values in {unit}" in html and "USD million" not in html.replace(unit, "")
    assert main(["plot", "fan", str(run), "--out", str(tmp_path / "fan.png")]) == 0


def test_values_keep_their_digits_in_any_unit():
    assert value_decimals([4370.0, 12.0]) == 1
    assert value_decimals([4.37, 0.012]) == 4
    assert value_decimals([0.0, float("nan")]) == 1
    assert format_value(2.89) == "2.8900"
    assert format_value(4370.25) == "4,370.2"
    assert tick_decimals([2500.0, 3000.0]) == 0
    assert tick_decimals([3.0, 3.25, 3.5]) == 2


def test_a_market_in_billions_is_the_market_in_millions_scaled(net):
    """The NET file with its funnel, counted in USD billion: not refused by any limit, and
    its base case is the one in millions divided by 1,000."""
    document = tomllib.loads(NET_CONFIG.read_text())
    document["market"]["unit"] = "USD billion"
    document["market"]["base_size"]["value"] = 2.89
    for target in document["market"]["targets"].values():
        if target["kind"] == "size":
            target["value"] /= 1000.0
            target["tolerance"] /= 1000.0
    document["funnel"]["cost"]["per_market_unit"] = 1_000_000_000
    billions = netsim.load_scenario(document)
    assert billions.unit == "USD billion"
    small, large = netsim.deterministic(billions), netsim.deterministic(net)
    for name in ("total", "by_modality", "patient_total"):
        np.testing.assert_allclose(small[name].values * 1000.0, large[name].values, rtol=1e-6)
    run = netsim.simulate(billions, 200, seed=1, reduce="bands")
    assert run.attrs["units"] == "USD billion"
    assert float(run["total_global"].sel(year=2031, quantile=0.5)) == pytest.approx(4.3, rel=0.05)
