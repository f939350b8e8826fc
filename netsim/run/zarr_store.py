"""Runs streamed to a Zarr (format 3) store chunk by chunk, resumable after any interruption.

The store is created whole before any draw is simulated, under a temporary name that
is renamed when the skeleton is complete (so there is either no store or a resumable
one): coordinates, the per-parameter tables, provenance attrs (the scenario document
and its solved calibration, so resuming needs nothing else) and empty, compressed
arrays chunked along ``draw``. Each chunk of draws is then computed, written, and only
afterwards flagged done. A run killed at any point (SIGINT, SIGKILL) leaves at worst
one chunk written but not flagged; :func:`write_missing_chunks` recomputes exactly the
unflagged chunks (the same numbers, since a chunk is a pure function of the run's
settings), so a resumed store equals an uninterrupted one. The attr ``complete``
becomes 1 last; :func:`open_store` refuses a store unless it is complete and every
chunk is flagged.

Integrity is the format's wherever the format can know it. Every array's codec
pipeline ends with Zarr's ``crc32c`` codec, so a chunk damaged on disk (a flipped
byte, a file cut short) is refused by Zarr itself, before it is decompressed, and
metadata are read by Zarr alone. netsim adds only what the format cannot know, kept
out of the data variables:

* in the group ``netsim_chunks``, which plain xarray readers skip: which chunks are
  done (``done``) and the CRC-32 of each chunk's values per array (``crc32``, written
  before the flag). Every read checks a chunk against it, so a chunk that is valid to
  Zarr but not the one written (a file deleted and read as the fill value, a chunk
  rewritten through Zarr, a file copied from another position) is refused naming the
  store and the chunk, never taken for draws.
* in the root attr ``metadata_digests``: the SHA-256 of each node's metadata as Zarr
  reads them (shape, dtype, codecs, dimension names, attributes) and of the values of
  the arrays written once (coordinates, parameter tables). An edited unit or source,
  reordered dimensions, a changed dtype, an array added or removed are refused naming
  the node.

A store of netsim's earlier layout (Zarr format 2, with its checks among the data
variables) is refused in one line saying so; its scenario is run again to a new store.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from netsim import __version__
from netsim.defaults import DEFAULT_CHUNK
from netsim.errors import OutputError, RunFileError, ScenarioError
from netsim.model.layout import OutputLayout
from netsim.model.load import scenario_of_run
from netsim.output_files import OutputFile
from netsim.run.chunks import chunk_ranges, compute_chunk
from netsim.run.distributed import fan_out
from netsim.sampling.inputs import sample_inputs
from netsim.scenario.schema import Scenario

__all__ = [
    "create_store",
    "is_store",
    "open_store",
    "resume_store",
    "run_hash",
    "scenario_of_store",
    "store_draws_written",
    "store_progress",
    "write_missing_chunks",
]

ZARR_FORMAT = 3
METADATA = "zarr.json"  # every node's metadata file in format 3
EARLIER_METADATA = ".zgroup"  # the root of a format-2 store: netsim's earlier layout
BOOKKEEPING = "netsim_chunks"  # the group of what netsim knows of the chunks
DONE = f"{BOOKKEEPING}/done"  # 1 once a chunk's draws are written
CHECKSUMS = f"{BOOKKEEPING}/crc32"  # CRC-32 of each chunk of each array, before its flag
METADATA_DIGESTS = "metadata_digests"
# root attrs that change as the store is written, or hold the digests themselves
UNDIGESTED_ATTRS = ("complete", METADATA_DIGESTS)
# chunk files named 0.0.0 beside their array's zarr.json: a folder in a store is a node
CHUNK_KEYS = {"name": "v2", "separator": "."}


def _zarr() -> Any:
    try:
        import zarr
    except ImportError as error:  # pragma: no cover - the dask extra brings zarr
        raise ScenarioError("Zarr stores need zarr: pip install 'netsim[dask]'") from error
    return zarr


def _compressors() -> tuple[Any, ...]:
    """Blosc (lz4, byte shuffle: the compressor of netsim's earlier layout, as fast),
    then Zarr's crc32c checksum of the compressed bytes, checked before a chunk is
    decompressed: a chunk cut short never reaches the decompressor (blosc crashes on
    some)."""
    from zarr.codecs import BloscCodec, Crc32cCodec

    return (BloscCodec(cname="lz4", clevel=5, shuffle="shuffle"), Crc32cCodec())


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding a Zarr group (of either netsim layout)."""
    return any(os.path.lexists(Path(path) / name) for name in (METADATA, EARLIER_METADATA))


def create_store(
    path: str | Path,
    scenario: Scenario,
    draws: int,
    seed: int,
    sampler: str,
    chunk_size: int = DEFAULT_CHUNK,
    reads: tuple[str | Path, ...] = (),
) -> Path:
    """Create an empty run store at ``path``, which must not exist.

    Written under a temporary name and renamed when complete: an interruption leaves
    no store at all.

    Raises
    ------
    ScenarioError
        If something is at ``path`` (a store: finish it with :func:`resume_store`), or
        ``path`` is one of ``reads``.
    OutputError
        If the skeleton cannot be written (no space left, a read-only folder).
    """
    if is_store(path):
        raise ScenarioError(f"{path} exists: finish it with resume_store, or name a new store")
    with OutputFile(path, reads, directory=True) as output:
        return output.commit(
            lambda temporary: _write_skeleton(temporary, scenario, draws, seed, sampler, chunk_size)
        )


def _write_skeleton(
    path: Path, scenario: Scenario, draws: int, seed: int, sampler: str, chunk_size: int
) -> None:
    """Build the skeleton in memory, then write its files into the folder ``path``.

    Zarr writes a store's files from tasks of its own: when one fails (no space left)
    the error comes back while others are still writing, and they would make the
    folder again after it is removed. Writing the few small files here, one after the
    other, leaves nothing running once this returns or raises.
    """
    zarr = _zarr()
    memory: dict[str, Any] = {}
    store = zarr.storage.MemoryStore(memory)
    _build_skeleton(store, scenario, draws, seed, sampler, chunk_size)
    group = zarr.open_group(store, mode="r+", zarr_format=ZARR_FORMAT)
    group.attrs[METADATA_DIGESTS] = _metadata_digests(group)
    for key, data in sorted(memory.items()):
        target = path.joinpath(*key.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.to_bytes())


def _build_skeleton(
    store: Any, scenario: Scenario, draws: int, seed: int, sampler: str, chunk_size: int
) -> None:
    zarr = _zarr()
    layout = OutputLayout.of(scenario)
    coords = layout.coords()
    coords["parameter"] = ("parameter", list(layout.parameters))
    skeleton = xr.Dataset(
        layout.parameter_variables(),
        coords=coords,
        attrs={
            **layout.provenance,
            "seed": int(seed),
            "sampler": sampler,
            "draws": int(draws),
            "chunk_size": int(chunk_size),
            "run_hash": run_hash(
                layout.provenance["scenario_hash"], int(draws), int(seed), sampler, int(chunk_size)
            ),
            "complete": 0,
        },
    )
    # text as Zarr's variable-length strings, the format-3 data type with a specification
    skeleton = skeleton.map(_as_objects).assign_coords(
        {name: _as_objects(coord) for name, coord in skeleton.coords.items()}
    )
    encoding = {
        name: {"compressors": _compressors(), "chunk_key_encoding": CHUNK_KEYS}
        for name in skeleton.variables
    }
    skeleton.to_zarr(
        store, mode="a", zarr_format=ZARR_FORMAT, consolidated=False, encoding=encoding
    )
    group = zarr.open_group(store, mode="r+", zarr_format=ZARR_FORMAT)
    by_draw = {name: ("float32", np.nan, layout.output_attrs(name)) for name in layout.outputs}
    by_draw["inputs"] = (
        "float64",
        np.nan,
        {"long_name": "sampled inputs, each in its parameter's unit"},
    )
    by_draw["draw"] = ("int64", 0, {})  # read without a fill value (a draw 0 is a draw)
    for name, (dtype, fill_value, attrs) in by_draw.items():
        dims, shape = _trailing(layout, name)
        _create(
            group,
            name,
            (draws, *shape),
            (chunk_size, *shape),
            dtype,
            fill_value,
            attrs,
            ("draw", *dims),
        )
    chunks = len(chunk_ranges(0, draws, chunk_size))
    checked = _checked_arrays(layout.outputs)
    bookkeeping = group.create_group(BOOKKEEPING)
    bookkeeping.attrs.update({"long_name": "which chunks of draws are written, and their CRC-32"})
    flag = {"long_name": "1 once the chunk's draws are written"}
    _create(group, DONE, (chunks,), (1,), "uint8", 0, flag, ("chunk",))
    crc = {
        "long_name": "CRC-32 of each chunk of each array, written before its flag",
        "arrays": list(checked),
    }
    shape = (chunks, len(checked))
    _create(group, CHECKSUMS, shape, (1, len(checked)), "uint32", 0, crc, ("chunk", "array"))


def _trailing(layout: OutputLayout, name: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The dimensions and sizes of an array written by draw, after ``draw``."""
    if name == "inputs":
        return ("parameter",), (len(layout.parameters),)
    if name == "draw":
        return (), ()
    return tuple(layout.dims(name)), tuple(layout.shape(name))


def _create(
    group: Any,
    name: str,
    shape: tuple[int, ...],
    chunks: tuple[int, ...],
    dtype: str,
    fill_value: Any,
    attrs: dict[str, Any],
    dims: tuple[str, ...],
) -> None:
    """An empty array of the store, checksummed by its codecs like every other."""
    group.create_array(
        name,
        shape=shape,
        chunks=chunks,
        dtype=dtype,
        fill_value=fill_value,
        compressors=_compressors(),
        chunk_key_encoding=CHUNK_KEYS,
        dimension_names=dims,
        attributes=attrs,
    )


def _as_objects(variable: Any) -> Any:
    return variable.astype(object) if variable.dtype.kind == "U" else variable


def _checked_arrays(outputs: tuple[str, ...]) -> tuple[str, ...]:
    """The arrays written chunk by chunk, whose chunks carry a CRC-32."""
    return (*outputs, "inputs", "draw")


def _crc32(values: np.ndarray) -> int:
    # zlib's CRC-32 runs at about 4 GB/s here (a cryptographic hash at 0.7): checking a
    # chunk costs little beside reading and decompressing it
    return zlib.crc32(np.ascontiguousarray(values).view(np.uint8).reshape(-1))


def _metadata_digests(group: Any) -> dict[str, str]:
    """SHA-256 of each node's metadata as Zarr reads them (for the root, without the
    attrs that change as the store is written), and of the values of each array that
    is written once, with the skeleton (not along ``draw``, not the bookkeeping)."""
    root = group.metadata.to_dict()
    root.pop("consolidated_metadata", None)  # a consolidation is a copy, read nowhere here
    root["attributes"] = {
        key: value for key, value in root["attributes"].items() if key not in UNDIGESTED_ATTRS
    }
    digests = {"": _sha256(root)}
    for name, node in sorted(group.members(max_depth=None)):
        content = node.metadata.to_dict()
        written_once = (
            content.get("node_type") == "array"
            and not name.startswith(f"{BOOKKEEPING}/")
            and (content.get("dimension_names") or ("",))[0] != "draw"
        )
        if written_once:
            content["values"] = np.asarray(node[...]).tolist()
        digests[name] = _sha256(content)
    return digests


def _sha256(content: dict[str, Any]) -> str:
    text = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def run_hash(
    scenario_hash: str,
    draws: int,
    seed: int,
    sampler: str,
    chunk_size: int,
) -> str:
    """SHA-256 of every setting a store's draws follow from (and netsim's version: a
    store of another version, whose layout may differ, is refused naming its version)."""
    settings: list[Any] = [scenario_hash, draws, seed, sampler, chunk_size, __version__]
    return hashlib.sha256(json.dumps(settings).encode()).hexdigest()


def _settings(path: str | Path, group: Any) -> tuple[int, int, str, int]:
    """(draws, seed, sampler, chunk size) of a store, checked against its run hash and
    its arrays: a store whose settings were edited is refused, never completed or read
    with settings its draws do not follow."""
    attrs = dict(group.attrs)
    try:
        draws, seed = int(attrs["draws"]), int(attrs["seed"])
        sampler, chunk_size = str(attrs["sampler"]), int(attrs["chunk_size"])
        settings = (str(attrs["scenario_hash"]), draws, seed, sampler, chunk_size)
    except (KeyError, TypeError, ValueError) as error:
        raise RunFileError(f"{path}: not a netsim run store (its settings are missing)") from error
    if attrs.get("run_hash") != run_hash(*settings):
        raise RunFileError(
            f"{path}: the store's settings (seed, draws, sampler, chunk size, scenario) do not "
            f"give its run hash: it was edited, or written by netsim "
            f"{attrs.get('netsim_version')} (this is {__version__})"
        )
    for name in ("total", "inputs"):
        if (
            name not in group
            or group[name].shape[0] != draws
            or group[name].chunks[0] != chunk_size
        ):
            raise RunFileError(f"{path}: its {name!r} array does not fit its settings")
    chunks = len(chunk_ranges(0, draws, chunk_size))
    if DONE not in group or group[DONE].shape[0] != chunks:
        raise RunFileError(f"{path}: its chunk flags ({DONE}) do not fit its settings")
    if CHECKSUMS not in group or group[CHECKSUMS].shape != (
        chunks,
        len(_digest_names(path, group)),
    ):
        raise RunFileError(f"{path}: its chunk checksums ({CHECKSUMS}) do not fit its settings")
    return draws, seed, sampler, chunk_size


def _digest_names(path: str | Path, group: Any) -> tuple[str, ...]:
    """The arrays the chunk checksums cover, in their column order: every array along
    ``draw``, each once."""
    names = group[CHECKSUMS].attrs.get("arrays") if CHECKSUMS in group else None
    chunked = {
        str(name)
        for name, array in group.arrays()
        if (array.metadata.dimension_names or (None,))[0] == "draw"
    }
    if not isinstance(names, list) or set(names) != chunked or len(set(names)) != len(names):
        raise RunFileError(f"{path}: its chunk checksums do not cover each of its arrays once")
    return tuple(names)


def _check_files(path: Path) -> list[str]:
    """Every folder of the store ``path`` is a node (it holds a zarr.json) and every
    other entry a regular file that can be read. Zarr does not check this itself
    (measured with zarr 3.1: listing a group whose array's zarr.json is a FIFO waits
    forever; a link to /dev/zero would never stop; a folder or a broken link in place
    of a chunk is read as the fill value). Returns the nodes' keys ("" the root)."""
    nodes, folders = [""], [path]
    while folders:
        folder = folders.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            raise RunFileError(f"{path} cannot be read ({error.strerror or error})") from error
        for entry in entries:
            key = Path(entry.path).relative_to(path).as_posix()
            if entry.is_dir(follow_symlinks=False):
                if not os.path.lexists(Path(entry.path) / METADATA):
                    raise RunFileError(
                        f"{path}: {key} is damaged (a folder without {METADATA}: neither a "
                        "Zarr array nor a group, nor a chunk)"
                    )
                nodes.append(key)
                folders.append(Path(entry.path))
                continue
            try:
                regular = entry.is_file()  # through a link: to a device, a FIFO, a loop
            except OSError:
                regular = False
            if not regular:
                raise RunFileError(
                    f"{path}: {key} is damaged (not a regular file: a FIFO, a device or a "
                    "broken link)"
                )
            if not os.access(entry.path, os.R_OK):
                raise RunFileError(f"{path}: {key} cannot be read (permission denied)")
    return nodes


def _unreadable_node(path: Path, nodes: list[str]) -> str:
    """The metadata file of the first node Zarr cannot open on its own ("zarr.json"
    when each opens: the fault is in how they fit together)."""
    zarr = _zarr()
    for key in nodes:
        try:
            zarr.open(zarr.storage.LocalStore(path / key, read_only=True), mode="r")
        except Exception:  # zarr raises several kinds for a document it cannot read
            return f"{key}/{METADATA}" if key else METADATA
    return METADATA


def _check_metadata(path: Path, group: Any) -> None:
    """Each node's metadata, as Zarr reads them, are the ones written with the store."""
    expected = group.attrs.get(METADATA_DIGESTS)
    if not isinstance(expected, dict):
        raise RunFileError(f"{path}: its metadata digests ({METADATA_DIGESTS}) are missing")
    found = _metadata_digests(group)
    for name in sorted(found):
        if name not in expected:
            raise RunFileError(
                f"{path}: {name} is not one of the arrays or groups written with the store"
            )
        if found[name] != expected[name]:
            what = f"the metadata of {name}" if name else "its attributes"
            raise RunFileError(
                f"{path}: {what} are not the ones written with the store (edited or damaged)"
            )
    for name in sorted(set(expected) - set(found)):
        raise RunFileError(f"{path}: {name} is missing (the store is damaged)")


def _check_written_inputs(path: str | Path, group: Any, scenario: Scenario) -> None:
    """The first written chunk's inputs are the ones the store's settings give: a store
    whose scenario, seed or sampler came from another store is refused before a chunk
    is added (one chunk of sampling)."""
    draws, seed, sampler, chunk_size = _settings(path, group)
    flags = _read(path, group, DONE)
    written = np.flatnonzero(flags)
    if written.size == 0:
        return
    a, b = chunk_ranges(0, draws, chunk_size)[int(written[0])]
    expected = sample_inputs(scenario, draws, seed, sampler, a, b)
    if not np.array_equal(_read(path, group, "inputs", slice(a, b)), expected):
        raise RunFileError(
            f"{path}: the draws already written do not follow the store's settings (its "
            "scenario or settings were replaced): it cannot be completed"
        )


def _group(path: str | Path, mode: str = "r") -> Any:
    """The store's group, once its files and metadata are checked."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: store not found")
    if not path.is_dir():
        raise RunFileError(f"{path} is not a folder, so not a netsim Zarr store")
    if not (path / METADATA).exists() and (path / EARLIER_METADATA).exists():
        _refuse_earlier_layout(path)
    if not (path / METADATA).exists():
        raise RunFileError(f"{path} is a folder, not a netsim Zarr store (no {METADATA})")
    if not (path / METADATA).is_file():
        _check_files(path)  # names it: a FIFO, a device, a folder
    nodes = [""]
    try:
        # never through consolidated metadata: the files checked are the ones read
        group = _zarr().open_group(path, mode=mode, zarr_format=ZARR_FORMAT, use_consolidated=False)
        if "netsim_version" not in group.attrs:
            raise RunFileError(f"{path}: a Zarr store, not a netsim run (no netsim_version)")
        nodes = _check_files(path)  # before Zarr reads a file below the root
        _check_metadata(path, group)
    except RunFileError:
        raise
    except Exception as error:  # zarr raises several kinds for metadata it cannot read
        raise RunFileError(
            f"{path}: {_unreadable_node(path, nodes)} cannot be read by Zarr, damaged "
            f"({_first_line(error)})"
        ) from error
    return group


def _refuse_earlier_layout(path: Path) -> None:
    """Refuse a Zarr format-2 store: netsim's earlier layout (checks among the data
    variables), or another program's, told apart by its attrs as Zarr reads them."""
    try:
        group = _zarr().open_group(path, mode="r", zarr_format=2, use_consolidated=False)
        version = group.attrs.get("netsim_version")
    except Exception as error:  # zarr raises several kinds for metadata it cannot read
        raise RunFileError(f"{path}: not a netsim Zarr store ({_first_line(error)})") from error
    if version is None:
        raise RunFileError(f"{path}: a Zarr store, not a netsim run (no netsim_version)")
    raise RunFileError(
        f"{path}: a store of netsim {version}'s earlier layout (Zarr format 2, its checks "
        f"among the data variables), which netsim {__version__} does not read: run its "
        "scenario again to a new store (netsim run CONFIG --out NEW.zarr)"
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _read(path: str | Path, group: Any, name: str, where: slice = slice(None)) -> np.ndarray:
    """``group[name][where]``, or a :class:`RunFileError` naming the array when a chunk
    of it cannot be read (its crc32c differs, or a decompressor's error: damaged)."""
    try:
        return np.asarray(group[name][where])
    except Exception as error:
        raise RunFileError(
            f"{path}: a chunk of {name!r} cannot be read, damaged ({_first_line(error)})"
        ) from error


def store_progress(path: str | Path) -> tuple[int, int]:
    """(chunks written, chunks in all) of a store."""
    group = _group(path)
    if DONE not in group:
        raise RunFileError(f"{path}: not a netsim run store (no chunk flags, {DONE})")
    done = _read(path, group, DONE)
    if not np.isin(done, (0, 1)).all():
        raise RunFileError(f"{path}: its chunk flags ({DONE}) are damaged (not 0 or 1)")
    return int(done.sum()), int(done.size)


def store_draws_written(path: str | Path) -> tuple[int, int]:
    """(draws written, draws in all) of a store: what a resumed run's progress starts
    from, and its total."""
    group = _group(path)
    draws, _, _, chunk_size = _settings(path, group)
    store_progress(path)  # the flags are checked first
    done = _read(path, group, DONE)
    ranges = chunk_ranges(0, draws, chunk_size)
    written = sum(b - a for (a, b), flag in zip(ranges, done, strict=True) if flag)
    return int(written), int(draws)


def scenario_of_store(path: str | Path) -> Scenario:
    """Rebuild the scenario a store was made from (with its stored calibration),
    checked against the store's hash."""
    attrs = dict(_group(path).attrs)
    if "scenario_document" not in attrs or "calibration" not in attrs:
        raise RunFileError(f"{path}: not a netsim run store (no scenario_document)")
    scenario = scenario_of_run(attrs["scenario_document"], attrs["calibration"], str(path))
    if scenario.scenario_hash != attrs.get("scenario_hash"):
        raise RunFileError(
            f"{path}: the stored scenario does not give the store's hash (the store was edited, "
            f"or written by netsim {attrs.get('netsim_version')})"
        )
    return scenario


def write_missing_chunks(
    path: str | Path,
    scenario: Scenario | None = None,
    *,
    client: Any = None,
    progress: Callable[[int], Any] | None = None,
) -> Path:
    """Compute and write every chunk not yet flagged done, then mark the store complete.

    Parameters
    ----------
    path : str or Path
        A store from :func:`create_store` (new or interrupted).
    scenario : Scenario, optional
        Defaults to the one stored in the store.
    client : dask.distributed.Client, optional
        Compute the chunks on a cluster; this process writes them.
    progress : callable, optional
        Called with the draws finished after each chunk.

    Raises
    ------
    OutputError
        If a chunk cannot be written (no space left, permissions): the store stays
        resumable.
    """
    group = _group(path, mode="r+")
    scenario = scenario_of_store(path) if scenario is None else scenario
    draws, seed, sampler, chunk_size = _settings(path, group)
    _check_written_inputs(path, group, scenario)
    ranges = chunk_ranges(0, draws, chunk_size)
    done = group[DONE]
    missing = (i for i, flag in enumerate(done[:]) if not flag)
    names = OutputLayout.of(scenario).outputs
    checked = _digest_names(path, group)

    targets = {name: group[name] for name in (*names, "inputs", "draw", CHECKSUMS)}

    def write(index: int, inputs: np.ndarray, arrays: dict[str, np.ndarray]) -> None:
        a, b = ranges[index]
        written = {
            **{name: arrays[name] for name in names},
            "inputs": inputs,
            "draw": np.arange(a, b, dtype=np.int64),
        }
        for name, values in written.items():
            written[name] = np.asarray(values, dtype=targets[name].dtype)
            targets[name][a:b] = written[name]
        targets[CHECKSUMS][index] = [_crc32(written[name]) for name in checked]
        done[index] = 1  # only after the data: an unflagged chunk is simply redone
        if progress is not None:
            progress(b - a)

    try:
        if client is None:
            for index in missing:
                write(index, *compute_chunk(scenario, draws, seed, sampler, *ranges[index]))
        else:
            fan_out(
                client,
                compute_chunk,
                (scenario, draws, seed, sampler),
                (ranges[index] for index in missing),
                lambda task, result: write(task[0] // chunk_size, *result),
            )
    except OSError as error:
        raise OutputError(
            f"{path}: writing a chunk failed ({error.strerror or error}); the store is "
            f"incomplete: finish it with netsim run --resume {path}"
        ) from error
    group.attrs["complete"] = 1
    return Path(path)


PARTIAL_SUFFIX = ".partial"  # zarr writes a chunk to <key>.<id>.partial, then renames it


def resume_store(
    path: str | Path, *, client: Any = None, progress: Callable[[int], Any] | None = None
) -> xr.Dataset:
    """Finish an interrupted store and open it (:func:`open_store`). The temporaries of
    chunk writes a killed run left are removed: they are never chunks."""
    for leftover in Path(path).glob(f"**/*{PARTIAL_SUFFIX}"):
        leftover.unlink(missing_ok=True)
    write_missing_chunks(path, client=client, progress=progress)
    return open_store(path)


def open_store(path: str | Path, allow_incomplete: bool = False) -> xr.Dataset:
    """Open a run store lazily (Dask arrays, one chunk per store chunk).

    A store is complete when its ``complete`` attr is 1 and every chunk is flagged;
    anything else is refused (naming the command that finishes it) unless
    ``allow_incomplete``.
    """
    written, total = store_progress(path)
    group = _group(path)
    attrs = dict(group.attrs)
    _settings(path, group)
    if not allow_incomplete and (not attrs.get("complete") or written != total):
        raise ScenarioError(
            f"{path} is incomplete ({written} of {total} chunks written): finish it with "
            f"netsim run --resume {path}"
        )
    chunk = int(attrs.get("chunk_size", DEFAULT_CHUNK))
    try:
        dataset = xr.open_dataset(
            path,
            engine="zarr",
            consolidated=False,
            zarr_format=ZARR_FORMAT,
            chunks={"draw": chunk},
            # the draw indices have no missing value: a draw 0 is never masked
            mask_and_scale={"draw": False},
        )
    except Exception as error:  # xarray and zarr raise many kinds for a damaged store
        raise RunFileError(
            f"{path}: cannot be read as a run store ({_first_line(error)})"
        ) from error
    dataset.variables["draw"].attrs.pop("_FillValue", None)
    dataset.attrs.pop(METADATA_DIGESTS, None)
    dataset = _as_text(dataset)
    digests, names = _read(path, group, CHECKSUMS), _digest_names(path, group)
    return _checked_on_read(path, dataset, names, digests, chunk)


def _as_text(dataset: xr.Dataset) -> xr.Dataset:
    """Zarr's variable-length strings as numpy's fixed-width text, as every other run
    file reads them (NetCDF, and the in-memory run). Only coordinates and the parameter
    tables hold text: small, so read at once."""
    text = {
        name: (variable.dims, np.array(variable.values.tolist(), dtype=str), variable.attrs)
        for name, variable in dataset.variables.items()
        if variable.dtype.kind in "OT"
    }
    coords = {name: value for name, value in text.items() if name in dataset.coords}
    variables = {name: value for name, value in text.items() if name not in coords}
    return dataset.assign(variables).assign_coords(coords)


def _checked_on_read(
    path: str | Path,
    dataset: xr.Dataset,
    names: tuple[str, ...],
    digests: np.ndarray,
    chunk_size: int,
) -> xr.Dataset:
    """The dataset with every chunk of ``names`` read by :func:`_read_block`: a chunk
    Zarr cannot decompress is refused naming it, and each is checked against its CRC-32
    (``digests``, one column per name) as it is read (the draw coordinate, read whole
    on opening, at once)."""
    for column, name in enumerate(names):
        expected = digests[:, column]
        if name == "draw":
            draw = dataset["draw"].values
            for index, (a, b) in enumerate(chunk_ranges(0, draw.size, chunk_size)):
                _check_block(draw[a:b], expected[index], name, str(path), index)
            continue
        import dask.array as da

        data = dataset[name].data
        draws = tuple(b - a for a, b in chunk_ranges(0, data.shape[0], chunk_size))
        # a block is a whole chunk of the store, to have its checksum
        chunks = (draws, *((n,) for n in data.shape[1:]))
        checked = da.map_blocks(
            _read_block,
            str(path),
            name,
            expected,
            dtype=data.dtype,
            chunks=chunks,
            meta=np.empty((0,) * data.ndim, dtype=data.dtype),
            name=f"netsim-read-{name}-{_token(path, name, expected)}",
        )
        dataset[name] = dataset[name].copy(data=checked)
    return dataset


def _token(*parts: Any) -> str:
    from dask.base import tokenize

    return tokenize(*[str(p) if isinstance(p, Path) else p for p in parts])


def _check_block(values: np.ndarray, expected: int, name: str, path: str, index: int) -> None:
    if _crc32(values) != int(expected):
        raise RunFileError(
            f"{path}: chunk {index} of {name!r} is damaged (its contents are not the ones "
            "written: a chunk file deleted, replaced or edited)"
        )


def _read_block(path: str, name: str, expected: np.ndarray, block_info: Any = None) -> np.ndarray:
    """One chunk of the array ``name`` of the store ``path``, read and checked against
    its CRC-32 (a dask ``map_blocks`` function: ``block_info`` gives where the block is)."""
    info = block_info[None]
    index = int(info["chunk-location"][0])
    where = tuple(slice(a, b) for a, b in info["array-location"])
    try:
        values = _zarr().open_array(Path(path) / name, mode="r", zarr_format=ZARR_FORMAT)[where]
    except Exception as error:  # a decompressor's or a file's error: the chunk is damaged
        raise RunFileError(
            f"{path}: chunk {index} of {name!r} cannot be read, damaged ({_first_line(error)})"
        ) from error
    _check_block(values, expected[index], name, path, index)
    return values
