"""Segment and regional figures in a report's prose, wherever they stand.

Publishers write their segments' and regions' figures as sentences of their own, in the
headline paragraph, under "Report Highlights" or "Key Takeaways" bullets, or in a
regional analysis: "North America dominated the market with a share of 38.5 % in 2024",
"The hospital segment accounted for the largest revenue share of 54.2 % in 2024", "Asia
Pacific is anticipated to register the fastest CAGR of 9.1 % over the forecast period",
"By product, the X segment led the market with ...". A sentence is read when its
subject is a place (a region, a listed country, or a country reports commonly name) or
a segment (named "the X segment", after "By X," / "Based on X,", or as listed); its
figures become takeaways (:class:`~netsim.drafting.read.figures.Takeaway`) that the
writer places like the "Key Report Takeaways" bullets. Amounts in such a sentence are a
part's, not the market's: they are listed as skipped, never read as the market's size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from netsim.drafting.places import (
    best_match,
    is_country_name,
    is_region_name,
    normalized,
    regions_named,
)
from netsim.drafting.read.figures import Axis, Notes, Region, Takeaway
from netsim.drafting.read.geography import GEOGRAPHY_AXES
from netsim.drafting.read.numbers import MONEY, PERCENT, YEAR
from netsim.drafting.read.segments import BULLET, subject_words, takeaway_from
from netsim.drafting.read.text import clean, sentences

# the phrases a part's sentence may open with: a year, a segmentation ("By product,",
# "Based on the drug class,", "In terms of end use,"), or a connective
LEAD = re.compile(
    rf"^(?:(?P<year>(?:in|during|as of|for|by the end of)\s+{YEAR})\s*,?\s+"
    r"|(?:by|based on|in terms of|on the basis of|with respect to|by the)\s+"
    r"(?P<axis>[^,:]{2,60}?)\s*[,:]\s+"
    r"|(?:geographically|regionally|moreover|additionally|furthermore|however|meanwhile|"
    r"similarly|likewise)\s*,\s+"
    r"|with\s+an?\s+(?:market\s+)?(?:size|value|valuation|revenue|share)\s+of\s+[^,]{1,60},\s+)*",
    re.IGNORECASE,
)
SEGMENT_WORD = re.compile(r"\b(?:segment|sub-segment|subsegment|category)s?$", re.IGNORECASE)
MARKET_WORD = re.compile(r"\b(?:market|industry|sector|size)s?$", re.IGNORECASE)
# a share of a regional market, not of the market: "dominated the North America market",
# "held 85 % of the European market", "a 70 % share in North America"
OF_A_PLACE = re.compile(
    r"\bthe\s+(?P<place>[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,3})(?:'s|’s)?\s+(?:\w+\s+)?"
    r"market\b|(?:share|%)\s+(?:of|in|within)\s+(?:the\s+)?"
    r"(?P<region>[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,3})"
)
# a heading naming the segmentation the paragraphs under it speak of: "By Source Analysis"
AXIS_HEADING = re.compile(
    r"^\s*By\s+(?P<axis>[A-Za-z][\w &/-]{1,40}?)(?:\s+(?:Analysis|Insights|Outlook|Segment))?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Subject:
    """Whom a sentence's figures belong to.

    ``kind`` is ``"place"`` (a region or a country: its axis is ``"region"``) or
    ``"segment"`` (``axis`` the segmentation as written, or None when unknown);
    ``body`` is the sentence after its opening phrases; ``named`` says whether the
    sentence itself says it is a part's (a place, "the X segment", "By X, ..."), not
    only a segment's name as a list holds it.
    """

    kind: str
    name: str
    axis: str | None
    body: str
    named: bool = True
    local_market: bool = False  # "the U.S. enzymes market ...": a place's own market


@dataclass(frozen=True)
class Parts:
    """What a report names its parts by: its segmentations and geography lists, and
    its own market's name (its title), whose place is the market's, not a part's."""

    axes: tuple[Axis, ...] = ()
    regions: tuple[Region, ...] = ()
    market: str = ""


def subject_of(sentence: str, parts: Parts = Parts()) -> Subject | None:
    """The place or segment a sentence's figures belong to, or None (the market's own
    sentence, or one about anything else)."""
    axes, regions = parts.axes, parts.regions
    bullet = BULLET.match(sentence)
    sentence = bullet.group("text") if bullet else sentence
    lead = LEAD.match(sentence)
    axis = lead.group("axis") if lead else None
    axis = clean(axis).removeprefix("the ") if axis else None
    body = sentence[lead.end() :] if lead else sentence
    if lead and lead.group("year"):  # "In 2023, North America led ...": its year kept
        body = f"{lead.group('year')}, {body}"
    words = re.sub(r"^(?:the|a)\s+", "", subject_words(body), flags=re.IGNORECASE)
    if not words or len(words.split()) > 8:
        return None
    name = SEGMENT_WORD.sub("", words).strip(" ,")
    place = re.sub(r"\s+region$", "", words, flags=re.IGNORECASE)
    if axis is not None and normalized(axis) in GEOGRAPHY_AXES:
        return Subject("place", name, "region", body) if name else None
    if _is_place(place, regions):
        return Subject("place", place, "region", body)
    if MARKET_WORD.search(words):
        # "the U.S. enzymes market ..." in a report of the world's: a place's market
        local = _place_opening(words, parts)
        if local is None:
            return None
        return Subject("place", local, "region", body, local_market=True)
    if not name:
        return None
    if axis is not None or SEGMENT_WORD.search(words):
        return Subject("segment", name, axis or _listed_axis(name, axes), body)
    listed = _listed_axis(words, axes, strict=True)
    return None if listed is None else Subject("segment", words, listed, body, named=False)


def a_part_s(sentence: str, parts: Parts) -> str:
    """Whether a sentence says its figures are a place's or a segment's (so that no
    amount or growth rate in it is read as the market's): ``"part"``; ``"local market"``
    for a place's own market ("the European bicycle market stands at ..."), which is
    the report's market when it is the first the report sizes; else ``""``."""
    subject = subject_of(sentence, parts)
    if subject is None:
        return ""
    return "local market" if subject.local_market else "part"


def _place_opening(words: str, parts: Parts) -> str | None:
    """The place a market's name opens with ("U.S." of "U.S. enzymes market"), when
    the report's own market is not that place's; else None."""
    tokens = words.split()
    for count in (3, 2, 1):
        opening = " ".join(tokens[:count]).removesuffix("'s").removesuffix("’s")
        if count < len(tokens) and _is_place(opening, parts.regions):
            market = normalized(parts.market)
            named, _ = regions_named(parts.market, [opening])
            if named or normalized(opening) in market.split() or normalized(opening) in market:
                return None
            return opening
    return None


def _is_place(name: str, regions: tuple[Region, ...]) -> bool:
    listed = {normalized(r.name) for r in regions}
    listed |= {normalized(c) for r in regions for c in r.countries}
    return is_region_name(name) or is_country_name(name) or normalized(name) in listed


def _listed_axis(name: str, axes: tuple[Axis, ...], strict: bool = False) -> str | None:
    """The listed segmentation whose segments hold ``name`` (one only), or None;
    ``strict``: the name is a listed segment's, or one with a plain noun after it
    ("residential systems" for "Residential"), not merely a name that fits one."""
    holding = []
    for axis in axes:
        if strict:
            words = normalized(name).split()
            found = any(
                1 <= len(words) - len(normalized(s).split()) + 1 <= 2
                and _same_words(words[: len(normalized(s).split())], normalized(s).split())
                for s in axis.segments
            )
        else:
            found = best_match(name, axis.segments, threshold=0.5) is not None
        if found:
            holding.append(axis.name)
    return holding[0] if len(holding) == 1 else None


def _same_words(words: list[str], listed: list[str]) -> bool:
    return bool(listed) and all(
        a == b or a.rstrip("s") == b.rstrip("s") for a, b in zip(words, listed, strict=True)
    )


def read_prose(
    lines: list[str], read: set[str], parts: Parts, notes: Notes
) -> tuple[list[Takeaway], list[str]]:
    """The places' and segments' figures of every prose sentence and bullet outside
    tables (``read``: the texts other readers took, in lower case, are passed over).

    Returns the takeaways (a segmentation's figures merged into one; each place's
    own) and every sentence read, for the sweep to count as covered."""
    found: list[Takeaway] = []
    covered: list[str] = []
    heading_axis: str | None = None  # the segmentation a "By X Analysis" heading names
    for line in lines:
        if line.lstrip().startswith("|") or line.count("|") >= 2:
            continue
        heading = AXIS_HEADING.match(line)
        if heading is not None:
            heading_axis = clean(heading.group("axis"))
            continue
        bullet = BULLET.match(line)
        if bullet is None and _a_heading(line):
            heading_axis = None  # another section: its segments are not that one's
        line_axis = heading_axis  # a sentence's "By X," speaks for the rest of its line
        for sentence in sentences(bullet.group("text") if bullet else line):
            lead = LEAD.match(sentence)
            if lead and lead.group("axis"):
                line_axis = clean(lead.group("axis")).removeprefix("the ")
            figures = re.search(PERCENT, sentence) or MONEY.search(sentence)
            if figures is None or clean(sentence).lower() in read:
                continue
            subject = subject_of(sentence, parts)
            if subject is None:
                continue
            if subject.kind == "segment" and subject.axis is None and line_axis:
                subject = replace(subject, axis=line_axis)
            covered.append(sentence)
            takeaway = _read_part(subject, sentence, notes)
            if takeaway is not None:
                found.append(takeaway)
    return _merged(found, notes), covered


def _a_heading(line: str) -> bool:
    """A short line with no sentence's end and no figure: a section's heading."""
    words = line.split()
    return (
        0 < len(words) <= 10 and not line.rstrip().endswith(".") and not re.search(r"[0-9%]", line)
    )


def _read_part(subject: Subject, sentence: str, notes: Notes) -> Takeaway | None:
    for amount in MONEY.finditer(sentence):
        notes.skip(
            amount.group(0),
            sentence,
            f"{subject.name}'s amount, not the market's size: not read",
        )
    other = _another_place(subject)
    if other is not None:
        for figure in re.finditer(PERCENT, sentence):
            notes.skip(
                figure.group(0),
                sentence,
                f"{subject.name}: a figure of {other}'s market, not of the whole market: not read",
            )
        return None
    if subject.axis is None:
        for figure in re.finditer(PERCENT, sentence):
            notes.skip(
                figure.group(0),
                sentence,
                f"{subject.name!r}: no segmentation is named for it (no 'By ...' before it, "
                "and no list of the report holds it)",
            )
        return None
    return takeaway_from(subject.axis, subject.body, sentence, notes, subject.name, prose=True)


def _another_place(subject: Subject) -> str | None:
    """The other place whose market a place's figures are of ("the U.S. dominated the
    North America market"), or None."""
    if subject.kind != "place":
        return None
    rest = re.sub(r"^\s*(?:in|during|as of|for|by the end of)\s+[0-9]{4},\s*", "", subject.body)
    rest = rest[len(subject_words(rest)) :]
    for match in OF_A_PLACE.finditer(rest):
        place = match.group("place") or match.group("region")
        words = place.split()
        for count in range(len(words), 0, -1):
            candidate = " ".join(words[:count])
            if _is_place(candidate, ()) and normalized(candidate) != normalized(subject.name):
                return candidate
    return None


def _merged(found: list[Takeaway], notes: Notes) -> list[Takeaway]:
    """One takeaway per segmentation (its first share and first CAGR; a later one is
    listed as skipped); a place's takeaways as they are."""
    merged: list[Takeaway] = []
    for takeaway in found:
        if normalized(takeaway.axis) in GEOGRAPHY_AXES:
            merged.append(takeaway)
            continue
        same = next(
            (i for i, t in enumerate(merged) if normalized(t.axis) == normalized(takeaway.axis)),
            None,
        )
        if same is None:
            merged.append(takeaway)
        else:
            merged[same] = merge_takeaway(merged[same], takeaway, notes)
    return merged


def merge_takeaway(first: Takeaway, other: Takeaway, notes: Notes) -> Takeaway:
    """``first`` with the share or CAGR it lacks taken from ``other``; a figure both
    state is kept from ``first`` (``other``'s listed as skipped unless it is the same)."""
    largest, fastest, fastest_name = first.largest, first.fastest, first.fastest_name
    if other.largest is not None:
        if largest is None:
            largest = other.largest
        elif not _same_share(largest, other.largest):
            notes.skip(
                other.largest.quote,
                other.sentence,
                "a second share for this segmentation; the first is kept",
            )
    if other.fastest is not None:
        if fastest is None:
            fastest, fastest_name = other.fastest, other.fastest_name
        elif not (
            abs(fastest.value - other.fastest.value) < 1e-9
            and normalized(fastest_name or "") == normalized(other.fastest_name or "")
        ):
            notes.skip(
                other.fastest.quote,
                other.sentence,
                "a second CAGR for this segmentation; the first is kept",
            )
    return replace(first, largest=largest, fastest=fastest, fastest_name=fastest_name)


def _same_share(a: object, b: object) -> bool:
    return (
        normalized(getattr(a, "name", "")) == normalized(getattr(b, "name", ""))
        and abs(getattr(a, "value", 0.0) - getattr(b, "value", 0.0)) < 1e-9
    )


def with_prose(takeaways: list[Takeaway], prose: list[Takeaway], notes: Notes) -> list[Takeaway]:
    """The takeaways with the prose's: a segmentation's prose figures complete its
    takeaway (a figure both give is kept from the takeaway); a place's figure the
    takeaways already give is not repeated."""
    combined = list(takeaways)
    for takeaway in prose:
        if normalized(takeaway.axis) in GEOGRAPHY_AXES:
            if not any(_repeats(takeaway, t) for t in combined):
                combined.append(takeaway)
            continue
        same = next(
            (
                i
                for i, t in enumerate(combined)
                if normalized(t.axis) not in GEOGRAPHY_AXES
                and best_match(takeaway.axis, [t.axis], threshold=0.5)
            ),
            None,
        )
        if same is None:
            combined.append(takeaway)
        else:
            combined[same] = merge_takeaway(combined[same], takeaway, notes)
    return combined


def _repeats(takeaway: Takeaway, other: Takeaway) -> bool:
    """Whether a place's takeaway states nothing ``other`` does not already state."""
    if normalized(other.axis) not in GEOGRAPHY_AXES:
        return False
    share = takeaway.largest is None or (
        other.largest is not None and _same_share(takeaway.largest, other.largest)
    )
    growth = takeaway.fastest is None or (
        other.fastest is not None
        and abs(takeaway.fastest.value - other.fastest.value) < 1e-9
        and normalized(takeaway.fastest_name or "") == normalized(other.fastest_name or "")
    )
    return share and growth
