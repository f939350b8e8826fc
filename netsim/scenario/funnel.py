"""Parsing the ``[funnel]`` table: the patient-based model beside the top-down one.

A funnel follows the patients of each country and year: population x cases per person
(a prevalence, or an incidence x the years with the disease) x the share at each stage
(diagnosed, advanced, treated ...) gives the treated patients; they are split over the
segments of some axes (treatments onto the modality axis, sites onto the indication
axis), and doses a year x price per dose (or a cost per patient-year) turn them into a
market value. Every figure is a fixed ``{value, source}`` or a distribution, with a
source. The rules are in ``docs/config.md`` ("The patient funnel").
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from netsim.scenario.documents import Reader, read_weights
from netsim.scenario.funnel_checks import parse_checks
from netsim.scenario.keys import TABLES
from netsim.scenario.names import folded, label_problem
from netsim.scenario.parameters import fixed_parameter, read_value_or_distribution
from netsim.scenario.schema import Axis, Funnel, FunnelFactor, Region

__all__ = [
    "CASES_STAGE",
    "funnel_weights",
    "parse_funnel",
    "split_segments",
    "without_funnel",
]

CASES_STAGE = "cases"  # the first stage: people with the disease
SHARE_TOLERANCE = 1e-6  # percentage points
MAX_POPULATION = 1e11  # persons in one country: more is a typo
RATE_KINDS = ("incidence", "prevalence")


class _Factors:
    """Collects the funnel's factors in kernel order, refusing a name twice."""

    def __init__(self) -> None:
        self.factors: list[FunnelFactor] = []

    def add(self, factor: FunnelFactor, reader: Reader) -> None:
        if factor.name in {f.name for f in self.factors}:
            raise reader.error(f"funnel factor {factor.name!r} is defined twice")
        self.factors.append(factor)


def parse_funnel(
    reader: Reader,
    regions: tuple[Region, ...],
    axes: tuple[Axis, ...],
    years: tuple[int, ...],
) -> Funnel:
    """Validate the ``[funnel]`` table and build a :class:`Funnel`.

    Parameters
    ----------
    reader : Reader
        The ``funnel`` table.
    regions, axes : tuple
        The scenario's regions (with their countries) and segmentation axes.
    years : tuple of int
        The scenario's years, base year first.

    Raises
    ------
    ScenarioError
        On the first rule the table breaks, naming its key path.
    """
    label = reader.string("label", "patient funnel")
    reader.source(required=False)
    population = _population(reader.table("population"), regions)
    growth_table = reader.table("population_growth")
    growth_table.source()
    population_growth = {
        c: v / 100.0
        for c, v in _per_country(growth_table, regions, minimum=-50.0, maximum=50.0).items()
    }
    factors = _Factors()
    rate_kind, rate_per = _rate(reader.table("rate"), regions, factors)
    stages, stage_labels = _stages(reader.table("stages"), regions, factors)
    splits = _splits(reader.table("split", {}), regions, axes, factors)
    cost = reader.table("cost")
    cost_axis, price_unit, per_market_unit = _cost(cost, axes, splits, factors)
    price_index = _per_country(cost.table("price_index"), regions, minimum=0.0, source=True)
    cost.finish()

    plausible_price = plausible_treated = None
    plausible = reader.table("plausible", None)
    if plausible is not None:
        if plausible.has("price_factor"):
            plausible_price = _range(plausible.table("price_factor"), 1.0)
        if plausible.has("treated_share"):
            plausible_treated = _range(plausible.table("treated_share"), 0.01, maximum=100.0)
        plausible.finish()

    checks = parse_checks(
        reader.table("checks", {}), stages, regions, axes, splits, years, factors.factors
    )
    reader.finish()
    return Funnel(
        label=label,
        population=population,
        population_growth=population_growth,
        rate_kind=rate_kind,
        rate_per=rate_per,
        factors=tuple(factors.factors),
        stages=tuple(stages),
        stage_labels=tuple(stage_labels),
        splits=splits,
        cost_axis=cost_axis,
        price_unit=price_unit,
        per_market_unit=per_market_unit,
        price_index=price_index,
        plausible_price=plausible_price,
        plausible_treated=plausible_treated,
        checks=checks,
    )


def _rate(rate_table: Reader, regions: tuple[Region, ...], factors: _Factors) -> tuple[str, float]:
    """``[funnel.rate]``: the rate (and, for an incidence, the duration) into ``factors``;
    returns the rate's kind and the persons it is counted per."""
    rate_kind = rate_table.string("kind")
    if rate_kind not in RATE_KINDS:
        raise rate_table.error(
            f"{rate_table.join('kind')}={rate_kind!r} must be one of {', '.join(RATE_KINDS)}",
            rate_table.join("kind"),
        )
    rate_per = rate_table.number("per", positive=True)
    rate_table.source()
    unit = f"per {rate_per:,.0f}" + (" a year" if rate_kind == "incidence" else "")
    rate = _factor(
        rate_table,
        "value",
        "rate",
        "cases",
        unit,
        1.0 / rate_per,
        tuple(r.name for r in regions),
        "funnel.rate",
        countries=tuple(c.name for r in regions for c in r.countries),
    )
    _nonnegative(rate, rate_table.join("value"), rate_table)
    factors.add(rate, rate_table)
    if rate_kind == "incidence":
        if not rate_table.has("duration"):
            raise rate_table.error(
                f"{rate_table.key}: an incidence needs duration (mean years a patient lives "
                "with the disease: cases = incidence x duration)",
                rate_table.join("duration"),
            )
        duration = _factor(
            rate_table,
            "duration",
            "duration",
            "cases",
            "years",
            1.0,
            (),
            "funnel.rate",
            "duration_trend",
        )
        _nonnegative(duration, rate_table.join("duration"), rate_table)
        factors.add(duration, rate_table)
    elif rate_table.has("duration"):
        raise rate_table.error(
            f"{rate_table.key}: a prevalence already counts everyone with the disease; "
            "duration belongs to an incidence",
            rate_table.join("duration"),
        )
    rate_table.finish()
    return rate_kind, rate_per


def _stages(
    stages_table: Reader, regions: tuple[Region, ...], factors: _Factors
) -> tuple[list[str], list[str]]:
    """``[funnel.stages]``: each stage's share into ``factors``; returns the stage names
    and labels, ``cases`` first."""
    stages, stage_labels = [CASES_STAGE], ["with the disease"]
    first = {folded(CASES_STAGE): (CASES_STAGE, "the first stage")}
    stages_table.apart(stages_table.data, "stage", first)
    for stage_name, value in stages_table.items():
        stages_table.name(stage_name, "stage", label_problem)
        if stage_name == CASES_STAGE:
            raise stages_table.error(
                f"stage name {CASES_STAGE!r} is taken: it is the first stage, the people with "
                "the disease",
                stages_table.join(stage_name),
            )
        table = stages_table.child(stage_name, value)
        stage_labels.append(table.string("label", stage_name))
        stage = _factor(
            table,
            "share",
            f"stages.{stage_name}",
            "stage",
            "%",
            0.01,
            tuple(r.name for r in regions),
            f"funnel.stages.{stage_name}",
            countries=tuple(c.name for r in regions for c in r.countries),
        )
        _share_within(stage, table.join("share"), table, regions)
        factors.add(stage, table)
        table.finish()
        stages.append(stage_name)
    if len(stages) < 2:
        raise stages_table.error(
            f"{stages_table.key} lists no stage: give at least one (the last is the treated "
            "patients)"
        )
    return stages, stage_labels


def _splits(
    splits_table: Reader, regions: tuple[Region, ...], axes: tuple[Axis, ...], factors: _Factors
) -> tuple[str, ...]:
    """``[funnel.split]``: each axis's shares into ``factors`` (grouped in the scenario's
    axis order); returns the split axes, in that order."""
    axis_by_name = {a.name: a for a in axes}
    split_axes: list[str] = []
    for axis_name, value in splits_table.items():
        if axis_name not in axis_by_name:
            raise splits_table.error(
                f"{splits_table.join(axis_name)}: {axis_name!r} is not an axis of the scenario "
                f"({', '.join(axis_by_name)})",
                splits_table.join(axis_name),
            )
        _split(splits_table.child(axis_name, value), axis_by_name[axis_name], factors, regions)
        split_axes.append(axis_name)
    splits = tuple(a.name for a in axes if a.name in split_axes)  # the scenario's order
    factors.factors = _in_axis_order(factors.factors, splits)
    return splits


def _cost(
    cost: Reader, axes: tuple[Axis, ...], splits: tuple[str, ...], factors: _Factors
) -> tuple[str | None, str, float]:
    """``[funnel.cost]`` (but its price index): the doses and prices into ``factors``;
    returns the cost axis (or None), the price unit and the price units per market unit."""
    axis_by_name = {a.name: a for a in axes}
    cost_axis = cost.string("axis", None) if cost.has("axis") else None
    price_unit = cost.string("price_unit")
    per_market_unit = cost.number("per_market_unit", positive=True)
    cost.source()
    if cost_axis is None:
        _costs(cost, "cost", factors, per_market_unit, price_unit, "funnel.cost")
        return cost_axis, price_unit, per_market_unit
    if cost_axis not in splits:
        raise cost.error(
            f"{cost.join('axis')}={cost_axis!r} must be an axis the funnel splits the "
            f"treated patients over ({', '.join(splits) or 'none'})",
            cost.join("axis"),
        )
    segments_table = cost.table("segments")
    for segment_name in _every_segment(segments_table, axis_by_name[cost_axis], "cost"):
        table = segments_table.child(segment_name, segments_table.raw(segment_name))
        _costs(
            table,
            f"cost.{segment_name}",
            factors,
            per_market_unit,
            price_unit,
            f"funnel.cost.segments.{segment_name}",
            (cost_axis, segment_name),
        )
        table.finish()
    segments_table.finish()
    return cost_axis, price_unit, per_market_unit


def _population(table: Reader, regions: tuple[Region, ...]) -> dict[str, float]:
    table.source()
    countries = [c.name for r in regions for c in r.countries]
    given = {}
    for key, value in table.items():
        if key == "source":
            continue
        if key not in countries:
            raise table.error(
                f"{table.join(key)}: {key!r} is not a country of the scenario", table.join(key)
            )
        given[key] = table.check_number(
            value, table.join(key), positive=True, maximum=MAX_POPULATION
        )
    missing = [c for c in countries if c not in given]
    if missing:
        raise table.error(f"{table.key} gives no population for {missing[0]!r}", table.key)
    return {c: given[c] for c in countries}


def _per_country(
    table: Reader,
    regions: tuple[Region, ...],
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    source: bool = False,
) -> dict[str, float]:
    """A value per country from keys that name a region (for all its countries) or a
    country (for itself, over its region's); every country must get one."""
    if source:
        table.source()
    region_names = {r.name for r in regions}
    country_names = {c.name for r in regions for c in r.countries}
    given = {}
    for key, value in table.items():
        if key == "source":
            continue
        if key not in region_names and key not in country_names:
            raise table.error(
                f"{table.join(key)}: {key!r} is neither a region nor a country of the scenario",
                table.join(key),
            )
        given[key] = table.check_number(value, table.join(key), minimum=minimum, maximum=maximum)
    out = {}
    for region in regions:
        for country in region.countries:
            value = given.get(country.name, given.get(region.name))
            if value is None:
                raise table.error(
                    f"{table.key} gives no value for {country.name!r} (nor for its region "
                    f"{region.name!r})",
                    table.key,
                )
            out[country.name] = value
    return out


def _multipliers(reader: Reader, key: str, names: tuple[str, ...], what: str) -> dict[str, float]:
    """``<key> = {<name> = multiplier, source}`` (``by_region`` or ``by_country``): the
    multiplier of each name the table gives; ``what`` says what a name must be."""
    table = reader.table(key)
    table.source()
    given = {}
    for name, value in table.items():
        if name == "source":
            continue
        if name not in names:
            raise table.error(f"{table.join(name)}: {name!r} is not {what}", table.join(name))
        given[name] = table.check_number(value, table.join(name), minimum=0.0, maximum=1e6)
    return given


def _region_multipliers(reader: Reader, regions: tuple[str, ...]) -> dict[str, float]:
    """``by_region = {<region> = multiplier, source}``: 1 where a region is not named."""
    if not reader.has("by_region"):
        return {r: 1.0 for r in regions}
    given = _multipliers(reader, "by_region", regions, f"a region ({', '.join(regions)})")
    return {r: given.get(r, 1.0) for r in regions}


def _country_multipliers(reader: Reader, countries: tuple[str, ...]) -> dict[str, float]:
    """``by_country = {<country> = multiplier, source}``: each named country's multiplier
    over its region's value (the countries not named keep their region's)."""
    if not reader.has("by_country"):
        return {}
    given = _multipliers(reader, "by_country", countries, "a country of the scenario")
    if not given:
        raise reader.error(f"{reader.join('by_country')} names no country")
    return given


def _trend(reader: Reader, key: str) -> float:
    """A relative trend in percent a year (``{value, source}``), as a fraction; 0 if absent."""
    if not reader.has(key):
        return 0.0
    return reader.table(key).fields(TABLES["trend"])["value"] / 100.0


def _factor(
    reader: Reader,
    key: str,
    name: str,
    kind: str,
    unit: str,
    scale: float,
    regions: tuple[str, ...],
    path: str,
    trend_key: str = "trend",
    countries: tuple[str, ...] = (),
) -> FunnelFactor:
    """One factor: ``reader[key]`` (fixed or a distribution), its trend, its region
    multipliers (when ``regions`` is given) and its country multipliers (when
    ``countries`` is). Its parameter is named by its key path in the file,
    ``<path>.<key>`` (``path`` written without quotes)."""
    parameter = read_value_or_distribution(reader, key, f"{path}.{key}", unit, f"funnel.{name}")
    trend = _trend(reader, trend_key)
    by_region = _region_multipliers(reader, regions) if regions else {}
    by_country = _country_multipliers(reader, countries) if countries else {}
    return FunnelFactor(name, kind, name, parameter, scale, trend, by_region, by_country=by_country)


def _nonnegative(factor: FunnelFactor, key: str, reader: Reader, positive: bool = True) -> None:
    low, _ = factor.parameter.distribution.support
    point = factor.parameter.distribution.point
    if not low >= 0:
        raise reader.error(
            f"{key}: its values reach {low:.6g}; a count, rate or price cannot be negative", key
        )
    if positive and not point > 0:
        raise reader.error(f"{key}: its point value {point:.6g} must be > 0", key)


def _share_within(
    factor: FunnelFactor, key: str, reader: Reader, regions: tuple[Region, ...]
) -> None:
    """A stage's share stays within 0-100 %, also times its region and country
    multipliers (the kernel would cap it at 100 % in silence)."""
    low, high = factor.parameter.distribution.support
    if not (low >= 0.0 and high <= 100.0):
        raise reader.error(
            f"{key}: its values reach [{low:.6g}, {high:.6g}] %; a share lies within 0-100 %",
            key,
        )
    for region in regions:
        region_multiplier = factor.by_region[region.name]
        if high * region_multiplier > 100.0 + SHARE_TOLERANCE:
            raise reader.error(
                f"{key}: up to {high:.6g} % x by_region {region.name!r} = "
                f"{region_multiplier:g} gives {high * region_multiplier:.6g} %, over 100 %",
                key,
            )
        for country in region.countries:
            multiplier = region_multiplier * factor.by_country.get(country.name, 1.0)
            if high * multiplier > 100.0 + SHARE_TOLERANCE:
                raise reader.error(
                    f"{key}: up to {high:.6g} % x by_region {region.name!r} x by_country "
                    f"{country.name!r} = {multiplier:g} gives {high * multiplier:.6g} %, "
                    "over 100 %",
                    key,
                )


def _split(reader: Reader, axis: Axis, factors: _Factors, regions: tuple[Region, ...]) -> None:
    """``[funnel.split.<axis>]``: each segment's share of the treated patients (percent;
    a number, or a table with ``share`` and an optional ``trend`` and ``by_region``)."""
    reader.source(required=False)
    region_names = tuple(r.name for r in regions)
    points = {}
    for segment_name in _every_segment(reader, axis, "share"):
        value = reader.raw(segment_name)
        name = f"split.{axis.name}.{segment_name}"
        key = reader.join(segment_name)
        if isinstance(value, dict):
            table = reader.child(segment_name, value)
            path = f"funnel.split.{axis.name}.{segment_name}"
            factor = _factor(table, "share", name, "split", "%", 0.01, region_names, path)
            table.finish()
            key = table.join("share")
        else:
            share = reader.check_number(value, key, minimum=0.0, maximum=100.0)
            if not reader.has("source"):
                raise reader.error(f"{key} has no source: add one to {reader.key}", key)
            source = reader.data["source"]
            parameter = fixed_parameter(
                f"funnel.split.{axis.name}.{segment_name}", share, "%", source, f"funnel.{name}"
            )
            factor = FunnelFactor(name, "split", name, parameter, 0.01, 0.0, {})
        factor = replace(
            factor,
            by_region=factor.by_region or {r: 1.0 for r in region_names},
            axis=axis.name,
            segment=segment_name,
        )
        low, high = factor.parameter.distribution.support
        if not (low >= 0.0 and high <= 100.0):
            raise reader.error(
                f"{key}: its values reach [{low:.6g}, {high:.6g}] %; a share lies within 0-100 %",
                key,
            )
        points[segment_name] = factor.parameter.distribution.point
        factors.add(factor, reader)
    total = sum(points.values())
    if abs(total - 100.0) > SHARE_TOLERANCE:
        listed = ", ".join(f"{k}={v:g}" for k, v in points.items())
        raise reader.error(
            f"{reader.key}: the shares' points must sum to 100 %, got {total:.6g} % ({listed})"
        )


def _every_segment(reader: Reader, axis: Axis, what: str) -> tuple[str, ...]:
    """The segments of ``axis``, each of which ``reader`` must name (besides its
    ``source``), and no other."""
    for segment_name, _value in reader.items():
        if segment_name != "source" and segment_name not in axis.segment_names:
            raise reader.error(
                f"{reader.join(segment_name)}: {segment_name!r} is not a segment of "
                f"{axis.name} ({', '.join(axis.segment_names)})",
                reader.join(segment_name),
            )
    for segment_name in axis.segment_names:
        if not reader.has(segment_name):
            raise reader.error(
                f"{reader.key} gives no {what} for segment {segment_name!r} of {axis.name}",
                reader.join(segment_name),
            )
    return axis.segment_names


def _in_axis_order(factors: list[FunnelFactor], splits: tuple[str, ...]) -> list[FunnelFactor]:
    """Split factors grouped in the scenario's axis order (the file may list them in any)."""
    others = [f for f in factors if f.kind != "split"]
    grouped = [f for axis in splits for f in factors if f.kind == "split" and f.axis == axis]
    return others + grouped


def _costs(
    reader: Reader,
    prefix: str,
    factors: _Factors,
    per_market_unit: float,
    price_unit: str,
    path: str,
    segment: tuple[str, str] | None = None,
) -> None:
    """``doses_per_year`` and ``price_per_dose``, or ``cost_per_year`` (one factor as the
    price, with one dose a year); ``segment`` the (axis, segment) they cost, if any."""
    price_scale = 1.0 / per_market_unit
    has_cost = reader.has("cost_per_year")
    has_doses = reader.has("doses_per_year") or reader.has("price_per_dose")
    if has_cost == has_doses:
        raise reader.error(
            f"{reader.key} needs either doses_per_year and price_per_dose, or cost_per_year",
            reader.key,
        )
    if has_cost:
        doses = None
        price = _factor(
            reader,
            "cost_per_year",
            f"{prefix}.cost_per_year",
            "cost",
            f"{price_unit} a year",
            price_scale,
            (),
            path,
            "price_trend",
        )
    else:
        doses = _factor(
            reader,
            "doses_per_year",
            f"{prefix}.doses_per_year",
            "cost",
            "doses a year",
            1.0,
            (),
            path,
            "doses_trend",
        )
        price = _factor(
            reader,
            "price_per_dose",
            f"{prefix}.price_per_dose",
            "cost",
            f"{price_unit} a dose",
            price_scale,
            (),
            path,
            "price_trend",
        )
    if doses is None:
        name = f"{prefix}.doses_per_year"
        parameter = fixed_parameter(
            f"{path}.doses_per_year",
            1.0,
            "doses a year",
            "assumption: a cost per patient-year counts as one dose a year",
            f"funnel.{name}",
        )
        doses = FunnelFactor(name, "cost", name, parameter, 1.0, 0.0, {})
    price_key = "cost_per_year" if has_cost else "price_per_dose"
    axis, segment_name = segment or (None, None)
    for factor, key in ((doses, "doses_per_year"), (price, price_key)):
        _nonnegative(factor, reader.join(key), reader)
        factors.add(replace(factor, axis=axis, segment=segment_name), reader)


def _range(table: Reader, scale: float, maximum: float | None = None) -> tuple[float, float]:
    low = table.number("low", minimum=0.0, maximum=maximum)
    high = table.number("high", minimum=0.0, maximum=maximum)
    table.source()
    table.finish()
    if not low < high:
        raise table.error(f"{table.key}: low={low:g} must be below high={high:g}", table.key)
    return low * scale, high * scale


def funnel_weights(
    reader: Reader, factor_names: tuple[str, ...] | None, max_weight: float
) -> dict[str, float]:
    """A driver's or event's ``funnel = {<factor> = weight, source}``."""
    noun = ("funnel factor", "factors", "[funnel] table")
    return read_weights(reader, "funnel", factor_names, noun, max_weight)


def without_funnel(document: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario document with its patient funnel, and every driver's and event's action
    on it, taken out: the top-down model alone (e.g. to measure or pin it)."""
    document = copy.deepcopy(dict(document))
    document.pop("funnel", None)
    for group in ("drivers", "restraints", "events"):
        for table in document.get(group, {}).values():
            if isinstance(table, dict):
                table.pop("funnel", None)
                table.pop("acts_on_growth", None)
    return document


def split_segments(funnel: Funnel, axis: str) -> tuple[str, ...]:
    """The segments of a split axis, in the order of its factors (the axis's order)."""
    return tuple(f.segment for f in funnel.factors if f.kind == "split" and f.axis == axis)
