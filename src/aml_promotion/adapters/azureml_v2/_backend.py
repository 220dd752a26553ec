"""`AzureMLV2Backend`: the ports over one workspace, and the ways to get one."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aml_promotion._retry import RetryPolicy
from aml_promotion.adapters._azure_credentials import (
    AzureCloud,
    ServicePrincipalCredentials,
    parse_credentials,
)
from aml_promotion.adapters._azure_identity import (
    CredentialChoice,
    CredentialKind,
    build_credential,
    choose_credential,
)
from aml_promotion.adapters._redaction import mask
from aml_promotion.adapters._workspace_config import (
    WorkspaceConfig,
    find_workspace_config,
    named_workspace,
    workspace_target,
)
from aml_promotion.adapters.azureml_v2._gateway import gateway, require_sdk
from aml_promotion.adapters.azureml_v2._registry import Registry
from aml_promotion.adapters.azureml_v2._runs import Runs
from aml_promotion.adapters.azureml_v2._session import AzureMLV2Session
from aml_promotion.exceptions import (
    BackendNotInstalledError,  # noqa: F401 - named in the docstrings, which the API docs link
    CredentialsError,  # noqa: F401 - named in the docstrings
    RegistryError,  # noqa: F401 - named in the docstrings
    UsageError,
)
from aml_promotion.ports import Backend, ModelRegistry, RunStore

__all__ = ["AzureMLV2Backend"]

logger = logging.getLogger("aml_promotion")


# --- The backend --------------------------------------------------------------------------------


class AzureMLV2Backend:
    """Azure ML (SDK v2) as a backend: the workspace's jobs and its model registry.

    Args:
        ml_client: An ``azure.ai.ml.MLClient`` for the workspace.
        retry: How transient failures are retried (default: `RetryPolicy()`).

    Raises:
        BackendNotInstalledError: azure-ai-ml or azureml-mlflow is not installed.
    """

    def __init__(self, ml_client: Any, *, retry: RetryPolicy | None = None) -> None:
        require_sdk()
        self.ml_client = ml_client
        session = AzureMLV2Session(ml_client=ml_client, gateway=gateway(retry or RetryPolicy()))
        self._runs = Runs(session)
        self._registry = Registry(session, runs=self._runs)

    def __repr__(self) -> str:
        name = getattr(self.ml_client, "workspace_name", "?")
        return f"AzureMLV2Backend(workspace={name!r})"

    @property
    def runs(self) -> RunStore:
        """Where jobs are read."""
        return self._runs

    @property
    def registry(self) -> ModelRegistry:
        """Where model versions are looked up and registered."""
        return self._registry

    @classmethod
    def from_ml_client(
        cls, ml_client: Any, *, retry: RetryPolicy | None = None
    ) -> AzureMLV2Backend:
        """Return the backend of the workspace an ``MLClient`` is bound to.

        Raises:
            UsageError: The client is not bound to a workspace.
        """
        if not getattr(ml_client, "workspace_name", None):
            msg = "the MLClient has no workspace_name: MLClient(credential, sub, rg, workspace)"
            raise UsageError(msg)
        return cls(ml_client, retry=retry)

    @classmethod
    def from_environment(
        cls,
        *,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        workspace_name: str | None = None,
        client_id: str | None = None,
        tenant_id: str | None = None,
        config: str | os.PathLike[str] | None = None,
        search_from: str | os.PathLike[str] | None = None,
        credential: Any = None,
        environ: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> AzureMLV2Backend:
        """Return the backend of the workspace the arguments and the environment name.

        The way to sign in is the first the environment offers, with no prompt ever:
        ``AZURE_CREDENTIALS`` (legacy), GitHub OIDC, workload identity, inside an Azure ML
        job its user's or its compute's identity, then an Azure CLI login
        (docs/backends-azureml-v2.md#credentials); one INFO line says which. The workspace
        is named by subscription, resource group and name (the arguments, else
        ``AZURE_SUBSCRIPTION_ID`` and, in a job, ``AZUREML_ARM_*``), else by a workspace file.

        Args:
            subscription_id: The workspace's subscription.
            resource_group: Its resource group.
            workspace_name: Its name.
            client_id: The Entra ID application to sign in as with GitHub OIDC or workload
                identity (default: ``AZURE_CLIENT_ID``).
            tenant_id: Its tenant (default: ``AZURE_TENANT_ID``).
            config: A workspace file (or a folder to search from) naming what the arguments
                and variables do not; without it, a file is looked for (from `search_from` up)
                only when the resource group and name are not known otherwise.
            search_from: Where that search starts (default: the current directory).
            credential: An ``azure.core.credentials.TokenCredential`` to use instead of the
                environment's.
            environ: The environment to read (default: the process's).
            retry: How transient failures are retried.

        Raises:
            BackendNotInstalledError: azure-ai-ml or azureml-mlflow is not installed.
            CredentialsError: No way to sign in is available, or one is half-configured (the
                message names the options, never a value).
            UsageError: The workspace is not named, or named in part.
        """
        require_sdk()
        env = os.environ if environ is None else environ
        choice = None
        if credential is None:
            choice = choose_credential(env, client_id=client_id, tenant_id=tenant_id)
        target = named_workspace(
            subscription_id=subscription_id,
            resource_group=resource_group,
            workspace_name=workspace_name,
            config=config,
            search_from=search_from,
            environ=env,
            fallback_subscription=None if choice is None else choice.subscription_id,
        )
        if choice is not None:
            logger.info("%s", choice.describe())
            credential = build_credential(choice)
        cloud = _cloud_of(choice)
        return cls(_ml_client(target, credential, cloud), retry=retry)

    @classmethod
    def from_job_context(
        cls,
        *,
        credential: Any = None,
        environ: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> AzureMLV2Backend:
        """Return the backend of the Azure ML job this code runs in: its workspace, as the job.

        For code inside a job (a pipeline's promote step, a training script that promotes at
        its end), with nothing to pass: `from_environment` over the job's environment, the
        workspace read only from ``AZUREML_ARM_SUBSCRIPTION``, ``AZUREML_ARM_RESOURCEGROUP``
        and ``AZUREML_ARM_WORKSPACE_NAME`` (a job-wide ``AZURE_SUBSCRIPTION_ID`` does not
        override the job's own), never from a workspace file. The credential is the one
        `from_environment` chooses; in a job that sets no other way to sign in, the job's:
        the submitting user's identity when the job runs as its user (on-behalf-of), else the
        compute's managed identity. `promote()` with no `run_id` then promotes the job, or, in
        a pipeline, its sibling step (docs/azureml-pipeline-step.md).

        Args:
            credential: An ``azure.core.credentials.TokenCredential`` to use instead of the
                job's.
            environ: The job's environment (default: the process's).
            retry: How transient failures are retried.

        Raises:
            BackendNotInstalledError: azure-ai-ml or azureml-mlflow is not installed.
            UsageError: Not inside an Azure ML job: the message names the ``AZUREML_ARM_*``
                variables missing, and `from_environment` for code outside a job.
            CredentialsError: No way to sign in is available, or one is half-configured.
        """
        env = os.environ if environ is None else environ
        missing = [name for name in _JOB_WORKSPACE if not env.get(name, "").strip()]
        if missing:
            msg = (
                f"from_job_context() reads the workspace of the Azure ML job it runs in, and "
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: this "
                "is not an Azure ML job; outside one, use AzureMLV2Backend.from_environment("
                "subscription_id=..., resource_group=..., workspace_name=...)"
            )
            raise UsageError(msg)
        job = {name: value for name, value in env.items() if name != "AZURE_SUBSCRIPTION_ID"}
        return cls.from_environment(credential=credential, environ=job, retry=retry)

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        credential: Any = None,
        *,
        retry: RetryPolicy | None = None,
    ) -> AzureMLV2Backend:
        """Return the backend of the workspace a configuration file names.

        Args:
            path: The file (``config.json``, or the ``aml_arm_config.json`` the aml-workspace
                action writes), or a folder to search from; default: the current folder.
            credential: An ``azure.core.credentials.TokenCredential``; default: the first
                way to sign in the environment offers, as `from_environment` chooses it (never
                an interactive login, so a run in CI never waits for a person).
            retry: How transient failures are retried.

        Raises:
            CredentialsError: No credential is given and the environment offers none.
            UsageError: No usable configuration file was found.
        """
        require_sdk()
        config = find_workspace_config(path)
        choice = None
        if credential is None:
            choice = choose_credential(os.environ)
            logger.info("%s", choice.describe())
            credential = build_credential(choice)
        return cls(_ml_client(config, credential, _cloud_of(choice)), retry=retry)

    @classmethod
    def from_service_principal(
        cls,
        credentials: str | bytes | Mapping[str, object] | ServicePrincipalCredentials,
        *,
        workspace_name: str | None = None,
        resource_group: str | None = None,
        subscription_id: str | None = None,
        config: str | os.PathLike[str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> AzureMLV2Backend:
        """Return the backend of a workspace, signed in as the ``AZURE_CREDENTIALS`` principal.

        The legacy way: prefer `from_environment`, which signs in with no secret. The workspace
        is chosen as `AzureMLBackend.from_service_principal` chooses it; the credentials'
        ``resourceManagerEndpointUrl`` selects the cloud and its login authority.

        Raises:
            CredentialsError: The credentials are missing keys or malformed (never showing a
                value).
            UsageError: The workspace is not named and no configuration file says which.
        """
        creds = (
            credentials
            if isinstance(credentials, ServicePrincipalCredentials)
            else parse_credentials(credentials)
        )
        # An SDK may quote the secret back in an error: keep it out of every error's chain.
        mask(creds.client_secret)
        require_sdk()
        target = workspace_target(
            config,
            subscription_id=subscription_id,
            resource_group=resource_group,
            workspace_name=workspace_name,
            principal_subscription=creds.subscription_id,
        )
        choice = CredentialChoice(
            kind=CredentialKind.CLIENT_SECRET, source="AZURE_CREDENTIALS, legacy", principal=creds
        )
        logger.info("%s", choice.describe())
        return cls(_ml_client(target, build_credential(choice), _cloud_of(choice)), retry=retry)


_JOB_WORKSPACE = (
    "AZUREML_ARM_SUBSCRIPTION",
    "AZUREML_ARM_RESOURCEGROUP",
    "AZUREML_ARM_WORKSPACE_NAME",
)
"""The variables naming an Azure ML job's workspace, set by Azure ML in every job."""


def _cloud_of(choice: CredentialChoice | None) -> str | None:
    """The azure-ai-ml cloud name the legacy JSON's endpoint selects (None: the default)."""
    if choice is None or choice.principal is None or choice.principal.cloud is AzureCloud.PUBLIC:
        return None
    return str(choice.principal.cloud.value)


def _ml_client(config: WorkspaceConfig, credential: Any, cloud: str | None) -> Any:
    from azure.ai.ml import MLClient  # noqa: PLC0415

    options: dict[str, Any] = {"cloud": cloud} if cloud else {}
    return MLClient(
        credential,
        subscription_id=config.subscription_id,
        resource_group_name=config.resource_group,
        workspace_name=config.workspace_name,
        **options,
    )


if TYPE_CHECKING:

    def _is_a_backend(backend: AzureMLV2Backend) -> Backend:
        return backend  # mypy checks here that AzureMLV2Backend provides both ports exactly
