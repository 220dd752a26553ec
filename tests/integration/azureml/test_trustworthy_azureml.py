"""Trustworthy comparisons on Azure ML (SDK v1): fold scores as a series, input datasets.

The real azureml-core SDK against the local emulator: a run's fold scores are a metric logged
once per fold, and its evaluation data is the registered dataset it took as a named input
(``dataset.as_named_input("eval")`` in a job), read from the run's details.
"""

from __future__ import annotations

from typing import Any

import pytest

from integration.azureml.emulator import AzureMLEmulator

pytest.importorskip("azureml.core")

from aml_promotion import Verdict, promote
from aml_promotion._domain.policy import EvaluationData
from aml_promotion._domain.significance import SignificanceMethod

pytestmark = pytest.mark.azureml

FOLDS_BETTER = [0.83, 0.85, 0.84, 0.86, 0.85]
FOLDS_BASE = [0.81, 0.82, 0.82, 0.83, 0.82]
NOISY = [0.80, 0.86, 0.79, 0.87, 0.83]


def settings(unique: str) -> dict[str, Any]:
    return {
        "model_name": f"m-{unique}",
        "model_file_name": "outputs/model.pkl",
        "metrics_max": ["auc_fold"],
        "metric_rules": {"auc_fold": {"significance": {"alpha": 0.05}}},
        "evaluation_data": {"context": "eval"},
    }


def trained(emulator: AzureMLEmulator, unique: str, folds: list[float], dataset: str) -> str:
    run_id = emulator.add_run(
        f"exp-{unique}", metrics={"auc_fold": folds}, files=["outputs/model.pkl"]
    )
    emulator.add_input_dataset(run_id, dataset, input_name="eval")
    return run_id


def test_the_run_port_reads_the_input_datasets_of_that_name(
    emulator: AzureMLEmulator, backend: Any, unique: str
) -> None:
    emulator.add_dataset(f"test-{unique}")
    emulator.add_dataset(f"train-{unique}")
    run_id = trained(emulator, unique, FOLDS_BASE, f"test-{unique}")
    emulator.add_input_dataset(run_id, f"train-{unique}", input_name="training")
    runs = backend.runs
    run = runs.get_run(experiment_name=f"exp-{unique}", run_id=run_id)
    assert runs.get_evaluation_data(run, EvaluationData(context="eval")) == {f"test-{unique}": "1"}
    assert runs.get_evaluation_data(run, EvaluationData(context="training")) == {
        f"train-{unique}": "1"
    }
    assert runs.get_evaluation_data(run, EvaluationData(context="other")) == {}


def test_the_run_port_reads_a_tag_or_a_property(
    emulator: AzureMLEmulator, backend: Any, unique: str
) -> None:
    run_id = emulator.add_run(
        f"exp-{unique}", tags={"eval_data_hash": "abc"}, properties={"test_version": "7"}
    )
    runs = backend.runs
    run = runs.get_run(experiment_name=None, run_id=run_id)
    assert runs.get_evaluation_data(run, EvaluationData(tag="eval_data_hash")) == {
        "eval_data_hash": "abc"
    }
    assert runs.get_evaluation_data(run, EvaluationData(tag="test_version")) == {
        "test_version": "7"
    }
    assert runs.get_evaluation_data(run, EvaluationData(tag="absent")) == {}


def test_a_significant_gain_on_the_same_data_is_promoted(
    emulator: AzureMLEmulator, backend: Any, unique: str
) -> None:
    emulator.add_dataset(f"test-{unique}")
    first = trained(emulator, unique, FOLDS_BASE, f"test-{unique}")
    assert promote(settings=settings(unique), backend=backend, run_id=first).model is not None
    candidate = trained(emulator, unique, FOLDS_BETTER, f"test-{unique}")
    result = promote(settings=settings(unique), backend=backend, run_id=candidate)
    assert result.decision.verdict is Verdict.PROMOTE
    (comparison,) = result.decision.comparisons
    assert comparison.method is SignificanceMethod.PAIRED
    assert comparison.p_value == 1 / 32
    assert result.model is not None
    assert result.model.tags[f"promotion.data.test-{unique}"] == "1"


def test_a_gain_within_the_noise_is_rejected(
    emulator: AzureMLEmulator, backend: Any, unique: str
) -> None:
    emulator.add_dataset(f"test-{unique}")
    first = trained(emulator, unique, FOLDS_BASE, f"test-{unique}")
    promote(settings=settings(unique), backend=backend, run_id=first)
    candidate = trained(emulator, unique, NOISY, f"test-{unique}")
    result = promote(settings=settings(unique), backend=backend, run_id=candidate)
    assert result.decision.verdict is Verdict.REJECT
    assert "not significant" in result.decision.summary


def test_a_candidate_evaluated_on_another_dataset_is_rejected(
    emulator: AzureMLEmulator, backend: Any, unique: str
) -> None:
    emulator.add_dataset(f"test-{unique}")
    emulator.add_dataset(f"test2-{unique}")
    first = trained(emulator, unique, FOLDS_BASE, f"test-{unique}")
    promote(settings=settings(unique), backend=backend, run_id=first)
    candidate = trained(emulator, unique, FOLDS_BETTER, f"test2-{unique}")
    result = promote(settings=settings(unique), backend=backend, run_id=candidate)
    assert result.decision.verdict is Verdict.REJECT
    assert result.decision.summary == (
        f"the candidate was evaluated on test2-{unique}@1, the baseline on test-{unique}@1: "
        "not comparable"
    )
