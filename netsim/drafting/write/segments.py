"""Segmentation axes: each listed segmentation, its segments' shares and growth."""

from __future__ import annotations

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
        even = dict(zip(open_segments, even_split(rest, len(open_segments)), strict=True))
        if growth is not None:
            value = share[1].value if share and share[0] == growth[0] else even[growth[0]]
            if value <= 0:
                self._zero_share(growth[1], growth[0])
                self.unplace(("axis", identifier, growth[0], "growth"))
                growth = None
        for segment in segments:
            entry = tomlkit.table()
            if share is not None and segment == share[0]:
                entry.add(
                    "share", inline(value=share[1].value, source=self.share_source(share[1].quote))
                )
            else:
                entry.add(
                    "share",
                    inline(
                        value=even[segment],
                        source=assumption(
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
                    inline(
                        value=0.0,
                        source=assumption(
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
