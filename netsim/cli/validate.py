"""``netsim validate``: load a scenario, check every rule and show its calibration."""

from __future__ import annotations

import argparse
from typing import Any

from netsim.cli.commands import command
from netsim.cli.run import add_recalibrate_argument

__all__ = ["add_validate_command", "validate_command"]


def add_validate_command(sub: Any) -> None:
    """Add ``netsim validate`` to the parser."""
    validate = sub.add_parser("validate", help="check a scenario and show its calibration")
    validate.add_argument("config", help="scenario TOML file")
    validate.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    add_recalibrate_argument(validate)


@command("validate", add_validate_command, uses_dask=False)
def validate_command(args: argparse.Namespace) -> int:
    """Check the scenario (the solver runs even when a solution is cached) and print it."""
    import netsim
    from netsim.present.tables import validation_text

    scenario = netsim.load_scenario(
        args.config, args.set, reuse_solution=False, recalibrate=args.recalibrate or None
    )
    print(validation_text(scenario))
    return 0
