"""netsim: Monte Carlo scenario simulation for market forecasts.

The public API::

    import netsim
    sc = netsim.load_scenario("configs/net_market.toml")
    base = netsim.deterministic(sc)
    ds = netsim.simulate(sc, draws=100_000, seed=7, sampler="mc")
    netsim.bands(ds["total"], q=[0.05, 0.5, 0.95])

Analyses (sensitivity, comparison) are functions here too; plots are in
:mod:`netsim.present.plots` and the HTML report in :mod:`netsim.present.report`.
The package's folders follow the data flow and import only downward: ``kernels`` ->
``stats`` -> ``scenario`` -> ``sampling`` -> ``model`` -> ``run`` -> ``analyze`` ->
``drafting`` -> ``present`` -> ``cli`` (README, "Architecture").

Every public name loads on first use (PEP 562): ``import netsim`` itself imports
neither numpy nor xarray, so the command line can decide what a command needs
(see :func:`netsim.cli.entry.console`) and a library loop pays only for what it calls.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# the one place the version is written (pyproject.toml reads it from here); reading it
# from the installed metadata instead costs 70 ms of email-parser imports at start-up
__version__ = "0.2.0"

# public name -> the module that defines it
_HOMES = {
    "cagr": "netsim.analyze.comparison",
    "compare": "netsim.analyze.comparison",
    "reconcile": "netsim.analyze.reconcile",
    "reconcile_run": "netsim.analyze.reconcile",
    "exceedance": "netsim.analyze.comparison",
    "band_intervals": "netsim.stats.intervals",
    "simulate_to_precision": "netsim.run.precision",
    "OutputLayout": "netsim.model.layout",
    "by_region": "netsim.model.layout",
    "coordinates": "netsim.model.layout",
    "global_total": "netsim.model.layout",
    "deterministic": "netsim.model.propagate",
    "draft": "netsim.drafting",
    "propagate": "netsim.model.propagate",
    "load_scenario": "netsim.model.load",
    "simulate": "netsim.run.simulate",
    "ArgumentTypeError": "netsim.errors",
    "ArgumentValueError": "netsim.errors",
    "OutputError": "netsim.errors",
    "ScenarioError": "netsim.errors",
    "open_run": "netsim.run.reading",
    "write_netcdf": "netsim.run.writing",
    "select_output": "netsim.analyze.cells",
    "sample_inputs": "netsim.sampling.inputs",
    "Scenario": "netsim.scenario.schema",
    "bands": "netsim.stats.quantiles",
    "quantiles": "netsim.stats.quantiles",
    "attribution": "netsim.analyze.sensitivity",
    "prcc": "netsim.analyze.sensitivity",
    "ranking": "netsim.analyze.sensitivity",
    "sobol": "netsim.analyze.sensitivity",
    "spearman": "netsim.analyze.sensitivity",
    "tail_attribution": "netsim.analyze.sensitivity",
    "tornado": "netsim.analyze.sensitivity",
    "sobol_indices": "netsim.analyze.saltelli",
    "value": "netsim.analyze.value",
}
# public module -> the module it is: ``from netsim import sensitivity`` gives every
# sensitivity method and ``ranking`` under one name, loaded on first use too
_MODULES = {"sensitivity": "netsim.analyze.sensitivity"}

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from netsim.analyze import sensitivity
    from netsim.analyze.cells import select_output
    from netsim.analyze.comparison import cagr, compare, exceedance
    from netsim.analyze.reconcile import reconcile, reconcile_run
    from netsim.analyze.saltelli import sobol_indices
    from netsim.analyze.sensitivity import (
        attribution,
        prcc,
        ranking,
        sobol,
        spearman,
        tail_attribution,
        tornado,
    )
    from netsim.analyze.value import value
    from netsim.drafting import draft
    from netsim.errors import ArgumentTypeError, ArgumentValueError, OutputError, ScenarioError
    from netsim.model.layout import OutputLayout, by_region, coordinates, global_total
    from netsim.model.load import load_scenario
    from netsim.model.propagate import deterministic, propagate
    from netsim.run.precision import simulate_to_precision
    from netsim.run.reading import open_run
    from netsim.run.simulate import simulate
    from netsim.run.writing import write_netcdf
    from netsim.sampling.inputs import sample_inputs
    from netsim.scenario.schema import Scenario
    from netsim.stats.intervals import band_intervals
    from netsim.stats.quantiles import bands, quantiles


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name])
        globals()[name] = value
        return value
    if name not in _HOMES:
        raise AttributeError(f"module 'netsim' has no attribute {name!r}")
    module = importlib.import_module(_HOMES[name])
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)  # the public names, loaded or not (not this module's helpers)


__all__ = [
    "ArgumentTypeError",
    "ArgumentValueError",
    "OutputError",
    "OutputLayout",
    "Scenario",
    "ScenarioError",
    "__version__",
    "attribution",
    "band_intervals",
    "bands",
    "by_region",
    "cagr",
    "compare",
    "coordinates",
    "deterministic",
    "draft",
    "exceedance",
    "global_total",
    "load_scenario",
    "open_run",
    "prcc",
    "propagate",
    "quantiles",
    "ranking",
    "reconcile",
    "reconcile_run",
    "sample_inputs",
    "select_output",
    "sensitivity",
    "simulate",
    "simulate_to_precision",
    "sobol",
    "sobol_indices",
    "spearman",
    "tail_attribution",
    "tornado",
    "value",
    "write_netcdf",
]
