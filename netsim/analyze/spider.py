"""Spider analysis: the output with one input at a time moved through its percentiles.

The @RISK and Crystal Ball habit: where a tornado shows each input at two percentiles
(P10 and P90), a spider shows the whole path, so a reader sees which inputs act
evenly and which only at one end (an event that either happens or not is a step).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from netsim.errors import ScenarioError
from netsim.model.arrays import expected_draw_arrays
from netsim.model.layout import OutputLayout
from netsim.model.propagate import run_kernel
from netsim.scenario.schema import Scenario

__all__ = ["SPIDER_PERCENTILES", "spider"]

SPIDER_PERCENTILES = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


def spider(
    scenario: Scenario,
    output: str = "total",
    by: str = "global",
    percentiles: Sequence[float] = SPIDER_PERCENTILES,
) -> xr.Dataset:
    """The output with each input at each of ``percentiles`` of its distribution, the
    others at the base case.

    Parameters
    ----------
    scenario : Scenario
    output : str
        ``total`` or ``by_<axis>``.
    by : {"country", "region", "global"}
    percentiles : sequence of float
        Strictly increasing, each in (0, 1).

    Returns
    -------
    xarray.Dataset
        ``value`` over ``(percentile, parameter, year, <by>[, segment])`` and ``base``
        (the deterministic base case), in the output's unit; coordinate ``input`` over
        ``(percentile, parameter)``: each input's value, in its own unit. Each value is
        ``deterministic(scenario, {name: value})`` exactly, as :func:`tornado`'s.
    """
    layout = OutputLayout.of(scenario)
    layout.check(output, by)
    levels = np.asarray(percentiles, dtype=np.float64)
    if levels.ndim != 1 or not levels.size or not ((levels > 0) & (levels < 1)).all():
        raise ScenarioError(f"spider percentiles {list(levels)} must each lie in (0, 1)")
    if (np.diff(levels) <= 0).any():
        raise ScenarioError(f"spider percentiles {list(levels)} must increase")
    names = scenario.parameter_names
    inputs = np.array([p.distribution.ppf(levels) for p in scenario.parameters]).T
    rows: list[dict[str, float]] = [{}]
    rows += [{name: float(v)} for row in inputs for name, v in zip(names, row, strict=True)]
    values = layout.aggregate_arrays(
        run_kernel(scenario, expected_draw_arrays(scenario, rows)), output, by
    )
    base = values.isel(draw=0, drop=True)
    moved = values.isel(draw=slice(1, None)).values.reshape((levels.size, len(names), *base.shape))
    unit = {"units": layout.unit_of(output)}
    result = xr.Dataset(
        {
            "value": (("percentile", "parameter", *base.dims), moved, unit),
            "base": base.assign_attrs(unit),
        },
        coords={
            "percentile": levels,
            "parameter": list(names),
            "input": (("percentile", "parameter"), inputs),
        },
    )
    result.attrs.update({"method": "spider", "output": output, "by": by})
    return result
