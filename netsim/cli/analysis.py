"""The analysis commands of the ``netsim`` CLI: bands, sensitivity, compare, reconcile, plot,
report.

Each handler makes its outputs first (an unwritable path fails before any work), reads
its inputs, calls one library function and prints a table; nothing is written on bad
input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from netsim.cli.commands import command
from netsim.cli.run import add_recalibrate_argument, load_changed
from netsim.defaults import BY_CHOICES
from netsim.errors import OutputError, ScenarioError

__all__ = ["METHODS", "PLOTS", "SOBOL_VARIABLES"]

METHODS = ("tornado", "spearman", "prcc", "sobol", "attribution", "tail")
PLOTS = ("fan", "tornado", "sobol", "hist", "waterfall", "spider", "shares")
# what a Sobol result file must hold (sensitivity --method sobol --out writes them)
SOBOL_VARIABLES = (
    "first_order",
    "total_order",
    "first_order_interval",
    "total_order_interval",
)


def _output(path: str | None, suffixes: tuple[str, ...], reads: list[str]) -> Any:
    """The :class:`OutputFile` of ``path`` (None when not asked for)."""
    if path is None:
        return None
    from netsim.output_files import OutputFile

    if Path(path).suffix.lower() not in suffixes:
        raise ScenarioError(f"{path}: expected a file ending in {' or '.join(suffixes)}")
    return OutputFile(path, reads)


def _top(value: int) -> int:
    if value < 1:
        raise ScenarioError(f"--top {value} must be >= 1")
    return value


def _add_bands(sub: Any) -> None:
    bands = sub.add_parser("bands", help="percentile bands of a run, with confidence intervals")
    bands.add_argument("run", help="a run written by netsim run (.nc or .zarr)")
    bands.add_argument(
        "--q",
        type=float,
        nargs="+",
        help="quantiles (default 0.05 0.5 0.95; a run reduced to bands: the ones it holds)",
    )
    bands.add_argument(
        "--by", default="global", help="global, region, country, or an axis name (e.g. modality)"
    )
    bands.add_argument(
        "--output",
        help="any output of the run (e.g. patient_total, patient_by_modality, patients), "
        "summed --by global, region or country (default: total, or by_<axis> for --by <axis>)",
    )
    bands.add_argument("--year", type=int, nargs="+", help="only these years")
    bands.add_argument(
        "--confidence",
        type=float,
        help="of the intervals (default 0.95; a run reduced to bands: its own)",
    )
    bands.add_argument("--csv", help="also write the table to this CSV file")
    bands.add_argument(
        "--xlsx",
        help="also write an Excel workbook: bands of every output and cell with their "
        "intervals, and every assumption with its source",
    )
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


@command("bands", _add_bands)
def _bands(args: argparse.Namespace) -> int:
    from netsim.analyze.bands import output_and_level, run_bands, run_exceedance
    from netsim.present.tables import bands_table, exceedance_table
    from netsim.run.reading import open_run

    csv_file, xlsx_file = (
        _output(args.csv, (".csv",), [args.run]),
        _output(args.xlsx, (".xlsx",), [args.run]),
    )
    with _outputs(csv_file, xlsx_file), _naming(args.run):
        run = open_run(args.run)
        output, by = output_and_level(run, args.by, args.output)
        cagr = tuple(args.cagr) if args.cagr else None
        result = run_bands(run, output, by, args.q, args.confidence, args.year, cagr)
        unit = "CAGR, % per year" if cagr else result.attrs.get("units", "")
        table = bands_table(
            result,
            f"{args.run}: bands of {output} ({by}), {unit}, {int(result.attrs['draws']):,} draws; "
            f"low/high = {100 * float(result.attrs['confidence']):.10g} % order-statistic "
            f"interval, {result.attrs['coverage_note']}",
        )
        chance = None
        if args.exceed is not None:
            chance = run_exceedance(run, args.exceed, output, by, args.year, cagr)
        book = None
        if xlsx_file is not None:  # built before any file is written: all or nothing
            from netsim.present.workbook import run_workbook, workbook_bytes

            book = workbook_bytes(run_workbook(run, args.q, args.confidence))
        written = _write_all(
            (lambda: xlsx_file.write_bytes(book)) if book is not None else None,
            (lambda: csv_file.write_text(table.csv())) if csv_file else None,
        )
    print(table.text())
    if chance is not None:
        print(exceedance_table(chance, args.exceed).text())
    for path in written:
        print(f"\nwrote {path}")
    return 0


def _add_sensitivity(sub: Any) -> None:
    sens = sub.add_parser("sensitivity", help="which inputs matter, where and when")
    sens.add_argument("config", help="scenario TOML file")
    sens.add_argument("--method", choices=METHODS, default="tornado")
    sens.add_argument("--output", default="total", help="total or by_<axis> (default total)")
    sens.add_argument("--by", choices=BY_CHOICES, default="global")
    sens.add_argument(
        "--at", nargs="+", default=[], metavar="DIM=LABEL", help="the cell to rank (year=2031 ...)"
    )
    sens.add_argument(
        "--draws", type=int, help="draws (spearman/prcc/tail, default 20,000) or Sobol base n"
    )
    sens.add_argument("--seed", type=int, default=0)
    sens.add_argument("--group", choices=["parameter", "driver"], default="parameter")
    sens.add_argument("--top", type=int, default=10, help="rows to print")
    sens.add_argument("--run", help="take the draws of this run (spearman, prcc, tail)")
    sens.add_argument("--out", help="write the whole sensitivity cube to NetCDF (.nc)")
    sens.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    add_recalibrate_argument(sens)


@command("sensitivity", _add_sensitivity)
def _sensitivity(args: argparse.Namespace) -> int:
    from netsim.analyze.cells import parse_cell
    from netsim.analyze.sensitivity import analyze
    from netsim.present.tables import sensitivity_table
    from netsim.run.reading import open_run
    from netsim.run.writing import write_netcdf

    reads = [args.config] + ([args.run] if args.run else [])
    _top(args.top)
    with _outputs(_output(args.out, (".nc",), reads)) as outputs:
        (out,) = outputs
        scenario = load_changed(args)
        _refuse_inputs(outputs, scenario.source_files)
        run = open_run(args.run) if args.run else None
        result, cell = analyze(
            scenario,
            args.method,
            args.output,
            args.by,
            run=run,
            draws=args.draws,
            seed=args.seed,
            group=args.group,
            cell=parse_cell(args.at),
        )
        table = sensitivity_table(args.method, result, cell, args.output, args.by, args.top)
        written = None
        if out is not None:
            from netsim.present.labels import labelled, parameter_labels

            data = result.to_dataset(name=args.method) if hasattr(result, "to_dataset") else result
            written = write_netcdf(labelled(data, parameter_labels(scenario)), out)
    print(table.text())
    if written:
        print(f"\nwrote {written}")
    return 0


def _add_compare(sub: Any) -> None:
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
    comp.add_argument("--draws", type=int, default=20_000, help="paired draws (default 20,000)")
    comp.add_argument(
        "--recalibrate",
        action="store_true",
        help="solve every other scenario anew (default: overlays and --set keep the base's "
        "solved growth, so only the change differs)",
    )
    comp.add_argument("--seed", type=int, default=0)
    comp.add_argument("--output", default="total")
    comp.add_argument("--by", choices=BY_CHOICES, default="global")
    comp.add_argument("--year", type=int, help="only this year (default: the final year)")
    comp.add_argument("--csv", help="also write the table to this CSV file")
    comp.add_argument(
        "--xlsx",
        help="also write an Excel workbook: bands of each scenario, the paired differences, "
        "and the base's assumptions with their sources",
    )
    comp.add_argument("--out", help="write the comparison to NetCDF (.nc)")


@command("compare", _add_compare)
def _compare(args: argparse.Namespace) -> int:
    import netsim
    from netsim.analyze.comparison import compare
    from netsim.present.tables import comparison_table
    from netsim.run.writing import write_netcdf

    reads = [args.base, *args.others]
    csv_file, out = _output(args.csv, (".csv",), reads), _output(args.out, (".nc",), reads)
    xlsx_file = _output(args.xlsx, (".xlsx",), reads)
    with _outputs(csv_file, out, xlsx_file) as outputs:
        # --set and overlays alike: the base's solution is kept unless --recalibrate
        recalibrate = True if args.recalibrate else None
        base = netsim.load_scenario(args.base)
        others = {
            label: netsim.load_scenario(p, recalibrate=recalibrate)
            for label, p in zip(_labels(args.others), args.others, strict=True)
        }
        if args.set:
            label = f"{Path(args.base).stem} with " + ", ".join(args.set)
            others[label] = netsim.load_scenario(args.base, args.set, recalibrate=recalibrate)
        if not others:
            raise ScenarioError("compare needs another scenario file or --set key.path=value")
        for scenario in (base, *others.values()):
            _refuse_inputs(outputs, scenario.source_files)
        result = compare(base, others, args.draws, args.seed, "mc", args.output, args.by)
        year = args.year if args.year is not None else int(result["year"].values[-1])
        if year not in result["year"].values.tolist():
            raise ScenarioError(
                f"--year {year}: the scenarios have years {result['year'].values.tolist()}"
            )
        table = comparison_table(result, year)
        book = None
        if xlsx_file is not None:  # built before any file is written: all or nothing
            from netsim.present.workbook import comparison_workbook, workbook_bytes

            book = workbook_bytes(comparison_workbook(result, base, list(others.values())))
        written = _write_all(
            (lambda: xlsx_file.write_bytes(book)) if book is not None else None,
            (lambda: csv_file.write_text(table.csv())) if csv_file else None,
            (lambda: write_netcdf(result, out)) if out is not None else None,
        )
    print(table.text())
    for path in written:
        print(f"\nwrote {path}")
    return 0


def _add_reconcile(sub: Any) -> None:
    recon = sub.add_parser(
        "reconcile", help="the patient-based model against the top-down one, draw by draw"
    )
    recon.add_argument("config", help="scenario TOML file with a [funnel]")
    recon.add_argument("--draws", type=int, default=20_000, help="paired draws (default 20,000)")
    recon.add_argument("--seed", type=int, default=0)
    recon.add_argument("--sampler", choices=("mc", "lhs", "sobol"), default="mc")
    recon.add_argument(
        "--by",
        default="global",
        help="global, region, country, an axis the funnel splits over (e.g. modality), or "
        "product or company: each one's two views",
    )
    recon.add_argument("--year", type=int, nargs="+", help="only these years in the table")
    recon.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    add_recalibrate_argument(recon)
    recon.add_argument(
        "--plot",
        help="the chart of both fans, .png or .svg (default: reconcile_<config name>.png)",
    )
    recon.add_argument("--no-plot", action="store_true", help="write no chart")
    recon.add_argument(
        "--csv",
        help="also write the ratio table (with the gaps) to this CSV file, and the base-year "
        "gap by factor beside it, to <name>_factors.csv",
    )
    recon.add_argument("--out", help="write the reconciliation to NetCDF (.nc)")


@command("reconcile", _add_reconcile)
def _reconcile(args: argparse.Namespace) -> int:
    from netsim.analyze.reconcile import reconcile
    from netsim.present.plots import reconcile_chart
    from netsim.present.tables import gap_factor_table, reconcile_tables
    from netsim.run.planning import sobol_balance_note
    from netsim.run.writing import write_netcdf

    if args.by in ("product", "company"):
        return _reconcile_products(args)
    reads = [args.config]
    if args.no_plot and args.plot:
        raise ScenarioError("--plot and --no-plot contradict each other")
    plot_path = None if args.no_plot else args.plot or f"reconcile_{Path(args.config).stem}.png"
    plot = _output(plot_path, (".png", ".svg"), reads)
    csv_file, out = _output(args.csv, (".csv",), reads), _output(args.out, (".nc",), reads)
    factors_file = None  # the gap by factor, beside the ratio table's CSV
    if args.csv is not None:
        factors_file = _output(
            str(Path(args.csv).with_suffix("")) + "_factors.csv", (".csv",), reads
        )
    with _outputs(plot, csv_file, factors_file, out) as outputs:
        scenario = load_changed(args)
        _refuse_inputs(outputs, scenario.source_files)
        result = reconcile(scenario, args.draws, args.seed, args.sampler, args.by)
        note = sobol_balance_note(args.draws, args.sampler)
        if note:
            print(f"netsim: note: {note}", file=sys.stderr)
        known = result["year"].values.tolist()
        if args.year and len(set(args.year)) != len(args.year):
            raise ScenarioError(f"--year {args.year} names a year twice")
        for year in args.year or ():
            if year not in known:
                raise ScenarioError(f"--year {year}: the scenario has years {known}")
        tables = reconcile_tables(result, args.year)
        factors = gap_factor_table(result)
        written = _write_all(  # all or nothing: a full disk at the chart leaves no CSV
            (lambda: csv_file.write_text(tables[0].csv())) if csv_file else None,
            (lambda: factors_file.write_text(factors.csv())) if factors_file else None,
            (lambda: write_netcdf(result, out)) if out is not None else None,
            (lambda: reconcile_chart(result, plot)) if plot is not None else None,
        )
    print("\n".join(table.text() for table in tables))
    for path in written:
        print(f"\nwrote {path}")
    return 0


def _add_plot(sub: Any) -> None:
    plot = sub.add_parser(
        "plot", help="draw a fan, tornado, sobol, hist, waterfall, spider or shares chart"
    )
    plot.add_argument("kind", choices=PLOTS)
    plot.add_argument(
        "sources",
        nargs="+",
        help="fan: run files (several overlay); hist, shares (a segment's products stacked, "
        "--at <axis>=<segment>): a run file; tornado, waterfall, spider: a scenario TOML; "
        "sobol: a file from sensitivity --method sobol --out",
    )
    plot.add_argument("--out", required=True, help="picture file, .png or .svg")
    plot.add_argument("--output", default="total")
    plot.add_argument("--by", choices=BY_CHOICES, default="global")
    plot.add_argument("--at", nargs="+", default=[], metavar="DIM=LABEL")
    plot.add_argument("--top", type=int, default=12)


@command("plot", _add_plot)
def _plot(args: argparse.Namespace) -> int:
    from netsim.analyze.cells import default_cell, parse_cell
    from netsim.present import plots
    from netsim.run.reading import open_analysis

    kind, sources = args.kind, args.sources
    if kind != "fan" and len(sources) != 1:
        raise ScenarioError(f"plot {kind} takes one source, got {len(sources)}")
    _top(args.top)
    cell = parse_cell(args.at)
    with _outputs(_output(args.out, plots.FORMATS, list(sources))) as (out,):
        if kind == "fan":
            path = _fan(args, cell, out)
        elif kind == "hist":
            path = _histogram(args, cell, out)
        elif kind == "shares":
            path = _shares(args.sources[0], cell, out)
        elif kind == "sobol":
            result = open_analysis(sources[0], SOBOL_VARIABLES, "sensitivity --method sobol --out")
            path = plots.sobol_bars(
                result, default_cell(result["total_order"], cell), out, args.top
            )
        else:
            path = _plot_of_scenario(args, cell, out)
    print(f"wrote {path}")
    return 0


def _fan(args: argparse.Namespace, cell: dict[str, Any], out: Any) -> Path:
    """The fan chart of one output's cell of each run, with each run's base case."""
    from netsim.analyze.cells import run_base_case, select_cell, select_output
    from netsim.model.layout import OutputLayout
    from netsim.present import plots
    from netsim.present.labels import chart_title
    from netsim.run.reading import open_run, run_kind
    from netsim.run.reduced import reduced_name

    runs, bases = {}, {}
    for label, source in zip(_labels(args.sources), args.sources, strict=True):
        with _naming(source):
            run = open_run(source)
            if run_kind(run) == "bands":
                OutputLayout.from_dataset(run, source).check(args.output, args.by)
                data = run[reduced_name(args.output, args.by)]
            else:
                data = select_output(run, args.output, args.by)
            data = select_cell(data, cell) if cell else data
            extra = [d for d in data.dims if d not in ("draw", "quantile", "year")]
            if extra:
                raise ScenarioError(f"plot fan: --at must pick one label of {', '.join(extra)}")
            runs[label] = data
            base = run_base_case(run, args.output, args.by)
            bases[label] = select_cell(base, cell) if cell else base
    unit = next(iter(runs.values())).attrs.get("units", "")
    title = chart_title(args.output, cell)
    if len(runs) > 1:
        title += ": " + ", ".join(runs)
    return plots.fan_chart(runs, out, title, ylabel=unit, base=bases)


def _histogram(args: argparse.Namespace, cell: dict[str, Any], out: Any) -> Path:
    from netsim.analyze.cells import (
        default_cell,
        load_draws,
        require_draws,
        select_cell,
        select_output,
    )
    from netsim.present import plots
    from netsim.present.labels import chart_title
    from netsim.run.reading import open_run

    with _naming(args.sources[0]):
        run = open_run(args.sources[0])
        require_draws(run, "a histogram")
        data = select_output(run, args.output, args.by)
        chosen = default_cell(data.isel(draw=0), cell)
        values = load_draws(select_cell(data, chosen), "the draws of one cell")
    return plots.histogram(values, out, chart_title(args.output, chosen))


def _reconcile_products(args: argparse.Namespace) -> int:
    """``netsim reconcile --by product|company``: each product's two views, worldwide."""
    from netsim.analyze.product_reconcile import reconcile_products
    from netsim.present.products import reconcile_product_tables
    from netsim.run.writing import write_netcdf

    if args.plot:
        raise ScenarioError("--plot draws the market's fans: not with --by product or company")
    reads = [args.config]
    csv_file, out = _output(args.csv, (".csv",), reads), _output(args.out, (".nc",), reads)
    with _outputs(csv_file, out) as outputs:
        scenario = load_changed(args)
        _refuse_inputs(outputs, scenario.source_files)
        result = reconcile_products(scenario, args.draws, args.seed, args.sampler, args.by)
        known = result["year"].values.tolist()
        for year in args.year or ():
            if year not in known:
                raise ScenarioError(f"--year {year}: the scenario has years {known}")
        tables = reconcile_product_tables(result, args.year)
        written = _write_all(
            (lambda: csv_file.write_text(tables[0].csv())) if csv_file else None,
            (lambda: write_netcdf(result, out)) if out is not None else None,
        )
    print("\n\n".join(table.text() for table in tables))
    for path in written:
        print(f"\nwrote {path}")
    return 0


def _shares(source: str, cell: dict[str, Any], out: Any) -> Path:
    """The products of one segment (``--at <axis>=<segment>``) stacked over the years."""
    from netsim.analyze.cells import require_draws, run_scenario
    from netsim.model.layout import OutputLayout
    from netsim.present.products import segment_shares_chart
    from netsim.run.reading import open_run

    with _naming(source):
        run = open_run(source)
        require_draws(run, "the products' shares")
        axis = OutputLayout.from_dataset(run).product_axis
        if not axis:
            raise ScenarioError(f"plot shares: {source} has no products")
        if list(cell) != [axis]:
            raise ScenarioError(
                f"plot shares: --at must name one segment of the products' axis: {axis}=<segment>"
            )
        scenario = run_scenario(run)
        labels = {p.id: p.label for p in scenario.products}
        segments = {p.id: p.segments for p in scenario.products}
        return segment_shares_chart(run, str(cell[axis]), segments, out, labels)


def _plot_of_scenario(args: argparse.Namespace, cell: dict[str, Any], out: Any) -> Path:
    """tornado, waterfall and spider: analyses of a scenario, its inputs by their labels."""
    import netsim
    from netsim.analyze.cells import default_cell
    from netsim.analyze.sensitivity import analyze
    from netsim.analyze.spider import spider
    from netsim.present import plots
    from netsim.present.labels import parameter_labels

    scenario = netsim.load_scenario(args.sources[0])
    _refuse_inputs((out,), scenario.source_files)
    labels = parameter_labels(scenario)
    if args.kind == "spider":
        result = spider(scenario, args.output, args.by)
        chosen = default_cell(result["base"], cell)
        return plots.spider_chart(result, chosen, out, min(args.top, 8), labels)
    method = "tornado" if args.kind == "tornado" else "attribution"
    result, chosen = analyze(scenario, method, args.output, args.by, cell=cell)
    if args.kind == "tornado":
        return plots.tornado_chart(result, chosen, out, args.top, labels)
    return plots.waterfall(result, chosen, out, labels)


def _add_report(sub: Any) -> None:
    report = sub.add_parser("report", help="one self-contained HTML report of a run")
    report.add_argument("run", help="a run written by netsim run (.nc or .zarr)")
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.add_argument("--sensitivity", help="a Sobol file (sensitivity --method sobol --out)")
    report.add_argument("--at", nargs="+", default=[], metavar="DIM=LABEL")


@command("report", _add_report)
def _report(args: argparse.Namespace) -> int:
    from netsim.analyze.cells import default_cell, parse_cell
    from netsim.present.report import write_report
    from netsim.run.reading import open_analysis, open_run

    reads = [args.run] + ([args.sensitivity] if args.sensitivity else [])
    with _outputs(_output(args.out, (".html", ".htm"), reads)) as (out,):
        with _naming(args.run):
            run = open_run(args.run)
        sensitivity, cell = None, None
        if args.sensitivity:
            sensitivity = open_analysis(
                args.sensitivity, SOBOL_VARIABLES, "sensitivity --method sobol --out"
            )
            cell = default_cell(sensitivity["total_order"], parse_cell(args.at))
        with _naming(args.run):  # the report reconciles the run's draws
            path = write_report(run, out, sensitivity=sensitivity, cell=cell)
    print(f"wrote {path}")
    return 0


@contextmanager
def _naming(run: str) -> Iterator[None]:
    """Name the run file in a refusal that comes from its contents (a damaged run found
    while analysing it, e.g. a NaN draw) and does not name it yet."""
    try:
        yield
    except OutputError:
        raise  # names the output that failed
    except ScenarioError as error:
        if error.path is None and str(run) not in str(error):
            raise ScenarioError(str(error), path=str(run)) from None
        raise


def _write_all(*writes: Callable[[], Path] | None) -> list[Path]:
    """Run each write (each puts one whole file in place); if one fails or a signal
    ends the command, the files already put in place are removed again: all or nothing."""
    written: list[Path] = []
    try:
        for write in writes:
            if write is not None:
                written.append(Path(write()))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written


def _labels(paths: list[str]) -> list[str]:
    """A label for each file: its name without suffix, or the path as given where two
    names would read the same (two scenarios or runs never share a row or a legend)."""
    stems = [Path(p).stem for p in paths]
    labels = [p if stems.count(stem) > 1 else stem for stem, p in zip(stems, paths, strict=True)]
    # the same file twice: numbered, so neither replaces the other
    return [
        f"{label} ({labels[:i].count(label) + 1})" if labels.count(label) > 1 else label
        for i, label in enumerate(labels)
    ]


def _refuse_inputs(outputs: tuple[Any, ...], reads: tuple[str, ...]) -> None:
    """Refuse outputs that are files known only after loading (an overlay's parents)."""
    for output in outputs:
        if output is not None:
            output.refuse_inputs(reads)


class _outputs:
    """Hold output files for a command: each is removed unless committed."""

    def __init__(self, *outputs: Any):
        self.outputs = outputs
        targets = [str(o.target) for o in outputs if o is not None]
        repeated = sorted({t for t in targets if targets.count(t) > 1})
        if repeated:
            for output in outputs:
                if output is not None:
                    output.discard()
            raise ScenarioError(f"two outputs of this command are the same file: {repeated[0]}")

    def __enter__(self) -> tuple[Any, ...]:
        return self.outputs

    def __exit__(self, *exc: object) -> None:
        for output in self.outputs:
            if output is not None:
                output.discard()
