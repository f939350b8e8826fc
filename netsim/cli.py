"""The ``netsim`` command line: parses, loads, calls the library, prints and writes.

Bad input (a ``ScenarioError``) prints one line ``netsim: error: ...`` to stderr
and exits with status 2, with no traceback and nothing written.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from netsim.cli_analysis import add_analysis_commands, run_analysis_command
from netsim.cli_run import add_run_command, format_bands, run_command
from netsim.errors import ScenarioError

EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool its reader left


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: status 2, one line
        raise ScenarioError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="netsim", description="Monte Carlo scenario simulation for market forecasts"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    add_run_command(sub)

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
            return run_command(args)
        if args.command == "validate":
            return _validate(args)
        return run_analysis_command(args)
    except ScenarioError as error:
        print(f"netsim: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("netsim: interrupted; nothing written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader stopped early (netsim ... | head): files are already written; end
        # quietly, as a Unix tool killed by SIGPIPE would, without a traceback when Python
        # flushes the closed stdout on exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["format_bands", "main"]
