"""Every figure-like span of a report is placed or listed: the amounts and percentages no
reader took are listed as skipped with their sentence (a table the draft does not read,
such as a revenue table of many rows, is listed once, with its row count)."""

from __future__ import annotations

import re

from netsim.drafting.read.figures import Findings, Notes
from netsim.drafting.read.numbers import DIGITS, MINUS, MONEY, too_long
from netsim.drafting.read.text import clean, sentences

FIGURE = re.compile(rf"{MONEY.pattern}|(?P<percent>{MINUS}{DIGITS}\s?%)", re.IGNORECASE)
MAX_LISTED = 200  # spans listed one by one; past this, one line for the rest
NOT_READ = "not read: no market size, share or growth rate recognised in its sentence"


def quotes_of(findings: Findings, notes: Notes, also: list[str]) -> str:
    """Every quote the readers kept (figures read, figures skipped, and ``also``: the
    figures a merge left out as the same), one a line, in lower case."""
    quotes = [*also, *(s.quote for s in findings.sizes)]
    quotes += [g.quote for g in (findings.growth,) if g is not None]
    for takeaway in findings.takeaways:
        quotes += [takeaway.sentence]
    quotes += [f.quote for f in (*findings.drivers, *findings.restraints)]
    quotes += [f"{s.figure}\n{s.sentence}" for s in notes.skipped]
    return "\n".join(quotes).lower()


def _unread(match: re.Match[str], covered: str) -> bool:
    """A span no quote holds (one with too many digits was listed by its reader, its
    quote cut short)."""
    return not too_long(match.group(0)) and clean(match.group(0)).lower() not in covered


def _table_row(line: str) -> bool:
    return line.lstrip().startswith("|") or line.count("|") >= 2


def list_unread(lines: list[str], covered: str, notes: Notes) -> None:
    """List each figure-like span of ``lines`` that ``covered`` (the quotes kept) does
    not hold; a table's unread spans are listed once for the table."""
    listed = 0
    block: list[str] = []
    unread_in_block = 0

    def close_block() -> None:
        nonlocal listed, unread_in_block
        if block and unread_in_block:
            notes.skip(
                f"{unread_in_block} figures in a table of {len(block)} rows",
                block[0],
                "a table the draft does not read (it reads overview boxes and impact tables)",
            )
            listed += 1
        block.clear()
        unread_in_block = 0

    for line in lines:
        if _table_row(line):
            block.append(line)
            unread_in_block += sum(1 for m in FIGURE.finditer(line) if _unread(m, covered))
            continue
        close_block()
        if not FIGURE.search(line):
            continue
        for sentence in sentences(line):
            for match in FIGURE.finditer(sentence):
                if not _unread(match, covered):
                    continue
                listed += 1
                if listed <= MAX_LISTED:
                    notes.skip(match.group(0), sentence, NOT_READ)
    close_block()
    if listed > MAX_LISTED:
        notes.skip(f"{listed - MAX_LISTED} more", "", f"more figures {NOT_READ}")
