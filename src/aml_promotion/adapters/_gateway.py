"""`SdkGateway`: every SDK call of every adapter passes here: the SDK's retries off, ours on.

One place maps an SDK's exceptions to ours (``raise RegistryError(...) from exc``, as httpx
does): each adapter says how its SDK's own retries are switched off around a call and how what
the SDK raises becomes our error; retrying, and keeping secrets out of the exception chain, are
done here once for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeVar

from aml_promotion._retry import RetryPolicy, request_timeout, retrying
from aml_promotion.adapters import _request_timeouts
from aml_promotion.adapters._redaction import safe_cause, scrub
from aml_promotion.exceptions import PromotionError, RegistryError, TransientRegistryError

__all__ = ["SdkGateway"]

_T = TypeVar("_T")


class SdkGateway:
    """Makes an adapter's SDK calls: the SDK's retries off, ours on, its errors translated.

    What a call raises that is ours (a `PromotionError`) passes unchanged; what the SDK raises
    (the `catch` types) becomes `translate`'s error, raised ``from`` the SDK's exception, or
    from a redacted copy of it when its text holds a secret (a URI's password, a client
    secret). Anything else is a bug and propagates as it is.

    Args:
        policy: How transient failures (`TransientRegistryError`) are retried.
        quiet: Makes the context in which the SDK's own retries are off.
        translate: Turns what the SDK raised while doing `what` into our error.
        catch: The exception types the SDK raises (default: any).
    """

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        quiet: Callable[[], AbstractContextManager[None]],
        translate: Callable[[Exception, str], RegistryError],
        catch: tuple[type[Exception], ...] = (Exception,),
    ) -> None:
        self.policy = policy
        self._quiet = quiet
        self._translate = translate
        self._catch = catch

    def once(self, what: str, call: Callable[[], _T], *, timeout: float | None = None) -> _T:
        """Make `call` once (no retries); translate what it raises.

        Every HTTP request the call makes times out after `timeout` seconds at most (default:
        the policy's `request_timeout`), so that a server that never answers cannot hold it.
        """
        seconds = request_timeout(self.policy) if timeout is None else timeout
        with self._quiet(), _request_timeouts.within(seconds):
            try:
                return call()
            except PromotionError as exc:
                scrub(exc)
                raise
            except self._catch as exc:
                error = self._translate(exc, what)
                cause = safe_cause(exc)
            # Raised outside the handler, so the SDK's exception is not its __context__ either.
            raise error from cause

    def call(self, what: str, call: Callable[[], _T]) -> _T:
        """Make `call`, retrying transient failures under the policy."""
        try:
            for attempt in retrying(self.policy):
                with attempt:
                    return self.once(what, call, timeout=attempt.timeout)
        except TransientRegistryError as exc:
            # The same chain as the error given up on: its cause is the (redacted) SDK error.
            error, cause = _gave_up(exc, what, self.policy), exc.__cause__
        else:  # pragma: no cover - retrying() returns or raises
            raise AssertionError
        raise error from cause


def _gave_up(exc: TransientRegistryError, what: str, policy: RetryPolicy) -> TransientRegistryError:
    """The error for a transient failure given up on: the stage and the deadline named."""
    detail = str(exc)
    if what and what not in detail:
        detail = f"{what}: {detail}"
    message = (
        f"{detail} (gave up within the {policy.timeout:g} s retry deadline, "
        f"{policy.attempts} attempts at most)"
    )
    return TransientRegistryError(message, retry_after=exc.retry_after)
