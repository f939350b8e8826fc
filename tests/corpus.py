"""A corpus of bad input, generated from the NET scenario and from real run files.

Configs: numbers of the NET scenario replaced by NaN, -5, 0, 1e308 and a string; keys
dropped and misspelt; tables duplicated; the file cut short; binary garbage; a folder;
a run file given as a config. Runs: empty, truncated, text, foreign NetCDF, edited
attributes, damaged Zarr stores. Deterministic: the same corpus on every machine.
"""

from __future__ import annotations

import copy
import json
import shutil
import tomllib
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .conftest import NET_CONFIG
from .helpers import write_toml

REPLACEMENTS = (float("nan"), -5, 0, 1e308, "a string")
NUMBER_STRIDE = 5  # every fifth number of the scenario (48 of 240), each replaced five ways


def _numbers(table: Any, path: tuple) -> Iterator[tuple]:
    if isinstance(table, dict):
        for key, value in table.items():
            yield from _numbers(value, (*path, key))
    elif isinstance(table, list):
        for index, value in enumerate(table):
            yield from _numbers(value, (*path, index))
    elif isinstance(table, int | float) and not isinstance(table, bool):
        yield path


def _changed(document: dict, path: tuple, change: Any) -> dict:
    """A copy of ``document`` with ``change(table, last key)`` applied where ``path`` ends."""
    changed = copy.deepcopy(document)
    node = changed
    for part in path[:-1]:
        node = node[part]
    change(node, path[-1])
    return changed


def _set(document: dict, path: tuple, value: Any) -> dict:
    return _changed(document, path, lambda node, key: node.__setitem__(key, value))


def _drop(document: dict, path: tuple) -> dict:
    return _changed(document, path, lambda node, key: node.pop(key))


def _rename(document: dict, path: tuple, new: str) -> dict:
    return _changed(document, path, lambda node, key: node.__setitem__(new, node.pop(key)))


RUN_FILE = object()  # in a config's place: the bytes of a run file
FOLDER = object()  # in a config's place: a folder named like a config


def config_contents() -> list[tuple[str, Any]]:
    """The config corpus as (label, content) pairs: a document (dict), a text, bytes, or
    ``RUN_FILE`` or ``FOLDER``. The labels are unique; they name the test cases."""
    text = NET_CONFIG.read_text()
    document = tomllib.loads(text)
    contents: list[tuple[str, Any]] = []
    numbers = list(_numbers(document, ()))
    for path in numbers[::NUMBER_STRIDE]:
        for value in REPLACEMENTS:
            contents.append(
                (f"{'.'.join(map(str, path))} = {value!r}", _set(document, path, value))
            )
    tables = [(k,) for k in document] + [
        (k, next(iter(v))) for k, v in document.items() if isinstance(v, dict) and v
    ]
    for path in tables:
        contents.append((f"drop {'.'.join(map(str, path))}", _drop(document, path)))
        misspelt = _rename(document, path, f"{path[-1]}x")
        contents.append((f"misspell {'.'.join(map(str, path))}", misspelt))
    for header in ("[years]", "[noise]", "[market.base_size]"):
        block_start = text.index(header)
        block_end = text.index("\n\n", block_start)
        contents.append((f"duplicate {header}", text + "\n" + text[block_start:block_end] + "\n"))
    for fraction in (0.1, 0.33, 0.5, 0.77, 0.99):
        contents.append((f"truncated at {fraction:.0%}", text[: int(len(text) * fraction)]))
    contents.append(("binary garbage", bytes(range(256)) * 8))
    contents.append(("empty", ""))
    contents.append(("a run file as config", RUN_FILE))
    contents.append(("json", json.dumps(document)))
    contents.append(("overlay cycle", '[overlay]\nextends = "config_999.toml"\n'))
    contents.append(("a folder", FOLDER))
    return contents


def bad_configs(folder: Path, run_file: Path) -> list[tuple[str, Path]]:
    """Write the config corpus into ``folder``; returns (label, path) pairs."""
    cases: list[tuple[str, Path]] = []
    for index, (label, content) in enumerate(config_contents()):
        path = folder / f"config_{index:03d}.toml"
        if content is FOLDER:
            path = folder / "a folder.toml"
            path.mkdir()
        elif content is RUN_FILE:
            path.write_bytes(run_file.read_bytes())
        elif isinstance(content, dict):
            write_toml(content, path)
        elif isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)
        if label == "overlay cycle":  # config_999 extends this one, which extends it
            (folder / "config_999.toml").write_text(f'[overlay]\nextends = "{path.name}"\n')
        cases.append((label, path))
    return cases


def _copy_of(kind: str) -> Callable[[Path, dict], None]:
    return lambda target, runs: shutil.copy(runs[kind], target)


def _attribute_edited(attribute: str, value: Any) -> Callable[[Path, dict], None]:
    def make(target: Path, runs: dict) -> None:
        import h5py

        shutil.copy(runs["nc"], target)
        with h5py.File(target, "r+") as handle:
            if value is None:
                del handle.attrs[attribute]
            else:
                handle.attrs[attribute] = value

    return make


def _data_byte_flipped(name: str) -> Callable[[Path, dict], None]:
    def make(target: Path, runs: dict) -> None:
        shutil.copy(runs["nc"], target)
        flip_a_data_byte(target, name)

    return make


def _truncated_run(fraction: float) -> Callable[[Path, dict], None]:
    def make(target: Path, runs: dict) -> None:
        data = runs["nc"].read_bytes()
        target.write_bytes(data[: int(len(data) * fraction)])

    return make


def _foreign_netcdf(target: Path, runs: dict) -> None:
    import xarray as xr

    xr.Dataset({"x": ("t", [1.0, 2.0])}).to_netcdf(target, engine="h5netcdf")


def _reduced_band_flipped(target: Path, runs: dict) -> None:
    import h5py

    shutil.copy(runs["bands"], target)
    with h5py.File(runs["bands"], "r") as handle:
        banded = next(name for name, array in handle.items() if array.dtype.kind == "f")
    flip_a_data_byte(target, banded)


def _a_total_with_nan(target: Path, runs: dict) -> None:
    import h5py

    shutil.copy(runs["nc"], target)
    with h5py.File(target, "r+") as handle:
        handle["total"][0, 0, 0] = float("nan")


def _reduced_confidence_edited(target: Path, runs: dict) -> None:
    import h5py

    shutil.copy(runs["bands"], target)
    with h5py.File(target, "r+") as handle:
        handle.attrs["confidence"] = 2.0


def _store_damaged(damage: Callable[[Path], None]) -> Callable[[Path, dict], None]:
    def make(target: Path, runs: dict) -> None:
        shutil.copytree(runs["zarr"], target)
        damage(target)

    return make


def _run_damages() -> list[tuple[str, str, Callable[[Path, dict], None]]]:
    """The run-file corpus as (label, suffix, make) rows; ``make(target, runs)`` writes the
    case at ``target`` from ``runs`` (the ``nc``, ``zarr`` and ``bands`` files of
    tests/helpers.py's three_runs)."""
    rows: list[tuple[str, str, Callable[[Path, dict], None]]] = [
        ("empty", ".nc", lambda target, runs: target.write_bytes(b"")),
        ("text", ".nc", lambda target, runs: target.write_text("draw,total\n1,2\n")),
        *[(f"truncated at {f:.0%}", ".nc", _truncated_run(f)) for f in (0.05, 0.5, 0.95)],
        ("foreign NetCDF", ".nc", _foreign_netcdf),
    ]
    for attribute, value in (
        ("netsim_version", None),
        ("scenario_document", "{not json"),
        ("calibration", "[]"),
        ("scenario_hash", "0" * 64),
        ("draws", 7),
        ("reduce", "bands"),
    ):
        rows.append((f"edited attribute {attribute}", ".nc", _attribute_edited(attribute, value)))
    for name in ("total", "inputs", "draw"):  # a byte changed on disk, inside the data
        rows.append((f"a byte of {name} flipped", ".nc", _data_byte_flipped(name)))
    rows += [
        ("reduced: a byte of its bands flipped", ".nc", _reduced_band_flipped),
        ("a total with NaN", ".nc", _a_total_with_nan),
        ("reduced: confidence attribute edited", ".nc", _reduced_confidence_edited),
    ]
    for label, damage in (
        ("store: a chunk file deleted", _delete_a_chunk),
        ("store: chunk flags say undone", _unflag_a_chunk),
        ("store: attrs garbage", _garbage_attrs),
        ("store: draws edited", _edit_draws),
        ("store: seed edited", _edit_seed),
        ("store: a total chunk rewritten as zeros", _zero_a_chunk),
        ("store: a total chunk replaced by another", _copy_a_chunk),
        ("store: an inputs chunk rewritten", _rewrite_inputs),
        ("store: a draw chunk rewritten", _rewrite_draws),
        ("store: its checksums deleted, a chunk zeroed", _drop_checksums),
        *METADATA_DAMAGES.items(),
        *FILE_DAMAGES.items(),
        *HARMLESS_DAMAGES.items(),
    ):
        rows.append((label, ".zarr", _store_damaged(damage)))
    rows.append(("store: an empty folder", ".zarr", lambda target, runs: target.mkdir()))
    rows.append(
        (
            "store: a file named .zarr",
            ".zarr",
            lambda target, runs: target.write_bytes(
                (runs["zarr"] / "total" / "zarr.json").read_bytes()
            ),
        )
    )
    return rows


def run_labels() -> list[str]:
    """The labels of the run-file corpus, in order; they name the test cases."""
    return [label for label, _, _ in _run_damages()]


def bad_runs(folder: Path, run_file: Path, store: Path, reduced: Path) -> list[tuple[str, Path]]:
    """Write the run-file corpus into ``folder``: (label, path) pairs. Each must be
    refused (exit 2) or, if accepted, answer without NaN or silent zeros."""
    runs = {"nc": run_file, "zarr": store, "bands": reduced}
    cases: list[tuple[str, Path]] = []
    for index, (label, suffix, make) in enumerate(_run_damages()):
        target = folder / f"run_{index:03d}{suffix}"
        make(target, runs)
        cases.append((label, target))
    return cases


def flip_a_data_byte(path: Path, name: str) -> None:
    """Flip one bit of a byte in the middle of the first stored chunk of ``name``: what a
    disk or a transfer does, which no HDF5 call would (it would rewrite the checksum)."""
    import h5py

    with h5py.File(path, "r") as handle:
        chunk = handle[name].id.get_chunk_info(0)
    offset = chunk.byte_offset + chunk.size // 2
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([byte ^ 0x10]))


def _write(file: str, content: str) -> Callable[[Path], None]:
    return lambda store: (store / file).write_text(content)


def _truncate(file: str) -> Callable[[Path], None]:
    def damage(store: Path) -> None:
        text = (store / file).read_text()
        (store / file).write_text(text[: len(text) // 2])

    return damage


def _edit(file: str, keys: tuple[str, ...], change: Callable[[Any], Any]) -> Callable[[Path], None]:
    """Change the value at ``keys`` of the JSON document ``file`` of a store by hand."""

    def damage(store: Path) -> None:
        content = json.loads((store / file).read_text())
        node = content
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = change(node.get(keys[-1]))
        (store / file).write_text(json.dumps(content, indent=2))

    return damage


def _group(store: Path) -> Any:
    import zarr

    return zarr.open_group(store, mode="r+", zarr_format=3)


def _consolidate(store: Path) -> None:
    """Zarr's consolidated metadata (which it warns are not yet in the format's
    specification) in the root zarr.json."""
    import zarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", zarr.errors.ZarrUserWarning)
        zarr.consolidate_metadata(str(store), zarr_format=3)


def _consolidated_then_edited(store: Path) -> None:
    """Consolidated metadata that no longer agree with the files (a stale consolidation)."""
    _consolidate(store)
    _edit("total/zarr.json", ("attributes", "units"), lambda _: "EUR billion")(store)


def _edit_a_source(store: Path) -> None:
    """A parameter's source rewritten through Zarr: a valid chunk of other text."""
    group = _group(store)
    sources = group["parameter_source"][:]
    sources[0] = "report: a source that was never there"
    group["parameter_source"][:] = sources


def _chunks(store: Path, array: str = "total") -> list[Path]:
    return sorted(p for p in (store / array).iterdir() if p.name != "zarr.json")


def chunk_as_folder(store: Path) -> None:
    chunk = _chunks(store)[0]
    chunk.unlink()
    chunk.mkdir()


def chunk_as_link_loop(store: Path) -> None:
    chunk = _chunks(store)[0]
    chunk.unlink()
    chunk.symlink_to(chunk.name)


def _chunk_unreadable(store: Path) -> None:
    _chunks(store)[0].chmod(0)


def _flip_a_chunk_byte(store: Path) -> None:
    """A bit of a byte in the middle of a compressed chunk flipped (a disk, a transfer)."""
    chunk = _chunks(store)[1]
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0x10
    chunk.write_bytes(bytes(data))


def _truncate_a_chunk(store: Path) -> None:
    chunk = _chunks(store)[1]
    chunk.write_bytes(chunk.read_bytes()[:100])


def _flags_not_flags(store: Path) -> None:
    _group(store)["netsim_chunks/done"][0] = 7


def _extra_array(store: Path) -> None:
    shutil.copytree(store / "total", store / "total_copy")


ROOT, TOTAL, INPUTS = "zarr.json", "total/zarr.json", "inputs/zarr.json"
# damaged or edited metadata (each node's zarr.json, consolidated or not) of a Zarr store
METADATA_DAMAGES: dict[str, Callable[[Path], None]] = {
    "store: zarr.json truncated": _truncate(ROOT),
    "store: zarr.json a JSON list": _write(ROOT, "[1, 2]"),
    "store: zarr.json missing": lambda store: (store / ROOT).unlink(),
    "store: zarr.json a JSON number": _write(ROOT, "3"),
    "store: total/zarr.json truncated": _truncate(TOTAL),
    "store: total/zarr.json a JSON list": _write(TOTAL, "[]"),
    "store: total's attributes a JSON string": _edit(TOTAL, ("attributes",), lambda _: "x"),
    "store: consolidated metadata stale": _consolidated_then_edited,
    "store: dims reordered": _edit(TOTAL, ("dimension_names",), lambda d: [d[0], *d[:0:-1]]),
    "store: dims renamed": _edit(TOTAL, ("dimension_names",), lambda d: [*d[:-1], "nation"]),
    "store: inputs dims reordered": _edit(INPUTS, ("dimension_names",), lambda d: d[::-1]),
    "store: dtype edited": _edit(TOTAL, ("data_type",), lambda _: "int32"),
    "store: dtype edited, same size": _edit(INPUTS, ("data_type",), lambda _: "int64"),
    "store: shape edited": _edit(TOTAL, ("shape",), lambda s: [s[0] - 200, *s[1:]]),
    "store: chunks edited": _edit(
        TOTAL, ("chunk_grid", "configuration", "chunk_shape"), lambda c: [c[0] // 2, *c[1:]]
    ),
    "store: checksum codec removed": _edit(TOTAL, ("codecs",), lambda codecs: codecs[:-1]),
    "store: units of total edited": _edit(TOTAL, ("attributes", "units"), lambda _: "EUR billion"),
    "store: units of the run edited": _edit(ROOT, ("attributes", "units"), lambda _: "EUR"),
    "store: scenario name edited": _edit(ROOT, ("attributes", "scenario"), lambda _: "another"),
    "store: a parameter source edited": _edit_a_source,
    "store: its metadata digests deleted": _edit(
        ROOT, ("attributes", "metadata_digests"), lambda _: None
    ),
    "store: an extra array": _extra_array,
}
# chunk files that are not files, cannot be read, or fail the format's checksum
FILE_DAMAGES: dict[str, Callable[[Path], None]] = {
    "store: a chunk file replaced by a folder": chunk_as_folder,
    "store: a chunk file a symbolic link loop": chunk_as_link_loop,
    "store: a chunk file unreadable (permissions 000)": _chunk_unreadable,
    "store: a byte of a total chunk flipped": _flip_a_chunk_byte,
    "store: a total chunk cut short": _truncate_a_chunk,
    "store: chunk flags neither 0 nor 1": _flags_not_flags,
}
# accepted, and read as written: netsim never reads consolidated metadata in place of
# the arrays' own
HARMLESS_DAMAGES: dict[str, Callable[[Path], None]] = {
    "store: consolidated": _consolidate,
    "store: consolidated metadata garbage": _edit(
        ROOT, ("consolidated_metadata",), lambda _: "garbage"
    ),
}


def _delete_a_chunk(store: Path) -> None:
    _chunks(store)[0].unlink()


def _zero_a_chunk(store: Path) -> None:
    """A valid compressed chunk, of the wrong numbers: only its checksum tells."""
    group = _group(store)
    size = group.attrs["chunk_size"]
    group["total"][size : 2 * size] = 0.0


def _copy_a_chunk(store: Path) -> None:
    chunks = _chunks(store)
    shutil.copyfile(chunks[0], chunks[1])


def _drop_checksums(store: Path) -> None:
    """A store without its chunk checksums (and with a zeroed chunk they would catch)."""
    shutil.rmtree(store / "netsim_chunks" / "crc32")
    _zero_a_chunk(store)


def _rewrite_inputs(store: Path) -> None:
    group = _group(store)
    group["inputs"][:10] = group["inputs"][:10] * 1.01


def _rewrite_draws(store: Path) -> None:
    group = _group(store)
    group["draw"][:10] = group["draw"][10:20]


def _unflag_a_chunk(store: Path) -> None:
    _group(store)["netsim_chunks/done"][0] = 0


def _garbage_attrs(store: Path) -> None:
    (store / ROOT).write_text("{garbage")


def _edit_attr(store: Path, name: str, value: Any) -> None:
    _edit(ROOT, ("attributes", name), lambda _: value)(store)


def _edit_draws(store: Path) -> None:
    _edit_attr(store, "draws", 123)


def _edit_seed(store: Path) -> None:
    _edit_attr(store, "seed", 999)
