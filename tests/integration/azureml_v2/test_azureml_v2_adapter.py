"""The Azure ML SDK v2 backend, driven through the real SDKs against the HTTPS emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.ai.ml")
pytest.importorskip("azureml.mlflow")

from aml_promotion import BaselineStrategy, Verdict, promote
from aml_promotion._domain.metrics import Unusable
from aml_promotion.exceptions import (
    BaselineNotFoundError,
    CredentialsError,
    ModelFileError,
    RegistryError,
    RunNotFoundError,
    RunStateError,
    SettingsError,
    TransientRegistryError,
    UsageError,
)
from aml_promotion.ports import Hop, RegistrationRequest, Resolution, RunStatus
from integration.azureml_v2.emulator import AzureMLV2Emulator

pytestmark = pytest.mark.azureml_v2

_HISTORY = "/metrics/get-history"


# --- candidates -----------------------------------------------------------------------------------


def test_a_pipeline_resolves_to_its_step_by_node_name(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A pipeline job's child is found by its node (display) name, and by its job name."""
    exp = f"exp-{unique}"
    prep = emulator.add_job(exp)
    train = emulator.add_job(exp, metrics={"auc": 0.8}, files=["model/MLmodel"])
    pipeline = emulator.add_pipeline_job(exp, {"prep": prep, "model_training": train})
    by_node = backend.runs.get_run(
        experiment_name=exp, run_id=pipeline, pipeline_step="model_training"
    )
    by_name = backend.runs.get_run(experiment_name=exp, run_id=pipeline, pipeline_step=train)
    assert by_node.run_id == by_name.run_id == train
    assert by_node.experiment_name == exp


def test_a_pipeline_step_named_directly_is_checked_against_the_experiment_by_name(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A child job given by name: the SDK gives its experiment by id; it is checked by name."""
    exp = f"exp-{unique}"
    train = emulator.add_job(exp, metrics={"auc": 0.8})
    emulator.add_pipeline_job(exp, {"model_training": train})
    emulator.add_job(f"other-{unique}")
    run = backend.runs.get_run(experiment_name=exp, run_id=train)
    assert (run.run_id, run.experiment_name) == (train, exp)
    for wrong in (f"other-{unique}", f"missing-{unique}"):
        with pytest.raises(RunNotFoundError, match=f"does not belong to experiment '{wrong}'"):
            backend.runs.get_run(experiment_name=wrong, run_id=train)
    assert backend.runs.get_run(experiment_name=None, run_id=train).experiment_name is None


def test_a_pipeline_without_the_step_names_the_steps_it_has(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """No step of that name: a RunNotFoundError that lists the pipeline's steps."""
    exp = f"exp-{unique}"
    pipeline = emulator.add_pipeline_job(
        exp, {"prep": emulator.add_job(exp), "train": emulator.add_job(exp)}
    )
    with pytest.raises(RunNotFoundError, match="its steps are: prep, train") as info:
        backend.runs.get_run(experiment_name=exp, run_id=pipeline, pipeline_step="model_training")
    assert list(info.value.candidates) == ["prep", "train"]


def test_a_pipeline_with_two_matching_steps_is_refused(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """Two children with that display name: never a guess."""
    exp = f"exp-{unique}"
    first, second = emulator.add_job(exp), emulator.add_job(exp)
    pipeline = emulator.add_pipeline_job(exp, {"train": first})
    emulator.add_pipeline_job(exp, {"x": second})
    with emulator._lock:
        emulator._jobs[second].parent = pipeline
        emulator._jobs[second].display_name = "train"
    with pytest.raises(RunNotFoundError, match="2 steps named 'train'"):
        backend.runs.get_run(experiment_name=exp, run_id=pipeline, pipeline_step="train")


def test_a_sweep_resolves_to_its_recorded_best_trial(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A sweep job's best trial is the one the service recorded."""
    exp = f"exp-{unique}"
    trials = [emulator.add_job(exp, metrics={"auc": auc}) for auc in (0.9, 0.7)]
    sweep = emulator.add_sweep_job(exp, trials, metric="auc", best=trials[1])
    run = backend.runs.get_run(experiment_name=exp, run_id=sweep)
    assert run.run_id == trials[1]
    assert run.resolution == Resolution(given=sweep, hops=(Hop.best_trial(trials[1]),))


def test_a_version_registered_by_hand_from_a_sweep_is_compared_as_its_best_trial(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A hand-registered version may name a sweep: its baseline metrics are its best trial's."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    trials = [emulator.add_job(exp, metrics={"auc": auc}) for auc in (0.9, 0.7)]
    sweep = emulator.add_sweep_job(exp, trials, metric="auc", best=trials[0])
    emulator.add_model_version(name, job=sweep)
    candidate = emulator.add_job(exp, metrics={"auc": 0.8}, files=["outputs/model.pkl"])
    settings = {"model_name": name, "model_file_name": "model.pkl", "metrics_max": ["auc"]}
    result = promote(experiment_name=exp, run_id=candidate, settings=settings, backend=backend)
    assert result.decision.comparisons[0].baseline == 0.9
    assert result.decision.verdict is Verdict.REJECT
    assert result.model is None


@pytest.mark.parametrize(("goal", "expected"), [("Maximize", 0), ("Minimize", 2)])
def test_a_sweep_whose_recorded_best_trial_failed_takes_the_best_completed_trial(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, goal: str, expected: int
) -> None:
    """A recorded best trial that failed is passed over for the best completed trial."""
    exp = f"exp-{unique}"
    trials = [
        emulator.add_job(exp, metrics={"auc": 0.8}),
        emulator.add_job(exp, metrics={"auc": 0.9}, status="Failed"),
        emulator.add_job(exp, metrics={"auc": 0.7}),
    ]
    sweep = emulator.add_sweep_job(exp, trials, metric="auc", goal=goal, best=trials[1])
    run = backend.runs.get_run(experiment_name=exp, run_id=sweep)
    assert run.run_id == trials[expected]
    assert run.status is RunStatus.COMPLETED


@pytest.mark.parametrize(("goal", "expected"), [("Maximize", 1), ("Minimize", 0)])
def test_a_sweep_without_a_recorded_best_takes_the_best_completed_trial(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, goal: str, expected: int
) -> None:
    """Without best_child_run_id: the best completed trial by the primary metric and goal."""
    exp = f"exp-{unique}"
    trials = [
        emulator.add_job(exp, metrics={"auc": 0.6}),
        emulator.add_job(exp, metrics={"auc": 0.8}),
        emulator.add_job(exp, metrics={"auc": 0.99}, status="Failed"),
        emulator.add_job(exp, metrics={"loss": 0.1}),
    ]
    sweep = emulator.add_sweep_job(exp, trials, metric="auc", goal=goal)
    run = backend.runs.get_run(experiment_name=exp, run_id=sweep)
    assert run.run_id == trials[expected]


def test_a_sweep_whose_trials_lack_the_metric_has_no_best_trial(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """No completed trial logged the primary metric: a clear RunNotFoundError."""
    exp = f"exp-{unique}"
    trials = [emulator.add_job(exp, metrics={"loss": 0.3})]
    sweep = emulator.add_sweep_job(exp, trials, metric="auc")
    with pytest.raises(RunNotFoundError, match="primary metric 'auc'"):
        backend.runs.get_run(experiment_name=exp, run_id=sweep)


def test_a_job_that_did_not_complete_is_refused_unless_forced(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A failed job is not promoted; forced, it is registered."""
    exp = f"exp-{unique}"
    job = emulator.add_job(exp, metrics={"auc": 0.9}, files=["model.pkl"], status="Failed")
    settings: dict[str, Any] = {"model_name": f"m-{unique}", "metrics_max": ["auc"]}
    with pytest.raises(RunStateError, match="Failed"):
        promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    forced = promote(
        experiment_name=exp,
        run_id=job,
        settings={**settings, "force_registration": True},
        backend=backend,
    )
    assert forced.model is not None
    assert forced.model.version == 1


@pytest.mark.parametrize(
    ("service", "status"),
    [
        ("Running", RunStatus.RUNNING),
        ("Queued", RunStatus.RUNNING),
        ("Canceled", RunStatus.CANCELED),
        ("Failed", RunStatus.FAILED),
        ("Paused", RunStatus.OTHER),
    ],
)
def test_a_jobs_status_is_read_with_the_services_word_kept(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, service: str, status: RunStatus
) -> None:
    """Each job status maps to a RunStatus; the service's own word is kept beside it."""
    job = emulator.add_job(f"exp-{unique}", status=service)
    run = backend.runs.get_run(experiment_name=None, run_id=job)
    assert (run.status, run.status_text) == (status, service)


def test_a_refused_credential_is_not_retried_and_says_what_to_check(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """HTTP 403: a RegistryError (not transient) naming the credentials, after one request."""
    job = emulator.add_job(f"exp-{unique}")
    emulator.fail_next("GET", r"/jobs/", status=403, times=10)
    with pytest.raises(RegistryError, match="HTTP 403 Forbidden: check the credentials") as info:
        backend.runs.get_run(experiment_name=None, run_id=job)
    assert not isinstance(info.value, TransientRegistryError)
    assert emulator.count("GET", r"/jobs/") == 1


def test_the_model_file_must_be_among_the_jobs_outputs(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A model file the job does not hold: ModelFileError listing its files; nothing registered."""
    exp = f"exp-{unique}"
    job = emulator.add_job(exp, metrics={"auc": 0.9}, files=["outputs/other.pkl"])
    settings = {"model_name": f"m-{unique}", "model_file_name": "model.pkl"}
    with pytest.raises(ModelFileError, match=r"outputs/other\.pkl"):
        promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    assert emulator.versions(f"m-{unique}") == []


def test_a_job_without_a_name_is_a_clear_error(backend: Any) -> None:
    """No run id: the v2 backend has no run context to fall back on."""
    with pytest.raises(RunNotFoundError, match="needs the job's name"):
        backend.runs.get_run(experiment_name=None, run_id=None)


# --- metrics ------------------------------------------------------------------------------------


def test_metrics_cost_one_request_and_the_history_only_when_a_rule_needs_it(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """The last values come in one runs/get; a series costs one get-history, and only then."""
    metrics: dict[str, Any] = {f"m{i}": float(i) for i in range(50)}
    metrics["loss"] = [0.5, 0.2, 0.4]
    job = emulator.add_job(f"exp-{unique}", metrics=metrics)
    run = backend.runs.get_run(experiment_name=None, run_id=job)
    backend.runs.get_metrics(run, ["m1"])  # the workspace's tracking URI is read once
    emulator.clear_requests()
    last = backend.runs.get_metrics(run, ["loss", "m3", "absent"])
    assert dict(last.values) == {"loss": pytest.approx(0.4), "m3": 3.0}
    assert last.available is not None
    assert "m49" in last.available
    assert emulator.count("GET", "/runs/get") == 1
    assert emulator.count("GET", _HISTORY) == 0
    series = backend.runs.get_metrics(run, ["loss", "m3"], series=["loss"])
    assert series.values["loss"] == pytest.approx([0.5, 0.2, 0.4])
    assert emulator.count("GET", _HISTORY) == 1


def test_a_max_aggregate_reads_the_whole_history(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """Aggregate "max": the best of the series counts, not the last value."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    settings = {
        "model_name": name,
        "metric_rules": {"auc": {"goal": "maximize", "aggregate": "max"}},
    }
    first = emulator.add_job(exp, metrics={"auc": [0.5, 0.8, 0.6]}, files=["model.pkl"])
    second = emulator.add_job(exp, metrics={"auc": [0.7, 0.75]}, files=["model.pkl"])
    promote(experiment_name=exp, run_id=first, settings=settings, backend=backend)
    result = promote(experiment_name=exp, run_id=second, settings=settings, backend=backend)
    assert not result.decision.promote
    assert result.decision.comparisons[0].baseline == pytest.approx(0.8)


# --- registry -----------------------------------------------------------------------------------


def test_registration_from_the_job_output_with_the_settings_metadata(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A folder with an MLmodel: an mlflow_model at the job output path, with the metadata."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    job = emulator.add_job(
        exp, metrics={"auc": 0.9}, files=["model/MLmodel", "model/model.pkl", "log.txt"]
    )
    settings = {
        "model_name": name,
        "model_file_name": "model/",
        "model_tags": {"team": "risk"},
        "model_properties": {"owner": "ml"},
        "model_description": "churn model",
        "model_framework": "ScikitLearn",
        "model_framework_version": "1.5.2",
        "metrics_max": ["auc"],
    }
    result = promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    assert result.model is not None
    (held,) = emulator.versions(name)
    props = held["properties"]
    assert props["modelUri"] == f"azureml://jobs/{job}/outputs/artifacts/paths/model/"
    assert props["modelType"] == "mlflow_model"
    assert props["description"] == "churn model"
    assert props["tags"]["team"] == "risk"
    assert props["tags"]["promotion.verdict"] == "promote"
    assert props["properties"]["owner"] == "ml"
    assert props["properties"]["promotion.verdict"] == "promote"
    assert (props["properties"]["framework"], props["properties"]["framework_version"]) == (
        "scikitlearn",
        "1.5.2",
    )
    assert result.model.run_id == job


def test_a_single_file_is_a_custom_model(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A model file (no MLmodel): custom_model, at the file's path."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    job = emulator.add_job(exp, files=["outputs/model.pkl"])
    promote(
        experiment_name=exp,
        run_id=job,
        settings={"model_name": name, "model_file_name": "model.pkl"},
        backend=backend,
    )
    (held,) = emulator.versions(name)
    assert held["properties"]["modelType"] == "custom_model"
    assert held["properties"]["modelUri"] == (
        f"azureml://jobs/{job}/outputs/artifacts/paths/outputs/model.pkl"
    )


def test_latest_is_one_request_and_never_an_archived_version(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """latest: one GET with label=latest; an archived newest version is passed over."""
    name = f"m-{unique}"
    first = emulator.add_model_version(name, job=emulator.add_job(f"exp-{unique}"))
    second = emulator.add_model_version(name, job=emulator.add_job(f"exp-{unique}"))
    emulator.set_archived(name, second)
    emulator.clear_requests()
    found = backend.registry.find_baseline(name, BaselineStrategy.latest())
    assert found is not None
    assert found.version == first
    assert len(emulator.matching("GET", "/models/")) == 1


def test_an_archived_version_is_never_a_baseline_by_number(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """version:N of an archived version: a settings error that says it is archived."""
    name = f"m-{unique}"
    version = emulator.add_model_version(name, job=emulator.add_job(f"exp-{unique}"))
    assert backend.registry.find_baseline(name, BaselineStrategy.version(version)) is not None
    emulator.set_archived(name, version)
    with pytest.raises(BaselineNotFoundError, match="archived") as caught:
        backend.registry.find_baseline(name, BaselineStrategy.version(version))
    assert caught.value.model_name == name
    assert caught.value.strategy == f"version:{version}"


def test_a_rerun_of_a_job_whose_version_was_archived_registers_nothing(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """An archived version of the job is "already registered": never a second, active one."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    settings = {"model_name": name, "model_file_name": "outputs/model.pkl", "metrics_max": ["auc"]}
    jobs = [
        emulator.add_job(exp, metrics={"auc": auc}, files=["outputs/model.pkl"])
        for auc in (0.7, 0.9)
    ]
    for job in jobs:
        promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    emulator.set_archived(name, 2)
    again = promote(experiment_name=exp, run_id=jobs[1], settings=settings, backend=backend)
    assert again.already_registered
    assert again.model is not None
    assert (again.model.version, again.model.archived) == (2, True)
    assert any("version 2 is archived" in note for note in again.decision.notes)
    held = emulator.versions(name)
    assert [v["properties"]["isArchived"] for v in held] == [False, True]


def test_a_new_version_is_numbered_above_archived_ones_without_reading_the_container(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """The number comes from the look-up by job (archived versions too): no container read."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    older = [emulator.add_job(exp, metrics={"auc": 0.5}) for _ in range(2)]
    emulator.add_model_version(name, job=older[0])
    newest = emulator.add_model_version(name, job=older[1])
    emulator.set_archived(name, newest)
    job = emulator.add_job(exp, metrics={"auc": 0.9}, files=["outputs/model.pkl"])
    emulator.clear_requests()
    settings = {"model_name": name, "model_file_name": "model.pkl", "metrics_max": ["auc"]}
    result = promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    assert result.model is not None
    assert result.model.version == newest + 1
    assert emulator.matching("GET", rf"/models/{name}$") == []
    assert len(emulator.matching("PUT", "/versions/")) == 1
    assert [v["properties"]["isArchived"] for v in emulator.versions(name)] == [False, True, False]


def test_a_baseline_whose_job_is_gone_fails_closed_after_one_read(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A promoted baseline's job is read through MLflow alone; gone, it is never "none"."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    emulator.add_model_version(name, job=f"gone-{unique}", tags={"promotion.verdict": "promote"})
    job = emulator.add_job(exp, metrics={"auc": 0.9}, files=["outputs/model.pkl"])
    emulator.clear_requests()
    settings = {"model_name": name, "model_file_name": "model.pkl", "metrics_max": ["auc"]}
    with pytest.raises(RunNotFoundError, match=f"behind the baseline {name}:1") as caught:
        promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    assert caught.value.run_id == f"gone-{unique}"
    assert emulator.matching("GET", f"/jobs/gone-{unique}$") == []
    assert len(emulator.matching("GET", "/mlflow/runs/get$")) == 2  # the candidate, the baseline
    assert emulator.matching("PUT", "/versions/") == []


def test_the_job_is_named_in_the_versions_properties_and_found_by_them(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """The version names its job itself, so a re-run finds it without the service's jobName."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    settings = {"model_name": name, "model_file_name": "outputs/model.pkl"}
    job = emulator.add_job(exp, files=["outputs/model.pkl"])
    promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    (held,) = emulator.versions(name)
    assert held["properties"]["properties"]["promotion.job_name"] == job
    held["properties"]["jobName"] = None  # as if the service had not filled it
    again = promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    assert again.already_registered
    assert len(emulator.versions(name)) == 1


def test_a_missing_version_by_number_is_a_settings_error(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """version:N that was never registered: BaselineNotFoundError, never "no baseline"."""
    name = f"m-{unique}"
    emulator.add_model_version(name, job=emulator.add_job(f"exp-{unique}"))
    with pytest.raises(BaselineNotFoundError, match="does not exist"):
        backend.registry.find_baseline(name, BaselineStrategy.version(7))


def test_stage_picks_the_highest_active_version_in_that_stage(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """stage:Production: the highest active version whose v2 stage is Production."""
    name = f"m-{unique}"
    jobs = [emulator.add_job(f"exp-{unique}") for _ in range(4)]
    emulator.add_model_version(name, job=jobs[0], stage="Production")
    second = emulator.add_model_version(name, job=jobs[1], stage="Production")
    emulator.add_model_version(name, job=jobs[2], stage="Development")
    archived = emulator.add_model_version(name, job=jobs[3], stage="Production")
    emulator.set_archived(name, archived)
    found = backend.registry.find_baseline(name, BaselineStrategy.parse("stage:Production"))
    assert found is not None
    assert (found.version, found.run_id) == (second, jobs[1])
    assert backend.registry.find_baseline(name, BaselineStrategy.parse("stage:Archived")) is None


def test_an_alias_is_a_settings_error(backend: Any, unique: str) -> None:
    """The v2 registry has no aliases: asking for one is a settings error, never no baseline."""
    with pytest.raises(SettingsError, match=r"alias:champion.*cannot select a baseline"):
        backend.registry.find_baseline(f"m-{unique}", BaselineStrategy.parse("alias:champion"))


def test_a_version_registered_by_hand_has_no_run(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A version from a datastore path links to no job."""
    name = f"m-{unique}"
    emulator.add_model_version(name)
    found = backend.registry.find_baseline(name, BaselineStrategy.latest())
    assert found is not None
    assert found.run_id is None


# --- construction -------------------------------------------------------------------------------


def test_from_config_reads_the_workspace_file(
    tmp_path: Path, emulator: AzureMLV2Emulator, credential: Any, unique: str
) -> None:
    """config.json names the workspace; the given credential signs the requests."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "subscription_id": emulator.subscription_id,
                "resource_group": emulator.resource_group,
                "workspace_name": emulator.workspace_name,
            }
        )
    )
    backend = AzureMLV2Backend.from_config(config, credential)
    job = emulator.add_job(f"exp-{unique}")
    assert backend.runs.get_run(experiment_name=None, run_id=job).run_id == job
    assert backend.ml_client.workspace_name == emulator.workspace_name


def test_from_service_principal_checks_the_secret_and_never_shows_it() -> None:
    """Malformed AZURE_CREDENTIALS: a CredentialsError naming the keys, not the values."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    with pytest.raises(CredentialsError) as info:
        AzureMLV2Backend.from_service_principal(
            '{"clientId": "the-id", "clientSecret": "s3cr3t-value"}',
            workspace_name="w",
            resource_group="r",
        )
    assert "tenantId" in str(info.value)
    assert "s3cr3t-value" not in str(info.value)


def test_a_token_error_quoting_the_secret_leaves_it_out_of_the_whole_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sign-in error that quotes the client secret: no exception linked to ours holds it."""
    import traceback  # noqa: PLC0415

    import azure.identity  # noqa: PLC0415
    from azure.core.exceptions import ClientAuthenticationError  # noqa: PLC0415

    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    secret = "v2-s3cr3t~Value.0123456789"  # noqa: S105 - a made-up secret to look for

    class Rejecting:
        """What a token endpoint echoing its request body would make of a sign-in."""

        def __init__(self, **_: Any) -> None:
            pass

        def get_token(self, *_: Any, **__: Any) -> Any:
            msg = f"AADSTS7000215: invalid request client_secret={secret}"
            raise ClientAuthenticationError(msg)

    monkeypatch.setattr(azure.identity, "ClientSecretCredential", Rejecting)
    creds = {
        "clientId": "00000000-0000-0000-0000-00000000c1d0",
        "clientSecret": secret,
        "subscriptionId": "11111111-0000-0000-0000-000000000000",
        "tenantId": "22222222-0000-0000-0000-000000000000",
    }
    backend = AzureMLV2Backend.from_service_principal(
        creds, workspace_name="ws", resource_group="rg"
    )
    # A refused sign-in is the user's to fix (exit 2), said in the service's words.
    with pytest.raises(CredentialsError) as caught:
        backend.runs.get_run(experiment_name=None, run_id="job-1")
    shown = "".join(traceback.format_exception(caught.value, chain=True))
    assert secret not in shown
    assert "AADSTS7000215" in shown, "the SDK's redacted text is kept"


def test_from_service_principal_binds_the_named_workspace_without_a_request(
    emulator: AzureMLV2Emulator,
) -> None:
    """Good credentials: a client on the named workspace; nothing is sent until it is used."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    creds = {
        "clientId": "00000000-0000-0000-0000-00000000c1d0",
        "clientSecret": "not-a-real-secret",
        "subscriptionId": "11111111-0000-0000-0000-000000000000",
        "tenantId": "22222222-0000-0000-0000-000000000000",
    }
    backend = AzureMLV2Backend.from_service_principal(
        creds, workspace_name="ws", resource_group="rg"
    )
    client = backend.ml_client
    assert (client.subscription_id, client.resource_group_name, client.workspace_name) == (
        creds["subscriptionId"],
        "rg",
        "ws",
    )
    assert "not-a-real-secret" not in repr(backend)
    assert emulator.count(pattern="/jobs|/models") == 0


def test_from_ml_client_needs_a_workspace(emulator: AzureMLV2Emulator, credential: Any) -> None:
    """An MLClient without a workspace cannot be a backend."""
    from azure.ai.ml import MLClient  # noqa: PLC0415

    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    client = MLClient(credential, subscription_id=emulator.subscription_id)
    with pytest.raises(UsageError, match="workspace"):
        AzureMLV2Backend.from_ml_client(client)


def test_datasets_are_not_registered_and_a_warning_says_so(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A v2 model has no datasets: the version is registered without them, with a warning."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    job = emulator.add_job(exp, files=["model.pkl"])
    settings = {"model_name": name, "datasets": ["train-data"], "cpu_cores": 1, "memory_gb": 2}
    result = promote(experiment_name=exp, run_id=job, settings=settings, backend=backend)
    assert result.model is not None
    assert "datasets" in caplog.text
    assert "not registered" in caplog.text
    (held,) = emulator.versions(name)
    assert "train-data" not in json.dumps(held)


@pytest.mark.parametrize("logged", [5, 500])
def test_requests_per_promotion_stay_flat_in_the_number_of_logged_metrics(
    ml_client: Any, policy: Any, emulator: AzureMLV2Emulator, unique: str, logged: int
) -> None:
    """2 gated metrics against the latest version: 8 requests, whether 5 or 500 were logged.

    A new backend reads its workspace once (the MLflow tracking URI): 9 on its first
    promotion, 8 on the next. (benchmarks/azureml_v2_requests.py prints the breakdown; the
    cloud-metadata document the SDK re-reads is not a request of the promotion.)
    """
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    exp, name = f"exp-{unique}", f"m-{unique}"
    settings = {"model_name": name, "metrics_max": ["metric_00", "metric_01"]}

    def job(base: float) -> str:
        metrics = {f"metric_{i:02d}": base + i / 1000 for i in range(logged)}
        return emulator.add_job(exp, metrics=metrics, files=["outputs/model.pkl"])

    def counted() -> list[str]:
        return [str(r) for r in emulator.requests if r.path != "/metadata/endpoints"]

    first = AzureMLV2Backend.from_ml_client(ml_client, retry=policy)
    promote(experiment_name=exp, run_id=job(0.5), settings=settings, backend=first)
    # A new backend, as in a new process: the baseline's job was never read by this one.
    backend = AzureMLV2Backend.from_ml_client(ml_client, retry=policy)
    emulator.clear_requests()
    result = promote(experiment_name=exp, run_id=job(0.6), settings=settings, backend=backend)
    assert result.model is not None
    assert result.model.version == 2
    assert len(counted()) == 9, counted()
    emulator.clear_requests()
    result = promote(experiment_name=exp, run_id=job(0.7), settings=settings, backend=backend)
    assert result.model is not None
    assert result.model.version == 3
    assert len(counted()) == 8, counted()


# --- local mode -----------------------------------------------------------------------------------

_BLOB_PUT = r"^/azureml-blobstore-emulated/LocalUpload/"


def _blob_uploads(emulator: AzureMLV2Emulator) -> list[str]:
    """The paths of the blobs whose content was sent (not their metadata), in order."""
    return [r.path for r in emulator.matching("PUT", _BLOB_PUT) if "comp" not in r.query]


def _local(backend: Any, path: Path, settings: dict[str, Any], auc: float = 0.8) -> Any:
    return promote(settings=settings, backend=backend, model_path=path, metrics={"auc": auc})


def test_a_local_file_is_uploaded_to_the_default_datastore_and_registered_there(
    *,
    backend: Any,
    emulator: AzureMLV2Emulator,
    proxy: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    unique: str,
) -> None:
    """Local mode: the file's bytes go to the default datastore; the version points at them.

    A custom_model with no job, the settings' metadata (datasets left out, with a warning), and
    the decision's tags (and properties) that make it a baseline; the blob host was reached
    through the proxy's tunnel.
    """
    content = bytes(range(256)) * 40 + unique.encode()
    path = tmp_path / "model.pkl"
    path.write_bytes(content)
    name = f"m-{unique}"
    settings = {
        "model_name": name,
        "metrics_max": ["auc"],
        "model_tags": {"team": "risk"},
        "model_properties": {"owner": "ml"},
        "model_description": "churn model",
        "model_framework": "ScikitLearn",
        "model_framework_version": "1.5.2",
        "datasets": ["train-data"],
    }
    result = _local(backend, path, settings)
    assert result.registered
    assert result.model is not None
    assert result.model.run_id is None
    (held,) = emulator.versions(name)
    props = held["properties"]
    uri = props["modelUri"]
    assert uri.startswith(
        f"azureml://subscriptions/{emulator.subscription_id}/resourcegroups/"
        f"{emulator.resource_group}/workspaces/{emulator.workspace_name}"
        f"/datastores/{emulator.datastore_name}/paths/LocalUpload/"
    )
    assert uri.endswith("/model.pkl")
    assert emulator.uploaded(uri) == {"model.pkl": content}
    assert result.model.source == uri
    assert props["modelType"] == "custom_model"
    assert props["jobName"] is None
    assert props["description"] == "churn model"
    assert props["tags"]["team"] == "risk"
    assert props["tags"]["promotion.metric.auc"] == "0.8"
    assert props["tags"]["promotion.model_digest"].startswith("sha256:")
    assert props["properties"]["owner"] == "ml"
    assert props["properties"]["promotion.verdict"] == "promote"
    assert props["properties"]["framework"] == "scikitlearn"
    assert "promotion.job_name" not in props["properties"]
    assert "datasets" in caplog.text
    assert "train-data" not in json.dumps(held)
    blob = uri.split(f"/datastores/{emulator.datastore_name}/paths/", 1)[1]
    assert emulator.blob_metadata(blob)["upload_status"] == "completed"
    assert f"{emulator.blob_host}:443" in proxy.tunnels


def test_a_local_folder_with_an_mlmodel_is_an_mlflow_model_with_every_file_uploaded(
    backend: Any,
    emulator: AzureMLV2Emulator,
    tmp_path: Path,
    unique: str,
) -> None:
    """A folder holding an MLmodel: an mlflow_model on the folder, each file's bytes uploaded."""
    folder = tmp_path / "model"
    (folder / "data").mkdir(parents=True)
    files = {
        "MLmodel": b"flavors: {}\n",
        "model.pkl": unique.encode() * 100,
        "data/weights.bin": bytes(range(256)),
    }
    for relative, content in files.items():
        (folder / relative).write_bytes(content)
    result = _local(backend, folder, {"model_name": f"m-{unique}", "metrics_max": ["auc"]})
    assert result.model is not None
    (held,) = emulator.versions(f"m-{unique}")
    assert held["properties"]["modelType"] == "mlflow_model"
    assert emulator.uploaded(held["properties"]["modelUri"]) == files


def test_a_symlinked_local_file_is_registered_under_its_own_name(
    backend: Any, emulator: AzureMLV2Emulator, tmp_path: Path, unique: str
) -> None:
    """model.pkl -> a content-addressed blob (DVC, git-annex): registered as model.pkl."""
    blob = tmp_path / "store" / "blob-abc123"
    blob.parent.mkdir()
    blob.write_bytes(b"weights " + unique.encode())
    link = tmp_path / "model.pkl"
    link.symlink_to(blob)
    _local(backend, link, {"model_name": f"m-{unique}", "metrics_max": ["auc"]})
    (held,) = emulator.versions(f"m-{unique}")
    assert held["properties"]["modelUri"].endswith("/model.pkl")
    assert emulator.uploaded(held["properties"]["modelUri"]) == {"model.pkl": blob.read_bytes()}


def test_an_ignore_file_in_a_local_folder_is_warned_about(
    backend: Any,
    emulator: AzureMLV2Emulator,
    tmp_path: Path,
    unique: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The SDK applies the folder's .gitignore to the upload: a warning names it."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_bytes(b"flavors: {}\n")
    (folder / "model.pkl").write_bytes(unique.encode())
    (folder / ".gitignore").write_text("*.pkl\n")
    _local(backend, folder, {"model_name": f"m-{unique}", "metrics_max": ["auc"]})
    assert ".gitignore: azure-ai-ml leaves out of the upload" in caplog.text
    (held,) = emulator.versions(f"m-{unique}")
    assert "model.pkl" not in emulator.uploaded(held["properties"]["modelUri"])


def test_a_rerun_of_the_same_local_file_registers_and_uploads_nothing(
    backend: Any,
    emulator: AzureMLV2Emulator,
    tmp_path: Path,
    unique: str,
) -> None:
    """The same content again: found by its digest tag, already registered; nothing is sent."""
    path = tmp_path / "model.pkl"
    path.write_bytes(b"model " + unique.encode())
    settings = {"model_name": f"m-{unique}", "metrics_max": ["auc"]}
    first = _local(backend, path, settings)
    emulator.clear_requests()
    again = _local(backend, path, settings)
    assert again.already_registered
    assert again.model is not None
    assert first.model is not None
    assert again.model.version == first.model.version == 1
    assert len(emulator.versions(f"m-{unique}")) == 1
    assert emulator.count("PUT") == 0
    assert _blob_uploads(emulator) == []


def test_content_uploaded_before_is_registered_without_uploading_it_again(
    backend: Any,
    emulator: AzureMLV2Emulator,
    tmp_path: Path,
    unique: str,
) -> None:
    """Another model of the same bytes: the SDK finds the confirmed upload and reuses its path."""
    path = tmp_path / "model.pkl"
    path.write_bytes(b"shared " + unique.encode())
    _local(backend, path, {"model_name": f"a-{unique}", "metrics_max": ["auc"]})
    emulator.clear_requests()
    _local(backend, path, {"model_name": f"b-{unique}", "metrics_max": ["auc"]})
    assert _blob_uploads(emulator) == []
    (first,) = emulator.versions(f"a-{unique}")
    (second,) = emulator.versions(f"b-{unique}")
    assert first["properties"]["modelUri"] == second["properties"]["modelUri"]


def test_a_local_path_that_does_not_exist_is_a_model_file_error(
    backend: Any, emulator: AzureMLV2Emulator, tmp_path: Path, unique: str
) -> None:
    """The registry refuses a local path that is not there, before any request."""
    with pytest.raises(ModelFileError, match="does not exist"):
        backend.registry.register(
            RegistrationRequest(name=f"m-{unique}", model_path=str(tmp_path / "missing.pkl"))
        )
    assert [r for r in emulator.requests if r.path != "/metadata/endpoints"] == []


def test_from_config_never_falls_back_to_an_interactive_login(
    tmp_path: Path, emulator: AzureMLV2Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a credential: the environment's way to sign in, or exit 2; never a prompt.

    It was DefaultAzureCredential without its browser login; it is now the chain that
    `from_environment` uses (docs/backends-azureml-v2.md#credentials), which has no prompt at all.
    """
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    (tmp_path / "config.json").write_text(
        json.dumps({"subscription_id": "s", "resource_group": "r", "workspace_name": "w"})
    )
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for name in ("AZURE_CREDENTIALS", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(CredentialsError, match="no Azure credential"):
        AzureMLV2Backend.from_config(tmp_path)
    az = empty / "az"
    az.write_text("#!/bin/sh\nexit 1\n")
    az.chmod(0o755)
    backend = AzureMLV2Backend.from_config(tmp_path)
    assert repr(backend.ml_client._credential).startswith("AzureCliCredential(")
    assert [r for r in emulator.requests if r.path != "/metadata/endpoints"] == []


def test_version_lists_are_read_to_their_last_page(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A tag held by the oldest of 150 versions (on the second page) is found; so is its job."""
    name = f"m-{unique}"
    jobs = [emulator.add_job(f"exp-{unique}") for _ in range(150)]
    emulator.add_model_version(name, job=jobs[0], tags={"champion": "true"})
    for job in jobs[1:]:
        emulator.add_model_version(name, job=job)
    emulator.clear_requests()
    found = backend.registry.find_baseline(name, BaselineStrategy.tagged("champion", "true"))
    assert found is not None
    assert (found.version, found.run_id) == (1, jobs[0])
    assert emulator.count("GET", r"/versions$") == 2
    by_job = backend.registry.find_by_run(name, jobs[0])
    assert by_job is not None
    assert by_job.version == 1


def test_a_metric_logged_on_two_datasets_is_unusable_as_mlflow_says(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """Auc logged on datasets eval and test: unusable with both named, never the last one."""
    job = emulator.add_job(f"exp-{unique}", files=["outputs/model.pkl"])
    emulator.add_logged_model(
        job, "model", dataset_metrics=[("auc", 0.55, "eval", "d1"), ("auc", 0.85, "test", "d2")]
    )
    run = backend.runs.get_run(experiment_name=f"exp-{unique}", run_id=job)
    auc = backend.runs.get_metrics(run, ["auc"]).values["auc"]
    assert isinstance(auc, Unusable)
    assert "logged on 2 datasets (eval@d1, test@d2)" in auc.reason


def test_a_rule_reads_its_metric_on_the_dataset_it_names(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A rule's "dataset" picks the value logged on that dataset, as with MLflow."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    settings = {
        "model_name": name,
        "model_file_name": "outputs/model.pkl",
        "metric_rules": {"auc": {"goal": "maximize", "dataset": "test"}},
    }
    jobs = []
    for held_out in (0.80, 0.70):
        job = emulator.add_job(exp, files=["outputs/model.pkl"])
        emulator.add_logged_model(
            job,
            "model",
            dataset_metrics=[("auc", 0.99, "train", "d0"), ("auc", held_out, "test", "d2")],
        )
        jobs.append(job)
    first = promote(experiment_name=exp, run_id=jobs[0], settings=settings, backend=backend)
    assert first.model is not None
    second = promote(experiment_name=exp, run_id=jobs[1], settings=settings, backend=backend)
    assert second.model is None
    (comparison,) = second.decision.comparisons
    assert (comparison.candidate, comparison.baseline) == (0.70, 0.80)
