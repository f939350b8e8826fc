"""The corpus of bad input (tests/corpus.py): every malformed config and run file gives
exit status 0 or 2, one line and never a traceback; an accepted config simulates to
finite, non-negative values; a damaged run is refused, never read as zeros."""

from __future__ import annotations

import numpy as np
import pytest

import netsim
from netsim.cli import main

from .conftest import NET_CONFIG
from .corpus import bad_configs, bad_runs
from .helpers import three_runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return three_runs(tmp_path_factory.mktemp("corpus-runs"), draws=600, seed=3)


def _one_line(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("netsim: error:") and "Traceback" not in err


@pytest.mark.slow
def test_config_corpus(tmp_path, runs, capsys):
    cases = bad_configs(tmp_path, runs["nc"])
    assert len(cases) >= 150
    accepted, problems = 0, []
    for label, path in cases:
        out = tmp_path / "out.nc"
        status = main(["run", str(path), "--draws", "64", "--no-progress", "--out", str(out)])
        err = capsys.readouterr().err
        if status == 2 and _one_line(err):
            assert not out.exists(), label
            continue
        if status != 0:
            problems.append(f"{label}: status {status}: {err!r}")
            continue
        accepted += 1
        run = netsim.open_run(out)
        for name in ("total", *[v for v in run.data_vars if str(v).startswith("by_")]):
            values = run[name].values
            if not (np.isfinite(values).all() and (values >= 0).all()):
                problems.append(
                    f"{label}: accepted, and {name} holds negative or non-finite values"
                )
        out.unlink()
    assert not problems, "\n".join(problems)
    assert 0 < accepted < len(cases)  # the corpus holds changes that are fine, too


COMMANDS = {
    "bands": ["bands", "RUN"],
    "bands by region": ["bands", "RUN", "--by", "region"],
    "report": ["report", "RUN", "--out", "OUT/report.html"],
    "fan": ["plot", "fan", "RUN", "--out", "OUT/fan.png"],
    "spearman": ["sensitivity", str(NET_CONFIG), "--method", "spearman", "--run", "RUN"],
}


@pytest.mark.slow
def test_run_corpus(tmp_path, runs, capsys):
    cases = bad_runs(tmp_path, runs["nc"], runs["zarr"], runs["bands"])
    problems = []
    for label, path in cases:
        for command, argv in COMMANDS.items():
            argv = [str(path) if a == "RUN" else a.replace("OUT", str(tmp_path)) for a in argv]
            status = main(argv)
            captured = capsys.readouterr()
            if status == 2 and _one_line(captured.err):
                continue
            if status == 0 and "nan" not in captured.out.lower() and " 0.00 " not in captured.out:
                continue
            problems.append(f"{label} / {command}: status {status}: {captured.err!r}")
    # these damages must be refused by every command, never read
    refused_by_all = [
        "empty",
        "text",
        "foreign NetCDF",
        "edited attribute netsim_version",
        "a total with NaN",
        "store: a chunk file deleted",
        "store: chunk flags say undone",
        "store: attrs garbage",
        "store: a total chunk rewritten as zeros",
        "store: a total chunk replaced by another",
        "store: a draw chunk rewritten",
        "store: its checksums deleted, a chunk zeroed",
    ]
    for label in refused_by_all:
        path = dict(cases)[label]
        for command, argv in COMMANDS.items():
            argv = [str(path) if a == "RUN" else a.replace("OUT", str(tmp_path)) for a in argv]
            if main(argv) != 2:
                problems.append(f"{label} / {command}: accepted")
            capsys.readouterr()
    # a chunk is checked when it is read: the commands that read the damaged inputs refuse
    # (the others answer from arrays that check out)
    inputs_damaged = dict(cases)["store: an inputs chunk rewritten"]
    argv = [str(inputs_damaged) if a == "RUN" else a for a in COMMANDS["spearman"]]
    if main(argv) != 2 or "chunk 0 of 'inputs' is damaged" not in capsys.readouterr().err:
        problems.append("store: an inputs chunk rewritten / spearman: accepted")
    assert not problems, "\n".join(problems)
