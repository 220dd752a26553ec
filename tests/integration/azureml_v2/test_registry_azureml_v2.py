"""An Azure ML registry with the real azure-ai-ml: discovery, its champion, a copy made once.

``MLClient(registry_name=...)`` first asks the registry discovery service (the emulator, through
``REGISTRY_DISCOVERY_ENDPOINT_URL``) where the registry is, then calls its regional endpoint
(``/mferp/managementfrontend/.../registries/<name>/models/...``), every request with a token the
emulator issued. A workspace version is copied in with one ``create_or_update`` whose path is
the workspace version; a lost answer never makes a second copy (registry versions cannot be
re-created).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("azure.ai.ml")
pytest.importorskip("azureml.mlflow")

from aml_promotion import BaselineStrategy
from aml_promotion._domain import tags
from aml_promotion.exceptions import (
    RunNotFoundError,
    SettingsError,
    UsageError,
    VersionNotFoundError,
)
from aml_promotion.ports import CopyRequest, SourceVersion, StageMoves, VersionRef
from integration.azureml_v2.credential import StaticCredential
from integration.azureml_v2.emulator import AzureMLV2Emulator

pytestmark = pytest.mark.azureml_v2

_REGISTRY_PUT = r"/registries/[^/]+/models/[^/]+/versions/\d+$"


def _request(source: SourceVersion, name: str = "churn", **more: Any) -> CopyRequest:
    held = source.version
    key = tags.source_key(source.registry, held.name, held.version)
    record = tags.source_tags(source.registry, held.name, held.version, held.run_id)
    return CopyRequest(
        name=name, source=source, source_key=key, tags={**record, **more.pop("tags", {})}, **more
    )


@pytest.fixture
def registry(emulator: AzureMLV2Emulator, unique: str) -> str:
    """A fresh, empty Azure ML registry."""
    return emulator.add_registry(f"reg-{unique}")


@pytest.fixture
def target(registry: str, credential: StaticCredential, policy: Any) -> Any:
    """The registry's backend, found by name."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    return AzureMLV2Backend.for_registry(registry, credential=credential, retry=policy)


def test_a_registry_is_found_by_name_through_discovery_with_a_token(
    emulator: AzureMLV2Emulator, registry: str, target: Any, unique: str
) -> None:
    """for_registry asks discovery, then reads the registry's own endpoint, each signed in."""
    emulator.add_registry_version(registry, f"m-{unique}", tags={"champion": "true"})
    found = target.registry.find_baseline(f"m-{unique}", BaselineStrategy.parse("latest"))
    assert found is not None
    assert found.version == 1
    assert repr(target) == f"AzureMLV2Backend(registry={registry!r})"
    paths = [r.path for r in emulator.requests if r.path != "/metadata/endpoints"]
    assert paths[0] == f"/registrymanagement/v1.0/registries/{registry}/discovery"
    assert all(p.startswith(emulator.registry_path(registry)) for p in paths[1:]), paths
    assert not emulator.identity.refusals


def test_an_unknown_registry_is_a_registry_error(
    credential: StaticCredential, policy: Any, unique: str
) -> None:
    """A registry that discovery does not know is named in the error."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415
    from aml_promotion.exceptions import RegistryError  # noqa: PLC0415

    with pytest.raises(RegistryError, match=f"nope-{unique}"):
        AzureMLV2Backend.for_registry(f"nope-{unique}", credential=credential, retry=policy)


def test_from_ml_client_takes_a_registry_client(
    registry: str, credential: StaticCredential, policy: Any
) -> None:
    """A registry MLClient is a backend too (it used to be refused)."""
    from azure.ai.ml import MLClient  # noqa: PLC0415

    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    backend = AzureMLV2Backend.from_ml_client(
        MLClient(credential, registry_name=registry), retry=policy
    )
    assert backend.registry_name == registry


def test_a_stage_baseline_in_a_registry_is_picked_here_as_the_sdk_drops_the_filter(
    emulator: AzureMLV2Emulator, registry: str, target: Any, unique: str
) -> None:
    """models.list ignores stage for registries: the adapter keeps the stage's versions only."""
    name = f"m-{unique}"
    emulator.add_registry_version(registry, name, stage="Production")
    emulator.add_registry_version(registry, name, stage="Staging")
    found = target.registry.find_baseline(name, BaselineStrategy.parse("stage:Production"))
    assert found is not None
    assert found.version == 1
    none = target.registry.find_baseline(name, BaselineStrategy.parse("stage:Archived"))
    assert none is None


def test_an_archived_registry_version_is_never_a_baseline(
    emulator: AzureMLV2Emulator, registry: str, target: Any, unique: str
) -> None:
    """The registry lists active versions only: the champion tag on an archived one is ignored."""
    name = f"m-{unique}"
    emulator.add_registry_version(registry, name, tags={"champion": "true"})
    emulator.set_registry_archived(registry, name, 1)
    strategy = BaselineStrategy.parse("tag:champion=true")
    assert target.registry.find_baseline(name, strategy) is None


def test_a_workspace_version_is_copied_with_its_record_in_one_write(
    backend: Any, emulator: AzureMLV2Emulator, registry: str, target: Any, unique: str
) -> None:
    """The copy's path is the workspace version; tags, properties, stage and key in one PUT."""
    name = f"m-{unique}"
    job = emulator.add_job(f"exp-{unique}", metrics={"auc": 0.8}, files=["outputs/model.pkl"])
    emulator.add_model_version(name, job=job, tags={"promotion.metric.auc": "0.8"})
    source = backend.registry.get_version(VersionRef(name=name))
    assert source.version.run_id == job
    uri = f"{emulator.workspace_path_uri}/models/{name}/versions/1"
    assert source.uri == uri
    emulator.clear_requests()
    request = _request(source, tags={"champion": "true"}, properties={"owner": "ml"})
    staged = target.registry.with_stages(StageMoves(on_promote="Production"))
    copy = staged.copy(request)
    assert copy.version == 1
    (held,) = emulator.versions("churn", registry=registry)
    assert held["properties"]["modelUri"] == uri
    assert held["properties"]["stage"] == "Production"
    assert held["properties"]["tags"][tags.SOURCE_KEY] == request.source_key
    assert held["properties"]["tags"][tags.SOURCE_RUN] == job
    assert held["properties"]["tags"]["champion"] == "true"
    assert held["properties"]["properties"][tags.SOURCE_RUN] == job
    assert held["properties"]["properties"]["owner"] == "ml"
    puts = [r for r in emulator.requests if r.method == "PUT" and re.search(_REGISTRY_PUT, r.path)]
    assert len(puts) == 1
    assert target.registry.find_by_source("churn", request.source_key) == copy


@pytest.mark.parametrize("lost", ["503", "drop"])
def test_a_copy_whose_answer_is_lost_is_made_once(  # noqa: PLR0917 - fixtures
    backend: Any,
    emulator: AzureMLV2Emulator,
    registry: str,
    target: Any,
    unique: str,
    lost: str,
) -> None:
    """Committed, its answer lost: the retry finds the copy by its key and sends nothing again."""
    name = f"m-{unique}"
    job = emulator.add_job(f"exp-{unique}", metrics={"auc": 0.8}, files=["outputs/model.pkl"])
    emulator.add_model_version(name, job=job)
    source = backend.registry.get_version(VersionRef(name=name, number=1))
    if lost == "503":
        emulator.commit_then_fail("PUT", _REGISTRY_PUT, status=503)
    else:
        emulator.commit_then_drop("PUT", _REGISTRY_PUT)
    copy = target.registry.copy(_request(source))
    assert copy.version == 1
    assert len(emulator.versions("churn", registry=registry)) == 1


def test_a_copy_that_loses_its_number_to_another_copy_takes_the_next(
    backend: Any, emulator: AzureMLV2Emulator, registry: str, target: Any, unique: str
) -> None:
    """Another client takes the number first (409 there): the copy is retried at the next one."""
    name = f"m-{unique}"
    job = emulator.add_job(f"exp-{unique}", files=["outputs/model.pkl"])
    emulator.add_model_version(name, job=job)
    source = backend.registry.get_version(VersionRef(name=name, number=1))
    emulator.race_next_registration(f"{registry}/churn", job)
    copy = target.registry.copy(_request(source))
    assert copy.version == 2
    held = emulator.versions("churn", registry=registry)
    assert [v["properties"]["modelUri"] for v in held][1] == source.uri


def test_a_copy_from_a_version_that_does_not_exist_is_refused(
    emulator: AzureMLV2Emulator, registry: str, target: Any, unique: str
) -> None:
    """The registry refuses a path to no workspace version; nothing is registered."""
    from aml_promotion.exceptions import RegistryError  # noqa: PLC0415
    from aml_promotion.ports import ModelVersion  # noqa: PLC0415

    where = emulator.workspace_path_uri
    gone = ModelVersion(name=f"none-{unique}", version=1, id=f"none-{unique}:1")
    source = SourceVersion(
        version=gone, registry=where, uri=f"{where}/models/none-{unique}/versions/1"
    )
    with pytest.raises(RegistryError):
        target.registry.copy(_request(source))
    assert emulator.versions("churn", registry=registry) == []


def test_a_registry_registers_no_job_and_reads_no_run(target: Any) -> None:
    """A registry holds no jobs: registering a job's output or reading a run says so."""
    from aml_promotion.ports import RegistrationRequest, RunRecord  # noqa: PLC0415

    run = RunRecord(run_id="job-1")
    with pytest.raises(UsageError, match="candidate_version"):
        target.registry.register(RegistrationRequest(name="m", model_path="model.pkl", run=run))
    with pytest.raises(RunNotFoundError, match="has no jobs"):
        target.runs.get_run(experiment_name=None, run_id="job-1")


def test_a_source_version_is_named_by_number_or_latest_and_never_archived(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """get_version: a number, 'latest'; an alias is a settings error; a missing one is named."""
    name = f"m-{unique}"
    job = emulator.add_job(f"exp-{unique}", files=["outputs/model.pkl"])
    emulator.add_model_version(name, job=job)
    emulator.add_model_version(name, job=job)
    assert backend.registry.get_version(VersionRef.parse(f"{name}:1")).version.version == 1
    assert backend.registry.get_version(VersionRef.parse(f"{name}:latest")).version.version == 2
    with pytest.raises(SettingsError, match="no model aliases"):
        backend.registry.get_version(VersionRef.parse(f"{name}@champion"))
    with pytest.raises(VersionNotFoundError, match=f"no version {name}:7"):
        backend.registry.get_version(VersionRef.parse(f"{name}:7"))
    emulator.set_archived(name, 1)
    with pytest.raises(VersionNotFoundError, match="archived"):
        backend.registry.get_version(VersionRef.parse(f"{name}:1"))


def test_a_version_takes_the_promoted_stage_only_when_its_champion_tag_is_live(
    backend: Any, emulator: AzureMLV2Emulator, registry: str, target: Any, unique: str
) -> None:
    """Registered pending: its default stage; the write that makes the tag live stages it."""
    name = f"m-{unique}"
    job = emulator.add_job(f"exp-{unique}", files=["outputs/model.pkl"])
    emulator.add_model_version(name, job=job)
    source = backend.registry.get_version(VersionRef(name=name, number=1))
    staged = target.registry.with_stages(
        StageMoves(on_promote="Production"), champion=("champion", "true")
    )
    pending = staged.copy(_request(source, tags={"champion": "pending"}))
    (held,) = emulator.versions("churn", registry=registry)
    assert held["properties"]["stage"] == "Development"
    staged.set_tags(pending, {"champion": "true"})
    (held,) = emulator.versions("churn", registry=registry)
    assert held["properties"]["stage"] == "Production"
    assert held["properties"]["tags"]["champion"] == "true"
