"""Every kind of output, declared once: the registry the output layout, the kernels'
arrays and the run files read.

An output kind is either one output (``total``: the market value by year and country)
or one output per axis (``by``: ``by_<axis>`` for each segmentation axis), with the
model that fills it, its extra dimension, its unit and its name in words. Adding a kind
of output is one :class:`OutputKind` in :data:`OUTPUT_KINDS` (its position is its place
in every run, table and file) and the kernel that fills its arrays; the layout
(:mod:`netsim.model.layout`) derives its names, dims, shapes, units and attrs from here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FUNNEL",
    "MARKET_UNIT",
    "OUTPUT_KINDS",
    "PATIENT_PRODUCTS",
    "PRODUCTS",
    "PRODUCT_AXIS",
    "TOP_DOWN",
    "VALUE",
    "OutputKind",
    "kind_named",
    "kind_of",
]

TOP_DOWN = "top_down"  # filled by the top-down kernel, in every run
PRODUCTS = "products"  # the products' kernel, in a scenario with products
FUNNEL = "funnel"  # filled by the patient funnel's kernel, in a scenario with a funnel
# the products' kernel on the funnel's patients: with products and a funnel split over
# the products' axis
PATIENT_PRODUCTS = "patient_products"
# computed from a run's outputs and inputs after it (a product's NPV), worldwide, no year
VALUE = "value"
MARKET_UNIT = "market"  # the scenario's ``market.unit``
PRODUCT_AXIS = "<product axis>"  # an extra dimension: the axis the products sell in


@dataclass(frozen=True)
class OutputKind:
    """One kind of output.

    Attributes
    ----------
    name : str
        The output's name (``total``), or the stem of its per-axis outputs (``by``:
        ``by_<axis>``).
    model : {"top_down", "products", "funnel", "patient_products", "value"}
        What fills it: a model's kernel (a funnel's outputs exist only with a funnel, the
        products' only with products), or ``"value"``: computed from a run after it
        (not a column of the cube, worldwide, no year).
    per_axis : str or None
        None for one output; else the axes it has one output each of: ``"axes"`` (the
        scenario's segmentation axes) or ``"splits"`` (the axes the funnel splits its
        treated patients over).
    extra_dim : str or None
        A dimension of its own after ``(year, country)`` (``stage`` for ``patients``,
        ``product``, ``company``, or :data:`PRODUCT_AXIS`: the products' axis).
    extra_is_axis : bool
        Whether that dimension is the axis the output splits by (a product's or
        company's, not a funnel's stage).
    unit : str
        ``"market"`` (the scenario's ``market.unit``) or a unit of its own (``patients``).
    long_name : str
        What its values are, in words (``market value``); a per-axis output adds
        ``by <axis label>``.
    counterpart : str or None
        The top-down kind a patient-based one is compared with (``patient_by``: ``by``).
    """

    name: str
    model: str
    per_axis: str | None = None
    extra_dim: str | None = None
    extra_is_axis: bool = True
    unit: str = MARKET_UNIT
    long_name: str = ""
    counterpart: str | None = None

    def output(self, axis: str | None = None) -> str:
        """The name of this kind's output (of ``axis`` for a per-axis kind)."""
        return f"{self.name}_{axis}" if self.per_axis else self.name


OUTPUT_KINDS: tuple[OutputKind, ...] = (
    OutputKind("total", TOP_DOWN, long_name="market value"),
    OutputKind("by", TOP_DOWN, per_axis="axes", long_name="market value"),
    # the products' long names are netsim.model.products' (product_attrs)
    OutputKind("by_product", PRODUCTS, extra_dim="product"),
    OutputKind("by_company", PRODUCTS, extra_dim="company"),
    OutputKind("other_products", PRODUCTS, extra_dim=PRODUCT_AXIS),
    OutputKind(
        "patients",
        FUNNEL,
        extra_dim="stage",
        extra_is_axis=False,
        unit="patients",
        long_name="patients at each stage of the funnel",
    ),
    OutputKind(
        "treated_by", FUNNEL, per_axis="splits", unit="patients", long_name="treated patients"
    ),
    OutputKind(
        "patient_total", FUNNEL, long_name="patient-based market value", counterpart="total"
    ),
    OutputKind(
        "patient_by",
        FUNNEL,
        per_axis="splits",
        long_name="patient-based market value",
        counterpart="by",
    ),
    OutputKind("treated_by_product", PATIENT_PRODUCTS, extra_dim="product", unit="patients"),
    OutputKind(
        "patient_by_product", PATIENT_PRODUCTS, extra_dim="product", counterpart="by_product"
    ),
    OutputKind(
        "patient_by_company", PATIENT_PRODUCTS, extra_dim="company", counterpart="by_company"
    ),
    OutputKind("npv", VALUE, extra_dim="product"),
)


_LONGEST_STEM_FIRST = tuple(sorted(OUTPUT_KINDS, key=lambda kind: -len(kind.name)))


def kind_named(name: str) -> OutputKind:
    """The kind declared as ``name``."""
    for kind in OUTPUT_KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)


def kind_of(output: str, axes: dict[str, tuple[str, ...]]) -> tuple[OutputKind, str | None]:
    """The kind of an output name and its axis (None for a single output), given each
    per-axis kind's axes (``{"axes": (...), "splits": (...)}``); KeyError if none fits.
    The longest stem wins (``patient_by_x`` is ``patient_by``'s, not ``by``'s)."""
    for kind in _LONGEST_STEM_FIRST:
        if kind.per_axis is None:
            if output == kind.name:
                return kind, None
        elif output.startswith(f"{kind.name}_"):
            axis = output[len(kind.name) + 1 :]
            if axis in axes.get(kind.per_axis, ()):
                return kind, axis
    raise KeyError(output)
