"""Several reports of one market drafted as one scenario.

Publishers size one market differently (two publishers' 2024 medical-devices markets:
USD 518 bn and USD 682 bn). Each report is read and drafted on its own first; then:

* the reports must name one market (their names compared loosely) in one currency,
  else the draft is refused in one line;
* every report's base size is brought to one base year (the latest any report sizes)
  with its own stated growth (a draft default, said so), and the scenario's base size is
  their median (or one report's, chosen), with ``market.base_scale`` a PERT from the
  smallest to the largest over it;
* the growth target is the median of the reports' CAGRs over the scenario's years, and
  a driver with no effect at its point spreads growth from the lowest to the highest;
* a part's share or CAGR is the median of the reports that give it;
* every such figure quotes each report's words with the report's name, and a table of
  where they disagree (figure, each report's value, spread) is printed and kept in the
  file as comments.
"""

from __future__ import annotations

import difflib
import math
import re
import statistics
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from netsim.drafting.places import best_match, normalized
from netsim.drafting.read import (
    Factor,
    Findings,
    Growth,
    Share,
    Size,
    Skipped,
    Takeaway,
    read_report,
)
from netsim.drafting.read.numbers import SCALES
from netsim.drafting.write import DEFAULTS, Composer
from netsim.drafting.write.common import Quoted, assumption, rounded
from netsim.drafting.write.several import Spread, several_composer
from netsim.errors import ScenarioError

__all__ = ["Disagreement", "Several", "draft_several", "labelled", "publisher_named"]

# words a market's name shares with every other's: left out when names are compared
_GENERIC_WORDS = """global worldwide world market markets size share shares the and of for by
    industry report analysis trends trend forecast forecasts growth outlook research overview"""
_GENERIC = frozenset(_GENERIC_WORDS.split())
PUBLISHER = re.compile(
    r"\b(?i:according to|as per|by|from|says|said)\s+(?i:a\s+(?:new\s+|recent\s+)?"
    r"(?:report|study|analysis)\s+(?:by|from)\s+)?(?P<name>MarketsandMarkets|"
    r"(?:[A-Z][\w&'.-]*\s+){0,3}(?:Research|Intelligence|Insights|Analytics|Consulting|"
    r"Reports)(?:,?\s+(?:Inc|Ltd|LLC|Co)\.?)?)",
)


@dataclass(frozen=True)
class Disagreement:
    """One figure as several reports state it: its name, each report's value (None
    where a report gives none), and the spread, percent of the central value."""

    figure: str
    values: tuple[float | None, ...]
    spread: float


@dataclass(frozen=True)
class Several:
    """What drafting several reports as one adds: the reports' names (and the
    publisher each names, or ``""``) and where they disagree."""

    labels: tuple[str, ...]
    publishers: tuple[str, ...]
    disagreements: tuple[Disagreement, ...]


@dataclass(frozen=True)
class _Report:
    label: str
    findings: Findings
    composer: Any  # the report's own composer, its market part drafted
    document: dict[str, Any]  # the report's own draft
    skipped: tuple[Skipped, ...]  # what its own draft left out
    publisher: str  # the publisher its text names, or ""


@dataclass(frozen=True)
class _Market:
    """One report's market figures in absolute currency units, its base size brought
    to the common base year."""

    base: float
    base_quote: str
    brought: str  # how the base was brought to the common year ("" if stated for it)
    rate: float | None
    rate_decimals: int
    rate_quote: str
    rate_period: str


@dataclass
class _Merge:
    """The reports being merged, their market figures at the common base year, the
    central choice, and the table of where they disagree (filled in as it goes)."""

    reports: list[_Report]
    markets: list[_Market]
    labels: list[str]
    central: str
    base_year: int
    rows: list[Disagreement]


def labelled(texts: Sequence[str] | Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The reports as (name, text): a name given, else the publisher the text names,
    else "report N"; names made unique."""
    pairs: list[tuple[str, str]] = []
    for number, item in enumerate(texts, 1):
        if isinstance(item, tuple):
            if len(item) != 2 or not all(isinstance(part, str) for part in item):
                raise ScenarioError(f"report {number} must be text or a (name, text) pair")
            name, text = item
        elif isinstance(item, str):
            name, text = publisher_named(item) or f"report {number}", item
        else:
            raise ScenarioError(
                f"report {number} must be text or a (name, text) pair, got {type(item).__name__}"
            )
        pairs.append((" ".join(name.split()) or f"report {number}", text))
    seen: dict[str, int] = {}
    unique = []
    for name, text in pairs:
        seen[name] = seen.get(name, 0) + 1
        unique.append((name if seen[name] == 1 else f"{name} ({seen[name]})", text))
    return unique


def _check_each_once(pairs: Sequence[tuple[str, str]]) -> None:
    """Refuse a report given twice (the same text, under any name): its figures would
    count twice in every median and the spread would look narrower than it is."""
    first: dict[str, str] = {}
    for label, text in pairs:
        words = " ".join(text.split())
        if words in first:
            raise ScenarioError(
                f"{label} has the same text as {first[words]}: each report once (a report "
                "given twice would weigh its figures twice in every median)"
            )
        first[words] = label


def publisher_named(text: str) -> str:
    """The publisher a report's text names ("according to Kings Research", "Analysis
    by Mordor Intelligence"), or ``""``."""
    found = PUBLISHER.search(text[:20_000])
    return " ".join(found.group("name").split()).rstrip(",.") if found else ""


def _market_name(findings: Findings) -> str:
    """The market a report sizes: its title's "X Market", else its first size
    sentence's "the X market"."""
    title = findings.title or ""
    named = re.match(r"(.*?\bmarket)\b", title, re.IGNORECASE)
    if named:
        return named.group(1)
    sentence = findings.sizes[0].sentence if findings.sizes else ""
    said = re.search(r"\b(?:the\s+)?(?P<name>[\w&'()/ ,-]{2,80}?)\s+market\b", sentence, re.I)
    return said.group("name") + " market" if said else title


def _words(name: str) -> list[str]:
    return [w for w in normalized(name).split() if w not in _GENERIC]


def _same_word(a: str, b: str) -> bool:
    return (
        a == b
        or a.rstrip("s") == b.rstrip("s")
        or difflib.SequenceMatcher(None, a, b).ratio() >= 0.8
    )


def same_market(a: str, b: str) -> bool:
    """Whether two market names name one market, loosely: every word of the shorter
    (but "global", "market" ...) is a word of the longer, allowing plurals and
    spelling variants ("tumour", "tumor")."""
    first, second = sorted((_words(a), _words(b)), key=len)
    if not first:
        return not second
    return all(any(_same_word(w, v) for v in second) for w in first)


def _check_one_market(reports: list[_Report]) -> None:
    first = reports[0]
    name = _market_name(first.findings)
    currency = first.composer.currency
    for report in reports[1:]:
        other = _market_name(report.findings)
        if not same_market(name, other):
            raise ScenarioError(
                f"the reports name different markets: {name!r} ({first.label}) and {other!r} "
                f"({report.label}): draft them apart"
            )
        if report.composer.currency != currency:
            raise ScenarioError(
                f"the reports' units are incompatible: {first.label} sizes the market in "
                f"{currency}, {report.label} in {report.composer.currency} (netsim reads no "
                "exchange rate): draft them apart"
            )


def _read_each(pairs: list[tuple[str, str]], name: str | None) -> list[_Report]:
    """Each report read and drafted on its own (a report that cannot be is refused,
    named)."""
    reports = []
    for label, text in pairs:
        try:
            findings = read_report(text)
            composer = Composer(findings, name, DEFAULTS)
            made = composer.compose()
        except ScenarioError as error:
            raise ScenarioError(f"{label}: {error}") from None
        document = tomllib.loads(made.toml)
        reports.append(
            _Report(
                label,
                findings,
                composer,
                document,
                tuple(made.skipped),
                publisher_named(text),
            )
        )
    return reports


def _market(report: _Report, base_year: int) -> _Market:
    """A report's base size (absolute) at ``base_year`` and its growth rate."""
    composer = report.composer
    figure = composer.base_figure
    absolute = figure.value * SCALES[figure.scale]
    rate, decimals, quote, period = _rate(report)
    stated = next((s for s in report.findings.sizes if s.year == base_year), None)
    brought = ""
    if composer.base != base_year and stated is not None:
        figure, absolute = stated, stated.value * SCALES[stated.scale]
    elif composer.base != base_year and rate is None:
        brought = (
            f"{report.label}'s {figure.value:g} {figure.scale} in {composer.base} used for "
            f"{base_year} unchanged (it states no growth)"
        )
    elif composer.base != base_year:
        absolute *= (1.0 + rate / 100.0) ** (base_year - composer.base)
        brought = (
            f"{report.label}'s {figure.value:g} {figure.scale} in {composer.base} brought to "
            f"{base_year} with its own {rate:g} % a year"
        )
    return _Market(absolute, figure.quote, brought, rate, decimals, quote, period)


def _rate(report: _Report) -> tuple[float | None, int, str, str]:
    """A report's growth, % a year, with its decimals, words and years: its CAGR (a
    target, or kept as a check of its sizes), else its sizes' growth, else None."""
    composer = report.composer
    cagr = next((t for t in composer.targets if t.kind == "cagr"), None)
    if cagr is not None:
        return cagr.value, _decimals(cagr.tolerance), cagr.quote, f"{cagr.start}-{cagr.end}"
    growth = report.findings.growth
    checked = next((k for k in composer.figures if k.startswith("checked.cagr_")), None)
    if checked is not None and growth is not None:
        start, end = checked.removeprefix("checked.cagr_").split("_")
        return growth.value, growth.decimals, growth.quote, f"{start}-{end}"
    sizes = [t for t in composer.targets if t.kind == "size"]
    if sizes:
        words = " ... ".join([composer.base_figure.quote, *(t.quote for t in sizes)])
        return rounded(composer.market_rate(), 4), 2, words, f"{composer.base}-{composer.final}"
    return None, 0, "", ""


def _decimals(tolerance: float) -> int:
    return max(0, round(-math.log10(2.0 * tolerance))) if tolerance > 0 else 0


def _central(values: list[float], labels: list[str], central: str) -> float:
    if central == "median":
        return float(statistics.median(values))
    return values[labels.index(central)]


def _spread(values: Sequence[float | None], central: float) -> float:
    given = [v for v in values if v is not None]
    if len(given) < 2 or central == 0:
        return 0.0
    return 100.0 * (max(given) - min(given)) / abs(central)


def draft_several(
    texts: Sequence[str] | Sequence[tuple[str, str]],
    name: str | None = None,
    central: str = "median",
) -> tuple[Any, Findings, Several]:
    """Draft several reports of one market as one scenario.

    Returns the composition, the merged findings and what the reports add; see
    :func:`netsim.drafting.draft`."""
    pairs = labelled(texts)
    _check_each_once(pairs)
    labels = [label for label, _ in pairs]
    if central != "median" and central not in labels:
        raise ScenarioError(
            f"central={central!r} is not one of the reports ({', '.join(labels)}), nor 'median'"
        )
    reports = _read_each(pairs, name)
    _check_one_market(reports)
    base_year = max(r.composer.base for r in reports)
    markets = [_market(r, base_year) for r in reports]
    rows: list[Disagreement] = []
    merge = _Merge(reports, markets, labels, central, base_year, rows)
    sizes, spread = _base_size(merge)
    growth, final = _growth(merge)
    if growth is not None:
        rates = [m.rate for m in markets if m.rate is not None]
        if max(rates) > min(rates):
            spread = replace(
                spread,
                growth=(rounded(min(rates) - growth.value), rounded(max(rates) - growth.value)),
            )
        spread = replace(spread, growth_quote=growth.quote)
    takeaways, skipped = _parts(reports, labels, central, base_year, final, rows)
    findings = _merged_findings(reports, sizes, growth, takeaways, skipped, final)
    several = Several(
        tuple(labels),
        tuple(r.publisher for r in reports),
        tuple(rows),
    )
    made = several_composer(findings, name, spread, several).compose()
    return made, findings, several


def _base_size(merge: _Merge) -> tuple[tuple[Size], Spread]:
    """The scenario's base size (the reports' central one, in the first report's unit)
    quoting each report's, its spread over them, and its row of the table."""
    reports, markets, labels = merge.reports, merge.markets, merge.labels
    central, base_year, rows = merge.central, merge.base_year, merge.rows
    first = reports[0].composer
    unit_scale, currency = first.scale, first.currency
    in_unit = [m.base / SCALES[unit_scale] for m in markets]
    base = _central(in_unit, labels, central)
    rows.append(
        Disagreement(
            f"base size {base_year}, {currency} {unit_scale}",
            tuple(in_unit),
            _spread(in_unit, base),
        )
    )
    spread = Spread()
    if max(in_unit) > min(in_unit):  # rounded outwards: the PERT holds every report's size
        low = math.floor(min(in_unit) / base * 1e6) / 1e6
        spread = replace(spread, base=(low, math.ceil(max(in_unit) / base * 1e6) / 1e6))
    brought = [m.brought for m in markets if m.brought]
    how = "median" if central == "median" else f"{central}'s"
    note = assumption(
        (f"base year {base_year}: " + "; ".join(brought) + "; " if brought else "")
        + f"the {how} of the reports' {base_year} sizes ("
        + ", ".join(f"{v:.4g}" for v in in_unit)
        + f" {currency} {unit_scale}); their spread is market.base_scale"
    )
    words = Quoted([(r.label, m.base_quote) for r, m in zip(reports, markets, strict=True)], note)
    return (Size(base_year, rounded(base, 6), currency, unit_scale, 6, words),), spread


def _growth(merge: _Merge) -> tuple[Growth | None, int]:
    """The reports' central CAGR over the scenario's years (the latest any report
    forecasts), quoting each report's, and its row of the disagreement table."""
    reports, markets = merge.reports, merge.markets
    central, base_year, rows = merge.central, merge.base_year, merge.rows
    final = max(r.composer.final for r in reports)
    given = [(r.label, m) for r, m in zip(reports, markets, strict=True) if m.rate is not None]
    if not given:
        return None, final
    values = [m.rate for _, m in given]
    assert all(v is not None for v in values)
    rates = [float(v) for v in values if v is not None]
    chosen = central if central in [label for label, _ in given] else "median"
    value = _central(rates, [label for label, _ in given], chosen)
    rows.append(
        Disagreement(
            "CAGR, % a year (each over its own years)",
            tuple(m.rate for m in markets),
            _spread([m.rate for m in markets], value),
        )
    )
    decimals = max(m.rate_decimals for _, m in given)
    periods = ", ".join(f"{label} {m.rate_period}" for label, m in given)
    how = "median" if chosen == "median" else f"{chosen}'s"
    note = assumption(
        f"the {how} of the reports' CAGRs ({periods}) taken over {base_year}-{final}; "
        "their spread is the driver publishers_growth_spread"
    )
    quote = Quoted([(label, m.rate_quote) for label, m in given], note)
    growth = Growth(rounded(value, 6), decimals, base_year, final, "stated", quote)
    return growth, final


def _part_figures(report: _Report) -> list[tuple[str, str, str, float, str, int]]:
    """The shares and CAGR targets a report's own draft places on its parts: (kind,
    segmentation or "region", part, value, the report's words, decimals)."""
    found = []
    document = report.document
    for axis in document.get("axes", {}).values():
        label = str(axis.get("label", ""))
        for part, table in axis["segments"].items():
            found += _figures_of(table, label, part)
    for group in ("regions", "countries"):
        for part, table in document.get(group, {}).items():
            found += _figures_of(table, "region", part)
    return found


def _figures_of(
    table: dict[str, Any], axis: str, part: str
) -> list[tuple[str, str, str, float, str, int]]:
    found = []
    share = table.get("share", {})
    if isinstance(share, dict) and str(share.get("source", "")).startswith("report: '"):
        found.append(("share", axis, part, float(share["value"]), _words_of(share["source"]), 2))
    target = table.get("cagr_target")
    if isinstance(target, dict):
        decimals = _decimals(float(target["tolerance"]))
        found.append(
            ("cagr", axis, part, float(target["value"]), _words_of(target["source"]), decimals)
        )
    return found


def _words_of(source: str) -> str:
    """The report's words in a source ``report: 'words'; note``."""
    body = source.removeprefix("report: '")
    end = body.find("'; ")
    return body[:end] if end >= 0 else body.rstrip("'")


def _parts(
    reports: list[_Report],
    labels: list[str],
    central: str,
    base_year: int,
    final: int,
    rows: list[Disagreement],
) -> tuple[list[Takeaway], list[Skipped]]:
    """Each part's central share and CAGR over the reports that give it, as
    takeaways (one share and one CAGR per segmentation: the part most reports give;
    every region its own), and their rows of the disagreement table."""
    book: dict[tuple[str, str, str], dict[str, tuple[float, str, int]]] = {}
    axes: list[str] = []
    for report in reports:
        for kind, axis, part, value, words, decimals in _part_figures(report):
            axis = _same_as(axis, axes, "region")
            parts = [p for k, a, p in book if a == axis]
            part = _same_as(part, parts, None)
            book.setdefault((kind, axis, part), {})[report.label] = (value, words, decimals)
    skipped: list[Skipped] = []
    takeaways: list[Takeaway] = []
    for axis in axes:
        chosen = {kind: _most_given(book, kind, axis) for kind in ("share", "cagr")}
        shares = [k for k in book if k[0] == "share" and k[1] == axis]
        growths = [k for k in book if k[0] == "cagr" and k[1] == axis]
        for key in shares + growths:
            kind, _, part = key
            given = book[key]
            values = [given[label][0] if label in given else None for label in labels]
            present = [v for v in values if v is not None]
            named = [label for label in labels if label in given]
            value = _central(present, named, central if central in named else "median")
            what = "share, %" if kind == "share" else "CAGR, % a year"
            rows.append(
                Disagreement(f"{part} ({axis}) {what}", tuple(values), _spread(values, value))
            )
            if axis != "region" and chosen[kind] != part:
                for label in named:
                    skipped.append(
                        Skipped(
                            f"{label}: {given[label][1]}",
                            given[label][1],
                            f"a {kind} of {part}; the merged draft keeps {chosen[kind]}'s "
                            f"({axis}), which more reports give",
                        )
                    )
                continue
            quote = Quoted(
                [(label, given[label][1]) for label in named],
                assumption(
                    f"the {'median' if len(named) > 1 else 'only figure'} of the reports' "
                    + ("shares, each for its own base year" if kind == "share" else "CAGRs")
                    + (f", taken over {base_year}-{final}" if kind == "cagr" else "")
                ),
            )
            decimals = max(given[label][2] for label in named)
            takeaways.append(_takeaway(kind, axis, part, value, decimals, quote, base_year, final))
    return _joined(takeaways), skipped


def _same_as(name: str, known: list[str], region: str | None) -> str:
    """``name`` as a name already ``known`` writes it (loosely the same), else added."""
    if name == region:
        if region not in known:
            known.append(region)
        return region
    same = next((k for k in known if normalized(k) == normalized(name)), None)
    same = same or best_match(name, [k for k in known if k != region], threshold=0.5)
    if same is None:
        known.append(name)
        return name
    return same


def _most_given(
    book: dict[tuple[str, str, str], dict[str, Any]], kind: str, axis: str
) -> str | None:
    candidates = [
        (len(given), -index, key[2])
        for index, (key, given) in enumerate(book.items())
        if key[0] == kind and key[1] == axis
    ]
    return max(candidates)[2] if candidates else None


def _takeaway(
    kind: str,
    axis: str,
    part: str,
    value: float,
    decimals: int,
    quote: Quoted,
    base: int,
    final: int,
) -> Takeaway:
    if kind == "share":
        return Takeaway(axis, Share(part, rounded(value, 6), decimals, base, quote), None, None, "")
    growth = Growth(rounded(value, 6), decimals, base, final, "stated", quote)
    return Takeaway(axis, None, part, growth, "")


def _joined(takeaways: list[Takeaway]) -> list[Takeaway]:
    """A segmentation's share and CAGR in one takeaway (a region's each its own)."""
    joined: list[Takeaway] = []
    for takeaway in takeaways:
        same = next((i for i, t in enumerate(joined) if t.axis == takeaway.axis), None)
        if takeaway.axis == "region" or same is None:
            joined.append(takeaway)
            continue
        held = joined[same]
        joined[same] = replace(
            held,
            largest=held.largest or takeaway.largest,
            fastest=held.fastest or takeaway.fastest,
            fastest_name=held.fastest_name or takeaway.fastest_name,
        )
    return joined


def _merged_findings(
    reports: list[_Report],
    sizes: tuple[Size, ...],
    growth: Growth | None,
    takeaways: list[Takeaway],
    skipped: list[Skipped],
    final: int,
) -> Findings:
    """One report's findings for the merged scenario: the central figures, the
    richest report's lists, every report's drivers and restraints (each once)."""

    def listed(report: _Report) -> int:
        found = report.findings
        return sum(len(a.segments) for a in found.axes) + sum(
            1 + len(r.countries) for r in found.regions
        )

    richest = max(reports, key=listed)
    factors: dict[str, list[Factor]] = {"driver": [], "restraint": []}
    seen: set[str] = set()
    for report in reports:
        for factor in (*report.findings.drivers, *report.findings.restraints):
            key = normalized(factor.name)
            if key in seen:
                skipped.append(
                    Skipped(
                        f"{report.label}: {factor.name} {factor.impact_text}",
                        factor.quote,
                        "another report gives this driver too; the first report's is kept",
                    )
                )
                continue
            seen.add(key)
            factors[factor.kind].append(replace(factor, report=report.label))
    for report in reports:
        for item in report.skipped:
            skipped.append(Skipped(f"{report.label}: {item.figure}", item.sentence, item.reason))
    return Findings(
        title=reports[0].findings.title,
        sizes=sizes,
        growth=growth,
        takeaways=tuple(takeaways),
        drivers=tuple(factors["driver"]),
        restraints=tuple(factors["restraint"]),
        axes=richest.findings.axes,
        regions=richest.findings.regions,
        skipped=tuple(skipped),
    )
