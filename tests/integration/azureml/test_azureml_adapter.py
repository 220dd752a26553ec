"""The Azure ML backend, through the real azureml-core SDK, against the local emulator.

Each test checks what came back and what the SDK sent (the emulator records every request):
the SDK hides some failures, and the point of the adapter is partly how few requests it makes.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from integration.azureml.emulator import AzureMLEmulator

pytest.importorskip("azureml.core")

from aml_promotion import BaselineStrategy, Framework, RetryPolicy, promote
from aml_promotion.adapters.azureml import AzureMLBackend
from aml_promotion.exceptions import (
    BackendNotInstalledError,
    BaselineNotFoundError,
    ModelFileError,
    RegistryError,
    RunNotFoundError,
    RunStateError,
    SettingsError,
    TransientRegistryError,
)
from aml_promotion.ports import Backend, Hop, RegistrationRequest, Resolution, RunStatus

pytestmark = pytest.mark.azureml


def settings(unique: str, **more: Any) -> dict[str, Any]:
    return {"model_name": f"m-{unique}", "metrics_max": ["auc"], **more}


def register(backend: Any, name: str, run_id: str, **options: Any) -> Any:
    run = backend.runs.get_run(experiment_name=None, run_id=run_id)
    return backend.registry.register(
        RegistrationRequest(name=name, model_path="outputs/model.pkl", run=run, **options)
    )


# --- the backend ----------------------------------------------------------------------------------


def test_the_backend_provides_both_ports(workspace: Any) -> None:
    """AzureMLBackend is a Backend (mypy checks this assignment too) over the given workspace."""
    backend: Backend = AzureMLBackend(workspace=workspace)
    assert backend.runs is backend.runs
    assert backend.registry is backend.registry
    assert repr(backend) == f"AzureMLBackend(workspace={workspace.name!r})"


def test_importing_the_package_and_the_adapter_imports_no_sdk() -> None:
    """`import aml_promotion` and the adapter module leave azureml unimported until a backend."""
    code = (
        "import sys, aml_promotion, aml_promotion.adapters.azureml as a\n"
        "a.parse_credentials\n"
        "assert not [m for m in sys.modules if m.startswith('azureml')], 'azureml imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})


def test_a_missing_sdk_is_a_backend_not_installed_error(
    workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without azureml-core, building the backend says which extra to install."""
    monkeypatch.setitem(sys.modules, "azureml.core", None)
    with pytest.raises(BackendNotInstalledError, match=r"aml-promotion\[azureml\]"):
        AzureMLBackend(workspace=workspace)


def test_the_sdk_cannot_reach_azure(socket_guard: Any) -> None:
    """The suite runs cut off from Azure: isolated HOME, a fixed cloud, a loopback-only guard."""
    assert os.environ["AZUREML_CURRENT_CLOUD"] == "AzureCloud"
    assert "aml-promotion-azureml-home-" in os.environ["HOME"]
    with pytest.raises(OSError, match="socket guard"):
        socket.create_connection(("management.azure.com", 443), timeout=1)
    assert socket_guard.refused == ["resolve 'management.azure.com'"]
    socket_guard.refused.clear()


# --- runs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Completed", RunStatus.COMPLETED),
        ("Failed", RunStatus.FAILED),
        ("Canceled", RunStatus.CANCELED),
        ("Running", RunStatus.RUNNING),
        ("Queued", RunStatus.RUNNING),
        ("Paused", RunStatus.OTHER),
    ],
)
def test_a_run_carries_its_status_and_the_sdk_word_for_it(
    backend: Any, emulator: AzureMLEmulator, unique: str, status: str, expected: RunStatus
) -> None:
    """The record maps the SDK's status to RunStatus and keeps the SDK's own text."""
    run_id = emulator.add_run(f"exp-{unique}", status=status)
    run = backend.runs.get_run(experiment_name=f"exp-{unique}", run_id=run_id)
    assert (run.status, run.status_text, run.is_current) == (expected, status, False)


@pytest.mark.parametrize("status", ["Failed", "Canceled", "Running"])
def test_a_run_that_did_not_complete_is_not_promoted_unless_forced(
    backend: Any, emulator: AzureMLEmulator, unique: str, status: str
) -> None:
    """promote() refuses a Failed, Canceled or Running run; forced, it registers it."""
    exp = f"exp-{unique}"
    run_id = emulator.add_run(exp, status=status, metrics={"auc": 0.9}, files=["model.pkl"])
    with pytest.raises(RunStateError, match=status):
        promote(experiment_name=exp, run_id=run_id, backend=backend, settings=settings(unique))
    assert emulator.count("POST", r"/models$") == 0
    forced = promote(
        experiment_name=exp,
        run_id=run_id,
        backend=backend,
        settings=settings(unique, force_registration=True),
    )
    assert forced.model is not None
    assert forced.model.run_id == run_id


def test_loading_a_run_costs_two_requests_then_one_per_run_of_a_known_experiment(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """A run is one request; its experiment one more, only the first time it is seen."""
    first = emulator.add_run(f"exp-{unique}")
    second = emulator.add_run(f"exp-{unique}")
    backend.runs.get_run(experiment_name=None, run_id=first)
    assert len(emulator.requests) == 2
    backend.runs.get_run(experiment_name=f"exp-{unique}", run_id=second)
    assert len(emulator.requests) == 3
    assert emulator.count("POST", "/experiments/") == 0, "looking up must not create"


def test_a_pipeline_run_resolves_to_its_step_by_exact_name(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """The step named exactly pipeline_child_run_name holds the model; one request lists steps."""
    exp = f"exp-{unique}"
    pipeline, steps = emulator.add_pipeline_run(
        exp,
        [
            ("prepare_data", {}),
            ("model_training_v2", {}),
            ("model_training", {"metrics": {"auc": 0.9}}),
        ],
    )
    emulator.clear_requests()
    run = backend.runs.get_run(experiment_name=exp, run_id=pipeline, pipeline_step="model_training")
    assert run.run_id == steps[2]
    assert run.experiment_name == exp
    assert run.resolution == Resolution(
        given=pipeline, hops=(Hop.step("model_training", steps[2]),)
    )
    assert emulator.count("GET", r"/children$") == 1
    assert len(emulator.requests) == 3  # the pipeline run, its experiment, its children


@pytest.mark.parametrize(
    ("names", "found"), [(["prepare", "score"], "no step"), (["train", "train"], "2 steps")]
)
def test_no_step_or_several_steps_with_the_name_is_an_error_listing_the_steps(
    backend: Any, emulator: AzureMLEmulator, unique: str, names: list[str], found: str
) -> None:
    """None or several steps named so: RunNotFoundError naming what there is."""
    exp = f"exp-{unique}"
    pipeline, _ = emulator.add_pipeline_run(exp, [(name, {}) for name in names])
    wanted = "train" if found == "2 steps" else "model_training"
    with pytest.raises(RunNotFoundError) as caught:
        backend.runs.get_run(experiment_name=exp, run_id=pipeline, pipeline_step=wanted)
    assert f"has {found} named {wanted!r}" in str(caught.value)
    assert f"its steps are: {', '.join(sorted(set(names)))}" in str(caught.value)
    assert caught.value.candidates == tuple(sorted(set(names)))


def test_a_pipeline_promotes_its_training_step(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """promote() on a pipeline run registers the model from the named step's run."""
    exp = f"exp-{unique}"
    pipeline, steps = emulator.add_pipeline_run(
        exp,
        [("model_training", {"metrics": {"auc": 0.9}, "files": ["outputs/model.pkl"]})],
    )
    result = promote(
        experiment_name=exp, run_id=pipeline, backend=backend, settings=settings(unique)
    )
    assert result.model is not None
    assert result.model.run_id == steps[0]


def test_a_hyperdrive_run_resolves_to_the_best_child_the_service_recorded(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """A finished sweep names its best child: that child is loaded, nothing is computed."""
    exp = f"exp-{unique}"
    sweep, children = emulator.add_hyperdrive_run(
        exp,
        [{"metrics": {"acc": 0.7}}, {"metrics": {"acc": 0.9}}],
        primary_metric="acc",
        best_child=1,
    )
    emulator.clear_requests()
    run = backend.runs.get_run(experiment_name=exp, run_id=sweep)
    assert run.run_id == children[1]
    assert run.resolution == Resolution(given=sweep, hops=(Hop.best_trial(children[1]),))
    assert emulator.count("POST", r"/full$") == 0
    assert emulator.count("GET", r"/children$") == 0


@pytest.mark.parametrize(("goal", "best"), [("maximize", 1), ("minimize", 2)])
def test_a_hyperdrive_run_without_a_recorded_best_child_picks_it_by_primary_metric(
    backend: Any, emulator: AzureMLEmulator, unique: str, goal: str, best: int
) -> None:
    """The best completed child by the primary metric and its goal; failed children are out."""
    exp = f"exp-{unique}"
    sweep, children = emulator.add_hyperdrive_run(
        exp,
        [
            {"metrics": {"loss": 0.5}},
            {"metrics": {"loss": [0.9, 0.6]}},
            {"metrics": {"loss": 0.2}},
            {"metrics": {"loss": 0.01}, "status": "Failed"},
            {"metrics": {"loss": 99.0}, "status": "Canceled"},
            {"metrics": {}},
        ],
        primary_metric="loss",
        goal=goal,
    )
    run = backend.runs.get_run(experiment_name=exp, run_id=sweep)
    assert run.run_id == children[best]


def test_a_hyperdrive_run_whose_children_logged_no_primary_metric_is_an_error(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """No child with the primary metric: RunNotFoundError saying so, never a guess."""
    exp = f"exp-{unique}"
    sweep, _ = emulator.add_hyperdrive_run(
        exp, [{"metrics": {"other": 1.0}}, {}], primary_metric="acc"
    )
    with pytest.raises(RunNotFoundError, match="none of its 2 completed child runs logged its"):
        backend.runs.get_run(experiment_name=exp, run_id=sweep)


def test_a_pipeline_step_that_is_a_sweep_resolves_to_the_sweeps_best_child(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """A HyperDrive step in a pipeline: the step, then its best child."""
    exp = f"exp-{unique}"
    pipeline, _ = emulator.add_pipeline_run(exp, [("prepare", {})])
    sweep, children = emulator.add_hyperdrive_run(
        exp, [{"metrics": {"acc": 0.8}}], primary_metric="acc", best_child=0
    )
    emulator.add_pipeline_step(pipeline, "model_training", sweep)
    run = backend.runs.get_run(experiment_name=exp, run_id=pipeline, pipeline_step="model_training")
    assert run.run_id == children[0]
    hops = (Hop.step("model_training", sweep), Hop.best_trial(children[0]))
    assert run.resolution == Resolution(given=pipeline, hops=hops)


# --- metrics --------------------------------------------------------------------------------------


@pytest.mark.parametrize("logged", [5, 500])
def test_metric_requests_do_not_grow_with_the_number_of_metrics_a_run_logged(
    backend: Any, emulator: AzureMLEmulator, unique: str, logged: int
) -> None:
    """Two gated metrics cost two requests, whether the run logged 5 metrics or 500."""
    metrics = {f"m{i}": float(i) for i in range(logged)}
    run_id = emulator.add_run(f"exp-{unique}", metrics=metrics)
    run = backend.runs.get_run(experiment_name=None, run_id=run_id)
    emulator.clear_requests()
    got = backend.runs.get_metrics(run, ["m1", "m3"])
    assert dict(got.values) == {"m1": 1.0, "m3": 3.0}
    assert got.available is None
    assert [r.body for r in emulator.requests] == [{"metricName": "m1"}, {"metricName": "m3"}]
    assert emulator.count("POST", r"/list$") == 0


def test_series_come_back_as_lists(backend: Any, emulator: AzureMLEmulator, unique: str) -> None:
    """A metric logged several times is a list; asked as a series, even one logged once is."""
    run_id = emulator.add_run(f"exp-{unique}", metrics={"loss": [0.5, 0.4], "auc": 0.9})
    run = backend.runs.get_run(experiment_name=None, run_id=run_id)
    got = backend.runs.get_metrics(run, ["loss", "auc"], series=["auc"])
    assert dict(got.values) == {"loss": [0.5, 0.4], "auc": [0.9]}


def test_a_missing_metric_is_reported_missing_by_the_decision(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """A metric the run did not log is absent, and promote() rejects the candidate naming it."""
    exp = f"exp-{unique}"
    run_id = emulator.add_run(exp, metrics={"accuracy": 0.9}, files=["model.pkl"])
    result = promote(experiment_name=exp, run_id=run_id, backend=backend, settings=settings(unique))
    assert result.model is None
    assert "auc" in result.decision.summary


def test_a_failing_metric_read_is_an_error_never_a_missing_metric(
    backend: Any, emulator: AzureMLEmulator, unique: str, policy: RetryPolicy
) -> None:
    """A metric request that keeps failing raises (the SDK would have returned nothing)."""
    run_id = emulator.add_run(f"exp-{unique}", metrics={"auc": 0.9})
    run = backend.runs.get_run(experiment_name=None, run_id=run_id)
    emulator.fail_next("POST", r"/full$", status=503, times=100)
    with pytest.raises(TransientRegistryError, match=r"reading metric 'auc'.*HTTP 503"):
        backend.runs.get_metrics(run, ["auc"])
    assert emulator.count("POST", r"/full$") == policy.attempts


# --- the current run ------------------------------------------------------------------------------


def test_inside_a_run_promote_needs_no_experiment_or_run_id(
    emulator: AzureMLEmulator, run_context: Any, unique: str, policy: RetryPolicy
) -> None:
    """In a training script, promote() with the run context's backend registers this very run.

    The script's metrics are still queued in the SDK when it calls promote(): they are sent
    before they are read. The run is Running, which is fine for the run itself.
    """
    from azureml.core import Run  # noqa: PLC0415 - the SDK only after the skip

    exp = f"exp-{unique}"
    run_id = emulator.add_run(exp, status="Running", files=["outputs/model.pkl"])
    run_context(exp, run_id)
    Run.get_context().log("auc", 0.93)

    backend = AzureMLBackend.from_run_context(retry=policy)
    current = backend.runs.get_run(experiment_name=None, run_id=None)
    result = promote(settings=settings(unique), backend=backend)

    assert (current.run_id, current.is_current, current.status) == (
        run_id,
        True,
        RunStatus.RUNNING,
    )
    assert result.model is not None
    assert result.model.run_id == run_id
    assert result.model.tags["promotion.metric.auc"] == "0.93"


def test_outside_a_run_there_is_no_current_run(backend: Any) -> None:
    """Not in Azure ML: the run context constructor and a run-less lookup say there is no run."""
    with pytest.raises(RunNotFoundError, match="no current run"):
        AzureMLBackend.from_run_context()
    with pytest.raises(RunNotFoundError, match="no current run"):
        backend.runs.get_run(experiment_name=None, run_id=None)


def test_the_current_run_of_another_experiment_is_not_found(
    emulator: AzureMLEmulator, run_context: Any, unique: str
) -> None:
    """An experiment name that is not the current run's is a RunNotFoundError."""
    exp = f"exp-{unique}"
    run_context(exp, emulator.add_run(exp, status="Running"))
    backend = AzureMLBackend.from_run_context()
    with pytest.raises(RunNotFoundError, match=f"belongs to experiment '{exp}', not 'other'"):
        backend.runs.get_run(experiment_name="other", run_id=None)


# --- the registry ---------------------------------------------------------------------------------


def test_the_latest_version_costs_one_request_however_many_versions(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """find_baseline(latest) is one request (no run or dataset expansion per model)."""
    name = f"m-{unique}"
    for _ in range(3):
        emulator.add_model(name, run_id=emulator.add_run(f"exp-{unique}"))
    emulator.clear_requests()
    latest = backend.registry.find_baseline(name, BaselineStrategy.latest())
    assert latest is not None
    assert (latest.version, latest.id) == (3, f"{name}:3")
    assert len(emulator.requests) == 1
    assert emulator.requests[0].query["latestVersionOnly"] == "true"


def test_a_version_and_a_tag_are_each_one_request(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """version:N and tag:K=V baselines cost one request each; a missing version is an error."""
    name = f"m-{unique}"
    emulator.add_model(name, tags={"stage": "prod"})
    emulator.add_model(name, tags={"stage": "prod"})
    emulator.add_model(name, tags={"stage": "dev"})
    emulator.clear_requests()
    version = backend.registry.find_baseline(name, BaselineStrategy.version(1))
    tagged = backend.registry.find_baseline(name, BaselineStrategy.tagged("stage", "prod"))
    with pytest.raises(BaselineNotFoundError, match="'version:7'"):
        backend.registry.find_baseline(name, BaselineStrategy.version(7))
    assert version is not None
    assert version.version == 1
    assert tagged is not None
    assert tagged.version == 2
    assert len(emulator.requests) == 3


def test_a_tag_value_with_a_comma_or_an_equals_sign_still_selects_exactly(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """The service's tag filter is comma-separated key=value text: such pairs still match."""
    name = f"m-{unique}"
    emulator.add_model(name, tags={"owner": "a,b=c"})
    emulator.add_model(name, tags={"owner": "a"})
    found = backend.registry.find_tagged(name, "owner", "a,b=c")
    assert [v.version for v in found] == [1]
    assert emulator.requests[-1].query["tags"] == "owner"


@pytest.mark.parametrize("strategy", ["alias:champion", "stage:Production"])
def test_an_alias_or_stage_baseline_is_a_settings_error_without_a_request(
    backend: Any, emulator: AzureMLEmulator, unique: str, strategy: str
) -> None:
    """Azure ML (SDK v1) has no aliases or stages: never "no baseline", and nothing is asked."""
    emulator.clear_requests()
    with pytest.raises(
        SettingsError, match=r"Azure ML \(SDK v1\) has no model (aliases|stages), so"
    ) as caught:
        backend.registry.find_baseline(f"m-{unique}", BaselineStrategy.parse(strategy))
    assert caught.value.problems[0].path == "$.baseline"
    assert emulator.requests == []


def test_tags_are_read_then_written_whole(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """set_tags and remove_tags: two requests each; removing the last tag leaves none."""
    name = f"m-{unique}"
    emulator.add_model(name, tags={"team": "risk"})
    version = backend.registry.find_baseline(name, BaselineStrategy.latest())
    emulator.clear_requests()
    backend.registry.set_tags(version, {"stage": "prod"})
    assert len(emulator.requests) == 2
    assert emulator.models(name)[0]["kvTags"] == {"team": "risk", "stage": "prod"}
    backend.registry.remove_tags(version, ["team", "stage", "absent"])
    assert emulator.models(name)[0]["kvTags"] == {}


@pytest.mark.parametrize(
    ("framework", "sdk_name"),
    [
        (Framework.SCIKITLEARN, "ScikitLearn"),
        (Framework.ONNX, "Onnx"),
        (Framework.TENSORFLOW, "TensorFlow"),
        (Framework.KERAS, "TfKeras"),
        (Framework.CUSTOM, "Custom"),
    ],
)
def test_the_framework_is_mapped_to_the_sdks_name(
    backend: Any, emulator: AzureMLEmulator, unique: str, framework: Framework, sdk_name: str
) -> None:
    """Each settings framework is registered under the SDK's constant for it."""
    run_id = emulator.add_run(f"exp-{unique}", files=["outputs/model.pkl"])
    register(backend, f"m-{unique}", run_id, framework=framework, framework_version="1.2")
    body = emulator.matching("POST", r"/models$")[-1].body
    assert (body["framework"], body["frameworkVersion"]) == (sdk_name, "1.2")


def test_registration_sends_every_setting(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """Tags, properties, description, datasets, samples and resources reach the service."""
    train = emulator.add_dataset(f"train-{unique}")
    sample_in = emulator.add_dataset(f"in-{unique}")
    sample_out = emulator.add_dataset(f"out-{unique}")
    run_id = emulator.add_run(f"exp-{unique}", files=["outputs/model.pkl"])
    version = register(
        backend,
        f"m-{unique}",
        run_id,
        tags={"team": "risk", "promotion.verdict": "promote"},
        properties={"owner": "ml"},
        description="a model",
        datasets=(f"train-{unique}",),
        sample_input_dataset=f"in-{unique}",
        sample_output_dataset=f"out-{unique}",
        cpu_cores=1.5,
        memory_gb=2.0,
    )
    body = emulator.matching("POST", r"/models$")[-1].body
    assert version.tags == {"team": "risk", "promotion.verdict": "promote"}
    assert body["kvTags"] == {"team": "risk", "promotion.verdict": "promote"}
    # The decision's tags are kept as (immutable) properties too.
    assert body["properties"] == {"owner": "ml", "promotion.verdict": "promote"}
    assert body["description"] == "a model"
    assert body["datasets"] == [{"name": f"train-{unique}", "id": train}]
    assert body["sampleInputData"] == f"aml://dataset/{sample_in}"
    assert body["sampleOutputData"] == f"aml://dataset/{sample_out}"
    assert body["resourceRequirements"] == {"cpu": 1.5, "memoryInGB": 2.0}
    assert body["runId"] == run_id


def test_resources_are_sent_only_with_both_cpu_and_memory(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """CPU without memory (or none at all) sends no resource configuration."""
    run_id = emulator.add_run(f"exp-{unique}", files=["outputs/model.pkl"])
    register(backend, f"m-{unique}", run_id, cpu_cores=2.0)
    body = emulator.matching("POST", r"/models$")[-1].body
    assert "resourceRequirements" not in body


def test_a_framework_version_alone_is_registered_as_custom(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """The SDK refuses a version without a framework: Custom is named for it."""
    run_id = emulator.add_run(f"exp-{unique}", files=["outputs/model.pkl"])
    register(backend, f"m-{unique}", run_id, framework_version="3.0")
    body = emulator.matching("POST", r"/models$")[-1].body
    assert (body["framework"], body["frameworkVersion"]) == ("Custom", "3.0")


def test_missing_datasets_are_one_settings_error_and_nothing_is_registered(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """Every dataset name not registered is listed with its settings path; no model is made."""
    emulator.add_dataset(f"train-{unique}")
    run_id = emulator.add_run(f"exp-{unique}", files=["outputs/model.pkl"])
    with pytest.raises(SettingsError) as caught:
        register(
            backend,
            f"m-{unique}",
            run_id,
            datasets=(f"train-{unique}", "nope"),
            sample_input_dataset="gone",
        )
    paths = [problem.path for problem in caught.value.problems]
    assert paths == ["$.datasets[1]", "$.sample_input_dataset"]
    assert "no dataset named 'nope'" in str(caught.value)
    assert emulator.count("POST", r"/models$") == 0


def test_a_local_file_or_folder_is_registered_with_model_register(
    backend: Any,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    blob_uploads: list[str],
) -> None:
    """Local mode uploads the file (or every file of the folder) and registers it, with no run."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.pkl").write_bytes(b"pickle")
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "a.bin").write_bytes(b"a")
    (tmp_path / "bundle" / "b.bin").write_bytes(b"b")
    name = f"m-{unique}"
    file_version = backend.registry.register(
        RegistrationRequest(name=name, model_path=str(tmp_path / "model.pkl"), tags={"k": "v"})
    )
    folder_version = backend.registry.register(
        RegistrationRequest(name=name, model_path=str(tmp_path / "bundle"))
    )
    assert (file_version.version, file_version.run_id, file_version.tags) == (1, None, {"k": "v"})
    assert folder_version.version == 2
    assert len(blob_uploads) == 3
    uploaded = sorted(u.rsplit("/", 2)[-2:][-1].split("?")[0] for u in blob_uploads)
    assert uploaded == ["a.bin", "b.bin", "model.pkl"]


def test_a_symlinked_local_file_is_registered_under_its_own_name(
    backend: Any,
    unique: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    blob_uploads: list[str],
) -> None:
    """model.pkl -> a content-addressed blob (DVC, git-annex): uploaded as model.pkl."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".dvc" / "cache").mkdir(parents=True)
    (tmp_path / ".dvc" / "cache" / "ab12cd").write_bytes(b"pickle")
    (tmp_path / "model.pkl").symlink_to(tmp_path / ".dvc" / "cache" / "ab12cd")
    backend.registry.register(
        RegistrationRequest(name=f"m-{unique}", model_path=str(tmp_path / "model.pkl"))
    )
    assert [u.rsplit("/", 1)[-1].split("?")[0] for u in blob_uploads] == ["model.pkl"]


def test_a_local_model_outside_the_working_directory_is_a_model_file_error(
    backend: Any, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK uploads only from under the working directory: said plainly, before any request."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "here").mkdir()
    (tmp_path / "elsewhere" / "model.pkl").write_bytes(b"x")
    monkeypatch.chdir(tmp_path / "here")
    outside = [tmp_path / "elsewhere" / "model.pkl", Path("../elsewhere/model.pkl").absolute()]
    for path in outside:  # the second one through "..", as written under the working directory
        with pytest.raises(ModelFileError, match="only from under the working directory"):
            backend.registry.register(RegistrationRequest(name=f"m-{unique}", model_path=str(path)))


# --- retries --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_one_request_then_retried_by_us(
    backend: Any, emulator: AzureMLEmulator, unique: str, status: int, retry_waits: list[float]
) -> None:
    """One 5xx is one request (the SDK's retries are off), then our retry succeeds."""
    run_id = emulator.add_run(f"exp-{unique}")
    emulator.fail_next("GET", rf"/runs/{run_id}$", status=status)
    run = backend.runs.get_run(experiment_name=None, run_id=run_id)
    assert run.run_id == run_id
    assert [r.status for r in emulator.matching("GET", rf"/runs/{run_id}$")] == [status, 200]
    assert retry_waits == [0.5]


def test_a_429_honours_retry_after(
    backend: Any, emulator: AzureMLEmulator, unique: str, retry_waits: list[float]
) -> None:
    """HTTP 429 with Retry-After: one request, then a wait of what the service asked."""
    name = f"m-{unique}"
    emulator.fail_next("GET", r"/models$", status=429, retry_after=7)
    assert backend.registry.find_baseline(name, BaselineStrategy.latest()) is None
    assert emulator.count("GET", r"/models$") == 2
    assert retry_waits == [7.0]


def test_a_dropped_connection_is_retried(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """A connection closed without an answer is one request, then retried."""
    run_id = emulator.add_run(f"exp-{unique}", files=["a.txt"])
    run = backend.runs.get_run(experiment_name=None, run_id=run_id)
    emulator.drop_next("GET", r"/artifacts/ExperimentRun/")
    assert backend.runs.list_files(run) == ["a.txt"]
    assert [r.status for r in emulator.matching("GET", r"/artifacts/ExperimentRun/")] == [-1, 200]


@pytest.mark.parametrize(
    ("method", "pattern", "call"),
    [
        ("GET", r"/runs/RUN$", "run"),
        ("POST", r"/full$", "metric"),
        ("GET", r"/models$", "latest"),
        ("GET", r"/datasets/query/name=", "dataset"),
    ],
)
def test_the_sdks_retries_do_not_compound_with_ours(  # noqa: PLR0917 - parametrized
    emulator: AzureMLEmulator, workspace: Any, unique: str, method: str, pattern: str, call: str
) -> None:
    """A service that keeps failing gets exactly one request per attempt of ours, no more."""
    backend = AzureMLBackend(workspace=workspace, retry=RetryPolicy(attempts=3, jitter=0))
    run_id = emulator.add_run(f"exp-{unique}", metrics={"auc": 1.0}, files=["outputs/model.pkl"])
    run = backend.runs.get_run(experiment_name=None, run_id=run_id) if call != "run" else None
    emulator.add_dataset(f"d-{unique}")
    emulator.clear_requests()
    emulator.fail_next(method, pattern.replace("RUN", run_id), status=503, times=100)
    calls = {
        "run": lambda: backend.runs.get_run(experiment_name=None, run_id=run_id),
        "metric": lambda: backend.runs.get_metrics(run, ["auc"]),
        "latest": lambda: backend.registry.find_baseline(f"m-{unique}", BaselineStrategy.latest()),
        "dataset": lambda: register(backend, f"m-{unique}", run_id, datasets=(f"d-{unique}",)),
    }
    with pytest.raises(TransientRegistryError) as caught:
        calls[call]()
    assert emulator.count(method, pattern.replace("RUN", run_id)) == 3
    assert caught.value.__cause__ is not None, "the SDK's exception is kept as the cause"


def test_the_sdks_retries_are_back_outside_adapter_calls(backend: Any, unique: str) -> None:
    """The switch is on only during adapter calls: the SDK retries as usual otherwise."""
    from azureml._restclient import clientbase  # noqa: PLC0415 - the SDK only after the skip
    from msrest.universal_http.requests import ClientRetryPolicy  # noqa: PLC0415

    backend.registry.find_baseline(f"m-{unique}", BaselineStrategy.latest())
    assert ClientRetryPolicy().retries == 3
    assert clientbase.DEFAULT_RETRIES == 3


def test_a_client_error_is_not_retried(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """HTTP 403 is a RegistryError at once, pointing at credentials and roles."""
    emulator.fail_next("GET", r"/models$", status=403, times=5)
    with pytest.raises(RegistryError, match="HTTP 403 Forbidden: check the credentials") as caught:
        backend.registry.find_baseline(f"m-{unique}", BaselineStrategy.latest())
    assert not isinstance(caught.value, TransientRegistryError)
    assert emulator.count("GET", r"/models$") == 1


def test_a_registration_committed_before_failing_is_not_registered_again(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """503 after the service committed the model: the retry finds it by run; one version."""
    exp = f"exp-{unique}"
    run_id = emulator.add_run(exp, metrics={"auc": 0.9}, files=["outputs/model.pkl"])
    emulator.commit_then_fail("POST", r"/models$")
    result = promote(experiment_name=exp, run_id=run_id, backend=backend, settings=settings(unique))
    assert result.model is not None
    assert result.model.version == 1
    assert [m["runId"] for m in emulator.models(f"m-{unique}")] == [run_id]
    assert emulator.count("POST", r"/models$") == 1
    failed = next(i for i, r in enumerate(emulator.requests) if r.status == 503)
    lookup = emulator.requests[failed + 1]
    assert (lookup.method, lookup.query.get("runId")) == ("GET", run_id)


def test_a_registration_that_failed_before_committing_is_sent_again(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """503 before anything was committed: the lookup finds nothing, the retry registers once."""
    run_id = emulator.add_run(f"exp-{unique}", files=["outputs/model.pkl"])
    emulator.fail_next("POST", r"/models$", status=503)
    version = register(backend, f"m-{unique}", run_id)
    assert version.version == 1
    assert len(emulator.models(f"m-{unique}")) == 1
    assert [r.status for r in emulator.matching("POST", r"/models$")] == [503, 200]


def test_an_unknown_run_is_not_found_with_the_sdks_error_as_cause(
    backend: Any, unique: str
) -> None:
    """A 404 for a run is RunNotFoundError (not retried), chained to the SDK's exception."""
    with pytest.raises(RunNotFoundError, match=f"no run with id 'nope-{unique}'") as caught:
        backend.runs.get_run(experiment_name=None, run_id=f"nope-{unique}")
    assert type(caught.value.__cause__).__module__.startswith("azureml")


# --- building the backend from a configuration file -----------------------------------------------


@pytest.mark.usefixtures("arm_on_emulator")
@pytest.mark.parametrize("shape", ["config.json", "aml_arm_config.json"])
def test_from_config_reads_either_file_the_workspace_may_be_named_in(
    emulator: AzureMLEmulator, auth: Any, tmp_path: Path, unique: str, shape: str
) -> None:
    """config.json (portal) or .azureml/aml_arm_config.json (aml-workspace action) both work."""
    folder = tmp_path / ".azureml"
    folder.mkdir()
    scope = emulator.workspace_path
    content = (
        {
            "subscription_id": emulator.subscription_id,
            "resource_group": emulator.resource_group,
            "workspace_name": emulator.workspace_name,
        }
        if shape == "config.json"
        else {"Id": None, "Scope": scope}
    )
    (folder / shape).write_text(json.dumps(content))
    (tmp_path / "deep" / "er").mkdir(parents=True)
    backend = AzureMLBackend.from_config(tmp_path / "deep" / "er", auth=auth)
    run_id = emulator.add_run(f"exp-{unique}")
    assert backend.runs.get_run(experiment_name=None, run_id=run_id).run_id == run_id
    assert emulator.count("GET", f"^{scope}$") == 1


# --- requests per promotion -----------------------------------------------------------------------

_WORKSPACE_PATH = re.compile(
    r"^/(\w+)/v\d\.\d/subscriptions/[^/]+/resourceGroups/[^/]+/providers/[^/]+/workspaces/[^/]+/"
)


def _route(recorded: Any, ids: dict[str, str]) -> str:
    """A request as its route: ``GET history runs/<candidate>``, ids named for what they are."""
    path = _WORKSPACE_PATH.sub(lambda match: match.group(1) + " ", recorded.path)
    path = re.sub(r"experimentids/[0-9a-f-]+", "experimentids/<id>", path)
    query = "&".join(f"{k}={v}" for k, v in sorted(recorded.query.items()) if k != "count")
    route = f"{recorded.method} {path}" + (f"?{query}" if query else "")
    for label, value in ids.items():
        route = route.replace(value, f"<{label}>")
    return route


@pytest.mark.parametrize("logged", [5, 500])
def test_a_promotion_costs_12_requests_whatever_the_number_of_logged_metrics(
    workspace: Any, policy: RetryPolicy, emulator: AzureMLEmulator, unique: str, logged: int
) -> None:
    """2 gated metrics against the latest version, on a new backend: 12 requests, 5 or 500 logged.

    The scenario of benchmarks/azureml_requests.py. The registration is the asset and the model
    (no check of the path the file listing found, no read back of the experiment and the run).
    """
    exp, name = f"exp-{unique}", f"m-{unique}"

    def run(level: float) -> str:
        metrics = {f"metric_{i:02d}": 0.5 for i in range(logged)}
        metrics.update({"metric_00": level, "metric_01": 1.0 - level})
        return emulator.add_run(exp, metrics=metrics, files=["outputs/model.pkl"])

    seed = run(0.80)
    emulator.add_model(name, run_id=seed)
    candidate = run(0.85)
    settings = {
        "model_name": name,
        "model_file_name": "model.pkl",
        "metrics_max": ["metric_00"],
        "metrics_min": ["metric_01"],
    }
    emulator.clear_requests()
    backend = AzureMLBackend(workspace=workspace, retry=policy)  # a new one, as the CLI's
    result = promote(experiment_name=exp, run_id=candidate, settings=settings, backend=backend)
    assert result.model is not None
    assert result.model.version == 2
    ids = {"candidate": candidate, "baseline": seed, "model": name}
    routes = [_route(r, ids) for r in emulator.requests]
    assert routes == [
        "GET history runs/<candidate>",
        "GET history experimentids/<id>",
        "POST metric runs/<candidate>/full",
        "POST metric runs/<candidate>/full",
        "GET artifact artifacts/ExperimentRun/dcid.<candidate>",
        "GET modelmanagement models?latestVersionOnly=false&name=<model>&runId=<candidate>",
        "GET modelmanagement models?latestVersionOnly=true&name=<model>",
        "GET history runs/<baseline>",
        "POST metric runs/<baseline>/full",
        "POST metric runs/<baseline>/full",
        "POST modelmanagement assets",
        "POST modelmanagement models",
    ]
