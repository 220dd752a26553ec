"""Fixtures for every test: process-wide state the library keeps is put back after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aml_promotion.adapters import _redaction


@pytest.fixture(autouse=True)
def _masked_secrets_restored() -> Iterator[None]:
    """The secrets masked by a test (a password, a client secret) stay that test's own.

    The library masks them process-wide, as it should; a later test whose SDK message happens to
    hold the same word (``"secret"``) would otherwise see that message redacted.
    """
    before = set(_redaction._masked)
    yield
    with _redaction._lock:
        _redaction._masked.clear()
        _redaction._masked.update(before)
