"""A fault-injecting HTTP reverse proxy on 127.0.0.1, for testing clients against real servers.

Put it in front of a real server (an `mlflow server`, say) and tell it which requests to break:

    proxy = FaultProxy("http://127.0.0.1:5000").start()
    proxy.fail("POST", r"/model-versions/create$", status=503, times=1)     # plain 5xx
    proxy.fail("GET", r"/registered-models/", status=429, retry_after=1)    # throttled
    proxy.fail("GET", r"/runs/get", drop=True)                              # connection dropped
    proxy.fail("POST", r"/model-versions/create$", status=503, commit=True) # done, then "failed"

Every request is recorded in `requests` as ``(method, path, status)`` (status None when dropped),
and how long the proxy took to answer it, in seconds, at the same index of `seconds`.
Only loopback upstreams are accepted.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs

from loopback_http import LoopbackServer

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "host",
}


@attrs.define
class Fault:
    """One rule: break the next `times` requests matching `method` and the `path` regex."""

    method: str
    path: re.Pattern[str]
    times: int = 1
    status: int = 503
    retry_after: float | None = None
    drop: bool = False
    commit: bool = False
    body: bytes = b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "injected"}'
    skip: int = 0

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and method == self.method and bool(self.path.search(path))


class FaultProxy(LoopbackServer):
    """A reverse proxy that forwards to `upstream` unless a fault rule says otherwise.

    It listens on 127.0.0.1 from `start` to `stop` (or in a ``with`` block): a `LoopbackServer`.
    """

    _what = "fault proxy"

    def __init__(self, upstream: str) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.hostname not in {"127.0.0.1", "localhost", "::1"}:
            msg = f"the fault proxy only forwards to loopback, not {parsed.hostname!r}"
            raise ValueError(msg)
        self.upstream_host = parsed.hostname
        self.upstream_port = parsed.port or 80
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, int | None]] = []
        self.seconds: list[float] = []
        self.queries: list[str] = []  # each recorded request's query string, in order
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The proxy's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def fail(
        self,
        method: str,
        path: str,
        *,
        times: int = 1,
        status: int = 503,
        retry_after: float | None = None,
        drop: bool = False,
        commit: bool = False,
        body: bytes | None = None,
        skip: int = 0,
    ) -> None:
        """Break the next `times` matching requests, after letting `skip` of them through."""
        fault = Fault(method, re.compile(path), times, status, retry_after, drop, commit)
        fault.skip = skip
        if body is not None:
            fault.body = body
        with self._lock:
            self.faults.append(fault)

    def clear(self) -> None:
        """Forget every rule and every recorded request."""
        with self._lock:
            self.faults.clear()
            self.requests.clear()
            self.seconds.clear()
            self.queries.clear()

    def count(self, method: str, path: str) -> int:
        """Return how many recorded requests match `method` and the `path` regex."""
        pattern = re.compile(path)
        return sum(1 for m, p, _ in self.requests if m == method and pattern.search(p))

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.skip:
                        fault.skip -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None

    def _record(
        self, method: str, path: str, status: int | None, started: float, query: str = ""
    ) -> None:
        with self._lock:
            self.requests.append((method, path, status))
            self.seconds.append(time.perf_counter() - started)
            self.queries.append(query)

    def _bind(self, address: tuple[str, int]) -> ThreadingHTTPServer:  # noqa: C901 - inline class
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Stay quiet: tests read `requests` instead."""

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                conn = http.client.HTTPConnection(
                    proxy.upstream_host, proxy.upstream_port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                response = conn.getresponse()
                data = response.read()
                conn.close()
                return response.status, response.getheaders(), data

            def _reply(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                started = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                target = urllib.parse.urlsplit(self.path)
                path, query = target.path, target.query
                fault = proxy._take(self.command, path)
                if fault is not None and fault.commit:
                    self._forward(body)  # the server does the work; the client hears a failure
                if fault is not None and fault.drop:
                    proxy._record(self.command, path, None, started, query)
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault is not None:
                    headers = [("Content-Type", "application/json")]
                    if fault.retry_after is not None:
                        headers.append(("Retry-After", f"{fault.retry_after:g}"))
                    payload = fault.body
                    proxy._record(self.command, path, fault.status, started, query)
                    self._reply(fault.status, headers, payload)
                    return
                status, headers, data = self._forward(body)
                proxy._record(self.command, path, status, started, query)
                self._reply(status, headers, data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle  # noqa: N815

        return ThreadingHTTPServer(address, Handler)
