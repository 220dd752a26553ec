"""The real azure-ai-ml and azureml-mlflow SDKs against a local HTTPS emulator, and nothing else.

When the SDKs are installed (the ``azureml-v2`` extra; `scripts/test.sh` runs these tests in a
venv of their own), this file, before either SDK is imported:

- makes a self-signed certificate for 127.0.0.1 (and the emulated blob host) and trusts it
  through ``SSL_CERT_FILE`` and ``REQUESTS_CA_BUNDLE`` (azure-core's bearer-token policy refuses
  plain http);
- starts the emulator and names it as the cloud: ``ARM_CLOUD_METADATA_URL`` points at its
  metadata document and ``AZUREML_CURRENT_CLOUD`` at the cloud that document describes, so both
  SDKs take it for Azure Resource Manager (azureml-mlflow reads the cloud list at import), and
  ``REGISTRY_DISCOVERY_ENDPOINT_URL`` at it too, so registries are discovered there;
- starts a forward proxy (``proxy.py``) and sets ``HTTPS_PROXY`` to it, with ``NO_PROXY`` keeping
  every call to 127.0.0.1 direct: the upload of a local model goes to the default datastore's
  ``https://<account>.blob.<suffix>``, which the SDK then reaches through a ``CONNECT`` tunnel to
  the emulator without ever resolving that name (the suffix is under ``.invalid``);
- points ``HOME`` at a temporary folder and removes the other ``AZUREML_*`` variables.

Each test runs behind a socket guard that refuses any connection or name lookup other than
loopback, and fails if the proxy was asked for any host but the emulated blob host. Without the
SDKs, every test module here skips itself (``pytest.importorskip``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aml_promotion import RetryPolicy
from aml_promotion._retry import testing_mode
from integration.azureml_v2.certificate import self_signed_certificate
from integration.azureml_v2.credential import StaticCredential
from integration.azureml_v2.emulator import AzureMLV2Emulator
from integration.azureml_v2.proxy import ConnectProxy
from socket_guard import SocketGuard, loopback_only

_SAVED: dict[str, str | None] = {}
_STATE: dict[str, Any] = {}


def _available() -> bool:
    """Whether the v2 SDKs are installed (found without importing them)."""
    try:
        return all(
            importlib.util.find_spec(name) is not None
            for name in ("azure.ai.ml", "azure.identity", "mlflow", "azureml")
        )
    except ModuleNotFoundError:  # a parent package (azure.ai) is missing
        return False


def pytest_configure(config: pytest.Config) -> None:  # noqa: ARG001 - the hook's signature
    """Start the emulator and point the SDKs at it before anything imports them."""
    if not _available():
        return
    home = Path(tempfile.mkdtemp(prefix="aml-promotion-azureml-v2-"))
    cert, key = self_signed_certificate(home, dns_names=("localhost", AzureMLV2Emulator.blob_host))
    emulator = AzureMLV2Emulator(certfile=cert, keyfile=key).start()
    port = int(emulator.host.rsplit(":", 1)[1])
    proxy = ConnectProxy({f"{emulator.blob_host}:443": ("127.0.0.1", port)}).start()
    _STATE.update(home=home, emulator=emulator, proxy=proxy)
    proxy_names = ("HTTP_PROXY", "ALL_PROXY", "HTTPS_PROXY", "NO_PROXY")
    names = [
        *(name for name in os.environ if name.startswith(("AZUREML_", "MLFLOW_"))),
        # requests reads either case, the lower one first: none of the caller's may stay.
        *(name for name in os.environ if name.upper() in proxy_names),
    ]
    values = {
        "HTTPS_PROXY": proxy.url,
        "https_proxy": proxy.url,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "HOME": str(home),
        "AZURE_CONFIG_DIR": str(home / ".azure"),
        "SSL_CERT_FILE": cert,
        "REQUESTS_CA_BUNDLE": cert,
        "ARM_CLOUD_METADATA_URL": emulator.metadata_url,
        "AZUREML_CURRENT_CLOUD": emulator.cloud_name,
        # Where MLClient(registry_name=...) asks which region and subscription a registry is in
        # (azure-ai-ml reads it for a cloud it does not know: `_get_registry_discovery_url`).
        "REGISTRY_DISCOVERY_ENDPOINT_URL": emulator.url + "/",
        # MLflow's client reports usage to its own host: never from the tests (the proxy
        # refuses it, and the test that used MlflowClient fails on it).
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    for name in [*names, *values]:
        _SAVED.setdefault(name, os.environ.pop(name, None))
    os.environ.update(values)


def pytest_unconfigure(config: pytest.Config) -> None:  # noqa: ARG001 - the hook's signature
    """Stop the emulator and give the environment back."""
    emulator = _STATE.pop("emulator", None)
    if emulator is not None:
        emulator.stop()
    proxy = _STATE.pop("proxy", None)
    if proxy is not None:
        proxy.stop()
    for name, value in _SAVED.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    home = _STATE.pop("home", None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


# --- no network but loopback --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def socket_guard() -> Iterator[SocketGuard]:
    """Every test: nothing but loopback, and a failure if anything else was even tried."""
    with loopback_only() as guard:
        yield guard


# --- the emulator, a client and the backend -------------------------------------------------------


@pytest.fixture(scope="session")
def emulator() -> AzureMLV2Emulator:
    """The session's emulator (started in pytest_configure)."""
    if "emulator" not in _STATE:
        pytest.skip("the azureml-v2 extra is not installed")
    running: AzureMLV2Emulator = _STATE["emulator"]
    return running


@pytest.fixture(scope="session")
def proxy() -> ConnectProxy:
    """The session's forward proxy (``HTTPS_PROXY``), which tunnels to the blob host only."""
    if "proxy" not in _STATE:
        pytest.skip("the azureml-v2 extra is not installed")
    running: ConnectProxy = _STATE["proxy"]
    return running


@pytest.fixture(autouse=True)
def proxied_to_the_emulator_only(proxy: ConnectProxy) -> Iterator[ConnectProxy]:
    """Every test: a failure if the proxy was asked for any host but the emulated blob host."""
    before = len(proxy.refused)
    yield proxy
    refused = proxy.refused[before:]
    assert not refused, f"the proxy was asked for other hosts: {refused}"


@pytest.fixture(autouse=True)
def fresh_emulator(emulator: AzureMLV2Emulator) -> Iterator[AzureMLV2Emulator]:
    """Each test starts with no faults, requests or apps recorded, and ends with no unknown ones."""
    emulator.identity.reset()
    with emulator.checked():
        yield emulator


@pytest.fixture(autouse=True)
def retry_waits() -> Iterator[list[float]]:
    """Retries never sleep in tests; the waits they would have slept are recorded."""
    with testing_mode() as waits:
        yield waits


@pytest.fixture(scope="session")
def credential() -> StaticCredential:
    """A credential that never calls Entra ID."""
    return StaticCredential()


@pytest.fixture(scope="session")
def ml_client(emulator: AzureMLV2Emulator, credential: StaticCredential) -> Any:
    """A real ``MLClient`` on the emulated workspace."""
    from azure.ai.ml import MLClient  # noqa: PLC0415

    return MLClient(
        credential,
        subscription_id=emulator.subscription_id,
        resource_group_name=emulator.resource_group,
        workspace_name=emulator.workspace_name,
    )


@pytest.fixture
def policy() -> RetryPolicy:
    """A retry policy for tests: a few attempts, no jitter (waits are not slept anyway)."""
    return RetryPolicy(attempts=4, timeout=60, wait_initial=0.5, jitter=0)


@pytest.fixture
def backend(ml_client: Any, policy: RetryPolicy) -> Any:
    """The backend under test, on the emulated workspace."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    return AzureMLV2Backend.from_ml_client(ml_client, retry=policy)


@pytest.fixture
def unique() -> str:
    """A fresh suffix for experiment, job and model names."""
    return uuid.uuid4().hex[:8]
