"""Registering a model version without ever registering it twice.

A registration whose answer is lost (a dropped connection, a 503 from a proxy after the service
committed it) may have happened. Sending it again would make a second version of the same run,
so every adapter retries a registration the same way: before each retry, look the version up by
run; register again only when the failed attempt left nothing behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aml_promotion._retry import RetryPolicy, retrying
from aml_promotion.ports import ModelVersion

__all__ = ["register_once"]

logger = logging.getLogger("aml_promotion")


def register_once(
    policy: RetryPolicy,
    *,
    register: Callable[[], ModelVersion],
    find_earlier: Callable[[], ModelVersion | None],
) -> ModelVersion:
    """Register under `policy`, looking for an earlier attempt's version before each retry.

    Args:
        policy: How transient failures (`TransientRegistryError`) are retried.
        register: Makes one registration call (no retries of its own, SDK's included).
        find_earlier: Makes one look-up of the version a failed attempt may have registered
            (no retries of its own: this loop retries it, with the registration).

    Returns:
        The registered version: the new one, or the one an earlier attempt registered.

    Raises:
        RegistryError: Registering failed, and retries (if any) did not help.
    """
    for attempt in retrying(policy):
        with attempt:
            if attempt.number > 1:
                earlier = find_earlier()
                if earlier is not None:
                    logger.info(
                        "model %s was registered by the failed attempt; not registering again",
                        earlier,
                    )
                    return earlier
            return register()
    raise AssertionError  # pragma: no cover - retrying() returns or raises
