"""The what-if page's local web server: a few fixed paths, JSON in and out.

HTTP is uvicorn's (its h11 protocol: the request line, headers, body framing and
keep-alive are parsed and refused there) and the routes a small Starlette app. What
is left here is the page's own: a request whose ``Host`` is not this server's own
address (DNS rebinding), or whose ``Origin`` is another site (a cross-origin POST),
gets 403 before anything else is looked at (:class:`PageGuard`); a body is at most
:data:`MAX_BODY` bytes (Starlette's limit, 413); every answer carries the security
headers; a download's name is encoded, never copied, into its header
(:func:`content_disposition`).

It serves the page and its script and style from the package (no other site is ever
asked for anything), takes ``{control key: number}`` changes and a view from the page,
and never a file path, code or a scenario document. Connections are served by one
event loop (a slow client holds its own connection, not a thread); runs, saves and
downloads go to worker threads.

Changes that arrive faster than runs finish are coalesced per page (:class:`Coalescer`):
one run at a time, and for each page at most one waiting, which that page's newer
change replaces; a change of another page never does.
"""

from __future__ import annotations

import email.utils
import errno
import functools
import json
import re
import socket
import sys
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources
from typing import Any, Generic, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from netsim.errors import ArgumentValueError, OutputError, ScenarioError
from netsim.present.whatif.session import ChangeError, WhatIf

__all__ = [
    "MAX_BODY",
    "MAX_CONNECTIONS",
    "Coalescer",
    "Export",
    "PageGuard",
    "WhatIfServer",
    "content_disposition",
    "make_server",
]

MAX_BODY = 65_536  # a page's changes are a few hundred bytes
MAX_CONNECTIONS = 64  # a browser opens at most 6 to one address; the next is answered 503
SHUTDOWN_SECONDS = 5  # a run or download in progress may finish within this on stopping
# the id a page sends with its runs: its requests coalesce with its own only
PAGE_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
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
    def __init__(self, client: Hashable, request: T):
        self.client = client
        self.request = request
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None


class Coalescer(Generic[T, R]):
    """Run ``work`` on requests one at a time, keeping at most one waiting per client.

    A client's request that arrives while another of its own waits replaces it: both of
    its callers get the result of the newer one (that client's last change wins). A
    request of another client never replaces it: each client waits its turn, in the
    order its first waiting request came, and every caller gets the result of its own
    client's request. So however fast changes come, one run is in flight and at most
    one waits per page, never a queue of one page's changes.

    Parameters
    ----------
    work : callable
        Runs one request (in the thread of a caller of :meth:`submit`).
    """

    def __init__(self, work: Callable[[T], R]):
        self.work = work
        self._condition = threading.Condition()
        self._waiting: dict[Hashable, _Job[T, R]] = {}  # in turn order (insertion)
        self._running = False
        self.runs = 0  # how many requests ran (the others were replaced)

    def submit(self, request: T, client: Hashable | None = None) -> R:
        """Run ``request`` or a newer one of the same ``client`` that replaced it;
        returns that run's result (or raises its error). A request without a client
        is never replaced and replaces none."""
        key = object() if client is None else client
        with self._condition:
            job = self._waiting.get(key)
            if job is None:
                job = self._waiting[key] = _Job(key, request)
            else:
                job.request = request
            while not job.done and (self._running or next(iter(self._waiting.values())) is not job):
                self._condition.wait()
            if not job.done:
                self._running = True
                del self._waiting[job.client]
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


def content_disposition(name: str) -> str:
    """The ``Content-Disposition`` of a download named ``name`` (RFC 6266).

    A character that is not printable (a line break, a tab, another control character)
    becomes ``_`` in the name: it has no place in a file name. The name is then given
    twice: exactly, as ``filename*`` in UTF-8 percent-encoded by
    :func:`email.utils.encode_rfc2231` (RFC 8187), and as a quoted ``filename`` for
    clients that read only that, with ``_`` for every character outside printable
    ASCII and for ``"``, ``\\`` and ``%``. The header is ASCII whatever the name.

    Parameters
    ----------
    name : str
        The file name the browser should save as.
    """
    readable = "".join(c if c.isprintable() else "_" for c in name)
    fallback = re.sub(r'[^\x20-\x7e]|["\\%]', "_", readable)
    exact = email.utils.encode_rfc2231(readable, "utf-8")
    return f'attachment; filename="{fallback}"; filename*={exact}'


def _error(status: int, message: str) -> JSONResponse:
    """A refusal as the page reads it: ``{"errors": {"": message}}``."""
    return JSONResponse({"errors": {"": message}}, status_code=status)


class PageGuard:
    """The page's own checks around the app: a request whose ``Host`` is not this
    server's address (a DNS-rebinding page) or whose ``Origin`` is another site (a
    cross-origin POST) is answered 403 before the app sees it (its body unread); every
    answer gets :data:`SECURITY_HEADERS`.

    Starlette's TrustedHostMiddleware compares the name alone (a rebinding page may
    name another port) and has no ``Origin`` check, hence this one.

    Parameters
    ----------
    app : ASGI application
    hosts : set of str
        ``Host`` values that name this server (``name:port``).
    """

    def __init__(self, app: ASGIApp, hosts: set[str]):
        self.app = app
        self.hosts = hosts
        self.origins = {f"http://{host}" for host in hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request if it is the page's own, else answer 403."""
        if scope["type"] != "http":  # the lifespan is off: nothing else is served
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        refused = headers.get("host") not in self.hosts or (
            origin is not None and origin not in self.origins
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        if refused:
            await _error(403, "not this server's own page")(scope, receive, with_headers)
        else:
            await self.app(scope, receive, with_headers)


@functools.cache
def _asset(name: str) -> bytes:
    return resources.files("netsim.present.whatif").joinpath(name).read_bytes()


def _routes(server: WhatIfServer) -> list[Route]:
    """The page's paths, each served from ``server``'s session and exports."""

    async def static(request: Request) -> Response:
        name, media_type = STATIC[request.url.path]
        return Response(_asset(name), media_type=media_type)

    async def state(request: Request) -> Response:
        return await _answer(request, lambda: _state(server))

    async def run(request: Request) -> Response:
        return await _posted(request, lambda body: _run(server, body))

    async def save(request: Request) -> Response:
        return await _posted(
            request, lambda body: {"path": str(_session(server).save(body.get("changes", {})))}
        )

    async def export(request: Request) -> Response:
        chosen = server.exports.get(request.path_params["name"])
        if chosen is None:
            return _not_found(request)
        return await _posted(request, lambda body: _export(server, chosen, body))

    return [
        *(Route(path, static, methods=["GET"]) for path in STATIC),
        Route("/api/state", state, methods=["GET"]),
        Route("/api/run", run, methods=["POST"]),
        Route("/api/save", save, methods=["POST"]),
        Route("/api/export/{name}", export, methods=["POST"]),
    ]


def _session(server: WhatIfServer) -> WhatIf:
    if server.session is None:
        raise ChangeError({"": "starting: try again"})
    return server.session


def _state(server: WhatIfServer) -> dict[str, Any]:
    """``/api/state``: everything the page draws itself from, and the downloads."""
    result = _session(server).state()
    result["exports"] = [
        {"name": name, "label": export.label} for name, export in server.exports.items()
    ]
    return result


def _run(server: WhatIfServer, body: dict[str, Any]) -> dict[str, Any]:
    """``/api/run``: the changes' result for the page's view, coalesced per page."""
    client = body.get("client")
    if client is not None and not (isinstance(client, str) and PAGE_ID.fullmatch(client)):
        raise ChangeError({"": "client must be the page's id (letters, digits, _ and -)"})
    _session(server)
    assert server.runner is not None  # attached with the session
    changes, view = body.get("changes", {}), body.get("view", "global")
    return server.runner.submit((changes, view), client)


def _export(server: WhatIfServer, export: Export, body: dict[str, Any]) -> Response:
    """``/api/export/<name>``: the download of the page's changes, checked first."""
    session = _session(server)
    view = body.get("view", "global")
    if not isinstance(view, str) or view not in session.views:
        raise ChangeError({"": f"{str(view)[:200]!r} is not a view of this page"})
    changes = session.parse_changes(body.get("changes", {}))
    with session.lock:
        session.scenario(changes)  # the rules first, as for a run
    data = export.write(session, changes, view)
    name = f"{session.config.stem}.whatif.{export.suffix}"
    return Response(
        data,
        media_type=export.media_type,
        headers={"Content-Disposition": content_disposition(name)},
    )


async def _json_body(request: Request) -> dict[str, Any] | Response:
    """The request's JSON object (at most :data:`MAX_BODY` bytes, else Starlette's limit
    answers 413), or the refusal to answer (415, 400)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return _error(415, "send application/json")
    try:
        raw = await request.body()
    except ClientDisconnect:  # gone before its body was whole: no one to answer
        return _error(400, "the request ended before its body")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    return body


async def _posted(request: Request, work: Callable[[dict[str, Any]], Any]) -> Response:
    """A POST's JSON body read (:func:`_json_body`) and ``work`` done on it (:func:`_answer`)."""
    body = await _json_body(request)
    if isinstance(body, Response):
        return body
    return await _answer(request, lambda: work(body))


async def _answer(request: Request, work: Callable[[], Any]) -> Response:
    """``work`` done in a worker thread, and its result (JSON, or a response of its own)
    or its refusal answered as the page reads it."""
    try:
        result = await run_in_threadpool(work)
    except ChangeError as error:
        return JSONResponse({"errors": error.errors}, status_code=400)
    except OutputError as error:
        return _error(500, str(error))
    except (ScenarioError, ArgumentValueError) as error:
        return _error(400, str(error))
    except Exception as error:  # a fault of netsim's: said in one line, here and there
        message = f"netsim serve: internal error in {request.url.path}: {error!r}"
        print(message, file=sys.stderr, flush=True)
        return _error(500, message)
    return result if isinstance(result, Response) else JSONResponse(result)


def _not_found(request: Request) -> Response:
    return _error(404, f"no such page: {request.url.path[:200]}")


async def _refused(request: Request, error: Exception) -> Response:
    """What Starlette refuses (no such path 404, another method 405, too large a body
    413), answered as JSON like the page's own refusals."""
    assert isinstance(error, HTTPException)
    if error.status_code == HTTPStatus.NOT_FOUND:
        return _not_found(request)
    response = _error(error.status_code, str(error.detail))
    response.headers.update(error.headers or {})
    return response


class WhatIfServer:
    """The HTTP server of one :class:`WhatIf` session: bound at once (so that a busy
    port is refused before the base run), served by :meth:`serve_forever` once
    :meth:`attach` has given it its session.

    Parameters
    ----------
    host : str
    port : int
        0: any free port.
    exports : mapping of str to Export, optional
    max_connections : int
        Connections served at once; a request beyond them is answered 503.
    """

    def __init__(
        self,
        host: str,
        port: int,
        exports: Mapping[str, Export] | None = None,
        *,
        max_connections: int = MAX_CONNECTIONS,
    ):
        self.exports = dict(exports or {})
        self.session: WhatIf | None = None
        self.runner: Coalescer[tuple[Any, str], dict[str, Any]] | None = None
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # a restart may bind over the last run's closed connections (TIME_WAIT); a
            # port another program listens on is still refused (Linux and macOS)
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind((host, port))
            self.socket.listen(128)
        except OSError:
            self.socket.close()
            raise
        self.host, self.port = host, int(self.socket.getsockname()[1])
        names = {host, "localhost"} if host == "127.0.0.1" else {host}
        self.hosts = {f"{name}:{self.port}" for name in names}
        app = Starlette(
            routes=_routes(self),
            exception_handlers={HTTPException: _refused},
            max_body_size=MAX_BODY,
        )
        app.router.redirect_slashes = False  # a few fixed paths: any other is 404
        config = uvicorn.Config(
            PageGuard(app, self.hosts),
            http="h11",
            loop="asyncio",
            lifespan="off",
            ws="none",
            interface="asgi3",
            log_config=None,
            log_level="error",  # the terminal shows the address and errors, not each request
            access_log=False,
            proxy_headers=False,
            server_header=False,
            limit_concurrency=max_connections,
            timeout_graceful_shutdown=SHUTDOWN_SECONDS,
        )
        self._server = uvicorn.Server(config)

    def attach(self, session: WhatIf) -> WhatIfServer:
        """Serve ``session``'s page; returns the server."""
        self.session = session
        self.runner = Coalescer(lambda request: session.evaluate(*request))
        return self

    def serve_forever(self) -> None:
        """Serve until :meth:`shutdown` (from another thread), or, in the main thread,
        until SIGINT or SIGTERM, which is then raised again for the caller's handler
        once the server has closed."""
        self._server.run(sockets=[self.socket])

    def shutdown(self) -> None:
        """Ask :meth:`serve_forever` to stop: it closes the socket and returns once the
        requests in progress are answered (at most :data:`SHUTDOWN_SECONDS`)."""
        self._server.should_exit = True

    def server_close(self) -> None:
        """Close the listening socket (if serving has not already)."""
        self.socket.close()

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
    and ``limits`` (``max_connections``: see :class:`WhatIfServer`).

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
        raise ScenarioError(f"cannot serve on {host}:{port} ({error.strerror or error})") from error
    return server.attach(session) if session is not None else server
