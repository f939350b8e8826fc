"""``netsim value``: what a product or a company is worth in its market, on the draws."""

from __future__ import annotations

import argparse
import time
from typing import Any

from netsim.cli.commands import command
from netsim.cli.run import add_recalibrate_argument, load_changed
from netsim.errors import ScenarioError

__all__ = ["value_command"]

DEFAULT_DRAWS = 20_000


def _add_value(sub: Any) -> None:
    """Add ``netsim value`` to the parser."""
    value = sub.add_parser(
        "value", help="revenue bands, peak sales and risk-adjusted NPV of a product or company"
    )
    value.add_argument("config", help="scenario TOML file with [products]")
    value.add_argument("--product", help="a product's id (without it: every product's summary)")
    value.add_argument("--company", help="a company's name: its products' revenue and NPV")
    value.add_argument("--draws", type=int, default=DEFAULT_DRAWS, help="default 20,000")
    value.add_argument("--seed", type=int, default=0)
    value.add_argument("--sampler", choices=("mc", "lhs", "sobol"), default="mc")
    value.add_argument(
        "--top", type=int, default=6, help="inputs listed as moving the product's NPV most"
    )
    value.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    add_recalibrate_argument(value)
    value.add_argument("--out", help="write every product's and company's draws (.nc)")
    value.add_argument(
        "--plot", help="the product's page: its fan and its NPV distribution (.png or .svg)"
    )


@command("value", _add_value, uses_dask=False)
def value_command(args: argparse.Namespace) -> int:
    """``netsim value``: a product's or a company's revenue, peak sales and NPV."""
    from netsim.analyze.value import check_product, npv_drivers, value
    from netsim.cli.analysis import _output, _outputs, _refuse_inputs, _write_all
    from netsim.present.labels import parameter_labels
    from netsim.present.products import product_page, value_text
    from netsim.run.writing import write_netcdf

    if args.top < 1:
        raise ScenarioError(f"--top {args.top} must be >= 1")
    if args.plot and not args.product:
        raise ScenarioError("--plot draws one product's page: name it with --product")
    reads = [args.config]
    out = _output(args.out, (".nc",), reads)
    plot = _output(args.plot, (".png", ".svg"), reads)
    with _outputs(out, plot) as outputs:
        scenario = load_changed(args)
        _refuse_inputs(outputs, scenario.source_files)
        check_product(scenario, args.product, args.company)
        started = time.perf_counter()
        result = value(
            scenario,
            args.draws,
            args.seed,
            args.sampler,
            product=args.product,
            company=args.company,
        )
        elapsed = time.perf_counter() - started
        labels = {p.id: p.label for p in scenario.products}
        drivers = None
        product = (
            None
            if args.product is None
            else scenario.products[[p.id for p in scenario.products].index(args.product)]
        )
        if product is not None and product.valuation is not None:
            drivers = npv_drivers(scenario, args.product, args.top)
        text = value_text(
            result, labels, args.product, args.company, drivers, parameter_labels(scenario)
        )
        written = _write_all(
            (lambda: write_netcdf(result, out)) if out is not None else None,
            (lambda: product_page(result, args.product, labels[args.product], plot))
            if plot is not None
            else None,
        )
    header = (
        f"{scenario.name}: {args.draws:,} draws, sampler {args.sampler}, seed {args.seed} "
        f"({elapsed:.2f} s)"
    )
    print(f"{header}\n\n{text}")
    for path in written:
        print(f"\nwrote {path}")
    return 0
