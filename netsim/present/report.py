"""One self-contained HTML report of a run: bands, sensitivity, convergence, inputs.

Everything comes from the run file (its draws or bands, its ``inputs`` and the
distribution and source of every parameter), so a report can be made on any machine
that has the file. A run reduced to bands gives the bands, their intervals and the
fan; the sections that need the draws say so. Plots are embedded as base64 PNG: the
file has no outside references and can be mailed on.

The sections are built here as plain records (:class:`Table`, :class:`Image`,
:class:`Paragraph`) and laid out by the Jinja2 template ``templates/report.html``,
rendered with autoescape: every text of the run (names, labels, sources, quotes) is
shown exactly as written and never read as markup.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xarray as xr

from netsim.analyze.bands import run_bands
from netsim.analyze.cells import load_draws, run_base_case, run_scenario, select_output
from netsim.analyze.sensitivity import ranking, spearman
from netsim.errors import ScenarioError
from netsim.model.layout import OutputLayout
from netsim.output_files import OutputFile
from netsim.present.numbers import format_value, value_decimals
from netsim.present.products import report_blocks as product_report_blocks
from netsim.present.tables import headline_quantiles
from netsim.run.reading import DRAWS_KIND, run_kind
from netsim.scenario.documents import figures
from netsim.stats.intervals import coverage_statement, mean_standard_error

__all__ = ["Image", "Paragraph", "Section", "Table", "render_report", "write_report"]

TEMPLATE = "report.html"  # in netsim/present/templates/


@dataclass(frozen=True)
class Cell:
    """One cell of a table: its text, and whether it is a label (left-aligned)."""

    text: str
    label: bool


@dataclass(frozen=True)
class Table:
    """A table of the report: its ``id`` (the tests and readers find it by it), caption,
    headers and rows of cells."""

    id: str
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    kind: str = "table"


@dataclass(frozen=True)
class Image:
    """An embedded PNG: its alternative text and its bytes in base64."""

    alt: str
    data: str
    kind: str = "image"


@dataclass(frozen=True)
class Paragraph:
    """A paragraph: a note (no ``id``) or a paragraph readers find by its ``id``."""

    text: str
    id: str = ""
    kind: str = "paragraph"


Block = Table | Image | Paragraph


@dataclass(frozen=True)
class Section:
    """A section of the report: its heading (none for the opening) and its blocks."""

    heading: str
    blocks: tuple[Block, ...]


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], caption: str, table_id: str
) -> Table:
    """A :class:`Table`; its floats (values in the market's unit) with the decimals of
    :func:`netsim.present.numbers.value_decimals` for the largest of them."""
    rows = [list(row) for row in rows]
    decimals = value_decimals(v for row in rows for v in row if isinstance(v, float))
    cells = tuple(
        tuple(
            Cell(
                format_value(value, decimals) if isinstance(value, float) else str(value),
                i == 0 or not isinstance(value, float | int),
            )
            for i, value in enumerate(row)
        )
        for row in rows
    )
    return Table(table_id, caption, tuple(headers), cells)


def _image(render: Any, alt: str) -> Image:
    """A figure drawn by ``render(output)`` into memory, as an embedded PNG."""
    from netsim.present.plots import PictureBuffer

    picture = PictureBuffer()
    render(picture)
    return Image(alt, base64.b64encode(picture.data).decode("ascii"))


def _note(text: str) -> Paragraph:
    return Paragraph(text)


@functools.cache
def _template() -> Any:
    """The report's template, loaded once (jinja2 is imported only to write a report)."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("netsim.present", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template(TEMPLATE)


def _band_section(dataset: xr.Dataset, layout: OutputLayout) -> tuple[list[Table], float]:
    tables, worst = [], 0.0
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
        tables.append(_table(headers, rows, f"{cell.title}, {layout.unit}", f"bands-{index}"))
    return tables, worst


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
    layout = OutputLayout.from_dataset(dataset)
    has_draws = run_kind(dataset) == DRAWS_KIND
    attrs = dataset.attrs
    draws = int(dataset.sizes["draw"]) if has_draws else int(attrs["draws"])
    kind = "" if has_draws else ", reduced to bands"
    opening = _note(
        f"{draws:,} draws{kind}, sampler {attrs.get('sampler', '?')}, seed "
        f"{attrs.get('seed', '?')}; scenario hash {attrs.get('scenario_hash', '?')}; "
        f"netsim {attrs.get('netsim_version', '?')}; "
        f"report made {datetime.date.today().isoformat()}. Values in {layout.unit}."
    )
    if has_draws:
        total = load_draws(select_output(dataset, "total", "global"), "the global total")
    else:
        total = dataset["total_global"]
    bands, worst = _band_section(dataset, layout)
    sections = [
        Section("", (opening,)),
        Section("Forecast bands", (*bands, *_pictures(dataset, layout, total, has_draws))),
        _sensitivity_section(dataset, layout, draws, has_draws, sensitivity, cell),
        *_patient_section(dataset, layout, has_draws),
        *_product_section(dataset),
        _convergence_section(total if has_draws else None, worst, draws, attrs),
        _inputs_section(layout),
        _assumptions_section(attrs),
    ]
    return _template().render(
        heading=str(attrs.get("scenario", "netsim run")),
        title=str(attrs.get("scenario", "netsim")),
        sections=sections,
    )


def _pictures(
    dataset: xr.Dataset, layout: OutputLayout, total: xr.DataArray, has_draws: bool
) -> list[Block]:
    """The fan of the global total (with the base case, when the run carries its
    scenario) and, for a run with draws, the histogram of its final year."""
    from netsim.present import plots

    final, unit = layout.years[-1], layout.unit
    try:
        base = run_base_case(dataset) if "scenario_document" in dataset.attrs else None
        blocks: list[Block] = [
            _image(
                lambda p: plots.fan_chart({"forecast": total}, p, "World market", unit, base),
                "fan chart of the global total",
            )
        ]
    except ScenarioError as error:  # bands without a median and a symmetric pair
        if has_draws:
            raise
        blocks = [_note(f"No fan chart: {error}.")]
    if has_draws:
        blocks.append(
            _image(
                lambda p: plots.histogram(total.sel(year=final), p, f"World market, {final}"),
                f"histogram of the {final} global total",
            )
        )
    return blocks


def _sensitivity_section(
    dataset: xr.Dataset,
    layout: OutputLayout,
    draws: int,
    has_draws: bool,
    sensitivity: xr.Dataset | None,
    cell: Mapping[str, Any] | None,
) -> Section:
    """Inputs ranked by rank correlation with the final year's total, and the Sobol
    indices of ``cell`` when a Sobol result is given."""
    if not has_draws:
        blocks: list[Block] = [
            _note("Rank correlations need the run's draws: this run was reduced to bands.")
        ]
    else:
        final = layout.years[-1]
        correlation = spearman(dataset, "total", "global")
        ranked = ranking(correlation, {"year": final})[:12]
        labels = _labels(dataset)
        rows = [
            [labels.get(str(p), str(p)), str(p), f"{float(v):+.3f}"]
            for p, v in zip(ranked["parameter"].values, ranked.values, strict=True)
        ]
        blocks = [
            _table(
                ["input", "parameter", "Spearman rank correlation"],
                rows,
                f"Inputs ranked by |Spearman correlation| with the {final} global total "
                f"({draws:,} draws)",
                "sensitivity",
            )
        ]
    if sensitivity is not None and cell:
        blocks += _sobol_blocks(sensitivity, cell)
    return Section("Sensitivity", tuple(blocks))


def _sobol_blocks(sensitivity: xr.Dataset, cell: Mapping[str, Any]) -> list[Block]:
    """The Sobol indices of one cell: a table and the bars."""
    from netsim.present import plots

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
    return [
        _table(
            ["input group", "first order [95 % CI]", "total [95 % CI]"],
            rows,
            f"Sobol indices of {where} (n={sensitivity.attrs.get('n')}, "
            f"{sensitivity.attrs.get('evaluations'):,} model evaluations)",
            "sobol",
        ),
        _image(lambda p: plots.sobol_bars(sensitivity, cell, p), "Sobol indices"),
    ]


def _convergence_section(
    total: xr.DataArray | None, worst: float, draws: int, attrs: Mapping[str, Any]
) -> Section:
    """Monte Carlo means with their standard errors (a run's draws), and the precision."""
    if total is not None:
        first: Block = _convergence_table(total)
    else:
        first = _note("Monte Carlo means need the run's draws: this run was reduced.")
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
    return Section("Convergence", (first, Paragraph(precision, "precision")))


def _inputs_section(layout: OutputLayout) -> Section:
    """Every input with its distribution and source."""
    rows = [
        [a.name, a.distribution, a.unit, a.source_kind, a.source_text] for a in layout.assumptions()
    ]
    table = _table(
        ["parameter", "distribution", "unit", "source", "quote or reason"],
        rows,
        "Every input, its distribution and its source",
        "inputs",
    )
    return Section("Inputs", (table,))


def _labels(dataset: xr.Dataset) -> dict[str, str]:
    """Each input's label in the scenario the run carries (none for a run without one)."""
    from netsim.present.labels import parameter_labels

    if "scenario_document" not in dataset.attrs:
        return {}
    return parameter_labels(run_scenario(dataset))


def _patient_section(dataset: xr.Dataset, layout: OutputLayout, has_draws: bool) -> list[Section]:
    """The patient-based model against the top-down one, for a run with a funnel."""
    if not layout.stages:
        return []
    heading = "Patient-based cross-check"
    if not has_draws:
        note = "The ratio of the two models needs the run's draws: this run was reduced to bands."
        return [Section(heading, (_note(note),))]
    from netsim.analyze.reconcile import reconcile_run
    from netsim.present import plots
    from netsim.present.tables import reconcile_tables

    result = reconcile_run(dataset, "region")
    years = [layout.years[0], layout.years[-1]]
    blocks: list[Block] = [
        _table(table.headers, table.rows, table.title.strip(), f"reconcile-{i}")
        for i, table in enumerate(reconcile_tables(result, years))
    ]
    blocks.append(
        _image(
            lambda p: plots.reconcile_chart(result, p), "patient-based and top-down fans by region"
        )
    )
    return [Section(heading, tuple(blocks))]


def _product_section(dataset: xr.Dataset) -> list[Section]:
    """The products' page, for a run with products (:mod:`netsim.present.products`)."""
    blocks = product_report_blocks(dataset, _image, _table, _note)
    return [Section("Products and their value", tuple(blocks))] if blocks else []


def _assumptions_section(attrs: Mapping[str, Any]) -> Section:
    """Every figure of the scenario the run was made from (shares, premiums, targets,
    correlations, timelines, weights, events, limits), each with its unit and source."""
    try:
        document = json.loads(str(attrs.get("scenario_document", "")))
    except ValueError:
        document = None
    if not isinstance(document, dict):
        return Section("Assumptions", (_note("The run file holds no scenario document."),))
    rows = [[f.key, f.value, f.unit, f.source_kind, f.source_text] for f in figures(document)]
    table = _table(
        ["figure", "value", "unit", "source", "quote or reason"],
        rows,
        f"Every figure of the scenario ({len(rows)}), with its source",
        "assumptions",
    )
    return Section("Assumptions", (table,))


def _convergence_table(total: xr.DataArray) -> Table:
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
