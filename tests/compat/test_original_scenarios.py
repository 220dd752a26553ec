"""The original action's own test scenarios and sample files, through ``aml-promote``.

Azure/aml-registermodel tested (``tests/test_main.py``, ``tests/test_utils.py``) that a run with no
inputs, with empty credentials, or with credentials that are not JSON stops with a configuration
error; that its settings schema accepts a small valid file and refuses ``cpu_cores`` given as a
string. Its integration workflow registered a model file from the repository
(``test_registermodel_fromlocal.json``), then a model from a run (``test_registermodel.json``),
both under the name ``mymodel``. The same cases, in our terms: exit 2 with a message that names
the problem, and the two registrations, on MLflow sqlite. (Its third utils test checked its JSON
schema validator against an empty schema: we have no schema document, so it has no counterpart.)

Its sample files are restated below as the settings they hold (facts, written here: none of the
original's files is copied into this repository); its template with ``<placeholders>`` is in the
shared corpus (``Azure__aml-registermodel.json``), read from there as the other corpus files are.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from aml_promotion import load_settings
from aml_promotion._cli import ExitCode, run
from aml_promotion.exceptions import SettingsError
from aml_promotion.ports import Framework
from compat.support import PYTESTMARK, Outcome, Promote, Store, write_settings

pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")

pytestmark = PYTESTMARK

# The original's integration-test settings (.cloud/.azure/test/*.json there), as they read: both
# ask for resources under the names its docs used (cpu, memory), which its code never read.
SAMPLES: dict[str, dict[str, object]] = {
    "test_registermodel.json": {
        "model_name": "mymodel",
        "model_file_name": "model.pkl",
        "model_framework": "scikitlearn",
        "model_framework_version": "0.22.2",
        "cpu": 0.1,
        "memory": 1,
    },
    "test_registermodel_fromlocal.json": {
        "model_name": "mymodel",
        "model_file_name": "tests/testlocalmodel.pkl",
        "model_framework": "scikitlearn",
        "model_framework_version": "0.22.2",
        "cpu": 0.1,
        "memory": 1,
    },
    # What it passed to Azure/aml-workspace (a different action's parameters).
    "test_workspace.json": {"name": "gha_and_aml_workspace", "resource_group": "gha_and_aml_rg"},
}
_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "registermodel"
TEMPLATE = (
    Path(os.environ.get("AML_PROMOTION_CORPUS", "") or _CORPUS) / "Azure__aml-registermodel.json"
)
IN_CI = {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_REPOSITORY": "Azure/aml-registermodel"}


def azureml_cli(checkout: Path, *args: str, env: dict[str, str]) -> Outcome:
    """`aml-promote --backend azureml` (SDK v1), as the original action always was.

    The default backend is azureml-v2 since SDK v1's support ended; the original action's
    scenarios are run on the backend it had.
    """
    stdout, stderr = io.StringIO(), io.StringIO()
    argv = ["--backend=azureml", *args]
    code = run(argv, environ=env, stdout=stdout, stderr=stderr, cwd=checkout)
    return Outcome(code, stdout.getvalue(), stderr.getvalue())


# --- tests/test_main.py ---------------------------------------------------------------------------


def test_no_inputs_at_all_is_a_configuration_error(checkout: Path) -> None:
    """No credentials, no settings file, in CI: exit 2 naming the azure_credentials input."""
    done = azureml_cli(checkout, env=IN_CI)
    assert done.code == ExitCode.BAD_INPUT, done.explain()
    assert "azure_credentials" in done.stderr
    assert "az ad sp create-for-rbac --json-auth" in done.stderr


def test_empty_credentials_are_a_configuration_error(checkout: Path) -> None:
    """AZURE_CREDENTIALS set but empty: the same error, never a login prompt."""
    done = azureml_cli(checkout, env={**IN_CI, "AZURE_CREDENTIALS": ""})
    assert done.code == ExitCode.BAD_INPUT, done.explain()
    assert "no Azure credentials" in done.stderr


def test_credentials_that_are_not_json_are_a_configuration_error(checkout: Path) -> None:
    """Single-quoted pseudo-JSON (as the original's test wrote it): exit 2, no value shown."""
    credentials = """{
        'clientId': 'test-client',
        'clientSecret': 'test-secret',
        'subscriptionId': 'test-subscription',
        'tenantId': 'test-tenant'
    }"""
    done = azureml_cli(checkout, env={**IN_CI, "AZURE_CREDENTIALS": credentials})
    assert done.code == ExitCode.BAD_INPUT, done.explain()
    assert "AZURE_CREDENTIALS is not valid JSON" in done.stderr
    assert "test-secret" not in done.stdout + done.stderr


def test_a_named_parameters_file_that_does_not_exist_is_an_error(
    checkout: Path, promote_cli: Promote
) -> None:
    """A named parameters file that is nowhere is exit 2 (the original used the defaults)."""
    done = promote_cli("--parameters-file", "wrongfile.json")
    assert done.code == ExitCode.BAD_INPUT, done.explain()
    assert "settings file not found" in done.stderr
    assert str(checkout / "wrongfile.json") in done.stderr
    assert str(checkout / ".cloud" / ".azure" / "wrongfile.json") in done.stderr


# --- tests/test_utils.py --------------------------------------------------------------------------


def test_the_originals_small_valid_settings_load() -> None:
    """Name, file name, framework onnx and an empty metrics_min: valid, and no metric rule."""
    settings = load_settings(
        {
            "model_name": "model-name",
            "model_file_name": "model-file-name",
            "model_framework": "onnx",
            "metrics_min": [],
        }
    )
    assert settings.model_name == "model-name"
    assert settings.model_file_name == "model-file-name"
    assert settings.model_framework is Framework.ONNX
    assert settings.policy.rules == ()


def test_cpu_cores_as_a_string_is_refused_with_its_path() -> None:
    """`"cpu_cores": "0.1"` is an error at $.cpu_cores, as the original's schema refused it."""
    with pytest.raises(SettingsError) as caught:
        load_settings({"cpu_cores": "0.1", "memory_gb": 1})
    assert [problem.path for problem in caught.value.problems] == ["$.cpu_cores"]


# --- what the original's schema refused, and what it let through ----------------------------------


def test_an_explicit_model_name_over_32_characters_is_kept_whole() -> None:
    """The original's schema refused an explicit name over 32 characters; it is valid now."""
    name = "COVID16Articles_githubactions_demo"
    assert len(name) == 34
    assert load_settings({"model_name": name}).model_name == name


@pytest.mark.parametrize("framework", ["onnxruntime", "my-tensorflow-2", "sklearn"])
def test_a_framework_the_original_let_through_as_custom_is_an_error(framework: str) -> None:
    """Its unanchored pattern let `onnxruntime` through (registered as Custom): refused now."""
    with pytest.raises(SettingsError, match=r"model_framework must be one of"):
        load_settings({"model_framework": framework})


def test_a_framework_in_another_case_is_accepted() -> None:
    """The original's pattern was case-sensitive (`ScikitLearn` refused); any case works now."""
    assert load_settings({"model_framework": "ScikitLearn"}).model_framework is (
        Framework.SCIKITLEARN
    )


# --- the sample files, through aml-promote -------------------------------------------------------


def test_the_template_with_placeholders_exits_2_naming_each_bad_field(
    checkout: Path, promote_cli: Promote, store: Store
) -> None:
    """registermodel.json as shipped: the name and the framework are each named with their path."""
    if not TEMPLATE.is_file():
        pytest.skip(
            f"the settings corpus is not there ({TEMPLATE.parent}): see AML_PROMOTION_CORPUS"
        )
    write_settings(checkout, TEMPLATE.read_bytes())
    run_id = store.add_run(["outputs/model.pkl"])
    done = promote_cli("--experiment-name", "train", "--run-id", run_id)
    assert done.code == ExitCode.BAD_INPUT, done.explain()
    assert "$.model_name" in done.stderr
    assert "$.model_framework" in done.stderr
    assert store.client.search_registered_models() == []


def test_the_integration_workflow_registers_the_local_file_then_the_run(
    checkout: Path, promote_cli: Promote, store: Store
) -> None:
    """The local file, then the run's model: mymodel 1 and 2, each with its `cpu`/`memory`.

    The local file's name has a path (used as given); both files ask for resources under the
    names the original's docs used (`cpu`, `memory`), which its code never read.
    """
    settings = checkout / ".cloud" / ".azure"
    settings.mkdir(parents=True)
    for name in ("test_registermodel.json", "test_registermodel_fromlocal.json"):
        (settings / name).write_text(json.dumps(SAMPLES[name]), encoding="utf-8")
    local_model = checkout / "tests" / "testlocalmodel.pkl"
    local_model.parent.mkdir()
    local_model.write_bytes(b"a stand-in for the original's test model")

    local = promote_cli("--parameters-file", "test_registermodel_fromlocal.json", "--json")
    assert local.code == ExitCode.OK, local.explain()
    assert json.loads(local.stdout)["model_path"] == str(local_model)

    run_id = store.add_run(["outputs/model.pkl"])
    remote = promote_cli(
        "--parameters-file", "test_registermodel.json", "--experiment-name", "train",
        "--run-id", run_id,
    )  # fmt: skip
    assert remote.code == ExitCode.OK, remote.explain()

    versions = store.versions("mymodel")
    assert [int(v.version) for v in versions] == [1, 2]
    assert versions[1].run_id == run_id
    for version in versions:
        # MLflow keeps what it has no field for as tags; Azure ML gets a resource configuration.
        assert version.tags["cpu_cores"] == "0.1"
        assert version.tags["memory_gb"] == "1"
        assert version.tags["framework"] == "scikitlearn"
        assert version.tags["framework_version"] == "0.22.2"


def test_the_workspace_actions_parameters_file_warns_about_its_keys(
    checkout: Path, promote_cli: Promote, store: Store
) -> None:
    """Passed to aml-promote by mistake, aml-workspace's file is not silently all defaults."""
    write_settings(checkout, SAMPLES["test_workspace.json"])
    run_id = store.add_run(["outputs/model.pkl"])
    done = promote_cli(
        "--experiment-name", "train", "--run-id", run_id, env={"GITHUB_REPOSITORY": "o/r"}
    )
    assert done.code == ExitCode.OK, done.explain()
    assert "unknown settings key(s) ignored" in done.stderr
    assert "'name', 'resource_group'" in done.stderr
    done = promote_cli("--strict", "--experiment-name", "train", "--run-id", run_id)
    assert done.code == ExitCode.BAD_INPUT, done.explain()
