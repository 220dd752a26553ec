"""MLflow: the metrics from one child run, the model from another; no named job outputs.

A parent run stands for a pipeline, its nested child runs (by run name, the ``mlflow.runName``
tag) for its steps: ``metrics_child_run_name`` picks the one that logged the metrics,
``pipeline_child_run_name`` the one that logged the model. Against a real sqlite store; the
registered version is loaded back with MLflow's own loader.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")
pytest.importorskip("sqlalchemy", reason="a sqlite MLflow store needs SQLAlchemy")
pytest.importorskip("pandas", reason="mlflow.pyfunc.load_model needs pandas")

import mlflow

from aml_promotion import Verdict, promote
from aml_promotion.adapters.mlflow import MlflowBackend
from aml_promotion.exceptions import SettingsError
from integration.mlflow.pyfunc_model import AddK, predict

pytestmark = [
    # MLflow's own chatter when a pyfunc model is logged or its types module is imported.
    pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*Add type hints to the `predict` method:UserWarning"),
]

SETTINGS: dict[str, Any] = {
    "model_name": "churn",
    "model_file_name": "model",
    "metrics_max": ["auc"],
    "pipeline_child_run_name": "train",
    "metrics_child_run_name": "evaluate",
}


def _pipeline(k: int, auc: float) -> tuple[str, str, str]:
    """Log a parent run with a train child (the model) and an evaluate child (the AUC)."""
    mlflow.set_experiment("pipelines")
    with mlflow.start_run() as parent:
        with mlflow.start_run(run_name="train", nested=True) as train:
            mlflow.pyfunc.log_model(name="model", python_model=AddK(k), pip_requirements=[])
        with mlflow.start_run(run_name="evaluate", nested=True) as evaluate:
            mlflow.log_metric("auc", auc)
    return str(parent.info.run_id), str(train.info.run_id), str(evaluate.info.run_id)


def test_the_model_of_the_train_run_is_registered_on_the_evaluate_runs_metrics(
    tracking: str,
) -> None:
    """Promoted on the evaluate child's AUC, the train child's model is registered."""
    parent, train, evaluate = _pipeline(1, 0.8)
    result = promote(
        settings=SETTINGS,
        backend=MlflowBackend(tracking),
        experiment_name="pipelines",
        run_id=parent,
    )
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.decision.comparisons[0].candidate == pytest.approx(0.8)
    assert result.model is not None
    assert result.model.run_id == train
    assert f"(metrics from run {evaluate})" in (result.decision.candidate or "")
    assert result.model.tags["promotion.metrics_run"] == evaluate
    assert predict(f"models:/churn/{result.model.version}") == [2, 3]


def test_the_next_pipeline_is_compared_with_the_champions_evaluate_run(tracking: str) -> None:
    """The baseline's metrics come from the child run its record names: a worse AUC loses."""
    backend = MlflowBackend(tracking)
    first, _, _ = _pipeline(1, 0.8)
    promote(settings=SETTINGS, backend=backend, experiment_name="pipelines", run_id=first)
    second, _, _ = _pipeline(2, 0.7)
    result = promote(settings=SETTINGS, backend=backend, experiment_name="pipelines", run_id=second)
    assert result.decision.verdict is Verdict.REJECT
    assert result.decision.comparisons[0].baseline == pytest.approx(0.8)
    assert predict("models:/churn/latest") == [2, 3]


def test_job_output_is_refused_by_mlflow(tracking: str) -> None:
    """MLflow runs have no named outputs: job_output is a settings error naming it."""
    parent, _, _ = _pipeline(1, 0.8)
    with pytest.raises(SettingsError, match=r"job_output 'model_output'.* @ \$\.job_output"):
        promote(
            settings={**SETTINGS, "job_output": "model_output"},
            backend=MlflowBackend(tracking),
            run_id=parent,
        )
