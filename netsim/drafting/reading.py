"""Reading a market report's plain text: every figure a draft can use, with its own words.

The reader knows the layout of a syndicated market report (a headline paragraph, a
"Market Overview" table, "Key Report Takeaways" bullets, "Drivers/Restraints Impact
Analysis" tables, a "Segmentation Overview" list or a numbered table of contents) but
not any one market: everything is found by regular expressions over lines and
sentences. Pages arrive cut short, so every section is optional and a sentence may
stop anywhere; what cannot be read whole is listed in :attr:`Findings.skipped` with
its sentence, never guessed.

Every quote kept here is the report's own text (whitespace collapsed), so a source
``report: '<quote>'`` can be found in the report word for word.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace

from netsim.drafting.places import is_region_name
from netsim.errors import ScenarioError

__all__ = [
    "Axis",
    "Factor",
    "Findings",
    "Growth",
    "Region",
    "Share",
    "Size",
    "Skipped",
    "Takeaway",
    "read_report",
]

# --- the figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    """A market size the report states for a year.

    Attributes
    ----------
    year : int
    value : float
        In ``currency`` and ``scale`` as written (``2.89`` for "USD 2.89 billion").
    currency : str
        ISO code (``USD``, ``EUR``, ...).
    scale : str
        ``thousand``, ``million``, ``billion`` or ``trillion``.
    decimals : int
        Digits after the decimal point as written (sets the rounding tolerance).
    quote : str
        The figure's own words, e.g. ``USD 2.89 billion in 2025``.
    """

    year: int
    value: float
    currency: str
    scale: str
    decimals: int
    quote: str
    sentence: str = ""


@dataclass(frozen=True)
class Growth:
    """A compound annual growth rate (percent a year) and its period.

    ``start`` and ``end`` are None where the report does not state them;
    ``period`` says how the period was read: ``"stated"`` (both years), ``"end"``
    ("to 2031": the start is the forecast period's), ``"forecast period"`` or
    ``"none"``.
    """

    value: float
    decimals: int
    start: int | None
    end: int | None
    period: str
    quote: str
    sentence: str = ""


@dataclass(frozen=True)
class Share:
    """A named part's share of the market, percent, in ``year`` (None if not stated)."""

    name: str
    value: float
    decimals: int
    year: int | None
    quote: str


@dataclass(frozen=True)
class Takeaway:
    """One "Key Report Takeaways" bullet: a segmentation's largest part and fastest part.

    ``axis`` is the segmentation as written ("treatment modality", "region").
    """

    axis: str
    largest: Share | None
    fastest_name: str | None
    fastest: Growth | None
    sentence: str


@dataclass(frozen=True)
class Factor:
    """A row of a "Drivers Impact Analysis" or "Restraints Impact Analysis" table.

    ``impact`` is in percentage points on the CAGR (``-0.9`` for "−0.9%").
    """

    kind: str  # "driver" or "restraint"
    name: str
    impact: float
    impact_text: str
    geography: str
    timeline: str
    quote: str


@dataclass(frozen=True)
class Axis:
    """A segmentation the report lists ("By Treatment Modality") and its segments."""

    name: str
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Region:
    """A region of the report's geography list and its countries (maybe none)."""

    name: str
    countries: tuple[str, ...]


@dataclass(frozen=True)
class Skipped:
    """A figure found but not used: its words, the sentence it stands in, and why."""

    figure: str
    sentence: str
    reason: str


@dataclass(frozen=True)
class Findings:
    """Everything :func:`read_report` found in a report's text."""

    title: str | None = None
    sizes: tuple[Size, ...] = ()
    growth: Growth | None = None
    study_period: tuple[int, int] | None = None
    largest_market: str | None = None
    fastest_market: str | None = None
    takeaways: tuple[Takeaway, ...] = ()
    drivers: tuple[Factor, ...] = ()
    restraints: tuple[Factor, ...] = ()
    axes: tuple[Axis, ...] = ()
    regions: tuple[Region, ...] = ()
    skipped: tuple[Skipped, ...] = field(default=())


# --- patterns ---------------------------------------------------------------------------------

# figures are read in the digits 0-9 only (a digit of another script is listed as
# skipped: a year or an amount in it would be read in part, or not at all)
YEAR = r"(?:19|20|21)[0-9]{2}"
OTHER_DIGITS = re.compile(r"(?:(?![0-9])\d)+(?:[.,\u066b\u066c](?:(?![0-9])\d)+)*")
MAX_OTHER_DIGITS = 100  # such figures listed one by one; past this, one line for the rest
# invisible format characters (zero-width spaces and joiners, direction marks and
# isolates, the Arabic letter mark, the Mongolian vowel separator, a soft hyphen, byte
# order marks, tag characters) are taken out: "USD\u200e 2.5" is "USD 2.5" on the page
INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\U000e0001\U000e0020-\U000e007f]"
)
# control characters other than tabs and line breaks: not a plain text
CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f\x80-\x84\x86-\x9f]")
# a lone surrogate (half of a UTF-16 pair, from a text decoded with "surrogateescape" or
# "surrogatepass") cannot be written as UTF-8; a noncharacter (U+FFFE, a byte order mark
# read in the wrong byte order, U+FFFF, U+FDD0-U+FDEF, the last two of every plane) is
# not text: neither is a plain report's
NOT_TEXT = re.compile(
    "(?P<surrogate>[\ud800-\udfff])|(?P<noncharacter>[\ufdd0-\ufdef\ufffe\uffff"
    + "".join(
        f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0x10000, 0x110000, 0x10000)
    )
    + "])"
)
# digit runs are matched possessively and never from inside a run, so that a hostile
# run of thousands of digits is read once, not retried from every digit (quadratic);
# a figure with more than MAX_DIGITS digits is not a report's and is skipped
DIGITS = r"(?<![0-9])[0-9]++(?:\.[0-9]++)?"
NUMBER = r"(?<![0-9])(?:[0-9]{1,3}(?:,[0-9]{3})++(?![0-9])(?:\.[0-9]++)?|[0-9]++(?:\.[0-9]++)?)"
MAX_DIGITS = 15
_CURRENCIES = (
    (r"US\s?\$|USD|US\s+dollars?|\$", "USD"),
    (r"EUR|€|euros?", "EUR"),
    (r"GBP|£", "GBP"),
    (r"JPY|¥", "JPY"),
    (r"CNY|RMB", "CNY"),
    (r"INR|₹", "INR"),
    (r"CHF", "CHF"),
    (r"CAD|C\$", "CAD"),
    (r"AUD|A\$", "AUD"),
)
CURRENCY = "|".join(pattern for pattern, _ in _CURRENCIES)
_SCALE_WORDS = {
    "thousand": "thousand",
    "k": "thousand",
    "million": "million",
    "mn": "million",
    "mln": "million",
    "m": "million",
    "billion": "billion",
    "bn": "billion",
    "b": "billion",
    "trillion": "trillion",
    "tn": "trillion",
    "t": "trillion",
}
SCALE = r"thousand|million|billion|trillion|mln|mn|bn|tn|[kmbt]"
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
MONEY = re.compile(
    rf"(?:(?P<minus0>[-\u2212]\s?)?(?P<currency>{CURRENCY})\s?(?P<minus>[-\u2212\u2013]\s?)?"
    rf"(?P<number>{NUMBER})\s?(?P<scale>{SCALE})\b"
    rf"|(?P<minus2>(?<![\w.,])[-\u2212\u2013])?(?P<number2>{NUMBER})\s?(?P<scale2>{SCALE})\s+"
    rf"(?P<currency2>USD|EUR|GBP|US dollars|euros)\b)",
    re.IGNORECASE,
)
# an amount MONEY cannot read ("USD 1e308 billion", "USD 3,0 billion", "USD .5 billion"):
# skipped with its words, never passed over
UNREAD_MONEY = re.compile(
    rf"(?:{CURRENCY})\s?(?:[-\u2212]\s?)?[.,]?[0-9][0-9.,eE+\-]*+\s?(?:{SCALE})\b", re.IGNORECASE
)
UNREAD = "an amount not written as a plain number: not read"
# a minus sign written before a figure is part of it (a shrinking segment): never dropped
MINUS = r"(?<![0-9])(?:[-\u2212\u2013](?=[0-9]))?"
PERCENT = rf"(?P<value>{MINUS}{DIGITS})\s?%"
CAGR = re.compile(
    rf"(?P<value>{MINUS}{DIGITS})\s?%\s*(?:\(\s*)?(?:CAGR|compound annual growth rate)"
    r"|(?:CAGR|compound annual growth rate(?:\s*\(CAGR\))?)\s*,?\s*(?:of|at|:)?\s*"
    rf"(?:about|around|approximately|nearly|roughly|an?)?\s*(?P<value2>{MINUS}{DIGITS})\s?%",
    re.IGNORECASE,
)
DASH = r"(?:-|–|—|to|and|through|until)"
RANGE = re.compile(rf"(?P<start>{YEAR})\s*{DASH}\s*(?P<end>{YEAR})", re.IGNORECASE)
END = re.compile(
    rf"\b(?:through|to|by|until|till|thru|up to)\s+(?:the\s+year\s+)?(?P<end>{YEAR})\b",
    re.IGNORECASE,
)
FORECAST_PERIOD = re.compile(r"forecast(?:ed)?\s+(?:period|horizon|years)", re.IGNORECASE)
YEAR_AFTER = re.compile(
    rf"^\s*[(,]?\s*(?:in|by|for|of|during|through|as of|at the end of|at end of|"
    rf"in the year|in fiscal(?: year)?|in FY)?\s*(?:the year\s+)?(?P<year>{YEAR})\b",
    re.IGNORECASE,
)
# a four-digit year after an amount that YEAR does not take ("in 2250", "(1850)")
EARLIEST, LATEST = 1900, 2199
ODD_YEAR = re.compile(
    r"^\s*(?:\(|,?\s*(?:in|by|for|during|through|as of|in the year)\s)\s*(?P<year>[0-9]{4})\b",
    re.IGNORECASE,
)
YEAR_BEFORE = re.compile(rf"\b(?:in|as of|for|during)\s+(?P<year>{YEAR})\b", re.IGNORECASE)
SHARE_YEAR = re.compile(rf"\b(?:in|during|for|as of|of)\s+(?:the\s+year\s+)?(?P<year>{YEAR})\b")
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
BULLET = re.compile(r"^\s*(?:[-•*▪●◦]|[0-9]+[.)])\s*(?P<text>\S.*)$")
_EMPTY_BULLET = re.compile(r"^\s*[-•*▪●◦]\s*$")
# an impact cell: "+1.2%", "−1.1%" (a Unicode minus), "-0.9 %", "~ +0.4%", "(~) -0.5%"
SIGNED = re.compile(r"[~≈()\s]*(?P<sign>[+\-−–]?)\s*(?P<value>[0-9]++(?:\.[0-9]++)?)\s*%\s*")
MAX_GAP = 25  # characters between a share and its year kept in a quote, else "..."
COPY_LABEL = re.compile(
    r"(?:\(~\)\s*)?%\s*Impact on CAGR|Geographic Relevance|Impact Timeline", re.IGNORECASE
)
MAX_NAME_LINE = 120  # a longer line in an impact table is prose, not a driver's name
# a report's lists are tens of items, a few levels deep; a text past these bounds is not
# a report's (it is refused: drafting it would write a document of megabytes, slowly)
MAX_DEPTH = 8  # levels of an outline read (By X, region, country, ...)
MAX_LIST_ITEMS = 2000  # items of the segmentation lists
MAX_TAKEAWAYS = 100  # "Key Report Takeaways" bullets read
MAX_FACTORS = 200  # rows of a drivers or restraints table
MAX_SKIPPED = 1000  # figures skipped while reading (each is listed: a page of thousands is not
# a report's, and its list would run to megabytes)
GEOGRAPHY_AXES = ("region", "regions", "geography", "geographies", "country", "countries")

# words that end a segment's name in a takeaway clause ("PRRT is projected ...")
_STOP_WORDS = """is are was were will would should could may might can has have had be been being
    led leads lead leading commanded commands commanding captured captures capturing
    accounted accounts accounting held holds holding represented represents representing
    contributed contributes contributing retained retains controlled controls dominated
    dominates secured secures generated generates made makes comprised comprises posted
    posts post posting shows show showed showing presents present presented register
    registers registered registering recorded records record recording exhibits exhibit
    exhibited exhibiting grow grows grew growing expand expands expanded expanding advance
    advances advanced advancing log logs logged logging poised set projected forecast
    forecasted expected anticipated estimated on at with remains remain remained stands
    stand stood emerges emerge emerged delivered delivers deliver achieved achieves achieve
    claims claimed claim took takes take owned owns own clocks clocked clock outpaces
    outpaced rising rises rose enjoys enjoyed tracks tracked track enjoy sees saw see
    registers reached reaches reach contributed obtained obtains obtain"""
_NAME_STOP = frozenset(_STOP_WORDS.split())
_LEADING = re.compile(
    rf"^(?:(?:while|whereas|but|and|although|though|with|meanwhile|the)\s+"
    rf"|(?:in|during|by|as of|for)\s+{YEAR},?\s+)+",
    re.IGNORECASE,
)
_CONNECTOR = re.compile(r"^(?:while|whereas|but|and|although|though|meanwhile)\s+", re.I)
_TRAILING = re.compile(r"\s+(?:segment|sub-segment|subsegment|category|group)s?$", re.IGNORECASE)
_CLAUSES = re.compile(
    r"\s*(?:;|,?\s+(?:while|whereas|but|although|though|meanwhile)\s+|,\s+and\s+|,\s+with\s+)\s*",
    re.IGNORECASE,
)


def _clean(text: str) -> str:
    """Collapse whitespace (newlines, tabs, non-breaking spaces) to single spaces."""
    return " ".join(text.split())


def decimals_of(number: str) -> int:
    """Digits after the decimal point as written: ``"4.37"`` -> 2, ``"1,200"`` -> 0."""
    return len(number.split(".")[1]) if "." in number else 0


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("\u2212", "-").replace("\u2013", "-"))


def too_long(number: str) -> bool:
    """A number written with more digits than any report figure (``MAX_DIGITS``): a
    float would round it, or overflow to infinity, so it is not read."""
    return sum(c.isdigit() for c in number) > MAX_DIGITS


TOO_LONG = f"more than {MAX_DIGITS} digits: not a figure a report states, not read"


def _currency(text: str) -> str:
    for pattern, code in _CURRENCIES:
        if re.fullmatch(pattern, text.strip(), re.IGNORECASE):
            return code
    return text.strip().upper()


def sentences(line: str) -> list[str]:
    """A paragraph split into sentences (a number's decimal point never splits)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\[(“\"'])", line.strip())
    return [p for p in (_clean(p) for p in parts) if p]


MAX_QUOTED = 2000  # characters of a skipped figure's sentence kept (a hostile page has
# sentences of megabytes; each skip would copy it)


def _cut(text: str) -> str:
    return _clean(text[:MAX_QUOTED]) + (" ..." if len(text) > MAX_QUOTED else "")


@dataclass
class _Notes:
    skipped: list[Skipped] = field(default_factory=list)

    def skip(self, figure: str, sentence: str, reason: str) -> None:
        _too_many(len(self.skipped) + 1, MAX_SKIPPED, "figures that cannot be read")
        self.skipped.append(Skipped(_cut(figure), _cut(sentence), reason))


# --- money and growth in a sentence -----------------------------------------------------------


def _money_fields(match: re.Match[str]) -> tuple[str, str, str]:
    number = match.group("number") or match.group("number2")
    scale = match.group("scale") or match.group("scale2")
    currency = match.group("currency") or match.group("currency2")
    return currency, number, _SCALE_WORDS[scale.lower()]


def sizes_in(sentence: str, notes: _Notes) -> list[Size]:
    """Every market size stated with its year in a sentence ("valued at X in 2026",
    "grow from X in 2025 to Y in 2026 ... reach Z by 2031", "X (2025)")."""
    found: list[Size] = []
    matches = list(MONEY.finditer(sentence))
    whole = _clean(sentence)
    starts = [m.start() for m in matches]  # in order, not overlapping: so are their ends
    for odd in UNREAD_MONEY.finditer(sentence):
        before = bisect.bisect_left(starts, odd.end()) - 1  # the last amount starting before
        if before < 0 or matches[before].end() <= odd.start():
            notes.skip(odd.group(0), sentence, UNREAD)
    quoted_to = 0  # where the previous amount's words (with its year) end
    for index, match in enumerate(matches):
        currency, number, scale = _money_fields(match)
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
        if _negative(match):
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
                _number(number),
                _currency(currency),
                scale,
                decimals_of(number),
                _clean(sentence[match.start() : end]),
                whole,
            )
        )
    return found


def _negative(match: re.Match[str]) -> bool:
    return bool(match.group("minus0") or match.group("minus") or match.group("minus2"))


def _period(tail: str, whole: str) -> tuple[int | None, int | None, str, int]:
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
    ended = END.search(whole)
    if ended:
        return None, int(ended.group("end")), "end", 0
    if FORECAST_PERIOD.search(whole):
        return None, None, "forecast period", 0
    return None, None, "none", 0


def growths_in(text: str, sentence: str = "", notes: _Notes | None = None) -> list[Growth]:
    """Every CAGR in a sentence or clause (of ``sentence``), with its period; one with
    too many digits to read is skipped (in ``notes``)."""
    found = []
    whole = _clean(sentence or text)
    fallback: tuple[int | None, int | None, str, int] | None = None
    for match in CAGR.finditer(text):
        number = match.group("value") or match.group("value2")
        if too_long(number):
            if notes is not None:
                notes.skip(match.group(0), sentence or text, f"a CAGR with {TOO_LONG}")
            continue
        # the words after the figure (a window: never the rest of a long text again)
        start, end, how, width = _period(text[match.end() : match.end() + 120], "")
        if how == "none":  # else from the whole sentence, read once
            if fallback is None:
                fallback = _period("", text)
            start, end, how, width = fallback
        quote = _clean(text[match.start() : match.end() + width].strip(" ,"))
        found.append(
            Growth(
                _number(number),
                decimals_of(number),
                start,
                end,
                how,
                quote,
                whole,
            )
        )
    return found


# --- sections ---------------------------------------------------------------------------------


def _first(lines: list[str], pattern: str, start: int = 0) -> int | None:
    regex = re.compile(pattern, re.IGNORECASE)
    return next((i for i in range(start, len(lines)) if regex.search(lines[i])), None)


def _headline_end(lines: list[str]) -> int:
    return next((i for i, line in enumerate(lines) if SECTION_HEADS.search(line)), len(lines))


def _cells(line: str) -> list[str]:
    return [_clean(c) for c in line.strip().strip("|").split("|")]


@dataclass
class _Overview:
    """The "Market Overview" table's rows."""

    sizes: list[Size] = field(default_factory=list)
    growth: Growth | None = None
    study_period: tuple[int, int] | None = None
    largest_market: str | None = None
    fastest_market: str | None = None


def _overview(lines: list[str], stop: int, notes: _Notes) -> _Overview:
    """The "Market Overview" table's rows (before the first section)."""
    found = _Overview()
    for line in lines[:stop]:
        if not line.lstrip().startswith("|"):
            continue
        cells = [c for c in _cells(line) if c]
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
            currency, number, scale = _money_fields(money)
            if _negative(money):
                notes.skip(quote, line, "a negative amount: a market size cannot be one")
                continue
            if too_long(number):
                notes.skip(quote, line, f"an amount with {TOO_LONG}")
                continue
            found.sizes.append(
                Size(
                    int(size_year.group(1)),
                    _number(number),
                    _currency(currency),
                    scale,
                    decimals_of(number),
                    quote,
                    _clean(line),
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
                    _number(percent.group("value")),
                    decimals_of(percent.group("value")),
                    int(growth_period.group(1)),
                    int(growth_period.group(2)),
                    "stated",
                    quote,
                    _clean(line),
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


def _headline(lines: list[str], stop: int, notes: _Notes) -> tuple[list[Size], list[Growth]]:
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


def _bullets(lines: list[str], start: int) -> list[str]:
    """The bullet lines after a heading, up to the first other line (a wrapped bullet's
    continuation lines are joined to it)."""
    found: list[list[str]] = []  # each bullet's lines, joined at the end
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        bullet = BULLET.match(line)
        if _EMPTY_BULLET.match(line):
            continue
        if bullet:
            found.append([bullet.group("text").strip()])
        elif found and not SECTION_HEADS.search(line) and not found[-1][-1].endswith("."):
            found[-1].append(line.strip())
        else:
            break
    return [" ".join(parts) for parts in found]


def _too_many(count: int, limit: int, what: str) -> None:
    if count > limit:
        raise ScenarioError(
            f"the report has {count} {what}, more than the {limit} a report's page holds: "
            "not drafted"
        )


def _name_before(clause: str) -> str | None:
    """The name a takeaway clause opens with: its words up to the first verb."""
    words = _LEADING.sub("", clause.strip()).split()
    name: list[str] = []
    for word in words:
        if word.lower().strip(",") in _NAME_STOP or re.match(r"\d", word):
            break
        name.append(word)
    text = _TRAILING.sub("", " ".join(name).strip(" ,:"))
    text = _LEADING.sub("", text)
    if not text or len(text.split()) > 8:
        return None
    return text[0].upper() + text[1:]


def _short_quote(clause: str, figure: str) -> str:
    """A takeaway's growth figure with its subject: "PRRT is projected to advance at a
    10.01% CAGR to 2031" (the middle left out as "..." when long)."""
    text = _clean(_LEADING.sub("", clause.strip()))
    at = text.find(figure)
    if at < 0:
        return figure
    opening = text[:at].rstrip()
    if len(opening) > MAX_GAP + 40:
        name = _name_before(text) or ""
        return f"{text[: len(name)]} ... {figure}" if name else figure
    return f"{opening} {figure}".strip()


def _takeaway(bullet: str, notes: _Notes) -> Takeaway | None:
    head = re.match(r"By\s+(?P<axis>[^,:]+)[,:]\s*(?P<body>.*)$", bullet, re.IGNORECASE)
    if head is None:
        return None
    axis, body = _clean(head.group("axis")), head.group("body")
    largest = fastest = fastest_name = None
    for clause in _CLAUSES.split(body):
        if not clause.strip():
            continue
        name = _name_before(clause)
        growths = growths_in(clause, bullet, notes)
        for index, growth in enumerate(growths):
            if index == 0 and name is None:
                notes.skip(growth.quote, bullet, "no segment named for this CAGR")
            elif index == 0 and fastest is None:
                fastest_name = name
                fastest = replace(growth, quote=_short_quote(clause, growth.quote))
            else:
                notes.skip(
                    growth.quote, bullet, "a second CAGR in this takeaway; the first is kept"
                )
        spans = [m.span() for m in CAGR.finditer(clause)]
        percents = [
            p for p in re.finditer(PERCENT, clause) if not any(a <= p.start() < b for a, b in spans)
        ]
        for extra in percents[1:]:
            notes.skip(
                extra.group(0), bullet, "a second percentage in this clause; the first is read"
            )
        if not percents:
            continue
        percent = percents[0]
        if too_long(percent.group("value")):
            notes.skip(percent.group(0), bullet, f"a share with {TOO_LONG}")
            continue
        year = SHARE_YEAR.search(clause, percent.end())
        odd = re.search(
            r"\b(?:in|during|for|as of|of)\s+(?P<year>[0-9]{4})\b", clause[percent.end() :]
        )
        if year is None and odd is not None and name is not None and largest is None:
            notes.skip(
                percent.group(0),
                bullet,
                f"its year {odd.group('year')} is not one netsim reads ({EARLIEST}-{LATEST})",
            )
            continue
        opening = _clean(_LEADING.sub("", clause[: percent.end()].strip()))
        leading = re.match(rf"\s*(?:in|during|as of|for)\s+(?P<year>{YEAR})\b", clause, re.I)
        if year is None and leading is not None:  # "in 2025, hospitals held 59.7%"
            year = leading
            quote = _clean(_CONNECTOR.sub("", clause[: percent.end()].strip()))
        elif year is None:
            quote = _clean(_LEADING.sub("", clause.strip()))
        elif year.start() - percent.end() > MAX_GAP:
            quote = f"{opening} ... {year.group(0)}"
        else:
            quote = _clean(_LEADING.sub("", clause[: year.end()].strip()))
        value = percent.group("value")
        if name is None:
            notes.skip(percent.group(0), bullet, "no segment named for this share")
        elif largest is not None:
            notes.skip(quote, bullet, "a second share in this takeaway; the first is kept")
        else:
            largest = Share(
                name,
                _number(value),
                decimals_of(value),
                int(year.group("year")) if year else None,
                quote,
            )
    if largest is None and fastest is None:
        return None
    return Takeaway(axis, largest, fastest_name, fastest, _clean(bullet))


def _factor_rows(lines: list[str], start: int, kind: str, notes: _Notes) -> list[Factor]:
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
        is_row = text.startswith("|") and sum(1 for c in _cells(text) if c) >= 2
        if in_copy:  # the narrow-screen copy of the row just read: its labels and cells
            if text.startswith("Impact Timeline"):
                timeline_seen = True
            elif timeline_seen and text == "|":
                in_copy = timeline_seen = False
            if not is_row and (
                text in (":", "|") or _clean(text) in copy or COPY_LABEL.match(text)
            ):
                continue
            # else the copy was cut short: this line is the next row's name, or the row
            in_copy = timeline_seen = False
        if text.startswith("|"):
            cells = _cells(text)
            if (
                not cells
                or re.fullmatch(r"[-: ]*", "".join(cells))
                or re.match(r"(Driver|Restraint)s?$", cells[0], re.I)
            ):
                continue
            rows += 1
            _too_many(rows, MAX_FACTORS, f"rows in its {kind}s table")
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
            quote = _clean(f"{name} | {cells[0]} | {cells[1]} | {cells[2]}")
            factors.append(Factor(kind, name, value, cells[0], cells[1], cells[2], quote))
            continue
        if len(text) > MAX_NAME_LINE:
            names = []
            continue
        names.append(text)
    return factors


def _factor_name(lines: list[str]) -> str:
    """A driver's name from its lines: wrapped over several, and often written twice."""
    count = len(lines)
    if count >= 2 and count % 2 == 0 and lines[: count // 2] == lines[count // 2 :]:
        lines = lines[: count // 2]
    return _clean(" ".join(lines))


@dataclass
class _Node:
    name: str
    children: list[_Node] = field(default_factory=list)


def _nest(items: list[str], depth: int = 0) -> list[_Node]:
    """A flattened outline in which every sub-list ends with its first item repeated
    (the report's "Segmentation Overview"): nodes with their children (at most
    ``MAX_DEPTH`` levels: deeper items are read as plain items)."""
    nodes: list[_Node] = []
    at: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        at.setdefault(item, []).append(index)
    position = 0
    while position < len(items):
        node = _Node(items[position])
        following = position + 1
        if following < len(items) and depth < MAX_DEPTH:
            later = at[items[following]]
            found = bisect.bisect_right(later, following)
            repeat = later[found] if found < len(later) else None
            if repeat is not None:
                node.children = _nest(items[following:repeat], depth + 1)
                position = repeat + 1
                nodes.append(node)
                continue
        nodes.append(node)
        position += 1
    return nodes


def _numbered(items: list[tuple[str, str]]) -> list[_Node]:
    """A numbered outline (``5.1``, ``5.1.1`` ...) as nodes: depth from the numbering."""
    roots: list[_Node] = []
    stack: list[tuple[int, _Node]] = []
    for number, name in items:
        depth = number.count(".")
        if depth > MAX_DEPTH + 1:
            continue
        node = _Node(name)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((depth, node))
    return roots


def _unique(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))


def _leaves(node: _Node) -> list[str]:
    if not node.children:
        return [node.name]
    return [leaf for child in node.children for leaf in _leaves(child)]


def _outline(nodes: list[_Node]) -> tuple[list[Axis], list[Region]]:
    """Axes ("By X" nodes) and the geography's regions and countries."""
    axes: list[Axis] = []
    regions: list[Region] = []
    for node in nodes:
        head = re.match(r"By\s+(.+)$", node.name, re.IGNORECASE)
        if head is None:
            continue
        name = _clean(head.group(1))
        if name.lower() in GEOGRAPHY_AXES:
            regions = _geography(node.children)
        else:
            segments = _unique([child.name for child in node.children])
            if segments:
                axes.append(Axis(name, segments))
    return axes, regions


def _geography(children: list[_Node]) -> list[Region]:
    """Regions from a geography node: a child with a sub-list, or with a region's name,
    is a region; a plain child after a region is one of its countries (a list whose
    closing repeats were lost reads the same way). With no region at all, the
    children are countries of one region each."""
    regions_found: list[tuple[str, list[str]]] = []
    loose: list[str] = []
    for child in children:
        if child.children or is_region_name(child.name):
            countries = [leaf for c in child.children for leaf in _leaves(c)]
            regions_found.append((child.name, countries))
        elif regions_found:
            regions_found[-1][1].append(child.name)
        else:
            loose.append(child.name)
    if not regions_found:
        return [Region(name, ()) for name in _unique(loose)]
    merged: dict[str, tuple[str, ...]] = {}
    for name, countries in regions_found:
        merged[name] = _unique([*merged.get(name, ()), *countries])
    return [Region(name, countries) for name, countries in merged.items()]


def _segmentation(lines: list[str]) -> tuple[list[Axis], list[Region]]:
    """The segmentation from the numbered table of contents ("Market Size and Growth
    Forecasts"), else from the "Segmentation Overview" list; the one that lists more."""
    from_contents: tuple[list[Axis], list[Region]] = ([], [])
    start = _first(lines, r"Market Size (?:and|&) Growth Forecasts?")
    if start is not None:
        items: list[tuple[str, str]] = []
        for line in lines[start + 1 :]:
            bullet = re.match(r"^\s*[-•*]?\s*(\d+(?:\.\d+)+)\.?\s*(\S.*)$", line)
            if bullet is None:
                if re.match(r"^\s*\d+\.\s", line) or not line.strip().startswith("-"):
                    break
                continue
            items.append((bullet.group(1), _clean(bullet.group(2))))
        _too_many(len(items), MAX_LIST_ITEMS, "items in its numbered contents")
        if items:
            top = items[0][0].count(".")
            from_contents = _outline(_numbered([(n, t) for n, t in items if n.count(".") >= top]))
    from_overview: tuple[list[Axis], list[Region]] = ([], [])
    start = _first(lines, r"^\s*Segmentation Overview\s*$")
    if start is not None:
        items_flat = []
        for line in lines[start + 1 :]:
            bullet = BULLET.match(line)
            if bullet is None:
                if line.strip() and not _EMPTY_BULLET.match(line):
                    break
                continue
            items_flat.append(_clean(bullet.group("text")))
        _too_many(len(items_flat), MAX_LIST_ITEMS, "items in its segmentation overview")
        groups: list[list[str]] = []
        for item in items_flat:  # "By X" items head the top level
            if re.match(r"By\s", item, re.IGNORECASE) or not groups:
                groups.append([item])
            else:
                groups[-1].append(item)
        nodes = [_Node(g[0], _nest(g[1:])) for g in groups]
        from_overview = _outline(nodes)

    def size(found: tuple[list[Axis], list[Region]]) -> int:
        axes, regions = found
        return sum(len(a.segments) for a in axes) + sum(1 + len(r.countries) for r in regions)

    return from_contents if size(from_contents) >= size(from_overview) else from_overview


def read_report(text: str) -> Findings:
    """Read a market report's plain text.

    Parameters
    ----------
    text : str
        The report as plain text (a syndicated report's web page, pasted or saved).

    Returns
    -------
    Findings
        Every figure found, each with its words; what could not be read whole is in
        ``skipped`` with its sentence and the reason.
    """
    check_plain_text(text, "the report")
    text = INVISIBLE.sub("", text)
    # every line break: \r\n, \r, form feeds, line and paragraph separators
    lines = [line.replace("\u00a0", " ").replace("\u202f", " ") for line in text.splitlines()]
    notes = _Notes()
    _other_digits(lines, notes)
    stop = _headline_end(lines)
    overview = _overview(lines, stop, notes)
    sizes, growths = _headline(lines, stop, notes)
    sizes = _merge_sizes(sizes, overview.sizes, notes)
    growth = _merge_growth(growths, overview.growth, notes)

    takeaways: list[Takeaway] = []
    start = _first(lines, r"^\s*Key (?:Report )?Takeaways\b")
    if start is not None:
        bullets = _bullets(lines, start)
        _too_many(len(bullets), MAX_TAKEAWAYS, "key takeaways")
        for bullet in bullets:
            takeaway = _takeaway(bullet, notes)
            if takeaway is not None:
                takeaways.append(takeaway)
    factors: dict[str, list[Factor]] = {"driver": [], "restraint": []}
    for kind, heading in (("driver", "Drivers"), ("restraint", "Restraints")):
        start = _first(lines, rf"^\s*{heading} Impact Analysis")
        if start is not None:
            factors[kind] = _factor_rows(lines, start, kind, notes)
    axes, regions = _segmentation(lines)
    title = next((_clean(line) for line in lines if line.strip()), None)
    return Findings(
        title=title,
        sizes=tuple(sizes),
        growth=growth,
        study_period=overview.study_period,
        largest_market=overview.largest_market,
        fastest_market=overview.fastest_market,
        takeaways=tuple(takeaways),
        drivers=tuple(factors["driver"]),
        restraints=tuple(factors["restraint"]),
        axes=tuple(axes),
        regions=tuple(regions),
        skipped=tuple(notes.skipped),
    )


def check_plain_text(text: object, what: str) -> None:
    """Refuse what is not plain text in one line naming the character and its line: not
    a string, a control character (other than tabs and line breaks), a lone surrogate or
    a noncharacter. Invisible format characters are no fault (they are taken out)."""
    if not isinstance(text, str):
        raise ScenarioError(f"{what} must be text (a str), got {type(text).__name__}")
    problem = CONTROL.search(text)
    kind = "a control character"
    odd = NOT_TEXT.search(text)
    if odd is not None and (problem is None or odd.start() < problem.start()):
        problem = odd
        kind = "a lone surrogate" if odd.group("surrogate") else "a noncharacter"
    if problem is not None:
        # the line as a reader counts it: any line break (\r, \r\n, U+2028 ...) ends one
        line = len((text[: problem.start()] + ".").splitlines())
        raise ScenarioError(
            f"{what} holds {kind} (U+{ord(problem.group(0)):04X}, line {line}): give it as "
            "plain text"
        )


def _other_digits(lines: list[str], notes: _Notes) -> None:
    """List every figure written in digits other than 0-9 as skipped."""
    found = ((m.group(0), line) for line in lines for m in OTHER_DIGITS.finditer(line))
    for count, (figure, line) in enumerate(found):
        if count == MAX_OTHER_DIGITS:
            rest = sum(1 for _ in found) + 1
            notes.skip(f"{rest} more", "", "more figures in digits other than 0-9: not read")
            return
        notes.skip(figure, line, "written in digits other than 0-9: not read")


def _absolute(size: Size) -> float:
    return size.value * SCALES[size.scale]


def _merge_sizes(headline: list[Size], table: list[Size], notes: _Notes) -> list[Size]:
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
        if abs(_absolute(size) - _absolute(other)) > rounding * 1.0001:
            notes.skip(
                size.quote,
                size.sentence,
                f"the report also gives {other.quote!r} for {size.year}; the first is kept",
            )
    return [kept[year] for year in sorted(kept)]


def _merge_growth(headline: list[Growth], table: Growth | None, notes: _Notes) -> Growth | None:
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
