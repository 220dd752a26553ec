"""The Azure ML backend for SDK v2 (azure-ai-ml): jobs, the v2 model registry, MLflow metrics.

>>> from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # doctest: +SKIP
>>> backend = AzureMLV2Backend.from_config()                        # doctest: +SKIP

In Azure ML SDK v2 a training run is a **job**; its metrics and files are read through the
workspace's MLflow tracking endpoint (the ``azureml-mlflow`` plugin), and a model is registered
from the job's output path (``azureml://jobs/<job>/outputs/artifacts/paths/<path>``) with
``ml_client.models.create_or_update``.

- **Candidate.** ``run_id`` is the job's name. A pipeline job resolves to its child step named
  ``pipeline_child_run_name`` (the node name or the display name; exactly one must match); a
  sweep job to its best trial (``best_child_run_id``), else to the best completed trial by the
  sweep's primary metric and goal.
- **Metrics.** One MLflow ``runs/get`` returns the latest value of every metric; the history of a
  metric is read (one request) only when a rule's aggregate needs the whole series.
- **Registry.** The latest version in one request (``label="latest"``); ``tag:``, ``version:``
  and the v2 model ``stage`` (``stage:Production``); archived versions are never baselines (the
  service lists active versions only). Aliases are MLflow's: asking for one is a settings error.
- **Our retries, not the SDKs'.** azure-core and MLflow retry 5xx and 429 on their own; while an
  adapter call is in flight both are switched off, and the adapter retries under its
  `RetryPolicy`. A registration is never sent again blindly: the version is first looked up
  by job (a lost answer may hide a committed registration).
"""

from __future__ import annotations

import contextlib
import functools
import http
import http.client
import logging
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from aml_promotion._domain.metrics import is_usable_number
from aml_promotion._domain.policy import BaselineKind, BaselineStrategy
from aml_promotion._retry import RetryPolicy, retrying
from aml_promotion.adapters._azure_credentials import (
    AzureCloud,
    ServicePrincipalCredentials,
    parse_credentials,
)
from aml_promotion.adapters._errors import exception_chain, http_response, retry_after
from aml_promotion.adapters._registration import register_once
from aml_promotion.adapters._sdk_retries import SdkRetrySwitch
from aml_promotion.adapters.azureml import WorkspaceConfig, find_workspace_config
from aml_promotion.adapters.mlflow import _http_retries_off
from aml_promotion.exceptions import (
    BackendNotInstalledError,
    PromotionError,
    RegistryError,
    RunNotFoundError,
    TransientRegistryError,
    UsageError,
)
from aml_promotion.ports import (
    Backend,
    MetricValues,
    ModelRegistry,
    ModelVersion,
    RegistrationRequest,
    RunRecord,
    RunStatus,
    RunStore,
    unsupported_strategy,
)

__all__ = ["AzureMLV2Backend"]

logger = logging.getLogger("aml_promotion")

_T = TypeVar("_T")

_EXTRA = "azureml-v2"


def _require_sdk() -> None:
    try:
        import azure.ai.ml  # noqa: F401, PLC0415 - imported lazily, only for this backend
        import azureml.mlflow  # noqa: F401, PLC0415
        import mlflow  # noqa: F401, PLC0415
    except ImportError as exc:
        raise BackendNotInstalledError("azureml-v2", extra=_EXTRA) from exc


# --- The SDKs' own retries, switched off --------------------------------------------------------


class _SdkRetries:
    """Switches azure-core's own retries off while adapter calls are in flight.

    azure-core's `RetryPolicy` retries 5xx and 429 on GET and PUT (the first retry at once,
    Retry-After honoured) and reads its counts per request from ``configure_retries``; there is
    no per-call setting that reaches every request the SDKs make (azureml-mlflow builds its own
    pipelines), so the count is switched process-wide, reference-counted (see `SdkRetrySwitch`).
    MLflow's HTTP retries are switched by the MLflow backend's own switch, the one owner of
    ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` in the process.
    """

    def __init__(self) -> None:
        self._installed = False
        self._switch = SdkRetrySwitch(self._switch_off, self._restore)

    @property
    def active(self) -> bool:
        """Whether azure-core's retries are off right now."""
        return self._switch.active

    def off(self) -> contextlib.AbstractContextManager[None]:
        """Within the block, azure-core does not retry."""
        return self._switch.off()

    def _switch_off(self) -> None:
        if not self._installed:
            self._install()
            self._installed = True

    def _restore(self) -> None:
        """Nothing to put back: the installed hook reads `active` at each request."""

    def _install(self) -> None:
        from azure.core.pipeline.policies import _retry  # noqa: PLC0415 - the SDK is lazy

        switch = self
        base: Any = _retry.RetryPolicyBase
        configure = base.configure_retries

        def configure_retries(self: Any, options: dict[str, Any]) -> dict[str, Any]:
            settings: dict[str, Any] = configure(self, options)
            if switch.active:
                settings["total"] = 0
            return settings

        base.configure_retries = configure_retries


_SDK_RETRIES = _SdkRetries()


# --- SDK errors, translated ---------------------------------------------------------------------

_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def _status_of(error: BaseException) -> int | None:
    response = http_response(error)
    if response is not None:
        return int(response.status_code)
    for link in exception_chain(error):
        for attribute in ("status_code", "status"):
            status = getattr(link, attribute, None)
            if isinstance(status, int) and 100 <= status < 600:  # noqa: PLR2004 - HTTP statuses
                return status
        get_status = getattr(link, "get_http_status_code", None)
        if callable(get_status):
            with contextlib.suppress(Exception):
                status = get_status()
                if isinstance(status, int):
                    return status
    return None


def _is_connection_error(error: BaseException) -> bool:
    import requests  # noqa: PLC0415 - a dependency of the SDKs, loaded with them
    from azure.core.exceptions import ServiceRequestError, ServiceResponseError  # noqa: PLC0415

    kinds = (
        requests.ConnectionError,
        requests.Timeout,
        requests.exceptions.RetryError,
        ServiceRequestError,
        ServiceResponseError,
        http.client.HTTPException,
        ConnectionError,
        TimeoutError,
    )
    return any(isinstance(link, kinds) for link in exception_chain(error))


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _translate(error: Exception, what: str) -> RegistryError:
    status = _status_of(error)
    if status is not None:
        reason = _reason(status)
        if status in _TRANSIENT_STATUS or status >= 500:  # noqa: PLR2004 - server errors
            return TransientRegistryError(
                f"{what} failed: HTTP {status} {reason}", retry_after=retry_after(error)
            )
        hint = ""
        if status in (401, 403):
            hint = ": check the credentials, and the principal's role on the workspace"
        return RegistryError(f"{what} failed: HTTP {status} {reason}{hint}")
    if _is_connection_error(error):
        return TransientRegistryError(f"{what} failed: the connection to Azure ML failed")
    return RegistryError(f"{what} failed: {type(error).__name__}")


def _is_not_found(error: BaseException) -> bool:
    from azure.ai.ml.exceptions import ValidationErrorType  # noqa: PLC0415
    from azure.core.exceptions import ResourceNotFoundError  # noqa: PLC0415

    for link in exception_chain(error):
        if isinstance(link, ResourceNotFoundError) or _status_of(link) == 404:  # noqa: PLR2004
            return True
        # label="latest" on a model without (active) versions: the SDK's own "not found".
        if getattr(link, "error_type", None) is ValidationErrorType.RESOURCE_NOT_FOUND:
            return True
    return False


def _version_taken(error: BaseException) -> bool:
    """Whether a PUT met a version that another client registered at the same number.

    The service refuses to change a version's path ("Asset paths cannot be updated."), so a
    version number two registrations both read as ``nextVersion`` fails the second one.
    """
    for link in exception_chain(error):
        if _status_of(link) == 409 or "Asset paths cannot be updated" in str(link):  # noqa: PLR2004
            return True
    return False


class _Gateway:
    """Every SDK call passes here: the SDKs' retries off, ours on, their errors translated."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def once(self, what: str, call: Callable[[], _T]) -> _T:
        """Make `call` once; translate what it raises."""
        with _SDK_RETRIES.off(), _http_retries_off():
            try:
                return call()
            except PromotionError:
                raise
            except Exception as exc:
                raise _translate(exc, what) from exc

    def call(self, what: str, call: Callable[[], _T]) -> _T:
        """Make `call`, retrying transient failures under the policy."""
        for attempt in retrying(self.policy):
            with attempt:
                return self.once(what, call)
        raise AssertionError  # pragma: no cover - retrying() returns or raises


# --- Values -------------------------------------------------------------------------------------

_ACTIVE_STATES = frozenset(
    {
        "notstarted",
        "queued",
        "preparing",
        "provisioning",
        "starting",
        "running",
        "finalizing",
        "cancelrequested",
    }
)


# What azure-ai-ml calls a job it read from run history (a pipeline's child step).
_CHILD_JOB = "base"


def _status(text: str | None) -> RunStatus:
    word = (text or "").replace(" ", "").lower()
    if word == "completed":
        return RunStatus.COMPLETED
    if word == "failed":
        return RunStatus.FAILED
    if word in ("canceled", "cancelled"):
        return RunStatus.CANCELED
    if word in _ACTIVE_STATES:
        return RunStatus.RUNNING
    return RunStatus.OTHER


def _status_text(job: Any) -> str:
    status = getattr(job, "status", None)
    return str(getattr(status, "value", status) or "Unknown")


def _job_output_uri(job_name: str, path: str, *, folder: bool) -> str:
    return f"azureml://jobs/{job_name}/outputs/artifacts/paths/{path}{'/' if folder else ''}"


def _version(model: Any) -> ModelVersion:
    name = str(model.name)
    return ModelVersion(
        name=name,
        version=int(model.version),
        id=f"{name}:{model.version}",
        run_id=getattr(model, "job_name", None) or None,
        tags={str(k): str(v) for k, v in (model.tags or {}).items()},
        source=str(model.path) if model.path else None,
    )


# --- The ports ----------------------------------------------------------------------------------


class _Runs:
    """`RunStore` over azure-ai-ml jobs, with metrics and files through the workspace's MLflow."""

    def __init__(self, backend: AzureMLV2Backend) -> None:
        self._backend = backend
        self._gateway = backend._gateway  # noqa: SLF001 - the backend's own parts
        # A finished job's files do not change: registering reads the listing made for the
        # model-file check again instead of asking twice.
        self._files: dict[str, list[str]] = {}
        # The MLflow run read to list a job's files carries its metrics too: the next metrics
        # read of that job takes it (once) instead of asking again.
        self._fresh_runs: dict[str, Any] = {}

    @property
    def _jobs(self) -> Any:
        return self._backend.ml_client.jobs

    def get_run(
        self,
        *,
        experiment_name: str | None,
        run_id: str | None,
        pipeline_step: str | None = None,
    ) -> RunRecord:
        """Return the job, resolved to a pipeline's step or a sweep's best trial.

        Raises:
            RunNotFoundError: No such job, another experiment, no current job, or no (or
                several) matching steps.
            RegistryError: Azure ML failed.
        """
        if run_id is None:
            msg = (
                "the Azure ML (SDK v2) backend needs the job's name (run_id): inside a job, "
                "pass the MLFLOW_RUN_ID that Azure ML sets"
            )
            raise RunNotFoundError(msg, experiment_name=experiment_name)
        job = self._load(run_id)
        kind = str(getattr(job, "type", "") or "").lower()
        experiment = getattr(job, "experiment_name", None)
        if kind == _CHILD_JOB:
            experiment = self._child_experiment(job, experiment_name)
        elif experiment_name is not None and experiment != experiment_name:
            raise RunNotFoundError(
                f"job {run_id!r} belongs to experiment {experiment!r}, not {experiment_name!r}",
                run_id=run_id,
                experiment_name=experiment_name,
            )
        if kind == "pipeline" and pipeline_step is not None:
            child = self._step(job, pipeline_step)
            return self._record(child, experiment)
        if kind == "sweep":
            return self._record(self._best_trial(job), experiment)
        return self._record(job, experiment)

    def get_metrics(
        self, run: RunRecord, names: Collection[str], *, series: Collection[str] = ()
    ) -> MetricValues:
        """Return the metrics `names`: their latest values in one request, series on demand.

        The latest value of every metric comes with one MLflow ``runs/get``; one
        ``metrics/get-history`` request is made per name in `series` that the job logged.
        """
        client = self._backend._mlflow()  # noqa: SLF001
        held = self._fresh_runs.pop(run.run_id, None) or self._gateway.call(
            f"reading the metrics of job {run.run_id!r}",
            lambda: client.get_run(run.run_id),
        )
        logged: Mapping[str, float] = held.data.metrics
        values: dict[str, object] = {name: logged[name] for name in names if name in logged}
        for name in series:
            if name in values:
                history = self._gateway.call(
                    f"reading the history of metric {name!r} of job {run.run_id!r}",
                    functools.partial(client.get_metric_history, run.run_id, name),
                )
                ordered = sorted(history, key=lambda metric: (metric.step, metric.timestamp))
                values[name] = [metric.value for metric in ordered]
        return MetricValues(values=values, available=frozenset(logged))

    def list_files(self, run: RunRecord) -> Sequence[str]:
        """Return the job's files (its MLflow artifacts), in one request.

        azureml-mlflow lists every file of a job with one request and filters by folder on the
        client; that list is read once here rather than once per folder.
        """
        client = self._backend._mlflow()  # noqa: SLF001

        def listing() -> list[str]:
            from mlflow.store.artifact.artifact_repository_registry import (  # noqa: PLC0415
                get_artifact_repository,
            )

            held = client.get_run(run.run_id)
            self._fresh_runs[run.run_id] = held
            repository: Any = get_artifact_repository(held.info.artifact_uri)
            files = getattr(repository, "artifacts", None)
            if files is not None and hasattr(files, "get_file_paths"):
                # A run's artifact URI names its root: the paths are relative to the run.
                return [str(p) for p in files.get_file_paths()]
            return _walk(repository)  # pragma: no cover - another artifact store

        if run.run_id in self._files:
            return list(self._files[run.run_id])
        paths = self._gateway.call(f"listing the files of job {run.run_id!r}", listing)
        files = sorted({p.replace("\\", "/") for p in paths})
        if run.status is RunStatus.COMPLETED:
            self._files[run.run_id] = files
        return files

    # --- helpers ------------------------------------------------------------------------------

    def _record(self, job: Any, experiment: str | None) -> RunRecord:
        text = _status_text(job)
        return RunRecord(
            run_id=str(job.name),
            experiment_name=experiment,
            status=_status(text),
            status_text=text,
            handle=job,
        )

    def _load(self, name: str) -> Any:
        def load() -> Any:
            try:
                return self._jobs.get(name)
            except Exception as exc:
                if _is_not_found(exc):
                    raise RunNotFoundError(
                        f"no job named {name!r} in workspace "
                        f"{self._backend.ml_client.workspace_name!r}",
                        run_id=name,
                    ) from exc
                raise

        return self._gateway.call(f"reading job {name!r}", load)

    def _child_experiment(self, job: Any, experiment_name: str | None) -> str | None:
        """Check a pipeline child's experiment, which the SDK gives by id, against a name.

        ``jobs.get`` reads a pipeline's child from run history, where the SDK puts the
        experiment's id in ``experiment_name``; the name is looked up through MLflow (one
        request), and only when there is one to check.
        """
        if experiment_name is None:
            return None
        client = self._backend._mlflow()  # noqa: SLF001
        found = self._gateway.call(
            f"reading experiment {experiment_name!r}",
            functools.partial(client.get_experiment_by_name, experiment_name),
        )
        if found is None or str(found.experiment_id) != str(job.experiment_name):
            raise RunNotFoundError(
                f"job {job.name!r} does not belong to experiment {experiment_name!r}",
                run_id=str(job.name),
                experiment_name=experiment_name,
            )
        return experiment_name

    def _children(self, parent: Any) -> list[Any]:
        return self._gateway.call(
            f"listing the child jobs of {parent.name!r}",
            lambda: list(self._jobs.list(parent_job_name=parent.name)),
        )

    def _step(self, pipeline: Any, step: str) -> Any:
        children = self._children(pipeline)
        names = sorted({str(c.display_name) for c in children if c.display_name})
        matches = [c for c in children if step in (c.name, c.display_name)]
        if len(matches) != 1:
            found = "no step" if not matches else f"{len(matches)} steps"
            raise RunNotFoundError(
                f"pipeline job {pipeline.name!r} has {found} named {step!r} "
                f"(pipeline_child_run_name); its steps are: {', '.join(names) or 'none'}",
                run_id=str(pipeline.name),
                experiment_name=getattr(pipeline, "experiment_name", None),
                candidates=names,
            )
        return matches[0]

    def _best_trial(self, sweep: Any) -> Any:
        """Return a sweep's best trial: the one the service recorded, else the best completed."""
        properties = dict(getattr(sweep, "properties", None) or {})
        best = properties.get("best_child_run_id")
        if best:
            return self._load(str(best))
        objective = getattr(sweep, "objective", None)
        metric = getattr(objective, "primary_metric", None)
        goal = str(getattr(objective, "goal", "maximize") or "maximize").lower()
        if not metric:
            raise RunNotFoundError(
                f"sweep job {sweep.name!r} records neither its best trial nor its primary metric",
                run_id=str(sweep.name),
            )
        trials = [
            t for t in self._children(sweep) if _status(_status_text(t)) is RunStatus.COMPLETED
        ]
        pick = max if goal == "maximize" else min
        scored: list[tuple[float, Any]] = []
        for trial in trials:
            record = RunRecord(run_id=str(trial.name))
            value: Any = self.get_metrics(record, [metric]).values.get(metric)
            if is_usable_number(value):
                scored.append((float(value), trial))
        if not scored:
            raise RunNotFoundError(
                f"sweep job {sweep.name!r} has no best trial: none of its {len(trials)} "
                f"completed trials logged its primary metric {metric!r}",
                run_id=str(sweep.name),
                candidates=[str(t.name) for t in trials],
            )
        return pick(scored, key=lambda pair: pair[0])[1]


def _walk(repository: Any) -> list[str]:  # pragma: no cover - another artifact store
    files: list[str] = []
    folders: list[str | None] = [None]
    while folders:
        folder = folders.pop()
        for entry in repository.list_artifacts(folder):
            (folders if entry.is_dir else files).append(str(entry.path))
    return files


class _Registry:
    """`ModelRegistry` over the v2 model registry (``ml_client.models``)."""

    def __init__(self, backend: AzureMLV2Backend) -> None:
        self._backend = backend
        self._gateway = backend._gateway  # noqa: SLF001 - the backend's own parts

    @property
    def _models(self) -> Any:
        return self._backend.ml_client.models

    def _list(self, what: str, name: str, stage: str | None = None) -> list[ModelVersion]:
        """List the active versions of `name` (archived ones are not listed), highest first."""

        def listing() -> list[ModelVersion]:
            try:
                found = list(self._models.list(name=name, stage=stage))
            except Exception as exc:
                if _is_not_found(exc):
                    return []
                raise
            return sorted((_version(m) for m in found), key=lambda v: v.version, reverse=True)

        return self._gateway.call(what, listing)

    def _get(self, name: str, **which: str) -> ModelVersion | None:
        def get() -> ModelVersion | None:
            try:
                return _version(self._models.get(name, **which))
            except Exception as exc:
                if _is_not_found(exc):
                    return None
                raise

        return self._gateway.call(f"reading model {name!r} ({which})", get)

    def find_baseline(self, name: str, strategy: BaselineStrategy) -> ModelVersion | None:
        """Return the version `strategy` picks, or None; one request.

        Raises:
            SettingsError: An alias strategy: the v2 registry has stages, not aliases.
        """
        if strategy.kind is BaselineKind.ALIAS:
            raise unsupported_strategy(strategy, "Azure ML (SDK v2)")
        if strategy.kind is BaselineKind.VERSION:
            number = strategy.version_number
            if number is None or number < 1:
                return None
            found = self._get(name, version=str(number))
            if found is not None and self._archived(name, found.version):
                return None
            return found
        if strategy.kind is BaselineKind.TAG:
            tagged = self.find_tagged(name, strategy.tag_key or "", strategy.tag_value or "")
            return tagged[0] if tagged else None
        if strategy.kind is BaselineKind.STAGE:
            staged = self._list(
                f"finding the versions of model {name!r} in stage {strategy.name!r}",
                name,
                stage=strategy.name,
            )
            return staged[0] if staged else None
        return self._get(name, label="latest")

    def _archived(self, name: str, version: int) -> bool:
        """Whether `version` of `name` is archived: absent from the active versions' list.

        The v2 ``Model`` entity has no archived flag; only the list's view type tells.
        """
        active = self._list(f"listing the active versions of model {name!r}", name)
        return all(v.version != version for v in active)

    def find_by_run(self, name: str, run_id: str) -> ModelVersion | None:
        """Return the highest active version of `name` registered from job `run_id`, or None."""
        found = self._list(f"finding versions of model {name!r} from job {run_id!r}", name)
        matches = [v for v in found if v.run_id == run_id]
        return matches[0] if matches else None

    def find_tagged(self, name: str, key: str, value: str) -> Sequence[ModelVersion]:
        """Return the active versions of `name` whose tag `key` is `value`, highest first."""
        found = self._list(f"finding versions of model {name!r} tagged {key}={value}", name)
        return [v for v in found if v.tags.get(key) == value]

    def register(self, request: RegistrationRequest) -> ModelVersion:
        """Register a version from the job's output path with ``models.create_or_update``.

        The type is ``mlflow_model`` when the path holds an ``MLmodel`` file, else
        ``custom_model``. A transient failure is retried, but never blindly: the version is
        first looked up by job, in case the failed call had been committed.

        Raises:
            UsageError: Local mode (no job): not supported by this backend yet.
            RegistryError: The registration failed.
        """
        if request.run is None:
            msg = (
                "the Azure ML (SDK v2) backend registers models from a job's outputs only: "
                "pass the job's name (run_id), or use --backend azureml for a local file"
            )
            raise UsageError(msg)
        from azure.ai.ml.entities import Model  # noqa: PLC0415 - the SDK is lazy

        run = request.run
        files = self._backend.runs.list_files(run)
        path = request.model_path.strip("/")
        is_folder = any(f.startswith(path + "/") for f in files)
        is_mlflow = is_folder and f"{path}/MLmodel" in files
        decision = {k: v for k, v in request.tags.items() if k.startswith("promotion.")}
        properties = {**decision, **request.properties}
        if request.framework is not None:
            properties.setdefault("framework", request.framework.value)
        if request.framework_version is not None:
            properties.setdefault("framework_version", request.framework_version)

        def model() -> Any:
            # A new entity each attempt: create_or_update writes the version it chose into it.
            return Model(
                name=request.name,
                path=_job_output_uri(run.run_id, path, folder=is_folder),
                type="mlflow_model" if is_mlflow else "custom_model",
                tags=dict(request.tags) or None,
                properties=properties or None,
                description=request.description,
            )

        if request.datasets or request.sample_input_dataset or request.sample_output_dataset:
            logger.warning(
                "the Azure ML (SDK v2) registry has no datasets on a model: datasets, "
                "sample_input_dataset and sample_output_dataset are not registered"
            )

        def find_earlier() -> ModelVersion | None:
            return self._gateway.once(
                f"finding versions of model {request.name!r} from job {run.run_id!r}",
                lambda: self._by_job(request.name, run.run_id),
            )

        what = f"registering model {request.name!r} from job {run.run_id!r}"

        def register() -> ModelVersion:
            try:
                return self._gateway.once(
                    what, lambda: _version(self._models.create_or_update(model()))
                )
            except RegistryError as exc:
                if not _version_taken(exc):
                    raise
                # Another registration took the number the SDK read as nextVersion: ask again.
                msg = f"{what}: its version number was taken by a concurrent registration"
                raise TransientRegistryError(msg) from exc

        return register_once(self._gateway.policy, register=register, find_earlier=find_earlier)

    def _by_job(self, name: str, job: str) -> ModelVersion | None:
        try:
            found = [_version(m) for m in self._models.list(name=name)]
        except Exception as exc:
            if _is_not_found(exc):
                return None
            raise
        matches = sorted((v for v in found if v.run_id == job), key=lambda v: -v.version)
        return matches[0] if matches else None

    def _update_tags(self, version: ModelVersion, change: Callable[[dict[str, str]], None]) -> None:
        def update() -> None:
            # Read, change, write back: a PUT replaces the version's whole tag set.
            model = self._models.get(version.name, version=str(version.version))
            tags = {str(k): str(v) for k, v in (model.tags or {}).items()}
            before = dict(tags)
            change(tags)
            if tags == before:
                return
            model.tags = tags
            self._models.create_or_update(model)

        self._gateway.call(f"updating the tags of model {version}", update)

    def set_tags(self, version: ModelVersion, tags: Mapping[str, str]) -> None:
        """Set tags on a version (read, then write the version back)."""
        self._update_tags(version, lambda held: held.update(tags))

    def remove_tags(self, version: ModelVersion, keys: Collection[str]) -> None:
        """Remove tags from a version; a key it does not have is fine."""

        def drop(held: dict[str, str]) -> None:
            for key in keys:
                held.pop(key, None)

        self._update_tags(version, drop)


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
        _require_sdk()
        self.ml_client = ml_client
        self._gateway = _Gateway(retry or RetryPolicy())
        self._runs = _Runs(self)
        self._registry = _Registry(self)
        self._mlflow_client: Any = None

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
        _require_sdk()
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
        _require_sdk()
        if workspace_name is None or resource_group is None:
            found = find_workspace_config(config)
            target = WorkspaceConfig(
                subscription_id=subscription_id or found.subscription_id,
                resource_group=resource_group or found.resource_group,
                workspace_name=workspace_name or found.workspace_name,
                path=found.path,
            )
        else:
            target = WorkspaceConfig(
                subscription_id=subscription_id or creds.subscription_id,
                resource_group=resource_group,
                workspace_name=workspace_name,
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

    def _mlflow(self) -> Any:
        """Return an MLflow client on the workspace's tracking URI (read once, one request)."""
        if self._mlflow_client is None:
            name = self.ml_client.workspace_name

            def tracking_uri() -> str:
                workspace = self.ml_client.workspaces.get(name)
                uri = workspace.mlflow_tracking_uri
                if not uri:
                    msg = f"workspace {name!r} has no MLflow tracking URI"
                    raise RegistryError(msg)
                return str(uri)

            uri = self._gateway.call(f"reading workspace {name!r}", tracking_uri)
            import mlflow  # noqa: PLC0415
            from mlflow import MlflowClient  # noqa: PLC0415

            # azureml-mlflow's artifact listing takes its connection from MLflow's global
            # tracking URI, not from the client's (see docs/backends-azureml-v2.md).
            mlflow.set_tracking_uri(uri)
            self._mlflow_client = MlflowClient(tracking_uri=uri)
        return self._mlflow_client


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
