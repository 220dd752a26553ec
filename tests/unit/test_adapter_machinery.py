"""The machinery every adapter shares: the SDK-retry switch, register-once, error chains."""

from __future__ import annotations

import contextlib
import threading
import traceback

import pytest

from aml_promotion import RetryPolicy
from aml_promotion._domain.metrics import is_usable_number
from aml_promotion.adapters._errors import exception_chain, http_response, retry_after
from aml_promotion.adapters._gateway import SdkGateway
from aml_promotion.adapters._redaction import RedactedSdkError, mask, query_secrets, redact
from aml_promotion.adapters._registration import register_once
from aml_promotion.adapters._sdk_retries import SdkRetrySwitch
from aml_promotion.exceptions import RegistryError, RunNotFoundError, TransientRegistryError
from aml_promotion.ports import ModelVersion


class _Recorded(SdkRetrySwitch):
    """A switch that records when it turns an (imaginary) SDK's retries off and back on."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def _switch_off(self) -> None:
        self.events.append("off")

    def _restore(self) -> None:
        self.events.append("on")


def test_the_switch_turns_off_once_for_nested_and_concurrent_blocks_and_restores_once() -> None:
    """Only the first block in switches off and only the last one out restores, across threads."""
    switch = _Recorded()
    inside = threading.Barrier(2)
    leave = threading.Event()

    def worker() -> None:
        with switch.off():
            inside.wait()
            leave.wait()

    thread = threading.Thread(target=worker)
    with switch.off():
        thread.start()
        inside.wait()
        with switch.off():
            assert switch.active
    assert switch.active  # the worker is still inside
    leave.set()
    thread.join()
    assert not switch.active
    assert switch.events == ["off", "on"]


def test_the_switch_restores_when_the_block_raises() -> None:
    """An exception inside the block still puts the SDK's retries back."""
    switch = _Recorded()
    with pytest.raises(ValueError, match="boom"), switch.off():
        raise ValueError("boom")
    assert switch.events == ["off", "on"]
    assert not switch.active


VERSION = ModelVersion(name="churn", version=3, id="churn:3", run_id="r1")


def test_register_once_never_looks_up_before_the_first_attempt() -> None:
    """A registration that succeeds at once makes no look-up."""
    lookups: list[int] = []

    def find() -> ModelVersion | None:
        lookups.append(1)
        return None

    assert register_once(RetryPolicy(), register=lambda: VERSION, find_earlier=find) is VERSION
    assert lookups == []


def test_register_once_returns_what_a_lost_attempt_registered_instead_of_registering_again(
    retry_waits: list[float],
) -> None:
    """After a transient failure the version is looked up by run first; found, it is returned."""
    calls: list[str] = []

    def register() -> ModelVersion:
        calls.append("register")
        raise TransientRegistryError("the answer was lost")

    def find() -> ModelVersion | None:
        calls.append("find")
        return VERSION

    assert register_once(RetryPolicy(), register=register, find_earlier=find) is VERSION
    assert calls == ["register", "find"]
    assert len(retry_waits) == 1


def test_register_once_registers_again_when_the_failed_attempt_left_nothing(
    retry_waits: list[float],
) -> None:
    """Nothing found after a failure: the registration is sent again."""
    outcomes: list[ModelVersion | Exception] = [TransientRegistryError("503"), VERSION]

    def register() -> ModelVersion:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    got = register_once(RetryPolicy(), register=register, find_earlier=lambda: None)
    assert got is VERSION
    assert outcomes == []
    assert len(retry_waits) == 1


def test_register_once_does_not_retry_a_permanent_failure() -> None:
    """A non-transient error surfaces at once, with no look-up."""
    lookups: list[int] = []

    def register() -> ModelVersion:
        raise RegistryError("HTTP 403 Forbidden")

    def find() -> ModelVersion | None:
        lookups.append(1)
        return None

    with pytest.raises(RegistryError, match="403"):
        register_once(RetryPolicy(), register=register, find_earlier=find)
    assert lookups == []


class _Response:
    def __init__(self, status: int, headers: dict[str, str]) -> None:
        self.status_code = status
        self.headers = headers


class _SdkError(Exception):
    def __init__(self, message: str, inner: BaseException | None = None) -> None:
        super().__init__(message)
        self.inner_exception = inner


def test_the_chain_follows_cause_context_and_inner_exceptions_once_each() -> None:
    """Causes, contexts and an SDK's inner_exception are all followed; loops end."""
    root = ConnectionError("refused")
    inner = _SdkError("wrapped", inner=root)
    try:
        try:
            raise inner
        except _SdkError as exc:
            raise RuntimeError("outer") from exc
    except RuntimeError as outer:
        chain = list(exception_chain(outer))
    assert [type(e) for e in chain] == [RuntimeError, _SdkError, ConnectionError]
    root.__context__ = inner  # a loop
    assert len(list(exception_chain(inner))) == 2


def test_retry_after_reads_seconds_from_the_first_response_in_the_chain() -> None:
    """Retry-After in seconds is read from the response however deep it is wrapped."""
    error = _SdkError("429")
    error.response = _Response(429, {"Retry-After": "7"})  # type: ignore[attr-defined]
    outer = _SdkError("outer", inner=error)
    assert http_response(outer) is error.response  # type: ignore[attr-defined]
    assert retry_after(outer) == 7.0


def test_retry_after_reads_a_date_and_ignores_junk_or_absence() -> None:
    """An HTTP date in the past waits 0 s; junk and a missing header are None."""
    error = _SdkError("429")
    error.response = _Response(429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})  # type: ignore[attr-defined]
    assert retry_after(error) == 0.0
    error.response = _Response(429, {"Retry-After": "soon"})  # type: ignore[attr-defined]
    assert retry_after(error) is None
    error.response = _Response(503, {})  # type: ignore[attr-defined]
    assert retry_after(error) is None
    assert retry_after(ValueError("no response")) is None


@pytest.mark.parametrize(
    ("value", "usable"),
    [(0.5, True), (3, True), (float("nan"), False), (float("inf"), False), (True, False)],
)
def test_adapters_keep_what_the_rules_would_accept(value: object, usable: bool) -> None:
    """is_usable_number is the rules' own test: finite real numbers, never bools or NaN."""
    assert is_usable_number(value) is usable


# --- SdkGateway: errors translated, secrets kept out of the chain ------------------------------


def _gateway(policy: RetryPolicy | None = None) -> SdkGateway:
    return SdkGateway(
        policy or RetryPolicy(attempts=1),
        quiet=contextlib.nullcontext,
        translate=lambda error, what: RegistryError(f"{what} failed: {type(error).__name__}"),
    )


def _shown(error: BaseException) -> str:
    return "".join(traceback.format_exception(error, chain=True))


def test_the_gateway_chains_an_sdk_error_that_holds_no_secret_as_it_is() -> None:
    """Nothing to hide: our error is raised from the SDK's own exception, for debugging."""
    original = ConnectionError("refused by 127.0.0.1:9")

    def fail() -> None:
        raise original

    with pytest.raises(RegistryError, match="reading failed: ConnectionError") as caught:
        _gateway().call("reading", fail)
    assert caught.value.__cause__ is original


@pytest.mark.parametrize(
    "where",
    ["message", "args", "notes", "cause", "context"],
)
def test_a_secret_anywhere_in_the_sdks_chain_is_nowhere_in_ours(where: str) -> None:
    """A masked value or a URI's password, wherever the SDK put it, is not in the traceback."""
    mask("m4sked-Secret-value")
    url = "https://carol:c4rol-Pw@host/api"

    def fail() -> None:
        if where == "message":
            raise OSError(f"POST {url} failed")
        if where == "args":
            raise OSError(500, {"body": "client_secret=m4sked-Secret-value"})
        if where == "notes":
            error = OSError("failed")
            # What add_note does (Python 3.11+), spelled so that 3.10 runs the test too.
            error.__notes__ = [f"while calling {url}"]  # type: ignore[attr-defined]
            raise error
        if where == "cause":
            raise OSError("failed") from ValueError("token m4sked-Secret-value refused")
        try:
            raise ValueError(f"at {url}")  # noqa: TRY301 - the chain is what is tested
        except ValueError:
            raise OSError("failed") from None  # hidden from display, still __context__

    with pytest.raises(RegistryError) as caught:
        _gateway().call("reading", fail)
    shown = _shown(caught.value)
    assert "c4rol-Pw" not in shown
    assert "m4sked-Secret-value" not in shown
    assert isinstance(caught.value.__cause__, RedactedSdkError)
    assert caught.value.__context__ is None
    cause = caught.value.__cause__
    assert cause.__cause__ is None
    assert cause.__context__ is None
    assert "OSError" in str(cause), "the SDK's exception types stay readable"


def test_our_own_error_raised_from_an_sdk_error_is_scrubbed_too() -> None:
    """A PromotionError passing the gateway keeps its message; its secret-holding cause goes."""

    def fail() -> None:
        try:
            raise OSError("GET https://dave:d4ve-Pw@host failed")  # noqa: TRY301 - the chain
        except OSError as exc:
            raise RunNotFoundError("no such run", run_id="r1") from exc

    with pytest.raises(RunNotFoundError, match="no such run") as caught:
        _gateway().call("reading", fail)
    assert "d4ve-Pw" not in _shown(caught.value)
    assert isinstance(caught.value.__cause__, RedactedSdkError)


def test_redact_removes_user_info_and_masked_values_longest_first() -> None:
    """``//user:pw@`` becomes ``//***@``; a masked value and a longer one containing it go."""
    mask("abcd1234", "abcd1234-and-more", None, "ab")
    assert redact("see https://u:p@h/x") == "see https://***@h/x"
    assert redact("abcd1234-and-more / abcd1234 / ab") == "*** / *** / ab"


@pytest.mark.parametrize(
    ("uri", "secret"),
    [
        ("https://alice@corp.com:s3cretpw@host/", "s3cretpw"),
        ("https://user:p@ssw0rd@host/x", "ssw0rd"),
        ("see https://a@b:c@d@host:5000 and more", "c@d"),
    ],
)
def test_user_info_with_an_at_sign_of_its_own_is_redacted_to_the_last_at(
    uri: str, secret: str
) -> None:
    """A user name or password holding an ``@`` goes whole: the user info ends at the last one."""
    shown = redact(uri)
    assert secret not in shown
    assert "***@host" in shown


def test_the_redaction_of_user_info_stops_at_the_authority() -> None:
    """An ``@`` in a path (after the first ``/``) is no user info: the host stays readable."""
    assert redact("https://host/users/me@corp.com") == "https://host/users/me@corp.com"
    assert redact("https://u:pw@host/a@b") == "https://***@host/a@b"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "postgresql://mlflow@db.internal/mlflow?password=S3cretPw",
            "postgresql://***@db.internal/mlflow?password=***",
        ),
        (
            "https://acct.blob.core.windows.net/c/m.pkl?sv=2022-11-02&se=2030&sig=AbCd%2F3fG",
            "https://acct.blob.core.windows.net/c/m.pkl?sv=2022-11-02&se=2030&sig=***",
        ),
        (
            "GET https://h/x?X-Amz-Credential=AKIA99&X-Amz-Signature=5eeded failed",
            "GET https://h/x?X-Amz-Credential=***&X-Amz-Signature=*** failed",
        ),
        (
            "mysql://db/m?sslmode=require&Access_Token=tok-123#frag",
            "mysql://db/m?sslmode=require&Access_Token=***#frag",
        ),
        ("at 'http://h/?api_key=k3y-value' said no", "at 'http://h/?api_key=***' said no"),
        (
            "AccountName=a;AccountKey=bWFza2Vk==;EndpointSuffix=x",
            "AccountName=a;AccountKey=***;EndpointSuffix=x",
        ),
        ("sqlite:///m.db?mode=ro&timeout=5", "sqlite:///m.db?mode=ro&timeout=5"),
        (
            "a run with key=value and ?token= left empty",
            "a run with key=value and ?token= left empty",
        ),
    ],
)
def test_a_secret_in_a_query_string_is_masked_and_other_parameters_stay(
    text: str, shown: str
) -> None:
    """A parameter named for a secret (password, token, sig, key...) shows ***; others stay."""
    assert redact(text) == shown
    assert redact(shown) == shown, "a redacted text is redacted already"


def test_the_secrets_of_a_query_string_are_listed_as_written() -> None:
    """What a backend masks, so that an SDK quoting the value apart is redacted too."""
    uri = "postgresql://db/m?sslmode=require&password=S3cret%21Pw&token=t0ken"
    assert query_secrets(uri) == ("S3cret%21Pw", "t0ken")
    assert query_secrets("http://h/api?x=1") == ()


def test_a_query_string_password_in_the_sdks_chain_is_nowhere_in_ours() -> None:
    """An SDK error quoting a URI with ?password= is chained only as a redacted copy."""
    uri = "postgresql://mlflow@db.internal/mlflow?password=Qu3ryPw-x"

    def fail() -> None:
        try:
            raise ValueError(f"cannot connect to {uri}")  # noqa: TRY301 - the chain is tested
        except ValueError as exc:
            raise OSError("failed") from exc

    with pytest.raises(RegistryError) as caught:
        _gateway().call("reading", fail)
    shown = _shown(caught.value)
    assert "Qu3ryPw-x" not in shown
    assert "password=***" in shown, "the redacted SDK text is kept, for whoever debugs it"
    assert isinstance(caught.value.__cause__, RedactedSdkError)
