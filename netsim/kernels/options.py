"""The one place that sets the numba options of every kernel, and why."""

from __future__ import annotations

__all__ = ["JIT_OPTIONS"]

JIT_OPTIONS = {
    # (numba.njit is nopython: kernels never fall back to object mode)
    # nogil: callers may run kernels from several Python threads at once.
    "nogil": True,
    # cache: compiled code is stored beside the source, so a fresh process starts fast.
    "cache": True,
    # fastmath off: reassociation would make results depend on vector width and break
    # bit-identical reproducibility (tests/test_invariants.py, tests/test_regression.py).
    "fastmath": False,
    # numpy error model: division by zero gives inf/nan instead of a Python exception
    # check in the inner loops; inputs are validated before they reach a kernel.
    "error_model": "numpy",
}
