"""Parsing a scenario document into frozen objects.

:func:`parse_scenario` checks every rule of the schema (``docs/config.md``), reading the
market's parts with :mod:`netsim.scenario.parts`, what moves it with
:mod:`netsim.scenario.factors` and the funnel with :mod:`netsim.scenario.funnel`, then
checks every figure against :mod:`netsim.scenario.limits`; it names the file and key path
of the first broken rule. The result is a frozen
:class:`~netsim.scenario.schema.Scenario`; calibration
(:mod:`netsim.model.calibration`) then fills in its solved growth parameters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netsim.defaults import DEFAULT_UNIT
from netsim.errors import ScenarioError
from netsim.scenario.distributions import make_distribution
from netsim.scenario.documents import Reader, check_sources
from netsim.scenario.factors import read_driver, read_event, read_geographies, read_timelines
from netsim.scenario.funnel import parse_funnel
from netsim.scenario.keys import TABLES
from netsim.scenario.limit_checks import check_limits
from netsim.scenario.limits import EARLIEST_YEAR, LATEST_YEAR, read_limits
from netsim.scenario.names import label_problem
from netsim.scenario.parameters import fixed_parameter, read_parameter
from netsim.scenario.parts import read_axes, read_countries, read_regions, read_target
from netsim.scenario.products import read_product_tables
from netsim.scenario.schema import (
    Axis,
    Correlation,
    Driver,
    Event,
    Geography,
    Parameter,
    Region,
    Scenario,
    Target,
    Timeline,
)

__all__ = ["parse_scenario"]


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
    name, description = _head(root.table("scenario"))
    years = _years(root.table("years"))
    market = _market(root.table("market"), years)
    targets = market.targets

    regions = read_regions(root.table("regions"), years, targets)
    region_names = tuple(r.name for r in regions)
    axes = read_axes(root.table("axes", {}), years, targets)
    regions = read_countries(root.table("countries", {}), regions, years, targets)
    funnel_table = root.table("funnel", None)
    funnel = None if funnel_table is None else parse_funnel(funnel_table, regions, axes, years)
    factor_names = None if funnel is None else funnel.factor_names
    products, product_parameters = read_product_tables(root, axes, region_names, years)
    product_ids = tuple(p.id for p in products)
    timelines = read_timelines(root.table("timelines", {}))
    geographies = read_geographies(root.table("geographies", {}), region_names, years)
    links = (factor_names, product_ids)  # what drivers and events may act on besides growth
    drivers = _drivers(root, timelines, geographies, axes, links)
    events = _events(root.table("events", {}), geographies, axes, years, links)
    noise_global, noise_region = _noise(root.table("noise"), region_names, years)

    parameters = [market.base_scale]
    parameters += [p for driver in drivers for p in (driver.impact, driver.delay)]
    parameters += [p for event in events for p in _event_parameters(event)]
    parameters += [*noise_global, *noise_region]
    parameters += funnel.parameters if funnel is not None else ()
    parameters += product_parameters
    names = [p.name for p in parameters]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ScenarioError(f"parameter names repeat: {sorted(duplicates)}", path=path)

    correlations = _correlations(root.table("correlations", {}), set(names))
    root.finish()

    _check_identifiable(regions, axes, targets, market.baseline_growth, path)
    canonical = json.dumps(document, sort_keys=True, default=str)
    scenario = Scenario(
        name=name,
        description=description,
        path=path,
        years=years,
        unit=market.unit,
        base_size=market.base_size,
        base_scale=market.base_scale,
        targets=tuple(targets),
        regions=regions,
        axes=axes,
        timelines=timelines,
        geographies=geographies,
        drivers=drivers,
        events=events,
        noise_global=noise_global,
        noise_region=noise_region,
        correlations=correlations,
        parameters=tuple(parameters),
        baseline_growth=market.baseline_growth,
        first_year_step=market.first_year_step,
        recalibrate=bool(overlay is None or overlay.get("recalibrate", False)),
        document_hash=hashlib.sha256(canonical.encode()).hexdigest(),
        limits=limits,
        funnel=funnel,
        products=products,
        # with its overlay chain, in file order (the order sets the layout)
        document_json=json.dumps(full_document, default=str),
        source_files=_source_files(full_document, path),
    )
    check_limits(scenario)
    return scenario


def _head(head: Reader) -> tuple[str, str]:
    """``[scenario]``: the name and the description."""
    fields = head.fields(TABLES["scenario"])
    return fields["name"], fields["description"]


def _years(table: Reader) -> tuple[int, ...]:
    """``[years]``: every year from the base to the final one."""
    fields = table.fields(TABLES["years"])
    base_year, final_year = fields["base"], fields["final"]
    for key, year in (("years.base", base_year), ("years.final", final_year)):
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:
            raise table.error(f"{key}={year} must lie within {EARLIEST_YEAR}-{LATEST_YEAR}", key)
    if final_year <= base_year:
        raise table.error(
            f"years.final={final_year} must be after years.base={base_year}", "years.final"
        )
    return tuple(range(base_year, final_year + 1))


@dataclass(frozen=True)
class _Market:
    """What ``[market]`` gives: its unit, base size and scale, the growth given (when no
    target solves it) and the global calibration targets."""

    unit: str
    base_size: float
    base_scale: Parameter
    baseline_growth: float | None
    first_year_step: float
    targets: list[Target]


def _growth_value(market: Reader, key: str) -> float | None:
    """A ``{value, source}`` growth of ``market`` in percent a year, as a fraction (None
    when absent)."""
    if not market.has(key):
        return None
    return market.table(key).fields(TABLES["growth"])["value"] / 100.0


def _market(market: Reader, years: tuple[int, ...]) -> _Market:
    """``[market]``: the unit, the base size and its scale, growth and targets."""
    unit = market.string("unit", DEFAULT_UNIT)
    base_size = market.table("base_size").fields(TABLES["base size"])["value"]
    base_scale = read_parameter(market, "base_scale", "market.base_scale", "x", "market.base_scale")
    baseline_growth = _growth_value(market, "baseline_growth")
    first_year_step = _growth_value(market, "first_year_step")
    first_year_step = 0.0 if first_year_step is None else first_year_step
    targets_table = market.table("targets", {})
    targets = [
        read_target(targets_table.child(key, value), key, "global", None, None, years)
        for key, value in targets_table.items()
    ]
    targets_table.finish()
    market.finish()
    return _Market(unit, base_size, base_scale, baseline_growth, first_year_step, targets)


def _drivers(
    root: Reader,
    timelines: Mapping[str, Timeline],
    geographies: Mapping[str, Geography],
    axes: tuple[Axis, ...],
    links: tuple[tuple[str, ...] | None, tuple[str, ...]],
) -> tuple[Driver, ...]:
    """``[drivers]`` then ``[restraints]``, in file order (``links``: the funnel's factors
    and the products they may act on)."""
    drivers: list[Driver] = []
    for group in ("drivers", "restraints"):
        table = root.table(group, {})
        table.apart(table.data, group.rstrip("s"))
        for driver_id, value in table.items():
            table.name(driver_id, group.rstrip("s"), label_problem)
            child = table.child(driver_id, value)
            drivers.append(
                read_driver(child, group, driver_id, timelines, geographies, axes, *links)
            )
        table.finish()
    return tuple(drivers)


def _events(
    table: Reader,
    geographies: Mapping[str, Geography],
    axes: tuple[Axis, ...],
    years: tuple[int, ...],
    links: tuple[tuple[str, ...] | None, tuple[str, ...]],
) -> tuple[Event, ...]:
    """``[events]``, in file order (``links``: the funnel's factors and the products they
    may act on)."""
    events: list[Event] = []
    table.apart(table.data, "event")
    for event_id, value in table.items():
        table.name(event_id, "event", label_problem)
        child = table.child(event_id, value)
        events.append(read_event(child, event_id, geographies, axes, years, *links))
    table.finish()
    return tuple(events)


def _event_parameters(event: Event) -> tuple[Parameter, ...]:
    """An event's columns of the inputs: its impact, its occurrences, its year."""
    return (event.impact, *event.occurs, *(() if event.year is None else (event.year,)))


def _source_files(document: Mapping[str, Any], path: str) -> tuple[str, ...]:
    """The scenario's own file and each overlay's parent (a dict source has none)."""
    files = [path] if not path.startswith("<") else []
    overlay = document.get("overlay")
    while isinstance(overlay, dict) and isinstance(overlay.get("extends"), str):
        files.append(overlay["extends"])
        parent = overlay.get("parent")
        overlay = parent.get("overlay") if isinstance(parent, dict) else None
    return tuple(files)


def _noise(
    reader: Reader, regions: tuple[str, ...], years: tuple[int, ...]
) -> tuple[tuple[Parameter, ...], tuple[Parameter, ...]]:
    def sd(key: str) -> tuple[float, str]:
        fields = reader.table(key).fields(TABLES["noise"])
        return fields["value"], fields["source"]

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
    for region in regions:
        if region.target is not None and all(c.target is not None for c in region.countries):
            raise ScenarioError(
                f"region {region.name!r} has a cagr_target and so has each of its countries: "
                "at least one of them needs none, or the region's premium and its countries' "
                "premiums cannot be told apart",
                path=path,
                key="countries",
            )
    solved = [r.target is not None or c.target is not None for r in regions for c in r.countries]
    if global_targets and all(solved):
        raise ScenarioError(
            "every country's growth premium is solved (its own cagr_target or its region's) "
            "and so is the baseline (market.targets): at least one country of a region with a "
            "growth_premium needs no cagr_target, or the premiums and the baseline cannot be "
            "told apart",
            path=path,
            key="countries",
        )
    for axis in axes:
        if all(s.growth_premium is None for s in axis.segments):
            raise ScenarioError(
                f"every segment of axes.{axis.name} has a cagr_target: at least one needs a "
                "growth_premium (shares sum to 100 %, so one segment's growth is implied)",
                path=path,
                key=f"axes.{axis.name}",
            )
