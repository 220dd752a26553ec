"""The backend contract, over the public in-memory fake."""

from __future__ import annotations

from typing import Any

import pytest

from aml_promotion.testing import InMemoryBackend
from contract import BackendContract


class InMemoryHarness:
    def __init__(self, *, local_runs: bool = True) -> None:
        self.backend = InMemoryBackend(local_runs=local_runs)

    def add_run(self, experiment_name: str, metrics: dict[str, Any], files: list[str]) -> str:
        return self.backend.runs.add_run(
            experiment_name=experiment_name, metrics=metrics, files=files
        ).run_id


@pytest.fixture
def harness() -> InMemoryHarness:
    return InMemoryHarness()


class TestInMemoryBackend(BackendContract):
    """The in-memory fake keeps the contract the real backends keep."""

    has_aliases = True


class TestInMemoryBackendWithoutLocalRuns(BackendContract):
    """Shaped like Azure ML (no run for a local model), the fake keeps the contract too."""

    @pytest.fixture
    def harness(self) -> InMemoryHarness:
        return InMemoryHarness(local_runs=False)

    has_aliases = True
