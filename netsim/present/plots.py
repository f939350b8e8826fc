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
from netsim.files import OutputFile
from netsim.model.layout import OutputLayout
from netsim.present.numbers import format_value, tick_formatter, value_decimals
from netsim.present.tables import sobol_interval_kind
from netsim.run.files import DRAWS_KIND, run_kind
from netsim.run.reduced import reduced_name
from netsim.stats.quantiles import bands

__all__ = [
    "FORMATS",
    "PictureBuffer",
    "fan_chart",
    "histogram",
    "picture_file",
    "sobol_bars",
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
    base: xr.DataArray | None = None,
) -> Path:
    """Fan chart over years: the P5-P95 and P25-P75 bands and the median of each run.

    Parameters
    ----------
    runs : mapping of label to DataArray or Dataset
        One run, or several to overlay (e.g. base, bull and bear): each the draws
        ``(draw, year)``, or bands ``(quantile, year)`` of a run reduced to bands (its
        quantiles are drawn: the outermost pair, an inner pair where it has one, the
        median), or a run of any kind :func:`netsim.open_run` opens (its global total).
    path : str, Path or OutputFile
        ``.png`` or ``.svg``.
    title : str
    ylabel : str, optional
        Default: the unit of the first run.
    base : DataArray (year), optional
        The deterministic base case, drawn as a dashed line.
    """
    if not runs:
        raise ScenarioError("a fan chart needs at least one run")
    fans = {label: _fan_bands(label, data) for label, data in runs.items()}  # before the file
    shaded = set()
    with _drawing(path) as (plt, output):
        figure, axis = plt.subplots(figsize=(8, 4.8))
        years = None
        for i, (label, band) in enumerate(fans.items()):
            colour = COLOURS[i % len(COLOURS)]
            years = band["year"].values
            quantiles = [float(q) for q in band["quantile"].values]
            for low, alpha in zip(
                [q for q in quantiles if q < 0.5], (0.15, 0.3, 0.45), strict=False
            ):
                high = round(1.0 - low, 12)
                if high in quantiles:
                    axis.fill_between(
                        years,
                        band.sel(quantile=low),
                        band.sel(quantile=high),
                        color=colour,
                        alpha=alpha,
                        linewidth=0,
                    )
                    shaded.add(f"P{100 * low:g}-P{100 * high:g}")
            axis.plot(
                years, band.sel(quantile=0.5), color=colour, linewidth=2, label=f"{label}: median"
            )
        if base is not None:
            axis.plot(base["year"].values, base.values, "k--", linewidth=1, label="base case")
        first = next(iter(fans.values()))
        axis.set_title(title)
        axis.set_xlabel("year")
        axis.set_ylabel(ylabel if ylabel is not None else first.attrs.get("units", ""))
        axis.set_xticks(years)
        _value_ticks(axis)
        axis.grid(alpha=0.3)
        axis.legend(
            title="shaded: " + " and ".join(sorted(shaded, key=len)), loc="upper left", fontsize=8
        )
        return _save(figure, output)


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


def _short_label(name: str, width: int = 48) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def tornado_chart(
    result: xr.Dataset, cell: Mapping[str, Any], path: str | Path, top: int = 12
) -> Path:
    """Tornado of one cell: the output with each input at its low and high value."""
    order = ranking(result, cell, "swing")[:top]["parameter"].values
    picked = select_cell(result, cell).sel(parameter=order)
    base = float(picked["base"])
    with _drawing(path) as (plt, output):
        figure, axis = plt.subplots(figsize=(9, 0.45 * len(order) + 1.6))
        rows = np.arange(len(order))[::-1]
        low = picked["low"].values - base
        high = picked["high"].values - base
        axis.barh(
            rows,
            low,
            left=base,
            color=COLOURS[1],
            label=f"input at P{100 * result.attrs['low_quantile']:g}",
        )
        axis.barh(
            rows,
            high,
            left=base,
            color=COLOURS[0],
            label=f"input at P{100 * result.attrs['high_quantile']:g}",
        )
        axis.axvline(base, color="k", linewidth=1)
        axis.set_yticks(rows, [_short_label(str(p)) for p in order], fontsize=8)
        axis.set_xlabel(f"{result['base'].attrs.get('units', '')} (others at base case)")
        axis.set_title(f"Tornado: {_cell_title(cell)}; base {format_value(base)}")
        axis.legend(fontsize=8, loc="lower right")
        axis.grid(axis="x", alpha=0.3)
        return _save(figure, output)


def sobol_bars(
    result: xr.Dataset, cell: Mapping[str, Any], path: str | Path, top: int = 10
) -> Path:
    """First-order and total Sobol indices of one cell with their intervals."""
    order = ranking(result, cell, "total_order")[:top]["parameter"].values
    picked = select_cell(result, cell).sel(parameter=order)
    with _drawing(path) as (plt, output):
        figure, axis = plt.subplots(figsize=(9, 0.5 * len(order) + 1.8))
        rows = np.arange(len(order))[::-1]
        for offset, name, colour, label in (
            (0.2, "first_order", COLOURS[2], "first order"),
            (-0.2, "total_order", COLOURS[0], "total"),
        ):
            value = picked[name].values
            interval = picked[f"{name}_interval"].transpose("bound", "parameter").values
            error = np.abs(np.vstack([value - interval[0], interval[1] - value]))
            axis.barh(
                rows + offset, value, height=0.4, color=colour, label=label, xerr=error, capsize=2
            )
        axis.set_yticks(rows, [_short_label(str(p)) for p in order], fontsize=8)
        axis.set_xlabel(
            f"share of output variance ({100 * result.attrs['confidence']:.10g} % "
            f"{sobol_interval_kind(result)})"
        )
        axis.set_xlim(left=min(0.0, float(axis.get_xlim()[0])))
        axis.set_title(f"Sobol indices: {_cell_title(cell)} (n={result.attrs['n']:,})")
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


def waterfall(result: xr.Dataset, cell: Mapping[str, Any], path: str | Path) -> Path:
    """The base case's waterfall from the baseline to the forecast for one cell."""
    picked = select_cell(result, cell)
    steps = picked["contribution"].values
    labels = ["baseline", *[str(d) for d in picked["driver"].values], "forecast"]
    start = float(picked["baseline"])
    with _drawing(path) as (plt, output):
        figure, axis = plt.subplots(figsize=(10, 4.8))
        level = start
        axis.bar(0, start, color="grey")
        for i, step in enumerate(steps, start=1):
            axis.bar(i, step, bottom=level, color=COLOURS[0] if step >= 0 else COLOURS[1])
            level += step
        axis.bar(len(labels) - 1, float(picked["forecast"]), color="grey")
        axis.set_xticks(
            range(len(labels)),
            [_short_label(s, 28) for s in labels],
            rotation=60,
            ha="right",
            fontsize=8,
        )
        axis.set_ylabel(result.attrs.get("units", ""))
        low = min(start, float(picked["forecast"]), level) * 0.9
        axis.set_ylim(bottom=low)
        _value_ticks(axis)
        axis.set_title(f"Base case from baseline to forecast: {_cell_title(cell)}")
        axis.grid(axis="y", alpha=0.3)
        return _save(figure, output)


def _cell_title(cell: Mapping[str, Any]) -> str:
    return ", ".join(f"{v}" for v in cell.values()) or "global"


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
    with _drawing(path) as (plt, output):
        figure, axes = plt.subplots(
            rows, columns, figsize=(5.2 * columns, 3.6 * rows), squeeze=False
        )
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
            panel.set_title(_cell_title(pick) if pick else "global")
            panel.set_xticks(years)
            panel.tick_params(axis="x", labelrotation=45)
            panel.set_ylabel(unit)
            _value_ticks(panel)
            panel.grid(alpha=0.3)
        for panel in list(axes.flat)[len(picks) :]:
            panel.set_visible(False)
        axes.flat[0].legend(fontsize=8, loc="upper left", title="median solid, base dashed")
        figure.suptitle(f"{result.attrs.get('scenario', '')}: patient-based vs top-down")
        figure.tight_layout()
        return _save(figure, output)


def _combinations(result: xr.Dataset, dims: list[str]) -> list[tuple[Any, ...]]:
    import itertools

    return list(itertools.product(*[result[d].values.tolist() for d in dims]))
