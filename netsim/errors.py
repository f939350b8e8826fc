"""Errors raised for bad user input, and for outputs that cannot be written."""

from __future__ import annotations

__all__ = ["OutputError", "ScenarioError"]


class ScenarioError(ValueError):
    """A scenario file, overlay, run file or call argument is invalid.

    The message names the file (when there is one), the key path inside it, the
    offending value and the rule it breaks, e.g.
    ``configs/x.toml: drivers.prevalence.impact.low=2.0 must be <= mode=1.5``.
    """

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        self.path = path
        self.key = key
        prefix = f"{path}: " if path else ""
        super().__init__(prefix + message)


class OutputError(ScenarioError):
    """An output could not be written (no space left, a read-only folder, permissions).

    Nothing is left behind: the message says what failed.
    """
