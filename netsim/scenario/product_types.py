"""The frozen objects a scenario's ``[products]``, ``[valuation]`` and
``[forecast_errors]`` tables become (read by :mod:`netsim.scenario.products`).

A product holds a share of the patients of one or more segments of one axis: in market
now (a share with its spread and a trend), launching (a launch year, phases that each
succeed or fail on the draws, an uptake curve to a peak share), or a generic taking a
part of an originator's loss of exclusivity. Its value is that share of the segment's
value, times its price relative to the segment's average.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the schema imports this module: its Parameter only for type checkers
    from netsim.scenario.schema import Parameter

__all__ = [
    "CURVES",
    "PRODUCT_KINDS",
    "VALUATION_KEYS",
    "LossOfExclusivity",
    "OrderOfEntry",
    "Phase",
    "Product",
    "Uptake",
    "Valuation",
]

PRODUCT_KINDS = ("market", "launch", "generic")  # in market now, launching, a generic
CURVES = ("logistic", "bass")  # uptake curves to the peak share
VALUATION_KEYS = ("discount_rate", "tax_rate", "margin", "terminal_growth")


@dataclass(frozen=True)
class Phase:
    """One step a launching product must pass (``phase 3``, ``filing``): it succeeds
    on a draw with its probability (``success``, a 0/1 parameter), and its ``cost`` (in
    the market's unit, over the whole phase) falls evenly over ``years`` in every draw
    that reaches it."""

    name: str
    success: Parameter
    cost: Parameter
    years: tuple[int, ...]


@dataclass(frozen=True)
class Uptake:
    """A launching product's share as a fraction of its peak, ``curve(x)`` for ``x``
    years since launch: 0 at launch, 1 from ``years_to_peak`` on.

    Attributes
    ----------
    curve : {"logistic", "bass"}
    peak : Parameter
        Its share of the segment's patients at peak, percent.
    years_to_peak : Parameter
        Years from launch to the peak.
    steepness : float
        The logistic's slope over the years to peak (dimensionless).
    innovation, imitation : float
        The Bass curve's coefficients p and q, per year.
    """

    curve: str
    peak: Parameter
    years_to_peak: Parameter
    steepness: float = 0.0
    innovation: float = 0.0
    imitation: float = 0.0


@dataclass(frozen=True)
class LossOfExclusivity:
    """The erosion of an originator's share after generics enter: a fraction
    ``floor + (1 - floor) 2^(-x / half_life)`` of the share it would hold is kept, ``x``
    years after ``year`` (plus the region's ``offsets``)."""

    year: Parameter
    floor: Parameter  # percent of its share kept in the end
    half_life: Parameter  # years
    offsets: Mapping[str, float] = field(default_factory=dict)  # region -> years


@dataclass(frozen=True)
class OrderOfEntry:
    """Products of one ``group`` (a class of like products in a segment): a launching
    product's peak share is its share as the first of the group times ``rank ** -exponent``,
    ``rank`` counting the members in market and those approved and launched before it in
    that draw."""

    group: str
    exponent: float


@dataclass(frozen=True)
class Valuation:
    """What values a product's revenue: percent a year (``discount_rate``,
    ``terminal_growth``) and percent (``tax_rate``; ``margin``, the contribution margin
    on revenue). ``terminal_growth`` None: the value of the forecast years alone."""

    discount_rate: Parameter
    tax_rate: Parameter
    margin: Parameter
    terminal_growth: Parameter | None = None

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        found = (self.discount_rate, self.tax_rate, self.margin, self.terminal_growth)
        return tuple(p for p in found if p is not None)


@dataclass(frozen=True)
class Product:
    """A product inside the market.

    Attributes
    ----------
    id, label, company : str
    kind : {"market", "launch", "generic"}
    axis : str
        The axis of its segments.
    segments : tuple of str
        The segments it sells in (the same share of each).
    regions : tuple of str
        The regions it sells in (empty: every region).
    share : Parameter or None
        In market: its share of the segments' patients in the base year, percent.
    trend : Parameter or None
        In market: the relative change of that share, percent a year.
    launch : Parameter or None
        Launching: the time of launch in years (2027.0 is the start of 2027).
    launch_offsets : mapping of str to float
        Years added to the launch in a region (a later launch outside the first market).
    phases : tuple of Phase
        Launching: the steps to approval, in order; approved when all succeed.
    launch_cost : Parameter or None
        Launching: a cost in the market's unit, in the year of launch if approved.
    uptake : Uptake or None
    loss_of_exclusivity : LossOfExclusivity or None
    generic_of : str or None
        A generic: the originator it takes its share from.
    capture : Parameter or None
        A generic: percent of the originator's loss it takes.
    price : Parameter or None
        Price per patient relative to the segment's average (None: 1).
    order_of_entry : OrderOfEntry or None
    forecast_error : Parameter or None
        Launching, when widened: a multiplier of its peak share (a reference class's
        actual / forecast peak sales).
    forecast_error_class : str or None
    valuation : Valuation or None
        Its valuation inputs (its own, else the scenario's ``[valuation]``).
    """

    id: str
    label: str
    company: str
    kind: str
    axis: str
    segments: tuple[str, ...]
    regions: tuple[str, ...] = ()
    share: Parameter | None = None
    trend: Parameter | None = None
    launch: Parameter | None = None
    launch_offsets: Mapping[str, float] = field(default_factory=dict)
    phases: tuple[Phase, ...] = ()
    launch_cost: Parameter | None = None
    uptake: Uptake | None = None
    loss_of_exclusivity: LossOfExclusivity | None = None
    generic_of: str | None = None
    capture: Parameter | None = None
    price: Parameter | None = None
    order_of_entry: OrderOfEntry | None = None
    forecast_error: Parameter | None = None
    forecast_error_class: str | None = None
    valuation: Valuation | None = None

    @property
    def probability_of_success(self) -> float:
        """The product of its phases' probabilities (1 without phases)."""
        probability = 1.0
        for phase in self.phases:
            probability *= phase.success.distribution.point
        return probability

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """Its sampled inputs, in a fixed order (its valuation's own included)."""
        uptake, loss = self.uptake, self.loss_of_exclusivity
        found = [self.share, self.trend, self.launch]
        for phase in self.phases:
            found += [phase.success, phase.cost]
        found += [self.launch_cost]
        if uptake is not None:
            found += [uptake.peak, uptake.years_to_peak]
        if loss is not None:
            found += [loss.year, loss.floor, loss.half_life]
        found += [self.capture, self.price, self.forecast_error]
        return tuple(p for p in found if p is not None)
