"""The registry of ``netsim``'s commands: each verb's parser and its function, side by side.

A command is a function ``action(args) -> exit status`` registered with :func:`command`,
which names the verb, the function that adds its parser to the ``netsim`` parser, and
whether the command may use Dask (a command that cannot is run without it,
:func:`netsim.cli.entry.leave_out_dask`). The modules holding commands are listed once,
in :data:`COMMAND_MODULES`, in the order ``netsim --help`` lists them. Like the rest of
the parser's modules they import nothing heavy at the top: numpy, numba and xarray load
inside an action, once the command is known.

Adding a command: a parser function and an action beside it, the decorator, and (for a
new module) its name in :data:`COMMAND_MODULES`; CONTRIBUTING.md lists the tests.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["COMMANDS", "COMMAND_MODULES", "Command", "command", "load_commands"]

# the modules whose import registers the commands, in the order of netsim --help
COMMAND_MODULES = (
    "netsim.cli.run",
    "netsim.cli.validate",
    "netsim.cli.analysis",
    "netsim.cli.draft",
    "netsim.cli.serve",
    "netsim.cli.value",
)


def _always(args: argparse.Namespace) -> bool:
    return True


def _never(args: argparse.Namespace) -> bool:
    return False


def _default_threads(args: argparse.Namespace) -> int | None:
    return None


@dataclass(frozen=True)
class Command:
    """One verb of ``netsim``.

    Attributes
    ----------
    name : str
        The verb (``netsim <name> ...``).
    parser : callable
        ``parser(subparsers)`` adds the verb's parser and its arguments.
    action : callable
        ``action(args)`` runs the command on the parsed arguments; returns the exit status.
    uses_dask : callable
        ``uses_dask(args)``: whether this invocation may need Dask.
    threads : callable
        ``threads(args)``: the numba threads a process of its own runs this invocation
        on, or None for numba's default (every core).
    """

    name: str
    parser: Callable[[Any], Any]
    action: Callable[[argparse.Namespace], int]
    uses_dask: Callable[[argparse.Namespace], bool]
    threads: Callable[[argparse.Namespace], int | None] = _default_threads


COMMANDS: dict[str, Command] = {}
"""Every command, by its verb, in the order registered."""


def command(
    name: str,
    parser: Callable[[Any], Any],
    *,
    uses_dask: bool | Callable[[argparse.Namespace], bool] = True,
    threads: Callable[[argparse.Namespace], int | None] | None = None,
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Register the decorated function as the action of ``netsim <name>``.

    Parameters
    ----------
    name : str
        The verb.
    parser : callable
        Adds the verb's parser to the ``netsim`` subparsers (``parser(subparsers)``).
    uses_dask : bool or callable
        Whether the command may need Dask; a callable decides from the parsed arguments.
    threads : callable, optional
        The numba threads for an invocation, decided from the parsed arguments (None:
        numba's default); applied only in a process of the command's own (the console
        script), as leaving out Dask is.

    Raises
    ------
    ValueError
        A verb registered twice.
    """
    decide = uses_dask if callable(uses_dask) else (_always if uses_dask else _never)

    def register(action: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
        if name in COMMANDS:
            raise ValueError(f"command {name!r} is registered twice")
        COMMANDS[name] = Command(name, parser, action, decide, threads or _default_threads)
        return action

    return register


def load_commands() -> dict[str, Command]:
    """Import every module of :data:`COMMAND_MODULES` (registering its commands) and
    return :data:`COMMANDS`."""
    for module in COMMAND_MODULES:
        importlib.import_module(module)
    return COMMANDS
