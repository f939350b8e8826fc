"""Run planning: how much memory a run would take, and which way it goes.

A run keeps its cube in memory when it fits a budget (a quarter of this machine's
memory); above it, a run asked to decide for itself (``reduce="auto"``) is reduced to
bands, and an analysis that needs the draws of a file says how much they would take.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from netsim.errors import ScenarioError
from netsim.model.layout import OutputLayout

__all__ = [
    "FALLBACK_MEMORY",
    "MEMORY_SHARE",
    "ONE_THREAD_DRAWS",
    "RunPlan",
    "check_fits_in_memory",
    "kernel_threads",
    "memory_budget",
    "plan_run",
]

MEMORY_SHARE = 0.25  # of this machine's memory a cube may take before a run reduces to bands
FALLBACK_MEMORY = 4.0e9  # bytes assumed where the machine's memory cannot be read
STRATEGIES = ("memory", "reduced", "zarr", "precision")
# a run of at most this many draws runs its kernels on one thread (kernel_threads)
ONE_THREAD_DRAWS = 2_048
STORE_COMPRESSION = 2.0  # a store's cube compresses this well at best (float32 draws)


def memory_budget() -> float:
    """Bytes of cube and inputs above which a run reduces to bands.

    A quarter of the memory this process may use: the machine's physical
    memory, or its cgroup limit where that is lower (containers). An in-memory
    run peaks at about 1.7 times its cube (the cube, the bands' scratch, NetCDF
    buffers), so a run below the budget stays well inside memory.
    """
    try:
        physical = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):  # pragma: no cover - non-POSIX
        physical = FALLBACK_MEMORY
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            physical = min(physical, float(limit))
    except OSError:
        pass
    return MEMORY_SHARE * physical


@dataclass(frozen=True)
class RunPlan:
    """How a run goes, and why.

    Attributes
    ----------
    strategy : {"memory", "reduced", "zarr", "precision"}
        The cube in memory; bands by reduction; the cube streamed to a Zarr store;
        batches until the headline percentiles are sure enough.
    cube_bytes : int
        What the cube and inputs of ``draws`` draws would take in memory.
    budget : float
        The in-memory budget (:func:`memory_budget`).
    note : str
        What the user should know before the run: why a run asked to decide was
        reduced, a Sobol design of other than a power of two draws ("" otherwise).
    """

    strategy: str
    cube_bytes: int
    budget: float
    note: str = ""


def kernel_threads(draws: int) -> int | None:
    """The numba threads a run of ``draws`` draws should use: one for a small run
    (at most :data:`ONE_THREAD_DRAWS`), else None (numba's default, every core).

    A parallel kernel call waits for every thread of numba's pool to join. On an idle
    machine that costs microseconds, but where other processes share the cores each call
    waits for a time slice: a region-sum call on 1,000 draws of the NET file took 24 to
    32 ms on 2 threads and 1.2 ms on one, on this 2-core machine under load 8 (measured),
    and a 1,000-draw ``netsim run`` makes about 20 such calls. A run this small has at
    most about 30 ms of kernel work on one thread, so on an idle machine one thread
    costs it at most that much more; results do not depend on the threads (bit for bit,
    tests/test_invariants.py)."""
    return 1 if draws <= ONE_THREAD_DRAWS else None


def sobol_balance_note(draws: int, sampler: str) -> str:
    """A note for a ``sobol`` design of other than a power of two draws ("" otherwise)."""
    if sampler != "sobol" or not draws & (draws - 1):
        return ""
    return (
        f"sampler sobol: {draws:,} draws is not a power of two, and the Sobol design is "
        f"balanced only for powers of two (such as {1 << draws.bit_length():,})"
    )


def plan_run(
    layout: OutputLayout,
    draws: int,
    *,
    reduce: str | None = None,
    store: str | Path | None = None,
    precision: float | None = None,
    sampler: str = "mc",
) -> RunPlan:
    """Choose a run's strategy.

    Parameters
    ----------
    layout : OutputLayout
    draws : int
    reduce : {None, "bands", "auto"}
        ``"bands"``: reduce; ``"auto"``: reduce only when the cube would not fit the
        budget; None: keep the cube in memory.
    store : path, optional
        Stream the cube to this Zarr store.
    precision : float, optional
        Run in batches to this relative precision.
    sampler : str
        A ``sobol`` run of other than a power of two draws gets a note: the design's
        balance holds for powers of two.
    """
    if reduce not in (None, "bands", "auto"):
        raise ScenarioError(f"reduce={reduce!r} must be None, 'bands' or 'auto'")
    chosen = [
        name
        for name, wanted in (
            ("store", store is not None),
            ("precision", precision is not None),
            ("reduce='bands'", reduce == "bands"),
        )
        if wanted
    ]
    if len(chosen) > 1:
        raise ScenarioError(f"{' and '.join(chosen)} cannot be combined: choose one way to run")
    cube_bytes = int(draws) * layout.bytes_per_draw
    budget = memory_budget()
    balance = sobol_balance_note(draws, sampler)
    if store is not None:
        folder = Path(store).resolve().parent
        free = shutil.disk_usage(folder).free if folder.is_dir() else float("inf")
        if cube_bytes > STORE_COMPRESSION * free:
            raise ScenarioError(
                f"{store}: draws={draws:,}: the store would hold {_size(cube_bytes)} of cube "
                f"(uncompressed), and {folder} has {_size(free)} free"
            )
        return RunPlan("zarr", cube_bytes, budget, balance)
    if precision is not None:
        return RunPlan("precision", cube_bytes, budget, balance)
    if reduce == "bands":
        return RunPlan("reduced", cube_bytes, budget, balance)
    if cube_bytes > budget:
        if reduce == "auto":
            note = (
                f"the cube would take {cube_bytes / 1e9:.1f} GB, over the in-memory budget of "
                f"{budget / 1e9:.1f} GB ({MEMORY_SHARE:.0%} of this machine's memory): computing "
                "the bands of every cell by reduction instead (a Zarr store keeps the cube on "
                "disk)"
            )
            return RunPlan("reduced", cube_bytes, budget, "\n".join(filter(None, [note, balance])))
        raise ScenarioError(
            f"draws={draws:,}: the cube would take {cube_bytes / 1e9:,.1f} GB, over the "
            f"in-memory budget of {budget / 1e9:.1f} GB ({MEMORY_SHARE:.0%} of this machine's "
            "memory): reduce it to bands (reduce='bands') or stream it to a Zarr store"
        )
    return RunPlan("memory", cube_bytes, budget, balance)


def _size(count: float) -> str:
    """Bytes in the unit that reads best (kB, MB, GB, TB)."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count / 1e3:,.1f} kB"


def check_fits_in_memory(needed_bytes: float, what: str) -> None:
    """Refuse to load ``needed_bytes`` into memory when that is over the budget."""
    budget = memory_budget()
    if needed_bytes > budget:
        raise ScenarioError(
            f"{what} would need {needed_bytes / 1e9:.1f} GB in memory, over the budget of "
            f"{budget / 1e9:.1f} GB ({MEMORY_SHARE:.0%} of this machine's memory)"
        )
