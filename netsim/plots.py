"""Pictures of runs and analyses (matplotlib, written as PNG or SVG by the file's suffix).

Each function takes labelled results, draws one figure, writes it and returns
the path. Axes carry units; values are USD million unless said otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from netsim.errors import ScenarioError
from netsim.outputs import select_cell
from netsim.sensitivity import ranking

__all__ = ["FORMATS", "fan_chart", "histogram", "sobol_bars", "tornado_chart", "waterfall"]

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


def _check_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ScenarioError(f"{path}: plots are written as {' or '.join(FORMATS)} (by suffix)")
    if not path.parent.exists():
        raise ScenarioError(f"{path}: folder {path.parent} does not exist")
    return path


def _save(figure: Any, path: Path) -> Path:
    plt = _pyplot()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def _millions(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def fan_chart(
    runs: Mapping[str, xr.DataArray],
    path: str | Path,
    title: str,
    ylabel: str = "USD million",
    base: xr.DataArray | None = None,
) -> Path:
    """Fan chart over years: the P5-P95 and P25-P75 bands and the median of each run.

    Parameters
    ----------
    runs : mapping of label to DataArray (draw, year)
        One run, or several to overlay (e.g. base, bull and bear).
    path : str or Path
        ``.png`` or ``.svg``.
    title, ylabel : str
    base : DataArray (year), optional
        The deterministic base case, drawn as a dashed line.
    """
    from netsim.stats import bands

    path = _check_path(path)
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8, 4.8))
    for i, (label, data) in enumerate(runs.items()):
        if set(data.dims) != {"draw", "year"}:
            raise ScenarioError(f"fan chart of {label!r}: need dims (draw, year), got {data.dims}")
        colour = COLOURS[i % len(COLOURS)]
        band = bands(data, [0.05, 0.25, 0.5, 0.75, 0.95])
        years = band["year"].values
        axis.fill_between(years, band[0], band[4], color=colour, alpha=0.15, linewidth=0)
        axis.fill_between(years, band[1], band[3], color=colour, alpha=0.3, linewidth=0)
        axis.plot(years, band[2], color=colour, linewidth=2, label=f"{label}: median")
    if base is not None:
        axis.plot(base["year"].values, base.values, "k--", linewidth=1, label="base case")
    axis.set_title(title)
    axis.set_xlabel("year")
    axis.set_ylabel(ylabel)
    axis.set_xticks(band["year"].values)
    _millions(axis)
    axis.grid(alpha=0.3)
    axis.legend(title="shaded: P5-P95 and P25-P75", loc="upper left", fontsize=8)
    return _save(figure, path)


def _short_label(name: str, width: int = 48) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def tornado_chart(
    result: xr.Dataset, cell: Mapping[str, Any], path: str | Path, top: int = 12
) -> Path:
    """Tornado of one cell: the output with each input at its low and high value."""
    path = _check_path(path)
    order = ranking(result, cell, "swing")[:top]["parameter"].values
    picked = select_cell(result, cell).sel(parameter=order)
    base = float(picked["base"])
    plt = _pyplot()
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
    axis.set_xlabel("USD million (others at base case)")
    axis.set_title(f"Tornado: {_cell_title(cell)}; base {base:,.1f}")
    axis.legend(fontsize=8, loc="lower right")
    axis.grid(axis="x", alpha=0.3)
    return _save(figure, path)


def sobol_bars(
    result: xr.Dataset, cell: Mapping[str, Any], path: str | Path, top: int = 10
) -> Path:
    """First-order and total Sobol indices of one cell with their bootstrap intervals."""
    path = _check_path(path)
    order = ranking(result, cell, "total_order")[:top]["parameter"].values
    picked = select_cell(result, cell).sel(parameter=order)
    plt = _pyplot()
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
        f"share of output variance ({100 * result.attrs['confidence']:g} % bootstrap intervals)"
    )
    axis.set_xlim(left=min(0.0, float(axis.get_xlim()[0])))
    axis.set_title(f"Sobol indices: {_cell_title(cell)} (n={result.attrs['n']:,})")
    axis.legend(fontsize=8, loc="lower right")
    axis.grid(axis="x", alpha=0.3)
    return _save(figure, path)


def histogram(data: xr.DataArray, path: str | Path, title: str, bins: int = 60) -> Path:
    """Histogram and empirical CDF of one cell's draws, with P5/P50/P95 marked."""
    path = _check_path(path)
    values = np.sort(np.asarray(data.values, dtype=np.float64).reshape(-1))
    if values.size < 2:
        raise ScenarioError("a histogram needs at least two draws")
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.hist(values, bins=bins, color=COLOURS[0], alpha=0.8)
    left.set_xlabel("USD million")
    left.set_ylabel("draws")
    right.plot(values, np.arange(1, values.size + 1) / values.size, color=COLOURS[0])
    right.set_xlabel("USD million")
    right.set_ylabel("P(value <= x)")
    for q in (0.05, 0.5, 0.95):
        mark = float(np.quantile(values, q))
        for axis in (left, right):
            axis.axvline(mark, color="k", linestyle=":", linewidth=1)
        right.annotate(
            f"P{100 * q:g} {mark:,.0f}",
            (mark, q),
            fontsize=8,
            xytext=(4, -10),
            textcoords="offset points",
        )
    for axis in (left, right):
        axis.grid(alpha=0.3)
    figure.suptitle(f"{title} ({values.size:,} draws)")
    return _save(figure, path)


def waterfall(result: xr.Dataset, cell: Mapping[str, Any], path: str | Path) -> Path:
    """The base case's waterfall from the baseline to the forecast for one cell."""
    path = _check_path(path)
    picked = select_cell(result, cell)
    steps = picked["contribution"].values
    labels = ["baseline", *[str(d) for d in picked["driver"].values], "forecast"]
    start = float(picked["baseline"])
    plt = _pyplot()
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
    axis.set_ylabel("USD million")
    low = min(start, float(picked["forecast"]), level) * 0.9
    axis.set_ylim(bottom=low)
    _millions(axis)
    axis.set_title(f"Base case from baseline to forecast: {_cell_title(cell)}")
    axis.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def _cell_title(cell: Mapping[str, Any]) -> str:
    return ", ".join(f"{v}" for v in cell.values()) or "global"
