"""The registry of netsim's commands (netsim.cli.commands): every verb registered once,
its parser beside its action, its help, whether it may use Dask, and a parser that
imports nothing heavy."""

from __future__ import annotations

import argparse
import ast
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import netsim.cli
from netsim.cli.commands import COMMAND_MODULES, COMMANDS, command, load_commands
from netsim.cli.entry import _parser, _uses_dask

CLI = Path(netsim.cli.__file__).parent
VERBS = [
    "run",
    "validate",
    "bands",
    "sensitivity",
    "compare",
    "reconcile",
    "plot",
    "report",
    "draft",
    "serve",
    "value",
]


def _verbs_in_parser() -> list[str]:
    action = next(a for a in _parser()._actions if a.dest == "command")
    return list(action.choices)


def test_every_verb_is_registered_once_in_the_order_of_help():
    load_commands()
    assert list(COMMANDS) == VERBS
    assert _verbs_in_parser() == VERBS


def test_every_module_that_registers_a_command_is_listed():
    registering = set()
    for path in CLI.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and getattr(d.func, "id", "") == "command"
                for d in node.decorator_list
            ):
                registering.add(f"netsim.cli.{path.stem}")
    assert registering == set(COMMAND_MODULES)


@pytest.mark.parametrize("verb", [pytest.param(v, id=v) for v in VERBS])
def test_each_verb_has_help_and_its_parser_beside_its_action(verb, capsys):
    registered = load_commands()[verb]
    assert inspect.getmodule(registered.parser) is inspect.getmodule(registered.action)
    with pytest.raises(SystemExit) as done:
        _parser().parse_args([verb, "--help"])
    assert done.value.code == 0
    assert f"usage: netsim {verb}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "uses"),
    [
        pytest.param(["run", "a.toml"], False, id="run-in-memory"),
        pytest.param(["run", "a.toml", "--out", "r.nc", "--reduce"], False, id="run-reduced"),
        pytest.param(["run", "a.toml", "--out", "r.zarr"], True, id="run-zarr"),
        pytest.param(["run", "--resume", "r.zarr"], True, id="run-resume"),
        pytest.param(["run", "a.toml", "--scheduler", "tcp://h:1"], True, id="run-cluster"),
        pytest.param(["validate", "a.toml"], False, id="validate"),
        pytest.param(["draft", "a.txt", "--out", "b.toml"], False, id="draft"),
        pytest.param(["serve", "a.toml"], False, id="serve"),
        pytest.param(["value", "a.toml", "--product", "p"], False, id="value"),
        pytest.param(["bands", "r.nc"], True, id="bands"),
        pytest.param(["report", "r.nc", "--out", "r.html"], True, id="report"),
    ],
)
def test_each_command_says_whether_it_may_use_dask(argv, uses):
    assert _uses_dask(_parser().parse_args(argv)) is uses


def test_a_verb_registered_twice_is_refused():
    with pytest.raises(ValueError, match="command 'run' is registered twice"):
        command("run", lambda sub: None)(lambda args: 0)


def test_a_registered_action_is_the_function_itself():
    def action(args: argparse.Namespace) -> int:
        return 7

    name = "a-verb-of-this-test"
    try:
        assert command(name, lambda sub: None, uses_dask=False)(action) is action
        assert COMMANDS[name].action is action
        assert COMMANDS[name].uses_dask(argparse.Namespace()) is False
    finally:
        COMMANDS.pop(name, None)


def test_the_sensitivity_choices_are_the_library_s_methods():
    from netsim.analyze.sensitivity import METHODS as LIBRARY_METHODS
    from netsim.cli.analysis import METHODS

    assert METHODS == LIBRARY_METHODS


@pytest.mark.slow
def test_building_the_parser_imports_nothing_heavy():
    code = (
        "import sys; from netsim.cli.entry import _parser; _parser(); "
        "print(sorted(m for m in ('numpy', 'numba', 'xarray', 'scipy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
