"""``netsim serve``: what the page writes and gives, over real HTTP: overlays saved
beside the scenario (never over a file), and downloads named by encoding the
scenario's file name, never copying it, into their header."""

from __future__ import annotations

import email.utils
import json
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import xarray as xr

from netsim.cli import main
from netsim.present.whatif.server import Export, make_server
from netsim.present.whatif.session import WhatIf

from .conftest import NET_CONFIG
from .whatif_serving import (
    DRAWS,
    ODD_NAMES,
    OUTAGE,
    PRRT_LOW,
    PRRT_MODE,
    SEED,
    host_line,
    only_the_config,
    raw,
    request,
    run,
    server_apart,
    serving,
    serving_a_config_named,
    shared_server,
)

served = shared_server()


apart = server_apart()


# --- downloads ---------------------------------------------------------------------------


def _bands_csv(session, changes, view):
    """A download for the hook's test: the picked view's bands as CSV."""
    result = session.evaluate(changes, view)
    lines = ["year,P5,P50,P95"]
    fan = result["picked"]["fan"]
    for i, year in enumerate(result["years"]):
        lines.append(f"{year},{fan[0][i]!r},{fan[2][i]!r},{fan[4][i]!r}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def served_with_export(served):
    exports = {"csv": Export("Download (csv)", "text/csv", "csv", _bands_csv)}
    with serving(make_server(served.session, port=0, exports=exports)) as server:
        yield server


def test_a_download_is_the_export_of_the_pages_changes(served_with_export, served):
    state = request(served_with_export, "/api/state")[2]
    assert state["exports"] == [{"name": "csv", "label": "Download (csv)"}]
    assert request(served, "/api/state")[2]["exports"] == []  # none unless given
    body = {"changes": {PRRT_MODE: 2.0}, "view": "region:Europe"}
    status, head, text = request(served_with_export, "/api/export/csv", body)
    assert status == 200 and head["Content-Type"].startswith("text/csv")
    assert head["Content-Disposition"].startswith('attachment; filename="net_market.whatif.csv"')
    assert text.splitlines()[0] == "year,P5,P50,P95" and len(text.splitlines()) == 8
    status, _, refused = request(served_with_export, "/api/export/csv", {"changes": {PRRT_LOW: 9}})
    assert status == 400 and "must be <=" in refused["errors"][PRRT_LOW]
    assert request(served_with_export, "/api/export/xlsx", body)[0] == 404
    assert request(served, "/api/export/csv", body)[0] == 404


def test_the_xlsx_download_is_the_comparison_of_the_page_s_changes(served, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    from netsim.present.whatif.download import XLSX_TYPE, xlsx_export

    server = make_server(served.session, port=0, exports={"xlsx": xlsx_export()})
    with serving(server):
        body = json.dumps({"changes": {PRRT_MODE: 2.0}, "view": "global"}).encode()
        req = urllib.request.Request(
            server.url.rstrip("/") + "/api/export/xlsx", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=120) as response:
            head, data = response.headers, response.read()
    assert head["Content-Type"] == XLSX_TYPE
    assert head["Content-Disposition"].startswith('attachment; filename="net_market.whatif.xlsx"')
    path = tmp_path / "page.xlsx"
    path.write_bytes(data)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Bands", "Differences", "Assumptions"]
    # the page's own final-year paired difference of the world, P50: the same draws
    page = served.session.evaluate({PRRT_MODE: 2.0}, "global")
    sheet = book["Differences"]
    headers = [c.value for c in sheet[3]]
    rows = [
        dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(min_row=4, values_only=True)
    ]
    world = next(
        r
        for r in rows
        if r["place"] == "World" and r["output"] == "total" and r["year"] == page["years"][-1]
    )
    assert world["difference P50 (USD million)"] == pytest.approx(
        page["global"]["difference"][1], rel=1e-6
    )
    assert {r["output"] for r in rows} == {"total", "by_modality", "by_indication", "by_end_user"}
    changed = [
        r
        for r in book["Assumptions"].iter_rows(min_row=4, values_only=True)
        if r[0] == "changed in what-if"
    ]
    assert [(r[1], r[3]) for r in changed] == [(PRRT_MODE, 2.0)]


@pytest.mark.parametrize(("name", "download", "saved_as"), ODD_NAMES)
def test_a_download_name_is_encoded_into_one_header_never_copied(
    tmp_path, name, download, saved_as
):
    body = b'{"changes": {}, "view": "global"}'
    with serving_a_config_named(tmp_path, name) as server:
        answer = raw(
            server,
            b"POST /api/export/csv HTTP/1.1\r\n%sContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (host_line(server), len(body), body),
        )
    head, _, data = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ") and data == b"year\n2031\n"
    assert head.isascii()
    names = [line.split(b":")[0].lower() for line in head.split(b"\r\n")[1:]]
    assert b"set-cookie" not in names and b"x" not in names
    assert names.count(b"content-disposition") == 1
    (disposition,) = [
        line.split(b": ", 1)[1].decode()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-disposition:")
    ]
    exact = disposition.split("; filename*=", 1)[1]  # RFC 8187: charset'language'%-encoded
    charset, _, encoded = email.utils.decode_rfc2231(exact)
    assert charset.lower() == "utf-8" and urllib.parse.unquote(encoded, errors="strict") == download
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and fallback.endswith(".whatif.csv")


def test_a_download_name_is_rfc_6266():
    from netsim.present.whatif.server import content_disposition

    assert content_disposition('市场 "ü".xlsx') == (
        "attachment; filename=\"__ ___.xlsx\"; filename*=utf-8''"
        "%E5%B8%82%E5%9C%BA%20%22%C3%BC%22.xlsx"
    )
    assert content_disposition("net_market.whatif.xlsx") == (
        "attachment; filename=\"net_market.whatif.xlsx\"; filename*=utf-8''net_market.whatif.xlsx"
    )


# --- saves ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_saved_overlay_reproduces_the_page_through_compare(served, tmp_path, capsys):
    changes = {PRRT_MODE: 2.1, OUTAGE: 0.3, "market.base_scale.low": 0.9}
    status, _, page = run(served, changes, "region:Europe")
    assert status == 200
    status, _, saved = request(served, "/api/save", {"changes": changes})
    assert status == 200, saved
    path = Path(saved["path"])
    config = served.session.config
    assert path.parent == config.parent and path.name == "net_market.whatif-1.toml"
    text = path.read_text()
    assert 'extends = "net_market.toml"' in text
    assert 'source = "assumption: set in the what-if page: 0.15 -> 0.3"' in text
    assert "mode 1.5 -> 2.1" in text and "low 0.92 -> 0.9" in text
    assert "[drivers.rising_prevalence" not in text  # only what differs
    out = tmp_path / "compare.nc"
    for by in ("global", "region"):
        argv = ["compare", str(config), str(path), "--draws", str(DRAWS), "--seed", str(SEED)]
        assert main([*argv, "--by", by, "--out", str(out)]) == 0
        result = xr.open_dataset(out).load()
        final = result.sel(year=result["year"].values[-1]).isel(scenario=0)
        part = page["global"] if by == "global" else page["picked"]
        if by == "region":
            final = final.sel(region="Europe")
        assert final["difference"].values.tolist() == part["difference"]
        assert float(final["prob_greater"]) == part["prob_greater"]
        assert final["other"].values.tolist() == [part["fan"][i][-1] for i in (0, 2, 4)]
        assert final["base"].values.tolist() == [part["base_fan"][i][-1] for i in (0, 2, 4)]
        assert not bool(result["recalibrated"].values[0])
    assert main(["run", str(path), "--draws", "200", "--no-progress"]) == 0
    capsys.readouterr()
    # a second save takes the next number; no change, nothing saved
    assert request(served, "/api/save", {"changes": changes})[2]["path"].endswith("-2.toml")
    status, _, body = request(served, "/api/save", {"changes": {}})
    assert status == 400 and "nothing is changed" in body["errors"][""]
    status, _, body = request(served, "/api/save", {"changes": {PRRT_LOW: 1.8}})
    assert status == 400 and not (config.parent / "net_market.whatif-3.toml").exists()


def test_saves_during_runs_and_each_other_each_get_their_own_file(apart):
    def one(i):
        if i % 2:
            return run(apart, {PRRT_MODE: 1.51 + i / 100})
        return request(apart, "/api/save", {"changes": {PRRT_MODE: 1.51 + i / 100}})

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(one, range(12)))
    assert [a[0] for a in answers] == [200] * 12, answers
    saved = sorted(Path(a[2]["path"]).name for a in answers[::2])
    assert saved == sorted(f"net_market.whatif-{n}.toml" for n in range(1, 7))
    for i, answer in enumerate(answers[::2]):
        assert f"mode 1.5 -> {1.51 + 2 * i / 100}" in Path(answer[2]["path"]).read_text()


@pytest.mark.parametrize(
    ("where", "error", "said"),
    [
        pytest.param(
            "_flush",
            OSError(28, "No space left on device"),
            "writing failed (No space left",
            id="disk-full",
        ),
        pytest.param(
            "_new_temporary",
            PermissionError(13, "Permission denied"),
            "(Permission denied)",
            id="read-only",
        ),
    ],
)
def test_a_save_that_cannot_be_written_is_one_line_and_leaves_nothing(
    apart, monkeypatch, where, error, said
):
    import netsim.output_files

    def fail(*args):
        raise error

    monkeypatch.setattr(netsim.output_files, where, fail)
    status, _, body = request(apart, "/api/save", {"changes": {PRRT_MODE: 2.0}})
    assert status == 500
    assert list(body["errors"]) == [""] and said in body["errors"][""]
    assert "\n" not in body["errors"][""]
    only_the_config(apart)  # no overlay, no temporary
    monkeypatch.undo()
    assert request(apart, "/api/save", {"changes": {PRRT_MODE: 2.0}})[0] == 200


def test_a_name_another_writer_takes_during_the_save_is_kept_and_the_next_is_used(
    apart, monkeypatch
):
    """Two pages on one scenario folder: the other takes ``whatif-1`` after this save
    found it free; its file is kept whole and this save goes to ``whatif-2``."""
    import netsim.output_files

    folder = apart.session.config.parent
    taken = folder / "net_market.whatif-1.toml"
    flush = netsim.output_files._flush

    def other_writer_first(path):
        if not taken.exists():
            taken.write_text("# the other page's overlay\n")
        flush(path)

    monkeypatch.setattr(netsim.output_files, "_flush", other_writer_first)
    status, _, body = request(apart, "/api/save", {"changes": {OUTAGE: 0.2}})
    assert status == 200 and Path(body["path"]).name == "net_market.whatif-2.toml"
    assert taken.read_text() == "# the other page's overlay\n"
    assert sorted(p.name for p in folder.iterdir()) == [
        "net_market.toml",
        "net_market.whatif-1.toml",
        "net_market.whatif-2.toml",
    ]


def test_saves_are_bounded(apart, monkeypatch):
    import netsim.present.whatif.session as session

    monkeypatch.setattr(session, "MAX_SAVED", 2)
    for n in (1, 2):
        assert request(apart, "/api/save", {"changes": {OUTAGE: n / 10}})[0] == 200
    status, _, body = request(apart, "/api/save", {"changes": {OUTAGE: 0.3}})
    assert status == 400 and "2 what-if overlays exist" in body["errors"][""]
    assert len(list(apart.session.config.parent.glob("*.whatif-*.toml"))) == 2


def test_a_saved_overlay_of_names_in_any_script_loads(tmp_path):
    """Names of other scripts, quotes and markup are quoted keys in the saved overlay (a
    bare TOML key is ASCII letters, digits, _ and - only): the file loads back."""
    import netsim
    from netsim.present.whatif.controls import key_path

    from .helpers import small_scenario, write_toml
    from .test_names import renamed

    doc = small_scenario()
    for old, new in (("launch", "Pâques"), ("outage", 'a"b\\c <i>'), ("d0", "élan")):
        doc = renamed(doc, old, new)
    config = tmp_path / "odd.toml"
    write_toml(doc, config)
    session = WhatIf(config, 200, SEED)
    changes = {
        key_path(("events", "Pâques", "probability", "value")): 0.25,
        key_path(("events", 'a"b\\c <i>', "probability", "value")): 0.2,
        key_path(("drivers", "élan", "impact", "mode")): 1.2,
    }
    path = session.save(changes)
    loaded = netsim.load_scenario(path)
    events = {e.id: e for e in loaded.events}
    assert set(events) == {"Pâques", 'a"b\\c <i>'}
    document = loaded.document_json
    assert '"probability": {"value": 0.25' in document and '"mode": 1.2' in document
    # an impossible value is refused at its own control, not for the page as a whole
    from netsim.present.whatif.session import ChangeError

    for name in ("Pâques", "a=b"):
        if name == "a=b":
            doc = renamed(doc, 'a"b\\c <i>', name)
            write_toml(doc, config)
            session = WhatIf(config, 200, SEED)
        key = key_path(("events", name, "probability", "value"))
        with pytest.raises(ChangeError) as refused:
            session.evaluate({key: 1.5}, "global")
        assert list(refused.value.errors) == [key], refused.value.errors


SAVER = """
import sys, time
from netsim.present.whatif.session import WhatIf
session = WhatIf(sys.argv[1], 200, 0)
who, start = int(sys.argv[2]), float(sys.argv[3])
while time.time() < start:
    time.sleep(0.001)
for i in range(15):
    value = 1.51 + who * 0.3 + i / 1000
    print(session.save({sys.argv[4]: value}).name, repr(value), flush=True)
"""


@pytest.mark.slow
def test_two_pages_in_two_processes_saving_at_once_each_get_their_own_files(tmp_path):
    """Two what-if pages (two processes) on one scenario folder saving as fast as they
    can: every save is a file of its own holding its own change, with no temporaries
    left, and a dangling link or a folder under an overlay's name is passed over."""
    import netsim

    config = tmp_path / "net_market.toml"
    shutil.copyfile(NET_CONFIG, config)
    (tmp_path / "net_market.whatif-2.toml").symlink_to(tmp_path / "nowhere" / "x.toml")
    (tmp_path / "net_market.whatif-3.toml").mkdir()
    start = time.time() + 8  # both sessions made (a base run each) before the first save
    env = {"PYTHONPATH": str(Path(netsim.__file__).parents[1]), "PATH": "/usr/bin:/bin"}
    savers = [
        subprocess.Popen(
            [sys.executable, "-c", SAVER, str(config), str(who), str(start), PRRT_MODE],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for who in (0, 1)
    ]
    saved = {}
    for saver in savers:
        out, err = saver.communicate(timeout=120)
        assert saver.returncode == 0, err
        saved.update(line.split(" ", 1) for line in out.splitlines())
    assert len(saved) == 30
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {
        "net_market.toml",
        "net_market.whatif-2.toml",
        "net_market.whatif-3.toml",
        *saved,
    }
    for name, value in saved.items():
        assert f"mode 1.5 -> {value}" in (tmp_path / name).read_text(), name
