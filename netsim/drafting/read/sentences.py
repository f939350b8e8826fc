"""Market sizes and growth rates in a sentence, each with its year or period and its own words."""

from __future__ import annotations

import bisect

from netsim.drafting.read.figures import (
    Growth,
    Notes,
    Size,
)
from netsim.drafting.read.numbers import (
    CAGR,
    EARLIEST,
    END,
    FORECAST_PERIOD,
    LATEST,
    MONEY,
    ODD_YEAR,
    RANGE,
    SIZE_END,
    SIZE_SPAN,
    TOO_LONG,
    UNREAD,
    UNREAD_MONEY,
    YEAR_AFTER,
    YEAR_BEFORE,
    currency_code,
    decimals_of,
    money_fields,
    negative,
    number_value,
    too_long,
)
from netsim.drafting.read.text import (
    clean,
)


def sizes_in(sentence: str, notes: Notes) -> list[Size]:
    """Every market size stated with its year in a sentence ("valued at X in 2026",
    "grow from X in 2025 to Y in 2026 ... reach Z by 2031", "X (2025)")."""
    found: list[Size] = []
    matches = list(MONEY.finditer(sentence))
    whole = clean(sentence)
    starts = [m.start() for m in matches]  # in order, not overlapping: so are their ends
    for odd in UNREAD_MONEY.finditer(sentence):
        before = bisect.bisect_left(starts, odd.end()) - 1  # the last amount starting before
        if before < 0 or matches[before].end() <= odd.start():
            notes.skip(odd.group(0), sentence, UNREAD)
    quoted_to = 0  # where the previous amount's words (with its year) end
    for index, match in enumerate(matches):
        currency, number, scale = money_fields(match)
        stop = matches[index + 1].start() if index + 1 < len(matches) else len(sentence)
        after = YEAR_AFTER.match(sentence[match.end() : min(stop, match.end() + 200)])
        end = match.end() + (after.end() if after else 0)
        year = int(after.group("year")) if after else None
        if year is None:  # "In 2025, the market was valued at X"
            begin = quoted_to
            before = list(YEAR_BEFORE.finditer(sentence[begin : match.start()]))
            if before and not CAGR.search(sentence[begin : match.start()]):
                year = int(before[-1].group("year"))
        quoted_to = end
        if negative(match):
            notes.skip(match.group(0), sentence, "a negative amount: a market size cannot be one")
            continue
        if too_long(number):
            notes.skip(match.group(0), sentence, f"an amount with {TOO_LONG}")
            continue
        if year is None:
            odd = ODD_YEAR.match(sentence[match.end() : min(stop, match.end() + 200)])
            reason = (
                f"its year {odd.group('year')} is not one netsim reads ({EARLIEST}-{LATEST})"
                if odd
                else "no year stated for this amount"
            )
            notes.skip(match.group(0), sentence, reason)
            continue
        found.append(
            Size(
                year,
                number_value(number),
                currency_code(currency),
                scale,
                decimals_of(number),
                clean(sentence[match.start() : end]),
                whole,
            )
        )
    return found


def period_of(tail: str, whole: str) -> tuple[int | None, int | None, str, int]:
    """The period of a growth figure: from the words after it (``tail``), else the rest
    of its sentence (``whole``). Returns start, end, how it was read, and how many
    characters of ``tail`` belong to the quote."""
    window = tail[:90]
    ranged = RANGE.search(window)
    ended = END.search(window)
    forecast = FORECAST_PERIOD.search(window)
    candidates = [m for m in (ranged, ended, forecast) if m is not None]
    if candidates:
        first = min(candidates, key=lambda m: m.start())
        if first is ranged or (ranged and ranged.start() - first.end() < 3):
            assert ranged is not None
            closing = tail[ranged.end() : ranged.end() + 1]
            width = ranged.end() + (1 if closing == ")" else 0)
            return int(ranged.group("start")), int(ranged.group("end")), "stated", width
        if first is ended:
            return None, int(ended.group("end")), "end", ended.end()
        assert forecast is not None
        ranged_after = RANGE.search(tail[forecast.end() : forecast.end() + 20])
        if ranged_after:
            width = forecast.end() + ranged_after.end()
            if tail[width : width + 1] == ")":
                width += 1
            start, end = int(ranged_after.group("start")), int(ranged_after.group("end"))
            return start, end, "stated", width
        return None, None, "forecast period", forecast.end()
    ranged = RANGE.search(whole)
    if ranged:
        return int(ranged.group("start")), int(ranged.group("end")), "stated", 0
    spanned = SIZE_SPAN.search(whole)  # "from $X in 2025 to $Y in 2026 at a CAGR of ..."
    if spanned:
        return int(spanned.group("start")), int(spanned.group("end")), "stated", 0
    ended = END.search(whole) or SIZE_END.search(whole)
    if ended:
        return None, int(ended.group("end")), "end", 0
    if FORECAST_PERIOD.search(whole):
        return None, None, "forecast period", 0
    return None, None, "none", 0


def growths_in(text: str, sentence: str = "", notes: Notes | None = None) -> list[Growth]:
    """Every CAGR in a sentence or clause (of ``sentence``), with its period; one with
    too many digits to read is skipped (in ``notes``)."""
    found = []
    whole = clean(sentence or text)
    fallback: tuple[int | None, int | None, str, int] | None = None
    for match in CAGR.finditer(text):
        number = match.group("value") or match.group("value2")
        if too_long(number):
            if notes is not None:
                notes.skip(match.group(0), sentence or text, f"a CAGR with {TOO_LONG}")
            continue
        # the words after the figure (a window: never the rest of a long text again)
        start, end, how, width = period_of(text[match.end() : match.end() + 120], "")
        if how == "none":  # else from the whole sentence, read once
            if fallback is None:
                fallback = period_of("", text)
            start, end, how, width = fallback
        quote = clean(text[match.start() : match.end() + width].strip(" ,"))
        found.append(
            Growth(
                number_value(number),
                decimals_of(number),
                start,
                end,
                how,
                quote,
                whole,
            )
        )
    return found
