"""Azure ML (SDK v1): the metrics from one pipeline step, the model from another.

Through the real azureml-core SDK against the local emulator: ``metrics_child_run_name`` picks
the step run that logged the metrics, ``pipeline_child_run_name`` the one holding the model;
named job outputs are an SDK v2 notion, refused here.
"""

from __future__ import annotations

from typing import Any

import pytest

from integration.azureml.emulator import AzureMLEmulator

pytest.importorskip("azureml.core")

from aml_promotion import Verdict, promote
from aml_promotion.exceptions import SettingsError

pytestmark = pytest.mark.azureml


def settings(unique: str, **more: Any) -> dict[str, Any]:
    return {
        "model_name": f"m-{unique}",
        "metrics_max": ["auc"],
        "model_file_name": "outputs/model.pkl",
        "pipeline_child_run_name": "train",
        "metrics_child_run_name": "evaluate",
        **more,
    }


def pipeline(emulator: AzureMLEmulator, exp: str, auc: float) -> tuple[str, list[str]]:
    return emulator.add_pipeline_run(
        exp,
        [
            ("train", {"files": ["outputs/model.pkl"]}),
            ("evaluate", {"metrics": {"auc": auc}}),
        ],
    )


def test_the_evaluate_steps_metrics_decide_and_the_train_steps_model_is_registered(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """The candidate's AUC is the evaluate step's; the version comes from the train step."""
    exp = f"exp-{unique}"
    first, (train, evaluate) = pipeline(emulator, exp, 0.8)
    result = promote(settings=settings(unique), backend=backend, experiment_name=exp, run_id=first)
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.decision.comparisons[0].candidate == pytest.approx(0.8)
    assert result.model is not None
    assert result.model.run_id == train
    assert result.model.tags["promotion.metrics_run"] == evaluate
    assert f"(metrics from run {evaluate})" in (result.decision.candidate or "")
    second, _ = pipeline(emulator, exp, 0.7)
    later = promote(settings=settings(unique), backend=backend, experiment_name=exp, run_id=second)
    assert later.decision.verdict is Verdict.REJECT
    assert later.decision.comparisons[0].baseline == pytest.approx(0.8)
    assert len(emulator.models(f"m-{unique}")) == 1


def test_job_output_is_refused_by_sdk_v1(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """SDK v1 runs have no named outputs: job_output is a settings error naming it."""
    exp = f"exp-{unique}"
    run, _ = pipeline(emulator, exp, 0.8)
    with pytest.raises(SettingsError, match=r"job_output 'model_output'.* @ \$\.job_output"):
        promote(
            settings=settings(unique, job_output="model_output"),
            backend=backend,
            experiment_name=exp,
            run_id=run,
        )
    assert emulator.models(f"m-{unique}") == []
