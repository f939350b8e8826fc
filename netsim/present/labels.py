"""Names in a reader's words: each sampled input, driver group and output as the scenario
labels it, for the axes, legends and titles of plots (never a parameter id such as
``drivers.targeted_prrt_expansion.impact``)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import xarray as xr

__all__ = [
    "chart_title",
    "funnel_label",
    "input_label",
    "labelled",
    "parameter_labels",
    "wrapped",
]

GROUP_JOIN = " + "  # how a group of correlated inputs is named (analyze.sensitivity)
WHAT = {  # the last part of a parameter's name after its owner -> words
    "impact": "impact on growth",
    "delay": "onset delay",
    "occurs": "occurs",
    "year": "year it starts",
}


def parameter_labels(scenario: Any) -> dict[str, str]:
    """Every sampled input of ``scenario`` and every owner of inputs (a driver, a
    restraint, an event, a noise term) by name -> its label, e.g.
    ``drivers.rising_prevalence.impact`` -> ``Rising prevalence of NETs: impact on
    growth``.

    Parameters
    ----------
    scenario : Scenario
        A loaded scenario (:func:`netsim.load_scenario`).
    """
    owners: dict[str, str] = {"market.base_scale": "Base-year market size (scale factor)"}
    for driver in scenario.drivers:
        owners[f"{driver.group}.{driver.id}"] = driver.label
    for event in scenario.events:
        owners[f"events.{event.id}"] = event.label
    for product in getattr(scenario, "products", ()):
        owners[f"products.{product.id}"] = product.label
    owners["valuation"] = "Valuation"
    for parameter in scenario.parameters:
        if parameter.owner.startswith("noise."):  # a noise term: its years grouped
            owners[parameter.owner] = _parameter_label(parameter, owners, with_rest=False)
    labels = dict(owners)
    for parameter in scenario.parameters:
        labels[parameter.name] = _parameter_label(parameter, owners)
    for parameter in scenario.parameters:
        if parameter.name.startswith("funnel."):
            labels[parameter.name] = funnel_label(parameter.name)
        elif parameter.owner.startswith("products.") or parameter.owner == "valuation":
            rest = parameter.name[len(parameter.owner) + 1 :]
            labels[parameter.name] = f"{owners[parameter.owner]}: {product_words(rest)}"
    return labels


PRODUCT_WORDS = {
    "share": "share in the base year",
    "trend": "share trend",
    "launch_cost": "launch cost",
    "capture": "part of the originator's loss taken",
    "forecast_error": "forecast error of its peak",
    "uptake.peak": "peak share",
    "uptake.years_to_peak": "years to peak",
    "loss_of_exclusivity.year": "loss of exclusivity",
    "loss_of_exclusivity.floor": "share kept after generics",
    "loss_of_exclusivity.half_life": "erosion half-life",
}


def product_words(rest: str) -> str:
    """A product's input (its name after ``products.<id>.``, or a valuation input's) in
    words: ``phases.phase_3`` -> ``phase 3 succeeds``, ``uptake.peak`` -> ``peak share``."""
    if rest in PRODUCT_WORDS:
        return PRODUCT_WORDS[rest]
    if rest.startswith("phases."):
        phase = rest[len("phases.") :]
        if phase.endswith(".cost"):
            return f"{phase[: -len('.cost')].replace('_', ' ')} cost"
        return f"{phase.replace('_', ' ')} succeeds"
    return rest.removeprefix("valuation.").replace("_", " ")


FUNNEL_WORDS = {
    "rate.value": "incidence or prevalence rate",
    "rate.duration": "years with the disease",
    "doses_per_year": "doses a year",
    "price_per_dose": "price per dose",
    "cost_per_year": "cost a year",
}


def funnel_label(name: str) -> str:
    """A patient-funnel input in words: ``funnel.stages.treated.share`` -> ``Patient
    funnel: share treated``; ``funnel.cost.segments.SSA.price_per_dose`` -> ``Patient
    funnel: SSA price per dose``."""
    rest = name[len("funnel.") :]
    if rest in FUNNEL_WORDS:
        words = FUNNEL_WORDS[rest]
    elif rest.startswith("stages."):
        words = f"share {rest[len('stages.') :].removesuffix('.share')}"
    elif rest.startswith("split."):
        axis, _, segment = rest[len("split.") :].removesuffix(".share").partition(".")
        words = f"share of the treated on {segment} ({axis})"
    elif rest.startswith("cost.segments."):
        segment, _, what = rest[len("cost.segments.") :].rpartition(".")
        words = f"{segment} {FUNNEL_WORDS.get(what, what.replace('_', ' '))}"
    else:
        words = rest.replace("_", " ")
    return f"Patient funnel: {words}"


def _parameter_label(parameter: Any, owners: Mapping[str, str], with_rest: bool = True) -> str:
    name, owner = parameter.name, parameter.owner
    rest = name[len(owner) + 1 :] if name.startswith(f"{owner}.") and with_rest else ""
    if owner.startswith("noise."):
        where = owner[len("noise.") :]
        where = "world" if where == "global" else where
        return f"Year-to-year noise, {where}" + (f", {rest}" if rest else "")
    label = owners.get(owner, owner)
    if not rest:
        return label
    first, _, more = rest.partition(".")
    words = WHAT.get(first, first.replace("_", " "))
    return f"{label}: {words}" + (f" in {more}" if more else "")


def input_label(name: str, labels: Mapping[str, str] | None) -> str:
    """The label of an input or of a group of inputs (``a + b``), or its name when the
    labels do not know it."""
    if not labels:
        return name
    return GROUP_JOIN.join(labels.get(part, part) for part in name.split(GROUP_JOIN))


def labelled(result: xr.Dataset, labels: Mapping[str, str]) -> xr.Dataset:
    """An analysis result with a ``label`` coordinate beside its ``parameter`` (or
    ``driver``) names: a result written to a file keeps its inputs' words for the plots
    made from it later."""
    dim = next((d for d in ("parameter", "driver") if d in result.dims), None)
    if dim is None:
        return result
    names = [str(name) for name in result[dim].values]
    return result.assign_coords(label=(dim, [input_label(name, labels) for name in names]))


def wrapped(text: str, width: int = 40, lines: int = 3) -> str:
    """``text`` on lines of at most ``width`` characters (at most ``lines``; longer text
    ends its last line with an ellipsis only when it cannot fit at all)."""
    return "\n".join(textwrap.wrap(text, width, max_lines=lines, placeholder=" …")) or text


PLACES = ("country", "region")


def chart_title(output: str, cell: Mapping[str, Any]) -> str:
    """One output's cell in a reader's words: ``PRRT market in Asia-Pacific, 2031``,
    ``World market``, ``Patient-based market in Europe``; patients where the output
    counts them."""
    if output == "npv":
        return f"Net present value of {cell.get('product', 'each product')}"
    segments = [str(v) for k, v in cell.items() if k != "year" and k not in PLACES]
    if output in ("patients",) or output.startswith("treated_by_"):
        subject = "patients"
    elif output.startswith("patient_"):
        subject = "patient-based market"
    else:
        subject = "market"
    place = next((str(cell[k]) for k in PLACES if k in cell), None)
    text = " ".join([*segments, subject])
    text = f"{text} in {place}" if place else f"world {text}" if not segments else text
    text = text[0].upper() + text[1:]
    return f"{text}, {cell['year']}" if "year" in cell else text
