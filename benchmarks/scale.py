"""Scale figures for the benchmark harness (called by ``benchmarks/run.py``).

The large reduced run, reduce-mode against cube-mode throughput, a Dask
LocalCluster against local threads, the per-call overhead of a 1,000-draw
``propagate`` and the start of a fresh process with a warm numba cache.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np
from histogram_limit import nanoseconds_a_value  # benchmarks/ is on sys.path (run.py)
from timing import alternating, median_time

import netsim
from netsim.kernels.propagate import propagate_kernel
from netsim.model.arrays import draw_arrays, model_arrays
from netsim.model.layout import OutputLayout
from netsim.model.row_checks import check_rows
from netsim.run.reduced import PILOT_DRAWS, CellLayout, selected_outputs
from netsim.stats.quantiles import as_quantiles
from netsim.stats.sketches import DEFAULT_BINS

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "net_market.toml"
Row = tuple[str, str, str, str]


# Runs a command, then prints its exit status, peak RSS (kB) and first line of output as
# JSON. A forked child's high-water mark starts at its parent's RSS (Linux keeps it across
# exec), so a child forked by this harness, which holds cubes of several GB by then, would
# report them as its own; forked from this small launcher instead, it starts near 10 MB.
_LAUNCHER = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({
    "status": done.returncode,
    "peak_kilobytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    "first_line": (done.stdout.splitlines() or [""])[0],
    "error": done.stderr[-2000:],
}))
"""


def measured_command(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (bytes) and first printed line of a command."""
    start = time.perf_counter()
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - start
    report = json.loads(launched.stdout)
    if report["status"] != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {report['error']}")
    return seconds, report["peak_kilobytes"] * 1024.0, report["first_line"]


MARKET_OUTPUTS = "total,by_modality,by_indication,by_end_user"  # the top-down market's


def large_run(draws: int, outputs: str | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (bytes) and first printed line of ``netsim run --draws N``
    (reduced to ``--outputs`` when given)."""
    netsim_command = str(Path(sys.executable).with_name("netsim"))
    command = [netsim_command, "run", str(CONFIG), "--draws", str(draws), "--seed", "1"]
    # reduced at any size (a run whose record fits would stream into its record instead)
    return measured_command(
        [*command, "--no-progress", *(["--outputs", outputs] if outputs else ["--reduce"])]
    )


def chunk_costs(
    scenario: netsim.Scenario, outputs: str | None, chunks: int = 3
) -> tuple[float, float, int]:
    """Median seconds a chunk of :data:`PILOT_DRAWS` draws takes to compute (sample and
    propagate: the kernels a reduced run of ``outputs`` needs) and to fold (region sums
    and binning), and the values folded a chunk (``chunks`` chunks after the pilot)."""
    layout = OutputLayout.of(scenario)
    cells = CellLayout(layout, outputs=selected_outputs(layout, outputs))
    buffers = cells.buffers(PILOT_DRAWS)
    draws = (chunks + 1) * PILOT_DRAWS
    arrays = cells.compute(scenario, (draws, 1, "mc"), 0, PILOT_DRAWS, buffers)
    summary = cells.pilot_summary(arrays, DEFAULT_BINS, as_quantiles((0.05, 0.5, 0.95)))
    compute_times, fold_times = [], []
    for start in range(PILOT_DRAWS, draws, PILOT_DRAWS):
        began = time.perf_counter()
        stop = start + PILOT_DRAWS
        arrays = cells.compute(scenario, (draws, 1, "mc"), start, stop, buffers)
        computed = time.perf_counter()
        cells.fold(summary, arrays)
        compute_times.append(computed - began)
        fold_times.append(time.perf_counter() - computed)
    values = cells.cells * PILOT_DRAWS
    return statistics.median(compute_times), statistics.median(fold_times), values


def large_reduced_rows(with_funnel: netsim.Scenario, large_draws: int) -> list[Row]:
    """``netsim run --draws N`` of the NET file reduced to bands, every output and the
    top-down market's outputs alone: time and peak memory, beside what the kernels alone
    (sampling and propagation, no fold) would take for as many draws, measured by chunk."""
    rows: list[Row] = []
    cube_bytes = large_draws * OutputLayout.of(with_funnel).bytes_per_draw
    for outputs, which in ((None, "every output"), (MARKET_OUTPUTS, "market outputs only")):
        seconds, rss, first_line = large_run(large_draws, outputs)
        compute, fold, values = chunk_costs(with_funnel, outputs)
        chunks = large_draws / PILOT_DRAWS
        threads = numba.get_num_threads()
        kernels = "both models and the products" if outputs is None else "the top-down model"
        rows.append(
            (
                f"`netsim run --draws {large_draws:,}` on the NET file reduced to bands, "
                f"{which} (cube {cube_bytes / 1e9:.0f} GB)",
                f"{seconds:.0f} s, {rss / 1e9:.2f} GB peak RSS",
                f"{large_draws / seconds:,.0f} draws/s; the limit: sampling and propagating "
                f"alone ({kernels}) would take {compute * chunks:.0f} s, and the fold "
                f"{fold * chunks:.0f} s ({fold * threads / values * 1e9:.2f} ns a value a core, "
                f"{values // PILOT_DRAWS:,} cells a draw), measured chunk by chunk; "
                f"{first_line}",
                "<= 60 s, <= 1 GB",
            )
        )
    return rows


def scale_rows(
    scenario: netsim.Scenario,
    with_funnel: netsim.Scenario,
    repeat: int,
    large_draws: int,
    kernel_rate: float,
) -> list[Row]:
    """Every scale figure of the README, as table rows (figure, measured, note, target).

    ``scenario`` is the NET top-down model, ``with_funnel`` the NET file as it is;
    ``kernel_rate`` the top-down kernel's draws/s in this harness run."""
    rows: list[Row] = []

    # reduce-mode against the kernel alone and against cube mode
    draws = 200_000
    cube = median_time(lambda: netsim.simulate(scenario, draws, seed=1), max(1, repeat // 2))
    reduced = median_time(
        lambda: netsim.simulate(scenario, draws, seed=1, reduce="bands"), max(1, repeat // 2)
    )
    reduced_funnel = median_time(
        lambda: netsim.simulate(with_funnel, draws, seed=1, reduce="bands"), max(1, repeat // 2)
    )
    cells = OutputLayout.of(scenario)
    rows.append(
        (
            "reduce-mode throughput (bands of every cell) / kernel alone",
            f"{draws / reduced / kernel_rate:.0%}",
            f"{draws / reduced:,.0f} draws/s against the kernel's {kernel_rate:,.0f}; cube mode "
            f"{draws / cube:,.0f} draws/s; {draws:,} draws, {cells.cells_per_draw:,} country "
            "cells a draw plus their region and world sums, each binned",
            ">= 25 %",
        )
    )
    compute, fold, values = chunk_costs(scenario, None, draws // PILOT_DRAWS - 1)
    rows.append(
        (
            "reduce mode, where its time goes",
            f"folding {fold / (compute + fold):.0%}",
            f"per chunk of {PILOT_DRAWS:,} draws: sample + propagate {compute * 1e3:.1f} ms, "
            f"fold into the histograms {fold * 1e3:.1f} ms ({values:,} values, "
            f"{fold * numba.get_num_threads() / values * 1e9:.2f} ns per value per core)",
            "-",
        )
    )
    limit = nanoseconds_a_value()
    per_core = fold * numba.get_num_threads() / values * 1e9
    rows.append(
        (
            "fold / streaming-histogram micro-benchmark, ns a value a core",
            f"{per_core / limit:.1f}x",
            f"fold {per_core:.2f} ns against {limit:.2f} ns binning one cell's contiguous values "
            "into counts held in L1 (benchmarks/histogram_limit.py): the fold also gathers "
            "each cell out of the draw-major cube and keeps its extremes",
            "-",
        )
    )
    rows.append(
        (
            "reduce-mode throughput, the NET file with its patient funnel",
            f"{draws / reduced_funnel:,.0f} draws/s",
            f"{OutputLayout.of(with_funnel).cells_per_draw:,} country cells a draw",
            "-",
        )
    )

    # Dask LocalCluster (2 worker processes x 1 thread) against local numba threads
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the dask extra is installed by make
        rows.append(("Dask LocalCluster", "skipped", "dask.distributed not installed", "-"))
    else:
        failures: list[str] = []
        for _ in range(2):  # a worker lost on a loaded machine: once more on a new cluster
            try:
                distributed, distributed_reduced = _on_local_cluster(
                    Client, LocalCluster, scenario, draws, repeat
                )
                break
            except Exception as error:
                failures.append(f"{type(error).__name__}: {error}"[:120])
        if len(failures) == 2:  # say so, and keep the rest of the harness
            rows.append(("Dask LocalCluster", "failed twice", failures[-1], "-"))
        else:
            rows.append(
                (
                    "Dask LocalCluster (2 workers) / local threads, cube gathered",
                    f"{cube / distributed:.2f}x throughput",
                    f"{draws / distributed:,.0f} vs {draws / cube:,.0f} draws/s",
                    "-",
                )
            )
            rows.append(
                (
                    "Dask LocalCluster (2 workers) / local threads, reduced",
                    f"{reduced / distributed_reduced:.2f}x throughput",
                    f"{draws / distributed_reduced:,.0f} vs {draws / reduced:,.0f} draws/s",
                    "-",
                )
            )

    # per-call overhead of a 1,000-draw propagate beyond the kernel's own work: the two
    # are timed in alternation and the overhead is the median of the pairs' differences
    inputs = netsim.sample_inputs(scenario, 1000, seed=3)
    model, arrays = model_arrays(scenario), draw_arrays(scenario, inputs)
    cube = OutputLayout.of(scenario).allocate(1000, np.float32)
    total, by_axis = cube["total"], tuple(v for k, v in cube.items() if k != "total")
    buffers = netsim.propagate(scenario, inputs, as_arrays=True)

    def kernel() -> None:
        propagate_kernel(model, arrays, total, by_axis)

    def reused() -> None:
        netsim.propagate(scenario, inputs, as_arrays=True, out=buffers)

    calls = 100 * repeat
    kernel_times, reused_times = alternating(kernel, reused, calls)
    overhead = statistics.median(r - k for r, k in zip(reused_times, kernel_times, strict=True))
    # the caller's rows held to the scenario's rules (check=True, the default), alone
    draw = np.arange(inputs.shape[0])
    checks = median_time(lambda: check_rows(scenario, inputs, draw), calls)
    fresh = median_time(lambda: netsim.propagate(scenario, inputs, as_arrays=True), calls)
    labelled = median_time(lambda: netsim.propagate(scenario, inputs), calls)
    rows.append(
        (
            "`propagate` 1,000 draws: overhead beyond the kernel",
            f"{overhead * 1e3:.2f} ms",
            f"median of {calls} paired calls; kernel {statistics.median(kernel_times) * 1e3:.2f} "
            f"ms; with out= buffers {statistics.median(reused_times) * 1e3:.2f} ms, of which "
            f"checking the rows {checks * 1e3:.3f} ms; fresh "
            f"arrays {fresh * 1e3:.2f} ms (page faults); as xarray {labelled * 1e3:.2f} ms",
            "< 2 ms",
        )
    )

    # a fresh process with a warm cache: import, load, one 1,000-draw propagate
    script = (
        f"import netsim; sc = netsim.load_scenario(r'{CONFIG}'); "
        "netsim.propagate(sc, netsim.sample_inputs(sc, 1000), as_arrays=True)"
    )
    starts = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT)
        starts.append(time.perf_counter() - start)
    rows.append(
        (
            "fresh process, warm cache: import + load + 1,000-draw propagate",
            f"{statistics.median(starts):.2f} s",
            "",
            "-",
        )
    )

    if large_draws:
        rows += large_reduced_rows(with_funnel, large_draws)
    return rows


def _on_local_cluster(
    client_type: type, cluster_type: type, scenario: object, draws: int, repeat: int
) -> tuple[float, float]:
    """Median seconds of a cube run and a reduced run on a 2-process LocalCluster."""
    with (
        cluster_type(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        client_type(cluster) as client,
    ):
        distributed = median_time(
            lambda: netsim.simulate(scenario, draws, seed=1, client=client), max(1, repeat // 2)
        )
        distributed_reduced = median_time(
            lambda: netsim.simulate(scenario, draws, seed=1, reduce="bands", client=client),
            max(1, repeat // 2),
        )
    return distributed, distributed_reduced
