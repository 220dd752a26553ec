"""HTTP stand-ins on 127.0.0.1: a threaded server, request recording and injected faults.

What the Azure ML emulators (v1 over http, v2 over https) and the proxies (``faultproxy.py``,
the v2 tests' CONNECT proxy) would otherwise each write again:

- `LoopbackServer`: listen on a free port of 127.0.0.1, and nowhere else, from a daemon thread;
  ``start``/``stop``, or a ``with`` block;
- `EmulatedService`: a `LoopbackServer` that records every request (`Recorded`) and breaks the
  ones a test asks for (`Fault`): the next N answered with a status (and a Retry-After header),
  served and then failed ("commit, then fail": the change is made, the client hears of an
  error), a dropped connection, a slow answer (served, or failed, seconds late), or none at all
  (a hung server: the connection held open, never answered);
- `JsonHandler`: the request handler that hands each request to its service and answers JSON.

Standard library only: the v1 emulator runs in a venv without azure-ai-ml, the v2 one in a venv
without azureml-core.
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:  # only: typing.Self needs Python 3.11, and this module the standard library
    from typing_extensions import Self

__all__ = [
    "EmulatedService",
    "EmulatorError",
    "Fault",
    "JsonHandler",
    "LoopbackServer",
    "Recorded",
    "parse_json",
    "read_request",
]

_Result = TypeVar("_Result")

_HANG_LIMIT = 60.0
"""Seconds at most a hung request holds its connection (and its handler thread)."""

# A server that serves each connection in a thread of its own.
_Threaded: TypeAlias = ThreadingHTTPServer | socketserver.ThreadingTCPServer


@dataclass
class Recorded:
    """One request as the emulator received it, and the status it answered.

    `status` is 0 while the request is being served, and -1 for a dropped connection; `at` is
    when it arrived and `ended` when it was answered, dropped, or given up on by the client
    (``time.monotonic()``; None until then).
    """

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0
    at: float = field(default_factory=time.monotonic)
    ended: float | None = None

    @property
    def service(self) -> str:
        """The path's first segment: on Azure ML v1, history, metric, artifact..."""
        return self.path.strip("/").split("/", 1)[0]

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        return f"{self.method} {self.path}{'?' + query if query else ''} -> {self.status}"


@dataclass
class Fault:
    """What to do instead of (or after) serving the next matching requests.

    Attributes:
        method: The HTTP method it applies to.
        pattern: A regular expression searched in the path.
        status: The status to answer (with the service's error body).
        times: How many matching requests it applies to.
        retry_after: A Retry-After header value in seconds, if any.
        commit: Serve the request first (the change is made), then answer `status` (or, with
            `drop`, close the connection).
        drop: Close the connection without answering.
        after: How many matching requests to serve normally first (``passed`` counts them).
        delay: Seconds to wait before doing any of that (a slow server).
        late: After the delay, serve the request normally (a slow answer, not an error).
        hang: Never answer: hold the connection until the faults are cleared (a hung server).
    """

    method: str
    pattern: str
    status: int = 503
    times: int = 1
    retry_after: float | None = None
    commit: bool = False
    drop: bool = False
    after: int = 0
    delay: float = 0.0
    late: bool = False
    hang: bool = False
    hits: int = 0
    passed: int = 0
    released: threading.Event = field(default_factory=threading.Event)
    """Set when the faults are cleared: a held connection is let go, a delay cut short."""

    def matches(self, method: str, path: str) -> bool:
        if not (
            self.hits < self.times and method == self.method and bool(re.search(self.pattern, path))
        ):
            return False
        if self.passed < self.after:
            self.passed += 1
            return False
        return True


class EmulatorError(Exception):
    """An error answer, raised by a route: status, code and message, in the service's error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class LoopbackServer:
    """A server on 127.0.0.1 (a free port), served from a daemon thread; a context manager.

    A subclass makes its server in `_bind`, on the address it is given.
    """

    _what: ClassVar[str] = "server"
    """What it is, for the message of a use before `start`."""
    _thread_name: ClassVar[str | None] = None
    _server: _Threaded | None = None

    def _bind(self, address: tuple[str, int]) -> _Threaded:
        """Return a server listening on `address` (127.0.0.1, port 0: a free one)."""
        raise NotImplementedError

    def start(self) -> Self:
        """Listen on 127.0.0.1, on a free port, in a daemon thread."""
        server = self._bind(("127.0.0.1", 0))
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, name=self._thread_name, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on, on 127.0.0.1."""
        if self._server is None:
            msg = f"the {self._what} is not started"
            raise RuntimeError(msg)
        port: int = self._server.server_address[1]
        return port


def read_request(handler: BaseHTTPRequestHandler) -> tuple[str, dict[str, str], bytes]:
    """Read a request's path (unquoted), query (the last value of each key) and body."""
    split = urlsplit(handler.path)
    query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length) if length else b""
    return unquote(split.path), query, raw


def parse_json(raw: bytes) -> Any:
    """Return `raw` parsed as JSON, or `raw` itself when it is not JSON (or empty)."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class JsonHandler(BaseHTTPRequestHandler):
    """Hands every request to its service (``owner._handle``); answers JSON; logs nothing."""

    owner: EmulatedService
    protocol_version = "HTTP/1.1"
    allow_nan: ClassVar[bool] = True
    """Whether `send_json` writes NaN and the infinities as JSON's (non-standard) bare tokens."""

    def do_GET(self) -> None:
        self.owner._handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815 - http.server's names

    def send_json(self, status: int, payload: Any, headers: Mapping[str, str]) -> None:
        data = json.dumps(payload, allow_nan=self.allow_nan).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Keep the test output quiet: the emulator records requests itself."""


def _hold(handler: BaseHTTPRequestHandler, fault: Fault, seconds: float) -> bool:
    """Wait `seconds` (less if the fault is released); False if the client closed meanwhile.

    The client sends nothing after its request, so its connection turning readable means it
    closed it (EOF, or TLS's closing alert): it stopped waiting.
    """
    deadline = time.monotonic() + seconds
    while not fault.released.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        try:
            readable, _, _ = select.select([handler.connection], [], [], min(left, 0.05))
        except (OSError, ValueError):
            return False
        if readable:
            return False
    return True


class EmulatedService(LoopbackServer):
    """A service stand-in that records every request and breaks the ones a test asks for.

    A subclass serves a request in `_handle`: it records it (`_record`), then lets `_respond`
    serve it or break it; `_error_body` is the body of its error answers.
    """

    _what = "emulator"
    handler_class: ClassVar[type[JsonHandler]] = JsonHandler
    shutdown_on_drop: ClassVar[bool] = True
    """Whether a dropped connection is shut down (both ways) before it is closed."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._requests: list[Recorded] = []
        self._unhandled: list[Recorded] = []
        self._faults: list[Fault] = []

    def _bind(self, address: tuple[str, int]) -> _Threaded:
        return ThreadingHTTPServer(address, self._handler())

    def _handler(self) -> type[JsonHandler]:
        """Return a handler class whose requests go to this service."""
        return type("Handler", (self.handler_class,), {"owner": self})

    def _handle(self, handler: JsonHandler) -> None:
        raise NotImplementedError

    @staticmethod
    def _error_body(code: str, message: str) -> Any:
        raise NotImplementedError

    # --- what was asked ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """Every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def unhandled(self) -> list[Recorded]:
        """Requests the emulator did not understand (answered 400)."""
        with self._lock:
            return list(self._unhandled)

    def clear_requests(self) -> None:
        """Forget the requests recorded so far."""
        with self._lock:
            self._requests.clear()

    def count(self, method: str | None = None, pattern: str = "") -> int:
        """Return how many recorded requests have `method` and a path matching `pattern`."""
        return len(self.matching(method, pattern))

    def matching(self, method: str | None = None, pattern: str = "") -> list[Recorded]:
        """Return the recorded requests with `method` and a path matching `pattern`."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and re.search(pattern, r.path)
        ]

    def _record(self, method: str, path: str, query: dict[str, str], body: Any) -> Recorded:
        record = Recorded(method, path, query, body)
        with self._lock:
            self._requests.append(record)
        return record

    def _not_understood(self, record: Recorded) -> None:
        with self._lock:
            self._unhandled.append(record)

    # --- faults -----------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        pattern: str,
        *,
        status: int = 503,
        times: int = 1,
        retry_after: float | None = None,
        after: int = 0,
    ) -> Fault:
        """Answer the next `times` matching requests (past the first `after`) with `status`."""
        return self._add_fault(
            Fault(method, pattern, status=status, times=times, retry_after=retry_after, after=after)
        )

    def commit_then_fail(
        self, method: str, pattern: str, *, status: int = 503, times: int = 1
    ) -> Fault:
        """Serve the next matching requests (their change is made), then answer `status`."""
        return self._add_fault(Fault(method, pattern, status=status, times=times, commit=True))

    def commit_then_drop(self, method: str, pattern: str, *, times: int = 1) -> Fault:
        """Serve the next matching requests (their change is made), then close without answering."""
        return self._add_fault(Fault(method, pattern, times=times, commit=True, drop=True))

    def drop_next(self, method: str, pattern: str, *, times: int = 1, after: int = 0) -> Fault:
        """Close the connection of the next matching requests (past the first `after`)."""
        return self._add_fault(Fault(method, pattern, times=times, drop=True, after=after))

    def slow_next(
        self,
        method: str,
        pattern: str,
        *,
        seconds: float,
        status: int | None = None,
        times: int = 1,
        after: int = 0,
    ) -> Fault:
        """Answer the next `times` matching requests `seconds` late: served, or with `status`."""
        return self._add_fault(
            Fault(
                method,
                pattern,
                status=status or 503,
                times=times,
                after=after,
                delay=seconds,
                late=status is None,
            )
        )

    def hang_next(self, method: str, pattern: str, *, times: int = 1, after: int = 0) -> Fault:
        """Never answer the next matching requests: accept, read, and hold the connection."""
        return self._add_fault(Fault(method, pattern, times=times, after=after, hang=True))

    def clear_faults(self) -> None:
        """Forget the faults not yet used up; let go of the connections held by a hang."""
        with self._lock:
            for fault in self._faults:
                fault.released.set()
            self._faults.clear()

    def stop(self) -> None:
        """Let go of held connections, then stop listening."""
        self.clear_faults()
        super().stop()

    @contextlib.contextmanager
    def checked(self) -> Iterator[Self]:
        """Run a test with no faults or recorded requests; fail on any request not understood."""
        self.clear_faults()
        self.clear_requests()
        known = len(self.unhandled)
        yield self
        self.clear_faults()
        unknown = self.unhandled[known:]
        assert not unknown, f"the emulator did not understand: {[str(r) for r in unknown]}"

    def _add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    # --- answering --------------------------------------------------------------------------------

    def _respond(
        self,
        handler: BaseHTTPRequestHandler,
        record: Recorded,
        *,
        serve: Callable[[], _Result],
        answer: Callable[[_Result], None],
        fail: Callable[[Fault], None],
    ) -> None:
        """Serve a recorded request and `answer` it, unless the first matching fault breaks it.

        Args:
            handler: The request's handler.
            record: The request, recorded.
            serve: Serve it (make its change) and return the answer.
            answer: Send that answer.
            fail: Send a fault's error answer instead.
        """
        try:
            self._respond_or_fault(handler, record, serve=serve, answer=answer, fail=fail)
        finally:
            if record.ended is None:
                record.ended = time.monotonic()

    def _respond_or_fault(
        self,
        handler: BaseHTTPRequestHandler,
        record: Recorded,
        *,
        serve: Callable[[], _Result],
        answer: Callable[[_Result], None],
        fail: Callable[[Fault], None],
    ) -> None:
        fault = self._take_fault(record.method, record.path)
        if fault is None:
            answer(serve())
            return
        # A hang is held until the test clears its faults (a minute at most: no thread outlives
        # it), or until the client gives up on it and closes the connection.
        held = _HANG_LIMIT if fault.hang else fault.delay
        if held and not _hold(handler, fault, held):
            record.ended = time.monotonic()  # the client's timeout, as the server saw it
            self._drop(handler, record)
            return
        if fault.hang:
            self._drop(handler, record)
            return
        if fault.late:
            answer(serve())
            return
        if fault.commit:
            serve()  # the change is made; the client hears of a failure
        if fault.drop:
            self._drop(handler, record)
        else:
            fail(fault)

    def _respond_json(
        self,
        handler: JsonHandler,
        record: Recorded,
        serve: Callable[[], tuple[int, Any, Mapping[str, str]]],
    ) -> None:
        """`_respond` with JSON answers: `serve` returns (status, payload, headers)."""

        def answer(result: tuple[int, Any, Mapping[str, str]]) -> None:
            record.status = result[0]
            handler.send_json(*result)

        self._respond(
            handler,
            record,
            serve=serve,
            answer=answer,
            fail=lambda fault: self._answer_error(handler, record, fault),
        )

    def _answer_error(self, handler: JsonHandler, record: Recorded, fault: Fault) -> None:
        record.status = fault.status
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        handler.send_json(
            fault.status,
            self._error_body("InjectedFault", f"injected {fault.status} for {record.path}"),
            headers,
        )

    def _drop(self, handler: BaseHTTPRequestHandler, record: Recorded) -> None:
        record.status = -1
        handler.close_connection = True
        if self.shutdown_on_drop:
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)
        handler.connection.close()
