"""Writing a scenario document from a report's :class:`~netsim.drafting.read.Findings`.

Every figure the report gives becomes a number whose source quotes the report's own
words (``report: '...'``); every gap gets a neutral default whose source says so
(``assumption: draft default, review: <reason>``) and is listed in the draft's
``assumed``; a figure that cannot be placed (a segment the report does not list, a
CAGR the sizes contradict) is left out and listed in ``skipped`` with its sentence.
Each module writes one part of the document (:mod:`~netsim.drafting.write.market`,
:mod:`~netsim.drafting.write.geography`, :mod:`~netsim.drafting.write.segments`,
:mod:`~netsim.drafting.write.drivers`); the document is written with :mod:`tomlkit` and
read back with :mod:`tomllib` before it is returned.
"""

from __future__ import annotations

import tomllib

import tomlkit

from netsim.drafting.read import Findings
from netsim.drafting.write.common import DEFAULTS, Composition, Defaults
from netsim.drafting.write.drivers import DriversPart
from netsim.drafting.write.geography import GeographyPart
from netsim.drafting.write.market import MarketPart
from netsim.drafting.write.segments import SegmentsPart

__all__ = ["DEFAULTS", "Composer", "Composition", "Defaults", "compose"]


class Composer(MarketPart, GeographyPart, SegmentsPart, DriversPart):
    """Writes a scenario document from a report's findings, part by part."""

    def compose(self) -> Composition:
        self.market()
        document = tomlkit.document()
        document.add(tomlkit.comment(f"netsim scenario drafted from a report: {self.name}."))
        document.add(
            tomlkit.comment(
                "Every 'report:' source quotes the report; every 'assumption: draft default, "
                "review: ...'"
            )
        )
        document.add(
            tomlkit.comment(
                "is a neutral default to replace with better knowledge. Schema: docs/config.md."
            )
        )
        document.add(tomlkit.nl())
        head = tomlkit.table()
        head.add("name", self.name)
        head.add(
            "description",
            f"Drafted from the report's text: {self.unit}, {self.base}-{self.final}; review "
            "every draft default",
        )
        document.add("scenario", head)
        self.market_tables(document)
        self.geography(document)
        self.axes(document)
        self.factors(document)
        self.noise(document)
        if self.checked:
            document.add(tomlkit.nl())
            document.add(
                tomlkit.comment("Checked, not targets (the targets above pin the same years):")
            )
            for line in self.checked:
                document.add(tomlkit.comment(f"  {line}"))
        text = tomlkit.dumps(document)
        tomllib.loads(text)  # the document reads back as TOML
        return Composition(
            text,
            self.name,
            self.assumed,
            self.skipped,
            self.unit,
            (self.base, self.final),
            self.placed,
            self.figures,
            self.checked,
        )


def compose(
    findings: Findings, name: str | None = None, defaults: Defaults = DEFAULTS
) -> Composition:
    """Write the scenario document for a report's findings.

    Parameters
    ----------
    findings : Findings
        What :func:`netsim.drafting.read.read_report` found.
    name : str, optional
        The scenario's name (default: from the report's title).
    defaults : Defaults
        The neutral defaults for what the report does not say.

    Raises
    ------
    ScenarioError
        When the report states no market size: there is nothing to draft.
    """
    return Composer(findings, name, defaults).compose()
