"""Drafting a scenario from a market report's text: ``netsim draft REPORT.txt --out X.toml``.

:func:`draft` reads the report (:mod:`netsim.drafting.read`) and writes a scenario
document (:mod:`netsim.drafting.write`) whose every report figure quotes the report and
whose every gap is a neutral default marked ``assumption: draft default, review: ...``.
It does not load the scenario: :func:`load` does (validated and calibrated; the command
line does so before it writes the file), naming the report's own figure when one breaks a
scenario limit.

The public name is the function: ``netsim.draft(text)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from netsim.drafting.read import Findings, Skipped, check_plain_text, read_report
from netsim.drafting.several import Several, draft_several
from netsim.drafting.write import Composition, compose
from netsim.drafting.write.common import DRAFT
from netsim.drafting.write.several import disagreement_lines
from netsim.errors import ScenarioError

__all__ = ["Draft", "Findings", "Skipped", "draft", "load", "read_report", "summary"]


@dataclass(frozen=True)
class Draft:
    """A drafted scenario.

    Attributes
    ----------
    toml : str
        The scenario document (TOML), ready to write and load.
    name : str
        The scenario's name.
    findings : Findings
        Everything read from the report.
    assumed : tuple of str
        What was defaulted, one line each (each also marked in the document).
    skipped : tuple of Skipped
        Figures found but not placed, with their sentences and the reason.
    placed : tuple of str
        The takeaway figures placed on segments, regions and countries, one line each.
    unit : str
        The market's unit, the report's currency and scale (e.g. ``"USD billion"``).
    years : tuple of int
        The scenario's base and final years.
    figures : tuple of (str, str, str)
        The document's figures that state one of the report's: (key path, the report's
        words, the draft default it was read with or ``""``), e.g.
        ``("market.targets.size_2031", "USD 4.37 billion by 2031", "")``.
    checked : tuple of str
        The report's figures that the document's targets already pin (a CAGR from the
        base year to a year whose size is a target), kept as checks, one line each.
    """

    toml: str
    name: str
    findings: Findings
    assumed: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    placed: tuple[str, ...]
    unit: str
    years: tuple[int, int]
    figures: tuple[tuple[str, str, str], ...] = ()
    checked: tuple[str, ...] = ()
    several: Several | None = None

    @classmethod
    def of(cls, made: Composition, findings: Findings, several: Several | None = None) -> Draft:
        """The draft of a composition (:func:`netsim.drafting.write.compose`'s)."""
        return cls(
            made.toml,
            made.name,
            findings,
            tuple(made.assumed),
            tuple(made.skipped),
            tuple(made.placed),
            made.unit,
            made.years,
            tuple((key, quote, default) for key, (quote, default) in made.figures.items()),
            tuple(made.checked),
            several,
        )


def draft(
    text: str | Sequence[str] | Sequence[tuple[str, str]],
    *,
    name: str | None = None,
    central: str = "median",
) -> Draft:
    """Draft a scenario from a market report's plain text, or from several reports of
    one market.

    Parameters
    ----------
    text : str, or a sequence of str or of (name, text)
        The report (sections may be missing or cut short: what is there is drafted).
        Several reports of one market (each named, or named by the publisher its text
        names, else "report N") are drafted as one scenario: its base size is the
        reports' median (brought to one base year with each report's own growth) with
        ``market.base_scale`` spanning their sizes, its growth target their median CAGR
        with a driver spreading growth over their CAGRs, and a part's share or CAGR the
        median of the reports that give it; every figure quotes each report's words
        with its name, and ``.several`` holds the table of where they disagree.
    name : str, optional
        The scenario's name (default: from the (first) report's title).
    central : str
        With several reports: ``"median"``, or the name of the report whose figures
        are the central ones (the spread still spans every report's).

    Returns
    -------
    Draft
        ``.toml`` holds the document; ``.assumed`` and ``.skipped`` say what to review.

    Raises
    ------
    netsim.ScenarioError
        When the text states no market size (nothing to draft), its sizes grow or shrink
        faster than netsim's limit on growth from one to the next (both quoted), or it is
        not plain text (a control character, a lone surrogate, a noncharacter: the line
        is named), or the name is not one line of plain text.

    Examples
    --------
    >>> d = netsim.draft(open("report.txt").read())  # doctest: +SKIP
    >>> scenario = netsim.load_scenario(tomllib.loads(d.toml))  # doctest: +SKIP
    """
    if name is not None:
        check_plain_text(name, "the scenario's name")
        if not name.strip() or len(name.splitlines()) != 1:
            raise ScenarioError(f"the scenario's name {name!r} must be one line of text")
    if isinstance(text, list | tuple):  # several reports (bytes are refused as not text)
        if len(text) == 0:
            raise ScenarioError("no report given: give one report's text, or several")
        if len(text) > 1:
            made, findings, several = draft_several(text, name, central)
            return Draft.of(made, findings, several)
        only = text[0]
        text = only[1] if isinstance(only, tuple) and len(only) == 2 else only
    findings = read_report(text)  # type: ignore[arg-type]
    return Draft.of(compose(findings, name), findings)


def load(result: Draft) -> Any:
    """Load a drafted scenario: :func:`netsim.load_scenario` on its document (validated
    and calibrated).

    Raises
    ------
    netsim.ScenarioError
        When it does not load. If the figures that break a scenario limit are all the
        report's own (its sizes imply growth no scenario may hold, ...), the message
        quotes them and names the limit: ``the report's figures break a scenario limit:
        'USD 1.0 billion in 2025' (market.base_size.value), 'USD 6.0 billion in 2026'
        (market.targets.size_2026): calibration solves baseline = +500 % a year, outside
        its plausible range [-20, 30] (limits.solved_baseline_pp)``. Otherwise the draft is
        at fault, and the message says so with the key path at fault.
    """
    import tomllib

    from netsim.model.load import load_scenario

    document = tomllib.loads(result.toml)
    try:
        return load_scenario(document)
    except ScenarioError as error:
        raise _load_error(error, result, document) from None


def _load_error(error: ScenarioError, result: Draft, document: dict[str, Any]) -> ScenarioError:
    """Why a drafted document does not load: the report's figures, quoted, when they are
    what breaks a limit; else a fault of the draft, with the key path at fault."""
    stated = {key: (quote, default) for key, quote, default in result.figures}
    named = list(dict.fromkeys(error.figures))
    leaning = [key for key in named if _on_a_default_share(key, document)]
    if error.breach and named and all(key in stated for key in named) and not leaning:
        parts = []
        for key in named:
            quote, default = stated[key]
            read = f", read with a draft default: {default}" if default else ""
            parts.append(f"{_quoted(quote)} ({key}{read})")
        factors = ""
        if "market.base_size.value" in named and error.breach.startswith("calibration"):
            net = _net_impact(document)
            if net:
                factors = (
                    f" (the report's drivers and restraints add {net:+.4g} pp to the CAGR at "
                    "their points: the baseline is the rest)"
                )
        return ScenarioError(
            f"the report's figures break a scenario limit: {', '.join(parts)}: "
            f"{error.breach}{factors}",
            key=error.key,
            breach=error.breach,
            figures=error.figures,
        )
    if error.breach and leaning:
        key = leaning[0]
        share = _table_at(document, key.removesuffix(".cagr_target"))["share"]["value"]
        quote = stated.get(key, ("", ""))[0]
        return ScenarioError(
            f"the draft's default share of {key.removesuffix('.cagr_target')} ({share:g} %: the "
            f"report gives none) cannot meet the report's {_quoted(quote)} ({key}): "
            f"{error.breach}; this is a fault of netsim draft's defaults: please report it with "
            "the report's text",
            key=error.key,
        )
    if error.name is not None:
        return ScenarioError(
            f"the report's names cannot name a scenario's parts: {_load_problem(error, document)}: "
            "rename them in the report's text",
            key=error.key,
            name=error.name,
        )
    return ScenarioError(
        f"the drafted scenario does not load ({_load_problem(error, document)}): if the "
        "report's figures are as read, this is a fault of netsim draft: please report it with "
        "the report's text",
        key=error.key,
    )


def _on_a_default_share(key: str, document: dict[str, Any]) -> bool:
    """Whether a part's CAGR target (``...cagr_target``) is met from a share the draft
    defaulted: what calibration solves for it then rests on the draft, not the report."""
    if not key.endswith(".cagr_target"):
        return False
    share = _table_at(document, key.removesuffix(".cagr_target")).get("share", {})
    return isinstance(share, dict) and str(share.get("source", "")).startswith(DRAFT)


def _table_at(document: dict[str, Any], key: str) -> dict[str, Any]:
    """The table at a key path (``axes.product.segments."A b"``), or ``{}``."""
    table: Any = document
    for part in re.findall(r'"[^"]*"|[^.]+', key):
        table = table.get(part.strip('"'), {}) if isinstance(table, dict) else {}
    return table if isinstance(table, dict) else {}


def _quoted(quote: str, width: int = 120) -> str:
    return repr(quote if len(quote) <= width else quote[: width - 3] + "...")


def _net_impact(document: dict[str, Any]) -> float:
    """The drivers' and restraints' impacts at their points (pp on the CAGR), summed."""
    total = 0.0
    for group in ("drivers", "restraints"):
        for table in document.get(group, {}).values():
            impact = table.get("impact", {})
            point = impact.get("mode", impact.get("value", 0.0))
            total += float(point) if isinstance(point, int | float) else 0.0
    return total


def _load_problem(error: ScenarioError, document: dict[str, Any]) -> str:
    """Why a drafted document does not load, without the in-memory document's label
    (the command names the report instead), with the key path of the figure at fault."""
    message = str(error)
    if error.path and message.startswith(f"{error.path}: "):
        message = message[len(error.path) + 2 :]
    key = error.key
    if key is None:  # a calibration target is named by its name alone
        targets = document.get("market", {}).get("targets", {})
        key = next((f"market.targets.{n}" for n in targets if f"{n}:" in message), None)
    if key and key not in message and error.name is None:
        message = f"{key}: {message}"
    return message


def _figure(value: float) -> str:
    return f"{value:g}"


def summary(result: Draft) -> str:
    """What a draft found, placed, assumed and skipped, as lines for the terminal."""
    found = result.findings
    lines = [f"{result.name}: {result.unit}, {result.years[0]}-{result.years[1]}", "found:"]
    sizes = ", ".join(f"{_figure(s.value)} {s.currency} {s.scale} ({s.year})" for s in found.sizes)
    lines.append(f"  sizes: {sizes}")
    if found.growth is not None:
        g = found.growth
        period = (
            f"{g.start}-{g.end}" if g.start and g.end else (f"to {g.end}" if g.end else g.period)
        )
        lines.append(f"  CAGR: {_figure(g.value)} % ({period})")
    if found.study_period:
        lines.append(f"  study period: {found.study_period[0]}-{found.study_period[1]}")
    if found.largest_market or found.fastest_market:
        lines.append(
            f"  largest market: {found.largest_market or '-'}; fastest growing: "
            f"{found.fastest_market or '-'}"
        )
    for axis in found.axes:
        lines.append(f"  axis {axis.name}: {', '.join(axis.segments)}")
    if found.regions:
        countries = sum(len(r.countries) for r in found.regions)
        lines.append(f"  regions ({len(found.regions)}), countries ({countries}):")
        for region in found.regions:
            lines.append(f"    {region.name}: {', '.join(region.countries) or '-'}")
    for takeaway in found.takeaways:
        parts = []
        if takeaway.largest is not None:
            share = takeaway.largest
            parts.append(f"{share.name} {_figure(share.value)} % share ({share.year or '?'})")
        if takeaway.fastest is not None:
            g = takeaway.fastest
            parts.append(f"{takeaway.fastest_name} {_figure(g.value)} % CAGR (to {g.end or '?'})")
        lines.append(f"  takeaway by {takeaway.axis}: {'; '.join(parts)}")
    for title, factors in (("drivers", found.drivers), ("restraints", found.restraints)):
        if factors:
            lines.append(f"  {title} ({len(factors)}):")
            for f in factors:
                lines.append(f"    {f.impact:+g} pp  {f.name} [{f.timeline}; {f.geography}]")
    if result.placed:
        lines.append("placed:")
        lines.extend(f"  {line}" for line in result.placed)
    if result.checked:
        lines.append("checked (the targets pin the same years):")
        lines.extend(f"  {line}" for line in result.checked)
    lines.append("assumed (marked 'draft default, review' in the file):")
    lines.extend(f"  - {line}" for line in result.assumed)
    if result.several is not None:
        several = result.several
        lines.append("reports:")
        lines.extend(
            f"  {label}" + (f" ({publisher})" if publisher else "")
            for label, publisher in zip(several.labels, several.publishers, strict=True)
        )
        lines.append("where the reports disagree (spread = (largest - smallest) / central):")
        lines.extend(f"  {line}" for line in disagreement_lines(several))
    if result.skipped:
        lines.append("skipped (found but not placed):")
        lines.extend(
            f"  - {_short(s.figure)!r}: {s.reason} (in: {_short(s.sentence)})"
            for s in result.skipped
        )
    return "\n".join(lines)


def _short(sentence: str, width: int = 100) -> str:
    return sentence if len(sentence) <= width else sentence[: width - 3] + "..."
