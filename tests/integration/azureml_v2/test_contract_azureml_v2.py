"""The backend contract, over the Azure ML SDK v2 backend: the real SDKs on the emulator."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("azure.ai.ml")
pytest.importorskip("azureml.mlflow")

from contract import BackendContract
from integration.azureml_v2.emulator import AzureMLV2Emulator

pytestmark = pytest.mark.azureml_v2


class EmulatorHarness:
    """Seeds jobs in the emulator; the backend reads them through the SDKs."""

    def __init__(self, backend: Any, emulator: AzureMLV2Emulator) -> None:
        self.backend = backend
        self.emulator = emulator

    def add_run(self, experiment_name: str, metrics: dict[str, Any], files: list[str]) -> str:
        return self.emulator.add_job(experiment_name, metrics=metrics, files=files)


@pytest.fixture
def harness(backend: Any, emulator: AzureMLV2Emulator) -> EmulatorHarness:
    return EmulatorHarness(backend, emulator)


class TestAzureMLV2Backend(BackendContract):
    """The Azure ML SDK v2 backend keeps the contract the in-memory fake keeps."""
