"""One self-contained HTML report of a run: bands, sensitivity, convergence, inputs.

Everything comes from the run file (its draws or bands, its ``inputs`` and the
distribution and source of every parameter), so a report can be made on any machine
that has the file. A run reduced to bands gives the bands, their intervals and the
fan; the sections that need the draws say so. Plots are embedded as base64 PNG: the
file has no outside references and can be mailed on.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from netsim.analyze.bands import run_bands
from netsim.analyze.cells import load_draws, run_base_case, run_scenario, select_output
from netsim.analyze.sensitivity import ranking, spearman
from netsim.errors import ScenarioError
from netsim.files import OutputFile
from netsim.model.layout import OutputLayout
from netsim.present.numbers import format_value, value_decimals
from netsim.present.products import report_section as product_report_section
from netsim.present.tables import headline_quantiles
from netsim.run.files import DRAWS_KIND, run_kind
from netsim.scenario.documents import figures
from netsim.stats.intervals import coverage_statement, mean_standard_error

__all__ = ["render_report", "write_report"]

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .88em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
th { background: #f2f4f7; } td.label, th.label { text-align: left; }
img { max-width: 100%; } .note { color: #555; font-size: .9em; }
"""


def _table(headers: list[str], rows: list[list[Any]], caption: str, table_id: str) -> str:
    """An HTML table; its floats (values in the market's unit) with the decimals of
    :func:`netsim.present.numbers.value_decimals` for the largest of them."""
    decimals = value_decimals(v for row in rows for v in row if isinstance(v, float))
    head = "".join(
        f'<th class="label">{html.escape(h)}</th>' if i == 0 else f"<th>{html.escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            text = format_value(value, decimals) if isinstance(value, float) else str(value)
            cls = ' class="label"' if i == 0 or not isinstance(value, float | int) else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table id="{table_id}"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _image(render: Any, alt: str) -> str:
    """A figure drawn by ``render(output)`` into memory, as an embedded PNG."""
    from netsim.present.plots import PictureBuffer

    picture = PictureBuffer()
    render(picture)
    data = base64.b64encode(picture.data).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def _band_section(dataset: xr.Dataset, layout: OutputLayout) -> tuple[str, float]:
    parts, worst = [], 0.0
    quantiles = headline_quantiles(dataset)
    for index, cell in enumerate(layout.headline()):
        years = None if cell.year is None else [cell.year]
        intervals = run_bands(dataset, cell.output, cell.by, quantiles, years=years)
        if cell.year is not None:
            intervals = intervals.sel(year=cell.year, drop=True)
        confidence = float(intervals.attrs["confidence"])
        worst = max(worst, float(intervals["relative_halfwidth"].max()))
        rows = []
        decimals = value_decimals(intervals["value"].values.ravel())
        for label in intervals[cell.row_dim].values:
            picked = intervals.sel({cell.row_dim: label})
            row: list[Any] = [str(label)]
            for q in intervals["quantile"].values:
                band = picked.sel(quantile=q)
                row += [
                    float(band["value"]),
                    f"{format_value(band['low'], decimals)} – "
                    f"{format_value(band['high'], decimals)}",
                ]
            rows.append(row)
        moments = [name for name in ("mean", "standard_deviation") if name in intervals]
        for row, label in zip(rows, intervals[cell.row_dim].values, strict=True):
            row += [float(intervals[name].sel({cell.row_dim: label})) for name in moments]
        headers = [cell.row_dim]
        for q in intervals["quantile"].values:
            headers += [f"P{100 * q:g}", f"P{100 * q:g} {100 * confidence:.10g} % CI"]
        headers += [{"mean": "mean", "standard_deviation": "sd"}[name] for name in moments]
        parts.append(_table(headers, rows, f"{cell.title}, {layout.unit}", f"bands-{index}"))
    return "\n".join(parts), worst


def render_report(
    dataset: xr.Dataset,
    sensitivity: xr.Dataset | None = None,
    cell: Mapping[str, Any] | None = None,
) -> str:
    """The report as one HTML string.

    Parameters
    ----------
    dataset : xarray.Dataset
        A run of any kind :func:`netsim.open_run` opens, or :func:`netsim.simulate` returns.
    sensitivity : xarray.Dataset, optional
        A Sobol result (:func:`netsim.analyze.sensitivity.sobol`) to include for ``cell``.
    cell : mapping, optional
        The cell of ``sensitivity`` to rank.
    """
    from netsim.present import plots

    layout = OutputLayout.from_dataset(dataset)
    has_draws = run_kind(dataset) == DRAWS_KIND
    attrs = dataset.attrs
    final = layout.years[-1]
    draws = int(dataset.sizes["draw"]) if has_draws else int(attrs["draws"])
    unit = layout.unit
    kind = "" if has_draws else ", reduced to bands"
    sections = [
        f"<h1>{html.escape(str(attrs.get('scenario', 'netsim run')))}: forecast report</h1>",
        _note(
            f"{draws:,} draws{kind}, sampler {attrs.get('sampler', '?')}, seed "
            f"{attrs.get('seed', '?')}; scenario hash {attrs.get('scenario_hash', '?')}; "
            f"netsim {attrs.get('netsim_version', '?')}; "
            f"report made {datetime.date.today().isoformat()}. Values in {unit}."
        ),
    ]

    bands_html, worst = _band_section(dataset, layout)
    sections += ["<h2>Forecast bands</h2>", bands_html]
    if has_draws:
        total = load_draws(select_output(dataset, "total", "global"), "the global total")
    else:
        total = dataset["total_global"]
    try:
        base = run_base_case(dataset) if "scenario_document" in attrs else None
        fan = _image(
            lambda p: plots.fan_chart({"forecast": total}, p, "World market", unit, base),
            "fan chart of the global total",
        )
    except ScenarioError as error:  # bands without a median and a symmetric pair
        if has_draws:
            raise
        fan = _note(f"No fan chart: {error}.")
    sections.append(fan)
    if has_draws:
        sections.append(
            _image(
                lambda p: plots.histogram(total.sel(year=final), p, f"World market, {final}"),
                f"histogram of the {final} global total",
            )
        )

    sections.append("<h2>Sensitivity</h2>")
    if has_draws:
        correlation = spearman(dataset, "total", "global")
        ranked = ranking(correlation, {"year": final})[:12]
        labels = _labels(dataset)
        rows = [
            [labels.get(str(p), str(p)), str(p), f"{float(v):+.3f}"]
            for p, v in zip(ranked["parameter"].values, ranked.values, strict=True)
        ]
        sections.append(
            _table(
                ["input", "parameter", "Spearman rank correlation"],
                rows,
                f"Inputs ranked by |Spearman correlation| with the {final} global total "
                f"({draws:,} draws)",
                "sensitivity",
            )
        )
    else:
        sections.append(
            _note("Rank correlations need the run's draws: this run was reduced to bands.")
        )
    if sensitivity is not None and cell:
        sections += _sobol_section(sensitivity, cell)
    sections += _patient_section(dataset, layout, has_draws)
    sections += product_report_section(dataset, _image, _table)

    sections += _convergence_section(total if has_draws else None, worst, draws, attrs)
    sections += _inputs_section(layout)
    sections.append(_assumptions_section(attrs))
    body = "\n".join(sections)
    title = html.escape(f"{attrs.get('scenario', 'netsim')} report")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _sobol_section(sensitivity: xr.Dataset, cell: Mapping[str, Any]) -> list[str]:
    """The Sobol indices of one cell: a table and the bars."""
    from netsim.present import plots

    parts: list[str] = []
    ranked = ranking(sensitivity, cell, "total_order")[:10]
    labels = (  # the inputs' words, where the file was written with them
        dict(zip(sensitivity["parameter"].values, sensitivity["label"].values, strict=True))
        if "label" in sensitivity.coords
        else {}
    )
    picked = sensitivity.sel(dict(cell)).sel(parameter=ranked["parameter"].values)
    rows = []
    for name in ranked["parameter"].values:
        row = picked.sel(parameter=name)
        first, total_order = (
            row["first_order_interval"].values,
            row["total_order_interval"].values,
        )
        rows.append(
            [
                str(labels.get(name, name)),
                f"{float(row['first_order']):.3f} [{first[0]:.3f}, {first[1]:.3f}]",
                f"{float(row['total_order']):.3f} [{total_order[0]:.3f}, {total_order[1]:.3f}]",
            ]
        )
    where = ", ".join(f"{k}={v}" for k, v in cell.items())
    parts.append(
        _table(
            ["input group", "first order [95 % CI]", "total [95 % CI]"],
            rows,
            f"Sobol indices of {where} (n={sensitivity.attrs.get('n')}, "
            f"{sensitivity.attrs.get('evaluations'):,} model evaluations)",
            "sobol",
        )
    )
    parts.append(_image(lambda p: plots.sobol_bars(sensitivity, cell, p), "Sobol indices"))
    return parts


def _convergence_section(
    total: xr.DataArray | None, worst: float, draws: int, attrs: Mapping[str, Any]
) -> list[str]:
    """Monte Carlo means with their standard errors (a run's draws), and the precision."""
    parts: list[str] = ["<h2>Convergence</h2>"]
    if total is not None:
        parts.append(_convergence_table(total))
    else:
        parts.append(_note("Monte Carlo means need the run's draws: this run was reduced."))
    precision = (
        f"Widest interval of any reported percentile: ±{100 * worst:.3f} % (relative), "
        f"from {draws:,} draws; {coverage_statement(attrs.get('sampler'))[1]}."
    )
    if "precision_target" in attrs:
        precision += (
            " The run stopped on its own at a target of "
            f"±{100 * float(attrs['precision_target']):.3f} %"
            f" ({'met' if int(attrs.get('precision_met', 0)) else 'NOT met: draw cap reached'})."
        )
    parts.append(f'<p id="precision">{html.escape(precision)}</p>')
    return parts


def _inputs_section(layout: OutputLayout) -> list[str]:
    """Every input with its distribution and source."""
    parts: list[str] = ["<h2>Inputs</h2>"]
    rows = [
        [a.name, a.distribution, a.unit, a.source_kind, a.source_text] for a in layout.assumptions()
    ]
    parts.append(
        _table(
            ["parameter", "distribution", "unit", "source", "quote or reason"],
            rows,
            "Every input, its distribution and its source",
            "inputs",
        )
    )
    return parts


def _labels(dataset: xr.Dataset) -> dict[str, str]:
    """Each input's label in the scenario the run carries (none for a run without one)."""
    from netsim.present.labels import parameter_labels

    if "scenario_document" not in dataset.attrs:
        return {}
    return parameter_labels(run_scenario(dataset))


def _patient_section(dataset: xr.Dataset, layout: OutputLayout, has_draws: bool) -> list[str]:
    """The patient-based model against the top-down one, for a run with a funnel."""
    if not layout.stages:
        return []
    from netsim.analyze.reconcile import reconcile_run
    from netsim.present import plots
    from netsim.present.tables import reconcile_tables

    parts = ["<h2>Patient-based cross-check</h2>"]
    if not has_draws:
        return [
            *parts,
            _note(
                "The ratio of the two models needs the run's draws: this run was reduced to bands."
            ),
        ]
    result = reconcile_run(dataset, "region")
    years = [layout.years[0], layout.years[-1]]
    for i, table in enumerate(reconcile_tables(result, years)):
        parts.append(
            _table(
                list(table.headers),
                [list(r) for r in table.rows],
                table.title.strip(),
                f"reconcile-{i}",
            )
        )
    parts.append(
        _image(
            lambda p: plots.reconcile_chart(result, p), "patient-based and top-down fans by region"
        )
    )
    return parts


def _assumptions_section(attrs: Mapping[str, Any]) -> str:
    """Every figure of the scenario the run was made from (shares, premiums, targets,
    correlations, timelines, weights, events, limits), each with its unit and source."""
    try:
        document = json.loads(str(attrs.get("scenario_document", "")))
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return "<h2>Assumptions</h2>" + _note("The run file holds no scenario document.")
    rows = [[f.key, f.value, f.unit, f.source_kind, f.source_text] for f in figures(document)]
    return "<h2>Assumptions</h2>" + _table(
        ["figure", "value", "unit", "source", "quote or reason"],
        rows,
        f"Every figure of the scenario ({len(rows)}), with its source",
        "assumptions",
    )


def _convergence_table(total: xr.DataArray) -> str:
    errors = mean_standard_error(total)
    decimals = value_decimals(errors["mean"].values, 2)
    rows = [
        [
            str(y),
            float(errors["mean"].sel(year=y)),
            format_value(errors["standard_error"].sel(year=y), decimals),
        ]
        for y in errors["year"].values
    ]
    return _table(
        ["year", "mean", "standard error of the mean"],
        rows,
        "Global total: Monte Carlo means",
        "convergence",
    )


def write_report(dataset: xr.Dataset, path: str | Path | OutputFile, **kwargs: Any) -> Path:
    """Render the report and write it through the one writer (:class:`OutputFile`)."""
    if isinstance(path, OutputFile):
        return path.write_text(render_report(dataset, **kwargs))
    with OutputFile(path) as output:
        return output.write_text(render_report(dataset, **kwargs))
