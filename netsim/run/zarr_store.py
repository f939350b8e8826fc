"""Runs streamed to a Zarr store chunk by chunk, resumable after any interruption.

The store is created whole before any draw is simulated, under a temporary name that
is renamed when the skeleton is complete (so there is either no store or a resumable
one): coordinates, the per-parameter tables, provenance attrs (the scenario document
and its solved calibration, so resuming needs nothing else) and empty, compressed
arrays chunked along ``draw``. Each chunk of draws is then computed, written, and only
afterwards flagged in ``chunk_done``. A run killed at any point (SIGINT, SIGKILL)
leaves at worst one chunk written but not flagged; :func:`write_missing_chunks`
recomputes exactly the unflagged chunks (the same numbers, since a chunk is a pure
function of the run's settings), so a resumed store equals an uninterrupted one. The
attr ``complete`` becomes 1 last; :func:`open_store` refuses a store unless it is
complete and every chunk is flagged.

With each chunk its CRC-32 per array is written (``chunk_crc32``) before the flag, and
every read of an opened store checks the chunk it reads against it: a chunk file
deleted (read back as the fill value) or replaced by another valid chunk (zeros, or
another store's) is refused when read, naming the store and the chunk, instead of
being taken for draws.

What is not written chunk by chunk is written once, with the skeleton: the metadata
files (``.zgroup``, ``.zattrs``, ``.zarray``: the scenario document, units, dimension
names, dtypes, shapes) and the coordinates and parameter tables. The SHA-256 of each is
kept in the attr ``metadata_digests``, and every opening of a store checks them before
Zarr reads anything: an edited unit or source, reordered dimensions, a changed dtype,
an added array are refused naming the file, never read as other numbers. Every
metadata file is parsed here first, so a truncated one, or one that is not a JSON
object, is refused in one line naming it too.
"""

from __future__ import annotations

import hashlib
import json
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

ZARR_FORMAT = 2  # string coordinates have a settled encoding in format 2


def _zarr() -> Any:
    try:
        import zarr
    except ImportError as error:  # pragma: no cover - the dask extra brings zarr
        raise ScenarioError("Zarr stores need zarr: pip install 'netsim[dask]'") from error
    return zarr


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding a Zarr (format 2) group."""
    return (Path(path) / ".zgroup").is_file()


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
    memory: dict[str, Any] = {}
    _build_skeleton(_zarr().storage.MemoryStore(memory), scenario, draws, seed, sampler, chunk_size)
    files = {key: data.to_bytes() for key, data in memory.items()}
    chunked = {*_checked_arrays(OutputLayout.of(scenario).outputs), *WRITTEN_LATER}
    covered = [key for key in files if _is_metadata(key) or key.split("/")[0] not in chunked]
    attrs = json.loads(files[ROOT_ATTRS])
    attrs[METADATA_DIGESTS] = {key: _file_digest(key, files[key]) for key in sorted(covered)}
    files[ROOT_ATTRS] = json.dumps(attrs, indent=2).encode()
    for key, data in sorted(files.items()):
        target = path.joinpath(*key.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _build_skeleton(
    store: Any, scenario: Scenario, draws: int, seed: int, sampler: str, chunk_size: int
) -> None:
    zarr = _zarr()
    layout = OutputLayout.of(scenario)
    ranges = chunk_ranges(0, draws, chunk_size)
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
            "chunk_checksums": DIGESTS,  # a store that says so must hold them
        },
    )
    skeleton.to_zarr(store, mode="a", zarr_format=ZARR_FORMAT, consolidated=False)
    group = zarr.open_group(store, mode="r+", zarr_format=ZARR_FORMAT)
    for name in layout.outputs:
        shape = layout.shape(name)
        array = group.create_array(
            name,
            shape=(draws, *shape),
            chunks=(chunk_size, *shape),
            dtype="float32",
            fill_value=np.nan,
        )
        array.attrs.update({"_ARRAY_DIMENSIONS": ["draw", *layout.dims(name)]})
        array.attrs.update(layout.output_attrs(name))
    inputs = group.create_array(
        "inputs",
        shape=(draws, len(layout.parameters)),
        chunks=(chunk_size, len(layout.parameters)),
        dtype="float64",
        fill_value=np.nan,
    )
    inputs.attrs.update(
        {
            "_ARRAY_DIMENSIONS": ["draw", "parameter"],
            "long_name": "sampled inputs, each in its parameter's unit",
        }
    )
    # no fill value: xarray would read a draw index equal to it (0) as missing
    draw = group.create_array(
        "draw", shape=(draws,), chunks=(chunk_size,), dtype="int64", fill_value=None
    )
    draw.attrs.update({"_ARRAY_DIMENSIONS": ["draw"]})
    done = group.create_array(
        "chunk_done", shape=(len(ranges),), chunks=(1,), dtype="uint8", fill_value=0
    )
    done.attrs.update(
        {"_ARRAY_DIMENSIONS": ["chunk"], "long_name": "1 once the chunk's draws are written"}
    )
    checked = _checked_arrays(layout.outputs)
    crc = group.create_array(
        DIGESTS,
        shape=(len(ranges), len(checked)),
        chunks=(1, len(checked)),
        dtype="uint32",
        fill_value=0,
    )
    crc.attrs.update(
        {
            "_ARRAY_DIMENSIONS": ["chunk", "checked_array"],
            "long_name": "CRC-32 of each chunk of each array, written before its flag",
            "arrays": list(checked),
        }
    )


DIGESTS = "chunk_crc32"
METADATA_DIGESTS = "metadata_digests"
WRITTEN_LATER = ("chunk_done", DIGESTS)  # besides the draws: arrays written chunk by chunk
ROOT_ATTRS = ".zattrs"
METADATA_FILES = (".zgroup", ".zattrs", ".zarray")
# root attrs that change as the store is written, or hold the digests themselves
UNDIGESTED_ATTRS = ("complete", METADATA_DIGESTS)


def _is_metadata(key: str) -> bool:
    return key.rsplit("/", 1)[-1] in METADATA_FILES


def _file_digest(key: str, data: bytes) -> str:
    """SHA-256 of one file of a store: of a metadata file's JSON content (however Zarr
    lays it out when it rewrites the root attrs, without those that change as the store
    is written), of any other file's bytes."""
    if _is_metadata(key):
        content = json.loads(data)
        if key == ROOT_ATTRS:
            content = {k: v for k, v in content.items() if k not in UNDIGESTED_ATTRS}
        data = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()


def _checked_arrays(outputs: tuple[str, ...]) -> tuple[str, ...]:
    """The arrays written chunk by chunk, whose chunks carry a CRC-32."""
    return (*outputs, "inputs", "draw")


def _crc32(values: np.ndarray) -> int:
    # zlib's CRC-32 runs at about 4 GB/s here (a cryptographic hash at 0.7): checking a
    # chunk costs little beside reading and decompressing it
    return zlib.crc32(np.ascontiguousarray(values).view(np.uint8).reshape(-1))


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
    if group["chunk_done"].shape[0] != chunks:
        raise RunFileError(f"{path}: its chunk flags do not fit its settings")
    if METADATA_DIGESTS not in attrs:
        raise RunFileError(f"{path}: its metadata digests ({METADATA_DIGESTS}) are missing")
    if attrs.get("chunk_checksums") != DIGESTS or DIGESTS not in group:
        raise RunFileError(f"{path}: its chunk checksums ({DIGESTS}) are missing")
    if group[DIGESTS].shape != (chunks, len(_digest_names(path, group))):
        raise RunFileError(f"{path}: its chunk checksums do not fit its settings")
    return draws, seed, sampler, chunk_size


def _digest_names(path: str | Path, group: Any) -> tuple[str, ...]:
    """The arrays ``chunk_crc32`` covers, in its column order."""
    names = group[DIGESTS].attrs.get("arrays")
    chunked = {
        str(name)
        for name in group.array_keys()
        if name not in ("chunk_done", DIGESTS)
        and (group[name].attrs.get("_ARRAY_DIMENSIONS") or [None])[0] == "draw"
    }
    if not isinstance(names, list) or not all(isinstance(n, str) and n in chunked for n in names):
        raise RunFileError(f"{path}: its chunk checksums name arrays it does not hold")
    if set(names) != chunked or len(set(names)) != len(names):
        raise RunFileError(f"{path}: its chunk checksums do not cover each of its arrays once")
    return tuple(names)


PARTIAL_SUFFIX = ".partial"  # zarr writes a chunk to <key>.<id>.partial, then renames it
BLOSC_HEADER = 16  # bytes: version, flags, type size, then uncompressed and compressed sizes
CONSOLIDATED = ".zmetadata"  # written by zarr.consolidate_metadata, never by netsim


def _json_object(path: Path, key: str, required: bool = True) -> dict[str, Any] | None:
    """The JSON object in the file ``key`` of the store ``path`` (None if it is absent
    and not ``required``), or a :class:`ScenarioError` naming the file."""
    file = path.joinpath(*key.split("/"))
    if not file.exists() and not file.is_symlink():
        if not required:
            return None
        raise RunFileError(f"{path}: {key} is missing (the store is damaged)")
    data = _file_bytes(path, key)
    try:
        content = json.loads(data)
    except (UnicodeDecodeError, ValueError) as error:
        raise RunFileError(f"{path}: {key} is damaged (not JSON: truncated or edited)") from error
    if not isinstance(content, dict):
        raise RunFileError(
            f"{path}: {key} is damaged (JSON {type(content).__name__}, not an object)"
        )
    return content


def _file_bytes(path: Path, key: str) -> bytes:
    """The bytes of the file ``key`` of the store ``path``, which must be a regular file
    (a FIFO would never end, a link to a device never stop)."""
    file = path.joinpath(*key.split("/"))
    if not file.is_file():
        what = "missing" if not file.exists() and not file.is_symlink() else "not a file"
        raise RunFileError(f"{path}: {key} is {what} (the store is damaged)")
    try:
        return file.read_bytes()
    except OSError as error:
        raise RunFileError(f"{path}: {key} cannot be read ({error.strerror or error})") from error


def _check_metadata(path: Path) -> dict[str, dict[str, Any]]:
    """Parse and check every metadata file of the store ``path`` before Zarr reads one;
    returns each array's ``.zarray`` by name.

    Each file must be a JSON object, each array's shape, chunks and dimension names must
    fit one another, and, in a store that carries ``metadata_digests``, every metadata
    file and every file of the coordinates must be the one written with the store.
    """
    if not path.is_dir():
        raise RunFileError(f"{path} is not a folder, so not a netsim Zarr store")
    _json_object(path, ".zgroup")
    attrs = _json_object(path, ROOT_ATTRS)
    try:
        entries = sorted(path.iterdir())
    except OSError as error:
        raise RunFileError(f"{path} cannot be read ({error.strerror or error})") from error
    arrays: dict[str, dict[str, Any]] = {}
    present = [".zgroup", ROOT_ATTRS]
    for entry in entries:
        if entry.is_dir() and (entry / ".zgroup").exists():
            raise RunFileError(f"{path}: {entry.name} is a group netsim does not write")
        if not (entry.is_dir() and (entry / ".zarray").exists()):
            continue
        name = entry.name
        meta = _json_object(path, f"{name}/.zarray")
        array_attrs = _json_object(path, f"{name}/.zattrs", required=False)
        present += [f"{name}/.zarray"] + ([f"{name}/.zattrs"] if array_attrs is not None else [])
        _check_array_metadata(path, name, meta, array_attrs or {})
        arrays[name] = meta
    if (path / CONSOLIDATED).exists():
        _check_consolidated(path, present)
    digests = attrs.get(METADATA_DIGESTS) if attrs else None
    if digests is not None:
        _check_digests(path, digests, present)
    return arrays


def _check_array_metadata(
    path: Path, name: str, meta: dict[str, Any], attrs: dict[str, Any]
) -> None:
    shape, chunks, dims = meta.get("shape"), meta.get("chunks"), attrs.get("_ARRAY_DIMENSIONS")

    def sizes(value: Any, least: int) -> bool:
        return isinstance(value, list) and all(
            isinstance(v, int) and not isinstance(v, bool) and v >= least for v in value
        )

    if not (sizes(shape, 0) and sizes(chunks, 1) and len(shape) == len(chunks)):
        raise RunFileError(f"{path}: {name}/.zarray is damaged (its shape or chunks)")
    try:
        np.dtype(meta.get("dtype"))
    except (TypeError, ValueError) as error:
        raise RunFileError(f"{path}: {name}/.zarray is damaged (its dtype)") from error
    if dims is not None and not (
        isinstance(dims, list)
        and all(isinstance(d, str) for d in dims)
        and len(set(dims)) == len(dims) == len(shape)
    ):
        raise RunFileError(
            f"{path}: {name}/.zattrs is damaged (its _ARRAY_DIMENSIONS do not fit the "
            "array's shape)"
        )


def _check_consolidated(path: Path, present: list[str]) -> None:
    """A ``.zmetadata`` (netsim never reads through it) must agree with the files."""
    consolidated = _json_object(path, CONSOLIDATED)
    metadata = consolidated.get("metadata") if consolidated else None
    if not isinstance(metadata, dict):
        raise RunFileError(f"{path}: {CONSOLIDATED} is damaged (no metadata object)")

    def seen(found: Any, key: str) -> Any:  # the root attrs as a digest sees them
        if key == ROOT_ATTRS and isinstance(found, dict):
            return {k: v for k, v in found.items() if k not in UNDIGESTED_ATTRS}
        return found

    for key in present:
        found = _json_object(path, key, required=False) or {}
        if seen(metadata.get(key, {}), key) != seen(found, key):
            raise RunFileError(
                f"{path}: {CONSOLIDATED} does not agree with {key} (stale or edited): "
                f"delete {CONSOLIDATED}, or consolidate the store again"
            )


def _check_digests(path: Path, digests: Any, present: list[str]) -> None:
    """Every file ``metadata_digests`` names is the one written with the store, and
    every metadata file is named (an array added or renamed is refused)."""
    if not (
        isinstance(digests, dict)
        and all(isinstance(v, str) for v in digests.values())
        and all(_inside(key) for key in digests)
    ):
        raise RunFileError(f"{path}: {ROOT_ATTRS} is damaged (its {METADATA_DIGESTS})")
    for key in present:
        if key not in digests:
            raise RunFileError(
                f"{path}: {key} is not one of the files written with the store (an array "
                "added or renamed)"
            )
    for key, expected in sorted(digests.items()):
        data = _file_bytes(path, key)
        try:
            found = _file_digest(key, data)
        except ValueError:  # a metadata file that is not JSON
            found = None
        if found != expected:
            raise RunFileError(
                f"{path}: {key} is not the file written with the store (edited or "
                "damaged: its SHA-256 differs)"
            )


def _inside(key: str) -> bool:
    """Whether ``key`` names a file of the store: at its top or in one of its arrays."""
    parts = key.split("/")
    return 1 <= len(parts) <= 2 and all(p not in ("", ".", "..") for p in parts)


def _check_chunk_files(path: str | Path, arrays: dict[str, dict[str, Any]]) -> None:
    """Every chunk file of ``arrays`` (their ``.zarray`` by name) is a readable file,
    and a blosc chunk holds the compressed chunk its header announces.

    A truncated or overwritten blosc chunk crashes the decompressor (a segmentation
    fault for some truncations), so a store is checked before anything is read: each
    chunk's header must give the file's own size and the chunk's uncompressed size.
    """
    for name, meta in arrays.items():
        blosc = (meta.get("compressor") or {}).get("id") == "blosc"
        chunk_bytes = int(np.prod(meta["chunks"])) * np.dtype(meta["dtype"]).itemsize
        for chunk in sorted((Path(path) / name).iterdir()):
            if chunk.name.startswith(".") or chunk.name.endswith(PARTIAL_SUFFIX):
                continue  # metadata, or a temporary of a write a killed run left
            where = f"{path}: chunk {name}/{chunk.name}"
            if not chunk.is_file():
                raise RunFileError(
                    f"{where} is damaged (not a regular file: a folder, a FIFO or a broken link)"
                )
            try:
                with chunk.open("rb") as handle:
                    header = handle.read(BLOSC_HEADER)
                size = chunk.stat().st_size
            except OSError as error:
                raise RunFileError(f"{where} cannot be read ({error.strerror or error})") from error
            if not blosc:
                continue
            if len(header) < BLOSC_HEADER:
                raise RunFileError(f"{where} is damaged (too short)")
            nbytes = int.from_bytes(header[4:8], "little")
            cbytes = int.from_bytes(header[12:16], "little")
            if cbytes != size or nbytes != chunk_bytes:
                raise RunFileError(f"{where} is damaged (its header does not fit)")


def _check_written_inputs(path: str | Path, group: Any, scenario: Scenario) -> None:
    """The first written chunk's inputs are the ones the store's settings give: a store
    whose scenario, seed or sampler came from another store is refused before a chunk
    is added (one chunk of sampling)."""
    draws, seed, sampler, chunk_size = _settings(path, group)
    flags = _read(path, group, "chunk_done")
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
    """The store's group, once its metadata are checked (:func:`_check_metadata`)."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: store not found")
    if path.is_dir() and not (path / ".zgroup").exists():
        raise RunFileError(f"{path} is a folder, not a netsim Zarr store (no .zgroup)")
    _check_metadata(path)
    try:
        # never through a .zmetadata: the files checked are the ones read
        return _zarr().open_group(path, mode=mode, zarr_format=ZARR_FORMAT, use_consolidated=False)
    except Exception as error:  # zarr raises several kinds for "not a store"
        raise RunFileError(f"{path}: not a netsim Zarr store ({error})") from error


def _read(path: str | Path, group: Any, name: str, where: slice = slice(None)) -> np.ndarray:
    """``group[name][where]``, or a :class:`ScenarioError` naming the array when a
    chunk of it cannot be read (a decompressor's error: the chunk is damaged)."""
    try:
        return np.asarray(group[name][where])
    except Exception as error:
        text = str(error).strip().splitlines()
        raise RunFileError(
            f"{path}: a chunk of {name!r} cannot be read, damaged "
            f"({text[0] if text else type(error).__name__})"
        ) from error


def store_progress(path: str | Path) -> tuple[int, int]:
    """(chunks written, chunks in all) of a store."""
    group = _group(path)
    if "chunk_done" not in group:
        raise RunFileError(f"{path}: not a netsim run store (no chunk_done flags)")
    done = _read(path, group, "chunk_done")
    if not np.isin(done, (0, 1)).all():
        raise RunFileError(f"{path}: its chunk flags (chunk_done) are damaged (not 0 or 1)")
    return int(done.sum()), int(done.size)


def store_draws_written(path: str | Path) -> tuple[int, int]:
    """(draws written, draws in all) of a store: what a resumed run's progress starts
    from, and its total."""
    group = _group(path)
    draws, _, _, chunk_size = _settings(path, group)
    store_progress(path)  # the flags are checked first
    done = _read(path, group, "chunk_done")
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
    # a damaged chunk file is refused before anything is added to the store
    _check_chunk_files(path, _check_metadata(Path(path)))
    _check_written_inputs(path, group, scenario)
    ranges = chunk_ranges(0, draws, chunk_size)
    done = group["chunk_done"]
    missing = (i for i, flag in enumerate(done[:]) if not flag)
    names = OutputLayout.of(scenario).outputs

    checked = _digest_names(path, group)

    def write(index: int, inputs: np.ndarray, arrays: dict[str, np.ndarray]) -> None:
        a, b = ranges[index]
        written = {
            **{name: arrays[name] for name in names},
            "inputs": inputs,
            "draw": np.arange(a, b, dtype=np.int64),
        }
        for name, values in written.items():
            written[name] = np.asarray(values, dtype=group[name].dtype)
            group[name][a:b] = written[name]
        if checked:
            group[DIGESTS][index] = [_crc32(written[name]) for name in checked]
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


def resume_store(
    path: str | Path, *, client: Any = None, progress: Callable[[int], Any] | None = None
) -> xr.Dataset:
    """Finish an interrupted store and open it (:func:`open_store`). The temporaries of
    chunk writes a killed run left are removed: they are never chunks."""
    for leftover in Path(path).glob(f"*/*{PARTIAL_SUFFIX}"):
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
    _check_chunk_files(path, _check_metadata(Path(path)))
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
            chunks={"draw": chunk},
            drop_variables=["chunk_done", DIGESTS],
            # the draw indices have no missing value: a draw 0 is never masked
            mask_and_scale={"draw": False},
        )
        if "draw" not in dataset.variables:
            raise ValueError("no draw coordinate")
    except ScenarioError:
        raise
    except Exception as error:  # xarray and zarr raise many kinds for a damaged store
        text = str(error).strip().splitlines()
        raise RunFileError(
            f"{path}: cannot be read as a run store ({text[0] if text else type(error).__name__})"
        ) from error
    dataset.variables["draw"].attrs.pop("_FillValue", None)
    digests, names = _read(path, group, DIGESTS), _digest_names(path, group)
    return _checked_on_read(path, dataset, names, digests, chunk)


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
        text = str(error).strip().splitlines()
        raise RunFileError(
            f"{path}: chunk {index} of {name!r} cannot be read, damaged "
            f"({text[0] if text else type(error).__name__})"
        ) from error
    _check_block(values, expected[index], name, path, index)
    return values
