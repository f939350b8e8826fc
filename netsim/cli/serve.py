"""``netsim serve``: the what-if page of a scenario, on this machine only.

It loads the scenario, runs its draws once (the base run, kept in memory), binds
127.0.0.1 (a busy port is refused in one line, status 2), prints the page's address
and serves until Ctrl-C or SIGTERM, then closes its socket and ends with status 0.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from netsim.cli.commands import command
from netsim.errors import ScenarioError

__all__ = ["DEFAULT_PORT", "add_serve_command", "serve_command"]

DEFAULT_PORT = 8765
DEFAULT_DRAWS = 10_000
HOST = "127.0.0.1"  # this machine only: the page has no login


def add_serve_command(sub: Any) -> None:
    """Add ``netsim serve`` to the parser."""
    serve = sub.add_parser(
        "serve", help="a local what-if page: change inputs, see the forecast move"
    )
    serve.add_argument("config", help="scenario TOML file")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any)"
    )
    serve.add_argument(
        "--draws", type=int, default=DEFAULT_DRAWS, help=f"draws (default {DEFAULT_DRAWS:,})"
    )
    serve.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    serve.add_argument(
        "--threads",
        type=int,
        default=1,
        help="numba threads of each run (default 1: faster on a busy machine)",
    )


def _check_serve_extra() -> None:
    """The page's web server comes with the ``serve`` extra: say how to install it if
    it is missing (before anything runs)."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        raise ScenarioError(
            f"netsim serve needs {error.name or 'uvicorn and starlette'}: "
            "pip install 'netsim[serve]'"
        ) from None


@command("serve", add_serve_command, uses_dask=False)
def serve_command(args: argparse.Namespace) -> int:
    """Run ``netsim serve`` until Ctrl-C or SIGTERM; returns the exit status."""
    _check_serve_extra()
    from netsim.cli.run import Terminated
    from netsim.present.whatif.server import make_server
    from netsim.present.whatif.session import WhatIf
    from netsim.sampling.uniforms import check_request

    check_request(args.draws, args.seed, "mc", 0, 0)
    if args.threads < 1:
        raise ScenarioError(f"--threads {args.threads} must be >= 1")
    started = time.perf_counter()
    exports = {}
    try:
        import openpyxl  # noqa: F401  (the xlsx extra: the download is offered with it)
    except ImportError:
        print("netsim serve: no xlsx download (pip install 'netsim[xlsx]')", file=sys.stderr)
    else:
        from netsim.present.whatif.download import xlsx_export

        exports["xlsx"] = xlsx_export()
    # a busy port fails before the base run
    server = make_server(None, args.port, HOST, exports=exports)
    try:
        session = WhatIf(args.config, args.draws, args.seed, args.threads)
        server.attach(session)
        print(
            f"{session.base.name}: {session.draws:,} draws, seed {session.seed} "
            f"(ready in {time.perf_counter() - started:.1f} s)\n"
            f"serving the what-if page on {HOST} only (this machine): {server.url}\n"
            "Ctrl-C stops it",
            flush=True,
        )
        server.serve_forever()
    except (KeyboardInterrupt, Terminated):
        pass
    finally:
        server.server_close()
    print("netsim serve: stopped", file=sys.stderr, flush=True)
    return 0
