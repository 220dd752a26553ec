"""MLflow as a backend: runs from its tracking store, versions in its model registry.

>>> from aml_promotion import promote
>>> from aml_promotion.adapters.mlflow import MlflowBackend
>>> backend = MlflowBackend("sqlite:///mlflow.db")  # doctest: +SKIP
>>> promote(experiment_name="train", run_id=run_id, backend=backend,
...         settings={"model_name": "churn", "metrics_max": ["auc"]})  # doctest: +SKIP

The same code talks to a local sqlite store, any MLflow tracking server, Databricks, or an
Azure ML workspace's MLflow endpoint: only the tracking URI changes. MLflow is imported when a
backend is created, never when this module is imported; without the ``[mlflow]`` extra that
raises `BackendNotInstalledError`.

How MLflow's concepts map onto the ports:

- a run is an MLflow run; a "pipeline step" is a nested (child) run, found by its run name;
- a model version's id is ``<name>/<version>``; its run is the version's ``run_id``;
- what MLflow has no field for (properties, framework, datasets, CPU and memory) is kept in
  the version's tags (see `MlflowBackend.register`);
- a local model file (no run) is logged into a run the adapter creates in the experiment
  `LOCAL_EXPERIMENT`, with the candidate's metrics, so it can serve as a baseline later.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs

from aml_promotion._domain.metrics import Unusable, is_usable_number
from aml_promotion._domain.policy import BaselineKind, BaselineStrategy, EvaluationData
from aml_promotion._retry import LOGGER_NAME, RetryPolicy, retrying
from aml_promotion.adapters._errors import exception_chain
from aml_promotion.adapters._registration import register_once
from aml_promotion.adapters._sdk_retries import SdkRetrySwitch
from aml_promotion.exceptions import (
    BackendNotInstalledError,
    BaselineNotFoundError,
    RegistryError,
    RunNotFoundError,
    TransientRegistryError,
)
from aml_promotion.ports import (
    LoggedModel,
    MetricValues,
    ModelVersion,
    RegistrationRequest,
    RunRecord,
    RunStatus,
    unsupported_strategy,
)

__all__ = ["DEFAULT_TRACKING_URI", "LOCAL_EXPERIMENT", "LOCAL_FOLDER", "MlflowBackend"]

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
"""The tracking URI used when none is given and none is set: MLflow 3's own default."""

LOCAL_EXPERIMENT = "aml-promotion-local"
"""The experiment that holds the runs made for local model files (registered with no run)."""

LOCAL_FOLDER = "model"
"""The artifact folder of such a run that holds the local file (or the local folder's files)."""

# Tags that carry what MLflow's model versions have no field for.
TAG_FRAMEWORK = "framework"
TAG_FRAMEWORK_VERSION = "framework_version"
TAG_DATASETS = "datasets"
TAG_SAMPLE_INPUT = "sample_input_dataset"
TAG_SAMPLE_OUTPUT = "sample_output_dataset"
TAG_CPU_CORES = "cpu_cores"
TAG_MEMORY_GB = "memory_gb"

_T = TypeVar("_T")

# A pipeline's steps are its child runs; one page of them is read. A bigger family is searched
# again by name, so a wide hyperparameter sweep costs one more bounded query, not a full listing.
_CHILD_PAGE = 100
_TAGGED_PAGE = 200
_LOGGED_MODELS = 50  # MLflow 3 logged models of one run (log_model calls): a handful at most
_MESSAGE_LIMIT = 600

_STATUS = {
    "FINISHED": RunStatus.COMPLETED,
    "RUNNING": RunStatus.RUNNING,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.CANCELED,
}
# A model version's status: only READY versions have their files (DESIGN §3, usable versions).
_READY = "READY"
_PENDING = "PENDING_REGISTRATION"
_FAILED = "FAILED_REGISTRATION"
# How long a pending version of this very run is waited for before giving up (see find_by_run).
_PENDING_WAIT = RetryPolicy(attempts=20, timeout=60.0, wait_initial=0.5, wait_max=5.0, jitter=0.0)
_DELETED = "deleted"  # a run's lifecycle stage once deleted
_NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
_INVALID = "INVALID_PARAMETER_VALUE"
# TEMPORARILY_UNAVAILABLE is also what MLflow's sqlite store says for "database is locked".
_TRANSIENT_CODES = frozenset({"TEMPORARILY_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"})
_TRANSIENT_HTTP = frozenset({408, 429, 500, 502, 503, 504})
# A write that collided with a concurrent one (two promotions tagging the same version at once:
# the server's insert-or-update is not atomic on PostgreSQL). Done again, it is an update.
_WRITE_CONFLICTS = (
    "UniqueViolation",
    "duplicate key value violates unique constraint",
    "UNIQUE constraint failed",
    "database is locked",
    "deadlock detected",
)
_DATABASE_SCHEMES = frozenset({"sqlite", "postgresql", "mysql", "mssql"})
_UNITY_CATALOG = "databricks-uc"
_TRACKING_VARIABLE = "MLFLOW_TRACKING_URI"
# MLflow run ids: what MLflow itself accepts, so one can be put in a filter string safely.
_RUN_ID = re.compile(r"^[A-Za-z0-9][\w\-]{0,255}$")
_USERINFO = re.compile(r"(?<=//)[^/@\s]+@")


class _NotFoundError(RegistryError):
    """MLflow said RESOURCE_DOES_NOT_EXIST; callers turn it into None or RunNotFoundError."""


class _AlreadyExistsError(RegistryError):
    """MLflow said RESOURCE_ALREADY_EXISTS (someone created it first)."""


class _InvalidError(RegistryError):
    """MLflow said INVALID_PARAMETER_VALUE (for a run id: it cannot name any run)."""


_DATA_CONTEXT_TAG = "mlflow.data.context"
"""The input tag MLflow gives a dataset input logged with ``context=...``."""


def _redact(text: str) -> str:
    # A tracking URI may carry credentials (https://user:token@host); messages never do.
    return _USERINFO.sub("***@", text)


def _scheme(uri: str) -> str:
    head, sep, _rest = uri.partition(":")
    return head.split("+", 1)[0].lower() if sep else ""


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


class _HttpRetriesOff:
    """Switch MLflow's own HTTP retries off while adapter calls run, then restore them.

    MLflow reads ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` from the environment at every request and
    has no per-client setting, so this is the only switch there is. Left on, MLflow retries a
    refused connection for about four minutes (7 retries, backoff factor 2) under our own
    retries. The variable is set only while at least one adapter call is running (see
    `SdkRetrySwitch`), and never when the user set it: their choice wins.
    """

    name = "MLFLOW_HTTP_REQUEST_MAX_RETRIES"

    def __init__(self) -> None:
        self._owned = False
        self._switch = SdkRetrySwitch(self._switch_off, self._restore)

    def __call__(self) -> contextlib.AbstractContextManager[None]:
        """Within the block, MLflow does not retry, unless the user set the variable."""
        return self._switch.off()

    def _switch_off(self) -> None:
        self._owned = self.name not in os.environ
        if self._owned:
            os.environ[self.name] = "0"

    def _restore(self) -> None:
        if self._owned:
            os.environ.pop(self.name, None)
            self._owned = False

    @contextlib.contextmanager
    def forced(self) -> Iterator[None]:
        """Switch them off even when the user set the variable, then put it back as it was.

        For a registration: MLflow's HTTP session retries POSTs too, and a POST re-sent after
        a lost answer registers the same run twice. Our own retry looks the version up first.
        """
        with self._switch.lock:
            saved = os.environ.get(self.name)
            os.environ[self.name] = "0"
        try:
            yield
        finally:
            with self._switch.lock:
                if saved is None:
                    if not self._switch.active:
                        os.environ.pop(self.name, None)
                else:
                    os.environ[self.name] = saved


_http_retries_off = _HttpRetriesOff()


def _in_mlflow_order(metrics: Sequence[Any]) -> list[Any]:
    # MLflow's own order for its latest value: (step, timestamp, value), so a series ends with
    # the value run.data.metrics holds, also when both tie.
    return sorted(metrics, key=lambda metric: (metric.step, metric.timestamp, metric.value))


def _listing(datasets: Collection[tuple[str, str]]) -> str:
    return ", ".join(f"{name}@{digest}" if digest else name for name, digest in sorted(datasets))


def _usable(held: Any) -> bool:
    """Whether a model version is usable: registered, not failed nor still pending."""
    status = getattr(held, "status", None)
    return status is None or str(status) == _READY


def _of_logged(held: Any, model_id: str) -> bool:
    """Whether a model version was registered from the logged model `model_id`."""
    return (
        str(getattr(held, "model_id", None) or "") == model_id
        or str(getattr(held, "source", None) or "") == f"models:/{model_id}"
    )


def _quote(value: str) -> str | None:
    """Quote `value` as a string literal for an MLflow filter, or None if it cannot be."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return None  # MLflow's filter grammar has no escape for a string holding both quotes


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
        self._sdk_errors = self._sdk_error_types(MlflowException)
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

    @staticmethod
    def _sdk_error_types(mlflow_exception: type[Exception]) -> tuple[type[Exception], ...]:
        import requests  # noqa: PLC0415 - a dependency of mlflow-skinny

        types: list[type[Exception]] = [mlflow_exception, requests.RequestException, OSError]
        with contextlib.suppress(ImportError):
            import sqlalchemy.exc  # noqa: PLC0415

            types.append(sqlalchemy.exc.SQLAlchemyError)
        with contextlib.suppress(ImportError):
            import alembic.util  # noqa: PLC0415

            types.append(alembic.util.CommandError)
        return tuple(types)

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

    # --- calling MLflow -----------------------------------------------------------------------

    def _translate(self, error: Exception, what: str) -> RegistryError:
        code = str(getattr(error, "error_code", "") or "")
        text = str(error).strip()
        if len(text) > _MESSAGE_LIMIT:
            text = text[:_MESSAGE_LIMIT] + "..."
        message = _redact(f"MLflow failed to {what}: {text}")
        if any(
            marker in str(link) for link in exception_chain(error) for marker in _WRITE_CONFLICTS
        ):
            return TransientRegistryError(message)
        if code == _NOT_FOUND:
            return _NotFoundError(message)
        if code == _ALREADY_EXISTS:
            return _AlreadyExistsError(message)
        if code == _INVALID:
            return _InvalidError(message)
        if self._is_transient(error):
            return TransientRegistryError(message)
        return RegistryError(message)

    @staticmethod
    def _is_transient(error: Exception) -> bool:
        import requests  # noqa: PLC0415
        from mlflow.exceptions import RestException  # noqa: PLC0415

        for link in exception_chain(error):
            # A refused or dropped connection, a timeout, or retryable statuses that urllib3
            # gave up on (MLflow wraps these in a plain MlflowException, the cause kept).
            if isinstance(
                link,
                (
                    requests.exceptions.ConnectionError,
                    requests.exceptions.Timeout,
                    requests.exceptions.RetryError,
                ),
            ):
                return True
            if str(getattr(link, "error_code", "")) in _TRANSIENT_CODES:
                return True
            response = getattr(link, "response", None)
            if getattr(response, "status_code", None) in _TRANSIENT_HTTP:
                return True
            if isinstance(link, RestException):
                rest: Any = link  # MLflow's annotations are partial
                if rest.get_http_status_code() in _TRANSIENT_HTTP:
                    return True
        return False

    def _once(self, what: str, call: Callable[[], _T]) -> _T:
        """Make one call to MLflow, its errors translated (no retries)."""
        context = _http_retries_off() if self._owns_http_retries else contextlib.nullcontext()
        try:
            with context:
                return call()
        except RegistryError:
            raise
        except self._sdk_errors as exc:
            raise self._translate(exc, what) from exc

    def _call(self, what: str, call: Callable[[], _T]) -> _T:
        """Make a call to MLflow, retried on transient failures, its errors translated."""
        for attempt in retrying(self._retry):
            with attempt:
                return self._once(what, call)
        raise AssertionError("unreachable: retrying() yields until success or raises")

    # --- RunStore -----------------------------------------------------------------------------

    def get_run(
        self,
        *,
        experiment_name: str | None,
        run_id: str | None,
        pipeline_step: str | None = None,
    ) -> RunRecord:
        """Return the run, resolved to its child run named `pipeline_step` if it has children.

        Args:
            experiment_name: The experiment the run must belong to; None to not check.
            run_id: The run's id; None for MLflow's active run (``mlflow.active_run()``).
            pipeline_step: The run name of the child run (MLflow's nested runs stand for
                pipeline steps) that holds the model; a run with no children is used as is.

        Raises:
            RunNotFoundError: No such run, no active run, a run of another experiment, or no
                (or several) children named `pipeline_step`.
            RegistryError: MLflow failed.
        """
        current = run_id is None
        if run_id is None:
            active = self._mlflow.active_run()
            if active is None:
                raise RunNotFoundError(
                    "no current run: there is no active MLflow run (mlflow.start_run()); "
                    "pass experiment_name and run_id"
                )
            run_id = str(active.info.run_id)
        run = self._fetch_run(run_id)
        if experiment_name is not None:
            self._check_experiment(run, experiment_name)
        if pipeline_step is not None:
            child = self._child_step(run, pipeline_step)
            if child is not None:
                return self._record(child, experiment_name, current=False)
        return self._record(run, experiment_name, current=current)

    def _fetch_run(self, run_id: str) -> Any:
        try:
            return self._call(f"read run {run_id!r}", lambda: self._client.get_run(run_id))
        except (_NotFoundError, _InvalidError) as exc:
            raise RunNotFoundError(
                f"no MLflow run with id {run_id!r} at {_redact(self.tracking_uri)}", run_id=run_id
            ) from exc

    def _check_experiment(self, run: Any, experiment_name: str) -> None:
        experiment_id = run.info.experiment_id
        experiment = self._call(
            f"read experiment {experiment_id}",
            lambda: self._client.get_experiment(experiment_id),
        )
        actual = str(experiment.name)
        if actual != experiment_name:
            run_id = str(run.info.run_id)
            raise RunNotFoundError(
                f"run {run_id!r} belongs to experiment {actual!r}, not {experiment_name!r}",
                run_id=run_id,
                experiment_name=experiment_name,
            )

    def _child_step(self, run: Any, step: str) -> Any | None:
        run_id = str(run.info.run_id)
        experiment_ids = [str(run.info.experiment_id)]
        parent = f"tags.mlflow.parentRunId = '{run_id}'"
        children = self._call(
            f"list the child runs of run {run_id!r}",
            lambda: self._client.search_runs(
                experiment_ids, filter_string=parent, max_results=_CHILD_PAGE
            ),
        )
        if not children:
            return None
        matches = [child for child in children if child.info.run_name == step]
        quoted = _quote(step)
        if len(children) >= _CHILD_PAGE and len(matches) < 2 and quoted is not None:  # noqa: PLR2004
            # More children than one page: ask for the step by name, so none is missed.
            by_name = f"{parent} AND attributes.run_name = {quoted}"
            matches = list(
                self._call(
                    f"find child run {step!r} of run {run_id!r}",
                    lambda: self._client.search_runs(
                        experiment_ids, filter_string=by_name, max_results=2
                    ),
                )
            )
        if len(matches) == 1:
            return matches[0]
        names = sorted({str(child.info.run_name) for child in children})
        found = "no child run" if not matches else f"{len(matches)} child runs"
        more = " (first page)" if len(children) >= _CHILD_PAGE else ""
        raise RunNotFoundError(
            f"run {run_id!r} has {found} named {step!r}; its child runs{more} are: "
            f"{', '.join(names)}",
            run_id=run_id,
            candidates=names,
        )

    @staticmethod
    def _record(run: Any, experiment_name: str | None, *, current: bool) -> RunRecord:
        status_text = str(run.info.status)
        status = _STATUS.get(status_text, RunStatus.OTHER)
        if str(run.info.lifecycle_stage) == _DELETED:
            # A deleted run (in MLflow's trash) is not promoted unless forced, whatever it did.
            status, status_text = RunStatus.OTHER, f"{status_text} (deleted)"
        return RunRecord(
            run_id=str(run.info.run_id),
            experiment_name=experiment_name,
            status=status,
            status_text=status_text,
            is_current=current,
            handle=run,
        )

    def _run_of(self, record: RunRecord) -> Any:
        from mlflow.entities import Run  # noqa: PLC0415

        if isinstance(record.handle, Run):
            return record.handle
        return self._fetch_run(record.run_id)

    def get_metrics(
        self, run: RunRecord, names: Collection[str], *, series: Collection[str] = ()
    ) -> MetricValues:
        """Return the last values of the metrics `names`, and the whole series for `series`.

        The last values come with the run (no request when `run` came from `get_run`); one
        ``get_metric_history`` request is made per name in `series` that the run logged. A
        series is ordered as MLflow orders it for the last value (step, timestamp, value): its
        last element is MLflow's latest value, the one the run's data holds.

        A run that logged models (MLflow 3) costs one more request, for the metrics kept on
        them: a metric logged on several evaluation datasets (``log_metric(..., dataset=...)``)
        is unusable here, with a reason that lists the datasets, never silently the last one
        logged (see `get_dataset_metrics` to choose one).

        Raises:
            RegistryError: MLflow failed.
        """
        return self.get_dataset_metrics(run, names, datasets={}, series=series)

    def get_dataset_metrics(
        self,
        run: RunRecord,
        names: Collection[str],
        *,
        datasets: Mapping[str, str],
        series: Collection[str] = (),
    ) -> MetricValues:
        """Return the metrics as `get_metrics` does, those in `datasets` read on that dataset.

        MLflow 3 keeps a dataset-scoped metric, with the dataset's name and digest, on the
        logged model it was logged for. For a metric in `datasets` the value (or, in `series`,
        the values) logged on that dataset by this run count; none logged on it, or two versions
        of it (two digests), leave it unusable with a reason.

        Raises:
            RegistryError: MLflow failed.
        """
        held = self._run_of(run)
        logged: Mapping[str, float] = held.data.metrics
        scoped = self._scoped_metrics(held, names)
        values: dict[str, object] = {}
        for name in names:
            on_datasets = scoped.get(name, {})
            wanted = datasets.get(name)
            if wanted is not None:
                values[name] = self._on_dataset(name, wanted, on_datasets, series=name in series)
            elif len(on_datasets) > 1:
                values[name] = Unusable(
                    reason=(
                        f"logged on {len(on_datasets)} datasets ({_listing(on_datasets)}): "
                        f'choose one with the rule\'s "dataset"'
                    )
                )
            elif name in logged:
                values[name] = logged[name]
        for name in series:
            if name in values and name not in datasets and not isinstance(values[name], Unusable):
                history = self._call(
                    f"read the history of metric {name!r} of run {run.run_id!r}",
                    functools.partial(self._client.get_metric_history, run.run_id, name),
                )
                values[name] = [metric.value for metric in _in_mlflow_order(history)]
        return MetricValues(values=values, available=frozenset(logged))

    @staticmethod
    def _on_dataset(
        name: str, wanted: str, on_datasets: Mapping[tuple[str, str], list[Any]], *, series: bool
    ) -> object:
        matches = {key: found for key, found in on_datasets.items() if key[0] == wanted}
        if len(matches) == 1:
            ordered = _in_mlflow_order(next(iter(matches.values())))
            return [m.value for m in ordered] if series else ordered[-1].value
        if matches:
            return Unusable(
                reason=(
                    f"logged on {len(matches)} versions of dataset {wanted!r} "
                    f"({_listing(matches)}): one digest is needed"
                )
            )
        where = f"; it was logged on {_listing(on_datasets)}" if on_datasets else ""
        return Unusable(reason=f"{name!r} was not logged on dataset {wanted!r}{where}")

    def _scoped_metrics(
        self, run: Any, names: Collection[str]
    ) -> dict[str, dict[tuple[str, str], list[Any]]]:
        """Return this run's dataset-scoped values of `names`: name → (dataset, digest) → values."""
        outputs = getattr(run, "outputs", None)
        if not names or not getattr(outputs, "model_outputs", None):
            return {}  # the run logged no model: no request
        run_id = str(run.info.run_id)
        scoped: dict[str, dict[tuple[str, str], list[Any]]] = {}
        for model in self._logged_models(run):
            for metric in model.metrics or ():
                dataset = getattr(metric, "dataset_name", None)
                if not dataset or metric.key not in names or str(metric.run_id) != run_id:
                    continue
                key = (str(dataset), str(getattr(metric, "dataset_digest", None) or ""))
                scoped.setdefault(str(metric.key), {}).setdefault(key, []).append(metric)
        return scoped

    def list_files(self, run: RunRecord) -> Sequence[str]:
        """Return every file of the run: its artifacts, and the files of its logged models.

        Artifacts are listed recursively, one request per folder. MLflow 3's ``log_model``
        keeps a model apart from the run's artifacts, as a "logged model" of the run: its files
        are listed under the model's name (``model/MLmodel``, ``model/model.pkl``...), the paths
        that ``runs:/<run id>/<name>/...`` resolves, so they can be registered like artifacts.
        Finding the run's logged models costs one more request.

        Raises:
            RegistryError: MLflow failed.
        """
        held = self._run_of(run)
        files = self._tree(str(held.info.artifact_uri), f"list the artifacts of run {run.run_id!r}")
        for model in self._logged_models(held):
            what = f"list the files of logged model {model.name!r} of run {run.run_id!r}"
            files.extend(
                f"{model.name}/{path}" for path in self._tree(model.artifact_location, what)
            )
        return sorted(set(files))

    def get_evaluation_data(
        self, run: RunRecord, source: EvaluationData
    ) -> Mapping[str, str | None]:
        """Return the run's dataset inputs of context `source.context` (name → digest).

        A dataset input's context is its input tag ``mlflow.data.context`` (``mlflow.log_input
        (dataset, context="eval")``). With `source.tag`, the run's tag of that name, else its
        parameter. The inputs and tags come with the run: no request when `run` came from
        `get_run`.

        Raises:
            RegistryError: MLflow failed.
        """
        held = self._run_of(run)
        if source.tag is not None:
            value = held.data.tags.get(source.tag, held.data.params.get(source.tag))
            return {} if value is None else {source.tag: str(value)}
        found: dict[str, str | None] = {}
        inputs = getattr(held, "inputs", None)
        for dataset_input in getattr(inputs, "dataset_inputs", None) or ():
            contexts = {
                tag.value for tag in dataset_input.tags or () if tag.key == _DATA_CONTEXT_TAG
            }
            if source.context in contexts:
                dataset = dataset_input.dataset
                found[str(dataset.name)] = str(dataset.digest) if dataset.digest else None
        return found

    def _tree(self, artifact_uri: str, what: str) -> list[str]:
        """Return the paths of every file under `artifact_uri`, relative to it."""
        repository = self._call(what, functools.partial(self._repository, artifact_uri))
        files: list[str] = []
        folders: list[str | None] = [None]
        while folders:
            folder = folders.pop()
            entries = self._call(what, functools.partial(repository.list_artifacts, folder))
            for entry in entries:
                (folders if entry.is_dir else files).append(str(entry.path).replace("\\", "/"))
        return files

    def _repository(self, artifact_uri: str) -> Any:
        # What MlflowClient.list_artifacts builds, built once: the client's own method reads
        # the run again (and, in MLflow 3, searches its logged models) for every folder.
        from mlflow.store.artifact.artifact_repository_registry import (  # noqa: PLC0415
            get_artifact_repository,
        )
        from mlflow.utils.uri import add_databricks_profile_info_to_artifact_uri  # noqa: PLC0415

        with_profile: Any = add_databricks_profile_info_to_artifact_uri  # untyped in MLflow
        uri = with_profile(artifact_uri, self.tracking_uri)
        return get_artifact_repository(uri, tracking_uri=self.tracking_uri)

    def _logged_models(self, run: Any) -> list[Any]:
        run_id = str(run.info.run_id)
        try:
            found = self._call(
                f"find the logged models of run {run_id!r}",
                functools.partial(
                    self._client.search_logged_models,
                    experiment_ids=[str(run.info.experiment_id)],
                    filter_string=f"source_run_id = '{run_id}'",
                    max_results=_LOGGED_MODELS,
                ),
            )
        except TransientRegistryError:
            raise
        except RegistryError as exc:
            # Logged models are MLflow 3's: an MLflow 2 server, or a hosted endpoint that lacks
            # them (or their filter), has none to offer. The run's own artifacts still count.
            logging.getLogger(LOGGER_NAME).debug("no logged models for run %s: %s", run_id, exc)
            return []
        # A model still being logged (PENDING) or whose logging failed has no complete files.
        return [model for model in found if str(model.status) == "READY"]

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """Return the logged model `model_id` (MLflow 3): its name and the run that logged it.

        Raises:
            RunNotFoundError: No logged model has that id.
            RegistryError: MLflow failed.
        """
        try:
            model = self._call(
                f"read logged model {model_id!r}",
                lambda: self._client.get_logged_model(model_id),
            )
        except (_NotFoundError, _InvalidError) as exc:
            raise RunNotFoundError(
                f"no MLflow logged model with id {model_id!r} at {_redact(self.tracking_uri)}"
            ) from exc
        run_id = model.source_run_id
        return LoggedModel(
            model_id=str(model.model_id),
            name=str(model.name),
            run_id=str(run_id) if run_id else None,
        )

    def _logged_model_id(self, record: RunRecord, path: str) -> str | None:
        """Return the id of the run's logged model named `path`, as mlflow.register_model picks.

        None when `path` names no logged model of the run (a plain artifact or folder). When
        several share the name, the one logged at the largest step wins (then the newest).
        """
        if not path or "/" in path:
            return None
        held = self._run_of(record)
        named = [model for model in self._logged_models(held) if str(model.name) == path]
        if not named:
            return None
        outputs = getattr(held, "outputs", None)
        steps = {
            str(output.model_id): int(output.step or 0)
            for output in (getattr(outputs, "model_outputs", None) or [])
        }
        best = max(
            named,
            key=lambda model: (
                steps.get(str(model.model_id), 0),
                int(model.creation_timestamp or 0),
            ),
        )
        return str(best.model_id)

    # --- ModelRegistry ------------------------------------------------------------------------

    def _version(self, held: Any, experiment_name: str | None = None) -> ModelVersion:
        name, number = str(held.name), int(held.version)  # a str over HTTP, an int locally
        return ModelVersion(
            name=name,
            version=number,
            id=f"{name}/{number}",
            run_id=str(held.run_id) if held.run_id else None,
            experiment_name=experiment_name,
            tags={str(key): str(value) for key, value in (held.tags or {}).items()},
            source=str(held.source) if held.source else None,
        )

    def _name_filter(self, name: str) -> str:
        quoted = _quote(name)
        if quoted is None:
            raise RegistryError(
                f"cannot search MLflow for a model name holding both quotes: {name!r}"
            )
        return f"name = {quoted}"

    def _search(
        self,
        what: str,
        filter_string: str,
        *,
        limit: int | None,
        keep: Callable[[Any], bool] = _usable,
        retry: bool = True,
        name: str | None = None,
        cheap: Callable[[Any], bool] | None = None,
    ) -> list[ModelVersion]:
        """Return the versions that match and that `keep` keeps, highest first, `limit` at most.

        `keep` filters client-side; by default it keeps the usable versions (READY): one whose
        registration failed or is still pending is never a baseline. The first page holds one
        version when one is wanted, so the usual case costs one query. With Unity Catalog the
        search is by `name` alone and `cheap` stands for the rest of `filter_string`.
        """
        found = self._search_held(
            what, filter_string, limit=limit, keep=keep, retry=retry, name=name, cheap=cheap
        )
        return [self._version(held) for held in found]

    def _search_held(
        self,
        what: str,
        filter_string: str,
        *,
        limit: int | None,
        keep: Callable[[Any], bool],
        retry: bool = True,
        name: str | None = None,
        cheap: Callable[[Any], bool] | None = None,
    ) -> list[Any]:
        if self._unity_catalog and name is not None:
            return self._unity(what, name, limit=limit, keep=keep, cheap=cheap, retry=retry)
        found: list[Any] = []
        token: str | None = None
        page_size = 1 if limit == 1 else _TAGGED_PAGE
        while True:
            paging = {} if token is None else {"page_token": token}
            search = functools.partial(
                self._client.search_model_versions,
                filter_string=filter_string,
                order_by=["version_number DESC"],
                max_results=page_size,
                **paging,
            )
            page = self._call(what, search) if retry else self._once(what, search)
            for held in page:
                if keep(held):
                    found.append(held)
                    if limit is not None and len(found) >= limit:
                        return found
            token = getattr(page, "token", None)
            if not token:
                return found
            page_size = _TAGGED_PAGE

    def _unity(
        self,
        what: str,
        name: str,
        *,
        limit: int | None,
        keep: Callable[[Any], bool],
        cheap: Callable[[Any], bool] | None,
        retry: bool,
    ) -> list[Any]:
        """Search as Unity Catalog allows: one condition (the name), no order_by.

        Every page of the model's versions is read (200 a page), ordered and filtered here:
        `cheap` on what the search gives, then `keep` on each remaining version read in full
        (Unity Catalog's search gives no tags), highest first, until `limit` are kept.
        """
        listed: list[Any] = []
        token: str | None = None
        while True:
            paging = {} if token is None else {"page_token": token}
            search = functools.partial(
                self._client.search_model_versions,
                filter_string=self._name_filter(name),
                max_results=_TAGGED_PAGE,
                **paging,
            )
            page = self._call(what, search) if retry else self._once(what, search)
            listed.extend(page)
            token = getattr(page, "token", None)
            if not token:
                break
        found: list[Any] = []
        for held in sorted(listed, key=lambda version: int(version.version), reverse=True):
            if cheap is not None and not cheap(held):
                continue
            number = str(held.version)
            read = functools.partial(self._client.get_model_version, name, number)
            full = self._call(what, read) if retry else self._once(what, read)
            if keep(full):
                found.append(full)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def find_baseline(self, name: str, strategy: BaselineStrategy) -> ModelVersion | None:
        """Return the version `strategy` picks among the versions of `name`, or None.

        The latest version is found with one query ordered by version number, limited to one
        result, never by listing every version; a tag by a filter on the tag; a number directly;
        an alias by its holder (``get_model_version_by_alias``); a stage (MLflow 2 registries)
        as the highest version in it, read from the versions newest first. Only usable versions
        count: one whose registration failed or is still pending is passed over (an alias or a
        version number that points at one gives no baseline).

        Raises:
            BaselineNotFoundError: The strategy pins a version that does not exist.
            RegistryError: MLflow failed (never taken as "no baseline").
        """
        if strategy.kind is BaselineKind.ALIAS:
            return self._alias_holder(name, strategy.name or "")
        if strategy.kind is BaselineKind.STAGE:
            return self._in_stage(name, strategy.name or "")
        if strategy.kind is BaselineKind.VERSION:
            number = str(strategy.version_number)
            try:
                held = self._call(
                    f"read version {number} of model {name!r}",
                    lambda: self._client.get_model_version(name, number),
                )
            except _NotFoundError:
                raise BaselineNotFoundError(model_name=name, strategy=str(strategy)) from None
            if not _usable(held):
                raise BaselineNotFoundError(
                    model_name=name,
                    strategy=str(strategy),
                    detail=f"version {number} is not usable: its registration failed or is pending",
                )
            return self._version(held)
        if strategy.kind is BaselineKind.TAG:
            tagged = self._tagged(name, strategy.tag_key or "", strategy.tag_value or "", limit=1)
            return tagged[0] if tagged else None
        found = self._search(
            f"find the latest version of model {name!r}",
            self._name_filter(name),
            limit=1,
            name=name,
        )
        return found[0] if found else None

    def _alias_holder(self, name: str, alias: str) -> ModelVersion | None:
        try:
            held = self._call(
                f"read alias {alias!r} of model {name!r}",
                lambda: self._client.get_model_version_by_alias(name, alias),
            )
        except (_NotFoundError, _InvalidError):
            # No such model, or no such alias (MLflow says INVALID_PARAMETER_VALUE for that).
            return None
        return self._version(held) if _usable(held) else None

    def _in_stage(self, name: str, stage: str) -> ModelVersion | None:
        # get_latest_versions is deprecated (and warns); a search with the stage compared
        # client-side reads the same thing, newest first, and stops at the first in the stage.
        if self._unity_catalog:
            raise unsupported_strategy(BaselineStrategy.stage(stage), "Unity Catalog")
        wanted = stage.casefold()
        found = self._search(
            f"find the latest version of model {name!r} in stage {stage!r}",
            self._name_filter(name),
            limit=1,
            keep=lambda held: _usable(held) and str(held.current_stage or "").casefold() == wanted,
        )
        return found[0] if found else None

    def set_alias(self, version: ModelVersion, alias: str) -> None:
        """Point the registered-model alias `alias` at `version` (MLflow moves it).

        Raises:
            RegistryError: MLflow failed, or the version does not exist.
        """
        number = str(version.version)
        self._call(
            f"point alias {alias!r} at version {version}",
            functools.partial(self._client.set_registered_model_alias, version.name, alias, number),
        )

    def find_by_run(self, name: str, run_id: str) -> ModelVersion | None:
        """Return the highest usable version of `name` registered from `run_id`, or None.

        A version whose registration failed does not count (the run is registered again). A
        version still pending is waited for, within a bound: it counts once it is ready.

        Raises:
            RegistryError: MLflow failed, or a version of this run stayed pending.
        """
        if not _RUN_ID.match(run_id):
            return None  # not an id MLflow could have given a run
        what = f"find the version of model {name!r} registered from run {run_id!r}"
        return self._settled_by_run(what, name, run_id, retry=True)

    def find_by_logged_model(self, name: str, run_id: str, model_id: str) -> ModelVersion | None:
        """Return the highest usable version of `name` registered from logged model `model_id`.

        Like `find_by_run`, but only a version whose source is ``models:/<model_id>`` (or whose
        ``model_id`` is it) counts: another model logged by the same run is another model.

        Raises:
            RegistryError: MLflow failed, or a version of this model stayed pending.
        """
        if not _RUN_ID.match(run_id):
            return None  # not an id MLflow could have given a run
        what = f"find the version of model {name!r} registered from logged model {model_id!r}"
        return self._settled_by_run(what, name, run_id, retry=True, model_id=model_id)

    def logged_model_of(self, run: RunRecord, path: str) -> str | None:
        """Return the id of the logged model `path` names, as `register` picks it, or None.

        No request when the run logged no model (or `path` is a file or a folder's path).

        Raises:
            RegistryError: MLflow failed.
        """
        held = self._run_of(run)
        if not getattr(getattr(held, "outputs", None), "model_outputs", None):
            return None
        return self._logged_model_id(attrs.evolve(run, handle=held), path.strip("/"))

    def _settled_by_run(
        self, what: str, name: str, run_id: str, *, retry: bool, model_id: str | None = None
    ) -> ModelVersion | None:
        """Return the highest version of a run that did not fail, once it is no longer pending."""
        found = self._search_held(
            what,
            f"{self._name_filter(name)} AND run_id = '{run_id}'",
            limit=1,
            keep=lambda held: (
                str(held.status) != _FAILED and (model_id is None or _of_logged(held, model_id))
            ),
            retry=retry,
            name=name,
            cheap=lambda held: str(held.run_id or "") == run_id,
        )
        if not found:
            return None
        held = found[0]
        if str(held.status) == _PENDING:
            held = self._wait_until_settled(held)
        return self._version(held) if _usable(held) else None

    def _wait_until_settled(self, held: Any) -> Any:
        # A concurrent registration from this run (or our own lost answer) is being copied:
        # registering again would make a second version, so wait for it, within a bound.
        name, number = str(held.name), str(held.version)
        what = f"wait for version {number} of model {name!r} to finish registering"
        for attempt in retrying(_PENDING_WAIT):
            with attempt:
                held = self._call(what, lambda: self._client.get_model_version(name, number))
                if str(held.status) == _PENDING:
                    raise TransientRegistryError(
                        f"version {number} of model {name!r} is still {_PENDING}"
                    )
                return held
        raise AssertionError("unreachable: retrying() yields until success or raises")

    def find_tagged(self, name: str, key: str, value: str) -> Sequence[ModelVersion]:
        """Return every version of `name` whose tag `key` is `value`, highest version first.

        Raises:
            RegistryError: MLflow failed.
        """
        return self._tagged(name, key, value, limit=None)

    def _tagged(self, name: str, key: str, value: str, *, limit: int | None) -> list[ModelVersion]:
        quoted = _quote(value)
        if quoted is None or "`" in key or self._unity_catalog:
            return self._tagged_by_scan(name, key, value, limit=limit)
        filter_string = f"{self._name_filter(name)} AND tags.`{key}` = {quoted}"
        return self._search_all(
            f"find the versions of model {name!r} tagged {key}={value}",
            filter_string,
            limit=limit,
        )

    def _search_all(
        self, what: str, filter_string: str, *, limit: int | None
    ) -> list[ModelVersion]:
        return self._search(what, filter_string, limit=limit)

    def _tagged_by_scan(
        self, name: str, key: str, value: str, *, limit: int | None
    ) -> list[ModelVersion]:
        # MLflow's filter grammar cannot quote this key or value: read the versions, newest
        # first, a page at a time, and stop as soon as enough are found.
        return self._search(
            f"list the versions of model {name!r}",
            self._name_filter(name),
            limit=limit,
            keep=lambda held: _usable(held) and (held.tags or {}).get(key) == value,
            name=name,
        )

    def register(self, request: RegistrationRequest) -> ModelVersion:
        """Register a new version from the request's run (or from a local file or folder).

        A logged model of the run (MLflow 3: `model_path` is its name, or the request names its
        ``model_id``) is registered as ``mlflow.register_model`` registers it: source
        ``models:/<model_id>``, with ``model_id``, so that ``models:/<name>/<version>`` loads
        it; of several logged models of that name, the one at the largest step. Anything else
        is registered as ``runs:/<run id>/<model path>`` (any file or folder works; no MLmodel
        file is needed). With Unity Catalog, a model without a signature is refused first. The
        registered model is created when missing. Tags are, in
        order of precedence: the request's tags, then the metadata MLflow has no field for
        (``framework``, ``framework_version``, ``datasets`` comma-joined,
        ``sample_input_dataset``, ``sample_output_dataset``, ``cpu_cores``, ``memory_gb``),
        then the request's properties as they are.

        With no run (local mode), a run is made in the experiment `LOCAL_EXPERIMENT`: the file,
        or the folder's contents, logged into its artifact folder `LOCAL_FOLDER` (the version's
        source, so that ``models:/<name>/<version>`` resolves it), and the request's numeric
        metrics as its metrics (a list as a series), so the version can serve as a baseline
        later.

        A registration retried after a transient failure first looks for a version of this
        name from this run, so a model is never registered twice.

        Raises:
            RegistryError: MLflow failed; or, with Unity Catalog, the model has no signature.
        """
        model_id: str | None = None
        if request.run is None:
            run_id, model_path = self._log_local_run(request)
            experiment_name: str | None = LOCAL_EXPERIMENT
        else:
            run_id, model_path = request.run.run_id, request.model_path.strip("/")
            experiment_name = request.run.experiment_name
            model_id = request.model_id or self._logged_model_id(request.run, model_path)
        if self._unity_catalog:
            self._require_signature(run_id, model_path, model_id)
        self._ensure_registered_model(request.name)
        tags = self._version_tags(request)
        # A logged model is registered as mlflow.register_model does: its own URI and id, so
        # that models:/<name>/<version> loads it and the version links back to it.
        source = f"models:/{model_id}" if model_id else f"runs:/{run_id}/{model_path}"
        what = f"register model {request.name!r} from {source}"

        def find_earlier() -> ModelVersion | None:
            # The failed attempt may have registered it before the answer was lost.
            earlier = self._settled_by_run(
                what,
                request.name,
                run_id,
                retry=False,  # register_once retries; no retries within a retry
            )
            return (
                None if earlier is None else attrs.evolve(earlier, experiment_name=experiment_name)
            )

        def register() -> ModelVersion:
            with _http_retries_off.forced(), self._resolving_logged_models(model_id):
                held = self._once(
                    what,
                    lambda: self._client.create_model_version(
                        request.name,
                        source=source,
                        run_id=run_id,
                        tags=tags,
                        description=request.description,
                        model_id=model_id,
                    ),
                )
            return self._version(held, experiment_name)

        return register_once(self._retry, register=register, find_earlier=find_earlier)

    def _require_signature(self, run_id: str, model_path: str, model_id: str | None) -> None:
        """Refuse, before registering, a model Unity Catalog would refuse: one with no signature.

        Raises:
            RegistryError: The model has no ``MLmodel`` file, or no signature with outputs.
        """
        import tempfile  # noqa: PLC0415

        from mlflow.models import Model  # noqa: PLC0415

        shown = f"models:/{model_id}" if model_id else f"runs:/{run_id}/{model_path}"
        unreadable: tuple[type[Exception], ...] = (RegistryError, *self._sdk_errors)
        with tempfile.TemporaryDirectory() as folder:
            try:
                if model_id:
                    location = self._call(
                        f"read logged model {model_id!r}",
                        lambda: self._client.get_logged_model(model_id),
                    ).artifact_location
                    repository = self._repository(str(location))
                    path = repository.download_artifacts("MLmodel", folder)
                else:
                    path = self._client.download_artifacts(run_id, f"{model_path}/MLmodel", folder)
                model = Model.load(path)
            except unreadable as exc:
                raise RegistryError(
                    f"{shown} has no readable MLmodel file, and Unity Catalog registers MLflow "
                    f"models only (log it with mlflow.<flavor>.log_model): {exc}"
                ) from exc
        signature = model.signature
        if signature is None or signature.outputs is None:
            raise RegistryError(
                f"{shown} has no signature with inputs and outputs, and Unity Catalog refuses "
                "such a model: log it with signature= or input_example= (nothing registered)"
            )

    @contextlib.contextmanager
    def _resolving_logged_models(self, model_id: str | None) -> Iterator[None]:
        """Within the block, MLflow's global tracking URI is this backend's, for a database store.

        MLflow's database registry store resolves a ``models:/<model_id>`` source with a new
        ``MlflowClient()``, that is on the *global* tracking URI, not on ours (MLflow 3.17,
        ``SqlAlchemyStore.create_model_version``). A server resolves it on its own side.
        """
        registry = self.registry_uri or os.environ.get("MLFLOW_REGISTRY_URI") or self.tracking_uri
        if model_id is None or _scheme(registry) not in _DATABASE_SCHEMES:
            yield
            return
        from mlflow.tracking._tracking_service import utils as sdk_utils  # noqa: PLC0415

        utils: Any = sdk_utils  # typed loosely: its annotations refuse None, which it takes

        # Not MLflow's own _use_tracking_uri: restoring "no URI set" unsets the user's
        # MLFLOW_TRACKING_URI. Both the global and the variable are put back as they were.
        saved_global = utils._tracking_uri  # noqa: SLF001 - MLflow has no getter for "unset"
        saved_variable = os.environ.get(_TRACKING_VARIABLE)
        utils.set_tracking_uri(self.tracking_uri)
        try:
            yield
        finally:
            utils.set_tracking_uri(saved_global)
            if saved_variable is None:
                os.environ.pop(_TRACKING_VARIABLE, None)
            else:
                os.environ[_TRACKING_VARIABLE] = saved_variable

    def _ensure_registered_model(self, name: str) -> None:
        try:
            self._call(
                f"read registered model {name!r}",
                lambda: self._client.get_registered_model(name),
            )
        except _NotFoundError:
            # Another process may create it between our look and our create: that is fine.
            with contextlib.suppress(_AlreadyExistsError):
                self._call(
                    f"create registered model {name!r}",
                    lambda: self._client.create_registered_model(name),
                )

    @staticmethod
    def _version_tags(request: RegistrationRequest) -> dict[str, str]:
        metadata: dict[str, str] = {}
        if request.framework is not None:
            metadata[TAG_FRAMEWORK] = request.framework.value
        if request.framework_version is not None:
            metadata[TAG_FRAMEWORK_VERSION] = request.framework_version
        if request.datasets:
            metadata[TAG_DATASETS] = ",".join(request.datasets)
        if request.sample_input_dataset is not None:
            metadata[TAG_SAMPLE_INPUT] = request.sample_input_dataset
        if request.sample_output_dataset is not None:
            metadata[TAG_SAMPLE_OUTPUT] = request.sample_output_dataset
        if request.cpu_cores is not None:
            metadata[TAG_CPU_CORES] = format(request.cpu_cores, "g")
        if request.memory_gb is not None:
            metadata[TAG_MEMORY_GB] = format(request.memory_gb, "g")
        return {**request.properties, **metadata, **request.tags}

    def _log_local_run(self, request: RegistrationRequest) -> tuple[str, str]:
        from mlflow.entities import Metric  # noqa: PLC0415

        local = Path(request.model_path)
        experiment_id = self._local_experiment_id()
        run = self._call(
            f"create a run for local model {request.name!r}",
            lambda: self._client.create_run(
                experiment_id,
                run_name=f"local-{request.name}",
                tags={"aml_promotion.model_name": request.name},
            ),
        )
        run_id = str(run.info.run_id)
        # Always a folder: MLflow resolves ``models:/<name>/<version>`` only for a folder; for a
        # version made from a single file it downloads nothing (MLflow 3.17, verified).
        if local.is_dir():
            self._call(
                f"log the model folder {local.name!r}",
                lambda: self._client.log_artifacts(run_id, str(local), artifact_path=LOCAL_FOLDER),
            )
        else:
            self._call(
                f"log the model file {local.name!r}",
                lambda: self._client.log_artifact(run_id, str(local), artifact_path=LOCAL_FOLDER),
            )
        timestamp = int(run.info.start_time or 0)
        metrics = [
            Metric(key=key, value=float(value), timestamp=timestamp, step=step)
            for key, raw in request.metrics.items()
            for step, value in enumerate(raw if isinstance(raw, list) else [raw])
            if is_usable_number(value)
        ]
        if metrics:
            self._call(
                "log the local model's metrics",
                lambda: self._client.log_batch(run_id, metrics=metrics),
            )
        self._call(
            f"finish run {run_id!r}",
            lambda: self._client.set_terminated(run_id, "FINISHED"),
        )
        return run_id, LOCAL_FOLDER

    def _local_experiment_id(self) -> str:
        for _ in range(2):
            experiment = self._call(
                f"read experiment {LOCAL_EXPERIMENT!r}",
                lambda: self._client.get_experiment_by_name(LOCAL_EXPERIMENT),
            )
            if experiment is not None:
                return str(experiment.experiment_id)
            try:
                return str(
                    self._call(
                        f"create experiment {LOCAL_EXPERIMENT!r}",
                        lambda: self._client.create_experiment(LOCAL_EXPERIMENT),
                    )
                )
            except _AlreadyExistsError:
                continue  # created by another process meanwhile: read it again
        raise RegistryError(f"MLflow failed to create or read experiment {LOCAL_EXPERIMENT!r}")

    def set_tags(self, version: ModelVersion, tags: Mapping[str, str]) -> None:
        """Set (add or overwrite) tags on a version, one request per tag.

        Raises:
            RegistryError: MLflow failed, or the version does not exist.
        """
        number = str(version.version)
        for key, value in tags.items():
            self._call(
                f"tag version {version}",
                functools.partial(
                    self._client.set_model_version_tag, version.name, number, key, value
                ),
            )

    def remove_tags(self, version: ModelVersion, keys: Collection[str]) -> None:
        """Remove tags from a version (a key it does not have is fine), one request per key.

        Raises:
            RegistryError: MLflow failed, or the version does not exist.
        """
        number = str(version.version)
        for key in keys:
            self._call(
                f"untag version {version}",
                functools.partial(self._client.delete_model_version_tag, version.name, number, key),
            )
