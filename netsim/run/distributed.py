"""The one loop that fans a run's chunks out to a Dask cluster.

Every distributed strategy (a gathered cube, a reduced run, a Zarr store) submits
tasks here and handles each result in this process as it completes. At most a few
tasks per worker are in flight at once, so a run of any size holds a bounded number of
futures and results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

__all__ = ["IN_FLIGHT_PER_WORKER", "fan_out", "worker_count"]

IN_FLIGHT_PER_WORKER = 2  # tasks queued per worker: one running, one ready to start

Task = TypeVar("Task")


def worker_count(client: Any) -> int:
    """Workers of the cluster (at least 1)."""
    return max(1, len(client.scheduler_info().get("workers", {})))


def _shared_value(value: Any) -> Any:
    """The task that holds an argument common to every task (see ``fan_out``)."""
    return value


def fan_out(
    client: Any,
    function: Callable[..., Any],
    shared: tuple[Any, ...],
    tasks: Iterable[tuple[Any, ...]],
    handle: Callable[[tuple[Any, ...], Any], None],
) -> None:
    """Run ``function(*shared, *task)`` on the cluster for every task.

    Parameters
    ----------
    client : dask.distributed.Client
    function : callable
        A pure function of its arguments (a task may be retried on another worker).
    shared : tuple
        Arguments common to every task (e.g. the scenario), sent to every worker once.
    tasks : iterable of tuples
        Each task's own arguments; consumed lazily.
    handle : callable
        ``handle(task, result)``, called in this process in completion order.
    """
    from dask.distributed import as_completed

    # Each shared argument is a task of its own, not scattered data: the scheduler keeps
    # a task's recipe and computes it again when every worker holding its result is lost,
    # whereas scattered data is gone for good (and the scheduler's memory manager drops
    # the extra copies a broadcast made, so a single killed worker could take it).
    sent = tuple(client.submit(_shared_value, value, pure=False) for value in shared)
    limit = IN_FLIGHT_PER_WORKER * worker_count(client)
    pending = iter(tasks)
    running: dict[str, tuple[Any, ...]] = {}
    # on the client's loop: the CLI's client is never the process's default one
    queue = as_completed(loop=client.loop)

    def submit() -> bool:
        task = next(pending, None)
        if task is None:
            return False
        future = client.submit(function, *sent, *task, pure=False)
        running[future.key] = task
        queue.add(future)
        return True

    while len(running) < limit and submit():
        pass
    for future in queue:
        task = running.pop(future.key)
        handle(task, future.result())
        future.release()
        submit()
