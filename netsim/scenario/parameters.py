"""Reading one uncertain input (a :class:`Parameter`) from its table of a document."""

from __future__ import annotations

from netsim.scenario.distributions import make_distribution
from netsim.scenario.documents import Reader
from netsim.scenario.schema import Parameter

__all__ = ["fixed_parameter", "read_parameter", "read_value_or_distribution"]


def read_parameter(reader: Reader, key: str, name: str, unit: str, owner: str) -> Parameter:
    """The distribution table ``reader[key]`` (``dist``, its parameters, ``source``)."""
    table = reader.table(key)
    if not table.has("dist"):
        raise table.error(
            f"{table.key}.dist is missing (one of fixed, pert, normal, ...)", f"{table.key}.dist"
        )
    kind = table.string("dist")
    source = table.source()
    params = {k: v for k, v in table.items() if k not in ("dist", "source")}
    distribution = make_distribution(kind, params, key=table.key, path=table.path)
    return Parameter(name=name, distribution=distribution, source=source, unit=unit, owner=owner)


def fixed_parameter(name: str, value: float, unit: str, source: str, owner: str) -> Parameter:
    """A parameter that always takes ``value``."""
    return Parameter(name, make_distribution("fixed", {"value": value}), source, unit, owner)


def read_value_or_distribution(
    reader: Reader, key: str, name: str, unit: str, owner: str
) -> Parameter:
    """``reader[key]`` as a distribution table (with ``dist``) or a fixed ``{value, source}``."""
    table = reader.table(key)
    if table.has("dist"):
        return read_parameter(reader, key, name, unit, owner)
    if not table.has("value"):
        raise table.error(
            f"{table.key} needs either value (a fixed figure) or dist (a distribution), "
            "with a source",
            table.key,
        )
    value = table.number("value")
    source = table.source()
    table.finish()
    return fixed_parameter(name, value, unit, source, owner)
