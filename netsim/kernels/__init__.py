"""The numba kernels: arrays and scalars in, preallocated ``out`` arrays written.

Kernels validate nothing (their callers do) and each is a pure function of its
inputs: one draw's outputs depend on that draw's inputs alone, so results are
bit-identical for any chunking and any number of threads. Their numba options are
set in one place, :mod:`netsim.kernels.options`.
"""
