"""Rules for the names a scenario gives: axes, segments, regions, countries, drivers, events.

Names travel far: an axis name becomes a dimension and a variable (``by_<axis>``) of
every run file, a ``--by`` choice and a ``dim=label`` key; segment, region and country
names become coordinate labels in NetCDF, Zarr, CSV, HTML and plots; driver and event
ids become parts of parameter names. So they are checked once, at load:

* an axis name is a plain identifier (a letter, then letters, digits or ``_``) and
  not one of the layout's own names (:data:`RESERVED_NAMES`);
* every other name is any text without control characters (NUL, newlines, tabs)
  and without spaces at either end; dots, slashes, quotes and ``$`` are fine
  everywhere (parameters keep their owner, so a name is never split on a dot);
* a region may not be called ``global`` (its noise would share the global noise's
  parameter names).
"""

from __future__ import annotations

import re

__all__ = ["RESERVED_NAMES", "axis_name_problem", "label_problem", "text_problem"]

# dimension, coordinate and variable names of the layout and the analyses
RESERVED_NAMES = frozenset(
    {
        "total",
        "draw",
        "year",
        "country",
        "region",
        "country_region",
        "global",
        "parameter",
        "quantile",
        "bound",
        "scenario",
        "driver",
        "period",
        "chunk",
        "inputs",
        "members",
        "source",
        "unit",
        "kind",
        "cell",
        "output",
        # variables of the analyses' results, whose dimensions an axis becomes
        "value",
        "low",
        "high",
        "coverage",
        "relative_halfwidth",
        "probability",
        "standard_error",
        "mean",
        "difference",
        "prob_greater",
        "mean_difference",
        "recalibrated",
        "base",
        "other",
        "first_order",
        "total_order",
        "variance",
        "swing",
        "input_low",
        "input_high",
        "input_base",
        "forecast",
        "baseline",
        "contribution",
        "share",
        "shortfall",
        "reference_offset",
        "interaction",
        "threshold",
        "median",
        # the patient funnel's outputs and its reconciliation
        "stage",
        "patients",
        "patient_total",
        "check",
        "ratio",
        "top_down",
        "patient_based",
        "explained",
    }
)
# the suffixes of a reduced run's variables (by_<axis>_region, ..._interval)
RESERVED_SUFFIXES = ("_region", "_global", "_interval")

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # newlines and tabs allowed


def axis_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an axis, or None."""
    if not _IDENTIFIER.fullmatch(name):
        return "must be a letter followed by letters, digits or _ (it names a dimension)"
    if name in RESERVED_NAMES:
        return "is one of netsim's own names (docs/config.md lists them)"
    if name.endswith(RESERVED_SUFFIXES):
        return f"ends in one of {', '.join(RESERVED_SUFFIXES)} (netsim's own variable names)"
    if name.startswith("by_"):
        return "starts with by_ (netsim's own variable names)"
    return None


def label_problem(name: str) -> str | None:
    """Why ``name`` cannot be a segment, region, country, driver or event name, or None."""
    if not name.strip():
        return "must not be empty"
    if _CONTROL.search(name):
        return "must not hold control characters (NUL, newlines, tabs)"
    if name != name.strip():
        return "must not start or end with a space"
    return None


def text_problem(text: str) -> str | None:
    """Why ``text`` (a label, quote, source or description) cannot be stored, or None."""
    if _TEXT_CONTROL.search(text):
        return "must not hold control characters other than newlines and tabs"
    return None
