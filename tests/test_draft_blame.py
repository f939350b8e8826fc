"""Whose fault: a draft default the report's figures cannot live with is narrowed by the
drafter (or the figure kept out, with its reason), never blamed on the report; two
sizes for one year are named as a contradiction.

Each report here is a short synthetic text written for one case.
"""

from __future__ import annotations

import tomllib

import pytest

import netsim
from netsim.drafting import Draft, draft, load, read_report
from netsim.drafting.write import Defaults, compose

HEAD = """Widget Market Size and Share
The widget market is valued at USD 10.0 billion in 2025 and is expected to reach USD 13.38 \
billion by 2030, growing at a CAGR of 6.0% from 2025 to 2030.
Key Report Takeaways
"""
# the largest segment's share is stated for a year the scenario cannot use, so the fast
# segment starts from the draft's even split (50 %): 24 % a year from half the market
# would outgrow the whole market growing 6 % a year
SEGMENT = (
    HEAD
    + """- By product, gears held 70.0% of the market in 2030, while sprockets are projected \
to grow at a 24.0% CAGR through 2030.
Segmentation Overview
- By Product
- Gears
- Sprockets
"""
)
REGION = (
    HEAD
    + """- By region, Asia-Pacific is projected to grow at a 25.0% CAGR through 2030.
Segmentation Overview
- By Geography
- Asia-Pacific
- Europe
"""
)


def _table(doc: dict, *keys: str) -> dict:
    for key in keys:
        doc = doc[key]
    return doc


def _cagr(series, start: int, end: int) -> float:
    return 100 * (
        (float(series.sel(year=end)) / float(series.sel(year=start))) ** (1 / (end - start)) - 1
    )


@pytest.mark.parametrize(
    ("text", "path", "select"),
    [
        pytest.param(
            SEGMENT,
            ("axes", "product", "segments", "Sprockets"),
            lambda base: base["by_product"].sum("country").sel(product="Sprockets"),
            id="segment",
        ),
        pytest.param(
            REGION,
            ("regions", "Asia-Pacific"),
            lambda base: base["total"].where(base["region"] == "Asia-Pacific").sum("country"),
            id="region",
        ),
    ],
)
def test_a_part_s_cagr_on_a_default_share_narrows_that_share_and_is_met(text, path, select):
    result = draft(text)
    scenario = load(result)  # refused as "the report's figures break a limit" before
    part = _table(tomllib.loads(result.toml), *path)
    share = part["share"]
    assert share["value"] < 50.0
    assert share["source"].startswith("assumption: draft default, review: ")
    assert "narrowed from the even split 50 %" in share["source"]
    assert any("narrowed" in line for line in result.assumed)
    target = part["cagr_target"]
    achieved = _cagr(select(netsim.deterministic(scenario)), target["start"], target["end"])
    assert abs(achieved - target["value"]) <= target["tolerance"] + 1e-9


def test_a_part_s_cagr_no_default_share_can_hold_is_kept_out_with_its_reason():
    """The other segment's share is the report's, so the fast one's is what is left:
    nothing to narrow. Its CAGR is listed as skipped, and the draft loads."""
    text = SEGMENT.replace("in 2030, while sprockets", "in 2025, while sprockets").replace(
        "70.0%", "50.0%"
    )
    result = draft(text)
    load(result)
    (skipped,) = [s for s in result.skipped if "24.0% CAGR" in s.figure]
    assert "a draft default: the report gives none" in skipped.reason
    assert "not a target" in skipped.reason
    doc = tomllib.loads(result.toml)
    assert "cagr_target" not in doc["axes"]["product"]["segments"]["Sprockets"]


def test_a_default_share_that_breaks_calibration_is_named_as_the_draft_s_not_the_report_s():
    """Past the narrowing (a default allowing any premium), a calibration that cannot
    hold names the draft's default share and calls it netsim draft's fault."""
    findings = read_report(SEGMENT)
    made = compose(findings, None, Defaults(max_gap_pp=100.0))
    result = Draft.of(made, findings)
    with pytest.raises(netsim.ScenarioError) as caught:
        load(result)
    message = str(caught.value)
    assert "the report's figures break" not in message
    assert "the draft's default share of axes.product.segments.Sprockets" in message
    assert "fault of netsim draft" in message and len(message.splitlines()) == 1


def test_two_sizes_for_one_year_are_named_a_contradiction_and_the_draft_loads():
    text = """Tiles Market
The tiles market was valued at USD 250.0 billion in 2025 and is expected to reach USD 330.0 \
billion by 2031.
The tiles market stood at USD 262.0 billion in 2025.
"""
    result = draft(text)
    (skipped,) = [s for s in result.skipped if "262.0" in s.figure]
    assert skipped.reason.startswith("contradicts 'USD 250.0 billion in 2025'")
    assert "2025" in skipped.reason and "first_year_step" not in skipped.reason
    scenario = load(result)
    assert scenario.base_size == 250.0


def test_two_sizes_for_one_year_that_agree_to_the_coarser_rounding_are_one():
    """USD 2.9 billion is USD 2,890 million rounded: no contradiction to list."""
    text = """Tiles Market
The tiles market was valued at USD 2.9 billion in 2025 and is expected to reach USD 4.1 billion \
by 2031.
Market Overview
| Market Size (2025) | USD 2,890 Million |
"""
    result = draft(text)
    assert not [s for s in result.skipped if "2,890" in s.figure]
