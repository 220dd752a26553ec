"""How the Azure ML v2 backend's SDK calls pass `SdkGateway`: the SDKs' retries, their errors.

What azure-ai-ml, azure-core and MLflow raise is translated into our errors
(`TransientRegistryError` for what a retry may cure), with the SDK's exception as ``__cause__``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from aml_promotion._retry import RetryPolicy
from aml_promotion.adapters._azure import azure_gateway, connection_failed
from aml_promotion.adapters._errors import exception_chain, http_response
from aml_promotion.adapters._gateway import SdkGateway
from aml_promotion.adapters._sdk_retries import SdkRetrySwitch
from aml_promotion.adapters.mlflow._http import _http_retries_off
from aml_promotion.exceptions import (
    BackendNotInstalledError,
)

__all__ = ["gateway", "is_not_found", "require_sdk", "version_taken"]


_EXTRA = "azureml-v2"


def require_sdk() -> None:
    try:
        import azure.ai.ml  # noqa: F401, PLC0415 - imported lazily, only for this backend
        import azureml.mlflow  # noqa: F401, PLC0415
        import mlflow  # noqa: F401, PLC0415
    except ImportError as exc:
        raise BackendNotInstalledError("azureml-v2", extra=_EXTRA) from exc


# --- The SDKs' own retries, switched off --------------------------------------------------------


class _SdkRetries(SdkRetrySwitch):
    """Switches azure-core's and azure-storage-blob's retries off while adapter calls are in flight.

    azure-core's `RetryPolicy` retries 5xx and 429 on GET and PUT (the first retry at once,
    Retry-After honoured) and reads its counts per request from ``configure_retries``; there is
    no per-call setting that reaches every request the SDKs make (azureml-mlflow builds its own
    pipelines), so the count is switched process-wide, reference-counted (see `SdkRetrySwitch`).
    azure-storage-blob, which azure-ai-ml uploads a local model with (a client it builds itself),
    has a retry policy of its own, not azure-core's: 3 retries of a 5xx or a dropped connection,
    sleeping 15 s and more before each; its count is switched off the same way.
    MLflow's HTTP retries are switched by the MLflow backend's own switch, the one owner of
    ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` in the process.
    """

    def __init__(self) -> None:
        super().__init__()
        self._installed = False

    def _switch_off(self) -> None:
        if not self._installed:
            self._install()
            self._installed = True

    def _restore(self) -> None:
        """Nothing to put back: the installed hook reads `active` at each request."""

    def _install(self) -> None:
        from azure.core.pipeline.policies import _retry  # noqa: PLC0415 - the SDK is lazy

        switch = self
        base: Any = _retry.RetryPolicyBase
        configure = base.configure_retries

        def configure_retries(self: Any, options: dict[str, Any]) -> dict[str, Any]:
            settings: dict[str, Any] = configure(self, options)
            if switch.active:
                settings["total"] = 0
            return settings

        base.configure_retries = configure_retries

        try:
            from azure.storage.blob._shared import policies  # noqa: PLC0415 - lazy, optional
        except ImportError:  # pragma: no cover - azure-ai-ml depends on azure-storage-blob
            return
        storage: Any = policies.StorageRetryPolicy
        configure_storage = storage.configure_retries

        def configure_storage_retries(self: Any, request: Any) -> dict[str, Any]:
            settings: dict[str, Any] = configure_storage(self, request)
            if switch.active:
                settings["total"] = 0
            return settings

        storage.configure_retries = configure_storage_retries


_SDK_RETRIES = _SdkRetries()


# --- SDK errors, translated ---------------------------------------------------------------------

_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def _status_of(error: BaseException) -> int | None:
    response = http_response(error)
    if response is not None:
        return int(response.status_code)
    for link in exception_chain(error):
        for attribute in ("status_code", "status"):
            status = getattr(link, attribute, None)
            if isinstance(status, int) and 100 <= status < 600:  # noqa: PLR2004 - HTTP statuses
                return status
        get_status = getattr(link, "get_http_status_code", None)
        if callable(get_status):
            with contextlib.suppress(Exception):
                status = get_status()
                if isinstance(status, int):
                    return status
    return None


def _is_connection_error(error: BaseException) -> bool:
    import requests  # noqa: PLC0415 - a dependency of the SDKs, loaded with them
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError  # noqa: PLC0415

    return connection_failed(
        error, requests.exceptions.RetryError, ServiceRequestError, ServiceResponseError
    )


def is_not_found(error: BaseException) -> bool:
    from azure.ai.ml.exceptions import ValidationErrorType  # noqa: PLC0415
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    for link in exception_chain(error):
        if isinstance(link, ResourceNotFoundError) or _status_of(link) == 404:  # noqa: PLR2004
            return True
        # label="latest" on a model without (active) versions: the SDK's own "not found".
        if getattr(link, "error_type", None) is ValidationErrorType.RESOURCE_NOT_FOUND:
            return True
    return False


def version_taken(error: BaseException) -> bool:
    """Whether a PUT met a version that another client registered at the same number.

    The service refuses to change a version's path ("Asset paths cannot be updated."), so a
    version number two registrations both read as ``nextVersion`` fails the second one.
    """
    for link in exception_chain(error):
        if _status_of(link) == 409 or "Asset paths cannot be updated" in str(link):  # noqa: PLR2004
            return True
    return False


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with _SDK_RETRIES.off(), _http_retries_off():
        yield


def gateway(policy: RetryPolicy) -> SdkGateway:
    """Return the gateway every SDK call passes: the SDKs' retries off, ours on, errors ours."""
    return azure_gateway(policy, _quiet, _status_of, _is_connection_error, _TRANSIENT_STATUS)
