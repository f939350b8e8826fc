"""``netsim draft REPORT.txt [REPORT.txt ...] --out SCENARIO.toml``: a scenario file from a
report's text, or from several reports of one market.

The command reads the report, drafts the scenario (:func:`netsim.draft`), loads
the drafted document with :func:`netsim.drafting.load` (validated and calibrated), and
only then writes it, atomically; it prints what it found, assumed and skipped. A report
that cannot be read, states no market size, whose own figures break a scenario limit, or
an ``--out`` that exists (without ``--force``) is refused in one line with nothing
written.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from netsim.cli.commands import command
from netsim.errors import ScenarioError

__all__ = ["MAX_REPORT_BYTES", "add_draft_command", "draft_command", "read_report_text"]

MAX_REPORT_BYTES = 20_000_000  # a report page is tens of kB; anything larger is not one


def add_draft_command(sub: Any) -> None:
    """Add ``netsim draft`` to the parser."""
    draft = sub.add_parser(
        "draft",
        help="draft a scenario file from a market report's text",
        description=(
            "Read a market report's plain text and write a scenario whose every report "
            "figure quotes the report and whose every gap is a marked draft default."
        ),
    )
    draft.add_argument(
        "report",
        metavar="REPORT.txt",
        nargs="+",
        help=(
            "the report as plain text (UTF-8); several reports of one market are drafted as "
            "one scenario spanning their figures"
        ),
    )
    draft.add_argument(
        "--out", required=True, metavar="SCENARIO.toml", help="the scenario file to write"
    )
    draft.add_argument("--force", action="store_true", help="replace --out if it exists")
    draft.add_argument("--name", help="the scenario's name (default: from the report's title)")
    draft.add_argument(
        "--central",
        default="median",
        metavar="REPORT.txt",
        help=(
            "with several reports: the report (its file name) whose figures are the central "
            "ones, not the reports' median"
        ),
    )


def read_report_text(path: str | Path) -> str:
    """A report's text, or a :class:`ScenarioError` in one line (missing, a folder,
    unreadable, binary, not UTF-8, empty)."""
    given = Path(path)
    if given.is_dir():
        raise ScenarioError("is a folder, not a report", path=str(path))
    if given.exists() and not given.is_file():
        raise ScenarioError("is not a regular file", path=str(path))
    try:
        with given.open("rb") as handle:
            raw = handle.read(MAX_REPORT_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError("file not found", path=str(path)) from None
    except OSError as error:
        raise ScenarioError(f"cannot be read ({error.strerror or error})", path=str(path)) from None
    if len(raw) > MAX_REPORT_BYTES:
        raise ScenarioError(
            f"is over {MAX_REPORT_BYTES // 1_000_000} MB: not a report's text", path=str(path)
        )
    if b"\x00" in raw:
        raise ScenarioError("is binary, not text: give the report as plain text", path=str(path))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(
            "is not UTF-8 text: give the report as plain text", path=str(path)
        ) from None
    if not text.strip():
        raise ScenarioError("is empty", path=str(path))
    return text


@command("draft", add_draft_command, uses_dask=False)
def draft_command(args: argparse.Namespace) -> int:
    """Run ``netsim draft``; returns the exit status."""
    from netsim.drafting import draft, load, summary
    from netsim.output_files import OutputFile, refuse_unless_writable_target

    # the report first (a folder given as the report is named as such), then the
    # output: a folder, a device or the report itself is refused before anything else
    if args.name is not None and not args.name.strip():
        raise ScenarioError("--name is empty: give the scenario a name, or leave --name out")
    reports = list(args.report)
    texts = [(Path(report).name, read_report_text(report)) for report in reports]
    if len(reports) == 1 and args.central != "median":
        raise ScenarioError("--central chooses among several reports: give more than one")
    refuse_unless_writable_target(args.out, reports)
    out = Path(args.out)
    if (out.exists() or out.is_symlink()) and not args.force:
        raise ScenarioError(f"{args.out} exists: use --force to replace it")
    named = reports[0] if len(reports) == 1 else None  # several name themselves in the line
    try:
        given = texts[0][1] if len(texts) == 1 else texts
        result = draft(given, name=args.name, central=args.central)
    except ScenarioError as error:
        raise ScenarioError(f"{error}; nothing written", path=named) from None
    output = OutputFile(out, reports)  # refuses a folder, a device, a report itself
    try:
        try:
            scenario = load(result)
        except ScenarioError as error:
            raise ScenarioError(f"{error}; nothing written", path=named, key=error.key) from None
        written = output.write_text(result.toml)
    finally:
        output.discard()
    print(summary(result))
    targets = len(scenario.targets)
    print(
        f"\nwrote {written}: validated and calibrated ({targets} target"
        f"{'s' if targets != 1 else ''} met); run it with: netsim run {written}"
    )
    return 0
