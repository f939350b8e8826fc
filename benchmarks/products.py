"""What the NET file's products cost: the market with them against the market without
them on the same draws, in memory and reduced to bands, and a valuation.

Called from ``run.py``'s row list (``rows += product_rows(...)``); alone::

    .venv/bin/python benchmarks/products.py [--draws 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tomllib
from pathlib import Path

import numpy as np
from timing import alternating  # benchmarks/ is not a package

import netsim
from netsim.model.layout import OutputLayout
from netsim.scenario.funnel import without_funnel
from netsim.scenario.products import without_products

Row = tuple[str, str, str, str]
REDUCED_DRAWS = 50_000  # a reduced run's draws: several of its 8,192-draw chunks


def _ratios(first: list[float], second: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(first, second, strict=True))


def product_rows(config: Path, draws: int, repeat: int) -> list[Row]:
    """The cost of the products: the top-down model with and without them (propagate,
    simulate, a reduced run), in alternation, and ``netsim.value`` of one product."""
    document = without_funnel(tomllib.loads(Path(config).read_text()))
    with_them = netsim.load_scenario(document)
    without = netsim.load_scenario(without_products(document))
    cells = OutputLayout.of(with_them).cells_per_draw / OutputLayout.of(without).cells_per_draw
    inputs = netsim.sample_inputs(with_them, draws, seed=1)
    bare = netsim.sample_inputs(without, draws, seed=1)
    out = OutputLayout.of(with_them).allocate(draws, np.float32)
    bare_out = OutputLayout.of(without).allocate(draws, np.float32)
    kernels, alone = alternating(
        lambda: netsim.propagate(with_them, inputs, as_arrays=True, out=out, check=False),
        lambda: netsim.propagate(without, bare, as_arrays=True, out=bare_out, check=False),
        repeat,
    )
    simulated, simulated_alone = alternating(
        lambda: netsim.simulate(with_them, draws, seed=1),
        lambda: netsim.simulate(without, draws, seed=1),
        repeat,
    )
    reduced, reduced_alone = alternating(
        lambda: netsim.simulate(with_them, REDUCED_DRAWS, seed=1, reduce="bands"),
        lambda: netsim.simulate(without, REDUCED_DRAWS, seed=1, reduce="bands"),
        max(1, repeat // 2),
    )
    started = time.perf_counter()
    netsim.value(with_them, 20_000, seed=1, product="itm11")
    value_seconds = time.perf_counter() - started
    products = len(with_them.products)
    return [
        (
            "propagate with the NET products / without",
            f"{_ratios(kernels, alone):.2f}x",
            f"{statistics.median(kernels) * 1e3:.0f} ms against "
            f"{statistics.median(alone) * 1e3:.0f} ms for {draws:,} draws ({products} "
            f"products; {cells:.2f}x the cells of the top-down cube)",
            "-",
        ),
        (
            "simulate with the NET products / without",
            f"{_ratios(simulated, simulated_alone):.2f}x",
            f"{statistics.median(simulated):.2f} s against "
            f"{statistics.median(simulated_alone):.2f} s ({draws:,} draws, in memory)",
            "-",
        ),
        (
            "reduce mode with the NET products / without",
            f"{_ratios(reduced, reduced_alone):.2f}x",
            f"{statistics.median(reduced):.2f} s against {statistics.median(reduced_alone):.2f} s "
            f"({REDUCED_DRAWS:,} draws folded into every cell's histogram)",
            "-",
        ),
        (
            "`netsim.value`, 20,000 draws",
            f"{value_seconds:.2f} s",
            "every product's revenue, peak and NPV on the market's draws",
            "-",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    config = Path(__file__).resolve().parents[1] / "configs" / "net_market.toml"
    for name, value, note, _ in product_rows(config, args.draws, args.repeat):
        print(f"{name:<48} {value:>8}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
