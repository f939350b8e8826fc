"""``netsim serve``: the what-if page's server, over real HTTP and in headless Chromium.

The server runs on a free port in a thread of this process (or, for the command, in a
subprocess); requests go through urllib, the page through the system's Chromium.
"""

from __future__ import annotations

import contextlib
import json
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import xarray as xr

from netsim.cli import main
from netsim.present.whatif.server import Coalescer, make_server
from netsim.present.whatif.session import WhatIf

from .conftest import NET_CONFIG

DRAWS, SEED = 2_000, 3
PRRT_MODE = "drivers.targeted_prrt_expansion.impact.mode"
PRRT_LOW = "drivers.targeted_prrt_expansion.impact.low"
OUTAGE = "events.isotope_outage.probability.value"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A server of the NET scenario (copied to a folder of its own: saves land there)."""
    folder = tmp_path_factory.mktemp("whatif")
    config = folder / "net_market.toml"
    shutil.copyfile(NET_CONFIG, config)
    with serving(make_server(WhatIf(config, DRAWS, SEED), port=0)) as server:
        yield server


@contextlib.contextmanager
def serving(server):
    """The server answering in a thread of its own, shut down and closed on leaving."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def request(server, path, body=None, headers=None, method=None):
    """(status, headers, decoded JSON or text) of one real HTTP request."""
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    given = {"Content-Type": "application/json"} if body is not None else {}
    given.update(headers or {})
    req = urllib.request.Request(server.url.rstrip("/") + path, data, given, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            status, head, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, raw = error.code, error.headers, error.read()
    text = raw.decode()
    is_json = head.get("Content-Type", "").startswith("application/json")
    return status, head, json.loads(text) if is_json else text


def run(server, changes, view="global"):
    return request(server, "/api/run", {"changes": changes, "view": view})


# --- the command ---------------------------------------------------------------------


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _start(config: Path, *extra: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "netsim.cli", "serve", str(config), "--draws", "500", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C and SIGTERM as a terminal gives them, whatever this process was started
        # with (a shell starts a background job with SIGINT ignored, and children inherit it)
        preexec_fn=_default_signals,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "http://" in line:
            return process, line.split()[-1]
    raise AssertionError(f"no address printed: {lines} {process.stderr.read()}")


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_starts_says_where_and_stops_cleanly(stop):
    process, url = _start(NET_CONFIG, "--port", "0")
    try:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200 and b"what-if" in response.read()
    finally:
        process.send_signal(stop)
        try:
            _, err = process.communicate(timeout=120)
        finally:
            process.kill()  # never left running (a no-op once it has ended)
            process.wait()
    assert process.returncode == 0, err
    assert err.strip() == "netsim serve: stopped", err
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    with socket.socket() as probe:  # nothing listens there any more
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()


@pytest.mark.slow
def test_a_busy_port_is_refused_in_one_line(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", str(NET_CONFIG), "--port", str(port), "--draws", "100"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"port {port} on 127.0.0.1 is busy" in err


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["missing.toml", "--port", "0"],
        [str(NET_CONFIG), "--port", "0", "--draws", "0"],
        [str(NET_CONFIG), "--port", "70000"],
        [str(NET_CONFIG), "--port", "0", "--threads", "0"],
        [str(NET_CONFIG), "--port", "0", "--draws", "100000000000"],
    ],
)
def test_bad_arguments_are_one_line(argv, capsys):
    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("netsim: error: "), err


@pytest.mark.slow
def test_the_overlay_merge_is_the_loaders(served):
    from netsim.present.whatif.controls import overlay_tree
    from netsim.present.whatif.session import _merge
    from netsim.scenario.documents import merge_overlay

    session = served.session
    changes = {PRRT_MODE: 2.0, OUTAGE: 0.4, "market.base_scale.high": 1.1}
    tree = overlay_tree(session.overlay(changes))
    assert _merge(session.document, tree) == merge_overlay(session.document, tree)
    assert session.overlay({PRRT_MODE: 1.5}) == {}  # the file's own value is no change


# --- HTTP ------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_page_and_its_assets_are_served_by_netsim(served):
    status, head, html = request(served, "/")
    assert status == 200 and head["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in head["Content-Security-Policy"]
    assert "http" not in html.replace('href="data:,"', "")  # nothing from elsewhere
    for path in ("/page.js", "/page.css"):
        status, _, text = request(served, path)
        assert status == 200 and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    status, _, state = request(served, "/api/state")
    assert status == 200 and state["draws"] == DRAWS and state["seed"] == SEED
    keys = {c["key"] for c in state["controls"]}
    assert {PRRT_MODE, PRRT_LOW, OUTAGE, "market.base_scale.low"} <= keys
    assert all(c["source"].startswith(("report:", "assumption:")) for c in state["controls"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    [
        "/x",
        "/api",
        "/api/run/",
        "/../configs/net_market.toml",
        "/page.js?x",
        "//etc",
        "/%00",
        "/page.js%00",
        "/..%2f..%2fconfigs%2fnet_market.toml",
        "/api%2frun",
        "/%E5%B8%82%E5%9C%BA",
        "/api/export/",
        "/api/export/..%2fxlsx",
    ],
)
def test_paths_outside_the_page_are_404(served, path):
    assert request(served, path)[0] == 404
    assert request(served, path, {"changes": {}})[0] == 404


@pytest.mark.slow
@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "attacker.example:80"},  # DNS rebinding: the name is not ours
        {"Host": "127.0.0.1:1"},
        {"Origin": "http://attacker.example"},
        {"Origin": "null"},
    ],
)
def test_other_hosts_and_origins_are_403(served, headers):
    assert request(served, "/", headers=headers)[0] == 403
    status, _, body = request(served, "/api/run", {"changes": {PRRT_MODE: 2.0}}, headers)
    assert status == 403, body


@pytest.mark.slow
@pytest.mark.parametrize(
    "method", ["PROPFIND", "TRACE", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "BREW"]
)
def test_a_method_the_page_does_not_use_is_refused_as_json_after_the_host_check(served, method):
    status, head, body = request(served, "/", method=method)
    assert status == 405 and body == {"error": f"Unsupported method ('{method}')"}
    assert "default-src 'none'" in head["Content-Security-Policy"]
    foreign = {"Host": "attacker.example"}
    assert request(served, "/", headers=foreign, method=method)[0] == 403


@pytest.mark.slow
def test_an_over_long_header_gets_a_json_431_and_the_server_goes_on(served):
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as client:
        client.sendall(b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n")
        reply = client.recv(65536).decode()
    assert reply.startswith("HTTP/1.1 431") and "application/json" in reply
    assert "<html" not in reply.lower() and "Content-Security-Policy" in reply
    assert run(served, {})[0] == 200


@pytest.mark.slow
def test_a_refused_requests_body_is_never_read_as_a_request(served):
    """A cross-origin POST whose body is itself a request: the 403 closes the connection."""
    inner = (
        f"POST /api/save HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
        'Content-Type: application/json\r\nContent-Length: 15\r\n\r\n{"changes": {}}'
    ).encode()
    outer = (
        f"POST /api/save HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
        f"Origin: http://attacker.example\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(inner)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as client:
        client.sendall(outer + inner)
        replies = b""
        while chunk := client.recv(65536):
            replies += chunk
    assert replies.startswith(b"HTTP/1.1 403") and replies.count(b"HTTP/1.1 ") == 1


@pytest.mark.slow
def test_the_own_origin_and_localhost_are_served(served):
    own = {"Origin": served.url.rstrip("/")}
    assert run(served, {})[0] == 200
    assert request(served, "/api/run", {"changes": {}, "view": "global"}, own)[0] == 200
    assert request(served, "/", headers={"Host": f"localhost:{served.port}"})[0] == 200


@pytest.mark.slow
def test_a_raised_driver_moves_the_final_median_its_way(served):
    status, _, before = run(served, {}, "modality:PRRT")
    assert status == 200
    status, _, after = run(served, {PRRT_MODE: 2.2}, "modality:PRRT")
    assert status == 200 and after["changes"] == {PRRT_MODE: 2.2}
    for part in ("global", "picked"):
        assert after[part]["fan"][2][-1] > before[part]["fan"][2][-1]
        assert after[part]["base_fan"] == before[part]["fan"]  # the base is the unchanged run
        assert after[part]["difference"][1] > 0 and after[part]["prob_greater"] > 0.5
    assert before["global"]["difference"] == [0.0, 0.0, 0.0]
    status, _, lower = run(served, {"restraints.isotope_supply.impact.mode": -1.3})
    assert lower["global"]["fan"][2][-1] < before["global"]["fan"][2][-1]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("changes", "key", "rule"),
    [
        ({PRRT_LOW: 1.8}, PRRT_LOW, "must be <= mode=1.5"),
        ({OUTAGE: 1.5}, OUTAGE, "must be <= 1"),
        ({PRRT_MODE: float("nan")}, PRRT_MODE, "must be finite"),
        ({PRRT_MODE: None}, PRRT_MODE, "must be a number"),
        ({PRRT_MODE: "2"}, PRRT_MODE, "must be a number"),
        ({"drivers.targeted_prrt_expansion.impact.high": -1.0}, None, "must be"),
        ({"scenario.name": 1.0}, "", "is not a parameter of this page"),
        ({"../../etc/passwd": 1.0}, "", "is not a parameter of this page"),
    ],
)
def test_an_impossible_value_is_refused_with_its_rule(served, changes, key, rule):
    status, _, body = run(served, changes)
    assert status == 400, body
    errors = body["errors"]
    assert len(errors) == 1
    ((where, message),) = errors.items()
    assert rule in message and "\n" not in message
    if key is not None:
        assert where == key


@pytest.mark.slow
@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[1]",
        b'{"changes": [1]}',
        b'{"changes": {}, "view": "nowhere"}',
        b"\xff",
        b'{"changes": {}, "view": ["global"]}',
        b'{"changes": {"%s": 1e309}}' % PRRT_MODE.encode(),
        b'{"changes": {"%s": -Infinity}}' % PRRT_MODE.encode(),
        b'{"changes": {"%s": %s}}' % (PRRT_MODE.encode(), b"9" * 5000),  # too long an int
        b'{"changes": {"%s": [%s]}}' % (PRRT_MODE.encode(), b"1," * 20_000 + b"1"),
        b'{"changes": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",  # nested deeper than parsed
        b'{"changes": {"market.base_scale.high": 1e300}}',
    ],
)
def test_malformed_requests_are_400(served, body):
    status, _, answer = request(served, "/api/run", body)
    assert status == 400 and "\n" not in json.dumps(answer), answer


@pytest.mark.slow
def test_only_json_of_bounded_size_is_read(served):
    assert request(served, "/api/run", b"{}", {"Content-Type": "text/plain"})[0] == 415
    big = json.dumps({"changes": {}, "pad": "x" * 70_000}).encode()
    assert request(served, "/api/run", big)[0] == 413
    # urllib sends a length with every body: without one, asked for it
    status, _, body = raw(served, b"POST /api/run HTTP/1.1\r\n%s\r\n" % _ctype(served))[0]
    assert status == 411 and "Content-Length" in body["errors"][""]


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


def test_changes_are_coalesced_the_last_one_wins():
    started, release = threading.Event(), threading.Event()
    ran = []

    def work(request):
        ran.append(request)
        started.set()
        release.wait(10)
        return request * 10

    runner = Coalescer(work)
    results = {}

    def submit(value):
        results[value] = runner.submit(value)

    threads = [threading.Thread(target=submit, args=(1,))]
    threads[0].start()
    assert started.wait(10)
    for value in (2, 3, 4):  # arrive while 1 runs: each replaces the one waiting
        thread = threading.Thread(target=submit, args=(value,))
        thread.start()
        threads.append(thread)
        time.sleep(0.1)
    release.set()
    for thread in threads:
        thread.join(10)
    assert ran == [1, 4] and runner.runs == 2
    assert results == {1: 10, 2: 40, 3: 40, 4: 40}


# --- the page in headless Chromium ----------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium) -- page not rendered")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "playwright is not installed (pip install -e '.[serve-test]') -- page not rendered"
        )
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


def _open(browser, served):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else 0)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(served.url)
    page.wait_for_selector("body[data-revision='1']", timeout=30_000)
    return page, problems


def _set(page, key, value):
    """Type a value into a control's number box; wait for the page to redraw."""
    revision = int(page.get_attribute("body", "data-revision"))
    box = page.locator(f'.control[data-key="{key}"] input[type=number]')
    box.fill(str(value))
    # selectors, not script: the page's Content-Security-Policy forbids evaluating strings
    page.wait_for_selector(f"body[data-revision='{revision + 1}'][data-busy='0']", timeout=30_000)


def _median_2031(page, table="bands-global"):
    cell = page.locator(f'#{table} tr[data-year="2031"] td').nth(2).inner_text()
    return float(cell.replace(",", ""))


@pytest.mark.slow
def test_the_page_shows_fans_and_table_without_console_errors(browser, served):
    page, problems = _open(browser, served)
    try:
        for chart in ("#chart-global", "#chart-picked"):
            assert page.locator(f"{chart} svg polygon").count() == 2
            assert page.locator(f"{chart} svg polyline").count() == 2
        assert page.locator("#bands-global tbody tr").count() == 7
        assert page.locator("#bands-picked tbody tr").count() == 7
        title = page.locator(f'.control[data-key="{PRRT_MODE}"]').get_attribute("title")
        assert title.startswith("report: '+1.5%' impact on CAGR")
        assert "P(changed > unchanged) = 0.000" in page.inner_text("#diff-global")
        page.select_option("#view", "modality:PRRT")
        page.wait_for_selector("body[data-revision='2'][data-busy='0']", timeout=30_000)
        assert "PRRT (Treatment modality)" in page.inner_text("#bands-picked caption")
        assert problems == []
    finally:
        page.close()


@pytest.mark.slow
def test_a_change_on_the_page_redraws_and_an_invalid_one_is_refused(browser, served):
    page, problems = _open(browser, served)
    try:
        before = _median_2031(page)
        _set(page, PRRT_MODE, 2.2)
        assert _median_2031(page) > before
        assert float(page.get_attribute("#diff-global", "data-prob-greater")) > 0.5
        shown = _median_2031(page)
        _set(page, PRRT_LOW, 2.3)  # above the mode: refused beside the control
        message = page.locator(f'[data-error-for="{PRRT_LOW}"]')
        assert message.is_visible() and "must be <= mode=2.2" in message.inner_text()
        assert _median_2031(page) == shown  # nothing ran
        _set(page, PRRT_LOW, 0.75)
        assert not message.is_visible()
        page.click("#save")
        page.wait_for_selector("body[data-saved]:not([data-saved=''])", timeout=30_000)
        assert Path(page.get_attribute("body", "data-saved")).is_file()
        # the refusal's 400, which Chromium logs as a failed resource, and nothing else
        assert problems == [
            "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        ]
    finally:
        page.close()


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
    from netsim.present.whatif.server import Export

    with serving(
        make_server(
            served.session,
            port=0,
            exports={"csv": Export("Download (csv)", "text/csv", "csv", _bands_csv)},
        )
    ) as server:
        yield server


@pytest.mark.slow
def test_a_download_plugs_in_as_an_export(served_with_export, served, browser):
    state = request(served_with_export, "/api/state")[2]
    assert state["exports"] == [{"name": "csv", "label": "Download (csv)"}]
    assert request(served, "/api/state")[2]["exports"] == []  # none unless given
    body = {"changes": {PRRT_MODE: 2.0}, "view": "region:Europe"}
    status, head, text = request(served_with_export, "/api/export/csv", body)
    assert status == 200 and head["Content-Type"] == "text/csv"
    assert head["Content-Disposition"].startswith('attachment; filename="net_market.whatif.csv"')
    assert text.splitlines()[0] == "year,P5,P50,P95" and len(text.splitlines()) == 8
    status, _, refused = request(served_with_export, "/api/export/csv", {"changes": {PRRT_LOW: 9}})
    assert status == 400 and "must be <=" in refused["errors"][PRRT_LOW]
    assert request(served_with_export, "/api/export/xlsx", body)[0] == 404
    assert request(served, "/api/export/csv", body)[0] == 404
    page, problems = _open(browser, served_with_export)
    try:
        with page.expect_download() as download:
            page.click("button[data-export='csv']")
        assert download.value.suggested_filename == "net_market.whatif.csv"
        assert problems == []
    finally:
        page.close()


@pytest.mark.slow
def test_the_xlsx_download_is_the_comparison_of_the_page_s_changes(served, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    from netsim.present.whatif.download import XLSX_TYPE, xlsx_export

    server = make_server(served.session, port=0, exports={"xlsx": xlsx_export()})
    body = json.dumps({"changes": {PRRT_MODE: 2.0}, "view": "global"}).encode()
    req = urllib.request.Request(
        server.url.rstrip("/") + "/api/export/xlsx",
        body,
        {"Content-Type": "application/json"},
    )
    with serving(server), urllib.request.urlopen(req, timeout=120) as response:
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


@pytest.mark.slow
def test_fast_changes_on_the_page_end_on_the_last_one(browser, served):
    page, problems = _open(browser, served)
    in_flight, most = [0], [0]

    def sent(req):
        if req.url.endswith("/api/run"):
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])

    def back(req):
        if req.url.endswith("/api/run"):
            in_flight[0] -= 1

    page.on("request", sent)
    page.on("requestfinished", back)
    page.on("requestfailed", back)
    try:
        box = page.locator(f'.control[data-key="{PRRT_MODE}"] input[type=number]')
        values = [1.55 + 0.05 * i for i in range(12)]
        for value in values:  # as fast as the browser takes them, no waiting for a redraw
            box.fill(f"{value:.2f}")
        page.wait_for_selector("body[data-busy='0']", timeout=30_000)
        expected = run(served, {PRRT_MODE: round(values[-1], 2)})[2]["global"]["fan"][2][-1]
        assert float(page.get_attribute("body", "data-median-final")) == expected
        assert most[0] == 1  # never two runs asked at once: the rest waited, coalesced
        assert problems == []
    finally:
        page.close()


@pytest.mark.slow
def test_the_callers_numba_threads_are_left_as_they_were(served):
    import numba

    before = numba.get_num_threads()
    served.session.evaluate({PRRT_MODE: 1.7}, "global")
    assert numba.get_num_threads() == before


@pytest.mark.slow
def test_a_browser_that_hangs_up_early_leaves_no_traceback(served, capfd):
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as client:
        client.sendall(
            f"POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
            'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"chan'.encode()
        )
    time.sleep(0.3)
    assert run(served, {})[0] == 200  # the server goes on
    assert "Traceback" not in capfd.readouterr().err


def test_a_download_of_a_config_with_a_non_latin_name_arrives(tmp_path):
    config = tmp_path / "市场 ü.toml"
    shutil.copyfile(NET_CONFIG, config)
    from netsim.present.whatif.server import Export

    def csv(session, changes, view):
        return b"year\n2031\n"

    server = make_server(
        WhatIf(config, 200, SEED), port=0, exports={"csv": Export("csv", "text/csv", "csv", csv)}
    )
    with serving(server):
        status, head, text = request(server, "/api/export/csv", {"changes": {}, "view": "global"})
    assert status == 200 and text == "year\n2031\n"
    disposition = head["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.isascii()
    assert urllib.parse.quote("市场 ü.whatif.csv") in disposition


@pytest.mark.slow
def test_fifty_parallel_runs_are_all_answered(served):
    from concurrent.futures import ThreadPoolExecutor

    def one(i):
        return run(served, {PRRT_MODE: 1.5 + i / 1000})[0]

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(one, range(50)))
    assert set(statuses) <= {200, 409, 429, 503} and statuses.count(200) >= 1, statuses


# --- the protocol, as a hostile client speaks it (raw sockets) -------------------------

RUN_BODY = b'{"changes": {}, "view": "global"}'


def _host(server) -> bytes:
    return b"Host: 127.0.0.1:%d\r\n" % server.port


def _ctype(server) -> bytes:
    """The ``Host`` and JSON ``Content-Type`` header lines of a POST."""
    return _host(server) + b"Content-Type: application/json\r\n"


def _answers(received: bytes) -> list[tuple[int, dict[str, str], object]]:
    """(status, headers, body: JSON decoded or bytes) of each answer in ``received``."""
    answers = []
    while received:
        head, _, rest = received.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        assert status_line.startswith("HTTP/1.1 "), received[:200]
        headers = dict(line.split(": ", 1) for line in lines)
        length = int(headers["Content-Length"])
        body, received = rest[:length], rest[length:]
        is_json = headers["Content-Type"] == "application/json"
        answers.append(
            (int(status_line.split()[1]), headers, json.loads(body) if is_json else body)
        )
    return answers


def raw(server, data: bytes, wait: float = 5.0) -> list[tuple[int, dict[str, str], object]]:
    """The answers to ``data`` sent on one connection, read until the server closes it
    (failing if it has not closed within ``wait`` seconds)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as client:
        client.sendall(data)
        received = b""
        while chunk := client.recv(65_536):
            received += chunk
    return _answers(received)


def _post(server, *headers: bytes, body: bytes = RUN_BODY, path: bytes = b"/api/run") -> bytes:
    return b"POST %s HTTP/1.1\r\n%s%s\r\n" % (path, _ctype(server), b"".join(headers)) + body


def _refused(answers, status: int) -> dict:
    """The one answer's JSON body, after checking it is ``status``, closed, with the
    security headers."""
    assert len(answers) == 1, answers
    ((code, headers, body),) = answers
    assert code == status, (code, body)
    assert (
        headers["Connection"] == "close"
        and "default-src 'none'" in (headers["Content-Security-Policy"])
    )
    assert isinstance(body, dict)
    return body


@pytest.mark.slow
@pytest.mark.parametrize(
    ("line", "status"),
    [
        (b"GET /\r\n", 400),  # HTTP/0.9: it would be answered with a bare body
        (b"GET / HTTP/9.9\r\n", 505),
        (b"GET / HTTP/2.0\r\n", 505),
        (b"GET / HTTP/1.2\r\n", 505),
        (b"GET / HTTP/01.1\r\n", 505),
        (b"GET / FOO\r\n", 400),
        (b"GET / HTTP/1.1 more\r\n", 400),
        (b"GET  / HTTP/1.1\r\n", 400),
        (b"GET /\x00 HTTP/1.1\r\n", 400),
        ("GET /市场 HTTP/1.1\r\n".encode(), 400),  # a browser percent-encodes it
        (b"G(E)T / HTTP/1.1\r\n", 400),
    ],
)
def test_a_request_line_other_than_http_1_is_refused_at_once(served, line, status):
    start = time.monotonic()
    body = _refused(raw(served, line + _host(served) + b"\r\n"), status)
    assert "HTTP/1.1" in body["error"]
    if line == b"GET /\r\n":  # no header is waited for: the line alone is answered
        assert _refused(raw(served, line), 400) == body
    assert time.monotonic() - start < 2


@pytest.mark.slow
@pytest.mark.parametrize(
    "headers",
    [
        [b"Host: 127.0.0.1:{port}"],  # a second Host, the same
        [b"Host: attacker.example"],
        [b"Origin: http://127.0.0.1:{port}", b"Origin: http://attacker.example"],
        [b"Content-Length: 33"],  # a second length, the same
        [b"Content-Length: 5"],
        [b"Content-Length: 33, 33"],
        [b"Transfer-Encoding: chunked"],
        [b"Transfer-Encoding: gzip"],
        [b"Transfer-Encoding: identity"],
        [b"Content-Length : 33"],  # a space before the colon
        [b"a line that is no header"],
        [b"X-Folded: a", b" b"],  # a header folded over two lines
        [b"X(y): z"],
    ],
)
def test_headers_that_could_be_read_two_ways_are_400(served, headers):
    extra = b"".join(h.replace(b"{port}", b"%d" % served.port) + b"\r\n" for h in headers)
    request_bytes = _post(served, b"Content-Length: 33\r\n", extra, body=RUN_BODY)
    _refused(raw(served, request_bytes), 400)


@pytest.mark.slow
@pytest.mark.parametrize("length", [b"+33", b"-1", b"33 ", b"3 3", b"0x21", b"33.0", b"1e2", b""])
def test_a_length_that_is_not_digits_is_400(served, length):
    body = _refused(raw(served, _post(served, b"Content-Length: %s\r\n" % length)), 400)
    assert "Content-Length" in body["error"]


@pytest.mark.slow
def test_one_host_header_is_required(served):
    _refused(raw(served, b"GET / HTTP/1.1\r\n\r\n"), 400)
    _refused(raw(served, b"GET / HTTP/1.0\r\n\r\n"), 400)


@pytest.mark.slow
@pytest.mark.parametrize("method", [b"GET", b"OPTIONS"])
def test_a_body_on_get_is_refused_not_read_as_the_next_request(served, method):
    """The body is itself a request: served, it would be a second answer."""
    inner = b"GET /page.css HTTP/1.1\r\n" + _host(served) + b"\r\n"
    outer = b"%s / HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n" % (method, _host(served), len(inner))
    body = _refused(raw(served, outer + inner), 400)
    assert "has no body" in body["error"]
    assert (
        raw(
            served,
            b"GET / HTTP/1.1\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n" % (_host(served)),
        )[0][0]
        == 200
    )


@pytest.mark.slow
def test_the_body_is_invited_only_once_the_request_passes_its_checks(served):
    """``Expect: 100-continue``: the body is asked for after the Host and Origin check."""
    head = _post(served, b"Content-Length: %d\r\nExpect: 100-continue\r\n" % len(RUN_BODY))
    head = head[: -len(RUN_BODY)]
    foreign = head.replace(b"\r\n\r\n", b"\r\nOrigin: http://attacker.example\r\n\r\n")
    _refused(raw(served, foreign), 403)
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as client:
        client.sendall(head)
        assert client.recv(65_536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        client.sendall(RUN_BODY)
        assert client.recv(65_536).startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.slow
def test_pipelined_requests_are_answered_in_order(served):
    css = b"GET /page.css HTTP/1.1\r\n" + _host(served) + b"\r\n"
    run_request = _post(served, b"Content-Length: %d\r\n" % len(RUN_BODY))
    last = b"GET /page.js HTTP/1.1\r\n" + _host(served) + b"Connection: close\r\n\r\n"
    answers = raw(served, css + run_request + last, wait=30)
    assert [a[0] for a in answers] == [200, 200, 200]
    assert answers[0][1]["Content-Type"].startswith("text/css")
    assert answers[1][2]["global"]["difference"] == [0.0, 0.0, 0.0]
    assert answers[2][1]["Content-Type"].startswith("text/javascript")
    # after a refusal nothing more is read
    refused = b"GET / HTTP/9.9\r\n" + _host(served) + b"\r\n"
    assert [a[0] for a in raw(served, css + refused + last)] == [200, 505]


@pytest.mark.slow
def test_many_or_huge_headers_and_a_huge_url_are_refused_as_json(served):
    many = b"GET / HTTP/1.1\r\n" + _host(served) + b"X-A: b\r\n" * 150 + b"\r\n"
    _refused(raw(served, many), 431)
    # each line short, together over 32 kB
    large = b"GET / HTTP/1.1\r\n" + _host(served) + b"X-A: %s\r\n" % (b"b" * 1_000) * 40
    assert "at most 32768 bytes" in _refused(raw(served, large + b"\r\n"), 431)["error"]
    _refused(
        raw(served, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n" + _host(served) + b"\r\n"), 414
    )
    assert request(served, "/" + "a" * 8_000)[0] == 404  # long but whole: not a page


@pytest.fixture
def strict(served):
    """A server of the same session that waits 0.5 s for a request and serves two
    connections at once."""
    with serving(make_server(served.session, port=0, request_seconds=0.5, max_connections=2)) as s:
        yield s


def _trickle(server, head: bytes, data: bytes, answer: list) -> None:
    """Send ``head`` at once, then ``data`` a byte every 50 ms until the server answers;
    put the answer and the seconds it took in ``answer``."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:
        client.sendall(head)
        start = time.monotonic()
        for byte in data:
            client.sendall(bytes([byte]))
            if select.select([client], [], [], 0.05)[0]:
                break
        seconds = time.monotonic() - start
        received = b""
        with contextlib.suppress(OSError):
            while chunk := client.recv(65_536):
                received += chunk
        answer.append((received, seconds))


@pytest.mark.slow
@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_request_trickled_a_byte_at_a_time_gets_408_in_its_time(strict, part):
    data = _post(strict, b"Content-Length: %d\r\n" % len(RUN_BODY))
    at = len(data) - len(RUN_BODY) if part == "body" else 0  # the head at once, or not
    answer: list = []
    thread = threading.Thread(target=_trickle, args=(strict, data[:at], data[at:], answer))
    thread.start()
    time.sleep(0.1)
    start = time.monotonic()  # meanwhile another client is served at once
    assert request(strict, "/page.css")[0] == 200
    assert time.monotonic() - start < 0.5
    thread.join(10)
    received, seconds = answer[0]
    assert received.startswith(b"HTTP/1.1 408 ") and b"within 0.5 s" in received
    assert 0.4 < seconds < 2.0  # 0.5 s, and a busy machine's delay


@pytest.mark.slow
def test_an_idle_connection_is_no_late_request(strict):
    """The clock starts at a request's first byte: a kept-alive connection waits."""
    with socket.create_connection(("127.0.0.1", strict.port), timeout=10) as client:
        for _ in range(2):
            time.sleep(0.7)
            client.sendall(b"GET /page.css HTTP/1.1\r\n" + _host(strict) + b"\r\n")
            head = client.recv(65_536)
            assert head.startswith(b"HTTP/1.1 200 ")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            body = head.partition(b"\r\n\r\n")[2]
            while len(body) < length:
                body += client.recv(65_536)


@pytest.mark.slow
def test_connections_beyond_the_limit_get_503_and_the_server_goes_on(strict):
    first = socket.create_connection(("127.0.0.1", strict.port), timeout=10)
    second = socket.create_connection(("127.0.0.1", strict.port), timeout=10)
    try:
        time.sleep(0.2)  # both accepted, each waiting in its thread
        body = _refused(raw(strict, b"GET / HTTP/1.1\r\n" + _host(strict) + b"\r\n"), 503)
        assert "too many connections" in body["errors"][""]
    finally:
        first.close()
        second.close()
    deadline = time.monotonic() + 5
    while (status := request(strict, "/page.css")[0]) != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status == 200


@pytest.fixture
def apart(tmp_path):
    """A server of its own scenario folder (its saves are counted from 1)."""
    config = tmp_path / "net_market.toml"
    shutil.copyfile(NET_CONFIG, config)
    with serving(make_server(WhatIf(config, 200, SEED), port=0)) as server:
        yield server


@pytest.mark.slow
def test_saves_during_runs_and_each_other_each_get_their_own_file(apart):
    from concurrent.futures import ThreadPoolExecutor

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


def _only_the_config(server) -> None:
    assert [p.name for p in server.session.config.parent.iterdir()] == ["net_market.toml"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("where", "error", "said"),
    [
        ("_flush", OSError(28, "No space left on device"), "writing failed (No space left"),
        ("_new_temporary", PermissionError(13, "Permission denied"), "(Permission denied)"),
    ],
)
def test_a_save_that_cannot_be_written_is_one_line_and_leaves_nothing(
    apart, monkeypatch, where, error, said
):
    import netsim.files

    def fail(*args):
        raise error

    monkeypatch.setattr(netsim.files, where, fail)
    status, head, body = request(apart, "/api/save", {"changes": {PRRT_MODE: 2.0}})
    assert status == 500 and head["Connection"] == "close"
    assert list(body["errors"]) == [""] and said in body["errors"][""]
    assert "\n" not in body["errors"][""]
    _only_the_config(apart)  # no overlay, no temporary
    monkeypatch.undo()
    assert request(apart, "/api/save", {"changes": {PRRT_MODE: 2.0}})[0] == 200


@pytest.mark.slow
def test_a_name_another_writer_takes_during_the_save_is_kept_and_the_next_is_used(
    apart, monkeypatch
):
    """Two pages on one scenario folder: the other takes ``whatif-1`` after this save
    found it free; its file is kept whole and this save goes to ``whatif-2``."""
    import netsim.files

    folder = apart.session.config.parent
    taken = folder / "net_market.whatif-1.toml"
    flush = netsim.files._flush

    def other_writer_first(path):
        if not taken.exists():
            taken.write_text("# the other page's overlay\n")
        flush(path)

    monkeypatch.setattr(netsim.files, "_flush", other_writer_first)
    status, _, body = request(apart, "/api/save", {"changes": {OUTAGE: 0.2}})
    assert status == 200 and Path(body["path"]).name == "net_market.whatif-2.toml"
    assert taken.read_text() == "# the other page's overlay\n"
    assert sorted(p.name for p in folder.iterdir()) == [
        "net_market.toml",
        "net_market.whatif-1.toml",
        "net_market.whatif-2.toml",
    ]


@pytest.mark.slow
def test_saves_are_bounded(apart, monkeypatch):
    import netsim.present.whatif.session as session

    monkeypatch.setattr(session, "MAX_SAVED", 2)
    for n in (1, 2):
        assert request(apart, "/api/save", {"changes": {OUTAGE: n / 10}})[0] == 200
    status, _, body = request(apart, "/api/save", {"changes": {OUTAGE: 0.3}})
    assert status == 400 and "2 what-if overlays exist" in body["errors"][""]
    assert len(list(apart.session.config.parent.glob("*.whatif-*.toml"))) == 2


@pytest.mark.slow
def test_a_browser_gone_before_the_answer_is_no_internal_error(served, capfd):
    from netsim.present.whatif.server import Export

    def slow(session, changes, view):
        time.sleep(0.3)
        return b"x" * 1_000_000

    exports = {"slow": Export("slow", "text/plain", "txt", slow)}
    with serving(make_server(served.session, port=0, exports=exports)) as server:
        client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        client.sendall(
            _post(server, b"Content-Length: %d\r\n" % len(RUN_BODY), path=b"/api/export/slow")
        )
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()  # reset, at once
        time.sleep(0.6)
        assert request(server, "/page.css")[0] == 200
    err = capfd.readouterr().err
    assert "internal error" not in err and "Traceback" not in err


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
