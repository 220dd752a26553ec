"""`AzureMLV2Backend`: the ports over one workspace, and the ways to get one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aml_promotion._retry import RetryPolicy
from aml_promotion.adapters._azure_credentials import (
    AzureCloud,
    ServicePrincipalCredentials,
    parse_credentials,
)
from aml_promotion.adapters._redaction import mask
from aml_promotion.adapters._workspace_config import (
    WorkspaceConfig,
    find_workspace_config,
    workspace_target,
)
from aml_promotion.adapters.azureml_v2._gateway import gateway, require_sdk
from aml_promotion.adapters.azureml_v2._registry import Registry
from aml_promotion.adapters.azureml_v2._runs import Runs
from aml_promotion.adapters.azureml_v2._session import AzureMLV2Session
from aml_promotion.exceptions import (
    BackendNotInstalledError,  # noqa: F401 - named in the docstrings, which the API docs link
    RegistryError,  # noqa: F401
    UsageError,
)
from aml_promotion.ports import Backend, ModelRegistry, RunStore

__all__ = ["AzureMLV2Backend"]


# --- The backend --------------------------------------------------------------------------------

_AUTHORITY = {
    AzureCloud.PUBLIC: "login.microsoftonline.com",
    AzureCloud.US_GOVERNMENT: "login.microsoftonline.us",
    AzureCloud.CHINA: "login.chinacloudapi.cn",
}


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
            credential: An ``azure.core.credentials.TokenCredential``; default:
                ``DefaultAzureCredential`` without its interactive browser login, so a run in
                CI never waits for a person.
            retry: How transient failures are retried.

        Raises:
            UsageError: No usable configuration file was found.
        """
        require_sdk()
        config = find_workspace_config(path)
        if credential is None:
            from azure.identity import DefaultAzureCredential  # noqa: PLC0415

            credential = DefaultAzureCredential(exclude_interactive_browser_credential=True)
        return cls(_ml_client(config, credential, None), retry=retry)

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

        The workspace is chosen as `AzureMLBackend.from_service_principal` chooses it; the
        credentials' ``resourceManagerEndpointUrl`` selects the cloud and its login authority.

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
        from azure.identity import ClientSecretCredential  # noqa: PLC0415

        credential = ClientSecretCredential(
            tenant_id=creds.tenant_id,
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            authority=_AUTHORITY[creds.cloud],
        )
        cloud = None if creds.cloud is AzureCloud.PUBLIC else creds.cloud.value
        return cls(_ml_client(target, credential, cloud), retry=retry)


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
