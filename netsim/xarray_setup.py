"""xarray without the import of dask.array in runs that hold no Dask array.

xarray checks every array it wraps against dask's array type, and the first check
imports ``dask.array`` when dask is installed: 0.28 s of a fresh process, a third of
a small ``netsim run`` above the bare import of numba and xarray. No object can be a
dask array before ``dask.array`` is imported, so until it is, the check needs no
import: :func:`defer_dask_array_import` gives xarray a stand-in for its cached dask
entry that answers "no type" until then, and the real entry once dask.array is
loaded (by netsim's Zarr and Dask paths or by the caller). Only speed depends on it:
where xarray's internals differ from what it expects, it leaves xarray alone.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

__all__ = ["defer_dask_array_import"]


class _DaskEntryUntilImported:
    """xarray's cached dask entry, made when ``dask.array`` is first imported."""

    def __init__(self, pycompat: ModuleType, cache: dict[str, Any]):
        self._pycompat = pycompat
        self._cache = cache

    def _real(self) -> Any:
        entry = self._pycompat.DuckArrayModule("dask")
        self._cache["dask"] = entry
        return entry

    @property
    def type(self) -> tuple[type, ...]:
        if "dask.array" not in sys.modules:
            return ()  # no dask array can exist yet
        return self._real().type

    def __getattr__(self, name: str) -> Any:  # module, version, available
        return getattr(self._real(), name)


def defer_dask_array_import() -> bool:
    """Install the stand-in (once); True if xarray's dask entry is now deferred."""
    if "dask.array" in sys.modules:
        return False
    try:
        from xarray.namedarray import pycompat
    except ImportError:  # pragma: no cover - xarray moved its internals
        return False
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    if not isinstance(cache, dict) or not hasattr(pycompat, "DuckArrayModule"):
        return False  # pragma: no cover - xarray changed: leave it alone
    entry = cache.get("dask")
    if isinstance(entry, _DaskEntryUntilImported):
        return True
    if entry is not None:
        return False  # already resolved
    cache["dask"] = _DaskEntryUntilImported(pycompat, cache)
    return True
