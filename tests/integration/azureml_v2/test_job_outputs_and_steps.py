"""Named job outputs, metrics from another step, and the job the code runs in (SDK v2).

Through the real azure-ai-ml and azureml-mlflow against the HTTPS emulator: a model kept in a
job's named output (``outputs.model_output``) is registered from
``azureml://jobs/<job>/outputs/<output>/paths/<path>``, after its files were listed in the
default datastore; ``metrics_child_run_name`` reads the metrics from a pipeline's evaluate
step; with no run id, the job named by ``MLFLOW_RUN_ID`` (or its sibling step) is the candidate.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("azure.ai.ml")
pytest.importorskip("azureml.mlflow")

from aml_promotion import Verdict, promote
from aml_promotion._domain import render
from aml_promotion.exceptions import ModelFileError, RunNotFoundError
from aml_promotion.ports import Hop, Resolution
from integration.azureml_v2.emulator import AzureMLV2Emulator

pytestmark = pytest.mark.azureml_v2

MLFLOW_FILES = ["MLmodel", "model.pkl", "conda.yaml"]


def settings(name: str, **more: object) -> dict[str, object]:
    return {"model_name": name, "metrics_max": ["auc"], **more}


@pytest.fixture
def in_job(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The process runs inside an Azure ML job: none of the job variables set yet."""
    for variable in ("MLFLOW_RUN_ID", "AZUREML_RUN_ID"):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


# --- named job outputs ----------------------------------------------------------------------------


@pytest.mark.parametrize("output_uris", [False, True])
def test_an_mlflow_model_in_a_named_output_is_registered_from_that_output(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, output_uris: bool
) -> None:
    """The whole output, holding an MLmodel file, is registered as mlflow_model from its URI.

    Whether the job document names the output's datastore path or leaves it to Azure ML's
    default location, the files are found there.
    """
    job = emulator.add_job(
        f"exp-{unique}",
        metrics={"auc": 0.8},
        outputs={"model_output": MLFLOW_FILES},
        output_type="mlflow_model",
        output_uris=output_uris,
    )
    name = f"model-{unique}"
    result = promote(
        settings=settings(name, job_output="model_output"), backend=backend, run_id=job
    )
    assert result.decision.verdict is Verdict.PROMOTE
    (version,) = emulator.versions(name)
    assert version["properties"]["modelUri"] == f"azureml://jobs/{job}/outputs/model_output/paths/"
    assert version["properties"]["modelType"] == "mlflow_model"
    assert version["properties"]["jobName"] == job
    listed = [r for r in emulator.requests if r.query.get("comp") == "list"]
    assert [r.query.get("prefix") for r in listed] == [f"azureml/{job}/model_output/"]
    # The default datastore is asked for only when the job names no path for the output.
    defaults = [r for r in emulator.requests if r.path.endswith("/datastores")]
    assert len(defaults) == (0 if output_uris else 1)


def test_model_file_name_names_a_file_inside_the_output(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A file inside the output is registered as custom_model, by its path in the output."""
    job = emulator.add_job(
        f"exp-{unique}",
        metrics={"auc": 0.8},
        outputs={"model_output": ["weights/model.onnx", "README.md"]},
    )
    name = f"model-{unique}"
    promote(
        settings=settings(name, job_output="model_output", model_file_name="model.onnx"),
        backend=backend,
        run_id=job,
    )
    (version,) = emulator.versions(name)
    uri = f"azureml://jobs/{job}/outputs/model_output/paths/weights/model.onnx"
    assert version["properties"]["modelUri"] == uri
    assert version["properties"]["modelType"] == "custom_model"


def test_a_folder_with_an_mlmodel_inside_the_output_is_an_mlflow_model(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A folder of the output that holds an MLmodel file is registered as mlflow_model."""
    job = emulator.add_job(
        f"exp-{unique}",
        metrics={"auc": 0.8},
        outputs={"out": ["best/MLmodel", "best/model.pkl", "logs/x.txt"]},
    )
    name = f"model-{unique}"
    promote(
        settings=settings(name, job_output="out", model_file_name="best/"),
        backend=backend,
        run_id=job,
    )
    (version,) = emulator.versions(name)
    assert version["properties"]["modelUri"] == f"azureml://jobs/{job}/outputs/out/paths/best/"
    assert version["properties"]["modelType"] == "mlflow_model"


def test_an_output_the_job_does_not_have_is_an_error_naming_its_outputs(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A wrong job_output: a ModelFileError listing the job's outputs; nothing registered."""
    job = emulator.add_job(f"exp-{unique}", metrics={"auc": 0.8}, outputs={"model": ["a.pkl"]})
    name = f"model-{unique}"
    with pytest.raises(ModelFileError, match=r"no output named 'model_output'.*'default', 'model'"):
        promote(settings=settings(name, job_output="model_output"), backend=backend, run_id=job)
    assert emulator.versions(name) == []


def test_a_file_the_output_does_not_hold_is_an_error_listing_what_it_holds(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """model_file_name that matches nothing in the output: an error listing its files."""
    job = emulator.add_job(f"exp-{unique}", metrics={"auc": 0.8}, outputs={"out": ["a.pkl"]})
    with pytest.raises(ModelFileError, match=r"output 'out' of job .*'a\.pkl'"):
        promote(
            settings=settings(f"m-{unique}", job_output="out", model_file_name="b.pkl"),
            backend=backend,
            run_id=job,
        )


def test_an_empty_output_is_not_registered(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """An output with no files holds no model: an error, never an empty version."""
    job = emulator.add_job(f"exp-{unique}", metrics={"auc": 0.8}, outputs={"out": []})
    with pytest.raises(ModelFileError, match="holds no files"):
        promote(settings=settings(f"m-{unique}", job_output="out"), backend=backend, run_id=job)


def test_a_pipeline_steps_output_is_found_through_run_history(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """A pipeline's step carries no outputs in its job: run history's record names them."""
    exp = f"exp-{unique}"
    train = emulator.add_job(exp, outputs={"model_output": MLFLOW_FILES})
    evaluate = emulator.add_job(exp, metrics={"auc": 0.9})
    pipeline = emulator.add_pipeline_job(exp, {"train": train, "evaluate": evaluate})
    name = f"model-{unique}"
    result = promote(
        settings=settings(
            name,
            job_output="model_output",
            pipeline_child_run_name="train",
            metrics_child_run_name="evaluate",
        ),
        backend=backend,
        experiment_name=exp,
        run_id=pipeline,
    )
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.decision.comparisons[0].candidate == pytest.approx(0.9)
    assert f"(metrics from run {evaluate})" in (result.decision.candidate or "")
    assert render.candidate_line(result.view()) == (
        f"Candidate: run {pipeline} → pipeline step 'train' (run {train}); "
        f"metrics from step 'evaluate' (run {evaluate})."
    )
    (version,) = emulator.versions(name)
    assert (
        version["properties"]["modelUri"] == f"azureml://jobs/{train}/outputs/model_output/paths/"
    )
    assert version["properties"]["modelType"] == "mlflow_model"
    assert version["properties"]["tags"]["promotion.metrics_run"] == evaluate


# --- metrics from one step, the model from another ----------------------------------------------


def test_a_later_promotion_reads_the_champions_metrics_from_its_metrics_step(
    backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """The second pipeline is compared with the first's evaluate step, and loses."""
    exp = f"exp-{unique}"
    name = f"model-{unique}"
    chosen = settings(name, pipeline_child_run_name="train", metrics_child_run_name="evaluate")
    for auc in (0.9, 0.8):
        train = emulator.add_job(exp, files=["model/model.pkl"])
        evaluate = emulator.add_job(exp, metrics={"auc": auc})
        pipeline = emulator.add_pipeline_job(exp, {"train": train, "evaluate": evaluate})
        chosen["model_file_name"] = "model/model.pkl"
        result = promote(settings=chosen, backend=backend, experiment_name=exp, run_id=pipeline)
    assert result.decision.verdict is Verdict.REJECT
    assert result.decision.comparisons[0].baseline == pytest.approx(0.9)
    assert len(emulator.versions(name)) == 1


# --- the job this code runs in ------------------------------------------------------------------


def test_without_a_run_id_the_job_named_by_mlflow_run_id_is_the_candidate(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, in_job: pytest.MonkeyPatch
) -> None:
    """Inside a job (MLFLOW_RUN_ID), no run id means that job, even while it runs."""
    job = emulator.add_job(
        f"exp-{unique}", metrics={"auc": 0.8}, files=["model.pkl"], status="Running"
    )
    in_job.setenv("MLFLOW_RUN_ID", job)
    run = backend.runs.get_run(experiment_name=None, run_id=None, pipeline_step="model_training")
    assert (run.run_id, run.is_current) == (job, True)


def test_inside_a_pipeline_step_the_sibling_step_is_the_candidate(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, in_job: pytest.MonkeyPatch
) -> None:
    """A promote step (AZUREML_RUN_ID) resolves pipeline_child_run_name among its siblings."""
    exp = f"exp-{unique}"
    train = emulator.add_job(exp, metrics={"auc": 0.8}, files=["model.pkl"])
    step = emulator.add_job(exp, status="Running")
    pipeline = emulator.add_pipeline_job(exp, {"train": train, "promote": step})
    in_job.setenv("AZUREML_RUN_ID", step)
    name = f"model-{unique}"
    result = promote(
        settings=settings(name, model_file_name="model.pkl", pipeline_child_run_name="train"),
        backend=backend,
    )
    assert result.model is not None
    assert result.model.run_id == train
    assert result.candidate_run is not None
    assert result.candidate_run.is_current is False
    # Named by no one, the step was reached from the pipeline of the job the code runs in.
    hop = Hop.step("train", train)
    assert result.candidate_run.resolution == Resolution(given=pipeline, hops=(hop,))


def test_the_environment_given_to_from_job_context_names_the_job_too(
    emulator: AzureMLV2Emulator,
    credential: Any,
    unique: str,
    in_job: pytest.MonkeyPatch,  # noqa: ARG001 - clears the process's job variables
) -> None:
    """`from_job_context(environ=...)`: the job comes from that environment, not the process's."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    exp = f"exp-{unique}"
    train = emulator.add_job(exp, metrics={"auc": 0.8}, files=["model.pkl"])
    step = emulator.add_job(exp, status="Running")
    emulator.add_pipeline_job(exp, {"train": train, "promote": step})
    job = {
        "AZUREML_RUN_ID": step,
        "AZUREML_ARM_SUBSCRIPTION": emulator.subscription_id,
        "AZUREML_ARM_RESOURCEGROUP": emulator.resource_group,
        "AZUREML_ARM_WORKSPACE_NAME": emulator.workspace_name,
    }
    backend = AzureMLV2Backend.from_job_context(credential=credential, environ=job)
    run = backend.runs.get_run(experiment_name=None, run_id=None, pipeline_step="train")
    assert run.run_id == train


def test_a_sibling_step_that_does_not_exist_names_the_steps(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, in_job: pytest.MonkeyPatch
) -> None:
    """A promote step whose pipeline has no step of that name lists the pipeline's steps."""
    exp = f"exp-{unique}"
    step = emulator.add_job(exp, status="Running")
    emulator.add_pipeline_job(exp, {"fit": emulator.add_job(exp), "promote": step})
    in_job.setenv("MLFLOW_RUN_ID", step)
    with pytest.raises(RunNotFoundError, match="its steps are: fit, promote"):
        backend.runs.get_run(experiment_name=None, run_id=None, pipeline_step="train")


def test_outside_a_job_no_run_id_is_an_error_naming_the_variables(
    backend: Any,
    in_job: pytest.MonkeyPatch,  # noqa: ARG001 - clears the job's variables
) -> None:
    """Neither a run id nor a job's variables: an error that says what was looked for."""
    with pytest.raises(RunNotFoundError, match="MLFLOW_RUN_ID, AZUREML_RUN_ID"):
        backend.runs.get_run(experiment_name=None, run_id=None)


def test_inside_a_pipeline_step_the_metrics_come_from_the_sibling_evaluate_step(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, in_job: pytest.MonkeyPatch
) -> None:
    """A promote step reads the metrics from one sibling and the model from another."""
    exp = f"exp-{unique}"
    train = emulator.add_job(exp, outputs={"model_output": MLFLOW_FILES})
    evaluate = emulator.add_job(exp, metrics={"auc": 0.85})
    step = emulator.add_job(exp, status="Running")
    emulator.add_pipeline_job(exp, {"train": train, "evaluate": evaluate, "promote": step})
    in_job.setenv("MLFLOW_RUN_ID", step)
    name = f"model-{unique}"
    result = promote(
        settings=settings(
            name,
            job_output="model_output",
            pipeline_child_run_name="train",
            metrics_child_run_name="evaluate",
        ),
        backend=backend,
        experiment_name=exp,
    )
    assert result.decision.comparisons[0].candidate == pytest.approx(0.85)
    assert result.model is not None
    assert (result.model.run_id, result.model.tags["promotion.metrics_run"]) == (train, evaluate)


def test_a_step_that_is_itself_the_named_step_is_the_current_job(
    backend: Any, emulator: AzureMLV2Emulator, unique: str, in_job: pytest.MonkeyPatch
) -> None:
    """A train step that promotes its own model at its end is the candidate, still running."""
    exp = f"exp-{unique}"
    step = emulator.add_job(exp, status="Running", metrics={"auc": 0.8})
    emulator.add_pipeline_job(exp, {"model_training": step})
    in_job.setenv("MLFLOW_RUN_ID", step)
    run = backend.runs.get_run(experiment_name=exp, run_id=None, pipeline_step="model_training")
    assert (run.run_id, run.is_current) == (step, True)
    with pytest.raises(RunNotFoundError, match=f"not 'other-{unique}'"):
        backend.runs.get_run(
            experiment_name=f"other-{unique}", run_id=None, pipeline_step="model_training"
        )
