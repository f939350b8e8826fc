"""Segmentation axes: each listed segmentation, its segments' shares and growth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.items import InlineTable, Table

from netsim.drafting.places import best_match, normalized
from netsim.drafting.read import (
    Share,
    Takeaway,
)
from netsim.drafting.read.geography import GEOGRAPHY_AXES
from netsim.drafting.write.common import (
    ComposerBase,
    assumption,
    axis_identifier,
    even_split,
    inline,
    title_case,
)
from netsim.scenario.documents import key_path


@dataclass(frozen=True)
class _Plan:
    """A segmentation to write: its identifier and label, its segments, the takeaway
    that speaks of it (if any), and whether the report lists its segments."""

    identifier: str
    label: str
    segments: list[str]
    takeaway: Takeaway | None
    was_listed: bool


class SegmentsPart(ComposerBase):
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
                plans.append((title_case(takeaway.axis), names, takeaway, False))
        if not plans:
            self.assume("axes: the report lists no segmentation: none in the scenario")
            return
        axes = tomlkit.table(is_super_table=True)
        taken: list[str] = []
        for label, segments, takeaway, was_listed in plans:
            identifier = axis_identifier(label, taken)
            taken.append(identifier)
            table = self._axis(_Plan(identifier, label, segments, takeaway, was_listed))
            if table is not None:
                axes.add(identifier, table)
        document.add("axes", axes)

    def _skip_takeaway(self, takeaway: Takeaway, reason: str) -> None:
        for figure in (takeaway.largest, takeaway.fastest):
            if figure is not None:
                self.skip(figure.quote, takeaway.sentence, f"{reason}; the first is kept")

    def _axis(self, plan: _Plan) -> Table | None:
        """One segmentation's table: its segments' shares (the takeaway's, the rest
        split evenly) and growth (the takeaway's CAGR target, else the market's)."""
        share = self._axis_share(plan)
        growth = self._axis_growth(plan)
        identifier, label, was_listed = plan.identifier, plan.label, plan.was_listed
        segments = list(plan.segments)
        other_note = ""
        if not was_listed or len(segments) < 2:
            remaining = 100.0 - (share[1].value if share else 0.0)
            if remaining > 0 or len(segments) < 2:
                name = "Other" if "Other" not in segments else "Other segments"
                segments.append(name)
                other_note = f"{name}: the report lists no other {label.lower()} segment"
        if len(segments) < 2:
            return None
        open_segments = [s for s in segments if share is None or s != share[0]]
        rest = 100.0 - (share[1].value if share else 0.0)
        even = dict(zip(open_segments, even_split(rest, len(open_segments)), strict=True))
        narrowed = ""
        if growth is not None and growth[0] in even:
            fitted = self.narrowed_for_growth(even, growth[0], growth[1])
            if fitted is None:
                self.skip_implausible_growth(growth[0], even[growth[0]], growth[1])
                self.unplace(("axis", identifier, growth[0], "growth"))
                growth = None
            else:
                even, narrowed = fitted
        if growth is not None:
            value = share[1].value if share and share[0] == growth[0] else even[growth[0]]
            if value <= 0:
                self._zero_share(growth[1], growth[0])
                self.unplace(("axis", identifier, growth[0], "growth"))
                growth = None
        narrowed_name = growth[0] if narrowed and growth is not None else None
        shares = {
            segment: inline(
                value=even[segment],
                source=assumption(
                    _default_share_reason(segment, even, rest, narrowed_name, narrowed)
                ),
            )
            for segment in open_segments
        }
        if share is not None:
            shares[share[0]] = inline(
                value=share[1].value, source=self.share_source(share[1].quote)
            )
        table = self._axis_table(identifier, label, segments, shares, growth)
        shown = ", ".join(f"{s} {even[s]:g} %" for s in open_segments)
        self.assume(
            f"axes.{identifier}: shares {shown} (the rest split evenly); growth "
            "premium 0 where no CAGR is given"
        )
        if other_note:
            self.assume(f"axes.{identifier}: {other_note}")
        return table

    def _axis_share(self, plan: _Plan) -> tuple[str, Share] | None:
        """The takeaway's largest segment and its share, when it can be placed."""
        identifier, label, segments = plan.identifier, plan.label, plan.segments
        takeaway, was_listed = plan.takeaway, plan.was_listed
        if takeaway is None or takeaway.largest is None:
            return None
        largest, sentence = takeaway.largest, takeaway.sentence
        name = best_match(largest.name, segments) if was_listed else largest.name
        if name is None:
            self.skip(largest.quote, sentence, f"{largest.name!r} is not a listed {label}")
        elif not 0 <= largest.value <= 100:
            self.skip(largest.quote, sentence, "a share outside 0-100 %")
        elif self.share_year_ok(largest, name, sentence):
            self.place(
                ("axis", identifier, name, "share"),
                f"{identifier} {name}: {largest.value:g} % share in {largest.year}",
            )
            return name, largest
        return None

    def _axis_growth(self, plan: _Plan) -> tuple[str, InlineTable] | None:
        """The takeaway's fastest segment and its CAGR target, when it can be placed."""
        identifier, label, segments = plan.identifier, plan.label, plan.segments
        takeaway, was_listed = plan.takeaway, plan.was_listed
        if takeaway is None or takeaway.fastest is None or not takeaway.fastest_name:
            return None
        fast, sentence = takeaway.fastest_name, takeaway.sentence
        name = best_match(fast, segments) if was_listed else fast
        if name is None:
            self.skip(takeaway.fastest.quote, sentence, f"{fast!r} is not a listed {label}")
            return None
        target = self.part_target(takeaway.fastest, name, sentence)
        if target is None:
            return None
        self.place(
            ("axis", identifier, name, "growth"),
            f"{identifier} {name}: {takeaway.fastest.value:g} % CAGR "
            f"{target['start']}-{target['end']}",
        )
        return name, target

    def _axis_table(
        self,
        identifier: str,
        label: str,
        segments: list[str],
        shares: dict[str, InlineTable],
        growth: tuple[str, InlineTable] | None,
    ) -> Table:
        table = tomlkit.table()
        table.add("label", label)
        seg_table = tomlkit.table(is_super_table=True)
        for segment in segments:
            entry = tomlkit.table()
            entry.add("share", shares[segment])
            if growth is not None and segment == growth[0]:
                entry.add("cagr_target", growth[1])
                self.figure(
                    key_path("axes", identifier, "segments", segment, "cagr_target"), growth[1]
                )
            else:
                entry.add(
                    "growth_premium",
                    inline(
                        value=0.0,
                        source=assumption(
                            "no growth figure for this segment: grows with the market"
                        ),
                    ),
                )
            seg_table.add(segment, entry)
        table.add("segments", seg_table)
        return table


def _default_share_reason(
    segment: str, even: dict[str, float], rest: float, narrowed_name: str | None, reason: str
) -> str:
    """Why a segment has its draft-default share: the rest of the axis split evenly,
    or, beside a segment narrowed for its growth, what that segment leaves."""
    if narrowed_name is None:
        return f"no share given: the remaining {rest:g} % split evenly over {len(even)} segments"
    if segment == narrowed_name:
        return reason
    left = rest - even[narrowed_name]
    others = len(even) - 1
    spread = f"split evenly over {others} segments" if others > 1 else "given to this segment"
    return (
        f"no share given: the remaining {left:g} % (besides {narrowed_name}'s, narrowed) {spread}"
    )
