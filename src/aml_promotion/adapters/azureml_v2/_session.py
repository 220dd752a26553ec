"""`AzureMLV2Session`: what the parts of `AzureMLV2Backend` share: the clients and the gateway.

The workspace's MLflow client (metrics and files are read through the workspace's MLflow
endpoint) is made on first use, and so is the MLflow adapter's run reading over it, reused so
that both backends give one verdict on the same job.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import attrs

from aml_promotion.adapters._gateway import SdkGateway
from aml_promotion.adapters.mlflow._runs import Runs as MlflowRuns
from aml_promotion.adapters.mlflow._session import open_session
from aml_promotion.exceptions import RegistryError

__all__ = ["AzureMLV2Session"]


@attrs.define(kw_only=True)
class AzureMLV2Session:
    """One workspace's clients, shared by the backend's parts (`Runs`, `Registry`)."""

    ml_client: Any
    """The ``azure.ai.ml.MLClient`` bound to the workspace."""
    gateway: SdkGateway
    """Every SDK call passes here: retried, its errors translated."""
    registry_name: str | None = None
    """The Azure ML registry the client is bound to, or None: a workspace."""
    environ: Mapping[str, str] | None = None
    """Where the job this code runs in is named (None: the process's environment, then)."""
    _mlflow_client: Any = None
    _mlflow_runs: MlflowRuns | None = None
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def mlflow(self) -> Any:
        """Return an MLflow client on the workspace's tracking URI (read once, one request)."""
        with self._lock:
            if self._mlflow_client is None:
                self._mlflow_client = self._open_mlflow()
            return self._mlflow_client

    def mlflow_runs(self) -> MlflowRuns:
        """Return the MLflow adapter's run reading over `mlflow()`: metrics, datasets, runs.

        It makes its calls through its own gateway (MLflow's HTTP retries off, ours on), not
        inside this one's retry loop, which would compound with it.
        """
        client = self.mlflow()
        with self._lock:
            if self._mlflow_runs is None:
                session = open_session(None, None, retry=self.gateway.policy, client=client)
                self._mlflow_runs = MlflowRuns(session)
            return self._mlflow_runs

    def _open_mlflow(self) -> Any:
        name = self.ml_client.workspace_name

        def tracking_uri() -> str:
            workspace = self.ml_client.workspaces.get(name)
            uri = workspace.mlflow_tracking_uri
            if not uri:
                msg = f"workspace {name!r} has no MLflow tracking URI"
                raise RegistryError(msg)
            return str(uri)

        uri = self.gateway.call(f"reading workspace {name!r}", tracking_uri)
        import mlflow  # noqa: PLC0415 - the SDK is lazy
        from mlflow import MlflowClient  # noqa: PLC0415

        # azureml-mlflow's artifact listing takes its connection from MLflow's global
        # tracking URI, not from the client's (see docs/backends-azureml-v2.md).
        mlflow.set_tracking_uri(uri)
        return MlflowClient(tracking_uri=uri)
