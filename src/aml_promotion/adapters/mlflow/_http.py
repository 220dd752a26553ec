"""MLflow's own HTTP retries, switched off while the adapter's calls run: ours retry instead."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from aml_promotion._retry import RetryPolicy, request_timeout
from aml_promotion.adapters._sdk_retries import SdkRetrySwitch

_TIMEOUT = "MLFLOW_HTTP_REQUEST_TIMEOUT"

__all__ = ["_http_retries_off"]


class _HttpRetriesOff(SdkRetrySwitch):
    """Switch MLflow's own HTTP retries off while adapter calls run, then restore them.

    MLflow reads ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` from the environment at every request and
    has no per-client setting, so this is the only switch there is. Left on, MLflow retries a
    refused connection for about four minutes (7 retries, backoff factor 2) under our own
    retries. The variable is set only while at least one adapter call is running (see
    `SdkRetrySwitch`), and never when the user set it: their choice wins.
    """

    name = "MLFLOW_HTTP_REQUEST_MAX_RETRIES"

    def __init__(self) -> None:
        super().__init__()
        self._owned = False
        self._timeout_owned = False

    def __call__(self) -> contextlib.AbstractContextManager[None]:
        """Within the block, MLflow does not retry, unless the user set the variable."""
        return self.off()

    def _switch_off(self) -> None:
        self._owned = self.name not in os.environ
        if self._owned:
            os.environ[self.name] = "0"
        self._set_request_timeout()

    def _restore(self) -> None:
        if self._owned:
            os.environ.pop(self.name, None)
            self._owned = False
        self._restore_request_timeout()

    def _set_request_timeout(self) -> None:
        # MLflow waits 120 s for an answer by default, past the whole retry deadline: a hung
        # server would stall a promotion. Each request gets the default policy's share of the
        # deadline (`request_timeout`), unless the user set the variable.
        self._timeout_owned = _TIMEOUT not in os.environ
        if self._timeout_owned:
            os.environ[_TIMEOUT] = str(max(1, round(request_timeout(RetryPolicy()))))

    def _restore_request_timeout(self) -> None:
        if self._timeout_owned:
            os.environ.pop(_TIMEOUT, None)
            self._timeout_owned = False

    @contextlib.contextmanager
    def forced(self) -> Iterator[None]:
        """Switch them off even when the user set the variable, then put it back as it was.

        For a registration: MLflow's HTTP session retries POSTs too, and a POST re-sent after
        a lost answer registers the same run twice. Our own retry looks the version up first.
        """
        with self.lock:
            saved = os.environ.get(self.name)
            os.environ[self.name] = "0"
        try:
            yield
        finally:
            with self.lock:
                if saved is None:
                    if not self.active:
                        os.environ.pop(self.name, None)
                else:
                    os.environ[self.name] = saved


_http_retries_off = _HttpRetriesOff()
