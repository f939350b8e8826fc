"""netsim: Monte Carlo scenario simulation for market forecasts.

The public API (see DESIGN.md's contract)::

    import netsim
    sc = netsim.load_scenario("configs/net_market.toml")
    base = netsim.deterministic(sc)
    ds = netsim.simulate(sc, draws=100_000, seed=7, sampler="mc")
    netsim.bands(ds["total"], q=[0.05, 0.5, 0.95])

Analyses (sensitivity, convergence, comparison) are functions here too; plots are in
:mod:`netsim.plots` and the HTML report in :mod:`netsim.report`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("netsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

import importlib
from typing import Any

from netsim.comparison import cagr, compare, exceedance
from netsim.convergence import band_intervals, simulate_to_precision
from netsim.engine import coordinates, deterministic, load_scenario, propagate, simulate
from netsim.errors import ScenarioError
from netsim.io import open_run, write_netcdf
from netsim.outputs import select_output
from netsim.sampling import sample_inputs
from netsim.scenario import Scenario
from netsim.stats import bands, by_region, global_total, quantiles

# The sensitivity analyses need scipy.stats, about a second to import: they load on
# first use, so that a plain run or a library loop does not pay for them.
_LAZY = {
    "attribution": "netsim.sensitivity",
    "prcc": "netsim.sensitivity",
    "ranking": "netsim.sensitivity",
    "sobol": "netsim.sensitivity",
    "spearman": "netsim.sensitivity",
    "tail_attribution": "netsim.sensitivity",
    "tornado": "netsim.sensitivity",
    "sobol_indices": "netsim.saltelli",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'netsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
