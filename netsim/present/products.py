"""Products and companies as a reader sees them: the tables ``netsim value`` prints, the
charts of a product's fan, its NPV distribution and a segment's shares stacked over the
years, and the HTML report's product page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from netsim.errors import ScenarioError
from netsim.present.labels import wrapped
from netsim.present.numbers import format_value, tick_formatter, value_decimals
from netsim.present.plots import COLOURS, _drawing, _save, fan_chart
from netsim.present.tables import Table

__all__ = [
    "npv_histogram",
    "product_fan",
    "product_page",
    "reconcile_product_tables",
    "report_blocks",
    "segment_shares_chart",
    "value_tables",
    "value_text",
]

SHARE_COLOURS = (
    "#1f5a96",
    "#c0392b",
    "#2e8b57",
    "#8e44ad",
    "#d68910",
    "#17a2b8",
    "#7f8c8d",
    "#e67e22",
    "#2c3e50",
    "#a3c940",
)


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def _bands_rows(data: xr.DataArray, mean: xr.DataArray) -> list[list[Any]]:
    """One row per year: the bands' quantiles and the mean."""
    rows = []
    for year in data["year"].values:
        row: list[Any] = [int(year)]
        row += [float(v) for v in data.sel(year=year).values]
        row.append(float(mean.sel(year=year)))
        rows.append(row)
    return rows


def _quantile_headers(data: xr.DataArray) -> list[str]:
    return [f"P{100 * float(q):g}" for q in data["quantile"].values]


def _subject_tables(result: xr.Dataset, dim: str, name: str, label: str, unit: str) -> list[Table]:
    """Revenue by year, peak sales and NPV of one product or company."""
    prefix = "" if dim == "product" else "company_"
    revenue = result[f"{prefix}revenue_bands"].sel({dim: name})
    mean = result[f"{prefix}revenue"].sel({dim: name}).mean("draw")
    headers = ["year", *_quantile_headers(revenue), "mean"]
    units = ["", *[unit] * (len(headers) - 1)]
    tables = [
        Table(
            f"{label}: worldwide revenue, {unit}",
            headers,
            _bands_rows(revenue.transpose("year", "quantile"), mean),
            units=units,
        )
    ]
    npv = result[f"{prefix}npv"].sel({dim: name})
    if not np.isfinite(npv.values).all():
        return tables  # no valuation inputs: value_text says so
    bands = npv.quantile(result["revenue_bands"]["quantile"].values, dim="draw")
    values = npv.values
    error = float(values.std() / np.sqrt(values.size))
    row = [
        "net present value",
        *[float(v) for v in bands.values],
        float(values.mean()),
        error,
        _percent(float((values < 0).mean())),
    ]
    headers = ["", *_quantile_headers(bands), "mean (risk-adjusted)", "its standard error"]
    headers.append("P(NPV < 0)")
    note = (
        "risk-adjusted on the draws: a draw failing a phase sells nothing and bears the "
        "costs of the phases it entered"
    )
    tables.append(
        Table(f"{label}: net present value, {unit} ({note})", headers, [row], units=["", unit])
    )
    return tables


def _peak_line(result: xr.Dataset, product: str, unit: str) -> str:
    peak = result["peak_sales_bands"].sel(product=product)
    year = result["peak_year"].sel(product=product).values
    sells = np.isfinite(year)
    parts = [
        f"P{100 * float(q):g} {format_value(float(v), value_decimals(peak.values, 1))}"
        for q, v in zip(peak["quantile"].values, peak.values, strict=True)
    ]
    line = f"peak sales, {unit}: " + ", ".join(parts)
    if sells.any():
        quantiles = np.quantile(year[sells], peak["quantile"].values)
        final = int(result["year"].values[-1])
        late = float((year[sells] == final).mean())
        line += "; year of peak (draws that sell): " + ", ".join(
            f"P{100 * float(q):g} {int(v)}"
            for q, v in zip(peak["quantile"].values, quantiles, strict=True)
        )
        line += f"; in {final}, the final year, in {_percent(late)} of them (it may come later)"
    return line


def _approval_line(result: xr.Dataset, product: str) -> str:
    stated = float(result["probability_of_success"].sel(product=product))
    rate = float(result["approval_rate"].sel(product=product))
    low, high = result["approval_interval"].sel(product=product).values
    return (
        f"probability of success {_percent(stated)} (stated, the product of its phases'); "
        f"approved in {_percent(rate)} of the draws, 95 % exact binomial interval "
        f"[{_percent(low)}, {_percent(high)}]"
    )


def value_text(
    result: xr.Dataset,
    labels: Mapping[str, str],
    product: str | None = None,
    company: str | None = None,
    drivers: xr.Dataset | None = None,
    input_labels: Mapping[str, str] | None = None,
) -> str:
    """What ``netsim value`` prints: a summary of every product, or a product's approval,
    revenue bands, peak sales, NPV and what moves its NPV, and a company's revenue and NPV."""
    unit = str(result.attrs["units"])
    if product is None and company is None:
        return _summary_table(result, labels, unit).text()
    parts: list[str] = []
    if product is not None:
        parts += [_approval_line(result, product), _peak_line(result, product, unit)]
        if not np.isfinite(result["npv"].sel(product=product).values).all():
            parts.append("no net present value: no valuation inputs ([valuation] or its own)")
    tables = value_tables(result, labels, product, company, drivers, input_labels)
    return "\n\n".join([*parts[:1], "\n".join(parts[1:]), *(t.text() for t in tables)])


def value_tables(
    result: xr.Dataset,
    labels: Mapping[str, str],
    product: str | None = None,
    company: str | None = None,
    drivers: xr.Dataset | None = None,
    input_labels: Mapping[str, str] | None = None,
) -> list[Table]:
    """The tables of ``netsim value``: a summary of every product, or a product's and a
    company's revenue bands and NPV, and what moves the product's NPV."""
    unit = str(result.attrs["units"])
    if product is None and company is None:
        return [_summary_table(result, labels, unit)]
    tables: list[Table] = []
    if product is not None:
        owner = result["product_company"].sel(product=product).item()
        label = f"{labels.get(product, product)} ({owner})"
        tables += _subject_tables(result, "product", product, label, unit)
        if drivers is not None:
            tables.append(_drivers_table(drivers, unit, input_labels or {}))
    if company is not None:
        members = [
            str(p)
            for p, c in zip(result["product"].values, result["product_company"].values, strict=True)
            if c == company
        ]
        label = f"{company} (its products: {', '.join(members)})"
        tables += _subject_tables(result, "company", company, label, unit)
    return tables


def reconcile_product_tables(result: xr.Dataset, years: Sequence[int] | None = None) -> list[Table]:
    """``netsim reconcile --by product|company``: each product's (or company's) two views
    worldwide, one table per year (the final year unless ``years`` are given)."""
    by = str(result.attrs["by"])
    unit = str(result.attrs["units"])
    chosen = list(years) if years else [int(result["year"].values[-1])]
    tables = []
    for year in chosen:
        picked = result.sel(year=year)
        rows = []
        for label in picked[by].values.tolist():
            cell = picked.sel({by: label})
            median = {
                name: float(cell[name].sel(quantile=0.5, method="nearest"))
                for name in ("top_down", "patient_based", "gap")
            }
            ratio = [float(v) for v in cell["ratio"].values]
            row: list[Any] = [str(label), median["top_down"], median["patient_based"]]
            row += [
                median["gap"],
                *ratio,
                int(cell["selling_draws"]),
                f"{float(cell['prob_patient_above']):.3f}",
            ]
            if "treated_patients" in cell:
                row += [
                    float(cell["treated_patients"].sel(quantile=0.5, method="nearest")),
                    float(cell["revenue_per_patient_top_down"]),
                    float(cell["revenue_per_patient_patient_based"]),
                ]
            rows.append(row)
        headers = [by, "top-down P50", "patient P50", "gap P50"]
        headers += [f"ratio P{100 * float(q):g}" for q in result["quantile"].values]
        headers += ["selling draws", "P(patient > top)"]
        units = ["", unit, unit, unit, *[""] * (len(headers) - 4)]
        if "treated_patients" in result:
            price = result["revenue_per_patient_top_down"].attrs["units"]
            headers += ["treated P50", "per patient, top-down", "per patient, funnel"]
            units += ["patients", price, price]
        tables.append(
            Table(
                f"{year}: each {by}'s two views worldwide, {unit} ({int(result.attrs['draws']):,} "
                "paired draws; the ratio over the draws where it sells; per patient: revenue "
                "per treated patient-year, the top-down view's being the price at which the "
                "funnel would agree)",
                headers,
                rows,
                units=units,
            )
        )
    return tables


def _summary_table(result: xr.Dataset, labels: Mapping[str, str], unit: str) -> Table:
    final = int(result["year"].values[-1])
    rows = []
    unvalued = 0
    for product in result["product"].values.tolist():
        revenue = result["revenue_bands"].sel(product=product, year=final)
        npv = [
            float(result["npv_bands"].sel(product=product).sel(quantile=0.5, method="nearest")),
            float(result["npv_mean"].sel(product=product)),
        ]
        if not np.isfinite(npv).all():  # a product without valuation inputs has no NPV
            npv, unvalued = ["-", "-"], unvalued + 1
        rows.append(
            [
                labels.get(product, product),
                str(result["product_company"].sel(product=product).item()),
                float(revenue.sel(quantile=0.5, method="nearest")),
                *npv,
                _percent(float(result["probability_of_success"].sel(product=product))),
            ]
        )
    headers = ["product", "company", f"revenue {final} P50", "NPV P50", "NPV mean", "P(success)"]
    note = f"; NPV -: no valuation inputs for {unvalued}" if unvalued else ""
    return Table(
        f"products: worldwide revenue and net present value, {unit} "
        f"({int(result.attrs['draws']):,} draws; netsim value --product ID for one{note})",
        headers,
        rows,
        labels=2,
        units=["", "", unit, unit, unit, ""],
    )


def _drivers_table(drivers: xr.Dataset, unit: str, labels: Mapping[str, str]) -> Table:
    base = float(drivers["base"])
    rows = [
        [
            labels.get(str(name), str(name)),
            float(drivers["low"].sel(parameter=name)),
            float(drivers["high"].sel(parameter=name)),
            float(drivers["swing"].sel(parameter=name)),
        ]
        for name in drivers["parameter"].values
    ]
    title = (
        f"what moves its NPV most, {unit} (each input at its P10 and P90, the others at the "
        f"base case; the base case's risk-adjusted NPV {format_value(base)})"
    )
    return Table(title, ["input", "at P10", "at P90", "swing"], rows, units=["", unit, unit, unit])


def product_fan(result: xr.Dataset, product: str, path: str | Path, label: str) -> Path:
    """A product's worldwide revenue over the years: its P5-P95 and P25-P75 bands and
    median (zero where it fails or has not launched)."""
    revenue = result["revenue"].sel(product=product).transpose("draw", "year")
    revenue.attrs["units"] = result.attrs["units"]
    return fan_chart(
        {label: revenue}, path, f"{label}: worldwide revenue ({result.sizes['draw']:,} draws)"
    )


def npv_histogram(result: xr.Dataset, product: str, path: str | Path, label: str) -> Path:
    """A product's NPV over the draws: the histogram with its mean (the risk-adjusted NPV),
    median and the share of draws below zero; failed draws are their own bar."""
    values = np.sort(result["npv"].sel(product=product).values)
    if not np.isfinite(values).all():
        raise ScenarioError(f"product {product!r} has no valuation inputs: no NPV to draw")
    unit = str(result.attrs["units"])
    with _drawing(path) as (plt, output):
        figure, axis = plt.subplots(figsize=(9, 4.6))
        _npv_axis(axis, values, unit)
        axis.set_title(wrapped(f"{label}: net present value ({values.size:,} draws)", 80))
        return _save(figure, output)


def segment_shares_chart(
    dataset: xr.Dataset,
    segment: str,
    products: Mapping[str, Sequence[str]],
    path: str | Path,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """The median share of each product selling in ``segment`` (``products``: each product's
    segments) of the segment's worldwide value over the years, stacked, with other products
    on top. Medians of each share over the draws: the stack need not sum to 100 % exactly.
    A product in several segments counts the part of its value in proportion to the
    segments' values."""
    axis_name = str(dataset["other_products"].dims[-1])
    world = dataset[f"by_{axis_name}"].sum("country")
    names = [str(name) for name in world[axis_name].values]
    if segment not in names:
        raise ScenarioError(f"{axis_name}={segment!r} is not a segment ({', '.join(names)})")
    segment_value = world.sel({axis_name: segment})
    inside = [p for p, segments in products.items() if segment in segments]
    if not inside:
        raise ScenarioError(f"no product sells in {axis_name} {segment!r}")
    shares = {}
    for product in inside:
        part = segment_value / world.sel({axis_name: list(products[product])}).sum(axis_name)
        value = dataset["by_product"].sel(product=product).sum("country") * part
        shares[product] = (value / segment_value).median("draw")
    other = dataset["other_products"].sel({axis_name: segment}).sum("country") / segment_value
    years = dataset["year"].values
    with _drawing(path) as (plt, output):
        figure, axis = plt.subplots(figsize=(10, 5.2))
        stacks = [100 * shares[p].values for p in inside] + [100 * other.median("draw").values]
        names = [(labels or {}).get(p, p) for p in inside] + ["other products"]
        colours = [SHARE_COLOURS[i % len(SHARE_COLOURS)] for i in range(len(inside))]
        axis.stackplot(years, *stacks, labels=names, colors=[*colours, "#d5d8dc"], alpha=0.9)
        axis.set_xticks(years)
        axis.set_ylim(0, max(100.0, 1.02 * float(np.sum(stacks, axis=0).max())))
        axis.set_ylabel(f"% of the {segment} market's value (median of each)")
        axis.set_title(f"{segment}: the products' shares ({dataset.sizes['draw']:,} draws)")
        axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        axis.grid(alpha=0.3)
        return _save(figure, output)


def product_page(result: xr.Dataset, product: str, label: str, path: str | Path) -> Path:
    """One product's page as a picture: its revenue fan beside its NPV distribution."""
    revenue = result["revenue"].sel(product=product).transpose("draw", "year").values
    npv = np.sort(result["npv"].sel(product=product).values)
    unit = str(result.attrs["units"])
    years = result["year"].values
    with _drawing(path) as (plt, output):
        figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
        bands = np.quantile(revenue, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
        left.fill_between(years, bands[0], bands[4], color=COLOURS[0], alpha=0.15, label="P5-P95")
        left.fill_between(years, bands[1], bands[3], color=COLOURS[0], alpha=0.35, label="P25-P75")
        left.plot(years, bands[2], color=COLOURS[0], linewidth=2.2, label="median")
        left.plot(years, revenue.mean(axis=0), color=COLOURS[1], linestyle="--", label="mean")
        left.set_xticks(years)
        left.set_ylabel(f"worldwide revenue, {unit}")
        left.yaxis.set_major_formatter(tick_formatter())
        left.set_title("revenue (zero where it fails or has not launched)", fontsize=10)
        left.legend(fontsize=8, loc="upper left")
        left.grid(alpha=0.3)
        if np.isfinite(npv).all():
            _npv_axis(right, npv, unit)
        else:
            right.text(0.5, 0.5, "no valuation inputs: no NPV", ha="center", va="center")
            right.set_axis_off()
        figure.suptitle(f"{label} ({result.sizes['draw']:,} draws)")
        return _save(figure, output)


def _npv_axis(axis: Any, npv: np.ndarray, unit: str) -> None:
    """The NPV histogram with its mean, median and the share below zero."""
    axis.hist(npv, bins=80, color=COLOURS[0], alpha=0.85)
    mean, median = float(npv.mean()), float(np.median(npv))
    axis.axvline(
        mean, color=COLOURS[1], linewidth=1.6, label=f"mean (risk-adjusted) {format_value(mean)}"
    )
    axis.axvline(
        median, color="k", linestyle=":", linewidth=1.2, label=f"median {format_value(median)}"
    )
    axis.axvline(0.0, color="grey", linewidth=0.8)
    axis.set_xlabel(f"net present value, {unit}")
    axis.set_ylabel("draws")
    axis.xaxis.set_major_formatter(tick_formatter())
    below = _percent(float((npv < 0).mean()))
    axis.legend(fontsize=8, loc="upper right", title=f"P(NPV < 0) = {below}")
    axis.set_title("net present value, on the draws", fontsize=10)
    axis.grid(alpha=0.3)


def report_blocks(dataset: xr.Dataset, image: Any, table: Any, note: Any) -> list[Any]:
    """The blocks of the HTML report's product page of a run (none for a run without
    products): each segment's products stacked over the years, every product's revenue
    and value, and each launching product's fan beside its NPV distribution. ``image(render,
    alt)``, ``table(headers, rows, caption, id)`` and ``note(text)`` make the report's own
    blocks (:mod:`netsim.present.report`)."""
    from netsim.analyze.cells import run_scenario
    from netsim.analyze.value import value_of_run
    from netsim.model.layout import OutputLayout
    from netsim.run.reading import DRAWS_KIND, run_kind

    layout = OutputLayout.from_dataset(dataset)
    if not layout.products:
        return []
    if run_kind(dataset) != DRAWS_KIND:
        return [
            note(
                "The products' shares and values need the run's draws: this run was reduced "
                "to bands (netsim bands RUN --output by_product gives its products' bands)."
            )
        ]
    scenario = run_scenario(dataset)
    labels = {p.id: p.label for p in scenario.products}
    segments = {p.id: p.segments for p in scenario.products}
    blocks = [
        image(
            lambda out, s=segment: segment_shares_chart(dataset, s, segments, out, labels),
            f"the products' shares of {segment}",
        )
        for segment in dict.fromkeys(s for p in scenario.products for s in p.segments)
    ]
    result = value_of_run(scenario, dataset)
    summary = _summary_table(result, labels, layout.unit)
    blocks.append(table(list(summary.headers), summary.rows, summary.title, "products"))
    blocks += [
        image(
            lambda out, p=product: product_page(result, p.id, p.label, out),
            f"{product.label}: revenue and net present value",
        )
        for product in scenario.products
        if product.kind == "launch"
    ]
    return blocks
