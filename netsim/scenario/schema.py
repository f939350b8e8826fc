"""The frozen, typed objects a scenario file becomes (built by :mod:`netsim.scenario.parse`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from netsim.errors import ScenarioError
from netsim.scenario.distributions import Distribution
from netsim.scenario.limits import Limits

__all__ = [
    "Axis",
    "Correlation",
    "Country",
    "Driver",
    "Event",
    "Geography",
    "Parameter",
    "Region",
    "Scenario",
    "Segment",
    "Target",
    "Timeline",
]


@dataclass(frozen=True)
class Parameter:
    """One uncertain input: a column of ``inputs[draw, parameter]``.

    Attributes
    ----------
    name : str
        Stable name, e.g. ``drivers.rising_prevalence.impact``; the random stream
        of the ``mc`` sampler is keyed by it.
    distribution : Distribution
        Its marginal distribution.
    source : str
        ``report: ...`` or ``assumption: ...``.
    unit : str
        Unit of the sampled values (``pp`` = percentage points of growth).
    owner : str
        The driver, restraint, event or noise term it belongs to (e.g.
        ``events.isotope_outage`` for ``events.isotope_outage.occurs.2027``): names
        may hold dots, so the owner is kept, never split out of the name.
    """

    name: str
    distribution: Distribution
    source: str
    unit: str
    owner: str


@dataclass(frozen=True)
class Target:
    """One calibration target of the deterministic base case.

    ``kind`` is ``size`` (value in the market's unit in ``year``) or ``cagr`` (percent
    per year from ``start`` to ``end``). ``scope`` is ``global``, ``region``
    (``name``) or ``segment`` (``axis``, ``name``). ``tolerance`` is the half
    width of the accepted interval, in the target's unit.
    """

    label: str
    kind: str
    scope: str
    value: float
    tolerance: float
    source: str
    year: int | None = None
    start: int | None = None
    end: int | None = None
    name: str | None = None
    axis: str | None = None


@dataclass(frozen=True)
class Segment:
    name: str
    label: str
    share: float  # fraction of its axis in the base year
    growth_premium: float | None  # fraction per year; None when calibrated
    target: Target | None


@dataclass(frozen=True)
class Axis:
    name: str
    label: str
    segments: tuple[Segment, ...]

    @property
    def segment_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.segments)


@dataclass(frozen=True)
class Country:
    name: str
    region: str
    share_of_region: float  # fraction


@dataclass(frozen=True)
class Region:
    name: str
    share: float  # fraction of the global base-year market
    growth_premium: float | None  # fraction per year; None when calibrated
    target: Target | None
    countries: tuple[Country, ...]


@dataclass(frozen=True)
class Timeline:
    """A driver's impact profile: zero before ``onset``, linear to full over ``ramp_years``."""

    name: str
    onset: float
    ramp_years: float


@dataclass(frozen=True)
class Geography:
    """Relative weights per region, optionally moving linearly between two years."""

    name: str
    weights: Mapping[str, float]
    weights_end: Mapping[str, float] | None = None
    shift_start: int | None = None
    shift_end: int | None = None


@dataclass(frozen=True)
class Driver:
    """A driver (positive impact) or restraint (negative impact) on market growth."""

    id: str
    group: str  # "drivers" | "restraints"
    label: str
    impact: Parameter  # pp on the CAGR forecast
    delay: Parameter  # years of onset delay
    timeline: Timeline
    geography: Geography
    tilts: Mapping[tuple[str, str], float]  # (axis, segment) -> weight per pp of impact


@dataclass(frozen=True)
class Event:
    """A discrete event moving the growth of one segment while it is active.

    ``kind="yearly"``: occurs independently each forecast year with
    ``probability`` and is active in that year. ``kind="once"``: occurs with
    ``probability`` in a year drawn from ``year``, active for ``duration`` years.
    """

    id: str
    label: str
    kind: str
    probability: float
    impact: Parameter  # pp of the segment's growth while active
    occurs: tuple[Parameter, ...]
    year: Parameter | None
    duration: int
    axis: str
    segment: str
    geography: Geography
    tilts: Mapping[tuple[str, str], float]


@dataclass(frozen=True)
class Correlation:
    parameters: tuple[str, str]
    rho: float  # Spearman rank correlation
    source: str


@dataclass(frozen=True)
class Scenario:
    """A validated, immutable scenario. Build it with :func:`netsim.load_scenario`."""

    name: str
    description: str
    path: str
    years: tuple[int, ...]
    unit: str  # of every market value (market.unit)
    base_size: float  # in ``unit``, base year
    base_scale: Parameter
    targets: tuple[Target, ...]
    regions: tuple[Region, ...]
    axes: tuple[Axis, ...]
    timelines: Mapping[str, Timeline]
    geographies: Mapping[str, Geography]
    drivers: tuple[Driver, ...]
    events: tuple[Event, ...]
    noise_global: tuple[Parameter, ...]
    noise_region: tuple[Parameter, ...]  # region-major, then year
    correlations: tuple[Correlation, ...]
    parameters: tuple[Parameter, ...]
    baseline_growth: float | None  # fraction; given when no global target pins it
    first_year_step: float  # fraction; used when fewer than two global targets
    recalibrate: bool
    document_hash: str
    limits: Limits = field(default_factory=Limits)
    # a netsim.model.calibration.Calibration, set by calibration (a layer above this one,
    # so not imported here, not even for type checkers)
    calibration: Any = field(default=None, compare=False)
    # the merged document as canonical JSON: rebuilds this scenario anywhere (resume, workers)
    document_json: str = field(default="{}", compare=False, repr=False)
    # the files it was read from: the scenario, then each overlay's parent
    source_files: tuple[str, ...] = field(default=(), compare=False, repr=False)

    # --- derived, cached ------------------------------------------------------
    @cached_property
    def countries(self) -> tuple[Country, ...]:
        return tuple(c for r in self.regions for c in r.countries)

    @cached_property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @cached_property
    def parameter_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.parameter_names)}

    @property
    def forecast_years(self) -> tuple[int, ...]:
        return self.years[1:]

    @cached_property
    def scenario_hash(self) -> str:
        """SHA-256 of the merged document and the calibration: identifies a run's model."""
        cal = self.calibration
        payload = {
            "document": self.document_hash,
            "calibration": None
            if cal is None
            else [
                cal.baseline,
                cal.first_year_step,
                sorted(cal.region_premium.items()),
                sorted((list(k), v) for k, v in cal.segment_premium.items()),
            ],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name``."""
        try:
            return self.parameters[self.parameter_index[name]]
        except KeyError:
            raise ScenarioError(f"unknown parameter {name!r}") from None
