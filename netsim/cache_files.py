"""Files of the on-disk cache: what netsim computed once and can check or rebuild.

Two kinds of entry live under :func:`netsim.defaults.cache_root`: the quantile tables of
PERT beta shapes (``beta_tables/``) and solved calibrations (``calibration/``). Both follow
one rule, kept here: an entry is named by the SHA-256 of its key (which includes the
digest of the code and library versions that computed it), written atomically, and
carries the SHA-256 of its content, so an entry that is torn, edited or left by other
code is never trusted: it reads as missing and is computed anew. A cache that cannot be
read or written is skipped; it only saves time.

This module imports only the standard library (and the libraries whose versions key an
entry, when those are already imported).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from netsim.defaults import cache_root

__all__ = ["DIGEST_BYTES", "code_digest", "entry_path", "read_entry", "store_entry"]

DIGEST_BYTES = 32  # the SHA-256 appended to every entry's content


def library_version(name: str) -> str:
    """The installed version of the library ``name``, without importing it when it is not
    imported yet (its installed metadata is read instead)."""
    module = sys.modules.get(name)
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version(name)
    except PackageNotFoundError:
        return "absent"


def code_digest(sources: Iterable[Path], libraries: Iterable[str]) -> str:
    """SHA-256 (hex) of the source files ``sources`` (names and contents, in the order
    given) and the versions of ``libraries``: an entry is reused only by the code and
    libraries that computed it."""
    digest = hashlib.sha256(" ".join(library_version(name) for name in libraries).encode())
    for source in sources:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def entry_path(folder: str, key: object, suffix: str) -> Path | None:
    """The cache file of ``key`` (any JSON-serialisable value) in the cache's ``folder``,
    or None when there is no cache."""
    root = cache_root()
    if root is None:
        return None
    name = hashlib.sha256(json.dumps(key).encode()).hexdigest()
    return root / folder / f"{name}{suffix}"


def read_entry(path: Path | None) -> bytes | None:
    """The content of a stored entry, or None (no cache, no entry, or one whose SHA-256
    does not match its content)."""
    if path is None:
        return None
    try:
        stored = path.read_bytes()
    except OSError:
        return None
    body, digest = stored[:-DIGEST_BYTES], stored[-DIGEST_BYTES:]
    if len(stored) < DIGEST_BYTES or hashlib.sha256(body).digest() != digest:
        return None
    return body


def store_entry(path: Path | None, body: bytes) -> None:
    """Keep ``body`` with its SHA-256 at ``path``, atomically (a temporary renamed into
    place, so a reader never sees half an entry); skipped when there is no cache or it
    cannot be written."""
    if path is None:
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(body + hashlib.sha256(body).digest())
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
