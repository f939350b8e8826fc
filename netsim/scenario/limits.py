"""The bounds a scenario's figures must keep, so that no accepted scenario can give an
impossible market (negative, infinite, NaN).

Each bound has a default here and may be moved in the file's ``[limits]`` table, with a
source like every number (a market that really can grow 80 % a year says so, and why).
Growth figures are in percentage points per year.

* ``growth_pp`` (50): the draws of every driver's and restraint's impact, every given
  growth premium, ``baseline_growth``, ``first_year_step`` and every CAGR target lie in
  ``[-growth_pp, growth_pp]``;
* ``event_pp`` (100): an event's impact on its segment (a segment cannot lose more than
  all of its value);
* ``noise_sd_pp`` (10): the year-to-year noise;
* ``max_years`` (60): the forecast span, onset delays and ramps; years lie in
  ``[1900, 2200]``;
* ``max_value`` (1e30, in the market's unit): no market value in any draw may exceed
  it (the cube's float32 cells hold up to 3.4e38); and the base market may not be below
  ``MIN_VALUE`` (1e-25, fixed) in any draw;
* ``solved_baseline_pp`` ([-20, 30]), ``solved_step_pp`` ([-20, 20]),
  ``solved_premium_pp`` ([-25, 25]): where calibration's solutions may land; a target
  that forces one outside (a mistyped figure) fails the load, naming the target.

A parsed scenario is checked against them by
:func:`netsim.scenario.limit_checks.check_limits`. Beyond these per-figure bounds,
:mod:`netsim.model.bounds` checks the worst case of every draw after calibration: no
country's growth can reach -100 % in a year.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = [
    "EARLIEST_YEAR",
    "LATEST_YEAR",
    "MAX_RELATIVE_WEIGHT",
    "MAX_TILT",
    "MIN_VALUE",
    "Limits",
    "read_limits",
]

EARLIEST_YEAR = 1900
LATEST_YEAR = 2200
# the smallest base market (in its unit): float32 cells keep 7 digits down to 1.2e-38, and a
# country's segment may hold a millionth of the market, which may shrink a thousandfold
MIN_VALUE = 1e-25
MAX_RELATIVE_WEIGHT = 1e6  # a geography's weights are relative; larger ones only overflow
MAX_TILT = 1e3  # a tilt is pp of segment growth per pp of impact


@dataclass(frozen=True)
class Limits:
    """Bounds on a scenario's figures (see the module notes); pp per year unless said."""

    growth_pp: float = 50.0
    event_pp: float = 100.0
    noise_sd_pp: float = 10.0
    max_years: int = 60
    max_value: float = 1e30
    solved_baseline_pp: tuple[float, float] = (-20.0, 30.0)
    solved_step_pp: tuple[float, float] = (-20.0, 20.0)
    solved_premium_pp: tuple[float, float] = (-25.0, 25.0)
    source: str = "netsim's defaults"


def read_limits(reader: Any) -> Limits:
    """The ``[limits]`` table (a :class:`netsim.scenario.documents.Reader`), or the
    defaults when the file has none."""
    if reader is None:
        return Limits()
    values: dict[str, Any] = {}
    defaults = Limits()
    for field in fields(Limits):
        if field.name == "source" or not reader.has(field.name):
            continue
        default = getattr(defaults, field.name)
        key = reader.join(field.name)
        if isinstance(default, tuple):
            raw = reader.raw(field.name)
            if not (isinstance(raw, list) and len(raw) == 2):
                raise reader.error(f"{key} must be [low, high]", key)
            low, high = (reader.check_number(v, key) for v in raw)
            if not low < high:
                raise reader.error(f"{key}={raw} must be increasing", key)
            values[field.name] = (low, high)
        elif isinstance(default, int):
            values[field.name] = int(reader.number(field.name, integer=True, minimum=1))
        else:
            values[field.name] = reader.number(field.name, positive=True)
    values["source"] = reader.source()
    reader.finish()
    if values.get("max_value", 0.0) > 1e36:
        raise reader.error(f"{reader.join('max_value')} must be <= 1e36 (float32 cells)")
    return Limits(**values)
