"""What a product or a company is worth in its market: revenue bands, peak sales and the
year of peak, and the risk-adjusted net present value, all on the draws of the market.

:func:`value` samples and propagates the scenario chunk by chunk (memory of one chunk,
whatever the draws) and keeps, per draw, each product's worldwide revenue in every year,
whether its phases succeeded, and its net present value (:mod:`netsim.analyze.npv`).
:func:`npv_drivers` ranks the inputs by how far they swing a product's NPV (a tornado on
the base case, :func:`netsim.analyze.sensitivity.tornado`); Sobol indices of the NPV come
from :func:`netsim.analyze.sensitivity.sobol` with ``output="npv"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from netsim.analyze.npv import product_npv, worldwide_revenue
from netsim.analyze.sensitivity import ranking, tornado
from netsim.defaults import DEFAULT_CHUNK
from netsim.errors import ArgumentValueError, ScenarioError
from netsim.model.layout import HEADLINE_QUANTILES, OutputLayout
from netsim.model.product_values import approval
from netsim.model.propagate import propagate
from netsim.run.chunks import chunk_ranges
from netsim.sampling.inputs import sample_inputs
from netsim.sampling.uniforms import check_request
from netsim.scenario.schema import Scenario
from netsim.stats.intervals import coverage_attrs
from netsim.stats.proportions import PROPORTION_INTERVAL, proportion_interval
from netsim.stats.quantiles import bands

__all__ = [
    "DEFAULT_DRAWS",
    "check_product",
    "npv_drivers",
    "value",
    "value_of_draws",
    "value_of_run",
]

DEFAULT_DRAWS = 20_000


def check_product(scenario: Scenario, product: str | None, company: str | None) -> None:
    """Refuse a scenario without products (:class:`ScenarioError`), or a product or
    company it does not have (:class:`ArgumentValueError`), naming the ones it has."""
    if not scenario.products:
        raise ScenarioError(
            f"scenario {scenario.name!r} has no products: add [products.<id>] tables "
            "(docs/config.md, 'Products') to value them",
            path=scenario.path,
            key="products",
        )
    ids = [p.id for p in scenario.products]
    if product is not None and product not in ids:
        raise ArgumentValueError(
            f"product={product!r} is not one of {', '.join(ids)}", argument="product"
        )
    if company is not None and company not in scenario.companies:
        raise ArgumentValueError(
            f"company={company!r} is not one of {', '.join(scenario.companies)}",
            argument="company",
        )


def _simulate(
    scenario: Scenario, draws: int, seed: int, sampler: str, chunk_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each draw's worldwide revenue ``(draw, year, product)`` and inputs, chunk by chunk
    (the market's outputs only: no patient funnel)."""
    layout = OutputLayout.of(scenario)
    revenue = np.empty((draws, len(layout.years), len(layout.products)))
    inputs = np.empty((draws, len(layout.parameters)))
    buffers = None
    for a, b in chunk_ranges(0, draws, chunk_size):
        rows = sample_inputs(scenario, draws, seed, sampler, a, b)
        out = None if buffers is None else {k: v[: b - a] for k, v in buffers.items()}
        arrays = propagate(  # sampled from the scenario: within every rule by construction
            scenario,
            rows,
            as_arrays=True,
            funnel=False,
            out=out,
            check=False,
            chunk_size=b - a,
            dtype=np.float64,  # sums of values: float64 cells, as the base case's
        )
        buffers = arrays if buffers is None else buffers
        revenue[a:b] = worldwide_revenue(arrays["by_product"])
        inputs[a:b] = rows
    return revenue, inputs


def _peaks(revenue: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak revenue and its year per draw and product (the year NaN where it never sells)."""
    peak = revenue.max(axis=1)
    year = years[revenue.argmax(axis=1)].astype(np.float64)
    return peak, np.where(peak > 0.0, year, np.nan)


def value(
    scenario: Scenario,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    sampler: str = "mc",
    *,
    product: str | None = None,
    company: str | None = None,
    q: Sequence[float] = HEADLINE_QUANTILES,
    confidence: float = 0.95,
    chunk_size: int = DEFAULT_CHUNK,
) -> xr.Dataset:
    """Revenue, peak sales and risk-adjusted NPV of every product and company, on the
    same draws as the market (``netsim.simulate`` with these arguments).

    Parameters
    ----------
    scenario : Scenario
        With ``[products]`` (and valuation inputs for the NPV).
    draws, seed, sampler
        As :func:`netsim.simulate`.
    product, company : str, optional
        Checked to be the scenario's (the command line prints them); every product and
        company is valued either way.
    q : sequence of float
        Quantiles of the bands.
    confidence : float
        Of the probability of approval's Clopper-Pearson interval.

    Returns
    -------
    xarray.Dataset
        ``revenue (draw, year, product)`` and ``company_revenue (draw, year, company)``
        worldwide in the market's unit, with their bands ``revenue_bands`` and
        ``company_revenue_bands`` (quantile, year, ...); ``peak_sales`` and
        ``peak_year (draw, product)`` (the year NaN in a draw where it never sells);
        ``approved (draw, product)``, 1 where every phase succeeded, with ``approval_rate``
        and its interval ``approval_interval (bound, product)`` beside the stated
        ``probability_of_success``; ``npv (draw, product)`` and ``company_npv (draw,
        company)`` (NaN without valuation inputs) with their bands, their means (the
        risk-adjusted NPV, ``npv_mean``) and ``npv_below_zero``, the share of draws
        with a negative value.
    """
    check_request(draws, seed, sampler, 0, 0)
    check_product(scenario, product, company)
    revenue, inputs = _simulate(scenario, int(draws), seed, sampler, chunk_size)
    attrs = {"draws": int(draws), "seed": int(seed), "sampler": sampler}
    return value_of_draws(scenario, revenue, inputs, attrs, q, confidence)


def value_of_run(
    scenario: Scenario,
    run: xr.Dataset,
    q: Sequence[float] = HEADLINE_QUANTILES,
    confidence: float = 0.95,
) -> xr.Dataset:
    """:func:`value` of a run's own draws (its ``by_product`` and ``inputs``; a run of
    ``scenario`` holding its draws), as :func:`value` returns it."""
    check_product(scenario, None, None)
    if "by_product" not in run or "inputs" not in run or "draw" not in run["by_product"].dims:
        raise ScenarioError("valuing a run needs its draws of by_product and its inputs")
    revenue = worldwide_revenue(run["by_product"].transpose("draw", "year", "country", "product"))
    inputs = np.asarray(run["inputs"].transpose("draw", "parameter").values, dtype=np.float64)
    attrs = {k: run.attrs[k] for k in ("seed", "sampler") if k in run.attrs}
    attrs["draws"] = int(run.sizes["draw"])
    return value_of_draws(scenario, revenue, inputs, attrs, q, confidence)


def value_of_draws(
    scenario: Scenario,
    revenue: np.ndarray,
    inputs: np.ndarray,
    attrs: dict[str, Any],
    q: Sequence[float] = HEADLINE_QUANTILES,
    confidence: float = 0.95,
) -> xr.Dataset:
    """The value Dataset (:func:`value`) of draws' worldwide revenue ``(draw, year,
    product)`` and inputs ``(draw, parameter)``."""
    layout = OutputLayout.of(scenario)
    years = np.asarray(layout.years)
    member = np.array([[c == pc for c in layout.companies] for pc in layout.product_companies])
    npv = product_npv(scenario, revenue, inputs)
    approved = np.stack([approval(scenario, p, inputs) for p in scenario.products], axis=1)
    peak, peak_year = _peaks(revenue, years)
    dataset = xr.Dataset(
        {
            "revenue": (("draw", "year", "product"), revenue),
            "company_revenue": (("draw", "year", "company"), revenue @ member),
            "peak_sales": (("draw", "product"), peak),
            "peak_year": (("draw", "product"), peak_year),
            "approved": (("draw", "product"), approved),
            "npv": (("draw", "product"), npv),
            "company_npv": (("draw", "company"), npv @ member),
        },
        coords={
            **{k: v for k, v in layout.coords().items() if k in ("year", "product", "company")},
            "product_company": ("product", list(layout.product_companies)),
            "draw": np.arange(revenue.shape[0]),
        },
        attrs={
            "scenario": scenario.name,
            "units": layout.unit,
            **attrs,
            **coverage_attrs(attrs.get("sampler")),
        },
    )
    return _summarised(scenario, dataset, q, confidence)


def _summarised(
    scenario: Scenario, dataset: xr.Dataset, q: Sequence[float], confidence: float
) -> xr.Dataset:
    """The bands, means and probabilities beside the draws."""
    unit = dataset.attrs["units"]
    for name in ("revenue", "company_revenue", "peak_sales", "npv", "company_npv"):
        data = dataset[name]
        # a value without valuation inputs is NaN in every draw: its bands are NaN too
        dataset[f"{name}_bands"] = (
            data.quantile(list(q), dim="draw", skipna=False)
            if name.endswith("npv")
            else bands(data, q=list(q))
        )
        dataset[name].attrs["units"] = unit
        dataset[f"{name}_bands"].attrs["units"] = unit
    # the year of peak over the draws where the product sells at all
    dataset["peak_year_bands"] = dataset["peak_year"].quantile(list(q), dim="draw", skipna=True)
    dataset["npv_mean"] = dataset["npv"].mean("draw")
    dataset["npv_standard_error"] = dataset["npv"].std("draw") / np.sqrt(dataset.sizes["draw"])
    dataset["company_npv_mean"] = dataset["company_npv"].mean("draw")
    dataset["npv_below_zero"] = (
        (dataset["npv"] < 0).mean("draw").where(np.isfinite(dataset["npv_mean"]))
    )
    approved = dataset["approved"].sum("draw").values
    low, high = proportion_interval(approved, dataset.sizes["draw"], confidence)
    dataset["approval_rate"] = dataset["approved"].mean("draw")
    dataset["approval_interval"] = (("bound", "product"), np.stack([low, high]))
    dataset = dataset.assign_coords(bound=["low", "high"])
    dataset["approval_interval"].attrs["method"] = PROPORTION_INTERVAL
    dataset["probability_of_success"] = (
        "product",
        [p.probability_of_success for p in scenario.products],
    )
    return dataset


def npv_drivers(scenario: Scenario, product: str, top: int = 5) -> xr.Dataset:
    """The inputs that swing ``product``'s net present value most, each at its P10 and
    P90 with the others at the base case (a tornado on ``npv``): ``top`` of them, by the
    size of the swing, with the base case's NPV (the risk-adjusted value of the points).

    Returns
    -------
    xarray.Dataset
        ``base`` (scalar), ``low``, ``high`` and ``swing`` over ``parameter``, in the
        market's unit, sorted by ``|swing|``.
    """
    check_product(scenario, product, None)
    if scenario.products[[p.id for p in scenario.products].index(product)].valuation is None:
        raise ScenarioError(
            f"product {product!r} has no valuation inputs ([valuation] or "
            f"products.{product}.valuation): no net present value to explain"
        )
    result = tornado(scenario, "npv", "global").sel(product=product)
    order = ranking(result, {}, "swing")["parameter"].values[:top]
    picked: Any = result.sel(parameter=order)
    return picked
