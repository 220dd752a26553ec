"""The pipeline-step component and docs/azureml-pipeline-step.md, checked by azure-ai-ml itself.

azure-ai-ml's own ``load_component`` and ``load_job`` are the oracle: the shipped component
(``components/promote.yml``) loads and validates, and so do the page's whole pipeline in YAML
and in the Python SDK v2, written out as a user would (the page's code blocks, unchanged).
Nothing is submitted: no request leaves the process.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.ai.ml")

ROOT = Path(__file__).resolve().parents[3]
COMPONENT = ROOT / "components" / "promote.yml"
PAGE = ROOT / "docs" / "azureml-pipeline-step.md"

pytestmark = [
    pytest.mark.azureml_v2,
    # azure-ai-ml's YAML schemas pass marshmallow a `context`, which marshmallow 3.2x warns of.
    pytest.mark.filterwarnings("ignore:The `context` parameter is deprecated:Warning"),
]


def _block(section: str, language: str, index: int = 0) -> str:
    """Return the `index`-th ``language`` code block under the page's heading `section`."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"## {section}\n")
    end = text.find("\n## ", start + 1)
    part = text[start : end if end != -1 else len(text)]
    blocks = re.findall(rf"```{language}\n(.*?)```", part, flags=re.DOTALL)
    return str(blocks[index])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's folder as the page describes it: the pipeline's files beside the component."""
    (tmp_path / "components").mkdir()
    shutil.copy(COMPONENT, tmp_path / "components" / "promote.yml")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(_block("A whole pipeline (YAML)", "python"))
    settings = _block("Which model, which metrics", "json")
    (tmp_path / "registermodel.json").write_text(settings)
    return tmp_path


def _validated(entity: Any) -> Any:
    result = entity._validate()  # azure-ai-ml's local validation: no request
    assert result.passed, result.error_messages
    return entity


def test_the_component_loads_as_a_command_component_that_runs_aml_promote() -> None:
    """load_component reads the component: its inputs, output, environment and command."""
    from azure.ai.ml import load_component  # noqa: PLC0415

    component = _validated(load_component(source=COMPONENT))
    assert component.type == "command"
    assert set(component.inputs) == {"settings", "trained_model", "metrics"}
    assert component.inputs["settings"].type == "uri_file"
    assert component.inputs["metrics"].optional is True
    assert set(component.outputs) == {"decision"}
    pip = component.environment.conda_file["dependencies"][-1]["pip"]
    assert "aml-promotion[azureml-v2]" in pip
    assert component.command.startswith("aml-promote --backend azureml-v2 ")
    assert "--run-id" not in component.command
    assert "${{inputs.settings}}" in component.command


def test_the_pages_settings_name_the_train_step_and_its_output(project: Path) -> None:
    """The settings block loads, naming the step and the output the pipelines use."""
    from aml_promotion import load_settings  # noqa: PLC0415

    settings = load_settings(project / "registermodel.json", strict=True)
    assert settings.pipeline_child_run_name == "train_model"
    assert settings.job_output == "model_output"
    assert json.loads((project / "registermodel.json").read_text())["model_name"] == "churn"


def test_the_pages_yaml_pipeline_loads_and_validates(project: Path) -> None:
    """load_job reads the page's pipeline: the promote node runs the component after training."""
    from azure.ai.ml import load_job  # noqa: PLC0415

    path = project / "pipeline.yml"
    path.write_text(_block("A whole pipeline (YAML)", "yaml"))
    job = _validated(load_job(source=path))
    assert set(job.jobs) == {"train_model", "promote"}
    promote = job.jobs["promote"]
    assert promote.component.command.startswith("aml-promote --backend azureml-v2 ")
    assert str(promote.inputs["trained_model"]._data) == (
        "${{parent.jobs.train_model.outputs.model_output}}"
    )
    assert job.jobs["train_model"].outputs["model_output"].type == "mlflow_model"


def test_the_pages_python_pipeline_builds_and_validates(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's SDK v2 code builds the same pipeline: nodes train_model and promote."""
    monkeypatch.chdir(project)
    namespace: dict[str, Any] = {}
    exec(_block("The same pipeline (Python SDK v2)", "python"), namespace)  # noqa: S102
    job = _validated(namespace["pipeline_job"])
    assert set(job.jobs) == {"train_model", "promote_model"}  # a node is named by its variable
    promote = job.jobs["promote_model"]
    assert promote.component.command.startswith("aml-promote --backend azureml-v2 ")
    assert type(promote.identity).__name__ == "UserIdentityConfiguration"
    assert job.experiment_name == "churn"
