"""Parsing ``[funnel.checks.<id>]``: counts stated by a registry or a claims database that
the funnel is compared with, or solved to.

A check names a stage, a year, places and optionally segments of a split axis, and the
stated count. With ``solve = {factor, low, high, source}`` it is a calibration target: the
named funnel factor (a share or a multiplier, as the top-down model's premiums are solved)
is scaled so the funnel's base case meets the count, and the solved point must lie within
``[low, high]`` (the factor's unit). The rules are in ``docs/config.md`` ("The patient
funnel").
"""

from __future__ import annotations

from netsim.scenario.documents import Reader
from netsim.scenario.names import label_problem
from netsim.scenario.schema import Axis, FunnelCheck, FunnelFactor, FunnelSolve, Region

__all__ = ["parse_checks"]


def parse_checks(
    reader: Reader,
    stages: list[str],
    regions: tuple[Region, ...],
    axes: tuple[Axis, ...],
    splits: tuple[str, ...],
    years: tuple[int, ...],
    factors: list[FunnelFactor],
) -> tuple[FunnelCheck, ...]:
    """Every check of the ``checks`` table, in the file's order.

    Raises
    ------
    ScenarioError
        On the first rule a check breaks, naming its key path.
    """
    checks = []
    reader.apart(reader.data, "check")
    for check_id, value in reader.items():
        reader.name(check_id, "check", label_problem)
        table = reader.child(check_id, value)
        label = table.string("label", check_id)
        stage = table.string("stage")
        if stage not in stages:
            raise table.error(
                f"{table.join('stage')}={stage!r} is not a stage ({', '.join(stages)})",
                table.join("stage"),
            )
        year = int(table.number("year", integer=True))
        if year not in years:
            raise table.error(
                f"{table.join('year')}={year} is not a year of the scenario", table.join("year")
            )
        countries = _places(table, regions)
        axis_name, segments = _segments(table, axes, splits)
        count = table.number("value", positive=True)
        source = table.source()
        solve = None
        if table.has("solve"):
            solve = _solve(table.table("solve"), stages.index(stage), axis_name, factors)
            if solve.factor in {c.solve.factor for c in checks if c.solve is not None}:
                raise table.error(
                    f"{table.join('solve')}: factor {solve.factor!r} is already solved by "
                    "another check (each target needs a factor of its own)",
                    table.join("solve"),
                )
        table.finish()
        checks.append(
            FunnelCheck(
                check_id,
                label,
                stage,
                year,
                tuple(countries),
                axis_name,
                segments,
                count,
                source,
                solve,
            )
        )
    return tuple(checks)


def _places(table: Reader, regions: tuple[Region, ...]) -> list[str]:
    """The countries of ``places`` (regions stand for all their countries), none twice."""
    country_names = [c.name for r in regions for c in r.countries]
    region_countries = {r.name: [c.name for c in r.countries] for r in regions}
    countries: list[str] = []
    for place in _string_list(table, "places"):
        if place in region_countries:
            countries.extend(region_countries[place])
        elif place in country_names:
            countries.append(place)
        else:
            raise table.error(
                f"{table.join('places')}: {place!r} is neither a region nor a country",
                table.join("places"),
            )
    if len(set(countries)) != len(countries):
        raise table.error(f"{table.join('places')} counts a country twice")
    return countries


def _segments(
    table: Reader, axes: tuple[Axis, ...], splits: tuple[str, ...]
) -> tuple[str | None, tuple[str, ...]]:
    """The check's ``segments = {axis, names}``, if any: (axis, segment names)."""
    if not table.has("segments"):
        return None, ()
    seg_table = table.table("segments")
    axis_name = seg_table.string("axis")
    axis = next((a for a in axes if a.name == axis_name), None)
    if axis is None or axis_name not in splits:
        raise seg_table.error(
            f"{seg_table.join('axis')}={axis_name!r} is not an axis the funnel splits "
            f"its patients over ({', '.join(splits) or 'none'})",
            seg_table.join("axis"),
        )
    segments = tuple(_string_list(seg_table, "names"))
    if len(set(segments)) != len(segments):
        raise seg_table.error(
            f"{seg_table.join('names')} names a segment twice", seg_table.join("names")
        )
    for segment in segments:
        if segment not in axis.segment_names:
            raise seg_table.error(
                f"{seg_table.join('names')}: {segment!r} is not a segment of {axis_name}"
            )
    seg_table.finish()
    return axis_name, segments


def _solve(
    table: Reader, stage_index: int, axis: str | None, factors: list[FunnelFactor]
) -> FunnelSolve:
    """``solve = {factor, low, high, source}``: the factor must change the check's count
    (the rate, the duration, a stage up to the check's, or a share of the check's split
    axis), and ``low < high`` bound its solved point, in its own unit."""
    name = table.string("factor")
    stages = [f.name for f in factors if f.kind == "stage"]
    movable = [f.name for f in factors if f.kind == "cases"] + stages[:stage_index]
    if axis is not None:
        movable += [f.name for f in factors if f.kind == "split" and f.axis == axis]
    if name not in movable:
        known = "is not a funnel factor" if name not in {f.name for f in factors} else ""
        raise table.error(
            f"{table.join('factor')}={name!r} {known or 'does not change this count'}: "
            f"a check's target solves one of {', '.join(movable)}",
            table.join("factor"),
        )
    factor = next(f for f in factors if f.name == name)
    low = table.number("low", minimum=0.0)
    high = table.number("high", minimum=0.0)
    if not low < high:
        raise table.error(f"{table.key}: low={low:g} must be below high={high:g}", table.key)
    if factor.kind in ("stage", "split") and high > 100.0:
        raise table.error(
            f"{table.join('high')}={high:g}: {name} is a share, within 0-100 %",
            table.join("high"),
        )
    source = table.source()
    table.finish()
    return FunnelSolve(name, low, high, source, table.key)


def _string_list(table: Reader, key: str) -> list[str]:
    value = table.raw(key)
    if not (isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)):
        raise table.error(f"{table.join(key)} must be a list of names", table.join(key))
    return list(value)
