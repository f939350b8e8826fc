""" "Drivers/Restraints Impact Analysis" tables: each row's impact on the CAGR, its
relevance and its timeline."""

from __future__ import annotations

import re

from netsim.drafting.read.figures import (
    Factor,
    Notes,
)
from netsim.drafting.read.headline import (
    table_cells,
)
from netsim.drafting.read.numbers import (
    TOO_LONG,
    too_long,
)
from netsim.drafting.read.text import (
    clean,
    too_many,
)

# an impact cell: "+1.2%", "−1.1%" (a Unicode minus), "-0.9 %", "~ +0.4%", "(~) -0.5%"
SIGNED = re.compile(r"[~≈()\s]*(?P<sign>[+\-−–]?)\s*(?P<value>[0-9]++(?:\.[0-9]++)?)\s*%\s*")
COPY_LABEL = re.compile(
    r"(?:\(~\)\s*)?%\s*Impact on CAGR|Geographic Relevance|Impact Timeline", re.IGNORECASE
)
MAX_NAME_LINE = 120  # a longer line in an impact table is prose, not a driver's name
MAX_FACTORS = 200  # rows of a drivers or restraints table


def table_row(text: str) -> bool:
    """A table's row: ``| a | b |``, or ``a | +1.2% | b | c`` without the outer pipes (a
    row naming its impact, so that a name line holding a "|" is not taken for one)."""
    if text.startswith("|"):
        return True
    return text.count("|") >= 2 and any(SIGNED.fullmatch(c) for c in table_cells(text))


def factor_rows(lines: list[str], start: int, kind: str, notes: Notes) -> list[Factor]:
    """The rows of an impact table: name lines (wrapped, often repeated) then
    ``| +1.2% | relevance | timeline |``, each row maybe followed by a narrow-screen copy
    ("(~) % Impact on CAGR Forecast:" ... "Impact Timeline : ... |") that is passed over.
    A row that cannot be read is skipped whole (its name and its copy with it), so
    that the next row is read as written."""
    factors: list[Factor] = []
    names: list[str] = []
    in_copy = timeline_seen = False
    copy: set[str] = set()  # the cells of the row just read (its copy repeats them)
    rows = 0
    for line in lines[start + 1 :]:
        text = line.strip()
        if not text:
            continue
        if re.match(r"\|\s*Source\s*:", text, re.I) or re.search(r"Impact Analysis", text, re.I):
            break
        is_row = table_row(text) and sum(1 for c in table_cells(text) if c) >= 2
        if in_copy:  # the narrow-screen copy of the row just read: its labels and cells
            if text.startswith("Impact Timeline"):
                timeline_seen = True
            elif timeline_seen and text == "|":
                in_copy = timeline_seen = False
            if not is_row and (text in (":", "|") or clean(text) in copy or COPY_LABEL.match(text)):
                continue
            # else the copy was cut short: this line is the next row's name, or the row
            in_copy = timeline_seen = False
        if table_row(text):
            cells = table_cells(text)
            if (
                not cells
                or re.fullmatch(r"[-: ]*", "".join(cells))
                or re.match(r"(Driver|Restraint)s?$", cells[0], re.I)
            ):
                continue
            rows += 1
            too_many(rows, MAX_FACTORS, f"rows in its {kind}s table")
            in_copy = "Forecast" in cells[-1] or text.endswith(":")
            copy = set(cells)
            timeline_seen = False
            if not names and not SIGNED.fullmatch(cells[0]) and len(cells) >= 2:
                names, cells = [cells[0]], cells[1:]  # a table with the name in its row
            name = _factor_name(names)
            names = []
            impact = SIGNED.fullmatch(cells[0]) if cells else None
            if not name:
                notes.skip(text, text, f"a {kind} row with no name before it")
                continue
            if impact is None:
                shown = cells[0] if cells and cells[0] else "(empty)"
                notes.skip(
                    name, text, f"the {kind} row's impact cell {shown!r} is not a percentage"
                )
                continue
            if too_long(impact.group("value")):
                notes.skip(f"{name} {cells[0]}", text, f"an impact with {TOO_LONG}")
                continue
            if len(cells) < 3:
                notes.skip(
                    f"{name} {cells[0]}",
                    text,
                    f"the {kind} row has no geographic relevance or impact timeline cell",
                )
                continue
            sign = -1.0 if impact.group("sign") in "-−–" and impact.group("sign") else 1.0
            value = sign * float(impact.group("value"))
            if kind == "restraint" and not impact.group("sign"):
                value = -abs(value)
            if (kind == "driver") != (value >= 0) and value != 0:
                notes.skip(f"{name} {cells[0]}", text, f"a {kind}'s impact has the wrong sign")
                continue
            quote = clean(f"{name} | {cells[0]} | {cells[1]} | {cells[2]}")
            factors.append(Factor(kind, name, value, cells[0], cells[1], cells[2], quote))
            continue
        if len(text) > MAX_NAME_LINE:
            names = []
            continue
        if text.count("|") >= 2:  # a header or rule row without outer pipes
            names = []
            continue
        names.append(text)
    return factors


def _factor_name(lines: list[str]) -> str:
    """A driver's name from its lines: wrapped over several, and often written twice."""
    count = len(lines)
    if count >= 2 and count % 2 == 0 and lines[: count // 2] == lines[count // 2 :]:
        lines = lines[: count // 2]
    return clean(" ".join(lines))
