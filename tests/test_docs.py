"""The documentation runs as written: every Python block of README.md and docs/*.md, in
order per file, and every shell block that calls ``netsim``, from a copy of the
repository's root.

A block's fence says what it is: ```python and ```sh (or ```bash) are run, ```text is
output or a synopsis (never run), ```toml is a file's text (parsed; the overlay the
what-if page saves is written where the commands after it expect it). A run with many
draws is run with fewer through :data:`SUBSTITUTIONS`, an explicit table of the text the
document shows and the text the test runs: the document itself is never edited for it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import ROOT

DOCUMENTS = ("README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")))

# Blocks under these headings are not run here: the draft page opens with the command's
# synopsis (REPORT.txt, SCENARIO.toml are placeholders), its examples are covered by the
# draft tests (tests/test_draft.py)
SKIPPED_HEADINGS = {("docs/draft.md", "Drafting a scenario from a report: `netsim draft`")}

# (document, text it shows) -> the text the test runs instead: fewer draws, same command
SUBSTITUTIONS = {
    ("README.md", "draws=100_000"): "draws=2_000",
    (
        "README.md",
        "netsim reconcile configs/net_market.toml",
    ): "netsim reconcile configs/net_market.toml --draws 2000",
    ("docs/whatif.md", "--draws 10000 --seed 0"): "--draws 2000 --seed 0",
    ("docs/whatif.md", "netsim run configs/net_market.whatif-1.toml"): (
        "netsim run configs/net_market.whatif-1.toml --draws 2000"
    ),
}

# (document, heading) of a ```toml block -> the file of the repository copy it is written
# to before that document's commands run (the what-if page saves it beside the scenario)
FILES_FROM_BLOCKS = {("docs/whatif.md", "Save as overlay"): "configs/net_market.whatif-1.toml"}

LANGUAGES = {"python", "sh", "bash", "text", "toml"}
SHELL = {"sh", "bash"}
FENCE = re.compile(r"^```(\S*)\s*$")


@dataclass(frozen=True)
class Block:
    document: str
    heading: str
    language: str
    text: str
    line: int  # of the opening fence, counted from 1

    @property
    def skipped(self) -> bool:
        return (self.document, self.heading) in SKIPPED_HEADINGS

    @property
    def calls_netsim(self) -> bool:
        return any(line.startswith("netsim ") for line in self.text.splitlines())

    def runnable_text(self) -> str:
        text = self.text
        for (document, shown), run in SUBSTITUTIONS.items():
            if document == self.document:
                text = text.replace(shown, run)
        return text


def blocks(document: str) -> list[Block]:
    """Every fenced block of a document, with the heading it stands under."""
    found, heading, opened, language, lines = [], "", None, "", []
    for number, line in enumerate((ROOT / document).read_text().splitlines(), start=1):
        fence = FENCE.match(line)
        if opened is None and fence:
            opened, language, lines = number, fence.group(1), []
        elif opened is not None and line.rstrip() == "```":
            found.append(Block(document, heading, language, "\n".join(lines) + "\n", opened))
            opened = None
        elif opened is not None:
            lines.append(line)
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
    assert opened is None, f"{document}: the block opened on line {opened} is never closed"
    return found


ALL_BLOCKS = [block for document in DOCUMENTS for block in blocks(document)]


def _block_id(block: Block) -> str:
    return f"{block.document}:{block.line}"


@pytest.fixture
def repository_copy(tmp_path) -> Path:
    """The files the documented commands read, in a folder of their own (their outputs
    land there, not in the repository)."""
    for folder in ("configs", "examples", "tests/fixtures/reports"):
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_every_block_says_what_it_is():
    """A fence names its language (python, sh, text, toml), and no command starts with a
    prompt: a block pasted as it is runs."""
    unmarked = [_block_id(b) for b in ALL_BLOCKS if not b.skipped and b.language not in LANGUAGES]
    assert unmarked == []
    prompts = [_block_id(b) for b in ALL_BLOCKS if re.search(r"^\$ ", b.text, re.M)]
    assert prompts == []
    shells = [b for b in ALL_BLOCKS if b.language in SHELL and not b.skipped]
    assert [_block_id(b) for b in shells if not b.calls_netsim and "make " not in b.text] == []


def test_the_substitutions_and_skips_still_match_the_documents():
    """Each entry of the tables names text a document still shows (a stale one would let
    a command run unchanged, or hide a block for no reason)."""
    for (document, shown), _ in SUBSTITUTIONS.items():
        assert shown in (ROOT / document).read_text(), (document, shown)
    headings = {(b.document, b.heading) for b in ALL_BLOCKS}
    assert headings >= SKIPPED_HEADINGS
    assert set(FILES_FROM_BLOCKS) <= {(b.document, b.heading) for b in ALL_BLOCKS}


@pytest.mark.parametrize(
    "block",
    [pytest.param(b, id=_block_id(b)) for b in ALL_BLOCKS if b.language == "toml"],
)
def test_every_toml_block_is_toml(block):
    tomllib.loads(block.text)


PYTHON_DOCUMENTS = sorted({b.document for b in ALL_BLOCKS if b.language == "python"})


@pytest.mark.slow
@pytest.mark.parametrize("document", [pytest.param(d, id=d) for d in PYTHON_DOCUMENTS])
def test_python_blocks_run_in_order(document, repository_copy, monkeypatch, capsys):
    """The document's Python blocks, one after the other in one namespace, as a reader
    pastes them into one session."""
    monkeypatch.chdir(repository_copy)
    namespace: dict[str, object] = {"__name__": "__doc_test__"}
    for block in (b for b in ALL_BLOCKS if b.document == document and b.language == "python"):
        if block.skipped:
            continue
        code = compile(block.runnable_text(), f"{document}, block on line {block.line}", "exec")
        exec(code, namespace)
    capsys.readouterr()


SHELL_BLOCKS = [b for b in ALL_BLOCKS if b.language in SHELL and b.calls_netsim and not b.skipped]


def _netsim_on_path() -> dict[str, str]:
    """The environment of a shell that finds ``netsim`` (the one installed beside this
    Python, as ``make`` installs it)."""
    folder = Path(sys.executable).parent
    assert (folder / "netsim").exists(), f"no netsim command beside {sys.executable}"
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}


def _following_output(block: Block) -> Block | None:
    """The ```text block right after a command's block: what the document says it prints."""
    position = ALL_BLOCKS.index(block)
    after = ALL_BLOCKS[position + 1] if position + 1 < len(ALL_BLOCKS) else None
    if after is None or after.document != block.document or after.language != "text":
        return None
    return after


@pytest.mark.slow
@pytest.mark.parametrize("block", [pytest.param(b, id=_block_id(b)) for b in SHELL_BLOCKS])
def test_shell_blocks_run_from_the_repository_root(block, repository_copy):
    """Each command of the block runs (status 0) in a copy of the repository's root; where
    the document shows the output and the test ran the command as shown, the output's
    first line is the one printed."""
    for (document, heading), target in FILES_FROM_BLOCKS.items():
        if document == block.document:
            (toml,) = [
                b
                for b in ALL_BLOCKS
                if (b.document, b.heading, b.language) == (document, heading, "toml")
            ]
            (repository_copy / target).write_text(toml.text)
    script = block.runnable_text()
    result = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=repository_copy,
        env=_netsim_on_path(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{script}\n{result.stderr}"
    output = _following_output(block)
    if output is not None and script == block.text:
        first = output.text.splitlines()[0]
        assert first in result.stdout.splitlines(), (first, result.stdout)
