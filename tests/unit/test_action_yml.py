"""action.yml: a composite drop-in for Azure/aml-registermodel, safe from script injection."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from step_scripts import EXPRESSION, read_yaml, run_bash, write_fake_cli

ACTION = Path(__file__).resolve().parents[2] / "action.yml"
ORIGINAL_INPUTS = {"azure_credentials", "experiment_name", "run_id", "parameters_file"}
NEW_INPUTS = {"backend", "tracking_uri", "dry_run", "fail_on_reject", "metrics_file"}
# Azure ML with no secret (GitHub OIDC) and the workspace by name, as Microsoft's workflows give it.
AZURE_INPUTS = {"client_id", "tenant_id", "subscription_id", "resource_group", "workspace_name"}
# Promotion across environments: a registered version into an Azure ML registry.
ACROSS_INPUTS = {"candidate_version", "target_registry"}
OUTPUTS = {"model_name", "model_version", "model_id", "promoted", "decision", "champion_version"}


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    """The parsed action.yml."""
    return read_yaml(ACTION)


def steps(action: dict[str, Any]) -> list[dict[str, Any]]:
    result = action["runs"]["steps"]
    assert isinstance(result, list)
    return result


def step(action: dict[str, Any], step_id: str) -> dict[str, Any]:
    (found,) = [s for s in steps(action) if s.get("id") == step_id]
    return found


def test_inputs_are_the_originals_plus_the_new_ones(action: dict[str, Any]) -> None:
    """Every input of Azure/aml-registermodel is kept, so a `uses:` swap is enough."""
    assert set(action["inputs"]) == ORIGINAL_INPUTS | NEW_INPUTS | AZURE_INPUTS | ACROSS_INPUTS


def test_input_defaults_match_the_original_and_the_cli(action: dict[str, Any]) -> None:
    """Defaults: registermodel.json, azureml-v2, a real run (not a dry run), and fail on reject.

    The backend's default was azureml (SDK v1) until v1's support ended (30 June 2026).
    """
    inputs = action["inputs"]
    assert inputs["parameters_file"]["default"] == "registermodel.json"
    assert inputs["backend"]["default"] == "azureml-v2"
    assert all(inputs[name]["default"] == "" for name in AZURE_INPUTS)
    assert inputs["dry_run"]["default"] == "false"
    assert inputs["fail_on_reject"]["default"] == "true"
    assert not any(spec.get("required") for spec in inputs.values())
    assert all(spec.get("description") for spec in inputs.values())


def test_outputs_come_from_the_promote_step(action: dict[str, Any]) -> None:
    """Each output is the promote step's output of the same name."""
    outputs = action["outputs"]
    assert set(outputs) == OUTPUTS
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.promote.outputs.{name} }}}}"
        assert spec["description"]


def test_it_is_a_composite_action_without_docker(action: dict[str, Any]) -> None:
    """A composite action: no Docker image to build on every run."""
    assert action["runs"]["using"] == "composite"
    assert "image" not in action["runs"]


def test_no_run_script_holds_an_expression(action: dict[str, Any]) -> None:
    """No `${{ }}` in any script: inputs are never pasted into shell code (script injection)."""
    scripts = [s["run"] for s in steps(action) if "run" in s]
    assert len(scripts) == 2
    for script in scripts:
        assert EXPRESSION.findall(script) == []
        assert "inputs." not in script
        assert "github.event" not in script


def test_every_input_reaches_the_scripts_through_env(action: dict[str, Any]) -> None:
    """Every input is passed to a run step as an environment variable, and only there."""
    seen: set[str] = set()
    for each in steps(action):
        for value in (each.get("env") or {}).values():
            seen.update(
                e.removeprefix("inputs.")
                for e in EXPRESSION.findall(str(value))
                if e.startswith("inputs.")
            )
        assert "run" not in each or each.get("shell") == "bash"
    assert seen == set(action["inputs"])


def test_it_installs_itself_from_the_action_checkout_with_the_backend_extra(
    action: dict[str, Any],
) -> None:
    """The package comes from the action's own checkout, with the chosen backend's extra."""
    script = step(action, "install")["run"]
    assert '"${GITHUB_ACTION_PATH}[${AML_PROMOTE_BACKEND}]"' in script
    assert "-m pip install" in script
    assert "aml-promote" in step(action, "promote")["run"]


# --- the promote step's script, run by bash with a stand-in for aml-promote -------------------


Step = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def promote_step(action: dict[str, Any], tmp_path: Path) -> Step:
    """Run the promote step's script with `inputs` (the rest at their defaults) in `tmp_path`.

    Its `aml-promote` is a stand-in that prints its arguments and credentials as JSON.
    """
    fake_cli = write_fake_cli(
        tmp_path,
        env={"credentials": "AZURE_CREDENTIALS", "leaked": "AML_PROMOTE_AZURE_CREDENTIALS"},
    )
    promote = step(action, "promote")
    defaults = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}

    def run(**inputs: str) -> subprocess.CompletedProcess[str]:
        values = {**defaults, **inputs}
        env = {"PATH": os.environ.get("PATH", ""), "AML_PROMOTE_BIN": str(fake_cli)}
        for name, expression in promote["env"].items():
            (inner,) = EXPRESSION.findall(expression)
            if inner.startswith("inputs."):
                env[name] = values[inner.removeprefix("inputs.")]
        return run_bash(promote["run"], env, cwd=tmp_path)

    return run


@pytest.fixture
def promoted(promote_step: Step) -> Callable[..., dict[str, Any]]:
    """What the stand-in `aml-promote` was given by a promote step with `inputs` (exit 0)."""

    def seen(**inputs: str) -> dict[str, Any]:
        done = promote_step(**inputs)
        assert done.returncode == 0, done.stderr
        value = json.loads(done.stdout)
        assert isinstance(value, dict)
        return value

    return seen


@pytest.mark.parametrize(
    ("inputs", "argv", "credentials"),
    [
        pytest.param(
            {
                "experiment_name": "train", "run_id": "run-1", "backend": "mlflow",
                "tracking_uri": "sqlite:///m.db", "dry_run": "true", "fail_on_reject": "False",
                "azure_credentials": '{"clientSecret": "xyz"}',
            },
            [
                "--backend=mlflow", "--experiment-name=train", "--run-id=run-1",
                "--tracking-uri=sqlite:///m.db", "--dry-run", "--no-fail-on-reject",
            ],
            '{"clientSecret": "xyz"}',
            id="a run, booleans as flags, the secret",
        ),
        pytest.param(
            {
                "run_id": "calm_lemon_x7k2m9", "client_id": "app-id", "tenant_id": "tenant",
                "subscription_id": "sub", "resource_group": "ml-rg", "workspace_name": "ml-ws",
            },
            [
                "--backend=azureml-v2", "--run-id=calm_lemon_x7k2m9", "--client-id=app-id",
                "--tenant-id=tenant", "--subscription-id=sub", "--resource-group=ml-rg",
                "--workspace-name=ml-ws",
            ],
            None,
            id="the workspace and the OIDC app",
        ),
        pytest.param(
            {
                "candidate_version": "churn-dev:7", "target_registry": "-prod-models",
                "workspace_name": "dev-ws",
            },
            [
                "--backend=azureml-v2", "--workspace-name=dev-ws",
                "--candidate-version=churn-dev:7", "--target-registry=-prod-models",
            ],
            None,
            id="a candidate version and its target registry",
        ),
        pytest.param({}, ["--backend=azureml-v2"], None, id="nothing given"),
    ],
)  # fmt: skip
def test_the_promote_step_maps_inputs_to_options(
    promoted: Callable[..., dict[str, Any]],
    inputs: dict[str, str],
    argv: list[str],
    credentials: str | None,
) -> None:
    """Inputs become --option=value, empty ones left out, booleans flags; the secret as a variable.

    The secret reaches aml-promote as AZURE_CREDENTIALS only, never under the step's own name.
    """
    seen = promoted(**inputs)
    assert seen["argv"] == argv
    assert seen["credentials"] == credentials
    assert seen["leaked"] is None


def test_the_install_step_reads_the_backend_in_any_case(
    tmp_path: Path, action: dict[str, Any]
) -> None:
    """backend: AzureML-v2 installs the azureml-v2 extra; an unknown one is exit 2 listing them."""
    python = tmp_path / "python"
    # A stand-in for setup-python's interpreter: `-m venv` makes the folder, pip prints its args.
    python.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin"; '
        'cp "$0" "$3/bin/python"; exit 0; fi\n'
        'echo "pip: $*"\n',
        encoding="utf-8",
    )
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    script = step(action, "install")["run"]

    def install(backend: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AML_PROMOTE_PYTHON": str(python),
            "AML_PROMOTE_BACKEND": backend,
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_ACTION_PATH": "/action",
            "GITHUB_OUTPUT": str(tmp_path / "out"),
        }
        return run_bash(script, env)

    done = install("AzureML-V2")
    assert done.returncode == 0, done.stderr
    assert "/action[azureml-v2]" in done.stdout
    refused = install("azure")
    assert refused.returncode == 2
    assert "backend must be azureml-v2, mlflow or azureml" in refused.stdout


def test_the_promote_step_passes_hostile_inputs_as_plain_text(
    promoted: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    """An input holding shell syntax reaches aml-promote verbatim and runs nothing."""
    hostile = '$(touch pwned1)"; touch pwned2; echo "`touch pwned3`'
    argv = promoted(experiment_name=hostile, run_id=hostile)["argv"]
    assert f"--experiment-name={hostile}" in argv
    assert f"--run-id={hostile}" in argv
    assert not list(tmp_path.glob("pwned*"))


def test_the_promote_step_refuses_a_boolean_it_cannot_read(promote_step: Step) -> None:
    """dry_run: "yes" is an error (exit 2), not silently false."""
    done = promote_step(dry_run="yes")
    assert done.returncode == 2
    assert "::error title=aml-promote%3A bad input::dry_run must be true or false" in done.stdout


def test_the_default_settings_file_is_optional_and_a_named_one_is_passed(
    promoted: Callable[..., dict[str, Any]],
) -> None:
    """The default name is left to the CLI's lookup (absent: all defaults); others are passed."""
    default = promoted(parameters_file="registermodel.json")["argv"]
    named = promoted(parameters_file="-odd name.json")["argv"]
    assert not any(a.startswith("--parameters-file") for a in default)
    assert "--parameters-file=-odd name.json" in named


# --- pinning: every `uses:` by full commit SHA (zizmor's unpinned-uses audit) -------------------

USES = re.compile(r"^[+-]?\s*-?\s*uses:\s*(?P<target>\S+)(?P<comment>.*)$")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s+#\s*v\d+(\.\d+)*\b")
DOCS = ACTION.parent / "docs"
# Shown by tag in the docs, each with the reason given on the page: their repositories are
# deprecated (archived), and no release commit of theirs could be verified; aml-promotion itself
# has no release yet. Azure/aml-registermodel is only shown as the line being replaced.
DOCS_BY_TAG = {
    "Azure/aml-workspace@v1",
    "Azure/aml-run@v1",
    "Azure/aml-registermodel@v1",
    "aml-promotion/aml-promotion@main",
}


def uses_lines(text: str) -> list[tuple[str, str]]:
    """Every `uses:` target and what follows it on the line (a diff's +/- marker allowed)."""
    return [
        (match["target"], match["comment"])
        for line in text.splitlines()
        if (match := USES.match(line))
    ]


def test_every_uses_in_the_action_is_pinned_by_sha_with_a_version_comment() -> None:
    """`uses: owner/repo@<40 hex> # vX.Y.Z`: a moved tag can never change what the action runs."""
    found = uses_lines(ACTION.read_text(encoding="utf-8"))
    assert found, "the action uses actions/setup-python"
    for target, comment in found:
        assert PINNED.match(target), target
        assert VERSION_COMMENT.match(comment), f"{target}: no version comment"
    assert ("actions/setup-python@ece7cb06caefa5fff74198d8649806c4678c61a1", " # v6.3.0") in found


def test_the_docs_workflows_pin_by_sha_or_say_why_not() -> None:
    """In docs/*.md a `uses:` is SHA-pinned, or one of the few shown by tag for a stated reason."""
    seen_by_tag: set[str] = set()
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for target, comment in uses_lines(text):
            if target.startswith("./"):
                continue
            if target in DOCS_BY_TAG:
                seen_by_tag.add(target)
                continue
            assert PINNED.match(target), f"{page.name}: {target} is neither pinned nor explained"
            assert VERSION_COMMENT.match(comment), f"{page.name}: {target} has no version comment"
    explained = (DOCS / "github-actions.md").read_text(encoding="utf-8")
    assert "## Why some actions are shown by tag" in explained
    for target in seen_by_tag - {"Azure/aml-registermodel@v1"}:
        assert f"`{target}`" in explained, f"{target}: the reason is not on the page"
