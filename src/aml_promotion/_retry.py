"""Retries at the adapter boundary: tenacity behind our own `RetryPolicy`.

Only `TransientRegistryError` is retried, with capped exponential backoff and jitter; a
``retry_after`` on the error (HTTP 429's Retry-After) is honoured, within the policy's time
budget. The budget is a deadline: each attempt is given what is left of it at most
(`Attempt.timeout`, which the adapters make every request of the attempt time out within), and
no attempt starts with too little left. tenacity never shows in a signature. In
`testing_mode()` nothing sleeps: the waits that would have been slept are recorded instead, so
suites stay fast and can still check them.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from aml_promotion.exceptions import TransientRegistryError

if TYPE_CHECKING:
    # tenacity is imported on the first retry loop, not with the package: deferring it saves
    # over 5 ms of the user's import. (Attempt's annotation names it, but attrs never
    # evaluates it and nothing structures an Attempt.)
    import tenacity

__all__ = [
    "DEADLINE_ENV",
    "Attempt",
    "RetryPolicy",
    "pause",
    "request_timeout",
    "retrying",
    "testing_mode",
]

LOGGER_NAME = "aml_promotion"

DEADLINE_ENV = "AML_PROMOTION_RETRY_DEADLINE"
"""Environment variable: seconds for the default policy's deadline (`RetryPolicy.timeout`)."""

_MIN_REQUEST_TIMEOUT = 5.0

_MIN_ATTEMPT = 1.0
"""Seconds: no retry starts with less of the deadline left (or its share per attempt, if less)."""

_clock = time.monotonic
"""The clock deadlines are measured on (a test may replace it with a fake one)."""


def _default_timeout() -> float:
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return 60.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds < float("inf"):  # NaN fails both comparisons
        msg = f"{DEADLINE_ENV} must be a number of seconds above 0, not {raw!r}"
        raise ValueError(msg)
    return seconds


def _a_number(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # Checked before the bound: "5" would fail the comparison with a TypeError naming no field,
    # and True would pass as 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"{attribute.name} must be a number, not {type(value).__name__} {value!r}"
        raise TypeError(msg)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How transient failures are retried.

    Attributes:
        attempts: Calls at most, the first included (1 switches retries off).
        timeout: The deadline: seconds at most from the start of the first call to the end of
            the last (default 60, or the ``AML_PROMOTION_RETRY_DEADLINE`` environment
            variable's seconds). Each attempt's requests time out within what is left of it
            (`Attempt.timeout`), and no retry starts with less than a second left, so a server
            that never answers cannot hold a call past it.
        wait_initial: Seconds before the first retry; doubles each time.
        wait_max: Seconds at most between two calls (unless the service asks for more).
        jitter: Up to this many seconds added at random to each wait.
    """

    attempts: int = attrs.field(default=5, validator=[_a_number, attrs.validators.ge(1)])
    timeout: float = attrs.field(
        factory=_default_timeout,
        validator=[_a_number, attrs.validators.gt(0.0)],
    )
    wait_initial: float = attrs.field(default=0.5, validator=[_a_number, attrs.validators.ge(0)])
    wait_max: float = attrs.field(default=10.0, validator=[_a_number, attrs.validators.ge(0)])
    jitter: float = attrs.field(default=0.5, validator=[_a_number, attrs.validators.ge(0)])


class _TestingSwitch:
    """Process-wide: whether waits are slept, and the lists that record them while they are not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recorders: list[list[float]] = []

    @property
    def active(self) -> bool:
        """Whether some `testing_mode()` block is open."""
        return bool(self._recorders)

    def start(self) -> list[float]:
        recorder: list[float] = []
        with self._lock:
            self._recorders.append(recorder)
        return recorder

    def stop(self, recorder: list[float]) -> None:
        with self._lock:
            # By identity: two recorders with the same waits are equal lists.
            self._recorders = [r for r in self._recorders if r is not recorder]

    def sleep(self, seconds: float) -> None:
        with self._lock:
            # Every open block sees the wait, as it happens (nested blocks included).
            for recorder in self._recorders:
                recorder.append(seconds)
            if self._recorders:
                return
        time.sleep(seconds)


_switch = _TestingSwitch()


@contextmanager
def testing_mode() -> Iterator[list[float]]:
    """Within the block, retries do not sleep; yields the list of waits they would have slept.

    The list fills as retries happen, so it can be checked inside the block or after it.
    """
    recorder = _switch.start()
    try:
        yield recorder
    finally:
        _switch.stop(recorder)


def pause(seconds: float) -> None:
    """Wait `seconds`, or, in `testing_mode()`, record the wait and return at once.

    For the waits outside a retry loop (a concurrent promotion moving an alias), so that every
    wait obeys the testing switch.
    """
    _switch.sleep(seconds)


def request_timeout(policy: RetryPolicy) -> float:
    """Seconds one request may take under `policy`: its deadline over its attempts, at least 5.

    So that `attempts` calls to a server that never answers fit within the deadline; never
    below 5 s, so a slow but working server (3 s an answer) is not cut off. A retry's requests
    are given less when less of the deadline is left (`Attempt.timeout`).
    """
    return max(_MIN_REQUEST_TIMEOUT, policy.timeout / policy.attempts)


class _Deadline:
    """One retry loop's deadline: what is left of it, each attempt's timeout, each wait.

    The wait after a failure is planned once, then read by both tenacity's stop and its wait
    (tenacity's versions call them in either order): None means give up now.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.started = _clock()
        self._planned: dict[int, float | None] = {}

    def left(self) -> float:
        """Seconds left before the deadline (negative once it has passed)."""
        return self.policy.timeout - (_clock() - self.started)

    def attempt_timeout(self) -> float:
        """Seconds each request of the attempt starting now may take: never past the deadline."""
        return max(0.0, min(request_timeout(self.policy), self.left()))

    def wait(self, retry_state: tenacity.RetryCallState) -> float | None:
        """Seconds to wait before the next attempt, or None: no attempt should follow."""
        number = retry_state.attempt_number
        if number not in self._planned:
            self._planned[number] = self._plan(retry_state)
        return self._planned[number]

    def _plan(self, retry_state: tenacity.RetryCallState) -> float | None:
        policy = self.policy
        if retry_state.attempt_number >= policy.attempts:
            return None
        backoff = min(
            policy.wait_max, policy.wait_initial * 2.0 ** (retry_state.attempt_number - 1)
        )
        backoff += random.uniform(0, policy.jitter)  # noqa: S311 - jitter, not secrets
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        asked = float(getattr(error, "retry_after", None) or 0.0)
        # The longest wait that still leaves the next attempt enough time to be worth making.
        room = self.left() - min(_MIN_ATTEMPT, policy.timeout / policy.attempts)
        if room < 0 or asked > room:
            # Give up now rather than sleep for an attempt with no time to answer, or past the
            # deadline for an answer we would not wait for.
            return None
        return max(asked, min(backoff, room))


def _wait(deadline: _Deadline) -> tenacity.wait.wait_base:
    import tenacity  # noqa: PLC0415 - saves 5 ms or more: see TYPE_CHECKING above

    class _Wait(tenacity.wait.wait_base):
        def __call__(self, retry_state: tenacity.RetryCallState) -> float:
            return deadline.wait(retry_state) or 0.0

    return _Wait()


def _stop(deadline: _Deadline) -> tenacity.stop.stop_base:
    import tenacity  # noqa: PLC0415 - saves 5 ms or more: see TYPE_CHECKING above

    class _Stop(tenacity.stop.stop_base):
        def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
            return deadline.wait(retry_state) is None

    return _Stop()


def _log_retry(retry_state: tenacity.RetryCallState) -> None:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    logging.getLogger(LOGGER_NAME).warning(
        "transient failure (attempt %d), retrying in %.1f s: %s",
        retry_state.attempt_number,
        wait,
        error,
    )


class Attempt:
    """One attempt of a `retrying()` loop; use it as a context manager around the call."""

    # A plain class: only a retry loop needs it, and an attrs class costs import time.
    __slots__ = ("_manager", "timeout")

    def __init__(self, manager: tenacity.AttemptManager, timeout: float) -> None:
        self._manager = manager
        self.timeout = timeout
        """Seconds each request of this attempt may take: `request_timeout`, or less when less
        of the deadline is left, so that no request of it reaches past the deadline."""

    @property
    def number(self) -> int:
        """1 for the first call, 2 for the first retry, and so on."""
        return self._manager.retry_state.attempt_number

    def __enter__(self) -> Attempt:  # noqa: PYI034 - Self needs Python 3.11
        self._manager.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        return self._manager.__exit__(exc_type, exc, traceback)


def retrying(policy: RetryPolicy) -> Iterator[Attempt]:
    """Yield attempts until one succeeds, or re-raise the last `TransientRegistryError`.

    Usage::

        for attempt in retrying(policy):
            with attempt:
                result = call_the_service()
    """
    import tenacity  # noqa: PLC0415 - saves 5 ms or more: see TYPE_CHECKING above

    deadline = _Deadline(policy)
    controller = tenacity.Retrying(
        stop=_stop(deadline),
        wait=_wait(deadline),
        retry=tenacity.retry_if_exception_type(TransientRegistryError),
        sleep=_switch.sleep,
        reraise=True,
        before_sleep=_log_retry,
    )
    for manager in controller:
        yield Attempt(manager, deadline.attempt_timeout())
