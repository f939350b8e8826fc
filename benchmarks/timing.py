"""Timing helpers shared by the benchmark harness (``run.py``) and its scale rows."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_time(function: Callable[[], object], repeat: int, warm_up: bool = True) -> float:
    """Median wall time of ``repeat`` calls, after one warm-up call unless ``warm_up``
    is False (a cold start must be the first call) (seconds)."""
    if warm_up:
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def alternating(
    first: Callable[[], object], second: Callable[[], object], calls: int
) -> tuple[list[float], list[float]]:
    """Wall times (seconds) of ``calls`` runs of each function, run in alternation after
    one warm-up call of each: on a machine whose speed drifts, each pair shares a phase."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(calls):
        for function, record in zip((first, second), times, strict=True):
            start = time.perf_counter()
            function()
            record.append(time.perf_counter() - start)
    return times
