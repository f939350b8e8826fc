"""The corpus of bad input (tests/corpus.py): every malformed config and run file gives
exit status 0 or 2, one line and never a traceback; an accepted config simulates to
finite, non-negative values; a damaged run is refused, never read as zeros."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import netsim
from netsim.cli import main

from .conftest import NET_CONFIG
from .corpus import (
    FILE_DAMAGES,
    HARMLESS_DAMAGES,
    METADATA_DAMAGES,
    bad_configs,
    bad_runs,
    config_contents,
    flip_a_data_byte,
    run_labels,
)


@pytest.fixture(scope="module")
def runs(small_runs):
    return small_runs


def _one_line(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("netsim: error:") and "Traceback" not in err


@pytest.fixture(scope="module")
def config_corpus(tmp_path_factory, runs) -> dict[str, Path]:
    """The config corpus written once for the module: label -> file."""
    return dict(bad_configs(tmp_path_factory.mktemp("config-corpus"), runs["nc"]))


@pytest.fixture(scope="module")
def config_outcomes() -> dict[str, str]:
    """Each config's outcome (``refused`` or ``accepted``), as the cases find it."""
    return {}


def _negative_or_not_finite(run) -> str | None:
    """The first output of ``run`` (the total and every ``by_`` split) holding a negative
    or non-finite value, or None."""
    for name in ("total", *[v for v in run.data_vars if str(v).startswith("by_")]):
        values = run[name].values
        if not (np.isfinite(values).all() and (values >= 0).all()):
            return str(name)
    return None


def _run_config(path: Path, out: Path, capsys) -> tuple[str, str | None]:
    """Run the config ``path`` (64 draws): its outcome, and what is wrong with it if any.

    The command runs first without ``--out`` (writing a run file costs about ten times
    the run itself, and the file's own path is checked for the NET scenario by
    tests/test_run_record.py and tests/test_files.py). A refused config is run again with
    ``--out``, which must refuse it in the same line and write nothing; an accepted one is
    simulated in memory with the command's draws and seed, and every output is checked."""
    argv = ["run", str(path), "--draws", "64", "--no-progress"]
    status = main(argv)
    captured = capsys.readouterr()
    if status == 2 and _one_line(captured.err):
        again = main([*argv, "--out", str(out)])
        err = capsys.readouterr().err
        if again != 2 or err != captured.err:
            return "refused", f"refused without --out, then status {again}: {err!r}"
        return "refused", f"refused, and {out.name} written" if out.exists() else None
    if status != 0:
        return "failed", f"status {status}: {captured.err!r}"
    if re.search(r"\bnan\b", captured.out, re.IGNORECASE):
        return "accepted", f"accepted, and the printed bands hold NaN: {captured.out!r}"
    run = netsim.simulate(netsim.load_scenario(path), 64, seed=0)
    name = _negative_or_not_finite(run)
    if name is not None:
        return "accepted", f"accepted, and {name} holds negative or non-finite values"
    return "accepted", None


@pytest.mark.slow
@pytest.mark.parametrize("label", [pytest.param(label, id=label) for label, _ in config_contents()])
def test_a_bad_config_is_refused_in_one_line_or_runs_to_finite_values(
    label, config_corpus, config_outcomes, tmp_path, capsys
):
    """One case of the config corpus: exit status 2 with one line and nothing written,
    or status 0 with finite, non-negative values."""
    outcome, problem = _run_config(config_corpus[label], tmp_path / "out.nc", capsys)
    config_outcomes[label] = outcome
    assert problem is None, f"{label} ({config_corpus[label].name}): {problem}"


@pytest.mark.slow
def test_the_config_corpus_holds_changes_that_are_fine_too(
    config_corpus, config_outcomes, tmp_path, capsys
):
    """The corpus is not all refusals (a command line refusing everything would pass the
    cases): some changes are accepted, and not all. The cases' outcomes are reused; configs
    not run in this process (a selection, or the cases another test worker ran) are run
    here, in order, until one accepted and one not accepted are known."""
    assert len(config_corpus) >= 150

    def both_seen() -> bool:
        outcomes = set(config_outcomes.values())
        return "accepted" in outcomes and len(outcomes) > 1

    for label, path in config_corpus.items():
        if both_seen():
            break
        if label not in config_outcomes:
            config_outcomes[label] = _run_config(path, tmp_path / "out.nc", capsys)[0]
        (tmp_path / "out.nc").unlink(missing_ok=True)
    accepted = sum(outcome == "accepted" for outcome in config_outcomes.values())
    assert 0 < accepted < len(config_outcomes), f"{accepted} of {len(config_outcomes)} accepted"


COMMANDS = {
    "bands": ["bands", "RUN"],
    "bands by region": ["bands", "RUN", "--by", "region"],
    "report": ["report", "RUN", "--out", "OUT/report.html"],
    "fan": ["plot", "fan", "RUN", "--out", "OUT/fan.png"],
    "spearman": ["sensitivity", str(NET_CONFIG), "--method", "spearman", "--run", "RUN"],
    "hist": ["plot", "hist", "RUN", "--out", "OUT/hist.png"],
    "resume": ["run", "--resume", "RUN", "--no-progress"],
}
# these damages must be refused by every command, never read
REFUSED_BY_ALL = (
    "empty",
    "text",
    "foreign NetCDF",
    "edited attribute netsim_version",
    "a total with NaN",
    "a byte of total flipped",
    "a byte of inputs flipped",
    "a byte of draw flipped",
    "reduced: a byte of its bands flipped",
    "store: a chunk file deleted",
    "store: chunk flags say undone",
    "store: attrs garbage",
    "store: a total chunk rewritten as zeros",
    "store: a total chunk replaced by another",
    "store: a draw chunk rewritten",
    "store: its checksums deleted, a chunk zeroed",
    *METADATA_DAMAGES,
    *(d for d in FILE_DAMAGES if "permissions" not in d or os.geteuid() != 0),
    "store: an empty folder",
    "store: a file named .zarr",
)
READ_ALL_THE_SAME = {
    ("store: chunk flags say undone", "resume"),  # what --resume is for: computed again
    ("a total with NaN", "hist"),  # the histogram's cell (the final year) holds no NaN
}


def _argv(command: str, path: Path, tmp_path: Path) -> list[str]:
    """The command's arguments; ``run --resume`` (which completes a store) gets a copy."""
    if command == "resume" and path.is_dir():
        copy = tmp_path / "resumed" / path.name
        shutil.rmtree(copy.parent, ignore_errors=True)
        copy.parent.mkdir()
        shutil.copytree(path, copy, symlinks=True)
        path = copy
    return [str(path) if a == "RUN" else a.replace("OUT", str(tmp_path)) for a in COMMANDS[command]]


@pytest.fixture(scope="module")
def run_corpus(tmp_path_factory, runs) -> dict[str, Path]:
    """The run-file corpus written once for the module: label -> file or store."""
    folder = tmp_path_factory.mktemp("run-corpus")
    return dict(bad_runs(folder, runs["nc"], runs["zarr"], runs["bands"]))


def _refusals(path: Path, tmp_path: Path, capsys) -> tuple[dict[str, str], list[str]]:
    """Every command on ``path``: the one-line refusals by command, and the answers that
    are neither a refusal nor free of NaN and silent zeros."""
    refusals, problems = {}, []
    for command in COMMANDS:
        status = main(_argv(command, path, tmp_path))
        captured = capsys.readouterr()
        if status == 2 and _one_line(captured.err):
            refusals[command] = captured.err
        elif status != 0 or "nan" in captured.out.lower() or " 0.00 " in captured.out:
            problems.append(f"{command}: status {status}: {captured.err!r}")
    return refusals, problems


@pytest.mark.slow
@pytest.mark.parametrize("label", [pytest.param(label, id=label) for label in run_labels()])
def test_a_damaged_run_is_refused_in_one_line_or_read_as_written(
    label, run_corpus, runs, tmp_path, capsys
):
    """One case of the run-file corpus through every reading command: refused in one line
    (by all of them where the damage must never be read, naming the store and the file
    inside it), or answered without NaN or silent zeros."""
    path = run_corpus[label]
    refusals, problems = _refusals(path, tmp_path, capsys)
    if label in REFUSED_BY_ALL:
        for command in COMMANDS:
            if command not in refusals and (label, command) not in READ_ALL_THE_SAME:
                problems.append(f"{command}: accepted")
    if label in METADATA_DAMAGES or label in FILE_DAMAGES:
        for command, err in refusals.items():
            if path.name not in err:
                problems.append(f"{command}: the refusal does not name it: {err!r}")
    # a chunk is checked when it is read: the command reading the inputs refuses (the
    # others answer from arrays that check out)
    inputs_refusal = f"{path}: chunk 0 of 'inputs' is damaged"
    if label == "store: an inputs chunk rewritten" and inputs_refusal not in refusals.get(
        "spearman", ""
    ):
        problems.append("spearman: accepted")
    if label in HARMLESS_DAMAGES:  # a consolidated store is read as any other
        problems += [f"{command}: refused" for command in refusals]
        np.testing.assert_array_equal(
            netsim.open_run(path)["total"].values, netsim.open_run(runs["zarr"])["total"].values
        )
    assert not problems, f"{label} ({path.name}):\n" + "\n".join(problems)


@pytest.mark.slow
def test_a_store_of_another_version_is_refused_naming_its_version(tmp_path, monkeypatch, capsys):
    """A store written by another netsim (whose layout may differ: the earlier one had
    no checksums) is refused by every reading command, naming both versions."""
    import netsim.model.layout
    import netsim.run.zarr_store

    store = tmp_path / "old.zarr"
    argv = ["run", str(NET_CONFIG), "--draws", "400", "--chunk-size", "200", "--no-progress"]
    with monkeypatch.context() as then:
        for module in (netsim.run.zarr_store, netsim.model.layout):
            then.setattr(module, "__version__", "0.1.0")
        assert main([*argv, "--out", str(store)]) == 0
    capsys.readouterr()
    for command in (["bands", str(store)], ["report", str(store)], ["run", "--resume", str(store)]):
        if command[0] == "report":
            command += ["--out", str(tmp_path / "report.html")]
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert _one_line(err), err
        assert f"{store}:" in err and f"netsim 0.1.0 (this is {netsim.__version__})" in err, err
    assert not (tmp_path / "report.html").exists()


@pytest.mark.slow
def test_report_of_a_damaged_netcdf_run_names_it(tmp_path, runs, capsys):
    """A NetCDF run holding a zeroed draw (its labels intact): the refusal found while
    reconciling its values names the file."""
    import h5py

    run = tmp_path / "zeroed.nc"
    shutil.copy(runs["nc"], run)
    with h5py.File(run, "r+") as handle:  # draw 0 zeroed in every output
        for array in handle.values():
            if array.dtype == np.float32 and array.ndim >= 3:
                array[0] = 0.0
    assert main(["report", str(run), "--out", str(tmp_path / "report.html")]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and f"{run}: a top-down value is not > 0" in err, err
    assert not (tmp_path / "report.html").exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["bands", "report", "plot"])
def test_a_flipped_byte_in_a_run_read_as_used_is_refused_naming_it(
    tmp_path, runs, monkeypatch, capsys, command
):
    """A run too big to read whole is read chunk by chunk as the analysis needs it: a
    chunk whose checksum fails then is refused as damage, naming the run."""
    import netsim.run.reading

    run = tmp_path / "flipped.nc"
    shutil.copy(runs["nc"], run)
    flip_a_data_byte(run, "total")
    monkeypatch.setattr(netsim.run.reading, "memory_budget", lambda: 1_000.0)
    argv = {
        "bands": ["bands", str(run)],
        "report": ["report", str(run), "--out", str(tmp_path / "report.html")],
        "plot": ["plot", "fan", str(run), "--out", str(tmp_path / "fan.png")],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and f"{run}: damaged: a chunk's checksum does not match" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flipped.nc"]


def _flip(path: Path, pattern: bytes, at: int = 0, last: bool = False) -> None:
    """Flip one bit of the byte ``at`` bytes into the first (or ``last``) ``pattern`` in
    ``path``: a byte changed on disk, where no HDF5 call would write."""
    data = bytearray(path.read_bytes())
    offset = (data.rindex(pattern) if last else data.index(pattern)) + at
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.slow
def test_a_run_with_a_damaged_root_header_is_refused_in_one_line(tmp_path, runs):
    """A flipped byte in the file's root object header (its attributes): h5netcdf fails
    halfway through opening it and its half-made file object printed a traceback when
    collected; the refusal is now the only line."""
    import subprocess
    import sys

    run = tmp_path / "header.nc"
    shutil.copy(runs["nc"], run)
    _flip(run, b"OHDR")
    done = subprocess.run(
        [sys.executable, "-m", "netsim.cli", "bands", str(run)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(netsim.__file__).parents[1])},
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert _one_line(done.stderr) and f"{run} is not a readable NetCDF file" in done.stderr, (
        done.stderr
    )


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["nc", "bands"])
@pytest.mark.parametrize("where", ["text variable", "scenario document"])
def test_a_changed_byte_in_a_parameter_source_is_refused(tmp_path, runs, capsys, kind, where):
    """A run's texts carry no HDF5 checksum: the sources of its parameters (a text
    variable) and the scenario document (an attribute, whose figures and sources the
    report and workbook print). A changed byte in either was read as written; the
    labels' digest now covers them."""
    source = str(netsim.open_run(runs[kind])["parameter_source"].values[0])
    run = tmp_path / "source.nc"
    shutil.copy(runs[kind], run)
    _flip(run, source.encode(), at=3, last=where == "text variable")
    for argv in (
        ["bands", str(run)],
        ["sensitivity", str(NET_CONFIG), "--method", "spearman", "--run", str(run)],
        ["report", str(run), "--out", str(tmp_path / "report.html")],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert _one_line(err) and f"{run}: its labels, settings or texts were edited" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.nc"]


@pytest.mark.slow
def test_a_run_stamped_before_texts_were_digested_is_read(tmp_path, runs, capsys):
    """A file stamped with the earlier digest (coordinates and settings, no text
    variables) is read as before."""
    import h5py

    from netsim.run.writing import labels_digest

    run = tmp_path / "earlier.nc"
    shutil.copy(runs["bands"], run)
    earlier = labels_digest(netsim.open_run(run), texts=False)
    with h5py.File(run, "r+") as handle:
        handle.attrs["labels_digest"] = earlier
    assert main(["bands", str(run)]) == 0, capsys.readouterr().err
    with h5py.File(run, "r+") as handle:
        handle.attrs["labels_digest"] = earlier[::-1]
    assert main(["bands", str(run)]) == 2
    assert "its labels, settings or texts were edited or damaged" in capsys.readouterr().err


@pytest.mark.slow
def test_a_changed_parameter_name_in_a_sobol_file_is_refused(tmp_path, capsys):
    """A Sobol file's labels are checked as a run's are: a byte of a parameter's name
    changed on disk was drawn in the chart under the changed name."""
    result = tmp_path / "sobol.nc"
    argv = ["sensitivity", str(NET_CONFIG), "--method", "sobol", "--draws", "64"]
    assert main([*argv, "--out", str(result)]) == 0
    capsys.readouterr()
    name = str(netsim.run.reading._open_netcdf(result)["parameter"].values[0])
    _flip(result, name.encode(), at=1, last=True)
    chart = tmp_path / "sobol.png"
    assert main(["plot", "sobol", str(result), "--out", str(chart)]) == 2
    err = capsys.readouterr().err
    assert (
        _one_line(err) and f"{result}: its labels, settings or texts were edited or damaged" in err
    ), err
    assert not chart.exists()


@pytest.mark.slow
def test_a_damaged_sobol_file_read_with_a_big_run_is_named(tmp_path, runs, monkeypatch, capsys):
    """``report --sensitivity``: with both files too big to read whole, a damaged chunk
    of the Sobol file was found while the report was written and blamed on the run. A
    result file is read whole (it holds indices per cell, not draws) and named."""
    import netsim.run.reading

    result = tmp_path / "sobol.nc"
    argv = ["sensitivity", str(NET_CONFIG), "--method", "sobol", "--draws", "64"]
    assert main([*argv, "--out", str(result)]) == 0
    flip_a_data_byte(result, "total_order")
    monkeypatch.setattr(netsim.run.reading, "memory_budget", lambda: 1_000.0)
    report = tmp_path / "report.html"
    argv = ["report", str(runs["nc"]), "--sensitivity", str(result), "--out", str(report)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and f"{result} is damaged: a chunk's checksum" in err, err
    assert str(runs["nc"]) not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sobol.nc"]


@pytest.mark.slow
def test_a_damaged_chunk_index_of_a_run_read_as_used_names_the_run(
    tmp_path, runs, monkeypatch, capsys
):
    """A byte of a chunk index (an HDF5 B-tree, which has no checksum) changed in a run
    too big to read whole: HDF5's error came while the bands were computed and was
    told as "printing the results failed"; it names the run as damaged."""
    import h5py

    import netsim.run.reading

    run = tmp_path / "index.nc"
    shutil.copy(runs["bands"], run)
    with h5py.File(run, "r") as handle:
        chunk = handle["total_global"].id.get_chunk_info(0).byte_offset
    data = bytearray(run.read_bytes())
    tree = data.rfind(b"TREE", 0, data.index(chunk.to_bytes(8, "little")))
    data[tree + 32] ^= 0x10  # the first chunk's offset along the first dimension
    run.write_bytes(bytes(data))
    monkeypatch.setattr(netsim.run.reading, "memory_budget", lambda: 1_000.0)
    assert main(["bands", str(run)]) == 2
    err = capsys.readouterr().err
    assert _one_line(err) and f"{run}: damaged (" in err and "printing" not in err, err
