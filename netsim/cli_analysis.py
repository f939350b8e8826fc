"""The analysis commands of the ``netsim`` CLI: bands, sensitivity, compare, plot, report.

Each handler checks its arguments and output paths first, then calls the library
function of the same name and prints a table; nothing is written on bad input.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netsim.defaults import BY_CHOICES
from netsim.errors import ScenarioError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["add_analysis_commands", "run_analysis_command"]

METHODS = ("tornado", "spearman", "prcc", "sobol", "attribution", "tail")


def add_analysis_commands(sub: Any) -> None:
    """Add the analysis subcommands to the ``netsim`` parser."""
    bands = sub.add_parser("bands", help="percentile bands of a run, with confidence intervals")
    bands.add_argument("run", help="a run file written by netsim run (.nc)")
    bands.add_argument("--q", type=float, nargs="+", default=[0.05, 0.5, 0.95], help="quantiles")
    bands.add_argument(
        "--by", default="global", help="global, region, country, or an axis name (e.g. modality)"
    )
    bands.add_argument("--year", type=int, nargs="+", help="only these years")
    bands.add_argument("--confidence", type=float, default=0.95, help="of the intervals")
    bands.add_argument("--csv", help="also write the table to this CSV file")
    bands.add_argument(
        "--exceed", type=float, metavar="X", help="also print P(value > X) of every cell"
    )
    bands.add_argument(
        "--cagr",
        type=int,
        nargs=2,
        metavar=("START", "END"),
        help="bands of the CAGR between two years (%% per year) instead of the values",
    )

    sens = sub.add_parser("sensitivity", help="which inputs matter, where and when")
    sens.add_argument("config", help="scenario TOML file")
    sens.add_argument("--method", choices=METHODS, default="tornado")
    sens.add_argument("--output", default="total", help="total or by_<axis> (default total)")
    sens.add_argument("--by", choices=BY_CHOICES, default="region")
    sens.add_argument(
        "--at", nargs="+", default=[], metavar="DIM=LABEL", help="the cell to rank (year=2031 ...)"
    )
    sens.add_argument(
        "--draws", type=int, help="draws (spearman/prcc/tail, default 20,000) or Sobol base n"
    )
    sens.add_argument("--seed", type=int, default=0)
    sens.add_argument("--group", choices=["parameter", "driver"], default="parameter")
    sens.add_argument("--top", type=int, default=10, help="rows to print")
    sens.add_argument("--run", help="take the draws of this run file (spearman, prcc, tail)")
    sens.add_argument("--out", help="write the whole sensitivity cube to NetCDF (.nc)")
    sens.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")

    comp = sub.add_parser("compare", help="paired differences of scenarios on common draws")
    comp.add_argument("base", help="the base scenario TOML")
    comp.add_argument("others", nargs="*", help="other scenarios (overlays) to compare")
    comp.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="compare the base with these changes as one more scenario",
    )
    comp.add_argument("--draws", type=int, default=20_000)
    comp.add_argument("--seed", type=int, default=0)
    comp.add_argument("--output", default="total")
    comp.add_argument("--by", choices=BY_CHOICES, default="global")
    comp.add_argument("--year", type=int, help="only this year (default: the final year)")
    comp.add_argument("--csv", help="also write the table to this CSV file")
    comp.add_argument("--out", help="write the comparison to NetCDF (.nc)")

    plot = sub.add_parser("plot", help="draw a fan, tornado, sobol, hist or waterfall chart")
    plot.add_argument("kind", choices=["fan", "tornado", "sobol", "hist", "waterfall"])
    plot.add_argument(
        "sources",
        nargs="+",
        help="fan: run files (several overlay); hist: a run file; tornado, waterfall: a "
        "scenario TOML; sobol: a file from sensitivity --method sobol --out",
    )
    plot.add_argument("--out", required=True, help="picture file, .png or .svg")
    plot.add_argument("--output", default="total")
    plot.add_argument("--by", choices=BY_CHOICES, default="global")
    plot.add_argument("--at", nargs="+", default=[], metavar="DIM=LABEL")
    plot.add_argument("--top", type=int, default=12)

    report = sub.add_parser("report", help="one self-contained HTML report of a run")
    report.add_argument("run", help="a run file written by netsim run (.nc)")
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.add_argument("--sensitivity", help="a Sobol file (sensitivity --method sobol --out)")
    report.add_argument("--at", nargs="+", default=[], metavar="DIM=LABEL")


def run_analysis_command(args: argparse.Namespace) -> int:
    """Dispatch one analysis subcommand; returns the exit status."""
    handler = {
        "bands": _bands,
        "sensitivity": _sensitivity,
        "compare": _compare,
        "plot": _plot,
        "report": _report,
    }[args.command]
    return handler(args)


def _check_out(path: str | None, suffixes: tuple[str, ...]) -> None:
    if path is None:
        return
    from netsim.io import check_writable

    if Path(path).suffix.lower() not in suffixes:
        raise ScenarioError(f"{path}: expected a file ending in {' or '.join(suffixes)}")
    check_writable(path)


def _write_csv(path: str, headers: list[str], rows: list[list[Any]]) -> None:
    temporary = Path(path).with_name(f".{Path(path).name}.partial")
    with temporary.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    temporary.replace(path)
    print(f"\nwrote {path}")


def _print_table(title: str, headers: list[str], rows: list[list[Any]]) -> None:
    if title:
        print(title)
    widths = [max(len(str(h)), 12) for h in headers]
    widths[0] = max([len(str(r[0])) for r in rows] + [len(headers[0])])
    print(
        "  "
        + "  ".join(
            f"{h:>{w}}" if i else f"{h:<{w}}"
            for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    )
    for row in rows:
        cells = []
        for i, (value, width) in enumerate(zip(row, widths, strict=True)):
            text = f"{value:,.2f}" if isinstance(value, float) else str(value)
            cells.append(f"{text:>{width}}" if i else f"{text:<{width}}")
        print("  " + "  ".join(cells))


def _open(path: str) -> xr.Dataset:
    from netsim.io import open_run

    return open_run(path)


def _run_output(dataset: xr.Dataset, by: str) -> tuple[xr.DataArray, str]:
    """``--by`` of ``netsim bands``: a place level of the total, or an axis summed globally."""
    from netsim.outputs import select_output

    if by in BY_CHOICES:
        return select_output(dataset, "total", by), by
    if f"by_{by}" in dataset:
        return select_output(dataset, f"by_{by}", "global"), by
    axes = [str(n)[3:] for n in dataset.data_vars if str(n).startswith("by_")]
    raise ScenarioError(f"--by {by}: not one of {', '.join([*BY_CHOICES, *axes])}")


def _cells(data: xr.DataArray, dims: list[str]) -> list[dict[str, Any]]:
    """One selection per combination of labels of ``dims``, in order."""
    import itertools

    labels = [data[d].values.tolist() for d in dims]
    return [dict(zip(dims, combo, strict=True)) for combo in itertools.product(*labels)]


def _bands(args: argparse.Namespace) -> int:
    from netsim.convergence import band_intervals

    _check_out(args.csv, (".csv",))
    dataset = _open(args.run)
    data, by = _run_output(dataset, args.by)
    if args.cagr:
        from netsim.comparison import cagr

        data = cagr(data, *args.cagr).expand_dims(period=[f"{args.cagr[0]}-{args.cagr[1]}"])
    elif args.year:
        data = data.sel(year=[y for y in args.year if _has_year(data, y)])
    result = band_intervals(data, args.q, args.confidence)
    dims = [d for d in result["value"].dims if d != "quantile"]
    headers = [" ".join(dims)]
    for q in result["quantile"].values:
        headers += [f"P{100 * q:g}", f"P{100 * q:g} low", f"P{100 * q:g} high"]
    rows = []
    for pick in _cells(result["value"], dims):
        cell = result.sel(pick)
        row: list[Any] = [" ".join(str(v) for v in pick.values())]
        for q in result["quantile"].values:
            band = cell.sel(quantile=q)
            row += [float(band["value"]), float(band["low"]), float(band["high"])]
        rows.append(row)
    what = "total" if by in BY_CHOICES else f"by_{by}"
    unit = "CAGR, % per year" if args.cagr else "USD million"
    _print_table(
        f"{args.run}: bands of {what} ({by}), {unit}, {int(result.attrs['draws']):,} draws; "
        f"low/high = {100 * args.confidence:g} % order-statistic interval",
        headers,
        rows,
    )
    if args.exceed is not None:
        from netsim.comparison import exceedance

        chance = exceedance(data, args.exceed)
        _print_table(
            f"\nP(value > {args.exceed:,g})",
            [" ".join(dims), "probability", "standard error"],
            [
                [
                    " ".join(str(v) for v in pick.values()),
                    f"{float(chance['probability'].sel(pick)):.4f}",
                    f"{float(chance['standard_error'].sel(pick)):.4f}",
                ]
                for pick in _cells(chance["probability"], dims)
            ],
        )
    if args.csv:
        _write_csv(args.csv, headers, rows)
    return 0


def _has_year(data: xr.DataArray, year: int) -> bool:
    if year not in data["year"].values.tolist():
        raise ScenarioError(f"--year {year}: the run has years {data['year'].values.tolist()}")
    return True


def _default_cell(data: xr.Dataset | xr.DataArray, given: list[str]) -> dict[str, Any]:
    from netsim.outputs import parse_cell, select_cell

    cell = parse_cell(given)
    select_cell(data, cell)  # unknown dims or labels fail here, by name
    if "year" in data.dims and "year" not in cell:
        cell = {"year": int(data["year"].values[-1]), **cell}
    skip = {"parameter", "driver", "bound", "quantile", "draw", "scenario"}
    missing = [d for d in data.dims if d not in cell and d not in skip]
    if missing:
        raise ScenarioError(
            f"--at must name {', '.join(missing)} (e.g. --at "
            + " ".join(f"{d}={data[d].values[0]}" for d in missing)
            + ")"
        )
    return cell


def _load(config: str, overrides: list[str]) -> Any:
    import netsim

    return netsim.load_scenario(config, overrides)


def _sensitivity(args: argparse.Namespace) -> int:
    import xarray as xr

    import netsim
    from netsim import sensitivity
    from netsim.io import write_netcdf
    from netsim.outputs import select_output

    _check_out(args.out, (".nc",))
    if args.top < 1:
        raise ScenarioError(f"--top {args.top} must be >= 1")
    scenario = _load(args.config, args.set)
    method = args.method
    if method in ("spearman", "prcc", "tail"):
        if args.run:
            run = _open(args.run)
            if run.attrs.get("scenario_hash") != scenario.scenario_hash:
                raise ScenarioError(
                    f"--run {args.run} was not made from {args.config} (scenario hash differs)"
                )
        else:
            run = netsim.simulate(scenario, args.draws or 20_000, args.seed)
    if method == "tornado":
        result = sensitivity.tornado(scenario, args.output, args.by)
    elif method == "spearman":
        result = sensitivity.spearman(run, args.output, args.by)
    elif method == "prcc":
        result = sensitivity.prcc(run, args.output, args.by)
    elif method == "sobol":
        result = sensitivity.sobol(
            scenario, args.draws or 1024, args.output, args.by, group=args.group, seed=args.seed
        )
    elif method == "attribution":
        result = sensitivity.attribution(scenario, args.output, args.by)
    else:
        probe = select_output(run, args.output, args.by).isel(draw=0)
        cell = _default_cell(probe, args.at)
        result = sensitivity.tail_attribution(scenario, run, cell, args.output, args.by)
    if method != "tail":
        probe = result if isinstance(result, xr.DataArray) else result[next(iter(result.data_vars))]
        cell = _default_cell(probe, args.at)
    _print_sensitivity(method, result, cell, args)
    if args.out:
        data = result.to_dataset(name=method) if isinstance(result, xr.DataArray) else result
        print(f"\nwrote {write_netcdf(data, args.out)}")
    return 0


def _print_sensitivity(
    method: str, result: Any, cell: dict[str, Any], args: argparse.Namespace
) -> None:
    import numpy as np

    from netsim.outputs import select_cell
    from netsim.sensitivity import ranking

    where = ", ".join(f"{k}={v}" for k, v in cell.items())
    title = f"{method} of {args.output} ({args.by}) at {where}"
    if method == "tail":
        ranked = result["contribution"].isel(parameter=np.argsort(result["contribution"].values))[
            : args.top
        ]
        rows = [
            [str(p), float(v), f"{100 * float(result['share'].sel(parameter=p)):.1f} %"]
            for p, v in zip(ranked["parameter"].values, ranked.values, strict=True)
        ]
        print(
            f"{title}: {result.attrs['tail_draws']:,} draws below P{100 * result.attrs['tail']:g} "
            f"({float(result['threshold']):,.1f}); shortfall against the median "
            f"{float(result['shortfall']):,.1f} USD million = reference offset "
            f"{float(result['reference_offset']):,.1f} + inputs "
            f"{float(result['contribution'].sum()):,.1f} "
            f"+ interactions {float(result['interaction']):,.1f}"
        )
        _print_table("", ["input", "USD million", "share"], rows)
        return
    ranked = ranking(result, cell)[: args.top]
    leading = ranked.dims[0]
    labels = ranked[leading].values
    picked = select_cell(result, cell).sel({leading: labels})
    if method == "tornado":
        base = float(picked["base"])
        print(f"{title}: base case {base:,.1f} USD million")
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
        _print_table(
            "", ["input", "input low", "input high", "output low", "output high", "swing"], rows
        )
    elif method == "sobol":
        print(
            f"{title}: n={result.attrs['n']:,}, {result.attrs['evaluations']:,} model "
            f"evaluations, {100 * result.attrs['confidence']:g} % bootstrap intervals"
        )
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
        _print_table("", ["input", "first order", "95 % CI", "total", "95 % CI"], rows)
    elif method == "attribution":
        print(
            f"{title}: baseline {float(picked['baseline']):,.1f} -> forecast "
            f"{float(picked['forecast']):,.1f} USD million"
        )
        _print_table(
            "",
            ["driver", "USD million"],
            [[str(d), float(picked["contribution"].sel(driver=d))] for d in labels],
        )
    else:
        _print_table(
            title,
            ["input", method],
            [[str(p), f"{float(v):+.3f}"] for p, v in zip(labels, ranked.values, strict=True)],
        )


def _compare(args: argparse.Namespace) -> int:
    from netsim.comparison import compare
    from netsim.io import write_netcdf

    _check_out(args.csv, (".csv",))
    _check_out(args.out, (".nc",))
    base = _load(args.base, [])
    others = {Path(p).stem: _load(p, []) for p in args.others}
    if args.set:
        others[f"{Path(args.base).stem} with " + ", ".join(args.set)] = _load(args.base, args.set)
    if not others:
        raise ScenarioError("compare needs another scenario file or --set key.path=value")
    result = compare(base, others, args.draws, args.seed, "mc", args.output, args.by)
    year = args.year if args.year is not None else int(result["year"].values[-1])
    if year not in result["year"].values.tolist():
        raise ScenarioError(
            f"--year {year}: the scenarios have years {result['year'].values.tolist()}"
        )
    picked = result.sel(year=year)
    places = [d for d in picked["prob_greater"].dims if d != "scenario"]
    rows = []
    for pick in _cells(picked["prob_greater"], ["scenario", *places]):
        difference = picked["difference"].sel(pick)
        rows.append(
            [
                " ".join(str(v) for v in pick.values()),
                *[float(v) for v in difference.values],
                float(picked["prob_greater"].sel(pick)),
            ]
        )
    headers = (
        ["scenario"]
        + [f"diff P{100 * q:g}" for q in result["quantile"].values]
        + ["P(other > base)"]
    )
    _print_table(
        f"{year}: other - base on common random numbers ({args.draws:,} paired draws, "
        f"seed {args.seed}), USD million",
        headers,
        rows,
    )
    if args.csv:
        _write_csv(args.csv, headers, rows)
    if args.out:
        print(f"wrote {write_netcdf(result, args.out)}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from netsim import plots
    from netsim.outputs import parse_cell, select_cell, select_output

    _check_out(args.out, plots.FORMATS)
    kind, sources = args.kind, args.sources
    if kind != "fan" and len(sources) != 1:
        raise ScenarioError(f"plot {kind} takes one source, got {len(sources)}")
    if kind == "fan":
        runs = {}
        for source in sources:
            data = select_output(_open(source), args.output, args.by)
            cell = parse_cell(args.at)
            data = select_cell(data, cell) if cell else data
            extra = [d for d in data.dims if d not in ("draw", "year")]
            if extra:
                raise ScenarioError(f"plot fan: --at must pick one label of {', '.join(extra)}")
            runs[Path(source).stem] = data
        where = ", ".join(str(v) for v in parse_cell(args.at).values()) or "global"
        path = plots.fan_chart(runs, args.out, f"{args.output} ({where}), USD million")
    elif kind == "hist":
        data = select_output(_open(sources[0]), args.output, args.by)
        cell = _default_cell(data, args.at)
        values = select_cell(data, cell)
        path = plots.histogram(
            values, args.out, f"{args.output}: " + ", ".join(f"{v}" for v in cell.values())
        )
    elif kind == "sobol":
        result = _open(sources[0])
        if "total_order" not in result:
            raise ScenarioError(
                f"{sources[0]} is not a Sobol result (sensitivity --method sobol --out)"
            )
        cell = _default_cell(result["total_order"], args.at)
        path = plots.sobol_bars(result, cell, args.out, args.top)
    else:
        from netsim import sensitivity

        scenario = _load(sources[0], [])
        if kind == "tornado":
            result = sensitivity.tornado(scenario, args.output, args.by)
            cell = _default_cell(result["swing"], args.at)
            path = plots.tornado_chart(result, cell, args.out, args.top)
        else:
            result = sensitivity.attribution(scenario, args.output, args.by)
            cell = _default_cell(result["contribution"], args.at)
            path = plots.waterfall(result, cell, args.out)
    print(f"wrote {path}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from netsim.report import write_report

    _check_out(args.out, (".html", ".htm"))
    dataset = _open(args.run)
    sensitivity, cell = None, None
    if args.sensitivity:
        sensitivity = _open(args.sensitivity)
        if "total_order" not in sensitivity:
            raise ScenarioError(f"{args.sensitivity} is not a Sobol result")
        cell = _default_cell(sensitivity["total_order"], args.at)
    path = write_report(dataset, args.out, sensitivity=sensitivity, cell=cell)
    print(f"wrote {path}")
    return 0
