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
from netsim.model.layout import OutputLayout
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


def _bands_rows(result: xr.Dataset, labels: Sequence[Any]) -> list[list[Any]]:
    """Label cells, then value, low and high of each quantile in turn, per cell and year."""
    place, segment = _cell_dims(result["value"])
    columns = [_per_row(result[name], place, segment) for name in ("value", "low", "high")]
    numbers = np.stack(columns, axis=2).reshape(columns[0].shape[0], -1)
    return [
        row + _numbers(values)
        for row, values in zip(_cell_rows(result, labels), numbers, strict=True)
    ]


def _band_headers(first: Sequence[str], quantiles: Sequence[float], unit: str) -> list[str]:
    headers = [*first, "place", "axis", "segment", "year"]
    for q in quantiles:
        name = _percent(q)
        headers += [f"{name} ({unit})", f"{name} low ({unit})", f"{name} high ({unit})"]
    return headers


def _sheet(workbook: Any, title: str, note: str, headers: Sequence[str], rows: list[list[Any]]):
    """A sheet: a note in A1, headers in row 3 (bold, frozen), then the rows."""
    sheet = workbook.create_sheet(title)
    for row in ([note], [], list(headers), *rows):
        sheet.append([_text(v) if isinstance(v, str) else v for v in row])
    # text is text: a name or a quote starting with "=" must not become a formula (one pass
    # over the sheet at the end: looking up the last row after each append was quadratic,
    # 50 s for a small run's 8,000 rows)
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    bold = _openpyxl().styles.Font(bold=True)
    for cell in sheet[3]:
        cell.font = bold
    sheet.freeze_panes = "A4"
    for column, header in zip(sheet.iter_cols(min_row=3, max_row=3), headers, strict=True):
        width = max(10, min(60, len(str(header)) + 2))
        sheet.column_dimensions[column[0].column_letter].width = width
    return sheet


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
    """An openpyxl Workbook of a run: ``Bands`` (``Bands in patients`` too, where the run
    has a funnel) and ``Assumptions``.

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
    rows_by_unit: dict[str, list[list[Any]]] = {layout.unit: []}
    results = []
    for output in layout.outputs:
        for by in LEVELS:
            result = run_bands(run, output, by, q, confidence)
            results.append(result)
            unit = layout.unit_of(output)
            rows_by_unit.setdefault(unit, []).extend(_bands_rows(result, [output, LEVEL_NAMES[by]]))
    first = results[0]
    confidence_used = float(first.attrs["confidence"])
    quantiles = first["quantile"].values.tolist()
    # one sheet per unit, so that every header states the unit of every number below it:
    # the market's outputs on "Bands", patient counts (a funnel's) on "Bands in patients"
    for unit, rows in rows_by_unit.items():
        note = (
            f"{run.attrs.get('scenario', 'netsim run')}: bands of every cell, "
            f"{int(first.attrs['draws']):,} draws, seed {run.attrs.get('seed', '')}; low/high "
            f"= {100 * confidence_used:.10g} % order-statistic interval ({BLANK_NOTE}), "
            f"{first.attrs['coverage_note']}; values in {unit}"
        )
        title = "Bands" if unit == layout.unit else _sheet_title(f"Bands in {unit}")
        _sheet(workbook, title, note, _band_headers(["output", "level"], quantiles, unit), rows)
    _sheet(
        workbook,
        "Assumptions",
        "Every sampled input with its distribution and source, then every figure of the "
        "scenario with its source",
        ASSUMPTION_HEADERS,
        _assumption_rows(layout, _document(run.attrs.get("scenario_document"))),
    )
    return workbook


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
    what each other scenario changes).

    ``results`` is one comparison or several of the same scenarios (e.g. by global and by
    region), their rows one after the other. ``base`` and ``others`` are the
    :class:`~netsim.scenario.schema.Scenario` objects compared, ``others`` in the order of
    each result's ``scenario``."""
    openpyxl = _openpyxl()
    results = [results] if isinstance(results, xr.Dataset) else list(results)
    first = results[0]
    unit = str(first["difference"].attrs.get("units", ""))
    quantiles = first["quantile"].values.tolist()
    levels = ", ".join(
        LEVEL_NAMES.get(str(r.attrs.get("by")), str(r.attrs.get("by"))) for r in results
    )
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    band_rows: list[list[Any]] = []
    difference_rows: list[list[Any]] = []
    for result in results:
        output = result.attrs.get("output", "")
        band_rows += _bands_rows(_as_bands(result, "base"), ["base", output])
        for label in result["scenario"].values:
            other_bands = _as_bands(result.sel(scenario=label), "other")
            band_rows += _bands_rows(other_bands, [str(label), output])
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
                _bands_rows(bands, [str(label), output]), means, greater, lows, highs, strict=True
            ):
                difference_rows.append(
                    row + _numbers(mean) + _numbers(prob) + _numbers(low) + _numbers(high)
                )
    draws, seed = int(first.attrs["draws"]), first.attrs.get("seed", "")
    _sheet(
        workbook,
        "Bands",
        f"Bands of each scenario by {levels}, {draws:,} paired draws, "
        f"seed {seed}; low/high = 95 % order-statistic interval ({BLANK_NOTE}), "
        f"{first.attrs['coverage_note']}",
        _band_headers(["scenario", "output"], quantiles, unit),
        band_rows,
    )
    headers = _band_headers(["scenario", "output"], quantiles, unit)
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
        f"other - base, draw by draw on common random numbers ({draws:,} paired draws, seed "
        f"{seed}); low/high = 95 % order-statistic interval of the difference's quantile, "
        f"{first.attrs['coverage_note']}; P(other > base) with its 95 % Clopper-Pearson "
        "(exact binomial) interval",
        headers,
        difference_rows,
    )
    layout = OutputLayout.of(base)
    rows = _assumption_rows(layout, _document(base.document_json))
    for label, other in zip(first["scenario"].values, others, strict=True):
        rows += _changed_rows(str(label), base, other)
    _sheet(
        workbook,
        "Assumptions",
        f"The base scenario ({base.name}): every sampled input with its distribution and "
        "source, then every figure with its source; then each other scenario's figures that "
        "differ from the base's",
        ASSUMPTION_HEADERS,
        rows,
    )
    return workbook


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
