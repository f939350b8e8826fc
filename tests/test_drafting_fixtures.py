"""Drafts of report pages in many publishers' layouts, scored against an analyst's answer.

Each ``tests/fixtures/reports/NAME.txt`` is a summary page written for the project in one
publisher's layout (own words, invented or public figures); ``NAME.json`` lists every
figure a careful analyst takes from it (kind, value, year or period, segment or region).
A figure placed with its value, years and part as answered is right; a figure the draft
places that the answer does not hold, or holds with another year or part, is wrong; an
answered figure the draft does not place is missed.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from netsim.drafting import Draft, draft
from netsim.drafting.places import normalized

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reports"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.txt"))
CHECKED = re.compile(r"([-0-9.]+) % a year over (\d{4})-(\d{4}); .*\(within")


def placed_figures(result: Draft) -> list[dict]:
    """Every report figure the draft places, in the answer files' terms."""
    doc = tomllib.loads(result.toml)
    market = doc["market"]
    placed_years = {doc["years"]["base"]} | {
        t["year"] for t in market.get("targets", {}).values() if t["kind"] == "size"
    }
    base_derived = "back-cast" in market["base_size"]["source"]
    found = [
        {"kind": "size", "value": s.value, "year": s.year}
        for s in result.findings.sizes
        if s.year in placed_years and not (base_derived and s.year == doc["years"]["base"])
    ]
    for target in market.get("targets", {}).values():
        if target["kind"] == "cagr":
            found.append(
                {
                    "kind": "cagr",
                    "value": target["value"],
                    "start": target["start"],
                    "end": target["end"],
                }
            )
    for line in result.checked:
        match = CHECKED.search(line)
        if match:
            value, start, end = float(match.group(1)), int(match.group(2)), int(match.group(3))
            found.append({"kind": "cagr", "value": value, "start": start, "end": end})
    parts = [
        (name, table)
        for axis in doc.get("axes", {}).values()
        for name, table in axis["segments"].items()
    ]
    parts += list(doc.get("regions", {}).items()) + list(doc.get("countries", {}).items())
    for name, table in parts:
        share = table.get("share", {})
        if str(share.get("source", "")).startswith("report:"):
            stated = re.search(r"share stated for (\d{4})", share["source"])
            year = int(stated.group(1)) if stated else doc["years"]["base"]
            found.append({"kind": "share", "part": name, "value": share["value"], "year": year})
        if "cagr_target" in table:
            target = table["cagr_target"]
            found.append(
                {"kind": "part_cagr", "part": name, "value": target["value"], "end": target["end"]}
            )
    for group in ("drivers", "restraints"):
        for table in doc.get(group, {}).values():
            found.append(
                {"kind": "impact", "part": table["label"], "value": table["impact"]["mode"]}
            )
    return found


def _same_part(a: str, b: str) -> bool:
    x, y = normalized(a), normalized(b)
    return x == y or x in y or y in x


def _same(answer: dict, placed: dict) -> bool:
    keys = set(answer) - {"part"}
    if any(answer[k] != placed.get(k) for k in keys if k != "value"):
        return False
    if abs(answer["value"] - placed["value"]) > 1e-9:
        return False
    return "part" not in answer or _same_part(answer["part"], placed["part"])


def score(name: str) -> tuple[int, int, int, list[str]]:
    """(right, wrong, missed, notes) for one fixture."""
    text = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8")
    answers = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["figures"]
    placed = placed_figures(draft(text))
    right = [a for a in answers if any(_same(a, p) for p in placed)]
    wrong = [p for p in placed if not any(_same(a, p) for a in answers)]
    missed = [a for a in answers if a not in right]
    notes = [f"wrong: {w}" for w in wrong] + [f"missed: {m}" for m in missed]
    return len(right), len(wrong), len(missed), notes


def test_there_are_at_least_25_fixtures_each_with_its_answer():
    assert len(NAMES) >= 25
    assert all((FIXTURES / f"{name}.json").is_file() for name in NAMES)


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in NAMES])
def test_a_fixture_is_drafted_with_no_wrong_figure(name):
    _, wrong, _, notes = score(name)
    assert wrong == 0, notes


def test_the_fixtures_are_drafted_at_least_95_percent_right_and_none_wrong():
    totals = [score(name) for name in NAMES]
    right = sum(t[0] for t in totals)
    wrong = sum(t[1] for t in totals)
    missed = sum(t[2] for t in totals)
    notes = [f"{name}: {n}" for name, t in zip(NAMES, totals, strict=True) for n in t[3]]
    assert wrong == 0 and right >= 0.95 * (right + missed), (right, wrong, missed, notes)


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in NAMES])
def test_every_figure_s_value_is_visible_in_its_quote(name):
    """Each figure of the draft stated by the report shows its value in its quote, in the
    quote's own notation (a derived figure, such as a back-cast base size, says so)."""
    result = draft((FIXTURES / f"{name}.txt").read_text(encoding="utf-8"))
    doc = tomllib.loads(result.toml)
    for key, quote, default in result.figures:
        if default or key.startswith(("years.", "checked.")):
            continue
        table = doc
        for part in _key_parts(key):
            table = table[part]
        value = table["mode"] if isinstance(table, dict) and "mode" in table else table
        value = value["value"] if isinstance(value, dict) else value
        assert _shows(quote, float(value)), f"{name}: {key} = {value} not in {quote!r}"


def _key_parts(key: str) -> list[str]:
    return [p.strip('"') for p in re.findall(r'"[^"]*"|[^.]+', key)]


def _shows(quote: str, value: float) -> bool:
    """Whether a quote writes ``value`` (in any notation; a unit conversion by a power of
    ten, such as billions in a market counted in millions, is allowed)."""
    from netsim.drafting.read.numbers import NUMBER, number_value

    for match in re.finditer(NUMBER, quote):
        written = number_value(match.group(0))
        for power in range(-12, 13, 3):
            if written and abs(written * 10.0**power - abs(value)) <= 1e-9 * max(1.0, abs(value)):
                return True
    return False
