"""The arguments of :func:`netsim.propagate` checked at the edge, each refusal one line
naming the argument: a count that is not a whole number, a dtype the kernels do not
have, inputs that are not real numbers, ``out=`` arrays of the wrong kind or sharing
memory with each other or with the inputs (the kernel would read values it had written:
wrong totals, silently)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np

from netsim.errors import ArgumentTypeError, ArgumentValueError

__all__ = ["KERNEL_DTYPES", "check_dtype", "check_out", "check_real", "whole_number"]

KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def whole_number(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as a Python int >= ``minimum``: an int or numpy integer, not a bool (True
    would be taken as 1) nor a float (7.5)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ArgumentTypeError(
            f"{name}={value!r} must be a whole number (int), not {type(value).__name__}",
            argument=name,
        )
    number = int(value)  # a numpy int8 would overflow in the chunk arithmetic
    if number < minimum:
        raise ArgumentValueError(f"{name}={number} must be >= {minimum}", argument=name)
    return number


def check_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """A kernel dtype, float32 or float64."""
    try:
        wanted = np.dtype(dtype)
    except TypeError:
        raise ArgumentTypeError(f"{name}={dtype!r} is not a numpy dtype", argument=name) from None
    if wanted not in KERNEL_DTYPES:
        raise ArgumentValueError(f"{name}={wanted.name} must be float32 or float64", argument=name)
    return wanted


def check_real(values: np.ndarray, name: str = "inputs") -> None:
    """Refuse arrays that are not real numbers (complex ones would lose their imaginary
    part on conversion; text or objects are no numbers at all)."""
    if values.dtype.kind == "c":
        raise ArgumentTypeError(
            f"{name} are complex ({values.dtype.name}): pass real numbers (the imaginary part "
            "would be dropped)",
            argument=name,
        )
    if values.dtype.kind not in "biuf":
        raise ArgumentTypeError(
            f"{name} must be real numbers, not {values.dtype.name} values", argument=name
        )


def check_out(
    out: Mapping[str, Any],
    shapes: Mapping[str, tuple[int, ...]],
    inputs: tuple[np.ndarray, ...],
) -> dict[str, np.ndarray]:
    """The caller's ``out`` arrays, one per name of ``shapes``, each refused in one line
    naming it: not an ndarray, a wrong shape, dtype or layout, read-only, or sharing
    memory with another output or with ``inputs``."""
    arrays: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        array = out.get(name)
        label = f"out[{name!r}]"
        if not isinstance(array, np.ndarray):
            raise ArgumentTypeError(
                f"{label} must be a numpy array, not {type(array).__name__}", argument=label
            )
        problem = _out_problem(array, shape)
        if problem:
            raise ArgumentValueError(f"{label} {problem}", argument=label)
        arrays[name] = array
    if len({a.dtype for a in arrays.values()}) != 1:
        raise ArgumentValueError("out arrays must share one dtype", argument="out")
    for (first, a), (second, b) in itertools.combinations(arrays.items(), 2):
        if np.may_share_memory(a, b) and np.shares_memory(a, b):
            raise ArgumentValueError(
                f"out[{first!r}] and out[{second!r}] share memory", argument=f"out[{second!r}]"
            )
    for name, array in arrays.items():
        for given in inputs:
            if np.may_share_memory(array, given) and np.shares_memory(array, given):
                raise ArgumentValueError(
                    f"out[{name!r}] shares memory with the inputs", argument=f"out[{name!r}]"
                )
    return arrays


def _out_problem(array: np.ndarray, shape: tuple[int, ...]) -> str:
    """What makes ``array`` unfit as an ``out=`` array of ``shape`` ('' if nothing)."""
    if array.shape != shape:
        return f"has shape {array.shape}; expected {shape}"
    if array.dtype not in KERNEL_DTYPES:
        return f"is {array.dtype.name}; expected float32 or float64"
    if not array.flags.c_contiguous:
        return "is not C-contiguous (pass np.ascontiguousarray of it)"
    if not array.flags.writeable:
        return "is read-only"
    return ""
