"""The what-if page's controls and the overlay its changes make.

A control is one number of the scenario file: a point of a driver's or restraint's
impact distribution, an event's probability, a point of the base-size spread
(``market.base_scale``), or a product's launch, peak share or phase probability. The
browser sends only ``{control key: number}``; every change becomes an overlay table
here, and the overlay is checked by the scenario's own loader, as a file would be.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "SOURCE_PREFIX",
    "Control",
    "changed_tables",
    "controls_of",
    "key_path",
    "overlay_text",
    "overlay_tree",
]

SOURCE_PREFIX = "assumption: set in the what-if page: "
SKIPPED_POINTS = ("shape",)  # a PERT's shape is not a point of the distribution


@dataclass(frozen=True)
class Control:
    """One number of the scenario that the page can change.

    Attributes
    ----------
    key : str
        Its key path in the file, e.g. ``drivers.targeted_prrt_expansion.impact.mode``
        (parts that are not bare TOML keys quoted, as in the loader's messages).
    table : tuple of str
        The path of the table that holds it (``("drivers", "x", "impact")``).
    point : str
        Its key in that table (``mode``, ``value`` ...).
    group, label : str
        Where the page lists it (``Drivers`` ...) and the name of its table's entry.
    value : float
        Its value in the file.
    source : str
        The file's ``source`` of its table (shown on hover).
    minimum, maximum, step : float
        The slider's range and step (the number box takes any number).
    """

    key: str
    table: tuple[str, ...]
    point: str
    group: str
    label: str
    value: float
    source: str
    minimum: float
    maximum: float
    step: float

    def as_json(self) -> dict[str, Any]:
        """The control as the page reads it."""
        return {
            "key": self.key,
            "group": self.group,
            "label": self.label,
            "point": self.point,
            "value": self.value,
            "source": self.source,
            "min": self.minimum,
            "max": self.maximum,
            "step": self.step,
        }


def key_path(parts: tuple[str, ...]) -> str:
    """A key path as the loader writes it: bare parts as they are, others quoted."""
    return ".".join(p if _bare(p) else json.dumps(p, ensure_ascii=False) for p in parts)


def _bare(name: str) -> bool:
    return bool(name) and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _step(span: float) -> float:
    """A round slider step: about a 200th of the span (1, 2 or 5 times a power of ten)."""
    raw = span / 200.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)


def _distribution_controls(
    table: Mapping[str, Any], parts: tuple[str, ...], group: str, label: str, sign: int
) -> list[Control]:
    """One control per point of a distribution table (``low``, ``mode``, ``high`` ...).

    ``sign`` keeps the slider on the side the rules allow: +1 for a driver (>= 0),
    -1 for a restraint (<= 0), 2 for a multiplier (> 0), 0 for any number.
    """
    points = {k: float(v) for k, v in table.items() if _is_number(v) and k not in SKIPPED_POINTS}
    if not points:
        return []
    low, high = min(points.values()), max(points.values())
    span = max(high - low, 0.1 * max(abs(low), abs(high)), 0.01)
    minimum, maximum = low - span, high + span
    if sign == 1 or sign == 2:
        minimum = max(minimum, 0.0)
    if sign == -1:
        maximum = min(maximum, 0.0)
    step = _step(maximum - minimum)
    minimum, maximum = math.floor(minimum / step) * step, math.ceil(maximum / step) * step
    source = str(table.get("source", ""))
    return [
        Control(
            key=key_path((*parts, point)),
            table=parts,
            point=point,
            group=group,
            label=label,
            value=value,
            source=source,
            minimum=round(minimum, 12),
            maximum=round(maximum, 12),
            step=step,
        )
        for point, value in points.items()
    ]


def _probability(
    parts: tuple[str, ...], table: Mapping[str, Any], label: str, group: str
) -> Control:
    """A probability's control, ``value`` in [0, 1]."""
    return Control(
        key=key_path((*parts, "value")),
        table=parts,
        point="value",
        group=group,
        label=label,
        value=float(table["value"]),
        source=str(table.get("source", "")),
        minimum=0.0,
        maximum=1.0,
        step=0.01,
    )


def _product_controls(document: Mapping[str, Any]) -> list[Control]:
    """Each launching product's launch and peak share (every point of their tables) and
    each of its phases' probability of success."""
    controls: list[Control] = []
    for name, entry in (document.get("products") or {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("launch"), dict):
            continue
        label = str(entry.get("label", name))
        launch = ("products", name, "launch")
        controls += _distribution_controls(
            entry["launch"], launch, "Products", f"{label}: launch", 0
        )
        peak = (entry.get("uptake") or {}).get("peak")
        if isinstance(peak, dict):
            parts = ("products", name, "uptake", "peak")
            controls += _distribution_controls(
                peak, parts, "Products", f"{label}: peak share (%)", 2
            )
        for phase, table in (entry.get("phases") or {}).items():
            probability = table.get("probability") if isinstance(table, dict) else None
            if isinstance(probability, dict) and _is_number(probability.get("value")):
                parts = ("products", name, "phases", phase, "probability")
                controls.append(
                    _probability(parts, probability, f"{label}: {phase} succeeds", "Products")
                )
    return controls


def controls_of(document: Mapping[str, Any]) -> list[Control]:
    """Every control of a scenario document (merged, as the loader reads it), in the
    page's order: the base-size spread, drivers, restraints, events, products."""
    controls: list[Control] = []
    market = document.get("market", {})
    scale = market.get("base_scale") if isinstance(market, dict) else None
    if isinstance(scale, dict):
        controls += _distribution_controls(
            scale, ("market", "base_scale"), "Market", "Base-size spread (multiplier)", 2
        )
    for group, sign in (("drivers", 1), ("restraints", -1)):
        for name, entry in (document.get(group) or {}).items():
            impact = entry.get("impact") if isinstance(entry, dict) else None
            if isinstance(impact, dict):
                label = str(entry.get("label", name))
                controls += _distribution_controls(
                    impact, (group, name, "impact"), group.capitalize(), label, sign
                )
    for name, entry in (document.get("events") or {}).items():
        probability = entry.get("probability") if isinstance(entry, dict) else None
        if isinstance(probability, dict) and _is_number(probability.get("value")):
            label = f"{entry.get('label', name)} (probability)"
            controls.append(
                _probability(("events", name, "probability"), probability, label, "Events")
            )
    return controls + _product_controls(document)


def _show(value: float) -> str:
    return repr(float(value))


def changed_tables(
    document: Mapping[str, Any], controls: Mapping[str, Control], changes: Mapping[str, float]
) -> dict[tuple[str, ...], dict[str, Any]]:
    """The overlay's tables: each table holding a changed number, whole (a distribution
    table replaces the file's whole), with its new ``source`` saying what changed.

    Values equal to the file's are no change and left out.
    """
    tables: dict[tuple[str, ...], dict[str, Any]] = {}
    notes: dict[tuple[str, ...], list[tuple[str, float, float]]] = {}
    for key, value in changes.items():
        control = controls[key]
        if value == control.value:
            continue
        if control.table not in tables:
            node: Any = document
            for part in control.table:
                node = node[part]
            tables[control.table] = copy.deepcopy(dict(node))
            notes[control.table] = []
        tables[control.table][control.point] = value
        notes[control.table].append((control.point, control.value, value))
    for parts, table in tables.items():
        changed = notes[parts]
        if len(changed) == 1 and changed[0][0] == "value":
            what = f"{_show(changed[0][1])} -> {_show(changed[0][2])}"
        else:
            what = ", ".join(f"{point} {_show(old)} -> {_show(new)}" for point, old, new in changed)
        table["source"] = SOURCE_PREFIX + what
    return tables


def overlay_tree(tables: Mapping[tuple[str, ...], Mapping[str, Any]]) -> dict[str, Any]:
    """The changed tables as one nested document (what an overlay file holds)."""
    tree: dict[str, Any] = {}
    for parts, table in tables.items():
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = dict(table)
    return tree


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{key_path((k,))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {value!r} as TOML")


def overlay_text(
    extends: str, tables: Mapping[tuple[str, ...], Mapping[str, Any]], comment: str
) -> str:
    """The overlay as a TOML file: ``[overlay] extends`` and each changed table."""
    lines = [f"# {line}" for line in comment.splitlines()]
    lines += [
        "",
        "[overlay]",
        f"extends = {_toml_value(extends)}",
        'source = "assumption: changes made in the what-if page (netsim serve)"',
    ]
    for parts, table in tables.items():
        lines += ["", f"[{key_path(parts)}]"]
        lines += [f"{key_path((k,))} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"
