"""``aml-promote`` as an Azure ML pipeline step: no run id, the candidate is the sibling step.

The command line in this process (its environment given as a job's), over the v2 backend on
the HTTPS emulator: the promote step's job is named by ``AZUREML_RUN_ID``, its pipeline's
train step holds the model in a named output and the metrics.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.ai.ml")
pytest.importorskip("azureml.mlflow")

from aml_promotion._cli import Arguments, in_azureml_job, run
from integration.azureml_v2.emulator import AzureMLV2Emulator

pytestmark = pytest.mark.azureml_v2


def _cli(
    tmp_path: Path, backend: Any, environ: dict[str, str], *extra: str
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(
        ["--backend=azureml-v2", "--parameters-file=registermodel.json", "--json", *extra],
        environ=environ,
        stdout=out,
        stderr=err,
        cwd=tmp_path,
        backend_factory=lambda _: backend,
    )
    return code, out.getvalue(), err.getvalue()


def test_a_promote_step_with_no_run_id_registers_its_train_steps_output(
    tmp_path: Path,
    backend: Any,
    emulator: AzureMLV2Emulator,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Exit 0; the version comes from the train step's named output, an MLflow model."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    train = emulator.add_job(
        exp, metrics={"auc": 0.8}, outputs={"model_output": ["MLmodel", "model.pkl"]}
    )
    step = emulator.add_job(exp, status="Running")
    emulator.add_pipeline_job(exp, {"train_model": train, "promote": step})
    (tmp_path / "registermodel.json").write_text(
        json.dumps(
            {
                "model_name": name,
                "metrics_max": ["auc"],
                "pipeline_child_run_name": "train_model",
                "job_output": "model_output",
            }
        )
    )
    environ = {"AZUREML_RUN_ID": step, "MLFLOW_RUN_ID": step}
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    code, out, err = _cli(tmp_path, backend, environ)
    assert code == 0, out + err
    document = json.loads(out)
    assert document["promoted"] is True
    assert document["model"]["run_id"] == train
    (version,) = emulator.versions(name)
    assert (
        version["properties"]["modelUri"] == f"azureml://jobs/{train}/outputs/model_output/paths/"
    )
    assert version["properties"]["modelType"] == "mlflow_model"


def test_no_run_id_is_the_job_only_inside_a_job_on_azureml_v2() -> None:
    """Outside a job, on another backend, or with --metrics-file, no run id is local mode."""
    v2 = Arguments.parse(["--backend=azureml-v2"])
    job = {"MLFLOW_RUN_ID": "job-1"}
    assert in_azureml_job(v2, job)
    assert in_azureml_job(v2, {"AZUREML_RUN_ID": "job-1"})
    assert not in_azureml_job(v2, {})
    assert not in_azureml_job(v2, {"MLFLOW_RUN_ID": "  "})
    assert not in_azureml_job(Arguments.parse(["--backend=mlflow"]), job)
    local = Arguments.parse(["--backend=azureml-v2", "--metrics-file=m.json"])
    assert not in_azureml_job(local, job)
    named = Arguments.parse(["--backend=azureml-v2", "--experiment-name=e", "--run-id=r"])
    assert not in_azureml_job(named, job)
