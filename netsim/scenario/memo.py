"""Objects derived from a scenario, built once per scenario object."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["per_scenario"]

T = TypeVar("T")
_LOCK = threading.Lock()


def per_scenario(cache: dict[int, Any], scenario: Any, build: Callable[[Any], T]) -> T:
    """``build(scenario)``, once per scenario object.

    Scenarios are frozen, so what is derived from one never goes stale; the entry is
    dropped when the scenario is garbage collected.
    """
    key = id(scenario)
    cached = cache.get(key)
    if cached is None:
        cached = build(scenario)
        with _LOCK:
            if key not in cache:
                cache[key] = cached
                weakref.finalize(scenario, cache.pop, key, None)
    return cached
