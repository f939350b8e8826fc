"""One self-contained HTML report of a run: bands, sensitivity, convergence, inputs.

Everything comes from the run file (its cube, its ``inputs`` and the
distribution and source of every parameter), so a report can be made on any
machine that has the file. Plots are embedded as base64 PNG: the file has no
outside references and can be mailed on.
"""

from __future__ import annotations

import base64
import datetime
import html
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from netsim.convergence import band_intervals, headline_outputs, mean_standard_error
from netsim.errors import ScenarioError
from netsim.sensitivity import ranking, spearman

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
    head = "".join(
        f'<th class="label">{html.escape(h)}</th>' if i == 0 else f"<th>{html.escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            text = f"{value:,.1f}" if isinstance(value, float) else str(value)
            cls = ' class="label"' if i == 0 or not isinstance(value, float | int) else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table id="{table_id}"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _image(render: Any, alt: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "figure.png"
        render(path)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _band_section(dataset: xr.Dataset) -> tuple[str, float]:
    parts, worst = [], 0.0
    for index, (title, data) in enumerate(headline_outputs(dataset).items()):
        intervals = band_intervals(data, (0.05, 0.5, 0.95))
        worst = max(worst, float(intervals["relative_halfwidth"].max()))
        row_dim = next(d for d in data.dims if d != "draw")
        rows = []
        for label in intervals[row_dim].values:
            cell = intervals.sel({row_dim: label})
            row: list[Any] = [str(label)]
            for q in (0.05, 0.5, 0.95):
                band = cell.sel(quantile=q)
                row += [
                    float(band["value"]),
                    f"{float(band['low']):,.1f} – {float(band['high']):,.1f}",
                ]
            rows.append(row)
        headers = [row_dim, "P5", "P5 95 % CI", "P50", "P50 95 % CI", "P95", "P95 95 % CI"]
        parts.append(_table(headers, rows, f"{title}, USD million", f"bands-{index}"))
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
        A run (from ``netsim run`` or :func:`netsim.simulate`).
    sensitivity : xarray.Dataset, optional
        A Sobol result (:func:`netsim.sensitivity.sobol`) to include for ``cell``.
    cell : mapping, optional
        The cell of ``sensitivity`` to rank.
    """
    from netsim import plots

    for name in ("total", "inputs", "parameter_distribution", "parameter_source"):
        if name not in dataset:
            raise ScenarioError(
                f"the run has no {name!r}: write it with netsim run (netsim >= 0.2)"
            )
    attrs = dataset.attrs
    final = int(dataset["year"].values[-1])
    draws = int(dataset.sizes["draw"])
    total = headline_outputs(dataset)["global total"]
    sections = [
        f"<h1>{html.escape(str(attrs.get('scenario', 'netsim run')))}: forecast report</h1>",
        '<p class="note">'
        + html.escape(
            f"{draws:,} draws, sampler {attrs.get('sampler', '?')}, seed {attrs.get('seed', '?')}; "
            f"scenario hash {attrs.get('scenario_hash', '?')}; "
            f"netsim {attrs.get('netsim_version', '?')}; "
            f"report made {datetime.date.today().isoformat()}. Values in USD million."
        )
        + "</p>",
    ]

    bands_html, worst = _band_section(dataset)
    sections += ["<h2>Forecast bands</h2>", bands_html]
    sections.append(
        _image(
            lambda p: plots.fan_chart({"forecast": total}, p, "Global market, USD million"),
            "fan chart of the global total",
        )
    )
    sections.append(
        _image(
            lambda p: plots.histogram(total.sel(year=final), p, f"Global market {final}"),
            f"histogram of the {final} global total",
        )
    )

    sections.append("<h2>Sensitivity</h2>")
    correlation = spearman(dataset, "total", "global")
    ranked = ranking(correlation, {"year": final})[:12]
    rows = [
        [str(p), f"{float(v):+.3f}"]
        for p, v in zip(ranked["parameter"].values, ranked.values, strict=True)
    ]
    sections.append(
        _table(
            ["input", "Spearman rank correlation"],
            rows,
            f"Inputs ranked by |Spearman correlation| with the {final} global total "
            f"({draws:,} draws)",
            "sensitivity",
        )
    )
    if sensitivity is not None and cell:
        ranked = ranking(sensitivity, cell, "total_order")[:10]
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
                    str(name),
                    f"{float(row['first_order']):.3f} [{first[0]:.3f}, {first[1]:.3f}]",
                    f"{float(row['total_order']):.3f} [{total_order[0]:.3f}, {total_order[1]:.3f}]",
                ]
            )
        where = ", ".join(f"{k}={v}" for k, v in cell.items())
        sections.append(
            _table(
                ["input group", "first order [95 % CI]", "total [95 % CI]"],
                rows,
                f"Sobol indices of {where} (n={sensitivity.attrs.get('n')}, "
                f"{sensitivity.attrs.get('evaluations'):,} model evaluations)",
                "sobol",
            )
        )
        sections.append(_image(lambda p: plots.sobol_bars(sensitivity, cell, p), "Sobol indices"))

    sections.append("<h2>Convergence</h2>")
    errors = mean_standard_error(total)
    rows = [
        [
            str(y),
            float(errors["mean"].sel(year=y)),
            f"{float(errors['standard_error'].sel(year=y)):,.2f}",
        ]
        for y in errors["year"].values
    ]
    sections.append(
        _table(
            ["year", "mean", "standard error of the mean"],
            rows,
            "Global total: Monte Carlo means",
            "convergence",
        )
    )
    precision = (
        f"Widest 95 % interval of any reported percentile: ±{100 * worst:.3f} % (relative), "
        f"from {draws:,} draws."
    )
    if "precision_target" in attrs:
        precision += (
            " The run stopped on its own at a target of "
            f"±{100 * float(attrs['precision_target']):.3f} %"
            f" ({'met' if int(attrs.get('precision_met', 0)) else 'NOT met: draw cap reached'})."
        )
    sections.append(f'<p id="precision">{html.escape(precision)}</p>')

    sections.append("<h2>Inputs</h2>")
    rows = []
    for name, dist, unit, source in zip(
        dataset["parameter"].values,
        dataset["parameter_distribution"].values,
        dataset["parameter_unit"].values,
        dataset["parameter_source"].values,
        strict=True,
    ):
        kind = str(source).split(":", 1)[0]
        rows.append([str(name), str(dist), str(unit), kind, str(source).split(":", 1)[-1].strip()])
    sections.append(
        _table(
            ["parameter", "distribution", "unit", "source", "quote or reason"],
            rows,
            "Every input, its distribution and its source",
            "inputs",
        )
    )
    body = "\n".join(sections)
    title = html.escape(f"{attrs.get('scenario', 'netsim')} report")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def write_report(dataset: xr.Dataset, path: str | Path, **kwargs: Any) -> Path:
    """Render and write the report atomically (temporary name, then rename)."""
    path = Path(path)
    if not path.parent.exists():
        raise ScenarioError(f"--out {path}: folder {path.parent} does not exist")
    text = render_report(dataset, **kwargs)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path
