"""An HTTPS forward proxy on 127.0.0.1 that tunnels to the emulator's blob host, and nowhere else.

azure-ai-ml uploads a local model to ``https://<account>.blob.<storage suffix>``, a name that
cannot be resolved in the tests (the socket guard refuses any lookup but loopback). With
``HTTPS_PROXY`` pointing here (and ``NO_PROXY`` keeping the 127.0.0.1 calls direct), the SDK's
requests transport never resolves that name: it asks this proxy for ``CONNECT host:443``, and
the proxy opens a plain TCP tunnel to the emulator's own TLS listener on 127.0.0.1. The TLS
session is end to end between the SDK and the emulator, whose certificate also names the blob
host, so verification is the SDK's own, unchanged.

Any other ``CONNECT`` (or a plain-HTTP proxy request) is answered 403 and recorded in `refused`:
a test fails on it, as the socket guard fails one that reaches beyond loopback.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Mapping

from loopback_http import LoopbackServer

__all__ = ["ConnectProxy"]

_HEAD_LIMIT = 16_384


class ConnectProxy(LoopbackServer):
    """Tunnels ``CONNECT host:port`` for the hosts in `routes` to their loopback address.

    It listens on 127.0.0.1 from `start` to `stop` (or in a ``with`` block): a `LoopbackServer`.

    Args:
        routes: ``"host:port"`` → the ``(address, port)`` on 127.0.0.1 that serves it.
    """

    _what = "proxy"
    _thread_name = "connect-proxy"

    def __init__(self, routes: Mapping[str, tuple[str, int]]) -> None:
        self.routes = dict(routes)
        self.refused: list[str] = []
        self.tunnels: list[str] = []
        self._lock = threading.Lock()

    def _bind(self, address: tuple[str, int]) -> socketserver.ThreadingTCPServer:
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        return socketserver.ThreadingTCPServer(address, Handler)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``HTTPS_PROXY``."""
        return f"http://127.0.0.1:{self.port}"

    def _serve(self, client: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < _HEAD_LIMIT:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, _, rest = request_line.partition(" ")
        target = rest.split(" ", 1)[0]
        address = self.routes.get(target) if method == "CONNECT" else None
        if address is None:
            with self._lock:
                self.refused.append(request_line)
            client.sendall(
                b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            return
        upstream = socket.create_connection(address)
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            self.tunnels.append(target)
        client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        # Whatever the client sent after the CONNECT head already belongs to the tunnel.
        extra = head.split(b"\r\n\r\n", 1)[1]
        if extra:
            upstream.sendall(extra)
        back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        back.start()
        _pipe(client, upstream)
        back.join()
        for sock in (upstream, client):
            sock.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy `source` to `sink` until either closes; then close both directions of both."""
    try:
        while True:
            data = source.recv(65_536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    for sock in (source, sink):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
