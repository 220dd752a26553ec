"""Same evaluation data on Azure ML (SDK v2): a job's data inputs, its tags and parameters.

The real azure-ai-ml SDK against the emulator: a job's evaluation data is the data input of
that name (``inputs={"eval": Input(path="azureml:test:1")}``), which the jobs REST API returns
with the job; a tag or parameter comes from the job's MLflow run.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("azure.ai.ml")
pytest.importorskip("azureml.mlflow")

from aml_promotion import Verdict, promote
from aml_promotion._domain.policy import EvaluationData
from integration.azureml_v2.emulator import AzureMLV2Emulator

pytestmark = pytest.mark.azureml_v2


def settings(unique: str) -> dict[str, Any]:
    return {
        "model_name": f"m-{unique}",
        "model_file_name": "model.pkl",
        "metrics_max": ["auc"],
        "evaluation_data": {"context": "eval"},
    }


def trained(emulator: AzureMLV2Emulator, unique: str, auc: float, data: str) -> str:
    return emulator.add_job(
        f"exp-{unique}", metrics={"auc": auc}, files=["model.pkl"], inputs={"eval": data}
    )


def test_the_run_port_names_a_data_asset_input_by_name_and_version(
    emulator: AzureMLV2Emulator, backend: Any, unique: str
) -> None:
    """azureml:NAME:VERSION and the asset id the service stores both give NAME → VERSION."""
    asset_id = f"azureml:{emulator.workspace_path}/data/train-{unique}/versions/4"
    job = emulator.add_job(
        f"exp-{unique}",
        inputs={
            "eval": f"azureml:test-{unique}:3",
            "training": asset_id,
            "raw": "azureml://datastores/workspaceblobstore/paths/raw/2024/",
            "latest": f"azureml:test-{unique}@latest",
        },
    )
    runs = backend.runs
    run = runs.get_run(experiment_name=None, run_id=job)
    assert runs.get_evaluation_data(run, EvaluationData(context="eval")) == {f"test-{unique}": "3"}
    assert runs.get_evaluation_data(run, EvaluationData(context="training")) == {
        f"train-{unique}": "4"
    }
    assert runs.get_evaluation_data(run, EvaluationData(context="raw")) == {
        "raw": "azureml://datastores/workspaceblobstore/paths/raw/2024/"
    }
    assert runs.get_evaluation_data(run, EvaluationData(context="latest")) == {
        f"test-{unique}": None
    }
    assert runs.get_evaluation_data(run, EvaluationData(context="other")) == {}


def test_the_run_port_reads_a_tag_else_a_parameter(
    emulator: AzureMLV2Emulator, backend: Any, unique: str
) -> None:
    """source.tag: the job's (MLflow run's) tag of that name, else its parameter."""
    job = emulator.add_job(
        f"exp-{unique}",
        tags={"eval_data_hash": "abc"},
        params={"test_version": "7", "eval_data_hash": "ignored"},
    )
    runs = backend.runs
    run = runs.get_run(experiment_name=None, run_id=job)
    assert runs.get_evaluation_data(run, EvaluationData(tag="eval_data_hash")) == {
        "eval_data_hash": "abc"
    }
    assert runs.get_evaluation_data(run, EvaluationData(tag="test_version")) == {
        "test_version": "7"
    }
    assert runs.get_evaluation_data(run, EvaluationData(tag="absent")) == {}


def test_a_better_candidate_on_the_same_data_is_promoted(
    emulator: AzureMLV2Emulator, backend: Any, unique: str
) -> None:
    first = trained(emulator, unique, 0.80, f"azureml:test-{unique}:1")
    assert promote(settings=settings(unique), backend=backend, run_id=first).model is not None
    candidate = trained(emulator, unique, 0.85, f"azureml:test-{unique}:1")
    result = promote(settings=settings(unique), backend=backend, run_id=candidate)
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.model is not None
    assert result.model.tags[f"promotion.data.test-{unique}"] == "1"


def test_a_better_candidate_on_another_data_version_is_rejected(
    emulator: AzureMLV2Emulator, backend: Any, unique: str
) -> None:
    first = trained(emulator, unique, 0.80, f"azureml:test-{unique}:1")
    promote(settings=settings(unique), backend=backend, run_id=first)
    candidate = trained(emulator, unique, 0.85, f"azureml:test-{unique}:2")
    result = promote(settings=settings(unique), backend=backend, run_id=candidate)
    assert result.decision.verdict is Verdict.REJECT
    assert result.model is None
    assert result.decision.summary == (
        f"the candidate was evaluated on test-{unique}@2, the baseline on test-{unique}@1: "
        "not comparable"
    )


@pytest.mark.parametrize("source", ["context", "tag"])
def test_a_baseline_registered_by_hand_is_read_for_its_data_from_its_job(
    emulator: AzureMLV2Emulator, backend: Any, unique: str, source: str
) -> None:
    """No promotion tags on the baseline: its data comes from its job (input, or MLflow tag)."""
    name = f"m-{unique}"

    def job(auc: float, version: str) -> str:
        return emulator.add_job(
            f"exp-{unique}",
            metrics={"auc": auc},
            files=["model.pkl"],
            inputs={"eval": f"azureml:test-{unique}:{version}"},
            tags={"eval_version": version},
        )

    base = job(0.80, "1")
    emulator.add_model_version(name, job=base)
    chosen = {"context": "eval"} if source == "context" else {"tag": "eval_version"}
    wanted = {**settings(unique), "evaluation_data": chosen}
    emulator.clear_requests()
    result = promote(settings=wanted, backend=backend, run_id=job(0.85, "2"))
    # Registered by hand, it may name a pipeline or a sweep: read as a job (once), resolved.
    assert len(emulator.matching("GET", f"/jobs/{base}$")) == 1
    assert result.decision.verdict is Verdict.REJECT
    assert "not comparable" in result.decision.summary
    same = promote(settings=wanted, backend=backend, run_id=job(0.85, "1"))
    assert same.decision.verdict is Verdict.PROMOTE


def test_a_promoted_baselines_run_is_read_once_for_its_metrics_and_its_data_tag(
    emulator: AzureMLV2Emulator, backend: Any, unique: str
) -> None:
    """A version a promotion registered: one MLflow read of its job, no job read at all."""

    def job(auc: float) -> str:
        return emulator.add_job(
            f"exp-{unique}", metrics={"auc": auc}, files=["model.pkl"], tags={"eval": "v1"}
        )

    wanted = {**settings(unique), "evaluation_data": {"tag": "eval"}}
    base = job(0.80)
    assert promote(settings=wanted, backend=backend, run_id=base).model is not None
    emulator.clear_requests()
    result = promote(settings=wanted, backend=backend, run_id=job(0.85))
    assert result.decision.verdict is Verdict.PROMOTE
    assert emulator.matching("GET", f"/jobs/{base}$") == []
    reads = [r for r in emulator.matching("GET", "/runs/get$") if r.query.get("run_id") == base]
    assert len(reads) == 1
