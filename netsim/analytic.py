"""Analytic reference models with exact answers, shipped for tests, docs and smoke runs.

Each returns a scenario document (a dict for :func:`netsim.load_scenario`) and
a function giving the exact quantiles of its outputs, so that ``simulate`` can
be checked against closed-form truth within a sample-size tolerance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "SensitivityReference",
    "ishigami",
    "lognormal_size_model",
    "normal_growth_model",
    "sobol_g",
]

_ASSUMED = "assumption: analytic reference model"


def _skeleton(base_size: float, baseline_pct: float, years: tuple[int, int]) -> dict[str, Any]:
    return {
        "scenario": {"name": "analytic reference", "description": "closed-form test model"},
        "years": {"base": years[0], "final": years[1], "source": _ASSUMED},
        "market": {
            "base_size": {"value": base_size, "source": _ASSUMED},
            "base_scale": {"dist": "fixed", "value": 1.0, "source": _ASSUMED},
            "baseline_growth": {"value": baseline_pct, "source": _ASSUMED},
        },
        "regions": {
            "World": {
                "share": {"value": 100.0, "source": _ASSUMED},
                "growth_premium": {"value": 0.0, "source": _ASSUMED},
                "country_shares": {"Country A": 60.0, "Country B": 40.0, "source": _ASSUMED},
            }
        },
        "axes": {
            "product": {
                "segments": {
                    "A": {
                        "share": {"value": 30.0, "source": _ASSUMED},
                        "growth_premium": {"value": 0.0, "source": _ASSUMED},
                    },
                    "B": {
                        "share": {"value": 70.0, "source": _ASSUMED},
                        "growth_premium": {"value": 0.0, "source": _ASSUMED},
                    },
                }
            }
        },
        "noise": {
            "global_sd": {"value": 0.0, "source": _ASSUMED},
            "region_sd": {"value": 0.0, "source": _ASSUMED},
        },
    }


def lognormal_size_model(
    base_size: float = 1000.0,
    median: float = 1.0,
    sigma: float = 0.2,
    baseline_pct: float = 5.0,
    years: tuple[int, int] = (2025, 2030),
) -> tuple[dict[str, Any], Callable[[int, np.ndarray], np.ndarray]]:
    """Deterministic growth on a lognormal base size.

    ``total(t) = base_size * S * (1 + g)^(t - t0)`` summed over countries, with
    ``S ~ LogNormal(median, sigma)``: lognormal with median
    ``base_size * median * (1 + g)^(t - t0)`` and log-sd ``sigma``.

    Returns
    -------
    document : dict
    exact_quantiles : callable (year, q) -> ndarray
        Exact quantiles of the global total in ``year`` (in the market's unit).
    """
    document = _skeleton(base_size, baseline_pct, years)
    document["market"]["base_scale"] = {
        "dist": "lognormal",
        "median": median,
        "sigma": sigma,
        "source": _ASSUMED,
    }

    def exact_quantiles(year: int, q: np.ndarray) -> np.ndarray:
        centre = base_size * median * (1.0 + baseline_pct / 100.0) ** (year - years[0])
        return stats.lognorm(s=sigma, scale=centre).ppf(np.asarray(q))

    return document, exact_quantiles


def normal_growth_model(
    base_size: float = 1000.0,
    mean_pct: float = 1.0,
    sd_pct: float = 0.5,
    baseline_pct: float = 4.0,
    years: tuple[int, int] = (2025, 2030),
) -> tuple[dict[str, Any], Callable[[int, np.ndarray], np.ndarray]]:
    """Compounding of one normally distributed driver impact.

    A driver active at full strength in every forecast year adds
    ``X ~ Normal(mean, sd)`` (pp) to growth: ``total(t) = base_size *
    (1 + g + X)^(t - t0)``, a monotone function of ``X``, so its quantiles are
    ``base_size * (1 + g + mean + sd * z_q)^(t - t0)``.
    """
    document = _skeleton(base_size, baseline_pct, years)
    document["timelines"] = {"always": {"onset": years[0] + 1, "ramp_years": 1, "source": _ASSUMED}}
    document["geographies"] = {"everywhere": {"weights": {"World": 1.0}, "source": _ASSUMED}}
    document["drivers"] = {
        "x": {
            "impact": {"dist": "normal", "mean": mean_pct, "sd": sd_pct, "source": _ASSUMED},
            "timeline": "always",
            "geography": "everywhere",
        }
    }

    def exact_quantiles(year: int, q: np.ndarray) -> np.ndarray:
        z = stats.norm.ppf(np.asarray(q))
        growth = 1.0 + (baseline_pct + mean_pct + sd_pct * z) / 100.0
        return base_size * growth ** (year - years[0])

    return document, exact_quantiles


# --- sensitivity reference functions (inputs uniform, exact Sobol indices) ---------------


@dataclass(frozen=True)
class SensitivityReference:
    """A test function of independent inputs with known Sobol indices.

    Attributes
    ----------
    model : callable
        ``model(x)``, ``x`` of shape (rows, d) -> shape (rows,).
    distributions : tuple
        The inputs' frozen scipy distributions.
    first_order, total_order : ndarray, shape (d,)
        The exact indices.
    """

    model: Callable[[np.ndarray], np.ndarray]
    distributions: tuple[Any, ...]
    first_order: np.ndarray
    total_order: np.ndarray


def ishigami(a: float = 7.0, b: float = 0.1) -> SensitivityReference:
    """The Ishigami function ``sin x1 + a sin^2 x2 + b x3^4 sin x1``, ``x ~ U(-pi, pi)^3``.

    Exact variances (Ishigami & Homma 1990): ``V1 = (1 + b pi^4 / 5)^2 / 2``,
    ``V2 = a^2 / 8``, ``V13 = 8 b^2 pi^8 / 225``, all others zero.
    """
    v1 = 0.5 * (1.0 + b * np.pi**4 / 5.0) ** 2
    v2 = a**2 / 8.0
    v13 = 8.0 * b**2 * np.pi**8 / 225.0
    variance = v1 + v2 + v13

    def model(x: np.ndarray) -> np.ndarray:
        return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])

    uniform = stats.uniform(loc=-np.pi, scale=2.0 * np.pi)
    return SensitivityReference(
        model,
        (uniform, uniform, uniform),
        np.array([v1, v2, 0.0]) / variance,
        np.array([v1 + v13, v2, v13]) / variance,
    )


def sobol_g(a: tuple[float, ...] = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0)) -> SensitivityReference:
    """The Sobol G function ``prod (|4 x_i - 2| + a_i) / (1 + a_i)``, ``x ~ U(0, 1)^d``.

    Exact indices: ``V_i = 1 / (3 (1 + a_i)^2)``, ``V = prod(1 + V_i) - 1``,
    ``S_i = V_i / V`` and ``ST_i = V_i prod_{j != i}(1 + V_j) / V``.
    """
    coefficients = np.asarray(a, dtype=np.float64)
    partial = 1.0 / (3.0 * (1.0 + coefficients) ** 2)
    variance = np.prod(1.0 + partial) - 1.0
    total = np.array(
        [partial[i] * np.prod(np.delete(1.0 + partial, i)) for i in range(partial.size)]
    )

    def model(x: np.ndarray) -> np.ndarray:
        return np.prod((np.abs(4.0 * x - 2.0) + coefficients) / (1.0 + coefficients), axis=1)

    return SensitivityReference(
        model,
        tuple(stats.uniform() for _ in coefficients),
        partial / variance,
        total / variance,
    )
