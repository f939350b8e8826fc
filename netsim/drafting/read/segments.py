""" "Key Report Takeaways" bullets: a segmentation's largest part and its fastest part."""

from __future__ import annotations

import re
from dataclasses import replace

from netsim.drafting.read.figures import (
    Growth,
    Notes,
    Share,
    Takeaway,
)
from netsim.drafting.read.headline import (
    SECTION_HEADS,
)
from netsim.drafting.read.numbers import (
    CAGR,
    EARLIEST,
    LATEST,
    PERCENT,
    SHARE_YEAR,
    TOO_LONG,
    YEAR,
    decimals_of,
    number_value,
    too_long,
)
from netsim.drafting.read.sentences import (
    growths_in,
)
from netsim.drafting.read.text import (
    clean,
)

BULLET = re.compile(r"^\s*(?:[-•*▪●◦]|[0-9]+[.)])\s*(?P<text>\S.*)$")
EMPTY_BULLET = re.compile(r"^\s*[-•*▪●◦]\s*$")
MAX_GAP = 25  # characters between a share and its year kept in a quote, else "..."
MAX_TAKEAWAYS = 100  # "Key Report Takeaways" bullets read
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
    registers reached reaches reach contributed obtained obtains obtain keeps kept keep
    continues continued continue maintains maintained maintain stays stayed stay witnessed
    witnesses witness experienced experiences ranks ranked"""
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


# what makes a percentage a part's share in prose: a share word or verb, or "of the
# market / of revenue"; a rise or fall written just before it makes it a change instead
SHARE_CUE = re.compile(
    r"\bshares?\b|\b(?:held|holds|hold|holding|accounted|accounts|accounting|captured|"
    r"captures|capturing|commanded|commands|commanding|dominated|dominates|dominating|led|"
    r"leads|contributed|contributes|represented|represents|comprised|generated|secured|"
    r"claimed|controlled)\b|\bof\s+(?:the\s+|its\s+|global\s+|total\s+)?(?:[\w&-]+\s+){0,3}"
    r"(?:market|revenues?|sales|value|demand)\b",
    re.IGNORECASE,
)
A_CHANGE = re.compile(
    r"\b(?:rose|rise|rises|risen|rising|grew|grow|grows|growing|growth|increased|increases|"
    r"increase|declined|declines|decline|fell|falls|jumped|surged|expanded|up|down|by)"
    r"(?:\s+by)?(?:\s+(?:about|around|nearly|over|some|almost))?\s*$",
    re.IGNORECASE,
)


def bullets_after(lines: list[str], start: int) -> list[str]:
    """The bullet lines after a heading, up to the first other line (a wrapped bullet's
    continuation lines are joined to it)."""
    found: list[list[str]] = []  # each bullet's lines, joined at the end
    for line in lines[start + 1 :]:
        if not line.strip():
            continue
        bullet = BULLET.match(line)
        if EMPTY_BULLET.match(line):
            continue
        if bullet:
            found.append([bullet.group("text").strip()])
        elif found and not SECTION_HEADS.search(line) and not found[-1][-1].endswith("."):
            found[-1].append(line.strip())
        else:
            break
    return [" ".join(parts) for parts in found]


def subject_words(clause: str) -> str:
    """A clause's words up to its first verb (or figure), as written: "the hospital
    segment" of "the hospital segment accounted for 54.2 % ..."."""
    name: list[str] = []
    for word in _LEADING.sub("", clause.strip()).split():
        if word.lower().strip(",") in _NAME_STOP or re.match(r"\d", word):
            break
        name.append(word)
    return " ".join(name).strip(" ,:")


def _name_before(clause: str) -> str | None:
    """The name a takeaway clause opens with: its words up to the first verb."""
    text = _TRAILING.sub("", subject_words(clause))
    text = _LEADING.sub("", text)
    if not text or len(text.split()) > 8:
        return None
    return text[0].upper() + text[1:]


def _short_quote(clause: str, figure: str) -> str:
    """A takeaway's growth figure with its subject: "PRRT is projected to advance at a
    10.01% CAGR to 2031" (the middle left out as "..." when long)."""
    text = clean(_LEADING.sub("", clause.strip()))
    at = text.find(figure)
    if at < 0:
        return figure
    opening = text[:at].rstrip()
    if len(opening) > MAX_GAP + 40:
        name = _name_before(text) or ""
        return f"{text[: len(name)]} ... {figure}" if name else figure
    return f"{opening} {figure}".strip()


def read_takeaway(bullet: str, notes: Notes) -> Takeaway | None:
    """A "Key Report Takeaways" bullet ("By product, X held 43 % in 2025, while Y ...
    7.3 % CAGR through 2030"), or None when it names no segmentation or holds no figure."""
    head = re.match(r"By\s+(?P<axis>[^,:]+)[,:]\s*(?P<body>.*)$", bullet, re.IGNORECASE)
    if head is None:
        return None
    return takeaway_from(clean(head.group("axis")), head.group("body"), bullet, notes)


def takeaway_from(
    axis: str,
    body: str,
    sentence: str,
    notes: Notes,
    subject: str | None = None,
    prose: bool = False,
) -> Takeaway | None:
    """A segmentation's largest part's share and fastest part's CAGR in ``body`` (the
    words after "By X," of ``sentence``), each clause naming its part first (the first
    clause's part is ``subject`` when given); None when it holds neither. In ``prose``
    (not a takeaway bullet) a percentage is a share only beside a share word. Figures
    that cannot be placed are listed in ``notes``."""
    largest: Share | None = None
    fastest: Growth | None = None
    fastest_name: str | None = None
    for index, clause in enumerate(_CLAUSES.split(body)):
        if not clause.strip():
            continue
        name = _capital(subject) if index == 0 and subject else _name_before(clause)
        for number, growth in enumerate(growths_in(clause, sentence, notes)):
            if number == 0 and name is None:
                notes.skip(growth.quote, sentence, "no segment named for this CAGR")
            elif number == 0 and fastest is None:
                fastest_name = name
                fastest = replace(growth, quote=_short_quote(clause, growth.quote))
            else:
                notes.skip(
                    growth.quote, sentence, "a second CAGR in this takeaway; the first is kept"
                )
        share = _share_in(clause, name, sentence, notes, prose)
        if share is None:
            continue
        if name is None:
            notes.skip(share.quote, sentence, "no segment named for this share")
        elif largest is not None:
            notes.skip(share.quote, sentence, "a second share in this takeaway; the first is kept")
        else:
            largest = share
    if largest is None and fastest is None:
        return None
    return Takeaway(axis, largest, fastest_name, fastest, clean(sentence))


def _share_in(
    clause: str, name: str | None, sentence: str, notes: Notes, prose: bool = False
) -> Share | None:
    """The first percentage of a clause that is not a CAGR, as its part's share with
    the year written after it (or before it: "in 2025, hospitals held 59.7 %")."""
    spans = [m.span() for m in CAGR.finditer(clause)]
    percents = [
        p for p in re.finditer(PERCENT, clause) if not any(a <= p.start() < b for a, b in spans)
    ]
    for extra in percents[1:]:
        notes.skip(
            extra.group(0), sentence, "a second percentage in this clause; the first is read"
        )
    if not percents:
        return None
    percent = percents[0]
    if prose and (not SHARE_CUE.search(clause) or A_CHANGE.search(clause[: percent.start()])):
        notes.skip(percent.group(0), sentence, "a change or another ratio, not a share: not read")
        return None
    if too_long(percent.group("value")):
        notes.skip(percent.group(0), sentence, f"a share with {TOO_LONG}")
        return None
    year = SHARE_YEAR.search(clause, percent.end())
    odd = re.search(r"\b(?:in|during|for|as of|of)\s+(?P<year>[0-9]{4})\b", clause[percent.end() :])
    if year is None and odd is not None and name is not None:
        notes.skip(
            percent.group(0),
            sentence,
            f"its year {odd.group('year')} is not one netsim reads ({EARLIEST}-{LATEST})",
        )
        return None
    opening = clean(_LEADING.sub("", clause[: percent.end()].strip()))
    leading = re.match(rf"\s*(?:in|during|as of|for)\s+(?P<year>{YEAR})\b", clause, re.I)
    # "the U.S. emerged as the leader in 2024, commanding a share of 81.8 %"
    earlier = list(
        re.finditer(rf"\b(?:in|during|as of)\s+(?P<year>{YEAR})\b", clause[: percent.start()])
    )
    if year is None and leading is not None:  # "in 2025, hospitals held 59.7%"
        year = leading
        quote = clean(_CONNECTOR.sub("", clause[: percent.end()].strip()))
    elif year is None and earlier and name is not None:
        year = earlier[-1]
        quote = clean(_LEADING.sub("", clause[: percent.end()].strip()))
    elif year is None:
        quote = clean(_LEADING.sub("", clause.strip()))
    elif year.start() - percent.end() > MAX_GAP:
        quote = f"{opening} ... {year.group(0)}"
    else:
        quote = clean(_LEADING.sub("", clause[: year.end()].strip()))
    value = percent.group("value")
    return Share(
        name or "",
        number_value(value),
        decimals_of(value),
        int(year.group("year")) if year else None,
        quote,
    )


def _capital(name: str) -> str:
    return name[:1].upper() + name[1:]
