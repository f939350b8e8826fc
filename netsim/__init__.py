"""netsim: Monte Carlo scenario simulation for market forecasts.

The public API (see DESIGN.md's contract)::

    import netsim
    sc = netsim.load_scenario("configs/net_market.toml")
    base = netsim.deterministic(sc)
    ds = netsim.simulate(sc, draws=100_000, seed=7, sampler="mc")
    netsim.bands(ds["total"], q=[0.05, 0.5, 0.95])
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("netsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from netsim.engine import coordinates, deterministic, load_scenario, propagate, simulate
from netsim.errors import ScenarioError
from netsim.io import open_run, write_netcdf
from netsim.sampling import sample_inputs
from netsim.scenario import Scenario
from netsim.stats import bands, by_region, global_total, quantiles

__all__ = [
    "Scenario",
    "ScenarioError",
    "__version__",
    "bands",
    "by_region",
    "coordinates",
    "deterministic",
    "global_total",
    "load_scenario",
    "open_run",
    "propagate",
    "quantiles",
    "sample_inputs",
    "simulate",
    "write_netcdf",
]
