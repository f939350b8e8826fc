"""Numbers in the notations of publishers' pages: decimal commas, spaces and apostrophes
between thousands, India's lakh and crore, common misspellings of a scale. Each is read
right (its value and its quote), never in part."""

from __future__ import annotations

import pytest

from netsim.drafting import draft
from netsim.drafting.read.numbers import MONEY, decimals_of, money_fields, number_value

PAGE = """Foo Market
The foo market was valued at {amount} in 2025 and is expected to grow at a CAGR of 5.0% \
from 2025 to 2030.
"""


@pytest.mark.parametrize(
    ("amount", "value", "scale", "currency"),
    [
        pytest.param("USD 2 890 million", 2890.0, "million", "USD", id="space-thousands"),
        pytest.param("USD 2'890 million", 2890.0, "million", "USD", id="apostrophe-thousands"),
        pytest.param("USD 2’890 million", 2890.0, "million", "USD", id="curly-apostrophe"),
        pytest.param("USD 3,5 billion", 3.5, "billion", "USD", id="decimal-comma"),
        pytest.param("EUR 1.234,5 million", 1234.5, "million", "EUR", id="dots-and-comma"),
        pytest.param("USD 2.26 tillion", 2.26, "trillion", "USD", id="tillion"),
        pytest.param("USD 4.1 billon", 4.1, "billion", "USD", id="billon"),
        pytest.param("Rs. 24,000 crore", 24000.0, "crore", "INR", id="rupees-crore"),
        pytest.param("INR 2.4 lakh crore", 2.4, "lakh crore", "INR", id="lakh-crore"),
        pytest.param("₹ 35 lakh", 35.0, "lakh", "INR", id="lakh"),
    ],
)
def test_an_amount_in_another_notation_is_read_right(amount, value, scale, currency):
    result = draft(PAGE.format(amount=amount))
    (size,) = result.findings.sizes
    assert (size.value, size.scale, size.currency) == (value, scale, currency)
    assert size.quote == f"{amount} in 2025"
    assert not result.skipped


@pytest.mark.parametrize(
    ("written", "value", "decimals"),
    [
        pytest.param("43,62", 43.62, 2, id="decimal-comma"),
        pytest.param("2,890", 2890.0, 0, id="comma-thousands"),
        pytest.param("1,234,567.5", 1234567.5, 1, id="comma-thousands-and-point"),
        pytest.param("2 890,25", 2890.25, 2, id="space-thousands-decimal-comma"),
        pytest.param("7.15", 7.15, 2, id="point"),
    ],
)
def test_number_notations(written, value, decimals):
    assert number_value(written) == value and decimals_of(written) == decimals


def test_a_share_and_a_cagr_with_decimal_commas_are_read_whole():
    text = """Foo Market
The foo market is valued at USD 2.5 billion in 2025 and should reach USD 3.5 billion by 2030.
Key Report Takeaways
- By product, tablets led with 43,62 % share in 2025, while sprays are set to grow at a \
10,01 % CAGR to 2030.
"""
    result = draft(text)
    (takeaway,) = result.findings.takeaways
    assert takeaway.largest.value == 43.62 and "43,62 %" in takeaway.largest.quote
    assert takeaway.fastest.value == 10.01 and "10,01 % CAGR" in takeaway.fastest.quote


def test_a_headline_cagr_with_a_decimal_comma_keeps_its_quote():
    text = """Foo Market
The foo market is valued at USD 3.1 billion in 2026 and grows at a 7,15 % CAGR from 2026 to 2031.
"""
    growth = draft(text).findings.growth
    assert growth.value == 7.15 and growth.quote.startswith("7,15 % CAGR")


def test_money_reads_a_scale_written_after_a_number_in_rupees():
    match = MONEY.search("worth 500 crore rupees in 2024")
    assert match is not None and money_fields(match)[2] == "crore"
