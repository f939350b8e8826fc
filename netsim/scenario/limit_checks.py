"""Every figure of a parsed scenario within its :class:`~netsim.scenario.limits.Limits`
(the bounds, their defaults and their reasons are in :mod:`netsim.scenario.limits`).

Each rule is a short named function of the scenario and a :class:`_Breach` (which
builds the error naming the limit broken and the figures that break it); they run in
the order of :data:`RULES`, and the first broken one is the error.
"""

from __future__ import annotations

from collections.abc import Callable

from netsim.errors import ScenarioError
from netsim.scenario.limits import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    MAX_RELATIVE_WEIGHT,
    MAX_TILT,
    MIN_VALUE,
    Limits,
)
from netsim.scenario.schema import Scenario

__all__ = ["RULES", "check_limits"]


class _Breach:
    """Builds the error of a broken limit: its text names the figure and says when the
    limits were moved in the file."""

    def __init__(self, scenario: Scenario):
        self.path = scenario.path
        self.moved = (
            "" if scenario.limits.source == Limits().source else " (limits set in the file)"
        )

    def __call__(
        self, key: str, message: str, figures: tuple[str, ...] | None = None
    ) -> ScenarioError:
        """The error, naming the limit broken (``breach``) and the key paths of the
        figures that break it (``figures``, default ``key``)."""
        text = f"{key}{message}{self.moved}"
        return ScenarioError(
            text,
            path=self.path,
            key=key,
            breach=text,
            figures=(key,) if figures is None else figures,
        )

    def within(
        self,
        key: str,
        low: float,
        high: float,
        bound: float,
        what: str,
        name: str,
        figure: str = "",
    ) -> None:
        """Refuse values reaching beyond ``[-bound, bound]`` (NaN too)."""
        if not (-bound <= low <= high <= bound):
            raise self(
                key,
                f": its values reach [{low:.6g}, {high:.6g}] {what}, beyond +-{bound:g} "
                f"(limits.{name})",
                (figure or key,),
            )


def years_within_limits(scenario: Scenario, fail: _Breach) -> None:
    """The years within 1900-2200 and the forecast no longer than ``max_years``."""
    years, limits = scenario.years, scenario.limits
    if not (years[0] >= EARLIEST_YEAR and years[-1] <= LATEST_YEAR):
        raise fail(
            "years",
            f"={years[0]}-{years[-1]} must lie within {EARLIEST_YEAR}-{LATEST_YEAR}",
            ("years.base", "years.final"),
        )
    if len(years) - 1 > limits.max_years:
        raise fail(
            "years.final",
            f"={years[-1]} gives {len(years) - 1} forecast years, over limits.max_years="
            f"{limits.max_years}",
            ("years.base", "years.final"),
        )


def base_market_within_limits(scenario: Scenario, fail: _Breach) -> None:
    """The base market times every draw of its scale: above 0, no country below
    ``MIN_VALUE`` (float32 cells), the whole at most ``max_value``."""
    low, high = scenario.base_scale.distribution.support
    if not low > 0:
        raise fail(
            "market.base_scale",
            f": its draws reach {low:.6g} (support [{low:.6g}, {high:.6g}]); a scale of the "
            "market must stay > 0",
        )
    if scenario.base_size * low < MIN_VALUE:
        raise fail(
            "market.base_size.value",
            f"={scenario.base_size:g} x base_scale down to {low:.6g} is below {MIN_VALUE:g} "
            f"{scenario.unit}: the cube's float32 cells would round a country's share of it "
            "to nothing (choose a smaller unit)",
        )
    for region in scenario.regions:
        for country in region.countries:
            value = scenario.base_size * low * region.share * country.share_of_region
            if 0.0 < value < MIN_VALUE:
                key = (
                    f'countries."{country.name}".share.value'
                    if country.share is not None
                    else f'regions."{region.name}".country_shares."{country.name}"'
                )
                raise fail(
                    key,
                    f": {country.name}'s base value reaches {value:.3g} {scenario.unit}, below "
                    f"{MIN_VALUE:g}: the cube's float32 cells would round it to nothing (a "
                    "share this small is a typing error, or choose a smaller unit)",
                )
    if scenario.base_size * high > scenario.limits.max_value:
        raise fail(
            "market.base_size.value",
            f"={scenario.base_size:g} x base_scale up to {high:.6g} exceeds limits.max_value="
            f"{scenario.limits.max_value:g}",
        )


def impacts_within_limits(scenario: Scenario, fail: _Breach) -> None:
    """Every draw of a driver's impact within ``growth_pp`` and of its delay within
    ``max_years``; of an event's impact within ``event_pp``."""
    limits = scenario.limits
    for driver in scenario.drivers:
        low, high = driver.impact.distribution.support
        fail.within(driver.impact.name, low, high, limits.growth_pp, "pp", "growth_pp")
        low, high = driver.delay.distribution.support
        fail.within(driver.delay.name, low, high, limits.max_years, "years", "max_years")
    for event in scenario.events:
        low, high = event.impact.distribution.support
        fail.within(event.impact.name, low, high, limits.event_pp, "pp", "event_pp")


def given_growth_within_limits(scenario: Scenario, fail: _Breach) -> None:
    """Every growth the file gives (baseline, first-year step, premiums) within
    ``growth_pp``; those calibration solves are checked when solved."""
    given = [
        ("market.baseline_growth.value", scenario.baseline_growth),
        ("market.first_year_step.value", scenario.first_year_step),
    ]
    given += [
        (f'regions."{r.name}".growth_premium.value', r.growth_premium) for r in scenario.regions
    ]
    given += [
        (f'axes.{a.name}.segments."{seg.name}".growth_premium.value', seg.growth_premium)
        for a in scenario.axes
        for seg in a.segments
    ]
    given += [
        (f'countries."{c.name}".growth_premium.value', c.growth_premium)
        for c in scenario.countries
        if c.target is None
    ]
    growth = scenario.limits.growth_pp
    for key, value in given:  # fractions per year; None where calibration solves it
        if value is not None:
            fail.within(key, 100 * value, 100 * value, growth, "pp", "growth_pp")


def targets_within_limits(scenario: Scenario, fail: _Breach) -> None:
    """A CAGR target and its tolerance within ``growth_pp`` (a looser check would pass
    any calibration); a size target at most ``max_value``."""
    limits = scenario.limits
    growth = limits.growth_pp
    for target in scenario.targets:
        name = f"target {target.label}"
        if target.kind == "cagr":
            fail.within(
                name, target.value, target.value, growth, "% a year", "growth_pp", target.key
            )
            if target.tolerance > growth:
                raise fail(
                    name,
                    f": tolerance={target.tolerance:g} pp is over limits.growth_pp={growth:g}",
                    (target.key,),
                )
        elif target.value > limits.max_value:
            raise fail(name, f"={target.value:g} exceeds limits.max_value", (target.key,))


def noise_within_limits(scenario: Scenario, fail: _Breach) -> None:
    """The year-to-year noise's standard deviation at most ``noise_sd_pp``."""
    limits = scenario.limits
    for parameter in (*scenario.noise_global[:1], *scenario.noise_region[:1]):
        sd = parameter.distribution.params.get("sd", 0.0)
        if sd > limits.noise_sd_pp:
            which = "global_sd" if parameter.owner == "noise.global" else "region_sd"
            raise fail(
                f"noise.{which}.value",
                f"={sd:g} pp is over limits.noise_sd_pp={limits.noise_sd_pp:g}",
            )


def timelines_within_limits(scenario: Scenario, fail: _Breach) -> None:
    """An onset within ``max_years`` of the scenario's years; a ramp at most ``max_years``."""
    years, limits = scenario.years, scenario.limits
    for timeline in scenario.timelines.values():
        if not (years[0] - limits.max_years <= timeline.onset <= years[-1] + limits.max_years):
            raise fail(
                f"timelines.{timeline.name}.onset",
                f"={timeline.onset:g} is far outside the years {years[0]}-{years[-1]}",
            )
        if timeline.ramp_years > limits.max_years:
            raise fail(
                f"timelines.{timeline.name}.ramp_years",
                f"={timeline.ramp_years:g} is over limits.max_years",
            )


def weights_within_limits(scenario: Scenario, fail: _Breach) -> None:
    """A geography's relative weights at most ``MAX_RELATIVE_WEIGHT``; a tilt within
    ``MAX_TILT``."""
    for geography in scenario.geographies.values():
        for weights in (geography.weights, geography.weights_end or {}):
            for region, weight in weights.items():
                if weight > MAX_RELATIVE_WEIGHT:
                    raise fail(
                        f"geographies.{geography.name}",
                        f": weight {weight:g} of {region} is over {MAX_RELATIVE_WEIGHT:g} "
                        "(weights are relative: scale them down)",
                    )
    owners = [(f"{d.group}.{d.id}", d.tilts) for d in scenario.drivers]
    owners += [(f"events.{e.id}", e.tilts) for e in scenario.events]
    for owner, tilts in owners:
        for (axis, segment), weight in tilts.items():
            if abs(weight) > MAX_TILT:
                raise fail(
                    f"{owner}.tilts.{axis}", f": {segment}={weight:g} is beyond +-{MAX_TILT:g}"
                )


RULES: tuple[Callable[[Scenario, _Breach], None], ...] = (
    years_within_limits,
    base_market_within_limits,
    impacts_within_limits,
    given_growth_within_limits,
    targets_within_limits,
    noise_within_limits,
    timelines_within_limits,
    weights_within_limits,
)
"""The limit rules, in the order they are checked."""


def check_limits(scenario: Scenario) -> None:
    """Every figure within the scenario's :class:`Limits` (see :mod:`netsim.scenario.limits`).

    Raises
    ------
    ScenarioError
        The first rule of :data:`RULES` broken, with ``breach`` and ``figures`` set.
    """
    fail = _Breach(scenario)
    for rule in RULES:
        rule(scenario, fail)
