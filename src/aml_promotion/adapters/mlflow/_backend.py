"""`MlflowBackend`: one session on a tracking store and a registry, and the parts built on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from aml_promotion._retry import RetryPolicy
from aml_promotion.adapters._redaction import mask, query_secrets, redact
from aml_promotion.adapters.mlflow._registry import Registry
from aml_promotion.adapters.mlflow._runs import Runs
from aml_promotion.adapters.mlflow._session import DEFAULT_TRACKING_URI, open_session
from aml_promotion.adapters.mlflow._versions import Versions
from aml_promotion.exceptions import (
    BackendNotInstalledError,  # noqa: F401 - named in the docstrings, which the API docs link
    RegistryError,  # noqa: F401
)

if TYPE_CHECKING:
    from aml_promotion.ports import Backend

__all__ = ["DEFAULT_TRACKING_URI", "MlflowBackend"]


class MlflowBackend:
    """MLflow's tracking store and model registry, as both ports (`runs` and `registry`).

    Args:
        tracking_uri: Where runs are: ``sqlite:///path.db``, ``http(s)://host``, ``databricks``,
            an Azure ML workspace's ``azureml://...`` URI... Default: the URI set for MLflow
            (``MLFLOW_TRACKING_URI`` or ``mlflow.set_tracking_uri``), else
            `DEFAULT_TRACKING_URI`.
        registry_uri: Where model versions are, if not with the runs (MLflow's own default:
            ``MLFLOW_REGISTRY_URI``, else the tracking URI).
        retry: How transient failures (HTTP 5xx and 429, dropped connections, a locked sqlite
            database) are retried. While ours are on (``attempts > 1``) MLflow's own HTTP
            retries are switched off for the adapter's calls, so the two never compound.
        client: An ``mlflow.MlflowClient`` to use as it is, MLflow's convention
            (``MlflowBackend(client=MlflowClient(...))``): its tracking and registry URIs are
            used, and neither URI may be given with it.

    Raises:
        ValueError: A client and a URI were both given.
        BackendNotInstalledError: The ``[mlflow]`` extra is not installed (or, for a sqlite
            store, SQLAlchemy and alembic are missing).
        RegistryError: MLflow refused the URIs, or could not open the store.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        registry_uri: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        client: Any = None,
    ) -> None:
        if client is not None and (tracking_uri is not None or registry_uri is not None):
            msg = "give client= alone: its own tracking and registry URIs are used"
            raise ValueError(msg)
        _mask_passwords(tracking_uri, registry_uri)
        self._session = open_session(tracking_uri, registry_uri, retry=retry, client=client)
        _mask_passwords(self._session.tracking_uri, self._session.registry_uri)
        self._runs = Runs(self._session)
        self._registry = Registry(self._session, runs=self._runs, versions=Versions(self._session))

    @property
    def tracking_uri(self) -> str:
        """Where runs are read."""
        return self._session.tracking_uri

    @property
    def registry_uri(self) -> str | None:
        """Where model versions are, when given apart from the runs (else None)."""
        return self._session.registry_uri

    @property
    def runs(self) -> Runs:
        """Where runs are read: runs, metrics (also per dataset), files, logged models."""
        return self._runs

    @property
    def registry(self) -> Registry:
        """Where model versions are looked up, registered, tagged and aliased."""
        return self._registry

    @property
    def _client(self) -> Any:
        # The MlflowClient every part uses; tests put a spy in front of it.
        return self._session.client

    @_client.setter
    def _client(self, client: Any) -> None:
        self._session.client = client

    def __repr__(self) -> str:
        registry = f", registry_uri={redact(self.registry_uri)!r}" if self.registry_uri else ""
        return f"MlflowBackend(tracking_uri={redact(self.tracking_uri)!r}{registry})"


def _mask_passwords(*uris: str | None) -> None:
    # As the Azure backends mask the client secret: an SDK may quote a URI's password apart
    # from its URI (or percent-decoded), where no pattern for user info finds it; so too a
    # secret in its query string (?password=, &token=...).
    for uri in uris:
        for secret in query_secrets(uri or ""):
            mask(secret, unquote(secret))
        try:
            password = urlsplit(uri).password if uri else None
        except ValueError:  # not a URI urlsplit reads (e.g. a bad port): MLflow says so later
            continue
        if password:
            mask(password, unquote(password))


if TYPE_CHECKING:

    def _is_a_backend(backend: MlflowBackend) -> Backend:
        return backend  # mypy checks here that MlflowBackend provides both ports exactly
