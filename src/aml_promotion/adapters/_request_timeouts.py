"""Every HTTP request an SDK makes inside an adapter call times out within the attempt's time.

A server that accepts a connection and never answers holds a request for as long as its client
waits: azure-core waits 300 s for an answer, msrest 100 s, azureml-core's own ``requests`` calls
and MSAL's forever, MLflow 120 s. The retry policy's deadline ("5 attempts within 60 s") only
holds if no request waits longer than the attempt it belongs to may take (`Attempt.timeout`).

Where the timeout is set: the one layer every SDK's requests share is ``requests``' transport
adapter, ``HTTPAdapter.send(request, timeout=...)`` (the documented adapter interface; azure-core's
``RequestsTransport``, msrest's sender, azureml-core's bare ``requests`` calls, azure-identity and
MSAL, MLflow and the blob uploads all end there). The SDKs' public settings each reach only some
of their own requests: azure-core's ``connection_timeout``/``read_timeout`` reach the clients an
``MLClient`` builds, not the blob clients azure-ai-ml builds for an upload nor a client the user
made; azureml-core has no setting for its bare ``requests`` calls at all. So ``HTTPAdapter.send``
is wrapped, once, process-wide: while an adapter call is in flight (`within`), the timeout a
request is sent with (connect and read, each) is capped at the call's seconds; outside adapter
calls it is left as it was.

The seconds are the calling thread's (a context variable); a request from a thread the SDK
started (azureml-core pages on worker threads) gets the least of the calls in flight. A read
timeout bounds each wait for data, not a whole answer: a server that trickles a byte every few
seconds is not cut off.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["capped", "current_timeout", "within"]

_FLOOR = 0.1
"""Seconds at least: ``requests`` refuses a timeout of 0."""

_current: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "aml_promotion_request_timeout", default=None
)


class _InFlight:
    """The seconds of every adapter call in flight, process-wide, and the hook installed once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: list[float] = []
        self.installed = False

    def least(self) -> float | None:
        with self.lock:
            return min(self.seconds, default=None)


_IN_FLIGHT = _InFlight()


def current_timeout() -> float | None:
    """Seconds a request made now may take: the calling adapter call's, or None outside any."""
    mine = _current.get()
    return mine if mine is not None else _IN_FLIGHT.least()


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    """Within the block, every HTTP request sent through ``requests`` waits `seconds` at most."""
    _install()
    seconds = max(_FLOOR, seconds)
    with _IN_FLIGHT.lock:
        _IN_FLIGHT.seconds.append(seconds)
    token = _current.set(seconds)
    try:
        yield
    finally:
        _current.reset(token)
        with _IN_FLIGHT.lock:
            _IN_FLIGHT.seconds.remove(seconds)


def capped(timeout: Any, seconds: float) -> Any:
    """Return ``requests``' `timeout` argument with its connect and read parts `seconds` at most.

    `timeout` is what ``requests`` takes: None (no limit), a number (both parts), a
    ``(connect, read)`` pair (either may be None), or urllib3's ``Timeout``.
    """
    connect: Any
    read: Any
    if isinstance(timeout, tuple) and len(timeout) == 2:  # noqa: PLR2004 - (connect, read)
        connect, read = timeout
    elif timeout is None or isinstance(timeout, (int, float)):
        connect = read = timeout
    elif hasattr(timeout, "connect_timeout") and hasattr(timeout, "read_timeout"):
        connect, read = timeout.connect_timeout, timeout.read_timeout  # urllib3's Timeout
    else:  # pragma: no cover - nothing else is a timeout requests accepts
        return timeout
    return (_least(connect, seconds), _least(read, seconds))


def _least(part: Any, seconds: float) -> float:
    if isinstance(part, bool) or not isinstance(part, (int, float)) or math.isnan(part):
        return seconds  # None, or urllib3's "the default" sentinel: no limit of its own
    return min(float(part), seconds)


def _install() -> None:
    with _IN_FLIGHT.lock:
        if _IN_FLIGHT.installed:
            return
        _IN_FLIGHT.installed = True
    try:
        from requests import adapters  # noqa: PLC0415 - every SDK's dependency, loaded with it
    except ImportError:  # pragma: no cover - every supported SDK depends on requests
        return
    adapter: Any = adapters.HTTPAdapter
    send = adapter.send
    names = ("stream", "timeout", "verify", "cert", "proxies")

    def send_within(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        seconds = current_timeout()
        if seconds is not None:
            kwargs.update(zip(names, args, strict=False))
            kwargs["timeout"] = capped(kwargs.get("timeout"), seconds)
            args = ()
        return send(self, request, *args, **kwargs)

    adapter.send = send_within
