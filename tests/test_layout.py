"""The layout of a run (netsim.model.layout): its outputs' parameters and assumptions, the
sums of countries into regions and the world, and the layout read back from a run. The
registry of output kinds the layout reads: tests/test_outputs.py."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xarray as xr

import netsim
from netsim.errors import ScenarioError
from netsim.model.layout import OutputLayout, by_region, global_total, headline_draws


def test_layout_assumptions_are_the_layout_s_parameters_in_order(net):
    layout = netsim.OutputLayout.of(net)
    records = layout.assumptions()
    assert [a.name for a in records] == list(layout.parameters)
    assert [a.unit for a in records] == list(layout.parameter_units)
    assert [a.distribution for a in records] == list(layout.parameter_distributions)
    assert [a.source for a in records] == list(layout.parameter_sources)
    kinds = ("report", "study", "assumption")
    assert all(a.source_kind in kinds and a.source_text for a in records)


def test_the_world_and_the_regions_are_the_float64_sums_of_their_countries(net, net_run):
    """Checked against numpy's sums over the country axis, grouped by the region coordinate."""
    data = net_run["by_modality"]
    countries = data.values.astype(np.float64)
    axis = data.dims.index("country")
    np.testing.assert_allclose(global_total(data).values, countries.sum(axis=axis), rtol=1e-12)
    regions = by_region(data)
    assert regions.dtype == np.float64 and global_total(data).dtype == np.float64
    for region in regions["region"].values:
        members = data["region"].values == region
        expected = np.take(countries, np.flatnonzero(members), axis=axis).sum(axis=axis)
        np.testing.assert_allclose(regions.sel(region=region).values, expected, rtol=1e-12)


def test_a_run_s_layout_read_back_is_its_scenario_s(net, net_run):
    """Every field but the provenance (the run's own: its seed, draws and sampler)."""
    read, made = OutputLayout.from_dataset(net_run), OutputLayout.of(net)
    for field in dataclasses.fields(OutputLayout):
        if field.name != "provenance":
            assert getattr(read, field.name) == getattr(made, field.name), field.name
    # the provenance the scenario gives is read back whole (a layout read from a run and
    # written again, as a resumed or reduced run does, must not lose any of it)
    assert read.provenance == made.provenance


def test_the_headline_tables_need_draws(net):
    with pytest.raises(ScenarioError, match="the headline tables need a run's draws"):
        headline_draws(xr.Dataset(attrs=netsim.deterministic(net).attrs))
