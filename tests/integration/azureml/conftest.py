"""The real azureml-core SDK against a local emulator of the Azure ML REST API, and nothing else.

Before azureml is imported (pytest_configure), the SDK is cut off from Azure:

- ``HOME`` points at a temporary folder: the SDK keeps a discovery cache and client info under
  ``~/.azureml`` (paths fixed at import), and reads the Azure CLI's configuration;
- ``AZUREML_CURRENT_CLOUD=AzureCloud``: without it, the SDK's authentication classes fetch
  ``https://management.azure.com/metadata/endpoints``;
- ``ARM_CLOUD_METADATA_URL`` and every ``AZUREML_*`` variable are removed: the first is fetched
  at import, the others would make a test find a real run context.

Each test also runs behind a socket guard that refuses any connection (and name lookup) other
than loopback and records the attempt, so a test fails even when the SDK swallows the error.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aml_promotion import RetryPolicy
from aml_promotion._retry import testing_mode
from integration.azureml.emulator import AzureMLEmulator
from integration.azureml.workspace import emulator_authentication, emulator_workspace, unsigned_jwt
from socket_guard import SocketGuard, loopback_only

_SAVED: dict[str, str | None] = {}
_HOME: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Cut the SDK off from Azure before anything imports it."""
    if "azureml" in sys.modules:  # pragma: no cover - a plugin imported it first
        msg = (
            "azureml was imported before tests/integration/azureml/conftest.py could isolate it "
            "(HOME, AZUREML_CURRENT_CLOUD): run these tests in a session that does not import it"
        )
        raise pytest.UsageError(msg)
    home = tempfile.mkdtemp(prefix="aml-promotion-azureml-home-")
    _HOME.append(home)
    names = [name for name in os.environ if name.startswith("AZUREML_")]
    for name in [*names, "HOME", "ARM_CLOUD_METADATA_URL", "AZURE_CONFIG_DIR"]:
        _SAVED[name] = os.environ.pop(name, None)
    os.environ["HOME"] = home
    os.environ["AZURE_CONFIG_DIR"] = str(Path(home) / ".azure")
    os.environ["AZUREML_CURRENT_CLOUD"] = "AzureCloud"
    _SAVED.setdefault("AZUREML_CURRENT_CLOUD", None)
    config.addinivalue_line(
        "filterwarnings",
        # azureml-core and its dependencies warn about their own deprecations at import.
        "ignore::DeprecationWarning:azureml.*",
    )


def pytest_unconfigure(config: pytest.Config) -> None:  # noqa: ARG001 - the hook's signature
    """Give the environment back."""
    for name, value in _SAVED.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    for home in _HOME:
        shutil.rmtree(home, ignore_errors=True)


# --- no network but loopback ----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def socket_guard() -> Iterator[SocketGuard]:
    """Every test: nothing but loopback, and a failure if anything else was even tried."""
    with loopback_only() as guard:
        yield guard


# --- the emulator and a workspace on it -----------------------------------------------------------


@pytest.fixture(scope="session")
def emulator() -> Iterator[AzureMLEmulator]:
    """One emulator for the session (the SDK caches runs by id in-process: ids are unique)."""
    with AzureMLEmulator() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_emulator(emulator: AzureMLEmulator) -> Iterator[AzureMLEmulator]:
    """Each test starts with no faults and no recorded requests, and ends with no unknown ones."""
    with emulator.checked():
        yield emulator


@pytest.fixture(autouse=True)
def retry_waits() -> Iterator[list[float]]:
    """Retries never sleep in tests; the waits they would have slept are recorded."""
    with testing_mode() as waits:
        yield waits


@pytest.fixture
def auth(emulator: AzureMLEmulator) -> Any:
    """An azureml authentication object for the emulator (its subscription is the only one)."""
    return emulator_authentication(emulator)


@pytest.fixture(scope="session")
def workspace(emulator: AzureMLEmulator) -> Any:
    """A Workspace on the emulator, built without any call to Azure Resource Manager."""
    return emulator_workspace(emulator)


@pytest.fixture
def policy() -> RetryPolicy:
    """A retry policy for tests: a few attempts, no jitter (waits are not slept anyway)."""
    return RetryPolicy(attempts=4, timeout=60, wait_initial=0.5, jitter=0)


@pytest.fixture
def backend(workspace: Any, policy: RetryPolicy) -> Any:
    """The backend under test, on the emulator's workspace."""
    from aml_promotion.adapters.azureml import AzureMLBackend  # noqa: PLC0415

    return AzureMLBackend(workspace=workspace, retry=policy)


@pytest.fixture
def unique() -> str:
    """A fresh suffix for experiment, run and model names."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def arm_on_emulator(emulator: AzureMLEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the SDK's Azure Resource Manager endpoint at the emulator.

    The SDK has no setting for it (the endpoint comes from a hard-coded list of clouds), so the
    public cloud's entry is patched for the test.
    """
    pytest.importorskip("azureml.core")
    from azureml._vendor.azure_cli_core.azureml_cloud import _Clouds  # noqa: PLC0415

    endpoints = _Clouds.get_cloud_or_default("AzureCloud").endpoints
    monkeypatch.setattr(endpoints, "resource_manager", emulator.url + "/")


# --- inside an Azure ML run -----------------------------------------------------------------------


@pytest.fixture
def run_context(
    emulator: AzureMLEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str, str], None]]:
    """Make the process look like an Azure ML job running run `run_id` of `experiment`.

    These are the variables Azure ML sets in a job; ``Run.get_context()`` reads them. The timer
    threads the SDK then starts (token refresh, metrics batches) are stopped afterwards: they
    would wake for the rest of the session, and warn from whatever test is running then.
    """

    def enter(experiment: str, run_id: str) -> None:
        experiment_id = emulator.add_experiment(experiment)
        # A long expiry: a token about to expire makes the SDK refresh it at once.
        token = unsigned_jwt({"exp": int(time.time()) + 10 * 365 * 86400, "tid": "emulated"})
        values = {
            "AZUREML_ARM_SUBSCRIPTION": emulator.subscription_id,
            "AZUREML_ARM_RESOURCEGROUP": emulator.resource_group,
            "AZUREML_ARM_WORKSPACE_NAME": emulator.workspace_name,
            "AZUREML_ARM_PROJECT_NAME": experiment,
            "AZUREML_EXPERIMENT_ID": experiment_id,
            "AZUREML_WORKSPACE_ID": emulator.workspace_id,
            "AZUREML_RUN_ID": run_id,
            "AZUREML_RUN_TOKEN": token,
            "AZUREML_SERVICE_ENDPOINT": emulator.url,
            "AZUREML_DISCOVERY_SERVICE_ENDPOINT": emulator.discovery_url,
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    yield enter
    from azureml._common.async_utils.daemon import Daemon  # noqa: PLC0415
    from azureml.core.authentication import AzureMLTokenAuthentication  # noqa: PLC0415

    for thread in threading.enumerate():
        owner = getattr(getattr(thread, "function", None), "__self__", None)
        if isinstance(owner, Daemon):
            owner.stop()
    AzureMLTokenAuthentication._daemon = None


# --- local uploads --------------------------------------------------------------------------------


@pytest.fixture
def blob_uploads(emulator: AzureMLEmulator, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Send the SDK's blob uploads to the emulator; return the URLs uploaded to.

    Model files are uploaded to Azure Storage (always https, a separate service), not to the
    Azure ML API: this seam puts the bytes into the emulator instead, so a local registration
    can be checked end to end.
    """
    import requests  # noqa: PLC0415
    from azureml._restclient import artifacts_client  # noqa: PLC0415

    uploaded: list[str] = []

    def upload_blob_from_stream(stream: Any, url: str, **_: Any) -> None:
        assert url.startswith(emulator.url), url
        uploaded.append(url)
        response = requests.put(url, data=stream.read(), timeout=10)
        response.raise_for_status()

    monkeypatch.setattr(artifacts_client, "upload_blob_from_stream", upload_blob_from_stream)
    return uploaded
