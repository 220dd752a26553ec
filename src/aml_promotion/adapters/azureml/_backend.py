"""`AzureMLBackend`: the ports over one azureml-core workspace, and the ways to get one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aml_promotion._retry import RetryPolicy
from aml_promotion.adapters._azure_credentials import ServicePrincipalCredentials, parse_credentials
from aml_promotion.adapters._redaction import mask
from aml_promotion.adapters._workspace_config import (
    WorkspaceConfig,
    find_workspace_config,
    workspace_target,
)
from aml_promotion.adapters.azureml._gateway import gateway, require_sdk
from aml_promotion.adapters.azureml._registry import Registry
from aml_promotion.adapters.azureml._runs import Runs
from aml_promotion.adapters.azureml._session import AzureMLSession, context_run
from aml_promotion.exceptions import (
    BackendNotInstalledError,  # noqa: F401 - named in the docstrings, which the API docs link
    CredentialsError,
    RegistryError,  # noqa: F401
    UsageError,  # noqa: F401
)
from aml_promotion.ports import Backend, ModelRegistry, RunStore

__all__ = ["AzureMLBackend"]


# --- The backend ------------------------------------------------------------------------------


class AzureMLBackend:
    """Azure ML (SDK v1) as a backend: the workspace's runs and its model registry.

    Args:
        workspace: An ``azureml.core.Workspace``.
        retry: How transient failures are retried (default: `RetryPolicy()`).

    Raises:
        BackendNotInstalledError: azureml-core is not installed.
    """

    def __init__(self, workspace: Any, *, retry: RetryPolicy | None = None) -> None:
        require_sdk()
        self.workspace = workspace
        self._session = AzureMLSession(workspace=workspace, gateway=gateway(retry or RetryPolicy()))
        self._runs = Runs(self._session)
        self._registry = Registry(self._session, runs=self._runs)

    def __repr__(self) -> str:
        name = getattr(self.workspace, "name", "?")
        return f"AzureMLBackend(workspace={name!r})"

    @property
    def runs(self) -> RunStore:
        """Where runs are read."""
        return self._runs

    @property
    def registry(self) -> ModelRegistry:
        """Where model versions are looked up and registered."""
        return self._registry

    @classmethod
    def from_run_context(cls, *, retry: RetryPolicy | None = None) -> AzureMLBackend:
        """Return the backend of the run this code is running in (inside an Azure ML job).

        ``promote(settings=..., backend=AzureMLBackend.from_run_context())`` may then omit
        `experiment_name` and `run_id`: the candidate is this run.

        Raises:
            RunNotFoundError: This code is not running inside an Azure ML run.
            RegistryError: The run could not be read.
        """
        require_sdk()
        run = context_run(gateway(retry or RetryPolicy()))
        backend = cls(run.experiment.workspace, retry=retry)
        backend._session.context_run = run
        return backend

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        auth: Any = None,
        retry: RetryPolicy | None = None,
    ) -> AzureMLBackend:
        """Return the backend of the workspace a configuration file names.

        Args:
            path: The file (``config.json``, or the ``aml_arm_config.json`` the aml-workspace
                action writes), or a folder to search from; default: the current folder.
            auth: An azureml-core authentication object; default: the SDK's (Azure CLI login,
                then interactive). For a service principal use `from_service_principal`.
            retry: How transient failures are retried.

        Raises:
            UsageError: No usable configuration file was found.
            RegistryError: The workspace could not be reached.
        """
        require_sdk()
        config = find_workspace_config(path)
        return cls(_workspace(config, auth, retry), retry=retry)

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
    ) -> AzureMLBackend:
        """Return the backend of a workspace, signed in as the ``AZURE_CREDENTIALS`` principal.

        The workspace is named by `workspace_name` and `resource_group`; what is not given comes
        from the configuration file (`config`, or found as `from_config` finds it). The
        subscription is, in order: `subscription_id`, the configuration file's (when one is
        read), the credentials'. ``resourceManagerEndpointUrl`` in the credentials selects the
        cloud.

        Args:
            credentials: The ``AZURE_CREDENTIALS`` JSON text, its decoded mapping, or
                `parse_credentials`'s result.
            workspace_name: The workspace's name.
            resource_group: Its resource group.
            subscription_id: Its subscription.
            config: A configuration file (or folder to search from) for what is not given.
            retry: How transient failures are retried.

        Raises:
            CredentialsError: The credentials are missing keys or malformed, or the principal
                could not sign in (never showing a value).
            UsageError: The workspace is not named and no configuration file says which.
            RegistryError: The workspace could not be reached.
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
        from azureml.core import authentication  # noqa: PLC0415

        auth = authentication.ServicePrincipalAuthentication(
            tenant_id=creds.tenant_id,
            service_principal_id=creds.client_id,
            service_principal_password=creds.client_secret,
            cloud=creds.cloud.value,
        )
        return cls(_workspace(target, auth, retry), retry=retry)


def _workspace(config: WorkspaceConfig, auth: Any, retry: RetryPolicy | None) -> Any:
    from azureml.core import Workspace  # noqa: PLC0415
    from azureml.exceptions import AuthenticationException  # noqa: PLC0415

    def open_workspace() -> Any:
        try:
            return Workspace(
                subscription_id=config.subscription_id,
                resource_group=config.resource_group,
                workspace_name=config.workspace_name,
                auth=auth,
            )
        except AuthenticationException as exc:
            # Bad input, not a failing service: say so without repeating the SDK's text.
            msg = (
                "could not sign in to Azure: check the credentials (tenant, client id, secret, "
                "cloud) and the principal's access to the subscription"
            )
            raise CredentialsError(msg) from exc

    return gateway(retry or RetryPolicy()).call(
        f"opening workspace {config.workspace_name!r} (resource group {config.resource_group!r})",
        open_workspace,
    )


if TYPE_CHECKING:

    def _is_a_backend(backend: AzureMLBackend) -> Backend:
        return backend  # mypy checks here that AzureMLBackend provides both ports exactly
