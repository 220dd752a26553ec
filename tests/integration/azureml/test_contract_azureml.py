"""The backend contract, over the Azure ML backend: the real azureml-core SDK on the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from contract import BackendContract
from integration.azureml.emulator import AzureMLEmulator

pytest.importorskip("azureml.core")

pytestmark = pytest.mark.azureml


class EmulatorHarness:
    """Seeds runs in the emulator; the backend reads them through the SDK."""

    def __init__(self, backend: Any, emulator: AzureMLEmulator) -> None:
        self.backend = backend
        self.emulator = emulator

    def add_run(self, experiment_name: str, metrics: dict[str, Any], files: list[str]) -> str:
        return self.emulator.add_run(experiment_name, metrics=metrics, files=files)


@pytest.fixture
def harness(
    backend: Any,
    emulator: AzureMLEmulator,
    blob_uploads: list[str],  # local-mode registrations upload their files into the emulator
) -> EmulatorHarness:
    del blob_uploads
    return EmulatorHarness(backend, emulator)


class TestAzureMLBackend(BackendContract):
    """The Azure ML backend keeps the contract the in-memory fake keeps."""
