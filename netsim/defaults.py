"""Defaults and fixed choices shared by the library and the command line.

This module imports nothing beyond ``os`` and ``pathlib``: the command line reads it to
build its parser before it decides which heavy libraries a command needs (see
:func:`netsim.cli.console`).
"""

import os
from pathlib import Path

__all__ = ["BY_CHOICES", "DEFAULT_CHUNK", "DEFAULT_UNIT", "cache_root"]

DEFAULT_CHUNK = 16_384  # draws per kernel call or Dask task; results never depend on it
BY_CHOICES = ("country", "region", "global")  # how an output is aggregated over countries
DEFAULT_UNIT = "USD million"  # the unit of a market whose file names none (market.unit)


def cache_root() -> Path | None:
    """Where netsim keeps what it computed once and can check or rebuild (solved
    calibrations, beta quantile tables): ``$NETSIM_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/netsim``, else ``~/.cache/netsim``; None when ``NETSIM_CACHE_DIR``
    is set empty, or there is no home folder (no cache: everything is computed anew)."""
    configured = os.environ.get("NETSIM_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME and no password entry (some containers)
            return None
    return Path(base) / "netsim"
