"""What both Azure ML adapters share: run states and HTTP failures, read the same way."""

from __future__ import annotations

import pytest

from aml_promotion.adapters._azure import run_status, translate
from aml_promotion.exceptions import RegistryError, TransientRegistryError
from aml_promotion.ports import RunStatus


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Completed", RunStatus.COMPLETED),
        ("FAILED", RunStatus.FAILED),
        ("Cancelled", RunStatus.CANCELED),
        ("Canceled", RunStatus.CANCELED),
        ("Not Started", RunStatus.RUNNING),
        ("CancelRequested", RunStatus.RUNNING),
        ("Paused", RunStatus.OTHER),
        (None, RunStatus.OTHER),
    ],
)
def test_azure_states_map_to_run_statuses(text: str | None, status: RunStatus) -> None:
    """v1 run states and v2 job states: any case, spaces ignored; unknown ones are OTHER."""
    assert run_status(text) is status


class _Response:
    status_code = 429
    headers = {"Retry-After": "3"}  # noqa: RUF012 - a stand-in response


class _ThrottledError(Exception):
    response = _Response()


def test_a_retryable_status_is_transient_with_the_services_wait() -> None:
    """429 (and any 5xx) may pass on retry; Retry-After is kept."""
    error = translate(
        _ThrottledError(), "reading x", status=429, connection_failed=False, transient={429}
    )
    assert isinstance(error, TransientRegistryError)
    assert error.retry_after == 3.0
    assert "HTTP 429 Too Many Requests" in str(error)
    server = translate(ValueError(), "x", status=599, connection_failed=False, transient=())
    assert isinstance(server, TransientRegistryError)


def test_a_refusal_says_to_check_the_credentials_and_other_failures_are_final() -> None:
    """401/403 name the credentials; a 404 is final; no status and no connection: the type."""
    denied = translate(ValueError(), "x", status=403, connection_failed=False, transient=())
    assert not isinstance(denied, TransientRegistryError)
    assert "check the credentials" in str(denied)
    missing = translate(ValueError(), "x", status=404, connection_failed=False, transient=())
    assert type(missing) is RegistryError
    assert "check the credentials" not in str(missing)
    dropped = translate(OSError(), "x", status=None, connection_failed=True, transient=())
    assert isinstance(dropped, TransientRegistryError)
    assert "connection to Azure ML failed" in str(dropped)
    other = translate(KeyError(), "x", status=None, connection_failed=False, transient=())
    assert str(other) == "x failed: KeyError"
