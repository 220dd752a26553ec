"""Faults at every step of a v2 promotion: 503, 429 with Retry-After, a dropped connection.

The emulator injects the fault on the first request of one route during a promotion that has a
champion to beat (``tag:champion=true``). The promotion must still complete with exactly one
version for the job and the champion tag moved to it; the recorded retry waits show that the
adapter saw the failure and retried it once (azure-core's and MLflow's own retries are off, so
they neither hide the fault nor compound with ours) and that Retry-After was honoured. A
registration committed before its answer is lost leaves exactly one version: the adapter looks
the version up by job (in local mode: by the content digest) before any retry.

Local mode uploads the model to the default datastore with azure-storage-blob first, whose own
retries (15 s and more between attempts) are off as azure-core's are: a fault on that upload is
seen and retried once by the adapter, at no wait but the policy's (not slept in tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.ai.ml")
pytest.importorskip("azureml.mlflow")

from aml_promotion import RetryPolicy, promote
from aml_promotion.exceptions import TransientRegistryError
from aml_promotion.ports import RegistrationRequest
from integration.azureml_v2.emulator import AzureMLV2Emulator

pytestmark = pytest.mark.azureml_v2

RETRY_AFTER = 3.0  # above the first backoff of the `policy` fixture (0.5 s)
_VERSIONS = r"/models/[^/]+/versions$"

STEPS = {
    "read the job": ("GET", r"/jobs/[^/]+$"),
    "read the workspace": ("GET", r"/workspaces/[^/]+$"),
    "read the MLflow run": ("GET", r"/api/2\.0/mlflow/runs/get$"),
    "list the job's files": ("GET", r"/artifacts$"),
    "list the versions": ("GET", _VERSIONS),
    "write the version": ("PUT", r"/models/[^/]+/versions/\d+$"),
    "read one version": ("GET", r"/models/[^/]+/versions/\d+$"),
}
KINDS = ["503", "429", "drop"]


def _settings(name: str) -> dict[str, Any]:
    return {
        "model_name": name,
        "model_file_name": "model.pkl",
        "metrics_max": ["auc"],
        "baseline": "tag:champion=true",
    }


@pytest.fixture
def champion(backend: Any, emulator: AzureMLV2Emulator, unique: str) -> tuple[str, str]:
    """A model whose version 1 holds the champion tag; return (experiment, model name)."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    first = emulator.add_job(exp, metrics={"auc": 0.7}, files=["outputs/model.pkl"])
    promote(experiment_name=exp, run_id=first, settings=_settings(name), backend=backend)
    emulator.clear_requests()
    return exp, name


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("step", list(STEPS))
def test_a_fault_at_any_step_is_retried_once_and_the_champion_moves(  # noqa: PLR0917 - parametrized
    ml_client: Any,
    policy: RetryPolicy,
    emulator: AzureMLV2Emulator,
    champion: tuple[str, str],
    retry_waits: list[float],
    step: str,
    kind: str,
) -> None:
    """One fault anywhere: the promotion completes, one version, one retry, Retry-After kept."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    exp, name = champion
    backend = AzureMLV2Backend.from_ml_client(ml_client, retry=policy)  # reads the workspace
    job = emulator.add_job(exp, metrics={"auc": 0.8}, files=["outputs/model.pkl"])
    method, pattern = STEPS[step]
    if kind == "503":
        fault = emulator.fail_next(method, pattern, status=503)
    elif kind == "429":
        fault = emulator.fail_next(method, pattern, status=429, retry_after=RETRY_AFTER)
    else:
        fault = emulator.drop_next(method, pattern)
    retry_waits.clear()
    result = promote(experiment_name=exp, run_id=job, settings=_settings(name), backend=backend)
    assert fault.hits == 1, f"the promotion never reached the step {step!r}"
    assert result.model is not None
    assert result.model.version == 2
    versions = emulator.versions(name)
    assert [v["properties"]["jobName"] for v in versions].count(job) == 1
    holders = [v for v in versions if v["properties"]["tags"].get("champion") == "true"]
    assert [h["properties"]["jobName"] for h in holders] == [job]
    assert len(retry_waits) == 1, retry_waits
    if kind == "429" and "MLflow" not in step:
        assert retry_waits[0] >= RETRY_AFTER
    # MLflow's client turns a 429 into an error without its Retry-After header (urllib3 drops
    # the response once retries are off), so there the wait follows our backoff.


@pytest.mark.parametrize("lost", ["503", "drop"])
def test_a_registration_committed_before_its_answer_is_lost_is_one_version(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, lost: str
) -> None:
    """The PUT is committed, its answer lost: one version, found by job, never re-sent."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    job = emulator.add_job(exp, metrics={"auc": 0.8}, files=["outputs/model.pkl"])
    put = r"/models/[^/]+/versions/\d+$"
    if lost == "503":
        emulator.commit_then_fail("PUT", put, status=503)
    else:
        emulator.commit_then_drop("PUT", put)
    settings = {"model_name": name, "model_file_name": "model.pkl", "metrics_max": ["auc"]}
    result = promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    assert result.model is not None
    assert result.model.version == 1
    assert len(emulator.versions(name)) == 1
    assert emulator.count("PUT", put) == 1


def test_a_version_number_taken_by_a_concurrent_registration_is_asked_again(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """Another client wins the version number: ours becomes the next one, theirs stays."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    job = emulator.add_job(exp, metrics={"auc": 0.8}, files=["outputs/model.pkl"])
    other = emulator.add_job(exp)
    emulator.race_next_registration(name, other)
    settings = {"model_name": name, "model_file_name": "model.pkl", "metrics_max": ["auc"]}
    result = promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    assert result.model is not None
    assert result.model.version == 2
    assert [v["properties"]["jobName"] for v in emulator.versions(name)] == [other, job]


@pytest.mark.parametrize("kind", KINDS)
def test_a_fault_on_the_baselines_mlflow_read_is_retried_once(
    champion: tuple[str, str],
    emulator: AzureMLV2Emulator,
    retry_waits: list[float],
    kind: str,
    backend: Any,
) -> None:
    """The baseline's job is read by the MLflow backend's own loop: one retry there too."""
    exp, name = champion
    candidate = emulator.add_job(exp, metrics={"auc": 0.9}, files=["outputs/model.pkl"])
    runs_get = r"/api/2\.0/mlflow/runs/get$"
    # The candidate's runs/get comes first; the baseline's is the second.
    if kind == "drop":
        fault = emulator.drop_next("GET", runs_get, after=1)
    else:
        status = 503 if kind == "503" else 429
        fault = emulator.fail_next("GET", runs_get, status=status, retry_after=RETRY_AFTER, after=1)
    retry_waits.clear()
    result = promote(
        experiment_name=exp, run_id=candidate, settings=_settings(name), backend=backend
    )
    assert fault.hits == 1
    failed = [r for r in emulator.matching("GET", runs_get) if r.status != 200]
    assert failed[0].query["run_id"] != candidate, "the fault must hit the baseline's read"
    assert result.model is not None
    assert result.model.version == 2
    assert len(retry_waits) == 1, retry_waits


@pytest.mark.parametrize("kind", KINDS)
def test_a_fault_on_the_container_read_after_a_lost_version_number_is_retried(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, kind: str
) -> None:
    """The number was taken, then reading nextVersion fails once: still one version of ours."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    job = emulator.add_job(exp, metrics={"auc": 0.8}, files=["outputs/model.pkl"])
    emulator.race_next_registration(name, emulator.add_job(exp))
    container = r"/models/[^/]+$"
    if kind == "drop":
        fault = emulator.drop_next("GET", container)
    else:
        status = 503 if kind == "503" else 429
        fault = emulator.fail_next("GET", container, status=status, retry_after=RETRY_AFTER)
    settings = {"model_name": name, "model_file_name": "model.pkl", "metrics_max": ["auc"]}
    result = promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    assert fault.hits == 1
    assert result.model is not None
    assert result.model.version == 2
    assert [v["properties"]["jobName"] for v in emulator.versions(name)][1] == job


def test_a_service_that_stays_down_fails_within_the_policy(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, policy: RetryPolicy
) -> None:
    """A 503 that never ends: a TransientRegistryError after the policy's attempts, no more."""
    job = emulator.add_job(f"exp-{unique}")
    emulator.fail_next("GET", r"/jobs/", status=503, times=100)
    with pytest.raises(TransientRegistryError, match="HTTP 503"):
        backend.runs.get_run(experiment_name=None, run_id=job)
    assert emulator.count("GET", r"/jobs/") == policy.attempts


# --- local mode: the upload to the default datastore ---------------------------------------------

_BLOB = r"^/azureml-blobstore-emulated/LocalUpload/"
UPLOAD_FAULTS = ["503", "drop", "committed, then dropped"]


def _local_model(tmp_path: Path, shape: str, unique: str) -> tuple[Path, dict[str, bytes]]:
    """Write a model file, or a folder of three files; return its path and its files."""
    if shape == "file":
        path = tmp_path / "model.pkl"
        path.write_bytes(b"model " + unique.encode())
        return path, {"model.pkl": path.read_bytes()}
    files = {"MLmodel": b"flavors: {}\n", "model.pkl": unique.encode(), "data/w.bin": b"\x00\x01"}
    for relative, content in files.items():
        (tmp_path / "model" / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "model" / relative).write_bytes(content)
    return tmp_path / "model", files


def _content_uploads(emulator: AzureMLV2Emulator) -> list[str]:
    """The blob PUTs that sent a file's content (not its metadata), in order."""
    return [r.path for r in emulator.matching("PUT", _BLOB) if "comp" not in r.query]


@pytest.mark.parametrize("kind", UPLOAD_FAULTS)
@pytest.mark.parametrize("shape", ["file", "folder"])
def test_a_fault_on_the_blob_upload_is_retried_once_and_registers_one_version(  # noqa: PLR0917
    backend: Any,
    emulator: AzureMLV2Emulator,
    retry_waits: list[float],
    tmp_path: Path,
    unique: str,
    shape: str,
    kind: str,
) -> None:
    """A 503 or a dropped connection on the upload of model.pkl: one retry, one version.

    The storage SDK's own retries are off (they would sleep 15 s first): the adapter sees the
    fault and makes the whole registration again, which uploads everything once more (an
    unconfirmed upload is overwritten) and registers the version on the intact bytes.
    """
    path, files = _local_model(tmp_path, shape, unique)
    target = _BLOB + r".*/model\.pkl$"
    if kind == "503":
        fault = emulator.fail_next("PUT", target, status=503)
    elif kind == "drop":
        fault = emulator.drop_next("PUT", target)
    else:
        fault = emulator.commit_then_drop("PUT", target)
    name = f"m-{unique}"
    settings = {"model_name": name, "metrics_max": ["auc"]}
    result = promote(settings=settings, backend=backend, model_path=path, metrics={"auc": 0.8})
    assert fault.hits == 1
    assert result.model is not None
    assert result.model.version == 1
    (held,) = emulator.versions(name)
    assert emulator.uploaded(held["properties"]["modelUri"]) == files
    assert len(retry_waits) == 1, retry_waits
    assert len(_content_uploads(emulator)) == 2 * len(files)


def test_a_folder_whose_first_file_failed_to_upload_is_registered_on_the_third_attempt(
    *,
    backend: Any,
    emulator: AzureMLV2Emulator,
    retry_waits: list[float],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    unique: str,
) -> None:
    """The confirming first file failed, the others made it: 409 on them, then overwritten.

    azure-ai-ml overwrites an unconfirmed folder only when its first file is there, so the
    second attempt meets the others (409 BlobAlreadyExists) while it uploads the first; the
    adapter takes that 409 as transient, and the third attempt overwrites them: one version.
    """
    path, files = _local_model(tmp_path, "folder", unique)
    emulator.fail_next("PUT", _BLOB + r".*/MLmodel$", status=503)
    name = f"m-{unique}"
    settings = {"model_name": name, "metrics_max": ["auc"]}
    result = promote(settings=settings, backend=backend, model_path=path, metrics={"auc": 0.8})
    assert result.model is not None
    assert result.model.version == 1
    (held,) = emulator.versions(name)
    assert emulator.uploaded(held["properties"]["modelUri"]) == files
    assert len(retry_waits) == 2, retry_waits
    refused = [r for r in emulator.matching("PUT", _BLOB) if r.status == 409]
    assert refused, "the second attempt met no file of the first"
    assert "files of an earlier, failed upload are in the way" in caplog.text


@pytest.mark.parametrize("lost", ["503", "drop"])
def test_a_local_registration_committed_before_its_answer_is_lost_is_one_version(
    backend: Any,
    emulator: AzureMLV2Emulator,
    tmp_path: Path,
    unique: str,
    lost: str,
) -> None:
    """Local mode, the version's PUT committed and its answer lost: found by digest, not re-sent."""
    path = tmp_path / "model.pkl"
    path.write_bytes(b"model " + unique.encode())
    put = r"/models/[^/]+/versions/\d+$"
    if lost == "503":
        emulator.commit_then_fail("PUT", put, status=503)
    else:
        emulator.commit_then_drop("PUT", put)
    name = f"m-{unique}"
    settings = {"model_name": name, "metrics_max": ["auc"]}
    result = promote(settings=settings, backend=backend, model_path=path, metrics={"auc": 0.8})
    assert result.model is not None
    assert result.model.version == 1
    assert len(emulator.versions(name)) == 1
    assert emulator.count("PUT", put) == 1


def test_a_local_version_number_taken_by_a_concurrent_registration_is_asked_again(
    backend: Any, emulator: AzureMLV2Emulator, tmp_path: Path, unique: str
) -> None:
    """Local mode: another client wins the version number; ours becomes the next one."""
    path, files = _local_model(tmp_path, "file", unique)
    name = f"m-{unique}"
    other = emulator.add_job(f"exp-{unique}")
    emulator.race_next_registration(name, other)
    settings = {"model_name": name, "metrics_max": ["auc"]}
    result = promote(settings=settings, backend=backend, model_path=path, metrics={"auc": 0.8})
    assert result.model is not None
    assert result.model.version == 2
    first, ours = emulator.versions(name)
    assert first["properties"]["jobName"] == other
    assert emulator.uploaded(ours["properties"]["modelUri"]) == files


def test_a_local_registration_without_a_content_digest_is_made_once(
    backend: Any, emulator: AzureMLV2Emulator, tmp_path: Path, unique: str
) -> None:
    """Called directly, without the digest tag: nothing to look it up by, so no retry."""
    path, _ = _local_model(tmp_path, "file", unique)
    emulator.fail_next("PUT", _BLOB, status=503)
    request = RegistrationRequest(name=f"m-{unique}", model_path=str(path))
    with pytest.raises(TransientRegistryError, match="HTTP 503"):
        backend.registry.register(request)
    assert len(_content_uploads(emulator)) == 1
    assert emulator.versions(f"m-{unique}") == []
