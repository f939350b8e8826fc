"""The market: its years, base size, calibration targets, and the growth figures of its parts."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.items import InlineTable, Table

from netsim.drafting.read import (
    Growth,
    Share,
    Size,
)
from netsim.drafting.read.numbers import SCALES
from netsim.drafting.write.common import (
    ComposerBase,
    assumption,
    default_in,
    even_split,
    inline,
    quoted,
    report_source,
    rounded,
    tolerance_of,
)
from netsim.errors import ScenarioError
from netsim.scenario.documents import key_path
from netsim.scenario.limits import Limits


@dataclass(frozen=True)
class Target:
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


def cagr_period(growth: Growth, forecast: tuple[int, int]) -> tuple[int, int, str]:
    """A CAGR's years: as stated, else from the forecast period's start (to the stated
    end, else its end); with a note for the source when not stated in full."""
    if growth.period == "stated" and growth.start is not None and growth.end is not None:
        return growth.start, growth.end, ""
    end = growth.end if growth.end is not None else forecast[1]
    note = assumption(
        f"period {forecast[0]}-{end}: the report states no start year; the forecast "
        "period's first year"
    )
    if growth.end is None:
        note = assumption(
            f"period {forecast[0]}-{end}: the report states no years; the forecast period"
        )
    return forecast[0], end, note


def consistency_misses(targets: list[Target], base_size: float, base: int) -> list[float]:
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


class MarketPart(ComposerBase):
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
        sizes = self._back_cast(sizes, self.findings.growth)
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
                self.final_source = assumption(
                    f"the report states no forecast year: {self.defaults.horizon} years after "
                    "the base year"
                )
                self.assume(f"years.final = {self.final}: no forecast year stated")
        # a CAGR with no start year runs from the base year ("6.1 % CAGR to 2030" beside
        # a 2025 size); the first forecast year otherwise
        start = self.base + 1
        if growth is not None and growth.period != "stated":
            start = self._unstated_start(sizes, growth)
        if growth is not None and growth.start is not None and self.base <= growth.start:
            start = growth.start
        self.forecast = (start, self.final)
        self.targets = self._targets(sizes, growth)

    def _unstated_start(self, sizes: list[Size], growth: Growth) -> int:
        """The start of a CAGR whose start year the report does not state: the base year,
        or the year after it when the report gives both years' sizes and the CAGR agrees
        better with the later one ("USD 1.01 billion in 2026 ... USD 1.42 billion by 2031,
        at a CAGR of 7.05 % over the forecast period": 2026-2031)."""
        by_year = {s.year: s.value * SCALES[s.scale] for s in sizes}
        end = growth.end if growth.end is not None else max(by_year)
        if end not in by_year or self.base + 1 not in by_year or end <= self.base + 1:
            return self.base

        def miss(start: int) -> float:
            rate = (by_year[end] / by_year[start]) ** (1.0 / (end - start)) - 1.0
            return abs(100.0 * rate - growth.value)

        return self.base + 1 if miss(self.base + 1) < miss(self.base) else self.base

    def _back_cast(self, sizes: list[Size], growth: Growth | None) -> list[Size]:
        """The sizes, with the size at a stated CAGR's start year implied from its end
        size when the report states none before it ("reach USD 2,350 billion by 2030,
        growing at a CAGR of 6.12 % from 2025 to 2030": USD 1,746 billion in 2025)."""
        if growth is None or growth.start is None or growth.end is None:
            return sizes
        if growth.period != "stated" or sizes[0].year <= growth.start:
            return sizes
        end = next((s for s in sizes if s.year == growth.end), None)
        if end is None or abs(growth.value) > Limits().growth_pp:
            return sizes
        span = growth.end - growth.start
        value = end.value / (1.0 + growth.value / 100.0) ** span
        quote = f"{end.quote} ... {growth.quote}"
        self.back_cast_note = assumption(
            f"back-cast: {end.value:g} {end.scale} in {end.year} / (1 + {growth.value:g} %)^{span}"
            f" = {value:.6g} {end.scale} in {growth.start}"
        )
        self.assume(
            f"market.base_size: {value:.6g} {end.currency} {end.scale} in {growth.start}, "
            f"back-cast from the report's {end.year} size and CAGR"
        )
        implied = Size(
            growth.start, rounded(value), end.currency, end.scale, 12, quote, end.sentence
        )
        return [implied, *sizes]

    def value_of(self, size: Size) -> float:
        return rounded(size.value * SCALES[size.scale] / SCALES[self.scale])

    def _targets(self, sizes: list[Size], growth: Growth | None) -> list[Target]:
        """The calibration targets: every later size and the CAGR, less the figures
        that disagree beyond their rounding (skipped) and those the others pin (kept as
        checks)."""
        targets = self._size_targets(sizes)
        cagr = self._growth_target(growth) if growth is not None else None
        if cagr is not None:
            targets.append(cagr)
        base_size = self.value_of(self.base_figure)
        targets = self._pinned_by_sizes(targets)
        targets = self._drop_disagreeing(targets, base_size)
        self._check_growth(targets, base_size)
        return self._checked_not_targets(targets, base_size)

    def _pinned_by_sizes(self, targets: list[Target]) -> list[Target]:
        """A CAGR between two years whose sizes are targets, stated precisely enough to
        pin it (their rounding moves it less than its own), and agreeing with them: kept
        as a check, not a target (it adds nothing calibration could meet)."""
        sizes = {t.year: t for t in targets if t.kind == "size"}
        kept = []
        for target in targets:
            first = sizes.get(target.start) if target.kind == "cagr" else None
            last = sizes.get(target.end) if target.kind == "cagr" else None
            if first is None or last is None or target.start == self.base:
                kept.append(target)
                continue
            span = (target.end or 0) - (target.start or 0)
            implied = 100.0 * ((last.value / first.value) ** (1.0 / span) - 1.0)
            relative = first.tolerance / first.value + last.tolerance / last.value
            slack = 100.0 * (1.0 + implied / 100.0) * relative / span
            if slack >= target.tolerance or abs(implied - target.value) > target.tolerance + slack:
                kept.append(target)
                continue
            self._check_line(target, target.start or 0, implied, within=True)
        return kept

    def _check_line(self, target: Target, start: int, implied: float, within: bool) -> None:
        self.checked.append(
            f"'{target.quote}': {target.value:g} % a year over {start}-{target.end}; "
            f"the sizes give {implied:.4g} % ("
            + ("within" if within else "beyond")
            + " their rounding)"
        )
        self.figures[f"checked.cagr_{start}_{target.end}"] = (target.quote, "")

    def _size_targets(self, sizes: list[Size]) -> list[Target]:
        """A target for every size after the base year's, up to the final year."""
        targets = []
        for size in sizes[1:]:
            tolerance = rounded(
                0.5 * 10.0**-size.decimals * SCALES[size.scale] / SCALES[self.scale]
            )
            if size.year > self.final:
                self.skip(size.quote, size.sentence, "after the forecast's final year")
                continue
            targets.append(
                Target(
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
        return targets

    def _growth_target(self, growth: Growth) -> Target | None:
        """The market's CAGR as a target over its period (a period not stated in full
        is a marked draft default), or None when it cannot be one (skipped)."""
        start, end, note = cagr_period(growth, self.forecast)
        if self.beyond_limit(growth, growth.sentence, "the market"):
            return None
        if not (self.base <= start < end <= self.final):
            self.skip(
                growth.quote,
                growth.sentence,
                f"its period {start}-{end} is not within the years {self.base}-{self.final}",
            )
            return None
        if note:
            self.assume(
                f"market.targets.cagr_{start}_{end}: period {start}-{end}, not stated in "
                "full by the report"
            )
        tolerance = tolerance_of(growth.decimals)
        notes = (note, f"tolerance +-{tolerance:g} pp: half the last digit")
        return Target(
            f"cagr_{start}_{end}",
            "cagr",
            growth.value,
            tolerance,
            None,
            start,
            end,
            growth.quote,
            "; ".join(n for n in notes if n),
            growth.sentence,
        )

    def _drop_disagreeing(self, targets: list[Target], base_size: float) -> list[Target]:
        """Skip a CAGR the sizes contradict beyond their rounding (the sizes are kept),
        then, one by one, the size a growth path with one first-year step cannot meet."""
        misses = consistency_misses(targets, base_size, self.base)
        cagrs = [t for t in targets if t.kind == "cagr"]
        sizes_only = [t for t in targets if t.kind == "size"]
        if (
            cagrs
            and max(misses) > self.defaults.consistency
            and max(consistency_misses(sizes_only, base_size, self.base), default=0.0)
            <= self.defaults.consistency
        ):
            self._skip_cagr_against_sizes(cagrs[0], sizes_only, base_size)
            targets = sizes_only
        while len(targets) > 1:
            misses = consistency_misses(targets, base_size, self.base)
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
        return targets

    def _skip_cagr_against_sizes(self, cagr: Target, sizes: list[Target], base_size: float) -> None:
        by_year = {self.base: base_size, **{t.year: t.value for t in sizes}}
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

    def _checked_not_targets(self, targets: list[Target], base_size: float) -> list[Target]:
        """A CAGR from the base year to a year whose size is a target pins what that size
        pins (the base size is exact): kept as a check, not a second target, so that
        calibration solves one growth rate and the stated constant path holds in every
        year between, not only at its ends."""
        sizes = {t.year: t for t in targets if t.kind == "size"}
        kept = []
        for target in targets:
            end = sizes.get(target.end) if target.kind == "cagr" else None
            if end is None or target.start != self.base or target.end is None:
                kept.append(target)
                continue
            span = target.end - self.base
            implied = 100.0 * ((end.value / base_size) ** (1.0 / span) - 1.0)
            # the sizes' rounding moves the implied rate by this much, pp
            slack = 100.0 * (1.0 + implied / 100.0) * end.tolerance / end.value / span
            gap = abs(implied - target.value)
            self._check_line(target, self.base, implied, gap <= target.tolerance + slack + 1e-9)
        return kept

    def _check_growth(self, targets: list[Target], base_size: float) -> None:
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
        """The ``[years]`` and ``[market]`` tables: the base size, its spread, and the
        calibration targets (or no growth, when the report gives no growth figure)."""
        document.add("years", self.years_table())
        market = tomlkit.table()
        market.add("unit", self.unit)
        base = self.base_figure
        size = tomlkit.table()
        size.add("value", self.value_of(base))
        source = report_source(base.quote, getattr(self, "back_cast_note", ""))
        size.add("source", source)
        self.figures["market.base_size.value"] = (base.quote, default_in(source))
        market.add("base_size", size)
        market.add("base_scale", self.base_scale_table())
        if self.targets:
            market.add("targets", self.targets_table())
        else:
            table = tomlkit.table()
            table.add("value", 0.0)
            table.add("source", assumption("the report gives no growth figure: no growth"))
            market.add("baseline_growth", table)
            self.assume("market.baseline_growth = 0 %: the report gives no growth figure")
        document.add("market", market)

    def years_table(self) -> Table:
        base = self.base_figure
        years = tomlkit.table()
        years.add("base", self.base)
        years.add("final", self.final)
        final = next((t for t in self.targets if t.kind == "size" and t.year == self.final), None)
        if final is None:
            final = next((t for t in self.targets if t.end == self.final), None)
        self.figures["years.base"] = (base.quote, "")
        if self.final_source:
            years.add("source", f"{report_source(base.quote)}; {self.final_source[12:]}")
        elif final is not None:
            years.add("source", f"report: {quoted(base.quote)} ... {quoted(final.quote)}")
            self.figures["years.final"] = (final.quote, "")
        else:
            years.add("source", report_source(base.quote, f"final year {self.final}"))
        return years

    def base_scale_table(self) -> Table:
        """The base size's spread: the neutral default (the report gives none)."""
        low, mode, high = self.defaults.base_scale
        scale = tomlkit.table()
        scale.add("dist", "pert")
        scale.add("low", low)
        scale.add("mode", mode)
        scale.add("high", high)
        scale.add(
            "source",
            assumption(
                f"the report gives no spread of its base size: PERT {low:g}-{mode:g}-{high:g}"
            ),
        )
        self.assume(f"market.base_scale: PERT {low:g}-{mode:g}-{high:g} (no spread given)")
        return scale

    def targets_table(self) -> Table:
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
            source = report_source(target.quote, target.note)
            table.add("source", source)
            targets.add(target.key, table)
            self.figures[key_path("market", "targets", target.key)] = (
                target.quote,
                default_in(source),
            )
        return targets

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
        start, end, note = cagr_period(growth, self.forecast)
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
        table = inline(
            value=growth.value,
            tolerance=tolerance_of(growth.decimals),
            start=start,
            end=end,
            source=report_source(growth.quote, note),
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

    def plausible_share(self, target: InlineTable) -> float:
        """The largest share (percent of the whole) a part may start from for its stated
        CAGR to need a growth premium within ``Defaults.max_gap_pp`` of the rest of the
        market: a part growing ``g`` a year from a share ``s`` leaves the rest
        ``((1 + G)**n - s * (1 + g)**n) / (1 - s)`` of its start after ``n`` years (the
        market growing ``G``), and the rest's rate must lie within the gap of ``g``."""
        part = target["value"] / 100.0
        market = self.market_rate() / 100.0
        years = int(target["end"]) - int(target["start"])
        gap = self.defaults.max_gap_pp / 100.0
        bound = part - gap if part > market else part + gap
        bottom = (1.0 + part) ** years - (1.0 + bound) ** years
        if abs(part - market) < 1e-12 or bottom == 0:
            return 100.0
        top = (1.0 + market) ** years - (1.0 + bound) ** years
        return max(0.0, min(100.0, 100.0 * top / bottom))

    def narrowed_for_growth(
        self, shares: dict[str, float], part: str, target: InlineTable
    ) -> tuple[dict[str, float], str] | None:
        """Draft-default shares (``shares``: name -> percent, all defaults) with
        ``part``'s narrowed, when its stated CAGR would need an implausible premium from
        its default share, the others taking the rest evenly; with the reason for
        ``part``'s source. ``shares`` unchanged when plausible; None when it cannot be
        narrowed (no other default share to take the rest)."""
        limit = self.plausible_share(target)
        if shares[part] <= limit:
            return shares, ""
        others = [name for name in shares if name != part]
        narrowed = math.floor(limit * 10.0) / 10.0
        if not others or narrowed <= 0:
            return None
        total = sum(shares.values())
        rest = dict(zip(others, even_split(total - narrowed, len(others)), strict=True))
        reason = (
            f"no share given: narrowed from the even split {shares[part]:g} % to {narrowed:g} % "
            f"so that its stated {target['value']:g} % CAGR needs a growth premium within "
            f"{self.defaults.max_gap_pp:g} pp of the rest of the market's growth"
        )
        self.assume(f"{part}: default share {narrowed:g} %, not {shares[part]:g} % ({reason})")
        return {name: narrowed if name == part else rest[name] for name in shares}, reason

    def skip_implausible_growth(self, part: str, share: float, target: InlineTable) -> None:
        """Skip a part's CAGR that no default share left to it makes plausible."""
        self.skip_part(
            self.quotes[id(target)],
            f"{part}: from the share left to it ({share:g} %, a draft default: the report "
            f"gives none) its {target['value']:g} % CAGR would need a growth premium more "
            f"than {self.defaults.max_gap_pp:g} pp from the rest of the market's growth; "
            "not a target",
        )

    def share_year_ok(self, share: Share, what: str, sentence: str) -> bool:
        """Whether a part's share can be the base year's: stated for it, or for a year
        before it (carried to the base year as a marked draft default: a part's share
        moves slowly, and the report gives no other)."""
        if share.year is not None and share.year < self.base:
            note = assumption(
                f"share stated for {share.year}, carried to the base year {self.base}"
            )
            self.carried[share.quote] = note
            self.assume(f"{what}: share stated for {share.year}, used for {self.base}")
            return True
        if share.year != self.base:
            when = f"stated for {share.year}" if share.year else "stated for no year"
            self.skip(
                share.quote,
                sentence,
                f"{what}: share {when}; the scenario's shares are for its base year {self.base}",
            )
            return False
        return True
