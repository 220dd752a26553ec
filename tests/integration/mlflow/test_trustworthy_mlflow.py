"""Trustworthy comparisons on MLflow: fold scores logged at steps, datasets logged as inputs.

Runs are logged with MLflow's own client into a real sqlite store, the way users log them:
``log_metric(..., step=i)`` once per fold, and ``log_inputs`` with the ``mlflow.data.context``
input tag that ``mlflow.log_input(dataset, context="eval")`` writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")
pytest.importorskip("sqlalchemy", reason="a sqlite MLflow store needs SQLAlchemy")
pytest.importorskip("alembic", reason="a sqlite MLflow store needs alembic")

from mlflow.entities import Dataset, DatasetInput, InputTag

from aml_promotion import Verdict, promote
from aml_promotion._domain.policy import EvaluationData
from aml_promotion._domain.significance import SignificanceMethod

if TYPE_CHECKING:
    from integration.mlflow.conftest import MlflowHarness

FOLDS_BETTER = [0.83, 0.85, 0.84, 0.86, 0.85]
FOLDS_BASE = [0.81, 0.82, 0.82, 0.83, 0.82]
NOISY = [0.80, 0.86, 0.79, 0.87, 0.83]

SETTINGS: dict[str, Any] = {
    "model_name": "churn",
    "metrics_max": ["auc_fold"],
    "metric_rules": {"auc_fold": {"significance": {"alpha": 0.05}}},
    "evaluation_data": {"context": "eval"},
}


@pytest.fixture
def harness(sqlite_harness: MlflowHarness) -> MlflowHarness:
    """A harness over a fresh sqlite store."""
    return sqlite_harness


def log_dataset(harness: MlflowHarness, run_id: str, name: str, digest: str, context: str) -> None:
    """Log a dataset input of the run, with its context, as ``mlflow.log_input`` does."""
    dataset = Dataset(name=name, digest=digest, source_type="local", source=f"/data/{name}.csv")
    tags = [InputTag(key="mlflow.data.context", value=context)]
    harness.client.log_inputs(run_id, datasets=[DatasetInput(dataset=dataset, tags=tags)])


def trained(harness: MlflowHarness, folds: list[float], *, digest: str = "1a2b") -> str:
    run_id = harness.add_run("train", {"auc_fold": folds}, ["model.pkl"], status="RUNNING")
    log_dataset(harness, run_id, "test-set", digest, "eval")
    log_dataset(harness, run_id, "train-set", "ffff", "training")
    harness.client.set_terminated(run_id, "FINISHED")
    return run_id


def baseline_registered(harness: MlflowHarness, folds: list[float], digest: str = "1a2b") -> None:
    first = trained(harness, folds, digest=digest)
    result = promote(settings=SETTINGS, backend=harness.backend, run_id=first)
    assert result.model is not None


def test_the_run_port_reads_dataset_inputs_of_the_context(harness: MlflowHarness) -> None:
    run_id = trained(harness, FOLDS_BASE)
    runs = harness.backend.runs
    run = runs.get_run(experiment_name="train", run_id=run_id)
    assert runs.get_evaluation_data(run, EvaluationData(context="eval")) == {"test-set": "1a2b"}
    assert runs.get_evaluation_data(run, EvaluationData(context="training")) == {
        "train-set": "ffff"
    }
    assert runs.get_evaluation_data(run, EvaluationData(context="other")) == {}


def test_the_run_port_reads_a_tag_or_a_parameter(harness: MlflowHarness) -> None:
    run_id = harness.add_run("train", {"auc": 0.9}, ["model.pkl"])
    harness.client.set_tag(run_id, "eval_data_hash", "abc")
    harness.client.log_param(run_id, "test_version", "7")
    runs = harness.backend.runs
    run = runs.get_run(experiment_name=None, run_id=run_id)
    assert runs.get_evaluation_data(run, EvaluationData(tag="eval_data_hash")) == {
        "eval_data_hash": "abc"
    }
    assert runs.get_evaluation_data(run, EvaluationData(tag="test_version")) == {
        "test_version": "7"
    }
    assert runs.get_evaluation_data(run, EvaluationData(tag="absent")) == {}


def test_a_significant_gain_on_the_same_data_is_promoted(harness: MlflowHarness) -> None:
    baseline_registered(harness, FOLDS_BASE)
    candidate = trained(harness, FOLDS_BETTER)
    result = promote(settings=SETTINGS, backend=harness.backend, run_id=candidate)
    assert result.decision.verdict is Verdict.PROMOTE
    (comparison,) = result.decision.comparisons
    assert comparison.method is SignificanceMethod.PAIRED
    assert (comparison.n_candidate, comparison.n_baseline) == (5, 5)
    assert comparison.p_value == 1 / 32
    assert result.model is not None
    version = harness.client.get_model_version("churn", str(result.model.version))
    assert version.tags["promotion.data.test-set"] == "1a2b"
    assert result.decision.to_dict()["evaluation_data"] == {
        "candidate": {"test-set": "1a2b"},
        "baseline": {"test-set": "1a2b"},
    }


def test_a_gain_within_the_noise_is_rejected(harness: MlflowHarness) -> None:
    baseline_registered(harness, FOLDS_BASE)
    candidate = trained(harness, NOISY)
    result = promote(settings=SETTINGS, backend=harness.backend, run_id=candidate)
    assert result.decision.verdict is Verdict.REJECT
    assert "not significant: p = " in result.decision.summary
    assert result.model is None


def test_a_candidate_scored_on_a_new_test_set_is_rejected(harness: MlflowHarness) -> None:
    baseline_registered(harness, FOLDS_BASE)
    candidate = trained(harness, FOLDS_BETTER, digest="9f8e")
    result = promote(settings=SETTINGS, backend=harness.backend, run_id=candidate)
    assert result.decision.verdict is Verdict.REJECT
    assert result.decision.summary == (
        "the candidate was evaluated on test-set@9f8e, the baseline on test-set@1a2b: "
        "not comparable"
    )
