"""What the what-if server's tests share: a served copy of the NET scenario, real HTTP
requests (urllib, or raw bytes on a socket), and config names a download is named after."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from netsim.present.whatif.server import Export, make_server
from netsim.present.whatif.session import WhatIf

from .conftest import NET_CONFIG

DRAWS, SEED = 2_000, 3
PRRT_MODE = "drivers.targeted_prrt_expansion.impact.mode"
PRRT_LOW = "drivers.targeted_prrt_expansion.impact.low"
OUTAGE = "events.isotope_outage.probability.value"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def serving(server):
    """The server answering in a thread of its own, shut down and closed on leaving."""
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(30)
        server.server_close()
        assert not thread.is_alive()


@contextlib.contextmanager
def serving_a_copy(folder: Path, draws: int = DRAWS, exports=None, name="net_market.toml"):
    """A server of the NET scenario copied into ``folder`` as ``name`` (its saves land
    there, counted from 1)."""
    config = folder / name
    shutil.copyfile(NET_CONFIG, config)
    with serving(make_server(WhatIf(config, draws, SEED), port=0, exports=exports)) as server:
        yield server


def shared_server():
    """The fixture ``served``: a server of a copy of the NET scenario, shared by a test
    module's tests (``served = shared_server()`` in the module)."""

    @pytest.fixture(scope="module")
    def served(tmp_path_factory):
        with serving_a_copy(tmp_path_factory.mktemp("whatif")) as server:
            yield server

    return served


def server_apart():
    """The fixture ``apart``: a server of a scenario folder of the test's own, its saves
    counted from 1 (``apart = server_apart()`` in the module)."""

    @pytest.fixture
    def apart(tmp_path):
        with serving_a_copy(tmp_path, 200) as server:
            yield server

    return apart


def only_the_config(server) -> None:
    """Nothing but the scenario file in its folder: no overlay, no temporary."""
    assert [p.name for p in server.session.config.parent.iterdir()] == [server.session.config.name]


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
            status, head, raw_body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, head, raw_body = error.code, error.headers, error.read()
    text = raw_body.decode()
    is_json = head.get("Content-Type", "").startswith("application/json")
    return status, head, json.loads(text) if is_json else text


def run(server, changes, view="global"):
    """``/api/run`` of ``changes`` on ``view``, as :func:`request` answers it."""
    return request(server, "/api/run", {"changes": changes, "view": view})


def raw(server, data: bytes, wait: float = 1.5) -> bytes:
    """What the server sends back to ``data`` on one connection within ``wait`` seconds
    of its last byte (or until it closes the connection)."""
    received = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as client:
        client.sendall(data)
        with contextlib.suppress(TimeoutError):
            while chunk := client.recv(65_536):
                received += chunk
    return received


def host_line(server) -> bytes:
    """The ``Host`` header line a browser sends to ``server``."""
    return b"Host: 127.0.0.1:%d\r\n" % server.port


# config names a download is named after: (file name, the download's exact name, the
# name Chromium saves it as: it puts _ for the characters it takes for unsafe in a file name)
ODD_NAMES = [
    pytest.param("市场 ü.toml", "市场 ü.whatif.csv", "市场 ü.whatif.csv", id="non-latin"),
    pytest.param(
        'say "hi" \\ 100%.toml',
        'say "hi" \\ 100%.whatif.csv',
        "say _hi_ _ 100%.whatif.csv",
        id="quotes-percent",
    ),
    pytest.param(
        "a\r\nSet-Cookie: netsim=1\r\nX: y.toml",
        "a__Set-Cookie: netsim=1__X: y.whatif.csv",
        "a__Set-Cookie_ netsim=1__X_ y.whatif.csv",
        id="line-breaks",
    ),
    pytest.param("tab\there;.toml", "tab_here;.whatif.csv", "tab_here;.whatif.csv", id="tab"),
]


def _csv(session, changes, view):
    return b"year\n2031\n"


def serving_a_config_named(folder: Path, name: str):
    """A server of the NET scenario copied as ``name``, offering a CSV download."""
    exports = {"csv": Export("Download (csv)", "text/csv", "csv", _csv)}
    return serving_a_copy(folder, 200, exports, name)
