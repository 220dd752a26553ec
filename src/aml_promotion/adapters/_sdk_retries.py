"""A process-wide switch that turns an SDK's own retries off while adapter calls are in flight.

Every adapter retries transient failures under one `RetryPolicy`; an SDK that also retries
underneath compounds with it (one 503 became 16 requests on azureml-core; MLflow retries a
refused connection for minutes). SDKs offer no per-call setting, so the switch is process-wide
and reference-counted: the first call in flight (on any thread) switches the SDK's retries off,
the last one out puts them back. An SDK call another thread makes at that moment runs without
the SDK's retries too; outside adapter calls the SDK is unchanged.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

__all__ = ["SdkRetrySwitch"]


class SdkRetrySwitch:
    """Reference-counted: `off()` blocks nest, across threads, around one off/restore pair.

    A subclass says how its SDK's retries are switched: `_switch_off` (called under the lock
    when the first block opens: turn them off, remembering what to restore) and `_restore`
    (called under the lock when the last block closes: put them back).
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        """Held while the switch changes; hold it to change the same settings consistently."""
        self._depth = 0

    @property
    def active(self) -> bool:
        """Whether some `off()` block is open, that is, the SDK's retries are off right now."""
        return self._depth > 0

    @contextlib.contextmanager
    def off(self) -> Iterator[None]:
        """Within the block, the SDK does not retry."""
        with self.lock:
            if self._depth == 0:
                self._switch_off()
            self._depth += 1
        try:
            yield
        finally:
            with self.lock:
                self._depth -= 1
                if self._depth == 0:
                    self._restore()

    def _switch_off(self) -> None:
        """Turn the SDK's retries off (the first block in)."""
        raise NotImplementedError

    def _restore(self) -> None:
        """Put the SDK's retries back (the last block out)."""
        raise NotImplementedError
