"""Runs: ``simulate`` and its strategies (in memory, reduced to bands, Dask, Zarr, to a
precision), run planning, and the run files (the one reader)."""
