"""The headline paragraph and the overview box ("Market Overview", "Market Snapshot",
"Report Scope")."""

from __future__ import annotations

import re
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
    r"^(?:Key (?:Report )?Takeaways|.*Trends and Insights|Drivers Impact Analysis|"
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
    """The "Market Overview" table's rows."""

    sizes: list[Size] = field(default_factory=list)
    growth: Growth | None = None
    study_period: tuple[int, int] | None = None
    largest_market: str | None = None
    fastest_market: str | None = None


def read_overview(lines: list[str], stop: int, notes: Notes) -> Overview:
    """The "Market Overview" table's rows (before the first section)."""
    found = Overview()
    for line in lines[:stop]:
        if not line.lstrip().startswith("|"):
            continue
        cells = [c for c in table_cells(line) if c]
        if len(cells) < 2:
            continue
        label, value = cells[0], cells[1]
        quote = f"{label} | {value}"
        size_year = re.match(rf"Market Size\s*\(?\s*(?:in\s+)?({YEAR})\s*\)?$", label, re.I)
        growth_period = re.match(
            rf"(?:Growth Rate|CAGR)\s*\(\s*({YEAR})\s*[-–—]\s*({YEAR})\s*\)", label, re.I
        )
        if size_year:
            money = MONEY.search(value)
            if money is None:
                odd = UNREAD_MONEY.search(value)
                notes.skip(quote, line, UNREAD if odd else "no amount in this market size row")
                continue
            currency, number, scale = money_fields(money)
            if negative(money):
                notes.skip(quote, line, "a negative amount: a market size cannot be one")
                continue
            if too_long(number):
                notes.skip(quote, line, f"an amount with {TOO_LONG}")
                continue
            found.sizes.append(
                Size(
                    int(size_year.group(1)),
                    number_value(number),
                    currency_code(currency),
                    scale,
                    decimals_of(number),
                    quote,
                    clean(line),
                )
            )
        elif growth_period:
            percent = re.search(PERCENT, value)
            if percent is None:
                notes.skip(quote, line, "no percentage in this growth rate row")
            elif too_long(percent.group("value")):
                notes.skip(quote, line, f"a growth rate with {TOO_LONG}")
            else:
                found.growth = Growth(
                    number_value(percent.group("value")),
                    decimals_of(percent.group("value")),
                    int(growth_period.group(1)),
                    int(growth_period.group(2)),
                    "stated",
                    quote,
                    clean(line),
                )
        elif re.match(r"Market Size|Growth Rate|CAGR", label, re.I):
            notes.skip(quote, line, f"no year (from {EARLIEST} to {LATEST}) read in its label")
        elif re.match(r"Study Period", label, re.I):
            period = RANGE.search(value)
            if period:
                found.study_period = (int(period.group("start")), int(period.group("end")))
        elif re.match(r"Fastest Growing Market", label, re.I):
            found.fastest_market = value
        elif re.match(r"Largest Market", label, re.I):
            found.largest_market = value
    return found


def read_headline(lines: list[str], stop: int, notes: Notes) -> tuple[list[Size], list[Growth]]:
    """Sizes and CAGRs of the prose before the first section (the headline paragraph)."""
    sizes: list[Size] = []
    growths: list[Growth] = []
    for line in lines[:stop]:
        if line.lstrip().startswith("|"):
            continue
        for sentence in sentences(line):
            money = MONEY.search(sentence) or UNREAD_MONEY.search(sentence)
            if money and SIZE_WORDS.search(sentence):
                sizes.extend(sizes_in(sentence, notes))
            if CAGR.search(sentence):
                growths.extend(growths_in(sentence, sentence, notes))
    return sizes, growths


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
        rounding = 0.5 * 10.0 ** -min(size.decimals, other.decimals) * SCALES[size.scale]
        if abs(absolute(size) - absolute(other)) > rounding * 1.0001:
            notes.skip(
                size.quote,
                size.sentence,
                f"the report also gives {other.quote!r} for {size.year}; the first is kept",
            )
    return [kept[year] for year in sorted(kept)]


def merge_growth(headline: list[Growth], table: Growth | None, notes: Notes) -> Growth | None:
    """The headline CAGR (its period from the overview table when it states none); a
    second, different headline CAGR is skipped."""
    if not headline:
        return table
    chosen = headline[0]
    for extra in headline[1:]:
        if extra.value != chosen.value:
            notes.skip(extra.quote, extra.sentence, "a second headline CAGR; the first is kept")
    if table is not None:
        if chosen.period != "stated" and abs(chosen.value - table.value) < 1e-9:
            # the period is the table's: its row is quoted beside the headline's words
            quote = f"{chosen.quote} ... {table.quote}"
            chosen = replace(chosen, start=table.start, end=table.end, period="stated", quote=quote)
        elif abs(chosen.value - table.value) > 0.5 * 10.0 ** -min(chosen.decimals, table.decimals):
            notes.skip(table.quote, table.sentence, f"differs from the headline {chosen.quote!r}")
    return chosen
