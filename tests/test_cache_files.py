"""The on-disk cache's entries (netsim/cache_files.py): named by their key, written whole,
read back only when their SHA-256 matches their content."""

from __future__ import annotations

import subprocess
import sys

import pytest

from netsim.cache_files import code_digest, entry_path, read_entry, store_entry


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSIM_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_an_entry_is_read_back_as_stored(cache):
    path = entry_path("things", ["a key", 1.5], ".bin")
    assert path is not None and path.parent == cache / "things"
    assert read_entry(path) is None  # not stored yet
    store_entry(path, b"some bytes")
    assert read_entry(path) == b"some bytes"
    assert list(path.parent.iterdir()) == [path]  # no temporary left behind


def test_keys_name_their_own_entries(cache):
    assert entry_path("things", [1], ".bin") != entry_path("things", [2], ".bin")
    assert entry_path("things", [1], ".bin") == entry_path("things", [1], ".bin")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda stored: stored[:-1], id="cut-short"),
        pytest.param(lambda stored: b"X" + stored[1:], id="one-byte-changed"),
        pytest.param(lambda stored: b"", id="empty"),
        pytest.param(lambda stored: stored[:5], id="shorter-than-a-digest"),
    ],
)
def test_a_damaged_entry_reads_as_missing(cache, damage):
    path = entry_path("things", "key", ".bin")
    store_entry(path, b"content worth keeping")
    path.write_bytes(damage(path.read_bytes()))
    assert read_entry(path) is None


def test_no_cache_means_no_entry(monkeypatch):
    monkeypatch.setenv("NETSIM_CACHE_DIR", "")
    assert entry_path("things", "key", ".bin") is None
    store_entry(None, b"nothing")  # skipped, no error
    assert read_entry(None) is None


def test_an_unwritable_cache_is_skipped(cache):
    (cache / "things").write_text("a file where the folder should be")
    path = entry_path("things", "key", ".bin")
    store_entry(path, b"content")  # skipped, no error
    assert read_entry(path) is None


def test_the_code_digest_follows_sources_and_versions(tmp_path):
    source = tmp_path / "module.py"
    source.write_text("x = 1\n")
    first = code_digest([source], ["numpy"])
    assert code_digest([source], ["numpy"]) == first
    assert code_digest([source], ["numpy", "scipy"]) != first
    source.write_text("x = 2\n")
    assert code_digest([source], ["numpy"]) != first


@pytest.mark.slow
def test_a_version_is_read_without_importing_the_library():
    script = (
        "import sys; from netsim.cache_files import library_version; "
        "v = library_version('scipy'); assert v and v != 'absent', v; "
        "assert 'scipy' not in sys.modules; "
        "import scipy; assert v == scipy.__version__, (v, scipy.__version__)"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
