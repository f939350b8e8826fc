"""Segments' and regions' figures written as sentences anywhere on a page (not only as
"Key Report Takeaways" bullets), read and placed, and the sentences that look like them
but are not a part's share of the market, left out with their reason.

Each report here is a short synthetic text for one phrasing; the fixtures in
tests/fixtures/reports/ (``*_prose``, ``report_highlights_based_on``) are whole pages in
these publishers' layouts, scored by tests/test_drafting_fixtures.py.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from netsim.drafting import draft, load

HEAD = """Sealant Market Size and Share
The global sealant market size was valued at USD 12.40 billion in 2024 and is projected to \
reach USD 17.10 billion by 2030, growing at a CAGR of 5.5% from 2024 to 2030.
"""


def _placed(text: str) -> dict:
    result = draft(HEAD + text)
    load(result)  # every draft here validates and calibrates
    return tomllib.loads(result.toml)


@pytest.mark.parametrize(
    ("sentence", "region", "value"),
    [
        pytest.param(
            "North America dominated the market with a share of 38.5% in 2024.",
            "North America",
            38.5,
            id="dominated-with-a-share",
        ),
        pytest.param(
            "In 2024, Europe led the market, achieving over 31.2% share.",
            "Europe",
            31.2,
            id="year-first-led",
        ),
        pytest.param(
            "- Asia Pacific sealant market held the largest revenue share of 44.0% in 2024.",
            "Asia Pacific",
            44.0,
            id="bullet-a-place-s-market",
        ),
        pytest.param(
            "The U.S. emerged as the leading country in 2024, commanding a market share of 21.7%.",
            "U.S.",
            21.7,
            id="country-year-before",
        ),
    ],
)
def test_a_place_s_share_in_prose_is_placed(sentence, region, value):
    doc = _placed(sentence + "\n")
    table = doc.get("regions", {}).get(region) or doc["countries"][region]
    assert table["share"]["value"] == value
    assert table["share"]["source"].startswith("report: '")


@pytest.mark.parametrize(
    ("sentence", "place"),
    [
        pytest.param(
            "Asia Pacific is anticipated to register the fastest CAGR of 7.1% over the forecast "
            "period.",
            "Asia Pacific",
            id="fastest-cagr-forecast-period",
        ),
        pytest.param(
            "The Middle East & Africa region is expected to grow at the fastest CAGR of 7.1% "
            "from 2024 to 2030.",
            "Middle East & Africa",
            id="region-word-stated-years",
        ),
    ],
)
def test_a_place_s_cagr_in_prose_is_its_target_not_the_market_s(sentence, place):
    result = draft(HEAD + sentence + "\n")
    doc = tomllib.loads(result.toml)
    assert doc["regions"][place]["cagr_target"]["value"] == 7.1
    assert "cagr_2024_2030" not in doc["market"]["targets"] or (
        doc["market"]["targets"]["cagr_2024_2030"]["value"] == 5.5
    )
    assert not [s for s in result.skipped if "7.1%" in s.figure]


@pytest.mark.parametrize(
    "sentence",
    [
        pytest.param(
            "By product, the silicone segment led the market with the largest revenue share of "
            "42.1% in 2024.",
            id="by-product-led",
        ),
        pytest.param(
            "Based on product, the silicone segment accounted for the largest share of 42.1% in "
            "2024.",
            id="based-on-accounted",
        ),
        pytest.param(
            "By Product Analysis\nThe silicone segment held the dominant share of 42.1% in 2024.",
            id="under-a-by-heading",
        ),
    ],
)
def test_a_segment_s_share_in_prose_is_placed_on_its_segmentation(sentence):
    doc = _placed(sentence + "\n")
    segment = doc["axes"]["product"]["segments"]["Silicone"]
    assert segment["share"]["value"] == 42.1


def test_a_segment_named_as_listed_is_placed_without_the_word_segment():
    doc = _placed(
        "Silicone held 42.1% of revenue in 2024, while polyurethane is set to grow at the "
        "fastest CAGR of 7.4% through 2030.\n"
        "Segmentation Overview\n- By Product\n- Silicone\n- Polyurethane\n- Acrylic\n"
    )
    segments = doc["axes"]["product"]["segments"]
    assert segments["Silicone"]["share"]["value"] == 42.1
    assert segments["Polyurethane"]["cagr_target"]["value"] == 7.4


@pytest.mark.parametrize(
    ("sentence", "figure", "reason"),
    [
        pytest.param(
            "With a market size of USD 4.90 billion in 2024, North America keeps its lead.",
            "USD 4.90 billion",
            "North America's amount, not the market's size",
            id="a-region-s-amount",
        ),
        pytest.param(
            "The U.S. sealant market was valued at USD 3.10 billion in 2023.",
            "USD 3.10 billion",
            "U.S.'s amount, not the market's size",
            id="a-country-s-market",
        ),
        pytest.param(
            "The U.S. dominated the North America market with a share of 81% in 2024.",
            "81%",
            "a figure of North America's market",
            id="a-share-of-a-region",
        ),
        pytest.param(
            "Silicone installations rose 45% in 2024.\n"
            "Segmentation Overview\n- By Product\n- Silicone\n- Acrylic\n",
            "45%",
            "a change or another ratio, not a share",
            id="a-rise-is-not-a-share",
        ),
        pytest.param(
            "The hybrid segment held a share of 12% in 2024.",
            "12%",
            "no segmentation is named for it",
            id="a-segment-of-no-segmentation",
        ),
    ],
)
def test_what_looks_like_a_part_s_figure_but_is_not_is_skipped_with_its_reason(
    sentence, figure, reason
):
    result = draft(HEAD + sentence + "\n")
    load(result)
    doc = tomllib.loads(result.toml)
    assert doc["market"]["base_size"]["value"] == 12.4
    assert sorted(t["value"] for t in doc["market"]["targets"].values()) == [17.1]
    (skipped,) = [s for s in result.skipped if s.figure == figure]
    assert reason in skipped.reason
    for table in doc["regions"].values():
        assert not table["share"]["source"].startswith("report:")
    assert "axes" not in doc or all(
        not s["share"]["source"].startswith("report:")
        for a in doc["axes"].values()
        for s in a["segments"].values()
    )


def test_a_report_on_one_region_s_market_keeps_its_own_size():
    """The report's market is Europe's: its first sized market is the market, not a part."""
    result = draft(
        "Bicycle Market\nThe European bicycle market stands at EUR 450.2 million in 2025 and is "
        "projected to reach EUR 610.8 million by 2030.\n"
    )
    doc = tomllib.loads(result.toml)
    assert doc["market"]["base_size"]["value"] == 450.2 and doc["market"]["unit"] == "EUR million"


def test_a_prose_figure_a_takeaway_already_gives_is_read_once():
    doc_text = (
        "Key Report Takeaways\n"
        "- By geography, North America accounted for 38.5% of the market in 2024, while "
        "Asia-Pacific is poised for the quickest 7.2% CAGR up to 2030.\n"
        "Geography Analysis\n"
        "North America accounted for 38.5% of the market in 2024.\n"
    )
    result = draft(HEAD + doc_text)
    assert not [s for s in result.skipped if "38.5" in s.figure]
    assert tomllib.loads(result.toml)["regions"]["North America"]["share"]["value"] == 38.5


def test_a_forecast_cagr_after_last_year_s_growth_runs_from_that_growth_s_end():
    """The Business Research Company's layout: "It will grow from $18.4 billion in 2025 to
    $19.62 billion in 2026 at a CAGR of 6.6 %", then "It will grow to $25.1 billion in 2030
    at a CAGR of 6.4 %". The first CAGR's period is its sentence's two years; the second is
    the forecast's, from 2026 (it was skipped, and the first taken as 2025-2030)."""
    path = (
        Path(__file__).parent
        / "fixtures"
        / "reports"
        / "business_research_history_then_forecast.txt"
    )
    result = draft(path.read_text(encoding="utf-8"))
    targets = tomllib.loads(result.toml)["market"]["targets"]
    growth = targets["cagr_2026_2030"]
    assert (growth["start"], growth["end"], growth["value"]) == (2026, 2030, 6.4)
    assert [k for k in targets if k.startswith("cagr")] == ["cagr_2026_2030"]
    skipped = " ".join(s.reason for s in result.skipped)
    assert "a headline CAGR to 2026; the one to 2030 is kept" in skipped
