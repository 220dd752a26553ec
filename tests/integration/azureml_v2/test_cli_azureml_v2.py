"""``aml-promote --backend azureml-v2``: the command line over the v2 backend on the emulator."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.ai.ml")
pytest.importorskip("azureml.mlflow")

from aml_promotion._cli import Arguments, build_backend, run
from aml_promotion.exceptions import UsageError
from integration.azureml_v2.emulator import AzureMLV2Emulator

pytestmark = pytest.mark.azureml_v2


def _settings(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "registermodel.json"
    path.write_text(
        json.dumps({"model_name": name, "model_file_name": "model.pkl", "metrics_max": ["auc"]})
    )
    return path


def test_the_cli_promotes_a_better_job_and_rejects_a_worse_one(
    tmp_path: Path, backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """Exit 0 and version 1 for the first job; exit 1 and nothing registered for a worse one."""
    exp, name = f"exp-{unique}", f"m-{unique}"
    settings = _settings(tmp_path, name)
    built: list[Arguments] = []

    def factory(args: Arguments) -> Any:
        built.append(args)
        return backend

    def cli(job: str) -> tuple[int, str]:
        out, err = io.StringIO(), io.StringIO()
        code = run(
            [
                "--backend=azureml-v2",
                f"--experiment-name={exp}",
                f"--run-id={job}",
                f"--parameters-file={settings}",
                "--json",
            ],
            environ={},
            stdout=out,
            stderr=err,
            cwd=tmp_path,
            backend_factory=factory,
        )
        return code, out.getvalue()

    good = emulator.add_job(exp, metrics={"auc": 0.8}, files=["outputs/model.pkl"])
    worse = emulator.add_job(exp, metrics={"auc": 0.7}, files=["outputs/model.pkl"])
    code, out = cli(good)
    assert code == 0, out
    document = json.loads(out)
    assert document["promoted"] is True
    assert (document["model"]["version"], document["model"]["run_id"]) == (1, good)
    code, _ = cli(worse)
    assert code == 1
    assert len(emulator.versions(name)) == 1
    assert built[0].backend.value == "azureml-v2"


def test_the_cli_registers_a_local_model_once_and_a_rerun_is_already_registered(
    tmp_path: Path, backend: Any, emulator: AzureMLV2Emulator, unique: str
) -> None:
    """Local mode (no run id): the checkout's model.pkl is uploaded and registered; again: exit 0.

    The model lies outside the process's working directory (the CLI's cwd is the checkout):
    unlike azureml-core, azure-ai-ml uploads a file from anywhere. Stdout stays the JSON
    document alone (the SDK's upload progress bar goes to stderr).
    """
    name = f"m-{unique}"
    settings = _settings(tmp_path, name)
    (tmp_path / "metrics.json").write_text(json.dumps({"auc": 0.8}))
    content = b"local model " + unique.encode()
    (tmp_path / "model.pkl").write_bytes(content)

    def cli() -> tuple[int, dict[str, Any]]:
        out, err = io.StringIO(), io.StringIO()
        code = run(
            [
                "--backend=azureml-v2",
                f"--parameters-file={settings}",
                "--metrics-file=metrics.json",
                "--json",
            ],
            environ={},
            stdout=out,
            stderr=err,
            cwd=tmp_path,
            backend_factory=lambda _: backend,
        )
        return code, json.loads(out.getvalue())

    code, first = cli()
    assert code == 0, first
    assert first["promoted"] is True
    assert (first["model"]["version"], first["model"]["run_id"]) == (1, None)
    (held,) = emulator.versions(name)
    assert emulator.uploaded(held["properties"]["modelUri"]) == {"model.pkl": content}
    code, again = cli()
    assert code == 0, again
    assert again["already_registered"] is True
    assert again["model"]["version"] == 1
    assert len(emulator.versions(name)) == 1


def test_build_backend_signs_in_with_azure_credentials_for_the_config_workspace(
    tmp_path: Path, emulator: AzureMLV2Emulator
) -> None:
    """AZURE_CREDENTIALS and a config.json: an AzureMLV2Backend on that workspace, no request."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    (tmp_path / "config.json").write_text(
        json.dumps({"subscription_id": "s-1", "resource_group": "rg-1", "workspace_name": "ws-1"})
    )
    creds = {
        "clientId": "c",
        "clientSecret": "not-a-real-secret",
        "subscriptionId": "s-0",
        "tenantId": "t",
    }
    args = Arguments.parse(["--backend=azureml-v2"])
    backend = build_backend(args, environ={"AZURE_CREDENTIALS": json.dumps(creds)}, cwd=tmp_path)
    assert isinstance(backend, AzureMLV2Backend)
    client = backend.ml_client
    assert (client.subscription_id, client.resource_group_name, client.workspace_name) == (
        "s-1",
        "rg-1",
        "ws-1",
    )
    # azure-identity's credential, wrapped so that a failed sign-in is a CredentialsError.
    assert repr(client._credential).startswith("ClientSecretCredential(")
    assert [r for r in emulator.requests if r.path != "/metadata/endpoints"] == []


def test_workspace_config_is_accepted_for_azureml_v2_and_tracking_uri_is_not() -> None:
    """--workspace-config serves both Azure ML backends; --tracking-uri is MLflow's only."""
    args = Arguments.parse(["--backend=azureml-v2", "--workspace-config=ws.json"])
    assert args.workspace_config == Path("ws.json")
    with pytest.raises(UsageError, match="--tracking-uri"):
        Arguments.parse(["--backend=azureml-v2", "--tracking-uri=sqlite:///x.db"])
