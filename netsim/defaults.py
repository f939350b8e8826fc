"""Defaults and fixed choices shared by the library and the command line.

This module imports nothing: the command line reads it to build its parser before
it decides which heavy libraries a command needs (see :func:`netsim.cli.console`).
"""

__all__ = ["BY_CHOICES", "DEFAULT_CHUNK", "DEFAULT_UNIT"]

DEFAULT_CHUNK = 16_384  # draws per kernel call or Dask task; results never depend on it
BY_CHOICES = ("country", "region", "global")  # how an output is aggregated over countries
DEFAULT_UNIT = "USD million"  # the unit of a market whose file names none (market.unit)
