"""The market's parts as a scenario file gives them: regions and their countries, the
segmentation axes and their segments, each with its share and its growth (a premium given,
or a CAGR target that calibration meets), and the calibration targets themselves.

Read by :func:`netsim.scenario.parse.parse_scenario` through a
:class:`~netsim.scenario.documents.Reader`, so every broken rule names its file and key path.
"""

from __future__ import annotations

from collections.abc import Mapping

from netsim.scenario.documents import Reader
from netsim.scenario.keys import TABLES
from netsim.scenario.names import axis_name_problem, folded, label_problem, shown
from netsim.scenario.schema import (
    Axis,
    Country,
    Region,
    Segment,
    Target,
)

__all__ = ["read_axes", "read_countries", "read_regions", "read_segment_pairs", "read_target"]

SHARE_TOLERANCE = 1e-6  # percentage points: shares are exact inputs


def _percent_share(reader: Reader, key: str) -> float:
    return reader.table(key).fields(TABLES["share"])["value"]


def _check_sum(shares: Mapping[str, float], what: str, reader: Reader) -> None:
    total = sum(shares.values())
    if abs(total - 100.0) > SHARE_TOLERANCE:
        listed = ", ".join(f"{k}={v:g}" for k, v in shares.items())
        raise reader.error(f"{what} shares must sum to 100 %, got {total:.6g} % ({listed})")


def read_target(
    reader: Reader,
    label: str,
    scope: str,
    name: str | None,
    axis: str | None,
    years: tuple[int, ...],
) -> Target:
    kind = reader.string("kind", "cagr" if scope != "global" else ...)
    if kind not in ("size", "cagr"):
        raise reader.error(f"{reader.join('kind')}={kind!r} must be 'size' or 'cagr'")
    value = reader.number("value", positive=(kind == "size"))
    tolerance = reader.number("tolerance", positive=True)
    if kind == "size" and tolerance >= value:
        raise reader.error(
            f"{reader.join('tolerance')}={tolerance:g} is not below the size {value:g}: a market "
            "of zero would meet the target",
            reader.join("tolerance"),
        )
    source = reader.source()
    year = start = end = None
    if kind == "size":
        if scope != "global":
            raise reader.error(f"{reader.key}: only global targets may be sizes")
        year = int(reader.number("year", integer=True))
        if year not in years[1:]:
            raise reader.error(
                f"{reader.join('year')}={year} must be a forecast year {years[1]}-{years[-1]}",
                reader.join("year"),
            )
    else:
        start = int(reader.number("start", integer=True))
        end = int(reader.number("end", integer=True))
        if not (years[0] <= start < end <= years[-1]):
            raise reader.error(
                f"{reader.key}: start={start}, end={end} must satisfy "
                f"{years[0]} <= start < end <= {years[-1]}"
            )
    reader.finish()
    return Target(
        label=label,
        kind=kind,
        scope=scope,
        value=value,
        tolerance=tolerance,
        source=source,
        year=year,
        start=start,
        end=end,
        name=name,
        axis=axis,
        key=reader.key,
    )


def _premium_or_target(
    reader: Reader,
    scope: str,
    name: str,
    axis: str | None,
    years: tuple[int, ...],
    targets: list[Target],
) -> tuple[float | None, Target | None]:
    has_premium, has_target = reader.has("growth_premium"), reader.has("cagr_target")
    if has_premium == has_target:
        raise reader.error(
            f"{reader.key} needs exactly one of growth_premium (assumed) or cagr_target "
            "(calibrated)"
        )
    if has_premium:
        premium = reader.table("growth_premium").fields(TABLES["growth"])["value"] / 100.0
        return premium, None
    label = f"{axis} {name}" if axis else name
    target = read_target(reader.table("cagr_target"), f"{label} CAGR", scope, name, axis, years)
    targets.append(target)
    return None, target


def read_regions(
    reader: Reader, years: tuple[int, ...], targets: list[Target]
) -> tuple[Region, ...]:
    regions: list[Region] = []
    reader.apart(reader.data, "region")
    country_seen: dict[str, tuple[str, str]] = {}
    for region_name, value in reader.items():
        reader.name(region_name, "region", label_problem)
        if region_name == "global":
            raise reader.error(
                "region name 'global' is taken: the global noise's parameters are noise.global.*",
                reader.join(region_name),
                region_name,
            )
        table = reader.child(region_name, value)
        share = _percent_share(table, "share")
        premium, target = _premium_or_target(table, "region", region_name, None, years, targets)
        country_table = table.table("country_shares")
        country_table.source()
        country_shares = {
            country_table.name(k, "country", label_problem): country_table.check_number(
                v, country_table.join(k), minimum=0.0, maximum=100.0
            )
            for k, v in country_table.items()
            if k != "source"
        }
        if not country_shares:
            raise country_table.error(f"{country_table.key} lists no countries")
        country_table.apart(country_shares, "country", country_seen)
        _check_sum(country_shares, f"{country_table.key}", country_table)
        table.finish()
        countries = tuple(
            Country(name=k, region=region_name, share_of_region=v / 100.0)
            for k, v in country_shares.items()
        )
        regions.append(Region(region_name, share / 100.0, premium, target, countries))
    if not regions:
        raise reader.error("regions lists no region")
    _check_sum({r.name: r.share * 100.0 for r in regions}, "regions", reader)
    seen: dict[str, str] = {}
    region_of_name = {folded(r.name): r.name for r in regions}
    for region in regions:
        for country in region.countries:
            other = region_of_name.get(folded(country.name), region.name)
            if other != region.name:
                key = f'regions."{region.name}".country_shares."{country.name}"'
                raise reader.error(
                    f"{key}: country {shown(country.name)} has the name of region "
                    f"{shown(other)}: price indices and population growth given by place "
                    "would be read for both",
                    key,
                    country.name,
                )
            if country.name in seen:
                key = f'regions."{region.name}".country_shares."{country.name}"'
                raise reader.error(
                    f"{key}: {country.name} is already a country of {seen[country.name]} "
                    "(a country belongs to one region)",
                    key,
                )
            seen[country.name] = region.name
    return tuple(regions)


def read_countries(
    reader: Reader, regions: tuple[Region, ...], years: tuple[int, ...], targets: list[Target]
) -> tuple[Region, ...]:
    """The ``[countries.<name>]`` tables: a country's own share of the global market,
    growth premium over its region or CAGR target; the regions with their countries'
    shares of the region recomputed (see ``docs/config.md``)."""
    region_of = {c.name: r.name for r in regions for c in r.countries}
    shares: dict[str, float] = {}  # percent of the global market
    premiums: dict[str, float] = {}  # fraction per year
    country_targets: dict[str, Target] = {}
    keys: dict[str, str] = {}
    for name, value in reader.items():
        table = reader.child(name, value)
        keys[name] = table.key
        if name not in region_of:
            raise table.error(
                f"{table.key}: {name!r} is not a country of any region's country_shares"
            )
        if not any(table.has(k) for k in ("share", "growth_premium", "cagr_target")):
            raise table.error(f"{table.key} gives none of share, growth_premium or cagr_target")
        if table.has("growth_premium") and table.has("cagr_target"):
            raise table.error(
                f"{table.key} takes growth_premium (assumed) or cagr_target (calibrated), not both"
            )
        if table.has("share"):
            shares[name] = table.table("share").fields(TABLES["country share"])["value"]
        if table.has("growth_premium"):
            premium = table.table("growth_premium").fields(TABLES["growth"])["value"]
            premiums[name] = premium / 100.0
        if table.has("cagr_target"):
            country_targets[name] = read_target(
                table.table("cagr_target"), f"country {name} CAGR", "country", name, None, years
            )
            targets.append(country_targets[name])
        table.finish()
    if not keys:
        return regions
    return tuple(
        _region_with_countries(region, shares, premiums, country_targets, keys, reader)
        for region in regions
    )


def _region_with_countries(
    region: Region,
    shares: Mapping[str, float],
    premiums: Mapping[str, float],
    country_targets: Mapping[str, Target],
    keys: Mapping[str, str],
    reader: Reader,
) -> Region:
    """A region whose countries carry their ``[countries]`` figures: a country share
    (percent of the global market) fixes that country's value; the other countries split
    the rest of the region's value by their ``country_shares``."""
    region_share = 100.0 * region.share  # percent of the global market
    given = {c.name: shares[c.name] for c in region.countries if c.name in shares}
    others = [c for c in region.countries if c.name not in given]
    for name, share in given.items():
        key = f"{keys[name]}.share.value"
        if others and share >= region_share - SHARE_TOLERANCE:
            raise reader.error(
                f"{key}={share:g} % must be below the share of its region {region.name!r} "
                f"({region_share:g} %): the region's other countries need the rest",
                key,
            )
        if share > region_share + SHARE_TOLERANCE:
            raise reader.error(
                f"{key}={share:g} % exceeds the share of its region {region.name!r} "
                f"({region_share:g} %)",
                key,
            )
    named = sum(given.values())
    listed = ", ".join(f"{k}={v:g}" for k, v in given.items())
    if given and others and named >= region_share - SHARE_TOLERANCE:
        raise reader.error(
            f"{reader.key}: the shares of the countries of {region.name!r} ({listed}) sum to "
            f"{named:g} %, not below the region's share {region_share:g} %: its other "
            "countries need the rest",
            reader.key,
        )
    if given and not others and abs(named - region_share) > SHARE_TOLERANCE:
        raise reader.error(
            f"{reader.key}: every country of {region.name!r} has its own share ({listed}); "
            f"they must sum to the region's share {region_share:g} %, got {named:g} %",
            reader.key,
        )
    weight = sum(c.share_of_region for c in others)
    if given and others and not weight > 0:
        raise reader.error(
            f"{reader.key}: the other countries of {region.name!r} "
            f"({', '.join(c.name for c in others)}) have country_shares summing to 0: "
            "nothing splits the rest of the region",
            reader.key,
        )
    countries = []
    for country in region.countries:
        name = country.name
        if not (given or name in premiums or name in country_targets):
            countries.append(country)
            continue
        share_of_region = country.share_of_region
        if name in given:
            share_of_region = given[name] / region_share
        elif given:
            share_of_region = (region_share - named) / region_share * share_of_region / weight
        countries.append(
            Country(
                name=name,
                region=region.name,
                share_of_region=share_of_region,
                share=given[name] / 100.0 if name in given else None,
                growth_premium=premiums.get(name, 0.0),
                target=country_targets.get(name),
            )
        )
    return Region(region.name, region.share, region.growth_premium, region.target, tuple(countries))


def read_axes(reader: Reader, years: tuple[int, ...], targets: list[Target]) -> tuple[Axis, ...]:
    axes: list[Axis] = []
    reader.apart(reader.data, "axis")
    for axis_name, value in reader.items():
        reader.name(axis_name, "axis", axis_name_problem)
        table = reader.child(axis_name, value)
        label = table.string("label", axis_name)
        segments_table = table.table("segments")
        segments: list[Segment] = []
        segments_table.apart(segments_table.data, "segment")
        for segment_name, segment_value in segments_table.items():
            segments_table.name(segment_name, "segment", label_problem)
            seg = segments_table.child(segment_name, segment_value)
            seg_label = seg.string("label", segment_name)
            share = _percent_share(seg, "share")
            premium, target = _premium_or_target(
                seg, "segment", segment_name, axis_name, years, targets
            )
            seg.finish()
            segments.append(Segment(segment_name, seg_label, share / 100.0, premium, target))
        if len(segments) < 2:
            raise segments_table.error(f"{segments_table.key} needs at least two segments")
        _check_sum({s.name: s.share * 100.0 for s in segments}, segments_table.key, segments_table)
        table.finish()
        axes.append(Axis(axis_name, label, tuple(segments)))
    return tuple(axes)


def read_segment_pairs(
    reader: Reader, axes: tuple[Axis, ...], one_axis: str
) -> tuple[tuple[str, str], ...]:
    """``segment = {axis, name}`` or ``segments = [{axis, name}, ...]`` of an event or a
    product: the (axis, segment) pairs, in file order, each a segment of the scenario, none
    named twice, all on one axis (``one_axis`` says why, in the refusal)."""
    has_one, has_many = reader.has("segment"), reader.has("segments")
    if has_one == has_many:
        raise reader.error(
            f"{reader.key} needs exactly one of segment = {{axis, name}} or "
            "segments = [{axis, name}, ...]",
            reader.join("segments") if has_many else reader.key,
        )
    if has_one:
        tables = [reader.table("segment")]
    else:
        key = reader.join("segments")
        listed = reader.raw("segments")
        if not isinstance(listed, list) or not listed:
            raise reader.error(f"{key} must list at least one {{axis, name}} table", key)
        tables = [Reader(item, reader.path, f"{key}[{i}]") for i, item in enumerate(listed)]
    pairs: list[tuple[str, str]] = []
    for table in tables:
        axis_name = table.string("axis")
        segment_name = table.string("name")
        table.finish()
        axis = next((a for a in axes if a.name == axis_name), None)
        if axis is None or segment_name not in axis.segment_names:
            raise table.error(
                f"{table.key}: {axis_name}/{segment_name} is not a segment of the scenario"
            )
        if (axis_name, segment_name) in pairs:
            raise table.error(f"{table.key}: {axis_name}/{segment_name} is named twice")
        if pairs and axis_name != pairs[0][0]:
            raise table.error(
                f"{table.key}: {axis_name}/{segment_name} is on another axis than "
                f"{pairs[0][0]}/{pairs[0][1]}: {one_axis}"
            )
        pairs.append((axis_name, segment_name))
    return tuple(pairs)
