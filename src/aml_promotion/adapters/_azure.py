"""What both Azure ML adapters (SDK v1 and v2) do the same way: run states, HTTP failures.

The two SDKs differ in how they carry a status code and a dropped connection, and in how their
own retries are switched off, so each adapter says those; what they mean for a promotion is
decided here, once.
"""

from __future__ import annotations

import http
import http.client
from typing import TYPE_CHECKING

from aml_promotion.adapters._errors import exception_chain, retry_after
from aml_promotion.adapters._gateway import SdkGateway
from aml_promotion.adapters._request_timeouts import current_timeout
from aml_promotion.exceptions import RegistryError, TransientRegistryError
from aml_promotion.ports import RunStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Collection
    from contextlib import AbstractContextManager

    from aml_promotion._retry import RetryPolicy

__all__ = [
    "azure_gateway",
    "connection_failed",
    "run_status",
    "timed_out",
    "translate",
    "without",
]

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
    timed_out: bool = False,
) -> RegistryError:
    """Return our error for an SDK's failure of the call `what`.

    Args:
        error: What the SDK raised (read for a Retry-After header).
        what: The call, for the message ("reading version 3 of model 'churn'").
        status: The HTTP status the adapter found in the error, if any.
        connection_failed: Whether the adapter found a refused or dropped connection.
        transient: The statuses worth retrying (any 5xx is too).
        timed_out: Whether the failed connection is a request that got no answer in time.

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
        seconds = current_timeout()  # the request's own, while its adapter call is in flight
        service = _service_of(error)
        if timed_out and seconds is not None:
            return TransientRegistryError(
                f"{what} failed: no answer from {service} within {round(seconds, 1):g} s"
            )
        return TransientRegistryError(f"{what} failed: the connection to {service} failed")
    return RegistryError(f"{what} failed: {type(error).__name__}")


def _service_of(error: BaseException) -> str:
    """Name the service a failed request went to: a sign-in's endpoint, else Azure ML.

    The SDK call is Azure ML's, but its first request may be the sign-in the credential makes
    on its behalf: the URL ``requests`` or ``urllib3`` kept in the chain says which.
    """
    for link in exception_chain(error):
        try:
            url = getattr(getattr(link, "request", None), "url", None) or getattr(link, "url", None)
        except Exception:  # noqa: BLE001 - a property that raises (httpx's): no URL to read
            url = None
        path = url.lower() if isinstance(url, str) else ""
        if "/msi/" in path or "/metadata/identity/" in path:
            return "the managed identity endpoint (signing in)"
        if "/oauth2/" in path:
            return "Microsoft Entra ID (signing in)"
    return "Azure ML"


def connection_failed(error: BaseException, *kinds: type[BaseException]) -> bool:
    """Whether the chain holds a refused, dropped or timed-out connection (or one of `kinds`)."""
    import requests  # noqa: PLC0415 - a dependency of both SDKs, loaded with them

    failures = (
        requests.ConnectionError,
        requests.Timeout,
        http.client.HTTPException,
        ConnectionError,
        TimeoutError,
        *kinds,
    )
    return any(isinstance(link, failures) for link in exception_chain(error))


def timed_out(error: BaseException) -> bool:
    """Whether the chain holds a request that timed out (no connection, or no answer, in time)."""
    import requests  # noqa: PLC0415 - a dependency of both SDKs, loaded with them
    import urllib3  # noqa: PLC0415

    kinds: list[type[BaseException]] = [
        requests.Timeout,
        urllib3.exceptions.TimeoutError,
        TimeoutError,
    ]
    try:
        from azure.core import exceptions  # noqa: PLC0415 - not a dependency of azureml-core
    except ImportError:  # pragma: no cover - azureml-core's venvs may lack azure-core
        pass
    else:
        kinds += [exceptions.ServiceRequestTimeoutError, exceptions.ServiceResponseTimeoutError]
    return any(isinstance(link, tuple(kinds)) for link in exception_chain(error))


def azure_gateway(
    policy: RetryPolicy,
    quiet: Callable[[], AbstractContextManager[None]],
    status: Callable[[BaseException], int | None],
    dropped: Callable[[BaseException], bool],
    transient: Collection[int],
) -> SdkGateway:
    """Return an Azure adapter's gateway: its SDK's retries off (`quiet`), its errors ours.

    Args:
        policy: How transient failures are retried.
        quiet: Makes the context in which the SDK's own retries are off.
        status: Finds the HTTP status in what the SDK raised, if any.
        dropped: Whether what the SDK raised is a failed connection.
        transient: The statuses worth retrying (any 5xx is too).
    """

    def translate_error(error: Exception, what: str) -> RegistryError:
        return translate(
            error,
            what,
            status=status(error),
            connection_failed=dropped(error),
            transient=transient,
            timed_out=timed_out(error),
        )

    return SdkGateway(policy, quiet=quiet, translate=translate_error)


def without(keys: Collection[str]) -> Callable[[dict[str, str]], None]:
    """Return the change that drops `keys` from a tag set (a key it lacks is fine).

    Both registries change a version's tags by reading the whole set and writing it back.
    """

    def drop(tags: dict[str, str]) -> None:
        for key in keys:
            tags.pop(key, None)

    return drop
