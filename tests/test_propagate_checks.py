"""A caller's rows and arguments to ``netsim.propagate`` are checked as a file's figures
are: each value a file would be refused for, each argument of the wrong type or kind,
and ``out=`` buffers that overlap, refused in one line naming what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.errors import ArgumentTypeError, ArgumentValueError, ScenarioError


@pytest.fixture(scope="module")
def rows(net):
    return netsim.sample_inputs(net, 200, seed=4)


def _with(net, rows, name, value, row=7):
    changed = rows.copy()
    changed[row, net.parameter_names.index(name)] = value
    return changed


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        pytest.param("restraints.isotope_supply.impact", -60.0, "is below", id="impact-60pp"),
        pytest.param("restraints.isotope_supply.impact", -120.0, "is below", id="impact-120pp"),
        pytest.param("market.base_scale", -1.0, "is below", id="base-scale-negative"),
        pytest.param("market.base_scale", 1e300, "is above", id="base-scale-1e300"),
        pytest.param("events.cabozantinib_eu.occurs", 1e9, "is above", id="occurs-1e9"),
        pytest.param("events.cabozantinib_eu.year", 2026.5, "not a whole year", id="year-2026.5"),
        pytest.param("events.cabozantinib_eu.year", 1e9, "is above", id="year-1e9"),
    ],
)
def test_a_value_a_file_would_refuse_is_refused_naming_parameter_row_and_rule(
    net, rows, name, value, rule
):
    with pytest.raises(ScenarioError, match=rule) as refused:
        netsim.propagate(net, _with(net, rows, name, value), as_arrays=True)
    message = str(refused.value)
    assert f"inputs[draw 7, {name!r}]" in message and "\n" not in message
    # a caller that checked its rows already may say so
    arrays = netsim.propagate(net, _with(net, rows, name, 1.0), as_arrays=True, check=False)
    assert np.isfinite(arrays["total"]).all()


def test_rows_within_every_rule_pass_and_a_labelled_row_is_named_by_its_draw(net, rows):
    ends = np.array([p.distribution.support for p in net.parameters])
    netsim.propagate(net, np.vstack([rows, ends.T]), as_arrays=True)  # the supports' ends
    labelled = xr.DataArray(
        _with(net, rows, "drivers.rising_prevalence.impact", 99.0, row=2),
        dims=("draw", "parameter"),
        coords={"draw": np.arange(500, 700), "parameter": list(net.parameter_names)},
    )
    with pytest.raises(ScenarioError, match=r"inputs\[draw 502, 'drivers.rising_prevalence"):
        netsim.propagate(net, labelled)


@pytest.mark.parametrize(
    ("arguments", "error", "names"),
    [
        pytest.param({"chunk_size": True}, ArgumentTypeError, "chunk_size=True", id="chunk-bool"),
        pytest.param({"chunk_size": 7.5}, ArgumentTypeError, "chunk_size=7.5", id="chunk-float"),
        pytest.param({"chunk_size": 0}, ArgumentValueError, "chunk_size=0", id="chunk-zero"),
        pytest.param({"dtype": np.float16}, ArgumentValueError, "dtype=float16", id="float16"),
        pytest.param({"dtype": "words"}, ArgumentTypeError, "dtype='words'", id="no-dtype"),
    ],
)
def test_arguments_of_the_wrong_type_or_value_are_named(net, rows, arguments, error, names):
    with pytest.raises(error, match=names) as refused:
        netsim.propagate(net, rows, as_arrays=True, **arguments)
    assert refused.value.argument == next(iter(arguments))


def test_a_numpy_integer_chunk_size_is_taken_as_the_whole_number_it_is(net, rows):
    """np.int8(100) overflowed in the chunk arithmetic (start + 100 past 127)."""
    whole = netsim.propagate(net, rows, as_arrays=True, chunk_size=100)
    narrow = netsim.propagate(net, rows, as_arrays=True, chunk_size=np.int8(100))
    np.testing.assert_array_equal(whole["total"], narrow["total"])


@pytest.mark.parametrize(
    "inputs",
    [
        pytest.param(lambda x: x.astype(np.complex128), id="complex"),
        pytest.param(lambda x: x.astype(str), id="text"),
    ],
)
def test_inputs_that_are_not_real_numbers_are_refused(net, rows, inputs):
    with pytest.raises(ArgumentTypeError, match="inputs"):
        netsim.propagate(net, inputs(rows), as_arrays=True)


def test_out_buffers_that_overlap_each_other_or_the_inputs_are_refused(net, rows):
    buffers = netsim.propagate(net, rows, as_arrays=True)
    shared = dict(buffers)
    shared["by_end_user"] = shared["by_indication"]  # the same shape, the same memory
    with pytest.raises(
        ArgumentValueError, match=r"out\['by_indication'\] and out\['by_end_user'\]"
    ):
        netsim.propagate(net, rows, as_arrays=True, out=shared, chunk_size=100)
    # a float64 total whose first values lie over the inputs' last ones
    n, width = rows.shape
    cells = buffers["total"][0].size
    memory = np.empty(n * width + n * cells)
    inputs = memory[: n * width].reshape(n, width)
    inputs[:] = rows
    as_float64 = {k: v.astype(np.float64) for k, v in buffers.items()}
    as_float64["total"] = memory[n * width - 10 : n * width - 10 + n * cells].reshape(
        buffers["total"].shape
    )
    with pytest.raises(ArgumentValueError, match=r"out\['total'\] shares memory with the inputs"):
        netsim.propagate(net, inputs, as_arrays=True, out=as_float64, chunk_size=100)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        pytest.param(lambda a: a[:-1], "has shape", id="shape"),
        pytest.param(lambda a: a.astype(np.float16), "is float16", id="dtype"),
        pytest.param(lambda a: np.asfortranarray(a), "not C-contiguous", id="layout"),
        pytest.param(lambda a: a.tolist(), "must be a numpy array", id="a-list"),
    ],
)
def test_an_out_buffer_of_the_wrong_kind_is_named(net, rows, change, said):
    buffers = dict(netsim.propagate(net, rows, as_arrays=True))
    buffers["by_modality"] = change(buffers["by_modality"])
    with pytest.raises(
        (ArgumentValueError, ArgumentTypeError), match=rf"out\['by_modality'\] .*{said}"
    ) as refused:
        netsim.propagate(net, rows, as_arrays=True, out=buffers)
    assert refused.value.argument == "out['by_modality']"
