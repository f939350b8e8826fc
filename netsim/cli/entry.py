"""The ``netsim`` command line: parses, loads, calls the library, prints and writes.

Bad input (a ``ScenarioError``) prints one line ``netsim: error: ...`` to stderr
and exits with status 2, with no traceback and nothing written.

Start-up time matters here (``netsim run`` answers in about a second with a warm
numba cache), so this module and the two it reads for its parser import nothing
heavy: numpy, numba and xarray load only once the command is known.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from types import FrameType

from netsim import __version__
from netsim.cli.commands import load_commands
from netsim.cli.run import Terminated
from netsim.errors import ArgumentValueError, ScenarioError, damage_found_by_hdf5

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool its reader left
RESEND_AFTER_SECONDS = 0.005  # a signal that came inside a compiler callback, sent again
COMPILER_FOLDER = f"{os.sep}llvmlite{os.sep}"  # numba's compiler calls back into Python here


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: status 2, one line
        raise ScenarioError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="netsim", description="Monte Carlo scenario simulation for market forecasts"
    )
    parser.add_argument("--version", action="version", version=f"netsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for registered in load_commands().values():
        registered.parser(sub)
    return parser


def console() -> int:
    """The ``netsim`` console script: :func:`main` on ``sys.argv``, in a process of its own.

    Python's cyclic garbage collector is most of the start-up it does not need: it
    runs about 400 times while the libraries are imported (0.2 to 0.3 s of a 1,000-draw
    run), only to find that the ~150,000 objects they create all stay alive, and it
    walks them all again when the interpreter exits (0.3 to 0.5 s). So it is off
    until the command's modules are imported, those objects are then frozen (left
    out of later collections, :func:`gc.freeze`), and everything is frozen again
    before exit. Collection stays on while the command runs.
    """
    gc.disable()
    # numpy's floating-point RuntimeWarnings (a log of 0 in an intermediate step) are
    # not for the command's reader: a result that could be wrong is refused in one line
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    previous = signal.signal(signal.SIGTERM, _stop)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _stop)
    try:
        return main(sys.argv[1:], own_process=True)
    except KeyboardInterrupt:  # between main's own handlers and its return
        return EXIT_INTERRUPTED
    except Terminated:
        return EXIT_TERMINATED
    finally:
        # the command is over: a signal now ends the process as it would any program,
        # without a traceback from a handler that has nothing left to clean up
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        if signal.getsignal(signal.SIGINT) is _stop:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        gc.freeze()  # the process ends here: nothing left that collecting would free


def _stop(number: int, frame: FrameType | None) -> None:
    """Ctrl-C or SIGTERM: raise KeyboardInterrupt or :class:`Terminated` where the
    process is, so each output in progress is removed on the way out.

    Except inside a callback from numba's compiler (LLVM asks Python for a compiled
    object as each jitted function is first loaded): an exception cannot unwind through
    the compiler's C frames, so Python reports it as ignored, the compiler goes on
    without the object it asked for, and the process can die of a segmentation fault,
    leaving its temporaries behind. There the signal is sent again a few milliseconds
    later, when the process is back in Python code of its own.
    """
    if _inside_compiler(frame):
        resend = threading.Timer(RESEND_AFTER_SECONDS, os.kill, (os.getpid(), number))
        resend.daemon = True  # a process that ends first ends as it would have
        resend.start()
        return
    if number == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated


def _inside_compiler(frame: FrameType | None) -> bool:
    """True if a frame of the compiler's Python bindings is on the stack."""
    while frame is not None:
        if COMPILER_FOLDER in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


def _prepare_process(args: argparse.Namespace) -> None:
    """Leave out Dask if the command cannot use it, import what every command uses
    (numpy, numba, xarray: about 150,000 objects that live until exit) and freeze it,
    set numba's threads where the command asks for fewer, then collect garbage again."""
    if not _uses_dask(args):
        leave_out_dask()
    load_blas_alone()
    import netsim.present.tables
    import netsim.run.reading
    import netsim.run.simulate  # noqa: F401 - imported for their side effect, before the freeze

    threads = load_commands()[args.command].threads(args)
    if threads is not None:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))

    gc.freeze()
    gc.enable()


def main(argv: Sequence[str] | None = None, *, own_process: bool = False) -> int:
    """Run one ``netsim`` command; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``netsim`` (default ``sys.argv[1:]``).
    own_process : bool
        True when the process exists only for this command (the console script).
        A command that cannot use Dask then leaves it out of the process
        (:func:`leave_out_dask`), and the garbage collector skips the libraries'
        objects (:func:`console`); a caller's own process is never changed.
    """
    from netsim.output_files import commits

    before = commits()
    args = None
    try:
        args = _parser().parse_args(argv)
        if own_process:
            _prepare_process(args)
        return load_commands()[args.command].action(args)
    except (ScenarioError, ArgumentValueError) as error:
        print(f"netsim: error: {_one_line(str(error))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"netsim: interrupted; {_what_was_written(before)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print(f"netsim: terminated; {_what_was_written(before)}", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:
        # the reader stopped early (netsim ... | head): files are already written; end
        # quietly, as a Unix tool killed by SIGPIPE would, without a traceback when Python
        # flushes the closed stdout on exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as error:  # a file that cannot be read, or the printed results
        if error.filename:
            where = f"{error.filename}: {error.strerror or error}"
        elif _raised_by_hdf5(error):  # damage found while a run too big to read whole is read
            where = (
                f"{', '.join(_files_read(args))}: {damage_found_by_hdf5(error)}; "
                f"{_what_was_written(before)}"
            )
        else:  # no file named: printing the results failed (stdout on a full disk ...)
            where = f"printing the results failed ({error.strerror or error}); "
            where += _what_was_written(before)
        print(f"netsim: error: {where}", file=sys.stderr)
        return EXIT_USAGE


def _raised_by_hdf5(error: BaseException) -> bool:
    """Whether HDF5 (through h5py) raised ``error``: a run's structure (a chunk index)
    found damaged while the run was read, not a failure to print."""
    frame = error.__traceback__
    while frame is not None:
        if f"{os.sep}h5py{os.sep}" in frame.tb_frame.f_code.co_filename:
            return True
        frame = frame.tb_next
    return False


def _files_read(args: argparse.Namespace | None) -> list[str]:
    """The run files a command reads (its ``run`` or ``sources``)."""
    run = getattr(args, "run", None)
    files = [run] if run else list(getattr(args, "sources", None) or [])
    return [str(file) for file in files] or ["a file read"]


def _what_was_written(before: int) -> str:
    """Say "nothing written", or which outputs the command had written when stopped."""
    from netsim.output_files import committed

    written = committed(before)
    return f"wrote {', '.join(map(str, written))}" if written else "nothing written"


def _one_line(text: str) -> str:
    """The message on one line, every character a terminal would not show as itself (other
    line breaks, controls, direction marks and overrides, zero-width characters) escaped:
    a name quoted in an error cannot break the line or turn the text around."""
    text = " ".join(text.split("\n"))
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _uses_dask(args: argparse.Namespace) -> bool:
    """Whether a command may need Dask, as it registered (a run on a cluster or into a
    Zarr store; the analysis commands, whose inputs may be Zarr stores)."""
    return load_commands()[args.command].uses_dask(args)


def leave_out_dask() -> bool:
    """Mark Dask as not installed in this process, unless something has imported it
    (or xarray, which has then looked for it) already. Returns whether it did.

    With Dask installed, xarray imports ``dask.array`` the first time it builds a
    Variable, only to test whether the data are Dask arrays: 0.2 to 0.5 s of a
    1,000-draw ``netsim run``, for a run whose arrays are all numpy. A ``None`` in
    ``sys.modules`` is Python's documented "not importable" mark: ``import dask``
    raises ``ImportError`` and ``importlib.util.find_spec("dask")`` returns None, so
    xarray takes its no-Dask paths, which are the same for numpy data.
    """
    if any(name == "xarray" or name.split(".")[0] == "dask" for name in sys.modules):
        return False
    sys.modules["dask"] = None  # type: ignore[assignment]
    return True


def load_blas_alone() -> bool:
    """Import ``scipy.linalg.cython_blas`` without the ``scipy.linalg`` package around
    it, unless either is imported already. Returns whether it did.

    The first compiled kernel a process loads sets up numba's target, which imports
    ``numba.np.arraymath``, whose module-level ``_check_blas`` imports
    ``scipy.linalg.cython_blas`` only to learn that BLAS is there. Python imports a
    package before its module, and ``scipy.linalg``'s ``__init__`` loads all of
    ``scipy.linalg`` (with ``numpy.testing`` and ``numpy.f2py``): about a tenth of a
    fresh 1,000-draw ``netsim run``, measured, for a module netsim's kernels never call
    (numba has no setting that skips the check). The module itself is an extension with
    no Python code: loaded here from its file and entered in ``sys.modules``, numba's
    import finds it and its check passes as before. A later ``import scipy.linalg`` is
    unchanged (it reads the same module from ``sys.modules``).
    """
    import importlib.machinery
    import importlib.util

    name = "scipy.linalg.cython_blas"
    if any(module in sys.modules for module in (name, "scipy.linalg", "numba.np.arraymath")):
        return False
    scipy_spec = importlib.util.find_spec("scipy")
    if scipy_spec is None or not scipy_spec.submodule_search_locations:
        return False
    files = [
        os.path.join(folder, "linalg", "cython_blas" + suffix)
        for folder in scipy_spec.submodule_search_locations
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
    ]
    found = [path for path in files if os.path.isfile(path)]
    if not found:
        return False  # numba's own import then says what it finds
    import scipy  # noqa: F401 - the package the module belongs to, as an import would

    loader = importlib.machinery.ExtensionFileLoader(name, found[0])
    spec = importlib.util.spec_from_file_location(name, found[0], loader=loader)
    if spec is None:
        return False
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except ImportError:
        del sys.modules[name]
        return False
    return True


__all__ = ["console", "leave_out_dask", "load_blas_alone", "main"]
