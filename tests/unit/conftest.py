"""Fixtures and Hypothesis profiles for the unit tests.

Hypothesis profiles: ``fast`` (the default, for CI) and ``thorough`` (many more examples, for a
local run before a release); choose one with the environment variable ``HYPOTHESIS_PROFILE``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from aml_promotion import _retry
from aml_promotion.testing import InMemoryBackend

settings.register_profile(
    "fast",
    max_examples=100,
    deadline=None,  # a shared CI runner's hiccup is not a failure of the law
    derandomize=True,  # CI runs the same examples every time: no flaky red builds
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=5_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))


@pytest.fixture
def backend() -> InMemoryBackend:
    """An empty in-memory backend."""
    return InMemoryBackend()


@pytest.fixture
def retry_waits() -> Iterator[list[float]]:
    """Retries do not sleep within the test; the waits they would have slept, in order."""
    with _retry.testing_mode() as waits:
        yield waits
