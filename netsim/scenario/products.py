"""Reading a scenario's products, their valuation inputs and the reference classes of
launch-forecast error (``[products.<id>]``, ``[valuation]``, ``[forecast_errors.<name>]``;
docs/config.md, "Products").

Read by :func:`netsim.scenario.parse.parse_scenario` through a
:class:`~netsim.scenario.documents.Reader`, so every broken rule names its file and key path.
Every figure is a parameter with its source (a distribution, or ``{value, source}`` for a
fixed one); the sampled ones are keyed by their names, so adding a product changes no other
parameter's draws.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from netsim.scenario.distributions import MAX_MAGNITUDE, make_distribution
from netsim.scenario.documents import Reader, read_weights
from netsim.scenario.limits import EARLIEST_YEAR, LATEST_YEAR
from netsim.scenario.names import label_problem
from netsim.scenario.parameters import read_parameter, read_value_or_distribution
from netsim.scenario.parts import read_segment_pairs
from netsim.scenario.product_types import (
    CURVES,
    VALUATION_KEYS,
    LossOfExclusivity,
    OrderOfEntry,
    Phase,
    Product,
    Uptake,
    Valuation,
)
from netsim.scenario.schema import Axis, Parameter

__all__ = [
    "PRODUCT_DIMENSIONS",
    "product_weights",
    "read_forecast_errors",
    "read_product_tables",
    "read_products",
    "read_valuation",
    "without_products",
]

# the dimensions and variables products add to a run: no axis of a scenario with products
# may take these names
PRODUCT_DIMENSIONS = ("product", "company", "other_products")
MAX_PRICE = 1e3  # x the segment's average price: a larger one is a unit slip
MAX_YEARS_TO_PEAK = 60.0
MAX_CURVE_COEFFICIENT = 1e3
# a logistic's steepness k and a Bass curve's innovation p below these are straight lines to
# the peak in all but rounding, and the curves' arithmetic (s(k/2) - s(-k/2) ~ k/4, or
# 1 - e^-px ~ px, each a difference of numbers near 1) loses every digit to it: k = 1e-300
# divided by zero and p = 1e-300 with q = 0 gave 0/0 in every draw that sells
MIN_STEEPNESS = 0.01
MIN_INNOVATION = 1e-4
MAX_WEIGHT = 1e3  # a driver's or event's weight on a product, per unit of its impact


def _check_support(
    reader: Reader,
    key: str,
    parameter: Parameter,
    low: float | None,
    high: float | None,
    what: str,
    *,
    open_low: bool = False,
) -> None:
    """Refuse a parameter whose draws can leave ``[low, high]`` (``(low, high]`` with
    ``open_low``), naming its key path and its support."""
    lowest, highest = parameter.distribution.support
    below = low is not None and (lowest <= low if open_low else lowest < low)
    above = high is not None and highest > high
    if below or above:
        bound = f"> {low:g}" if open_low else f">= {low:g}" if low is not None else ""
        rule = " and ".join(r for r in (bound, "" if high is None else f"<= {high:g}") if r)
        raise reader.error(
            f"{reader.join(key)}: its draws lie in [{lowest:g}, {highest:g}]; {what} must be "
            f"{rule}",
            reader.join(key),
        )


def _amount(
    reader: Reader,
    key: str,
    owner: str,
    unit: str,
    low: float | None,
    high: float | None,
    what: str,
    *,
    open_low: bool = False,
    prefix: str | None = None,
) -> Parameter:
    """``reader[key]`` as a parameter named ``<prefix>.<key>`` (``prefix`` defaults to
    ``owner``), a distribution or ``{value, source}``, whose draws stay within
    ``[low, high]``."""
    name = f"{prefix or owner}.{key}"
    parameter = read_value_or_distribution(reader, key, name, unit, owner)
    _check_support(reader, key, parameter, low, high, what, open_low=open_low)
    return parameter


def _fixed_number(
    reader: Reader, key: str, low: float, high: float, *, inclusive: bool = False
) -> float:
    """``reader[key]`` as ``{value, source}``, a fixed figure in ``(low, high]`` (``[low,
    high]`` with ``inclusive``)."""
    table = reader.table(key)
    value = table.number("value", maximum=high)
    if value < low or (value == low and not inclusive):
        rule = f">= {low:g}" if inclusive else f"> {low:g}"
        raise table.error(f"{table.join('value')}={value:g} must be {rule}", table.key)
    table.source()
    table.finish()
    return value


def read_forecast_errors(reader: Reader | None) -> dict[str, dict[str, Any]]:
    """The ``[forecast_errors.<name>]`` tables: each a lognormal of actual / forecast peak
    sales, with its source. Returned as tables by name: each product that names one reads
    it into a parameter of its own (its own draws)."""
    classes: dict[str, dict[str, Any]] = {}
    if reader is None:
        return classes
    reader.apart(reader.data, "forecast error class")
    for name, value in reader.items():
        reader.name(name, "forecast error class", label_problem)
        table = reader.child(name, value)
        if table.data.get("dist") != "lognormal":
            raise table.error(
                f"{table.join('dist')} must be 'lognormal' (of actual / forecast peak sales)",
                table.join("dist"),
            )
        # read here once, so a broken class is refused even when no product names it
        parameter = read_parameter(reader, name, f"forecast_errors.{name}", "x", "forecast_errors")
        # a peak share times its draw stays finite only while the draws do (a log-sd of
        # 1,000 overflowed to inf, and the run stopped on it, naming no key)
        with np.errstate(over="ignore"):  # an overflowing end is inf, and refused as such
            what = "a multiplier of a peak share"
            _check_support(reader, name, parameter, None, MAX_MAGNITUDE, what)
        classes[name] = table.data
    return classes


def read_valuation(reader: Reader | None, owner: str) -> dict[str, Parameter]:
    """A ``valuation`` table's inputs by key (any of :data:`VALUATION_KEYS`), percent or
    percent a year, each with its source."""
    if reader is None:
        return {}
    found: dict[str, Parameter] = {}
    bounds = {
        "discount_rate": (-100.0, 1000.0, True),
        "tax_rate": (0.0, 100.0, False),
        "margin": (-1000.0, 100.0, False),
        "terminal_growth": (-100.0, 1000.0, True),
    }
    for key in VALUATION_KEYS:
        if reader.has(key):
            low, high, open_low = bounds[key]
            unit = "% a year" if key in ("discount_rate", "terminal_growth") else "%"
            found[key] = _amount(reader, key, owner, unit, low, high, key, open_low=open_low)
    reader.finish()
    if not found:
        raise reader.error(f"{reader.key} gives none of {', '.join(VALUATION_KEYS)}")
    return found


def _complete_valuation(
    reader: Reader, own: Mapping[str, Parameter], shared: Mapping[str, Parameter]
) -> Valuation | None:
    """A product's valuation: its own inputs, the others from ``[valuation]``; None when
    neither gives any."""
    merged = {**shared, **own}
    if not merged:
        return None
    missing = [k for k in VALUATION_KEYS[:3] if k not in merged]
    if missing:
        raise reader.error(
            f"{reader.key}: {', '.join(missing)} given neither in its valuation nor in [valuation]",
            reader.join("valuation"),
        )
    growth = merged.get("terminal_growth")
    if (
        growth is not None
        and growth.distribution.support[1] >= (merged["discount_rate"].distribution.support[0])
    ):
        raise reader.error(
            f"{reader.key}: terminal_growth can reach {growth.distribution.support[1]:g} % "
            f"and the discount rate fall to {merged['discount_rate'].distribution.support[0]:g} "
            "%: a terminal value needs growth below the discount rate in every draw",
            reader.join("valuation"),
        )
    return Valuation(
        merged["discount_rate"], merged["tax_rate"], merged["margin"], merged.get("terminal_growth")
    )


def _segments(reader: Reader, axes: tuple[Axis, ...]) -> tuple[str, tuple[str, ...]]:
    """A product's ``segment`` or ``segments``: its axis and segments."""
    pairs = read_segment_pairs(reader, axes, "a product's segments share one axis")
    return pairs[0][0], tuple(name for _, name in pairs)


def _regions(reader: Reader, regions: tuple[str, ...]) -> tuple[str, ...]:
    """A product's ``regions = [...]``: where it sells (every region when not given)."""
    if not reader.has("regions"):
        return ()
    key = reader.join("regions")
    listed = reader.raw("regions")
    if not isinstance(listed, list) or not listed or not all(isinstance(r, str) for r in listed):
        raise reader.error(f"{key} must list at least one region", key)
    for name in listed:
        if name not in regions:
            raise reader.error(f"{key}: {name!r} is not a region ({', '.join(regions)})", key)
    if len(set(listed)) != len(listed):
        raise reader.error(f"{key} names a region twice", key)
    return tuple(listed)


def _region_offsets(reader: Reader, key: str, regions: tuple[str, ...]) -> dict[str, float]:
    """``{<region> = years, source}``: years added in the named regions (0 elsewhere)."""
    table = reader.table(key, None)
    if table is None:
        return {}
    table.source()
    offsets: dict[str, float] = {}
    for name, value in table.items():
        if name == "source":
            continue
        if name not in regions:
            raise table.error(
                f"{table.join(name)}: {name!r} is not a region ({', '.join(regions)})",
                table.join(name),
            )
        offsets[name] = table.check_number(value, table.join(name), minimum=-60.0, maximum=60.0)
    return offsets


def _phases(reader: Reader, owner: str, years: tuple[int, ...]) -> tuple[Phase, ...]:
    """A launching product's ``[products.<id>.phases.<name>]``, in file order."""
    table = reader.table("phases", None)
    if table is None:
        return ()
    table.apart(table.data, "phase")
    phases: list[Phase] = []
    for name, value in table.items():
        table.name(name, "phase", label_problem)
        phase = table.child(name, value)
        probability = phase.table("probability")
        p = probability.number("value", minimum=0.0, maximum=1.0)
        probability_source = probability.source()
        probability.finish()
        prefix = f"{owner}.phases.{name}"
        success = Parameter(
            prefix, make_distribution("bernoulli", {"p": p}), probability_source, "0/1", owner
        )
        cost = _amount(phase, "cost", owner, "market unit", 0.0, None, "a cost", prefix=prefix)
        spread = phase.raw("years")
        key = phase.join("years")
        if not (isinstance(spread, list) and len(spread) == 2):
            raise phase.error(f"{key} must be [first year, last year] of its cost", key)
        first, last = (int(phase.check_number(y, key, integer=True)) for y in spread)
        if not years[0] <= first <= last <= years[-1]:
            raise phase.error(
                f"{key}={spread} must lie within the scenario's years {years[0]}-{years[-1]} "
                "(costs before the base year are sunk: leave them out)",
                key,
            )
        phase.source()
        phase.finish()
        phases.append(Phase(name, success, cost, tuple(range(first, last + 1))))
    if not phases:
        raise table.error(f"{table.key} names no phase")
    return tuple(phases)


def _uptake(reader: Reader, owner: str) -> Uptake:
    """A launching product's ``uptake``: its curve to the peak share."""
    table = reader.table("uptake")
    curve = table.string("curve")
    if curve not in CURVES:
        raise table.error(f"{table.join('curve')}={curve!r} must be one of {', '.join(CURVES)}")
    prefix = f"{owner}.uptake"
    peak = _amount(table, "peak", owner, "%", 0.0, 100.0, "a share, in %,", prefix=prefix)
    years = _amount(
        table,
        "years_to_peak",
        owner,
        "years",
        0.0,
        MAX_YEARS_TO_PEAK,
        "years to peak",
        open_low=True,
        prefix=prefix,
    )
    if curve == "logistic":
        steepness = _fixed_number(
            table, "steepness", MIN_STEEPNESS, MAX_CURVE_COEFFICIENT, inclusive=True
        )
        table.finish()
        return Uptake(curve, peak, years, steepness=steepness)
    innovation = _fixed_number(
        table, "innovation", MIN_INNOVATION, MAX_CURVE_COEFFICIENT, inclusive=True
    )
    imitation = _fixed_number(table, "imitation", -1e-300, MAX_CURVE_COEFFICIENT)
    table.finish()
    return Uptake(curve, peak, years, innovation=innovation, imitation=imitation)


def _loss_of_exclusivity(
    reader: Reader, owner: str, regions: tuple[str, ...]
) -> LossOfExclusivity | None:
    table = reader.table("loss_of_exclusivity", None)
    if table is None:
        return None
    prefix = f"{owner}.loss_of_exclusivity"
    year = _amount(
        table, "year", owner, "year", EARLIEST_YEAR, LATEST_YEAR, "a year", prefix=prefix
    )
    floor = _amount(table, "floor", owner, "%", 0.0, 100.0, "a share kept, in %,", prefix=prefix)
    half_life = _amount(
        table,
        "half_life",
        owner,
        "years",
        0.0,
        MAX_YEARS_TO_PEAK,
        "a half-life",
        open_low=True,
        prefix=prefix,
    )
    offsets = _region_offsets(table, "offsets", regions)
    table.finish()
    return LossOfExclusivity(year, floor, half_life, offsets)


def _order_of_entry(reader: Reader, kind: str) -> OrderOfEntry | None:
    table = reader.table("order_of_entry", None)
    if table is None:
        return None
    group = table.string("class")
    exponent = 0.0
    if kind == "launch":
        exponent = table.number("exponent", minimum=0.0, maximum=10.0)
    table.source(required=kind == "launch")
    table.finish()
    return OrderOfEntry(group, exponent)


def _kind(reader: Reader) -> str:
    given = [k for k in ("share", "launch", "generic_of") if reader.has(k)]
    if len(given) != 1:
        both = f", not {' and '.join(given)}" if given else ""
        raise reader.error(
            f"{reader.key} needs exactly one of share (in market now), launch (launching) or "
            f"generic_of (a generic){both}",
            reader.key,
        )
    return {"share": "market", "launch": "launch", "generic_of": "generic"}[given[0]]


_ONLY = {  # keys a kind of product takes beyond label, company, segment(s), price, valuation
    "market": ("share", "trend", "loss_of_exclusivity", "order_of_entry"),
    "launch": (
        "launch",
        "launch_offsets",
        "phases",
        "launch_cost",
        "uptake",
        "loss_of_exclusivity",
        "order_of_entry",
        "forecast_error",
    ),
    "generic": ("generic_of", "capture"),
}


def _read_product(
    reader: Reader,
    product_id: str,
    axes: tuple[Axis, ...],
    regions: tuple[str, ...],
    years: tuple[int, ...],
    forecast_errors: Mapping[str, Any],
    shared_valuation: Mapping[str, Parameter],
) -> Product:
    owner = f"products.{product_id}"
    kind = _kind(reader)
    for other, keys in _ONLY.items():
        for key in keys:
            if other != kind and key not in _ONLY[kind] and reader.has(key):
                raise reader.error(
                    f"{reader.join(key)}: a product {_KIND_WORDS[kind]} takes no {key}",
                    reader.join(key),
                )
    label = reader.string("label", product_id)
    company = reader.string("company")
    problem = label_problem(company)
    if problem:
        raise reader.error(
            f"{reader.join('company')}={company!r} {problem}", reader.join("company")
        )
    axis, segments = _segments(reader, axes)
    fields: dict[str, Any] = {"id": product_id, "label": label, "company": company}
    fields.update({"kind": kind, "axis": axis, "segments": segments})
    fields["regions"] = _regions(reader, regions)
    if reader.has("price"):
        fields["price"] = _amount(
            reader,
            "price",
            owner,
            "x",
            0.0,
            MAX_PRICE,
            "a price relative to the segment's",
            open_low=True,
        )
    if kind == "market":
        fields["share"] = _amount(reader, "share", owner, "%", 0.0, 100.0, "a share, in %,")
        if reader.has("trend"):
            fields["trend"] = _amount(
                reader, "trend", owner, "% a year", -100.0, 1000.0, "a trend", open_low=True
            )
    elif kind == "launch":
        fields.update(_launching(reader, owner, regions, years, forecast_errors))
    else:
        fields["generic_of"] = reader.string("generic_of")
        fields["capture"] = _amount(reader, "capture", owner, "%", 0.0, 100.0, "a capture, in %,")
    if kind != "generic":
        fields["loss_of_exclusivity"] = _loss_of_exclusivity(reader, owner, regions)
        fields["order_of_entry"] = _order_of_entry(reader, kind)
    own = read_valuation(reader.table("valuation", None), f"{owner}.valuation")
    own = {k: Parameter(p.name, p.distribution, p.source, p.unit, owner) for k, p in own.items()}
    fields["valuation"] = _complete_valuation(reader, own, shared_valuation)
    reader.finish()
    return Product(**fields)


_KIND_WORDS = {"market": "in market", "launch": "launching", "generic": "that is a generic"}


def _launching(
    reader: Reader,
    owner: str,
    regions: tuple[str, ...],
    years: tuple[int, ...],
    forecast_errors: Mapping[str, Any],
) -> dict[str, Any]:
    """What a launching product adds: its launch, phases, cost and uptake."""
    found: dict[str, Any] = {
        "launch": _amount(reader, "launch", owner, "year", EARLIEST_YEAR, LATEST_YEAR, "a year"),
        "launch_offsets": _region_offsets(reader, "launch_offsets", regions),
        "phases": _phases(reader, owner, years),
        "uptake": _uptake(reader, owner),
    }
    _check_phases_end_by_launch(reader, found["launch"], found["launch_offsets"], found["phases"])
    if reader.has("launch_cost"):
        found["launch_cost"] = _amount(
            reader, "launch_cost", owner, "market unit", 0.0, None, "a cost"
        )
    if reader.has("forecast_error"):
        name = reader.string("forecast_error")
        if name not in forecast_errors:
            listed = ", ".join(forecast_errors) or "none"
            raise reader.error(
                f"{reader.join('forecast_error')}={name!r} is not a [forecast_errors] class "
                f"(the scenario's: {listed})",
                reader.join("forecast_error"),
            )
        classes = Reader({name: forecast_errors[name]}, reader.path, "forecast_errors")
        found["forecast_error"] = read_parameter(
            classes, name, f"{owner}.forecast_error", "x", owner
        )
        found["forecast_error_class"] = name
    return found


def _check_phases_end_by_launch(
    reader: Reader, launch: Parameter, offsets: Mapping[str, float], phases: tuple[Phase, ...]
) -> None:
    """Refuse a phase whose years run past the year of the product's earliest possible
    launch (in any region): approval is decided before it sells, else a draw failing the
    phase would lose the sales it made before the phase ended."""
    earliest = launch.distribution.support[0] + min([0.0, *offsets.values()])
    first_year = int(np.floor(earliest))
    for phase in phases:
        if phase.years[-1] > first_year:
            key = f"{reader.join('phases')}.{phase.name}.years"
            raise reader.error(
                f"{key}=[{phase.years[0]}, {phase.years[-1]}] ends after {first_year}, the "
                f"year of the earliest launch ({earliest:g}): every phase decides approval "
                "before the product sells",
                key,
            )


def read_products(
    reader: Reader | None,
    axes: tuple[Axis, ...],
    regions: tuple[str, ...],
    years: tuple[int, ...],
    forecast_errors: Mapping[str, Any],
    shared_valuation: Mapping[str, Parameter],
) -> tuple[Product, ...]:
    """The ``[products.<id>]`` tables, in file order, each checked (docs/config.md,
    "Products"), and the rules between them: one axis for all, a generic's originator in
    market or launching with a loss of exclusivity and the same segments, no axis named
    as the products' own dimensions."""
    if reader is None:
        return ()
    reader.apart(reader.data, "product")
    products: list[Product] = []
    for product_id, value in reader.items():
        reader.name(product_id, "product", label_problem)
        products.append(
            _read_product(
                reader.child(product_id, value),
                product_id,
                axes,
                regions,
                years,
                forecast_errors,
                shared_valuation,
            )
        )
    if not products:
        raise reader.error(f"{reader.key} lists no product")
    _check_between(reader, products, axes)
    return tuple(products)


def _check_between(reader: Reader, products: list[Product], axes: tuple[Axis, ...]) -> None:
    taken = [a.name for a in axes if a.name in PRODUCT_DIMENSIONS]
    if taken:
        raise reader.error(
            f"axes.{taken[0]}: with products, {', '.join(PRODUCT_DIMENSIONS)} name the "
            "products' own dimensions and outputs; rename the axis",
            f"axes.{taken[0]}",
        )
    first = products[0]
    by_id = {p.id: p for p in products}
    companies: dict[str, str] = {}
    for product in products:
        key = reader.join(product.id)
        if product.axis != first.axis:
            raise reader.error(
                f"{key}: its segments are on {product.axis}, {first.id}'s on {first.axis}: "
                "every product sells in segments of one axis (products on two axes would "
                "split the market twice in a company's sum)",
                key,
            )
        folded = product.company.casefold()
        if companies.setdefault(folded, product.company) != product.company:
            raise reader.error(
                f"{key}.company={product.company!r} differs from {companies[folded]!r} only by "
                "case: one company, written one way",
                f"{key}.company",
            )
        if product.kind != "generic":
            continue
        originator = by_id.get(product.generic_of)
        if originator is None or originator.kind == "generic":
            raise reader.error(
                f"{key}.generic_of={product.generic_of!r} is not a product in market or launching",
                f"{key}.generic_of",
            )
        if originator.loss_of_exclusivity is None:
            raise reader.error(
                f"{key}.generic_of={product.generic_of!r}: that product has no "
                "loss_of_exclusivity for a generic to take a share of",
                f"{key}.generic_of",
            )
        if product.segments != originator.segments:
            raise reader.error(
                f"{key}: a generic sells in its originator's segments "
                f"({', '.join(originator.segments)})",
                key,
            )
    _check_captures(reader, products)
    _check_base_shares(reader, products)


def _check_base_shares(reader: Reader, products: list[Product]) -> None:
    """Refuse products in market whose base-year shares of one segment can sum past
    100 % in a draw: the run would scale them down together, so the shares it starts
    from would not be the ones the file gives."""
    by_segment: dict[str, list[Product]] = {}
    for product in products:
        if product.kind == "market" and product.share is not None:
            for segment in product.segments:
                by_segment.setdefault(segment, []).append(product)
    for segment, holders in by_segment.items():
        highest = sum(p.share.distribution.support[1] for p in holders)
        if len(holders) > 1 and highest > 100.0:
            ids = ", ".join(p.id for p in holders)
            key = f"{reader.join(holders[-1].id)}.share"
            raise reader.error(
                f"{key}: the products in market in segment {segment!r} ({ids}) can hold "
                f"{highest:g} % of its patients in the base year; together at most 100 %",
                key,
            )


def _check_captures(reader: Reader, products: list[Product]) -> None:
    """Refuse generics of one originator whose captures can sum past 100 % of what it
    loses in a draw (they would hold patients that nobody lost)."""
    captured: dict[str, list[Product]] = {}
    for product in products:
        if product.kind == "generic":
            captured.setdefault(product.generic_of, []).append(product)
    for originator, generics in captured.items():
        highest = sum(g.capture.distribution.support[1] for g in generics if g.capture)
        if len(generics) > 1 and highest > 100.0:
            ids = ", ".join(g.id for g in generics)
            raise reader.error(
                f"{reader.join(generics[-1].id)}.capture: the generics of {originator!r} "
                f"({ids}) can capture {highest:g} % of what it loses in a draw; together at "
                "most 100 %",
                f"{reader.join(generics[-1].id)}.capture",
            )


def read_product_tables(
    root: Reader, axes: tuple[Axis, ...], regions: tuple[str, ...], years: tuple[int, ...]
) -> tuple[tuple[Product, ...], tuple[Parameter, ...]]:
    """A document's ``[forecast_errors]``, ``[valuation]`` and ``[products]``: the products,
    and every parameter they add (each product's, then the shared valuation's)."""
    forecast_errors = read_forecast_errors(root.table("forecast_errors", None))
    valuation_table = root.table("valuation", None)
    shared = read_valuation(valuation_table, "valuation")
    products = read_products(
        root.table("products", None), axes, regions, years, forecast_errors, shared
    )
    if shared and not products:
        raise valuation_table.error("[valuation] values products: the scenario has none")
    parameters = [p for product in products for p in product.parameters]
    for product in products:  # its own valuation inputs (those it shares come once, below)
        if product.valuation is not None:
            own = f"products.{product.id}"
            parameters += [p for p in product.valuation.parameters if p.owner == own]
    return products, (*parameters, *shared.values())


def product_weights(
    reader: Reader, product_ids: tuple[str, ...], max_weight: float = MAX_WEIGHT
) -> dict[str, float]:
    """A driver's or event's ``products = {<id> = weight, source}``: how it moves each
    named product's share (docs/config.md, "Products")."""
    noun = ("product", "products", "[products]")
    return read_weights(reader, "products", product_ids, noun, max_weight)


def without_products(document: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario document with its products, their valuation and forecast-error classes,
    and every driver's and event's action on them, taken out (the market alone)."""
    document = copy.deepcopy(dict(document))
    for key in ("products", "valuation", "forecast_errors"):
        document.pop(key, None)
    for group in ("drivers", "restraints", "events"):
        for table in document.get(group, {}).values():
            if isinstance(table, dict):
                table.pop("products", None)
    return document
