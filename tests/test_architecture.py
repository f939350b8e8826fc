"""The package's shape: folders in the order data flows, imports only downward, no circle.

Every import statement of every module is read (deferred imports inside functions
included, ``if TYPE_CHECKING:`` blocks excluded), so a circle dodged by importing
inside a function is still a circle here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import netsim
from netsim.cli.entry import _parser

PACKAGE = Path(netsim.__file__).parent

# the layers, bottom first: a module may import its own layer and the layers below
LAYERS = (
    (
        "netsim",
        "netsim.errors",
        "netsim.defaults",
        "netsim.cache_files",
        "netsim.output_files",
        "netsim.xarray_setup",
    ),
    ("netsim.kernels",),
    ("netsim.stats",),
    ("netsim.scenario",),
    ("netsim.sampling",),
    ("netsim.model",),
    ("netsim.run",),
    ("netsim.analyze",),
    ("netsim.drafting",),
    ("netsim.present",),
    ("netsim.cli",),
)
STANDALONE = ("netsim.analytic",)  # the analytic test models import nothing of netsim


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    for index, members in enumerate(LAYERS):
        if module in members or any(module.startswith(f"{m}.") for m in members[1:] or members):
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path) -> set[str]:
    """Every netsim module ``path`` imports (the module, not the names)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _type_checking(node):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "netsim")
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.split(".")[0] == "netsim"
        ):
            for alias in node.names:  # "from netsim.run import planning" imports a module
                candidate = f"{node.module}.{alias.name}"
                exists = (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py")
                found.add(candidate if exists.exists() else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imports_of(path) - {name} for name, path in modules.items()}


def test_no_import_circle(graph):
    edges = graph
    state: dict[str, int] = {}
    path: list[str] = []

    def walk(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges.get(module, ())):
            if target not in graph or target == "netsim":
                continue
            if state.get(target) == 1:
                circle = [*path[path.index(target) :], target]
                raise AssertionError("import circle: " + " -> ".join(circle))
            if target not in state:
                walk(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            walk(module)


def test_imports_only_go_down_the_layers(graph):
    upward = []
    for module, targets in graph.items():
        if module in STANDALONE:
            assert not targets, f"{module} imports {targets}"
            continue
        if module == "netsim":  # the lazy public names (PEP 562) point at every layer
            continue
        for target in targets:
            if target in STANDALONE or layer_of(target) > layer_of(module):
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that go up a layer: " + "; ".join(sorted(upward))


def test_the_market_unit_is_written_once():
    hits = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if '"USD million"' in line
    ]
    assert hits == ["defaults.py:" + hits[0].split(":")[1]], hits


def test_every_public_name_is_documented_and_typed():
    assert (PACKAGE / "py.typed").is_file()
    for name in netsim.__all__:
        value = getattr(netsim, name)
        if callable(value):
            assert value.__doc__, f"netsim.{name} has no docstring"


MAX_FUNCTION_LINES = 100  # a function's lines, its def to its last line (docstring included)
MAX_MODULE_LINES = 800
# none left: a function or module over the limits is split, not listed here
ALLOWED_LONG_FUNCTIONS: set[tuple[str, str]] = set()
ALLOWED_LONG_MODULES: set[str] = set()


def _source_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_function_outside_the_kernels_is_over_100_lines():
    too_long = []
    for path in _source_files():
        module = path.relative_to(PACKAGE).as_posix()
        if module.startswith("kernels/"):  # numba kernels are one loop nest each
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and (module, node.name) not in ALLOWED_LONG_FUNCTIONS:
                    too_long.append(f"{module}:{node.lineno} {node.name} ({lines} lines)")
    assert not too_long, "functions over 100 lines: " + "; ".join(too_long)


def test_no_module_is_over_800_lines():
    too_long = [
        f"{path.relative_to(PACKAGE).as_posix()} ({lines} lines)"
        for path in _source_files()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
        and path.relative_to(PACKAGE).as_posix() not in ALLOWED_LONG_MODULES
    ]
    assert not too_long, "modules over 800 lines: " + "; ".join(too_long)


def test_the_allowances_are_still_needed():
    # an entry whose function or module has been shrunk is taken off the list
    lengths = {}
    for path in _source_files():
        module = path.relative_to(PACKAGE).as_posix()
        lengths[module] = len(path.read_text().splitlines())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lengths[(module, node.name)] = node.end_lineno - node.lineno + 1
    stale = [f for f in ALLOWED_LONG_FUNCTIONS if lengths.get(f, 0) <= MAX_FUNCTION_LINES]
    stale += [m for m in ALLOWED_LONG_MODULES if lengths.get(m, 0) <= MAX_MODULE_LINES]
    assert not stale, f"no longer over the limits, take them off the allow-lists: {stale}"


def subcommands() -> list[str]:
    parser = _parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


@pytest.mark.slow
@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_has_help(command):
    done = subprocess.run(
        [sys.executable, "-m", "netsim.cli", command, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"usage: netsim {command}" in done.stdout and not done.stderr


@pytest.mark.slow
def test_version_and_top_level_help():
    for argv, expected in ((["--version"], f"netsim {netsim.__version__}"), (["--help"], "run")):
        done = subprocess.run(
            [sys.executable, "-m", "netsim.cli", *argv],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout


CASES_WITH_MADE_UP_IDS = """
import pytest

@pytest.mark.parametrize("edit", [lambda h: h, str.upper])
def test_functions(edit):
    pass

@pytest.mark.parametrize("table", [{"a": [1]}, {"a": 1}])
def test_tables(table):
    pass

@pytest.mark.parametrize("argv", [["bands", "RUN"], ["x" * 101]])
def test_command_lines(argv):
    pass
"""


@pytest.mark.slow
def test_a_made_up_parametrised_id_fails_its_test(tmp_path):
    """tests/readable_ids.py fails (at set-up) a case whose id pytest made up (``<lambda>``, an
    argument's name and index) and names it; ids read from the values pass."""
    (tmp_path / "conftest.py").write_text((Path(__file__).parent / "readable_ids.py").read_text())
    (tmp_path / "test_ids.py").write_text(CASES_WITH_MADE_UP_IDS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rE", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    summary = [line.split(" ") for line in done.stdout.splitlines()]
    failed = sorted(words[1] for words in summary if words[0] == "ERROR")
    assert failed == [
        "test_ids.py::test_command_lines[argv1]",
        "test_ids.py::test_functions[<lambda>]",
        "test_ids.py::test_tables[table0]",
    ], done.stdout
    assert "id part(s) '<lambda>' made up by pytest" in done.stdout, done.stdout
    assert "3 passed, 3 errors" in done.stdout, done.stdout


def _end_to_end(node: ast.FunctionDef) -> bool:
    """Whether the test calls the command line's ``main`` or starts a subprocess."""
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            name = ast.unparse(call.func)
            if name == "main" or name.startswith("subprocess.") or name.endswith("Popen"):
                return True
    return False


def _marked_slow(node: ast.FunctionDef, module: ast.Module) -> bool:
    marks = [ast.unparse(d) for d in node.decorator_list]
    marks += [
        ast.unparse(statement.value)
        for statement in module.body
        if isinstance(statement, ast.Assign) and "pytestmark" in ast.unparse(statement.targets[0])
    ]
    return any("mark.slow" in mark for mark in marks)


def test_end_to_end_tests_are_marked_slow():
    """A test that goes through the command line in process or starts a subprocess is
    marked ``slow``, so ``make test-fast`` leaves it out."""
    unmarked = [
        f"{path.name}::{node.name}"
        for path in sorted(Path(__file__).parent.glob("test_*.py"))
        for module in [ast.parse(path.read_text())]
        for node in module.body
        if isinstance(node, ast.FunctionDef)
        and node.name.startswith("test_")
        and _end_to_end(node)
        and not _marked_slow(node, module)
    ]
    assert not unmarked, "end to end, not marked slow: " + ", ".join(unmarked)
