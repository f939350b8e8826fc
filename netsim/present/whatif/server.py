"""The what-if page's local web server: a few fixed paths, JSON in and out.

It serves the page and its script and style from the package (no other site is
ever asked for anything), takes ``{control key: number}`` changes and a view from
the page, and never a file path, code or a scenario document. A request whose
``Host`` is not this server's own address (DNS rebinding), or whose ``Origin`` is
another site (a cross-origin POST), gets 403; any other path 404.

Only what the page's browser sends is read, and one way only: HTTP/1.0 or 1.1 (never
HTTP/0.9), one ``Host``, at most one ``Origin`` and one ``Content-Length`` of digits, a
body only on POST, no ``Transfer-Encoding``, a request line and headers of at most
:data:`MAX_HEAD` bytes. Anything else is refused (400, or 505 for another HTTP version,
414 or 431 for too long a head) and the connection closed, as after every refusal, so
that a body that was not read is never taken for the next request. A request must arrive
whole within :data:`REQUEST_SECONDS` of its first byte (a client that trickles it gets
408). Each connection has a thread of its own, and at most :data:`MAX_CONNECTIONS` are
served at once (the next gets 503): a slow client holds its own thread, not the others'.

Changes that arrive faster than runs finish are coalesced (:class:`Coalescer`): one
run at a time, at most one waiting, and a newer change replaces the waiting one.
"""

from __future__ import annotations

import contextlib
import errno
import json
import re
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Generic, TypeVar

from netsim.errors import OutputError, ScenarioError
from netsim.present.whatif.session import ChangeError, WhatIf

__all__ = [
    "MAX_BODY",
    "MAX_CONNECTIONS",
    "MAX_HEAD",
    "REQUEST_SECONDS",
    "Coalescer",
    "Export",
    "WhatIfServer",
    "make_server",
]

MAX_BODY = 65_536  # a page's changes are a few hundred bytes
REQUEST_SECONDS = 10.0  # a request's line, headers and body, from its first byte
MAX_CONNECTIONS = 64  # a browser opens at most 6 to one address
MAX_HEAD = 32_768  # a request line and headers: a browser's are under 2 kB
# a request line as RFC 9112 has it: method, one space, a target of visible ASCII (a
# browser percent-encodes the rest), one space, the version
REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([\x21-\x7e]+) (HTTP/1\.[01])\r?\n")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
STATIC = {
    "/": ("page.html", "text/html; charset=utf-8"),
    "/page.js": ("page.js", "text/javascript; charset=utf-8"),
    "/page.css": ("page.css", "text/css; charset=utf-8"),
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _busy_response() -> bytes:
    """The whole answer to a connection beyond :data:`MAX_CONNECTIONS` (503, closed)."""
    body = json.dumps({"errors": {"": "too many connections: try again"}}).encode()
    head = [
        "HTTP/1.1 503 Service Unavailable",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        "Retry-After: 1",
        *(f"{name}: {value}" for name, value in SECURITY_HEADERS.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


T = TypeVar("T")
R = TypeVar("R")


class _Job(Generic[T, R]):
    def __init__(self, request: T):
        self.request = request
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None


class Coalescer(Generic[T, R]):
    """Run ``work`` on requests one at a time, keeping at most one waiting.

    A request that arrives while another waits replaces it: both callers get the
    result of the newer one (the last change wins). So however fast changes come,
    there is one run in flight and one pending, never a queue.

    Parameters
    ----------
    work : callable
        Runs one request (in the thread of a caller of :meth:`submit`).
    """

    def __init__(self, work: Callable[[T], R]):
        self.work = work
        self._condition = threading.Condition()
        self._pending: _Job[T, R] | None = None
        self._running = False
        self.runs = 0  # how many requests ran (the others were replaced)

    def submit(self, request: T) -> R:
        """Run ``request`` or a newer one that replaced it; returns that run's result
        (or raises its error)."""
        with self._condition:
            if self._pending is None:
                self._pending = _Job(request)
            else:
                self._pending.request = request
            job = self._pending
            while not job.done and (self._running or self._pending is not job):
                self._condition.wait()
            if not job.done:
                self._running, self._pending = True, None
        if not job.done:
            try:
                job.result = self.work(job.request)
            except BaseException as error:  # handed to every caller of the job
                job.error = error
            finally:
                with self._condition:
                    job.done, self._running = True, False
                    self.runs += 1
                    self._condition.notify_all()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]


@dataclass(frozen=True)
class Export:
    """A download the page offers beside "Save as overlay" (a button each).

    ``write(session, changes, view)`` returns the file's bytes for the page's current
    changes (already checked by the scenario's rules) and view; the browser receives
    it as ``<config stem>.whatif.<suffix>``. A workbook writer plugs in here, e.g.
    ``Export("Download (xlsx)", "application/vnd.openxmlformats-officedocument."
    "spreadsheetml.sheet", "xlsx", write_workbook)``.
    """

    label: str
    media_type: str
    suffix: str
    write: Callable[[WhatIf, Mapping[str, float], str], bytes]


class WhatIfServer(ThreadingHTTPServer):
    """The HTTP server of one :class:`WhatIf` session (bound first, so that a busy port
    is refused before the base run; :meth:`attach` gives it its session).

    Parameters
    ----------
    host : str
    port : int
    exports : mapping of str to Export, optional
    request_seconds : float
        A request (its line, headers and body) must arrive within this many seconds of
        its first byte, else the connection gets 408 and is closed.
    max_connections : int
        Connections served at once; one more is answered 503 and closed.
    """

    daemon_threads = True
    # the listen queue: the page's bursts and a few tabs at once, never reset connections
    # (the default of 5 reset most of 50 parallel runs)
    request_queue_size = 128
    # SO_REUSEADDR: a restart may bind over the last run's closed connections (TIME_WAIT);
    # a port another program listens on is still refused (Linux and macOS)
    allow_reuse_address = True

    def __init__(
        self,
        host: str,
        port: int,
        exports: Mapping[str, Export] | None = None,
        *,
        request_seconds: float = REQUEST_SECONDS,
        max_connections: int = MAX_CONNECTIONS,
    ):
        self.exports = dict(exports or {})
        self.request_seconds = float(request_seconds)
        self._slots = threading.BoundedSemaphore(max_connections)
        self.session: WhatIf | None = None
        self.runner: Coalescer[tuple[Any, str], dict[str, Any]] | None = None
        super().__init__((host, port), _Handler)
        self.port = int(self.server_address[1])
        self.host = host
        names = {host, "localhost"} if host == "127.0.0.1" else {host}
        self.hosts = {f"{name}:{self.port}" for name in names}
        self.origins = {f"http://{h}" for h in self.hosts}

    def attach(self, session: WhatIf) -> WhatIfServer:
        """Serve ``session``'s page; returns the server."""
        self.session = session
        self.runner = Coalescer(lambda request: session.evaluate(*request))
        return self

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread of its own, or, when
        ``max_connections`` are being served, answer 503 and close it."""
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(_busy_response())
            super().shutdown_request(request)  # at once: this is the accepting thread
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: the slot is free again
            self._slots.release()
            raise

    def shutdown_request(self, request: Any) -> None:
        """Close a connection so that its last answer arrives: the sending side first,
        then what the client still sends (a refused body) is read and dropped, for up to
        a second. Closed with unread input, the connection would be reset, and the
        client could lose the answer before reading it."""
        with contextlib.suppress(OSError):
            request.shutdown(socket.SHUT_WR)
            request.settimeout(0.2)
            end = time.monotonic() + 1.0
            while time.monotonic() < end and request.recv(65_536):
                pass
        super().shutdown_request(request)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection (in its thread), then free its slot."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that closed its connection early is no error; anything else is said
        in one line (not a traceback) and the server goes on."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        print(f"netsim serve: a request failed: {error!r}", file=sys.stderr, flush=True)

    @property
    def url(self) -> str:
        """The page's address."""
        return f"http://{self.host}:{self.port}/"


def make_server(
    session: WhatIf | None = None,
    port: int = 8765,
    host: str = "127.0.0.1",
    exports: Mapping[str, Export] | None = None,
    **limits: Any,
) -> WhatIfServer:
    """Bind the page's server (port 0: any free port), serving ``session`` if given
    (else :meth:`WhatIfServer.attach` it before serving), with the downloads
    ``exports`` (name: :class:`Export`; the name is its path, ``/api/export/<name>``)
    and ``limits`` (``request_seconds``, ``max_connections``: see
    :class:`WhatIfServer`).

    Raises
    ------
    ScenarioError
        If the port is busy or cannot be bound, in one line.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ScenarioError(f"--port {port!r} must be a whole number in 0-65535")
    try:
        server = WhatIfServer(host, port, exports, **limits)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ScenarioError(
                f"port {port} on {host} is busy (another program serves there): "
                "choose another with --port"
            ) from None
        raise ScenarioError(f"cannot serve on {host}:{port} ({error.strerror or error})") from None
    return server.attach(session) if session is not None else server


def _asset(name: str) -> bytes:
    return resources.files("netsim.present.whatif").joinpath(name).read_bytes()


class _Refused(Exception):
    """A request refused while it is read: answered ``status`` with the message, and
    the connection closed."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


class _DeadlineReader:
    """A connection's input, read so that each request arrives within its time and its
    head within :data:`MAX_HEAD` bytes.

    Before a request's first byte the connection may be idle for ``idle`` seconds (then
    it is closed without an answer); from that byte on, its line, headers and body must
    all arrive within ``within`` seconds, however slowly they trickle, else
    :class:`_Refused` (408) is raised. Each wait on the socket is given only the time
    that is left, and reads at most what one ``recv`` brings. The lines read (the
    request line and headers: a body is read with :meth:`read`) may total at most
    :data:`MAX_HEAD` bytes, else :class:`_Refused` (414 if the request line is longer,
    else 431).

    Parameters
    ----------
    file : io.BufferedReader
        The connection's buffered input.
    connection : socket.socket
    idle, within : float
        Seconds.
    """

    def __init__(self, file: Any, connection: socket.socket, idle: float, within: float):
        self.file, self.connection = file, connection
        self.idle, self.within = idle, within
        self.deadline: float | None = None
        self.head = 0  # bytes of the request's lines so far

    def next_request(self) -> None:
        """Start the clock again at the next request's first byte, and count its head
        from zero."""
        self.deadline, self.head = None, 0

    def _late(self) -> _Refused:
        return _Refused(
            HTTPStatus.REQUEST_TIMEOUT, f"the request did not arrive within {self.within:g} s"
        )

    def _available(self) -> bytes:
        """The bytes buffered, after at most one wait on the socket (b"" at its end)."""
        if self.deadline is None:
            self.connection.settimeout(self.idle)
        else:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise self._late()
            self.connection.settimeout(left)
        try:
            data = self.file.peek(1)
        except TimeoutError:
            if self.deadline is None:
                raise  # idle: the base class closes the connection
            raise self._late() from None
        if data and self.deadline is None:
            self.deadline = time.monotonic() + self.within
        return data

    def readline(self, limit: int = -1) -> bytes:
        """A line (with its newline), at most ``limit`` bytes (all if negative)."""
        line = bytearray()
        while limit < 0 or len(line) < limit:
            data = self._available()
            if not data:
                break
            end = data.find(b"\n")
            size = len(data) if end < 0 else end + 1
            if limit >= 0:
                size = min(size, limit - len(line))
            line += self.file.read(size)
            if self.head + len(line) > MAX_HEAD:
                first = self.head == 0  # the request line: its address is too long
                raise _Refused(
                    HTTPStatus.REQUEST_URI_TOO_LONG
                    if first
                    else HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                    f"a request line and headers of at most {MAX_HEAD} bytes",
                )
            if line.endswith(b"\n"):
                break
        self.head += len(line)
        return bytes(line)

    def read(self, size: int) -> bytes:
        """``size`` bytes, or fewer at the connection's end."""
        data = bytearray()
        while len(data) < size:
            available = self._available()
            if not available:
                break
            data += self.file.read(min(len(available), size - len(data)))
        return bytes(data)

    def close(self) -> None:
        """Close the buffered input (not the connection)."""
        self.file.close()


class _Handler(BaseHTTPRequestHandler):
    server: WhatIfServer
    protocol_version = "HTTP/1.1"
    server_version = "netsim"
    sys_version = ""
    timeout = 120  # seconds an idle kept-alive connection holds its thread

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the address and errors, not every request."""

    def setup(self) -> None:
        """The connection, its input read within each request's time."""
        super().setup()
        self.rfile = _DeadlineReader(  # type: ignore[assignment]
            self.rfile, self.connection, self.timeout, self.server.request_seconds
        )

    def handle_one_request(self) -> None:
        """One request, refused (and the connection closed) if it does not arrive whole
        in time (408) or its head is too large (414 or 431)."""
        self.rfile.next_request()  # type: ignore[attr-defined]
        self.command, self.requestline, self.request_version = None, "", "HTTP/1.1"
        try:
            super().handle_one_request()
        except _Refused as error:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send_json(error.status, {"error": str(error)})

    def send_response(self, code: int, message: str | None = None) -> None:
        """Start an answer; writing it has the connection's own timeout again (the
        request's deadline was for reading it)."""
        self.connection.settimeout(self.timeout)
        super().send_response(code, message)

    # --- the checks every request passes -----------------------------------------------
    def parse_request(self) -> bool:
        """The request line and headers, then the ``Host`` and ``Origin`` check, before
        the method is looked at: a request from elsewhere gets 403 whatever its method.

        A request line that is not ``METHOD target HTTP/1.x`` (HTTP/0.9 has no version,
        and would be answered with a bare body) is refused before any header is read:
        505 for another HTTP version, 400 for anything else."""
        if not REQUEST_LINE.fullmatch(self.raw_requestline):
            self.close_connection = True
            words = self.raw_requestline.split()
            if not words:  # an empty line: nothing to answer
                return False
            other_version = (
                len(words) == 3
                and re.fullmatch(rb"HTTP/[0-9]+\.[0-9]+", words[2])
                and words[2] not in (b"HTTP/1.0", b"HTTP/1.1")
            )
            status = (
                HTTPStatus.HTTP_VERSION_NOT_SUPPORTED if other_version else HTTPStatus.BAD_REQUEST
            )
            self._send_json(status, {"error": "send METHOD /path HTTP/1.1 (or HTTP/1.0)"})
            return False
        return super().parse_request() and self._well_formed() and self._allowed()

    def _well_formed(self) -> bool:
        """Headers read one way only, or 400: with two ``Host``, ``Origin`` or
        ``Content-Length`` headers, a length that is not digits, a
        ``Transfer-Encoding`` (not implemented: the body's end would be misread) or a
        body on another method than POST (it would be read as the next request), a
        server and a proxy in front of it could each see another request."""
        problem = _header_problem(self.headers, self.command or "")
        if problem is not None:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": problem})
            return False
        return True

    def handle_expect_100(self) -> bool:
        """``Expect: 100-continue`` is answered when the body is about to be read, once
        the request has passed every check (the base class would invite the body before
        the ``Host`` and ``Origin`` check)."""
        return True

    def _allowed(self) -> bool:
        host = self.headers.get("Host")
        origin = self.headers.get("Origin")
        if host not in self.server.hosts or (
            origin is not None and origin not in self.server.origins
        ):
            self._send_json(HTTPStatus.FORBIDDEN, {"error": "not this server's own page"})
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """An error the base class finds (a malformed request line, an unknown method, an
        over-long header) answered like the page's own: JSON with the security headers,
        and the connection closed (the base class sends an HTML page without them)."""
        try:
            status = HTTPStatus(code)
        except ValueError:
            status = HTTPStatus.BAD_REQUEST
        if status == HTTPStatus.NOT_IMPLEMENTED:  # a method no page uses
            status = HTTPStatus.METHOD_NOT_ALLOWED
        self._send_json(status, {"error": message or status.phrase})

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        if status >= 400:  # a refused request's body is never read as another request
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: HTTPStatus, data: Any) -> None:
        body = json.dumps(data, allow_nan=False).encode("utf-8")
        self._send(status, body, "application/json")

    def _not_found(self) -> None:
        self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {self.path[:200]}"})

    # --- methods -----------------------------------------------------------------------
    def do_GET(self) -> None:
        """The page, its script and style, and its initial state."""
        if self.path in STATIC:
            name, content_type = STATIC[self.path]
            self._send(HTTPStatus.OK, _asset(name), content_type)
        elif self.path == "/api/state" and self.server.session is not None:
            state = self.server.session.state()
            state["exports"] = [
                {"name": name, "label": export.label}
                for name, export in self.server.exports.items()
            ]
            self._send_json(HTTPStatus.OK, state)
        else:
            self._not_found()

    do_HEAD = do_GET

    def do_POST(self) -> None:
        """``/api/run`` (changes and a view: the result), ``/api/save`` (changes: the
        overlay written) and ``/api/export/<name>`` (a download, if the server has it)."""
        name = self.path.removeprefix("/api/export/")
        export = self.server.exports.get(name) if name != self.path else None
        if self.path not in ("/api/run", "/api/save") and export is None:
            self._not_found()
            return
        request = self._read_json()
        if request is None:
            return
        session, runner = self.server.session, self.server.runner
        if session is None or runner is None:
            self._send_json(HTTPStatus.SERVICE_UNAVAILABLE, {"errors": {"": "starting"}})
            return
        try:
            if self.path == "/api/run":
                result = runner.submit((request.get("changes", {}), request.get("view", "global")))
                self._send_json(HTTPStatus.OK, result)
            elif self.path == "/api/save":
                path = session.save(request.get("changes", {}))
                self._send_json(HTTPStatus.OK, {"path": str(path)})
            elif export is not None:
                self._export(export, request)
        except ChangeError as error:
            self._send_json(HTTPStatus.BAD_REQUEST, {"errors": error.errors})
        except OutputError as error:
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"errors": {"": str(error)}})
        except ScenarioError as error:
            self._send_json(HTTPStatus.BAD_REQUEST, {"errors": {"": str(error)}})
        except Exception as error:  # a fault of netsim's: said in one line, here and there
            if isinstance(error, ConnectionError | TimeoutError):
                raise  # the browser is gone: nothing to answer (handle_error)
            message = f"netsim serve: internal error in {self.path}: {error!r}"
            print(message, file=sys.stderr, flush=True)
            self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"errors": {"": message}})

    def _export(self, export: Export, request: dict[str, Any]) -> None:
        session = self.server.session
        assert session is not None
        view = request.get("view", "global")
        if not isinstance(view, str) or view not in session.views:
            raise ChangeError({"": f"{str(view)[:200]!r} is not a view of this page"})
        changes = session.parse_changes(request.get("changes", {}))
        with session.lock:
            session.scenario(changes)  # the rules first, as for a run
        body = export.write(session, changes, view)
        name = f"{session.config.stem}.whatif.{export.suffix}".replace('"', "")
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", export.media_type)
        self.send_header("Content-Length", str(len(body)))
        # the name as ASCII for every client, and exactly (RFC 6266 / 5987) for those that
        # read filename*: a header must be Latin-1, a config's name need not be
        plain = name.encode("ascii", "replace").decode().replace("?", "_")
        self.send_header(
            "Content-Disposition",
            f"attachment; filename=\"{plain}\"; filename*=UTF-8''{urllib.parse.quote(name)}",
        )
        for header, value in SECURITY_HEADERS.items():
            self.send_header(header, value)
        self.end_headers()
        self.wfile.write(body)

    def _read_json(self) -> dict[str, Any] | None:
        """The request's JSON object, or None after answering 400/411/413/415."""
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            self._send_json(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"errors": {"": "send application/json"}}
            )
            return None
        if "Content-Length" not in self.headers:
            self._send_json(
                HTTPStatus.LENGTH_REQUIRED, {"errors": {"": "send the body's Content-Length"}}
            )
            return None
        length = int(self.headers["Content-Length"])  # digits (_header_problem)
        if length > MAX_BODY:
            self._send_json(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                {"errors": {"": f"a request body of at most {MAX_BODY} bytes"}},
            )
            return None
        if self.headers.get("Expect", "").lower() == "100-continue":
            self.send_response_only(HTTPStatus.CONTINUE)
            self.end_headers()
        try:
            data = json.loads(self.rfile.read(length).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            self._send_json(
                HTTPStatus.BAD_REQUEST, {"errors": {"": "the body must be a JSON object"}}
            )
            return None
        return data


def _header_problem(headers: Any, method: str) -> str | None:
    """Why a request's headers could be read two ways (see
    :meth:`_Handler._well_formed`), or None.

    Parameters
    ----------
    headers : http.client.HTTPMessage
    method : str
    """
    if headers.defects:  # a line that is no header (no colon, a space before it)
        return "a malformed header line"
    for name, value in headers.items():
        if not HEADER_NAME.fullmatch(name) or "\n" in value or "\r" in value:
            return "a malformed header (or one folded over lines)"
    if len(headers.get_all("Host", [])) != 1:
        return "send exactly one Host header"
    if len(headers.get_all("Origin", [])) > 1:
        return "send at most one Origin header"
    lengths = headers.get_all("Content-Length", [])
    if len(lengths) > 1:
        return "send at most one Content-Length header"
    if lengths and not re.fullmatch(r"[0-9]{1,15}", lengths[0]):
        return "Content-Length must be a number of bytes (digits only)"
    if "Transfer-Encoding" in headers:
        return "Transfer-Encoding is not supported: send the body with a Content-Length"
    if method != "POST" and lengths and int(lengths[0]) > 0:
        return f"a {method[:20]} request has no body"
    return None
