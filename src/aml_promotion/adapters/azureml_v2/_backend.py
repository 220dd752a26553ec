"""`AzureMLV2Backend`: the ports over one workspace or registry, and the ways to get one."""

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
    RunNotFoundError,
    UsageError,
)
from aml_promotion.ports import (
    Backend,
    MetricValues,
    ModelRegistry,
    RunRecord,
    RunStore,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from aml_promotion._domain.policy import EvaluationData

__all__ = ["AzureMLV2Backend"]

logger = logging.getLogger("aml_promotion")


# --- The backend --------------------------------------------------------------------------------


class _NoJobs:
    """The `RunStore` of an Azure ML registry: a registry holds models, never jobs."""

    def __init__(self, registry_name: str) -> None:
        self._registry_name = registry_name

    def _refuse(self, run_id: str | None) -> RunNotFoundError:
        return RunNotFoundError(
            f"registry {self._registry_name!r} has no jobs: read a run in its workspace, "
            "or promote a registered version into the registry (candidate_version=...)",
            run_id=run_id,
        )

    def get_run(
        self,
        *,
        experiment_name: str | None,  # noqa: ARG002 - the port's
        run_id: str | None,
        pipeline_step: str | None = None,  # noqa: ARG002 - the port's
    ) -> RunRecord:
        raise self._refuse(run_id)

    def get_metrics(
        self,
        run: RunRecord,
        names: Collection[str],  # noqa: ARG002 - the port's
        *,
        series: Collection[str] = (),  # noqa: ARG002 - the port's
    ) -> MetricValues:
        raise self._refuse(run.run_id)

    def list_files(self, run: RunRecord) -> Sequence[str]:
        raise self._refuse(run.run_id)

    def get_evaluation_data(
        self,
        run: RunRecord,
        source: EvaluationData,  # noqa: ARG002 - the port's
    ) -> Mapping[str, str | None]:
        raise self._refuse(run.run_id)


def _registry_of(ml_client: Any) -> str | None:
    """The registry an ``MLClient`` is bound to (``MLClient(registry_name=...)``), or None."""
    # azure-ai-ml keeps it in the client's operation scope only (no public attribute).
    name = getattr(getattr(ml_client, "_operation_scope", None), "registry_name", None)
    return str(name) if name else None


class AzureMLV2Backend:
    """Azure ML (SDK v2) as a backend: a workspace's jobs and models, or a registry's models.

    Bound to a workspace, it reads jobs and registers their models. Bound to an Azure ML
    registry (`for_registry`, or `from_ml_client` with ``MLClient(registry_name=...)``), it is
    a promotion's target: its champion is the baseline, and a promoted workspace version is
    copied into it; it has no jobs.

    Args:
        ml_client: An ``azure.ai.ml.MLClient`` for the workspace, or for the registry.
        retry: How transient failures are retried (default: `RetryPolicy()`).
        environ: The environment that names the Azure ML job this code runs in, read when a
            promotion gives no run id (default: the process's, read then).

    Raises:
        BackendNotInstalledError: azure-ai-ml or azureml-mlflow is not installed.
    """

    def __init__(
        self,
        ml_client: Any,
        *,
        retry: RetryPolicy | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        require_sdk()
        self.ml_client = ml_client
        self.registry_name = _registry_of(ml_client)
        """The Azure ML registry the backend is bound to, or None (a workspace)."""
        session = AzureMLV2Session(
            ml_client=ml_client,
            gateway=gateway(retry or RetryPolicy()),
            registry_name=self.registry_name,
            environ=environ,
        )
        runs = Runs(session)
        self._runs: RunStore = runs if self.registry_name is None else _NoJobs(self.registry_name)
        self._registry = Registry(session, runs=runs)

    def __repr__(self) -> str:
        if self.registry_name is not None:
            return f"AzureMLV2Backend(registry={self.registry_name!r})"
        name = getattr(self.ml_client, "workspace_name", "?")
        return f"AzureMLV2Backend(workspace={name!r})"

    @property
    def runs(self) -> RunStore:
        """Where jobs are read (a registry's refuses: it has none)."""
        return self._runs

    @property
    def registry(self) -> ModelRegistry:
        """Where model versions are looked up and registered."""
        return self._registry

    @classmethod
    def from_ml_client(
        cls, ml_client: Any, *, retry: RetryPolicy | None = None
    ) -> AzureMLV2Backend:
        """Return the backend of the workspace or registry an ``MLClient`` is bound to.

        Raises:
            UsageError: The client is bound to neither a workspace nor a registry.
        """
        if not getattr(ml_client, "workspace_name", None) and _registry_of(ml_client) is None:
            msg = (
                "the MLClient has no workspace_name and no registry: "
                "MLClient(credential, sub, rg, workspace) or MLClient(credential, "
                "registry_name=...)"
            )
            raise UsageError(msg)
        return cls(ml_client, retry=retry)

    @classmethod
    def for_registry(
        cls,
        registry_name: str,
        *,
        credential: Any = None,
        client_id: str | None = None,
        tenant_id: str | None = None,
        environ: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> AzureMLV2Backend:
        """Return the backend of the Azure ML registry `registry_name`: a promotion's target.

        The registry is found by its name alone (azure-ai-ml asks the registry discovery
        service for its subscription, resource group and region). The way to sign in is the
        one `from_environment` chooses, with no prompt ever, unless `credential` is given.

        Args:
            registry_name: The registry's name.
            credential: An ``azure.core.credentials.TokenCredential`` to use instead of the
                environment's.
            client_id: As for `from_environment`.
            tenant_id: As for `from_environment`.
            environ: The environment to read (default: the process's).
            retry: How transient failures are retried.

        Raises:
            BackendNotInstalledError: azure-ai-ml or azureml-mlflow is not installed.
            CredentialsError: No way to sign in is available, or one is half-configured.
            UsageError: The name is empty.
            RegistryError: The registry could not be found.
        """
        require_sdk()
        raw: object = registry_name
        if not isinstance(raw, str) or not raw.strip():
            msg = f"registry_name must be a registry's name, not {registry_name!r}"
            raise UsageError(msg)
        choice = None
        if credential is None:
            env = os.environ if environ is None else environ
            choice = choose_credential(env, client_id=client_id, tenant_id=tenant_id)
            logger.info("%s, for registry %s", choice.describe(), registry_name.strip())
            credential = build_credential(choice)
        cloud = _cloud_of(choice)
        policy = retry or RetryPolicy()

        def client() -> Any:
            from azure.ai.ml import MLClient  # noqa: PLC0415

            options: dict[str, Any] = {"cloud": cloud} if cloud else {}
            # MLClient asks the registry discovery service at once: a request to retry.
            return MLClient(credential, registry_name=registry_name.strip(), **options)

        ml_client = gateway(policy).call(f"finding registry {registry_name!r}", client)
        return cls(ml_client, retry=policy)

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
        return cls(_ml_client(target, credential, cloud), retry=retry, environ=environ)

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
