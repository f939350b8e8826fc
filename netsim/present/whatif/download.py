"""The page's "Download (xlsx)": the changed scenario against the file's, as a workbook.

The workbook is :func:`netsim.present.workbook.comparison_workbook` of the same paired
draws the page shows (the same seed and draws: the page's runs and ``compare``'s give the
same numbers), by world and region for the total and by world for each segmentation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from netsim.analyze.comparison import compare
from netsim.present.whatif.server import Export
from netsim.present.workbook import comparison_workbook, workbook_bytes

__all__ = ["CHANGED_LABEL", "XLSX_TYPE", "xlsx_export"]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHANGED_LABEL = "what-if"


def _workbook(session: Any, changes: Mapping[str, float], view: str) -> bytes:
    """The workbook of the page's current changes (``view`` does not change it: every
    view's cells are in it)."""
    scenario = session.scenario(changes)
    base = session.base
    cells = [("total", "global"), ("total", "region")]
    cells += [(f"by_{axis.name}", "global") for axis in base.axes]
    results = [
        compare(base, {CHANGED_LABEL: scenario}, session.draws, session.seed, "mc", output, by)
        for output, by in cells
    ]
    return workbook_bytes(comparison_workbook(results, base, [scenario]))


def xlsx_export() -> Export:
    """The page's workbook download."""
    return Export("Download (xlsx)", XLSX_TYPE, "xlsx", _workbook)
