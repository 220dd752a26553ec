"""The sign-in endpoints of the emulated cloud: Entra ID, GitHub's ID tokens, Azure ML's identities.

Served by `AzureMLV2Emulator` on its own listener, so the real azure-identity (and azure-ai-ml's
``AzureMLOnBehalfOfCredential``) go through the flows a user's environment makes them take:

- **Entra ID** (``AZURE_AUTHORITY_HOST`` = the emulator's URL): ``POST /<tenant>/oauth2/v2.0/token``
  with ``grant_type=client_credentials`` and either a ``client_secret`` (the legacy service
  principal, `add_app`) or a ``client_assertion`` (``jwt-bearer``) that is a GitHub ID token this
  emulator issued for the app's federated repository, or the workload identity token it wrote
  (`workload_token`). MSAL (``ClientSecretCredential``) first reads the tenant's OpenID
  configuration (``GET /<tenant>/v2.0/.well-known/openid-configuration``); azure-identity's own
  client (``ClientAssertionCredential``) goes straight to the token endpoint.
- **GitHub's ID-token endpoint** (``ACTIONS_ID_TOKEN_REQUEST_URL``): ``GET /github/idtoken`` with
  ``Authorization: bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>`` and ``audience=...``; answers
  ``{"value": <token>}``. Each ID token is accepted by the token endpoint **once**, and only with
  the audience ``api://AzureADTokenExchange``: a client that fetched one and reused it fails.
- **An Azure ML compute's managed identity** (``MSI_ENDPOINT``/``MSI_SECRET``):
  ``GET /msi/token?api-version=2017-09-01&resource=...&clientid=...`` with header ``secret``.
- **An Azure ML job's on-behalf-of endpoint** (``OBO_ENDPOINT``): ``GET /obo/token?resource=...``.
- **The Azure CLI's login**: `issue` hands a test the token a stand-in ``az`` prints.

Every access token is issued for one flow (its name is the token's prefix) and recorded; the
emulator refuses (401) any Resource Manager, run-history or MLflow request whose bearer token it
did not issue, and records which flow each accepted request came through (`used`).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

__all__ = ["EmulatedIdentity", "Flow"]

GITHUB_AUDIENCE = "api://AzureADTokenExchange"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class Flow:
    """The flows an access token can come from (a token's prefix)."""

    STATIC = "static"
    CLIENT_SECRET = "client-secret"  # noqa: S105 - a flow's name
    GITHUB_OIDC = "github-oidc"
    WORKLOAD_IDENTITY = "workload-identity"
    MANAGED_IDENTITY = "managed-identity"
    ON_BEHALF_OF = "on-behalf-of"
    AZURE_CLI = "azure-cli"


@dataclass
class _App:
    tenant: str
    secret: str | None = None
    federated: bool = False


@dataclass
class EmulatedIdentity:
    """The sign-in state of the emulated cloud; the emulator serves it (see the module)."""

    resource: str = ""
    """The one resource tokens are issued for (the emulated Resource Manager, ``https://.../``)."""
    lifetime: int = 3600
    """Seconds an access token is valid for (0: expired at once, so each request signs in)."""
    github_request_token: str = field(default_factory=lambda: f"gh-request-{uuid.uuid4().hex}")
    msi_secret: str = field(default_factory=lambda: f"msi-secret-{uuid.uuid4().hex}")
    msi_client_id: str | None = None
    """The user-assigned identity the compute has (None: a system-assigned one)."""
    static_tokens: tuple[str, ...] = ("emulated-token",)
    """Tokens the tests' offline credential hands out: accepted as the "static" flow."""

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._apps: dict[str, _App] = {}
        self._tokens: dict[str, str] = dict.fromkeys(self.static_tokens, Flow.STATIC)
        self._id_tokens: dict[str, str] = {}  # GitHub ID token -> audience (until used)
        self._workload_tokens: set[str] = set()
        self._counter = itertools.count(1)
        self.used: list[tuple[str, str, str]] = []
        """(method, path, flow) of every request accepted with a token."""
        self.id_tokens_issued = 0
        self.assertions_accepted: list[str] = []
        self.refusals: list[str] = []
        """Why each refused sign-in or request was refused."""

    # --- seeding ------------------------------------------------------------------------------

    def add_app(
        self, client_id: str, tenant: str, *, secret: str | None = None, federated: bool = False
    ) -> None:
        """Register an app: with a client secret, and/or a federated credential (GitHub OIDC)."""
        with self._lock:
            self._apps[client_id] = _App(tenant=tenant, secret=secret, federated=federated)

    def workload_token(self, client_id: str, tenant: str) -> str:
        """Return a federated token for workload identity (what a platform writes to a file)."""
        self.add_app(client_id, tenant, federated=True)
        token = f"workload-{uuid.uuid4().hex}"
        with self._lock:
            self._workload_tokens.add(token)
        return token

    def issue(self, flow: str) -> str:
        """Issue an access token for `flow` directly (the Azure CLI's login, made earlier)."""
        token = f"{flow}-{next(self._counter)}-{uuid.uuid4().hex[:8]}"
        with self._lock:
            self._tokens[token] = flow
        return token

    def flows(self) -> set[str]:
        """The flows of the requests accepted so far."""
        with self._lock:
            return {flow for _, _, flow in self.used}

    def reset(self) -> None:
        """Forget the requests recorded and the apps (issued tokens stay valid)."""
        with self._lock:
            self.used.clear()
            self.refusals.clear()
            self.assertions_accepted.clear()
            self._apps.clear()
            self.id_tokens_issued = 0
            self.lifetime = 3600
            self.msi_client_id = None

    # --- serving ------------------------------------------------------------------------------

    _TOKEN = re.compile(r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token")
    _OPENID = re.compile(r"/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration")

    def handles(self, path: str) -> bool:
        """Whether `path` is one of the sign-in endpoints."""
        return bool(
            self._TOKEN.fullmatch(path)
            or self._OPENID.fullmatch(path)
            or path in ("/github/idtoken", "/msi/token", "/obo/token")
        )

    def serve(  # noqa: PLR0917 - the request's parts, as the emulator has them
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        raw: bytes,
        base_url: str,
    ) -> tuple[int, Any]:
        """Answer a sign-in request: (status, JSON payload)."""
        with self._lock:
            if (match := self._TOKEN.fullmatch(path)) and method == "POST":
                return self._token(match["tenant"], raw)
            if (match := self._OPENID.fullmatch(path)) and method == "GET":
                return 200, self._openid(match["tenant"], base_url)
            if path == "/github/idtoken" and method == "GET":
                return self._github(query, headers)
            if path == "/msi/token" and method == "GET":
                return self._msi(query, headers)
            if path == "/obo/token" and method == "GET":
                return self._obo(query)
        return 400, {"error": "invalid_request", "error_description": f"{method} {path}"}

    def check(self, method: str, path: str, authorization: str) -> str | None:
        """Return the flow of a request's bearer token, or None (and record why) if not issued."""
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            flow = self._tokens.get(token) if scheme.lower() == "bearer" else None
            if flow is None:
                self.refusals.append(f"{method} {path}: no token this emulator issued")
                return None
            self.used.append((method, path, flow))
            return flow

    def _refuse(self, status: int, error: str, why: str) -> tuple[int, Any]:
        self.refusals.append(why)
        return status, {"error": error, "error_description": why}

    def _grant(self, flow: str, *, on: bool = False) -> dict[str, Any]:
        token = self.issue(flow)
        now = int(time.time())
        if on:  # the 2017-09-01 managed identity protocol: an absolute expiry
            return {
                "access_token": token,
                "expires_on": now + self.lifetime,
                "resource": self.resource,
                "token_type": "Bearer",
            }
        return {"access_token": token, "expires_in": self.lifetime, "token_type": "Bearer"}

    def _openid(self, tenant: str, base_url: str) -> dict[str, Any]:
        return {
            "token_endpoint": f"{base_url}/{tenant}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base_url}/{tenant}/oauth2/v2.0/authorize",
            "issuer": f"{base_url}/{tenant}/v2.0",
        }

    def _token(self, tenant: str, raw: bytes) -> tuple[int, Any]:
        form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8")).items()}
        client_id = form.get("client_id", "")
        app = self._apps.get(client_id)
        if form.get("grant_type") != "client_credentials":
            return self._refuse(400, "unsupported_grant_type", f"grant {form.get('grant_type')}")
        if form.get("scope") != self.resource + ".default":
            return self._refuse(400, "invalid_scope", f"scope {form.get('scope')!r}")
        if app is None or app.tenant != tenant:
            return self._refuse(400, "unauthorized_client", "AADSTS700016: no such app in tenant")
        if "client_secret" in form:
            if app.secret is None or form["client_secret"] != app.secret:
                return self._refuse(401, "invalid_client", "AADSTS7000215: invalid client secret")
            return 200, self._grant(Flow.CLIENT_SECRET)
        assertion = form.get("client_assertion", "")
        if form.get("client_assertion_type") != JWT_BEARER or not app.federated:
            return self._refuse(401, "invalid_client", "AADSTS70021: no federated credential")
        if assertion in self._workload_tokens:
            return 200, self._grant(Flow.WORKLOAD_IDENTITY)
        audience = self._id_tokens.pop(assertion, None)  # each GitHub ID token counts once
        if audience is None:
            return self._refuse(
                401,
                "invalid_client",
                "AADSTS700024: the assertion is not one GitHub issued (or used)",
            )
        if audience != GITHUB_AUDIENCE:
            return self._refuse(401, "invalid_client", f"AADSTS700212: audience {audience!r}")
        self.assertions_accepted.append(assertion)
        return 200, self._grant(Flow.GITHUB_OIDC)

    def _github(self, query: Mapping[str, str], headers: Mapping[str, str]) -> tuple[int, Any]:
        if query.get("api-version") != "2.0":
            return self._refuse(400, "bad_request", "GitHub: no api-version=2.0")
        if headers.get("Authorization", "") != f"bearer {self.github_request_token}":
            return self._refuse(403, "forbidden", "GitHub: not the runner's request token")
        token = f"github-id-token-{uuid.uuid4().hex}"
        self._id_tokens[token] = query.get("audience", "")
        self.id_tokens_issued += 1
        return 200, {"value": token}

    def _msi(self, query: Mapping[str, str], headers: Mapping[str, str]) -> tuple[int, Any]:
        if headers.get("secret") != self.msi_secret:
            return self._refuse(401, "unauthorized", "MSI: wrong or no secret header")
        if query.get("api-version") != "2017-09-01":
            return self._refuse(400, "bad_request", f"MSI: api-version {query.get('api-version')}")
        if query.get("resource") != self.resource.rstrip("/"):
            return self._refuse(400, "bad_request", f"MSI: resource {query.get('resource')!r}")
        if query.get("clientid") != self.msi_client_id:
            return self._refuse(400, "bad_request", f"MSI: identity {query.get('clientid')!r}")
        return 200, self._grant(Flow.MANAGED_IDENTITY, on=True)

    def _obo(self, query: Mapping[str, str]) -> tuple[int, Any]:
        if query.get("resource") != self.resource.rstrip("/"):
            return self._refuse(400, "bad_request", f"OBO: resource {query.get('resource')!r}")
        return 200, self._grant(Flow.ON_BEHALF_OF, on=True)
