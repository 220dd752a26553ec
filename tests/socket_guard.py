"""A socket guard for tests: no connection and no name lookup beyond loopback.

The SDKs under test swallow some network errors, so the guard records every attempt it refuses:
a test fails on a refused attempt even when the SDK carried on. Standard library only.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

__all__ = ["SocketGuard", "loopback_only"]

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class SocketGuard:
    """Refuses connections (``connect``, ``connect_ex``) and name lookups other than loopback.

    Every refused attempt is recorded.
    """

    def __init__(self) -> None:
        self.refused: list[str] = []
        self._connect = socket.socket.connect
        self._connect_ex = socket.socket.connect_ex
        self._getaddrinfo = socket.getaddrinfo

    def _allowed(self, address: Any) -> bool:
        if isinstance(address, (str, bytes)):  # a Unix socket
            return True
        host = address[0] if isinstance(address, tuple) else address
        return str(host) in _LOOPBACK

    def install(self) -> None:
        guard = self

        def connect(sock: socket.socket, address: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not guard._allowed(address):
                guard.refused.append(f"connect {address!r}")
                raise ConnectionRefusedError(f"the test socket guard refused {address!r}")
            return guard._connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and not guard._allowed(address):
                guard.refused.append(f"connect {address!r}")
                return 111
            return guard._connect_ex(sock, address)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host is not None and not guard._allowed((host,)):
                guard.refused.append(f"resolve {host!r}")
                raise socket.gaierror(f"the test socket guard refused to resolve {host!r}")
            return guard._getaddrinfo(host, *args, **kwargs)

        socket.socket.connect = connect  # type: ignore[method-assign, assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign, assignment]
        socket.getaddrinfo = getaddrinfo

    def uninstall(self) -> None:
        socket.socket.connect = self._connect  # type: ignore[method-assign]
        socket.socket.connect_ex = self._connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = self._getaddrinfo


@contextlib.contextmanager
def loopback_only() -> Iterator[SocketGuard]:
    """Guard the block, then fail if anything beyond loopback was even tried.

    Raises:
        AssertionError: After the block, when the guard refused anything.
    """
    guard = SocketGuard()
    guard.install()
    try:
        yield guard
    finally:
        guard.uninstall()
    assert not guard.refused, f"tried to reach beyond 127.0.0.1: {guard.refused}"
