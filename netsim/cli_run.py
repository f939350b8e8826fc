"""``netsim run``: in memory, reduced to bands, streamed to Zarr, to a precision, on Dask.

Which way a run goes:

* ``--out RUN.zarr`` (or ``--resume RUN.zarr``): the cube is streamed to a
  resumable store chunk by chunk, then the bands are read back from it;
* ``--reduce``, or a cube larger than :func:`cube_memory_budget`: bands of every
  cell from mergeable histograms, never the cube (``--out`` writes the bands);
* ``--precision``: batches until the printed percentiles are that sure;
* otherwise the whole cube in memory (``--out RUN.nc`` writes it).

``--scheduler ADDRESS`` runs the chunks on a Dask cluster in every mode but
``--precision``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netsim.defaults import DEFAULT_CHUNK
from netsim.errors import ScenarioError

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "add_run_command",
    "bytes_per_draw",
    "cube_memory_budget",
    "format_bands",
    "run_command",
    "zarr_store",
]

DEFAULT_DRAWS = 20_000
PROGRESS_AFTER_SECONDS = 2.0
MEMORY_SHARE = 0.25  # of this machine's memory a cube may take before a run reduces to bands
FALLBACK_MEMORY = 4.0e9  # bytes assumed where the machine's memory cannot be read


def cube_memory_budget() -> float:
    """Bytes of cube and inputs above which ``netsim run`` reduces to bands.

    A quarter of the memory this process may use: the machine's physical
    memory, or its cgroup limit where that is lower (containers). An in-memory
    run peaks at about 1.7 times its cube (the cube, the bands' scratch, NetCDF
    buffers), so a run below the budget stays well inside memory.
    """
    try:
        physical = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):  # pragma: no cover - non-POSIX
        physical = FALLBACK_MEMORY
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            physical = min(physical, float(limit))
    except OSError:
        pass
    return MEMORY_SHARE * physical


def add_run_command(sub: Any) -> None:
    """Add ``netsim run`` to the parser."""
    run = sub.add_parser("run", help="simulate a scenario, print its bands, write NetCDF or Zarr")
    run.add_argument("config", nargs="?", help="scenario TOML file (not with --resume)")
    run.add_argument(
        "--draws",
        type=int,
        default=DEFAULT_DRAWS,
        help=f"number of draws (default {DEFAULT_DRAWS:,})",
    )
    run.add_argument("--seed", type=int, default=0, help="random seed, a whole number >= 0")
    run.add_argument("--sampler", default="mc", choices=["mc", "lhs", "sobol"])
    run.add_argument(
        "--out", help="write the run: RUN.nc (the cube, or the bands with --reduce) or RUN.zarr"
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario value (repeatable)",
    )
    run.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    run.add_argument(
        "--precision",
        help="run in batches until every reported percentile's 95 %% interval is within this "
        "relative half-width (e.g. 0.5%%); --draws is then the first batch",
    )
    run.add_argument(
        "--max-draws",
        type=int,
        default=2_000_000,
        help="stop --precision runs here (default 2,000,000)",
    )
    run.add_argument(
        "--reduce",
        action="store_true",
        help="bands of every cell without the cube in memory (automatic when the cube would "
        f"take over {MEMORY_SHARE:.0%} of this machine's memory, "
        f"{cube_memory_budget() / 1e9:.1f} GB here)",
    )
    run.add_argument("--resume", metavar="RUN.zarr", help="finish an interrupted Zarr run")
    run.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler")
    run.add_argument(
        "--chunk-size",
        type=int,
        default=DEFAULT_CHUNK,
        help=f"draws per chunk (default {DEFAULT_CHUNK:,}); results do not depend on it",
    )


def run_command(args: argparse.Namespace) -> int:
    """Run ``netsim run``; returns the exit status."""
    import netsim
    from netsim.io import check_writable

    _check_arguments(args)
    zarr_out = zarr_store(args)
    if args.out and not zarr_out:
        check_writable(args.out)
    if args.resume:
        from netsim.zarr_store import scenario_of_store

        scenario = scenario_of_store(args.resume)
    else:
        scenario = netsim.load_scenario(args.config, args.set)
    client = _client(args.scheduler) if args.scheduler else None
    cube_bytes = args.draws * bytes_per_draw(scenario)
    started = time.perf_counter()
    try:
        if zarr_out:
            return _run_zarr(args, scenario, zarr_out, client, started)
        budget = cube_memory_budget()
        if args.reduce or cube_bytes > budget:
            if not args.reduce:
                print(
                    f"the cube would take {cube_bytes / 1e9:.1f} GB, over the in-memory budget of "
                    f"{budget / 1e9:.1f} GB ({MEMORY_SHARE:.0%} of this machine's memory): "
                    "computing the bands of every cell by reduction instead (--out RUN.zarr "
                    "keeps the cube on disk)",
                    file=sys.stderr,
                )
            return _run_reduced(args, scenario, client, started)
        return _run_in_memory(args, scenario, client, started)
    finally:
        if client is not None:
            client.close()


def _check_arguments(args: argparse.Namespace) -> None:
    if args.resume and args.config:
        raise ScenarioError("--resume takes its scenario from the store: give no CONFIG")
    if not args.resume and not args.config:
        raise ScenarioError("netsim run needs a CONFIG file (or --resume RUN.zarr)")
    if args.draws < 1:
        raise ScenarioError(f"--draws {args.draws} must be >= 1")
    if args.seed < 0:
        raise ScenarioError(f"--seed {args.seed} must be >= 0")
    if args.chunk_size < 1:
        raise ScenarioError(f"--chunk-size {args.chunk_size} must be >= 1")
    if args.precision:
        if args.sampler != "mc":
            raise ScenarioError("--precision needs --sampler mc (independent, index-keyed draws)")
        if args.max_draws < args.draws:
            raise ScenarioError(f"--max-draws {args.max_draws} is below --draws {args.draws}")
        if args.reduce or args.scheduler or zarr_store(args):
            raise ScenarioError(
                "--precision runs in memory: not with --reduce, Zarr or --scheduler"
            )
    if args.resume and (args.out or args.set):
        raise ScenarioError("--resume continues the store as it was started: no --out or --set")


def zarr_store(args: argparse.Namespace) -> str | None:
    """The Zarr store a ``netsim run`` streams to: ``--resume RUN.zarr``, or an ``--out``
    ending in ``.zarr``; None for a run in memory (``--out`` a NetCDF file, or none)."""
    if args.resume:
        return args.resume
    if args.out and Path(args.out).suffix.lower() == ".zarr":
        return args.out
    return None


def bytes_per_draw(scenario: Any) -> int:
    """Bytes one draw adds to the in-memory Dataset: float32 total and per-segment cells
    (years x countries each) plus the float64 sampled inputs."""
    cells = len(scenario.years) * len(scenario.countries)
    segments = sum(len(a.segments) for a in scenario.axes)
    return 4 * cells * (1 + segments) + 8 * len(scenario.parameters)


def _client(address: str) -> Any:
    try:
        from dask.distributed import Client
    except ImportError:
        raise ScenarioError(
            "--scheduler needs dask.distributed: pip install 'netsim[dask]'"
        ) from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as error:
        raise ScenarioError(f"--scheduler {address}: cannot connect ({error})") from None


def _header(scenario: Any, draws: int, args: argparse.Namespace, started: float, how: str) -> str:
    seconds = time.perf_counter() - started
    return (
        f"{scenario.name}: {draws:,} draws, sampler {args.sampler}, seed {args.seed}{how} "
        f"({seconds:.2f} s)"
    )


def _run_in_memory(args: argparse.Namespace, scenario: Any, client: Any, started: float) -> int:
    import netsim
    from netsim.io import write_netcdf

    precision = _percent(args.precision) if args.precision else None
    with _progress(None if precision else args.draws, disabled=args.no_progress) as update:
        if precision is None:
            dataset = netsim.simulate(
                scenario,
                args.draws,
                args.seed,
                args.sampler,
                chunk_size=args.chunk_size,
                progress=update,
                client=client,
            )
        else:
            from netsim.convergence import simulate_to_precision

            dataset = simulate_to_precision(
                scenario,
                precision,
                args.seed,
                first_draws=args.draws,
                max_draws=args.max_draws,
                progress=update,
            )
    # written before anything is printed: a reader that stops early (| head) loses nothing
    written = write_netcdf(dataset, args.out) if args.out else None
    where = f", on {args.scheduler}" if client is not None else ""
    print(_header(scenario, int(dataset.sizes["draw"]), args, started, where))
    if precision is not None:
        met = "met" if dataset.attrs["precision_met"] else "NOT met (--max-draws reached)"
        print(
            f"precision: target +-{100 * precision:g} %, achieved "
            f"+-{100 * dataset.attrs['precision_achieved']:.3f} % (widest 95 % interval of a "
            f"reported percentile), {met}"
        )
    print(format_bands(dataset, scenario))
    if written:
        print(f"\nwrote {written}")
    return 0


def _run_reduced(args: argparse.Namespace, scenario: Any, client: Any, started: float) -> int:
    import netsim
    from netsim.io import write_netcdf

    with _progress(args.draws, disabled=args.no_progress) as update:
        reduced = netsim.simulate(
            scenario,
            args.draws,
            args.seed,
            args.sampler,
            chunk_size=args.chunk_size,
            progress=update,
            reduce="bands",
            client=client,
        )
    written = write_netcdf(reduced, args.out) if args.out else None
    print(_header(scenario, args.draws, args, started, ", reduced to bands"))
    print(format_reduced_bands(reduced, scenario))
    if written:
        print(f"\nwrote {written} (bands of every cell)")
    return 0


def _run_zarr(
    args: argparse.Namespace, scenario: Any, path: str, client: Any, started: float
) -> int:
    from netsim.zarr_store import (
        bands_of_store,
        create_store,
        store_progress,
        write_missing_chunks,
    )

    if args.resume:
        written, total = store_progress(path)
        print(f"resuming {path}: {written} of {total} chunks already written", file=sys.stderr)
    else:
        create_store(path, scenario, args.draws, args.seed, args.sampler, args.chunk_size)
    try:
        with _progress(None, disabled=args.no_progress) as update:
            write_missing_chunks(path, scenario, client=client, progress=update)
    except KeyboardInterrupt:
        print(
            f"netsim: interrupted; {path} is incomplete: finish it with netsim run --resume {path}",
            file=sys.stderr,
        )
        return 130
    reduced = bands_of_store(path)
    args.sampler, args.seed = reduced.attrs["sampler"], reduced.attrs["seed"]
    print(_header(scenario, int(reduced.attrs["draws"]), args, started, f", streamed to {path}"))
    print(format_reduced_bands(reduced, scenario))
    print(f"\nwrote {path} (complete)")
    return 0


def _percent(text: str) -> float:
    """``"0.5%"`` -> 0.005; a bare number is a fraction (``"0.005"``)."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ScenarioError(f"--precision {text!r} must look like 0.5% or 0.005") from None
    if not 0.0 < value < 1.0:
        raise ScenarioError(f"--precision {text!r} must lie between 0 and 100 %")
    return value


class _progress:
    """A tqdm bar on stderr that appears only if the run lasts over two seconds."""

    def __init__(self, total: int | None, disabled: bool):
        self.total, self.disabled, self.bar = total, disabled, None

    def __enter__(self):
        if self.disabled:
            return None
        from tqdm import tqdm

        self.bar = tqdm(
            total=self.total,
            unit="draw",
            unit_scale=True,
            delay=PROGRESS_AFTER_SECONDS,
            file=sys.stderr,
            leave=False,
        )
        return self.bar.update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _table(title: str, band: xr.DataArray, row_dim: str, base: xr.DataArray | None = None) -> str:
    extra = f" {'base case':>10}" if base is not None else ""
    lines = [title, f"  {row_dim:<28} {'P5':>10} {'P50':>10} {'P95':>10}{extra}"]
    for label in band[row_dim].values:
        values = list(band.sel({row_dim: label}).values)
        if base is not None:
            values.append(float(base.sel({row_dim: label})))
        lines.append(f"  {label!s:<28} " + " ".join(f"{v:>10,.1f}" for v in values))
    return "\n".join(lines)


def _summary(scenario: Any, total: Any, regional: Any, segment: Any, final: int) -> str:
    import netsim

    base = netsim.global_total(netsim.deterministic(scenario)["total"])
    axis = scenario.axes[0].name
    return "\n".join(
        [
            _table("\nglobal total, USD million", total.T, "year", base),
            _table(f"\n{final} by region, USD million", regional.T, "region"),
            _table(f"\n{final} by {axis}, USD million", segment.T, axis),
        ]
    )


def format_bands(dataset: xr.Dataset, scenario: Any) -> str:
    """The run summary: P5/P50/P95 of the global total by year (beside the
    deterministic base case), and of the final year by region and by the first
    segmentation axis (USD million)."""
    import netsim

    q = [0.05, 0.5, 0.95]
    final = int(dataset["year"].values[-1])
    total = netsim.bands(netsim.global_total(dataset["total"]), q)
    regional = netsim.bands(netsim.by_region(dataset["total"].sel(year=final)), q)
    axis = scenario.axes[0].name
    segment = netsim.bands(netsim.global_total(dataset[f"by_{axis}"].sel(year=final)), q)
    return _summary(scenario, total, regional, segment, final)


def format_reduced_bands(reduced: xr.Dataset, scenario: Any) -> str:
    """:func:`format_bands` for a reduced run (bands read from its histograms)."""
    final = int(reduced["year"].values[-1])
    axis = scenario.axes[0].name
    total = reduced["total_global"]
    regional = reduced["total_region"].sel(year=final, drop=True)
    segment = reduced[f"by_{axis}_global"].sel(year=final, drop=True)
    return _summary(scenario, total, regional, segment, final)
