"""The ``AZURE_CREDENTIALS`` secret: parsed, checked, and never shown.

``AZURE_CREDENTIALS`` is the legacy way to sign in: the JSON that ``az ad sp create-for-rbac
--json-auth`` prints (the replacement of the deprecated ``--sdk-auth``, same keys) and that the
Azure GitHub Actions read from a secret: ``clientId``, ``clientSecret``, ``subscriptionId``,
``tenantId``, and optionally ``resourceManagerEndpointUrl``, which selects the US Government or
China cloud. Other keys it carries (``activeDirectoryEndpointUrl``...) are ignored.

Nothing here imports an SDK, so the CLI can parse and mask the secret before choosing a backend.
Every error names the keys that are missing or malformed, never a value: not in its message, not
in its ``repr``, and not in an exception chained to it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from aml_promotion.exceptions import CredentialsError

__all__ = ["AzureCloud", "ServicePrincipalCredentials", "parse_credentials"]

_SOURCE = "AZURE_CREDENTIALS"
_REQUIRED = ("clientId", "clientSecret", "subscriptionId", "tenantId")
_ENDPOINT_KEY = "resourceManagerEndpointUrl"


class AzureCloud(enum.Enum):
    """The Azure clouds azureml-core knows, by the name it gives them."""

    PUBLIC = "AzureCloud"
    US_GOVERNMENT = "AzureUSGovernment"
    CHINA = "AzureChinaCloud"


# Resource Manager hosts, as `az ad sp create-for-rbac --json-auth` writes them for each cloud.
_CLOUD_BY_ARM_HOST = {
    "management.azure.com": AzureCloud.PUBLIC,
    "management.core.windows.net": AzureCloud.PUBLIC,
    "management.usgovcloudapi.net": AzureCloud.US_GOVERNMENT,
    "management.core.usgovcloudapi.net": AzureCloud.US_GOVERNMENT,
    "management.chinacloudapi.cn": AzureCloud.CHINA,
    "management.core.chinacloudapi.cn": AzureCloud.CHINA,
}


@attrs.frozen(kw_only=True)
class ServicePrincipalCredentials:
    """A service principal's credentials, as read from ``AZURE_CREDENTIALS``.

    The ``repr`` shows the cloud only: every other value identifies or unlocks the principal.

    Attributes:
        client_id: The principal's application (client) id.
        client_secret: Its secret.
        subscription_id: The subscription it works in.
        tenant_id: Its Entra ID (Azure AD) tenant.
        cloud: The cloud that ``resourceManagerEndpointUrl`` names (the public cloud if absent).
    """

    client_id: str = attrs.field(repr=False)
    client_secret: str = attrs.field(repr=False)
    subscription_id: str = attrs.field(repr=False)
    tenant_id: str = attrs.field(repr=False)
    cloud: AzureCloud = AzureCloud.PUBLIC

    def secrets(self) -> tuple[str, ...]:
        """Return the values to mask in logs (GitHub's ``::add-mask::``), the secret first.

        The ids are included too, as the Azure actions mask them: together they say which
        principal can do what where.
        """
        return (self.client_secret, self.client_id, self.tenant_id, self.subscription_id)


def parse_credentials(source: str | bytes | Mapping[str, object]) -> ServicePrincipalCredentials:
    """Read and check ``AZURE_CREDENTIALS``: its JSON text, or the mapping it decodes to.

    Raises:
        CredentialsError: The text is empty or not a JSON object, a required key is missing or
            is not a non-empty string, or ``resourceManagerEndpointUrl`` names no cloud that
            azureml-core supports. The message names the keys, never their values.
    """
    data = _decode(source)
    missing = [key for key in _REQUIRED if key not in data or data[key] is None]
    malformed = [
        key
        for key in _REQUIRED
        if key not in missing and (not isinstance(data[key], str) or not str(data[key]).strip())
    ]
    cloud = AzureCloud.PUBLIC
    endpoint = data.get(_ENDPOINT_KEY)
    if endpoint is not None:
        found = _cloud(endpoint)
        if found is None:
            malformed.append(_ENDPOINT_KEY)
        else:
            cloud = found
    if missing or malformed:
        raise CredentialsError(_problems(data, missing, malformed), missing=missing)
    values = {key: str(data[key]).strip() for key in _REQUIRED}
    return ServicePrincipalCredentials(
        client_id=values["clientId"],
        client_secret=values["clientSecret"],
        subscription_id=values["subscriptionId"],
        tenant_id=values["tenantId"],
        cloud=cloud,
    )


def _decode(source: str | bytes | Mapping[str, object]) -> Mapping[str, object]:
    if isinstance(source, Mapping):
        return source
    text = source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source
    if not text.strip():
        raise CredentialsError(
            f"{_SOURCE} is empty: set it to the JSON that "
            "`az ad sp create-for-rbac --json-auth` prints",
            missing=_REQUIRED,
        )
    where = None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # Only the position and the parser's word for the problem: the exception itself holds
        # the whole text, and it must not be chained to ours.
        where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    if where is not None:
        raise CredentialsError(f"{_SOURCE} is not valid JSON ({where})")
    if not isinstance(data, dict):
        raise CredentialsError(f"{_SOURCE} must be a JSON object, not a JSON {_kind(data)}")
    return data


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _cloud(endpoint: object) -> AzureCloud | None:
    if not isinstance(endpoint, str):
        return None
    host = urlsplit(endpoint.strip()).hostname
    return _CLOUD_BY_ARM_HOST.get((host or "").lower())


def _problems(data: Mapping[str, object], missing: list[str], malformed: list[str]) -> str:
    parts = []
    if missing:
        hints = [_near_miss(data, key) for key in missing]
        shown = ", ".join(f"{key}{hint}" for key, hint in zip(missing, hints, strict=True))
        parts.append(f"is missing {shown}")
    if malformed:
        shown = ", ".join(f"{key} ({_expected(key)})" for key in malformed)
        parts.append(f"has malformed {shown}")
    return (
        f"{_SOURCE} {' and '.join(parts)}; it should be the JSON that "
        "`az ad sp create-for-rbac --json-auth` prints"
    )


def _expected(key: str) -> str:
    if key == _ENDPOINT_KEY:
        return (
            "not the Resource Manager endpoint of a cloud azureml-core supports: "
            "Azure public, US Government or China"
        )
    return "expected a non-empty string"


def _near_miss(data: Mapping[str, object], key: str) -> str:
    # A key spelt another way (client_id, ClientID) is named back: keys are not secret.
    wanted = key.lower()
    for present in data:
        if present.replace("_", "").lower() == wanted:
            return f" (found {present!r}: the key is {key!r})"
    return ""
