"""The output registry (netsim.model.outputs) and the layout it gives."""

from __future__ import annotations

import pytest

from netsim.model.layout import OutputLayout
from netsim.model.outputs import OUTPUT_KINDS, kind_named, kind_of


def test_the_net_outputs_are_the_registry_s_kinds_in_declared_order(net):
    layout = OutputLayout.of(net)
    assert layout.outputs == (
        "total",
        "by_modality",
        "by_indication",
        "by_end_user",
        "by_product",
        "by_company",
        "other_products",
        "patients",
        "treated_by_modality",
        "treated_by_indication",
        "patient_total",
        "patient_by_modality",
        "patient_by_indication",
        "treated_by_product",
        "patient_by_product",
        "patient_by_company",
    )
    assert layout.top_down_outputs == layout.outputs[:4]
    assert layout.market_outputs == layout.outputs[:7]
    assert layout.value_outputs == ("npv",)


@pytest.mark.parametrize(
    ("output", "dims", "unit", "long_name"),
    [
        pytest.param("total", ("year", "country"), "USD million", "market value", id="total"),
        pytest.param(
            "by_modality",
            ("year", "country", "modality"),
            "USD million",
            "market value by treatment modality",
            id="by-axis",
        ),
        pytest.param(
            "patients",
            ("year", "country", "stage"),
            "patients",
            "patients at each stage of the funnel",
            id="patients",
        ),
        pytest.param(
            "treated_by_indication",
            ("year", "country", "indication"),
            "patients",
            "treated patients by indication",
            id="treated-by-split",
        ),
        pytest.param(
            "other_products",
            ("year", "country", "modality"),
            "USD million",
            "market value of the products not named, by segment",
            id="other-products",
        ),
        pytest.param(
            "treated_by_product",
            ("year", "country", "product"),
            "patients",
            "treated patients by product",
            id="treated-by-product",
        ),
        pytest.param(
            "patient_by_modality",
            ("year", "country", "modality"),
            "USD million",
            "patient-based market value by treatment modality",
            id="patient-by-split",
        ),
    ],
)
def test_every_kind_s_dims_unit_and_name_come_from_its_declaration(
    net, output, dims, unit, long_name
):
    layout = OutputLayout.of(net)
    assert layout.dims(output) == dims
    assert layout.output_attrs(output) == {"units": unit, "long_name": long_name}


def test_a_name_is_read_back_to_its_kind_the_longest_stem_first(net):
    layout = OutputLayout.of(net)
    axes = {"axes": layout.axes, "splits": layout.splits}
    for output in (*layout.outputs, *layout.value_outputs):
        kind, axis = kind_of(output, axes)
        assert kind.output(axis) == output
    assert kind_of("patient_by_modality", axes)[0] is kind_named("patient_by")
    assert layout.counterpart("patient_by_modality") == "by_modality"
    assert layout.counterpart("patient_total") == "total"
    assert layout.counterpart("patient_by_company") == "by_company"
    assert layout.dims("npv", "global") == ("product",)
    with pytest.raises(KeyError):
        kind_of("by_nowhere", axes)


def test_kind_names_are_unique():
    names = [kind.name for kind in OUTPUT_KINDS]
    assert len(set(names)) == len(names)
