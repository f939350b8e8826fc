"""Numbers, amounts, percentages and years as reports write them."""

from __future__ import annotations

import re

from netsim.drafting.read.figures import Notes
from netsim.drafting.read.text import MAX_OTHER_DIGITS, OTHER_DIGITS

# figures are read in the digits 0-9 only (a digit of another script is listed as
# skipped: a year or an amount in it would be read in part, or not at all)
YEAR = r"(?:19|20|21)[0-9]{2}"
# digit runs are matched possessively and never from inside a run, so that a hostile
# run of thousands of digits is read once, not retried from every digit (quadratic);
# a figure with more than MAX_DIGITS digits is not a report's and is skipped
# A number as reports write it: "2,890" and "2.5" (the English way), "43,62" (a decimal
# comma: a comma not followed by exactly three digits), "2 890", "2'890" and "2’890"
# (spaces or apostrophes between thousands), "1.234,5" (dots between thousands and a
# decimal comma). A comma followed by exactly three digits is read as between thousands.
THOUSANDS = r"[0-9]{1,3}(?:,[0-9]{3})++(?![0-9])(?:\.[0-9]++)?"
SPACED = r"[0-9]{1,3}(?:[ '’][0-9]{3})++(?![0-9])(?:[.,][0-9]++)?"
DOTTED = r"[0-9]{1,3}(?:\.[0-9]{3})++,[0-9]++"
DIGITS = rf"(?<![0-9])(?:{THOUSANDS}|[0-9]++(?:[.,][0-9]++)?)"
NUMBER = rf"(?<![0-9])(?:{THOUSANDS}|{SPACED}|{DOTTED}|[0-9]++(?:[.,][0-9]++)?)"
MAX_DIGITS = 15
_CURRENCIES = (
    (r"US\s?\$|USD|US\s+dollars?|\$", "USD"),
    (r"EUR|€|euros?", "EUR"),
    (r"GBP|£", "GBP"),
    (r"JPY|¥", "JPY"),
    (r"CNY|RMB", "CNY"),
    (r"INR|₹|Rs\.?|rupees", "INR"),
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
    # India's scales: a lakh is 10^5, a crore 10^7, a lakh crore 10^12
    "lakh": "lakh",
    "lac": "lakh",
    "crore": "crore",
    "cr": "crore",
    "lakh crore": "lakh crore",
    # common misspellings on publishers' pages, read as the scale they stand for
    "tillion": "trillion",
    "trilion": "trillion",
    "trillon": "trillion",
    "billon": "billion",
    "bilion": "billion",
    "milion": "million",
    "millon": "million",
}
SCALE = (
    r"lakh\s+crore|crores?|lakhs?|lacs?|thousand|million|billion|trillion|tillion|trilion|"
    r"trillon|billon|bilion|milion|millon|mln|mn|bn|tn|cr|[kmbt]"
)
SCALES = {
    "thousand": 1e3,
    "lakh": 1e5,
    "million": 1e6,
    "crore": 1e7,
    "billion": 1e9,
    "trillion": 1e12,
    "lakh crore": 1e12,
}
MONEY = re.compile(
    rf"(?:(?P<minus0>[-\u2212]\s?)?(?P<currency>{CURRENCY})\s?(?P<minus>[-\u2212\u2013]\s?)?"
    rf"(?P<number>{NUMBER})\s?(?P<scale>{SCALE})\b"
    rf"|(?P<minus2>(?<![\w.,])[-\u2212\u2013])?(?P<number2>{NUMBER})\s?(?P<scale2>{SCALE})\s+"
    rf"(?P<currency2>USD|EUR|GBP|INR|US dollars|euros|rupees)\b"
    # "58.4 (USD Billion)": the unit in brackets after the number
    rf"|(?P<number3>{NUMBER})\s?\(\s?(?P<currency3>{CURRENCY})\s?(?P<scale3>{SCALE})\s?\))",
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
    r"|(?:CAGR|compound annual growth rate(?:\s*\(CAGR\))?)(?:\s*\(growth rate\))?\s*,?\s*"
    r"(?:(?:is|was)\s+(?:expected|projected|anticipated|estimated|forecast)\s+to\s+be\s+)?"
    r"(?:of|at|:)?\s*"
    rf"(?:about|around|approximately|nearly|roughly|an?)?\s*(?P<value2>{MINUS}{DIGITS})\s?%",
    re.IGNORECASE,
)
DASH = r"(?:-|–|—|to|and|through|until)"
RANGE = re.compile(rf"(?P<start>{YEAR})\s*{DASH}\s*(?P<end>{YEAR})", re.IGNORECASE)
END = re.compile(
    rf"\b(?:through|to|by|until|till|thru|up to)\s+(?:the\s+year\s+)?(?P<end>{YEAR})\b",
    re.IGNORECASE,
)
# a CAGR's period in the sizes its sentence states: "grow from $18.4 billion in 2025 to
# $25.1 billion in 2030 at a CAGR of 6.4 %" (SIZE_SPAN), "grow to $25.1 billion in 2030"
# (SIZE_END, the end alone)
_AMOUNT_WORDS = r"(?:[^.;%]|\.(?=\d)){0,60}?"  # within the sentence: a decimal point only
SIZE_SPAN = re.compile(
    rf"\bfrom\s+{_AMOUNT_WORDS}\b(?:in|for)\s+(?P<start>{YEAR})\b[\s,]*"
    rf"to\s+{_AMOUNT_WORDS}\b(?:in|by)\s+(?P<end>{YEAR})\b",
    re.IGNORECASE,
)
SIZE_END = re.compile(
    rf"\b(?:grow|rise|increase|expand|reach)\w*\s+to\s+{_AMOUNT_WORDS}\b(?:in|by)\s+"
    rf"(?P<end>{YEAR})\b",
    re.IGNORECASE,
)
FORECAST_PERIOD = re.compile(r"forecast(?:ed)?\s+(?:period|horizon|years)", re.IGNORECASE)
# a four-digit year after an amount that YEAR does not take ("in 2250", "(1850)")
EARLIEST, LATEST = 1900, 2199
YEAR_AFTER = re.compile(
    rf"^\s*[(,]?\s*(?:in|by|for|of|during|through|till|until|up to|as of|at the end of|at end of|"
    rf"in the year|in fiscal(?: year)?|in FY)?\s*(?:the year\s+)?(?P<year>{YEAR})\b",
    re.IGNORECASE,
)
ODD_YEAR = re.compile(
    r"^\s*(?:\(|,?\s*(?:in|by|for|during|through|as of|in the year)\s)\s*(?P<year>[0-9]{4})\b",
    re.IGNORECASE,
)
YEAR_BEFORE = re.compile(rf"\b(?:in|as of|for|during)\s+(?P<year>{YEAR})\b", re.IGNORECASE)
SHARE_YEAR = re.compile(
    rf"\b(?:in|during|for|as of|of)\s+(?:the\s+year\s+|the\s+)?(?P<year>{YEAR})\b"
)


def _parts(number: str) -> tuple[str, str]:
    """A number's whole digits and decimal digits, whatever its notation: ``"2,890"`` ->
    (``"2890"``, ``""``); ``"43,62"`` -> (``"43"``, ``"62"``); ``"2 890,5"`` ->
    (``"2890"``, ``"5"``); ``"1.234,5"`` -> (``"1234"``, ``"5"``)."""
    text = number.replace("\u2212", "").replace("\u2013", "").replace("-", "")
    text = re.sub(r"[ '’\u00a0\u202f]", "", text)
    if "," in text and "." in text:  # the later mark is the decimal one
        decimal = "," if text.rindex(",") > text.rindex(".") else "."
        thousands = "." if decimal == "," else ","
        text = text.replace(thousands, "")
        whole, _, fraction = text.partition(decimal)
        return whole, fraction
    if "," in text:
        if re.fullmatch(r"[0-9]{1,3}(?:,[0-9]{3})+", text):
            return text.replace(",", ""), ""
        whole, _, fraction = text.partition(",")
        return whole, fraction
    whole, _, fraction = text.partition(".")
    return whole, fraction


def decimals_of(number: str) -> int:
    """Digits after the decimal mark as written: ``"4.37"`` -> 2, ``"1,200"`` -> 0,
    ``"43,62"`` -> 2."""
    return len(_parts(number)[1])


def number_value(text: str) -> float:
    """A number's value in any of the notations of :data:`NUMBER` (a leading minus sign
    kept)."""
    whole, fraction = _parts(text)
    sign = -1.0 if text.strip()[:1] in ("-", "\u2212", "\u2013") else 1.0
    return sign * float(f"{whole or '0'}.{fraction or '0'}")


def too_long(number: str) -> bool:
    """A number written with more digits than any report figure (``MAX_DIGITS``): a
    float would round it, or overflow to infinity, so it is not read."""
    return sum(c.isdigit() for c in number) > MAX_DIGITS


TOO_LONG = f"more than {MAX_DIGITS} digits: not a figure a report states, not read"


def currency_code(text: str) -> str:
    for pattern, code in _CURRENCIES:
        if re.fullmatch(pattern, text.strip(), re.IGNORECASE):
            return code
    return text.strip().upper()


def money_fields(match: re.Match[str]) -> tuple[str, str, str]:
    number = match.group("number") or match.group("number2") or match.group("number3")
    scale = match.group("scale") or match.group("scale2") or match.group("scale3")
    currency = match.group("currency") or match.group("currency2") or match.group("currency3")
    return currency, number, scale_word(scale)


def scale_word(scale: str) -> str:
    """The scale a written scale word stands for: ``"Bn"`` -> ``"billion"``,
    ``"crores"`` -> ``"crore"``, ``"tillion"`` -> ``"trillion"``."""
    word = " ".join(scale.lower().split())
    return _SCALE_WORDS.get(word) or _SCALE_WORDS[word.removesuffix("s")]


def negative(match: re.Match[str]) -> bool:
    return bool(match.group("minus0") or match.group("minus") or match.group("minus2"))


def other_digits(lines: list[str], notes: Notes) -> None:
    """List every figure written in digits other than 0-9 as skipped."""
    found = ((m.group(0), line) for line in lines for m in OTHER_DIGITS.finditer(line))
    for count, (figure, line) in enumerate(found):
        if count == MAX_OTHER_DIGITS:
            rest = sum(1 for _ in found) + 1
            notes.skip(f"{rest} more", "", "more figures in digits other than 0-9: not read")
            return
        notes.skip(figure, line, "written in digits other than 0-9: not read")
