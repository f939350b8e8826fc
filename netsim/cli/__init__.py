"""The ``netsim`` command line: parse, load, call one library function, print, write.

Start-up time matters here (``netsim run`` answers in about a second with a warm numba
cache), so the parser's modules import nothing heavy: numpy, numba and xarray load
only once the command is known.
"""

from netsim.cli.entry import console, main

__all__ = ["console", "main"]
