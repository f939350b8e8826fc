"""The one-pass sampling kernel against the step-by-step path it replaced, bit for bit:
keyed uniforms, scipy's normal functions for the copula, each distribution's ppf."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import netsim
from netsim.kernels import sampling as codes
from netsim.kernels.normal import normal_cdf, normal_quantile
from netsim.kernels.sampling import sample_kernel, sample_serial_kernel
from netsim.sampling.columns import build_columns
from netsim.sampling.copula import correlate_uniforms, correlation_factor
from netsim.sampling.reordering import reordered_columns
from netsim.sampling.uniforms import LARGEST_UNIFORM, SMALLEST_UNIFORM, sample_uniforms
from netsim.scenario.distributions import make_distribution


def _uniform_grid() -> np.ndarray:
    """Uniforms over (0, 1), both tails down to the samplers' extremes, the branch
    points of scipy's ndtri, and the ends and values outside."""
    rng = np.random.default_rng(5)
    tails = np.exp(-rng.uniform(0.0, 38.0, 100_000))  # down to 2**-54
    return np.concatenate(
        [
            rng.random(200_000),
            tails,
            1.0 - tails,
            [SMALLEST_UNIFORM, LARGEST_UNIFORM, 0.5, 0.13533528323661269, 0.8646647167633873],
            [0.0, 1.0, -0.5, 1.5, np.nan],
        ]
    )


def _compiled(function, values: np.ndarray) -> np.ndarray:
    """``function`` (a compiled scalar function) at each value."""
    return np.array([function(x) for x in values])


@pytest.mark.parametrize(
    ("ours", "scipys", "points"),
    [
        pytest.param(normal_quantile, special.ndtri, _uniform_grid(), id="ndtri"),
        pytest.param(
            normal_cdf,
            special.ndtr,
            np.concatenate(
                [
                    np.random.default_rng(6).normal(0.0, 3.0, 200_000),
                    np.linspace(-40.0, 40.0, 100_001),
                    [0.0, -0.0, np.inf, -np.inf, np.nan, np.sqrt(2.0), -np.sqrt(2.0)],
                ]
            ),
            id="ndtr",
        ),
    ],
)
def test_the_normal_functions_equal_scipys_bit_for_bit(ours, scipys, points):
    got = _compiled(ours, points)
    expected = scipys(points)
    same = (got == expected) | (np.isnan(got) & np.isnan(expected))
    assert same.all(), f"first difference at {points[~same][:3]}"


@settings(max_examples=200, deadline=None)
@given(u=st.floats(0.0, 1.0), x=st.floats(-50.0, 50.0))
def test_the_normal_functions_equal_scipys_at_drawn_points(u, x):
    assert normal_quantile(u) == special.ndtri(u)
    assert normal_cdf(x) == special.ndtr(x)


def _step_by_step(scenario, draws, seed, sampler, start, stop):
    """The path the kernel replaced: uniforms, the copula (or the LHS reordering) on
    whole columns, then each distribution's ppf on its column."""
    uniforms = sample_uniforms(scenario.parameter_names, draws, seed, sampler, start, stop)
    if correlation_factor(scenario) is not None and sampler == "lhs":
        columns, reordered = reordered_columns(scenario, draws, seed, start, stop)
        uniforms[:, columns] = reordered
    else:
        uniforms = correlate_uniforms(scenario, uniforms)
    inputs = np.column_stack(
        [p.distribution.ppf(uniforms[:, j]) for j, p in enumerate(scenario.parameters)]
    )
    return inputs, uniforms


@pytest.mark.parametrize(
    ("sampler", "draws", "start", "stop"),
    [
        pytest.param("mc", 20_000, 0, 20_000, id="mc-parallel"),
        pytest.param("mc", 5_000, 1_234, 1_300, id="mc-small-chunk"),
        pytest.param("lhs", 6_000, 1_000, 5_000, id="lhs-chunk"),
        pytest.param("sobol", 4_096, 512, 4_096, id="sobol-chunk"),
    ],
)
def test_sampled_inputs_equal_the_step_by_step_path(net, sampler, draws, start, stop):
    # the NET file as it is: PERT tables, normals, lognormals (exp taken after the kernel),
    # triangulars, events, discrete years, fixed values and a copula of 7 parameters
    inputs, uniforms = netsim.sample_inputs(
        net, draws, 11, sampler, start, stop, return_uniforms=True
    )
    expected_inputs, expected_uniforms = _step_by_step(net, draws, 11, sampler, start, stop)
    np.testing.assert_array_equal(uniforms, expected_uniforms)
    np.testing.assert_array_equal(inputs, expected_inputs)
    np.testing.assert_array_equal(
        netsim.sample_inputs(net, draws, 11, sampler, start, stop), inputs
    )


ordered = st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3, unique=True).map(sorted)
distribution_specs = st.one_of(
    st.builds(lambda v: ("fixed", {"value": v}), st.floats(-1e6, 1e6)),
    ordered.map(lambda x: ("uniform", {"low": x[0], "high": x[2]})),
    ordered.map(lambda x: ("triangular", {"low": x[0], "mode": x[1], "high": x[2]})),
    st.builds(
        lambda x, shape: ("pert", {"low": x[0], "mode": x[1], "high": x[2], "shape": shape}),
        ordered,
        st.floats(0.5, 20.0),
    ),
    st.builds(
        lambda m, s: ("normal", {"mean": m, "sd": s}), st.floats(-1e3, 1e3), st.floats(1e-3, 1e3)
    ),
    st.builds(
        lambda m, s: ("lognormal", {"median": m, "sigma": s}),
        st.floats(1e-3, 1e3),
        st.floats(1e-3, 5.0),
    ),
    st.builds(lambda p: ("bernoulli", {"p": p}), st.floats(0.0, 1.0)),
    st.builds(
        lambda w: (
            "discrete",
            {"values": [float(k) for k in range(len(w))], "weights": list(np.array(w) / sum(w))},
        ),
        st.lists(st.floats(0.01, 1.0), min_size=1, max_size=6),
    ),
)


@settings(max_examples=60, deadline=None)
@given(specs=st.lists(distribution_specs, min_size=1, max_size=6))
def test_each_kind_equals_its_ppf_on_drawn_parameters(specs):
    distributions = tuple(make_distribution(kind, params) for kind, params in specs)
    columns = build_columns(distributions)
    uniforms = np.ascontiguousarray(
        np.repeat(_uniform_grid()[None, : 2_000 - 5], len(distributions), axis=0).T
    )
    uniforms = np.clip(uniforms, SMALLEST_UNIFORM, LARGEST_UNIFORM)
    no_copula = (np.empty(0, np.int64), np.empty((0, 0)))
    for kernel in (sample_kernel, sample_serial_kernel):
        inputs = np.empty_like(uniforms)
        kernel(
            np.empty(0, np.uint64),
            np.uint64(0),
            uniforms,
            False,
            columns.for_kernel,
            no_copula,
            inputs,
        )
        columns.finish(inputs)  # the lognormals' exp and median, after the kernel
        for j, distribution in enumerate(distributions):
            if columns.kinds[j] == codes.FALLBACK:
                assert distribution.kind == "pert"  # a shape without a table: exact solver
                continue
            np.testing.assert_array_equal(inputs[:, j], distribution.ppf(uniforms[:, j]))
