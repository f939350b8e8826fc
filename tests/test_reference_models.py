"""simulate reproduces the analytic reference models within sample-size tolerance."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import netsim
from netsim.analytic import lognormal_size_model, normal_growth_model

DRAWS = 40_000
Q = np.array([0.05, 0.25, 0.5, 0.75, 0.95])


def quantile_standard_error(model_quantile, q, n, density):
    """Asymptotic sd of a sample quantile: sqrt(q (1 - q) / n) / f(x_q)."""
    return np.sqrt(q * (1 - q) / n) / density(model_quantile)


@pytest.mark.parametrize("sampler", ["mc", "lhs", "sobol"])
def test_lognormal_size_model(sampler):
    document, exact = lognormal_size_model(sigma=0.25)
    scenario = netsim.load_scenario(document)
    ds = netsim.simulate(scenario, DRAWS, seed=17, sampler=sampler)
    total = netsim.global_total(ds["total"])
    for year in (2025, 2030):
        truth = exact(year, Q)
        median = exact(year, 0.5)
        density = stats.lognorm(s=0.25, scale=median).pdf
        tolerance = 5 * quantile_standard_error(truth, Q, DRAWS, density)
        achieved = netsim.bands(total.sel(year=year), Q).values
        assert np.all(np.abs(achieved - truth) < tolerance + 1e-6 * truth)


def test_normal_growth_model():
    document, exact = normal_growth_model(mean_pct=1.0, sd_pct=0.8)
    scenario = netsim.load_scenario(document)
    ds = netsim.simulate(scenario, DRAWS, seed=3)
    total = netsim.global_total(ds["total"]).sel(year=2030)
    achieved = netsim.bands(total, Q).values
    truth = exact(2030, Q)
    # delta method: x_q = h(z_q) with h monotone, so sd(x_q) = h'(z_q) sd(z_q)
    z = stats.norm.ppf(Q)
    step = 1e-4
    slope = (exact(2030, stats.norm.cdf(z + step)) - truth) / step
    z_sd = np.sqrt(Q * (1 - Q) / DRAWS) / stats.norm.pdf(z)
    tolerance = 5 * np.abs(slope) * z_sd
    assert np.all(np.abs(achieved - truth) < tolerance + 1e-6 * truth)


def test_reference_mean_of_lognormal():
    document, _ = lognormal_size_model(sigma=0.2, baseline_pct=0.0)
    scenario = netsim.load_scenario(document)
    total = netsim.global_total(netsim.simulate(scenario, DRAWS, seed=1)["total"]).sel(year=2030)
    mean = 1000.0 * np.exp(0.2**2 / 2)
    sd = 1000.0 * np.sqrt((np.exp(0.04) - 1) * np.exp(0.04))
    assert abs(float(total.mean()) - mean) < 5 * sd / np.sqrt(DRAWS)
