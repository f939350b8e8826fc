"""The figures a report states, as read: sizes, growth rates, shares, takeaways, impact
rows, segmentations."""

from __future__ import annotations

from dataclasses import dataclass, field

from netsim.drafting.read.text import (
    cut,
    too_many,
)


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
    report: str = ""  # the report's name, when several are drafted as one


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


MAX_SKIPPED = 1000  # figures skipped while reading (each is listed: a page of thousands is not


@dataclass
class Notes:
    skipped: list[Skipped] = field(default_factory=list)

    def skip(self, figure: str, sentence: str, reason: str) -> None:
        too_many(len(self.skipped) + 1, MAX_SKIPPED, "figures that cannot be read")
        self.skipped.append(Skipped(cut(figure), cut(sentence), reason))
