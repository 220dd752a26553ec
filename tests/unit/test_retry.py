"""aml_promotion._retry: transient failures are retried, boundedly, and never slept in tests."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import TypeVar

import pytest

from aml_promotion import RetryPolicy, _retry
from aml_promotion.exceptions import RegistryError, TransientRegistryError

T = TypeVar("T")

NO_JITTER = RetryPolicy(attempts=5, timeout=60, wait_initial=0.5, wait_max=10, jitter=0)


class Flaky:
    """A call that fails with the given errors, in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def call_with_retries(policy: RetryPolicy, call: Callable[[], T]) -> T:
    for attempt in _retry.retrying(policy):
        with attempt:
            result = call()
    return result


def transient(retry_after: float | None = None) -> TransientRegistryError:
    return TransientRegistryError("503 Service Unavailable", retry_after=retry_after)


def test_a_transient_failure_is_retried_until_the_call_succeeds(retry_waits: list[float]) -> None:
    """Two 503s then success: three calls, the result returned, two waits recorded."""
    call = Flaky(transient(), transient())
    assert call_with_retries(NO_JITTER, call) == "ok"
    assert call.calls == 3
    assert retry_waits == [0.5, 1.0]


@pytest.mark.parametrize(
    "error", [RegistryError("404 model not found"), ValueError("a bug"), KeyError("x")]
)
def test_only_transient_registry_errors_are_retried(
    retry_waits: list[float], error: Exception
) -> None:
    """Any other error is raised at once, unchanged, without a wait."""
    call = Flaky(error)
    with pytest.raises(type(error)) as info:
        call_with_retries(NO_JITTER, call)
    assert info.value is error
    assert call.calls == 1
    assert retry_waits == []


def test_retries_stop_after_the_policys_attempts(retry_waits: list[float]) -> None:
    """attempts=3: three calls, then the last TransientRegistryError itself is raised."""
    errors = [transient(), transient(), transient(), transient()]
    call = Flaky(*errors)
    with pytest.raises(TransientRegistryError) as info:
        call_with_retries(RetryPolicy(attempts=3, jitter=0), call)
    assert info.value is errors[2]
    assert call.calls == 3
    assert len(retry_waits) == 2


def test_one_attempt_switches_retries_off(retry_waits: list[float]) -> None:
    """attempts=1: the first transient failure is raised."""
    call = Flaky(transient())
    with pytest.raises(TransientRegistryError):
        call_with_retries(RetryPolicy(attempts=1), call)
    assert call.calls == 1
    assert retry_waits == []


def test_the_backoff_doubles_up_to_wait_max(retry_waits: list[float]) -> None:
    """Waits are wait_initial × 2ⁿ, capped at wait_max."""
    policy = RetryPolicy(attempts=6, wait_initial=0.5, wait_max=1.5, jitter=0)
    call_with_retries(policy, Flaky(*(transient() for _ in range(5))))
    assert retry_waits == [0.5, 1.0, 1.5, 1.5, 1.5]


def test_jitter_adds_at_most_its_amount(retry_waits: list[float]) -> None:
    """Each wait is the backoff plus up to `jitter` seconds."""
    policy = RetryPolicy(attempts=4, wait_initial=1, wait_max=10, jitter=0.25)
    call_with_retries(policy, Flaky(transient(), transient(), transient()))
    for wait, backoff in zip(retry_waits, [1, 2, 4], strict=True):
        assert backoff <= wait <= backoff + 0.25


def test_retry_after_is_honoured_beyond_the_backoff(retry_waits: list[float]) -> None:
    """A 429's Retry-After of 7 s is waited, even past wait_max."""
    policy = RetryPolicy(attempts=3, wait_initial=0.5, wait_max=1, jitter=0)
    call_with_retries(policy, Flaky(transient(retry_after=7)))
    assert retry_waits == [7.0]


def test_a_shorter_retry_after_does_not_shorten_the_backoff(retry_waits: list[float]) -> None:
    """The wait is the larger of the backoff and Retry-After."""
    policy = RetryPolicy(attempts=3, wait_initial=2, wait_max=10, jitter=0)
    call_with_retries(policy, Flaky(transient(retry_after=0.1)))
    assert retry_waits == [2.0]


def test_a_retry_after_beyond_the_timeout_gives_up_at_once(retry_waits: list[float]) -> None:
    """Asked to wait longer than the time budget left: the error is raised without waiting."""
    call = Flaky(transient(retry_after=120))
    with pytest.raises(TransientRegistryError):
        call_with_retries(RetryPolicy(attempts=5, timeout=60), call)
    assert call.calls == 1
    assert retry_waits == []


def test_a_wait_never_goes_past_the_timeout(retry_waits: list[float]) -> None:
    """A backoff longer than the time budget is cut to what is left of it."""
    policy = RetryPolicy(attempts=2, timeout=1, wait_initial=30, wait_max=30, jitter=0)
    call_with_retries(policy, Flaky(transient()))
    [wait] = retry_waits
    assert 0 < wait <= 1


def test_testing_mode_never_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    """In testing_mode, time.sleep is not called; the waits are recorded instead."""

    def no_sleep(seconds: float) -> None:
        pytest.fail(f"slept {seconds} s in testing mode")

    monkeypatch.setattr(_retry.time, "sleep", no_sleep)
    with _retry.testing_mode() as waits:
        call_with_retries(NO_JITTER, Flaky(transient()))
        assert waits == [0.5]  # filled as retries happen, inside the block
    assert waits == [0.5]


def test_outside_testing_mode_the_waits_are_slept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without testing_mode, retries sleep (here a stand-in records the seconds)."""
    slept: list[float] = []
    monkeypatch.setattr(_retry.time, "sleep", slept.append)
    call_with_retries(NO_JITTER, Flaky(transient(), transient()))
    assert slept == [0.5, 1.0]


def test_nested_testing_modes_each_see_the_waits_inside_them() -> None:
    """An outer block records its inner block's waits too; the inner only its own."""
    with _retry.testing_mode() as outer:
        call_with_retries(NO_JITTER, Flaky(transient()))
        with _retry.testing_mode() as inner:
            call_with_retries(NO_JITTER, Flaky(transient()))
        assert _retry._switch.active
    assert inner == [0.5]
    assert outer == [0.5, 0.5]
    assert not _retry._switch.active


def test_two_empty_testing_modes_close_independently() -> None:
    """Closing one block stops its recorder only, even when two recorders are equal lists."""
    with _retry.testing_mode() as first:
        with _retry.testing_mode():
            pass
        call_with_retries(NO_JITTER, Flaky(transient()))
    assert first == [0.5]


def test_each_retry_is_logged_as_a_warning(
    retry_waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    """A retry logs the attempt, the wait and the error on the "aml_promotion" logger."""
    with caplog.at_level(logging.WARNING, logger="aml_promotion"):
        call_with_retries(NO_JITTER, Flaky(transient()))
    [record] = caplog.records
    assert record.getMessage() == (
        "transient failure (attempt 1), retrying in 0.5 s: 503 Service Unavailable"
    )
    assert retry_waits == [0.5]


def test_attempts_are_numbered_from_one(retry_waits: list[float]) -> None:
    """Attempt.number is 1 for the first call, 2 for the first retry."""
    numbers = []
    call = Flaky(transient())
    for attempt in _retry.retrying(NO_JITTER):
        with attempt:
            numbers.append(attempt.number)
            call()
    assert numbers == [1, 2]
    assert len(retry_waits) == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"attempts": 0},
        {"timeout": 0},
        {"wait_initial": -1},
        {"wait_max": -0.1},
        {"jitter": -1},
    ],
)
def test_a_retry_policy_refuses_impossible_values(bad: dict[str, float]) -> None:
    """At least one attempt, a positive timeout, no negative waits."""
    with pytest.raises(ValueError, match=next(iter(bad))):
        RetryPolicy(**bad)  # type: ignore[arg-type]


def test_tenacity_never_shows_in_the_public_signatures() -> None:
    """RetryPolicy and retrying() speak only our own types."""
    for thing in (RetryPolicy, _retry.retrying, _retry.testing_mode):
        assert "tenacity" not in str(inspect.signature(thing))


# --- the deadline: no attempt reaches past it (a fake clock) -------------------------------------


class FakeClock:
    """A monotonic clock that moves only when told: by a hung call, and by the recorded waits."""

    def __init__(self, waits: list[float]) -> None:
        self.now = 1000.0
        self._waits = waits
        self._applied = 0

    def __call__(self) -> float:
        # The waits retrying() would have slept pass, as they are recorded.
        while self._applied < len(self._waits):
            self.now += self._waits[self._applied]
            self._applied += 1
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, retry_waits: list[float]) -> FakeClock:
    fake = FakeClock(retry_waits)
    monkeypatch.setattr(_retry, "_clock", fake)
    return fake


def against_a_server_that_never_answers(
    policy: RetryPolicy, clock: FakeClock
) -> list[tuple[float, float]]:
    """Each attempt waits out its whole timeout, then fails; returns (start, timeout) of each."""
    attempts: list[tuple[float, float]] = []

    def hung() -> None:
        for attempt in _retry.retrying(policy):
            with attempt:
                attempts.append((clock() - 1000.0, attempt.timeout))
                clock.now += attempt.timeout  # the request timed out
                raise transient()

    with pytest.raises(TransientRegistryError):
        hung()
    return attempts


def test_five_attempts_at_a_hung_server_end_within_the_60_s_deadline(
    clock: FakeClock, retry_waits: list[float]
) -> None:
    """12 s each (60 s / 5), the waits between them, and the last given only what is left."""
    attempts = against_a_server_that_never_answers(NO_JITTER, clock)
    assert [timeout for _, timeout in attempts] == [12.0, 12.0, 12.0, 12.0, 4.5]
    assert [start for start, _ in attempts] == [0.0, 12.5, 25.5, 39.5, 55.5]
    assert retry_waits == [0.5, 1.0, 2.0, 4.0]
    assert clock() - 1000.0 == 60.0  # the deadline, not one request's timeout past it


def test_the_first_attempt_is_given_the_whole_deadline_when_it_is_shorter_than_its_share(
    clock: FakeClock,
) -> None:
    """A 2 s deadline: the first request waits 2 s, not the 5 s floor; no retry is left."""
    attempts = against_a_server_that_never_answers(RetryPolicy(timeout=2, jitter=0), clock)
    assert attempts == [(0.0, 2.0)]
    assert clock() - 1000.0 == 2.0


def test_no_retry_starts_with_too_little_of_the_deadline_left(
    clock: FakeClock, retry_waits: list[float]
) -> None:
    """A failure 5.5 s into a 6 s deadline is raised: half a second is no time for an answer."""
    calls = []

    def slow_failure() -> None:
        for attempt in _retry.retrying(RetryPolicy(timeout=6, jitter=0)):
            with attempt:
                calls.append(attempt.number)
                clock.now += 5.5
                raise transient()

    with pytest.raises(TransientRegistryError):
        slow_failure()
    assert calls == [1]
    assert retry_waits == []


def test_a_wait_is_cut_so_that_the_retry_has_a_second_left(
    clock: FakeClock, retry_waits: list[float]
) -> None:
    """A failure 3 s into a 6 s deadline, a 10 s backoff: the retry starts with 1 s left."""
    timeouts = []
    policy = RetryPolicy(attempts=2, timeout=6, wait_initial=10, jitter=0)
    for attempt in _retry.retrying(policy):
        with attempt:
            timeouts.append(attempt.timeout)
            if len(timeouts) == 1:
                clock.now += 3
                raise transient()
    assert retry_waits == [2.0]
    assert timeouts == [5.0, 1.0]
