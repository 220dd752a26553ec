"""Which Azure credential and workspace the environment offers (v2), and the default backend.

The choice reads the environment only (no SDK, no request): these tests run without azure-identity.
What each credential then does on the wire is tested against the emulator, with the real SDKs, in
``tests/integration/azureml_v2/test_identity_azureml_v2.py``.
"""

from __future__ import annotations

import io
import json
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aml_promotion._cli import (
    V1_DEPRECATED,
    Arguments,
    BackendChoice,
    ExitCode,
    default_backend,
    run,
)
from aml_promotion.adapters._azure_identity import (
    GITHUB_AUDIENCE,
    NO_CREDENTIAL,
    CredentialKind,
    GitHubIdToken,
    choose_credential,
    in_azure_ml_job,
)
from aml_promotion.adapters._workspace_config import named_workspace
from aml_promotion.exceptions import CredentialsError, TransientRegistryError, UsageError

SECRET = "s3cr3t-value-never-shown"  # noqa: S105 - a made-up value the tests look for
LEGACY = json.dumps(
    {
        "clientId": "legacy-client",
        "clientSecret": SECRET,
        "subscriptionId": "legacy-sub",
        "tenantId": "legacy-tenant",
    }
)
GITHUB = {
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/idtoken?api-version=2.0",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token-never-shown",
}
IDS = {"AZURE_CLIENT_ID": "app-client-id", "AZURE_TENANT_ID": "app-tenant-id"}
WORKLOAD = {"AZURE_FEDERATED_TOKEN_FILE": "/var/run/secrets/azure/tokens/azure-identity-token"}
OBO = {"OBO_ENDPOINT": "http://127.0.0.1:1/obo"}
MSI = {
    "MSI_ENDPOINT": "http://127.0.0.1:1/msi/token",
    "MSI_SECRET": "msi-secret-never-shown",
    "DEFAULT_IDENTITY_CLIENT_ID": "compute-identity-id",
}


@pytest.fixture
def az_on_path(tmp_path: Path) -> str:
    """A PATH holding an ``az`` (a stand-in: the choice only looks for it)."""
    folder = tmp_path / "az-bin"
    folder.mkdir()
    az = folder / "az"
    az.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    return str(folder)


@pytest.fixture
def no_az(tmp_path: Path) -> str:
    """A PATH without ``az``."""
    folder = tmp_path / "empty-bin"
    folder.mkdir()
    return str(folder)


# --- the order, each way used only when its signal is present -----------------------------------


def test_each_way_is_chosen_in_order_as_the_ones_before_it_go_away(az_on_path: str) -> None:
    """Every signal at once: legacy first; take each away and the next one in the order wins."""
    ladder = [
        ({"AZURE_CREDENTIALS": LEGACY}, CredentialKind.CLIENT_SECRET),
        (GITHUB, CredentialKind.GITHUB_OIDC),
        (WORKLOAD, CredentialKind.WORKLOAD_IDENTITY),
        (OBO, CredentialKind.ON_BEHALF_OF),
        (MSI, CredentialKind.MANAGED_IDENTITY),
        ({"PATH": az_on_path}, CredentialKind.AZURE_CLI),
    ]
    environ: dict[str, str] = {**IDS}
    for signals, _ in ladder:
        environ.update(signals)
    seen = []
    for signals, _ in ladder:
        seen.append(choose_credential(environ).kind)
        for name in signals:
            del environ[name]
    assert seen == [kind for _, kind in ladder]
    with pytest.raises(CredentialsError):
        choose_credential(environ)


def test_github_oidc_takes_the_ids_from_the_arguments_before_the_environment() -> None:
    """--client-id/--tenant-id win over AZURE_CLIENT_ID/AZURE_TENANT_ID; the URL and token kept."""
    choice = choose_credential({**GITHUB, **IDS}, client_id="flag-client", tenant_id="flag-tenant")
    assert choice.kind is CredentialKind.GITHUB_OIDC
    assert (choice.client_id, choice.tenant_id) == ("flag-client", "flag-tenant")
    assert choice.id_token is not None
    assert choice.id_token.request_url == GITHUB["ACTIONS_ID_TOKEN_REQUEST_URL"]
    assert choice.id_token.audience == GITHUB_AUDIENCE == "api://AzureADTokenExchange"
    assert "--client-id/--tenant-id" in choice.describe()
    from_env = choose_credential({**GITHUB, **IDS})
    assert (from_env.client_id, from_env.tenant_id) == ("app-client-id", "app-tenant-id")
    assert "AZURE_CLIENT_ID/AZURE_TENANT_ID" in from_env.describe()


def test_a_github_id_token_without_ids_is_left_to_the_next_way(az_on_path: str) -> None:
    """id-token: write for another step (azure/login), no client id here: the CLI login is used."""
    choice = choose_credential({**GITHUB, "PATH": az_on_path})
    assert choice.kind is CredentialKind.AZURE_CLI


@pytest.mark.parametrize(
    ("given", "missing"),
    [({"client_id": "c"}, "a tenant id (AZURE_TENANT_ID)"), ({"tenant_id": "t"}, "a client id")],
)
def test_github_oidc_with_half_the_ids_names_the_missing_one(
    given: dict[str, str], missing: str
) -> None:
    """A client id without a tenant id (or the reverse) is exit 2 naming the one missing."""
    with pytest.raises(CredentialsError, match="GitHub OIDC needs") as caught:
        choose_credential(GITHUB, **given)
    assert missing in str(caught.value)


def test_a_tenant_id_that_is_not_one_is_exit_2_without_its_value() -> None:
    """A tenant id with a space or a slash (a pasted sentence, a URL) is refused before any call."""
    for tenant in ("not a tenant", "https://login.microsoftonline.com/x"):
        with pytest.raises(
            CredentialsError, match=r"the tenant id \(--tenant-id\) is not one"
        ) as caught:
            choose_credential(GITHUB, client_id="c", tenant_id=tenant)
        assert tenant not in str(caught.value)
    assert choose_credential(GITHUB, client_id="c", tenant_id="contoso.onmicrosoft.com").tenant_id


def test_ids_without_a_github_id_token_say_to_grant_id_token_write(az_on_path: str) -> None:
    """--client-id but no ID-token URL (no permission): exit 2 with the fix, not the CLI login."""
    with pytest.raises(CredentialsError) as caught:
        choose_credential({"PATH": az_on_path, **MSI}, client_id="c", tenant_id="t")
    message = str(caught.value)
    assert "permissions: id-token: write" in message
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" in message


def test_workload_identity_needs_the_client_and_tenant_id() -> None:
    """AZURE_FEDERATED_TOKEN_FILE without AZURE_CLIENT_ID: exit 2 naming it."""
    with pytest.raises(CredentialsError, match="workload identity") as caught:
        choose_credential({**WORKLOAD, "AZURE_TENANT_ID": "t"})
    assert "a client id (AZURE_CLIENT_ID)" in str(caught.value)
    choice = choose_credential({**WORKLOAD, **IDS})
    assert choice.token_file == WORKLOAD["AZURE_FEDERATED_TOKEN_FILE"]


def test_ids_in_the_environment_on_github_without_an_id_token_say_what_is_missing(
    az_on_path: str,
) -> None:
    """AZURE_CLIENT_ID/AZURE_TENANT_ID on a runner (always with `az`), no id-token: write.

    The CLI's login is still tried (azure/login may have signed it in), and if it fails the
    message says what the ids were meant for, not only "run az login".
    """
    github = {"PATH": az_on_path, "GITHUB_ACTIONS": "true", **IDS}
    choice = choose_credential(github)
    assert choice.kind is CredentialKind.AZURE_CLI
    assert choice.hint is not None
    assert "permissions: id-token: write" in choice.hint
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" in choice.hint
    assert IDS["AZURE_CLIENT_ID"] not in choice.hint
    elsewhere = choose_credential({"PATH": az_on_path})
    assert elsewhere.hint is not None
    assert "GitHub OIDC" in elsewhere.hint
    assert "AZURE_CREDENTIALS" in elsewhere.hint  # every way is named


def test_a_compute_identity_named_by_azure_client_id_is_user_assigned() -> None:
    """In a job, AZURE_CLIENT_ID alone names the identity, as DefaultAzureCredential reads it."""
    endpoint = {"MSI_ENDPOINT": MSI["MSI_ENDPOINT"], "MSI_SECRET": "s"}
    choice = choose_credential({**endpoint, "AZURE_CLIENT_ID": "uami-client-id"})
    assert (choice.kind, choice.client_id) == (CredentialKind.MANAGED_IDENTITY, "uami-client-id")
    assert "user-assigned" in choice.describe()
    assert "AZURE_CLIENT_ID" in choice.source
    named = choose_credential({**MSI, "AZURE_CLIENT_ID": "uami-client-id"})
    assert named.client_id == MSI["DEFAULT_IDENTITY_CLIENT_ID"]  # the job's own name wins


def test_a_compute_identity_is_user_assigned_when_the_job_names_one() -> None:
    """DEFAULT_IDENTITY_CLIENT_ID names the user-assigned identity; without it, system-assigned."""
    user = choose_credential(MSI)
    assert (user.kind, user.client_id) == (CredentialKind.MANAGED_IDENTITY, "compute-identity-id")
    assert "user-assigned" in user.describe()
    system = choose_credential({"MSI_ENDPOINT": MSI["MSI_ENDPOINT"], "MSI_SECRET": "s"})
    assert system.client_id is None
    assert "system-assigned" in system.describe()


def test_the_compute_identity_alone_is_a_managed_identity_as_microsofts_job_code_reads_it() -> None:
    """DEFAULT_IDENTITY_CLIENT_ID without MSI_ENDPOINT (mldesigner's, promptflow's signal)."""
    choice = choose_credential({"DEFAULT_IDENTITY_CLIENT_ID": "compute-identity-id"})
    assert (choice.kind, choice.client_id) == (
        CredentialKind.MANAGED_IDENTITY,
        "compute-identity-id",
    )
    assert choice.source == "DEFAULT_IDENTITY_CLIENT_ID"


def test_msi_endpoint_without_its_secret_is_cloud_shell_not_a_job(az_on_path: str) -> None:
    """MSI_ENDPOINT alone (Cloud Shell, whose az is signed in): the Azure CLI's login."""
    choice = choose_credential({"MSI_ENDPOINT": MSI["MSI_ENDPOINT"], "PATH": az_on_path})
    assert choice.kind is CredentialKind.AZURE_CLI


def test_a_job_run_as_its_user_signs_in_as_that_user() -> None:
    """OBO_ENDPOINT (a job submitted with a user identity) wins over the compute's identity."""
    assert choose_credential({**MSI, **OBO}).kind is CredentialKind.ON_BEHALF_OF
    spark = choose_credential({**MSI, "AZUREML_DATAPREP_TOKEN_PROVIDER": "sparkobo"})
    assert spark.kind is CredentialKind.ON_BEHALF_OF
    # The flag alone cannot sign in (no OBO_ENDPOINT): the compute's identity, where it has one.
    flagged = choose_credential({**MSI, "AZUREML_OBO_ENABLED": "True"})
    assert flagged.kind is CredentialKind.MANAGED_IDENTITY
    assert choose_credential({"AZUREML_OBO_ENABLED": "True"}).kind is CredentialKind.ON_BEHALF_OF
    assert choose_credential({**MSI, "AZUREML_OBO_ENABLED": "False"}).kind is (
        CredentialKind.MANAGED_IDENTITY
    )
    assert in_azure_ml_job(OBO)
    assert in_azure_ml_job({"AZUREML_RUN_ID": "calm_lemon"})
    assert not in_azure_ml_job({**GITHUB, **IDS})


def test_no_way_at_all_names_every_option_and_never_prompts(no_az: str) -> None:
    """Nothing in the environment: exit 2 naming each way, and no interactive login."""
    with pytest.raises(CredentialsError) as caught:
        choose_credential({"PATH": no_az, "GITHUB_ACTIONS": "true"})
    message = str(caught.value)
    assert message == NO_CREDENTIAL
    for option in (
        "GitHub OIDC",
        "id-token: write",
        "client_id and tenant_id",
        "AZURE_FEDERATED_TOKEN_FILE",
        "managed identity",
        "az login",
        "azure/login",
        "az ad sp create-for-rbac --json-auth",
    ):
        assert option in message
    assert "--sdk-auth" not in message


def test_the_legacy_secret_is_never_in_the_choice_the_line_or_an_error() -> None:
    """The chosen line, the repr and a malformed secret's error show no id, secret or token."""
    environ = {"AZURE_CREDENTIALS": LEGACY, **GITHUB, **MSI}
    choice = choose_credential(environ)
    shown = choice.describe() + repr(choice)
    values = [SECRET, "legacy-client", "legacy-tenant", "legacy-sub", *GITHUB.values()]
    assert not [value for value in values if value in shown]
    assert "legacy" in choice.describe()
    oidc = choose_credential({**GITHUB, **IDS})
    shown = oidc.describe() + repr(oidc) + repr(oidc.id_token)
    assert not [v for v in [*GITHUB.values(), *IDS.values()] if v in shown]
    broken = LEGACY.replace('"tenantId"', '"tenant"')
    with pytest.raises(CredentialsError) as caught:
        choose_credential({"AZURE_CREDENTIALS": broken})
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None


def test_azure_client_secret_is_the_legacy_way_too() -> None:
    """azure-identity's own AZURE_CLIENT_SECRET (with the ids) signs in as before, legacy."""
    choice = choose_credential({"AZURE_CLIENT_SECRET": SECRET, **IDS, **GITHUB})
    assert choice.kind is CredentialKind.CLIENT_SECRET
    assert choice.subscription_id is None
    assert "AZURE_CLIENT_SECRET" in choice.describe()
    assert SECRET not in choice.describe() + repr(choice)


# --- GitHub's ID token, asked for at each call ---------------------------------------------------


class _GitHub(BaseHTTPRequestHandler):
    status = 200
    seen: list[tuple[str, str]] = []  # noqa: RUF012 - the test server's record
    counter = 0

    def do_GET(self) -> None:
        type(self).seen.append((self.path, self.headers.get("Authorization", "")))
        type(self).counter += 1
        body = json.dumps({"value": f"github-id-token-{type(self).counter}"}).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        """Quiet."""


@pytest.fixture
def github() -> Iterator[tuple[str, type[_GitHub]]]:
    """A stand-in for GitHub's ID-token endpoint on 127.0.0.1 (plain http; its URL and record)."""

    class Handler(_GitHub):
        seen: list[tuple[str, str]] = []  # noqa: RUF012
        counter = 0

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/idtoken?api-version=2.0", Handler
    finally:
        server.shutdown()
        server.server_close()


def test_each_call_asks_github_for_a_fresh_id_token_for_entra_id(
    github: tuple[str, type[_GitHub]],
) -> None:
    """Two calls, two requests, two tokens; the audience is Entra ID's, the bearer the runner's."""
    url, handler = github
    source = GitHubIdToken(request_url=url, request_token="runner-token")  # noqa: S106 - made up
    assert [source(), source()] == ["github-id-token-1", "github-id-token-2"]
    assert len(handler.seen) == 2
    path, authorization = handler.seen[0]
    assert path == "/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange"
    assert authorization == "bearer runner-token"


def test_github_refusing_is_a_credentials_error_and_a_5xx_may_be_retried(
    github: tuple[str, type[_GitHub]],
) -> None:
    """403: exit 2 naming the permission; 503: transient; the runner's token is in neither."""
    url, handler = github
    source = GitHubIdToken(request_url=url, request_token="runner-token")  # noqa: S106 - made up
    handler.status = 403
    with pytest.raises(CredentialsError, match="id-token: write") as refused:
        source()
    handler.status = 503
    with pytest.raises(TransientRegistryError, match="HTTP 503") as failed:
        source()
    for error in (refused.value, failed.value):
        assert "runner-token" not in str(error)
        assert error.__context__ is None or "runner-token" not in repr(error.__context__)


# --- the workspace by name ------------------------------------------------------------------------


def test_the_workspace_by_name_needs_no_config_file(tmp_path: Path) -> None:
    """Arguments (or AZURE_SUBSCRIPTION_ID for the subscription) name it: no file is read."""
    target = named_workspace(
        resource_group="rg",
        workspace_name="ws",
        environ={"AZURE_SUBSCRIPTION_ID": "sub"},
        search_from=tmp_path,
    )
    assert (target.subscription_id, target.resource_group, target.workspace_name) == (
        "sub",
        "rg",
        "ws",
    )
    assert target.path is None


def test_inside_a_job_the_workspace_is_the_jobs_own() -> None:
    """AZUREML_ARM_*: the job's workspace; an argument still wins over its variable."""
    job = {
        "AZUREML_ARM_SUBSCRIPTION": "job-sub",
        "AZUREML_ARM_RESOURCEGROUP": "job-rg",
        "AZUREML_ARM_WORKSPACE_NAME": "job-ws",
    }
    target = named_workspace(environ=job)
    assert (target.subscription_id, target.resource_group, target.workspace_name) == (
        "job-sub",
        "job-rg",
        "job-ws",
    )
    prod = named_workspace(environ=job, workspace_name="prod-ws", subscription_id="prod-sub")
    assert (prod.subscription_id, prod.workspace_name) == ("prod-sub", "prod-ws")


def test_a_job_wide_subscription_does_not_move_the_jobs_own_workspace() -> None:
    """AZURE_SUBSCRIPTION_ID set for a job's other work: the job's workspace keeps its own.

    With a workspace name of its own (``--workspace-name``), the generic variable is the one used.
    """
    job = {
        "AZURE_SUBSCRIPTION_ID": "other-sub",
        "AZUREML_ARM_SUBSCRIPTION": "job-sub",
        "AZUREML_ARM_RESOURCEGROUP": "job-rg",
        "AZUREML_ARM_WORKSPACE_NAME": "job-ws",
    }
    assert named_workspace(environ=job).subscription_id == "job-sub"
    assert named_workspace(environ=job, workspace_name="prod-ws").subscription_id == "other-sub"


def test_a_workspace_named_in_part_names_what_is_missing(tmp_path: Path) -> None:
    """A name without its resource group or subscription: exit 2 naming the options to add."""
    (tmp_path / "config.json").write_text(
        json.dumps({"subscription_id": "f", "resource_group": "f", "workspace_name": "f"})
    )
    with pytest.raises(UsageError) as caught:
        named_workspace(workspace_name="ws", environ={}, search_from=tmp_path)
    message = str(caught.value)
    assert "--subscription-id" in message
    assert "--resource-group" in message
    assert "--workspace-name" not in message


def test_without_a_name_the_config_file_names_it_and_only_the_argument_overrides_it(
    tmp_path: Path,
) -> None:
    """No resource group or name: the file found; its subscription yields to the argument only."""
    (tmp_path / "config.json").write_text(
        json.dumps({"subscription_id": "file-sub", "resource_group": "rg", "workspace_name": "ws"})
    )
    env = {"AZURE_SUBSCRIPTION_ID": "job-wide-sub"}
    found = named_workspace(environ=env, search_from=tmp_path)
    assert (found.subscription_id, found.workspace_name) == ("file-sub", "ws")
    assert found.path == tmp_path / "config.json"
    overridden = named_workspace(subscription_id="flag-sub", environ=env, search_from=tmp_path)
    assert overridden.subscription_id == "flag-sub"
    with pytest.raises(UsageError, match="no workspace configuration"):
        named_workspace(environ={}, search_from=tmp_path / "..")


def test_the_legacy_principal_names_the_subscription_last() -> None:
    """With AZURE_CREDENTIALS, its subscriptionId is used when nothing else names one."""
    target = named_workspace(
        resource_group="rg", workspace_name="ws", environ={}, fallback_subscription="legacy-sub"
    )
    assert target.subscription_id == "legacy-sub"


# --- the default backend, and the backend's name --------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "azure_named", "expected"),
    [
        ({}, False, BackendChoice.AZUREML_V2),
        ({"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"}, False, BackendChoice.MLFLOW),
        ({"MLFLOW_TRACKING_URI": "databricks"}, True, BackendChoice.AZUREML_V2),
        ({"MLFLOW_TRACKING_URI": " "}, False, BackendChoice.AZUREML_V2),
        (
            {"MLFLOW_TRACKING_URI": "azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/x"},
            False,
            BackendChoice.AZUREML_V2,
        ),
        (
            {"MLFLOW_TRACKING_URI": "http://x", "AZUREML_ARM_WORKSPACE_NAME": "ws"},
            False,
            BackendChoice.AZUREML_V2,
        ),
    ],
)
def test_the_default_backend_is_v2_unless_only_an_mlflow_server_is_named(
    environ: dict[str, str], azure_named: bool, expected: BackendChoice
) -> None:
    """azureml-v2 by default; MLflow when MLFLOW_TRACKING_URI is set and no workspace is named."""
    assert default_backend(environ=environ, azure_named=azure_named) is expected


def test_the_parsed_default_follows_the_environment_and_the_options() -> None:
    """Arguments.parse applies the rule; an Azure option keeps Azure ML; --backend always wins."""
    mlflow = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"}
    assert Arguments.parse([], environ=mlflow).backend is BackendChoice.MLFLOW
    named = Arguments.parse(["--workspace-name=ws"], environ=mlflow)
    assert named.backend is BackendChoice.AZUREML_V2
    assert Arguments.parse(["--backend=azureml"], environ=mlflow).backend is BackendChoice.AZUREML


@pytest.mark.parametrize("name", ["azureml-v2", "AzureML-V2", " AZUREML-V2 "])
def test_backend_names_are_read_in_any_case(name: str) -> None:
    """``--backend AzureML-V2`` is azureml-v2."""
    assert Arguments.parse([f"--backend={name}"]).backend is BackendChoice.AZUREML_V2


def test_an_unknown_backend_lists_the_choices() -> None:
    """--backend azure: exit 2, the message listing azureml-v2, mlflow and azureml."""
    out, err = io.StringIO(), io.StringIO()
    code = run(["--backend=azure"], environ={}, stdout=out, stderr=err)
    assert code == ExitCode.BAD_INPUT
    assert "invalid choice: 'azure' (choose from azureml-v2, mlflow, azureml)" in err.getvalue()


@pytest.mark.parametrize(
    "option",
    ["--subscription-id", "--resource-group", "--workspace-name", "--client-id", "--tenant-id"],
)
def test_the_azure_options_are_for_azureml_v2(option: str) -> None:
    """An Azure ML v2 option with another backend, or empty, is exit 2 saying why."""
    with pytest.raises(UsageError, match=f"{option} is for --backend azureml-v2"):
        Arguments.parse(["--backend=mlflow", f"{option}=x"])
    with pytest.raises(UsageError, match=f"{option} is empty"):
        Arguments.parse([f"{option}= "])


def test_the_v1_backend_warns_once_that_it_is_deprecated(tmp_path: Path) -> None:
    """--backend azureml still works, with one deprecation line (here before the usual error)."""
    out, err = io.StringIO(), io.StringIO()
    code = run(
        ["--backend=azureml", "--experiment-name=e", "--run-id=r"],
        environ={"GITHUB_ACTIONS": "true"},
        stdout=out,
        stderr=err,
        cwd=tmp_path,
    )
    assert code == ExitCode.BAD_INPUT
    lines = [line for line in err.getvalue().splitlines() if "deprecated" in line]
    assert lines == [f"aml-promote: warning: {V1_DEPRECATED}"]
    assert "azureml-v2" in V1_DEPRECATED
