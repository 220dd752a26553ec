"""Signing in with no secret: each way ``aml-promote`` chooses, through its real flow, end to end.

Each test runs the command line in a subprocess (a process of its own: azureml-mlflow keeps the
first credential's connection for a workspace for the life of a process) behind the socket guard
(``guarded_cli.py``), with the environment a GitHub Actions step, an Azure ML job or a developer's
terminal would have, pointed at the emulator: ``AZURE_AUTHORITY_HOST`` for Entra ID, the GitHub
ID-token URL, the job's managed-identity and on-behalf-of endpoints, a stand-in ``az`` on ``PATH``.
The emulator issues one token per flow and refuses every Resource Manager and MLflow request
without one it issued, so a promotion succeeds only if the credential went through the flow named.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

pytest.importorskip("azure.ai.ml")
pytest.importorskip("azureml.mlflow")

from cli_outcome import Outcome
from integration.azureml_v2.emulator import AzureMLV2Emulator
from integration.azureml_v2.identity import Flow

pytestmark = pytest.mark.azureml_v2

ROOT = Path(__file__).resolve().parents[3]
LAUNCHER = Path(__file__).with_name("guarded_cli.py")
TIMEOUT = 180
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT_ID = "99999999-8888-7777-6666-555555555555"
# The variables the session points at the emulator (conftest.py), passed on to the subprocess.
_SESSION = (
    "HOME",
    "AZURE_CONFIG_DIR",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "ARM_CLOUD_METADATA_URL",
    "AZUREML_CURRENT_CLOUD",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "LANG",
    "TMPDIR",
)
_SIGNED_IN = re.compile(r"^/(subscriptions|history|mlflow)/")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The checkout the command line runs in: a settings file, and no workspace config file."""
    path = tmp_path / "checkout"
    (path / ".cloud" / ".azure").mkdir(parents=True)
    return path


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """The one folder on the subprocess's ``PATH`` (so no real ``az`` is ever found)."""
    path = tmp_path / "bin"
    path.mkdir()
    return path


@pytest.fixture
def job(emulator: AzureMLV2Emulator, unique: str, workdir: Path) -> tuple[str, str]:
    """A completed job with a model and a metric, and the settings that promote it: (job, name)."""
    name = f"m-{unique}"
    settings = {"model_name": name, "model_file_name": "model.pkl", "metrics_max": ["auc"]}
    (workdir / ".cloud" / ".azure" / "registermodel.json").write_text(json.dumps(settings))
    return emulator.add_job(
        f"exp-{unique}", metrics={"auc": 0.8}, files=["outputs/model.pkl"]
    ), name


def _promote(
    workdir: Path, bin_dir: Path, tmp_path: Path, *args: str, env: Mapping[str, str]
) -> Outcome:
    return _promote_with(
        [sys.executable, str(LAUNCHER), *args], workdir, bin_dir, tmp_path, env=env
    )


def _promote_with(
    command: list[str], workdir: Path, bin_dir: Path, tmp_path: Path, *, env: Mapping[str, str]
) -> Outcome:
    refused = tmp_path / "refused.txt"
    base = {name: os.environ[name] for name in _SESSION if name in os.environ}
    environ = {
        **base,
        "PATH": str(bin_dir),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")]),
        "AML_PROMOTION_REFUSED": str(refused),
        **env,
    }
    done = subprocess.run(
        command,
        cwd=workdir,
        env=environ,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )
    outcome = Outcome(done.returncode, done.stdout, done.stderr)
    assert refused.read_text(encoding="utf-8") == "", f"non-loopback attempts\n{outcome.explain()}"
    return outcome


def _signed_in_through(emulator: AzureMLV2Emulator, flow: str) -> None:
    """Every Resource Manager, run-history and MLflow request carried a token of `flow`."""
    signed = [r for r in emulator.requests if _SIGNED_IN.match(r.path)]
    assert signed, "no request reached the workspace"
    identity = emulator.identity
    assert identity.refusals == []
    assert len(identity.used) == len(signed)
    assert identity.flows() == {flow}


def _workspace_args(emulator: AzureMLV2Emulator) -> list[str]:
    return [
        f"--subscription-id={emulator.subscription_id}",
        f"--resource-group={emulator.resource_group}",
        f"--workspace-name={emulator.workspace_name}",
    ]


def _github_actions(emulator: AzureMLV2Emulator, tmp_path: Path) -> dict[str, str]:
    """A GitHub Actions step of a job with ``permissions: id-token: write``."""
    return {
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_REPOSITORY": "octo-org/churn",
        "GITHUB_REF_NAME": "main",
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary"),
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{emulator.url}/github/idtoken?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": emulator.identity.github_request_token,
        "AZURE_AUTHORITY_HOST": emulator.url,
    }


def _azure_ml_job(emulator: AzureMLV2Emulator, job: str) -> dict[str, str]:
    """What an Azure ML job's environment holds (the variables read from the SDKs' code)."""
    ws = emulator.workspace_path
    return {
        "AZUREML_RUN_ID": job,
        "AZUREML_ARM_SUBSCRIPTION": emulator.subscription_id,
        "AZUREML_ARM_RESOURCEGROUP": emulator.resource_group,
        "AZUREML_ARM_WORKSPACE_NAME": emulator.workspace_name,
        "AZUREML_ARM_PROJECT_NAME": "exp",
        # A job's MLflow points at its workspace: the default backend stays Azure ML.
        "MLFLOW_TRACKING_URI": f"azureml://{emulator.host}/mlflow/v1.0{ws}",
    }


# --- done when: GitHub OIDC, an Azure ML job's identity, the legacy secret ------------------------


def test_github_oidc_with_only_the_ids_and_the_workspace_promotes(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """client_id, tenant_id, subscription_id, resource_group, workspace_name; no secret or file.

    Access tokens here expire at once, so every request signs in again: each sign-in must bring
    a GitHub ID token fetched for it (the emulator accepts each one once), as a workflow that
    outlives its first token does.
    """
    job_name, model = job
    emulator.identity.add_app(CLIENT_ID, TENANT_ID, federated=True)
    emulator.identity.lifetime = 0
    done = _promote(
        workdir,
        bin_dir,
        tmp_path,
        f"--client-id={CLIENT_ID}",
        f"--tenant-id={TENANT_ID}",
        *_workspace_args(emulator),
        f"--run-id={job_name}",
        "--json",
        "--verbose",
        env=_github_actions(emulator, tmp_path),
    )
    assert done.code == 0, done.explain()
    assert done.document["model"]["version"] == 1
    assert [v["properties"]["jobName"] for v in emulator.versions(model)] == [job_name]
    _signed_in_through(emulator, Flow.GITHUB_OIDC)
    identity = emulator.identity
    assert identity.id_tokens_issued == len(identity.assertions_accepted) >= 2
    assert len(set(identity.assertions_accepted)) == len(identity.assertions_accepted)
    chosen = [line for line in done.stderr.splitlines() if "Azure credential:" in line]
    assert chosen == [
        (
            "aml-promote: info: Azure credential: GitHub OIDC (ClientAssertionCredential, a fresh "
            "GitHub ID token for each sign-in; from ACTIONS_ID_TOKEN_REQUEST_URL with "
            "--client-id/--tenant-id)"
        )
    ]
    assert CLIENT_ID not in done.stderr + done.stdout
    assert emulator.identity.github_request_token not in done.stderr + done.stdout


def test_inside_an_azure_ml_job_the_compute_identity_promotes_with_no_workspace_argument(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """MSI_ENDPOINT/MSI_SECRET and the job's AZUREML_ARM_*: only the settings file and the job.

    --run-id names another job here (a pipeline step with none: the test below).
    MLFLOW_TRACKING_URI (the job's azureml:// URI) does not make the default MLflow.
    """
    job_name, model = job
    identity = emulator.identity
    identity.msi_client_id = "compute-identity-client-id"
    env = {
        **_azure_ml_job(emulator, job_name),
        "MSI_ENDPOINT": f"{emulator.url}/msi/token",
        "MSI_SECRET": identity.msi_secret,
        "DEFAULT_IDENTITY_CLIENT_ID": "compute-identity-client-id",
    }
    done = _promote(
        workdir,
        bin_dir,
        tmp_path,
        "--parameters-file=registermodel.json",
        f"--run-id={job_name}",
        "--json",
        "-v",
        env=env,
    )
    assert done.code == 0, done.explain()
    assert done.document["model"]["version"] == 1
    assert len(emulator.versions(model)) == 1
    _signed_in_through(emulator, Flow.MANAGED_IDENTITY)
    assert "ManagedIdentityCredential, user-assigned" in done.stderr
    assert identity.msi_secret not in done.stderr + done.stdout


def test_an_azure_ml_pipeline_step_with_only_the_settings_file_promotes_its_sibling_step(
    emulator: AzureMLV2Emulator, unique: str, workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """The promote step of a pipeline: no --run-id, no workspace, no config file, no backend.

    The environment an Azure ML job has (its run id, ``AZUREML_ARM_*``, its MLflow URI, the
    compute's managed identity); the one argument is the settings file, mounted outside the
    working directory as components/promote.yml's input is. The candidate is the sibling step
    ``pipeline_child_run_name``, its model the named output ``job_output`` (an MLflow model),
    its metrics those of the step ``metrics_child_run_name``.
    """
    experiment, model = f"exp-{unique}", f"m-{unique}"
    train = emulator.add_job(experiment, outputs={"model_output": ["MLmodel", "model.pkl"]})
    evaluate = emulator.add_job(experiment, metrics={"auc": 0.8})
    step = emulator.add_job(experiment, status="Running")
    emulator.add_pipeline_job(
        experiment, {"train_model": train, "evaluate_model": evaluate, "promote": step}
    )
    settings = tmp_path / "inputs" / "settings" / "registermodel.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(
        json.dumps(
            {
                "model_name": model,
                "metrics_max": ["auc"],
                "pipeline_child_run_name": "train_model",
                "metrics_child_run_name": "evaluate_model",
                "job_output": "model_output",
            }
        )
    )
    identity = emulator.identity
    identity.msi_client_id = "compute-identity-client-id"
    env = {
        **_azure_ml_job(emulator, step),
        "MLFLOW_RUN_ID": step,
        "MSI_ENDPOINT": f"{emulator.url}/msi/token",
        "MSI_SECRET": identity.msi_secret,
        "DEFAULT_IDENTITY_CLIENT_ID": "compute-identity-client-id",
    }
    done = _promote(workdir, bin_dir, tmp_path, f"--parameters-file={settings}", env=env)
    assert done.code == 0, done.explain()
    (version,) = emulator.versions(model)
    properties = version["properties"]
    assert properties["jobName"] == train
    assert properties["modelUri"] == f"azureml://jobs/{train}/outputs/model_output/paths/"
    assert properties["modelType"] == "mlflow_model"
    assert properties["tags"]["promotion.metrics_run"] == evaluate
    assert f"run {train} in experiment {experiment} (metrics from run {evaluate})" in done.stdout
    _signed_in_through(emulator, Flow.MANAGED_IDENTITY)
    assert identity.msi_secret not in done.stderr + done.stdout


# What a job's own Python runs: the backend from the job, promote() with no run id. Behind the
# socket guard, as guarded_cli.py runs the command line.
_IN_A_JOB = """
import json, os, sys
from pathlib import Path
from socket_guard import SocketGuard
guard = SocketGuard()
guard.install()
try:
    from aml_promotion import promote
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend
    backend = AzureMLV2Backend.from_job_context()
    result = promote(settings=sys.argv[1], backend=backend)
    version = None if result.model is None else result.model.version
    print(json.dumps({"promoted": result.decision.promote, "version": version}))
finally:
    Path(os.environ["AML_PROMOTION_REFUSED"]).write_text(
        "".join(f"{attempt}\\n" for attempt in guard.refused), encoding="utf-8"
    )
"""


def test_from_job_context_promotes_the_sibling_step_as_the_job(
    emulator: AzureMLV2Emulator, unique: str, workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """The library inside a pipeline's step: no workspace, no credential, no run id passed.

    A job-wide ``AZURE_SUBSCRIPTION_ID`` naming another subscription is not the job's: the
    workspace is the job's ``AZUREML_ARM_*`` (the emulator knows no other subscription).
    """
    experiment, model = f"exp-{unique}", f"m-{unique}"
    train = emulator.add_job(experiment, metrics={"auc": 0.7}, files=["outputs/model.pkl"])
    step = emulator.add_job(experiment, status="Running")
    emulator.add_pipeline_job(experiment, {"train_model": train, "promote": step})
    settings = tmp_path / "registermodel.json"
    settings.write_text(
        json.dumps(
            {
                "model_name": model,
                "model_file_name": "model.pkl",
                "metrics_max": ["auc"],
                "pipeline_child_run_name": "train_model",
            }
        )
    )
    emulator.identity.msi_client_id = "compute-identity-client-id"
    env = {
        **_azure_ml_job(emulator, step),
        "AZURE_SUBSCRIPTION_ID": "12345678-0000-0000-0000-000000000000",
        "MSI_ENDPOINT": f"{emulator.url}/msi/token",
        "MSI_SECRET": emulator.identity.msi_secret,
        "DEFAULT_IDENTITY_CLIENT_ID": "compute-identity-client-id",
    }
    command = [sys.executable, "-c", _IN_A_JOB, str(settings)]
    done = _promote_with(command, workdir, bin_dir, tmp_path, env=env)
    assert done.code == 0, done.explain()
    assert done.document == {"promoted": True, "version": 1}
    assert [v["properties"]["jobName"] for v in emulator.versions(model)] == [train]
    _signed_in_through(emulator, Flow.MANAGED_IDENTITY)


def test_from_job_context_outside_a_job_names_what_is_missing() -> None:
    """Refused before any sign-in or request, naming the variables and the call to use."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415
    from aml_promotion.exceptions import UsageError  # noqa: PLC0415

    only = {"AZUREML_ARM_SUBSCRIPTION": "sub", "AZURE_SUBSCRIPTION_ID": "sub"}
    with pytest.raises(UsageError) as caught:
        AzureMLV2Backend.from_job_context(environ=only)
    assert str(caught.value) == (
        "from_job_context() reads the workspace of the Azure ML job it runs in, and "
        "AZUREML_ARM_RESOURCEGROUP and AZUREML_ARM_WORKSPACE_NAME are not set: this is not an "
        "Azure ML job; outside one, use AzureMLV2Backend.from_environment(subscription_id=..., "
        "resource_group=..., workspace_name=...)"
    )


def test_the_legacy_secret_still_promotes_and_is_never_shown(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """AZURE_CREDENTIALS (--json-auth) signs in with its secret; no value of it is ever written."""
    job_name, _ = job
    secret = "legacy-Secret~value-0123456789"  # noqa: S105 - made up for the test
    emulator.identity.add_app(CLIENT_ID, TENANT_ID, secret=secret)
    credentials = {
        "clientId": CLIENT_ID,
        "clientSecret": secret,
        "subscriptionId": emulator.subscription_id,
        "tenantId": TENANT_ID,
        "resourceManagerEndpointUrl": "https://management.azure.com/",
    }
    env = {
        **_github_actions(emulator, tmp_path),
        "AZURE_CREDENTIALS": json.dumps(credentials),
    }
    done = _promote(
        workdir,
        bin_dir,
        tmp_path,
        f"--resource-group={emulator.resource_group}",
        f"--workspace-name={emulator.workspace_name}",
        f"--run-id={job_name}",
        "--verbose",
        env=env,
    )
    assert done.code == 0, done.explain()
    _signed_in_through(emulator, Flow.CLIENT_SECRET)
    written = done.stdout + done.stderr + (tmp_path / "github-output").read_text()
    for value in (secret, CLIENT_ID, TENANT_ID, emulator.subscription_id):
        assert value not in written.replace(f"::add-mask::{value}", "")
    assert f"::add-mask::{secret}" in done.stderr
    assert "Azure credential: a client secret (legacy)" in done.stderr


def test_the_action_with_only_the_oidc_and_workspace_inputs_promotes(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """action.yml's promote step with only the OIDC, workspace and run inputs signs in by OIDC.

    The step's own script maps client_id, tenant_id, subscription_id, resource_group,
    workspace_name and run_id to the real command line; no secret, no config file.
    """
    yaml = pytest.importorskip("yaml")
    job_name, model = job
    emulator.identity.add_app(CLIENT_ID, TENANT_ID, federated=True)
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "promote"]
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update(
        client_id=CLIENT_ID,
        tenant_id=TENANT_ID,
        subscription_id=emulator.subscription_id,
        resource_group=emulator.resource_group,
        workspace_name=emulator.workspace_name,
        run_id=job_name,
    )
    env = {}
    for name, expression in step["env"].items():
        inner = expression.strip().removeprefix("${{").removesuffix("}}").strip()
        if inner.startswith("inputs."):
            env[name] = inputs[inner.removeprefix("inputs.")]
    # What the install step leaves: aml-promote in a folder of its own (here: behind the guard).
    installed = tmp_path / "venv-bin"
    installed.mkdir()
    wrapper = installed / "aml-promote"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{LAUNCHER}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    env["AML_PROMOTE_BIN"] = str(installed)
    bash = "/bin/bash" if Path("/bin/bash").exists() else "bash"
    done = _promote_with(
        [bash, "-c", step["run"]],
        workdir,
        bin_dir,
        tmp_path,
        env={**_github_actions(emulator, tmp_path), **env, "PATH": f"{bin_dir}:/usr/bin:/bin"},
    )
    assert done.code == 0, done.explain()
    assert [v["properties"]["jobName"] for v in emulator.versions(model)] == [job_name]
    _signed_in_through(emulator, Flow.GITHUB_OIDC)
    outputs = (tmp_path / "github-output").read_text(encoding="utf-8")
    assert "promoted<<" in outputs


def test_github_failing_once_is_retried_and_refusing_is_exit_2(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """A 503 from GitHub's ID-token endpoint is transient (retried); a 403 is exit 2 saying why.

    The retry waits the policy's first backoff (half a second): this runs in a process of its
    own, outside the tests' no-wait mode.
    """
    job_name, model = job
    emulator.identity.add_app(CLIENT_ID, TENANT_ID, federated=True)
    args = [
        f"--client-id={CLIENT_ID}",
        f"--tenant-id={TENANT_ID}",
        *_workspace_args(emulator),
        f"--run-id={job_name}",
    ]
    emulator.fail_next("GET", r"^/github/idtoken$", status=503)
    done = _promote(workdir, bin_dir, tmp_path, *args, env=_github_actions(emulator, tmp_path))
    assert done.code == 0, done.explain()
    assert [r.status for r in emulator.matching("GET", r"^/github/idtoken$")][:2] == [503, 200]
    assert len(emulator.versions(model)) == 1
    emulator.identity.lifetime = 0  # the next promotion signs in again
    emulator.fail_next("GET", r"^/github/idtoken$", status=403, times=10)
    again = _promote(workdir, bin_dir, tmp_path, *args, env=_github_actions(emulator, tmp_path))
    assert again.code == 2, again.explain()
    assert "GitHub's ID-token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) answered HTTP 403" in (
        again.stderr
    )
    assert "permissions: id-token: write" in again.stderr


# --- the other ways, each through its own flow --------------------------------------------------


def test_workload_identity_exchanges_the_federated_token_file(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """AZURE_FEDERATED_TOKEN_FILE with AZURE_CLIENT_ID/AZURE_TENANT_ID: workload identity."""
    job_name, _ = job
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(emulator.identity.workload_token(CLIENT_ID, TENANT_ID))
    env = {
        "AZURE_AUTHORITY_HOST": emulator.url,
        "AZURE_FEDERATED_TOKEN_FILE": str(token_file),
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_TENANT_ID": TENANT_ID,
        "AZURE_SUBSCRIPTION_ID": emulator.subscription_id,
    }
    done = _promote(
        workdir,
        bin_dir,
        tmp_path,
        f"--resource-group={emulator.resource_group}",
        f"--workspace-name={emulator.workspace_name}",
        f"--run-id={job_name}",
        "-v",
        env=env,
    )
    assert done.code == 0, done.explain()
    _signed_in_through(emulator, Flow.WORKLOAD_IDENTITY)
    assert "WorkloadIdentityCredential" in done.stderr


def test_a_job_run_as_its_user_signs_in_on_its_behalf(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """OBO_ENDPOINT (a job submitted with a user identity): AzureMLOnBehalfOfCredential."""
    job_name, _ = job
    env = {**_azure_ml_job(emulator, job_name), "OBO_ENDPOINT": f"{emulator.url}/obo/token"}
    done = _promote(workdir, bin_dir, tmp_path, f"--run-id={job_name}", "-v", env=env)
    assert done.code == 0, done.explain()
    _signed_in_through(emulator, Flow.ON_BEHALF_OF)
    assert "AzureMLOnBehalfOfCredential" in done.stderr


def _stand_in_az(bin_dir: Path, *, token: str | None, resource: str) -> None:
    """An ``az`` answering ``account get-access-token`` as a logged-in (or logged-out) CLI would."""
    az = bin_dir / "az"
    answer = {"accessToken": token, "expires_on": 4_102_444_800, "tokenType": "Bearer"}
    expected = ["account", "get-access-token", "--output", "json", "--resource", resource]
    az.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"expected = {expected!r}\n"
        f"if {token is None!r}:\n"
        "    sys.stderr.write(\"ERROR: Please run 'az login' to setup account.\\n\"); sys.exit(1)\n"
        "if sys.argv[1:] != expected:\n"
        "    sys.stderr.write(f'unexpected arguments {sys.argv[1:]}\\n'); sys.exit(2)\n"
        f"print(json.dumps({answer!r}))\n",
        encoding="utf-8",
    )
    az.chmod(az.stat().st_mode | stat.S_IEXEC)


def test_an_azure_cli_login_is_used_when_nothing_else_is_there(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """After azure/login (or az login): AzureCliCredential asks ``az`` for the token."""
    job_name, _ = job
    _stand_in_az(bin_dir, token=emulator.identity.issue(Flow.AZURE_CLI), resource=emulator.url)
    env = {"GITHUB_ACTIONS": "true", "CI": "true"}
    done = _promote(
        workdir, bin_dir, tmp_path, *_workspace_args(emulator), f"--run-id={job_name}", env=env
    )
    assert done.code == 0, done.explain()
    _signed_in_through(emulator, Flow.AZURE_CLI)


# --- what goes wrong is said, and is exit 2 -----------------------------------------------------


def test_an_app_without_a_federated_credential_is_exit_2_naming_the_way(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """Entra ID refuses the GitHub token: exit 2, Entra's reason, no traceback, nothing reached."""
    job_name, _ = job
    emulator.identity.add_app(CLIENT_ID, TENANT_ID, secret="x")  # noqa: S106 - no federation
    done = _promote(
        workdir,
        bin_dir,
        tmp_path,
        f"--client-id={CLIENT_ID}",
        f"--tenant-id={TENANT_ID}",
        *_workspace_args(emulator),
        f"--run-id={job_name}",
        env=_github_actions(emulator, tmp_path),
    )
    assert done.code == 2, done.explain()
    assert "signing in to Azure with GitHub OIDC failed" in done.stderr
    assert "AADSTS70021" in done.stderr
    assert "Traceback" not in done.stderr
    assert emulator.identity.used == []


def test_a_logged_out_azure_cli_is_exit_2_saying_to_log_in(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """``az`` without a login: exit 2 with the CLI's own advice, never a prompt."""
    job_name, _ = job
    _stand_in_az(bin_dir, token=None, resource=emulator.url)
    done = _promote(
        workdir, bin_dir, tmp_path, *_workspace_args(emulator), f"--run-id={job_name}", env={}
    )
    assert done.code == 2, done.explain()
    assert "signing in to Azure with the Azure CLI's login failed" in done.stderr
    assert "az login" in done.stderr
    assert "Traceback" not in done.stderr


def test_oidc_ids_without_id_token_write_on_a_runner_with_az_say_what_is_missing(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """A hosted runner (`az` there, logged out), the ids in the environment, no id-token: write.

    Exit 2 saying the permission is missing, not only "run az login".
    """
    job_name, _ = job
    _stand_in_az(bin_dir, token=None, resource=emulator.url)
    env = {
        key: value
        for key, value in _github_actions(emulator, tmp_path).items()
        if not key.startswith("ACTIONS_ID_TOKEN")
    }
    env |= {"AZURE_CLIENT_ID": "app-client-id", "AZURE_TENANT_ID": "app-tenant-id"}
    done = _promote(
        workdir, bin_dir, tmp_path, *_workspace_args(emulator), f"--run-id={job_name}", env=env
    )
    assert done.code == 2, done.explain()
    assert "signing in to Azure with the Azure CLI's login failed" in done.stderr
    assert "permissions: id-token: write" in done.stderr
    assert "app-client-id" not in done.stderr
    assert "Traceback" not in done.stderr
    assert [r for r in emulator.requests if _SIGNED_IN.match(r.path)] == []


def test_no_way_to_sign_in_in_github_actions_is_exit_2_naming_the_options(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """A workflow without id-token: write, secret or az: exit 2 at once naming every way."""
    job_name, _ = job
    env = {
        key: value
        for key, value in _github_actions(emulator, tmp_path).items()
        if not key.startswith("ACTIONS_ID_TOKEN")
    }
    done = _promote(
        workdir, bin_dir, tmp_path, *_workspace_args(emulator), f"--run-id={job_name}", env=env
    )
    assert done.code == 2, done.explain()
    assert "::error title=aml-promote%3A bad input::no Azure credential" in done.stderr
    for way in ("GitHub OIDC", "workload identity", "managed identity", "az login", "--json-auth"):
        assert way in done.stderr
    assert [r for r in emulator.requests if _SIGNED_IN.match(r.path)] == []


# --- a hung or slow service cannot stall a promotion ---------------------------------------------

DEADLINE = 8.0  # AML_PROMOTION_RETRY_DEADLINE: each request 5 s at most (the floor), then 2.5 s
SLACK = 1.0  # from the deadline to the client closing its last connection
EXIT = 10.0  # from the deadline to the process's exit (the SDKs' teardown), on a shared machine
TOKEN_ROUTE = r"^/[^/]+/oauth2/v2\.0/token$"  # noqa: S105 - a path
GITHUB_ROUTE = r"^/github/idtoken$"


def _job_route(job_name: str) -> str:
    return rf"/jobs/{job_name}$"


def _hurried_promotion(
    emulator: AzureMLV2Emulator, job_name: str, workdir: Path, bin_dir: Path, tmp_path: Path
) -> Outcome:
    """Promote `job_name` as a GitHub Actions step with OIDC, under an 8 s retry deadline."""
    emulator.identity.add_app(CLIENT_ID, TENANT_ID, federated=True)
    env = {
        **_github_actions(emulator, tmp_path),
        "AML_PROMOTION_RETRY_DEADLINE": f"{DEADLINE:g}",
    }
    args = [f"--client-id={CLIENT_ID}", f"--tenant-id={TENANT_ID}", *_workspace_args(emulator)]
    return _promote(workdir, bin_dir, tmp_path, *args, f"--run-id={job_name}", env=env)


def _cut_short(stderr: str) -> float:
    """The seconds the last attempt's request was given, as the error says."""
    found = re.search(r"no answer from [^:]+? within ([\d.]+) s \(gave up", stderr)
    assert found, stderr
    return float(found[1])


def _spans(emulator: AzureMLV2Emulator, method: str, pattern: str) -> tuple[float, float]:
    """Seconds from the first request matching `pattern` to the end of the last, and to now."""
    matching = emulator.matching(method, pattern)
    ended = max(r.ended or math.inf for r in matching)
    return ended - matching[0].at, time.monotonic() - matching[0].at


@pytest.mark.parametrize(
    ("method", "route", "says"),
    [
        ("GET", "job", "no answer from Azure ML within 5 s"),
        ("POST", TOKEN_ROUTE, "no answer from Microsoft Entra ID (signing in) within 5 s"),
        ("GET", GITHUB_ROUTE, "GitHub's ID-token endpoint"),
    ],
    ids=["the-job", "entra-id-token", "github-id-token"],
)
def test_a_hung_service_fails_the_stage_within_the_deadline_naming_both(  # noqa: PLR0917
    emulator: AzureMLV2Emulator,
    job: tuple[str, str],
    workdir: Path,
    bin_dir: Path,
    tmp_path: Path,
    method: str,
    route: str,
    says: str,
) -> None:
    """Never answered (the job's read, Entra ID's token, GitHub's ID token): exit 3 in time.

    Each request waits 5 s at most, the retry only what is left of the 8 s deadline.
    """
    job_name, model = job
    route = _job_route(job_name) if route == "job" else route
    emulator.hang_next(method, route, times=10)
    done = _hurried_promotion(emulator, job_name, workdir, bin_dir, tmp_path)
    took, to_exit = _spans(emulator, method, route)
    assert done.code == 3, done.explain()
    assert took < DEADLINE + SLACK, (took, done.explain())
    assert to_exit < DEADLINE + EXIT, (to_exit, done.explain())
    assert emulator.count(method, route) >= 2, done.explain()  # retried, within the deadline
    assert "gave up within the 8 s retry deadline" in done.stderr, done.explain()
    assert says in done.stderr, done.explain()
    if says.startswith("no answer"):
        assert _cut_short(done.stderr) < 3.0  # the retry: only what was left of the deadline
    assert emulator.versions(model) == []


def test_a_service_failing_after_3_s_each_time_is_given_up_on_at_the_deadline(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """503 after 3 s, every time: retried while the deadline allows, the last cut short."""
    job_name, _ = job
    route = _job_route(job_name)
    emulator.slow_next("GET", route, seconds=3, status=503, times=10)
    done = _hurried_promotion(emulator, job_name, workdir, bin_dir, tmp_path)
    took, to_exit = _spans(emulator, "GET", route)
    assert done.code == 3, done.explain()
    assert took < DEADLINE + SLACK, (took, done.explain())
    assert to_exit < DEADLINE + EXIT, (to_exit, done.explain())
    assert emulator.count("GET", route) >= 2, done.explain()
    assert "gave up within the 8 s retry deadline" in done.stderr, done.explain()


def test_a_service_answering_in_3_s_is_waited_for(
    emulator: AzureMLV2Emulator, job: tuple[str, str], workdir: Path, bin_dir: Path, tmp_path: Path
) -> None:
    """A slow answer (3 s, under the 5 s a request may take) is not cut off: registered."""
    job_name, model = job
    route = _job_route(job_name)
    emulator.slow_next("GET", route, seconds=3)
    done = _hurried_promotion(emulator, job_name, workdir, bin_dir, tmp_path)
    assert done.code == 0, done.explain()
    assert [r.status for r in emulator.matching("GET", route)][:1] == [200]
    assert len(emulator.versions(model)) == 1
