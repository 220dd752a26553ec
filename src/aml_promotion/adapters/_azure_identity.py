"""Which Azure credential the environment offers (SDK v2), chosen in one place and built lazily.

`choose_credential` reads the environment (no SDK, no request) and picks the first sign-in whose
signal is present, most explicit first, never an interactive login:

1. ``AZURE_CREDENTIALS``: the legacy client-secret JSON (``az ad sp create-for-rbac --json-auth``),
   or azure-identity's own ``AZURE_CLIENT_SECRET`` with ``AZURE_CLIENT_ID``/``AZURE_TENANT_ID``;
2. GitHub OIDC: ``ACTIONS_ID_TOKEN_REQUEST_URL`` and ``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` (a job with
   ``permissions: id-token: write``) and a client and tenant id (``--client-id``/``--tenant-id``,
   or ``AZURE_CLIENT_ID``/``AZURE_TENANT_ID``): a ``ClientAssertionCredential`` whose assertion is
   a fresh GitHub ID token each time Entra ID is asked (`GitHubIdToken`), so a long job never
   meets the expiry of a token fetched once;
3. workload identity: ``AZURE_FEDERATED_TOKEN_FILE`` (a Kubernetes service account token, or any
   federated token a platform writes there);
4. inside an Azure ML job: the submitting user's identity when the job runs as that user
   (``OBO_ENDPOINT``, or on serverless Spark
   ``AZUREML_DATAPREP_TOKEN_PROVIDER=sparkobo``: ``AzureMLOnBehalfOfCredential``), else the
   compute's managed identity (``MSI_ENDPOINT``/``MSI_SECRET``, or ``DEFAULT_IDENTITY_CLIENT_ID``,
   which names the user-assigned one, else ``AZURE_CLIENT_ID`` does, as ``DefaultAzureCredential``
   reads it); ``AZUREML_OBO_ENABLED=True`` alone asks for the user's
   identity only where the compute has none;
5. an existing Azure CLI login (``az`` on ``PATH``: after ``azure/login``, in Azure DevOps'
   ``AzureCLI@2``, or a developer's ``az login``).

Otherwise `CredentialsError` names these options. `build_credential` then makes the
azure-identity credential (imported only there) wrapped so that a failed sign-in is a
`CredentialsError` naming the way it was tried, never an SDK traceback; `CredentialChoice.describe`
is the one line that says which way was chosen, with no id, secret or token in it.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import attrs

from aml_promotion.adapters._azure_credentials import (
    AzureCloud,
    ServicePrincipalCredentials,
    parse_credentials,
)
from aml_promotion.adapters._redaction import mask, redact
from aml_promotion.adapters._request_timeouts import current_timeout
from aml_promotion.exceptions import CredentialsError, TransientRegistryError

__all__ = [
    "GITHUB_AUDIENCE",
    "CredentialChoice",
    "CredentialKind",
    "GitHubIdToken",
    "build_credential",
    "choose_credential",
    "in_azure_ml_job",
]

logger = logging.getLogger("aml_promotion")

GITHUB_AUDIENCE = "api://AzureADTokenExchange"
"""The audience of the GitHub ID token that Entra ID's federated credentials expect."""

# The variables each way is signalled by (documented in docs/backends-azureml-v2.md).
_LEGACY = "AZURE_CREDENTIALS"
_CLIENT_ID = "AZURE_CLIENT_ID"
_TENANT_ID = "AZURE_TENANT_ID"
_CLIENT_SECRET = "AZURE_CLIENT_SECRET"  # noqa: S105 - a variable's name
_GITHUB_URL = "ACTIONS_ID_TOKEN_REQUEST_URL"
_GITHUB_TOKEN = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"  # noqa: S105 - a variable's name
_TOKEN_FILE = "AZURE_FEDERATED_TOKEN_FILE"  # noqa: S105 - a variable's name
_OBO = "OBO_ENDPOINT"
_SPARK_OBO = "AZUREML_DATAPREP_TOKEN_PROVIDER"
_OBO_ENABLED = "AZUREML_OBO_ENABLED"
_MSI = "MSI_ENDPOINT"
_MSI_SECRET = "MSI_SECRET"  # noqa: S105 - a variable's name
_MSI_CLIENT_ID = "DEFAULT_IDENTITY_CLIENT_ID"
_AUTHORITY_HOST = "AZURE_AUTHORITY_HOST"
# What azure-identity accepts in a tenant id (its VALID_TENANT_ID_CHARACTERS).
_TENANT = re.compile(r"[A-Za-z0-9.-]+")
_JOB_SIGNALS = ("AZUREML_RUN_ID", "AZUREML_ARM_WORKSPACE_NAME", _OBO, _OBO_ENABLED, _MSI)

_AUTHORITY = {
    AzureCloud.US_GOVERNMENT: "login.microsoftonline.us",
    AzureCloud.CHINA: "login.chinacloudapi.cn",
}

_WAYS = (
    "Use one of: GitHub OIDC (a federated credential on an Entra ID app: the job needs "
    "`permissions: id-token: write`, and client_id and tenant_id as action inputs, "
    "--client-id/--tenant-id, or AZURE_CLIENT_ID/AZURE_TENANT_ID); workload identity "
    "(AZURE_FEDERATED_TOKEN_FILE with AZURE_CLIENT_ID and AZURE_TENANT_ID); inside an Azure ML "
    "job, the compute's managed identity or the submitting user's identity; an Azure CLI login "
    "(`az login`, or azure/login before this step); or, legacy, the AZURE_CREDENTIALS secret (the"
    " JSON of `az ad sp create-for-rbac --json-auth`). No interactive or device-code login is "
    "ever tried"
)
NO_CREDENTIAL = (
    f"no Azure credential: none of the ways to sign in without a prompt is available. {_WAYS}"
)


class CredentialKind(enum.Enum):
    """The ways to sign in, in the order they are tried; the value says it in words."""

    CLIENT_SECRET = "a client secret (legacy)"  # noqa: S105 - words, not a secret
    GITHUB_OIDC = "GitHub OIDC"
    WORKLOAD_IDENTITY = "workload identity"
    ON_BEHALF_OF = "the Azure ML job's submitting user (on-behalf-of)"
    MANAGED_IDENTITY = "the Azure ML compute's managed identity"
    AZURE_CLI = "the Azure CLI's login"


# The ways that sign in at Entra ID (the others ask their own endpoint).
_AT_ENTRA_ID = frozenset(
    {CredentialKind.CLIENT_SECRET, CredentialKind.GITHUB_OIDC, CredentialKind.WORKLOAD_IDENTITY}
)


@attrs.frozen(kw_only=True)
class CredentialChoice:
    """A way to sign in, as the environment offers it; nothing here has made a request.

    The ``repr`` shows the kind and where it came from: ids, secrets and tokens are left out.

    Attributes:
        kind: The way.
        source: Where its signal was found, in words ("AZURE_CREDENTIALS", "--client-id...").
        client_id: The application (or user-assigned identity) to sign in as, if one is named.
        tenant_id: Its tenant.
        principal: The legacy service principal (`CredentialKind.CLIENT_SECRET` only).
        token_file: The federated token's file (`CredentialKind.WORKLOAD_IDENTITY` only).
        id_token: The GitHub ID token source (`CredentialKind.GITHUB_OIDC` only).
        authority: The Entra ID host to sign in at, when not the public cloud's
            (``AZURE_AUTHORITY_HOST``, or the legacy JSON's cloud).
        hint: What to say if this way's sign-in fails: the Azure CLI is tried whenever ``az``
            is on ``PATH`` (every GitHub-hosted runner has it), so its failure names the other
            ways, and a GitHub OIDC set up but for the job's ``id-token: write``.
    """

    kind: CredentialKind
    source: str
    client_id: str | None = attrs.field(default=None, repr=False)
    tenant_id: str | None = attrs.field(default=None, repr=False)
    principal: ServicePrincipalCredentials | None = attrs.field(default=None, repr=False)
    token_file: str | None = attrs.field(default=None, repr=False)
    id_token: GitHubIdToken | None = attrs.field(default=None, repr=False)
    authority: str | None = None
    hint: str | None = None

    @property
    def subscription_id(self) -> str | None:
        """The subscription the credential itself names (the legacy JSON's), if any."""
        return None if self.principal is None else (self.principal.subscription_id or None)

    def describe(self) -> str:
        """Return the one line that says how the sign-in is made (no id, secret or token)."""
        what = {
            CredentialKind.CLIENT_SECRET: "ClientSecretCredential",
            CredentialKind.GITHUB_OIDC: (
                "ClientAssertionCredential, a fresh GitHub ID token for each sign-in"
            ),
            CredentialKind.WORKLOAD_IDENTITY: "WorkloadIdentityCredential",
            CredentialKind.ON_BEHALF_OF: "AzureMLOnBehalfOfCredential",
            CredentialKind.MANAGED_IDENTITY: (
                "ManagedIdentityCredential, "
                + ("user-assigned" if self.client_id else "system-assigned")
            ),
            CredentialKind.AZURE_CLI: "AzureCliCredential",
        }[self.kind]
        return f"Azure credential: {self.kind.value} ({what}; from {self.source})"


@attrs.frozen(kw_only=True)
class GitHubIdToken:
    """The assertion callback of GitHub OIDC: a fresh GitHub ID token at each call.

    GitHub gives a job with ``permissions: id-token: write`` a URL and a bearer token to ask for
    an OpenID Connect token; Entra ID exchanges that for an access token when the app has a
    federated credential for the repository. The ID token lives minutes, so it is asked for
    again whenever azure-identity needs a new access token, not once.

    Attributes:
        request_url: ``ACTIONS_ID_TOKEN_REQUEST_URL``.
        request_token: ``ACTIONS_ID_TOKEN_REQUEST_TOKEN`` (never shown).
        audience: The audience asked for (Entra ID's: `GITHUB_AUDIENCE`).
        timeout: Seconds at most to wait for GitHub's answer (less inside an adapter call:
            its requests' timeout, `current_timeout`).
    """

    request_url: str = attrs.field(repr=False)
    request_token: str = attrs.field(repr=False)
    audience: str = GITHUB_AUDIENCE
    timeout: float = 30.0

    def __call__(self) -> str:
        """Ask GitHub for an ID token; return it.

        Raises:
            CredentialsError: GitHub refused (its status named, with what to check).
            TransientRegistryError: GitHub could not be reached, or failed (5xx): a retry may
                work.
        """
        separator = "&" if urllib.parse.urlsplit(self.request_url).query else "?"
        url = f"{self.request_url}{separator}{urllib.parse.urlencode({'audience': self.audience})}"
        request = urllib.request.Request(  # noqa: S310 - the runner's own https URL
            url,
            headers={
                "Authorization": f"bearer {self.request_token}",
                "Accept": "application/json",
                "User-Agent": "aml-promotion",
            },
        )
        problem = None
        try:
            with urllib.request.urlopen(request, timeout=self._timeout()) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            problem = exc.code
        except (urllib.error.URLError, OSError, TimeoutError):
            problem = 0
        # Raised outside the except blocks: the exceptions carry the request (and its token).
        if problem == 0 or (problem is not None and problem >= 500):  # noqa: PLR2004
            reason = f"answered HTTP {problem}" if problem else "could not be reached"
            msg = f"GitHub OIDC: GitHub's ID-token endpoint ({_GITHUB_URL}) {reason}"
            raise TransientRegistryError(msg)
        if problem is not None:
            msg = (
                f"GitHub OIDC: GitHub's ID-token endpoint ({_GITHUB_URL}) answered HTTP "
                f"{problem}: check that the job has `permissions: id-token: write`"
            )
            raise CredentialsError(msg, missing=(_GITHUB_TOKEN,))
        value = _token_value(body)
        if value is None:
            msg = f"GitHub OIDC: GitHub's ID-token endpoint ({_GITHUB_URL}) gave no token"
            raise CredentialsError(msg, missing=(_GITHUB_TOKEN,))
        return value

    def _timeout(self) -> float:
        # urllib, not requests: the adapters' cap on every request's wait (the retry
        # deadline's share) is applied here by hand, so a hung GitHub cannot outwait it.
        within = current_timeout()
        return self.timeout if within is None else min(self.timeout, within)


def _token_value(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    value = data.get("value") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def _given(value: str | None) -> str | None:
    return value.strip() if value is not None and value.strip() else None


def in_azure_ml_job(environ: Mapping[str, str]) -> bool:
    """Return whether the process runs inside an Azure ML job (by the variables a job sets)."""
    return any(_given(environ.get(name)) for name in _JOB_SIGNALS)


def choose_credential(
    environ: Mapping[str, str],
    *,
    client_id: str | None = None,
    tenant_id: str | None = None,
) -> CredentialChoice:
    """Return the first way to sign in whose signal the environment holds (see the module).

    Args:
        environ: The environment.
        client_id: The application to sign in as with GitHub OIDC or workload identity
            (``--client-id``, the action's ``client_id``); default ``AZURE_CLIENT_ID``.
        tenant_id: Its tenant (``--tenant-id``, ``tenant_id``); default ``AZURE_TENANT_ID``.

    Raises:
        CredentialsError: No way is available (the message names them all); the legacy JSON is
            malformed; a federated sign-in is half-configured (a client id without a tenant id,
            or ids given with no token to exchange); never a value in the message.
    """
    client = _Ids(
        given=_given(client_id) is not None or _given(tenant_id) is not None,
        client_id=_given(client_id) or _given(environ.get(_CLIENT_ID)),
        tenant_id=_given(tenant_id) or _given(environ.get(_TENANT_ID)),
        client_source="--client-id" if _given(client_id) else _CLIENT_ID,
        tenant_source="--tenant-id" if _given(tenant_id) else _TENANT_ID,
    )
    for step in (_client_secret, _github_oidc, _workload_identity, _azure_ml_job, _azure_cli):
        choice = step(environ, client)
        if choice is not None:
            choice = _with_authority(choice, environ)
            if client.given and choice.kind is CredentialKind.CLIENT_SECRET:
                logger.warning(
                    "--client-id/--tenant-id are not used: %s is set, and comes first",
                    choice.source,
                )
            return choice
    if client.given:
        msg = (
            "--client-id/--tenant-id (the action's client_id/tenant_id) name an app to sign in "
            "as with GitHub OIDC, but there is no GitHub ID token to exchange: "
            f"{_GITHUB_URL} is not set. Give the job `permissions: id-token: write` (the "
            "workflow's or the job's permissions), or set AZURE_FEDERATED_TOKEN_FILE for "
            "workload identity"
        )
        raise CredentialsError(msg, missing=(_GITHUB_URL, _GITHUB_TOKEN))
    raise CredentialsError(NO_CREDENTIAL, missing=(_LEGACY, _CLIENT_ID, _TENANT_ID))


@attrs.frozen(kw_only=True)
class _Ids:
    given: bool
    client_id: str | None = attrs.field(repr=False)
    tenant_id: str | None = attrs.field(repr=False)
    client_source: str
    tenant_source: str

    def source(self) -> str:
        return f"{self.client_source}/{self.tenant_source}"

    def require(self, way: str) -> tuple[str, str]:
        missing = [
            name
            for name, value in (
                (f"a client id ({self.client_source})", self.client_id),
                (f"a tenant id ({self.tenant_source})", self.tenant_id),
            )
            if value is None
        ]
        if missing:
            hint = (
                "the action's client_id and tenant_id inputs, --client-id and --tenant-id, or "
                f"{_CLIENT_ID} and {_TENANT_ID}"
            )
            msg = f"{way} needs {' and '.join(missing)}: give {hint}"
            raise CredentialsError(msg, missing=[_CLIENT_ID, _TENANT_ID][: len(missing)])
        assert self.client_id is not None  # noqa: S101 - for mypy: checked just above
        assert self.tenant_id is not None  # noqa: S101
        if not _TENANT.fullmatch(self.tenant_id):
            # Else it would be pasted into the token endpoint's path.
            msg = (
                f"{way}: the tenant id ({self.tenant_source}) is not one: expected a GUID or a "
                "domain such as contoso.onmicrosoft.com"
            )
            raise CredentialsError(msg, missing=[_TENANT_ID])
        return self.client_id, self.tenant_id


def _with_authority(choice: CredentialChoice, environ: Mapping[str, str]) -> CredentialChoice:
    """Name the Entra ID host of the ways that sign in there (the others have their own)."""
    if choice.kind not in _AT_ENTRA_ID:
        return choice
    cloud = choice.principal.cloud if choice.principal is not None else AzureCloud.PUBLIC
    authority = _AUTHORITY.get(cloud) or _given(environ.get(_AUTHORITY_HOST))
    return attrs.evolve(choice, authority=authority)


def _client_secret(environ: Mapping[str, str], ids: _Ids) -> CredentialChoice | None:
    raw = environ.get(_LEGACY, "")
    if raw.strip():
        return CredentialChoice(
            kind=CredentialKind.CLIENT_SECRET,
            source=f"{_LEGACY}, legacy",
            principal=parse_credentials(raw),
        )
    secret = environ.get(_CLIENT_SECRET, "")
    if secret.strip():
        client, tenant = ids.require(f"{_CLIENT_SECRET}")
        return CredentialChoice(
            kind=CredentialKind.CLIENT_SECRET,
            source=f"{_CLIENT_SECRET}, legacy",
            client_id=client,
            tenant_id=tenant,
            principal=ServicePrincipalCredentials(
                client_id=client,
                client_secret=secret.strip(),
                subscription_id="",
                tenant_id=tenant,
            ),
        )
    return None


def _github_oidc(environ: Mapping[str, str], ids: _Ids) -> CredentialChoice | None:
    url, token = _given(environ.get(_GITHUB_URL)), _given(environ.get(_GITHUB_TOKEN))
    if url is None or token is None:
        return None
    if ids.client_id is None and ids.tenant_id is None:
        # The job may ask for ID tokens for another step (azure/login): not a sign-in request.
        return None
    client, tenant = ids.require("GitHub OIDC")
    return CredentialChoice(
        kind=CredentialKind.GITHUB_OIDC,
        source=f"{_GITHUB_URL} with {ids.source()}",
        client_id=client,
        tenant_id=tenant,
        id_token=GitHubIdToken(request_url=url, request_token=token),
    )


def _workload_identity(environ: Mapping[str, str], ids: _Ids) -> CredentialChoice | None:
    token_file = _given(environ.get(_TOKEN_FILE))
    if token_file is None:
        return None
    client, tenant = ids.require(f"workload identity ({_TOKEN_FILE})")
    return CredentialChoice(
        kind=CredentialKind.WORKLOAD_IDENTITY,
        source=f"{_TOKEN_FILE} with {ids.source()}",
        client_id=client,
        tenant_id=tenant,
        token_file=token_file,
    )


def _azure_ml_job(environ: Mapping[str, str], ids: _Ids) -> CredentialChoice | None:
    # A job submitted to run as its user gets OBO_ENDPOINT (serverless Spark: its token
    # provider "sparkobo"); its compute may still have a managed identity, but the job asked
    # for the user's.
    if _given(environ.get(_OBO)):
        return CredentialChoice(kind=CredentialKind.ON_BEHALF_OF, source=_OBO)
    if environ.get(_SPARK_OBO, "").strip().lower() == "sparkobo":
        return CredentialChoice(kind=CredentialKind.ON_BEHALF_OF, source=f"{_SPARK_OBO}=sparkobo")
    # The flag Microsoft's mldesigner and promptflow read ("True"). azure-ai-ml's
    # AzureMLOnBehalfOfCredential cannot sign in without OBO_ENDPOINT, so the flag alone gives
    # way to the compute's identity where there is one, and is taken only where nothing else is.
    flagged = environ.get(_OBO_ENABLED, "").strip().lower() in {"true", "1", "yes"}
    if ids.given:
        return None  # an explicit client id asks for a federated sign-in, not this one
    # MSI_ENDPOINT alone is Cloud Shell's (azure-identity's ManagedIdentityCredential), whose
    # Azure CLI is signed in anyway: the next way. DEFAULT_IDENTITY_CLIENT_ID alone is how
    # Microsoft's own job code (mldesigner, promptflow) detects a compute's identity.
    endpoint = bool(_given(environ.get(_MSI)) and _given(environ.get(_MSI_SECRET)))
    identity = _given(environ.get(_MSI_CLIENT_ID))
    if not endpoint and identity is None:
        return (
            CredentialChoice(kind=CredentialKind.ON_BEHALF_OF, source=_OBO_ENABLED)
            if flagged
            else None
        )
    signals = [f"{_MSI}/{_MSI_SECRET}"] if endpoint else []
    signals += [_MSI_CLIENT_ID] if identity else []
    if identity is None and ids.client_id is not None:
        # A user-assigned identity named as DefaultAzureCredential reads it (its
        # managed_identity_client_id); ManagedIdentityCredential() alone would not.
        identity = ids.client_id
        signals.append(ids.client_source)
    return CredentialChoice(
        kind=CredentialKind.MANAGED_IDENTITY, source=" with ".join(signals), client_id=identity
    )


def _azure_cli(environ: Mapping[str, str], ids: _Ids) -> CredentialChoice | None:
    if ids.given:
        return None
    if shutil.which("az", path=environ.get("PATH", os.defpath)) is None:
        return None
    # `az` is on every GitHub-hosted runner, signed in or not: if it is not, say what else
    # would have signed in, and first what the environment shows was meant.
    hint = f"it was tried because `az` is on PATH and no other way to sign in was found. {_WAYS}"
    meant_oidc = environ.get("GITHUB_ACTIONS", "").strip().lower() == "true"
    if meant_oidc and ids.client_id is not None and ids.tenant_id is not None:
        hint = (
            f"{ids.source()} are set, as for GitHub OIDC, but this job gets no GitHub ID token "
            f"({_GITHUB_URL} and {_GITHUB_TOKEN} are not both set): give the job "
            "`permissions: id-token: write` (the workflow's or the job's permissions) to sign in "
            "with GitHub OIDC"
        )
    return CredentialChoice(kind=CredentialKind.AZURE_CLI, source="az on PATH", hint=hint)


# --- Building the credential (azure-identity, imported here only) -------------------------------


def build_credential(choice: CredentialChoice) -> Any:
    """Return the ``TokenCredential`` for a choice; a failed sign-in raises `CredentialsError`.

    No request is made here: the first token is asked for by the first SDK call. The managed
    identity, on-behalf-of and CLI credentials read the process's own environment (the
    endpoints, ``PATH``), as azure-identity does.

    Raises:
        CredentialsError: azure-identity refused a value (a tenant id that is not one).
    """
    # azure-identity logs each failed sign-in as a warning, twice; our error says it once.
    quiet = logging.getLogger("azure.identity")
    if quiet.level == logging.NOTSET:
        quiet.setLevel(logging.ERROR)
    problem = None
    try:
        return _Translated(_credential(choice), choice)
    except ValueError as exc:  # e.g. "Invalid tenant ID provided..."
        problem = redact(_first_line(str(exc)))
    msg = f"signing in to Azure with {choice.kind.value}: {problem}"
    raise CredentialsError(msg)


def _credential(choice: CredentialChoice) -> Any:
    from azure import identity  # noqa: PLC0415 - the SDK is imported lazily

    kind = choice.kind
    # Without an authority azure-identity signs in at the public cloud's.
    at: dict[str, Any] = {"authority": choice.authority} if choice.authority else {}
    if kind is CredentialKind.CLIENT_SECRET:
        principal = choice.principal
        assert principal is not None  # noqa: S101 - set for this kind by the chooser
        # An SDK error that quotes the secret is then redacted by the gateway.
        mask(principal.client_secret)
        if choice.authority and not _known_to_msal(choice.authority):
            # MSAL checks a host it does not know with the public cloud's instance discovery
            # (login.microsoftonline.com), to which a private cloud's host is unknown.
            at["disable_instance_discovery"] = True
        return identity.ClientSecretCredential(
            tenant_id=principal.tenant_id,
            client_id=principal.client_id,
            client_secret=principal.client_secret,
            **at,
        )
    if kind is CredentialKind.GITHUB_OIDC:
        assert choice.id_token is not None  # noqa: S101
        return identity.ClientAssertionCredential(
            tenant_id=choice.tenant_id, client_id=choice.client_id, func=choice.id_token, **at
        )
    if kind is CredentialKind.WORKLOAD_IDENTITY:
        return identity.WorkloadIdentityCredential(
            tenant_id=choice.tenant_id,
            client_id=choice.client_id,
            token_file_path=choice.token_file,
            **at,
        )
    if kind is CredentialKind.ON_BEHALF_OF:
        from azure.ai.ml.identity import AzureMLOnBehalfOfCredential  # noqa: PLC0415

        return AzureMLOnBehalfOfCredential()
    if kind is CredentialKind.MANAGED_IDENTITY:
        if choice.client_id:
            return identity.ManagedIdentityCredential(client_id=choice.client_id)
        return identity.ManagedIdentityCredential()
    return identity.AzureCliCredential()


def _known_to_msal(authority: str) -> bool:
    from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS  # noqa: PLC0415 - with azure-identity

    host = urllib.parse.urlsplit(authority if "//" in authority else f"//{authority}").netloc
    return host.lower() in WELL_KNOWN_AUTHORITY_HOSTS


class _Translated:
    """A ``TokenCredential`` whose failures are `CredentialsError`, naming the way tried.

    azure-identity raises ``ClientAuthenticationError`` (or ``CredentialUnavailableError``)
    from deep in an SDK call; the message says what to fix (AADSTS codes, "run az login"), the
    traceback says nothing a user needs. Only the message's first line is kept, and the SDK's
    exception is not chained: it holds the request it made.
    """

    def __init__(self, inner: Any, choice: CredentialChoice) -> None:
        self._inner = inner
        self._choice = choice

    def __repr__(self) -> str:
        return f"{type(self._inner).__name__}({self._choice.kind.value})"

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return self._calling("get_token", scopes, kwargs)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        if not hasattr(self._inner, "get_token_info"):  # AzureMLOnBehalfOfCredential
            info = self._calling("get_token", scopes, {})
            from azure.core.credentials import AccessTokenInfo  # noqa: PLC0415

            return AccessTokenInfo(info.token, info.expires_on)
        return self._calling("get_token_info", scopes, {"options": options})

    def _calling(self, method: str, scopes: tuple[str, ...], kwargs: dict[str, Any]) -> Any:
        from azure.core.exceptions import ClientAuthenticationError  # noqa: PLC0415

        problem = None
        try:
            return getattr(self._inner, method)(*scopes, **kwargs)
        except ClientAuthenticationError as exc:
            problem = redact(_first_line(getattr(exc, "message", None) or str(exc)))
        msg = f"signing in to Azure with {self._choice.kind.value} failed: {problem}"
        if self._choice.hint:
            msg = f"{msg}; {self._choice.hint}"
        raise CredentialsError(msg)

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> _Translated:  # noqa: PYI034 - Self needs Python 3.11
        self._inner.__enter__()
        return self

    def __exit__(self, *args: object) -> None:
        self._inner.__exit__(*args)


_MESSAGE_LIMIT = 400


def _first_line(text: str) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "no reason given")
    return line if len(line) <= _MESSAGE_LIMIT else line[: _MESSAGE_LIMIT - 1] + "…"
