"""The what-if page's local web server: a few fixed paths, JSON in and out.

It serves the page and its script and style from the package (no other site is
ever asked for anything), takes ``{control key: number}`` changes and a view from
the page, and never a file path, code or a scenario document. A request whose
``Host`` is not this server's own address (DNS rebinding), or whose ``Origin`` is
another site (a cross-origin POST), gets 403; any other path 404.

Changes that arrive faster than runs finish are coalesced (:class:`Coalescer`): one
run at a time, at most one waiting, and a newer change replaces the waiting one.
"""

from __future__ import annotations

import errno
import json
import sys
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Generic, TypeVar

from netsim.errors import OutputError, ScenarioError
from netsim.present.whatif.session import ChangeError, WhatIf

__all__ = ["MAX_BODY", "Coalescer", "Export", "WhatIfServer", "make_server"]

MAX_BODY = 65_536  # a page's changes are a few hundred bytes
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
    is refused before the base run; :meth:`attach` gives it its session)."""

    daemon_threads = True
    # the listen queue: the page's bursts and a few tabs at once, never reset connections
    # (the default of 5 reset most of 50 parallel runs)
    request_queue_size = 128
    # SO_REUSEADDR: a restart may bind over the last run's closed connections (TIME_WAIT);
    # a port another program listens on is still refused (Linux and macOS)
    allow_reuse_address = True

    def __init__(self, host: str, port: int, exports: Mapping[str, Export] | None = None):
        self.exports = dict(exports or {})
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
) -> WhatIfServer:
    """Bind the page's server (port 0: any free port), serving ``session`` if given
    (else :meth:`WhatIfServer.attach` it before serving), with the downloads
    ``exports`` (name: :class:`Export`; the name is its path, ``/api/export/<name>``).

    Raises
    ------
    ScenarioError
        If the port is busy or cannot be bound, in one line.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ScenarioError(f"--port {port!r} must be a whole number in 0-65535")
    try:
        server = WhatIfServer(host, port, exports)
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


class _Handler(BaseHTTPRequestHandler):
    server: WhatIfServer
    protocol_version = "HTTP/1.1"
    server_version = "netsim"
    sys_version = ""
    timeout = 120  # seconds an idle kept-alive connection holds its thread

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows the address and errors, not every request."""

    # --- the checks every request passes -----------------------------------------------
    def parse_request(self) -> bool:
        """The request line and headers, then the ``Host`` and ``Origin`` check, before
        the method is looked at: a request from elsewhere gets 403 whatever its method."""
        return super().parse_request() and self._allowed()

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
        """The request's JSON object, or None after answering 400/413/415."""
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            self._send_json(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"errors": {"": "send application/json"}}
            )
            return None
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._send_json(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                {"errors": {"": f"a request body of at most {MAX_BODY} bytes, with its length"}},
            )
            return None
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
