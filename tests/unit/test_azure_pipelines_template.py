"""azure-pipelines/promote.yml: an AzureCLI@2 step template, safe from script injection."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from step_scripts import EXPRESSION, read_yaml, run_bash, write_fake_cli

TEMPLATE = Path(__file__).resolve().parents[2] / "azure-pipelines" / "promote.yml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """The parsed template."""
    return read_yaml(TEMPLATE)


def the_step(template: dict[str, Any]) -> dict[str, Any]:
    (step,) = template["steps"]
    assert isinstance(step, dict)
    return step


def test_one_azure_cli_step_named_by_a_parameter(template: dict[str, Any]) -> None:
    """An AzureCLI@2 step over a service connection; its name prefixes the output variables."""
    step = the_step(template)
    assert step["task"] == "AzureCLI@2"
    assert step["name"] == "${{ parameters.name }}"
    assert step["inputs"]["azureSubscription"] == "${{ parameters.azureSubscription }}"
    assert step["inputs"]["scriptType"] == "bash"
    assert step["inputs"]["failOnStandardError"] is False
    parameters = {p["name"]: p for p in template["parameters"]}
    assert parameters["name"]["default"] == "promote"
    assert "default" not in parameters["azureSubscription"]
    assert all(p.get("displayName") for p in parameters.values())


def test_no_template_expression_is_inside_the_script(template: dict[str, Any]) -> None:
    """Values reach the script through env: only, so none can inject shell code."""
    step = the_step(template)
    assert not EXPRESSION.search(step["inputs"]["inlineScript"])
    assert "$(" not in step["inputs"]["inlineScript"].replace("$(python", "").replace(
        "$(az account", ""
    )
    used = {EXPRESSION.fullmatch(v)[1] for v in step["env"].values()}  # type: ignore[index]
    declared = {f"parameters.{p['name']}" for p in template["parameters"]}
    # Every parameter the script needs is passed (the others go to the task's own inputs).
    assert used == declared - {
        "parameters.azureSubscription", "parameters.name", "parameters.workingDirectory"
    }  # fmt: skip


@pytest.fixture
def fake_cli(tmp_path: Path) -> Path:
    """A folder holding an `aml-promote` that prints its arguments as JSON."""
    return write_fake_cli(tmp_path)


def run_script(
    template: dict[str, Any], path: str, cwd: Path, **values: object
) -> subprocess.CompletedProcess[str]:
    """Run the step's script with bash as the agent would, parameters given as env: sets them."""
    step = the_step(template)
    defaults = {p["name"]: p.get("default", "") for p in template["parameters"]}
    chosen = {**defaults, "package": "", **values}
    env = {"PATH": f"{path}{os.pathsep}{os.environ.get('PATH', '')}"}
    for name, expression in step["env"].items():
        value = chosen[EXPRESSION.fullmatch(expression)[1].removeprefix("parameters.")]  # type: ignore[index]
        # Template booleans are the strings True and False in the step's environment.
        env[name] = str(value)
    return run_bash(step["inputs"]["inlineScript"], env, cwd=cwd)


def test_parameters_become_options(
    template: dict[str, Any], fake_cli: Path, tmp_path: Path
) -> None:
    """Given parameters become --option=value; booleans flags; empty ones are left out."""
    done = run_script(
        template, str(fake_cli), tmp_path,
        experimentName="train", runId="-rf /", dryRun=True, failOnReject=False,
        parametersFile="ci/promote.json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["argv"] == [
        "--backend=azureml-v2", "--parameters-file=ci/promote.json",
        "--experiment-name=train", "--run-id=-rf /", "--dry-run", "--no-fail-on-reject",
    ]  # fmt: skip
    defaults = run_script(template, str(fake_cli), tmp_path)
    assert json.loads(defaults.stdout)["argv"] == ["--backend=azureml-v2"]


def test_a_value_with_shell_syntax_is_only_text(
    template: dict[str, Any], fake_cli: Path, tmp_path: Path
) -> None:
    """A run id holding $(...) and quotes reaches aml-promote as it is; nothing runs."""
    evil = '$(touch pwned)"; touch pwned2; echo "'
    done = run_script(template, str(fake_cli), tmp_path, experimentName="e", runId=evil)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["argv"][-1] == f"--run-id={evil}"
    assert not list(tmp_path.glob("pwned*"))
