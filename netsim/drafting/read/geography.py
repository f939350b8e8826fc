"""The segmentation and geography lists (numbered contents or "Segmentation Overview")."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from netsim.drafting.places import is_region_name
from netsim.drafting.read.figures import (
    Axis,
    Region,
)
from netsim.drafting.read.headline import (
    first_line,
)
from netsim.drafting.read.segments import (
    BULLET,
    EMPTY_BULLET,
)
from netsim.drafting.read.text import (
    clean,
    too_many,
)

# a report's lists are tens of items, a few levels deep; a text past these bounds is not
# a report's (it is refused: drafting it would write a document of megabytes, slowly)
MAX_DEPTH = 8  # levels of an outline read (By X, region, country, ...)
MAX_LIST_ITEMS = 2000  # items of the segmentation lists
# a report's, and its list would run to megabytes)
GEOGRAPHY_AXES = ("region", "regions", "geography", "geographies", "country", "countries")


@dataclass
class _Node:
    name: str
    children: list[_Node] = field(default_factory=list)


def _nest(items: list[str], depth: int = 0) -> list[_Node]:
    """A flattened outline in which every sub-list ends with its first item repeated
    (the report's "Segmentation Overview"): nodes with their children (at most
    ``MAX_DEPTH`` levels: deeper items are read as plain items)."""
    nodes: list[_Node] = []
    at: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        at.setdefault(item, []).append(index)
    position = 0
    while position < len(items):
        node = _Node(items[position])
        following = position + 1
        if following < len(items) and depth < MAX_DEPTH:
            later = at[items[following]]
            found = bisect.bisect_right(later, following)
            repeat = later[found] if found < len(later) else None
            if repeat is not None:
                node.children = _nest(items[following:repeat], depth + 1)
                position = repeat + 1
                nodes.append(node)
                continue
        nodes.append(node)
        position += 1
    return nodes


def _numbered(items: list[tuple[str, str]]) -> list[_Node]:
    """A numbered outline (``5.1``, ``5.1.1`` ...) as nodes: depth from the numbering."""
    roots: list[_Node] = []
    stack: list[tuple[int, _Node]] = []
    for number, name in items:
        depth = number.count(".")
        if depth > MAX_DEPTH + 1:
            continue
        node = _Node(name)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((depth, node))
    return roots


def _unique(names: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))


def _leaves(node: _Node) -> list[str]:
    if not node.children:
        return [node.name]
    return [leaf for child in node.children for leaf in _leaves(child)]


def _outline(nodes: list[_Node]) -> tuple[list[Axis], list[Region]]:
    """Axes ("By X" nodes) and the geography's regions and countries."""
    axes: list[Axis] = []
    regions: list[Region] = []
    for node in nodes:
        head = re.match(r"By\s+(.+)$", node.name, re.IGNORECASE)
        if head is None:
            continue
        name = clean(head.group(1))
        if name.lower() in GEOGRAPHY_AXES:
            regions = _geography(node.children)
        else:
            segments = _unique([child.name for child in node.children])
            if segments:
                axes.append(Axis(name, segments))
    return axes, regions


def _geography(children: list[_Node]) -> list[Region]:
    """Regions from a geography node: a child with a sub-list, or with a region's name,
    is a region; a plain child after a region is one of its countries (a list whose
    closing repeats were lost reads the same way). With no region at all, the
    children are countries of one region each."""
    regions_found: list[tuple[str, list[str]]] = []
    loose: list[str] = []
    for child in children:
        if child.children or is_region_name(child.name):
            countries = [leaf for c in child.children for leaf in _leaves(c)]
            regions_found.append((child.name, countries))
        elif regions_found:
            regions_found[-1][1].append(child.name)
        else:
            loose.append(child.name)
    if not regions_found:
        return [Region(name, ()) for name in _unique(loose)]
    merged: dict[str, tuple[str, ...]] = {}
    for name, countries in regions_found:
        merged[name] = _unique([*merged.get(name, ()), *countries])
    return [Region(name, countries) for name, countries in merged.items()]


def read_segmentation(lines: list[str]) -> tuple[list[Axis], list[Region]]:
    """The segmentation from the numbered table of contents ("Market Size and Growth
    Forecasts"), else from the "Segmentation Overview" list; the one that lists more."""
    from_contents: tuple[list[Axis], list[Region]] = ([], [])
    start = first_line(lines, r"Market Size (?:and|&) Growth Forecasts?")
    if start is not None:
        items: list[tuple[str, str]] = []
        for line in lines[start + 1 :]:
            bullet = re.match(r"^\s*[-•*]?\s*(\d+(?:\.\d+)+)\.?\s*(\S.*)$", line)
            if bullet is None:
                if re.match(r"^\s*\d+\.\s", line) or not line.strip().startswith("-"):
                    break
                continue
            items.append((bullet.group(1), clean(bullet.group(2))))
        too_many(len(items), MAX_LIST_ITEMS, "items in its numbered contents")
        if items:
            top = items[0][0].count(".")
            from_contents = _outline(_numbered([(n, t) for n, t in items if n.count(".") >= top]))
    from_overview: tuple[list[Axis], list[Region]] = ([], [])
    start = first_line(lines, r"^\s*Segmentation Overview\s*$")
    if start is not None:
        items_flat = []
        for line in lines[start + 1 :]:
            bullet = BULLET.match(line)
            if bullet is None:
                if line.strip() and not EMPTY_BULLET.match(line):
                    break
                continue
            items_flat.append(clean(bullet.group("text")))
        too_many(len(items_flat), MAX_LIST_ITEMS, "items in its segmentation overview")
        groups: list[list[str]] = []
        for item in items_flat:  # "By X" items head the top level
            if re.match(r"By\s", item, re.IGNORECASE) or not groups:
                groups.append([item])
            else:
                groups[-1].append(item)
        nodes = [_Node(g[0], _nest(g[1:])) for g in groups]
        from_overview = _outline(nodes)

    def size(found: tuple[list[Axis], list[Region]]) -> int:
        axes, regions = found
        return sum(len(a.segments) for a in axes) + sum(1 + len(r.countries) for r in regions)

    return from_contents if size(from_contents) >= size(from_overview) else from_overview
