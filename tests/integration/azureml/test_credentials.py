"""AZURE_CREDENTIALS: parsed and checked, and never shown, whatever is wrong with it."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path
from typing import Any

import pytest

from aml_promotion.adapters.azureml import (
    AzureCloud,
    AzureMLBackend,
    WorkspaceConfig,
    find_workspace_config,
    parse_credentials,
)
from aml_promotion.exceptions import CredentialsError, UsageError
from integration.azureml.emulator import AzureMLEmulator

pytestmark = pytest.mark.azureml

SECRET = "s3cr3t-Value~with.chars_0123456789"  # noqa: S105 - a made-up secret to look for
CLIENT = "11111111-2222-3333-4444-555555555555"
TENANT = "66666666-7777-8888-9999-000000000000"
SUBSCRIPTION = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


def good(**changes: Any) -> dict[str, Any]:
    data = {
        "clientId": CLIENT,
        "clientSecret": SECRET,
        "subscriptionId": SUBSCRIPTION,
        "tenantId": TENANT,
        "activeDirectoryEndpointUrl": "https://login.microsoftonline.com",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not _DROP}


_DROP = object()


def test_the_json_of_az_ad_sp_create_for_rbac_is_read() -> None:
    """Text, bytes or a mapping: the four values, in the public cloud by default."""
    for source in (json.dumps(good()), json.dumps(good()).encode(), good()):
        creds = parse_credentials(source)
        assert (creds.client_id, creds.client_secret, creds.tenant_id) == (CLIENT, SECRET, TENANT)
        assert creds.subscription_id == SUBSCRIPTION
        assert creds.cloud is AzureCloud.PUBLIC


@pytest.mark.parametrize(
    ("endpoint", "cloud"),
    [
        ("https://management.azure.com/", AzureCloud.PUBLIC),
        ("https://management.usgovcloudapi.net/", AzureCloud.US_GOVERNMENT),
        ("https://management.usgovcloudapi.net", AzureCloud.US_GOVERNMENT),
        ("https://MANAGEMENT.chinacloudapi.cn/", AzureCloud.CHINA),
        ("https://management.core.chinacloudapi.cn/", AzureCloud.CHINA),
    ],
)
def test_the_resource_manager_endpoint_selects_the_cloud(endpoint: str, cloud: AzureCloud) -> None:
    """The key resourceManagerEndpointUrl names the cloud: US Government, China, public."""
    assert parse_credentials(good(resourceManagerEndpointUrl=endpoint)).cloud is cloud


def test_the_repr_shows_no_value_and_secrets_lists_them_secret_first() -> None:
    """repr() shows the cloud only; secrets() gives every value to mask, the secret first."""
    creds = parse_credentials(good())
    assert repr(creds) == "ServicePrincipalCredentials(cloud=<AzureCloud.PUBLIC: 'AzureCloud'>)"
    assert creds.secrets() == (SECRET, CLIENT, TENANT, SUBSCRIPTION)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("", "AZURE_CREDENTIALS is empty"),
        ("   \n", "AZURE_CREDENTIALS is empty"),
        ('{"clientSecret": "' + SECRET + '", ', "not valid JSON (line 1, column"),
        ("clientSecret=" + SECRET, "not valid JSON (line 1, column 1"),
        (json.dumps([SECRET]), "must be a JSON object, not a JSON array"),
        (json.dumps(SECRET), "must be a JSON object, not a JSON string"),
        (json.dumps(good(clientId=_DROP)), "is missing clientId"),
        (json.dumps(good(tenantId=None, clientId=_DROP)), "is missing clientId, tenantId"),
        (json.dumps(good(clientSecret=12345)), "has malformed clientSecret (expected a non-"),
        (json.dumps(good(clientSecret="  ")), "has malformed clientSecret"),
        (json.dumps(good(clientSecret=[SECRET])), "has malformed clientSecret"),
        (json.dumps(good(subscriptionId={"v": SECRET})), "has malformed subscriptionId"),
        (
            json.dumps(good(resourceManagerEndpointUrl="https://" + SECRET + ".example/")),
            "has malformed resourceManagerEndpointUrl (not the Resource Manager endpoint",
        ),
        (
            json.dumps(good(clientSecret=_DROP, client_secret=SECRET)),
            "is missing clientSecret (found 'client_secret': the key is 'clientSecret')",
        ),
    ],
)
def test_bad_credentials_name_the_keys_and_never_a_value(
    source: str, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Each problem is a CredentialsError naming keys; the secret is nowhere to be found.

    Not in the message, the repr, the args, anything chained to the error, its traceback, nor
    the logs.
    """
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CredentialsError) as caught:
        parse_credentials(source)
    error = caught.value
    assert expected in str(error)
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    assert seen == [error], "nothing is chained: a chained JSON error would hold the text"
    shown = "\n".join(
        [str(error), repr(error), repr(error.args), caplog.text, *traceback.format_exception(error)]
    )
    for value in (SECRET, CLIENT, TENANT, SUBSCRIPTION):
        assert value not in shown


def test_missing_keys_are_listed_on_the_error() -> None:
    """CredentialsError.missing lists the missing keys, in a fixed order."""
    with pytest.raises(CredentialsError) as caught:
        parse_credentials({"clientSecret": SECRET})
    assert caught.value.missing == ("clientId", "subscriptionId", "tenantId")


# --- workspace configuration files ----------------------------------------------------------------


def test_a_workspace_config_is_found_from_a_folder_up_and_read_in_either_shape(
    tmp_path: Path,
) -> None:
    """config.json keys, or the aml-workspace action's Scope, found from a subfolder upwards."""
    (tmp_path / ".azureml").mkdir()
    (tmp_path / "sub").mkdir()
    scope = (
        "/subscriptions/S/resourceGroups/R/providers/Microsoft.MachineLearningServices/workspaces/W"
    )
    (tmp_path / ".azureml" / "aml_arm_config.json").write_text(json.dumps({"Scope": scope}))
    found = find_workspace_config(tmp_path / "sub")
    assert (found.subscription_id, found.resource_group, found.workspace_name) == ("S", "R", "W")
    assert found.path == tmp_path / ".azureml" / "aml_arm_config.json"
    keys = {"subscription_id": "S2", "resource_group": "R2", "workspace_name": "W2"}
    (tmp_path / "config.json").write_text(json.dumps(keys))
    assert find_workspace_config(tmp_path / "sub").workspace_name == "W", "nearest folder first"
    assert find_workspace_config(tmp_path / "config.json").workspace_name == "W2"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"subscription_id": "S"}', "lacks resource_group, workspace_name"),
    ],
)
def test_a_bad_workspace_config_is_a_usage_error(
    tmp_path: Path, content: str, expected: str
) -> None:
    """An unreadable or incomplete workspace config says what is wrong with it."""
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=expected):
        WorkspaceConfig.read(path)


def test_no_workspace_config_is_a_usage_error(tmp_path: Path) -> None:
    """No config file anywhere up the tree: a UsageError saying where to get one."""
    with pytest.raises(UsageError, match="no workspace configuration"):
        find_workspace_config(tmp_path)


# --- the service principal constructor ------------------------------------------------------------


def test_malformed_credentials_fail_before_any_request(emulator: AzureMLEmulator) -> None:
    """from_service_principal checks the credentials first: no request is made."""
    with pytest.raises(CredentialsError, match="is missing tenantId"):
        AzureMLBackend.from_service_principal(
            json.dumps(good(tenantId=_DROP)), workspace_name="w", resource_group="r"
        )
    assert emulator.requests == []


@pytest.fixture
def principal_sign_in(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, Any]]:
    """Record the service principal sign-ins, and sign in with the emulator's token instead.

    MSAL refuses an http authority, so the sign-in itself cannot be emulated: this is the seam.
    """
    pytest.importorskip("azureml.core")
    from azureml.core import authentication  # noqa: PLC0415 - after the skip

    auth = request.getfixturevalue("auth")

    made: list[dict[str, Any]] = []

    def sign_in(**kwargs: Any) -> Any:
        made.append(kwargs)
        return auth

    monkeypatch.setattr(authentication, "ServicePrincipalAuthentication", sign_in)
    return made


@pytest.mark.usefixtures("arm_on_emulator")
def test_from_service_principal_signs_in_to_the_named_cloud_and_opens_the_workspace(
    emulator: AzureMLEmulator, principal_sign_in: list[dict[str, Any]], tmp_path: Path
) -> None:
    """The principal signs in to the credentials' cloud; the workspace comes from the config."""
    scope = emulator.workspace_path
    config = tmp_path / "aml_arm_config.json"
    config.write_text(json.dumps({"Id": None, "Scope": scope}))
    credentials = good(resourceManagerEndpointUrl="https://management.usgovcloudapi.net/")
    backend = AzureMLBackend.from_service_principal(json.dumps(credentials), config=config)
    assert principal_sign_in == [
        {
            "tenant_id": TENANT,
            "service_principal_id": CLIENT,
            "service_principal_password": SECRET,
            "cloud": "AzureUSGovernment",
        }
    ]
    assert backend.workspace.name == emulator.workspace_name
    assert backend.workspace.subscription_id == emulator.subscription_id, "the config's wins"
    assert emulator.count("GET", f"^{scope}$") == 1


@pytest.mark.usefixtures("arm_on_emulator")
def test_from_service_principal_takes_the_subscription_from_the_credentials_by_default(
    emulator: AzureMLEmulator, principal_sign_in: list[dict[str, Any]]
) -> None:
    """Named workspace and resource group, no config: the credentials' subscription is used.

    The credentials may come parsed already (the CLI parses them once, to mask them).
    """
    credentials = parse_credentials(good(subscriptionId=emulator.subscription_id))
    backend = AzureMLBackend.from_service_principal(
        credentials,
        workspace_name=emulator.workspace_name,
        resource_group=emulator.resource_group,
    )
    assert backend.workspace.subscription_id == emulator.subscription_id
    assert principal_sign_in[0]["cloud"] == "AzureCloud"


@pytest.mark.usefixtures("arm_on_emulator")
def test_a_rejected_sign_in_is_a_credentials_error(
    emulator: AzureMLEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The principal's sign-in failing is bad input (CredentialsError), not a backend failure."""
    pytest.importorskip("azureml.core")
    from azureml.core import authentication  # noqa: PLC0415 - after the skip
    from azureml.exceptions import AuthenticationException  # noqa: PLC0415

    class Rejected(authentication.AbstractAuthentication):
        def __init__(self, **_: Any) -> None:
            super().__init__(cloud="AzureCloud")

        def _fail(self, *_: Any) -> Any:
            raise AuthenticationException("AADSTS7000215: Invalid client secret provided.")

        get_authentication_header = _get_arm_token = _get_graph_token = _fail
        _get_azureml_client_token = _get_all_subscription_ids = _get_workspace = _fail

    monkeypatch.setattr(authentication, "ServicePrincipalAuthentication", Rejected)
    with pytest.raises(CredentialsError, match="could not sign in to Azure") as caught:
        AzureMLBackend.from_service_principal(
            good(), workspace_name=emulator.workspace_name, resource_group=emulator.resource_group
        )
    assert SECRET not in str(caught.value)
    assert isinstance(caught.value.__cause__, AuthenticationException)


@pytest.mark.usefixtures("arm_on_emulator")
def test_a_sign_in_error_quoting_the_secret_leaves_it_out_of_the_whole_chain(
    emulator: AzureMLEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An SDK error that quotes the client secret: no exception linked to ours holds it."""
    pytest.importorskip("azureml.core")
    from azureml.core import authentication  # noqa: PLC0415 - after the skip
    from azureml.exceptions import AuthenticationException  # noqa: PLC0415

    class Rejected(authentication.AbstractAuthentication):
        def __init__(self, **_: Any) -> None:
            super().__init__(cloud="AzureCloud")

        def _fail(self, *_: Any) -> Any:
            # What a token endpoint echoing its request body would make of it.
            raise AuthenticationException(f"AADSTS7000215: bad request: client_secret={SECRET}")

        get_authentication_header = _get_arm_token = _get_graph_token = _fail
        _get_azureml_client_token = _get_all_subscription_ids = _get_workspace = _fail

    monkeypatch.setattr(authentication, "ServicePrincipalAuthentication", Rejected)
    with pytest.raises(CredentialsError, match="could not sign in to Azure") as caught:
        AzureMLBackend.from_service_principal(
            good(), workspace_name=emulator.workspace_name, resource_group=emulator.resource_group
        )
    shown = "".join(traceback.format_exception(caught.value, chain=True))
    assert SECRET not in shown
    assert "AADSTS7000215" in shown, "the SDK's redacted text is kept"
    assert type(caught.value.__cause__).__name__ == "RedactedSdkError"
