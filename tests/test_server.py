"""The what-if page's server (netsim.present.whatif.server): the page's paths and checks,
and its runs answered per page, over real HTTP.

The server runs on a free port in a thread of this process; requests go through urllib,
http.client and raw sockets. HTTP itself (request lines, headers, body framing) is
uvicorn's and h11's and tested there: these tests hold what is the page's own. The
command that starts it: test_serve.py; downloads and saves: test_serve_files.py; the
page in Chromium: test_serve_page.py.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from netsim.present.whatif.server import Coalescer, Export, make_server

from .whatif_serving import (
    DRAWS,
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
    shared_server,
)

served = shared_server()


apart = server_apart()


def test_the_overlay_merge_is_the_loaders(served):
    from netsim.present.whatif.controls import overlay_tree
    from netsim.present.whatif.session import _merge
    from netsim.scenario.documents import merge_overlay

    session = served.session
    changes = {PRRT_MODE: 2.0, OUTAGE: 0.4, "market.base_scale.high": 1.1}
    tree = overlay_tree(session.overlay(changes))
    assert _merge(session.document, tree) == merge_overlay(session.document, tree)
    assert session.overlay({PRRT_MODE: 1.5}) == {}  # the file's own value is no change


# --- the page's paths and checks -----------------------------------------------------


def test_the_page_and_its_assets_are_served_by_netsim(served):
    status, head, html = request(served, "/")
    assert status == 200 and head["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in head["Content-Security-Policy"]
    assert head["X-Content-Type-Options"] == "nosniff"
    assert "http" not in html.replace('href="data:,"', "")  # nothing from elsewhere
    for path in ("/page.js", "/page.css"):
        status, _, text = request(served, path)
        assert status == 200 and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    status, _, state = request(served, "/api/state")
    assert status == 200 and state["draws"] == DRAWS and state["seed"] == SEED
    keys = {c["key"] for c in state["controls"]}
    assert {PRRT_MODE, PRRT_LOW, OUTAGE, "market.base_scale.low"} <= keys
    sources = ("report:", "study:", "assumption:")  # the three kinds a file may give
    assert all(c["source"].startswith(sources) for c in state["controls"])


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/x", id="unknown"),
        pytest.param("/api", id="api"),
        pytest.param("/api/run/", id="trailing-slash"),
        pytest.param("/../configs/net_market.toml", id="dot-dot"),
        pytest.param("//etc", id="double-slash"),
        pytest.param("/%00", id="nul"),
        pytest.param("/page.js%00", id="asset-nul"),
        pytest.param("/..%2f..%2fconfigs%2fnet_market.toml", id="encoded-dot-dot"),
        pytest.param("/%E5%B8%82%E5%9C%BA", id="non-ascii"),
        pytest.param("/api/export/", id="export-without-name"),
        pytest.param("/api/export/..%2fxlsx", id="export-dot-dot"),
    ],
)
def test_paths_outside_the_page_are_404(served, path):
    for body in (None, {"changes": {}}):
        status, head, answer = request(served, path, body)
        assert status == 404 and answer["errors"][""].startswith("no such page: ")
        assert "default-src 'none'" in head["Content-Security-Policy"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Host": "attacker.example:80"}, id="rebinding-name"),
        pytest.param({"Host": "127.0.0.1:1"}, id="another-port"),
        pytest.param({"Origin": "http://attacker.example"}, id="cross-origin"),
        pytest.param({"Origin": "null"}, id="null-origin"),
    ],
)
def test_other_hosts_and_origins_are_403(served, headers):
    status, head, body = request(served, "/", headers=headers)
    assert status == 403 and body == {"errors": {"": "not this server's own page"}}
    assert "default-src 'none'" in head["Content-Security-Policy"]
    status, _, body = request(served, "/api/run", {"changes": {PRRT_MODE: 2.0}}, headers)
    assert status == 403, body


def test_a_request_without_a_host_is_403(served):
    answer = raw(served, b"GET / HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]


@pytest.mark.parametrize(
    "method", ["PROPFIND", "TRACE", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "BREW"]
)
def test_a_method_the_page_does_not_use_is_405_after_the_host_check(served, method):
    status, head, body = request(served, "/", method=method)
    assert status == 405 and body == {"errors": {"": "Method Not Allowed"}}
    assert "default-src 'none'" in head["Content-Security-Policy"]
    foreign = {"Host": "attacker.example"}
    assert request(served, "/", headers=foreign, method=method)[0] == 403


def test_a_refused_requests_body_is_never_read_as_a_request(apart):
    """A cross-origin POST whose body is itself a save: the 403 is the only answer, and
    nothing is saved (the body is read as a body and dropped)."""
    inner = (
        b"POST /api/save HTTP/1.1\r\n%sContent-Type: application/json\r\n"
        b'Content-Length: 45\r\n\r\n{"changes": {"%s": 2.0}}'
        % (host_line(apart), PRRT_MODE.encode())
    )
    outer = (
        b"POST /api/save HTTP/1.1\r\n%sOrigin: http://attacker.example\r\n"
        b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % (host_line(apart), len(inner))
    )
    answers = raw(apart, outer + inner)
    assert answers.startswith(b"HTTP/1.1 403 ") and answers.count(b"HTTP/1.1 ") == 1
    only_the_config(apart)


def test_the_own_origin_and_localhost_are_served(served):
    own = {"Origin": served.url.rstrip("/")}
    assert run(served, {})[0] == 200
    assert request(served, "/api/run", {"changes": {}, "view": "global"}, own)[0] == 200
    assert request(served, "/", headers={"Host": f"localhost:{served.port}"})[0] == 200


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


@pytest.mark.parametrize(
    ("changes", "key", "rule"),
    [
        pytest.param({PRRT_LOW: 1.8}, PRRT_LOW, "must be <= mode=1.5", id="low-above-mode"),
        pytest.param({OUTAGE: 1.5}, OUTAGE, "must be <= 1", id="probability-above-1"),
        pytest.param({PRRT_MODE: float("nan")}, PRRT_MODE, "must be finite", id="nan"),
        pytest.param({PRRT_MODE: None}, PRRT_MODE, "must be a number", id="empty-box"),
        pytest.param({PRRT_MODE: "2"}, PRRT_MODE, "must be a number", id="text"),
        pytest.param(
            {"drivers.targeted_prrt_expansion.impact.high": -1.0}, None, "must be", id="high-low"
        ),
        pytest.param(
            {"scenario.name": 1.0}, "", "is not a parameter of this page", id="not-a-control"
        ),
        pytest.param({"../../etc/passwd": 1.0}, "", "is not a parameter of this page", id="a-path"),
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


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{", id="unfinished"),
        pytest.param(b"[1]", id="not-an-object"),
        pytest.param(b'{"changes": [1]}', id="changes-a-list"),
        pytest.param(b'{"changes": {}, "view": "nowhere"}', id="unknown-view"),
        pytest.param(b"\xff", id="not-utf8"),
        pytest.param(b'{"changes": {}, "view": ["global"]}', id="view-a-list"),
        pytest.param(b'{"changes": {"%s": 1e309}}' % PRRT_MODE.encode(), id="overflow"),
        pytest.param(b'{"changes": {"%s": -Infinity}}' % PRRT_MODE.encode(), id="infinity"),
        pytest.param(b'{"changes": {"%s": %s}}' % (PRRT_MODE.encode(), b"9" * 5000), id="huge-int"),
        pytest.param(
            b'{"changes": {"%s": [%s]}}' % (PRRT_MODE.encode(), b"1," * 20_000 + b"1"),
            id="long-list",
        ),
        pytest.param(b'{"changes": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", id="deep-nesting"),
        pytest.param(b'{"changes": {"market.base_scale.high": 1e300}}', id="huge-scale"),
        pytest.param(b'{"changes": {}, "client": ["a"]}', id="client-a-list"),
        pytest.param(b'{"changes": {}, "client": "a\\nb"}', id="client-line-break"),
    ],
)
def test_malformed_requests_are_400(served, body):
    status, _, answer = request(served, "/api/run", body)
    assert status == 400 and "\n" not in json.dumps(answer), answer


def test_only_json_of_bounded_size_is_read(served):
    assert request(served, "/api/run", b"{}", {"Content-Type": "text/plain"})[0] == 415
    big = json.dumps({"changes": {}, "pad": "x" * 70_000}).encode()
    assert request(served, "/api/run", big)[0] == 413
    # sent in chunks without a length: counted as it arrives
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    try:
        pieces = [b'{"changes": {}, "pad": "', *([b"x" * 8_192] * 9), b'"}']
        connection.request(
            "POST",
            "/api/run",
            body=iter(pieces),
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        assert connection.getresponse().status == 413
    finally:
        connection.close()
    assert run(served, {})[0] == 200  # the server goes on


def test_a_slow_client_does_not_hold_up_others(served):
    """A client that sends its request a byte every 20 ms holds only its own connection:
    others are answered meanwhile, and it is answered once its request is whole."""
    body = json.dumps({"changes": {}, "view": "global"}).encode()
    data = (
        b"POST /api/run HTTP/1.1\r\n%sContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (host_line(served), len(body), body)
    )
    answer: list[bytes] = []

    def trickle() -> None:
        with socket.create_connection(("127.0.0.1", served.port), timeout=30) as client:
            for byte in data:
                client.sendall(bytes([byte]))
                time.sleep(0.02)
            received = b""
            while chunk := client.recv(65_536):
                received += chunk
            answer.append(received)

    thread = threading.Thread(target=trickle)
    thread.start()
    time.sleep(0.3)
    for _ in range(5):  # meanwhile others are served at once
        start = time.monotonic()
        assert request(served, "/page.css")[0] == 200
        assert run(served, {PRRT_MODE: 1.6})[0] == 200
        assert time.monotonic() - start < 1.0
    assert thread.is_alive()  # still trickling
    thread.join(60)
    assert answer[0].startswith(b"HTTP/1.1 200 ")


# --- coalescing: a page's own changes only -------------------------------------------


class _Blocking:
    """A coalescer's work that holds its first run until released; records what ran."""

    def __init__(self):
        self.started, self.release = threading.Event(), threading.Event()
        self.ran: list[int] = []

    def __call__(self, request: int) -> int:
        self.ran.append(request)
        self.started.set()
        self.release.wait(10)
        return request * 10


def _submit_in_turn(runner, submissions) -> dict[tuple, int]:
    """Submit ``(client, request)`` pairs in that order, each in a thread of its own once
    the one before waits (the first is the run in flight); returns each one's result."""
    results: dict[tuple, int] = {}

    def submit(client, value):
        results[client, value] = runner.submit(value, client)

    threads = []
    for client, value in submissions:
        thread = threading.Thread(target=submit, args=(client, value))
        thread.start()
        threads.append(thread)
        if len(threads) == 1:
            assert runner.work.started.wait(10)
        time.sleep(0.1)
    runner.work.release.set()
    for thread in threads:
        thread.join(10)
    return results


def test_a_pages_newer_change_replaces_its_waiting_one():
    runner = Coalescer(_Blocking())
    results = _submit_in_turn(runner, [("a", 1), ("a", 2), ("a", 3), ("a", 4)])
    assert runner.work.ran == [1, 4] and runner.runs == 2
    assert results == {("a", 1): 10, ("a", 2): 40, ("a", 3): 40, ("a", 4): 40}


def test_another_pages_change_never_replaces_a_waiting_one():
    """Page b waits while a runs; a's newer changes replace only a's own waiting one,
    and each page gets the answer to its own last change, in the order they waited."""
    runner = Coalescer(_Blocking())
    results = _submit_in_turn(runner, [("a", 1), ("b", 5), ("a", 2), ("a", 3), ("b", 6)])
    assert runner.work.ran == [1, 6, 3] and runner.runs == 3
    assert results == {("a", 1): 10, ("b", 5): 60, ("a", 2): 30, ("a", 3): 30, ("b", 6): 60}


def test_requests_without_a_page_are_never_coalesced():
    runner = Coalescer(_Blocking())
    results = _submit_in_turn(runner, [(None, 1), (None, 2), (None, 3)])
    assert sorted(runner.work.ran) == [1, 2, 3]
    assert results == {(None, 1): 10, (None, 2): 20, (None, 3): 30}


# every client its own control and view, and values of its own: an answer names its change
CLIENTS = (
    (PRRT_MODE, 1.5, "region:Europe"),
    (OUTAGE, 0.15, "modality:PRRT"),
    ("market.base_scale.mode", 1.0, "global"),
    ("restraints.isotope_supply.impact.mode", -0.9, "region:Asia-Pacific"),
)


def _changes_of(client: int, count: int) -> list[tuple[dict, str]]:
    key, value, view = CLIENTS[client]
    return [({key: round(value + (i + 1) * 1e-4, 6)}, view) for i in range(count)]


def test_keep_alive_clients_each_get_the_answer_to_their_own_change(served):
    """Four pages, each on one kept-alive connection, each sending 25 changes as fast as
    answers come: every answer is to that page's own latest change and view."""
    foreign = []

    def page(client: int) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
        first_socket = None
        try:
            for changes, view in _changes_of(client, 25):
                body = json.dumps({"changes": changes, "view": view, "client": f"page{client}"})
                connection.request("POST", "/api/run", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = json.loads(response.read())
                assert response.status == 200, answer
                first_socket = first_socket or connection.sock
                assert connection.sock is first_socket  # the connection was kept alive
                if answer["changes"] != changes or answer["picked"]["id"] != view:
                    foreign.append((client, changes, answer["changes"]))
        finally:
            connection.close()
        return client

    runs_before = served.runner.runs
    with ThreadPoolExecutor(len(CLIENTS)) as pool:
        assert sorted(pool.map(page, range(len(CLIENTS)))) == list(range(len(CLIENTS)))
    assert foreign == []
    assert served.runner.runs - runs_before == 25 * len(CLIENTS)  # one run each: none merged


def test_the_callers_numba_threads_are_left_as_they_were(served):
    import numba

    before = numba.get_num_threads()
    served.session.evaluate({PRRT_MODE: 1.7}, "global")
    assert numba.get_num_threads() == before


@pytest.mark.parametrize(
    "pause",
    [
        pytest.param(0.0, id="at-once"),
        # the app already waits for the rest of the body when the client goes
        pytest.param(0.3, id="while-the-body-is-awaited"),
    ],
)
def test_a_browser_that_hangs_up_early_leaves_no_traceback(served, capfd, caplog, pause):
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as client:
        client.sendall(
            b"POST /api/run HTTP/1.1\r\n%sContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"chan' % host_line(served)
        )
        time.sleep(pause)
    time.sleep(0.3)
    assert run(served, {})[0] == 200  # the server goes on
    assert "Traceback" not in capfd.readouterr().err
    # uvicorn logs an application's exception with its traceback (on stderr when serving)
    assert [r.getMessage() for r in caplog.records if r.exc_info] == []


def test_fifty_parallel_runs_are_all_answered(served):
    def one(i):
        return run(served, {PRRT_MODE: 1.5 + i / 1000})[0]

    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(one, range(50)))
    assert set(statuses) <= {200, 503} and statuses.count(200) >= 1, statuses


def test_a_browser_gone_before_the_answer_is_no_internal_error(served, capfd):
    def slow(session, changes, view):
        time.sleep(0.3)
        return b"x" * 1_000_000

    exports = {"slow": Export("slow", "text/plain", "txt", slow)}
    body = b'{"changes": {}, "view": "global"}'
    with serving(make_server(served.session, port=0, exports=exports)) as server:
        client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        client.sendall(
            b"POST /api/export/slow HTTP/1.1\r\n%sContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (host_line(server), len(body), body)
        )
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()  # reset, at once
        time.sleep(0.6)
        assert request(server, "/page.css")[0] == 200
    err = capfd.readouterr().err
    assert "internal error" not in err and "Traceback" not in err
