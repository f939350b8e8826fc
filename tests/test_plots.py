"""Charts that do not mislead: each kind drawn from the NET scenario, its text read back
from the SVG (text kept as text) and its PNG written to the tests' pictures folder."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import matplotlib
import matplotlib.image
import numpy as np
import pytest

import netsim
from netsim.analyze.cells import run_base_case, select_output
from netsim.analyze.spider import spider
from netsim.cli import main
from netsim.present import plots
from netsim.present.labels import chart_title, parameter_labels

from .conftest import CONFIGS, NET_CONFIG

PRRT_EUROPE = {"year": 2031, "region": "Europe", "modality": "PRRT"}


@pytest.fixture
def svg_text(monkeypatch):
    """Draw SVGs with their text as text elements, and read each one's texts."""
    monkeypatch.setitem(matplotlib.rcParams, "svg.fonttype", "none")

    def texts(path) -> list[str]:
        root = ElementTree.parse(path).getroot()
        return [
            "".join(element.itertext()).strip()
            for element in root.iter()
            if element.tag.endswith("text")
        ]

    return texts


@pytest.fixture(scope="module")
def labels(net):
    return parameter_labels(net)


@pytest.fixture(scope="module")
def small_run(net):
    return netsim.simulate(net, 1000, seed=3)


def test_the_waterfall_starts_at_zero_with_labels_and_values(net, labels, tmp_path, svg_text):
    result = netsim.attribution(net, "by_modality", "region")
    path = plots.waterfall(result, PRRT_EUROPE, tmp_path / "w.svg", labels)
    texts = svg_text(path)
    assert "0" in texts  # the value axis starts at zero: no bar is drawn taller than it is
    assert any(
        t.startswith("From the baseline to the forecast: PRRT market in Europe") for t in texts
    )
    assert not [t for t in texts if "drivers." in t or "restraints." in t or "events." in t]
    assert any("Rising prevalence" in t for t in texts)
    signed = [t for t in texts if re.fullmatch(r"[+-][\d,.]+", t)]
    assert len(signed) == result.sizes["driver"]


def test_the_tornado_names_inputs_by_their_labels_with_thousands_separators(
    net, labels, tmp_path, svg_text
):
    result = netsim.tornado(net, "total", "global")
    path = plots.tornado_chart(result, {"year": 2031}, tmp_path / "t.svg", 12, labels)
    texts = svg_text(path)
    assert not [t for t in texts if ".impact" in t or ".delay" in t]
    assert "Base-year market size (scale factor)" in texts
    ticks = [t for t in texts if re.fullmatch(r"[\d,]+", t)]
    assert ticks and all("," in t for t in ticks if len(t) > 3)  # 4,300, never 4300
    assert any(t.startswith("What moves the world market, 2031") for t in texts)


def test_the_fan_shows_the_base_case_and_tells_overlaid_runs_apart(net, tmp_path, svg_text):
    bull = netsim.load_scenario(CONFIGS / "bull.toml")
    runs = {
        "base": select_output(netsim.simulate(net, 400, seed=1), "total", "global"),
        "bull": select_output(netsim.simulate(bull, 400, seed=1), "total", "global"),
    }
    bases = {
        "base": netsim.global_total(netsim.deterministic(net)["total"]),
        "bull": netsim.global_total(netsim.deterministic(bull)["total"]),
    }
    path = plots.fan_chart(runs, tmp_path / "f.svg", "World market", "USD million", bases)
    texts = svg_text(path)
    for label in ("base", "bull"):
        assert f"{label}: P5-P95" in texts and f"{label}: base case" in texts
    svg = path.read_text()
    assert svg.count("<pattern") >= 2  # each run's band hatched its own way
    alone = plots.fan_chart(
        {"run": runs["base"]}, tmp_path / "one.svg", "World market", None, bases["base"]
    )
    assert "base case (the report's forecast)" in svg_text(alone)


def test_titles_are_in_the_reader_s_words():
    assert chart_title("by_modality", {"region": "Asia-Pacific", "modality": "PRRT"}) == (
        "PRRT market in Asia-Pacific"
    )
    assert chart_title("total", {}) == "World market"
    assert chart_title("total", {"year": 2031, "country": "Germany"}) == "Market in Germany, 2031"
    assert chart_title("patient_total", {"region": "Europe"}) == "Patient-based market in Europe"


def test_every_input_has_a_label_in_words(net, labels):
    assert set(net.parameter_names) <= set(labels)
    ids = [name for name in net.parameter_names if labels[name] == name]
    assert ids == []
    assert labels["drivers.rising_prevalence.impact"] == (
        "Rising prevalence of NETs: impact on growth"
    )
    assert labels["noise.Europe.2027"] == "Year-to-year noise, Europe, 2027"
    assert labels["noise.Europe"] == "Year-to-year noise, Europe"
    assert labels["funnel.stages.treated.share"] == "Patient funnel: share treated"


def test_the_spider_is_the_base_case_with_one_input_moved(net):
    """Each point is deterministic(scenario, {input: its percentile}) exactly, as the
    tornado's; at the tornado's P10 and P90 the two agree to the last bit."""
    result = spider(net, "total", "global", (0.1, 0.5, 0.9))
    tornado = netsim.tornado(net, "total", "global")
    for name in ("market.base_scale", "drivers.rising_prevalence.impact"):
        np.testing.assert_array_equal(
            result["value"].sel(percentile=0.1, parameter=name), tornado["low"].sel(parameter=name)
        )
        np.testing.assert_array_equal(
            result["value"].sel(percentile=0.9, parameter=name), tornado["high"].sel(parameter=name)
        )
    value = float(result["input"].sel(percentile=0.5, parameter="market.base_scale"))
    alone = netsim.deterministic(net, {"market.base_scale": value})
    assert float(
        result["value"].sel(percentile=0.5, parameter="market.base_scale", year=2031)
    ) == pytest.approx(float(netsim.global_total(alone["total"]).sel(year=2031)), rel=1e-12)
    with pytest.raises(netsim.ScenarioError, match="must increase"):
        spider(net, "total", "global", (0.5, 0.1))


def test_the_reconcile_chart_is_readable(net, tmp_path):
    result = netsim.reconcile(net, draws=400, seed=2)
    path = plots.reconcile_chart(result, tmp_path / "r.png")
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[1] >= 1100 and pixels.shape[0] >= 650  # was 624 x 432


def test_the_base_case_of_a_run_is_the_scenario_s(net, small_run):
    base = run_base_case(small_run, "by_modality", "region")
    expected = netsim.by_region(netsim.deterministic(net)["by_modality"])
    np.testing.assert_array_equal(base.values, expected.values)


@pytest.mark.slow
def test_every_chart_kind_is_drawn_from_the_command_line(tmp_path_factory, capsys):
    """Every kind, as PNG, into one folder of pictures to look at."""
    folder = tmp_path_factory.mktemp("pictures")
    run, sobol = folder / "run.nc", folder / "sobol.nc"
    assert main(["run", str(NET_CONFIG), "--draws", "800", "--out", str(run)]) == 0
    cell = ["--output", "by_modality", "--by", "region", "--at", "region=Europe", "modality=PRRT"]
    sensitivity = ["sensitivity", str(NET_CONFIG), "--method", "sobol", "--draws", "256"]
    assert main([*sensitivity, "--group", "driver", *cell, "year=2031", "--out", str(sobol)]) == 0
    bull = folder / "bull.nc"
    assert main(["run", str(CONFIGS / "bull.toml"), "--draws", "800", "--out", str(bull)]) == 0
    charts = {
        "fan": ["fan", str(run)],
        "fan-scenarios": ["fan", str(run), str(bull)],
        "fan-cell": ["fan", str(run), *cell],
        "tornado": ["tornado", str(NET_CONFIG), *cell],
        "waterfall": ["waterfall", str(NET_CONFIG), *cell],
        "spider": ["spider", str(NET_CONFIG)],
        "sobol": ["sobol", str(sobol), "--at", "region=Europe", "modality=PRRT"],
        "hist": ["hist", str(run)],
    }
    for name, argv in charts.items():
        assert main(["plot", *argv, "--out", str(folder / f"{name}.png")]) == 0, name
    reconcile = ["reconcile", str(NET_CONFIG), "--draws", "800"]
    assert main([*reconcile, "--plot", str(folder / "reconcile.png")]) == 0
    capsys.readouterr()
    for name in [*charts, "reconcile"]:
        pixels = matplotlib.image.imread(folder / f"{name}.png")
        assert pixels.shape[1] >= 1000 and pixels.std() > 0.01, name
