"""Reading scenario files: TOML, overlays, ``--set`` overrides and a key-path reader.

Everything here works on plain dicts. :mod:`netsim.scenario` turns the result into
frozen, validated objects; nothing past that edge sees a raw dict.
"""

from __future__ import annotations

import copy
import json
import math
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netsim.errors import ScenarioError
from netsim.scenario.distributions import MAX_MAGNITUDE
from netsim.scenario.figure_units import figure_unit
from netsim.scenario.names import MAX_SHOWN, folded, shown, text_problem

__all__ = [
    "Figure",
    "Reader",
    "Sourced",
    "apply_overrides",
    "figures",
    "figures_and_sources",
    "key_path",
    "load_document",
    "merge_overlay",
    "read_weights",
]

SOURCE_PREFIXES = ("report", "study", "assumption")
MAX_DOCUMENT_BYTES = 10_000_000  # a scenario is a few kB: anything larger is not one


def load_document(path: str | Path) -> tuple[dict[str, Any], str]:
    """Read a scenario TOML file, resolving an ``[overlay] extends`` chain.

    Parameters
    ----------
    path : str or Path
        The scenario or overlay file.

    Returns
    -------
    document : dict
        The merged document (overlay keys applied on top of the parent's).
        ``document["overlay"]`` keeps ``recalibrate`` and the chain of files.
    label : str
        The file name used in error messages.
    """
    return _load(Path(path), seen=())


def _load(path: Path, seen: tuple[Path, ...]) -> tuple[dict[str, Any], str]:
    label = str(path)
    if path.resolve() in seen:
        raise ScenarioError("overlay.extends forms a cycle", path=label, key="overlay.extends")
    if path.is_dir():
        raise ScenarioError("is a folder, not a scenario file", path=label)
    if path.exists() and not path.is_file():
        raise ScenarioError("is not a regular file (a device or a FIFO?)", path=label)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError("file not found", path=label) from None
    except OSError as error:
        # the OSError kept as the cause: its errno and filename tell a caller more
        raise ScenarioError(f"cannot be read ({error.strerror or error})", path=label) from error
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ScenarioError(
            f"is over {MAX_DOCUMENT_BYTES // 1_000_000} MB: not a scenario file", path=label
        )
    try:
        document = tomllib.loads(raw.decode("utf-8-sig"))  # a byte-order mark is fine
    except UnicodeDecodeError:
        raise ScenarioError("is not text (UTF-8): not a scenario file", path=label) from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"not valid TOML: {error}", path=label) from error  # its line, col
    except RecursionError:
        raise ScenarioError("not valid TOML: nested too deeply", path=label) from None
    overlay = document.get("overlay")
    if overlay is None:
        return document, label
    if not isinstance(overlay, dict) or not isinstance(overlay.get("extends"), str):
        raise ScenarioError("overlay.extends must name the parent file", path=label, key="overlay")
    unknown = set(overlay) - {"extends", "recalibrate", "source"}
    if unknown:
        key = f"overlay.{sorted(unknown)[0]}"
        raise ScenarioError(f"{key} is not a known key", path=label, key=key)
    recalibrate = overlay.get("recalibrate", False)
    if not isinstance(recalibrate, bool):
        raise ScenarioError(
            f"overlay.recalibrate={recalibrate!r} must be true or false (a TOML boolean)",
            path=label,
            key="overlay.recalibrate",
        )
    given = path.parent / overlay["extends"]
    if given.exists() and not given.resolve().is_file():
        raise ScenarioError(
            f"overlay.extends={overlay['extends']!r} is not a regular file",
            path=label,
            key="overlay.extends",
        )
    parent_path = given.resolve()
    parent, _ = _load(parent_path, (*seen, path.resolve()))
    changes = {k: v for k, v in document.items() if k != "overlay"}
    merged = merge_overlay(parent, changes)
    merged["overlay"] = {
        "extends": str(parent_path),
        "recalibrate": overlay.get("recalibrate", False),
        "parent": parent,
    }
    return merged, label


def merge_overlay(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``changes`` into a copy of ``base``.

    Tables merge key by key; a table that names a distribution (has ``dist``) and
    every non-table value replace what was there whole.
    """
    merged = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if (
            isinstance(value, dict)
            and "dist" not in value
            and isinstance(merged.get(key), dict)
            and "dist" not in merged[key]
        ):
            merged[key] = merge_overlay(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def apply_overrides(document: Mapping[str, Any], assignments: list[str]) -> dict[str, Any]:
    """Apply ``key.path=value`` assignments (the CLI's ``--set``).

    The value is parsed as a TOML value (``1.5``, ``"text"``, ``{dist="fixed", value=1}``);
    anything that does not parse is taken as a string. Quoted path parts allow
    spaces, dots and ``=``: ``regions."North America".share.value=40``.
    """
    result = copy.deepcopy(dict(document))
    for assignment in assignments:
        split = _assignment_split(assignment)
        if split is None:
            raise ScenarioError(f"override {assignment!r} must look like key.path=value")
        path_text, value_text = assignment[:split], assignment[split + 1 :]
        if "\n" in assignment or "\r" in assignment:
            raise ScenarioError(f"override {assignment!r} must be one line")
        try:
            parsed = tomllib.loads(f"__key__ = {value_text}")["__key__"]
        except (tomllib.TOMLDecodeError, RecursionError):
            parsed = value_text
        try:
            node: Any = tomllib.loads(f"{path_text.strip()} = 0")
        except tomllib.TOMLDecodeError:
            raise ScenarioError(
                f"override {assignment!r}: {path_text!r} is not a key path"
            ) from None
        parts: list[str] = []
        while isinstance(node, dict):
            if len(node) != 1:
                raise ScenarioError(f"override {assignment!r}: {path_text!r} is not a key path")
            (name,) = node
            parts.append(name)
            node = node[name]
        target = result
        for depth, part in enumerate(parts[:-1]):
            if not isinstance(target.get(part), dict):
                where = ".".join(parts[: depth + 1])
                raise ScenarioError(
                    f"override {assignment!r}: {where} is not a table in the scenario"
                )
            target = target[part]
        if parts[-1] not in target:
            raise ScenarioError(
                f"override {assignment!r}: {path_text} is not a key of the scenario"
            )
        target[parts[-1]] = parsed
    return result


def _assignment_split(assignment: str) -> int | None:
    """Where the key path of ``key.path=value`` ends: the first ``=`` outside a quoted
    part (a name may hold one: ``regions."a=b".share.value=40``), or None."""
    quote = None
    escaped = False
    for at, character in enumerate(assignment):
        if quote is not None:
            if escaped:
                escaped = False
            elif character == "\\" and quote == '"':
                escaped = True
            elif character == quote:
                quote = None
        elif character in "\"'":
            quote = character
        elif character == "=":
            return at
    return None


class Reader:
    """Walks one table of a document, tracking the key path for error messages.

    Every key a caller reads is marked as used; :meth:`finish` then rejects any
    key that was never read, so a typo is an error rather than a silent default.

    Parameters
    ----------
    data : Mapping
        The table.
    path : str
        The file name for messages.
    key : str
        The key path of this table (``""`` for the document root).
    """

    def __init__(self, data: Any, path: str, key: str = ""):
        self.path = path
        self.key = key
        if not isinstance(data, dict):
            raise self.error(f"{key or 'document'} must be a table, got {type(data).__name__}")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    # --- basics ---------------------------------------------------------------
    def join(self, name: str) -> str:
        part = _part(name)
        return f"{self.key}.{part}" if self.key else part

    def error(self, message: str, key: str | None = None, name: str | None = None) -> ScenarioError:
        return ScenarioError(message, path=self.path, key=key or self.key, name=name)

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str, default: Any = ...) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is ...:
                raise self.error(f"{self.join(name)} is missing", self.join(name))
            return default
        return self.data[name]

    def finish(self) -> None:
        """Raise on any key of this table that was never read."""
        for name in self.data:
            if name not in self.used:
                raise self.error(f"{self.join(name)} is not a known key", self.join(name))

    # --- typed access ---------------------------------------------------------
    def table(self, name: str, default: Any = ...) -> Reader | None:
        value = self.raw(name, default)
        if value is None and default is None:
            return None
        if not isinstance(value, dict):
            raise self.error(f"{self.join(name)} must be a table", self.join(name))
        return Reader(value, self.path, self.join(name))

    def items(self) -> Iterator[tuple[str, Any]]:
        """Iterate (name, value) over the whole table, marking every key used."""
        for name, value in self.data.items():
            self.used.add(name)
            yield name, value

    def child(self, name: str, value: Any) -> Reader:
        return Reader(value, self.path, self.join(name))

    def string(self, name: str, default: Any = ...) -> str:
        if name not in self.data and default is not ...:
            self.used.add(name)
            return default
        value = self.raw(name)
        if not isinstance(value, str) or not value.strip():
            raise self.error(
                f"{self.join(name)}={value!r} must be a non-empty string", self.join(name)
            )
        problem = text_problem(value)
        if problem:
            raise self.error(f"{self.join(name)}={value!r} {problem}", self.join(name))
        return value

    def name(self, name: str, kind: str, problem: Callable[[str], str | None]) -> str:
        """Check a key of this table used as a name (an axis, region, driver ...)."""
        reason = problem(name)
        if reason:
            raise self.error(
                f"{kind} name {shown(name)} at {self.shown(name)} {reason}", self.join(name), name
            )
        return name

    def shown(self, name: str) -> str:
        """The key path of ``name`` in this table for a message, a long name cut."""
        return self.join(name) if len(name) <= MAX_SHOWN else f'{self.key}."{name[:MAX_SHOWN]}..."'

    def apart(
        self, names: Iterable[str], kind: str, seen: dict[str, tuple[str, str]] | None = None
    ) -> None:
        """Refuse two names of this table (or one of ``seen``: folded form -> name and key
        path, filled in) that differ only by case or Unicode form
        (:func:`netsim.scenario.names.folded`)."""
        seen = {} if seen is None else seen
        for name in names:
            key = folded(name)
            if key in seen and seen[key][0] != name:
                other, where = seen[key]
                raise self.error(
                    f"{kind} name {shown(name)} at {self.shown(name)} differs from "
                    f"{shown(other)} at {where} only by case or Unicode form "
                    f"({name[:MAX_SHOWN]!a} against {other[:MAX_SHOWN]!a}): readers, "
                    "spreadsheets and file systems would take them for one",
                    self.join(name),
                    name,
                )
            seen[key] = (name, self.shown(name))

    def boolean(self, name: str, default: Any = ...) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise self.error(f"{self.join(name)}={value!r} must be true or false", self.join(name))
        return value

    def number(
        self,
        name: str,
        default: Any = ...,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
        integer: bool = False,
    ) -> float:
        value = self.raw(name, default)
        return self.check_number(
            value,
            self.join(name),
            minimum=minimum,
            maximum=maximum,
            positive=positive,
            integer=integer,
        )

    def check_number(
        self,
        value: Any,
        key: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
        integer: bool = False,
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"{key}={value!r} must be a number", key)
        if not math.isfinite(value):
            raise self.error(f"{key}={value} must be finite", key)
        if abs(value) > MAX_MAGNITUDE:
            raise self.error(
                f"{key}={value:g} is beyond +-{MAX_MAGNITUDE:g} (it would overflow)", key
            )
        if integer and not isinstance(value, int):
            raise self.error(f"{key}={value!r} must be a whole number (a TOML integer)", key)
        if positive and value <= 0:
            raise self.error(f"{key}={value!r} must be > 0", key)
        if minimum is not None and value < minimum:
            raise self.error(f"{key}={value!r} must be >= {minimum:g}", key)
        if maximum is not None and value > maximum:
            raise self.error(f"{key}={value!r} must be <= {maximum:g}", key)
        return float(value)

    def fields(self, keys: Mapping[str, Any]) -> dict[str, Any]:
        """Read this table by its declaration (:data:`netsim.scenario.keys.TABLES`): each
        key in order, checked by its :class:`~netsim.scenario.keys.Key`, then any key not
        declared refused. Returns each key's value (a whole number as an int)."""
        values: dict[str, Any] = {}
        for name, key in keys.items():
            if key.kind == "source":
                values[name] = self.source(key.default is ...)
            elif key.kind == "text":
                values[name] = self.string(name, key.default)
            elif key.default is not ... and name not in self.data:
                self.used.add(name)
                values[name] = key.default
            else:
                whole = key.kind == "whole"
                value = self.number(
                    name,
                    minimum=key.minimum,
                    maximum=key.maximum,
                    positive=key.positive,
                    integer=whole,
                )
                values[name] = int(value) if whole else value
        self.finish()
        return values

    def source(self, required: bool = True) -> str | None:
        """The ``source`` of this table: ``report: <quote>``, ``study: <citation and
        figure>`` (a published study, e.g. a population registry's) or ``assumption:
        <reason>``."""
        if not required and "source" not in self.data:
            return None
        text = self.string("source")
        head, _, rest = text.partition(":")
        if head.strip() not in SOURCE_PREFIXES or not rest.strip():
            raise self.error(
                f"{self.join('source')}={text!r} must read 'report: <quoted figure>', "
                "'study: <citation: figure>' or 'assumption: <one-line reason>'",
                self.join("source"),
            )
        return text


def read_weights(
    reader: Reader,
    key: str,
    names: tuple[str, ...] | None,
    noun: tuple[str, str, str],
    maximum: float,
) -> dict[str, float]:
    """A driver's or event's ``<key> = {<name> = weight, source}``: weights in
    ``[-maximum, maximum]`` on things of one kind (funnel factors, products), each one of
    ``names`` (None or empty: the scenario has none). ``noun`` is the thing, its plural and
    the table that defines them (``("product", "products", "[products]")``)."""
    table = reader.table(key, None)
    if table is None:
        return {}
    thing, things, defined = noun
    if not names:
        raise table.error(
            f"{table.key}: the scenario has no {defined} for this to act on", table.key
        )
    table.source()
    weights: dict[str, float] = {}
    for name, value in table.items():
        if name == "source":
            continue
        if name not in names:
            raise table.error(
                f"{table.join(name)}: {name!r} is not a {thing} (the {things}: {', '.join(names)})",
                table.join(name),
            )
        weights[name] = table.check_number(
            value, table.join(name), minimum=-maximum, maximum=maximum
        )
    if not weights:
        raise table.error(f"{table.key} names no {thing}", table.key)
    return weights


def _bare(name: str) -> bool:
    """Whether ``name`` is a bare TOML key: ASCII letters, digits, ``_`` and ``-``."""
    return bool(name) and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)


def _part(name: str) -> str:
    """``name`` as a part of a key path that TOML (and ``--set``) reads back: bare, or
    quoted with its quotes, backslashes and controls escaped."""
    return name if _bare(name) else json.dumps(name, ensure_ascii=False)


def key_path(*parts: str) -> str:
    """A document key path as netsim's messages write it: ``regions."North America".share``
    (a part that is not a bare TOML key in quotes)."""
    return ".".join(_part(part) for part in parts)


def check_sources(document: Mapping[str, Any], path: str) -> None:
    """Every number must carry a source: in its own table or the table above it.

    Raises
    ------
    ScenarioError
        Naming the first table that holds numbers and has no ``source`` near it.
    """

    def walk(table: Mapping[str, Any], key: str, parent_has_source: bool) -> None:
        has_source = "source" in table
        holds_number = any(_is_number(v) for v in table.values())
        if holds_number and not (has_source or parent_has_source):
            first = next(k for k, v in table.items() if _is_number(v))
            where = f"{key}.{first}" if key else first
            raise ScenarioError(
                f"{where} has no source: add source = 'report: <quote>', 'study: <citation>' "
                "or 'assumption: <reason>' to its table",
                path=path,
                key=where,
            )
        for name, value in table.items():
            if isinstance(value, dict):
                part = _part(name)
                walk(value, f"{key}.{part}" if key else part, has_source)

    walk({k: v for k, v in document.items() if k != "overlay"}, "", False)


class Sourced:
    """The two parts of a ``source`` attribute (``report: <quote>``, ``study:
    <citation>`` or ``assumption: <reason>``), for the records tables list with their
    sources."""

    source: str

    @property
    def source_kind(self) -> str:
        """``report``, ``study`` or ``assumption``: the source's first word."""
        return self.source.partition(":")[0].strip()

    @property
    def source_text(self) -> str:
        """The source's quote, citation or reason (after its first word)."""
        return self.source.partition(":")[2].strip()


@dataclass(frozen=True)
class Figure(Sourced):
    """One figure of a scenario document: its key path, its value as shown (a number's
    ``repr``, a list as ``[a, b]``), its source and its unit
    (:func:`netsim.scenario.figure_units.figure_unit`)."""

    key: str
    value: str
    source: str
    unit: str


def figures(document: Mapping[str, Any]) -> list[Figure]:
    """Every figure of a scenario document with its source and unit, in document order.

    A figure is a number or a list of numbers; its source is its table's ``source`` or,
    failing that, the table above's (the rule :func:`check_sources` enforces). This is
    the provenance a run carries: shares, premiums, targets, correlations, timelines,
    geography weights, event settings and limits, not only the sampled parameters.
    """
    rows: list[Figure] = []
    whole = {k: v for k, v in document.items() if k != "overlay"}

    def show(value: Any) -> str:
        if isinstance(value, list):
            return "[" + ", ".join(show(v) for v in value) + "]"
        return repr(value) if isinstance(value, float) else str(value)

    def walk(table: Mapping[str, Any], parts: tuple[str, ...], key: str, inherited: str) -> None:
        source = table.get("source", inherited)
        source = source if isinstance(source, str) else inherited
        for name, value in table.items():
            part = _part(name)
            where = f"{key}.{part}" if key else part
            if isinstance(value, dict):
                walk(value, (*parts, name), where, source)
            elif _is_number(value):
                unit = figure_unit((*parts, name), whole)
                rows.append(Figure(where, show(value), source, unit))

    walk(whole, (), "", "")
    return rows


def figures_and_sources(document: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Every figure of a scenario document with its source: ``(key path, value, source)``
    (:func:`figures` without the units)."""
    return [(f.key, f.value, f.source) for f in figures(document)]


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, list) and any(_is_number(v) for v in value)
