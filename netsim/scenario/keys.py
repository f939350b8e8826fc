"""The keys, types, bounds and defaults of a scenario's fixed-shape tables, declared once.

A fixed-shape table has the same keys wherever it stands: a figure with its source
(``{value, source}``: a base size, a share, a growth premium, a probability), a timeline,
the years. :data:`TABLES` declares each one's keys in the order they are read, and
:meth:`netsim.scenario.documents.Reader.fields` reads a table by it: each key checked by
its :class:`Key`, a key the table does not declare refused, and the messages those checks
give (``market.base_size.value=-1.0 must be > 0``). Tables keyed by the names a file
chooses (regions, segments, drivers) and tables whose keys depend on one another (a
target's ``year`` or ``start``/``end`` by its ``kind``, a distribution's parameters by its
``dist``: :mod:`netsim.scenario.distributions`) are read by their own functions, whose
domain rules are short named functions beside them.

Why not a validation library. pydantic v2 (strict models, extra keys forbidden) and
attrs with cattrs were tried on the ``[market]`` table. Each could give today's messages
through a table of its error types (``float_type`` -> ``must be a number``,
``extra_forbidden`` -> ``is not a known key``), but: pydantic costs 65-76 ms to import and
about 4 ms to build each model (the schema has some 40 tables), so 0.2 s on a 1.4 s
``netsim run`` whose start-up is being cut towards 1.3x the bare interpreter's (cattrs
with attrs: 35 ms to import); both report every fault of a document in the order of the
model's fields, where netsim names the first fault in the file's order and stops there;
and the rules that span tables (shares summing to 100 %, a target's years within the
scenario's, a name that is a region) would still be functions of netsim's own, as here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SOURCE", "TABLES", "Key"]


@dataclass(frozen=True)
class Key:
    """One key of a table.

    Attributes
    ----------
    kind : {"number", "whole", "text", "source"}
        A finite number (an int or a float, not a bool), a whole number (a TOML integer),
        a non-empty string, or a ``source`` (``report: ...``, ``study: ...`` or
        ``assumption: ...``).
    default : Any
        Its value when absent; ``...`` when it is required.
    minimum, maximum : float, optional
        Inclusive bounds of a number.
    positive : bool
        A number must be > 0.
    """

    kind: str
    default: Any = ...
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False


SOURCE = Key("source")
_FIGURE = {"value": Key("number"), "source": SOURCE}  # pp a year, or a size
_PERCENT = {"value": Key("number", minimum=0.0, maximum=100.0), "source": SOURCE}

TABLES: dict[str, dict[str, Key]] = {
    "scenario": {"name": Key("text"), "description": Key("text", "")},
    "years": {"base": Key("whole"), "final": Key("whole"), "source": SOURCE},
    "base size": {"value": Key("number", positive=True), "source": SOURCE},
    "growth": _FIGURE,  # market.baseline_growth, market.first_year_step, a growth_premium
    "share": _PERCENT,  # a region's or a segment's share of its whole
    "country share": {"value": Key("number", positive=True, maximum=100.0), "source": SOURCE},
    "timeline": {
        "onset": Key("number"),
        "ramp_years": Key("number", minimum=1.0),
        "source": SOURCE,
    },
    "probability": {"value": Key("number", minimum=0.0, maximum=1.0), "source": SOURCE},
    "duration": {"value": Key("whole", minimum=1), "source": SOURCE},
    "noise": {"value": Key("number", minimum=0.0), "source": SOURCE},
    "trend": {"value": Key("number", minimum=-50.0, maximum=50.0), "source": SOURCE},
}
"""Each fixed-shape table's keys, in the order they are read (the first fault found in
that order is the one named)."""
