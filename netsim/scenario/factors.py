"""What moves the market, as a scenario file gives it: timelines, geographies, and the
drivers, restraints and events with their tilts on segments and their actions on the
patient funnel.

Read by :func:`netsim.scenario.parse.parse_scenario` through a
:class:`~netsim.scenario.documents.Reader`, so every broken rule names its file and key path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netsim.scenario.distributions import make_distribution
from netsim.scenario.documents import Reader
from netsim.scenario.funnel import funnel_weights
from netsim.scenario.keys import TABLES
from netsim.scenario.limits import MAX_TILT
from netsim.scenario.names import label_problem
from netsim.scenario.parameters import fixed_parameter, read_parameter
from netsim.scenario.parts import read_segment_pairs
from netsim.scenario.products import product_weights
from netsim.scenario.schema import (
    Axis,
    Driver,
    Event,
    Geography,
    Parameter,
    Timeline,
)

__all__ = ["read_driver", "read_event", "read_geographies", "read_timelines"]


def read_timelines(reader: Reader) -> dict[str, Timeline]:
    timelines: dict[str, Timeline] = {}
    reader.apart(reader.data, "timeline")
    for name, value in reader.items():
        reader.name(name, "timeline", label_problem)
        table = reader.child(name, value)
        fields = table.fields(TABLES["timeline"])
        timelines[name] = Timeline(name, fields["onset"], fields["ramp_years"])
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


def read_geographies(
    reader: Reader, regions: tuple[str, ...], years: tuple[int, ...]
) -> dict[str, Geography]:
    geographies: dict[str, Geography] = {}
    reader.apart(reader.data, "geography")
    for name, value in reader.items():
        reader.name(name, "geography", label_problem)
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


def read_driver(
    reader: Reader,
    group: str,
    driver_id: str,
    timelines: Mapping[str, Timeline],
    geographies: Mapping[str, Geography],
    axes: tuple[Axis, ...],
    factor_names: tuple[str, ...] | None,
    product_ids: tuple[str, ...] = (),
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
    products = product_weights(reader, product_ids)
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
        products,
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


def read_event(
    reader: Reader,
    event_id: str,
    geographies: Mapping[str, Geography],
    axes: tuple[Axis, ...],
    years: tuple[int, ...],
    factor_names: tuple[str, ...] | None,
    product_ids: tuple[str, ...] = (),
) -> Event:
    prefix = f"events.{event_id}"
    label = reader.string("label", event_id)
    kind = reader.string("kind")
    if kind not in ("yearly", "once"):
        raise reader.error(f"{reader.join('kind')}={kind!r} must be 'yearly' or 'once'")
    stated = reader.table("probability").fields(TABLES["probability"])
    probability, probability_source = stated["value"], stated["source"]
    impact = read_parameter(reader, "impact", f"{prefix}.impact", "pp", prefix)
    segments = _event_segments(reader, axes)
    geography = _lookup(reader, "geography", geographies, "geography")
    tilts = _tilts(reader, axes)
    funnel, acts_on_growth = _funnel_action(reader, factor_names)
    products = product_weights(reader, product_ids)
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
        duration = reader.table("duration").fields(TABLES["duration"])["value"]
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
        segments,
        geography,
        tilts,
        funnel,
        acts_on_growth,
        products,
    )


def _event_segments(reader: Reader, axes: tuple[Axis, ...]) -> tuple[tuple[str, str], ...]:
    """An event's ``segment = {axis, name}`` or ``segments = [{axis, name}, ...]``: segments
    of two axes split the same market twice, so an impact on each would count the market's
    move twice over (and escape the worst-draw bound)."""
    return read_segment_pairs(reader, axes, "an event's segments must share one axis")
