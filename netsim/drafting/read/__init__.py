"""Reading a market report's plain text: every figure a draft can use, with its own words.

The reader knows the layouts of syndicated market reports' summary pages (a headline
paragraph, an overview box, "Key Report Takeaways" bullets, impact tables, segment and
region paragraphs, segmentation lists) but not any one market: everything is found by
regular expressions over lines and sentences. Pages arrive cut short, so every section
is optional and a sentence may stop anywhere; what cannot be read whole is listed in
:attr:`Findings.skipped` with its sentence, never guessed. Each module reads one part:

* :mod:`~netsim.drafting.read.text`: what a plain text may hold; sentences
* :mod:`~netsim.drafting.read.numbers`: numbers, amounts, percentages, years
* :mod:`~netsim.drafting.read.sentences`: sizes and growth rates in a sentence
* :mod:`~netsim.drafting.read.headline`: the headline paragraph and the overview box
* :mod:`~netsim.drafting.read.segments`: takeaways
* :mod:`~netsim.drafting.read.prose`: segments' and regions' figures in sentences anywhere
* :mod:`~netsim.drafting.read.tables`: impact tables
* :mod:`~netsim.drafting.read.geography`: segmentation and geography lists

Every quote kept is the report's own text (whitespace collapsed), so a source
``report: '<quote>'`` can be found in the report word for word.
"""

from __future__ import annotations

from dataclasses import replace

from netsim.drafting.read.figures import (
    Axis,
    Factor,
    Findings,
    Growth,
    Notes,
    Region,
    Share,
    Size,
    Skipped,
    Takeaway,
)
from netsim.drafting.read.geography import read_segmentation
from netsim.drafting.read.headline import (
    first_line,
    headline_end,
    merge_growth,
    merge_sizes,
    read_headline,
    read_overview,
)
from netsim.drafting.read.numbers import other_digits
from netsim.drafting.read.prose import Parts, a_part_s, read_prose, with_prose
from netsim.drafting.read.segments import MAX_TAKEAWAYS, bullets_after, read_takeaway
from netsim.drafting.read.sweep import list_unread, quotes_of
from netsim.drafting.read.tables import factor_rows
from netsim.drafting.read.text import INVISIBLE, check_plain_text, clean, too_many

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
    "check_plain_text",
    "read_report",
]


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
    notes = Notes()
    other_digits(lines, notes)
    axes, regions = read_segmentation(lines)
    stop = headline_end(lines)
    overview = read_overview(lines, stop, notes)
    title = next((clean(line) for line in lines if line.strip()), None)
    parts = Parts(tuple(axes), tuple(regions), title or "")
    stated, growths = read_headline(lines, stop, notes, lambda sentence: a_part_s(sentence, parts))
    merged = [*(s.quote for s in [*stated, *overview.sizes]), *(g.quote for g in growths)]
    merged += [overview.growth.quote] if overview.growth else []
    sizes = merge_sizes(stated, overview.sizes, notes)
    growth = merge_growth(growths, overview.growth, notes)

    takeaways: list[Takeaway] = []
    start = first_line(lines, r"^\s*Key (?:Report )?Takeaways\b")
    if start is not None:
        bullets = bullets_after(lines, start)
        too_many(len(bullets), MAX_TAKEAWAYS, "key takeaways")
        for bullet in bullets:
            takeaway = read_takeaway(bullet, notes)
            if takeaway is not None:
                takeaways.append(takeaway)
    read = {clean(t.sentence).lower() for t in takeaways}
    read |= {figure.sentence.lower() for figure in [*stated, *growths]}
    prose, covered = read_prose(lines, read, parts, notes)
    takeaways = with_prose(takeaways, prose, notes)
    merged += covered
    factors: dict[str, list[Factor]] = {"driver": [], "restraint": []}
    for kind, heading in (("driver", "Drivers"), ("restraint", "Restraints")):
        start = first_line(lines, rf"^\s*{heading} Impact Analysis")
        if start is not None:
            factors[kind] = factor_rows(lines, start, kind, notes)
    found = Findings(
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
        skipped=(),
    )
    list_unread(lines, quotes_of(found, notes, merged), notes)
    return replace(found, skipped=tuple(notes.skipped))
