"""Products inside the market: their shares and the segments they split, their curves in
closed form, their kernels against the numpy oracle, approval on the draws, and the file's
rules for them (docs/config.md, "Products")."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import expit

import netsim
from netsim.kernels.products import product_shares_kernel
from netsim.model.arrays import draw_arrays, expected_draw_arrays
from netsim.model.product_oracle import reference_product_shares, reference_products
from netsim.model.product_values import approval
from netsim.model.products import product_arrays
from netsim.stats.proportions import proportion_interval

from .helpers import A, fixed, products_scenario, small_scenario, without_products

S0 = {"axis": "axis0", "name": "s0"}
S1 = {"axis": "axis0", "name": "s1"}


@pytest.fixture(scope="module")
def toy() -> netsim.Scenario:
    return netsim.load_scenario(products_scenario())


def _still(document: dict) -> dict:
    """The document without noise, drivers, restraints or events: a deterministic market."""
    document = copy.deepcopy(document)
    document["noise"] = {"global_sd": fixed(0.0), "region_sd": fixed(0.0)}
    for group in ("drivers", "restraints", "events", "correlations"):
        document.pop(group, None)
    document["market"]["base_scale"] = {"dist": "fixed", "value": 1.0, "source": A}
    return document


# --- products and other products make their segment ---------------------------------------


@st.composite
def product_sets(draw: st.DrawFn) -> dict:
    """Up to five products on the two segments of axis0, of every kind, whose base-year
    shares sum to at most 100 % (a file is refused otherwise) but whose trends and peaks
    may take them far past it later (so the scaling is exercised), with random prices."""
    products: dict[str, dict] = {}
    for i in range(draw(st.integers(1, 5))):
        segment = draw(st.sampled_from([S0, S1]))
        price = fixed(draw(st.floats(0.05, 5.0)))
        kind = draw(st.sampled_from(["market", "launch", "generic"]))
        originators = [k for k, v in products.items() if "loss_of_exclusivity" in v]
        originators = [k for k in originators if products[k]["segment"] == segment]
        table: dict = {"company": f"C{i % 2}", "segment": segment, "price": price}
        if kind == "generic" and originators:
            # at most four generics of one originator, together capturing at most 100 %
            table.update(generic_of=originators[0], capture=fixed(draw(st.floats(0.0, 25.0))))
        elif kind == "launch":
            launch = draw(st.floats(2023.0, 2032.0))
            table["launch"] = fixed(launch)
            if launch >= 2025.0:  # a phase ends by the year of launch
                table["phases"] = {
                    "p": {
                        "probability": fixed(draw(st.floats(0.0, 1.0))),
                        "cost": fixed(1.0),
                        "years": [2025, 2025],
                        "source": A,
                    }
                }
            curve = draw(st.sampled_from(["logistic", "bass"]))
            uptake = {"curve": curve, "peak": fixed(draw(st.floats(0.0, 100.0)))}
            uptake["years_to_peak"] = fixed(draw(st.floats(0.2, 10.0)))
            if curve == "logistic":
                uptake["steepness"] = fixed(draw(st.floats(0.5, 12.0)))
            else:
                uptake.update(innovation=fixed(0.08), imitation=fixed(0.7))
            table["uptake"] = uptake
        else:
            table["share"] = {"dist": "uniform", "low": 0.0, "high": 20.0, "source": A}
            table["trend"] = fixed(draw(st.floats(-50.0, 50.0)))
        if "generic_of" not in table and draw(st.booleans()):
            table["loss_of_exclusivity"] = {
                "year": fixed(draw(st.floats(2020.0, 2032.0))),
                "floor": fixed(draw(st.floats(0.0, 100.0))),
                "half_life": fixed(draw(st.floats(0.1, 5.0))),
            }
        products[f"p{i}"] = table
    return products


@given(product_sets(), st.integers(0, 2**31))
def test_products_and_other_products_make_their_segment_in_every_draw(products, seed):
    document = small_scenario()
    document["products"] = products
    document["events"]["outage"]["products"] = {next(iter(products)): 3.0, "source": A}
    scenario = netsim.load_scenario(document)
    run = netsim.propagate(
        scenario, netsim.sample_inputs(scenario, 64, seed), as_arrays=True, dtype=np.float64
    )
    segment = run["by_axis0"]  # (draw, year, country, segment)
    named = np.zeros_like(segment)
    for j, product in enumerate(scenario.products):
        named[..., ["s0", "s1"].index(product.segments[0])] += run["by_product"][..., j]
    assert (run["by_product"] >= 0).all() and (run["other_products"] >= 0).all()
    np.testing.assert_allclose(named + run["other_products"], segment, rtol=1e-12, atol=0)
    # the patients' shares of the named products never pass the segment
    draws = draw_arrays(scenario, netsim.sample_inputs(scenario, 64, seed))
    value, volume, other = _shares(scenario, draws)
    for s in range(2):
        placed = product_arrays(scenario).placement_segment == s
        assert (volume[..., placed].sum(axis=-1) <= 1.0 + 1e-12).all()
        np.testing.assert_allclose(value[..., placed].sum(axis=-1) + other[..., s], 1.0, rtol=1e-12)


def _shares(scenario: netsim.Scenario, draws) -> tuple[np.ndarray, ...]:
    arrays = product_arrays(scenario)
    shape = (draws.draws, len(scenario.regions), len(scenario.years))
    value = np.empty((*shape, arrays.placement_product.size))
    volume = np.empty_like(value)
    other = np.empty((*shape, 2))
    product_shares_kernel(arrays, draws, value, volume, other)
    return value, volume, other


def test_a_segment_whose_products_pass_it_is_shared_between_them():
    """Two products at 50 % and 40 % of a segment's patients in the base year, the first
    growing 20 % a year: from the year they would pass 100 % they are scaled down together
    to fill it, nothing left to other products, their values in the ratio of share x price."""
    document = _still(small_scenario())
    document["products"] = {
        "x": {
            "company": "X",
            "segment": S0,
            "share": fixed(50.0),
            "trend": fixed(20.0),
            "price": fixed(2.0),
        },
        "y": {"company": "Y", "segment": S0, "share": fixed(40.0)},
    }
    scenario = netsim.load_scenario(document)
    base = netsim.deterministic(scenario)
    t = base["year"].values - scenario.years[0]
    claimed_x, claimed_y = 50.0 * 1.2**t, np.full(t.shape, 40.0)
    scale = np.minimum(1.0, 100.0 / (claimed_x + claimed_y))
    share_x, share_y = claimed_x * scale, claimed_y * scale
    other = 100.0 - share_x - share_y
    assert (scale < 1).any() and (scale == 1).any()  # both sides of the limit are seen
    segment = base["by_axis0"].sel(axis0="s0")
    x, y = (base["by_product"].sel(product=p) for p in ("x", "y"))
    whole = 2 * share_x + share_y + other
    ratio_x = (x / segment).transpose("year", ...).values
    ratio_y = (y / segment).transpose("year", ...).values
    shape = (-1,) + (1,) * (ratio_x.ndim - 1)
    np.testing.assert_allclose(
        ratio_x, np.broadcast_to((2 * share_x / whole).reshape(shape), ratio_x.shape), rtol=1e-12
    )
    np.testing.assert_allclose(
        ratio_y, np.broadcast_to((share_y / whole).reshape(shape), ratio_y.shape), rtol=1e-12
    )
    left = base["other_products"].sel(axis0="s0").transpose("year", ...).values[scale < 1]
    assert float(np.abs(left).max()) < 1e-9


# --- the curves, in closed form -----------------------------------------------------------


def _kept(x: np.ndarray, floor: float, half_life: float) -> np.ndarray:
    return np.where(x <= 0, 1.0, floor + (1 - floor) * 2.0 ** (-np.maximum(x, 0) / half_life))


def test_erosion_after_the_loss_of_exclusivity_follows_its_curve():
    """An originator at 40 % of its segment, exclusivity lost in mid-2027: its share is
    40 % x (0.3 + 0.7 x 2^(-x / 1.5)) for x years from the loss to each year's end, and its
    generic takes 80 % of what it lost (prices 1: value shares are patient shares)."""
    document = _still(small_scenario())
    loss = {"year": fixed(2027.5), "floor": fixed(30.0), "half_life": fixed(1.5)}
    document["products"] = {
        "brand": {"company": "B", "segment": S0, "share": fixed(40.0)},
        "generic": {"company": "G", "segment": S0, "generic_of": "brand", "capture": fixed(80.0)},
    }
    document["products"]["brand"]["loss_of_exclusivity"] = loss
    scenario = netsim.load_scenario(document)
    base = netsim.deterministic(scenario)
    years = np.asarray(scenario.years, dtype=float)
    kept = _kept(years + 1.0 - 2027.5, 0.3, 1.5)[:, None]
    segment = base["by_axis0"].sel(axis0="s0").values
    share = base["by_product"].sel(product="brand").values / segment
    np.testing.assert_allclose(share, 0.4 * kept * np.ones_like(share), rtol=1e-12)
    generic = base["by_product"].sel(product="generic").values / segment
    np.testing.assert_allclose(generic, 0.8 * 0.4 * (1 - kept) * np.ones_like(share), rtol=1e-12)
    assert (share[years < 2027] == 0.4).all()  # untouched until the year of the loss


def test_a_product_in_market_after_its_loss_keeps_its_observed_base_year_share():
    """A loss before the base year: the base-year share is as stated (already eroded), and
    it erodes further along the curve, relative to the part left in the base year."""
    document = _still(small_scenario())
    loss = {"year": fixed(2024.0), "floor": fixed(20.0), "half_life": fixed(2.0)}
    document["products"] = {
        "brand": {"company": "B", "segment": S0, "share": fixed(30.0), "loss_of_exclusivity": loss}
    }
    scenario = netsim.load_scenario(document)
    base = netsim.deterministic(scenario)
    years = np.asarray(scenario.years, dtype=float)
    kept = _kept(years + 1.0 - 2024.0, 0.2, 2.0) / _kept(np.array(2026.0 - 2024.0), 0.2, 2.0)
    share = base["by_product"].sel(product="brand") / base["by_axis0"].sel(axis0="s0")
    np.testing.assert_allclose(share.values, 0.3 * kept[:, None] * np.ones(share.shape), rtol=1e-12)


@pytest.mark.parametrize(
    "curve",
    [
        pytest.param({"curve": "logistic", "steepness": fixed(6.0)}, id="logistic"),
        pytest.param(
            {"curve": "bass", "innovation": fixed(0.08), "imitation": fixed(0.7)}, id="bass"
        ),
    ],
)
def test_uptake_reaches_its_peak_along_its_curve(curve):
    """Launched at 2026.4 to a 50 % peak in 4 years: the share in each year is 50 % x the
    curve at the years from launch to the year's end (0 before, 1 from the peak on)."""
    document = _still(small_scenario())
    uptake = {"peak": fixed(50.0), "years_to_peak": fixed(4.0), **curve}
    document["products"] = {
        "new": {"company": "N", "segment": S1, "launch": fixed(2026.4), "uptake": uptake}
    }
    scenario = netsim.load_scenario(document)
    base = netsim.deterministic(scenario)
    x = np.asarray(scenario.years, dtype=float) + 1.0 - 2026.4
    if curve["curve"] == "logistic":
        inside = (expit(6 * (x / 4 - 0.5)) - expit(-3)) / (expit(3) - expit(-3))
    else:

        def adopted(t: np.ndarray) -> np.ndarray:
            return (1 - np.exp(-0.78 * t)) / (1 + 0.7 / 0.08 * np.exp(-0.78 * t))

        inside = adopted(x) / adopted(np.array(4.0))
    expected = 0.5 * np.where(x <= 0, 0.0, np.where(x >= 4, 1.0, inside))
    share = base["by_product"].sel(product="new") / base["by_axis0"].sel(axis0="s1")
    np.testing.assert_allclose(share.values, expected[:, None] * np.ones(share.shape), rtol=1e-12)
    assert expected[0] == 0.0 and expected[-1] == 0.5


def test_order_of_entry_scales_a_later_entrants_peak():
    """Two of a class: the one in market counts, so the launching one reaches
    2 ** -0.5 of its peak as a pioneer; a third launching later in the draw counts both."""
    document = _still(small_scenario())
    uptake = {"curve": "logistic", "peak": fixed(40.0), "years_to_peak": fixed(1.0)}
    uptake["steepness"] = fixed(6.0)
    entry = {"class": "k", "exponent": 0.5, "source": A}
    document["products"] = {
        "old": {
            "company": "O",
            "segment": S1,
            "share": fixed(10.0),
            "order_of_entry": {"class": "k"},
        },
        "second": {"company": "S", "segment": S1, "launch": fixed(2026.0), "uptake": uptake},
        "third": {"company": "T", "segment": S1, "launch": fixed(2027.0), "uptake": uptake},
    }
    for name in ("second", "third"):
        document["products"][name]["order_of_entry"] = entry
    scenario = netsim.load_scenario(document)
    base = netsim.deterministic(scenario).sel(year=2031)
    share = base["by_product"] / base["by_axis0"].sel(axis0="s1")
    np.testing.assert_allclose(share.sel(product="second"), 0.4 * 2**-0.5, rtol=1e-12)
    np.testing.assert_allclose(share.sel(product="third"), 0.4 * 3**-0.5, rtol=1e-12)


def test_a_product_sells_only_in_its_regions(toy):
    base = netsim.deterministic(toy)
    product_c = base["by_product"].sel(product="c")
    assert (product_c.where(base.region == "R1", drop=True) == 0).all()
    assert (product_c.where(base.region == "R0", drop=True) > 0).all()


# --- approval on the draws ----------------------------------------------------------------


def test_revenue_is_zero_before_launch_and_in_draws_that_fail_approval(toy):
    """Product b passes two phases (0.6 x 0.9): its draws without approval sell nothing, and
    their share matches 1 - 0.54 within the binomial interval; no draw sells before its
    launch (the launch to the year's end is not positive: the year ends before it)."""
    draws = 20_000
    run = netsim.simulate(toy, draws, seed=4)
    revenue = run["by_product"].sel(product="b").sum("country").values  # (draw, year)
    inputs = run["inputs"].values
    approved = approval(toy, toy.products[2], inputs)
    assert set(np.unique(approved)) == {0.0, 1.0}
    assert (revenue[approved == 0] == 0).all()
    failed = int((approved == 0).sum())
    low, high = proportion_interval(np.array([failed]), draws, 0.999)
    assert low[0] <= 1 - 0.6 * 0.9 <= high[0]
    launch = inputs[:, toy.parameter_index["products.b.launch"]]
    years = np.asarray(toy.years)
    before = years[None, :] + 1.0 <= launch[:, None]
    assert before.any() and (revenue[before] == 0).all()
    after = (~before) & (approved[:, None] == 1)
    assert (revenue[after] > 0).all()


def test_a_product_changes_no_bit_of_the_market_nor_any_other_draw(toy):
    """Products add outputs, never change one: the market's cube and every shared input's
    draws are the same bit for bit with and without them (keyed streams)."""
    market = netsim.load_scenario(without_products(products_scenario()))
    with_them = netsim.simulate(toy, 300, seed=9)
    without = netsim.simulate(market, 300, seed=9)
    for name in ("total", "by_axis0", "by_axis1"):
        np.testing.assert_array_equal(with_them[name].values, without[name].values)
    shared = list(market.parameter_names)
    np.testing.assert_array_equal(
        with_them["inputs"].sel(parameter=shared).values, without["inputs"].values
    )


# --- the kernels against the numpy oracle ---------------------------------------------------


def _oracle_case(scenario: netsim.Scenario, draws: int, seed: int) -> None:
    inputs = netsim.sample_inputs(scenario, draws, seed)
    run = netsim.propagate(scenario, inputs, as_arrays=True, dtype=np.float64)
    per_draw = draw_arrays(scenario, inputs)
    axis = scenario.products[0].axis
    want = reference_products(product_arrays(scenario), per_draw, run[f"by_{axis}"])
    for name, values in want.items():
        np.testing.assert_allclose(run[name], values, rtol=1e-12, atol=1e-9, err_msg=name)
    if f"patient_by_{axis}" not in run:
        return
    value, volume, _ = reference_product_shares(product_arrays(scenario), per_draw, 6)
    region = product_arrays(scenario).region_of
    for output, segment, shares in (
        ("treated_by_product", f"treated_by_{axis}", volume),
        ("patient_by_product", f"patient_by_{axis}", value),
    ):
        placed = run[segment][..., product_arrays(scenario).placement_segment]
        expected = placed * shares[:, region].transpose(0, 2, 1, 3)  # one placement each
        np.testing.assert_allclose(run[output], expected, rtol=1e-12, atol=1e-9, err_msg=output)


def test_product_kernel_equals_the_numpy_oracle_with_drivers_and_events(toy):
    _oracle_case(toy, 256, seed=3)
    # the links matter: without the driver's and the event's action the oracle disagrees
    document = products_scenario()
    document["drivers"]["d0"].pop("products")
    document["events"]["outage"].pop("products")
    unlinked = netsim.load_scenario(document)
    inputs = netsim.sample_inputs(toy, 256, 3)
    linked = netsim.propagate(toy, inputs, as_arrays=True, dtype=np.float64)["by_product"]
    plain = netsim.propagate(unlinked, inputs, as_arrays=True, dtype=np.float64)["by_product"]
    assert not np.allclose(linked, plain)


def test_product_kernels_equal_the_numpy_oracle_on_the_net_file(net):
    """The NET file's fourteen products, in both models (the funnel splits modality)."""
    assert netsim.OutputLayout.of(net).patient_products
    _oracle_case(net, 200, seed=5)


def test_base_case_rows_carry_the_probability_of_approval(toy):
    """In the base case a phase's column holds its probability, so a launching product
    sells its expected share: 0.54 x its share when approved."""
    arrays = expected_draw_arrays(toy)
    assert arrays.products[0, 2, 2] == pytest.approx(0.54, rel=1e-15)


# --- the two views of a product --------------------------------------------------------------


def test_a_products_two_views_share_its_segments_ratio_and_sum_to_the_funnels_segment(net):
    """Both views split a segment by the same shares: a product selling everywhere alike
    (Somatuline, no regional offset, nothing acting on it) has its segment's ratio; and in
    the funnel's view too the products and the rest make the segment."""
    products = netsim.reconcile(net, 2000, seed=3, by="product")
    market = netsim.reconcile(net, 2000, seed=3, by="modality")
    np.testing.assert_allclose(
        products["ratio"].sel(product="somatuline").values,
        market["ratio"].sel(modality="SSA").transpose("quantile", "year").values,
        rtol=1e-5,
    )
    assert int(products["selling_draws"].sel(product="ryz101", year=2025)) == 0
    run = netsim.propagate(net, netsim.sample_inputs(net, 64, 1), as_arrays=True)
    ssa = [j for j, p in enumerate(net.products) if p.segments == ("SSA",)]
    for named, segment in (("patient_by_product", "patient_by_modality"),
                           ("treated_by_product", "treated_by_modality")):  # fmt: skip
        inside = run[named][..., ssa].astype(np.float64).sum(axis=-1)
        assert (inside <= run[segment][..., 0] * (1 + 1e-6)).all()
