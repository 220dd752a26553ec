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


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("https://login.microsoftonline.com/tenant/oauth2/v2.0/token", "Microsoft Entra ID"),
        ("http://10.0.0.4:46808/MSI/auth", "the managed identity endpoint"),
        ("http://169.254.169.254/metadata/identity/oauth2/token", "the managed identity endpoint"),
        ("https://ml.azure.example/jobs/job_1", "Azure ML"),
    ],
)
def test_a_failed_connection_names_the_sign_in_it_was_for(url: str, named: str) -> None:
    """The request in the chain says whom it went to; only a fixed name reaches the message."""
    requests = pytest.importorskip("requests")
    failure = requests.ConnectionError("refused", request=requests.Request("GET", url).prepare())
    error = translate(
        failure, "reading job 'job_1'", status=None, connection_failed=True, transient=()
    )
    assert str(error) == f"reading job 'job_1' failed: the connection to {named}" + (
        " (signing in) failed" if named != "Azure ML" else " failed"
    )
    assert url not in str(error)
