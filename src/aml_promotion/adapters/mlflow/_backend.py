"""`MlflowBackend`: made from its parts, and connected to a tracking store and a registry."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from aml_promotion._retry import RetryPolicy
from aml_promotion.adapters.mlflow._errors import _sdk_error_types
from aml_promotion.adapters.mlflow._registry import Registry
from aml_promotion.adapters.mlflow._uris import _DATABASE_SCHEMES, _redact, _scheme
from aml_promotion.exceptions import BackendNotInstalledError

__all__ = ["DEFAULT_TRACKING_URI", "MlflowBackend"]

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
"""The tracking URI used when none is given and none is set: MLflow 3's own default."""

_UNITY_CATALOG = "databricks-uc"


def _sqlite_path(uri: str | None) -> Path | None:
    """Return the database file of a sqlite URI, or None (another scheme, or in memory)."""
    if uri is None or _scheme(uri) != "sqlite":
        return None
    from sqlalchemy.engine import make_url  # noqa: PLC0415 - the extra's dependency

    database = make_url(uri).database
    if not database or database == ":memory:":
        return None
    return Path(database).absolute()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing) within the block.

    Two processes that open the same *new* sqlite file at once both run MLflow's alembic
    migrations, and one crashes ("Online migration expected to match one row..."): MLflow
    creates the tables without a lock. The lock serializes the first opening; the file is
    kept (deleting a lock file while others wait on it would break the lock).
    """
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
    except ImportError:  # pragma: no cover - Windows: no flock; MLflow skips its lock there too
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# The parts: Registry builds on Runs and Versions, which build on Calls (see each module).
class MlflowBackend(Registry):
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
        try:
            import mlflow  # noqa: PLC0415 - the SDK is imported lazily, by design
            from mlflow.exceptions import MlflowException  # noqa: PLC0415
        except ImportError as exc:
            raise BackendNotInstalledError("MLflow", extra="mlflow") from exc
        sdk: Any = mlflow  # typed loosely: only touched inside this adapter
        self._mlflow = sdk
        if client is not None:
            tracking_uri = str(client.tracking_uri)
            registry_uri = str(getattr(client, "_registry_uri", "") or "") or None
        if tracking_uri is None:
            # MLflow's own default would fall back to a ./mlruns file store when one exists,
            # which MLflow 3 then refuses to open without MLFLOW_ALLOW_FILE_STORE.
            tracking_uri = (
                str(sdk.get_tracking_uri())
                if sdk.tracking.is_tracking_uri_set()
                else DEFAULT_TRACKING_URI
            )
        self.tracking_uri: str = tracking_uri
        self.registry_uri: str | None = registry_uri
        self._retry = retry if retry is not None else RetryPolicy()
        self._sdk_errors = _sdk_error_types(MlflowException)
        uris = [tracking_uri, registry_uri or os.environ.get("MLFLOW_REGISTRY_URI")]
        schemes = {_scheme(uri) for uri in uris if uri}
        if schemes & {"sqlite"}:
            self._require_database_support()
        # Only remote stores retry over HTTP; local database stores never touch the variable.
        self._owns_http_retries = self._retry.attempts > 1 and bool(schemes - _DATABASE_SCHEMES)
        self._client: Any = (
            client
            if client is not None
            else self._call("open the MLflow store", lambda: self._connect(uris))
        )
        # Unity Catalog (MLflow 3's registry for "databricks") takes fewer searches: see _unity.
        resolved = str(getattr(self._client, "_registry_uri", "") or registry_uri or "")
        # "databricks-uc" or "databricks-uc://profile" (no colon at all in the first).
        self._unity_catalog = resolved.split(":", 1)[0].lower() == _UNITY_CATALOG

    # --- the two ports ------------------------------------------------------------------------

    @property
    def runs(self) -> MlflowBackend:
        """Where runs are read (this object)."""
        return self

    @property
    def registry(self) -> MlflowBackend:
        """Where model versions are looked up and registered (this object)."""
        return self

    def __repr__(self) -> str:
        registry = f", registry_uri={_redact(self.registry_uri)!r}" if self.registry_uri else ""
        return f"MlflowBackend(tracking_uri={_redact(self.tracking_uri)!r}{registry})"

    # --- connecting ---------------------------------------------------------------------------

    @staticmethod
    def _require_database_support() -> None:
        import importlib.util  # noqa: PLC0415

        # mlflow-skinny alone registers no sqlite store and fails with an obscure message.
        if not all(importlib.util.find_spec(name) for name in ("sqlalchemy", "alembic")):
            raise BackendNotInstalledError("MLflow (sqlite store)", extra="mlflow")

    def _connect(self, uris: Sequence[str | None]) -> Any:
        from mlflow import MlflowClient  # noqa: PLC0415

        tracking_db = _sqlite_path(uris[0])
        registry_db = _sqlite_path(uris[1])
        databases = sorted({db for db in (tracking_db, registry_db) if db is not None})
        with contextlib.ExitStack() as stack:
            for database in databases:
                stack.enter_context(_file_lock(database.with_name(database.name + ".lock")))
            # Creating the client opens the tracking store, which migrates a new database.
            client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)
            if registry_db is not None and registry_db != tracking_db:
                # The registry store opens lazily: open (and migrate) it under the lock too.
                client.search_registered_models(max_results=1)
        return client
