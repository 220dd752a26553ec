"""From a dev workspace into an Azure ML registry, with the real azure-ai-ml: gated, recorded, once.

A version a promotion registered in the workspace (its job's metrics readable there, and its
``promotion.metric.*`` tags) is the candidate; the registry's champion (``tag:champion=true``)
is compared by its ``promotion.metric.*`` tags alone. Only a better candidate is copied in, with
the decision, where it came from (``promotion.source.*``) and the champion tag; a re-run copies
nothing; a worse one leaves the registry untouched. Stages move in the same writes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.ai.ml")
pytest.importorskip("azureml.mlflow")

from aml_promotion import RetryPolicy, promote
from aml_promotion._domain import tags
from integration.azureml_v2.credential import StaticCredential
from integration.azureml_v2.emulator import AzureMLV2Emulator

pytestmark = pytest.mark.azureml_v2

_TO_REGISTRY = r"/registries/[^/]+/(models|tempdatarefs)/"


def _settings(**more: Any) -> dict[str, Any]:
    return {
        "model_name": "churn",
        "metrics_max": ["auc"],
        "baseline": "tag:champion=true",
        **more,
    }


@pytest.fixture
def registry(emulator: AzureMLV2Emulator, unique: str) -> str:
    """A registry whose champion (version 1) recorded auc 0.80 in its tags."""
    name = emulator.add_registry(f"prod-{unique}")
    emulator.add_registry_version(
        name,
        "churn",
        tags={"champion": "true", tags.metric_tag("auc"): "0.8", tags.VERDICT: "promote"},
        stage="Production",
    )
    return name


@pytest.fixture
def target(registry: str, credential: StaticCredential, policy: RetryPolicy) -> Any:
    """The registry's backend."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    return AzureMLV2Backend.for_registry(registry, credential=credential, retry=policy)


def _dev_version(backend: Any, emulator: AzureMLV2Emulator, unique: str, auc: float) -> str:
    """Promote a job into the dev workspace; return the candidate (``name:version``)."""
    exp, name = f"exp-{unique}", f"churn-dev-{unique}"
    job = emulator.add_job(exp, metrics={"auc": auc}, files=["outputs/model.pkl"])
    settings = {"model_name": name, "metrics_max": ["auc"], "force_registration": True}
    result = promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    assert result.model is not None
    return f"{name}:{result.model.version}"


def test_a_better_dev_version_lands_in_the_registry_once_with_its_record(
    backend: Any, target: Any, emulator: AzureMLV2Emulator, registry: str, unique: str
) -> None:
    """Beats the champion by tags: copied with decision, source and champion tag; stages move."""
    candidate = _dev_version(backend, emulator, unique, auc=0.85)
    settings = _settings(on_promote={"stage": "Production"}, on_supersede={"stage": "Archived"})
    result = promote(candidate_version=candidate, backend=backend, target=target, settings=settings)
    assert result.decision.promote
    assert result.model is not None
    assert result.model.version == 2
    old, new = emulator.versions("churn", registry=registry)
    name, version = candidate.split(":")
    assert new["properties"]["modelUri"] == (
        f"{emulator.workspace_path_uri}/models/{name}/versions/{version}"
    )
    held = new["properties"]["tags"]
    assert held["champion"] == "true"
    assert held[tags.metric_tag("auc")] == "0.85"
    assert held[tags.SOURCE_NAME] == name
    assert held[tags.SOURCE_VERSION] == version
    assert held[tags.SOURCE_REGISTRY] == emulator.workspace_path_uri
    assert held[tags.SOURCE_RUN]
    assert new["properties"]["stage"] == "Production"
    # Retired by overwriting its tag (no delete), so it is no holder of champion=true.
    assert old["properties"]["tags"]["champion"] == tags.state_value(tags.SUPERSEDED, "true")
    assert old["properties"]["tags"][tags.SUPERSEDED_BY] == "2"
    assert old["properties"]["stage"] == "Archived"

    emulator.clear_requests()
    again = promote(candidate_version=candidate, backend=backend, target=target, settings=settings)
    assert again.model is not None
    assert again.model.version == 2
    assert len(emulator.versions("churn", registry=registry)) == 2
    assert not [r for r in emulator.requests if r.method == "PUT"]


def test_a_worse_dev_version_leaves_the_registry_untouched(
    backend: Any, target: Any, emulator: AzureMLV2Emulator, registry: str, unique: str
) -> None:
    """Worse than the champion's recorded auc: rejected, nothing written to the registry."""
    candidate = _dev_version(backend, emulator, unique, auc=0.7)
    before = emulator.versions("churn", registry=registry)
    emulator.clear_requests()
    result = promote(
        candidate_version=candidate, backend=backend, target=target, settings=_settings()
    )
    assert not result.decision.promote
    assert result.model is None
    assert emulator.versions("churn", registry=registry) == before
    writes = [r for r in emulator.requests if r.method != "GET"]
    assert not writes, writes


def test_an_archived_champion_is_never_moved_or_restored(
    backend: Any, target: Any, emulator: AzureMLV2Emulator, registry: str, unique: str
) -> None:
    """Archived between the listing and its supersede write: it is left as it is."""
    candidate = _dev_version(backend, emulator, unique, auc=0.85)
    settings = _settings(on_supersede={"stage": "Archived"})
    # The champion is read once, to retire it (tag it superseded and move its stage) in one
    # read-modify-write. A person archives it between that read and its write.
    emulator.archive_at_get("churn", 1, nth=1, registry=registry)
    result = promote(candidate_version=candidate, backend=backend, target=target, settings=settings)
    assert result.model is not None
    old = emulator.versions("churn", registry=registry)[0]
    assert old["properties"]["isArchived"] is True
    assert old["properties"]["stage"] == "Production"


def test_a_champion_archived_before_its_tag_write_is_never_restored(
    backend: Any, target: Any, emulator: AzureMLV2Emulator, registry: str, unique: str
) -> None:
    """No stage moves: the supersede write changes tags only, and still never un-archives.

    azure-ai-ml's ``models.create_or_update`` sends ``is_archived: false`` with every version
    it writes (its ``restore`` is that same PUT), so a tag write is a restore.
    """
    candidate = _dev_version(backend, emulator, unique, auc=0.85)
    emulator.archive_at_get("churn", 1, nth=1, registry=registry)
    result = promote(
        candidate_version=candidate, backend=backend, target=target, settings=_settings()
    )
    assert result.model is not None
    old = emulator.versions("churn", registry=registry)[0]
    assert old["properties"]["isArchived"] is True
    assert old["properties"]["tags"]["champion"] == "true"  # left as it was: archived


def test_every_request_into_the_registry_was_signed_in(
    backend: Any, target: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """Discovery and the registry's endpoint took only tokens the emulator issued."""
    candidate = _dev_version(backend, emulator, unique, auc=0.9)
    promote(candidate_version=candidate, backend=backend, target=target, settings=_settings())
    assert not emulator.identity.refusals
    assert any(re.search(_TO_REGISTRY, path) for _, path, _ in emulator.identity.used)


_REG = r"/registries/[^/]+"
NEW_STEPS = {
    "discover the registry": ("GET", r"/registrymanagement/v1\.0/registries/[^/]+/discovery$"),
    "read the source version": ("GET", r"/workspaces/[^/]+/models/[^/]+/versions/\d+$"),
    "list the registry's versions": ("GET", _REG + r"/models/[^/]+/versions$"),
    "read the registry's model": ("GET", _REG + r"/models/[^/]+$"),
    "ask where to upload": ("PUT", _REG + r"/tempdatarefs/[^/]+/versions/\d+$"),
    "write the copy": ("PUT", _REG + r"/models/[^/]+/versions/\d+$"),
    "read a registry version": ("GET", _REG + r"/models/[^/]+/versions/\d+$"),
}
RETRY_AFTER = 3.0  # above the first backoff of the `policy` fixture (0.5 s)


@pytest.mark.parametrize("kind", ["503", "429", "drop"])
@pytest.mark.parametrize("step", list(NEW_STEPS))
def test_a_fault_at_any_new_step_is_retried_and_the_copy_lands_once(  # noqa: PLR0917 - fixtures
    backend: Any,
    emulator: AzureMLV2Emulator,
    registry: str,
    credential: StaticCredential,
    policy: RetryPolicy,
    retry_waits: list[float],
    unique: str,
    step: str,
    kind: str,
) -> None:
    """One fault at a new step: retried once (Retry-After kept), one copy, the champion moved."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    candidate = _dev_version(backend, emulator, unique, auc=0.85)
    method, pattern = NEW_STEPS[step]
    if kind == "503":
        fault = emulator.fail_next(method, pattern, status=503)
    elif kind == "429":
        fault = emulator.fail_next(method, pattern, status=429, retry_after=RETRY_AFTER)
    else:
        fault = emulator.drop_next(method, pattern)
    retry_waits.clear()
    target = AzureMLV2Backend.for_registry(registry, credential=credential, retry=policy)
    result = promote(
        candidate_version=candidate, backend=backend, target=target, settings=_settings()
    )
    assert fault.hits == 1, f"the promotion never reached the step {step!r}"
    assert result.model is not None
    assert result.model.version == 2
    versions = emulator.versions("churn", registry=registry)
    assert len(versions) == 2
    holders = [v for v in versions if v["properties"]["tags"].get("champion") == "true"]
    assert len(holders) == 1
    assert holders[0]["properties"]["tags"][tags.SOURCE_NAME] == candidate.split(":")[0]
    assert len(retry_waits) == 1, retry_waits
    if kind == "429":
        assert retry_waits[0] >= RETRY_AFTER


@pytest.mark.parametrize("lost", ["503", "drop"])
def test_a_copy_whose_answer_is_lost_is_one_version_and_a_rerun_adds_none(  # noqa: PLR0917 - fixtures
    backend: Any,
    target: Any,
    emulator: AzureMLV2Emulator,
    registry: str,
    unique: str,
    lost: str,
) -> None:
    """The copy's PUT is committed, its answer lost: one copy, found by its source key."""
    candidate = _dev_version(backend, emulator, unique, auc=0.85)
    put = _REG + r"/models/[^/]+/versions/\d+$"
    if lost == "503":
        emulator.commit_then_fail("PUT", put, status=503)
    else:
        emulator.commit_then_drop("PUT", put)
    result = promote(
        candidate_version=candidate, backend=backend, target=target, settings=_settings()
    )
    assert result.model is not None
    assert result.model.version == 2
    again = promote(
        candidate_version=candidate, backend=backend, target=target, settings=_settings()
    )
    assert again.model is not None
    assert again.model.version == 2
    assert len(emulator.versions("churn", registry=registry)) == 2


# --- the command line, as a GitHub Actions step signed in with OIDC ------------------------------

_LAUNCHER = Path(__file__).with_name("guarded_cli.py")
_ROOT = Path(__file__).resolve().parents[3]
_CLIENT_ID = "11111111-2222-3333-4444-555555555555"
_TENANT_ID = "99999999-8888-7777-6666-555555555555"
_SESSION = (
    "HOME",
    "AZURE_CONFIG_DIR",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "ARM_CLOUD_METADATA_URL",
    "AZUREML_CURRENT_CLOUD",
    "REGISTRY_DISCOVERY_ENDPOINT_URL",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "LANG",
    "TMPDIR",
)


def _cli(
    emulator: AzureMLV2Emulator, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``aml-promote`` in a process of its own, as a GitHub Actions step with OIDC."""
    workdir = tmp_path / "checkout"
    workdir.mkdir(exist_ok=True)
    (workdir / "registermodel.json").write_text(json.dumps(_settings()), encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    refused = tmp_path / "refused.txt"
    env = {
        **{name: os.environ[name] for name in _SESSION if name in os.environ},
        "PATH": str(bin_dir),
        "PYTHONPATH": os.pathsep.join([str(_ROOT / "src"), str(_ROOT / "tests")]),
        "AML_PROMOTION_REFUSED": str(refused),
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary"),
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{emulator.url}/github/idtoken?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": emulator.identity.github_request_token,
        "AZURE_AUTHORITY_HOST": emulator.url,
    }
    done = subprocess.run(
        [
            sys.executable,
            str(_LAUNCHER),
            f"--subscription-id={emulator.subscription_id}",
            f"--resource-group={emulator.resource_group}",
            f"--workspace-name={emulator.workspace_name}",
            f"--client-id={_CLIENT_ID}",
            f"--tenant-id={_TENANT_ID}",
            "--json",
            *args,
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        check=False,
    )
    assert refused.read_text(encoding="utf-8") == "", done.stderr
    return done


def test_the_cli_promotes_a_better_dev_version_into_the_registry_and_not_a_worse_one(
    backend: Any, emulator: AzureMLV2Emulator, registry: str, unique: str, tmp_path: Path
) -> None:
    """--candidate-version --target-registry with OIDC: exit 0 and the copy; worse: exit 1, none."""
    emulator.identity.add_app(_CLIENT_ID, _TENANT_ID, federated=True)
    better = _dev_version(backend, emulator, f"{unique}b", auc=0.85)
    worse = _dev_version(backend, emulator, f"{unique}w", auc=0.7)
    emulator.clear_requests()
    before = len(emulator.identity.used)
    done = _cli(
        emulator, tmp_path, f"--candidate-version={better}", f"--target-registry={registry}"
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["promoted"] is True
    assert document["model"]["version"] == 2
    assert not emulator.identity.refusals
    assert {flow for _, _, flow in emulator.identity.used[before:]} == {"github-oidc"}
    assert any("/registries/" in path for _, path, _ in emulator.identity.used[before:])
    held = emulator.versions("churn", registry=registry)
    assert held[1]["properties"]["tags"][tags.SOURCE_NAME] == better.split(":")[0]

    emulator.clear_requests()
    done = _cli(emulator, tmp_path, f"--candidate-version={worse}", f"--target-registry={registry}")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["promoted"] is False
    assert emulator.versions("churn", registry=registry) == held
    assert not [r for r in emulator.requests if r.method == "PUT"]
