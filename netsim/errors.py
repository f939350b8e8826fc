"""Errors raised for bad user input, and for outputs that cannot be written."""

from __future__ import annotations

__all__ = [
    "ArgumentTypeError",
    "ArgumentValueError",
    "OutputError",
    "OutputExistsError",
    "RunFileError",
    "ScenarioError",
    "damage_found_by_hdf5",
]

# HDF5's words when a chunk's Fletcher-32 checksum does not match its bytes
HDF5_CHECKSUM_FAILED = "filter returned failure"


def damage_found_by_hdf5(error: BaseException) -> str:
    """What HDF5's error says of a damaged file, on one line: ``damaged: a chunk's
    checksum ...`` for a Fletcher-32 mismatch, else ``damaged (<its first line>)``."""
    if HDF5_CHECKSUM_FAILED in str(error):
        return (
            "damaged: a chunk's checksum does not match its bytes (the file was changed "
            "after netsim wrote it)"
        )
    lines = str(error).strip().splitlines()
    return f"damaged ({lines[0] if lines else type(error).__name__})"


class ScenarioError(ValueError):
    """A scenario document (a file, an overlay, a ``--set`` change, a dict), or a run file
    read back, is invalid. A call argument's value is an :class:`ArgumentValueError`, its
    type an :class:`ArgumentTypeError`.

    The message names the file (when there is one), the key path inside it, the
    offending value and the rule it breaks, e.g.
    ``configs/x.toml: drivers.prevalence.impact.low=2.0 must be <= mode=1.5``.

    A figure that breaks one of the scenario's limits (:mod:`netsim.scenario.limits`)
    also carries ``breach``, what is broken in words (``calibration solves baseline =
    +500 % a year, outside its plausible range [-20, 30] (limits.solved_baseline_pp)``),
    and ``figures``, the key paths of the figures that break it
    (``("market.base_size.value", "market.targets.size_2026")``): a caller that knows
    where those figures came from (a drafted report) can name them. A name that cannot
    name a part of a scenario (docs/config.md, "Names") is carried as ``name``: a caller
    that took the names from elsewhere (a report) can blame them.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        key: str | None = None,
        breach: str | None = None,
        figures: tuple[str, ...] = (),
        name: str | None = None,
    ):
        self.path = path
        self.name = name
        self.key = key
        self.breach = breach
        self.figures = figures
        prefix = f"{path}: " if path else ""
        super().__init__(prefix + message)


class OutputError(ScenarioError):
    """An output could not be written (no space left, a read-only folder, permissions).

    Nothing is left behind: the message says what failed.
    """


class OutputExistsError(OutputError):
    """An output written only as a new file found a file of its name already there
    (another process took the name first); nothing was replaced."""


class RunFileError(ScenarioError):
    """A run file (NetCDF or Zarr) that is damaged, was edited, or is not netsim's own:
    refused in one line naming the file and what is wrong (a ``ValueError``, so the
    command line prints it as it prints every bad input). The library error that found
    the damage, where there is one, is kept as ``__cause__``."""


class ArgumentValueError(ValueError):
    """A call argument's value is refused, in one line naming it and the rule:
    ``draws=0 must be a whole number >= 1``, ``out['total'] is read-only``. ``argument``
    is the argument's name (``draws``, ``out['total']``), or None where a rule ties
    several together."""

    def __init__(self, message: str, *, argument: str | None = None):
        self.argument = argument
        super().__init__(message)


class ArgumentTypeError(TypeError):
    """A call argument of the wrong type, named in one line: ``chunk_size=7.5 must be a
    whole number (int), not float``. ``argument`` is its name. (A wrong value of the right
    type is an :class:`ArgumentValueError`.)"""

    def __init__(self, message: str, *, argument: str | None = None):
        self.argument = argument
        super().__init__(message)
