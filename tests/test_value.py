"""A product's value: NPV against its closed form, the probability of success on the draws
(a failed draw bears only its costs), revenue and peak bands, the NPV through the existing
sensitivity methods, and ``netsim value`` on the command line."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy.special import expit

import netsim
from netsim.analytic import _skeleton
from netsim.analyze.value import npv_drivers, value

from .conftest import NET_CONFIG
from .helpers import A, fixed, products_scenario

RATE, TAX, MARGIN, GROWTH = 0.10, 0.20, 0.60, 0.05
COSTS = {"p1": 10.0, "p2": 4.0}
LAUNCH_COST = 20.0


def _valued_market(products: dict, terminal: float | None = None) -> dict:
    """1,000 (market unit) growing 5 % a year, one region, an axis of two segments holding
    30 % and 70 % at no premium: segment A is 300 x 1.05^t, exactly."""
    document = copy.deepcopy(_skeleton(1000.0, 100 * GROWTH, (2025, 2031)))
    axis = document["axes"].pop("product")
    document["axes"]["line"] = axis
    document["products"] = products
    document["valuation"] = {
        "discount_rate": fixed(100 * RATE),
        "tax_rate": fixed(100 * TAX),
        "margin": fixed(100 * MARGIN),
    }
    if terminal is not None:
        document["valuation"]["terminal_growth"] = fixed(terminal)
    return document


def _phases(p1: float, p2: float) -> dict:
    return {
        name: {
            "probability": fixed(p),
            "cost": fixed(COSTS[name]),
            "years": years,
            "source": A,
        }
        for name, p, years in (("p1", p1, [2025, 2026]), ("p2", p2, [2027, 2027]))
    }


def _launching(p1: float, p2: float) -> dict:
    return {
        "new": {
            "company": "N",
            "segment": {"axis": "line", "name": "A"},
            "launch": fixed(2027.0),
            "phases": _phases(p1, p2),
            "launch_cost": fixed(LAUNCH_COST),
            "uptake": {
                "curve": "logistic",
                "peak": fixed(40.0),
                "years_to_peak": fixed(3.0),
                "steepness": fixed(6.0),
            },
        }
    }


YEARS = np.arange(2025, 2032)
DISCOUNT = (1 + RATE) ** -(YEARS - 2025.0)
SEGMENT = 300.0 * (1 + GROWTH) ** (YEARS - 2025.0)


def _launch_revenue() -> np.ndarray:
    x = YEARS + 1.0 - 2027.0
    inside = (expit(6 * (x / 3 - 0.5)) - expit(-3)) / (expit(3) - expit(-3))
    return SEGMENT * 0.4 * np.where(x <= 0, 0.0, np.where(x >= 3, 1.0, inside))


def _costs(reached: int, approved: bool) -> np.ndarray:
    costs = np.zeros(YEARS.size)
    if reached >= 1:
        costs[:2] += COSTS["p1"] / 2
    if reached >= 2:
        costs[2] += COSTS["p2"]
    if approved:
        costs[2] += LAUNCH_COST  # in the year of launch, 2027
    return costs


def _npv(revenue: np.ndarray, costs: np.ndarray) -> float:
    return float((((revenue * MARGIN - costs) * (1 - TAX)) * DISCOUNT).sum())


def test_npv_of_a_product_in_market_equals_its_closed_form():
    """40 % of a segment growing 5 % a year, margin 60 %, tax 20 %, 10 % a year: a
    geometric sum, and with terminal growth 2 % the perpetuity after 2031."""
    products = {
        "old": {"company": "O", "segment": {"axis": "line", "name": "A"}, "share": fixed(40.0)}
    }
    for terminal in (None, 2.0):
        scenario = netsim.load_scenario(_valued_market(products, terminal))
        result = value(scenario, draws=3, seed=0)
        first = 0.4 * 300.0 * MARGIN * (1 - TAX)
        q = (1 + GROWTH) / (1 + RATE)
        expected = first * (1 - q**7) / (1 - q)
        if terminal is not None:
            g = terminal / 100
            last = first * (1 + GROWTH) ** 6
            expected += last * (1 + g) / (RATE - g) / (1 + RATE) ** 6
        np.testing.assert_allclose(result["npv"].values, expected, rtol=1e-9)


def test_npv_of_an_approved_launch_equals_its_closed_form():
    scenario = netsim.load_scenario(_valued_market(_launching(1.0, 1.0)))
    result = value(scenario, draws=2, seed=0)
    expected = _npv(_launch_revenue(), _costs(2, True))
    np.testing.assert_allclose(result["npv"].values, expected, rtol=1e-9)


def test_a_failed_draw_sells_nothing_and_bears_only_the_costs_it_reached():
    """Two phases of 0.5 each: a draw failing the first pays only its cost, one failing
    the second pays both, an approved one pays them and the launch and sells; the draws'
    mean is the base case's risk-adjusted value within four standard errors."""
    scenario = netsim.load_scenario(_valued_market(_launching(0.5, 0.5)))
    draws = 4000
    result = value(scenario, draws=draws, seed=2)
    run = netsim.simulate(scenario, draws, seed=2)
    index = scenario.parameter_index
    first = run["inputs"].values[:, index["products.new.phases.p1"]]
    second = run["inputs"].values[:, index["products.new.phases.p2"]]
    cases = {
        "fails p1": (first == 0, _npv(np.zeros(7), _costs(1, False))),
        "fails p2": ((first == 1) & (second == 0), _npv(np.zeros(7), _costs(2, False))),
        "approved": ((first == 1) & (second == 1), _npv(_launch_revenue(), _costs(2, True))),
    }
    npv = result["npv"].sel(product="new").values
    for name, (picked, expected) in cases.items():
        assert picked.sum() > 500, name
        np.testing.assert_allclose(npv[picked], expected, rtol=1e-9, err_msg=name)
    assert (result["revenue"].sel(product="new").values[first * second == 0] == 0).all()
    base = float(npv_drivers(scenario, "new")["base"])  # the points: phases at 0.5
    expected_mean = 0.5 * cases["fails p1"][1] + 0.25 * cases["fails p2"][1]
    expected_mean += 0.25 * cases["approved"][1]
    assert base == pytest.approx(expected_mean, rel=1e-9)
    error = float(result["npv_standard_error"].sel(product="new"))
    assert abs(float(result["npv_mean"].sel(product="new")) - base) < 4 * error


def test_value_gives_revenue_peaks_and_approval_beside_the_npv():
    scenario = netsim.load_scenario(products_scenario())
    result = value(scenario, draws=2000, seed=1, product="b", company="A Co")
    assert result["revenue_bands"].dims == ("quantile", "year", "product")
    company = result["company_revenue"].sel(company="A Co")
    both = result["revenue"].sel(product=["a", "c"]).sum("product")
    np.testing.assert_allclose(company.values, both.values)
    peak = result["peak_sales"].sel(product="b").values
    assert (peak == result["revenue"].sel(product="b").max("year").values).all()
    sells = peak > 0
    assert np.isnan(result["peak_year"].sel(product="b").values[~sells]).all()
    low, high = result["approval_interval"].sel(product="b").values
    assert low <= 0.54 <= high
    assert float(result["probability_of_success"].sel(product="b")) == pytest.approx(0.54)


@pytest.mark.parametrize(
    ("product", "company", "message"),
    [
        pytest.param("zz", None, "product='zz' is not one of", id="product"),
        pytest.param(None, "zz", "company='zz' is not one of", id="company"),
    ],
)
def test_value_refuses_what_the_scenario_does_not_have(product, company, message):
    scenario = netsim.load_scenario(products_scenario())
    with pytest.raises(netsim.ArgumentValueError, match=message):
        value(scenario, 10, product=product, company=company)


def test_tornado_and_sobol_take_the_npv():
    scenario = netsim.load_scenario(products_scenario())
    drivers = npv_drivers(scenario, "b", top=3)
    assert drivers["parameter"].values[0] == "products.b.phases.p3"
    sobol = netsim.sobol(scenario, 64, "npv", "global", group="driver", blocks=2)
    assert "products.b" in sobol["parameter"].values
    assert not any(str(p).startswith("funnel.") for p in sobol["parameter"].values)
    total = sobol["total_order"].sel(product="b")
    assert float(total.sel(parameter="products.b")) > 0.5
    with pytest.raises(netsim.ScenarioError, match="does not take output 'npv'"):
        netsim.sensitivity.analyze(scenario, "spearman", "npv", "global", draws=100)


@pytest.mark.slow
def test_netsim_value_prints_bands_and_npv_of_a_net_product(capsys):
    # through main() in this process: the command's words and status are what is tested
    # (a process of its own would add a Python and numba start)
    from netsim.cli import main

    assert main(["value", str(NET_CONFIG), "--product", "itm11"]) == 0
    text = capsys.readouterr().out
    for part in ("worldwide revenue", "peak sales", "net present value", "P5", "P95"):
        assert part in text, part
    assert "probability of success" in text and "88.0 %" in text
    assert main(["value", str(NET_CONFIG), "--product", "zz"]) == 2
    refused = capsys.readouterr()
    assert refused.err.count("\n") == 1
    assert "Traceback" not in refused.err


@pytest.mark.slow
def test_value_writes_a_products_page_and_its_draws_and_plot_shares_draws_a_segment(
    tmp_path, capsys
):
    from netsim.cli import main

    page, out, run = tmp_path / "itm11.png", tmp_path / "value.nc", tmp_path / "run.nc"
    arguments = ["value", str(NET_CONFIG), "--product", "itm11", "--draws", "2000"]
    assert main([*arguments, "--plot", str(page), "--out", str(out)]) == 0
    assert page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import xarray as xr

    with xr.open_dataset(out) as result:
        assert result["npv"].dims == ("draw", "product") and result.sizes["draw"] == 2000
    assert main(["run", str(NET_CONFIG), "--draws", "500", "--out", str(run)]) == 0
    shares = tmp_path / "prrt.png"
    assert main(["plot", "shares", str(run), "--at", "modality=PRRT", "--out", str(shares)]) == 0
    assert shares.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    bad = tmp_path / "bad.png"
    assert main(["plot", "shares", str(run), "--at", "region=Europe", "--out", str(bad)]) == 2
    assert "modality=<segment>" in capsys.readouterr().err and not bad.exists()


def test_a_shares_chart_of_a_segment_the_run_lacks_is_refused_naming_it(tmp_path):
    from netsim.present.products import segment_shares_chart

    scenario = netsim.load_scenario(products_scenario())
    run = netsim.simulate(scenario, 20, seed=1)
    segments = {p.id: p.segments for p in scenario.products}
    out = tmp_path / "shares.png"
    with pytest.raises(netsim.ScenarioError, match=r"axis0='nope' is not a segment \(s0, s1\)"):
        segment_shares_chart(run, "nope", segments, out)
    assert not out.exists()


def test_the_summary_of_products_without_valuation_inputs_prints_no_nan():
    """Without [valuation] (or a product's own) there is no NPV: the summary said "nan"."""
    from netsim.present.products import value_text

    document = products_scenario()
    document.pop("valuation")
    scenario = netsim.load_scenario(document)
    text = value_text(value(scenario, 50, seed=1), {})
    assert "nan" not in text.lower()
    assert "NPV -: no valuation inputs for 4" in text
