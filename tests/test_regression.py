"""Seeded regressions: numbers pinned from a known-good version, compared exactly.

A kernel rewrite (the eight-lane kernel, the tilts grouped by segment) must leave
every output bit unchanged; these tests say so at once, where the oracle comparison
in test_invariants.py only checks a tolerance. The pinned values were produced by the
one-draw kernel of commit b830bef and are reproduced by every kernel since.

The kernel's inputs here are pinned values (sampled once, rounded to two decimals), and
the calibration is pinned:
the solver's last bits depend on the machine's linear algebra (OpenBLAS picks its
kernels by CPU, and the least squares' SVD moves the solved growth rates by about
1e-12), which would move float32 cells by an ulp. The kernel itself is plain IEEE
arithmetic (no fastmath, no libm), so its output is exact on any x86-64 or ARM machine.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

import netsim
from netsim.model.calibration import Calibration
from netsim.sampling.uniforms import keyed_uniforms, stream_key

CUBE_SHA256 = "a396d34775cee08f90a827104f146e77e0ed2969e7796a952aca40dbebe758da"
# the NET funnel's outputs on the pinned draws (funnel parameters at their points), with
# the funnel of this commit's configs/net_market.toml
FUNNEL_SHA256 = "22e10f0c1860bb8471200a07ca883170fea1e60ec7bde398298bea5dcf61d865"
# the NET file's products on the pinned draws (their inputs at their points), with the
# products of this commit's configs/net_market.toml
PRODUCTS_SHA256 = "69cc91e147f38fbced87adf0cee9a1398672db8a5e82a68455d29894c6e75f9a"
GLOBAL_2031 = [4549.678806304932, 4009.9362983703613, 4277.206844329834, 4091.8010063171387]


# the inputs of the pinned cube: the first four draws of seed 1 (sampled by the
# Gaussian copula of b0b3c87), rounded to two decimals; by name, so neither a change
# of the sampler nor of the parameters' order touches this test
PINNED_INPUTS = {
    "market.base_scale": [1.01, 0.99, 1.01, 0.99],
    "drivers.rising_prevalence.impact": [1.33, 0.96, 1.07, 1.12],
    "drivers.rising_prevalence.delay": [0.78, 0.14, 0.56, 0.1],
    "drivers.imaging_diagnostics.impact": [0.8, 0.59, 0.71, 0.79],
    "drivers.imaging_diagnostics.delay": [0.0, 0.0, 0.0, 0.0],
    "drivers.targeted_prrt_expansion.impact": [1.77, 1.76, 1.2, 1.67],
    "drivers.targeted_prrt_expansion.delay": [0.02, 0.97, 0.16, 1.33],
    "drivers.orphan_incentives.impact": [0.84, 0.6, 0.71, 1.05],
    "drivers.orphan_incentives.delay": [0.06, 1.32, 0.27, 0.5],
    "drivers.liquid_biopsy.impact": [0.72, 0.64, 0.59, 0.48],
    "drivers.liquid_biopsy.delay": [0.0, 0.0, 0.0, 0.0],
    "drivers.precision_oncology.impact": [0.69, 0.73, 0.81, 0.6],
    "drivers.precision_oncology.delay": [0.47, 0.53, 0.88, 1.39],
    "restraints.high_cost.impact": [-1.08, -1.36, -1.09, -0.78],
    "restraints.high_cost.delay": [0.0, 0.0, 0.0, 0.0],
    "restraints.physician_awareness.impact": [-0.95, -0.92, -0.63, -0.75],
    "restraints.physician_awareness.delay": [0.0, 0.0, 0.0, 0.0],
    "restraints.safety_concerns.impact": [-0.44, -0.45, -0.62, -0.36],
    "restraints.safety_concerns.delay": [1.25, 0.97, 1.47, 0.81],
    "restraints.isotope_supply.impact": [-1.03, -1.11, -0.75, -1.02],
    "restraints.isotope_supply.delay": [0.0, 0.0, 0.0, 0.0],
    "events.isotope_outage.impact": [-10.38, -9.89, -8.45, -12.91],
    "events.isotope_outage.occurs.2026": [1.0, 1.0, 0.0, 1.0],
    "events.isotope_outage.occurs.2027": [0.0, 0.0, 0.0, 0.0],
    "events.isotope_outage.occurs.2028": [0.0, 0.0, 0.0, 1.0],
    "events.isotope_outage.occurs.2029": [0.0, 0.0, 1.0, 0.0],
    "events.isotope_outage.occurs.2030": [0.0, 1.0, 0.0, 1.0],
    "events.isotope_outage.occurs.2031": [1.0, 0.0, 0.0, 0.0],
    "events.cabozantinib_eu.impact": [5.3, 5.44, 3.84, 4.37],
    "events.cabozantinib_eu.occurs": [1.0, 1.0, 1.0, 1.0],
    "events.cabozantinib_eu.year": [2027.0, 2026.0, 2026.0, 2026.0],
    "events.paltusotine.impact": [2.69, 1.79, 2.12, 1.65],
    "events.paltusotine.occurs": [1.0, 1.0, 0.0, 0.0],
    "events.paltusotine.year": [2027.0, 2027.0, 2027.0, 2028.0],
    "noise.global.2026": [0.37, 0.58, 0.24, 0.07],
    "noise.global.2027": [0.24, -0.19, -0.03, 0.41],
    "noise.global.2028": [0.57, -0.47, -0.21, -0.09],
    "noise.global.2029": [0.28, -0.25, 0.24, 0.39],
    "noise.global.2030": [0.3, 0.08, 0.03, -0.21],
    "noise.global.2031": [0.34, 0.32, -0.25, -0.38],
    "noise.North America.2026": [0.34, 1.01, 0.77, -0.87],
    "noise.North America.2027": [0.35, 1.28, -1.0, 0.11],
    "noise.North America.2028": [-1.53, -0.7, 0.57, -0.68],
    "noise.North America.2029": [0.61, -0.39, 0.47, -0.17],
    "noise.North America.2030": [1.22, 0.28, 1.12, 0.47],
    "noise.North America.2031": [0.27, 0.39, 0.59, -0.61],
    "noise.Europe.2026": [0.6, -0.85, -0.43, 0.5],
    "noise.Europe.2027": [0.47, 0.45, 0.3, 0.33],
    "noise.Europe.2028": [-0.78, 0.31, -0.03, 0.69],
    "noise.Europe.2029": [-0.17, 0.3, -0.23, -0.52],
    "noise.Europe.2030": [0.78, -0.4, -0.2, 0.98],
    "noise.Europe.2031": [-0.41, 1.17, -0.57, 0.08],
    "noise.Asia-Pacific.2026": [0.11, 0.64, 0.38, 0.5],
    "noise.Asia-Pacific.2027": [0.16, 0.51, 0.02, 0.43],
    "noise.Asia-Pacific.2028": [1.06, 0.1, 0.47, -0.34],
    "noise.Asia-Pacific.2029": [-0.11, 0.41, -0.95, 0.79],
    "noise.Asia-Pacific.2030": [0.91, -1.33, -0.36, -1.06],
    "noise.Asia-Pacific.2031": [0.9, -0.26, 0.09, 0.23],
    "noise.Middle East and Africa.2026": [-0.07, -1.05, -0.01, -1.53],
    "noise.Middle East and Africa.2027": [-0.14, -0.05, -0.54, -0.26],
    "noise.Middle East and Africa.2028": [-0.23, -0.3, -0.12, -1.28],
    "noise.Middle East and Africa.2029": [-0.23, 0.47, -0.5, 0.11],
    "noise.Middle East and Africa.2030": [0.22, -1.2, -0.21, 1.28],
    "noise.Middle East and Africa.2031": [-0.56, 0.04, -0.33, 0.05],
    "noise.South America.2026": [-0.34, 0.23, 0.52, 0.3],
    "noise.South America.2027": [0.65, 0.81, -1.43, 0.74],
    "noise.South America.2028": [0.16, 1.61, -0.06, -0.78],
    "noise.South America.2029": [0.83, -0.05, -0.1, -0.12],
    "noise.South America.2030": [-0.86, -0.67, -0.47, -0.23],
    "noise.South America.2031": [-0.53, 0.52, 0.73, -0.35],
}


# the solution the pinned digest was made with (OpenBLAS's Haswell and Zen kernels)
PINNED_CALIBRATION = {
    "baseline": 0.019080471207446603,
    "first_year_step": 0.02246539556762564,
    "region:Asia-Pacific": 0.08918548018183452,
    "region:Middle East and Africa": 0.0980779535915002,
    "region:South America": 0.09576642274707536,
    "segment:modality:PRRT": 0.04406193357205362,
    "segment:indication:Pancreas": 0.037115970567465385,
    "segment:end_user:Ambulatory Surgery Centers": 0.008596319784659396,
}


def solved_values(calibration: Calibration) -> dict[str, float]:
    """Every growth parameter by its solver name (``region:<name>``, ``segment:<axis>:<name>``)."""
    values = {"baseline": calibration.baseline, "first_year_step": calibration.first_year_step}
    values.update({f"region:{r}": v for r, v in calibration.region_premium.items()})
    values.update({f"segment:{a}:{s}": v for (a, s), v in calibration.segment_premium.items()})
    return values


# the multipliers the NET funnel's count targets solved (the US prevalence solves the
# duration, the French SSA patient-years the treated share), pinned like the growth
# parameters: the root finder's last bits may differ from machine to machine
PINNED_FUNNEL_SCALE = {"duration": 0.998285961839106, "stages.treated": 0.8016124654203558}


def pinned(scenario: netsim.Scenario) -> netsim.Scenario:
    """The scenario with the pinned solution in place of this machine's."""
    solved = scenario.calibration
    here = solved_values(solved)
    for name, value in PINNED_CALIBRATION.items():
        assert abs(here[name] - value) < 1e-9  # this machine solved the same, to rounding
    values = {**here, **PINNED_CALIBRATION}
    funnel_scale = {}
    if solved.funnel_scale:
        assert set(solved.funnel_scale) == set(PINNED_FUNNEL_SCALE)
        for name, value in PINNED_FUNNEL_SCALE.items():
            assert abs(solved.funnel_scale[name] - value) < 1e-9
        funnel_scale = PINNED_FUNNEL_SCALE
    calibration = Calibration(
        values["baseline"],
        values["first_year_step"],
        {r: values[f"region:{r}"] for r in solved.region_premium},
        {(a, s): values[f"segment:{a}:{s}"] for a, s in solved.segment_premium},
        solved.solved,
        solved.achieved,
        funnel_scale=funnel_scale,
    )
    return dataclasses.replace(scenario, calibration=calibration)


def _digest(out: dict[str, np.ndarray], names: list[str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(names):
        digest.update(np.ascontiguousarray(out[name]).tobytes())
    return digest.hexdigest()


def test_kernel_output_is_pinned(net_top_down):
    """The top-down model, without a funnel: the cube of commit b830bef."""
    scenario = pinned(net_top_down)
    inputs = np.array([PINNED_INPUTS[name] for name in scenario.parameter_names]).T
    out = netsim.propagate(scenario, inputs, as_arrays=True)
    assert out["total"].dtype == np.float32
    # readable first: the global 2031 total of each draw (float32 cells summed in float64)
    assert out["total"][:, -1, :].astype(np.float64).sum(axis=1).tolist() == GLOBAL_2031
    assert sorted(out) == ["by_end_user", "by_indication", "by_modality", "total"]
    assert _digest(out, list(out)) == CUBE_SHA256


def _funnel_inputs(scenario: netsim.Scenario) -> np.ndarray:
    """The pinned inputs, and each funnel parameter at its point value."""
    columns = [PINNED_INPUTS.get(p.name, [p.distribution.point] * 4) for p in scenario.parameters]
    return np.array(columns).T


def test_a_funnel_leaves_the_top_down_cube_unchanged_and_is_pinned(net):
    """The same draws with the NET funnel: the top-down cube bit for bit as without it,
    and the patient-based outputs pinned (the funnel kernel is plain IEEE arithmetic)."""
    scenario = pinned(net)
    out = netsim.propagate(scenario, _funnel_inputs(scenario), as_arrays=True)
    top_down = ["by_end_user", "by_indication", "by_modality", "total"]
    assert _digest(out, top_down) == CUBE_SHA256
    funnel = list(netsim.OutputLayout.of(scenario).funnel_outputs)
    assert _digest(out, funnel) == FUNNEL_SHA256


def test_products_leave_both_models_unchanged_and_are_pinned(net):
    """The NET file's products on the same draws (their own inputs at their points): the
    top-down cube and the funnel's outputs bit for bit as without them, and the products'
    outputs pinned. Their curves use exp, so another maths library may move their last
    bits (the market's outputs stay exact)."""
    scenario = pinned(net)
    layout = netsim.OutputLayout.of(scenario)
    assert layout.products  # the NET file names its products
    out = netsim.propagate(scenario, _funnel_inputs(scenario), as_arrays=True)
    assert _digest(out, list(layout.top_down_outputs)) == CUBE_SHA256
    assert _digest(out, list(layout.funnel_outputs)) == FUNNEL_SHA256
    products = [*layout.product_outputs, *layout.patient_product_outputs]
    assert _digest(out, products) == PRODUCTS_SHA256


def test_keyed_uniform_stream_is_pinned():
    # SplitMix64 on integers: exact on every platform and numpy version
    uniforms = keyed_uniforms(stream_key(1, "market.base_scale"), 0, 3)
    assert uniforms.tolist() == [0.7393416037796303, 0.38094933084179444, 0.7367025802461016]


def test_sampled_inputs_are_pinned(net):
    # inverse CDFs come from scipy.special: allow an ulp or two of a future scipy. Columns
    # 1 and 3 are correlated: pinned since the copula's factor is the symmetric square root
    # in name order (the file order and the CPU's BLAS no longer move them)
    sampled = netsim.sample_inputs(net, 2, seed=1)[:, :4]
    expected = [
        [1.0097163606759645, 1.4468693098470644, 0.7816970800819045, 0.8301868853699639],
        [0.9872825360741271, 1.380422544472252, 0.14475059266727786, 0.9307784191327165],
    ]
    np.testing.assert_allclose(sampled, expected, rtol=1e-13, atol=0)
