"""The one writer: every file netsim writes (NetCDF, Zarr, CSV, HTML, PNG, SVG) goes
through :class:`OutputFile`.

* The target must be a regular file or absent: a directory, a device, a FIFO or a
  socket (or a symbolic link to one) is refused, and so is a file the same command
  reads (its scenario, its run). A link to a regular file is followed: the file it
  points to is replaced (keeping its permissions) and the link kept.
* The output is written under a temporary name in the target's folder, created when
  the :class:`OutputFile` is made, so a folder that cannot be written is found before
  any long computation; it is then flushed to disk and renamed into place. A new file
  gets the usual permissions (0o666 less the umask), not a temporary file's 0o600.
* On any error (no space left, a read-only or vanished folder, permissions) the
  temporary is removed and :class:`~netsim.errors.OutputError` says in one line what
  failed. Ctrl-C or SIGTERM during the write are held until the write is over; then
  the temporary is removed and the signal acts: nothing is left but a complete file
  or none. A temporary that is never committed is removed when its
  :class:`OutputFile` is dropped, and at the latest when the interpreter exits.
* A temporary carries its writer's process id and is locked while it is written; the
  next output made in the same folder removes those whose writer was killed
  (:func:`remove_stale_temporaries`), never a live writer's.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import io
import itertools
import os
import re
import secrets
import shutil
import signal
import stat
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from netsim.errors import OutputError, OutputExistsError, ScenarioError

__all__ = [
    "DeferredErrorFile",
    "OutputFile",
    "commits",
    "committed",
    "refuse_unless_writable_target",
    "remove_stale_temporaries",
]

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)
# the latest outputs this process has put in place, numbered in order
_COMMITTED: collections.deque[tuple[int, Path]] = collections.deque(maxlen=100)
_COUNT = itertools.count()


def commits() -> int:
    """How many outputs this process has put in place so far."""
    return _COMMITTED[-1][0] + 1 if _COMMITTED else 0


def committed(since: int = 0) -> tuple[Path, ...]:
    """The outputs put in place since the ``since``-th (of :func:`commits`), in order
    (at most the last hundred)."""
    return tuple(path for number, path in _COMMITTED if number >= since)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or os.path.samefile(a, b)
    except OSError:
        return False


def _kind(mode: int) -> str | None:
    return next((kind for test, kind in _KINDS if test(mode)), None)


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
        raise OutputError(f"{given}: cannot use as output ({_reason(error)})") from None
    if mode is not None:
        kind = _kind(mode)
        if directory:
            raise ScenarioError(f"{given} exists{f' ({kind})' if kind else ''}: name a new store")
        if kind:
            raise ScenarioError(f"{given} is {kind}, not a regular file: name a file")
    for read in reads:
        if _same_file(target, Path(read)):
            raise ScenarioError(f"{given} is also an input of this command: name another file")
        if Path(read).is_dir() and Path(os.path.realpath(read)) in target.parents:
            raise ScenarioError(f"{given} is inside {read}, an input of this command")
    if not target.parent.is_dir():
        what = "is not a folder" if target.parent.exists() else "does not exist"
        raise ScenarioError(f"{given}: folder {target.parent} {what}")
    return target


# a temporary's name: .<target>.<writer's pid>.<8 hex>.partial
_TEMPORARY = re.compile(r"^\..+\.(?P<pid>[0-9]+)\.[0-9a-f]{8}\.partial$")


def _new_temporary(target: Path, directory: bool) -> tuple[Path, int]:
    """An empty file (or directory) beside ``target`` under a hidden temporary name that
    carries this process's id, created with the usual permissions (the umask applies),
    and a descriptor of it holding an exclusive lock (``flock``) for as long as it is
    being written: the mark by which a later run tells a live writer's temporary from
    the leftover of a killed one (:func:`remove_stale_temporaries`)."""
    stem = target.name[:180]  # room for the rest of the name within NAME_MAX
    for _ in range(100):
        temporary = target.parent / f".{stem}.{os.getpid()}.{secrets.token_hex(4)}.partial"
        try:
            if directory:
                os.mkdir(temporary, 0o777)
                handle = os.open(temporary, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            else:
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
                handle = os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        _lock(handle)
        return temporary, handle
    raise FileExistsError(f"no free temporary name beside {target}")


def _lock(handle: int, wait: bool = True) -> bool:
    """Take an exclusive ``flock`` on ``handle`` (held until it is closed, also across
    the process's other descriptors of the file); without ``wait``, False if another
    holds it. True where the system has no ``flock``."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return True
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks: the writer's pid still guards it
        return True
    return True


def _running(pid: int) -> bool:
    """Whether a process of this id exists (it may be another that took the id)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporaries netsim writers left in ``folder`` when they were killed
    (``kill -9``, a lost machine): each one whose writing process is gone, and whose lock
    no process holds. A live writer's temporary is never removed: its process exists,
    or its lock is held (a writer holds it from the moment its temporary exists). A
    temporary whose process id another process has taken meanwhile is left for a later
    run. Returns the paths removed."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        found = _TEMPORARY.match(entry.name)
        if found is None or _running(int(found["pid"])):
            continue
        try:  # netsim writes regular files and folders: a link, FIFO or device is not its
            if not (entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False)):
                continue
        except OSError:
            continue
        path = Path(entry.path)
        # never follow a link put there since, nor wait on a FIFO (opening one for reading
        # waits for a writer: every later output in the folder would hang)
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
        try:
            handle = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            if _lock(handle, wait=False):
                _remove(path, path.is_dir())
                removed.append(path)
        finally:
            os.close(handle)
    return removed


def _remove(temporary: Path, directory: bool, handle: int | None = None) -> None:
    """Remove a temporary, then release its lock (close its descriptor)."""
    try:
        if directory:
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
    finally:
        if handle is not None:
            with contextlib.suppress(OSError):
                os.close(handle)


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
    new_only : bool
        Never replace a file: the commit links the temporary to its name, which fails
        with :class:`~netsim.errors.OutputExistsError` if another process made a file
        of that name meanwhile (a check before the write is not enough: two writers
        can both find a name free).

    Use as a context manager: the temporary is created on entry (proving the folder
    writable), :meth:`commit` writes and renames it, and leaving the block without a
    commit (an error, a signal) removes it.
    """

    def __init__(
        self,
        path: str | Path,
        reads: Iterable[str | Path] = (),
        *,
        directory: bool = False,
        new_only: bool = False,
    ):
        self.path = Path(path)
        self.target = refuse_unless_writable_target(path, reads, directory=directory)
        self.directory = directory
        self.new_only = new_only and not directory
        self.committed = False
        # a signal may not come between making the temporary and owning it
        remove_stale_temporaries(self.target.parent)  # what killed writers left here
        with _held_signals() as held:
            try:
                self.temporary, self._handle = _new_temporary(self.target, directory)
            except OSError as error:
                raise OutputError(
                    f"{self.path}: cannot write in {self.target.parent} ({_reason(error)})"
                ) from None
            self._remove = weakref.finalize(self, _remove, self.temporary, directory, self._handle)
            if held:
                self.discard()

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
        if not self.committed:
            self._remove()

    def commit(self, write: Callable[[Path], Any]) -> Path:
        """``write(temporary)``, then flush and rename it into place.

        Signals are held while ``write`` runs; an error or a held signal removes the
        temporary. Returns the written path.

        Raises
        ------
        OutputError
            If writing fails (no space left, permissions, a vanished folder).
        """
        if self.committed:
            raise OutputError(f"{self.path}: already written")
        try:
            with _held_signals():  # a held signal acts as the block ends
                write(self.temporary)
                _flush(self.temporary)
            _keep_mode(self.temporary, self.target)
            with _held_signals():  # renamed and noted as one step
                if self.new_only:
                    _link_new(self.temporary, self.target, self.path)
                else:
                    os.replace(self.temporary, self.target)
                self.committed = True
                self._remove.detach()
                with contextlib.suppress(OSError):
                    os.close(self._handle)  # the lock: the file is in place
                _COMMITTED.append((next(_COUNT), self.path))
        except OSError as error:
            self.discard()
            raise OutputError(f"{self.path}: writing failed ({_reason(error)})") from None
        except BaseException:
            self.discard()
            raise
        _flush_folder(self.target.parent)
        return self.path

    def write_text(self, text: str) -> Path:
        """Commit ``text`` (UTF-8)."""
        return self.commit(lambda temporary: temporary.write_text(text, encoding="utf-8"))

    def write_bytes(self, data: bytes) -> Path:
        """Commit ``data``."""
        return self.commit(lambda temporary: temporary.write_bytes(data))


def _link_new(temporary: Path, target: Path, given: Path) -> None:
    """Give ``temporary`` the name ``target`` unless a file has that name.

    A hard link fails if the name is taken, atomically. On a file system without hard
    links the name is claimed by creating it exclusively, and the temporary then
    replaces that empty claim.
    """
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise OutputExistsError(f"{given}: another file of this name appeared") from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            raise OutputExistsError(f"{given}: another file of this name appeared") from None
        os.replace(temporary, target)
        return
    os.unlink(temporary)


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _keep_mode(temporary: Path, target: Path) -> None:
    """Give the temporary the permissions (and, where allowed, the owner) of the file it
    replaces."""
    try:
        old = os.stat(target)
    except FileNotFoundError:
        return
    os.chmod(temporary, stat.S_IMODE(old.st_mode))
    new = os.stat(temporary)
    if (new.st_uid, new.st_gid) != (old.st_uid, old.st_gid):
        with contextlib.suppress(OSError):  # only root may give a file away
            os.chown(temporary, old.st_uid, old.st_gid)


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
    ends in KeyboardInterrupt and SIGTERM in whatever its handler does. A signal the
    process ignores stays ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    held: list[int] = []
    previous = {
        number: handler
        for number in (signal.SIGINT, signal.SIGTERM)
        if (handler := signal.getsignal(number)) is not signal.SIG_IGN
    }

    def hold(number: int, frame: Any) -> None:
        held.append(number)

    for number in previous:
        signal.signal(number, hold)
    try:
        yield held
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        for number in dict.fromkeys(held):
            # a Python handler is called here and now (Ctrl-C's raises KeyboardInterrupt
            # at this line): raised as a signal, it would run at the next bytecode, which
            # may be a __del__ the collector runs just then, which swallows the exception
            handler = previous[number]
            if callable(handler):
                handler(number, None)
            else:
                signal.raise_signal(number)  # the default action


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
        if self.error is not None:  # kept, the newest last (reads apply them in order)
            self.unwritten.pop(self.position, None)
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
