"""``netsim run``: parse, load, call :func:`netsim.simulate`, print the summary, write.

Which way a run goes (in memory, reduced to bands, streamed to Zarr, to a precision)
is the library's decision (:func:`netsim.run.planning.plan_run`); this module only
maps flags to its arguments.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path
from typing import Any

from netsim.cli.commands import command
from netsim.defaults import DEFAULT_CHUNK
from netsim.errors import ScenarioError

__all__ = ["DEFAULT_DRAWS", "Terminated", "add_run_command", "run_command", "zarr_store"]

DEFAULT_DRAWS = 20_000
DEFAULT_MAX_DRAWS = 2_000_000
PROGRESS_AFTER_SECONDS = 2.0
BARE_PRECISION_LIMIT = 0.1  # a bare --precision this large is a percentage without its %


class Terminated(BaseException):
    """SIGTERM, raised where the process is, so that every output in progress is
    removed on the way out (as Ctrl-C's KeyboardInterrupt does)."""


def _help(text: str) -> str:
    """Help text as argparse wants it (a bare % starts a format)."""
    return text.replace("%", "%%")


RECALIBRATE_HELP = (
    "solve the changed scenario's growth anew (default: --set changes and overlays keep the "
    "solution of the scenario they change, so only the change differs)"
)


def add_recalibrate_argument(parser: argparse.ArgumentParser) -> None:
    """``--recalibrate``, beside a command's ``--set``."""
    parser.add_argument("--recalibrate", action="store_true", help=RECALIBRATE_HELP)


def load_changed(args: argparse.Namespace) -> Any:
    """The scenario of ``args.config`` with ``args.set``: the library's default (changes
    keep the solved growth of the scenario they change) unless ``--recalibrate``."""
    import netsim

    return netsim.load_scenario(args.config, args.set, recalibrate=args.recalibrate or None)


def add_run_command(sub: Any) -> None:
    """Add ``netsim run`` to the parser."""
    run = sub.add_parser("run", help="simulate a scenario, print its bands, write NetCDF or Zarr")
    run.add_argument("config", nargs="?", help="scenario TOML file (not with --resume)")
    run.add_argument(
        "--draws", type=int, default=None, help=f"number of draws (default {DEFAULT_DRAWS:,})"
    )
    run.add_argument("--seed", type=int, default=None, help="random seed, a whole number >= 0")
    run.add_argument("--sampler", default=None, choices=["mc", "lhs", "sobol"])
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
    add_recalibrate_argument(run)
    run.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    run.add_argument(
        "--precision",
        help=_help(
            "run in batches until every reported percentile's 95 % interval is within this "
            "relative half-width (e.g. 0.5%); --draws is then the first batch"
        ),
    )
    run.add_argument(
        "--max-draws",
        type=int,
        default=None,
        help=f"stop --precision runs here (default {DEFAULT_MAX_DRAWS:,})",
    )
    run.add_argument(
        "--reduce",
        action="store_true",
        help=_help(
            "bands of every cell without the cube in memory (automatic when the cube would "
            "take over a quarter of this machine's memory)"
        ),
    )
    run.add_argument(
        "--outputs",
        metavar="NAME,NAME",
        help="reduce to bands only these outputs (e.g. total,by_modality; total always): "
        "the cells of the others are never folded, and the patient funnel's and the "
        "products' kernels run only for their own outputs (implies --reduce; default "
        "every output)",
    )
    run.add_argument(
        "--cube",
        action="store_true",
        help="write every cell of every draw into RUN.nc, for readers without netsim (by "
        "default a run file keeps the inputs, the totals of every draw and the bands of every "
        "output, and open_run recomputes the cube, checked against the file)",
    )
    run.add_argument("--resume", metavar="RUN.zarr", help="finish an interrupted Zarr run")
    run.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler")
    run.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help=f"draws per chunk (default {DEFAULT_CHUNK:,}); results do not depend on it",
    )


def zarr_store(args: argparse.Namespace) -> str | None:
    """The Zarr store a ``netsim run`` streams to: ``--resume RUN.zarr``, or an ``--out``
    ending in ``.zarr``; None for a run in memory (``--out`` a NetCDF file, or none)."""
    if args.resume:
        return args.resume
    if args.out and Path(args.out).suffix.lower() == ".zarr":
        return args.out
    return None


def _check_flags(args: argparse.Namespace) -> None:
    """Flags that cannot go together (a parsing matter: values are checked by the library)."""
    if args.resume:
        given = [
            flag
            for flag, value in (
                ("CONFIG", args.config),
                ("--out", args.out),
                ("--set", args.set),
                ("--draws", args.draws),
                ("--seed", args.seed),
                ("--sampler", args.sampler),
                ("--chunk-size", args.chunk_size),
                ("--precision", args.precision),
                ("--reduce", args.reduce),
                ("--outputs", args.outputs),
            )
            if value or (flag in ("--seed", "--draws", "--chunk-size") and value is not None)
        ]
        if given:
            raise ScenarioError(
                f"--resume continues the store as it was started: {', '.join(given)} cannot be "
                "given with it"
            )
    elif not args.config:
        raise ScenarioError("netsim run needs a CONFIG file (or --resume RUN.zarr)")
    if args.max_draws is not None and not args.precision:
        raise ScenarioError("--max-draws is the cap of a --precision run")
    reduced = "--outputs" if args.outputs is not None else "--reduce"
    if (args.reduce or args.outputs is not None) and zarr_store(args):
        raise ScenarioError(f"{reduced} keeps no cube, a Zarr store keeps it: choose one")
    if args.outputs is not None and args.precision:
        raise ScenarioError("--outputs reduces a run of --draws to bands: not with --precision")
    if args.cube and (not args.out or zarr_store(args) or args.reduce or args.outputs):
        raise ScenarioError("--cube writes the cube into the --out RUN.nc of a run in memory")
    if args.out is not None and Path(args.out.strip()).suffix.lower() not in (".nc", ".zarr"):
        raise ScenarioError(f"--out {args.out!r} must end in .nc (NetCDF) or .zarr (a Zarr store)")


def _percent(text: str) -> float:
    """``"0.5%"`` -> 0.005; a bare number is a fraction (``"0.005"``)."""
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ScenarioError(f"--precision {text!r} must look like 0.5% or 0.005") from None
    if not raw.endswith("%") and value >= BARE_PRECISION_LIMIT:
        raise ScenarioError(
            f"--precision {text} would mean +-{100 * value:g} %: write {text}% if that is meant "
            f"as a percentage, or a fraction below {BARE_PRECISION_LIMIT:g}"
        )
    return value


def _run_uses_dask(args: argparse.Namespace) -> bool:
    """A run uses Dask on a cluster or into a Zarr store; in memory it never does."""
    return bool(args.scheduler or zarr_store(args))


def _run_threads(args: argparse.Namespace) -> int | None:
    """One numba thread for a small run of known draws (:func:`netsim.run.planning.kernel_threads`);
    a run to a precision, a resumed store or a cluster's run keeps numba's default."""
    if args.precision or args.resume or args.scheduler:
        return None
    from netsim.run.planning import kernel_threads

    return kernel_threads(DEFAULT_DRAWS if args.draws is None else args.draws)


@command("run", add_run_command, uses_dask=_run_uses_dask, threads=_run_threads)
def run_command(args: argparse.Namespace) -> int:
    """Run ``netsim run``; returns the exit status."""
    import netsim
    from netsim.model.layout import OutputLayout
    from netsim.output_files import OutputFile
    from netsim.run.writing import write_netcdf
    from netsim.sampling.uniforms import check_request

    _check_flags(args)
    draws = DEFAULT_DRAWS if args.draws is None else args.draws
    seed = 0 if args.seed is None else args.seed
    sampler = args.sampler or "mc"
    check_request(draws, seed, sampler, 0, 0)  # before the scenario is loaded and solved
    store = zarr_store(args)
    if args.resume:  # with the draws it had written before: where its progress starts
        scenario, resumed, done_before, draws = _resumed_store(args.resume)
    else:
        scenario, done_before = load_changed(args), 0
    precision = _percent(args.precision) if args.precision else None
    reduce = "bands" if args.reduce or args.outputs is not None else "auto"
    plan = None
    if not args.resume:
        plan = _planned(args, OutputLayout.of(scenario), draws, reduce, store, precision)
        if plan.note:
            print(plan.note, file=sys.stderr)
    # the output exists (as a temporary) before anything is computed: an unwritable
    # folder, or a target that cannot be written (a device, a store already there),
    # fails now, not after the run
    if store and not args.resume:
        _probe_new_store(store, scenario.source_files)
    output = client = None
    started = time.perf_counter()
    try:
        if args.out and not store:
            output = OutputFile(args.out, scenario.source_files)
        client = _client(args.scheduler) if args.scheduler else None
        with _progress(
            draws if precision is None else None, args.no_progress, done_before
        ) as update:
            if args.resume:
                from netsim.run.zarr_store import resume_store

                dataset = resume_store(args.resume, client=client, progress=update)
            elif _recorded(args, plan):
                from netsim.run.record import record_run

                dataset = record_run(
                    scenario, draws, seed, sampler, bands=output is not None, progress=update
                )
            else:
                dataset = netsim.simulate(
                    scenario,
                    draws,
                    seed,
                    sampler,
                    chunk_size=DEFAULT_CHUNK if args.chunk_size is None else args.chunk_size,
                    progress=update,
                    reduce=reduce,
                    client=client,
                    store=store,
                    precision=precision,
                    max_draws=DEFAULT_MAX_DRAWS if args.max_draws is None else args.max_draws,
                    outputs=args.outputs,
                )
        # written before anything is printed: a reader that stops early (| head) loses nothing
        written = write_netcdf(_file_of(dataset, args), output) if output is not None else None
    except (KeyboardInterrupt, Terminated) as stop:
        from netsim.run.zarr_store import is_store

        if store and is_store(store):  # the skeleton is in place: the store can resume
            what = "interrupted" if isinstance(stop, KeyboardInterrupt) else "terminated"
            print(
                f"netsim: {what}; {store} is incomplete: finish it with "
                f"netsim run --resume {store}",
                file=sys.stderr,
            )
            return 130 if isinstance(stop, KeyboardInterrupt) else 143
        raise
    finally:
        if output is not None:
            output.discard()
        if client is not None:
            client.close()
    if args.resume:
        print(f"resumed {resumed}")
    seconds = time.perf_counter() - started
    _print_run(scenario, dataset, args, seconds, store, written)
    return 0


def _print_run(
    scenario: Any,
    dataset: Any,
    args: argparse.Namespace,
    seconds: float,
    store: str | None,
    written: Path | None,
) -> None:
    """Print a finished run: its header, the precision reached (a run to a precision),
    its bands with the base case, and what was written."""
    import netsim
    from netsim.model.layout import OutputLayout
    from netsim.present.tables import run_summary

    print(_header(scenario, dataset, args, seconds, store))
    if "precision_target" in dataset.attrs:
        met = "met" if dataset.attrs["precision_met"] else "NOT met (--max-draws reached)"
        print(
            f"precision: target +-{100 * dataset.attrs['precision_target']:g} %, achieved "
            f"+-{100 * dataset.attrs['precision_achieved']:.3f} % (widest 95 % interval of a "
            f"reported percentile), {met}"
        )
    # the tables' base case is of the totals (never a product's): no product kernel for it
    base_case = netsim.deterministic(scenario, products=False)
    print(run_summary(dataset, base_case=base_case, layout=OutputLayout.of(scenario)))
    if written:
        what = " (bands of every cell)" if dataset.attrs.get("reduce") else ""
        print(f"\nwrote {written}{what}")
    if store:
        print(f"\nwrote {store} (complete)")


def _file_of(dataset: Any, args: argparse.Namespace) -> Any:
    """What a run's NetCDF file holds: its record (made here from a cube in memory, a
    run on a cluster or to a precision), the cube with ``--cube``, or its bands."""
    from netsim.run.recompute import is_record
    from netsim.run.record import record_of

    if args.cube or is_record(dataset) or dataset.attrs.get("reduce"):
        return dataset
    return record_of(dataset)


def _planned(
    args: argparse.Namespace,
    layout: Any,
    draws: int,
    reduce: str,
    store: str | None,
    precision: float | None,
) -> Any:
    """The run's plan (:func:`netsim.run.planning.plan_run`); a run that streams into
    its record needs memory for the record, not the cube: it stays a run of every draw
    when the record fits (:func:`netsim.run.record.record_fits`) where the cube would
    not (``recorded``); a larger one is reduced to bands."""
    from dataclasses import replace

    from netsim.run.planning import plan_run, sobol_balance_note
    from netsim.run.record import record_fits

    sampler = args.sampler or "mc"
    plan = plan_run(layout, draws, reduce=reduce, store=store, precision=precision, sampler=sampler)
    streams = not (
        args.cube
        or args.scheduler
        or args.chunk_size is not None
        or args.reduce
        or args.outputs is not None
    )
    if not (streams and record_fits(layout, draws)):
        return plan
    if plan.strategy == "reduced" and reduce == "auto":
        return replace(plan, strategy="recorded", note=sobol_balance_note(draws, sampler))
    return replace(plan, strategy="recorded") if plan.strategy == "memory" else plan


def _recorded(args: argparse.Namespace, plan: Any) -> bool:
    """Whether a run streams into its record (the recipe and the answer, never the cube
    in memory): a run of every draw on local threads, unless ``--cube`` asks for the
    cube (:func:`_planned`)."""
    return plan is not None and plan.strategy == "recorded"


def _resumed_store(store: str) -> tuple[Any, str, int, int]:
    """The scenario of a store to resume, what it says of the chunks written, and the
    draws written before and in all (the progress bar's start and total, so its ETA is
    the remaining draws')."""
    from netsim.run.zarr_store import scenario_of_store, store_draws_written, store_progress

    scenario = scenario_of_store(store)
    # said once the store has been read: a damaged one is refused in one line
    resumed = "{}: {} of {} chunks were written before".format(store, *store_progress(store))
    done_before, draws = store_draws_written(store)
    return scenario, resumed, done_before, draws


def _probe_new_store(store: str, reads: Any) -> None:
    """Refuse a store path that cannot take a new store (naming ``--resume`` for a store
    already there), and prove its folder writable by making and removing a temporary."""
    from netsim.output_files import OutputFile
    from netsim.run.zarr_store import is_store

    if is_store(store):
        raise ScenarioError(
            f"{store} exists: finish it with netsim run --resume {store}, or name a new store"
        )
    OutputFile(store, reads, directory=True).discard()


def _header(
    scenario: Any, dataset: Any, args: argparse.Namespace, seconds: float, store: str | None
) -> str:
    draws = int(dataset.attrs["draws"])
    how = ""
    if store:
        how = f", streamed to {store}"
    elif dataset.attrs.get("reduce"):
        how = ", reduced to bands"
    elif args.scheduler:
        how = f", on {args.scheduler}"
    from netsim.model.calibration import calibration_used

    solution = ""
    if scenario.calibration is not None and (args.set or scenario.calibration.inherited_from):
        solution = f", growth solution {calibration_used(scenario)}"
    return (
        f"{scenario.name}: {draws:,} draws, sampler {dataset.attrs['sampler']}, seed "
        f"{dataset.attrs['seed']}{how}{solution} ({seconds:.2f} s)"
    )


def _client(address: str) -> Any:
    try:
        from dask.distributed import Client
        from distributed.comm import parse_address
        from distributed.comm.addressing import parse_host_port
    except ImportError:
        raise ScenarioError(
            "--scheduler needs dask.distributed: pip install 'netsim[dask]'"
        ) from None
    try:
        # reach a TCP scheduler before making a Client: a Client that fails to connect
        # stays behind half made, and when it is collected its close waits up to 20 s
        # (swallowing a Ctrl-C that arrives meanwhile)
        scheme, location = parse_address(address)
        if scheme == "tcp":
            socket.create_connection(parse_host_port(location), timeout=10).close()
        # passed to every call explicitly: never the process's default client, so
        # nothing is left behind for xarray's scheduler lookup to find
        return Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        raise ScenarioError(f"--scheduler {address}: cannot connect ({error})") from None


class _progress:
    """A tqdm bar on stderr that appears only if the run lasts over two seconds: draws
    done of ``total`` (None: unknown, a run to a precision) with its ETA, starting from
    ``initial`` (the draws a resumed store had written before)."""

    def __init__(self, total: int | None, disabled: bool, initial: int = 0):
        self.total, self.disabled, self.initial, self.bar = total, disabled, initial, None

    def __enter__(self):
        if self.disabled:
            return None
        from tqdm import tqdm

        self.bar = tqdm(
            total=self.total,
            initial=self.initial,
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
