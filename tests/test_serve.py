"""``netsim serve``, the command: it starts, says where, stops cleanly on a signal, and
refuses a busy port, bad arguments and a missing serve extra in one line. The server it
runs (netsim.present.whatif.server): tests/test_server.py; downloads and saves:
test_serve_files.py; the page in Chromium: test_serve_page.py.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from netsim.cli import main

from .conftest import NET_CONFIG


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
@pytest.mark.parametrize(
    "stop", [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]
)
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
        pytest.param(["missing.toml", "--port", "0"], id="missing-file"),
        pytest.param([str(NET_CONFIG), "--port", "0", "--draws", "0"], id="no-draws"),
        pytest.param([str(NET_CONFIG), "--port", "70000"], id="port-out-of-range"),
        pytest.param([str(NET_CONFIG), "--port", "0", "--threads", "0"], id="no-threads"),
        pytest.param(
            [str(NET_CONFIG), "--port", "0", "--draws", "100000000000"], id="draws-too-many"
        ),
    ],
)
def test_bad_arguments_are_one_line(argv, capsys):
    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("netsim: error: "), err


@pytest.mark.slow
@pytest.mark.parametrize("missing", ["uvicorn", "starlette"])
def test_without_the_serve_extra_it_says_how_to_install_it(missing, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, missing, None)  # import fails as if not installed
    assert main(["serve", str(NET_CONFIG), "--port", "0", "--draws", "100"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing ran, nothing served
    assert captured.err == (
        f"netsim: error: netsim serve needs {missing}: pip install 'netsim[serve]'\n"
    )
