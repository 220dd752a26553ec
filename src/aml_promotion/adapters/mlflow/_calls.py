"""`Calls`: the base of `MlflowBackend`'s parts: its client, and the one way MLflow is called."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from aml_promotion._retry import RetryPolicy, retrying
from aml_promotion.adapters.mlflow._errors import _translate
from aml_promotion.adapters.mlflow._http import _http_retries_off
from aml_promotion.exceptions import RegistryError

__all__ = ["Calls"]

_T = TypeVar("_T")


class Calls:
    """What `Runs`, `Versions` and `Registry` share: the attributes `MlflowBackend` sets, and calls.

    Every request to MLflow goes through `_call` (retried) or `_once`: its errors translated,
    and MLflow's own HTTP retries off meanwhile when ours are on.
    """

    tracking_uri: str
    registry_uri: str | None
    _mlflow: Any
    _client: Any
    _retry: RetryPolicy
    _sdk_errors: tuple[type[Exception], ...]
    _owns_http_retries: bool
    _unity_catalog: bool

    def _once(self, what: str, call: Callable[[], _T]) -> _T:
        """Make one call to MLflow, its errors translated (no retries)."""
        context = _http_retries_off() if self._owns_http_retries else contextlib.nullcontext()
        try:
            with context:
                return call()
        except RegistryError:
            raise
        except self._sdk_errors as exc:
            raise _translate(exc, what) from exc

    def _call(self, what: str, call: Callable[[], _T]) -> _T:
        """Make a call to MLflow, retried on transient failures, its errors translated."""
        for attempt in retrying(self._retry):
            with attempt:
                return self._once(what, call)
        raise AssertionError("unreachable: retrying() yields until success or raises")
