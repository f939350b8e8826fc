"""The ``netsim`` command line: parses, loads, calls the library, prints and writes.

Bad input (a ``ScenarioError``) prints one line ``netsim: error: ...`` to stderr
and exits with status 2, with no traceback and nothing written.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import xarray as xr

from netsim.cli_analysis import add_analysis_commands, run_analysis_command
from netsim.errors import ScenarioError

EXIT_USAGE = 2
DEFAULT_DRAWS = 20_000
PROGRESS_AFTER_SECONDS = 2.0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: status 2, one line
        raise ScenarioError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="netsim", description="Monte Carlo scenario simulation for market forecasts"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="simulate a scenario, print its bands, write NetCDF")
    run.add_argument("config", help="scenario TOML file")
    run.add_argument(
        "--draws",
        type=int,
        default=DEFAULT_DRAWS,
        help=f"number of draws (default {DEFAULT_DRAWS:,})",
    )
    run.add_argument("--seed", type=int, default=0, help="random seed, a whole number >= 0")
    run.add_argument("--sampler", default="mc", choices=["mc", "lhs", "sobol"])
    run.add_argument("--out", help="write the run to this NetCDF file (.nc)")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario value (repeatable)",
    )
    run.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    run.add_argument(
        "--precision",
        help="run in batches until every reported percentile's 95 %% interval is within this "
        "relative half-width (e.g. 0.5%%); --draws is then the first batch",
    )
    run.add_argument(
        "--max-draws",
        type=int,
        default=2_000_000,
        help="stop --precision runs here (default 2,000,000)",
    )

    validate = sub.add_parser("validate", help="check a scenario and show its calibration")
    validate.add_argument("config", help="scenario TOML file")
    validate.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    add_analysis_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``netsim`` console script. Returns the exit status."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "run":
            return _run(args)
        if args.command == "validate":
            return _validate(args)
        return run_analysis_command(args)
    except ScenarioError as error:
        print(f"netsim: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("netsim: interrupted; nothing written", file=sys.stderr)
        return 130


def _validate(args: argparse.Namespace) -> int:
    import netsim
    from netsim.calibration import target_rows

    scenario = netsim.load_scenario(args.config, args.set)
    cal = scenario.calibration
    print(
        f"{scenario.name}: {len(scenario.parameters)} parameters, "
        f"{len(scenario.countries)} countries, {len(scenario.axes)} axes, "
        f"{len(scenario.drivers)} drivers/restraints, {len(scenario.events)} events"
    )
    if cal.inherited_from:
        print(f"calibration inherited from {cal.inherited_from} (overlay, not recalibrated)")
    print("\nsolved growth parameters (% per year)")
    rows = [
        ("baseline", "baseline", cal.baseline),
        ("first_year_step", "first_year_step", cal.first_year_step),
    ]
    rows += [(f"region premium {r}", f"region:{r}", v) for r, v in cal.region_premium.items()]
    rows += [
        (f"segment premium {a}/{s}", f"segment:{a}:{s}", v)
        for (a, s), v in cal.segment_premium.items()
    ]
    for label, key, value in rows:
        how = "inherited" if cal.inherited_from else "solved" if key in cal.solved else "given"
        print(f"  {label:<52} {100 * value:9.4f}  ({how})")
    print("\ncalibration targets")
    print(f"  {'target':<44} {'unit':<12} {'wanted':>10} {'+-':>7} {'achieved':>12}  ok")
    for row in target_rows(scenario):
        verdict = "yes" if row["ok"] else "NO"
        if cal.inherited_from and not row["ok"]:
            verdict = "(overlay: differs by design)"
        print(
            f"  {row['target']:<44} {row['unit']:<12} {row['wanted']:>10g} "
            f"{row['tolerance']:>7g} {row['achieved']:>12.5f}  {verdict}"
        )
    return 0


def _run(args: argparse.Namespace) -> int:
    import netsim
    from netsim.io import check_writable, write_netcdf

    if args.draws < 1:
        raise ScenarioError(f"--draws {args.draws} must be >= 1")
    if args.seed < 0:
        raise ScenarioError(f"--seed {args.seed} must be >= 0")
    if args.out:
        check_writable(args.out)
    precision = _percent(args.precision) if args.precision else None
    if precision is not None and args.sampler != "mc":
        raise ScenarioError("--precision needs --sampler mc (independent, index-keyed draws)")
    if precision is not None and args.max_draws < args.draws:
        raise ScenarioError(f"--max-draws {args.max_draws} is below --draws {args.draws}")
    scenario = netsim.load_scenario(args.config, args.set)
    started = time.perf_counter()
    with _progress(None if precision else args.draws, disabled=args.no_progress) as update:
        if precision is None:
            dataset = netsim.simulate(
                scenario, args.draws, args.seed, args.sampler, progress=update
            )
        else:
            from netsim.convergence import simulate_to_precision

            dataset = simulate_to_precision(
                scenario,
                precision,
                args.seed,
                first_draws=args.draws,
                max_draws=args.max_draws,
                progress=update,
            )
    elapsed = time.perf_counter() - started
    draws = int(dataset.sizes["draw"])
    print(
        f"{scenario.name}: {draws:,} draws, sampler {args.sampler}, seed {args.seed} "
        f"({elapsed:.2f} s)"
    )
    if precision is not None:
        met = "met" if dataset.attrs["precision_met"] else "NOT met (--max-draws reached)"
        print(
            f"precision: target +-{100 * precision:g} %, achieved "
            f"+-{100 * dataset.attrs['precision_achieved']:.3f} % (widest 95 % interval of a "
            f"reported percentile), {met}"
        )
    print(format_bands(dataset, scenario))
    if args.out:
        path = write_netcdf(dataset, args.out)
        print(f"\nwrote {path}")
    return 0


def _percent(text: str) -> float:
    """``"0.5%"`` -> 0.005; a bare number is a fraction (``"0.005"``)."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ScenarioError(f"--precision {text!r} must look like 0.5% or 0.005") from None
    if not 0.0 < value < 1.0:
        raise ScenarioError(f"--precision {text!r} must lie between 0 and 100 %")
    return value


class _progress:
    """A tqdm bar on stderr that appears only if the run lasts over two seconds."""

    def __init__(self, total: int | None, disabled: bool):
        self.total, self.disabled, self.bar = total, disabled, None

    def __enter__(self):
        if self.disabled:
            return None
        from tqdm import tqdm

        self.bar = tqdm(
            total=self.total,
            unit="draw",
            unit_scale=True,
            delay=PROGRESS_AFTER_SECONDS,
            file=sys.stderr,
            leave=False,
        )
        return self.bar.update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _table(title: str, band: xr.DataArray, row_dim: str, base: xr.DataArray | None = None) -> str:
    extra = f" {'base case':>10}" if base is not None else ""
    lines = [title, f"  {row_dim:<28} {'P5':>10} {'P50':>10} {'P95':>10}{extra}"]
    for label in band[row_dim].values:
        values = list(band.sel({row_dim: label}).values)
        if base is not None:
            values.append(float(base.sel({row_dim: label})))
        lines.append(f"  {label!s:<28} " + " ".join(f"{v:>10,.1f}" for v in values))
    return "\n".join(lines)


def format_bands(dataset: xr.Dataset, scenario) -> str:
    """The run summary: P5/P50/P95 of the global total by year (beside the
    deterministic base case), and of the final year by region and by the first
    segmentation axis (USD million)."""
    import netsim

    q = [0.05, 0.5, 0.95]
    final = int(dataset["year"].values[-1])
    total = netsim.global_total(dataset["total"])
    base = netsim.global_total(netsim.deterministic(scenario)["total"])
    parts = [_table("\nglobal total, USD million", netsim.bands(total, q).T, "year", base)]
    regional = netsim.bands(netsim.by_region(dataset["total"].sel(year=final)), q)
    parts.append(_table(f"\n{final} by region, USD million", regional.T, "region"))
    axis = scenario.axes[0].name
    segment = netsim.bands(netsim.global_total(dataset[f"by_{axis}"].sel(year=final)), q)
    parts.append(_table(f"\n{final} by {axis}, USD million", segment.T, axis))
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["format_bands", "main"]
