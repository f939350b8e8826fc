"""Rules for the names a scenario gives: axes, segments, regions, countries, drivers, events.

Names travel far: an axis name becomes a dimension and a variable (``by_<axis>``) of
every run file, a ``--by`` choice and a ``dim=label`` key; segment, region and country
names become coordinate labels in NetCDF, Zarr, CSV, HTML and plots; driver and event
ids become parts of parameter names. So they are checked once, at load:

* an axis name is a plain identifier (a letter, then letters, digits or ``_``) and
  not one of the layout's own names (:data:`RESERVED_NAMES`);
* every other name is any text without control characters (NUL, newlines, tabs),
  without invisible characters (zero-width spaces, direction marks and overrides, byte
  order marks: a name must look like what it is), without spaces at either end or two
  in a row (a web page shows them as one), not
  starting with ``=``, ``+``, ``-`` or ``@`` (a spreadsheet opening a CSV file reads
  such a cell as a formula) and at most :data:`MAX_NAME` characters long; dots,
  slashes, quotes, ``%``, ``{}``, ``$``, markup and emoji are fine everywhere
  (parameters keep their owner, so a name is never split on a dot);
* two names of one kind (and a region and a country) may not differ only by case or
  Unicode form (NFC ``é`` against NFD ``e`` + accent): spreadsheets, case-insensitive
  file systems and readers would take them for one (:func:`folded`);
* no name may be ``source``, the key of a table's source (tables of countries, regions
  or segments list them beside it);
* a region may not be called ``global`` (its noise would share the global noise's
  parameter names).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "MAX_NAME",
    "RESERVED_NAMES",
    "axis_name_problem",
    "folded",
    "label_problem",
    "shown",
    "text_problem",
]

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
        "gap",
        "factor",
        "mix_segment",
    }
)
# the suffixes of a reduced run's variables (by_<axis>_region, ..._interval)
RESERVED_SUFFIXES = ("_region", "_global", "_interval")

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# C0 and C1 controls, line and paragraph separators, lone surrogates, noncharacters
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
# characters that show as nothing or move the text around them: a soft hyphen, the Arabic
# letter mark, the Mongolian vowel separator, zero-width spaces, joiners and direction
# marks, embeddings and overrides, word joiners and invisible operators, isolates, byte
# order marks, tag characters
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\U000e0001\U000e0020-\U000e007f]"
)
_ZERO_WIDTH_JOINER = "\u200d"
_SPACES = re.compile(r"\s\s")
# a cell starting with one of these is a formula to a spreadsheet opening a CSV file
FORMULA_STARTS = ("=", "+", "-", "@")
MAX_NAME = 200  # characters: a name labels table columns, legends and headings
MAX_SHOWN = 60  # characters of a name quoted in a message
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
    if name == "source":
        return (
            "is taken: it is the key of a table's source (country shares, price indices and "
            "population figures list places beside it)"
        )
    if _CONTROL.search(name):
        return "must not hold control characters (NUL, newlines, tabs)"
    if any(not _joins_emoji(name, m.start()) for m in _INVISIBLE.finditer(name)):
        return (
            "must not hold invisible characters (zero-width spaces, direction marks or "
            "overrides, byte order marks): a name must look like what it is"
        )
    if name != name.strip():
        return "must not start or end with a space"
    if _SPACES.search(name):
        return "must not hold two spaces in a row (a web page shows them as one)"
    if name.startswith(FORMULA_STARTS):
        return (
            f"must not start with {', '.join(FORMULA_STARTS)} "
            "(a spreadsheet opening a CSV file would read it as a formula)"
        )
    if len(name) > MAX_NAME:
        return (
            f"is {len(name):,} characters long, more than {MAX_NAME} (it labels table "
            "columns, plot legends and headings)"
        )
    return None


def _joins_emoji(name: str, at: int) -> bool:
    """Whether the character at ``at`` is a zero-width joiner inside an emoji sequence
    (a family or a profession emoji is drawn from several joined ones)."""
    if name[at] != _ZERO_WIDTH_JOINER or at == 0 or at == len(name) - 1:
        return False
    before, after = name[at - 1], name[at + 1]
    return (
        unicodedata.category(before) in ("So", "Sk", "Mn") and unicodedata.category(after) == "So"
    )


def shown(name: str) -> str:
    """``name`` quoted for a message, cut after :data:`MAX_SHOWN` characters."""
    if len(name) <= MAX_SHOWN:
        return repr(name)
    return f"{name[:MAX_SHOWN]!r}... ({len(name):,} characters)"


def folded(name: str) -> str:
    """The form in which two names are the same name to a reader: Unicode compatibility
    form (NFKC: a precomposed ``é`` and ``e`` with a combining accent, a full-width ``Ａ``
    and ``A``) and case folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def text_problem(text: str) -> str | None:
    """Why ``text`` (a label, quote, source or description) cannot be stored, or None."""
    if _TEXT_CONTROL.search(text):
        return "must not hold control characters other than newlines and tabs"
    return None
