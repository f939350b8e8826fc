"""Layouts and phrasings read since the first fixtures: an overview box whose labels and
values stand on lines of their own, a CAGR two precise sizes pin (kept as a check), the
unit in brackets after the number, and the CAGR phrasing "CAGR (growth rate) is expected
to be around X %".

Each report here is a short synthetic text for one layout.
"""

from __future__ import annotations

import tomllib

import pytest

from netsim.drafting import draft, load

STACKED = """Patient Monitoring Services Market
Report Description

Forecast Period

2026-2030

Market Size (2024)

USD 412.60 Billion

CAGR (2025-2030)

5.83%

Largest Market

     North America

Market Size (2030)

USD 575.10 Billion

Market Overview

The patient monitoring services market was valued at USD 412.60 Billion in 2024 and is \
expected to reach USD 575.10 Billion by 2030 with a CAGR of 5.83%.
"""


def test_an_overview_box_with_labels_and_values_on_lines_of_their_own_is_read():
    result = draft(STACKED)
    load(result)
    targets = tomllib.loads(result.toml)["market"]["targets"]
    assert targets["size_2030"]["value"] == 575.10
    cagr = targets["cagr_2025_2030"]
    assert (cagr["value"], cagr["start"], cagr["end"]) == (5.83, 2025, 2030)
    # the headline's CAGR takes its years from the box, and quotes it
    assert "CAGR (2025-2030) 5.83%" in cagr["source"]
    assert result.findings.largest_market == "North America"
    assert not result.skipped


@pytest.mark.parametrize(
    ("sizes", "checked"),
    [
        pytest.param(("352.00", "1,022.17"), True, id="precise-sizes-pin-it"),
        pytest.param(("352", "1,022"), False, id="whole-sizes-leave-it-a-target"),
    ],
)
def test_a_cagr_two_precise_sizes_pin_is_kept_as_a_check(sizes, checked):
    """16.45 % over 2024-2031 from USD 352.00 to 1,022.17 billion (16.450 %): the sizes'
    rounding moves the rate by 0.0003 pp, far less than the CAGR's own 0.005, so it adds
    nothing a calibration could meet; written as whole billions (0.03 pp) it does."""
    text = (
        "Data Backup Services Market\nThe data backup services market size was valued at USD "
        f"310.25 billion in 2023 and is projected to grow from USD {sizes[0]} billion in 2024 "
        f"to USD {sizes[1]} billion by 2031, exhibiting a CAGR of 16.45% during the forecast "
        "period.\n"
    )
    result = draft(text)
    load(result)
    targets = tomllib.loads(result.toml)["market"]["targets"]
    assert ("cagr_2024_2031" not in targets) is checked
    assert any("over 2024-2031" in line and "(within" in line for line in result.checked) is checked
    assert not [s for s in result.skipped if "16.45" in s.figure]


def test_the_unit_in_brackets_and_a_cagr_expected_to_be_around_are_read():
    result = draft(
        "Wiring Harness Market\nThe Wiring Harness Market Size was estimated at 58.4 (USD "
        "Billion) in 2024. The market is expected to grow from 61.2 (USD Billion) in 2025 to "
        "92.7 (USD Billion) till 2034, at a CAGR (growth rate) is expected to be around 4.72% "
        "during the forecast period (2025 - 2034).\n"
    )
    load(result)
    doc = tomllib.loads(result.toml)
    assert doc["market"]["unit"] == "USD billion" and doc["market"]["base_size"]["value"] == 58.4
    assert doc["years"]["final"] == 2034
    targets = doc["market"]["targets"]
    assert (targets["size_2025"]["value"], targets["size_2034"]["value"]) == (61.2, 92.7)
    # sizes of one decimal leave the CAGR more to say than they pin: a target
    cagr = targets["cagr_2025_2034"]
    assert (cagr["value"], cagr["tolerance"]) == (4.72, 0.005)
