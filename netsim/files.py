"""The one writer: every file netsim writes (NetCDF, Zarr, CSV, HTML, PNG, SVG) goes
through :class:`OutputFile`.

* The target must be a regular file or absent: a directory, a device, a FIFO or a
  socket (or a symbolic link to one) is refused, and so is a file the same command
  reads (its scenario, its run). A link to a regular file is followed: the file it
  points to is replaced and the link kept.
* The output is written under a temporary name in the target's folder, created when
  the :class:`OutputFile` is made, so a folder that cannot be written is found before
  any long computation; it is then flushed to disk and renamed into place.
* On any error (no space left, a read-only or vanished folder, permissions) the
  temporary is removed and :class:`~netsim.errors.OutputError` says in one line what
  failed. Ctrl-C or SIGTERM during the write are held until the write is over; then
  the temporary is removed and the signal acts: nothing is left but a complete file
  or none.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from netsim.errors import OutputError, ScenarioError

__all__ = ["DeferredErrorFile", "OutputFile", "refuse_unless_writable_target"]

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or os.path.samefile(a, b)
    except OSError:
        return False


def refuse_unless_writable_target(
    path: str | Path, reads: Iterable[str | Path] = (), *, directory: bool = False
) -> Path:
    """Check an output path; return the real path to write (a link's target).

    Raises
    ------
    ScenarioError
        If the target is not a regular file (or, for a ``directory`` output such as a
        Zarr store, if anything is there), its folder does not exist, or it is one of
        the files in ``reads``.
    """
    given = Path(path)
    if not str(path).strip():
        raise ScenarioError("the output path is empty")
    target = Path(os.path.realpath(given))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise OutputError(f"{given}: cannot use as output ({error.strerror})") from None
    if mode is not None:
        if directory:
            raise ScenarioError(f"{given} exists: name a new store")
        for test, kind in _KINDS:
            if test(mode):
                raise ScenarioError(f"{given} is {kind}, not a regular file: name a file")
    for read in reads:
        if _same_file(target, Path(read)):
            raise ScenarioError(f"{given} is also an input of this command: name another file")
    if not target.parent.is_dir():
        raise ScenarioError(f"{given}: folder {given.parent} does not exist")
    return target


class OutputFile:
    """A file (or a Zarr store's directory) being written safely.

    Parameters
    ----------
    path : str or Path
        The output.
    reads : iterable of paths
        Files the same command reads: the output may not be one of them.
    directory : bool
        The output is a directory (a Zarr store): it must not exist yet.

    Use as a context manager: the temporary is created on entry (proving the folder
    writable), :meth:`commit` writes and renames it, and leaving the block without a
    commit (an error, a signal) removes it.
    """

    def __init__(
        self, path: str | Path, reads: Iterable[str | Path] = (), *, directory: bool = False
    ):
        self.path = Path(path)
        self.target = refuse_unless_writable_target(path, reads, directory=directory)
        self.directory = directory
        self.committed = False
        prefix, suffix = f".{self.target.name}.", ".partial"
        try:
            if directory:
                self.temporary = Path(
                    tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=self.target.parent)
                )
            else:
                handle, name = tempfile.mkstemp(
                    prefix=prefix, suffix=suffix, dir=self.target.parent
                )
                os.close(handle)
                self.temporary = Path(name)
        except OSError as error:
            raise OutputError(
                f"{self.path}: cannot write in {self.target.parent} ({error.strerror})"
            ) from None

    def refuse_inputs(self, reads: Iterable[str | Path]) -> None:
        """Raise if the output is one of ``reads`` (files known only after loading, such
        as an overlay's parents); the temporary is removed."""
        for read in reads:
            if _same_file(self.target, Path(read)):
                self.discard()
                raise ScenarioError(
                    f"{self.path} is also an input of this command: name another file"
                )

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def discard(self) -> None:
        """Remove the temporary (nothing happens after a commit)."""
        if self.committed:
            return
        if self.directory:
            shutil.rmtree(self.temporary, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                self.temporary.unlink()

    def commit(self, write: Callable[[Path], Any]) -> Path:
        """``write(temporary)``, then flush and rename it into place.

        Signals are held while ``write`` runs; an error or a held signal removes the
        temporary. Returns the written path.

        Raises
        ------
        OutputError
            If writing fails (no space left, permissions, a vanished folder).
        """
        with _held_signals() as held:
            try:
                write(self.temporary)
                _flush(self.temporary)
            except OSError as error:
                self.discard()
                raise OutputError(f"{self.path}: writing failed ({_reason(error)})") from None
            except BaseException:
                self.discard()
                raise
            if held:
                self.discard()
                return self.path  # the held signal acts as the block ends
            try:
                os.replace(self.temporary, self.target)
            except OSError as error:
                self.discard()
                raise OutputError(f"{self.path}: renaming failed ({_reason(error)})") from None
            self.committed = True
            _flush_folder(self.target.parent)
        return self.path

    def write_text(self, text: str) -> Path:
        """Commit ``text`` (UTF-8)."""
        return self.commit(lambda temporary: temporary.write_text(text, encoding="utf-8"))

    def write_bytes(self, data: bytes) -> Path:
        """Commit ``data``."""
        return self.commit(lambda temporary: temporary.write_bytes(data))


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _flush(path: Path) -> None:
    """fsync a written file, or every file of a written directory."""
    paths = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in paths:
        handle = os.open(file, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _flush_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system can fsync a folder
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


@contextlib.contextmanager
def _held_signals() -> Iterator[list[int]]:
    """Hold SIGINT and SIGTERM for the block (main thread only), then let them act.

    Yields the list of signals received meanwhile. After the block, the previous
    handlers are restored and each held signal is raised again, so Ctrl-C still
    ends in KeyboardInterrupt and SIGTERM in whatever its handler does.
    """
    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    held: list[int] = []
    wanted = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.getsignal(number) for number in wanted}

    def hold(number: int, frame: Any) -> None:
        held.append(number)

    for number in wanted:
        signal.signal(number, hold)
    try:
        yield held
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(held):
            signal.raise_signal(number)


class DeferredErrorFile(io.RawIOBase):
    """A binary file for libraries that cannot survive a failed write (HDF5).

    HDF5 left with a failed write (no space left) crashes the process when it closes
    the file. Here a write that fails is kept in memory instead, and reads see it, so
    the library finishes normally; :attr:`error` then holds the first failure and the
    caller discards the file.
    """

    def __init__(self, path: Path):
        super().__init__()
        self.descriptor = os.open(path, os.O_RDWR | os.O_TRUNC)
        self.position = 0
        self.size = 0
        self.error: OSError | None = None
        self.unwritten: dict[int, bytes] = {}

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def write(self, data: Any) -> int:
        data = bytes(data)
        if self.error is None:
            try:
                done = 0
                while done < len(data):
                    done += os.pwrite(self.descriptor, data[done:], self.position + done)
            except OSError as error:
                self.error = error
        if self.error is not None:
            self.unwritten[self.position] = data
        self.position += len(data)
        self.size = max(self.size, self.position)
        return len(data)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = os.pread(self.descriptor, len(view), self.position)
        view[: len(data)] = data
        count = len(data)
        for offset, kept in self.unwritten.items():  # what could not be written
            start, stop = (
                max(offset, self.position),
                min(offset + len(kept), self.position + len(view)),
            )
            if start < stop:
                view[start - self.position : stop - self.position] = kept[
                    start - offset : stop - offset
                ]
                count = max(count, stop - self.position)
        self.position += count
        return count

    def truncate(self, size: int | None = None) -> int:
        self.size = self.position if size is None else size
        return self.size

    def flush(self) -> None:
        pass

    def finish(self) -> None:
        """Cut the file to its written size, close it, and raise the first failure."""
        try:
            if self.error is None:
                os.ftruncate(self.descriptor, self.size)
        except OSError as error:
            self.error = error
        finally:
            os.close(self.descriptor)
        if self.error is not None:
            raise self.error
