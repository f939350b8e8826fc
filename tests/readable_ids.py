"""Readable parametrised ids: a failure's id should say which case failed.

Loaded by tests/conftest.py. An argument list (a command line) reads as its words; a case
whose id still holds a part pytest made up (``<lambda>``, or the argument's name and
index such as ``argv0``) fails with a line naming that part, so a contributor gives it a
``pytest.param(..., id="...")``.
"""

from __future__ import annotations

import pytest

_GENERATED = pytest.StashKey[list[str]]()
_PLAIN = str | int | float


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """A flat list or tuple (a command line, quantiles) reads as its words, an empty one as
    ``empty``, and a flat table as its ``key=value`` pairs, when that is one printable line
    of at most 100 characters (pytest's own limit for a string); other values are left to
    pytest."""
    words = None
    if isinstance(val, list | tuple) and all(isinstance(v, _PLAIN) for v in val):
        words = " ".join(map(str, val)) if val else "empty"
    elif isinstance(val, dict) and val and all(isinstance(v, _PLAIN) for v in val.values()):
        words = " ".join(f"{key}={value}" for key, value in val.items())
    if words is None or len(words) > 100 or not words.isprintable():
        return None  # pytest's own id, which the check below asks to replace if made up
    return words


def generated_parts(item: pytest.Item) -> list[str]:
    """The parts of ``item``'s id that pytest generated rather than read from a value:
    ``<lambda>`` and the argument-name-and-index parts (``argv0``, ``func1``)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return []
    parts = callspec.id.split("-")
    generated = {f"{name}{index}" for name, index in callspec.indices.items()}
    return [part for part in parts if part in generated or "<lambda>" in part]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Note the made-up id parts of every collected case."""
    for item in items:
        parts = generated_parts(item)
        if parts:
            item.stash[_GENERATED] = parts


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a case whose id holds a made-up part, naming it."""
    parts = item.stash.get(_GENERATED, None)
    if parts:
        pytest.fail(
            f"{item.nodeid}: id part(s) {', '.join(map(repr, parts))} made up by pytest: "
            "give the case pytest.param(..., id='what it is')",
            pytrace=False,
        )
