"""Drafting a scenario from a market report's text: ``netsim draft REPORT.txt --out X.toml``.

:func:`draft` reads the report (:mod:`netsim.drafting.reading`) and writes a scenario
document (:mod:`netsim.drafting.writing`) whose every report figure quotes the report and
whose every gap is a neutral default marked ``assumption: draft default, review: ...``.
It does not load the scenario: :func:`netsim.load_scenario` on the text (the command
line does so before it writes the file) validates and calibrates it.

The public name is the function: ``netsim.draft(text)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsim.drafting.reading import Findings, Skipped, check_plain_text, read_report
from netsim.drafting.writing import compose
from netsim.errors import ScenarioError

__all__ = ["Draft", "Findings", "Skipped", "draft", "read_report", "summary"]


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
    """

    toml: str
    name: str
    findings: Findings
    assumed: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    placed: tuple[str, ...]
    unit: str
    years: tuple[int, int]


def draft(text: str, *, name: str | None = None) -> Draft:
    """Draft a scenario from a market report's plain text.

    Parameters
    ----------
    text : str
        The report (sections may be missing or cut short: what is there is drafted).
    name : str, optional
        The scenario's name (default: from the report's title).

    Returns
    -------
    Draft
        ``.toml`` holds the document; ``.assumed`` and ``.skipped`` say what to review.

    Raises
    ------
    netsim.ScenarioError
        When the text states no market size (nothing to draft), or is not plain text
        (a control character, a lone surrogate, a noncharacter: the line is named), or
        the name is not one line of plain text.

    Examples
    --------
    >>> d = netsim.draft(open("report.txt").read())  # doctest: +SKIP
    >>> scenario = netsim.load_scenario(tomllib.loads(d.toml))  # doctest: +SKIP
    """
    if name is not None:
        check_plain_text(name, "the scenario's name")
        if not name.strip() or len(name.splitlines()) != 1:
            raise ScenarioError(f"the scenario's name {name!r} must be one line of text")
    findings = read_report(text)
    made = compose(findings, name)
    return Draft(
        made.toml,
        made.name,
        findings,
        tuple(made.assumed),
        tuple(made.skipped),
        tuple(made.placed),
        made.unit,
        made.years,
    )


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
    lines.append("assumed (marked 'draft default, review' in the file):")
    lines.extend(f"  - {line}" for line in result.assumed)
    if result.skipped:
        lines.append("skipped (found but not placed):")
        lines.extend(
            f"  - {_short(s.figure)!r}: {s.reason} (in: {_short(s.sentence)})"
            for s in result.skipped
        )
    return "\n".join(lines)


def _short(sentence: str, width: int = 100) -> str:
    return sentence if len(sentence) <= width else sentence[: width - 3] + "..."
