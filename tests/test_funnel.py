"""The patient funnel: its closed form, its kernel against a numpy oracle, its invariants,
the paired draws it shares with the top-down model, reconcile, and its bad input."""

from __future__ import annotations

import copy
import tomllib
from itertools import pairwise

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import netsim
from netsim.analyze.reconcile import reconcile
from netsim.cli import main
from netsim.model.arrays import draw_arrays, funnel_arrays
from netsim.model.numpy_oracle import reference_funnel

from .conftest import NET_CONFIG
from .helpers import A, small_scenario, without_funnel, write_toml

# --- builders --------------------------------------------------------------------------------


def fixed(value: float) -> dict:
    return {"value": value, "source": A}


def lognormal(median: float, sigma: float) -> dict:
    return {"dist": "lognormal", "median": median, "sigma": sigma, "source": A}


def funnel_document(*, links: bool = True) -> dict:
    """``small_scenario()`` with a funnel using every feature: an incidence with a
    duration, two stages, two split axes (``axis0`` carries the costs, one segment by
    doses x price, the other by a cost per patient-year), trends, region and country
    multipliers, price levels per region and country; with ``links``, driver ``d0`` acts on a stage
    and a split share (and on growth) and event ``outage`` on doses and the rate."""
    document = small_scenario()
    document["funnel"] = {
        "label": "test patients",
        "population": {"source": A, "R0-a": 4e6, "R0-b": 1e6, "R1-a": 3e6, "R1-b": 2e6},
        "population_growth": {"source": A, "R0": 0.5, "R1": 1.5, "R1-b": -1.0},
        "rate": {
            "kind": "incidence",
            "per": 100_000,
            "source": A,
            "value": {"dist": "pert", "low": 8.0, "mode": 10.0, "high": 13.0, "source": A},
            "trend": fixed(2.0),
            "by_region": {"R1": 0.5, "source": A},
            "by_country": {"R1-b": 1.5, "source": A},
            "duration": {"dist": "uniform", "low": 4.0, "high": 6.0, "source": A},
        },
        "stages": {
            "diagnosed": {
                "share": {"dist": "pert", "low": 60.0, "mode": 80.0, "high": 95.0, "source": A},
                "trend": fixed(3.0),
            },
            "treated": {
                "share": fixed(50.0),
                "by_region": {"R1": 0.6, "source": A},
                "by_country": {"R0-b": 0.5, "R1-a": 1.6, "source": A},
            },
        },
        "split": {
            "axis0": {
                "s0": {
                    "share": {"dist": "uniform", "low": 20.0, "high": 40.0, "source": A},
                    "trend": fixed(5.0),
                },
                "s1": {"share": fixed(70.0), "by_region": {"R1": 1.2, "source": A}},
            },
            "axis1": {"source": A, "s0": 50.0, "s1": 30.0, "s2": 20.0},
        },
        "cost": {
            "axis": "axis0",
            "price_unit": "EUR",
            "per_market_unit": 1e6,
            "source": A,
            "price_index": {"source": A, "R0": 1.0, "R1": 0.5, "R1-b": 0.8},
            "segments": {
                "s0": {
                    "doses_per_year": fixed(12.0),
                    "price_per_dose": lognormal(2000.0, 0.2),
                    "price_trend": fixed(-2.0),
                },
                "s1": {
                    "cost_per_year": {
                        "dist": "pert",
                        "low": 5000.0,
                        "mode": 8000.0,
                        "high": 12000.0,
                        "source": A,
                    }
                },
            },
        },
        "checks": {
            "registry": {
                "stage": "diagnosed",
                "year": 2025,
                "places": ["R0", "R1-a"],
                "segments": {"axis": "axis0", "names": ["s1"]},
                "value": 1500.0,
                "source": A,
            }
        },
    }
    if links:
        document["drivers"]["d0"]["funnel"] = {
            "stages.diagnosed": 1.0,
            "split.axis0.s1": -2.0,
            "source": A,
        }
        document["events"]["outage"]["funnel"] = {
            "cost.s0.doses_per_year": 3.0,
            "rate": 0.5,
            "source": A,
        }
    return document


def simple_funnel(
    *,
    median_rate: float = 50.0,
    sigma_rate: float = 0.2,
    stage: float = 40.0,
    median_doses: float = 10.0,
    sigma_doses: float = 0.1,
    median_price: float = 1000.0,
    sigma_price: float = 0.3,
    trends: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
) -> dict:
    """A funnel whose global patient-based value is a product of independent lognormal
    factors times constants: a prevalence, one fixed stage, no split, one cost. ``trends``
    (percent a year) are the rate's, the stage's, the doses' and the price's."""
    rate_trend, stage_trend, doses_trend, price_trend = trends
    return {
        "population": {"source": A, "R0-a": 4e6, "R0-b": 1e6, "R1-a": 3e6, "R1-b": 2e6},
        "population_growth": {"source": A, "R0": 1.0, "R1": -0.5},
        "rate": {
            "kind": "prevalence",
            "per": 100_000,
            "source": A,
            "value": lognormal(median_rate, sigma_rate),
            "trend": fixed(rate_trend),
            "by_region": {"R1": 0.5, "source": A},
        },
        "stages": {"treated": {"share": fixed(stage), "trend": fixed(stage_trend)}},
        "cost": {
            "price_unit": "USD",
            "per_market_unit": 1e6,
            "source": A,
            "doses_per_year": lognormal(median_doses, sigma_doses),
            "doses_trend": fixed(doses_trend),
            "price_per_dose": lognormal(median_price, sigma_price),
            "price_trend": fixed(price_trend),
            "price_index": {"source": A, "R0": 1.0, "R1": 1.0},
        },
    }


def with_funnel(funnel: dict) -> dict:
    document = small_scenario()
    document["funnel"] = funnel
    return document


@pytest.fixture(scope="module")
def full() -> netsim.Scenario:
    return netsim.load_scenario(funnel_document())


@pytest.fixture(scope="module")
def full_run(full):
    return netsim.simulate(full, 300, seed=7)


# --- 1. the closed form: a product of lognormals -----------------------------------------


@pytest.mark.slow
def test_patient_total_is_the_closed_form_lognormal():
    """Rate, doses and price lognormal, the stage fixed: the global patient-based value is
    lognormal, median = product of medians x constants, sigma = sqrt(sum sigma^2); trends
    multiply it deterministically year by year, population growth country by country."""
    sigmas = (0.2, 0.1, 0.3)  # the rate's, the doses', the price's
    trends = (2.0, 1.0, 3.0, -4.0)
    funnel = simple_funnel(
        median_rate=50.0,
        sigma_rate=sigmas[0],
        stage=40.0,
        median_doses=10.0,
        sigma_doses=sigmas[1],
        median_price=1000.0,
        sigma_price=sigmas[2],
        trends=trends,
    )
    document = with_funnel(funnel)
    scenario = netsim.load_scenario(document)
    n = 20_000
    run = netsim.simulate(scenario, n, seed=3)
    world = run["patient_total"].sum("country").values.astype(np.float64)  # (draw, year)

    growth = {"R0": 0.01, "R1": -0.005}
    region_rate = {"R0": 1.0, "R1": 0.5}
    sigma = float(np.sqrt(np.sum(np.square(sigmas))))
    qs = np.array([0.05, 0.5, 0.95])
    z = stats.norm.ppf(qs)
    for t in (0, 6):
        people = sum(
            count * (1 + growth[country[:2]]) ** t * region_rate[country[:2]]
            for country, count in funnel["population"].items()
            if country != "source"
        )
        trend = np.prod([(1 + x / 100) ** t for x in trends])
        median = people * 50.0 / 100_000 * 0.40 * 10.0 * 1000.0 / 1e6 * trend
        exact = median * np.exp(sigma * z)
        # 5 standard errors of the sample quantile: sqrt(q (1 - q) / n) / pdf(x_q)
        pdf = stats.norm.pdf(z) / (exact * sigma)
        tolerance = 5 * np.sqrt(qs * (1 - qs) / n) / pdf
        estimate = np.quantile(world[:, t], qs)
        assert np.all(np.abs(estimate - exact) <= tolerance), (t, estimate, exact, tolerance)
    # the trends are deterministic: each draw's last year is its first times one constant
    ratio = world[:, 6] / world[:, 0]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)


# --- 2. one set of draws for both models ---------------------------------------------------


def _reproduce(scenario, inputs, rows):
    # rows moved on purpose past their distribution's support (an impact + 0.7 pp): the
    # kernel's semantics, not a caller's draws, are under test
    return netsim.propagate(scenario, inputs[rows], as_arrays=True, dtype=np.float32, check=False)


def test_propagate_of_a_runs_inputs_reproduces_both_models_bit_for_bit(full, full_run):
    inputs = full_run["inputs"].values
    for i in (0, 1, 77, 299):
        again = _reproduce(full, inputs, slice(i, i + 1))
        for name in ("total", "patient_total", "patients", "patient_by_axis0", "by_axis1"):
            np.testing.assert_array_equal(again[name][0], full_run[name].values[i], err_msg=name)


def test_a_drivers_impact_moves_both_models_unless_it_acts_on_the_funnel_only():
    document = funnel_document()
    only_funnel = copy.deepcopy(document)
    driver = only_funnel["drivers"]["d0"]
    driver["acts_on_growth"] = False
    driver.pop("tilts")
    for doc, moves_top_down in ((document, True), (only_funnel, False)):
        scenario = netsim.load_scenario(doc)
        inputs = netsim.sample_inputs(scenario, 4, seed=2)
        column = scenario.parameter_index["drivers.d0.impact"]
        moved = inputs.copy()
        moved[:, column] += 0.7
        before = _reproduce(scenario, inputs, slice(None))
        after = _reproduce(scenario, moved, slice(None))
        # the base year is before any driver acts; later years move
        np.testing.assert_array_equal(before["patient_total"][:, 0], after["patient_total"][:, 0])
        assert np.all(before["patient_total"][:, -1] != after["patient_total"][:, -1])
        if moves_top_down:
            assert np.all(before["total"][:, -1] != after["total"][:, -1])
        else:
            np.testing.assert_array_equal(before["total"], after["total"])
            for axis in ("axis0", "axis1"):
                np.testing.assert_array_equal(before[f"by_{axis}"], after[f"by_{axis}"])


# --- 3. the kernel against an independent numpy implementation ---------------------------


def oracle(scenario: netsim.Scenario, inputs: np.ndarray) -> dict[str, np.ndarray]:
    """The funnel's outputs from the numpy oracle (netsim.model.numpy_oracle), vectorised
    over draws, from the kernel's semantics rather than its loops."""
    return reference_funnel(
        funnel_arrays(scenario), draw_arrays(scenario, inputs), scenario.funnel.splits
    )


def strong_links() -> dict:
    """Links strong, but within the rules: a restraint nearly halving the treated share's
    growth, an outage taking most of the rate while it lasts."""
    document = funnel_document()
    document["restraints"]["d1"]["funnel"] = {"stages.treated": 30.0, "source": A}
    document["events"]["outage"]["funnel"] = {"rate": 4.0, "split.axis1.s2": 3.0, "source": A}
    return document


@pytest.mark.parametrize(
    ("link", "weights", "rule"),
    [
        ("restraints.d1", {"stages.treated": 300.0}, "cannot fall by 100 % or more in a year"),
        ("events.outage", {"rate": 40.0}, "would take all of it"),
        ("events.outage", {"split.axis1.s2": 80.0}, "would take all of it"),
    ],
)
def test_links_that_would_wipe_out_a_factor_are_refused(link, weights, rule):
    """A driver whose worst draw takes a factor down by 100 % or more in a year, or an
    event that takes all of it while active, is refused at load (as the top-down model
    refuses a market falling by 100 %): no draw is floored at 0 in silence."""
    document = funnel_document()
    group, name = link.split(".")
    document[group][name]["funnel"] = {**weights, "source": A}
    with pytest.raises(netsim.ScenarioError, match=rule):
        netsim.load_scenario(document)


@pytest.mark.parametrize("builder", [funnel_document, strong_links])
def test_funnel_kernel_matches_the_numpy_oracle(builder):
    scenario = netsim.load_scenario(builder())
    inputs = netsim.sample_inputs(scenario, 200, seed=5)
    # some draws with the outage in every year, so its link is exercised
    names = scenario.parameter_names
    inputs[:50, [i for i, name in enumerate(names) if ".occurs." in name]] = 1.0
    got = netsim.propagate(scenario, inputs, as_arrays=True, dtype=np.float64)
    want = oracle(scenario, inputs)
    assert set(want) == {k for k in got if k not in ("total", "by_axis0", "by_axis1")}
    for name, expected in want.items():
        np.testing.assert_allclose(got[name], expected, rtol=1e-12, atol=0, err_msg=name)
    # the links matter: without them the oracle disagrees
    unlinked = netsim.load_scenario(funnel_document(links=False))
    plain = oracle(unlinked, inputs)
    assert not np.allclose(plain["patient_total"][:, 1:], want["patient_total"][:, 1:])


def test_country_multipliers_reach_the_kernel():
    """``by_country`` moves its own country only: the rate's multiplies that country's
    cases, a stage's that country's share of the stage before; every other country keeps
    its region's values bit for bit. Without them the outputs differ (the test can fail)."""
    document = funnel_document()
    plain = copy.deepcopy(document)
    plain["funnel"]["rate"].pop("by_country")
    plain["funnel"]["stages"]["treated"].pop("by_country")
    scenario, unmoved = netsim.load_scenario(document), netsim.load_scenario(plain)
    assert scenario.parameter_names == unmoved.parameter_names
    inputs = netsim.sample_inputs(scenario, 40, seed=9)
    moved = netsim.propagate(scenario, inputs, as_arrays=True, dtype=np.float64)["patients"]
    base = netsim.propagate(unmoved, inputs, as_arrays=True, dtype=np.float64)["patients"]
    countries = [c.name for c in scenario.countries]
    cases = {"R1-b": 1.5}
    treated = {"R0-b": 0.5, "R1-a": 1.6}
    for c, name in enumerate(countries):
        np.testing.assert_allclose(
            moved[:, :, c, 0], base[:, :, c, 0] * cases.get(name, 1.0), rtol=1e-13, err_msg=name
        )
        share = moved[:, :, c, 2] / moved[:, :, c, 1]
        plain_share = base[:, :, c, 2] / base[:, :, c, 1]
        np.testing.assert_allclose(
            share, plain_share * treated.get(name, 1.0), rtol=1e-13, err_msg=name
        )
        if name not in cases and name not in treated:
            np.testing.assert_array_equal(moved[:, :, c], base[:, :, c], err_msg=name)


# --- 4. invariants ----------------------------------------------------------------------------


def check_invariants(scenario, out, rtol=1e-6):
    patients = out["patients"].astype(np.float64)
    for name, values in out.items():
        assert np.isfinite(values).all(), name
        assert (values >= 0).all(), name
    # each stage at most the stage before (float32: one rounding of the product)
    assert np.all(np.diff(patients, axis=-1) <= rtol * patients[..., :-1])
    for axis in scenario.funnel.splits:
        np.testing.assert_allclose(
            out[f"treated_by_{axis}"].astype(np.float64).sum(-1),
            patients[..., -1],
            rtol=rtol,
            atol=1e-30,
        )
        np.testing.assert_allclose(
            out[f"patient_by_{axis}"].astype(np.float64).sum(-1),
            out["patient_total"],
            rtol=rtol,
            atol=1e-30,
        )


def test_invariants_of_the_full_funnel(full, full_run):
    out = {name: full_run[name].values for name in full_run.data_vars if name != "inputs"}
    out = {k: v for k, v in out.items() if v.dtype.kind == "f"}
    assert {"patients", "treated_by_axis0", "patient_by_axis1"} <= set(out)
    check_invariants(full, out)


def _shares(draw, n: int) -> list[float]:
    """``n`` percentages summing exactly to 100 (whole numbers, zeros allowed)."""
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=n - 1, max_size=n - 1)))
    edges = [0, *cuts, 100]
    return [float(b - a) for a, b in pairwise(edges)]


@st.composite
def random_funnels(draw):
    document = funnel_document()
    funnel = document["funnel"]
    trend = st.floats(-50.0, 50.0, allow_nan=False)
    for stage in funnel["stages"].values():
        high = draw(st.floats(0.0, 100.0))
        stage["share"] = {"dist": "uniform", "low": 0.0, "high": high, "source": A}
        if high == 0.0:
            stage["share"] = fixed(0.0)
        stage["trend"] = fixed(draw(trend))
        stage.pop("by_region", None)
        stage.pop("by_country", None)
    axis0, axis1 = _shares(draw, 2), _shares(draw, 3)
    for segment, share in zip(("s0", "s1"), axis0, strict=True):
        funnel["split"]["axis0"][segment] = {"share": fixed(share), "trend": fixed(draw(trend))}
    funnel["split"]["axis1"].update(zip(("s0", "s1", "s2"), axis1, strict=True))
    funnel["rate"]["trend"] = fixed(draw(trend))
    funnel["cost"]["segments"]["s0"]["price_trend"] = fixed(draw(trend))
    document["drivers"]["d0"]["funnel"]["stages.diagnosed"] = draw(st.floats(-10.0, 10.0))
    document["events"]["outage"]["funnel"]["rate"] = draw(st.floats(-10.0, 10.0))
    return document


@given(random_funnels())
def test_invariants_hold_for_any_funnel_within_the_rules(document):
    try:
        scenario = netsim.load_scenario(document)
    except netsim.ScenarioError as error:  # refused by the worst-draw rule, never run
        assert "in its worst draw" in str(error)
        return
    inputs = netsim.sample_inputs(scenario, 64, seed=0)
    out = netsim.propagate(scenario, inputs, as_arrays=True, dtype=np.float32)
    check_invariants(scenario, out)


# --- 5. reconcile: the solved values ----------------------------------------------------------


def test_the_solved_price_factor_makes_the_base_cases_agree():
    document = funnel_document()
    segments = document["funnel"]["cost"]["segments"]
    segments["s0"]["price_per_dose"] = fixed(2000.0)
    segments["s1"]["cost_per_year"] = fixed(8000.0)
    result = reconcile(netsim.load_scenario(document), draws=200, seed=1)
    factor = float(result["implied_price_factor"])
    assert bool(result["implied_price_factor_agrees"])
    assert abs(factor - 1.0) > 0.1  # the test means something: the models disagree
    segments["s0"]["price_per_dose"] = fixed(2000.0 * factor)
    segments["s1"]["cost_per_year"] = fixed(8000.0 * factor)
    solved = reconcile(netsim.load_scenario(document), draws=200, seed=1)
    base = solved["patient_based_base"].isel(year=0) / solved["top_down_base"].isel(year=0)
    assert abs(float(base) - 1.0) <= 1e-12
    assert abs(float(solved["implied_price_factor"]) - 1.0) <= 1e-12
    assert bool(solved["implied_price_factor_agrees"])


def test_a_treated_share_over_100_percent_does_not_agree():
    document = funnel_document()
    segments = document["funnel"]["cost"]["segments"]
    segments["s0"]["price_per_dose"] = fixed(20.0)  # far too cheap: the funnel is ~1/50
    segments["s1"]["cost_per_year"] = fixed(100.0)
    result = reconcile(netsim.load_scenario(document), draws=50, seed=1)
    assert float(result["implied_price_factor"]) > 2.0  # 50 % x the factor is over 100 %
    assert not bool(result["implied_treated_share_agrees"])
    assert np.isnan(float(result["implied_treated_share"]))
    assert not bool(result["implied_treated_share_plausible"])


# --- 6. bad funnel input ---------------------------------------------------------------------


def _set(path: str, value):
    def change(document):
        *parents, last = path.split("/")
        table = document
        for key in parents:
            table = table[key]
        if value is None:
            del table[last]
        else:
            table[last] = value

    return change


def _no_funnel_but_a_link(document):
    document.pop("funnel")
    document["events"]["outage"].pop("funnel")


def _cost_axis_not_split(document):
    document["funnel"]["split"].pop("axis1")
    document["funnel"]["cost"]["axis"] = "axis1"


def _only_funnel_without_weights(document):
    document["drivers"]["d0"].pop("funnel")
    document["drivers"]["d0"]["acts_on_growth"] = False


# (change, the key path and rule the message names)
BAD_FUNNELS = {
    "stage share over 100": (
        _set(
            "funnel/stages/diagnosed/share",
            {"dist": "pert", "low": 60.0, "mode": 80.0, "high": 120.0, "source": A},
        ),
        "funnel.stages.diagnosed.share: its values reach",
    ),
    "zero population": (_set("funnel/population/R0-b", 0.0), "funnel.population.R0-b"),
    "negative population": (_set("funnel/population/R1-a", -5.0), "funnel.population.R1-a"),
    "unknown split segment": (
        _set("funnel/split/axis1/s9", 0.0),
        "funnel.split.axis1.s9: 's9' is not a segment of axis1",
    ),
    "missing split segment": (
        _set("funnel/split/axis1/s2", None),
        "funnel.split.axis1 gives no share for segment 's2'",
    ),
    "split not 100": (
        _set("funnel/split/axis1/s2", 25.0),
        "funnel.split.axis1: the shares' points must sum to 100 %",
    ),
    "unknown factor": (
        _set("drivers/d0/funnel", {"stages.nope": 1.0, "source": A}),
        "drivers.d0.funnel.\"stages.nope\": 'stages.nope' is not a funnel factor",
    ),
    "only funnel, no weights": (_only_funnel_without_weights, "drivers.d0.acts_on_growth"),
    "link without a funnel": (_no_funnel_but_a_link, "drivers.d0.funnel: the scenario has no"),
    "cost axis not split": (_cost_axis_not_split, "funnel.cost.axis='axis1' must be an axis"),
    "incidence without duration": (
        _set("funnel/rate/duration", None),
        "funnel.rate: an incidence needs duration",
    ),
    "check unknown place": (
        _set("funnel/checks/registry/places", ["R0", "Atlantis"]),
        "funnel.checks.registry.places: 'Atlantis' is neither a region nor a country",
    ),
    "check unknown stage": (
        _set("funnel/checks/registry/stage", "cured"),
        "funnel.checks.registry.stage='cured' is not a stage",
    ),
    "figure without a source": (
        _set("funnel/stages/treated/share", {"value": 50.0}),
        "funnel.stages.treated.share",
    ),
    "country multiplier over 100 %": (
        _set("funnel/stages/treated/by_country/R0-a", 2.5),
        "funnel.stages.treated.share: up to 50 % x by_region 'R0' x by_country 'R0-a' = 2.5",
    ),
    "country multiplier of a region": (
        _set("funnel/rate/by_country/R1", 2.0),
        "funnel.rate.by_country.R1: 'R1' is not a country",
    ),
    "country multiplier without a source": (
        _set("funnel/rate/by_country/source", None),
        "funnel.rate.by_country",
    ),
    "country multiplier on a split": (
        _set("funnel/split/axis0/s1/by_country", {"R0-a": 2.0, "source": A}),
        "funnel.split.axis0.s1.by_country",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(BAD_FUNNELS))
def test_bad_funnel_is_refused_by_the_library_and_the_cli(case, tmp_path, capsys):
    change, message = BAD_FUNNELS[case]
    document = funnel_document()
    change(document)
    with pytest.raises(netsim.ScenarioError) as caught:
        netsim.load_scenario(document)
    assert message in str(caught.value)

    path = tmp_path / "scenario.toml"
    write_toml(document, path)
    plot = tmp_path / "chart.png"
    reconcile_argv = ["reconcile", str(path), "--draws", "50", "--plot", str(plot)]
    for argv in (["validate", str(path)], [*reconcile_argv, "--out", str(tmp_path / "r.nc")]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and captured.err.startswith("netsim: error: ")
        assert message in captured.err and "Traceback" not in captured.err
        assert captured.out == ""
    assert not plot.exists()
    assert list(tmp_path.iterdir()) == [path]  # nothing written


# --- 7. the reconcile command on the NET scenario ------------------------------------------


@pytest.mark.slow
def test_reconcile_cli_end_to_end(net, tmp_path, capsys):
    plot, out, csv = tmp_path / "r.png", tmp_path / "r.nc", tmp_path / "r.csv"
    argv = ["reconcile", str(NET_CONFIG), "--draws", "2000", "--seed", "4"]
    status = main([*argv, "--plot", str(plot), "--out", str(out), "--csv", str(csv)])
    printed = capsys.readouterr().out
    assert status == 0
    assert "patient-based / top-down, 2,000 paired draws, seed 4" in printed
    assert "ratio P50" in printed and "GEP-NET patients, EU and US" in printed
    head = plot.read_bytes()[:8]
    assert head == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000
    assert csv.read_text().count("\n") >= 7  # a header and one row a year
    expected = reconcile(net, draws=2000, seed=4)
    with xr.open_dataset(out) as written:
        written = written.load()
    assert set(written.data_vars) == set(expected.data_vars)
    for name in expected.data_vars:
        got, want = written[name], expected[name]
        assert got.dims == want.dims, name
        if want.dtype.kind in "fc":
            np.testing.assert_array_equal(got.values, want.values, err_msg=name)
        else:
            assert got.values.tolist() == want.values.tolist(), name

    modality = next(a for a in net.axes if a.name == "modality")
    for by, labels in (
        ("region", [r.name for r in net.regions]),
        ("modality", modality.segment_names),
    ):
        status = main([*argv[:2], "--draws", "300", "--by", by, "--year", "2031", "--no-plot"])
        printed = capsys.readouterr().out
        assert status == 0
        rows = [line for line in printed.splitlines() if " 2031 " in line]
        assert printed.splitlines()[1].split()[0] == by
        assert [row.split("  ")[1].strip() for row in rows] == list(labels)


@pytest.mark.slow
def test_reconcile_cli_refuses_an_axis_not_split_and_a_scenario_without_funnel(tmp_path, capsys):
    plot = tmp_path / "r.png"
    args = ["--draws", "50", "--plot", str(plot)]
    assert main(["reconcile", str(NET_CONFIG), "--by", "end_user", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not split its patients over end_user" in err
    path = tmp_path / "plain.toml"
    write_toml(without_funnel(tomllib.loads(NET_CONFIG.read_text())), path)
    assert main(["reconcile", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no patient funnel" in err
    assert list(tmp_path.iterdir()) == [path]


# --- 8. without a funnel nothing changes -----------------------------------------------------


def test_without_funnel_the_outputs_are_the_top_down_ones():
    scenario = netsim.load_scenario(small_scenario())
    assert scenario.funnel is None
    inputs = netsim.sample_inputs(scenario, 5, seed=0)
    out = netsim.propagate(scenario, inputs, as_arrays=True)
    assert set(out) == {"total", "by_axis0", "by_axis1"}
    run = netsim.simulate(scenario, 5, seed=0)
    assert not [name for name in run.data_vars if "patient" in name or "treated" in name]


def test_a_funnel_changes_no_bit_of_the_top_down_run(net, net_top_down):
    with_it = netsim.simulate(net, 500, seed=8, sampler="mc")
    without = netsim.simulate(net_top_down, 500, seed=8, sampler="mc")
    names = ["total", *(f"by_{a.name}" for a in net.axes)]
    for name in names:
        np.testing.assert_array_equal(with_it[name].values, without[name].values, err_msg=name)
    shared = list(net_top_down.parameter_names)
    np.testing.assert_array_equal(
        with_it["inputs"].sel(parameter=shared).values, without["inputs"].values
    )


# --- what a hostile reading found: each refused at load, or counted right --------------------


def _refused(document: dict, match: str) -> None:
    with pytest.raises(netsim.ScenarioError, match=match):
        netsim.load_scenario(document)


def test_a_check_on_an_axis_the_funnel_does_not_split_is_refused():
    document = funnel_document()
    document["funnel"]["split"].pop("axis1")
    document["funnel"]["checks"]["registry"]["segments"] = {"axis": "axis1", "names": ["s0"]}
    _refused(document, "not an axis the funnel splits")


def test_a_check_naming_a_segment_twice_is_refused():
    document = funnel_document()
    segments = document["funnel"]["checks"]["registry"]["segments"]
    segments["names"] = [segments["names"][0]] * 2
    _refused(document, "names a segment twice")


def test_a_check_on_an_earlier_stage_counts_even_when_no_one_is_treated():
    """The split's shares apply at every stage: with a treated share of 0 the check on an
    earlier stage counts the same patients as with a treated share of 1e-9 %."""
    counts = []
    for share in (0.0, 1e-9):
        document = funnel_document()
        document["funnel"]["stages"]["treated"]["share"] = fixed(share)
        document["funnel"]["checks"]["registry"]["stage"] = "cases"
        result = reconcile(netsim.load_scenario(document), draws=50, seed=1)
        counts.append(result["check_funnel"].values)
    assert counts[0].min() > 0
    np.testing.assert_allclose(counts[0], counts[1], rtol=1e-9)


def test_a_split_whose_shares_can_all_vanish_in_a_region_is_refused():
    document = funnel_document()
    for segment in document["funnel"]["split"]["axis0"].values():
        if isinstance(segment, dict):
            segment["by_region"] = {"R1": 0.0, "source": A}
    _refused(document, "every segment's share can be 0")


@pytest.mark.parametrize(
    "change",
    [
        ("cost", "per_market_unit", 1e-30),
        ("rate", "per", 1e-30),
    ],
)
def test_values_beyond_the_limits_are_refused(change):
    document = funnel_document()
    table, key, value = change
    document["funnel"][table][key] = value
    _refused(document, "over limits.max_value|more cases than people")


def test_more_cases_than_people_is_refused():
    document = funnel_document()
    document["funnel"]["rate"]["value"] = {
        "dist": "pert",
        "low": 6e5,
        "mode": 7e5,
        "high": 8e5,
        "source": A,
    }
    _refused(document, "more cases than people")


def test_sobol_of_a_top_down_output_ignores_the_funnel(net, net_top_down):
    """A top-down output cannot depend on the funnel's own inputs: its Sobol design leaves
    them out (and the funnel kernel does not run), so it equals the top-down model's."""
    with_funnel = netsim.sobol(net, 64, "total", "global", group="driver", blocks=2)
    alone = netsim.sobol(net_top_down, 64, "total", "global", group="driver", blocks=2)
    assert with_funnel["parameter"].values.tolist() == alone["parameter"].values.tolist()
    for name in ("first_order", "total_order"):
        np.testing.assert_array_equal(with_funnel[name].values, alone[name].values)
    patient = netsim.sobol(net, 64, "patient_total", "global", group="driver", blocks=2)
    assert any(str(p).startswith("funnel.") for p in patient["parameter"].values)
