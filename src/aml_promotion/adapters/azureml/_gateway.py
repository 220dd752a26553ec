"""How the Azure ML (SDK v1) backend's SDK calls pass `SdkGateway`: the SDK's retries, errors.

What azureml-core (and msrest, requests beneath it) raises is translated into our errors
(`TransientRegistryError` for what a retry may cure), with the SDK's exception as ``__cause__``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aml_promotion._retry import RetryPolicy
from aml_promotion.adapters._azure import azure_gateway, connection_failed
from aml_promotion.adapters._errors import exception_chain, http_response
from aml_promotion.adapters._gateway import SdkGateway
from aml_promotion.adapters._sdk_retries import SdkRetrySwitch
from aml_promotion.exceptions import BackendNotInstalledError

__all__ = ["gateway", "is_not_found", "require_sdk"]

logger = logging.getLogger("aml_promotion")


# --- Loading the SDK ---------------------------------------------------------------------------


def require_sdk() -> None:
    try:
        import azureml.core  # noqa: F401, PLC0415 - imported lazily, only for this backend
    except ImportError as exc:
        raise BackendNotInstalledError("azureml", extra="azureml") from exc


# --- The SDK's own retries, switched off ---------------------------------------------------------


class _SdkRetries(SdkRetrySwitch):
    """Switches off the SDK's own retries while at least one adapter call is in flight.

    azureml-core retries in three layers: urllib3 inside msrest's session (3 retries, honouring
    Retry-After), ``ClientBase``'s loop around each call (3 more each, with 1-32 s backoffs), and
    the dataset helpers' own loop (5). They compound: one 503 became 16 requests. Here each layer
    is given zero retries while the switch is on, so one failure is one request and our own
    `RetryPolicy` is the only one. The switch is process-wide (the SDK pages on worker threads,
    which a thread-local switch would miss): see `SdkRetrySwitch`.
    """

    def __init__(self) -> None:
        super().__init__()
        self._installed = False
        self._saved_default: int | None = None

    def _switch_off(self) -> None:
        from azureml._restclient import clientbase  # noqa: PLC0415 - the SDK is lazy

        if not self._installed:
            self._install()
            self._installed = True
        self._saved_default = clientbase.DEFAULT_RETRIES
        # Read at call time by ClientBase._execute_func (model management, uploads).
        clientbase.DEFAULT_RETRIES = 0

    def _restore(self) -> None:
        from azureml._restclient import clientbase  # noqa: PLC0415

        if self._saved_default is not None:
            clientbase.DEFAULT_RETRIES = self._saved_default

    def _install(self) -> None:
        try:
            self._patch_msrest()
            self._patch_datasets()
        except (ImportError, AttributeError) as exc:  # pragma: no cover - another SDK version
            logger.warning(
                "could not switch off azureml-core's own retries (%s): a transient failure may "
                "take longer to surface",
                exc,
            )

    def _patch_msrest(self) -> None:
        from msrest.universal_http import requests as msrest_requests  # noqa: PLC0415
        from urllib3 import Retry  # noqa: PLC0415

        switch = self
        policy: Any = msrest_requests.ClientRetryPolicy
        retries = policy.retries
        # ClientBase's loop reads `retries` from the client's msrest policy at each call.
        policy.retries = property(
            lambda self: 0 if switch.active else retries.fget(self), retries.fset
        )
        sender: Any = msrest_requests.RequestsHTTPSender
        configure = sender._configure_send  # noqa: SLF001 - the one hook msrest offers
        no_retry = Retry(total=0, read=False)

        def _configure_send(self: Any, request: Any, **kwargs: Any) -> Any:
            # msrest mounts its urllib3 Retry once per session; set it on every send instead,
            # so sessions made before (or outside) an adapter call obey the switch too.
            session = kwargs.get("session") or self.session
            wanted = no_retry if switch.active else self.config.retry_policy()
            for protocol in self._protocols:
                session.adapters[protocol].max_retries = wanted
            return configure(self, request, **kwargs)

        sender._configure_send = _configure_send  # noqa: SLF001

    def _patch_datasets(self) -> None:
        from azureml.data import _dataset_rest_helper, abstract_dataset  # noqa: PLC0415

        switch = self
        make_request = _dataset_rest_helper._make_request  # noqa: SLF001

        def _make_request(
            request_fn: Any, handle_error_fn: Any = None, retries: int = 5, *args: Any, **kw: Any
        ) -> Any:
            return make_request(
                request_fn, handle_error_fn, 0 if switch.active else retries, *args, **kw
            )

        _dataset_rest_helper._make_request = _make_request  # noqa: SLF001
        abstract_dataset._make_request = _make_request  # noqa: SLF001


_SDK_RETRIES = _SdkRetries()


# --- SDK errors, translated -------------------------------------------------------------------

_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504, 530})
_STATUS_IN_TEXT = re.compile(r"Response Code: (\d{3})")


def _text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - ServiceException.__str__ fails on bodies without details
        return ""


def _http_status(error: BaseException) -> int | None:
    response = http_response(error)
    if response is not None:
        return int(response.status_code)
    for cause in exception_chain(error):
        status = getattr(cause, "status_code", None)
        if isinstance(status, int):
            return status
        if match := _STATUS_IN_TEXT.search(str(getattr(cause, "message", "")) or _text(cause)):
            return int(match[1])
    return None


def _is_connection_error(error: BaseException) -> bool:
    from msrest.exceptions import ClientRequestError  # noqa: PLC0415 - the SDK is lazy

    # msrest raises ClientRequestError for a request that got no answer, and for others too.
    return connection_failed(error) or any(
        isinstance(cause, ClientRequestError) and http_response(cause) is None
        for cause in exception_chain(error)
    )


def is_not_found(error: BaseException) -> bool:
    if _http_status(error) == 404:  # noqa: PLR2004 - HTTP's "not found"
        return True
    text = " ".join(_text(c) for c in exception_chain(error))
    return "ModelNotFound" in text or "Cannot find dataset" in text


def gateway(policy: RetryPolicy) -> SdkGateway:
    """Return the gateway every SDK call passes: the SDK's retries off, ours on, errors ours."""
    return azure_gateway(
        policy, _SDK_RETRIES.off, _http_status, _is_connection_error, _TRANSIENT_STATUS
    )
