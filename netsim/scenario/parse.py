"""Parsing a scenario document into frozen objects: the only place that reads raw dicts.

:func:`parse_scenario` checks every rule of the schema (``docs/config.md``) and names
the file and key path of the first broken one. The result is a frozen
:class:`~netsim.scenario.schema.Scenario`; calibration
(:mod:`netsim.model.calibration`) then fills in its solved growth parameters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from netsim.defaults import DEFAULT_UNIT
from netsim.errors import ScenarioError
from netsim.scenario.distributions import make_distribution
from netsim.scenario.documents import Reader, check_sources
from netsim.scenario.funnel import funnel_weights, parse_funnel
from netsim.scenario.limits import EARLIEST_YEAR, LATEST_YEAR, Limits, read_limits
from netsim.scenario.names import axis_name_problem, label_problem
from netsim.scenario.parameters import fixed_parameter, read_parameter
from netsim.scenario.schema import (
    Axis,
    Correlation,
    Country,
    Driver,
    Event,
    Geography,
    Parameter,
    Region,
    Scenario,
    Segment,
    Target,
    Timeline,
)

__all__ = ["parse_scenario"]

SHARE_TOLERANCE = 1e-6  # percentage points: shares are exact inputs
MAX_RELATIVE_WEIGHT = 1e6  # a geography's weights are relative; larger ones only overflow
MAX_TILT = 1e3  # a tilt is pp of segment growth per pp of impact


def parse_scenario(document: Mapping[str, Any], path: str) -> Scenario:
    """Validate a merged scenario document and build a :class:`Scenario`.

    Parameters
    ----------
    document : Mapping
        The TOML document (overlays already merged).
    path : str
        The file name for error messages.

    Raises
    ------
    ScenarioError
        On the first rule the document breaks.
    """
    full_document = document
    document = dict(document)
    overlay = document.pop("overlay", None)
    check_sources(document, path)
    root = Reader(document, path)
    limits = read_limits(root.table("limits", None))

    head = root.table("scenario")
    name = head.string("name")
    description = head.string("description", "")
    head.finish()

    years_table = root.table("years")
    base_year = int(years_table.number("base", integer=True))
    final_year = int(years_table.number("final", integer=True))
    years_table.source()
    years_table.finish()
    for key, year in (("years.base", base_year), ("years.final", final_year)):
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:
            raise years_table.error(
                f"{key}={year} must lie within {EARLIEST_YEAR}-{LATEST_YEAR}", key
            )
    if final_year <= base_year:
        raise years_table.error(
            f"years.final={final_year} must be after years.base={base_year}", "years.final"
        )
    years = tuple(range(base_year, final_year + 1))

    market = root.table("market")
    unit = market.string("unit", DEFAULT_UNIT)
    base_size_table = market.table("base_size")
    base_size = base_size_table.number("value", positive=True)
    base_size_table.source()
    base_size_table.finish()
    base_scale = read_parameter(market, "base_scale", "market.base_scale", "x", "market.base_scale")
    baseline_growth = None
    if market.has("baseline_growth"):
        table = market.table("baseline_growth")
        baseline_growth = table.number("value") / 100.0
        table.source()
        table.finish()
    first_year_step = 0.0
    if market.has("first_year_step"):
        table = market.table("first_year_step")
        first_year_step = table.number("value") / 100.0
        table.source()
        table.finish()
    targets: list[Target] = []
    targets_table = market.table("targets", {})
    for key, value in targets_table.items():
        targets.append(_target(targets_table.child(key, value), key, "global", None, None, years))
    targets_table.finish()
    market.finish()

    regions = _regions(root.table("regions"), years, targets)
    region_names = tuple(r.name for r in regions)
    axes = _axes(root.table("axes"), years, targets)
    funnel_table = root.table("funnel", None)
    funnel = None if funnel_table is None else parse_funnel(funnel_table, regions, axes, years)
    factor_names = None if funnel is None else funnel.factor_names
    timelines = _timelines(root.table("timelines", {}))
    geographies = _geographies(root.table("geographies", {}), region_names, years)

    parameters: list[Parameter] = [base_scale]
    drivers: list[Driver] = []
    for group in ("drivers", "restraints"):
        table = root.table(group, {})
        for driver_id, value in table.items():
            table.name(driver_id, group.rstrip("s"), label_problem)
            driver = _driver(
                table.child(driver_id, value),
                group,
                driver_id,
                timelines,
                geographies,
                axes,
                factor_names,
            )
            drivers.append(driver)
            parameters.extend([driver.impact, driver.delay])
        table.finish()

    events: list[Event] = []
    events_table = root.table("events", {})
    for event_id, value in events_table.items():
        events_table.name(event_id, "event", label_problem)
        event = _event(
            events_table.child(event_id, value), event_id, geographies, axes, years, factor_names
        )
        events.append(event)
        parameters.append(event.impact)
        parameters.extend(event.occurs)
        if event.year is not None:
            parameters.append(event.year)
    events_table.finish()

    noise_global, noise_region = _noise(root.table("noise"), region_names, years)
    parameters.extend(noise_global)
    parameters.extend(noise_region)
    if funnel is not None:
        parameters.extend(funnel.parameters)

    names = [p.name for p in parameters]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ScenarioError(f"parameter names repeat: {sorted(duplicates)}", path=path)

    correlations = _correlations(root.table("correlations", {}), set(names))
    root.finish()

    _check_identifiable(regions, axes, targets, baseline_growth, path)
    canonical = json.dumps(document, sort_keys=True, default=str)
    scenario = Scenario(
        name=name,
        description=description,
        path=path,
        years=years,
        unit=unit,
        base_size=base_size,
        base_scale=base_scale,
        targets=tuple(targets),
        regions=regions,
        axes=axes,
        timelines=timelines,
        geographies=geographies,
        drivers=tuple(drivers),
        events=tuple(events),
        noise_global=noise_global,
        noise_region=noise_region,
        correlations=correlations,
        parameters=tuple(parameters),
        baseline_growth=baseline_growth,
        first_year_step=first_year_step,
        recalibrate=bool(overlay is None or overlay.get("recalibrate", False)),
        document_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        limits=limits,
        funnel=funnel,
        # with its overlay chain, in file order (the order sets the layout)
        document_json=json.dumps(full_document, default=str),
        source_files=_source_files(full_document, path),
    )
    _check_limits(scenario)
    return scenario


def _check_limits(scenario: Scenario) -> None:
    """Every figure within the scenario's :class:`Limits` (see :mod:`netsim.scenario.limits`)."""
    limits, path = scenario.limits, scenario.path
    moved = "" if limits.source == Limits().source else " (limits set in the file)"

    def fail(key: str, message: str) -> ScenarioError:
        return ScenarioError(f"{key}{message}{moved}", path=path, key=key)

    def within(key: str, low: float, high: float, bound: float, what: str, name: str) -> None:
        if not (-bound <= low <= high <= bound):  # NaN fails too
            raise fail(
                key,
                f": its values reach [{low:.6g}, {high:.6g}] {what}, beyond +-{bound:g} "
                f"(limits.{name})",
            )

    years = scenario.years
    if not (years[0] >= EARLIEST_YEAR and years[-1] <= LATEST_YEAR):
        raise fail(
            "years", f"={years[0]}-{years[-1]} must lie within {EARLIEST_YEAR}-{LATEST_YEAR}"
        )
    if len(years) - 1 > limits.max_years:
        raise fail(
            "years.final",
            f"={years[-1]} gives {len(years) - 1} forecast years, over limits.max_years="
            f"{limits.max_years}",
        )
    low, high = scenario.base_scale.distribution.support
    if not low > 0:
        raise fail(
            "market.base_scale",
            f": its draws reach {low:.6g} (support [{low:.6g}, {high:.6g}]); a scale of the "
            "market must stay > 0",
        )
    if scenario.base_size * high > limits.max_value:
        raise fail(
            "market.base_size.value",
            f"={scenario.base_size:g} x base_scale up to {high:.6g} exceeds limits.max_value="
            f"{limits.max_value:g}",
        )
    growth = limits.growth_pp
    for driver in scenario.drivers:
        low, high = driver.impact.distribution.support
        within(driver.impact.name, low, high, growth, "pp", "growth_pp")
        low, high = driver.delay.distribution.support
        within(driver.delay.name, low, high, limits.max_years, "years", "max_years")
    for event in scenario.events:
        low, high = event.impact.distribution.support
        within(event.impact.name, low, high, limits.event_pp, "pp", "event_pp")
    given = [
        ("market.baseline_growth.value", scenario.baseline_growth),
        ("market.first_year_step.value", scenario.first_year_step),
    ]
    given += [
        (f'regions."{r.name}".growth_premium.value', r.growth_premium) for r in scenario.regions
    ]
    given += [
        (f'axes.{a.name}.segments."{seg.name}".growth_premium.value', seg.growth_premium)
        for a in scenario.axes
        for seg in a.segments
    ]
    for key, value in given:  # fractions per year; None where calibration solves it
        if value is not None:
            within(key, 100 * value, 100 * value, growth, "pp", "growth_pp")
    for target in scenario.targets:
        if target.kind == "cagr":
            within(
                f"target {target.label}",
                target.value,
                target.value,
                growth,
                "% a year",
                "growth_pp",
            )
        elif target.value > limits.max_value:
            raise fail(f"target {target.label}", f"={target.value:g} exceeds limits.max_value")
    for parameter in (*scenario.noise_global[:1], *scenario.noise_region[:1]):
        sd = parameter.distribution.params.get("sd", 0.0)
        if sd > limits.noise_sd_pp:
            which = "global_sd" if parameter.owner == "noise.global" else "region_sd"
            raise fail(
                f"noise.{which}.value",
                f"={sd:g} pp is over limits.noise_sd_pp={limits.noise_sd_pp:g}",
            )
    for timeline in scenario.timelines.values():
        if not (years[0] - limits.max_years <= timeline.onset <= years[-1] + limits.max_years):
            raise fail(
                f"timelines.{timeline.name}.onset",
                f"={timeline.onset:g} is far outside the years {years[0]}-{years[-1]}",
            )
        if timeline.ramp_years > limits.max_years:
            raise fail(
                f"timelines.{timeline.name}.ramp_years",
                f"={timeline.ramp_years:g} is over limits.max_years",
            )
    for geography in scenario.geographies.values():
        for weights in (geography.weights, geography.weights_end or {}):
            for region, weight in weights.items():
                if weight > MAX_RELATIVE_WEIGHT:
                    raise fail(
                        f"geographies.{geography.name}",
                        f": weight {weight:g} of {region} is over {MAX_RELATIVE_WEIGHT:g} "
                        "(weights are relative: scale them down)",
                    )
    for owner, tilts in [(f"{d.group}.{d.id}", d.tilts) for d in scenario.drivers] + [
        (f"events.{e.id}", e.tilts) for e in scenario.events
    ]:
        for (axis, segment), weight in tilts.items():
            if abs(weight) > MAX_TILT:
                raise fail(
                    f"{owner}.tilts.{axis}", f": {segment}={weight:g} is beyond +-{MAX_TILT:g}"
                )


def _source_files(document: Mapping[str, Any], path: str) -> tuple[str, ...]:
    """The scenario's own file and each overlay's parent (a dict source has none)."""
    files = [path] if not path.startswith("<") else []
    overlay = document.get("overlay")
    while isinstance(overlay, dict) and isinstance(overlay.get("extends"), str):
        files.append(overlay["extends"])
        parent = overlay.get("parent")
        overlay = parent.get("overlay") if isinstance(parent, dict) else None
    return tuple(files)


def _percent_share(reader: Reader, key: str) -> float:
    table = reader.table(key)
    value = table.number("value", minimum=0.0, maximum=100.0)
    table.source()
    table.finish()
    return value


def _check_sum(shares: Mapping[str, float], what: str, reader: Reader) -> None:
    total = sum(shares.values())
    if abs(total - 100.0) > SHARE_TOLERANCE:
        listed = ", ".join(f"{k}={v:g}" for k, v in shares.items())
        raise reader.error(f"{what} shares must sum to 100 %, got {total:.6g} % ({listed})")


def _target(
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
        table = reader.table("growth_premium")
        premium = table.number("value") / 100.0
        table.source()
        table.finish()
        return premium, None
    label = f"{axis} {name}" if axis else name
    target = _target(reader.table("cagr_target"), f"{label} CAGR", scope, name, axis, years)
    targets.append(target)
    return None, target


def _regions(reader: Reader, years: tuple[int, ...], targets: list[Target]) -> tuple[Region, ...]:
    regions: list[Region] = []
    for region_name, value in reader.items():
        reader.name(region_name, "region", label_problem)
        if region_name == "global":
            raise reader.error(
                "region name 'global' is taken: the global noise's parameters are noise.global.*",
                reader.join(region_name),
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
    all_countries = [c.name for r in regions for c in r.countries]
    repeated = {c for c in all_countries if all_countries.count(c) > 1}
    if repeated:
        raise reader.error(f"countries appear in more than one region: {sorted(repeated)}")
    return tuple(regions)


def _axes(reader: Reader, years: tuple[int, ...], targets: list[Target]) -> tuple[Axis, ...]:
    axes: list[Axis] = []
    for axis_name, value in reader.items():
        reader.name(axis_name, "axis", axis_name_problem)
        table = reader.child(axis_name, value)
        label = table.string("label", axis_name)
        segments_table = table.table("segments")
        segments: list[Segment] = []
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


def _timelines(reader: Reader) -> dict[str, Timeline]:
    timelines: dict[str, Timeline] = {}
    for name, value in reader.items():
        table = reader.child(name, value)
        onset = table.number("onset")
        ramp = table.number("ramp_years", minimum=1.0)
        table.source()
        table.finish()
        timelines[name] = Timeline(name, onset, ramp)
    return timelines


def _region_weights(reader: Reader, key: str, regions: tuple[str, ...]) -> dict[str, float]:
    table = reader.table(key)
    weights = {k: table.check_number(v, table.join(k), minimum=0.0) for k, v in table.items()}
    missing = [r for r in regions if r not in weights]
    unknown = [r for r in weights if r not in regions]
    if unknown:
        raise table.error(
            f"{table.join(unknown[0])} is not a region ({', '.join(regions)})",
            table.join(unknown[0]),
        )
    if missing:
        raise table.error(f"{table.key} gives no weight for region {missing[0]!r}")
    if sum(weights.values()) <= 0:
        raise table.error(f"{table.key}: at least one weight must be > 0")
    return {r: weights[r] for r in regions}


def _geographies(
    reader: Reader, regions: tuple[str, ...], years: tuple[int, ...]
) -> dict[str, Geography]:
    geographies: dict[str, Geography] = {}
    for name, value in reader.items():
        table = reader.child(name, value)
        table.string("quote", "")
        table.source()
        weights = _region_weights(table, "weights", regions)
        weights_end = shift_start = shift_end = None
        if table.has("weights_end"):
            weights_end = _region_weights(table, "weights_end", regions)
            shift = table.raw("shift_years")
            if not (isinstance(shift, list) and len(shift) == 2):
                raise table.error(f"{table.join('shift_years')} must be [start_year, end_year]")
            shift_start, shift_end = (
                int(table.check_number(y, table.join("shift_years"), integer=True)) for y in shift
            )
            if not shift_start < shift_end:
                raise table.error(f"{table.join('shift_years')}={shift} must be increasing")
        table.finish()
        geographies[name] = Geography(name, weights, weights_end, shift_start, shift_end)
    return geographies


def _tilts(reader: Reader, axes: tuple[Axis, ...]) -> dict[tuple[str, str], float]:
    tilts: dict[tuple[str, str], float] = {}
    table = reader.table("tilts", None)
    if table is None:
        return tilts
    table.source()
    axis_by_name = {a.name: a for a in axes}
    for axis_name, value in table.items():
        if axis_name == "source":
            continue
        if axis_name not in axis_by_name:
            raise table.error(
                f"{table.join(axis_name)}: {axis_name!r} is not an axis", table.join(axis_name)
            )
        segment_table = table.child(axis_name, value)
        for segment_name, weight in segment_table.items():
            if segment_name not in axis_by_name[axis_name].segment_names:
                raise segment_table.error(
                    f"{segment_table.join(segment_name)}: {segment_name!r} is not a segment of "
                    f"{axis_name}",
                    segment_table.join(segment_name),
                )
            tilts[(axis_name, segment_name)] = segment_table.check_number(
                weight, segment_table.join(segment_name)
            )
    return tilts


def _lookup(reader: Reader, key: str, options: Mapping[str, Any], what: str) -> Any:
    value = reader.string(key)
    if value not in options:
        raise reader.error(
            f"{reader.join(key)}={value!r} is not a defined {what} ({', '.join(options)})",
            reader.join(key),
        )
    return options[value]


def _driver(
    reader: Reader,
    group: str,
    driver_id: str,
    timelines: Mapping[str, Timeline],
    geographies: Mapping[str, Geography],
    axes: tuple[Axis, ...],
    factor_names: tuple[str, ...] | None,
) -> Driver:
    prefix = f"{group}.{driver_id}"
    label = reader.string("label", driver_id)
    reader.string("quote", "")
    impact = read_parameter(reader, "impact", f"{prefix}.impact", "pp", prefix)
    sign = 1.0 if group == "drivers" else -1.0
    if sign * impact.distribution.point < 0:
        rule = ">= 0: drivers raise growth" if sign > 0 else "<= 0: restraints lower growth"
        raise reader.error(
            f"{reader.join('impact')} point value {impact.distribution.point:g} must be {rule}",
            reader.join("impact"),
        )
    if reader.has("delay"):
        delay = read_parameter(reader, "delay", f"{prefix}.delay", "years", prefix)
    else:
        delay = fixed_parameter(
            f"{prefix}.delay",
            0.0,
            "years",
            "assumption: no onset delay given for this driver",
            prefix,
        )
    timeline = _lookup(reader, "timeline", timelines, "timeline")
    geography = _lookup(reader, "geography", geographies, "geography")
    tilts = _tilts(reader, axes)
    funnel, acts_on_growth = _funnel_action(reader, factor_names)
    reader.finish()
    return Driver(
        driver_id,
        group,
        label,
        impact,
        delay,
        timeline,
        geography,
        tilts,
        funnel,
        acts_on_growth,
    )


def _funnel_action(
    reader: Reader, factor_names: tuple[str, ...] | None
) -> tuple[dict[str, float], bool]:
    """A driver's or event's funnel weights and whether it also acts on growth."""
    funnel = funnel_weights(reader, factor_names, MAX_TILT)
    acts_on_growth = reader.boolean("acts_on_growth", True)
    if not acts_on_growth and not funnel:
        raise reader.error(
            f"{reader.join('acts_on_growth')}=false, but {reader.key} acts on no funnel factor "
            "either: it would do nothing",
            reader.join("acts_on_growth"),
        )
    if not acts_on_growth and reader.has("tilts"):
        raise reader.error(
            f"{reader.key}: tilts move segment shares through growth, which "
            "acts_on_growth=false turns off",
            reader.join("tilts"),
        )
    return funnel, acts_on_growth


def _event(
    reader: Reader,
    event_id: str,
    geographies: Mapping[str, Geography],
    axes: tuple[Axis, ...],
    years: tuple[int, ...],
    factor_names: tuple[str, ...] | None,
) -> Event:
    prefix = f"events.{event_id}"
    label = reader.string("label", event_id)
    kind = reader.string("kind")
    if kind not in ("yearly", "once"):
        raise reader.error(f"{reader.join('kind')}={kind!r} must be 'yearly' or 'once'")
    probability_table = reader.table("probability")
    probability = probability_table.number("value", minimum=0.0, maximum=1.0)
    probability_source = probability_table.source()
    probability_table.finish()
    impact = read_parameter(reader, "impact", f"{prefix}.impact", "pp", prefix)
    segment_table = reader.table("segment")
    axis_name = segment_table.string("axis")
    segment_name = segment_table.string("name")
    segment_table.finish()
    axis = next((a for a in axes if a.name == axis_name), None)
    if axis is None or segment_name not in axis.segment_names:
        raise segment_table.error(
            f"{segment_table.key}: {axis_name}/{segment_name} is not a segment of the scenario"
        )
    geography = _lookup(reader, "geography", geographies, "geography")
    tilts = _tilts(reader, axes)
    funnel, acts_on_growth = _funnel_action(reader, factor_names)
    occurs_dist = make_distribution("bernoulli", {"p": probability})
    if kind == "yearly":
        occurs = tuple(
            Parameter(f"{prefix}.occurs.{y}", occurs_dist, probability_source, "0/1", prefix)
            for y in years[1:]
        )
        year = None
        duration = 1
        if reader.has("year") or reader.has("duration"):
            raise reader.error(f"{prefix}: a yearly event takes no year or duration")
    else:
        occurs = (Parameter(f"{prefix}.occurs", occurs_dist, probability_source, "0/1", prefix),)
        year = read_parameter(reader, "year", f"{prefix}.year", "year", prefix)
        dist = year.distribution
        values = dist.params.get("values", ())
        if dist.kind not in ("discrete", "fixed"):
            raise reader.error(f"{prefix}.year must be dist='discrete' or 'fixed' (whole years)")
        values = values or (dist.params["value"],)
        for value in values:
            if value != int(value) or not years[1] <= value <= years[-1]:
                raise reader.error(
                    f"{prefix}.year value {value:g} must be a forecast year {years[1]}-{years[-1]}",
                    f"{prefix}.year",
                )
        duration_table = reader.table("duration")
        duration = int(duration_table.number("value", integer=True, minimum=1))
        duration_table.source()
        duration_table.finish()
    reader.finish()
    return Event(
        event_id,
        label,
        kind,
        probability,
        impact,
        occurs,
        year,
        duration,
        axis_name,
        segment_name,
        geography,
        tilts,
        funnel,
        acts_on_growth,
    )


def _noise(
    reader: Reader, regions: tuple[str, ...], years: tuple[int, ...]
) -> tuple[tuple[Parameter, ...], tuple[Parameter, ...]]:
    def sd(key: str) -> tuple[float, str]:
        table = reader.table(key)
        value = table.number("value", minimum=0.0)
        source = table.source()
        table.finish()
        return value, source

    global_sd, global_source = sd("global_sd")
    region_sd, region_source = sd("region_sd")
    reader.finish()

    def normal(owner: str, year: int, scale: float, source: str) -> Parameter:
        name = f"{owner}.{year}"
        if scale == 0:
            return fixed_parameter(name, 0.0, "pp", source, owner)
        return Parameter(
            name, make_distribution("normal", {"mean": 0.0, "sd": scale}), source, "pp", owner
        )

    noise_global = tuple(normal("noise.global", y, global_sd, global_source) for y in years[1:])
    noise_region = tuple(
        normal(f"noise.{r}", y, region_sd, region_source) for r in regions for y in years[1:]
    )
    return noise_global, noise_region


def _correlations(reader: Reader, names: set[str]) -> tuple[Correlation, ...]:
    correlations: list[Correlation] = []
    seen: set[frozenset[str]] = set()
    for key, value in reader.items():
        table = reader.child(key, value)
        pair = table.raw("parameters")
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            raise table.error(f"{table.join('parameters')} must list two parameter names")
        for p in pair:
            if p not in names:
                raise table.error(
                    f"{table.join('parameters')}: {p!r} is not a parameter of the scenario",
                    table.join("parameters"),
                )
        if pair[0] == pair[1]:
            raise table.error(f"{table.join('parameters')} names the same parameter twice")
        if frozenset(pair) in seen:
            raise table.error(f"{table.key}: the pair {pair} is correlated twice")
        seen.add(frozenset(pair))
        rho = table.number("rho", minimum=-1.0, maximum=1.0)
        source = table.source()
        table.finish()
        correlations.append(Correlation((pair[0], pair[1]), rho, source))
    return tuple(correlations)


def _check_identifiable(
    regions: tuple[Region, ...],
    axes: tuple[Axis, ...],
    targets: list[Target],
    baseline_growth: float | None,
    path: str,
) -> None:
    global_targets = [t for t in targets if t.scope == "global"]
    if not global_targets and baseline_growth is None:
        raise ScenarioError(
            "market.baseline_growth is required when market.targets is empty",
            path=path,
            key="market.baseline_growth",
        )
    if global_targets and baseline_growth is not None:
        raise ScenarioError(
            "market.baseline_growth is solved from market.targets: give one or the other",
            path=path,
            key="market.baseline_growth",
        )
    if all(r.growth_premium is None for r in regions):
        raise ScenarioError(
            "every region has a cagr_target: at least one needs a growth_premium, or the "
            "regional premiums and the baseline cannot be told apart",
            path=path,
            key="regions",
        )
    for axis in axes:
        if all(s.growth_premium is None for s in axis.segments):
            raise ScenarioError(
                f"every segment of axes.{axis.name} has a cagr_target: at least one needs a "
                "growth_premium (shares sum to 100 %, so one segment's growth is implied)",
                path=path,
                key=f"axes.{axis.name}",
            )
