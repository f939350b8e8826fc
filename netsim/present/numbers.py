"""Market values as text, whatever the market's unit.

A market counted in ``USD million`` has values in the thousands, one in ``USD billion``
or ``EUR billion`` values of a few units: a fixed number of decimals would print the
second as ``4.4`` and its small countries as ``0.0``. The decimals here follow the
magnitude of the values shown, so every table, note and plot keeps about five
significant digits of its largest value (one decimal for values in the thousands, as
before).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["format_value", "tick_decimals", "tick_formatter", "value_decimals"]

SIGNIFICANT = 5  # digits of the largest value a table shows
MAX_DECIMALS = 12  # beyond this a value is printed as it comes (a tiny unit)


def value_decimals(
    values: Iterable[float], minimum: int = 1, significant: int = SIGNIFICANT
) -> int:
    """Decimals that show the largest of ``values`` (in the market's unit) to
    ``significant`` significant digits, and at least ``minimum``.

    Parameters
    ----------
    values : iterable of float
        Values in one unit; NaN, inf and zero are ignored.
    minimum : int
        The fewest decimals.
    significant : int
        Significant digits of the largest value.

    Returns
    -------
    int
        Between ``minimum`` and :data:`MAX_DECIMALS` (``minimum`` when no value is
        finite and non-zero).
    """
    magnitudes = [abs(float(v)) for v in values if math.isfinite(float(v)) and float(v) != 0.0]
    if not magnitudes:
        return minimum
    leading = math.floor(math.log10(max(magnitudes)))  # 3 for 4,370; 0 for 4.37
    return max(minimum, min(MAX_DECIMALS, significant - 1 - leading))


def format_value(value: float, decimals: int | None = None) -> str:
    """One value with thousands separators, and ``decimals`` decimals (by default those
    of :func:`value_decimals` for the value alone)."""
    value = float(value)
    if decimals is None:
        decimals = value_decimals([value])
    return f"{value:,.{decimals}f}"


def tick_formatter() -> Any:
    """A matplotlib formatter for a value axis: thousands separators and as many decimals
    as the ticks' spacing needs (``2,500`` and ``3,000`` for a market in millions;
    ``3.25`` and ``3.50`` for one in billions). matplotlib is imported here, on use."""
    from matplotlib.ticker import Formatter

    class _Ticks(Formatter):
        def format_ticks(self, values: Sequence[float]) -> list[str]:
            decimals = tick_decimals(values)
            return [f"{v:,.{decimals}f}" for v in values]

        def __call__(self, x: float, pos: int | None = None) -> str:  # one value alone
            return format_value(x)

    return _Ticks()


def tick_decimals(ticks: Sequence[float]) -> int:
    """The fewest decimals (at most :data:`MAX_DECIMALS`) that write every tick exactly."""
    finite = [float(t) for t in ticks if math.isfinite(float(t))]
    for decimals in range(MAX_DECIMALS + 1):
        scale = 10.0**decimals
        if all(
            abs(t * scale - round(t * scale)) <= 1e-6 * max(1.0, abs(t * scale)) for t in finite
        ):
            return decimals
    return MAX_DECIMALS
