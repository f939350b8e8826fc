"""netsim: Monte Carlo scenario simulation for market forecasts.

The public API (see DESIGN.md's contract)::

    import netsim
    sc = netsim.load_scenario("configs/net_market.toml")
    base = netsim.deterministic(sc)
    ds = netsim.simulate(sc, draws=100_000, seed=7, sampler="mc")
    netsim.bands(ds["total"], q=[0.05, 0.5, 0.95])

Analyses (sensitivity, convergence, comparison) are functions here too; plots are in
:mod:`netsim.plots` and the HTML report in :mod:`netsim.report`.

Every public name loads on first use (PEP 562): ``import netsim`` itself imports
neither numpy nor xarray, so the command line can decide what a command needs
(see :func:`netsim.cli.console`) and a library loop pays only for what it calls.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# the one place the version is written (pyproject.toml reads it from here); reading it
# from the installed metadata instead costs 70 ms of email-parser imports at start-up
__version__ = "0.1.0"

# public name -> the module that defines it
_HOMES = {
    "cagr": "netsim.comparison",
    "compare": "netsim.comparison",
    "exceedance": "netsim.comparison",
    "band_intervals": "netsim.convergence",
    "simulate_to_precision": "netsim.convergence",
    "coordinates": "netsim.engine",
    "deterministic": "netsim.engine",
    "load_scenario": "netsim.engine",
    "propagate": "netsim.engine",
    "simulate": "netsim.engine",
    "ScenarioError": "netsim.errors",
    "open_run": "netsim.io",
    "write_netcdf": "netsim.io",
    "select_output": "netsim.outputs",
    "sample_inputs": "netsim.sampling",
    "Scenario": "netsim.scenario",
    "bands": "netsim.stats",
    "by_region": "netsim.stats",
    "global_total": "netsim.stats",
    "quantiles": "netsim.stats",
    "attribution": "netsim.sensitivity",
    "prcc": "netsim.sensitivity",
    "ranking": "netsim.sensitivity",
    "sobol": "netsim.sensitivity",
    "spearman": "netsim.sensitivity",
    "tail_attribution": "netsim.sensitivity",
    "tornado": "netsim.sensitivity",
    "sobol_indices": "netsim.saltelli",
}

if TYPE_CHECKING:  # what the lazy names are, for type checkers and editors
    from netsim.comparison import cagr, compare, exceedance
    from netsim.convergence import band_intervals, simulate_to_precision
    from netsim.engine import coordinates, deterministic, load_scenario, propagate, simulate
    from netsim.errors import ScenarioError
    from netsim.io import open_run, write_netcdf
    from netsim.outputs import select_output
    from netsim.saltelli import sobol_indices
    from netsim.sampling import sample_inputs
    from netsim.scenario import Scenario
    from netsim.sensitivity import (
        attribution,
        prcc,
        ranking,
        sobol,
        spearman,
        tail_attribution,
        tornado,
    )
    from netsim.stats import bands, by_region, global_total, quantiles


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'netsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)  # the public names, loaded or not (not this module's helpers)


__all__ = [
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
    "exceedance",
    "global_total",
    "load_scenario",
    "open_run",
    "prcc",
    "propagate",
    "quantiles",
    "ranking",
    "sample_inputs",
    "select_output",
    "simulate",
    "simulate_to_precision",
    "sobol",
    "sobol_indices",
    "spearman",
    "tail_attribution",
    "tornado",
    "write_netcdf",
]
