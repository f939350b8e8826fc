"""Plain-text tables: the run summary ``netsim run`` prints, and every analysis table.

One formatter for every table (:func:`format_table`) and one run summary for every
kind of run (:func:`run_summary`): a run's draws in memory, a Zarr store, a run reduced
to bands.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from netsim.errors import ScenarioError
from netsim.model.layout import HEADLINE_QUANTILES, OutputLayout, aggregate, headline_draws
from netsim.present.numbers import format_value, value_decimals
from netsim.run.planning import memory_budget
from netsim.run.reading import DRAWS_KIND, run_kind
from netsim.run.recompute import is_record
from netsim.run.record import record_headline_draws
from netsim.run.reduced import reduce_run, reduced_name
from netsim.stats.proportions import PROPORTION_INTERVAL
from netsim.stats.quantiles import bands

__all__ = [
    "Table",
    "bands_table",
    "comparison_table",
    "exceedance_table",
    "format_table",
    "headline_bands",
    "headline_quantiles",
    "run_summary",
    "sensitivity_table",
    "sobol_interval_kind",
    "validation_text",
]

LABEL_WIDTH = 28  # the first column of a run summary, at least
NUMBER_WIDTH = 10


@dataclass(frozen=True)
class Table:
    """A table to print (:meth:`text`) or hand on (:meth:`csv`)."""

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    notes: Sequence[str] = field(default=())
    labels: int = 1  # leading columns that label a row (one per dimension)
    units: Sequence[str] = field(default=())  # each column's unit for the CSV ("": none)

    def text(self) -> str:
        table = format_table(self.title, self.headers, self.rows, self.labels)
        lines = [*self.notes, table]
        return "\n".join(line for line in lines if line)

    def csv(self) -> str:
        """The table as CSV; a text cell a spreadsheet would run as a formula (starting
        with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: a scenario's file name,
        a run written before names were checked) is written after a ``'``, the
        spreadsheets' own mark of text. Numbers are written as they are, and each header
        names its column's unit (``P50 (USD million)``)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        units = [*self.units, *[""] * (len(self.headers) - len(self.units))]
        headers = [f"{h} ({u})" if u else str(h) for h, u in zip(self.headers, units, strict=True)]
        writer.writerow([_csv_text(h) for h in headers])
        writer.writerows(
            [_csv_text(v) if isinstance(v, str) else v for v in row] for row in self.rows
        )
        return buffer.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _cells(data: xr.DataArray, dims: Sequence[str]) -> list[dict[str, Any]]:
    """One selection per combination of labels of ``dims``, in order."""
    labels = [data[d].values.tolist() for d in dims]
    return [dict(zip(dims, combo, strict=True)) for combo in itertools.product(*labels)]


MOMENTS = {"mean": "mean", "standard_deviation": "sd"}  # variable -> column


def bands_table(result: xr.Dataset, title: str) -> Table:
    """One row per cell of :func:`netsim.analyze.bands.run_bands`: each quantile with its
    interval's low and high, then the mean and standard deviation where the result has
    them (a run's draws; a run reduced to bands says it has none)."""
    dims = [d for d in result["value"].dims if d != "quantile"]
    headers = list(dims)
    for q in result["quantile"].values:
        headers += [f"P{100 * q:g}", f"P{100 * q:g} low", f"P{100 * q:g} high"]
    moments = [name for name in MOMENTS if name in result]
    headers += [MOMENTS[name] for name in moments]
    rows = []
    for pick in _cells(result["value"], dims):
        cell = result.sel(pick)
        row: list[Any] = list(pick.values())
        for q in result["quantile"].values:
            band = cell.sel(quantile=q)
            row += [float(band["value"]), float(band["low"]), float(band["high"])]
        row += [float(cell[name]) for name in moments]
        rows.append(row)
    if not moments:
        title += "\n  (no mean or sd: the run was reduced to bands, without its draws)"
    unit = str(result.attrs.get("units", ""))
    units = [""] * len(dims) + [unit] * (len(headers) - len(dims))
    return Table(title, headers, rows, labels=len(dims), units=units)


def exceedance_table(chance: xr.Dataset, threshold: float) -> Table:
    """P(value > threshold) and its exact binomial interval, one row per cell."""
    dims = list(chance["probability"].dims)
    interval = chance["probability_interval"]
    rows = [
        [
            *pick.values(),
            f"{float(chance['probability'].sel(pick)):.4f}",
            *probability_bounds(interval.sel(pick)),
        ]
        for pick in _cells(chance["probability"], dims)
    ]
    confidence = 100 * float(interval.attrs.get("confidence", 0.95))
    headers = [*dims, "probability", f"{confidence:g} % low", f"{confidence:g} % high"]
    title = f"\nP(value > {threshold:,g}), with its {confidence:g} % {PROPORTION_INTERVAL} interval"
    return Table(title, headers, rows, labels=len(dims))


def probability_bounds(interval: xr.DataArray) -> list[str]:
    """A probability interval's low and high ends, as the tables print them."""
    return [f"{float(interval.sel(bound=end)):.4f}" for end in ("low", "high")]


def comparison_table(result: xr.Dataset, year: int) -> Table:
    """Paired differences of :func:`netsim.analyze.comparison.compare` in one year."""
    picked = result.sel(year=year)
    places = [d for d in picked["prob_greater"].dims if d != "scenario"]
    rows = []
    for pick in _cells(picked["prob_greater"], ["scenario", *places]):
        difference = picked["difference"].sel(pick)
        solved = "recalibrated" in result and bool(
            result["recalibrated"].sel(scenario=pick["scenario"])
        )
        rows.append(
            [
                pick["scenario"],
                year,
                *[pick[d] for d in places],
                *[float(v) for v in difference.values],
                float(picked["prob_greater"].sel(pick)),
                *probability_bounds(picked["prob_greater_interval"].sel(pick)),
                "solved anew" if solved else "the base's",
            ]
        )
    headers = (
        ["scenario", "year", *places]
        + [f"diff P{100 * q:g}" for q in result["quantile"].values]
        + ["P(other > base)", "95 % low", "95 % high", "growth solution"]
    )
    unit = result["difference"].attrs.get("units", "")
    title = (
        f"{year}: other - base on common random numbers ({int(result.attrs['draws']):,} paired "
        f"draws, seed {result.attrs['seed']}), {unit}"
    )
    units = [""] * (2 + len(places)) + [unit] * result.sizes["quantile"]
    return Table(title, headers, rows, labels=2 + len(places), units=units)


def sensitivity_table(
    method: str, result: Any, cell: Mapping[str, Any], output: str, by: str, top: int
) -> Table:
    """The ``top`` inputs of one cell of a sensitivity result
    (:func:`netsim.analyze.sensitivity.analyze`)."""
    from netsim.analyze.cells import select_cell  # on use: a plain run needs neither
    from netsim.analyze.sensitivity import ranking

    where = ", ".join(f"{k}={v}" for k, v in cell.items())
    title = f"{method} of {output} ({by}) at {where}"
    if method == "tail":
        unit = result["contribution"].attrs.get("units", "")
        order = np.argsort(result["contribution"].values)
        ranked = result["contribution"].isel(parameter=order)[:top]
        rows = [
            [str(p), float(v), f"{100 * float(result['share'].sel(parameter=p)):.1f} %"]
            for p, v in zip(ranked["parameter"].values, ranked.values, strict=True)
        ]
        note = (
            f"{title}: {result.attrs['tail_draws']:,} draws below P{100 * result.attrs['tail']:g} "
            f"({format_value(result['threshold'])}); shortfall against the median "
            f"{format_value(result['shortfall'])} {unit} = reference offset "
            f"{format_value(result['reference_offset'])} + inputs "
            f"{format_value(result['contribution'].sum())} "
            f"+ interactions {format_value(result['interaction'])}"
        )
        return Table("", ["input", unit, "share"], rows, [note])
    ranked = ranking(result, cell)[:top]
    leading = ranked.dims[0]
    labels = ranked[leading].values
    picked = select_cell(result, cell).sel({leading: labels})
    if method == "tornado":
        unit = picked["base"].attrs.get("units", "")
        rows = [
            [
                str(p),
                float(picked["input_low"].sel(parameter=p)),
                float(picked["input_high"].sel(parameter=p)),
                float(picked["low"].sel(parameter=p)),
                float(picked["high"].sel(parameter=p)),
                float(picked["swing"].sel(parameter=p)),
            ]
            for p in labels
        ]
        headers = ["input", "input low", "input high", "output low", "output high", "swing"]
        return Table(
            "", headers, rows, [f"{title}: base case {format_value(picked['base'])} {unit}"]
        )
    if method == "sobol":
        confidence = f"{100 * result.attrs['confidence']:.10g} % CI"
        rows = []
        for p in labels:
            row = picked.sel(parameter=p)
            first, total = row["first_order_interval"].values, row["total_order_interval"].values
            rows.append(
                [
                    str(p),
                    f"{float(row['first_order']):.3f}",
                    f"[{first[0]:.3f}, {first[1]:.3f}]",
                    f"{float(row['total_order']):.3f}",
                    f"[{total[0]:.3f}, {total[1]:.3f}]",
                ]
            )
        note = (
            f"{title}: n={result.attrs['n']:,}, {result.attrs['evaluations']:,} model "
            f"evaluations, {100 * result.attrs['confidence']:.10g} % {sobol_interval_kind(result)}"
        )
        return Table("", ["input", "first order", confidence, "total", confidence], rows, [note])
    if method == "attribution":
        unit = result.attrs.get("units", "")
        note = (
            f"{title}: baseline {format_value(picked['baseline'])} -> forecast "
            f"{format_value(picked['forecast'])} {unit}"
        )
        rows = [[str(d), float(picked["contribution"].sel(driver=d))] for d in labels]
        return Table("", ["driver", unit], rows, [note])
    rows = [[str(p), f"{float(v):+.3f}"] for p, v in zip(labels, ranked.values, strict=True)]
    return Table(title, ["input", method], rows)


def sobol_interval_kind(result: xr.Dataset) -> str:
    """What a Sobol result's intervals are (files of earlier versions: independent
    scramblings, or a bootstrap before them)."""
    if "blocks" in result.attrs:
        return f"intervals over {result.attrs['blocks']} blocks, coverage estimated"
    if "replicates" in result.attrs:
        return f"intervals over {result.attrs['replicates']} independent scramblings"
    return "bootstrap intervals"


def format_table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], labels: int = 1
) -> str:
    """An aligned table: the ``labels`` leading columns left-aligned, the others
    right-aligned; floats with thousands separators and, column by column, two decimals
    or more: four significant digits of the column's largest value (a market counted in
    billions keeps its digits)."""
    widths = [max(len(str(h)), 12) for h in headers]
    decimals = [
        value_decimals([r[i] for r in rows if isinstance(r[i], float)], 2, significant=4)
        for i in range(len(headers))
    ]
    for i in range(labels):
        widths[i] = max([len(str(r[i])) for r in rows] + [len(str(headers[i]))])

    def line(cells: Sequence[str]) -> str:
        return "  " + "  ".join(
            f"{c:<{w}}" if i < labels else f"{c:>{w}}"
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    lines = [title] if title else []
    lines.append(line([str(h) for h in headers]))
    for row in rows:
        cells = [
            format_value(v, decimals[i]) if isinstance(v, float) else str(v)
            for i, v in enumerate(row)
        ]
        lines.append(line(cells))
    return "\n".join(lines)


def headline_bands(dataset: xr.Dataset) -> dict[str, xr.DataArray]:
    """The bands (P5, P50, P95) of every headline table of a run of any kind:
    title -> DataArray ``(quantile, <row dim>)``.

    A run held in a Zarr store gives the same exact bands as the same draws in memory
    when its headline draws fit the memory budget; a larger one is read chunk by chunk
    (:func:`netsim.run.reduced.reduce_run`, within 0.1 %).
    """
    if run_kind(dataset) == DRAWS_KIND:
        draws = headline_draws(dataset)  # Dask-backed for a store: nothing read yet
        if sum(d.size for d in draws.values()) * 8 <= memory_budget():
            titles = list(draws)
            computed = xr.Dataset({str(i): draws[t] for i, t in enumerate(titles)}).compute()
            # one pass over the store's chunks for every table
            return {t: bands(computed[str(i)], HEADLINE_QUANTILES) for i, t in enumerate(titles)}
        dataset = reduce_run(dataset, HEADLINE_QUANTILES)
    out = {}
    wanted = headline_quantiles(dataset)
    stored = np.asarray(dataset["quantile"].values, dtype=np.float64)
    picks = [int(np.argmin(np.abs(stored - q))) for q in wanted]
    for cell in OutputLayout.from_dataset(dataset).headline():
        data = dataset[reduced_name(cell.output, cell.by)].isel(quantile=picks)
        if cell.year is not None:
            data = data.sel(year=cell.year, drop=True)
        out[cell.title] = data.transpose("quantile", cell.row_dim)
    return out


def headline_quantiles(dataset: xr.Dataset) -> tuple[float, ...]:
    """The quantiles a run's summary shows: P5, P50 and P95, or for a run reduced to
    other quantiles, the ones it holds."""
    if run_kind(dataset) == DRAWS_KIND:
        return HEADLINE_QUANTILES
    if "quantile" not in dataset.coords:
        raise ScenarioError("this run reduced to bands has no 'quantile' coordinate")
    stored = [float(v) for v in np.asarray(dataset["quantile"].values, dtype=np.float64)]
    if all(np.isclose(stored, q, rtol=0, atol=1e-12).any() for q in HEADLINE_QUANTILES):
        return HEADLINE_QUANTILES
    return tuple(stored)


def _table(title: str, band: xr.DataArray, row_dim: str, base: xr.DataArray | None) -> str:
    names = [f"P{100 * q:g}" for q in band["quantile"].values]
    extra = f" {'base case':>{NUMBER_WIDTH}}" if base is not None else ""
    header = " ".join(f"{n:>{NUMBER_WIDTH}}" for n in names)
    width = max([LABEL_WIDTH, len(row_dim)] + [len(str(v)) for v in band[row_dim].values])
    lines = [title, f"  {row_dim:<{width}} {header}{extra}"]
    rows = []
    for label in band[row_dim].values:
        values = [float(v) for v in band.sel({row_dim: label}).values]
        if base is not None:
            values.append(float(base.sel({row_dim: label})))
        rows.append((label, values))
    decimals = value_decimals(v for _, values in rows for v in values)
    for label, values in rows:
        cells = " ".join(f"{format_value(v, decimals):>{NUMBER_WIDTH}}" for v in values)
        lines.append(f"  {label!s:<{width}} {cells}")
    return "\n".join(lines)


def run_summary(
    dataset: xr.Dataset,
    base_case: xr.Dataset | None = None,
    layout: OutputLayout | None = None,
) -> str:
    """The tables ``netsim run`` prints for a run of any kind: P5/P50/P95 of each headline
    table (:meth:`OutputLayout.headline`), the global total beside the deterministic
    ``base_case`` when given. A run record (:mod:`netsim.run.record`) needs its
    ``layout``: it has no cube to read one from."""
    layout = OutputLayout.from_dataset(dataset) if layout is None else layout
    if is_record(dataset):
        tables = {
            title: bands(draws, HEADLINE_QUANTILES)
            for title, draws in record_headline_draws(dataset, layout).items()
        }
        headline = layout.headline()
    else:
        tables = headline_bands(dataset)
        # the tables of the outputs the run holds (a run reduced to some outputs: theirs)
        headline = OutputLayout.from_dataset(dataset).headline()
    parts = []
    for cell, (title, band) in zip(headline, tables.items(), strict=True):
        base = None
        if base_case is not None and cell.year is None:
            base = aggregate(base_case[cell.output], cell.by)
        parts.append(_table(f"\n{title}, {layout.unit}", band, cell.row_dim, base))
    return "\n".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def validation_text(scenario: Any) -> str:
    """What ``netsim validate`` prints: the scenario's size, its solved growth parameters,
    and each calibration target, wanted against achieved."""
    from netsim.model.calibration import target_rows

    cal = scenario.calibration
    lines = [
        f"{scenario.name}: {_count(len(scenario.parameters), 'parameter')}, "
        f"{_count(len(scenario.countries), 'country').replace('countrys', 'countries')}, "
        f"{_count(len(scenario.axes), 'axis').replace('axiss', 'axes')}, "
        f"{len(scenario.drivers)} drivers/restraints, {_count(len(scenario.events), 'event')}"
    ]
    if cal.inherited_from:
        lines.append(f"calibration inherited from {cal.inherited_from} (overlay, not recalibrated)")
    lines.append("\nsolved growth parameters (% per year)")
    rows = [
        ("baseline", "baseline", cal.baseline),
        ("first_year_step", "first_year_step", cal.first_year_step),
    ]
    rows += [(f"region premium {r}", f"region:{r}", v) for r, v in cal.region_premium.items()]
    rows += [(f"country premium {c}", f"country:{c}", v) for c, v in cal.country_premium.items()]
    rows += [
        (f"segment premium {a}/{s}", f"segment:{a}:{s}", v)
        for (a, s), v in cal.segment_premium.items()
    ]
    for label, key, value in rows:
        how = "inherited" if cal.inherited_from else "solved" if key in cal.solved else "given"
        lines.append(f"  {label:<52} {100 * value:9.4f}  ({how})")
    lines.append("\ncalibration targets")
    lines.append(f"  {'target':<44} {'unit':<12} {'wanted':>10} {'+-':>7} {'achieved':>12}  ok")
    for row in target_rows(scenario):
        verdict = "yes" if row["ok"] else "NO"
        if cal.inherited_from and not row["ok"]:
            verdict = "(overlay: differs by design)"
        lines.append(
            f"  {row['target']:<44} {row['unit']:<12} {row['wanted']:>10g} "
            f"{row['tolerance']:>7g} {row['achieved']:>12.5f}  {verdict}"
        )
    lines += _funnel_target_lines(scenario)
    return "\n".join(lines)


def _funnel_target_lines(scenario: Any) -> list[str]:
    """The patient funnel's count targets: each count wanted and achieved, and the factor
    it solves, from the file's point to the solved one, within its plausible range."""
    from netsim.model.funnel_targets import funnel_target_rows

    rows = funnel_target_rows(scenario)
    if not rows:
        return []
    how = "inherited" if scenario.calibration.inherited_from else "solved"
    lines = ["\nthe patient funnel's count targets (patients, base case)"]
    lines.append(
        f"  {'target':<40} {'year':>4} {'wanted':>10} {'achieved':>12}  ok   "
        f"{'solves':<36} {'file':>8} {how:>9}  plausible"
    )
    for row in rows:
        verdict = "yes" if row["ok"] else "NO"
        lines.append(
            f"  {row['label']:<40} {row['year']:>4} {row['wanted']:>10,.0f} "
            f"{row['achieved']:>12,.1f}  {verdict:<4} {row['parameter']:<36} "
            f"{row['point']:>8.4g} {row['solved']:>9.4g}  {row['low']:g}-{row['high']:g} "
            f"{row['unit']}"
        )
    return lines


def _percent(value: float) -> str:
    return f"{100 * value:.0f} %" if np.isfinite(value) else "n/a"


def reconcile_tables(result: xr.Dataset, years: Sequence[int] | None = None) -> list[Table]:
    """The tables of :func:`netsim.analyze.reconcile.reconcile`: the ratio per year and
    cell (with the inputs that explain it most), the base year's implied values, and
    the funnel's checks against stated counts."""
    unit = result.attrs.get("units", "")
    ratio = result["ratio"]
    cells = [d for d in ratio.dims if d not in ("quantile", "year")]
    chosen = result["year"].values.tolist() if not years else list(years)
    qs = [float(q) for q in result["quantile"].values]
    rows = []
    for pick in _cells(ratio.sel(year=chosen), ["year", *cells]):
        explained = result["explained"].sel(pick)
        order = np.argsort(-explained.values)[:2]
        top = ", ".join(
            f"{explained['parameter'].values[i]} {_percent(float(explained.values[i]))}"
            for i in order
            if explained.values[i] > 0
        )
        rows.append(
            [
                *[pick[d] for d in cells],
                pick["year"],
                *[float(ratio.sel(pick).sel(quantile=q)) for q in qs],
                f"{float(result['prob_patient_above'].sel(pick)):.4f}",
                *probability_bounds(result["prob_patient_above_interval"].sel(pick)),
                float(result["top_down"].sel(pick).sel(quantile=0.5)),
                float(result["patient_based"].sel(pick).sel(quantile=0.5)),
                *_gap_columns(result, pick),
                top,
            ]
        )
    headers = [
        *cells,
        "year",
        *[f"ratio P{100 * q:g}" for q in qs],
        "P(patient > top)",
        "95 % low",
        "95 % high",
        "top-down P50",
        "patient P50",
        *(["gap P50", "share of gap"] if "gap" in result else []),
        "inputs explaining the ratio most",
    ]
    title = (
        f"patient-based / top-down, {int(result.attrs['draws']):,} paired draws, seed "
        f"{result.attrs['seed']} (values in {unit})"
    )
    gap_units = [unit, ""] if "gap" in result else []
    units = [""] * (len(cells) + 1 + len(qs) + 3) + [unit, unit, *gap_units, ""]
    tables = [Table(title, headers, rows, labels=len(cells) + 1, units=units)]

    tables.append(_implied_table(result, cells))
    if "gap_closed_shapley" in result:
        tables.append(_decomposition_table(result, cells))
    if "check" in result.dims:
        tables.append(_checks_table(result, qs))
    return tables


def _implied_table(result: xr.Dataset, cells: list[str]) -> Table:
    """The base year's base cases, and the price factor or treated share that would make
    them agree, per cell."""
    implied = []
    for pick in _cells(result["implied_price_factor"], cells) if cells else [{}]:
        cell = result.sel(pick) if pick else result
        price_flag = "" if bool(cell["implied_price_factor_plausible"]) else " (implausible)"
        share = float(cell["implied_treated_share"])
        share_flag = "" if bool(cell["implied_treated_share_plausible"]) else " (implausible)"
        if not bool(cell["implied_treated_share_agrees"]):
            share_text = "none (over 100 % or capped)"
        else:
            share_text = f"{share:.1f} %{share_flag}"
        implied.append(
            [
                *pick.values(),
                float(cell["top_down_base"].isel(year=0)),
                float(cell["patient_based_base"].isel(year=0)),
                f"{float(cell['implied_price_factor']):.3f}{price_flag}",
                share_text,
                f"{float(cell['treated_patients']):,.0f}",
                f"{float(cell['implied_treated_patients']):,.0f}",
            ]
        )
    base_year = result.attrs.get("base_year", int(result["year"].values[0]))
    return Table(
        f"\n{base_year}: the base cases, and what would make them agree (a factor on every "
        "price, or the funnel's last share; each solved, then checked by running it)",
        [
            *cells,
            "top-down",
            "patient-based",
            "price factor",
            "treated share",
            "treated patients",
            "implied by top-down",
        ],
        implied,
        labels=len(cells),
    )


def _checks_table(result: xr.Dataset, qs: Sequence[float]) -> Table:
    """The funnel against stated counts: each count, the funnel's bands of it, and for a
    count target the factor solved to meet it in the base case."""
    check_rows = []
    for check in result["check"].values:
        picked = result.sel(check=check)
        solves = str(picked["check_solves"].values) if "check_solves" in picked else ""
        how = "check"
        if solves:
            unit = str(picked["check_solved_unit"].values)
            how = f"target: {solves} = {float(picked['check_solved']):.4g} {unit}"
        check_rows.append(
            [
                str(picked["check_label"].values),
                int(picked["check_year"]),
                str(picked["check_stage"].values),
                f"{float(picked['check_stated']):,.0f}",
                *[f"{float(picked['check_funnel'].sel(quantile=q)):,.0f}" for q in qs],
                f"{float(picked['check_prob_above']):.4f}",
                *probability_bounds(picked["check_prob_above_interval"]),
                how,
            ]
        )
    return Table(
        "\nthe funnel against stated counts (patients); a target is met by the base case",
        [
            "figure",
            "year",
            "stage",
            "stated",
            *[f"funnel P{100 * q:g}" for q in qs],
            "P(funnel > stated)",
            "95 % low",
            "95 % high",
            "check, or target and its solved factor",
        ],
        check_rows,
    )


def _gap_columns(result: xr.Dataset, pick: dict[str, Any]) -> list[Any]:
    """The absolute gap's median and the cell's share of the year's summed mean gap
    (a run reconciled before gaps were reported has neither)."""
    if "gap" not in result:
        return []
    share = float(result["gap_share"].sel(pick))
    return [
        float(result["gap"].sel(pick).sel(quantile=0.5)),
        f"{100 * share:.1f} %" if np.isfinite(share) else "n/a",
    ]


def _percent_of(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole and np.isfinite(part / whole) else "n/a"


def _decomposition_table(result: xr.Dataset, cells: Sequence[str]) -> Table:
    """The base-year gap by factor: for the world each factor's point, the value the
    top-down model implies, the gap it closes alone and its Shapley value; for cells,
    each cell's gap and the factors that close most of it."""
    base_year = result.attrs.get("base_year", int(result["year"].values[0]))
    unit = result.attrs.get("units", "")
    title = (
        f"\n{base_year}: the gap by factor, {unit} (each factor moved to the value the "
        "top-down model implies: the mix its own, the others sharing the gap left by their "
        "spreads; Shapley values add up to the gap)"
    )
    if "gap_implied_mix" in result:
        mix_dim = result["gap_implied_mix"].dims[0]
        listed = ", ".join(
            f"{name} {float(v):.1f} %"
            for name, v in zip(
                result[mix_dim].values, result["gap_implied_mix"].values, strict=True
            )
        )
        title += f"\n  the top-down model's mix, in treated patients: {listed}"
    if cells:
        return _decomposition_by_cell(result, cells, title)
    gap = float(result["gap_base_year"])
    rows = []
    for factor in result["factor"].values:
        picked = result.sel(factor=factor)
        point, implied = float(picked["gap_factor_point"]), float(picked["gap_factor_implied"])
        alone, shapley = float(picked["gap_closed_alone"]), float(picked["gap_closed_shapley"])
        rows.append(
            [
                str(factor),
                _figure(point),
                _figure(implied),
                alone,
                _percent_of(alone, gap),
                shapley,
                _percent_of(shapley, gap),
            ]
        )
    rows.append(["the gap", "", "", "", "", gap, "100.0 %"])
    headers = ["factor", "point", "implied", "closes alone", "share", "Shapley", "share"]
    return Table(title, headers, rows)


def _figure(value: float) -> str:
    """A factor's value: four significant digits, thousands separated ('(mix)' for none)."""
    if not np.isfinite(value):
        return "(mix)"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _decomposition_by_cell(result: xr.Dataset, cells: Sequence[str], title: str) -> Table:
    """One row per cell: its base-year gap, its share of the summed gap, and the three
    factors with the largest Shapley values."""
    total = float(result["gap_base_year"].sum())
    rows = []
    for pick in _cells(result["gap_base_year"], cells):
        gap = float(result["gap_base_year"].sel(pick))
        shapley = result["gap_closed_shapley"].sel(pick)
        order = np.argsort(-np.abs(np.nan_to_num(shapley.values)))[:3]
        top = ", ".join(
            f"{shapley['factor'].values[i]} {_percent_of(float(shapley.values[i]), gap)}"
            for i in order
            if np.isfinite(shapley.values[i])
        )
        rows.append([*pick.values(), gap, _percent_of(gap, total), top or "n/a"])
    headers = [*cells, "gap", "share of gap", "factors closing most of it (Shapley)"]
    return Table(title, headers, rows, labels=len(cells))


def gap_factor_table(result: xr.Dataset) -> Table:
    """The base-year gap by factor in long form, every cell and factor a row (what
    ``netsim reconcile --csv`` writes beside the ratio table): the cell's gap, the
    factor's point and implied value, the gap it closes alone and its Shapley value, in
    the market's unit, and their shares of the cell's gap."""
    cells = [d for d in result["gap_base_year"].dims]
    rows = []
    for pick in _cells(result["gap_base_year"], cells) if cells else [{}]:
        cell = result.sel(pick) if pick else result
        gap = float(cell["gap_base_year"])
        for factor in result["factor"].values:
            picked = cell.sel(factor=factor)
            alone = float(picked["gap_closed_alone"])
            shapley = float(picked["gap_closed_shapley"])
            rows.append(
                [
                    *pick.values(),
                    str(factor),
                    gap,
                    float(picked["gap_factor_point"]),
                    float(picked["gap_factor_implied"]),
                    alone,
                    alone / gap if gap else np.nan,
                    shapley,
                    shapley / gap if gap else np.nan,
                ]
            )
    headers = [
        *cells,
        "factor",
        "gap",
        "point",
        "implied",
        "closes alone",
        "alone share",
        "Shapley",
        "Shapley share",
    ]
    return Table("the base-year gap by factor", headers, rows, labels=len(cells) + 1)
