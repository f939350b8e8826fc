"""Errors raised for bad user input."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file, overlay or call argument is invalid.

    The message names the file (when there is one), the key path inside it, the
    offending value and the rule it breaks, e.g.
    ``configs/x.toml: drivers.prevalence.impact.low=2.0 must be <= mode=1.5``.
    """

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None):
        self.path = path
        self.key = key
        prefix = f"{path}: " if path else ""
        super().__init__(prefix + message)
