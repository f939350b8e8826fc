"""The headline paragraph and the overview box ("Market Overview", "Market Snapshot",
"Report Scope")."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from netsim.drafting.read.figures import (
    Growth,
    Notes,
    Size,
)
from netsim.drafting.read.numbers import (
    CAGR,
    EARLIEST,
    LATEST,
    MONEY,
    PERCENT,
    RANGE,
    SCALES,
    TOO_LONG,
    UNREAD,
    UNREAD_MONEY,
    YEAR,
    currency_code,
    decimals_of,
    money_fields,
    negative,
    number_value,
    too_long,
)
from netsim.drafting.read.sentences import (
    growths_in,
    sizes_in,
)
from netsim.drafting.read.text import (
    clean,
    sentences,
)

SIZE_WORDS = re.compile(
    r"\bmarket\b|valued|\bsize\b|\bstand|\bstood|reach|\bgrow|worth|estimated|projected|"
    r"forecast|expected",
    re.IGNORECASE,
)
SECTION_HEADS = re.compile(
    r"^(?:Key (?:Report )?Takeaways|.*Trends (?:and|&) Insights|Drivers Impact Analysis|"
    r"Restraints Impact Analysis|Segment Analysis|Geography Analysis|Competitive Landscape|"
    r"Table of Contents|Segmentation Overview|Market Definitions?)\b",
    re.IGNORECASE,
)


def first_line(lines: list[str], pattern: str, start: int = 0) -> int | None:
    regex = re.compile(pattern, re.IGNORECASE)
    return next((i for i in range(start, len(lines)) if regex.search(lines[i])), None)


def headline_end(lines: list[str]) -> int:
    return next((i for i, line in enumerate(lines) if SECTION_HEADS.search(line)), len(lines))


def table_cells(line: str) -> list[str]:
    return [clean(c) for c in line.strip().strip("|").split("|")]


@dataclass
class Overview:
    """The overview box's rows ("Market Overview", "Market Snapshot", "Report Scope")."""

    sizes: list[Size] = field(default_factory=list)
    growth: Growth | None = None
    study_period: tuple[int, int] | None = None
    forecast_period: tuple[int, int] | None = None
    largest_market: str | None = None
    fastest_market: str | None = None


# an overview row's label: a market size ("Market Size (2026)", "Market size value in
# 2024", "Revenue forecast in 2030", "2032 Projected Market Size", "Market Size by 2034")
# or a growth rate ("Growth Rate (2026 - 2031)", "CAGR", "Growth rate from 2025 to 2034")
SIZE_LABEL = re.compile(
    r"^(?:(?:19|20|21)[0-9]{2}\s+)?(?:(?:projected|forecast(?:ed)?|estimated|expected)\s+)?"
    r"(?:market\s+(?:size|value|revenue)(?:\s+value)?|revenue\s+forecast|market\s+forecast)\b",
    re.IGNORECASE,
)
GROWTH_LABEL = re.compile(r"^(?:growth\s+rate|CAGR|compound annual growth rate)\b", re.IGNORECASE)
# a "Label: value" line of a snapshot box (short: a longer line is prose)
COLON_ROW = re.compile(r"^\s*(?:[-•*▪●◦]\s*)?(?P<label>[^:|]{2,60}?)\s*:\s*(?P<value>\S.{0,90})$")


def overview_row(line: str) -> tuple[str, str, str] | None:
    """An overview row's label, value and quote: ``| label | value |`` (outer pipes or
    not) or ``Label: value``; None for any other line."""
    if line.count("|") >= 1 and not line.strip().startswith("|:"):
        cells = [c for c in table_cells(line) if c]
        if len(cells) >= 2 and not re.fullmatch(r"[-: ]*", "".join(cells)):
            return cells[0], cells[1], f"{cells[0]} | {cells[1]}"
        return None
    row = COLON_ROW.match(line)
    if row is None:
        return None
    label, value = clean(row.group("label")), clean(row.group("value"))
    return label, value, clean(line.strip().lstrip("-•*▪●◦ "))


def read_overview(lines: list[str], stop: int, notes: Notes) -> Overview:
    """The overview box's rows, wherever they stand (tables with or without outer pipes,
    "Label: value" lines); rows of other tables are left to their readers."""
    found = Overview()
    for index, line in enumerate(lines):
        row = overview_row(line) or _stacked_row(lines, index)
        if row is None:
            continue
        label, value, quote = row
        if SIZE_LABEL.match(label):
            _size_row(label, value, quote, line, found, notes)
        elif GROWTH_LABEL.match(label):
            _growth_row(label, value, quote, line, found, notes)
        elif re.match(r"Study Period", label, re.I):
            period = RANGE.search(value)
            if period:
                found.study_period = (int(period.group("start")), int(period.group("end")))
        elif re.match(r"Forecast (?:Period|Years)", label, re.I):
            period = RANGE.search(value)
            if period:
                found.forecast_period = (int(period.group("start")), int(period.group("end")))
        elif re.match(r"Fastest Growing Market", label, re.I):
            found.fastest_market = value
        elif re.match(r"Largest Market", label, re.I):
            found.largest_market = value
    if found.growth is not None and found.growth.period != "stated" and found.forecast_period:
        start, end = found.forecast_period
        found.growth = replace(found.growth, start=start, end=end, period="forecast period")
    return found


# a box whose label and value stand on lines of their own ("Market Size (2024)", then
# "USD 3875.20 Billion"): the label line, a value line of at most this many characters
STACKED_LABEL = re.compile(
    r"^\s*(?:(?:(?:19|20|21)[0-9]{2}\s+)?(?:projected\s+|forecast(?:ed)?\s+|estimated\s+)?"
    r"market\s+(?:size|value|revenue)|revenue\s+forecast|growth\s+rate|CAGR|study\s+period|"
    r"forecast\s+(?:period|years)|largest\s+market|fastest\s+growing\s+market)"
    rf"(?:\s*\(\s*{YEAR}(?:\s*[-–]\s*{YEAR})?\s*\)|\s+(?:in|by)\s+{YEAR})?\s*$",
    re.IGNORECASE,
)
MAX_STACKED_VALUE = 40


def _stacked_row(lines: list[str], index: int) -> tuple[str, str, str] | None:
    """A label line and the next non-empty line as its value, when the label is an
    overview box's and the value is short (a figure or a name, not prose)."""
    if not STACKED_LABEL.match(lines[index]):
        return None
    value = next((line for line in lines[index + 1 : index + 4] if line.strip()), "")
    value = clean(value)
    if not value or len(value) > MAX_STACKED_VALUE or STACKED_LABEL.match(value):
        return None
    label = clean(lines[index])
    return label, value, f"{label} {value}"


def _size_row(label: str, value: str, quote: str, line: str, found: Overview, notes: Notes) -> None:
    money = MONEY.search(value)
    if money is None:
        if UNREAD_MONEY.search(value):
            notes.skip(quote, line, UNREAD)
        elif re.search(r"[0-9]", value):
            notes.skip(quote, line, "no amount in this market size row")
        return  # a header row ("Market Size | Source"): no figure
    year = re.search(rf"(?<![0-9])({YEAR})(?![0-9])", label) or re.search(
        rf"\(\s*({YEAR})\s*\)|\b(?:in|by)\s+({YEAR})\b", value[money.end() :]
    )
    if year is None:
        notes.skip(quote, line, f"no year (from {EARLIEST} to {LATEST}) read in its label")
        return
    currency, number, scale = money_fields(money)
    if negative(money):
        notes.skip(quote, line, "a negative amount: a market size cannot be one")
        return
    if too_long(number):
        notes.skip(quote, line, f"an amount with {TOO_LONG}")
        return
    stated = next(g for g in year.groups() if g)
    found.sizes.append(
        Size(
            int(stated),
            number_value(number),
            currency_code(currency),
            scale,
            decimals_of(number),
            quote,
            clean(line),
        )
    )


def _growth_row(
    label: str, value: str, quote: str, line: str, found: Overview, notes: Notes
) -> None:
    percent = re.search(PERCENT, value)
    if percent is None:
        notes.skip(quote, line, "no percentage in this growth rate row")
        return
    if too_long(percent.group("value")):
        notes.skip(quote, line, f"a growth rate with {TOO_LONG}")
        return
    period = RANGE.search(label) or RANGE.search(value)
    start = int(period.group("start")) if period else None
    end = int(period.group("end")) if period else None
    if found.growth is not None:
        return  # the first growth row is the overview's
    found.growth = Growth(
        number_value(percent.group("value")),
        decimals_of(percent.group("value")),
        start,
        end,
        "stated" if period else "none",
        quote,
        clean(line),
    )


def read_headline(
    lines: list[str],
    stop: int,
    notes: Notes,
    a_part_s: Callable[[str], str] = lambda sentence: "",
) -> tuple[list[Size], list[Growth]]:
    """Sizes and CAGRs of the prose before the first section (the headline paragraph);
    a sentence ``a_part_s`` says is a place's or a segment's ("North America held ...",
    "the hospital segment ...") is left to its own reader, and so is a place's own
    market ("the U.S. market was valued at ...") once the report has sized its own."""
    sizes: list[Size] = []
    growths: list[Growth] = []
    for line in lines[:stop]:
        if line.lstrip().startswith("|") or _overview_figure_row(line):
            continue
        for sentence in sentences(line):
            kind = a_part_s(sentence)
            if kind == "part" or (kind == "local market" and sizes):
                continue
            money = MONEY.search(sentence) or UNREAD_MONEY.search(sentence)
            if money and SIZE_WORDS.search(sentence):
                sizes.extend(sizes_in(sentence, notes))
            if CAGR.search(sentence):
                growths.extend(growths_in(sentence, sentence, notes))
    return sizes, growths


def _overview_figure_row(line: str) -> bool:
    """Whether a line is an overview box's size or growth row (its reader's to read)."""
    row = overview_row(line)
    return row is not None and bool(SIZE_LABEL.match(row[0]) or GROWTH_LABEL.match(row[0]))


def absolute(size: Size) -> float:
    return size.value * SCALES[size.scale]


def merge_sizes(headline: list[Size], table: list[Size], notes: Notes) -> list[Size]:
    """One size per year: the headline's first, then the overview table's; a second
    figure for a year that disagrees beyond its rounding, or in another currency, is
    skipped."""
    kept: dict[int, Size] = {}
    currency = (headline or table)[0].currency if (headline or table) else None
    for size in [*headline, *table]:
        if size.currency != currency:
            notes.skip(
                size.quote, size.sentence, f"in {size.currency}, the market is in {currency}"
            )
            continue
        other = kept.get(size.year)
        if other is None:
            kept[size.year] = size
            continue
        # the two agree if each is the other rounded: the coarser rounding decides
        rounding = max(
            0.5 * 10.0**-figure.decimals * SCALES[figure.scale] for figure in (size, other)
        )
        if abs(absolute(size) - absolute(other)) > rounding * 1.0001:
            notes.skip(
                size.quote,
                size.sentence,
                f"contradicts {other.quote!r}, the report's other size for {size.year}: two "
                "sizes for one year cannot both hold; the first is kept",
            )
    return [kept[year] for year in sorted(kept)]


def merge_growth(headline: list[Growth], table: Growth | None, notes: Notes) -> Growth | None:
    """The headline CAGR (its period from the overview table when it states none); a
    second, different headline CAGR is skipped. Of CAGRs whose periods end in different
    years, the one to the latest year is the headline (a page giving the growth from last
    year to this one first, "from $18.4 billion in 2025 to $19.62 billion in 2026 at a CAGR
    of 6.6 %", and the forecast's after it); else the first."""
    if not headline:
        return table
    ends = [g.end for g in headline if g.end is not None]
    latest = max(ends) if len(set(ends)) > 1 else None
    chosen = next((g for g in headline if g.end == latest), headline[0])
    for extra in headline:
        if extra is not chosen and extra.value != chosen.value:
            reason = (
                f"a headline CAGR to {extra.end}; the one to {latest} is kept"
                if latest is not None and extra.end != latest
                else "a second headline CAGR; the first is kept"
            )
            notes.skip(extra.quote, extra.sentence, reason)
    before = [e for e in ends if e < (chosen.end or 0)]
    if chosen.period == "end" and before:
        # "grow to $25.1 billion in 2030" after "from ... in 2025 to $19.62 billion in
        # 2026": the forecast's growth runs on from where the growth before it ended
        chosen = replace(chosen, start=max(before), period="stated")
    if table is not None:
        if chosen.period != "stated" and abs(chosen.value - table.value) < 1e-9:
            # the period is the table's: its row is quoted beside the headline's words
            quote = f"{chosen.quote} ... {table.quote}"
            chosen = replace(chosen, start=table.start, end=table.end, period="stated", quote=quote)
        elif abs(chosen.value - table.value) > 0.5 * 10.0 ** -min(chosen.decimals, table.decimals):
            notes.skip(table.quote, table.sentence, f"differs from the headline {chosen.quote!r}")
    return chosen
