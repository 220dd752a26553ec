"""Building the backend the arguments name: MLflow, Azure ML SDK v2 or v1, and the target registry.

The SDKs are imported here only, inside the functions, when a backend is built: the command
line's import pulls in none. Azure ML v1 credentials are checked before the SDK is touched:
in CI or without a terminal, no credentials is exit 2, never a login prompt that would hang.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import unquote, urlparse

from aml_promotion._cli._arguments import Arguments
from aml_promotion._cli._parser import BackendChoice
from aml_promotion._github import CREDENTIALS_VARIABLE
from aml_promotion.adapters._redaction import redact
from aml_promotion.exceptions import CredentialsError, UsageError
from aml_promotion.ports import Backend

__all__ = [
    "NO_CREDENTIALS_IN_CI",
    "RUN_CONTEXT_VARIABLE",
    "V1_DEPRECATED",
    "BackendFactory",
    "TargetFactory",
    "build_backend",
    "build_target_backend",
    "check_mlflow_uri",
    "in_ci",
    "is_interactive",
]

RUN_CONTEXT_VARIABLE = "AZUREML_RUN_ID"
"""Set by Azure ML in every job (SDK v1 and v2): the code runs inside one."""

logger = logging.getLogger("aml_promotion")


def build_backend(
    args: Arguments, *, environ: Mapping[str, str], cwd: Path, interactive: bool | None = None
) -> Backend:
    """Return the backend the arguments and environment name; SDKs are imported only here.

    Azure ML (SDK v2): the workspace named by ``--subscription-id``, ``--resource-group`` and
    ``--workspace-name`` (or the environment, or a workspace file), signed in the first way the
    environment offers, never with a prompt (`AzureMLV2Backend.from_environment`).
    Azure ML (SDK v1, deprecated: a one-line warning): a service principal from
    ``AZURE_CREDENTIALS`` when it is set; else, inside an Azure ML job, the job's own workspace
    and token; else, at an interactive terminal only, the SDK's own login. The workspace config
    is ``--workspace-config``, or found from the working directory up (``aml_arm_config.json``
    before ``config.json``).

    Args:
        args: The parsed command line.
        environ: The environment.
        cwd: Where the workspace config search starts.
        interactive: Whether stdin is a terminal (default: ask ``sys.stdin``).

    Raises:
        BackendNotInstalledError: The backend's extra is not installed.
        CredentialsError: The Azure credentials are malformed, or missing in a
            non-interactive run (CI, or no terminal); on v2, no way to sign in is available.
        UsageError: The workspace is not named, and no workspace config file was found.
        RegistryError: The backend could not be reached.
    """
    if args.backend is BackendChoice.MLFLOW:
        for option, uri in (
            ("--tracking-uri", args.tracking_uri or environ.get("MLFLOW_TRACKING_URI")),
            ("--registry-uri", args.registry_uri or environ.get("MLFLOW_REGISTRY_URI")),
        ):
            check_mlflow_uri(option, uri, dry_run=args.dry_run, cwd=cwd)
        from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415 - lazy SDK

        return MlflowBackend(args.tracking_uri, args.registry_uri)
    if args.backend is BackendChoice.AZUREML_V2:
        return _azureml_v2_backend(args, environ=environ, cwd=cwd)
    logger.warning("%s", V1_DEPRECATED)
    credentials = environ.get(CREDENTIALS_VARIABLE, "")
    in_job = bool(environ.get(RUN_CONTEXT_VARIABLE, "").strip())
    if not credentials.strip() and not in_job and not is_interactive(environ, terminal=interactive):
        raise CredentialsError(NO_CREDENTIALS_IN_CI, missing=(CREDENTIALS_VARIABLE,))
    from aml_promotion.adapters.azureml import AzureMLBackend  # noqa: PLC0415 - lazy SDK

    config = args.workspace_config or cwd
    if credentials.strip():
        return AzureMLBackend.from_service_principal(credentials, config=config)
    if in_job:
        return AzureMLBackend.from_run_context()
    return AzureMLBackend.from_config(config)


def build_target_backend(
    args: Arguments, *, environ: Mapping[str, str], cwd: Path
) -> Backend | None:
    """Return the backend a registered version is copied into, or None for the backend's own.

    MLflow: ``--target-registry-uri``, with a tracking store where a copy from another server
    logs the version's files: Databricks' for ``databricks-uc`` (``databricks-uc://profile``:
    ``databricks://profile``), else the registry URI itself (a sqlite file or an
    ``mlflow server`` holds both). Azure ML: ``--target-registry``, the Azure ML registry of
    that name, signed in the way the workspace is (`AzureMLV2Backend.for_registry`).

    Args:
        args: The parsed command line.
        environ: The environment.
        cwd: Where relative paths start.

    Raises:
        BackendNotInstalledError: The backend's extra is not installed.
        CredentialsError: Azure ML: no way to sign in is available.
        UsageError: ``--target-registry-uri`` is a bare path, has no scheme MLflow knows, or
            names a store that does not exist in a dry run (`check_mlflow_uri`, as for
            ``--tracking-uri``).
        RegistryError: The target could not be reached.
    """
    if args.target_registry is not None:
        from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415 - lazy SDK

        return AzureMLV2Backend.for_registry(
            args.target_registry.strip(),
            client_id=args.client_id,
            tenant_id=args.tenant_id,
            environ=environ,
        )
    uri = args.target_registry_uri
    if uri is None:
        return None
    # Before MLflow sees it: a typo must not become an empty prod registry (or a folder store).
    check_mlflow_uri("--target-registry-uri", uri, dry_run=args.dry_run, cwd=cwd)
    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415 - lazy SDK

    scheme, sep, rest = uri.partition(":")
    tracking = f"databricks{sep}{rest}" if scheme.lower() == "databricks-uc" else uri
    return MlflowBackend(tracking, uri)


V1_DEPRECATED = (
    "--backend azureml (Azure ML SDK v1, azureml-core) is deprecated: Microsoft's support for "
    "SDK v1 ended on 30 June 2026; use --backend azureml-v2 (see docs/migrating.md)"
)

NO_CREDENTIALS_IN_CI = (
    "no Azure credentials: the action's azure_credentials input (the AZURE_CREDENTIALS "
    "variable) is empty or missing, and this is not an interactive terminal (CI, "
    "GITHUB_ACTIONS, or no TTY), so no interactive or device-code login is tried. Set "
    "azure_credentials: ${{ secrets.AZURE_CREDENTIALS }}, a secret holding the JSON that "
    "`az ad sp create-for-rbac --json-auth` prints: an object with clientId, clientSecret, "
    "subscriptionId and tenantId. Better: --backend azureml-v2 signs in with GitHub OIDC, "
    "no secret needed"
)


# The URIs MLflow takes whose store is a file here: a dry run must find it, never create it.
_FILE_SCHEMES = ("sqlite", "file")
_SCHEMES = (
    "http", "https", "sqlite", "file", "postgresql", "mysql", "mssql", "databricks",
    "databricks-uc", "uc", "azureml",
)  # fmt: skip


def check_mlflow_uri(option: str, uri: str | None, *, dry_run: bool, cwd: Path) -> None:
    """Refuse an MLflow URI that cannot be meant, before MLflow creates anything for it.

    A bare path (``mlflow.db``) is not a URI: MLflow would make a file store of a folder of that
    name. A dry run never creates a store: a ``sqlite:///`` or ``file:`` path that does not
    exist is refused (a mistyped path would otherwise become an empty database).

    Args:
        option: The option the URI came from, or whose variable it came from.
        uri: The URI (None: MLflow's own default).
        dry_run: Whether this is a dry run.
        cwd: Where relative paths start.

    Raises:
        UsageError: The URI is a bare path, has no scheme MLflow knows, or names a store that
            does not exist in a dry run.
    """
    if uri is None or not uri.strip():
        return
    scheme, colon, rest = uri.strip().partition(":")
    shown = redact(uri)  # a mistyped URI may still hold a password: never in the message
    if not colon or len(scheme) == 1 or "/" in scheme or "\\" in scheme:
        # No scheme, or a Windows drive letter: a file path.
        path = Path(uri).expanduser()
        full = path if path.is_absolute() else cwd / path
        msg = (
            f"{option} {shown!r} is a file path, not a URI: did you mean sqlite:///{full.as_posix()}"
            f" (a database file; sqlite:////abs/path or sqlite:///rel/path), or an http(s):// "
            "server?"
        )
        raise UsageError(msg)
    scheme = scheme.lower()
    if scheme not in _SCHEMES and not scheme.startswith(tuple(f"{s}+" for s in _SCHEMES)):
        msg = (
            f"{option} {shown!r}: MLflow knows no {scheme}: URIs; use http(s)://, sqlite:///, "
            "postgresql://, mysql://, file:, databricks or databricks-uc"
        )
        raise UsageError(msg)
    if dry_run and scheme in _FILE_SCHEMES:
        local = _local_path(scheme, rest)
        if local is not None:
            full = local if local.is_absolute() else cwd / local
            if not full.exists():
                msg = (
                    f"{option} {shown!r}: {full} does not exist, and a dry run creates no store "
                    "(check the path; sqlite:////abs/path has four slashes)"
                )
                raise UsageError(msg)


def _local_path(scheme: str, rest: str) -> Path | None:
    """The file a ``sqlite:`` or ``file:`` URI's rest names (None: in memory, or no path)."""
    if scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////absolute.db; sqlite:// alone is in memory.
        if not rest.startswith("///"):
            return None
        return Path(rest[3:].split("?", 1)[0])
    parsed = urlparse(f"file:{rest}")
    return Path(unquote(parsed.path)) if parsed.path else None


def in_ci(environ: Mapping[str, str]) -> bool:
    """Return whether this is a CI job.

    ``CI`` (any value but ``false``/``0``), ``GITHUB_ACTIONS`` or ``TF_BUILD`` (Azure
    Pipelines) set means one.
    """
    ci = environ.get("CI", "").strip().lower()
    return bool(
        (ci and ci not in {"false", "0"})
        or environ.get("GITHUB_ACTIONS", "").strip()
        or environ.get("TF_BUILD", "").strip()
    )


def is_interactive(environ: Mapping[str, str], *, terminal: bool | None = None) -> bool:
    """Return whether a person could answer a login prompt: no CI variables, and a terminal.

    Args:
        environ: The environment; ``CI`` (any value but ``false``/``0``) or
            ``GITHUB_ACTIONS`` set means a CI job.
        terminal: Whether stdin is a terminal (default: ask ``sys.stdin``).
    """
    if in_ci(environ):
        return False
    if terminal is None:
        stdin = sys.stdin
        terminal = stdin is not None and stdin.isatty()
    return terminal


def _azureml_v2_backend(args: Arguments, *, environ: Mapping[str, str], cwd: Path) -> Backend:
    """Azure ML SDK v2: the workspace by name or file, the first credential the environment has."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415 - lazy SDK

    return AzureMLV2Backend.from_environment(
        subscription_id=args.subscription_id,
        resource_group=args.resource_group,
        workspace_name=args.workspace_name,
        client_id=args.client_id,
        tenant_id=args.tenant_id,
        config=args.workspace_config,
        search_from=cwd,
        environ=environ,
    )


BackendFactory = Callable[[Arguments], Backend]
TargetFactory = Callable[[Arguments], "Backend | None"]
