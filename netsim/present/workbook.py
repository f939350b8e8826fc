"""Excel workbooks an analyst can hand on: bands, paired differences, assumptions.

One workbook, numbers as numbers and units in the headers:

* ``Bands``: every output of a run in the market's unit (the total and each
  ``by_<axis>``, and the patient funnel's value where the run has one) at every level
  (world, region, country), one row per cell and year, each quantile with its
  order-statistic interval; outputs in another unit (the funnel's patient counts) on a
  sheet of their own, ``Bands in patients``, so every header states its numbers' unit;
* ``Differences`` (a comparison only): the paired differences other - base on common
  random numbers, their intervals and P(other > base);
* ``Assumptions``: every sampled input with its distribution, unit and source, then every
  figure of the scenario document with its unit and source (row for row the report's
  inputs and assumptions tables: both read :meth:`OutputLayout.assumptions` and
  :func:`netsim.scenario.documents.figures`).

Written with openpyxl (the ``xlsx`` extra).
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from netsim.analyze.bands import run_bands
from netsim.errors import ScenarioError
from netsim.model.layout import OutputLayout, aggregate
from netsim.present.numbers import value_decimals
from netsim.scenario.documents import figures

__all__ = ["comparison_workbook", "run_workbook", "workbook_bytes"]

LEVELS = ("global", "region", "country")
LEVEL_NAMES = {"global": "world", "region": "region", "country": "country"}
BLANK_NOTE = "blank: too few draws for an interval at this confidence"
MAX_TEXT = 32_767  # characters a spreadsheet cell holds
# characters XML 1.0 (the file format) cannot hold: C0 controls, surrogates, U+FFFE/U+FFFF
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError:
        raise ScenarioError("Excel export needs openpyxl: pip install 'netsim[xlsx]'") from None
    return openpyxl


def _text(value: str) -> str:
    """Text a workbook can hold as it is: characters the format cannot store replaced by
    U+FFFD, and text too long for a cell cut with a visible mark (never silently)."""
    value = _NOT_XML.sub("\ufffd", value)
    if len(value) > MAX_TEXT:
        mark = f" [cut: {len(value):,} characters in all]"
        value = value[: MAX_TEXT - len(mark)] + mark
    return value


def _number(value: Any) -> float | None:
    """A finite float, or None (an empty cell) for NaN and infinities."""
    number = float(value)
    return number if math.isfinite(number) else None


def _percent(q: float) -> str:
    return f"P{100 * q:.10g}"


def _cell_dims(value: xr.DataArray) -> tuple[str | None, str | None]:
    """The place dimension and the segment dimension of a bands result (None if absent)."""
    place = next((d for d in value.dims if d in ("region", "country")), None)
    segment = next(
        (d for d in value.dims if d not in ("quantile", "year", "region", "country")), None
    )
    return place, segment


def _cell_rows(result: xr.Dataset, labels: Sequence[Any]) -> list[list[Any]]:
    """The label cells of every cell and year of a bands result: places, then segments,
    then years (the order of :func:`_per_row`)."""
    value = result["value"]
    place, segment = _cell_dims(value)
    places = [None] if place is None else [str(v) for v in value[place].values]
    segments = [None] if segment is None else [str(v) for v in value[segment].values]
    return [
        [*labels, where or "World", segment or "", what or "", int(year)]
        for where in places
        for what in segments
        for year in value["year"].values
    ]


def _per_row(array: xr.DataArray, place: str | None, segment: str | None) -> np.ndarray:
    """The array's values, one row per cell and year in :func:`_cell_rows` order (any other
    dimension, such as the quantile, along the row). One transpose for the whole sheet: a
    selection per cell took seconds on a run's 7,000 cells."""
    dims = [d for d in (place, segment, "year") if d is not None]
    rest = [d for d in array.dims if d not in dims]
    rows = int(np.prod([array.sizes[d] for d in dims]))
    return np.asarray(array.transpose(*dims, *rest).values, dtype=float).reshape(rows, -1)


def _numbers(values: np.ndarray) -> list[float | None]:
    return [_number(v) for v in values]


def _bands_rows(
    result: xr.Dataset,
    labels: Sequence[Any],
    base: xr.DataArray | None = None,
    moments: bool = True,
) -> list[list[Any]]:
    """Label cells, then value, low and high of each quantile in turn, then the mean and
    standard deviation (blank for a run reduced to bands) and the base case where given,
    per cell and year."""
    place, segment = _cell_dims(result["value"])
    columns = [_per_row(result[name], place, segment) for name in ("value", "low", "high")]
    numbers = np.stack(columns, axis=2).reshape(columns[0].shape[0], -1)
    extra = [
        _per_row(result[name], place, segment)
        if name in result
        else np.full((numbers.shape[0], 1), np.nan)
        for name in (MOMENTS if moments else ())
    ]
    if base is not None:
        extra.append(_per_row(base, place, segment))
    numbers = np.concatenate([numbers, *extra], axis=1)
    return [
        row + _numbers(values)
        for row, values in zip(_cell_rows(result, labels), numbers, strict=True)
    ]


MOMENTS = ("mean", "standard_deviation")
MOMENT_NAMES = ("mean", "sd")
BASE_CASE = "base case"


def _band_headers(
    first: Sequence[str],
    quantiles: Sequence[float],
    unit: str,
    base: bool = False,
    moments: bool = True,
) -> list[str]:
    headers = [*first, "place", "axis", "segment", "year"]
    for q in quantiles:
        name = _percent(q)
        headers += [f"{name} ({unit})", f"{name} low ({unit})", f"{name} high ({unit})"]
    headers += [f"{name} ({unit})" for name in MOMENT_NAMES] if moments else []
    return headers + ([f"{BASE_CASE} ({unit})"] if base else [])


def _sheet(
    workbook: Any,
    title: str,
    heading: str,
    note: str,
    headers: Sequence[Any],
    rows: list[list[Any]],
    labels: int = 0,
    decimals: int = 1,
) -> Any:
    """A sheet to read and to print: its heading in A1 (bold), a note in A2, headers in
    row 3 (bold, frozen with the first ``labels`` columns, repeated on every printed
    page), then the rows; numbers with thousands separators and the decimals their
    column needs, columns as wide as their text, printed landscape and fit to the
    page's width. Values show at least ``decimals`` decimals (the market's unit: one, as
    every table of netsim prints it; patient counts: none)."""
    openpyxl = _openpyxl()
    sheet = workbook.create_sheet(title)
    for row in ([heading], [note], list(headers), *rows):
        sheet.append([_text(v) if isinstance(v, str) else v for v in row])
    # text is text: a name or a quote starting with "=" must not become a formula (one pass
    # over the sheet at the end: looking up the last row after each append was quadratic,
    # 50 s for a small run's 8,000 rows)
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    sheet["A1"].font = openpyxl.styles.Font(bold=True, size=13)
    bold = openpyxl.styles.Font(bold=True)
    for cell in sheet[HEADER_ROW]:
        cell.font = bold
    letter = openpyxl.utils.get_column_letter
    sheet.freeze_panes = f"{letter(labels + 1)}{HEADER_ROW + 1}"
    for index, header in enumerate(headers, start=1):
        column = [row[index - 1] for row in rows]
        numbers = [v for v in column if isinstance(v, int | float) and not isinstance(v, bool)]
        shape = _number_format(str(header), numbers, decimals)
        if shape is not None:
            for (cell,) in sheet.iter_rows(
                min_row=HEADER_ROW + 1, min_col=index, max_col=index, max_row=sheet.max_row
            ):
                cell.number_format = shape
        sheet.column_dimensions[letter(index)].width = _width(header, column, shape)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.print_area = (
        f"A1:{letter(len(headers))}{sheet.max_row}"  # the table, not its note's overflow
    )
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    return sheet


HEADER_ROW = 3


def _number_format(header: str, numbers: Sequence[float], minimum: int = 1) -> str | None:
    """A column's number format: years as they are, probabilities to three decimals,
    values with thousands separators and the decimals of their magnitude (one for a
    market in the thousands of its unit, none for patient counts); None for text."""
    if not numbers or header == "value (number)":  # text, or figures in mixed units
        return None
    if header == "year":
        return "0"
    if header.startswith("P(") or "probability" in header:
        return "0.000"
    decimals = value_decimals(numbers, minimum)
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def _width(header: Any, column: Sequence[Any], shape: str | None) -> float:
    """A column as wide as its header and its widest value (10 to 60 characters)."""
    sample = [v for v in column[:2000] if v is not None]
    if shape is not None and shape not in ("0",):
        decimals = len(shape.split(".")[1]) if "." in shape else 0
        texts = [f"{v:,.{decimals}f}" for v in sample if isinstance(v, int | float)]
    else:
        texts = [str(v) for v in sample]
    widest = max([len(str(header)), *[len(t) for t in texts]])
    return float(max(10, min(60, widest + 2)))


def _wide(
    headers: Sequence[str], rows: list[list[Any]], keys: int
) -> tuple[list[Any], list[list[Any]]]:
    """A long table of one row per cell and year (``keys`` label columns, then ``year``,
    then statistics) as a table to read: one row per cell and statistic, the years as
    columns. Interval ends stay in the long table (they are for machines and checks)."""
    years = sorted({int(row[keys]) for row in rows})
    statistics = [
        (index, _statistic(str(header)))
        for index, header in enumerate(headers)
        if index > keys and " low (" not in str(header) and " high (" not in str(header)
    ]
    by_cell: dict[tuple[Any, ...], dict[int, list[Any]]] = {}
    for row in rows:
        by_cell.setdefault(tuple(row[:keys]), {})[int(row[keys])] = row
    wide = []
    for key, by_year in by_cell.items():
        for index, name in statistics:
            values = [by_year[year][index] if year in by_year else None for year in years]
            if all(v is None for v in values):
                continue  # a statistic this cell does not have (a reduced run's mean)
            wide.append([*key, name, *values])
    return [*headers[:keys], "statistic", *years], wide


def _statistic(header: str) -> str:
    """``P50 (USD million)`` -> ``P50``."""
    return re.sub(r" \([^()]*\)$", "", header)


def _fan_chart(sheet: Any, headers: Sequence[Any], rows: list[list[Any]], unit: str) -> None:
    """A native line chart of the world total's P5, P50, P95 and base case over the years,
    beside the table (Excel and LibreOffice draw it; it reads the sheet's own cells)."""
    from openpyxl.chart import LineChart, Reference, Series

    statistic = list(headers).index("statistic")
    first_year = statistic + 2  # 1-based column of the first year
    last_year = len(headers)
    # (dash, width in EMU, colour): the band's ends alike, the median bold, the base case
    # in black (every series one colour of the fan, not the spreadsheet's palette)
    wanted = {
        "P5": ("dash", 15875, "1F5A96"),
        "P50": ("solid", 31750, "1F5A96"),
        "P95": ("dash", 15875, "1F5A96"),
        BASE_CASE: ("sysDot", 22225, "000000"),
    }
    chart = LineChart()
    lowest = math.inf
    for offset, row in enumerate(rows):
        if row[0] != "total" or row[1] != LEVEL_NAMES["global"] or row[statistic] not in wanted:
            continue
        excel_row = HEADER_ROW + 1 + offset
        values = Reference(sheet, min_col=first_year, max_col=last_year, min_row=excel_row)
        series = Series(values, title=str(row[statistic]))
        dash, width, colour = wanted[row[statistic]]
        series.graphicalProperties.line.dashStyle = dash
        series.graphicalProperties.line.width = width
        series.graphicalProperties.line.solidFill = colour
        lowest = min([lowest, *[v for v in row[statistic + 1 :] if v is not None]])
        series.smooth = False
        chart.series.append(series)
    if not chart.series:
        return
    chart.set_categories(
        Reference(sheet, min_col=first_year, max_col=last_year, min_row=HEADER_ROW)
    )
    chart.title = f"World market, {unit}"
    # lines, not bars: an axis from zero would press the fan into one line
    step = 10 ** math.floor(math.log10(max(lowest, 1e-12)))
    chart.y_axis.scaling.min = math.floor(0.95 * lowest / step) * step
    chart.y_axis.title = unit
    chart.x_axis.title = "year"
    chart.y_axis.number_format = "#,##0"
    chart.x_axis.delete = False  # shown: openpyxl hides both axes unless told
    chart.y_axis.delete = False
    chart.height, chart.width = 9.0, 17.0  # cm
    letter = _openpyxl().utils.get_column_letter
    sheet.add_chart(chart, f"{letter(last_year + 2)}{HEADER_ROW}")
    # printed on a page of its own after the table: beside it, it shrank the table's print
    chart_cells = f"{letter(last_year + 2)}{HEADER_ROW}:{letter(last_year + 11)}{HEADER_ROW + 18}"
    sheet.print_area = [str(sheet.print_area).split("!")[-1].replace("$", ""), chart_cells]


def _assumption_rows(layout: OutputLayout, document: Mapping[str, Any] | None) -> list[list[Any]]:
    """Every sampled input (the report's inputs table, row for row), then every figure
    of the scenario document (its assumptions table, row for row), each with its unit."""
    rows: list[list[Any]] = [
        ["input", a.name, a.distribution, None, a.unit, a.source_kind, a.source_text]
        for a in layout.assumptions()
    ]
    if document is not None:
        for figure in figures(document):
            number = _figure_number(figure.value)
            shown = None if number is not None else figure.value
            rows.append(
                [
                    "figure",
                    figure.key,
                    shown,
                    number,
                    figure.unit,
                    figure.source_kind,
                    figure.source_text,
                ]
            )
    return rows


def _figure_number(value: str) -> float | None:
    """A figure's value as a number, or None for a list (shown as text instead)."""
    try:
        return float(value)
    except ValueError:
        return None


ASSUMPTION_HEADERS = (
    "kind",
    "parameter or figure",
    "distribution or value",
    "value (number)",
    "unit",
    "source",
    "quote or reason",
)


def run_workbook(
    run: xr.Dataset, q: Sequence[float] | None = None, confidence: float | None = None
) -> Any:
    """An openpyxl Workbook of a run: ``Bands`` (the years as columns, with a chart of
    the world market's fan), ``Bands (long)`` (one row per cell and year, with each
    quantile's interval: for machines), the same two ``in patients`` where the run has
    a funnel, and ``Assumptions``.

    Parameters
    ----------
    run : xarray.Dataset
        Any run :func:`netsim.open_run` opens (its draws, or reduced to bands).
    q, confidence : optional
        As :func:`netsim.analyze.bands.run_bands`.
    """
    openpyxl = _openpyxl()
    layout = OutputLayout.from_dataset(run)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    base_case = _base_case(run)
    rows_by_unit: dict[str, list[list[Any]]] = {layout.unit: []}
    results = []
    for output in layout.outputs:
        for by in LEVELS:
            result = run_bands(run, output, by, q, confidence)
            results.append(result)
            base = None if base_case is None else aggregate(base_case[output], by)
            rows = _bands_rows(result, [output, LEVEL_NAMES[by]], base)
            rows_by_unit.setdefault(layout.unit_of(output), []).extend(rows)
    first = results[0]
    confidence_used = float(first.attrs["confidence"])
    quantiles = first["quantile"].values.tolist()
    name = str(run.attrs.get("scenario", "netsim run"))
    # one sheet per unit, so that every header states the unit of every number below it:
    # the market's outputs on "Bands", patient counts (a funnel's) on "Bands in patients"
    for unit, rows in rows_by_unit.items():
        note = (
            f"{int(first.attrs['draws']):,} draws, seed {run.attrs.get('seed', '')}; low/high "
            f"= {100 * confidence_used:.10g} % order-statistic interval ({BLANK_NOTE}), "
            f"{first.attrs['coverage_note']}; values in {unit}"
        )
        title = "Bands" if unit == layout.unit else _sheet_title(f"Bands in {unit}")
        headers = _band_headers(["output", "level"], quantiles, unit, base_case is not None)
        wide_headers, wide_rows = _wide(headers, rows, 5)
        sheet = _sheet(
            workbook,
            title,
            f"{name}: forecast bands by year, {unit}",
            f"{note}. Each quantile's interval, row by row, is on the sheet "
            f"{_sheet_title(title + ' (long)')}.",
            wide_headers,
            wide_rows,
            labels=6,
            decimals=1 if unit == layout.unit else 0,
        )
        if unit == layout.unit:
            _fan_chart(sheet, wide_headers, wide_rows, unit)
        _sheet(
            workbook,
            _sheet_title(f"{title} (long)"),
            f"{name}: bands of every cell and year, {unit} (one row each, for machines)",
            note,
            headers,
            rows,
            labels=6,
            decimals=1 if unit == layout.unit else 0,
        )
    _sheet(
        workbook,
        "Assumptions",
        f"{name}: inputs and assumptions",
        "Every sampled input with its distribution and source, then every figure of the "
        "scenario with its source",
        ASSUMPTION_HEADERS,
        _assumption_rows(layout, _document(run.attrs.get("scenario_document"))),
        labels=2,
    )
    return workbook


def _base_case(run: xr.Dataset) -> xr.Dataset | None:
    """The deterministic base case of the scenario the run carries (None without one)."""
    if "scenario_document" not in run.attrs:
        return None
    from netsim.analyze.cells import run_scenario
    from netsim.model.propagate import deterministic

    return deterministic(run_scenario(run))


def _sheet_title(text: str) -> str:
    """A sheet's title as Excel allows it: at most 31 characters, none of ``[]:*?/\\``."""
    return re.sub(r"[\[\]:*?/\\]", "_", text)[:31]


def _document(text: Any) -> Mapping[str, Any] | None:
    try:
        document = json.loads(str(text or ""))
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def comparison_workbook(
    results: xr.Dataset | Sequence[xr.Dataset], base: Any, others: Sequence[Any]
) -> Any:
    """An openpyxl Workbook of :func:`netsim.analyze.comparison.compare`: ``Bands``
    (base and each other scenario), ``Differences`` and ``Assumptions`` (the base's, and
    what each other scenario changes), one row per cell and year, formatted and printed
    as a run's workbook.

    ``results`` is one comparison or several of the same scenarios (e.g. by global and by
    region), their rows one after the other. ``base`` and ``others`` are the
    :class:`~netsim.scenario.schema.Scenario` objects compared, ``others`` in the order of
    each result's ``scenario``."""
    openpyxl = _openpyxl()
    results = [results] if isinstance(results, xr.Dataset) else list(results)
    first = results[0]
    unit = str(first["difference"].attrs.get("units", ""))
    quantiles = first["quantile"].values.tolist()
    levels = " and ".join(
        dict.fromkeys(
            LEVEL_NAMES.get(str(r.attrs.get("by")), str(r.attrs.get("by"))) for r in results
        )
    )
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    band_rows: list[list[Any]] = []
    difference_rows: list[list[Any]] = []
    for result in results:
        bands, differences = _comparison_rows(result)
        band_rows += bands
        difference_rows += differences
    draws, seed = int(first.attrs["draws"]), first.attrs.get("seed", "")
    heading = f"{base.name} against {', '.join(str(s) for s in first['scenario'].values)}"
    note = (
        f"by {levels}, {draws:,} paired draws, seed {seed}; low/high = 95 % order-statistic "
        f"interval ({BLANK_NOTE}), {first.attrs['coverage_note']}"
    )
    headers = _band_headers(["scenario", "output"], quantiles, unit, moments=False)
    # one row per cell and year (the what-if page's download reads these sheets so; the
    # years-as-columns layout of a run's workbook is not applied here yet)
    _sheet(
        workbook,
        "Bands",
        f"{heading}: bands of each scenario, {unit}",
        note,
        headers,
        band_rows,
        labels=6,
    )
    headers = [h.replace("P", "difference P", 1) if h.startswith("P") else h for h in headers]
    headers += [
        f"mean difference ({unit})",
        "P(other > base)",
        "P(other > base) 95 % low",
        "P(other > base) 95 % high",
    ]
    _sheet(
        workbook,
        "Differences",
        f"{heading}: other - base, draw by draw on common random numbers, {unit}",
        f"{note}; the interval is the difference's quantile's; P(other > base) with its 95 % "
        "Clopper-Pearson (exact binomial) interval",
        headers,
        difference_rows,
        labels=6,
    )
    layout = OutputLayout.of(base)
    rows = _assumption_rows(layout, _document(base.document_json))
    for label, other in zip(first["scenario"].values, others, strict=True):
        rows += _changed_rows(str(label), base, other)
    _sheet(
        workbook,
        "Assumptions",
        f"{heading}: inputs and assumptions",
        f"The base scenario ({base.name}): every sampled input with its distribution and "
        "source, then every figure with its source; then each other scenario's figures that "
        "differ from the base's",
        ASSUMPTION_HEADERS,
        rows,
        labels=2,
    )
    return workbook


def _comparison_rows(result: xr.Dataset) -> tuple[list[list[Any]], list[list[Any]]]:
    """One comparison's rows of the ``Bands`` sheet (the base, then each other scenario)
    and of the ``Differences`` sheet (each other scenario less the base, with its mean
    and P(other > base) with its interval)."""
    output = result.attrs.get("output", "")
    band_rows = _bands_rows(_as_bands(result, "base"), ["base", output], moments=False)
    for label in result["scenario"].values:
        other_bands = _as_bands(result.sel(scenario=label), "other")
        band_rows += _bands_rows(other_bands, [str(label), output], moments=False)
    difference_rows: list[list[Any]] = []
    for label in result["scenario"].values:
        picked = result.sel(scenario=label)
        bands = _as_bands(picked, "difference")
        place, segment = _cell_dims(bands["value"])
        means = _per_row(picked["mean_difference"], place, segment)
        greater = _per_row(picked["prob_greater"], place, segment)
        interval = picked["prob_greater_interval"]
        lows = _per_row(interval.sel(bound="low", drop=True), place, segment)
        highs = _per_row(interval.sel(bound="high", drop=True), place, segment)
        for row, mean, prob, low, high in zip(
            _bands_rows(bands, [str(label), output], moments=False),
            means,
            greater,
            lows,
            highs,
            strict=True,
        ):
            difference_rows.append(
                row + _numbers(mean) + _numbers(prob) + _numbers(low) + _numbers(high)
            )
    return band_rows, difference_rows


def _changed_rows(label: str, base: Any, other: Any) -> list[list[Any]]:
    """The figures of ``other`` whose value differs from (or is absent in) ``base``."""
    base_rows = figures(_merged(base))
    base_figures = {f.key: f.value for f in base_rows}
    base_sources = {f.key: f.source for f in base_rows}
    rows = []
    for figure in figures(_merged(other)):
        key, value, source = figure.key, figure.value, figure.source
        if base_figures.get(key) == value:
            continue
        kind, text = figure.source_kind, figure.source_text
        if base_sources.get(key) == source:
            # a value changed under the table's old source (--set, or an overlay that kept
            # it): the source vouches for the old value, not this one
            kind, text = "assumption", "changed from the base without a source of its own; "
            text += f"the table's source reads: {source}"
        number = _figure_number(value)
        was = base_figures.get(key, "absent")
        rows.append(
            [
                f"changed in {label}",
                key,
                f"{value} (base: {was})" if number is None else f"base: {was}",
                number,
                figure.unit,
                kind,
                text.strip(),
            ]
        )
    return rows


def _merged(scenario: Any) -> Mapping[str, Any]:
    """A scenario's whole document (an overlay's is merged over its parents already)."""
    document = dict(_document(scenario.document_json) or {})
    document.pop("overlay", None)
    return document


def _as_bands(result: xr.Dataset, name: str) -> xr.Dataset:
    """``value``, ``low``, ``high`` of one band variable of a comparison."""
    bounds = result[f"{name}_interval"]
    return xr.Dataset(
        {
            "value": result[name],
            "low": bounds.sel(bound="low", drop=True),
            "high": bounds.sel(bound="high", drop=True),
        }
    )


def workbook_bytes(workbook: Any) -> bytes:
    """The .xlsx file of ``workbook``, in memory (then written as one file, so a full disk
    or a signal meets netsim's own writer, not a half-closed zip file)."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
