"""`MlflowSession`: what the parts of `MlflowBackend` share: the client, the gateway, the URIs.

`open_session` connects to a tracking store and a registry (or takes a client as it is); the
parts (`Runs`, `Versions`, `Registry`) are each built on the one session, so none reaches into
another's state or into the backend.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from aml_promotion._retry import RetryPolicy
from aml_promotion.adapters._gateway import SdkGateway
from aml_promotion.adapters.mlflow._errors import _sdk_error_types, _translate
from aml_promotion.adapters.mlflow._http import _http_retries_off
from aml_promotion.adapters.mlflow._uris import _DATABASE_SCHEMES, _scheme
from aml_promotion.exceptions import BackendNotInstalledError

__all__ = ["DEFAULT_TRACKING_URI", "MlflowSession", "open_session"]

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
"""The tracking URI used when none is given and none is set: MLflow 3's own default."""

_UNITY_CATALOG = "databricks-uc"


@attrs.define(kw_only=True)
class MlflowSession:
    """One connection to MLflow, shared by the backend's parts.

    Mutable (``attrs.define``) only so that a test can put a spy in front of the client.
    """

    sdk: Any
    """The ``mlflow`` module (typed loosely: only touched inside this adapter)."""
    client: Any
    """The ``mlflow.MlflowClient`` every request goes through."""
    tracking_uri: str
    registry_uri: str | None
    gateway: SdkGateway
    """Every call to MLflow passes here: retried, its errors translated."""
    sdk_errors: tuple[type[Exception], ...]
    """What MLflow (and requests, SQLAlchemy, alembic beneath it) raises."""
    unity_catalog: bool
    """Whether the registry is Unity Catalog (MLflow 3's for "databricks"): fewer searches."""
    registry_scheme: str = ""
    """The scheme of the registry's URI as MLflow resolved it (``http``, ``sqlite``...)."""


def open_session(
    tracking_uri: str | None,
    registry_uri: str | None,
    *,
    retry: RetryPolicy | None,
    client: Any = None,
) -> MlflowSession:
    """Connect to the store (see `MlflowBackend` for what the arguments mean).

    Raises:
        BackendNotInstalledError: The ``[mlflow]`` extra is not installed (or, for a sqlite
            store, SQLAlchemy and alembic are missing).
        RegistryError: MLflow refused the URIs, or could not open the store.
    """
    try:
        import mlflow  # noqa: PLC0415 - the SDK is imported lazily, by design
        from mlflow.exceptions import MlflowException  # noqa: PLC0415
    except ImportError as exc:
        raise BackendNotInstalledError("MLflow", extra="mlflow") from exc
    sdk: Any = mlflow
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
    policy = retry if retry is not None else RetryPolicy()
    sdk_errors = _sdk_error_types(MlflowException)
    uris = [tracking_uri, registry_uri or os.environ.get("MLFLOW_REGISTRY_URI")]
    schemes = {_scheme(uri) for uri in uris if uri}
    if schemes & {"sqlite"}:
        _require_database_support()
    # Only remote stores retry over HTTP; local database stores never touch the variable.
    owns_http_retries = policy.attempts > 1 and bool(schemes - _DATABASE_SCHEMES)
    gateway = SdkGateway(
        policy,
        quiet=_http_retries_off if owns_http_retries else contextlib.nullcontext,
        translate=_translate,
        catch=sdk_errors,
    )
    if client is None:
        tracking, registry = tracking_uri, registry_uri
        client = gateway.call("open the MLflow store", lambda: _connect(tracking, registry, uris))
    resolved = str(getattr(client, "_registry_uri", "") or registry_uri or "")
    return MlflowSession(
        sdk=sdk,
        client=client,
        tracking_uri=tracking_uri,
        registry_uri=registry_uri,
        gateway=gateway,
        sdk_errors=sdk_errors,
        # "databricks-uc" or "databricks-uc://profile" (no colon at all in the first).
        unity_catalog=resolved.split(":", 1)[0].lower() == _UNITY_CATALOG,
        registry_scheme=_scheme(resolved) or _scheme(tracking_uri),
    )


def _require_database_support() -> None:
    import importlib.util  # noqa: PLC0415

    # mlflow-skinny alone registers no sqlite store and fails with an obscure message.
    if not all(importlib.util.find_spec(name) for name in ("sqlalchemy", "alembic")):
        raise BackendNotInstalledError("MLflow (sqlite store)", extra="mlflow")


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


def _connect(tracking_uri: str, registry_uri: str | None, uris: Sequence[str | None]) -> Any:
    from mlflow import MlflowClient  # noqa: PLC0415

    tracking_db = _sqlite_path(uris[0])
    registry_db = _sqlite_path(uris[1])
    databases = sorted({db for db in (tracking_db, registry_db) if db is not None})
    with contextlib.ExitStack() as stack:
        for database in databases:
            stack.enter_context(_file_lock(database.with_name(database.name + ".lock")))
        # Creating the client opens the tracking store, which migrates a new database.
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
        if registry_db is not None and registry_db != tracking_db:
            # The registry store opens lazily: open (and migrate) it under the lock too.
            client.search_registered_models(max_results=1)
    return client
