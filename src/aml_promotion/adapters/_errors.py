"""What every adapter reads off an SDK's exception: its chain, its HTTP response, Retry-After.

SDKs wrap the error that matters (a ``requests`` connection error, an HTTP response) in one or
more of their own: through ``raise ... from``, implicit context, or an ``inner_exception``
attribute (azureml-core, azure-core). These helpers look through all of them.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["exception_chain", "http_response", "retry_after"]


def exception_chain(error: BaseException) -> Iterator[BaseException]:
    """Yield `error` and everything chained to it: cause, context, the SDK's inner exception.

    Breadth first, each exception once (chains can loop).
    """
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        links = (
            current.__cause__,
            current.__context__,
            getattr(current, "inner_exception", None),
            getattr(current, "_inner_exception", None),
        )
        pending.extend(link for link in links if isinstance(link, BaseException))


def http_response(error: BaseException) -> Any:
    """Return the first HTTP response (with an integer ``status_code``) in the chain, or None."""
    for link in exception_chain(error):
        response = getattr(link, "response", None)
        if isinstance(getattr(response, "status_code", None), int):
            return response
    return None


def retry_after(error: BaseException) -> float | None:
    """Seconds the service asked to wait (HTTP ``Retry-After``: seconds or a date), or None."""
    headers = getattr(http_response(error), "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
