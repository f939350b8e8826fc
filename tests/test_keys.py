"""The fixed-shape tables declared once (netsim.scenario.keys) and read by their
declaration (Reader.fields): typed values, defaults, and each fault named by key path."""

from __future__ import annotations

import pytest

from netsim.errors import ScenarioError
from netsim.scenario.documents import Reader
from netsim.scenario.keys import TABLES

SOURCE = "assumption: test"


def _read(table: str, data: dict) -> dict:
    return Reader(data, "f.toml", "t").fields(TABLES[table])


def test_a_declared_table_gives_typed_values_and_its_defaults():
    assert _read("years", {"base": 2025, "final": 2031, "source": SOURCE}) == {
        "base": 2025,
        "final": 2031,
        "source": SOURCE,
    }
    assert _read("scenario", {"name": "x"}) == {"name": "x", "description": ""}
    duration = _read("duration", {"value": 3, "source": SOURCE})["value"]
    assert duration == 3 and isinstance(duration, int)


@pytest.mark.parametrize(
    ("table", "data", "message"),
    [
        pytest.param(
            "share", {"value": 101.0, "source": SOURCE}, "t.value=101.0 must be <= 100", id="above"
        ),
        pytest.param(
            "base size", {"value": 0, "source": SOURCE}, "t.value=0 must be > 0", id="not-positive"
        ),
        pytest.param(
            "years",
            {"base": 2025.0, "final": 2031, "source": SOURCE},
            "t.base=2025.0 must be a whole number (a TOML integer)",
            id="whole",
        ),
        pytest.param(
            "growth", {"value": "1", "source": SOURCE}, "t.value='1' must be a number", id="text"
        ),
        pytest.param("growth", {"value": 1.0}, "t.source is missing", id="no-source"),
        pytest.param(
            "growth",
            {"value": 1.0, "source": SOURCE, "colour": 1},
            "t.colour is not a known key",
            id="unknown-key",
        ),
        pytest.param(
            "probability",
            {"value": True, "source": SOURCE},
            "t.value=True must be a number",
            id="boolean",
        ),
        pytest.param(
            "timeline",
            {"onset": 2026, "ramp_years": 0.5, "source": SOURCE},
            "t.ramp_years=0.5 must be >= 1",
            id="ramp",
        ),
    ],
)
def test_each_fault_is_named_by_its_key_path(table, data, message):
    with pytest.raises(ScenarioError) as refused:
        _read(table, data)
    assert str(refused.value) == f"f.toml: {message}"


def test_the_first_fault_in_the_declared_order_is_named():
    data = {"base": "a", "final": "b", "source": SOURCE}
    with pytest.raises(ScenarioError, match=r"t\.base='a'"):
        _read("years", data)
