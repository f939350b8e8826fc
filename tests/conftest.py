"""Shared fixtures and hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import netsim

from .readable_ids import (  # noqa: F401 (pytest's hooks, found by name)
    pytest_collection_modifyitems,
    pytest_make_parametrize_id,
    pytest_runtest_setup,
)
from .run_kinds import (  # noqa: F401 (fixtures shared by the modules that read runs)
    non_runs,
    run_kinds,
    run_kinds_made,
    run_kinds_opened,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
NET_CONFIG = CONFIGS / "net_market.toml"

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# make test-fast's profile: fewer examples of the properties whose test sets none, the
# same health checks as ci (a busy machine is not a failure); make test keeps ci's 25
settings.register_profile("dev", settings.get_profile("ci"), max_examples=10)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", autouse=True)
def fresh_solution_cache(tmp_path_factory):
    """Every test run starts with an empty cache (calibrations, beta tables) of its own
    (subprocesses inherit it), so no test depends on what an earlier run left in ~/.cache.
    The workers of one run share it (the run's temporary folder is their basetemp's parent;
    entries are written atomically), so a scenario is solved once a run, not once a worker."""
    from .helpers import shared_by_workers

    folder = shared_by_workers(tmp_path_factory) / "netsim-cache"
    folder.mkdir(exist_ok=True)
    os.environ["NETSIM_CACHE_DIR"] = str(folder)


@pytest.fixture(scope="session")
def net() -> netsim.Scenario:
    """The calibrated NET scenario."""
    return netsim.load_scenario(NET_CONFIG)


@pytest.fixture(scope="session")
def net_top_down() -> netsim.Scenario:
    """The calibrated NET scenario without its patient funnel and its products: the
    top-down model of the market alone."""
    import tomllib

    from .helpers import without_funnel, without_products

    document = without_products(tomllib.loads(NET_CONFIG.read_text()))
    return netsim.load_scenario(without_funnel(document))


@pytest.fixture(scope="session")
def net_text() -> str:
    return NET_CONFIG.read_text()


@pytest.fixture(scope="session")
def small_runs(tmp_path_factory) -> dict:
    """The kinds of file ``netsim run`` writes (tests/helpers.py's three_runs), 600 draws of
    the NET scenario, seed 3, made once a session for the modules that damage copies of
    them (tests/test_corpus.py, tests/test_hostile.py): never change them in place."""
    from .helpers import three_runs

    return three_runs(tmp_path_factory.mktemp("small-runs"), draws=600, seed=3)


@pytest.fixture(scope="session")
def net_run(net):
    """A 4,000-draw mc run of the NET scenario, seed 11."""
    return netsim.simulate(net, 4000, seed=11)
