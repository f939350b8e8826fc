"""The frozen, typed objects a scenario file becomes (built by :mod:`netsim.scenario.parse`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from netsim.errors import ScenarioError
from netsim.scenario.distributions import Distribution
from netsim.scenario.limits import Limits

if TYPE_CHECKING:  # a product's types name Parameter from here
    from netsim.scenario.product_types import Product

__all__ = [
    "Axis",
    "Correlation",
    "Country",
    "Driver",
    "Event",
    "Funnel",
    "FunnelCheck",
    "FunnelFactor",
    "FunnelSolve",
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
    (``name``), ``country`` (``name``) or ``segment`` (``axis``, ``name``).
    ``tolerance`` is the half width of the accepted interval, in the target's unit.
    ``key`` is the target table's key path in the document (``market.targets.size_2031``,
    ``regions."Asia-Pacific".cagr_target``).
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
    key: str = ""


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
    """A country of a region.

    Attributes
    ----------
    name, region : str
    share_of_region : float
        Fraction of its region's base-year value. With ``[countries]`` shares it is
        derived from them: a named country's share of the global market over its
        region's, the others splitting the rest by their ``country_shares``.
    share : float or None
        Fraction of the global base-year market the file gives for it
        (``[countries.<name>] share``), or None.
    growth_premium : float
        Growth over its region's, fraction per year (0 unless given); ignored when
        ``target`` is set (calibration then solves it).
    target : Target or None
        Its ``cagr_target`` (scope ``country``), or None.
    """

    name: str
    region: str
    share_of_region: float  # fraction
    share: float | None = None
    growth_premium: float = 0.0
    target: Target | None = None

    @property
    def has_premium(self) -> bool:
        """Whether its growth differs from its region's (a premium given or solved)."""
        return self.target is not None or self.growth_premium != 0.0


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
    funnel: Mapping[str, float] = field(default_factory=dict)  # funnel factor -> weight
    acts_on_growth: bool = True  # False: acts on its funnel factors only
    products: Mapping[str, float] = field(default_factory=dict)  # product -> weight


@dataclass(frozen=True)
class Event:
    """A discrete event moving the growth of one or more segments while it is active.

    ``kind="yearly"``: occurs independently each forecast year with
    ``probability`` and is active in that year. ``kind="once"``: occurs with
    ``probability`` in a year drawn from ``year``, active for ``duration`` years.
    ``segments`` lists the ``(axis, segment)`` pairs it moves, in file order: each by
    the same impact, on the same draws (one occurrence and one impact per draw).
    """

    id: str
    label: str
    kind: str
    probability: float
    impact: Parameter  # pp of the segment's growth while active
    occurs: tuple[Parameter, ...]
    year: Parameter | None
    duration: int
    segments: tuple[tuple[str, str], ...]  # (axis, segment) pairs, at least one
    geography: Geography
    tilts: Mapping[tuple[str, str], float]
    funnel: Mapping[str, float] = field(default_factory=dict)  # funnel factor -> weight
    acts_on_growth: bool = True  # False: acts on its funnel factors only
    products: Mapping[str, float] = field(default_factory=dict)  # product -> weight


@dataclass(frozen=True)
class FunnelFactor:
    """One factor of the patient funnel: a rate, a stage's share, a segment's share of
    the treated patients, or a cost (doses a year, price per dose).

    Its value in a region and year is its base value (``parameter``, times ``scale``
    into the kernel's unit, times the region's multiplier ``by_region``) grown each
    year by ``trend`` plus the drivers that act on it, and moved while active by the
    events that act on it.

    Attributes
    ----------
    name : str
        Its name in ``funnel = {<name> = weight}`` of a driver or event, e.g.
        ``stages.diagnosed``, ``split.modality.PRRT``, ``cost.PRRT.price_per_dose``.
    kind : str
        ``cases`` (multiplies the population into cases), ``stage`` (a share, at most
        1), ``split`` (a share of its axis, renormalised to sum to 1) or ``cost``.
    parameter : Parameter
        Its base-year value, in the file's unit (``parameter.unit``).
    scale : float
        Multiplies the parameter's value into the kernel's unit (1/100 for percent).
    trend : float
        Relative change a year, fraction.
    by_region : mapping of str to float
        Multiplier of the base value in each region (1 where the file gives none).
    axis, segment : str or None
        The segment a ``split`` or ``cost`` factor belongs to.
    by_country : mapping of str to float
        A ``cases`` or ``stage`` factor's multiplier in a country, over its region's value
        (only the countries the file names; 1 for the others). A stage's share stays
        capped at 1 after it.
    """

    name: str
    kind: str
    label: str
    parameter: Parameter
    scale: float
    trend: float
    by_region: Mapping[str, float]
    axis: str | None = None
    segment: str | None = None
    by_country: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FunnelSolve:
    """What a check that is a calibration target solves: the funnel factor ``factor``
    (its name, e.g. ``stages.treated``) is scaled so the base case meets the count, and
    its solved point must lie within ``[low, high]`` (the factor's file unit, e.g. %).
    ``key`` is the ``solve`` table's key path."""

    factor: str
    low: float
    high: float
    source: str
    key: str


@dataclass(frozen=True)
class FunnelCheck:
    """A patient count the funnel is compared with (e.g. a registry's): the funnel's
    ``stage`` patients in ``year``, in ``countries``, within ``segments`` of an axis.
    With ``solve`` it is a calibration target the funnel is solved to."""

    id: str
    label: str
    stage: str
    year: int
    countries: tuple[str, ...]
    axis: str | None
    segments: tuple[str, ...]
    value: float
    source: str
    solve: FunnelSolve | None = None


@dataclass(frozen=True)
class Funnel:
    """The patient-based (bottom-up) model: per country and year, population x cases per
    person x each stage's share = treated patients; split over segments of the axes;
    times doses a year x price per dose = the patient-based market value.

    Attributes
    ----------
    label : str
    population : mapping of str to float
        Persons per country in the base year.
    population_growth : mapping of str to float
        Growth a year per country, fraction.
    rate_kind : str
        ``incidence`` (new cases a year, times ``duration``) or ``prevalence``.
    rate_per : float
        Persons the rate is counted per (e.g. 100,000).
    factors : tuple of FunnelFactor
        Every factor, in kernel order: cases, stages, splits, costs.
    stages : tuple of str
        ``cases`` then each stage, in order; the last one is the treated patients.
    stage_labels : tuple of str
    splits : tuple of str
        The axes the treated patients are split over, in the scenario's axis order.
    cost_axis : str or None
        The split axis whose segments carry their own cost (None: one cost for all).
    price_unit : str
    per_market_unit : float
        Price units in one unit of the market (1,000,000 USD per USD million).
    price_index : mapping of str to float
        Price level per country (1 = the prices as given).
    plausible_price : tuple of float or None
        Range of price factors (x the prices as given) called plausible.
    plausible_treated : tuple of float or None
        Range of the last stage's share (fraction) called plausible.
    checks : tuple of FunnelCheck
    """

    label: str
    population: Mapping[str, float]
    population_growth: Mapping[str, float]
    rate_kind: str
    rate_per: float
    factors: tuple[FunnelFactor, ...]
    stages: tuple[str, ...]
    stage_labels: tuple[str, ...]
    splits: tuple[str, ...]
    cost_axis: str | None
    price_unit: str
    per_market_unit: float
    price_index: Mapping[str, float]
    plausible_price: tuple[float, float] | None
    plausible_treated: tuple[float, float] | None
    checks: tuple[FunnelCheck, ...]

    @property
    def factor_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.factors)

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        return tuple(f.parameter for f in self.factors)


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
    funnel: Funnel | None = None  # the patient-based model, when the file has one
    products: tuple[Product, ...] = ()  # the products inside the market ([products])
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

    @cached_property
    def companies(self) -> tuple[str, ...]:
        """The products' companies, in the order they first appear."""
        return tuple(dict.fromkeys(p.company for p in self.products))

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
        if cal is not None and cal.country_premium:  # absent: the hash of earlier versions
            payload["countries"] = sorted(cal.country_premium.items())
        if cal is not None and getattr(cal, "funnel_scale", None):  # funnel count targets
            payload["funnel"] = sorted(cal.funnel_scale.items())
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name``."""
        try:
            return self.parameters[self.parameter_index[name]]
        except KeyError:
            raise ScenarioError(f"unknown parameter {name!r}") from None
