"""Plain text: what a report's text may hold, and its sentences."""

from __future__ import annotations

import re

from netsim.errors import ScenarioError

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
OTHER_DIGITS = re.compile(r"(?:(?![0-9])\d)+(?:[.,\u066b\u066c](?:(?![0-9])\d)+)*")
MAX_OTHER_DIGITS = 100  # such figures listed one by one; past this, one line for the rest


def clean(text: str) -> str:
    """Collapse whitespace (newlines, tabs, non-breaking spaces) to single spaces."""
    return " ".join(text.split())


def sentences(line: str) -> list[str]:
    """A paragraph split into sentences (a number's decimal point never splits)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z\[(“\"'])", line.strip())
    return [p for p in (clean(p) for p in parts) if p]


MAX_QUOTED = 2000  # characters of a skipped figure's sentence kept (a hostile page has


def cut(text: str) -> str:
    return clean(text[:MAX_QUOTED]) + (" ..." if len(text) > MAX_QUOTED else "")


def too_many(count: int, limit: int, what: str) -> None:
    if count > limit:
        raise ScenarioError(
            f"the report has {count} {what}, more than the {limit} a report's page holds: "
            "not drafted"
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
