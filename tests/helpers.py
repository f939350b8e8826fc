"""Scenario builders for tests: a small generic scenario with knobs for hypothesis."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from netsim.analytic import _skeleton
from netsim.scenario.funnel import without_funnel  # noqa: F401 - for the tests
from netsim.scenario.products import without_products  # noqa: F401 - for the tests

A = "assumption: test scenario"


def small_scenario(
    *,
    region_shares: tuple[float, ...] = (60.0, 40.0),
    segment_shares: tuple[tuple[float, ...], ...] = ((30.0, 70.0), (50.0, 25.0, 25.0)),
    premiums: tuple[tuple[float, ...], ...] = ((1.0, -1.0), (0.0, 2.0, -2.0)),
    driver_impacts: tuple[float, ...] = (1.0, -0.5),
    event_probability: float = 0.3,
    noise: float = 0.5,
) -> dict[str, Any]:
    """A two-region, multi-axis scenario exercising drivers, tilts, events and noise."""
    doc = copy.deepcopy(_skeleton(500.0, 5.0, (2025, 2031)))
    regions = {}
    for i, share in enumerate(region_shares):
        regions[f"R{i}"] = {
            "share": {"value": share, "source": A},
            "growth_premium": {"value": 0.5 * i, "source": A},
            "country_shares": {f"R{i}-a": 70.0, f"R{i}-b": 30.0, "source": A},
        }
    doc["regions"] = regions
    axes = {}
    for a, (shares, prem) in enumerate(zip(segment_shares, premiums, strict=True)):
        axes[f"axis{a}"] = {
            "segments": {
                f"s{j}": {
                    "share": {"value": sh, "source": A},
                    "growth_premium": {"value": p, "source": A},
                }
                for j, (sh, p) in enumerate(zip(shares, prem, strict=True))
            }
        }
    doc["axes"] = axes
    names = list(regions)
    doc["timelines"] = {
        "short": {"onset": 2026, "ramp_years": 1, "source": A},
        "long": {"onset": 2027, "ramp_years": 3, "source": A},
    }
    doc["geographies"] = {
        "first": {"weights": {n: float(i == 0) + 0.2 for i, n in enumerate(names)}, "source": A},
        "moving": {
            "weights": {n: 1.0 for n in names},
            "weights_end": {n: 2.0 * i for i, n in enumerate(names)},
            "shift_years": [2026, 2031],
            "source": A,
        },
    }
    doc["drivers"] = {}
    doc["restraints"] = {}
    for k, impact in enumerate(driver_impacts):
        group = "drivers" if impact >= 0 else "restraints"
        low, high = sorted((0.5 * impact, 1.5 * impact))
        doc[group][f"d{k}"] = {
            "impact": {"dist": "pert", "low": low, "mode": impact, "high": high, "source": A}
            if impact != 0
            else {"dist": "fixed", "value": 0.0, "source": A},
            "delay": {"dist": "uniform", "low": 0.0, "high": 1.0, "source": A},
            "timeline": "long" if k % 2 else "short",
            "geography": "moving" if k % 2 else "first",
            "tilts": {"axis0": {"s0": 1.0}, "axis1": {"s2": -0.5}, "source": A},
        }
    doc["events"] = {
        "outage": {
            "kind": "yearly",
            "probability": {"value": event_probability, "source": A},
            "impact": {"dist": "triangular", "low": -15.0, "mode": -5.0, "high": -1.0, "source": A},
            "segment": {"axis": "axis0", "name": "s0"},
            "geography": "first",
        },
        "launch": {
            "kind": "once",
            "probability": {"value": 0.5, "source": A},
            "year": {
                "dist": "discrete",
                "values": [2027, 2028],
                "weights": [0.5, 0.5],
                "source": A,
            },
            "duration": {"value": 2, "source": A},
            "impact": {"dist": "uniform", "low": 1.0, "high": 4.0, "source": A},
            "segment": {"axis": "axis1", "name": "s1"},
            "geography": "moving",
            "tilts": {"axis0": {"s1": 0.5}, "source": A},
        },
    }
    doc["noise"] = {
        "global_sd": {"value": noise, "source": A},
        "region_sd": {"value": noise, "source": A},
    }
    doc["correlations"] = {
        "c": {"parameters": ["market.base_scale", "events.outage.impact"], "rho": 0.0, "source": A},
    }
    doc["market"]["base_scale"] = {
        "dist": "pert",
        "low": 0.9,
        "mode": 1.0,
        "high": 1.05,
        "source": A,
    }
    return doc


def fixed(value: float) -> dict[str, Any]:
    """A fixed figure with its source."""
    return {"value": value, "source": A}


def products_scenario(noise: float = 0.5) -> dict[str, Any]:
    """:func:`small_scenario` with products on axis0: one in market with a loss of
    exclusivity and its generic, one launching through two phases, one in the other
    segment; a driver and an event act on two of them; valuation inputs for all."""
    doc = small_scenario(noise=noise)
    s0, s1 = {"axis": "axis0", "name": "s0"}, {"axis": "axis0", "name": "s1"}
    loss = {"year": fixed(2028.0), "floor": fixed(30.0), "half_life": fixed(1.0)}
    doc["products"] = {
        "a": {
            "company": "A Co",
            "segment": s0,
            "share": {"dist": "pert", "low": 20.0, "mode": 30.0, "high": 40.0, "source": A},
            "trend": fixed(-2.0),
            "price": fixed(1.2),
            "loss_of_exclusivity": loss,
        },
        "a_generic": {
            "company": "G Co",
            "segment": s0,
            "generic_of": "a",
            "capture": fixed(60.0),
            "price": fixed(0.5),
        },
        "b": {
            "company": "B Co",
            "segment": s0,
            "launch": {
                "dist": "discrete",
                "values": [2026, 2027, 2028],
                "weights": [0.2, 0.5, 0.3],
                "source": A,
            },
            "launch_offsets": {"R1": 1.0, "source": A},
            "phases": {
                "p3": {
                    "probability": fixed(0.6),
                    "cost": fixed(10.0),
                    "years": [2025, 2026],
                    "source": A,
                },
                "filing": {
                    "probability": fixed(0.9),
                    "cost": fixed(1.0),
                    "years": [2026, 2026],
                    "source": A,
                },
            },
            "launch_cost": fixed(5.0),
            "uptake": {
                "curve": "logistic",
                "peak": {"dist": "pert", "low": 20.0, "mode": 40.0, "high": 60.0, "source": A},
                "years_to_peak": fixed(4.0),
                "steepness": fixed(6.0),
            },
        },
        "c": {"company": "A Co", "segment": s1, "share": fixed(50.0), "regions": ["R0"]},
    }
    doc["drivers"]["d0"]["products"] = {"b": 1.5, "source": A}
    doc["events"]["outage"]["products"] = {"a": 0.8, "b": -0.5, "source": A}
    doc["valuation"] = {
        "discount_rate": fixed(9.0),
        "tax_rate": fixed(16.0),
        "margin": {"dist": "uniform", "low": 50.0, "high": 70.0, "source": A},
    }
    return doc


def write_toml(document: dict, path) -> None:
    """A scenario document as TOML (the tests' own small writer: tomllib only reads)."""

    def key(name: str) -> str:
        return json.dumps(name, ensure_ascii=False)

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(v)

    lines = []

    def table(prefix: list[str], data: dict) -> None:
        scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
        tables = {k: v for k, v in data.items() if isinstance(v, dict)}
        if prefix and scalars:
            lines.append("[" + ".".join(key(p) for p in prefix) + "]")
        for k, v in scalars.items():
            lines.append(f"{key(k)} = {value(v)}")
        for k, v in tables.items():
            table([*prefix, k], v)

    table([], document)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def three_runs(folder, draws: int, seed: int, chunk_size: int = 200) -> dict:
    """The kinds of run ``netsim run`` writes, of the NET scenario, in ``folder``: ``nc``
    (the cube, ``--cube``), ``record`` (the recipe and the answer), ``bands`` (reduced),
    ``zarr`` (a store of ``chunk_size`` chunks)."""
    from netsim.cli import main

    from .conftest import NET_CONFIG

    paths = {"nc": folder / "run.nc", "bands": folder / "bands.nc", "zarr": folder / "run.zarr"}
    paths["record"] = folder / "record.nc"
    base = ["run", str(NET_CONFIG), "--draws", str(draws), "--seed", str(seed), "--no-progress"]
    assert main([*base, "--cube", "--out", str(paths["nc"])]) == 0
    assert main([*base, "--out", str(paths["record"])]) == 0
    assert main([*base, "--reduce", "--out", str(paths["bands"])]) == 0
    assert main([*base, "--chunk-size", str(chunk_size), "--out", str(paths["zarr"])]) == 0
    return paths


def shared_by_workers(tmp_path_factory) -> Path:
    """The test run's own temporary folder, shared by its pytest-xdist workers (their
    basetemp's parent; without xdist, the basetemp): empty at the start of every run."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root
