"""Writing a scenario document from a report's :class:`~netsim.drafting.reading.Findings`.

Every figure the report gives becomes a number whose source quotes the report's own
words (``report: '...'``); every gap gets a neutral default whose source says so
(``assumption: draft default, review: <reason>``) and is listed in the draft's
``assumed``; a figure that cannot be placed (a segment the report does not list, a
share stated for another year, a CAGR the sizes contradict) is left out and listed in
``skipped`` with its sentence. The document is written with :mod:`tomlkit` and read
back with :mod:`tomllib` before it is returned.
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.items import InlineTable, Table

from netsim.drafting.places import best_match, group_of, is_region_name, normalized, regions_named
from netsim.drafting.reading import (
    GEOGRAPHY_AXES,
    SCALES,
    Factor,
    Findings,
    Growth,
    Share,
    Size,
    Skipped,
    Takeaway,
)
from netsim.errors import ScenarioError
from netsim.scenario.documents import key_path
from netsim.scenario.limits import Limits
from netsim.scenario.names import axis_name_problem

__all__ = ["DEFAULTS", "Composition", "compose"]

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


# --- small helpers ----------------------------------------------------------------------------


def _report(quote: str, note: str = "") -> str:
    return f"report: '{quote}'" + (f"; {note}" if note else "")


def _assumption(reason: str) -> str:
    return DRAFT + reason


def _default_in(note: str) -> str:
    """The draft default a figure's source or note holds (its reason), or ``""``."""
    _, marked, reason = note.partition(DRAFT)
    return reason.split(";")[0].strip() if marked else ""


def _inline(**items: Any) -> InlineTable:
    table = tomlkit.inline_table()
    table.update(items)
    return table


def _round(value: float, digits: int = 12) -> float:
    """``value`` to ``digits`` significant digits (no 1.7999999999999998 in the file)."""
    return 0.0 if value == 0 else float(f"{value:.{digits}g}")


def _split(total: float, count: int) -> list[float]:
    """``total`` in ``count`` equal parts rounded to 4 decimals, the last taking the rest,
    so that they add up to ``total`` exactly (to float precision)."""
    if count <= 0:
        return []
    part = round(total / count, 4)
    return [part] * (count - 1) + [round(total - part * (count - 1), 10)]


def _tolerance(decimals: int) -> float:
    """Half a unit of the last digit written: 4.37 -> 0.005, 3.1 -> 0.05."""
    return _round(0.5 * 10.0**-decimals)


def _identifier(text: str, taken: Iterable[str]) -> str:
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


def _slug(text: str, taken: Iterable[str], words: int = 8) -> str:
    parts = re.sub(r"[^0-9a-z]+", " ", text.lower()).split()[:words]
    base = "_".join(parts) or "item"
    taken = set(taken)
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name


def _title(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- the market and its calibration targets ---------------------------------------------------


@dataclass(frozen=True)
class _Target:
    key: str
    kind: str  # size or cagr
    value: float
    tolerance: float
    year: int | None
    start: int | None
    end: int | None
    quote: str
    note: str = ""
    sentence: str = ""


def _period(growth: Growth, forecast: tuple[int, int]) -> tuple[int, int, str]:
    """A CAGR's years: as stated, else from the forecast period's start (to the stated
    end, else its end); with a note for the source when not stated in full."""
    if growth.period == "stated" and growth.start is not None and growth.end is not None:
        return growth.start, growth.end, ""
    end = growth.end if growth.end is not None else forecast[1]
    note = _assumption(
        f"period {forecast[0]}-{end}: the report states no start year; the forecast "
        "period's first year"
    )
    if growth.end is None:
        note = _assumption(
            f"period {forecast[0]}-{end}: the report states no years; the forecast period"
        )
    return forecast[0], end, note


def _consistent(targets: list[_Target], base_size: float, base: int) -> list[float]:
    """Each global target's miss, in tolerances, at the weighted least-squares growth
    path ``ln(V[t] / V[base]) = step + (t - base) * rate`` (what calibration solves:
    a baseline and, with two or more targets, a first-year step)."""
    rows = []
    for target in targets:
        if target.kind == "size":
            assert target.year is not None
            rows.append(
                (
                    1.0,
                    float(target.year - base),
                    math.log(target.value / base_size),
                    target.tolerance / target.value,
                )
            )
        else:
            assert target.start is not None and target.end is not None
            span = target.end - target.start
            rows.append(
                (
                    1.0 if target.start == base else 0.0,
                    float(span),
                    span * math.log1p(target.value / 100.0),
                    span * target.tolerance / 100.0 / (1.0 + target.value / 100.0),
                )
            )
    if len(rows) < 2:
        return [0.0] * len(rows)
    # normal equations of the weighted rows, with a tiny ridge for dependent rows
    a11 = sum((s / w) ** 2 for s, _, _, w in rows)
    a12 = sum(s * r / w**2 for s, r, _, w in rows)
    a22 = sum((r / w) ** 2 for _, r, _, w in rows)
    b1 = sum(s * y / w**2 for s, _, y, w in rows)
    b2 = sum(r * y / w**2 for _, r, y, w in rows)
    ridge = 1e-12 * (a11 + a22)
    a11, a22 = a11 + ridge, a22 + ridge
    determinant = a11 * a22 - a12 * a12
    step = (b1 * a22 - a12 * b2) / determinant
    rate = (a11 * b2 - a12 * b1) / determinant
    return [abs(s * step + r * rate - y) / w for s, r, y, w in rows]


# --- the composer -----------------------------------------------------------------------------


class _Composer:
    def __init__(self, findings: Findings, name: str | None, defaults: Defaults):
        self.findings = findings
        self.defaults = defaults
        self.assumed: list[str] = []
        self.skipped: list[Skipped] = list(findings.skipped)
        # what the document holds of the takeaways' figures, by part: a figure placed
        # and then taken out again (a share that does not fit) leaves this book too
        self.placing: dict[tuple[str, ...], str] = {}
        self.figures: dict[str, tuple[str, str]] = {}  # key path -> (quote, draft default)
        self.sentences: dict[str, str] = {}  # a part's figure's quote -> its sentence
        self.quotes: dict[int, str] = {}  # a part's cagr_target table -> its quote
        self.name = name or _scenario_name(findings.title)

    def skip(self, figure: str, sentence: str, reason: str) -> None:
        self.skipped.append(Skipped(figure, sentence, reason))

    def figure(self, key: str, target: InlineTable) -> None:
        """Note a part's CAGR target placed at ``key`` as the report's figure."""
        self.figures[key] = (self.quotes[id(target)], _default_in(str(target["source"])))

    def place(self, key: tuple[str, ...], line: str) -> None:
        self.placing[key] = line

    def unplace(self, key: tuple[str, ...]) -> None:
        self.placing.pop(key, None)

    @property
    def placed(self) -> list[str]:
        return list(self.placing.values())

    def assume(self, line: str) -> None:
        self.assumed.append(line)

    # the market ---------------------------------------------------------------------------

    def market(self) -> None:
        sizes = []
        for size in self.findings.sizes:
            if size.value > 0:
                sizes.append(size)
            else:
                self.skip(size.quote, size.sentence, "a market size of zero")
        if not sizes:
            unread = ""
            if self.skipped:  # what was found but not read says why
                first = self.skipped[0]
                figure = first.figure if len(first.figure) <= 60 else first.figure[:57] + "..."
                unread = (
                    f" ({len(self.skipped)} figure{'s' if len(self.skipped) > 1 else ''} not "
                    f"read, the first {figure!r}: {first.reason})"
                )
            raise ScenarioError(
                "no market size found (a sentence such as 'valued at USD 3.1 billion in "
                f"2026' or a 'Market Size (2026)' row): nothing to draft{unread}"
            )
        self.base_figure = sizes[0]
        self.currency = sizes[0].currency
        self.scale = sizes[0].scale
        self.unit = f"{self.currency} {self.scale}"
        self.base = sizes[0].year
        growth = self.findings.growth
        ends = [s.year for s in sizes[1:]]
        if growth is not None and growth.end is not None and growth.end > self.base:
            ends.append(growth.end)
        self.final_source = ""
        if ends:
            self.final = max(ends)
        else:
            later = [
                t.fastest.end
                for t in self.findings.takeaways
                if t.fastest is not None and t.fastest.end is not None
            ]
            study = self.findings.study_period
            candidates = [y for y in [*later, study[1] if study else 0] if y > self.base]
            if candidates:
                self.final = max(candidates)
            else:
                self.final = self.base + self.defaults.horizon
                self.final_source = _assumption(
                    f"the report states no forecast year: {self.defaults.horizon} years after "
                    "the base year"
                )
                self.assume(f"years.final = {self.final}: no forecast year stated")
        start = self.base + 1
        if growth is not None and growth.start is not None and self.base <= growth.start:
            start = growth.start
        self.forecast = (start, self.final)
        self.targets = self._targets(sizes, growth)

    def value_of(self, size: Size) -> float:
        return _round(size.value * SCALES[size.scale] / SCALES[self.scale])

    def _targets(self, sizes: list[Size], growth: Growth | None) -> list[_Target]:
        targets = []
        for size in sizes[1:]:
            tolerance = _round(0.5 * 10.0**-size.decimals * SCALES[size.scale] / SCALES[self.scale])
            if size.year > self.final:
                self.skip(size.quote, size.sentence, "after the forecast's final year")
                continue
            targets.append(
                _Target(
                    f"size_{size.year}",
                    "size",
                    self.value_of(size),
                    tolerance,
                    size.year,
                    None,
                    None,
                    size.quote,
                    f"tolerance +-{tolerance:g}: half the last digit given",
                    size.sentence,
                )
            )
        if growth is not None:
            start, end, note = _period(growth, self.forecast)
            if self.beyond_limit(growth, growth.sentence, "the market"):
                pass
            elif not (self.base <= start < end <= self.final):
                self.skip(
                    growth.quote,
                    growth.sentence,
                    f"its period {start}-{end} is not within the years {self.base}-{self.final}",
                )
            else:
                if note:
                    self.assume(
                        f"market.targets.cagr_{start}_{end}: period {start}-{end}, not stated in "
                        "full by the report"
                    )
                tolerance = _tolerance(growth.decimals)
                targets.append(
                    _Target(
                        f"cagr_{start}_{end}",
                        "cagr",
                        growth.value,
                        tolerance,
                        None,
                        start,
                        end,
                        growth.quote,
                        "; ".join(
                            n
                            for n in (note, f"tolerance +-{tolerance:g} pp: half the last digit")
                            if n
                        ),
                        growth.sentence,
                    )
                )
        base_size = self.value_of(self.base_figure)
        misses = _consistent(targets, base_size, self.base)
        cagrs = [t for t in targets if t.kind == "cagr"]
        if cagrs and max(misses) > self.defaults.consistency:
            sizes_only = [t for t in targets if t.kind == "size"]
            if max(_consistent(sizes_only, base_size, self.base), default=0.0) <= (
                self.defaults.consistency
            ):
                cagr = cagrs[0]
                by_year = {self.base: base_size, **{t.year: t.value for t in sizes_only}}
                shown = ", ".join(f"{v:g} ({y})" for y, v in sorted(by_year.items()))
                implied = ""
                if cagr.start in by_year and cagr.end in by_year:
                    assert cagr.start is not None and cagr.end is not None
                    ratio = by_year[cagr.end] / by_year[cagr.start]
                    rate = 100 * (ratio ** (1 / (cagr.end - cagr.start)) - 1)
                    implied = f", which give {rate:.2f} % a year"
                exact = " (the base size is exact in a scenario)" if cagr.start == self.base else ""
                self.skip(
                    cagr.quote,
                    cagr.sentence,
                    f"disagrees with the sizes {shown}{implied}, beyond their rounding{exact}; "
                    "the sizes are kept",
                )
                targets = sizes_only
        while len(targets) > 1:
            misses = _consistent(targets, base_size, self.base)
            worst = max(range(len(targets)), key=misses.__getitem__)
            if misses[worst] <= self.defaults.consistency:
                break
            dropped = targets.pop(worst)
            self.skip(
                dropped.quote,
                dropped.sentence,
                "disagrees with the other sizes beyond their rounding (a growth path with one "
                "first-year step cannot meet them all)",
            )
        self._check_growth(targets, base_size)
        return targets

    def _check_growth(self, targets: list[_Target], base_size: float) -> None:
        """Refuse sizes that grow (or shrink) faster than netsim's limit on growth from one
        to the next: the report's own figures break it, and no scenario may hold them."""
        limit = Limits().growth_pp
        path = [(self.base, base_size, self.base_figure.quote)]
        path += sorted(
            ((t.year, t.value, t.quote) for t in targets if t.kind == "size" and t.year),
            key=lambda item: item[0],
        )
        for (start, before, first), (end, after, second) in itertools.pairwise(path):
            rate = 100.0 * ((after / before) ** (1.0 / (end - start)) - 1.0)
            if abs(rate) > limit:
                raise ScenarioError(
                    f"the report's figures break a scenario limit: {first!r} to {second!r} is "
                    f"{rate:+.4g} % a year, beyond netsim's +-{limit:g} % limit on growth "
                    "(limits.growth_pp): check those figures"
                )

    def market_tables(self, document: Any) -> None:
        base = self.base_figure
        years = tomlkit.table()
        years.add("base", self.base)
        years.add("final", self.final)
        final = next((t for t in self.targets if t.kind == "size" and t.year == self.final), None)
        if final is None:
            final = next((t for t in self.targets if t.end == self.final), None)
        self.figures["years.base"] = (base.quote, "")
        if self.final_source:
            years.add("source", f"{_report(base.quote)}; {self.final_source[12:]}")
        elif final is not None:
            years.add("source", f"report: '{base.quote}' ... '{final.quote}'")
            self.figures["years.final"] = (final.quote, "")
        else:
            years.add("source", _report(base.quote, f"final year {self.final}"))
        document.add("years", years)

        market = tomlkit.table()
        market.add("unit", self.unit)
        size = tomlkit.table()
        size.add("value", self.value_of(base))
        size.add("source", _report(base.quote))
        self.figures["market.base_size.value"] = (base.quote, "")
        market.add("base_size", size)
        low, mode, high = self.defaults.base_scale
        scale = tomlkit.table()
        scale.add("dist", "pert")
        scale.add("low", low)
        scale.add("mode", mode)
        scale.add("high", high)
        scale.add(
            "source",
            _assumption(
                f"the report gives no spread of its base size: PERT {low:g}-{mode:g}-{high:g}"
            ),
        )
        market.add("base_scale", scale)
        self.assume(f"market.base_scale: PERT {low:g}-{mode:g}-{high:g} (no spread given)")
        if self.targets:
            targets = tomlkit.table(is_super_table=True)
            for target in self.targets:
                table = tomlkit.table()
                table.add("kind", target.kind)
                if target.kind == "size":
                    table.add("year", target.year)
                else:
                    table.add("start", target.start)
                    table.add("end", target.end)
                table.add("value", target.value)
                table.add("tolerance", target.tolerance)
                table.add("source", _report(target.quote, target.note))
                targets.add(target.key, table)
                self.figures[key_path("market", "targets", target.key)] = (
                    target.quote,
                    _default_in(target.note),
                )
            market.add("targets", targets)
        else:
            table = tomlkit.table()
            table.add("value", 0.0)
            table.add("source", _assumption("the report gives no growth figure: no growth"))
            market.add("baseline_growth", table)
            self.assume("market.baseline_growth = 0 %: the report gives no growth figure")
        document.add("market", market)

    # growth figures of parts (segments, regions, countries) --------------------------------

    def beyond_limit(self, growth: Growth, sentence: str, what: str) -> bool:
        """Skip a CAGR past netsim's limit on growth (no scenario may hold it)."""
        limit = Limits().growth_pp
        if abs(growth.value) <= limit:
            return False
        self.skip(
            growth.quote,
            sentence,
            f"{what}: {growth.value:g} % a year is beyond netsim's +-{limit:g} % limit on growth",
        )
        return True

    def part_target(self, growth: Growth, what: str, sentence: str) -> InlineTable | None:
        start, end, note = _period(growth, self.forecast)
        if self.beyond_limit(growth, sentence, what):
            return None
        if not (self.base <= start < end <= self.final):
            self.skip(
                growth.quote,
                sentence,
                f"{what}: period {start}-{end} is not within the years {self.base}-{self.final}",
            )
            return None
        market = self.market_rate()
        if abs(growth.value - market) > self.defaults.max_gap_pp:
            self.skip(
                growth.quote,
                sentence,
                f"{what}: {growth.value:g} % a year is {abs(growth.value - market):.3g} pp from "
                f"the market's {market:.3g} %, beyond the growth premium a calibration may solve",
            )
            return None
        self.sentences[growth.quote] = sentence
        if note:
            self.assume(f"{what}: CAGR period {start}-{end}, not stated in full by the report")
        table = _inline(
            value=growth.value,
            tolerance=_tolerance(growth.decimals),
            start=start,
            end=end,
            source=_report(growth.quote, note),
        )
        self.quotes[id(table)] = growth.quote
        return table

    def _zero_share(self, target: InlineTable, name: str) -> None:
        quote = self.quotes[id(target)]
        sentence = self.sentences.get(quote, quote)
        self.skip(quote, sentence, f"{name}: its share is 0 %, so it has no growth to calibrate")

    def skip_part(self, quote: str, reason: str) -> None:
        """Skip a part's figure placed before (its sentence from when it was read)."""
        self.skip(quote, self.sentences.get(quote, quote), reason)

    def market_rate(self) -> float:
        """The market's growth, % a year: its CAGR target, else its sizes' rate, else 0."""
        cagr = next((t.value for t in self.targets if t.kind == "cagr"), None)
        if cagr is not None:
            return cagr
        sizes = [t for t in self.targets if t.kind == "size"]
        if not sizes:
            return 0.0
        last = max(sizes, key=lambda t: t.year or 0)
        assert last.year is not None
        ratio = last.value / self.value_of(self.base_figure)
        return 100.0 * (ratio ** (1.0 / (last.year - self.base)) - 1.0)

    def share_year_ok(self, share: Share, what: str, sentence: str) -> bool:
        if share.year != self.base:
            when = f"stated for {share.year}" if share.year else "stated for no year"
            self.skip(
                share.quote,
                sentence,
                f"{what}: share {when}; the scenario's shares are for its base year {self.base}",
            )
            return False
        return True

    # geography -------------------------------------------------------------------------------

    def geography(self, document: Any) -> None:
        listed = {r.name: list(r.countries) for r in self.findings.regions}
        geo = [t for t in self.findings.takeaways if t.axis.lower() in GEOGRAPHY_AXES]
        region_share: dict[str, tuple[float, str]] = {}
        region_growth: dict[str, InlineTable] = {}
        country_share: dict[str, tuple[float, str]] = {}
        country_growth: dict[str, InlineTable] = {}
        from_takeaways: list[str] = []  # regions named by takeaways when none are listed
        loose_countries: list[str] = []

        def place(name: str, sentence: str, figure: str) -> tuple[str, str] | None:
            """("region", name) or ("country", name) for a takeaway's place: a region
            or country of that very name, a region by its alias ("APAC"), else the
            region that fits the words best."""
            if listed:
                countries = [c for cs in listed.values() for c in cs]
                key = normalized(name)
                for kind, names in (("region", list(listed)), ("country", countries)):
                    same = [n for n in names if normalized(n) == key]
                    if same:
                        return kind, same[0]
                group = group_of(name)
                same_group = [r for r in listed if group and group_of(r) == group]
                if len(same_group) == 1:
                    return "region", same_group[0]
                region = best_match(name, listed, threshold=0.5)
                if region is not None:
                    return "region", region
                self.skip(
                    figure, sentence, f"{name!r} is not among the report's regions or countries"
                )
                return None
            if is_region_name(name):
                if name not in from_takeaways:
                    from_takeaways.append(name)
                return "region", name
            if name not in loose_countries:
                loose_countries.append(name)
            return "country", name

        for takeaway in geo:
            if takeaway.largest is not None:
                share = takeaway.largest
                where = place(share.name, takeaway.sentence, share.quote)
                book = region_share if where and where[0] == "region" else country_share
                if where and where[1] in book:
                    self.skip(
                        share.quote,
                        takeaway.sentence,
                        f"{where[1]}: a second share for it; the first is kept",
                    )
                elif where and not 0 <= share.value <= 100:
                    self.skip(
                        share.quote, takeaway.sentence, f"{where[1]}: a share outside 0-100 %"
                    )
                elif where and self.share_year_ok(share, where[1], takeaway.sentence):
                    book[where[1]] = (share.value, share.quote)
                    self.sentences[share.quote] = takeaway.sentence
                    self.place(
                        ("share", *where), f"{where[1]}: {share.value:g} % share in {share.year}"
                    )
            if takeaway.fastest is not None and takeaway.fastest_name:
                where = place(takeaway.fastest_name, takeaway.sentence, takeaway.fastest.quote)
                growths = region_growth if where and where[0] == "region" else country_growth
                if where and where[1] in growths:
                    self.skip(
                        takeaway.fastest.quote,
                        takeaway.sentence,
                        f"{where[1]}: a second CAGR for it; the first is kept",
                    )
                elif where:
                    target = self.part_target(takeaway.fastest, where[1], takeaway.sentence)
                    if target is not None:
                        growths[where[1]] = target
                        self.place(
                            ("growth", *where),
                            f"{where[1]}: {takeaway.fastest.value:g} % CAGR "
                            f"{target['start']}-{target['end']}",
                        )

        if not listed:
            filler = "Rest of World" if (from_takeaways or loose_countries) else "World"
            listed = {name: [name] for name in from_takeaways}
            listed[filler] = [*loose_countries, filler]
            shown = "; ".join(f"{r} ({', '.join(cs)})" for r, cs in listed.items())
            self.assume(f"regions: the report lists none: {shown}")
        seen: set[str] = set()
        for region, countries in listed.items():
            named = []
            for country in countries or [region]:
                if country in seen:  # "Others" under two regions: one name each
                    self.assume(f"country {country!r} of {region} named {country} ({region})")
                    country = f"{country} ({region})"
                seen.add(country)
                named.append(country)
            listed[region] = named
        region_of = {c: r for r, cs in listed.items() for c in cs}
        self.regions = list(listed)
        self.countries = listed

        # a region that would take every figure's growth leaves none for the baseline
        if len(self.regions) == len(region_growth):
            region = next(reversed(region_growth))
            self.skip_part(
                self.quotes[id(region_growth.pop(region))],
                f"{region}: every region would have a CAGR target; one must keep the "
                "market's growth",
            )
            self.unplace(("growth", "region", region))
        # so does a set of country targets that leaves no country with the market's growth
        while (
            self.targets
            and country_growth
            and all(c in country_growth or region_of.get(c) in region_growth for c in region_of)
        ):
            country = next(reversed(country_growth))
            self.skip_part(
                self.quotes[id(country_growth.pop(country))],
                f"{country}: every country would have a CAGR target (its own or its region's); "
                "one must keep the market's growth",
            )
            self.unplace(("growth", "country", country))
        shares = self._region_shares(region_share, country_share, region_of)
        for region in list(region_growth):
            if shares[region][0] <= 0:
                self._zero_share(region_growth.pop(region), region)
                self.unplace(("growth", "region", region))
        regions = tomlkit.table(is_super_table=True)
        for region in self.regions:
            table = tomlkit.table()
            value, source = shares[region]
            table.add("share", _inline(value=value, source=source))
            if region in region_growth:
                table.add("cagr_target", region_growth[region])
                self.figure(key_path("regions", region, "cagr_target"), region_growth[region])
            else:
                table.add(
                    "growth_premium",
                    _inline(
                        value=0.0,
                        source=_assumption(
                            "no growth figure for this region: grows with the market"
                        ),
                    ),
                )
            table.add("country_shares", self._country_shares(region, value, country_share))
            regions.add(region, table)
        document.add("regions", regions)
        if len(region_growth) < len(self.regions):
            self.assume("regions: growth premium 0 for every region without a CAGR")
        self.assume(
            "country shares: equal within each region"
            + (" (beside the countries whose share the report gives)" if country_share else "")
        )
        if country_share or country_growth:
            countries = tomlkit.table(is_super_table=True)
            for country in dict.fromkeys([*country_share, *country_growth]):
                table = tomlkit.table()
                if country in country_share:
                    value, quote = country_share[country]
                    table.add("share", _inline(value=value, source=_report(quote)))
                if country in country_growth:
                    table.add("cagr_target", country_growth[country])
                    self.figure(
                        key_path("countries", country, "cagr_target"), country_growth[country]
                    )
                countries.add(country, table)
            document.add("countries", countries)

    def _region_shares(
        self,
        region_share: dict[str, tuple[float, str]],
        country_share: dict[str, tuple[float, str]],
        region_of: dict[str, str],
    ) -> dict[str, tuple[float, str]]:
        """Every region's share: the report's, else an even split of the rest (a region
        holding a country with a known share gets at least that country's share)."""
        for region, (value, quote) in list(region_share.items()):
            if value > 100:
                self.skip_part(quote, f"{region}: a share over 100 %")
                self.unplace(("share", "region", region))
                region_share.pop(region)
        while sum(v for v, _ in region_share.values()) > 100 + 1e-9:
            region, (_, quote) = region_share.popitem()
            self.skip_part(quote, f"{region}: the regions' shares add up to over 100 %")
            self.unplace(("share", "region", region))
        unknown = [r for r in self.regions if r not in region_share]
        if not unknown and abs(sum(v for v, _ in region_share.values()) - 100) > 1e-9:
            region, (_, quote) = region_share.popitem()
            self.skip_part(quote, f"{region}: no other region to take the remaining share")
            self.unplace(("share", "region", region))
            unknown = [region]
        known_total = sum(v for v, _ in region_share.values())
        # countries with a known share: inside a known region they must fit in it
        floors = dict.fromkeys(unknown, 0.0)
        for country, (value, quote) in list(country_share.items()):
            region = region_of[country]
            others = [c for c in self.countries[region] if c != country]
            inside = sum(v for c, (v, _) in country_share.items() if region_of[c] == region)
            if region in region_share:
                limit = region_share[region][0]
                if inside > limit + 1e-9 or (not others and abs(inside - limit) > 1e-9):
                    self.skip_part(quote, f"{country}: does not fit in {region}'s share")
                    self.unplace(("share", "country", country))
                    country_share.pop(country)
            else:
                floors[region] += value
        rest = 100.0 - known_total - sum(floors.values())
        needy = [r for r in unknown if self._has_open_country(r, country_share)]
        if rest < -1e-9 or (rest > 1e-9 and not needy):
            for country, (_, quote) in list(country_share.items()):
                if region_of[country] in floors:
                    self.skip_part(quote, f"{country}: its share does not fit the regions'")
                    self.unplace(("share", "country", country))
                    country_share.pop(country)
            floors = dict.fromkeys(unknown, 0.0)
            rest = 100.0 - known_total
            needy = unknown
        shares: dict[str, tuple[float, str]] = {
            r: (v, _report(q)) for r, (v, q) in region_share.items()
        }
        parts = dict(zip(needy, _split(rest, len(needy)), strict=True))
        for region in unknown:
            value = _round(floors[region] + parts.get(region, 0.0), 10)
            reason = f"no share given: the remaining {rest:g} % split evenly over " + (
                f"{len(needy)} regions" if len(needy) > 1 else "the one region left"
            )
            if floors[region]:
                reason += f", plus its countries' stated {floors[region]:g} %"
            shares[region] = (value, _assumption(reason))
        if unknown:
            listed = ", ".join(f"{r} {shares[r][0]:g} %" for r in unknown)
            self.assume(f"regions without a share: {listed} (the rest split evenly)")
        return shares

    def _has_open_country(self, region: str, country_share: dict[str, Any]) -> bool:
        return any(c not in country_share for c in self.countries[region])

    def _country_shares(
        self, region: str, region_value: float, country_share: dict[str, tuple[float, str]]
    ) -> Table:
        countries = self.countries[region]
        known = {c: country_share[c][0] for c in countries if c in country_share}
        table = tomlkit.table()
        if region_value <= 0:
            values = dict(zip(countries, _split(100.0, len(countries)), strict=True))
        else:
            inside = {c: 100.0 * v / region_value for c, v in known.items()}
            others = [c for c in countries if c not in known]
            rest = 100.0 - sum(inside.values())
            values = {**inside, **dict(zip(others, _split(rest, len(others)), strict=True))}
            if not others and inside:  # the region is its known countries: exact sum
                last = next(reversed(inside))
                values[last] = _round(100.0 - sum(v for c, v in inside.items() if c != last), 12)
        for country in countries:
            table.add(country, values[country])
        reason = "the report gives no split: equal shares"
        if known:
            reason = (
                f"{', '.join(known)} from the report's share of the market; the others "
                "split the rest equally"
            )
        table.add("source", _assumption(reason))
        return table

    # segmentation axes -----------------------------------------------------------------------

    def axes(self, document: Any) -> None:
        takeaways = [t for t in self.findings.takeaways if t.axis.lower() not in GEOGRAPHY_AXES]
        listed = {a.name: list(a.segments) for a in self.findings.axes}
        plans: list[tuple[str, list[str], Takeaway | None, bool]] = []
        used: set[int] = set()
        for axis, segments in listed.items():
            index = next(
                (
                    i
                    for i, t in enumerate(takeaways)
                    if i not in used and best_match(t.axis, [axis], threshold=0.5)
                ),
                None,
            )
            if index is not None:
                used.add(index)
            plans.append((axis, segments, takeaways[index] if index is not None else None, True))
        seen = [normalized(t.axis) for i, t in enumerate(takeaways) if i in used]
        for i, takeaway in enumerate(takeaways):
            if i in used:
                continue
            again = normalized(takeaway.axis) in seen or any(
                best_match(takeaway.axis, [axis], threshold=0.5) for axis in listed
            )
            seen.append(normalized(takeaway.axis))
            if again:  # its figures would make a second axis of one segmentation
                self._skip_takeaway(takeaway, "a second takeaway for this segmentation")
            else:
                names = []
                if takeaway.largest is not None:
                    names.append(takeaway.largest.name)
                if takeaway.fastest_name and takeaway.fastest_name not in names:
                    names.append(takeaway.fastest_name)
                plans.append((_title(takeaway.axis), names, takeaway, False))
        if not plans:
            self.assume("axes: the report lists no segmentation: none in the scenario")
            return
        axes = tomlkit.table(is_super_table=True)
        taken: list[str] = []
        for label, segments, takeaway, was_listed in plans:
            identifier = _identifier(label, taken)
            taken.append(identifier)
            table = self._axis(identifier, label, segments, takeaway, was_listed)
            if table is not None:
                axes.add(identifier, table)
        document.add("axes", axes)

    def _skip_takeaway(self, takeaway: Takeaway, reason: str) -> None:
        for figure in (takeaway.largest, takeaway.fastest):
            if figure is not None:
                self.skip(figure.quote, takeaway.sentence, f"{reason}; the first is kept")

    def _axis(
        self,
        identifier: str,
        label: str,
        segments: list[str],
        takeaway: Takeaway | None,
        was_listed: bool,
    ) -> Table | None:
        share: tuple[str, Share] | None = None
        growth: tuple[str, InlineTable] | None = None
        sentence = takeaway.sentence if takeaway else ""
        if takeaway is not None and takeaway.largest is not None:
            largest = takeaway.largest
            name = best_match(largest.name, segments) if was_listed else largest.name
            if name is None:
                self.skip(largest.quote, sentence, f"{largest.name!r} is not a listed {label}")
            elif not 0 <= largest.value <= 100:
                self.skip(largest.quote, sentence, "a share outside 0-100 %")
            elif self.share_year_ok(largest, name, sentence):
                share = (name, largest)
                self.place(
                    ("axis", identifier, name, "share"),
                    f"{identifier} {name}: {largest.value:g} % share in {largest.year}",
                )
        if takeaway is not None and takeaway.fastest is not None and takeaway.fastest_name:
            fast = takeaway.fastest_name
            name = best_match(fast, segments) if was_listed else fast
            if name is None:
                self.skip(takeaway.fastest.quote, sentence, f"{fast!r} is not a listed {label}")
            else:
                target = self.part_target(takeaway.fastest, name, sentence)
                if target is not None:
                    growth = (name, target)
                    self.place(
                        ("axis", identifier, name, "growth"),
                        f"{identifier} {name}: {takeaway.fastest.value:g} % CAGR "
                        f"{target['start']}-{target['end']}",
                    )
        segments = list(segments)
        other_note = ""
        if not was_listed or len(segments) < 2:
            remaining = 100.0 - (share[1].value if share else 0.0)
            if remaining > 0 or len(segments) < 2:
                name = "Other" if "Other" not in segments else "Other segments"
                segments.append(name)
                other_note = f"{name}: the report lists no other {label.lower()} segment"
        if len(segments) < 2:
            return None
        table = tomlkit.table()
        table.add("label", label)
        seg_table = tomlkit.table(is_super_table=True)
        open_segments = [s for s in segments if share is None or s != share[0]]
        rest = 100.0 - (share[1].value if share else 0.0)
        even = dict(zip(open_segments, _split(rest, len(open_segments)), strict=True))
        if growth is not None:
            value = share[1].value if share and share[0] == growth[0] else even[growth[0]]
            if value <= 0:
                self._zero_share(growth[1], growth[0])
                self.unplace(("axis", identifier, growth[0], "growth"))
                growth = None
        for segment in segments:
            entry = tomlkit.table()
            if share is not None and segment == share[0]:
                entry.add("share", _inline(value=share[1].value, source=_report(share[1].quote)))
            else:
                entry.add(
                    "share",
                    _inline(
                        value=even[segment],
                        source=_assumption(
                            f"no share given: the remaining {rest:g} % split evenly over "
                            f"{len(open_segments)} segments"
                        ),
                    ),
                )
            if growth is not None and segment == growth[0]:
                entry.add("cagr_target", growth[1])
                self.figure(
                    key_path("axes", identifier, "segments", segment, "cagr_target"), growth[1]
                )
            else:
                entry.add(
                    "growth_premium",
                    _inline(
                        value=0.0,
                        source=_assumption(
                            "no growth figure for this segment: grows with the market"
                        ),
                    ),
                )
            seg_table.add(segment, entry)
        table.add("segments", seg_table)
        shown = ", ".join(f"{s} {even[s]:g} %" for s in open_segments)
        self.assume(
            f"axes.{identifier}: shares {shown} (the rest split evenly); growth "
            "premium 0 where no CAGR is given"
        )
        if other_note:
            self.assume(f"axes.{identifier}: {other_note}")
        return table

    # drivers and restraints ------------------------------------------------------------------

    def factors(self, document: Any) -> None:
        low, high = self.defaults.impact_spread
        limit = Limits().growth_pp
        kept: dict[str, list[Factor]] = {"drivers": [], "restraints": []}
        for group, items in (
            ("drivers", self.findings.drivers),
            ("restraints", self.findings.restraints),
        ):
            for factor in items:
                if abs(factor.impact) * max(low, high) > limit:
                    self.skip(
                        f"{factor.name} {factor.impact_text}",
                        factor.quote,
                        f"its spread would pass netsim's +-{limit:g} pp limit on growth",
                    )
                else:
                    kept[group].append(factor)
        factors = [*kept["drivers"], *kept["restraints"]]
        if not factors:
            return
        timelines: dict[str, Table] = {}
        geographies: dict[str, tuple[str, Table]] = {}
        first = self.base + 1
        for factor in factors:
            self._timeline(factor, timelines, first)
            if factor.geography not in geographies:
                name = _slug(factor.geography, [n for n, _ in geographies.values()], words=6)
                geographies[factor.geography] = (name, self._geography(factor.geography))
        timeline_table = tomlkit.table(is_super_table=True)
        for name, table in timelines.items():
            timeline_table.add(name, table)
        document.add("timelines", timeline_table)
        geography_table = tomlkit.table(is_super_table=True)
        for name, table in geographies.values():
            geography_table.add(name, table)
        document.add("geographies", geography_table)
        for group, items in kept.items():
            if not items:
                continue
            group_table = tomlkit.table(is_super_table=True)
            taken: list[str] = []
            for factor in items:
                identifier = _slug(factor.name, taken)
                taken.append(identifier)
                table = tomlkit.table()
                table.add("label", factor.name)
                table.add("quote", factor.quote)
                source = _report(
                    f"{factor.name} ... {factor.impact_text}",
                    f"spread {low:g}x-{high:g}x of the point is a draft default, review",
                )
                if factor.impact == 0:
                    impact = _inline(dist="fixed", value=0.0, source=source)
                else:
                    ends = sorted((_round(low * factor.impact), _round(high * factor.impact)))
                    impact = _inline(
                        dist="pert", low=ends[0], mode=factor.impact, high=ends[1], source=source
                    )
                table.add("impact", impact)
                table.add("timeline", self._timeline_name(factor.timeline))
                table.add("geography", geographies[factor.geography][0])
                group_table.add(identifier, table)
                self.figures[key_path(group, identifier, "impact")] = (
                    f"{factor.name} ... {factor.impact_text}",
                    "",
                )
            document.add(group, group_table)
        self.assume(f"drivers and restraints: impact PERT {low:g}x-{high:g}x of the report's point")
        self.assume(
            "geographies: regions named in the relevance phrase weigh 1, the others "
            f"{self.defaults.unnamed_region_weight:g}; a phrase naming none weighs all alike"
        )

    def _timeline_name(self, phrase: str) -> str:
        for name, pattern, _, _ in self.defaults.timelines:
            if re.search(pattern, phrase, re.IGNORECASE):
                return name
        return "unstated"

    def _timeline(self, factor: Factor, timelines: dict[str, Table], first: int) -> None:
        name = self._timeline_name(factor.timeline)
        if name in timelines:
            return
        rules = {n: (onset, ramp) for n, _, onset, ramp in self.defaults.timelines}
        offset, ramp = rules.get(name, rules["medium"])
        # a driver must act within the window its impact is scaled over: the first
        # global CAGR's growth years, else every forecast year
        window_end = next((t.end for t in self.targets if t.kind == "cagr"), self.final)
        assert window_end is not None
        onset = min(first + offset, window_end)
        table = tomlkit.table()
        table.add("onset", onset)
        table.add("ramp_years", ramp)
        if name == "unstated":
            reason = f"timeline {factor.timeline!r} not recognised: read as medium term"
        else:
            reason = f"{factor.timeline!r}"
        reason += f": onset {onset}, full effect after {ramp} year" + ("s" if ramp > 1 else "")
        if onset < first + offset:
            reason += f" (onset moved from {first + offset} into the forecast window)"
        table.add("source", _assumption(reason))
        timelines[name] = table
        self.assume(f"timelines.{name}: onset {onset}, ramp {ramp} ({factor.timeline})")

    def _geography(self, phrase: str) -> Table:
        named, how = regions_named(phrase, self.regions, self.countries)
        lower = self.defaults.unnamed_region_weight
        weights = _inline()
        for region in self.regions:
            weights[region] = 1.0 if (how == "none" or region in named) else lower
        table = tomlkit.table()
        table.add("quote", phrase)
        table.add("weights", weights)
        if how == "none":
            reason = f"{phrase!r} names no region: every region weighs 1"
        elif how == "global":
            reason = f"{phrase!r} is global: every region weighs 1"
        else:
            reason = (
                f"{phrase!r} names {', '.join(named)} (weight 1); the others {lower:g}"
                if len(named) < len(self.regions)
                else f"{phrase!r} names every region (weight 1)"
            )
        table.add("source", _assumption(reason))
        return table

    # noise and the whole document ------------------------------------------------------------

    def noise(self, document: Any) -> None:
        table = tomlkit.table()
        table.add(
            "global_sd",
            _inline(
                value=self.defaults.global_sd,
                source=_assumption("small year-to-year variation of global growth, pp (sd)"),
            ),
        )
        table.add(
            "region_sd",
            _inline(
                value=self.defaults.region_sd,
                source=_assumption("small region-specific variation, pp (sd)"),
            ),
        )
        document.add("noise", table)
        self.assume(
            f"noise: global_sd {self.defaults.global_sd:g} pp, region_sd "
            f"{self.defaults.region_sd:g} pp"
        )

    def compose(self) -> Composition:
        self.market()
        document = tomlkit.document()
        document.add(tomlkit.comment(f"netsim scenario drafted from a report: {self.name}."))
        document.add(
            tomlkit.comment(
                "Every 'report:' source quotes the report; every 'assumption: draft default, "
                "review: ...'"
            )
        )
        document.add(
            tomlkit.comment(
                "is a neutral default to replace with better knowledge. Schema: docs/config.md."
            )
        )
        document.add(tomlkit.nl())
        head = tomlkit.table()
        head.add("name", self.name)
        head.add(
            "description",
            f"Drafted from the report's text: {self.unit}, {self.base}-{self.final}; review "
            "every draft default",
        )
        document.add("scenario", head)
        self.market_tables(document)
        self.geography(document)
        self.axes(document)
        self.factors(document)
        self.noise(document)
        text = tomlkit.dumps(document)
        tomllib.loads(text)  # the document reads back as TOML
        return Composition(
            text,
            self.name,
            self.assumed,
            self.skipped,
            self.unit,
            (self.base, self.final),
            self.placed,
            self.figures,
        )


def _scenario_name(title: str | None) -> str:
    """A scenario name from the report's title: "X Market Size and Share" -> "X Market"."""
    if not title:
        return "Drafted market"
    cut = re.match(r"(.*?\bMarket)\b", title)
    name = (cut.group(1) if cut else title).strip(" -:|")
    return name[:120] or "Drafted market"


def compose(
    findings: Findings, name: str | None = None, defaults: Defaults = DEFAULTS
) -> Composition:
    """Write the scenario document for a report's findings.

    Parameters
    ----------
    findings : Findings
        What :func:`netsim.drafting.reading.read_report` found.
    name : str, optional
        The scenario's name (default: from the report's title).
    defaults : Defaults
        The neutral defaults for what the report does not say.

    Raises
    ------
    ScenarioError
        When the report states no market size: there is nothing to draft.
    """
    return _Composer(findings, name, defaults).compose()
