"""Drivers and restraints: impacts, timelines and geographic weights; and the noise."""

from __future__ import annotations

import re
from typing import Any

import tomlkit
from tomlkit.items import Table

from netsim.drafting.places import regions_named
from netsim.drafting.read import (
    Factor,
)
from netsim.drafting.write.common import (
    ComposerBase,
    Quoted,
    assumption,
    inline,
    report_source,
    rounded,
    slug,
)
from netsim.scenario.documents import key_path
from netsim.scenario.limits import Limits


class DriversPart(ComposerBase):
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
                name = slug(factor.geography, [n for n, _ in geographies.values()], words=6)
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
                identifier = slug(factor.name, taken)
                taken.append(identifier)
                table = tomlkit.table()
                table.add("label", factor.name)
                table.add("quote", factor.quote)
                words = f"{factor.name} ... {factor.impact_text}"
                source = report_source(
                    Quoted([(factor.report, words)]) if factor.report else words,
                    f"spread {low:g}x-{high:g}x of the point is a draft default, review",
                )
                if factor.impact == 0:
                    impact = inline(dist="fixed", value=0.0, source=source)
                else:
                    ends = sorted((rounded(low * factor.impact), rounded(high * factor.impact)))
                    impact = inline(
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
        table.add("source", assumption(reason))
        timelines[name] = table
        self.assume(f"timelines.{name}: onset {onset}, ramp {ramp} ({factor.timeline})")

    def _geography(self, phrase: str) -> Table:
        named, how = regions_named(phrase, self.regions, self.countries)
        lower = self.defaults.unnamed_region_weight
        weights = inline()
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
        table.add("source", assumption(reason))
        return table

    def noise(self, document: Any) -> None:
        table = tomlkit.table()
        table.add(
            "global_sd",
            inline(
                value=self.defaults.global_sd,
                source=assumption("small year-to-year variation of global growth, pp (sd)"),
            ),
        )
        table.add(
            "region_sd",
            inline(
                value=self.defaults.region_sd,
                source=assumption("small region-specific variation, pp (sd)"),
            ),
        )
        document.add("noise", table)
        self.assume(
            f"noise: global_sd {self.defaults.global_sd:g} pp, region_sd "
            f"{self.defaults.region_sd:g} pp"
        )
