"""Reading runs (netsim.run.reading): open_run opens every kind of run ``netsim run``
writes, and refuses in one line, naming it, any path that is not a netsim run. The kinds
and the paths are made once a session (tests/run_kinds.py); every command on them:
tests/test_run_kinds.py; damaged runs: tests/test_corpus.py, tests/test_zarr_store.py."""

from __future__ import annotations

import pytest

import netsim
from netsim.errors import ScenarioError

from .run_kinds import DRAWS, KINDS, NON_RUNS


def test_open_run_opens_every_kind(run_kinds_opened):
    assert {kind: run_kinds_opened[kind].attrs.get("reduce") for kind in KINDS} == {
        "cube": None,
        "record": None,
        "zarr": None,
        "reduced": "bands",
    }
    assert run_kinds_opened["cube"].sizes["draw"] == run_kinds_opened["zarr"].sizes["draw"] == DRAWS
    assert run_kinds_opened["record"].sizes["draw"] == DRAWS
    assert run_kinds_opened["zarr"]["total"].chunks is not None  # lazy, chunk by chunk
    assert int(run_kinds_opened["reduced"].attrs["draws"]) == DRAWS


@pytest.mark.parametrize("path", NON_RUNS)
def test_open_run_refuses_what_is_not_a_run(path, non_runs):
    target = non_runs[path]
    with pytest.raises(ScenarioError) as error:
        netsim.open_run(target)
    message = str(error.value)
    assert "\n" not in message and str(target) in message
    if path == "incomplete-zarr":
        assert f"netsim run --resume {target}" in message
