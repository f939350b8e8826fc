"""Writing the scenario of several reports of one market: the base size's spread over
the reports' sizes, a driver spreading growth over the reports' CAGRs, and the table of
where they disagree, kept in the file as comments (the schema holds no table for it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import tomlkit
from tomlkit.items import Table

from netsim.drafting.read import Findings
from netsim.drafting.write.common import (
    DEFAULTS,
    Composition,
    Quoted,
    assumption,
    inline,
    report_source,
)

SPREAD_DRIVER = "publishers_growth_spread"


@dataclass(frozen=True)
class Spread:
    """The reports' spread: of the base size (low and high, times the central value)
    and of growth (low and high, pp from the central CAGR), with the CAGRs' words."""

    base: tuple[float, float] | None = None
    growth: tuple[float, float] | None = None
    growth_quote: str = ""


class Disagreements(Protocol):
    labels: tuple[str, ...]
    publishers: tuple[str, ...]
    disagreements: Sequence[Any]


def disagreement_lines(several: Disagreements) -> list[str]:
    """The table of where the reports disagree: a figure a line, each report's value
    ("-" where it gives none) and the spread (largest less smallest, percent of the
    central value; "-" for a figure one report gives)."""
    labels = [label if len(label) <= 24 else label[:21] + "..." for label in several.labels]
    width = max(len(label) for label in labels) + 2
    rows = several.disagreements
    first = min(60, max([len("figure"), *(len(row.figure) for row in rows)])) + 2
    lines = [
        f"{'figure':<{first}}" + "".join(f"{label:>{width}}" for label in labels) + "    spread"
    ]
    for row in rows:
        cells = "".join(
            f"{'-' if value is None else f'{value:,.4g}':>{width}}" for value in row.values
        )
        given = sum(value is not None for value in row.values)
        spread = f"{row.spread:>9.1f}%" if given > 1 else f"{'-':>10}"
        lines.append(f"{row.figure[: first - 2]:<{first}}{cells}{spread}")
    return lines


def several_composer(findings: Findings, name: str | None, spread: Spread, several: Any) -> Any:
    """The composer of several reports' merged findings."""
    from netsim.drafting.write import Composer

    class SeveralComposer(Composer):
        def base_scale_table(self) -> Table:
            if spread.base is None:
                return super().base_scale_table()
            low, high = spread.base
            scale = tomlkit.table()
            scale.add("dist", "pert")
            scale.add("low", low)
            scale.add("mode", 1.0)
            scale.add("high", high)
            parts = getattr(self.base_figure.quote, "parts", ())
            note = assumption(
                f"PERT from the smallest to the largest report's base size over the central "
                f"one: {low:g}-1-{high:g}"
            )
            scale.add("source", report_source(Quoted(parts), note))
            self.assume(f"market.base_scale: PERT {low:g}-1-{high:g} over the reports' base sizes")
            return scale

        def factors(self, document: Any) -> None:
            super().factors(document)
            if spread.growth is not None:
                self._growth_spread(document)

        def _growth_spread(self, document: Any) -> None:
            assert spread.growth is not None
            low, high = spread.growth
            timelines = _table_in(document, "timelines")
            timeline = _free("reports_spread", timelines)
            timelines.add(
                timeline,
                _timeline(self.base + 1, "the reports' growth spread acts in every forecast year"),
            )
            geographies = _table_in(document, "geographies")
            geography = _free("all_regions", geographies)
            table = tomlkit.table()
            table.add("weights", inline(**dict.fromkeys(self.regions, 1.0)))
            table.add("source", assumption("the reports' growth spread acts alike everywhere"))
            geographies.add(geography, table)
            parts = getattr(spread.growth_quote, "parts", ())
            source = report_source(
                Quoted(parts),
                assumption(
                    f"growth from the lowest to the highest report's CAGR, {low:+g} to {high:+g} "
                    "pp around the central one (no effect at its point)"
                ),
            )
            driver = tomlkit.table()
            driver.add("label", "Spread of the reports' growth figures")
            driver.add("impact", inline(dist="pert", low=low, mode=0.0, high=high, source=source))
            driver.add("timeline", timeline)
            driver.add("geography", geography)
            _table_in(document, "drivers").add(SPREAD_DRIVER, driver)
            self.assume(
                f"drivers.{SPREAD_DRIVER}: PERT {low:+g}/0/{high:+g} pp over the reports' CAGRs"
            )

        def compose(self) -> Composition:
            made = super().compose()
            lines = [
                "",
                "# Several reports drafted as one: "
                + ", ".join(
                    f"{label} ({publisher})" if publisher else label
                    for label, publisher in zip(several.labels, several.publishers, strict=True)
                ),
                "# Where they disagree (each report's value; spread = (largest - smallest) / "
                "central):",
                *(f"#   {line}" for line in disagreement_lines(several)),
                "",
            ]
            head, _, rest = made.toml.partition("\n\n")
            made.toml = head + "\n" + "\n".join(lines) + "\n" + rest
            return made

    return SeveralComposer(findings, name, DEFAULTS)


def _table_in(document: Any, name: str) -> Any:
    if name not in document:
        document.add(name, tomlkit.table(is_super_table=True))
    return document[name]


def _free(name: str, table: Any) -> str:
    taken, number, free = set(table), 2, name
    while free in taken:
        free, number = f"{name}_{number}", number + 1
    return free


def _timeline(onset: int, reason: str) -> Table:
    table = tomlkit.table()
    table.add("onset", onset)
    table.add("ramp_years", 1)
    table.add("source", assumption(f"{reason}: onset {onset}, full effect at once"))
    return table
