"""The peer row of the benchmark harness: the NET model run through monaco.

monaco is the Monte Carlo framework a Python user would pick: it samples each input
from a scipy distribution, then runs every case through the user's preprocess, run
and postprocess functions. Here ``run`` is netsim's own kernel on one draw (the
fastest per-case NET model there is), so the row measures what a case-by-case
framework costs around the same model; ``simulate`` runs the draws as one array.
monaco comes with the ``bench`` extra only (``make bench``); netsim never imports it.
Inputs are sampled independently (monaco has no copula), so the medians are a sanity
check, not an equality.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

import netsim

Row = tuple[str, str, str, str]


def _scipy_input(distribution: Any) -> tuple[Any, dict[str, Any]]:
    """A netsim distribution as monaco takes it: a scipy distribution and its keywords."""
    frozen = distribution.frozen()
    if not hasattr(frozen, "dist"):  # rv_discrete(values=...): a distribution already
        return frozen, {}
    shapes = [s.strip() for s in (frozen.dist.shapes or "").split(",") if s.strip()]
    keywords = dict(zip(shapes, frozen.args, strict=False)) | dict(frozen.kwds)
    return frozen.dist, keywords


def monaco_row(scenario: netsim.Scenario, cases: int, netsim_draws_per_second: float) -> Row:
    """monaco's cases/s on the NET model (``cases`` cases, one process) beside netsim's."""
    try:
        import monaco as mc
    except ImportError:
        return ("monaco peer (NET model case by case)", "skipped", "pip install monaco", "-")
    logging.getLogger("monaco").setLevel(logging.ERROR)
    names = scenario.parameter_names
    point = np.array([p.distribution.point for p in scenario.parameters])
    varying = [j for j, p in enumerate(scenario.parameters) if p.distribution.kind != "fixed"]
    final = len(scenario.years) - 1

    def preprocess(case: Any) -> tuple[np.ndarray]:
        row = point.copy()
        for j in varying:
            row[j] = case.invals[names[j]].val
        return (row,)

    def run(row: np.ndarray) -> tuple[float]:
        arrays = netsim.propagate(scenario, row[None, :], as_arrays=True, dtype=np.float64)
        return (float(arrays["total"][0, final].sum()),)

    def postprocess(case: Any, total: float) -> None:
        case.addOutVal("global_total_final_year", total)

    sim = mc.Sim(
        name="net",
        ndraws=cases,
        fcns={"preprocess": preprocess, "run": run, "postprocess": postprocess},
        seed=1,
        singlethreaded=True,
        verbose=False,
        samplemethod="random",
    )
    for j in varying:
        dist, keywords = _scipy_input(scenario.parameters[j].distribution)
        sim.addInVar(name=names[j], dist=dist, distkwargs=keywords)
    started = time.perf_counter()
    sim.runSim()
    seconds = time.perf_counter() - started
    monaco_median = float(np.median(sim.outvars["global_total_final_year"].nums))
    ours = netsim.simulate(scenario, cases, seed=1)["total"].isel(year=final)
    our_median = float(np.median(ours.values.astype(np.float64).sum(axis=1)))
    per_second = cases / seconds
    return (
        "monaco peer: the NET model case by case",
        f"{per_second:,.0f} cases/s",
        f"monaco {mc.__version__ if hasattr(mc, '__version__') else '0.23'}, {cases:,} "
        f"random cases in one process around netsim's kernel on one draw; netsim "
        f"simulate {netsim_draws_per_second:,.0f} draws/s "
        f"({netsim_draws_per_second / per_second:,.0f}x); final-year global median "
        f"{monaco_median:,.0f} vs {our_median:,.0f} (no copula in monaco)",
        "-",
    )
