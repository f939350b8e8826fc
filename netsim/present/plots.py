"""Pictures of runs and analyses (matplotlib, written as PNG or SVG by the file's suffix).

Each function takes labelled results, draws one figure, writes it and returns
the path. Axes carry the units the data carry.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from netsim.analyze.cells import load_draws, select_cell, select_output
from netsim.analyze.sensitivity import ranking
from netsim.errors import ScenarioError
from netsim.model.layout import OutputLayout
from netsim.output_files import OutputFile
from netsim.present.labels import chart_title, input_label, wrapped
from netsim.present.numbers import format_value, tick_formatter, value_decimals
from netsim.present.tables import sobol_interval_kind
from netsim.run.reading import DRAWS_KIND, run_kind
from netsim.run.reduced import reduced_name
from netsim.stats.quantiles import bands

__all__ = [
    "FORMATS",
    "PictureBuffer",
    "fan_chart",
    "histogram",
    "picture_file",
    "sobol_bars",
    "spider_chart",
    "tornado_chart",
    "waterfall",
]

FORMATS = (".png", ".svg")
COLOURS = ("#1f5a96", "#c0392b", "#2e8b57", "#8e44ad", "#d68910")


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as error:  # pragma: no cover - the plot extra is installed by make
        raise ScenarioError("plots need matplotlib: pip install 'netsim[plot]'") from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class PictureBuffer:
    """A PNG drawn into memory (the report embeds its figures), in place of a file."""

    path = Path("picture.png")

    def __init__(self) -> None:
        self.data = b""

    def __enter__(self) -> PictureBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def commit(self, write: Callable[[Any], Any]) -> Path:
        buffer = io.BytesIO()
        write(buffer)
        self.data = buffer.getvalue()
        return self.path


Picture = OutputFile | PictureBuffer


def picture_file(path: str | Path | Picture) -> Picture:
    """The :class:`OutputFile` of a picture (``.png`` or ``.svg``, by suffix)."""
    if isinstance(path, OutputFile | PictureBuffer):
        return path
    if Path(path).suffix.lower() not in FORMATS:
        raise ScenarioError(f"{path}: plots are written as {' or '.join(FORMATS)} (by suffix)")
    return OutputFile(path)


@contextlib.contextmanager
def _drawing(path: str | Path | Picture) -> Iterator[tuple[Any, Picture]]:
    """pyplot and the picture's :class:`OutputFile` for one figure.

    The output is made first (a folder that cannot be written fails before drawing)
    and removed if drawing fails; text is shown literally (a ``$`` in a scenario's
    name would otherwise start matplotlib's mathematics). Characters of a name that no
    installed font draws (an emoji, a script without a font here) show as boxes: the
    picture is written, and one line on stderr names them (not matplotlib's warning
    per glyph).
    """
    output = picture_file(path)
    with output:
        plt = _pyplot()
        import matplotlib

        with (
            matplotlib.rc_context({"text.parse_math": False}),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always")
            try:
                yield plt, output
            finally:
                plt.close("all")
    _missing_glyphs(caught, output)


_GLYPH = re.compile(r"Glyph (\d+) .*missing from font")


def _missing_glyphs(caught: list[warnings.WarningMessage], output: Picture) -> None:
    """Say in one line which characters no font drew; show any other warning as it was."""
    missing: dict[str, None] = {}
    for warning in caught:
        found = _GLYPH.match(str(warning.message))
        if found:
            missing[chr(int(found.group(1)))] = None
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    if missing:
        where = output.path if isinstance(output, OutputFile) else "a picture of the report"
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in missing)
        print(
            f"netsim: note: {where}: no installed font draws {shown}: shown there as boxes "
            "(tables, CSV, workbooks and the report keep them)",
            file=sys.stderr,
        )


def _save(figure: Any, output: Picture) -> Path:
    """Write the figure through the one writer."""
    figure.tight_layout()
    fmt = output.path.suffix.lower()[1:]
    return output.commit(lambda temporary: figure.savefig(temporary, dpi=120, format=fmt))


def _value_ticks(axis: Any) -> None:
    """Value ticks with thousands separators and the decimals their spacing needs (none
    for a market in millions, some for one in billions)."""
    axis.yaxis.set_major_formatter(tick_formatter())


def fan_chart(
    runs: Mapping[str, xr.DataArray],
    path: str | Path,
    title: str,
    ylabel: str | None = None,
    base: xr.DataArray | Mapping[str, xr.DataArray] | None = None,
) -> Path:
    """Fan chart over years: the P5-P95 band and the median of each run (and the
    P25-P75 band of a run drawn alone), with the deterministic base case dashed.

    Several runs (e.g. base, bull and bear) are told apart by colour and hatching: each
    band is outlined and hatched in its run's colour over a faint fill, so overlapping
    bands stay readable rather than mixing into one tint.

    Parameters
    ----------
    runs : mapping of label to DataArray or Dataset
        One run, or several to overlay: each the draws ``(draw, year)``, or bands
        ``(quantile, year)`` of a run reduced to bands (its quantiles are drawn: the
        outermost pair, an inner pair where it has one, the median), or a run of any
        kind :func:`netsim.open_run` opens (its global total).
    path : str, Path or OutputFile
        ``.png`` or ``.svg``.
    title : str
        In the reader's words (:func:`netsim.present.labels.chart_title`).
    ylabel : str, optional
        Default: the unit of the first run.
    base : DataArray (year), or mapping of label to one, optional
        The deterministic base case (of one run, or of each run by label), dashed.
    """
    if not runs:
        raise ScenarioError("a fan chart needs at least one run")
    fans = {label: _fan_bands(label, data) for label, data in runs.items()}  # before the file
    bases = base if isinstance(base, Mapping) else {next(iter(fans)): base}
    alone = len(fans) == 1
    with _drawing(path) as (plt, output):
        figure, axis = plt.subplots(figsize=(9, 5.4))
        years = None
        for i, (label, band) in enumerate(fans.items()):
            colour = COLOURS[i % len(COLOURS)]
            years = band["year"].values
            name = "" if alone else f"{label}: "
            for low, high, inner in _band_pairs(band, alone):
                shade = f"{name}P{100 * low:g}-P{100 * high:g}"
                _band(
                    axis, years, band, (low, high), colour, HATCHES[i % len(HATCHES)], inner, shade
                )
            axis.plot(
                years, band.sel(quantile=0.5), color=colour, linewidth=2.2, label=f"{name}median"
            )
            case = bases.get(label)
            if case is not None:
                axis.plot(
                    case["year"].values,
                    case.values,
                    linestyle="--",
                    color=colour,
                    linewidth=1.4,
                    label=f"{name}base case" + (" (the report's forecast)" if alone else ""),
                )
        first = next(iter(fans.values()))
        axis.set_title(title)
        axis.set_xlabel("year")
        axis.set_ylabel(ylabel if ylabel is not None else first.attrs.get("units", ""))
        axis.set_xticks(years)
        _value_ticks(axis)
        axis.grid(alpha=0.3)
        if alone:
            axis.legend(loc="upper left", fontsize=8)
        else:  # below the chart: over it, the legend hid the highest band's end
            axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8, ncol=len(fans))
        return _save(figure, output)


HATCHES = ("//", "\\\\", "..", "xx", "--")


def _band_pairs(band: xr.DataArray, alone: bool) -> list[tuple[float, float, bool]]:
    """The symmetric quantile pairs a fan shades: the outermost, and for a run drawn
    alone an inner one too (``inner`` True)."""
    quantiles = [float(q) for q in band["quantile"].values]
    pairs = [
        (q, round(1.0 - q, 12)) for q in quantiles if q < 0.5 and round(1 - q, 12) in quantiles
    ]
    chosen = pairs[:1] + (pairs[1:2] if alone else [])
    return [(low, high, i > 0) for i, (low, high) in enumerate(chosen)]


def _band(
    axis: Any,
    years: Any,
    band: xr.DataArray,
    pair: tuple[float, float],
    colour: str,
    hatch: str,
    inner: bool,
    label: str,
) -> None:
    """One band of a fan: for an inner band a fill; for an outer band a faint fill with
    an outline and hatching in the run's colour (what tells overlapping runs apart)."""
    lower, upper = band.sel(quantile=pair[0]), band.sel(quantile=pair[1])
    if inner:
        axis.fill_between(years, lower, upper, color=colour, alpha=0.3, linewidth=0, label=label)
        return
    axis.fill_between(years, lower, upper, color=colour, alpha=0.1, linewidth=0)
    axis.fill_between(
        years,
        lower,
        upper,
        facecolor="none",
        edgecolor=colour,
        hatch=hatch,
        linewidth=0.9,
        alpha=0.7,
        label=label,
    )


FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def _fan_bands(label: str, data: xr.DataArray | xr.Dataset) -> xr.DataArray:
    """The quantiles a fan draws, from draws or from stored bands (of a run's global
    total, for a run)."""
    if isinstance(data, xr.Dataset):
        if run_kind(data) == DRAWS_KIND:
            data = select_output(data, "total", "global")
        else:
            OutputLayout.from_dataset(data, f"fan chart of {label!r}: the data")
            data = data[reduced_name("total", "global")]
    if set(data.dims) == {"draw", "year"}:
        data = load_draws(data, f"the draws of the fan chart of {label!r}")
        return bands(data, FAN_QUANTILES).transpose("quantile", "year")
    if set(data.dims) == {"quantile", "year"}:
        quantiles = [float(q) for q in data["quantile"].values]
        if 0.5 not in quantiles or not any(
            round(1 - q, 12) in quantiles for q in quantiles if q < 0.5
        ):
            raise ScenarioError(
                f"fan chart of {label!r}: its bands {quantiles} need the median and a "
                "symmetric pair (e.g. 0.05 and 0.95)"
            )
        return data.transpose("quantile", "year")
    raise ScenarioError(
        f"fan chart of {label!r}: need dims (draw, year) or (quantile, year), got {data.dims}"
    )


def _names(result: xr.Dataset, dim: str, order: Any, labels: Mapping[str, str] | None) -> list:
    """The wrapped label of each input (or input group) in ``order``: from ``labels``,
    else from the result's own ``label`` coordinate, else its name."""
    if labels is None and "label" in result.coords and result["label"].dims == (dim,):
        known = dict(zip(result[dim].values.tolist(), result["label"].values.tolist(), strict=True))
        return [wrapped(str(known[name]), 44) for name in order]
    return [wrapped(input_label(str(name), labels), 44) for name in order]


def _unit_of(result: xr.Dataset, name: str) -> str:
    return str(result[name].attrs.get("units", result.attrs.get("units", "")))


def tornado_chart(
    result: xr.Dataset,
    cell: Mapping[str, Any],
    path: str | Path,
    top: int = 12,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Tornado of one cell: the output with each input at its low and high value.

    ``labels`` names each input in the reader's words
    (:func:`netsim.present.labels.parameter_labels`)."""
    order = ranking(result, cell, "swing")[:top]["parameter"].values
    picked = select_cell(result, cell).sel(parameter=order)
    base = float(picked["base"])
    unit = _unit_of(result, "base")
    with _drawing(path) as (plt, output):
        figure, axis = plt.subplots(figsize=(10, 0.55 * len(order) + 1.8))
        rows = np.arange(len(order))[::-1]
        low = picked["low"].values - base
        high = picked["high"].values - base
        for values, colour, q in (
            (low, COLOURS[1], "low_quantile"),
            (high, COLOURS[0], "high_quantile"),
        ):
            axis.barh(
                rows,
                values,
                left=base,
                color=colour,
                label=f"input at its P{100 * result.attrs[q]:g}",
            )
        axis.axvline(base, color="k", linewidth=1)
        axis.set_yticks(rows, _names(result, "parameter", order, labels), fontsize=8)
        axis.set_xlabel(f"{unit}, one input moved, the others at the base case")
        axis.xaxis.set_major_formatter(tick_formatter())
        axis.set_title(
            wrapped(
                f"What moves the {_subject(result, cell)}: base case {format_value(base)} {unit}",
                72,
            )
        )
        axis.legend(fontsize=8, loc="lower right")
        axis.grid(axis="x", alpha=0.3)
        return _save(figure, output)


def _subject(result: xr.Dataset, cell: Mapping[str, Any]) -> str:
    """The cell a sensitivity result ranks, in words, for a title."""
    text = chart_title(str(result.attrs.get("output", "total")), cell)
    return text[0].lower() + text[1:] if not text.startswith(("PRRT", "SSA")) else text


def sobol_bars(
    result: xr.Dataset,
    cell: Mapping[str, Any],
    path: str | Path,
    top: int = 10,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """First-order and total Sobol indices of one cell with their intervals."""
    order = ranking(result, cell, "total_order")[:top]["parameter"].values
    picked = select_cell(result, cell).sel(parameter=order)
    with _drawing(path) as (plt, output):
        figure, axis = plt.subplots(figsize=(10, 0.6 * len(order) + 1.9))
        rows = np.arange(len(order))[::-1]
        for offset, name, colour, label in (
            (0.2, "first_order", COLOURS[2], "first order (alone)"),
            (-0.2, "total_order", COLOURS[0], "total (with interactions)"),
        ):
            value = picked[name].values
            interval = picked[f"{name}_interval"].transpose("bound", "parameter").values
            error = np.abs(np.vstack([value - interval[0], interval[1] - value]))
            axis.barh(
                rows + offset, value, height=0.4, color=colour, label=label, xerr=error, capsize=2
            )
        axis.set_yticks(rows, _names(result, "parameter", order, labels), fontsize=8)
        axis.set_xlabel(
            f"share of the output's variance ({100 * result.attrs['confidence']:.10g} % "
            f"{sobol_interval_kind(result)})"
        )
        axis.set_xlim(left=min(0.0, float(axis.get_xlim()[0])))
        axis.set_title(
            wrapped(
                f"What makes the spread of the {_subject(result, cell)} "
                f"(Sobol indices, n={result.attrs['n']:,})",
                72,
            )
        )
        axis.legend(fontsize=8, loc="lower right")
        axis.grid(axis="x", alpha=0.3)
        return _save(figure, output)


def histogram(data: xr.DataArray, path: str | Path, title: str, bins: int = 60) -> Path:
    """Histogram and empirical CDF of one cell's draws, with P5/P50/P95 marked."""
    values = np.sort(np.asarray(data.values, dtype=np.float64).reshape(-1))
    if values.size < 2:
        raise ScenarioError("a histogram needs at least two draws")
    with _drawing(path) as (plt, output):
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        left.hist(values, bins=bins, color=COLOURS[0], alpha=0.8)
        left.set_xlabel(data.attrs.get("units", ""))
        left.set_ylabel("draws")
        right.plot(values, np.arange(1, values.size + 1) / values.size, color=COLOURS[0])
        right.set_xlabel(data.attrs.get("units", ""))
        right.set_ylabel("P(value <= x)")
        for q in (0.05, 0.5, 0.95):
            mark = float(np.quantile(values, q))
            for axis in (left, right):
                axis.axvline(mark, color="k", linestyle=":", linewidth=1)
            right.annotate(
                f"P{100 * q:g} {format_value(mark, value_decimals([values[0], values[-1]], 0))}",
                (mark, q),
                fontsize=8,
                xytext=(4, -10),
                textcoords="offset points",
            )
        for axis in (left, right):
            axis.grid(alpha=0.3)
            # at most five ticks, with thousands separators: five-digit values overlapped
            axis.xaxis.set_major_locator(MaxNLocator(nbins=5))
            axis.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.6g}"))
        figure.suptitle(f"{title} ({values.size:,} draws)")
        return _save(figure, output)


def waterfall(
    result: xr.Dataset,
    cell: Mapping[str, Any],
    path: str | Path,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """The base case's waterfall from the baseline to the forecast for one cell, on an
    axis from zero (a step's bar is its true share of the market), each step labelled
    with its value."""
    picked = select_cell(result, cell)
    steps = picked["contribution"].values
    drivers = [str(d) for d in picked["driver"].values]
    names = ["baseline (no drivers, restraints or events)", *drivers, "forecast (base case)"]
    start, forecast = float(picked["baseline"]), float(picked["forecast"])
    unit = str(result.attrs.get("units", ""))
    decimals = value_decimals([start, forecast], 0, significant=4)
    with _drawing(path) as (plt, output):
        figure, axis = plt.subplots(figsize=(11, 6.4))
        level = start
        axis.bar(0, start, color="#7f8c8d")
        for i, step in enumerate(steps, start=1):
            axis.bar(i, step, bottom=level, color=COLOURS[0] if step >= 0 else COLOURS[1])
            axis.annotate(
                f"{step:+,.{decimals}f}",
                (i, level + max(step, 0.0)),
                ha="center",
                va="bottom",
                fontsize=7,
                xytext=(0, 2),
                textcoords="offset points",
            )
            level += step
        axis.bar(len(names) - 1, forecast, color="#7f8c8d")
        for x, value in ((0, start), (len(names) - 1, forecast)):
            axis.annotate(
                format_value(value, decimals),
                (x, value),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
        shown = [names[0], *[input_label(d, labels) for d in drivers], names[-1]]
        axis.set_xticks(range(len(names)), [wrapped(s, 22) for s in shown], rotation=90, fontsize=7)
        axis.set_ylabel(unit)
        axis.set_ylim(bottom=0, top=1.08 * max(start, forecast, level, start + steps.clip(0).sum()))
        _value_ticks(axis)
        axis.set_title(
            wrapped(f"From the baseline to the forecast: {_subject(result, cell)}, {unit}", 80)
        )
        axis.grid(axis="y", alpha=0.3)
        return _save(figure, output)


def spider_chart(
    result: xr.Dataset,
    cell: Mapping[str, Any],
    path: str | Path,
    top: int = 8,
    labels: Mapping[str, str] | None = None,
) -> Path:
    """Spider chart of one cell (:func:`netsim.analyze.spider.spider`): the output
    against each input's percentile, one line per input, the ``top`` inputs with the
    widest range, the base case as a horizontal line."""
    picked = select_cell(result, cell)
    spread = (picked["value"].max("percentile") - picked["value"].min("percentile")).values
    order = picked["parameter"].values[np.argsort(-spread, kind="stable")[:top]]
    base = float(picked["base"])
    unit = _unit_of(result, "value")
    percent = 100 * picked["percentile"].values
    with _drawing(path) as (plt, output):
        figure, axis = plt.subplots(figsize=(10, 6))
        markers = "os^vDPX*"
        for i, name in enumerate(order):
            axis.plot(
                percent,
                picked["value"].sel(parameter=name).values,
                color=SPIDER_COLOURS[i % len(SPIDER_COLOURS)],
                marker=markers[i % 8],
                linewidth=1.6,
                markersize=4,
                label=wrapped(input_label(str(name), labels), 48),
            )
        axis.axhline(
            base, color="k", linestyle="--", linewidth=1, label=f"base case {format_value(base)}"
        )
        axis.set_xticks(percent, [f"P{p:g}" for p in percent])
        axis.set_xlabel("percentile of the one input moved (the others at the base case)")
        axis.set_ylabel(unit)
        _value_ticks(axis)
        axis.set_title(
            wrapped(f"Spider: the {_subject(result, cell)}, against each input's percentile", 72)
        )
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
        return _save(figure, output)


# one colour per line of a spider: eight distinguishable hues (matplotlib's tab10 order)
SPIDER_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
)


def reconcile_chart(result: xr.Dataset, path: str | Path | Picture) -> Path:
    """Both models' fans on one chart per cell of a reconciliation: the top-down and
    the patient-based P5-P95 bands and medians, and their base cases (dashed).

    Parameters
    ----------
    result : xarray.Dataset
        From :func:`netsim.analyze.reconcile.reconcile`.
    path : str, Path or OutputFile
        ``.png`` or ``.svg``.
    """
    bands = {
        "top-down": result["top_down"],
        "patient-based": result["patient_based"],
    }
    bases = {"top-down": result["top_down_base"], "patient-based": result["patient_based_base"]}
    cells = [d for d in result["top_down"].dims if d not in ("quantile", "year")]
    picks = (
        [dict(zip(cells, combo, strict=True)) for combo in _combinations(result, cells)]
        if cells
        else [{}]
    )
    qs = [float(q) for q in result["quantile"].values]
    low, high = min(qs), max(qs)
    if 0.5 not in qs or low >= 0.5 or high <= 0.5:
        raise ScenarioError(f"the reconciliation's quantiles {qs} need the median and a pair")
    columns = min(3, len(picks))
    rows = -(-len(picks) // columns)
    unit = result.attrs.get("units", "")
    # one panel as large as a page's chart; several at a size each stays readable
    size = (10.0, 6.0) if len(picks) == 1 else (5.6 * columns, 4.2 * rows)
    with _drawing(path) as (plt, output):
        figure, axes = plt.subplots(rows, columns, figsize=size, squeeze=False)
        for panel, pick in zip(axes.flat, picks, strict=False):
            for i, (label, band) in enumerate(bands.items()):
                colour = COLOURS[i % len(COLOURS)]
                band = band.sel(pick) if pick else band
                years = band["year"].values
                panel.fill_between(
                    years,
                    band.sel(quantile=low),
                    band.sel(quantile=high),
                    color=colour,
                    alpha=0.25,
                    linewidth=0,
                    label=f"{label} P{100 * low:g}-P{100 * high:g}",
                )
                panel.plot(years, band.sel(quantile=0.5), color=colour, linewidth=2)
                base = bases[label].sel(pick) if pick else bases[label]
                panel.plot(years, base.values, "--", color=colour, linewidth=1)
            panel.set_title(chart_title("total", pick))
            panel.set_xticks(years)
            panel.tick_params(axis="x", labelrotation=45)
            panel.set_ylabel(unit)
            _value_ticks(panel)
            panel.grid(alpha=0.3)
        for panel in list(axes.flat)[len(picks) :]:
            panel.set_visible(False)
        axes.flat[0].legend(fontsize=8, loc="upper left", title="median solid, base dashed")
        figure.suptitle(
            f"{result.attrs.get('scenario', '')}: the patient-based model against the "
            f"top-down one, {unit}"
        )
        figure.tight_layout()
        return _save(figure, output)


def _combinations(result: xr.Dataset, dims: list[str]) -> list[tuple[Any, ...]]:
    import itertools

    return list(itertools.product(*[result[d].values.tolist() for d in dims]))
