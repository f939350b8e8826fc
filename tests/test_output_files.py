"""The one writer's temporaries: a killed writer's are removed by the next output made in
the same folder, a live writer's never (netsim.output_files)."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from netsim.output_files import OutputFile, remove_stale_temporaries

# holds an output open (its temporary made, nothing committed) until it is killed
WRITER = """
import sys, time
from netsim.output_files import OutputFile
output = OutputFile(sys.argv[1], directory=sys.argv[2] == "store")
print(output.temporary, flush=True)
time.sleep(120)
"""


def _finished_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind", [pytest.param("file", id="netcdf-file"), pytest.param("store", id="zarr-folder")]
)
def test_a_killed_writer_s_temporary_goes_with_the_next_output_a_live_one_stays(tmp_path, kind):
    suffix = ".zarr" if kind == "store" else ".nc"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path / f"run{suffix}"), kind],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        temporary = Path(writer.stdout.readline().strip())
        assert temporary.exists() and temporary.name.endswith(".partial")
        OutputFile(tmp_path / "other.nc").discard()  # the writer is alive: left alone
        assert temporary.exists()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    assert temporary.exists()  # kill -9 leaves it behind
    OutputFile(tmp_path / "other.nc").discard()
    assert not temporary.exists()
    assert sorted(tmp_path.iterdir()) == []


def test_a_temporary_whose_lock_is_held_is_kept_though_its_pid_is_gone(tmp_path):
    """A writer on a machine that shares the folder (or whose id was read wrongly) is
    known by its lock."""
    temporary = tmp_path / f".run.nc.{_finished_pid()}.0123abcd.partial"
    temporary.write_bytes(b"being written")
    handle = os.open(temporary, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        assert remove_stale_temporaries(tmp_path) == []
        assert temporary.exists()
    finally:
        os.close(handle)
    assert remove_stale_temporaries(tmp_path) == [temporary]
    assert not temporary.exists()


def test_a_temporary_of_a_running_process_is_kept_though_unlocked(tmp_path):
    """Its id taken by a live process (this one): left for a later run."""
    temporary = tmp_path / f".run.nc.{os.getpid()}.0123abcd.partial"
    temporary.write_bytes(b"")
    assert remove_stale_temporaries(tmp_path) == []
    assert temporary.exists()


def test_only_netsim_temporaries_are_touched(tmp_path):
    dead = _finished_pid()
    others = [
        tmp_path / f".run.nc.{dead}.partial",  # the calibration cache's: no token
        tmp_path / f"run.nc.{dead}.0123abcd.partial",  # not hidden
        tmp_path / f".run.nc.{dead}.0123abcd.part",
        tmp_path / "run.nc",
    ]
    for path in others:
        path.write_bytes(b"")
    stale = tmp_path / f".run.nc.{dead}.89abcdef.partial"
    stale.mkdir()
    (stale / "chunk").write_bytes(b"")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert all(path.exists() for path in others)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(os.mkfifo, id="fifo"),
        pytest.param(lambda path: path.symlink_to(path.parent / "kept"), id="link-to-a-folder"),
        pytest.param(lambda path: path.symlink_to(path.parent / "kept.txt"), id="link-to-a-file"),
    ],
)
def test_a_temporary_name_on_what_netsim_never_writes_is_left_alone(tmp_path, make):
    """A FIFO under a temporary's name once made every later output in its folder wait
    forever (opening it for reading waits for a writer); a link is not netsim's either,
    and what it points to is never touched."""
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "data").write_text("kept")
    (tmp_path / "kept.txt").write_text("kept")
    odd = tmp_path / f".run.nc.{_finished_pid()}.0123abcd.partial"
    make(odd)
    removed: list = []
    # a daemon thread: one waiting on the FIFO for ever must not hold the tests' exit
    worker = threading.Thread(target=lambda: removed.append(remove_stale_temporaries(tmp_path)))
    worker.daemon = True
    worker.start()
    worker.join(timeout=20)
    assert removed == [[]], "still waiting after 20 s"
    assert os.path.lexists(odd)
    assert (tmp_path / "kept" / "data").read_text() == "kept"
    assert (tmp_path / "kept.txt").read_text() == "kept"


def test_an_output_s_temporary_carries_its_pid_and_is_locked(tmp_path):
    with OutputFile(tmp_path / "run.nc") as output:
        assert f".{os.getpid()}." in output.temporary.name
        handle = os.open(output.temporary, os.O_RDONLY)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(handle)
        output.write_text("done")
    assert (tmp_path / "run.nc").read_text() == "done"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nc"]
