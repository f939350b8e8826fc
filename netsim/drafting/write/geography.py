"""Regions and countries: their shares and growth from the report's geography takeaways."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.items import InlineTable, Table

from netsim.drafting.places import (
    best_match,
    group_of,
    is_region_name,
    normalized,
    region_of_country,
)
from netsim.drafting.read import Takeaway
from netsim.drafting.read.geography import GEOGRAPHY_AXES
from netsim.drafting.write.common import (
    ComposerBase,
    assumption,
    even_split,
    inline,
    rounded,
)
from netsim.scenario.documents import key_path


@dataclass
class _Books:
    """What the geography takeaways place: the regions and countries listed (or named),
    and each place's share (value and quote) and CAGR target."""

    listed: dict[str, list[str]]
    region_share: dict[str, tuple[float, str]] = field(default_factory=dict)
    region_growth: dict[str, InlineTable] = field(default_factory=dict)
    country_share: dict[str, tuple[float, str]] = field(default_factory=dict)
    country_growth: dict[str, InlineTable] = field(default_factory=dict)
    from_takeaways: list[str] = field(default_factory=list)  # regions named, none listed
    loose_countries: list[str] = field(default_factory=list)
    region_of: dict[str, str] = field(default_factory=dict)


class GeographyPart(ComposerBase):
    def geography(self, document: Any) -> None:
        """The regions (their shares, growth and countries) and the countries with
        figures of their own, from the geography takeaways and lists."""
        books = _Books({r.name: list(r.countries) for r in self.findings.regions})
        for takeaway in self.findings.takeaways:
            if takeaway.axis.lower() in GEOGRAPHY_AXES:
                self._place_share(books, takeaway)
                self._place_growth(books, takeaway)
        self._settle_places(books)
        self._keep_one_with_the_market(books)
        shares = self._region_shares(books.region_share, books.country_share, books.region_of)
        self._narrow_for_growth(books, shares)
        for region in list(books.region_growth):
            if shares[region][0] <= 0:
                self._zero_share(books.region_growth.pop(region), region)
                self.unplace(("growth", "region", region))
        self._write_regions(document, books, shares)
        self._write_countries(document, books)

    def _place(
        self, books: _Books, name: str, sentence: str, figure: str
    ) -> tuple[str, str] | None:
        """("region", name) or ("country", name) for a takeaway's place: a region or
        country of that very name, a region by its alias ("APAC"), else the region that
        fits the words best; with no list, a region's or a country's name as written."""
        listed = books.listed
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
            self.skip(figure, sentence, f"{name!r} is not among the report's regions or countries")
            return None
        if is_region_name(name):
            if name not in books.from_takeaways:
                books.from_takeaways.append(name)
            return "region", name
        if name not in books.loose_countries:
            books.loose_countries.append(name)
        return "country", name

    def _first_for(
        self, books: _Books, takeaway: Takeaway, name: str, quote: str, what: str
    ) -> tuple[tuple[str, str], dict[str, Any]] | None:
        """Where a takeaway's share or CAGR (``what``) goes, and the book it goes in;
        None when it has no place or its place has one already (skipped)."""
        where = self._place(books, name, takeaway.sentence, quote)
        if where is None:
            return None
        if what == "share":
            book = books.region_share if where[0] == "region" else books.country_share
        else:
            book = books.region_growth if where[0] == "region" else books.country_growth
        if where[1] in book:
            self.skip(
                quote, takeaway.sentence, f"{where[1]}: a second {what} for it; the first is kept"
            )
            return None
        return where, book

    def _place_share(self, books: _Books, takeaway: Takeaway) -> None:
        """A geography takeaway's share on its region or country."""
        share = takeaway.largest
        found = (
            None
            if share is None
            else self._first_for(books, takeaway, share.name, share.quote, "share")
        )
        if share is None or found is None:
            return
        where, book = found
        if not 0 <= share.value <= 100:
            self.skip(share.quote, takeaway.sentence, f"{where[1]}: a share outside 0-100 %")
        elif self.share_year_ok(share, where[1], takeaway.sentence):
            book[where[1]] = (share.value, share.quote)
            self.sentences[share.quote] = takeaway.sentence
            self.place(("share", *where), f"{where[1]}: {share.value:g} % share in {share.year}")

    def _place_growth(self, books: _Books, takeaway: Takeaway) -> None:
        """A geography takeaway's CAGR as its region's or country's target."""
        growth, name = takeaway.fastest, takeaway.fastest_name
        found = (
            None
            if growth is None or not name
            else self._first_for(books, takeaway, name, growth.quote, "CAGR")
        )
        if growth is None or found is None:
            return
        where, book = found
        target = self.part_target(growth, where[1], takeaway.sentence)
        if target is not None:
            book[where[1]] = target
            self.place(
                ("growth", *where),
                f"{where[1]}: {growth.value:g} % CAGR {target['start']}-{target['end']}",
            )

    def _settle_places(self, books: _Books) -> None:
        """The scenario's regions and their countries: the report's lists, else the
        regions the takeaways name and a rest of the world (or one "World"); a country
        listed under two regions gets its region in brackets."""
        listed = books.listed
        if not listed:
            filler = "Rest of World" if (books.from_takeaways or books.loose_countries) else "World"
            listed = {name: [name] for name in books.from_takeaways}
            listed[filler] = [filler]
            for country in books.loose_countries:  # under its region when that is named
                home = region_of_country(country)
                region = next((r for r in listed if home and group_of(r) == home), filler)
                listed[region].insert(-1, country)
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
        books.listed = listed
        books.region_of = {c: r for r, cs in listed.items() for c in cs}
        self.regions = list(listed)
        self.countries = listed

    def _keep_one_with_the_market(self, books: _Books) -> None:
        """Take out the last CAGR target of a set that would leave no region (or no
        country) growing with the market: the baseline needs one."""
        region_growth, country_growth = books.region_growth, books.country_growth
        if len(self.regions) == len(region_growth):
            region = next(reversed(region_growth))
            self.skip_part(
                self.quotes[id(region_growth.pop(region))],
                f"{region}: every region would have a CAGR target; one must keep the "
                "market's growth",
            )
            self.unplace(("growth", "region", region))
        region_of = books.region_of
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

    def _narrow_for_growth(self, books: _Books, shares: dict[str, tuple[float, str]]) -> None:
        """A region with a stated CAGR and a draft-default share: its share narrowed
        when its CAGR would need an implausible premium from it (the other regions with
        default shares take the rest), else its CAGR skipped."""
        stated_in = {books.region_of[c] for c in books.country_share}
        for region, target in list(books.region_growth.items()):
            if region in books.region_share or region in stated_in:
                continue
            defaults = {
                r: shares[r][0]
                for r in self.regions
                if r not in books.region_share and r not in stated_in
            }
            fitted = self.narrowed_for_growth(defaults, region, target)
            if fitted is None:
                self.skip_implausible_growth(region, shares[region][0], target)
                books.region_growth.pop(region)
                self.unplace(("growth", "region", region))
                continue
            values, reason = fitted
            if not reason:
                continue
            left = sum(values.values()) - values[region]
            for name, value in values.items():
                why = reason
                if name != region:
                    spread = (
                        f"split evenly over {len(values) - 1} regions"
                        if len(values) > 2
                        else "given to this region"
                    )
                    why = (
                        f"no share given: the remaining {left:g} % after {region}'s narrowed "
                        f"share {spread}"
                    )
                shares[name] = (value, assumption(why))

    def _write_regions(
        self, document: Any, books: _Books, shares: dict[str, tuple[float, str]]
    ) -> None:
        regions = tomlkit.table(is_super_table=True)
        for region in self.regions:
            table = tomlkit.table()
            value, source = shares[region]
            table.add("share", inline(value=value, source=source))
            if region in books.region_growth:
                table.add("cagr_target", books.region_growth[region])
                self.figure(key_path("regions", region, "cagr_target"), books.region_growth[region])
            else:
                table.add(
                    "growth_premium",
                    inline(
                        value=0.0,
                        source=assumption(
                            "no growth figure for this region: grows with the market"
                        ),
                    ),
                )
            table.add("country_shares", self._country_shares(region, value, books.country_share))
            regions.add(region, table)
        document.add("regions", regions)
        if len(books.region_growth) < len(self.regions):
            self.assume("regions: growth premium 0 for every region without a CAGR")
        self.assume(
            "country shares: equal within each region"
            + (
                " (beside the countries whose share the report gives)"
                if books.country_share
                else ""
            )
        )

    def _write_countries(self, document: Any, books: _Books) -> None:
        if not (books.country_share or books.country_growth):
            return
        countries = tomlkit.table(is_super_table=True)
        for country in dict.fromkeys([*books.country_share, *books.country_growth]):
            table = tomlkit.table()
            if country in books.country_share:
                value, quote = books.country_share[country]
                table.add("share", inline(value=value, source=self.share_source(quote)))
            if country in books.country_growth:
                table.add("cagr_target", books.country_growth[country])
                self.figure(
                    key_path("countries", country, "cagr_target"), books.country_growth[country]
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
            r: (v, self.share_source(q)) for r, (v, q) in region_share.items()
        }
        parts = dict(zip(needy, even_split(rest, len(needy)), strict=True))
        for region in unknown:
            value = rounded(floors[region] + parts.get(region, 0.0), 10)
            reason = f"no share given: the remaining {rest:g} % split evenly over " + (
                f"{len(needy)} regions" if len(needy) > 1 else "the one region left"
            )
            if floors[region]:
                reason += f", plus its countries' stated {floors[region]:g} %"
            shares[region] = (value, assumption(reason))
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
            values = dict(zip(countries, even_split(100.0, len(countries)), strict=True))
        else:
            inside = {c: 100.0 * v / region_value for c, v in known.items()}
            others = [c for c in countries if c not in known]
            rest = 100.0 - sum(inside.values())
            values = {**inside, **dict(zip(others, even_split(rest, len(others)), strict=True))}
            if not others and inside:  # the region is its known countries: exact sum
                last = next(reversed(inside))
                values[last] = rounded(100.0 - sum(v for c, v in inside.items() if c != last), 12)
        for country in countries:
            table.add(country, values[country])
        reason = "the report gives no split: equal shares"
        if known:
            reason = (
                f"{', '.join(known)} from the report's share of the market; the others "
                "split the rest equally"
            )
        table.add("source", assumption(reason))
        return table
