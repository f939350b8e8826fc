"""What every part of a draft shares: its defaults, the sources it writes, the composer's
books."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.items import InlineTable

from netsim.drafting.read import (
    Findings,
    Skipped,
)
from netsim.scenario.names import axis_name_problem

DRAFT = "assumption: draft default, review: "


@dataclass(frozen=True)
class Defaults:
    """The neutral defaults a draft fills gaps with (each marked in the file)."""

    base_scale: tuple[float, float, float] = (0.95, 1.0, 1.05)
    impact_spread: tuple[float, float] = (0.5, 1.5)  # low and high, times the point
    unnamed_region_weight: float = 0.5
    global_sd: float = 0.3
    region_sd: float = 0.5
    horizon: int = 5  # forecast years when the report states no final year
    # the timeline phrases: (onset after the first forecast year, ramp years)
    timelines: tuple[tuple[str, str, int, int], ...] = (
        ("short", r"short", 0, 1),
        ("medium", r"medium|mid", 0, 3),
        ("long", r"long", 1, 4),
    )
    consistency: float = 0.8  # largest miss (in tolerances) the calibration is left
    # a part's CAGR this far from the market's would need a premium near the solver's
    # plausible range (limits.solved_premium_pp, +-25 pp): skipped
    max_gap_pp: float = 20.0


DEFAULTS = Defaults()


@dataclass
class Composition:
    """What :func:`compose` made: the TOML text, and the lines for the reader."""

    toml: str
    name: str
    assumed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unit: str = ""
    years: tuple[int, int] = (0, 0)
    placed: list[str] = field(default_factory=list)  # one line per placed takeaway figure
    # the document's figures that state a report's figure: key path -> (the report's
    # words, the draft default it was read with, or "")
    figures: dict[str, tuple[str, str]] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)  # figures kept as checks, not targets


class Quoted(str):
    """The words of one figure as several reports state it: each report's quote with
    its name, and the note saying how they were brought together (a draft default).
    As a string it reads ``'q1' (a.txt), 'q2' (b.txt)``, which is also how a source
    quotes it."""

    parts: tuple[tuple[str, str], ...]
    note: str

    def __new__(cls, parts: Iterable[tuple[str, str]], note: str = "") -> Quoted:
        parts = tuple(parts)
        made = super().__new__(cls, ", ".join(f"'{quote}' ({name})" for name, quote in parts))
        made.parts = parts
        made.note = note
        return made


def quoted(quote: str) -> str:
    """A quote as a source writes it: ``'words'``, or each report's for a
    :class:`Quoted`."""
    return str.__str__(quote) if isinstance(quote, Quoted) else f"'{quote}'"


def report_source(quote: str, note: str = "") -> str:
    """``report: 'words'; note``; several reports' words each with its report's name,
    and the note bringing them together."""
    notes = [n for n in (getattr(quote, "note", ""), note) if n]
    return f"report: {quoted(quote)}" + "".join(f"; {n}" for n in notes)


def assumption(reason: str) -> str:
    return DRAFT + reason


def default_in(note: str) -> str:
    """The draft default a figure's source or note holds (its reason), or ``""``."""
    _, marked, reason = note.partition(DRAFT)
    return reason.split(";")[0].strip() if marked else ""


def inline(**items: Any) -> InlineTable:
    table = tomlkit.inline_table()
    table.update(items)
    return table


def rounded(value: float, digits: int = 12) -> float:
    """``value`` to ``digits`` significant digits (no 1.7999999999999998 in the file)."""
    return 0.0 if value == 0 else float(f"{value:.{digits}g}")


def even_split(total: float, count: int) -> list[float]:
    """``total`` in ``count`` equal parts rounded to 4 decimals, the last taking the rest,
    so that they add up to ``total`` exactly (to float precision)."""
    if count <= 0:
        return []
    part = round(total / count, 4)
    return [part] * (count - 1) + [round(total - part * (count - 1), 10)]


def tolerance_of(decimals: int) -> float:
    """Half a unit of the last digit written: 4.37 -> 0.005, 3.1 -> 0.05."""
    return rounded(0.5 * 10.0**-decimals)


def axis_identifier(text: str, taken: Iterable[str]) -> str:
    """A plain identifier from a label: ``"Treatment Modality"`` -> ``treatment_modality``;
    made valid (not a netsim name) and unique among ``taken``."""
    base = re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_") or "axis"
    if not base[0].isalpha():
        base = f"axis_{base}"
    if axis_name_problem(base):
        base = f"{base.removeprefix('by_')}_axis"
    taken = set(taken)
    name, number = base, 2
    while name in taken or axis_name_problem(name):
        name, number = f"{base}_{number}", number + 1
    return name


def slug(text: str, taken: Iterable[str], words: int = 8) -> str:
    parts = re.sub(r"[^0-9a-z]+", " ", text.lower()).split()[:words]
    base = "_".join(parts) or "item"
    taken = set(taken)
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name


def title_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _scenario_name(title: str | None) -> str:
    """A scenario name from the report's title: "X Market Size and Share" -> "X Market"."""
    if not title:
        return "Drafted market"
    cut = re.match(r"(.*?\bMarket)\b", title)
    name = (cut.group(1) if cut else title).strip(" -:|")
    return name[:120] or "Drafted market"


class ComposerBase:
    """The books every part of the composer writes in (see :class:`Composer`)."""

    def __init__(self, findings: Findings, name: str | None, defaults: Defaults):
        self.findings = findings
        self.defaults = defaults
        self.assumed: list[str] = []
        self.skipped: list[Skipped] = list(findings.skipped)
        # what the document holds of the takeaways' figures, by part: a figure placed
        # and then taken out again (a share that does not fit) leaves this book too
        self.placing: dict[tuple[str, ...], str] = {}
        self.figures: dict[str, tuple[str, str]] = {}  # key path -> (quote, draft default)
        # a share stated for a year before the base year, carried to it: quote -> note
        self.carried: dict[str, str] = {}
        # figures the report states that the document's targets already pin: kept as a
        # check, one line each ("checked" in the summary and in the file's comments)
        self.checked: list[str] = []
        self.sentences: dict[str, str] = {}  # a part's figure's quote -> its sentence
        self.quotes: dict[int, str] = {}  # a part's cagr_target table -> its quote
        self.name = name or _scenario_name(findings.title)

    def skip(self, figure: str, sentence: str, reason: str) -> None:
        self.skipped.append(Skipped(figure, sentence, reason))

    def figure(self, key: str, target: InlineTable) -> None:
        """Note a part's CAGR target placed at ``key`` as the report's figure."""
        self.figures[key] = (self.quotes[id(target)], default_in(str(target["source"])))

    def place(self, key: tuple[str, ...], line: str) -> None:
        self.placing[key] = line

    def unplace(self, key: tuple[str, ...]) -> None:
        self.placing.pop(key, None)

    @property
    def placed(self) -> list[str]:
        return list(self.placing.values())

    def share_source(self, quote: str) -> str:
        """A share's source: the report's words, and the note if it was carried from
        an earlier year to the base year."""
        return report_source(quote, self.carried.get(quote, ""))

    def assume(self, line: str) -> None:
        self.assumed.append(line)
