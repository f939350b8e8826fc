"""The one writer (netsim.output_files), through every kind of file netsim writes.

Each kind (a NetCDF run, a reduced run, a Zarr store, the CSV of bands and of compare,
the HTML report, PNG and SVG plots, the NetCDF of sensitivity and of compare) is written
through the CLI at targets it must refuse (a directory, /dev/null, a FIFO, links to
them, its own inputs, a missing folder), at one it must follow (a link to a regular
file), into a read-only folder and onto a full disk, and interrupted by SIGINT and
SIGTERM. Every refusal is one line, exit status 2, before any computation, with
nothing left behind.

How a read-only folder and a full disk are made depends on the machine, and the test
ids say which was used: as root (where chmod does not stop writes) a read-only bind
mount (``ro-bind``), else a read-only tmpfs (``ro-tmpfs``), else ``chattr +i``
(``immutable``); without root, ``chmod 0o555`` (``chmod``). A full disk is a small tmpfs
(``tmpfs``) when mounting works, else ENOSPC injected into the writes
(``injected-enospc``). ``NETSIM_TEST_NO_MOUNT=1`` forces the fallbacks.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import functools
import importlib
import io
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import xarray as xr

import netsim
from netsim.cli import main
from netsim.cli.run import Terminated
from netsim.errors import OutputError
from netsim.output_files import DeferredErrorFile, OutputFile
from netsim.run.reading import open_run, run_kind
from netsim.run.zarr_store import create_store

from .conftest import CONFIGS, NET_CONFIG, ROOT
from .helpers import without_funnel, without_products, write_toml

DRAWS = "200"


# --- the inputs the commands read -------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    folder: Path
    config: Path  # net_market.toml (a copy: a failing test must not damage the real one)
    overlay: Path  # bull.toml, an overlay whose parent is ``config``
    run: Path  # a small NetCDF run
    sobol: Path  # a Sobol sensitivity file


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Inputs:
    folder = tmp_path_factory.mktemp("inputs")
    # the top-down NET model without its products: these tests are about files, and its
    # cube's size is the one the small disks below are sized for (every run kind with the
    # funnel: test_run_kinds; with the products: test_product_files)
    write_toml(
        without_products(without_funnel(tomllib.loads((CONFIGS / "net_market.toml").read_text()))),
        folder / "net_market.toml",
    )
    shutil.copy(CONFIGS / "bull.toml", folder / "bull.toml")
    found = Inputs(
        folder,
        folder / "net_market.toml",
        folder / "bull.toml",
        folder / "run.nc",
        folder / "sobol.nc",
    )
    run = ["run", str(found.config), "--draws", DRAWS, "--no-progress", "--out", str(found.run)]
    sobol = ["sensitivity", str(found.config), "--method", "sobol", "--draws", "64"]
    errors = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(errors):
        assert main(run) == 0, errors.getvalue()
        assert main([*sobol, "--out", str(found.sobol)]) == 0, errors.getvalue()
    return found


def _fingerprints(found: Inputs) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in (found.config, found.overlay, found.run)}


# --- the kinds of file ------------------------------------------------------------------


def _check_run(kind: str) -> Callable[[Path], None]:
    def check(path: Path) -> None:
        dataset = open_run(path)
        try:
            assert run_kind(dataset) == kind
            assert dataset.attrs["draws"] == int(DRAWS)
        finally:
            dataset.close()

    return check


def _check_netcdf(path: Path) -> None:
    with xr.open_dataset(path, engine="h5netcdf") as dataset:
        assert "netsim_version" in dataset.attrs
        dataset.load()


def _check_csv(path: Path) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) > 1 and all(len(row) == len(rows[0]) for row in rows)


def _check_html(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html") and "</html>" in text


def _check_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")


def _check_svg(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "<svg" in text and text.rstrip().endswith("</svg>")


@dataclass(frozen=True)
class Kind:
    name: str
    suffix: str
    command: Callable[[Inputs, str, Path], list[str]]  # (inputs, out, config) -> argv
    reads: Callable[[Inputs], list[Path]]  # the files the command reads
    check: Callable[[Path], None]  # that a written file is whole
    heavy: str  # the computation that must not start when the output is refused
    room: int  # bytes left free on the full disk (some, so that a write fails part way)
    store: bool = False  # a Zarr store (a directory)
    reads_config: bool = False  # takes a scenario (so an overlay's parent is an input)


def _run(extra: list[str]) -> Callable[[Inputs, str, Path], list[str]]:
    return lambda i, out, config: ["run", str(config), "--draws", DRAWS, "--no-progress", *extra]


def _with_out(command, flag="--out"):
    return lambda i, out, config: [*command(i, out, config), flag, out]


def _compare(i: Inputs, out: str, config: Path) -> list[str]:
    return ["compare", str(config), str(i.overlay), "--draws", DRAWS]


def _sensitivity(i: Inputs, out: str, config: Path) -> list[str]:
    return ["sensitivity", str(config), "--method", "spearman", "--run", str(i.run)]


def _plot(i: Inputs, out: str, config: Path) -> list[str]:
    return ["plot", "fan", str(i.run)]


KINDS = [
    Kind(
        "run-nc",
        ".nc",
        _with_out(_run([])),
        lambda i: [i.config],
        _check_run("draws"),
        "netsim.run.record.record_run",
        8192,
        reads_config=True,
    ),
    Kind(
        "reduced-nc",
        ".nc",
        _with_out(_run(["--reduce"])),
        lambda i: [i.config],
        _check_run("bands"),
        "netsim.simulate",
        8192,
        reads_config=True,
    ),
    Kind(
        "zarr",
        ".zarr",
        _with_out(_run([])),
        lambda i: [i.config],
        _check_run("draws"),
        "netsim.simulate",
        8192,
        store=True,
        reads_config=True,
    ),
    Kind(
        "bands-csv",
        ".csv",
        _with_out(lambda i, out, config: ["bands", str(i.run)], "--csv"),
        lambda i: [i.run],
        _check_csv,
        "netsim.analyze.bands.run_bands",
        0,
    ),
    Kind(
        "compare-csv",
        ".csv",
        _with_out(_compare, "--csv"),
        lambda i: [i.config, i.overlay],
        _check_csv,
        "netsim.analyze.comparison.compare",
        0,
        reads_config=True,
    ),
    Kind(
        "compare-nc",
        ".nc",
        _with_out(_compare),
        lambda i: [i.config, i.overlay],
        _check_netcdf,
        "netsim.analyze.comparison.compare",
        8192,
        reads_config=True,
    ),
    Kind(
        "sensitivity-nc",
        ".nc",
        _with_out(_sensitivity),
        lambda i: [i.config, i.run],
        _check_netcdf,
        "netsim.analyze.sensitivity.analyze",
        4096,
        reads_config=True,
    ),
    Kind(
        "report-html",
        ".html",
        _with_out(lambda i, out, config: ["report", str(i.run), "--sensitivity", str(i.sobol)]),
        lambda i: [i.run, i.sobol],
        _check_html,
        "netsim.present.report.render_report",
        8192,
    ),
    Kind(
        "plot-png",
        ".png",
        _with_out(_plot),
        lambda i: [i.run],
        _check_png,
        "netsim.present.plots.fan_chart",
        8192,
    ),
    Kind(
        "plot-svg",
        ".svg",
        _with_out(_plot),
        lambda i: [i.run],
        _check_svg,
        "netsim.present.plots.fan_chart",
        8192,
    ),
]
BY_NAME = {kind.name: kind for kind in KINDS}
EVERY_KIND = pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])
# the NetCDF writers (HDF5) run in a subprocess on a full disk: a crash shows as -11
IN_SUBPROCESS = {"run-nc", "reduced-nc", "compare-nc", "sensitivity-nc"}


# --- helpers ----------------------------------------------------------------------------


def _argv(kind: Kind, found: Inputs, out: Path | str, config: Path | None = None) -> list[str]:
    return kind.command(found, str(out), found.config if config is None else config)


def _cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


class _Computed(BaseException):
    """The command started its computation although its output is refused."""


def _guard_computation(monkeypatch, kind: Kind) -> None:
    def computing(*args, **kwargs):
        raise _Computed(f"{kind.heavy} ran before the output was refused")

    monkeypatch.setattr(kind.heavy, computing)


def _assert_refused(status: int, err: str, *words: str) -> str:
    lines = err.strip().splitlines()
    assert status == 2, err
    assert len(lines) == 1 and lines[0].startswith("netsim: error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))  # hidden files too


def _assert_no_temporaries(*folders: Path) -> None:
    for folder in folders:
        left = [name for name in os.listdir(folder) if ".partial" in name or name.startswith(".")]
        assert not left, f"left behind in {folder}: {left}"


class _Hung(BaseException):
    pass


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (a FIFO opened for writing blocks until a reader comes)."""

    def hung(number, frame):
        raise _Hung(f"still running after {seconds} s: blocked on a FIFO?")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sh(*command: str) -> bool:
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def _unmount(folder: Path) -> None:
    if not _sh("umount", str(folder)):
        _sh("umount", "-l", str(folder))


# --- how a read-only folder and a full disk are made here --------------------------------


def _may_mount() -> bool:
    return os.geteuid() == 0 and not os.environ.get("NETSIM_TEST_NO_MOUNT")


@functools.cache
def read_only_how() -> str:
    """The way this machine makes a folder that even root cannot write."""
    if os.geteuid() != 0:
        return "chmod"
    with tempfile.TemporaryDirectory() as scratch:
        source, target = Path(scratch, "source"), Path(scratch, "target")
        source.mkdir()
        target.mkdir()
        if _may_mount():
            if _sh("mount", "--bind", str(source), str(target)):
                works = _sh("mount", "-o", "remount,bind,ro", str(target))
                _unmount(target)
                if works:
                    return "ro-bind"
            if _sh("mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(target)):
                _unmount(target)
                return "ro-tmpfs"
        if shutil.which("chattr") and _sh("chattr", "+i", str(source)):
            _sh("chattr", "-i", str(source))
            return "immutable"
    return "none"


@functools.cache
def full_disk_how() -> str:
    """``tmpfs`` where a small tmpfs can be mounted, else ``injected-enospc``."""
    if _may_mount():
        with tempfile.TemporaryDirectory() as scratch:
            if _sh("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", scratch):
                _unmount(Path(scratch))
                return "tmpfs"
    return "injected-enospc"


@contextlib.contextmanager
def read_only_folder(place: Path, files: dict[str, bytes]) -> Iterator[Path]:
    """A folder holding ``files`` that cannot be written to, undone on the way out."""
    how = read_only_how()
    source, folder = place / "source", place / "read-only"
    source.mkdir()
    for name, data in files.items():
        (source / name).write_bytes(data)
    if how == "none":
        pytest.skip("no way to make a read-only folder as root here (no mount, no chattr)")
    if how == "ro-bind":
        folder.mkdir()
        assert _sh("mount", "--bind", str(source), str(folder))
        try:
            assert _sh("mount", "-o", "remount,bind,ro", str(folder))
            yield folder
        finally:
            _unmount(folder)
    elif how == "ro-tmpfs":
        folder.mkdir()
        assert _sh("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder))
        try:
            for name, data in files.items():
                (folder / name).write_bytes(data)
            assert _sh("mount", "-o", "remount,ro", str(folder))
            yield folder
        finally:
            _unmount(folder)
    elif how == "immutable":
        assert _sh("chattr", "+i", str(source))
        try:
            yield source
        finally:
            _sh("chattr", "-i", str(source))
    else:
        source.chmod(0o555)
        try:
            yield source
        finally:
            source.chmod(0o755)


def _fill(folder: Path, room: int) -> None:
    """Fill the file system of ``folder`` until ``room`` bytes are left."""
    info = os.statvfs(folder)
    free = info.f_bavail * info.f_frsize
    with open(folder / "filler", "wb") as filler:
        filler.write(b"\0" * max(free - room, 0))


@contextlib.contextmanager
def small_disk(place: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``place``/disk, unmounted on the way out."""
    folder = place / "disk"
    folder.mkdir()
    assert _sh("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        _unmount(folder)


def inject_enospc(folder: str, room: int) -> None:
    """Make writes into ``folder`` fail with ENOSPC once ``room`` bytes are written, in
    this process: HDF5's writes (``os.pwrite``, through netsim's DeferredErrorFile) and,
    for every other writer, the end of the write handed to ``OutputFile.commit``."""
    import netsim.output_files

    written = {"bytes": 0}
    real_pwrite, real_commit = os.pwrite, netsim.output_files.OutputFile.commit

    def full() -> OSError:
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def pwrite(descriptor, data, offset):
        if os.path.realpath(f"/proc/self/fd/{descriptor}").startswith(folder):
            if written["bytes"] + len(data) > room:
                raise full()
            written["bytes"] += len(data)
        return real_pwrite(descriptor, data, offset)

    def commit(self, write):
        def write_then_fail(temporary):
            write(temporary)
            if str(temporary).startswith(folder):
                raise full()

        return real_commit(self, write_then_fail)

    os.pwrite = pwrite
    netsim.output_files.OutputFile.commit = commit


# --- a file of every kind is written whole ----------------------------------------------


@pytest.mark.slow
@EVERY_KIND
def test_writes_a_whole_file_with_the_usual_permissions(
    tmp_path, capsys, monkeypatch, inputs, kind
):
    """The file is whole, with 0o666 (a store 0o777) less the umask, and while the
    command computes, its temporary is already in the folder (a Zarr store's folder is
    proven writable by a temporary made and removed first)."""
    out = tmp_path / f"out{kind.suffix}"
    seen = []
    module, name = kind.heavy.rsplit(".", 1)
    computation = getattr(importlib.import_module(module), name)

    def spy(*args, **kwargs):
        seen.append(_listing(tmp_path))
        return computation(*args, **kwargs)

    monkeypatch.setattr(kind.heavy, spy)
    status, printed, err = _cli(capsys, _argv(kind, inputs, out))
    assert status == 0, err
    assert f"wrote {out}" in printed
    kind.check(out)
    assert _listing(tmp_path) == [out.name]
    wanted = (0o777 if kind.store else 0o666) & ~_umask()
    assert stat.S_IMODE(out.stat().st_mode) == wanted
    assert seen, f"{kind.heavy} was not called"
    if not kind.store:
        assert len(seen[0]) == 1 and seen[0][0].startswith(f".{out.name}.")
        assert seen[0][0].endswith(".partial")


@pytest.mark.slow
def test_compare_removes_its_csv_when_its_netcdf_is_refused(tmp_path, capsys, inputs):
    """Two outputs, the second refused: the first one's temporary goes too."""
    refused = tmp_path / "refused.nc"
    refused.mkdir()
    argv = _compare(inputs, "", inputs.config)
    argv += ["--csv", str(tmp_path / "table.csv"), "--out", str(refused)]
    status, _, err = _cli(capsys, argv)
    _assert_refused(status, err, str(refused), "a directory")
    assert _listing(tmp_path) == ["refused.nc"]


# --- targets that are refused -----------------------------------------------------------


@pytest.mark.slow
@EVERY_KIND
def test_refuses_a_directory(tmp_path, capsys, monkeypatch, inputs, kind):
    out = tmp_path / f"out{kind.suffix}"
    out.mkdir()
    (out / "kept.txt").write_text("kept")
    _guard_computation(monkeypatch, kind)
    status, _, err = _cli(capsys, _argv(kind, inputs, out))
    _assert_refused(status, err, str(out), "exists" if kind.store else "a directory")
    assert _listing(out) == ["kept.txt"] and _listing(tmp_path) == [out.name]


@pytest.mark.slow
@EVERY_KIND
@pytest.mark.parametrize("how", ["itself", "link"])
def test_refuses_dev_null_and_leaves_it_a_device(tmp_path, capsys, monkeypatch, inputs, kind, how):
    before = os.stat("/dev/null")
    assert stat.S_ISCHR(before.st_mode)
    out = Path("/dev/null")
    if how == "link":  # a name with the kind's suffix, so that the device itself is seen
        out = tmp_path / f"null{kind.suffix}"
        out.symlink_to("/dev/null")
    _guard_computation(monkeypatch, kind)
    status, _, err = _cli(capsys, _argv(kind, inputs, out))
    line = _assert_refused(status, err, str(out))
    if how == "link":
        assert "character device" in line
        assert out.is_symlink() and os.readlink(out) == "/dev/null"
        _assert_no_temporaries(tmp_path)
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode)
    _assert_no_temporaries(Path("/dev"))


@pytest.mark.slow
@EVERY_KIND
@pytest.mark.parametrize("how", ["itself", "link"])
def test_refuses_a_fifo_without_hanging(tmp_path, capsys, monkeypatch, inputs, kind, how):
    fifo = tmp_path / f"pipe{kind.suffix}"
    os.mkfifo(fifo)
    out = fifo
    if how == "link":
        out = tmp_path / f"link{kind.suffix}"
        out.symlink_to(fifo)
    _guard_computation(monkeypatch, kind)
    with _deadline(30):
        status, _, err = _cli(capsys, _argv(kind, inputs, out))
    _assert_refused(status, err, str(out), "a FIFO")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert _listing(tmp_path) == sorted({fifo.name, out.name})


@pytest.mark.slow
@EVERY_KIND
def test_refuses_a_link_to_a_directory(tmp_path, capsys, monkeypatch, inputs, kind):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "kept.txt").write_text("kept")
    out = tmp_path / f"link{kind.suffix}"
    out.symlink_to(folder, target_is_directory=True)
    _guard_computation(monkeypatch, kind)
    status, _, err = _cli(capsys, _argv(kind, inputs, out))
    _assert_refused(status, err, str(out), "exists" if kind.store else "a directory")
    assert out.is_symlink() and out.resolve() == folder
    assert _listing(folder) == ["kept.txt"] and _listing(tmp_path) == ["folder", out.name]


@pytest.mark.slow
@EVERY_KIND
def test_refuses_a_missing_folder(tmp_path, capsys, monkeypatch, inputs, kind):
    out = tmp_path / "missing" / f"out{kind.suffix}"
    _guard_computation(monkeypatch, kind)
    status, _, err = _cli(capsys, _argv(kind, inputs, out))
    _assert_refused(status, err, str(out), "does not exist")
    assert _listing(tmp_path) == []


# --- a link to a regular file is followed -----------------------------------------------


@pytest.mark.slow
@EVERY_KIND
def test_follows_a_link_to_a_regular_file(tmp_path, capsys, inputs, kind):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / f"target{kind.suffix}"
    target.write_bytes(b"old contents")
    target.chmod(0o640)
    link = tmp_path / f"link{kind.suffix}"
    link.symlink_to(target)
    status, printed, err = _cli(capsys, _argv(kind, inputs, link))
    assert link.is_symlink() and os.readlink(link) == str(target)
    if kind.store:  # a store is a new directory: an existing file is not replaced
        _assert_refused(status, err, str(link), "exists")
        assert target.read_bytes() == b"old contents"
    else:
        assert status == 0, err
        assert f"wrote {link}" in printed
        kind.check(link)
        kind.check(target)
        assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file's mode
    assert _listing(elsewhere) == [target.name] and _listing(tmp_path) == ["elsewhere", link.name]


# --- never a file the same command reads -------------------------------------------------


def _input_cases() -> list:
    cases = []
    for kind in KINDS:
        for how in ("itself", "link", "hard-link", "overlay-parent"):
            if how == "overlay-parent" and not kind.reads_config:
                continue
            cases.append(pytest.param(kind, how, id=f"{kind.name}-{how}"))
    return cases


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "how"), _input_cases())
def test_refuses_a_file_the_command_reads(tmp_path, capsys, monkeypatch, inputs, kind, how):
    """The output is the scenario, an overlay's parent, the run or the sensitivity file
    the same command reads: refused, the input unchanged byte for byte."""
    before = _fingerprints(inputs)
    config = inputs.overlay if how == "overlay-parent" else inputs.config
    for read in [inputs.config] if how == "overlay-parent" else kind.reads(inputs):
        out = read
        if how in ("link", "overlay-parent"):
            out = tmp_path / f"{read.stem}-{how}{kind.suffix}"
            out.symlink_to(read)
        elif how == "hard-link":
            out = tmp_path / f"{read.stem}-{how}{kind.suffix}"
            os.link(read, out)
        _guard_computation(monkeypatch, kind)
        listing = _listing(inputs.folder)
        status, _, err = _cli(capsys, _argv(kind, inputs, out, config))
        _assert_refused(status, err, str(out))
        assert _fingerprints(inputs) == before
        assert _listing(inputs.folder) == listing
    _assert_no_temporaries(tmp_path)


# --- a folder that cannot be written ------------------------------------------------------


@pytest.mark.slow
@EVERY_KIND
@pytest.mark.parametrize("how", [read_only_how()])
def test_read_only_folder_fails_first_and_keeps_the_old_file(
    tmp_path, capsys, monkeypatch, inputs, kind, how
):
    """``how`` names the way the folder was made read-only (see the module's docstring)."""
    old = f"old{kind.suffix}"
    with read_only_folder(tmp_path, {old: b"old contents"}) as folder:
        _guard_computation(monkeypatch, kind)
        names = [f"new{kind.suffix}"] + ([] if kind.store else [old])
        for name in names:
            status, _, err = _cli(capsys, _argv(kind, inputs, folder / name))
            reason = {"immutable": "Operation not permitted", "chmod": "Permission denied"}
            _assert_refused(status, err, str(folder / name), reason.get(how, "Read-only"))
            assert _listing(folder) == [old]
            assert (folder / old).read_bytes() == b"old contents"


# --- a full disk ------------------------------------------------------------------------


def _run_child(
    argv: list[str], inject: tuple[str, int] | None = None
) -> subprocess.CompletedProcess:
    if inject is None:
        command = [sys.executable, "-m", "netsim.cli", *argv]
    else:
        code = (
            "import sys; from tests.test_files import inject_enospc; "
            f"inject_enospc({inject[0]!r}, {inject[1]}); "
            "from netsim.cli import console; sys.argv[0] = 'netsim'; sys.exit(console())"
        )
        command = [sys.executable, "-c", code, *argv]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )


@pytest.mark.slow
@EVERY_KIND
@pytest.mark.parametrize("how", [full_disk_how()])
def test_full_disk_fails_in_one_line_and_leaves_nothing(
    tmp_path, capsys, monkeypatch, inputs, kind, how
):
    """``how``: a small tmpfs filled up (``tmpfs``) or ENOSPC injected into the writes.
    The NetCDF writers run in a subprocess: HDF5 crashing on a full disk shows as -11."""
    old = None if kind.store else f"old{kind.suffix}"
    with contextlib.ExitStack() as stack:
        if how == "tmpfs":
            folder = stack.enter_context(small_disk(tmp_path, "256k"))
        else:
            folder = tmp_path / "disk"
            folder.mkdir()
        if old:
            (folder / old).write_bytes(b"old contents")
        out = folder / (old or f"new{kind.suffix}")
        if how == "tmpfs":
            _fill(folder, kind.room)
        before = _listing(folder)
        inject = None if how == "tmpfs" else (str(folder), kind.room)
        if kind.name in IN_SUBPROCESS:
            done = _run_child(_argv(kind, inputs, out), inject)
            assert done.returncode not in (-11, 139), f"crashed: {done.stderr}"
            status, err = done.returncode, done.stderr
        else:
            if inject:
                inject_enospc_here(monkeypatch, *inject)
            status, _, err = _cli(capsys, _argv(kind, inputs, out))
        if kind.store and how == "tmpfs":
            # the planner refuses a store the disk cannot hold before anything is made
            # (netsim.run.planning); a skeleton that does not fit is tested below
            _assert_refused(status, err, str(folder), " free")
        else:
            _assert_refused(status, err, str(out), "No space left on device")
        assert _listing(folder) == before
        if old:
            assert (folder / old).read_bytes() == b"old contents"


def inject_enospc_here(monkeypatch, folder: str, room: int) -> None:
    """:func:`inject_enospc` for this process, undone after the test."""
    import netsim.output_files

    monkeypatch.setattr(os, "pwrite", os.pwrite)
    monkeypatch.setattr(
        netsim.output_files.OutputFile, "commit", netsim.output_files.OutputFile.commit
    )
    inject_enospc(folder, room)


@pytest.mark.slow
def test_reconcile_writes_all_its_files_or_none(tmp_path, capsys, monkeypatch):
    """The chart's disk is full: the CSV and NetCDF written before it are removed again."""
    kept, full = tmp_path / "kept", tmp_path / "full"
    kept.mkdir()
    full.mkdir()
    inject_enospc_here(monkeypatch, str(full), 0)
    argv = ["reconcile", str(NET_CONFIG), "--draws", "300", "--csv", str(kept / "r.csv")]
    argv += ["--out", str(kept / "r.nc"), "--plot", str(full / "r.png")]
    status, _, err = _cli(capsys, argv)
    _assert_refused(status, err, str(full / "r.png"), "No space left on device")
    assert _listing(kept) == [] and _listing(full) == []


@pytest.mark.skipif(full_disk_how() != "tmpfs", reason="needs a tmpfs to fill (root, mount)")
@pytest.mark.parametrize("room", [8192, 32768, 65536])
def test_zarr_skeleton_on_a_full_disk_leaves_no_store(tmp_path, inputs, room):
    """Through the library (the CLI's planner refuses a disk this full first). Zarr's
    own writes, still running when the first one failed, used to make the removed
    temporary folder again a moment later: the listing is taken twice."""
    scenario = netsim.load_scenario(inputs.config)
    with small_disk(tmp_path, "256k") as folder:
        _fill(folder, room)
        out = folder / "run.zarr"
        for _ in range(8):
            with pytest.raises(OutputError, match="No space left on device") as raised:
                create_store(out, scenario, draws=200, seed=0, sampler="mc")
            assert str(raised.value).startswith(f"{out}: ") and "\n" not in str(raised.value)
            assert _listing(folder) == ["filler"]
            time.sleep(0.05)
            assert _listing(folder) == ["filler"]


@pytest.mark.slow
@pytest.mark.skipif(full_disk_how() != "tmpfs", reason="needs a tmpfs to fill (root, mount)")
def test_zarr_store_filling_the_disk_stays_resumable(tmp_path, capsys, inputs):
    """A store whose skeleton fits but whose chunks do not: one line, no temporaries, a
    store that open_run refuses as incomplete, and that resumes once there is room."""
    kind = BY_NAME["zarr"]
    with small_disk(tmp_path, "1m") as folder:
        out = folder / "run.zarr"
        status, _, err = _cli(capsys, _argv(kind, inputs, out))
        _assert_refused(status, err, str(out), "No space left on device", "incomplete")
        assert _listing(folder) == ["run.zarr"]
        with pytest.raises(ValueError, match="incomplete"):
            open_run(out)
        assert _sh("mount", "-o", "remount,size=16m", str(folder))
        status, _, err = _cli(capsys, ["run", "--resume", str(out), "--no-progress"])
        assert status == 0, err
        kind.check(out)
        assert _listing(folder) == ["run.zarr"]


# --- the writer itself ---------------------------------------------------------------


def test_a_signal_the_process_ignores_does_not_undo_the_write(tmp_path):
    def write(temporary):
        temporary.write_text("whole")
        os.kill(os.getpid(), signal.SIGINT)  # arrives while the write is held

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert OutputFile(tmp_path / "out.txt").commit(write) == tmp_path / "out.txt"
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (tmp_path / "out.txt").read_text() == "whole"
    assert _listing(tmp_path) == ["out.txt"]


def test_ctrl_c_during_the_write_removes_the_temporary(tmp_path):
    def write(temporary):
        temporary.write_text("whole")
        signal.raise_signal(signal.SIGINT)  # to this thread, handled at once

    # Ctrl-C's own handler, whatever this process was started with (a shell starts a
    # background job with SIGINT ignored)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), OutputFile(tmp_path / "out.txt") as output:
            output.commit(write)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert _listing(tmp_path) == []


@pytest.mark.parametrize(
    ("number", "stop"), [(signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Terminated)]
)
def test_a_signal_inside_a_compiler_callback_acts_once_the_callback_is_over(number, stop):
    """An exception raised in a callback from numba's compiler cannot unwind through its
    C frames (ignored, and the process may then crash): the console's handler sends the
    signal again and it acts in the caller's own code."""
    from netsim.cli import entry

    # code that runs as the compiler's callback does: from a file of its Python bindings
    callback = compile(
        "handler(number, sys._getframe())",
        os.path.join("site-packages", "llvmlite", "binding", "executionengine.py"),
        "exec",
    )
    reached_after_the_callback = False
    previous = signal.signal(number, entry._stop)
    try:
        with pytest.raises(stop):
            exec(callback, {"handler": entry._stop, "number": number, "sys": sys})
            reached_after_the_callback = True  # the callback itself did not raise
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline:  # the signal sent again acts here
                time.sleep(0.001)
        assert reached_after_the_callback
        with pytest.raises(stop):  # outside a callback it acts at once
            entry._stop(number, sys._getframe())
    finally:
        signal.signal(number, previous)


@pytest.mark.parametrize("hard_links", [True, False], ids=["hard links", "no hard links"])
def test_a_new_only_output_never_replaces_a_file_that_appeared_meanwhile(
    tmp_path, monkeypatch, hard_links
):
    from netsim.errors import OutputExistsError

    if not hard_links:  # a file system without them (FAT, some network shares)

        def no_link(source, target):
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))

        monkeypatch.setattr(os, "link", no_link)

    target = tmp_path / "out.toml"
    with OutputFile(target, new_only=True) as output:
        target.write_text("another writer's")  # after the check, before the commit
        with pytest.raises(OutputExistsError, match="another file of this name appeared"):
            output.write_text("mine")
    assert target.read_text() == "another writer's"
    assert _listing(tmp_path) == ["out.toml"]
    with OutputFile(tmp_path / "free.toml", new_only=True) as output:
        output.write_text("mine")
    assert (tmp_path / "free.toml").read_text() == "mine"


def test_an_output_dropped_without_a_commit_leaves_nothing(tmp_path):
    OutputFile(tmp_path / "out.txt")  # e.g. made, then a later check failed
    OutputFile(tmp_path / "out.zarr", directory=True)
    assert _listing(tmp_path) == []


def test_deferred_writes_read_back_newest_first(tmp_path):
    """After a failed write, later writes are kept in memory and reads see the newest."""
    path = tmp_path / "file"
    path.write_bytes(b"")
    target = DeferredErrorFile(path)
    target.error = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    for offset, data in ((0, b"aaaa"), (2, b"bb"), (0, b"cccc")):
        target.seek(offset)
        target.write(data)
    target.seek(0)
    assert target.read(4) == b"cccc"
    with pytest.raises(OSError, match="No space left"):
        target.finish()


# --- SIGINT and SIGTERM while a large NetCDF run is written --------------------------------


def _default_signals() -> None:  # a child started with SIGINT ignored would not see Ctrl-C
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _wait(process: subprocess.Popen, ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 120
    while not ready():
        if process.poll() is not None:
            pytest.fail(f"the run ended before {what}: {process.communicate()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} in time")
        time.sleep(0.005)


def _temporaries(folder: Path) -> list[Path]:
    return [path for path in folder.iterdir() if path.name.startswith(".")]


def _written(folder: Path) -> int:
    return sum(path.stat().st_size for path in _temporaries(folder) if path.exists())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("number", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
@pytest.mark.parametrize("moment", ["computing", "writing", "written"])
def test_signal_leaves_a_whole_run_or_none(tmp_path, number, status, moment):
    """60,000 draws (a 560 MB file): the signal comes at a random time while the run is
    computed, while its file is written, or after it is renamed into place."""
    out = tmp_path / "big.nc"
    argv = ["run", str(NET_CONFIG), "--draws", "60000", "--no-progress", "--out", str(out)]
    process = subprocess.Popen(
        [sys.executable, "-m", "netsim.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signals,
    )
    delay = random.uniform(0.0, 0.4)
    try:
        _wait(process, lambda: bool(_temporaries(tmp_path)), "its temporary")  # started
        if moment == "writing":
            _wait(process, lambda: _written(tmp_path) > 0, "the write")
        elif moment == "written":
            _wait(process, out.exists, "its file")
            delay = random.uniform(0.0, 0.05)
        time.sleep(delay)
        finished_first = process.poll() is not None
        process.send_signal(number)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    when = f"{signal.Signals(number).name} {delay:.3f} s into {moment}"
    if moment == "written" and finished_first:
        assert process.returncode == 0, when
    elif moment == "written":  # it may have ended between the check and the signal
        assert process.returncode in (status, 0, -number), f"{when}: {err}"
    else:
        assert process.returncode == status, f"{when}: {err}"
    assert "Traceback" not in err, f"{when}: {err}"
    assert len(err.strip().splitlines()) <= 1, f"{when}: {err}"
    left = _listing(tmp_path)
    assert left in ([], [out.name]), f"{when}: left {left}"
    if left:
        run = open_run(out)
        try:
            assert run.attrs["draws"] == 60000
            assert (run["total"].isel(draw=-1).values > 0).all()  # the last draw too
        finally:
            run.close()
        if process.returncode == status:
            assert "nothing written" not in err, f"{when}: {err}"
    else:
        assert moment != "written", f"{when}: the written file was removed"


@pytest.mark.slow
def test_sigterm_leaves_a_zarr_store_that_resumes(tmp_path, capsys):
    out = tmp_path / "run.zarr"
    argv = ["run", str(NET_CONFIG), "--draws", "6000", "--chunk-size", "200", "--no-progress"]
    process = subprocess.Popen(
        [sys.executable, "-m", "netsim.cli", *argv, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signals,
    )
    try:
        _wait(process, lambda: out.exists(), "its store")  # the skeleton is in place
        time.sleep(random.uniform(0.0, 0.2))
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode == 0:
        pytest.skip("the run ended before SIGTERM came")
    assert process.returncode == 143, err
    assert err.strip().splitlines() == [
        f"netsim: terminated; {out} is incomplete: finish it with netsim run --resume {out}"
    ]
    assert _listing(tmp_path) == ["run.zarr"]
    with pytest.raises(ValueError, match="incomplete"):
        open_run(out)
    status, _, err = _cli(capsys, ["run", "--resume", str(out), "--no-progress"])
    assert status == 0, err
    run = open_run(out)
    assert run.attrs["draws"] == 6000
    run.close()
