"""The file's rules for products, valuation inputs and forecast-error classes: each broken
rule refused at load in one line naming its key path (docs/config.md, "Products"); and
what a product adds to the file's figures and units."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

import netsim
from netsim.scenario.documents import figures

from .helpers import A, fixed, products_scenario


def _parent(document: dict, path: str) -> tuple[dict, str]:
    """The table holding the key at ``path`` (dotted), and that key."""
    *parents, last = path.split(".")
    for part in parents:
        document = document[part]
    return document, last


def _set(path: str, value: object) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        table, key = _parent(document, path)
        table[key] = value

    return change


def _drop(path: str) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        table, key = _parent(document, path)
        table.pop(key)

    return change


REFUSED = [
    pytest.param(_drop("products.a.company"), "products.a.company is missing", id="no-company"),
    pytest.param(
        _set("products.a.launch", fixed(2027.0)), "exactly one of share", id="market-and-launch"
    ),
    pytest.param(
        _set("products.a.share", fixed(120.0)),
        "products.a.share: its draws lie",
        id="share-over-100",
    ),
    pytest.param(
        _set("products.a.price", fixed(0.0)), "products.a.price: its draws", id="price-zero"
    ),
    pytest.param(
        _set("products.a_generic.generic_of", "zz"),
        "generic_of='zz' is not a product",
        id="unknown-originator",
    ),
    pytest.param(
        _drop("products.a.loss_of_exclusivity"),
        "no loss_of_exclusivity",
        id="originator-without-loss",
    ),
    pytest.param(
        _set("products.a_generic.segment", {"axis": "axis0", "name": "s1"}),
        "its originator's segments",
        id="generic-elsewhere",
    ),
    pytest.param(
        _set("products.c.segment", {"axis": "axis1", "name": "s0"}),
        "every product sells in segments of one axis",
        id="two-axes",
    ),
    pytest.param(
        _set("products.c.segment", {"axis": "axis0", "name": "nope"}),
        "axis0/nope is not a segment",
        id="unknown-segment",
    ),
    pytest.param(
        _set("products.b.phases.p3.probability", fixed(1.5)),
        "products.b.phases.p3.probability.value=1.5 must be <= 1",
        id="probability-over-1",
    ),
    pytest.param(
        _set("products.b.phases.p3.years", [2020, 2026]),
        "costs before the base year are sunk",
        id="sunk-cost",
    ),
    pytest.param(
        _set("products.b.uptake.curve", "gompertz"),
        "products.b.uptake.curve='gompertz'",
        id="curve",
    ),
    pytest.param(
        _drop("products.b.uptake.steepness"),
        "products.b.uptake.steepness is missing",
        id="no-steepness",
    ),
    pytest.param(
        _set("products.b.forecast_error", "nope"),
        "is not a [forecast_errors] class",
        id="unknown-class",
    ),
    pytest.param(
        _set("forecast_errors", {"k": {"dist": "normal", "mean": 1.0, "sd": 0.5, "source": A}}),
        "forecast_errors.k.dist must be 'lognormal'",
        id="class-not-lognormal",
    ),
    pytest.param(
        _set("products.a.forecast_error", "k"),
        "a product in market takes no forecast_error",
        id="error-in-market",
    ),
    pytest.param(
        _drop("valuation.discount_rate"),
        "discount_rate given neither in its valuation nor in [valuation]",
        id="no-discount-rate",
    ),
    pytest.param(
        _set("valuation.terminal_growth", fixed(9.5)),
        "a terminal value needs growth below the discount rate",
        id="terminal-growth",
    ),
    pytest.param(
        _set("drivers.d0.products", {"zz": 1.0, "source": A}),
        "drivers.d0.products.zz: 'zz' is not a product",
        id="driver-on-unknown",
    ),
    pytest.param(
        _set("products.c.regions", ["R9"]), "products.c.regions: 'R9' is not a region", id="region"
    ),
    pytest.param(
        _set("products.a.company", "=cmd"), "products.a.company='=cmd'", id="formula-company"
    ),
    pytest.param(
        _set("products.c.company", "a co"), "differs from 'A Co' only by case", id="company-case"
    ),
    pytest.param(
        _set("forecast_errors.k.sigma", 1000.0),
        "forecast_errors.k: its draws lie in [0, inf]; a multiplier of a peak share must be "
        "<= 1e+100",
        id="forecast-error-overflowing",
    ),
    pytest.param(
        _set("products.b.uptake.steepness", fixed(1e-300)),
        "products.b.uptake.steepness.value=1e-300 must be >= 0.01",
        id="steepness-near-zero",
    ),
    pytest.param(
        _set(
            "products.b.uptake",
            {
                "curve": "bass",
                "peak": fixed(40.0),
                "years_to_peak": fixed(4.0),
                "innovation": fixed(1e-300),
                "imitation": fixed(0.0),
            },
        ),
        "products.b.uptake.innovation.value=1e-300 must be >= 0.0001",
        id="bass-innovation-near-zero",
    ),
    pytest.param(
        _set("products.b.phases.p3.years", [2025, 2027]),
        "products.b.phases.p3.years=[2025, 2027] ends after 2026, the year of the earliest launch",
        id="phase-after-launch",
    ),
    pytest.param(
        _set("products.b.launch_offsets", {"R1": -2.0, "source": A}),
        "products.b.phases.p3.years=[2025, 2026] ends after 2024",
        id="phase-after-an-earlier-regional-launch",
    ),
    pytest.param(
        _set(
            "products.a_second_generic",
            {
                "company": "H Co",
                "segment": {"axis": "axis0", "name": "s0"},
                "generic_of": "a",
                "capture": fixed(60.0),
            },
        ),
        "the generics of 'a' (a_generic, a_second_generic) can capture 120 %",
        id="generics-capturing-over-100",
    ),
    pytest.param(
        _set(
            "products.d",
            {"company": "D Co", "segment": {"axis": "axis0", "name": "s0"}, "share": fixed(65.0)},
        ),
        "products.d.share: the products in market in segment 's0' (a, d) can hold 105 % of its "
        "patients in the base year",
        id="base-shares-over-100",
    ),
]


@pytest.mark.parametrize(("change", "message"), REFUSED)
def test_a_broken_product_rule_is_refused_naming_its_key(change, message):
    document = products_scenario()
    document["forecast_errors"] = {
        "k": {"dist": "lognormal", "median": 1.0, "sigma": 0.8, "source": A}
    }
    document["products"]["b"]["forecast_error"] = "k"
    change(document)
    with pytest.raises(netsim.ScenarioError, match=_escaped(message)) as caught:
        netsim.load_scenario(document)
    assert "\n" not in str(caught.value)


def _escaped(text: str) -> str:
    import re

    return re.escape(text)


def test_an_axis_named_as_the_products_dimensions_is_refused_only_with_products():
    document = products_scenario()
    axes = document["axes"]
    axes["product"] = axes.pop("axis1")
    for group in ("drivers", "restraints"):
        for table in document[group].values():
            tilts = table.get("tilts", {})
            if "axis1" in tilts:
                tilts["product"] = tilts.pop("axis1")
    document["events"]["launch"]["segment"]["axis"] = "product"
    with pytest.raises(netsim.ScenarioError, match=r"axes\.product: with products"):
        netsim.load_scenario(document)
    for key in ("products", "valuation"):
        document.pop(key)
    for table in (*document["drivers"].values(), *document["events"].values()):
        table.pop("products", None)
    assert "by_product" in netsim.simulate(netsim.load_scenario(document), 10)


def test_a_valuation_without_products_is_refused():
    document = products_scenario()
    document.pop("products")
    document["drivers"]["d0"].pop("products")
    document["events"]["outage"].pop("products")
    with pytest.raises(netsim.ScenarioError, match="values products: the scenario has none"):
        netsim.load_scenario(document)


def test_every_product_figure_has_a_source_and_a_unit(net):
    """The NET file's products, valuation and forecast-error class: every figure listed with
    its source and a unit (the report's and the workbook's figure tables read them)."""
    import json

    document = json.loads(net.document_json)
    rows = [f for f in figures(document) if f.key.split(".")[0] in PRODUCT_TABLES]
    assert len(rows) > 100
    assert [f.key for f in rows if not f.unit] == []
    assert [f.key for f in rows if f.source_kind not in ("report", "study", "assumption")] == []
    units = {f.key: f.unit for f in rows}
    assert units["products.somatuline.share.mode"] == "%"
    assert units["products.itm11.launch.mode"] == "year"
    assert units["products.itm11.phases.approval.cost.value"] == "USD million"
    assert units["valuation.discount_rate.mode"] == "% a year"


PRODUCT_TABLES = ("products", "valuation", "forecast_errors")


def test_the_net_file_names_the_reports_companies_products(net):
    ids = {p.id for p in net.products}
    assert {"somatuline", "sandostatin_lar", "lutathera", "itm11", "cabometyx_us"} <= ids
    assert {"octreotide_generics", "lanreotide_generics"} <= ids
    pipeline = [p for p in net.products if p.phases]
    assert pipeline and all(0 < p.probability_of_success < 1 for p in pipeline)
    assert {"Novartis", "Ipsen", "ITM", "Exelixis", "Pfizer"} <= set(net.companies)


def test_the_products_changed_by_an_overlay_keep_the_rules(tmp_path):
    """--set reaches a product's figure, and a broken value is refused as in the file."""
    document = products_scenario()
    base = netsim.load_scenario(document)
    changed = netsim.load_scenario(document, ["products.a.share.mode=35.0"])
    assert changed.parameter("products.a.share").distribution.point == 35.0
    assert base.parameter("products.a.share").distribution.point == 30.0
    with pytest.raises(netsim.ScenarioError, match=r"products\.a\.share"):
        netsim.load_scenario(copy.deepcopy(document), ["products.a.share.high=140.0"])
