"""The per-draw arrays, gathered in one kernel pass, against numpy's column gathers."""

from __future__ import annotations

import numpy as np
import pytest

import netsim
from netsim.model.arrays import draw_arrays


def _numpy_draw_fields(scenario, inputs):
    """The gathered fields by numpy: each a fancy-indexed set of columns divided by its
    unit's divisor (pp -> fraction), the events' activity from their columns."""
    index = scenario.parameter_index

    def columns(names, divisor=1.0):
        return inputs[:, [index[n] for n in names]] / divisor

    forecast = np.asarray(scenario.years[1:], dtype=np.float64)
    activity = np.zeros((inputs.shape[0], len(scenario.events), len(forecast)))
    for j, event in enumerate(scenario.events):
        occurs = columns([p.name for p in event.occurs])
        if event.kind == "yearly":
            activity[:, j, :] = occurs
        else:
            start = columns([event.year.name])
            active = (forecast >= start) & (forecast < start + event.duration)
            activity[:, j, :] = occurs * active
    return {
        "scale": inputs[:, index[scenario.base_scale.name]],
        "impact": columns([d.impact.name for d in scenario.drivers], 100.0),
        "delay": columns([d.delay.name for d in scenario.drivers]),
        "noise_global": columns([p.name for p in scenario.noise_global], 100.0),
        "noise_region": columns([p.name for p in scenario.noise_region], 100.0).reshape(
            inputs.shape[0], len(scenario.regions), len(forecast)
        ),
        "event_severity": columns([e.impact.name for e in scenario.events], 100.0),
        "event_activity": activity,
    }


@pytest.mark.parametrize(
    "draws",
    [
        pytest.param(20_000, id="parallel"),
        pytest.param(50, id="one-thread"),
        pytest.param(1, id="one-draw"),
    ],
)
def test_draw_arrays_equal_numpys_column_gathers(net, draws):
    inputs = netsim.sample_inputs(net, draws, seed=3)
    arrays = draw_arrays(net, inputs)
    for name, expected in _numpy_draw_fields(net, inputs).items():
        got = getattr(arrays, name)
        assert got.flags.c_contiguous, name  # the kernels take C-contiguous arrays
        np.testing.assert_array_equal(got, expected, err_msg=name)
    assert np.unique(arrays.event_activity).tolist() == [0.0, 1.0]  # events happen and not
