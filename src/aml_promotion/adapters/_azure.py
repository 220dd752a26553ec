"""What both Azure ML adapters (SDK v1 and v2) do the same way: run states, HTTP failures.

The two SDKs differ in how they carry a status code and a dropped connection, and in how their
own retries are switched off, so each adapter says those; what they mean for a promotion is
decided here, once.
"""

from __future__ import annotations

import http
from typing import TYPE_CHECKING

from aml_promotion.adapters._errors import retry_after
from aml_promotion.exceptions import RegistryError, TransientRegistryError
from aml_promotion.ports import RunStatus

if TYPE_CHECKING:
    from collections.abc import Collection

__all__ = ["run_status", "translate"]

# Azure ML's run (v1) and job (v2) states that are neither finished nor failed.
_ACTIVE_STATES = frozenset(
    {
        "notstarted",
        "queued",
        "preparing",
        "provisioning",
        "starting",
        "running",
        "finalizing",
        "cancelrequested",
    }
)


def run_status(text: str | None) -> RunStatus:
    """Map an Azure ML run or job state (any case, spaces ignored) to a `RunStatus`."""
    word = (text or "").replace(" ", "").lower()
    if word == "completed":
        return RunStatus.COMPLETED
    if word == "failed":
        return RunStatus.FAILED
    if word in ("canceled", "cancelled"):
        return RunStatus.CANCELED
    if word in _ACTIVE_STATES:
        return RunStatus.RUNNING
    return RunStatus.OTHER


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def translate(
    error: Exception,
    what: str,
    *,
    status: int | None,
    connection_failed: bool,
    transient: Collection[int],
) -> RegistryError:
    """Return our error for an SDK's failure of the call `what`.

    Args:
        error: What the SDK raised (read for a Retry-After header).
        what: The call, for the message ("reading version 3 of model 'churn'").
        status: The HTTP status the adapter found in the error, if any.
        connection_failed: Whether the adapter found a refused or dropped connection.
        transient: The statuses worth retrying (any 5xx is too).

    Returns:
        A `TransientRegistryError` (with the service's Retry-After) for what may pass on retry,
        else a `RegistryError`; 401/403 say to check the credentials and the principal's role.
    """
    if status is not None:
        reason = _reason(status)
        if status in transient or status >= 500:  # noqa: PLR2004 - server errors
            return TransientRegistryError(
                f"{what} failed: HTTP {status} {reason}", retry_after=retry_after(error)
            )
        hint = ""
        if status in (401, 403):
            hint = ": check the credentials, and the principal's role on the workspace"
        return RegistryError(f"{what} failed: HTTP {status} {reason}{hint}")
    if connection_failed:
        return TransientRegistryError(f"{what} failed: the connection to Azure ML failed")
    return RegistryError(f"{what} failed: {type(error).__name__}")
