"""The Azure ML backend (SDK v1, azureml-core) behind the ports.

>>> from aml_promotion.adapters.azureml import AzureMLBackend  # doctest: +SKIP
>>> backend = AzureMLBackend.from_config()                     # doctest: +SKIP

`AzureMLBackend` wraps an `azureml.core.Workspace`; its constructors cover the ways users get
one: inside a run (`from_run_context`), from a ``config.json`` or the ``aml_arm_config.json``
the aml-workspace action writes (`from_config`), and from the ``AZURE_CREDENTIALS`` secret
(`from_service_principal`).

What it does differently from calling the SDK plainly, and why:

- **Few requests.** A metric is read by name, one request each: never the 1 + N requests of
  ``get_metrics()`` for a run that logged N metrics. Runs are loaded without rehydrating
  pipeline and step runs (which costs 2-3 requests more each), experiments are cached by id,
  and models are listed with ``expand=False`` (one request, not 1 + 2 per model).
- **Our retries, not the SDK's.** The SDK retries in up to three nested layers (one 5xx became 16
  requests and 20-33 s; one 429, ~224 s). While an adapter call is in flight those are switched
  off, process-wide, so one failure is one request; the adapter retries transient failures
  itself (`RetryPolicy`), bounded in attempts and time, honouring Retry-After.
- **No blind re-registration.** A registration that failed transiently may have been committed
  (the plain SDK then registers the run twice); before registering again the adapter looks the
  version up by run.
- **Errors translated.** SDK exceptions become `RunNotFoundError`, `RegistryError`,
  `TransientRegistryError`... with the SDK's exception as ``__cause__``.

Azure ML SDK v1 is past Microsoft's end of support (30 June 2026); for v2 workspaces use the
MLflow backend against the workspace's MLflow tracking URI.
"""

from __future__ import annotations

import contextlib
import functools
import http
import http.client
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from aml_promotion._domain.metrics import is_usable_number
from aml_promotion._domain.policy import BaselineKind, BaselineStrategy, EvaluationData
from aml_promotion._retry import RetryPolicy, retrying
from aml_promotion.adapters._azure import run_status, translate
from aml_promotion.adapters._azure_credentials import (
    AzureCloud,
    ServicePrincipalCredentials,
    parse_credentials,
)
from aml_promotion.adapters._errors import exception_chain, http_response
from aml_promotion.adapters._registration import register_once
from aml_promotion.adapters._sdk_retries import SdkRetrySwitch
from aml_promotion.exceptions import (
    BackendNotInstalledError,
    BaselineNotFoundError,
    CredentialsError,
    ModelFileError,
    PromotionError,
    RegistryError,
    RunNotFoundError,
    SettingsError,
    SettingsProblem,
    UsageError,
)
from aml_promotion.ports import (
    Backend,
    Framework,
    MetricValues,
    ModelRegistry,
    ModelVersion,
    RegistrationRequest,
    RunRecord,
    RunStatus,
    RunStore,
    unsupported_strategy,
)

__all__ = [
    "AzureCloud",
    "AzureMLBackend",
    "ServicePrincipalCredentials",
    "WorkspaceConfig",
    "find_workspace_config",
    "parse_credentials",
]

logger = logging.getLogger("aml_promotion")

_T = TypeVar("_T")

# --- Workspace configuration files ------------------------------------------------------------

_CONFIG_DIRS = (".azureml", "aml_config", "")
# aml_arm_config.json first, wherever it is: the file Azure/aml-workspace writes in CI names the
# workspace this job was given, and a committed config.json (often a developer's own workspace)
# must never redirect a CI promotion. The original action read aml_arm_config.json only.
_CONFIG_FILES = ("aml_arm_config.json", "config.json", "project.json")
_SCOPE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)/?$",
    re.IGNORECASE,
)


@attrs.frozen(kw_only=True)
class WorkspaceConfig:
    """Which workspace to use: what ``config.json`` or ``aml_arm_config.json`` says.

    Attributes:
        subscription_id: The workspace's subscription.
        resource_group: Its resource group.
        workspace_name: Its name.
        path: The file it was read from, if any.
    """

    subscription_id: str
    resource_group: str
    workspace_name: str
    path: Path | None = None

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> WorkspaceConfig:
        """Read a workspace configuration file.

        Two shapes are accepted: ``{"subscription_id", "resource_group", "workspace_name"}``
        (``config.json`` as the portal and ``Workspace.write_config`` give it) and
        ``{"Scope": "/subscriptions/S/resourceGroups/R/providers/.../workspaces/W"}`` (what the
        aml-workspace action writes to ``.azureml/aml_arm_config.json``).

        Raises:
            UsageError: The file cannot be read, is not JSON, or lacks the workspace's keys.
        """
        file = Path(path)
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            msg = f"cannot read the workspace configuration {str(file)!r}: {exc.strerror}"
            raise UsageError(msg) from exc
        except ValueError as exc:
            msg = f"the workspace configuration {str(file)!r} is not valid JSON: {exc}"
            raise UsageError(msg) from exc
        if not isinstance(data, dict):
            msg = f"the workspace configuration {str(file)!r} must be a JSON object"
            raise UsageError(msg)
        scope = data.get("Scope")
        if isinstance(scope, str) and (match := _SCOPE.match(scope.strip())):
            return cls(
                subscription_id=match["sub"],
                resource_group=match["rg"],
                workspace_name=match["ws"],
                path=file,
            )
        keys = ("subscription_id", "resource_group", "workspace_name")
        missing = [k for k in keys if not isinstance(data.get(k), str) or not data[k].strip()]
        if missing:
            msg = (
                f"the workspace configuration {str(file)!r} lacks {', '.join(missing)}: it needs "
                "subscription_id, resource_group and workspace_name (or a workspace 'Scope')"
            )
            raise UsageError(msg)
        return cls(
            subscription_id=data["subscription_id"].strip(),
            resource_group=data["resource_group"].strip(),
            workspace_name=data["workspace_name"].strip(),
            path=file,
        )


def workspace_target(
    config: str | os.PathLike[str] | None,
    *,
    subscription_id: str | None,
    resource_group: str | None,
    workspace_name: str | None,
    principal_subscription: str,
) -> WorkspaceConfig:
    """Return the workspace a service principal signs in to (both Azure ML adapters).

    Named in full (resource group and workspace): those, with the given subscription, else the
    principal's. Otherwise the workspace file found from `config` fills what is not given, its
    subscription giving way only to an explicit one.

    Raises:
        UsageError: The workspace is not named and no configuration file says which.
    """
    if workspace_name is not None and resource_group is not None:
        return WorkspaceConfig(
            subscription_id=subscription_id or principal_subscription,
            resource_group=resource_group,
            workspace_name=workspace_name,
        )
    found = find_workspace_config(config)
    return WorkspaceConfig(
        subscription_id=subscription_id or found.subscription_id,
        resource_group=resource_group or found.resource_group,
        workspace_name=workspace_name or found.workspace_name,
        path=found.path,
    )


def find_workspace_config(start: str | os.PathLike[str] | None = None) -> WorkspaceConfig:
    """Find and read the workspace configuration, as `Workspace.from_config` would find it.

    `start` may be the file itself, or a folder to search from (default: the current
    directory). The search looks for ``aml_arm_config.json`` (what the aml-workspace action
    writes) in ``.azureml/``, ``aml_config/`` and the folder itself, then in each parent folder;
    only when there is none anywhere, for ``config.json``, then ``project.json``, the same way.
    The file used is logged, and so is a ``config.json`` it took precedence over.

    Raises:
        UsageError: No such file was found, or it cannot be used.
    """
    origin = Path(start) if start is not None else Path.cwd()
    if origin.is_file():
        logger.info("workspace configuration from %s (given)", origin)
        return WorkspaceConfig.read(origin)
    found = [
        candidate
        for name in _CONFIG_FILES
        for folder in (origin.resolve(), *origin.resolve().parents)
        for sub in _CONFIG_DIRS
        if (candidate := folder / sub / name).is_file()
    ]
    if found:
        chosen = found[0]
        passed = [str(path) for path in found[1:] if path.name != chosen.name]
        if passed:
            logger.warning(
                "workspace configuration from %s; not from %s (%s, written by Azure/aml-workspace, "
                "takes precedence)",
                chosen,
                ", ".join(passed),
                chosen.name,
            )
        else:
            logger.info("workspace configuration from %s", chosen)
        return WorkspaceConfig.read(chosen)
    msg = (
        f"no workspace configuration (config.json or aml_arm_config.json, in .azureml/ or "
        f"aml_config/) in {str(origin)!r} or its parents: download config.json from the Azure "
        "ML studio, or run the aml-workspace action first"
    )
    raise UsageError(msg)


# --- Loading the SDK ---------------------------------------------------------------------------


def _require_sdk() -> None:
    try:
        import azureml.core  # noqa: F401, PLC0415 - imported lazily, only for this backend
    except ImportError as exc:
        raise BackendNotInstalledError("azureml", extra="azureml") from exc


# --- The SDK's own retries, switched off ---------------------------------------------------------


class _SdkRetries:
    """Switches off the SDK's own retries while at least one adapter call is in flight.

    azureml-core retries in three layers: urllib3 inside msrest's session (3 retries, honouring
    Retry-After), ``ClientBase``'s loop around each call (3 more each, with 1-32 s backoffs), and
    the dataset helpers' own loop (5). They compound: one 503 became 16 requests. Here each layer
    is given zero retries while the switch is on, so one failure is one request and our own
    `RetryPolicy` is the only one. The switch is process-wide (the SDK pages on worker threads,
    which a thread-local switch would miss): see `SdkRetrySwitch`.
    """

    def __init__(self) -> None:
        self._installed = False
        self._saved_default: int | None = None
        self._switch = SdkRetrySwitch(self._switch_off, self._restore)

    @property
    def active(self) -> bool:
        """Whether the SDK's retries are off right now."""
        return self._switch.active

    def off(self) -> contextlib.AbstractContextManager[None]:
        """Within the block, the SDK does not retry."""
        return self._switch.off()

    def _switch_off(self) -> None:
        from azureml._restclient import clientbase  # noqa: PLC0415 - the SDK is lazy

        if not self._installed:
            self._install()
            self._installed = True
        self._saved_default = clientbase.DEFAULT_RETRIES
        # Read at call time by ClientBase._execute_func (model management, uploads).
        clientbase.DEFAULT_RETRIES = 0

    def _restore(self) -> None:
        from azureml._restclient import clientbase  # noqa: PLC0415

        if self._saved_default is not None:
            clientbase.DEFAULT_RETRIES = self._saved_default

    def _install(self) -> None:
        try:
            self._patch_msrest()
            self._patch_datasets()
        except (ImportError, AttributeError) as exc:  # pragma: no cover - another SDK version
            logger.warning(
                "could not switch off azureml-core's own retries (%s): a transient failure may "
                "take longer to surface",
                exc,
            )

    def _patch_msrest(self) -> None:
        from msrest.universal_http import requests as msrest_requests  # noqa: PLC0415
        from urllib3 import Retry  # noqa: PLC0415

        switch = self
        policy: Any = msrest_requests.ClientRetryPolicy
        retries = policy.retries
        # ClientBase's loop reads `retries` from the client's msrest policy at each call.
        policy.retries = property(
            lambda self: 0 if switch.active else retries.fget(self), retries.fset
        )
        sender: Any = msrest_requests.RequestsHTTPSender
        configure = sender._configure_send  # noqa: SLF001 - the one hook msrest offers
        no_retry = Retry(total=0, read=False)

        def _configure_send(self: Any, request: Any, **kwargs: Any) -> Any:
            # msrest mounts its urllib3 Retry once per session; set it on every send instead,
            # so sessions made before (or outside) an adapter call obey the switch too.
            session = kwargs.get("session") or self.session
            wanted = no_retry if switch.active else self.config.retry_policy()
            for protocol in self._protocols:
                session.adapters[protocol].max_retries = wanted
            return configure(self, request, **kwargs)

        sender._configure_send = _configure_send  # noqa: SLF001

    def _patch_datasets(self) -> None:
        from azureml.data import _dataset_rest_helper, abstract_dataset  # noqa: PLC0415

        switch = self
        make_request = _dataset_rest_helper._make_request  # noqa: SLF001

        def _make_request(
            request_fn: Any, handle_error_fn: Any = None, retries: int = 5, *args: Any, **kw: Any
        ) -> Any:
            return make_request(
                request_fn, handle_error_fn, 0 if switch.active else retries, *args, **kw
            )

        _dataset_rest_helper._make_request = _make_request  # noqa: SLF001
        abstract_dataset._make_request = _make_request  # noqa: SLF001


_SDK_RETRIES = _SdkRetries()


# --- SDK errors, translated -------------------------------------------------------------------

_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504, 530})
_STATUS_IN_TEXT = re.compile(r"Response Code: (\d{3})")


def _text(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - ServiceException.__str__ fails on bodies without details
        return ""


def _http_status(error: BaseException) -> int | None:
    response = http_response(error)
    if response is not None:
        return int(response.status_code)
    for cause in exception_chain(error):
        status = getattr(cause, "status_code", None)
        if isinstance(status, int):
            return status
        if match := _STATUS_IN_TEXT.search(str(getattr(cause, "message", "")) or _text(cause)):
            return int(match[1])
    return None


def _is_connection_error(error: BaseException) -> bool:
    import requests  # noqa: PLC0415 - a dependency of the SDK, loaded with it
    from msrest.exceptions import ClientRequestError  # noqa: PLC0415

    kinds = (
        requests.ConnectionError,
        requests.Timeout,
        http.client.HTTPException,
        ConnectionError,
        TimeoutError,
    )
    for cause in exception_chain(error):
        if isinstance(cause, kinds):
            return True
        if isinstance(cause, ClientRequestError) and http_response(cause) is None:
            return True
    return False


def _translate(error: Exception, what: str) -> RegistryError:
    return translate(
        error,
        what,
        status=_http_status(error),
        connection_failed=_is_connection_error(error),
        transient=_TRANSIENT_STATUS,
    )


def _is_not_found(error: BaseException) -> bool:
    if _http_status(error) == 404:  # noqa: PLR2004 - HTTP's "not found"
        return True
    text = " ".join(_text(c) for c in exception_chain(error))
    return "ModelNotFound" in text or "Cannot find dataset" in text


class _Gateway:
    """Every SDK call passes here: the SDK's retries off, ours on, its errors translated."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def once(self, what: str, call: Callable[[], _T]) -> _T:
        """Make `call` once; translate what it raises."""
        with _SDK_RETRIES.off():
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


# --- Values -----------------------------------------------------------------------------------

_PIPELINE_RUN = "azureml.PipelineRun"
_HYPERDRIVE_RUN = "hyperdrive"


def _framework(framework: Framework | None, version: str | None) -> str | None:
    from azureml.core import Model  # noqa: PLC0415

    names = {
        Framework.SCIKITLEARN: Model.Framework.SCIKITLEARN,
        Framework.ONNX: Model.Framework.ONNX,
        Framework.TENSORFLOW: Model.Framework.TENSORFLOW,
        Framework.KERAS: Model.Framework.TFKERAS,
        Framework.CUSTOM: Model.Framework.CUSTOM,
    }
    if framework is None:
        # The SDK refuses a framework version without a framework; "Custom" is its default.
        return Model.Framework.CUSTOM if version is not None else None
    return str(names[framework])


def _version(model: Any) -> ModelVersion:
    return ModelVersion(
        name=model.name,
        version=int(model.version),
        id=model.id,
        run_id=model.run_id or None,
        experiment_name=model.experiment_name or None,
        tags=dict(model.tags or {}),
        source=model.url,
    )


# --- The ports --------------------------------------------------------------------------------


class _Runs:
    """`RunStore` over azureml-core."""

    def __init__(self, backend: AzureMLBackend) -> None:
        self._backend = backend
        self._gateway = backend._gateway  # noqa: SLF001 - the backend's own parts
        self._experiments: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def _workspace(self) -> Any:
        return self._backend.workspace

    def get_run(
        self,
        *,
        experiment_name: str | None,
        run_id: str | None,
        pipeline_step: str | None = None,
    ) -> RunRecord:
        """Return the run, resolved to a pipeline step or a HyperDrive run's best child.

        With `run_id` None this is the run the code is running in (never resolved further: a
        training script runs in the step or child that holds its model).
        """
        if run_id is None:
            current = self._backend._current_run()  # noqa: SLF001
            found = current.experiment.name
            if experiment_name is not None and found != experiment_name:
                raise RunNotFoundError(
                    f"the current run {current.id!r} belongs to experiment {found!r}, "
                    f"not {experiment_name!r}",
                    run_id=current.id,
                    experiment_name=experiment_name,
                )
            return self._record(current, current=True)
        run = self._load(run_id, experiment_name)
        if run.type == _PIPELINE_RUN and pipeline_step is not None:
            run = self._step(run, pipeline_step)
        if run.type == _HYPERDRIVE_RUN:
            run = self._best_child(run)
        return self._record(run)

    def get_metrics(
        self, run: RunRecord, names: Collection[str], *, series: Collection[str] = ()
    ) -> MetricValues:
        """Return the values of the metrics `names`, with one request per name.

        A metric logged once is its value, one logged several times a list (the series); a name
        in `series` always comes back as a list. Which other metrics the run logged is not
        asked (it would cost a request more), so `available` is None.
        """
        handle = self._handle(run)
        if run.is_current:
            # A script's metrics are uploaded in the background: send what is queued first.
            self._gateway.call(f"flushing the metrics of run {run.run_id!r}", handle.flush)
        values: dict[str, object] = {}
        for name in dict.fromkeys(names):
            got = self._gateway.call(
                f"reading metric {name!r} of run {run.run_id!r}",
                functools.partial(handle.get_metrics, name=name),
            )
            if name in got:
                value = got[name]
                values[name] = [value] if name in series and not isinstance(value, list) else value
        return MetricValues(values=values, available=None)

    def list_files(self, run: RunRecord) -> Sequence[str]:
        """Return the run's file paths."""
        handle = self._handle(run)
        return list(
            self._gateway.call(f"listing the files of run {run.run_id!r}", handle.get_file_names)
        )

    def get_evaluation_data(
        self, run: RunRecord, source: EvaluationData
    ) -> Mapping[str, str | None]:
        """Return the run's input datasets named `source.context` (dataset name → version).

        The input name is the one a job gave the dataset (``dataset.as_named_input("eval")``).
        A registered dataset is named by its name and version; an unregistered one by the input
        name and its snapshot id. One request for the run's details, one per input dataset.
        With `source.tag`, the run's tag of that name, else its property.
        """
        handle = self._handle(run)
        if source.tag is not None:
            tags = self._gateway.call(f"reading the tags of run {run.run_id!r}", handle.get_tags)
            value = tags.get(source.tag)
            if value is None:
                properties = self._gateway.call(
                    f"reading the properties of run {run.run_id!r}", handle.get_properties
                )
                value = properties.get(source.tag)
            return {} if value is None else {source.tag: str(value)}

        def inputs() -> list[tuple[str, str | None]]:
            found = []
            for entry in handle.get_details().get("inputDatasets") or ():
                details = entry.get("consumptionDetails") or {}
                if details.get("inputName") != source.context:
                    continue
                dataset = entry.get("dataset")
                name = getattr(dataset, "name", None)
                version = getattr(dataset, "version", None)
                if name:
                    found.append((str(name), None if version is None else str(version)))
                else:
                    saved = getattr(dataset, "id", None)
                    found.append((str(source.context), None if saved is None else str(saved)))
            return found

        return dict(self._gateway.call(f"reading the input datasets of run {run.run_id!r}", inputs))

    # --- helpers -------------------------------------------------------------------------------

    def _record(self, run: Any, *, current: bool = False) -> RunRecord:
        text = run.status or "Unknown"
        return RunRecord(
            run_id=run.id,
            experiment_name=run.experiment.name,
            status=run_status(text),
            status_text=text,
            is_current=current,
            handle=run,
        )

    def _handle(self, run: RunRecord) -> Any:
        if run.handle is not None and hasattr(run.handle, "get_metrics"):
            return run.handle
        return self._load(run.run_id, run.experiment_name)

    def _experiment(self, experiment_id: str) -> Any:
        from azureml._restclient.workspace_client import WorkspaceClient  # noqa: PLC0415
        from azureml.core import Experiment  # noqa: PLC0415

        with self._lock:
            if experiment_id in self._experiments:
                return self._experiments[experiment_id]
        dto = WorkspaceClient(self._workspace.service_context).get_experiment_by_id(experiment_id)
        # Built from what the service said: Experiment(ws, name) would create a missing one.
        experiment = Experiment(
            self._workspace,
            dto.name,
            _id=dto.experiment_id,
            _archived_time=dto.archived_time,
            _create_in_cloud=False,
            _experiment_dto=dto,
        )
        with self._lock:
            return self._experiments.setdefault(experiment_id, experiment)

    def _load(self, run_id: str, experiment_name: str | None) -> Any:
        """Load a run as a plain `Run`: 1 request, plus 1 the first time its experiment is seen.

        ``Run.get`` would rehydrate a pipeline run as ``PipelineRun`` (2 requests more) and a
        step as ``StepRun`` (3 more); nothing here needs what they add.
        """
        from azureml._restclient.workspace_client import WorkspaceClient  # noqa: PLC0415
        from azureml.core import Run  # noqa: PLC0415

        def load() -> Any:
            client = WorkspaceClient(self._workspace.service_context)
            try:
                dto = client.get_run(run_id)
            except Exception as exc:
                if _is_not_found(exc):
                    raise RunNotFoundError(
                        f"no run with id {run_id!r} in workspace {self._workspace.name!r}",
                        run_id=run_id,
                        experiment_name=experiment_name,
                    ) from exc
                raise
            return Run(self._experiment(dto.experiment_id), dto.run_id, _run_dto=dto)

        run = self._gateway.call(f"reading run {run_id!r}", load)
        found = run.experiment.name
        if experiment_name is not None and found != experiment_name:
            raise RunNotFoundError(
                f"run {run_id!r} belongs to experiment {found!r}, not {experiment_name!r}",
                run_id=run_id,
                experiment_name=experiment_name,
            )
        return run

    def _children(self, run: Any) -> list[Any]:
        return self._gateway.call(
            f"listing the child runs of {run.id!r}",
            lambda: list(run.get_children(_rehydrate_runs=False)),
        )

    def _step(self, pipeline: Any, step: str) -> Any:
        children = self._children(pipeline)
        names = sorted({child.name for child in children if child.name})
        matches = [child for child in children if child.name == step]
        if len(matches) != 1:
            found = "no step" if not matches else f"{len(matches)} steps"
            raise RunNotFoundError(
                f"pipeline run {pipeline.id!r} has {found} named {step!r} "
                f"(pipeline_child_run_name); its steps are: {', '.join(names) or 'none'}",
                run_id=pipeline.id,
                experiment_name=pipeline.experiment.name,
                candidates=names,
            )
        return matches[0]

    def _best_child(self, sweep: Any) -> Any:
        """Return a HyperDrive run's best child: the one the service recorded, else computed.

        A finished sweep records ``best_child_run_id``; otherwise the primary metric is read
        from each completed child (one request each) and the best value wins, as HyperDrive's
        own ``get_best_run_by_primary_metric`` does.
        """
        properties = dict(sweep.properties or {})
        best = properties.get("best_child_run_id")
        if best:
            return self._load(str(best), sweep.experiment.name)
        try:
            config = json.loads(properties.get("primary_metric_config") or "null")
            metric, goal = str(config["name"]), str(config.get("goal", "maximize")).lower()
        except (ValueError, TypeError, KeyError):
            raise RunNotFoundError(
                f"HyperDrive run {sweep.id!r} records neither its best child run nor its "
                "primary metric",
                run_id=sweep.id,
                experiment_name=sweep.experiment.name,
            ) from None
        children = [c for c in self._children(sweep) if run_status(c.status) is RunStatus.COMPLETED]
        pick = max if goal == "maximize" else min
        scored: list[tuple[float, Any]] = []
        for child in children:
            got = self._gateway.call(
                f"reading metric {metric!r} of run {child.id!r}",
                functools.partial(child.get_metrics, name=metric),
            )
            value = got.get(metric)
            values = value if isinstance(value, list) else [value]
            numbers = [float(v) for v in values if is_usable_number(v)]
            if numbers:
                scored.append((pick(numbers), child))
        if not scored:
            raise RunNotFoundError(
                f"HyperDrive run {sweep.id!r} has no best child run: none of its "
                f"{len(children)} completed child runs logged its primary metric {metric!r}",
                run_id=sweep.id,
                experiment_name=sweep.experiment.name,
                candidates=[c.id for c in children],
            )
        return pick(scored, key=lambda pair: pair[0])[1]


class _Registry:
    """`ModelRegistry` over azureml-core."""

    def __init__(self, backend: AzureMLBackend) -> None:
        self._backend = backend
        self._gateway = backend._gateway  # noqa: SLF001 - the backend's own parts

    @property
    def _workspace(self) -> Any:
        return self._backend.workspace

    def _models(self, **filters: Any) -> list[ModelVersion]:
        """List versions, highest first, in one request (``expand=False``: no run loading)."""
        from azureml.core import Model  # noqa: PLC0415

        models = Model.list(self._workspace, expand=False, **filters)
        return sorted((_version(m) for m in models), key=lambda v: v.version, reverse=True)

    def _list(self, what: str, **filters: Any) -> list[ModelVersion]:
        return self._gateway.call(what, functools.partial(self._models, **filters))

    def find_baseline(self, name: str, strategy: BaselineStrategy) -> ModelVersion | None:
        """Return the version `strategy` picks, or None; one request.

        Raises:
            BaselineNotFoundError: The strategy pins a version that does not exist.
            SettingsError: The strategy is an MLflow alias or stage, which SDK v1 lacks.
        """
        if strategy.kind is BaselineKind.VERSION:
            number = strategy.version_number
            # Model(ws, name, version=0) would answer the latest version: never ask it that.
            found = self._get(name, number) if number is not None and number >= 1 else None
            if found is None:
                raise BaselineNotFoundError(model_name=name, strategy=str(strategy))
            return found
        if strategy.kind in {BaselineKind.ALIAS, BaselineKind.STAGE}:
            raise unsupported_strategy(strategy, "Azure ML (SDK v1)")
        if strategy.kind is BaselineKind.TAG:
            tagged = self.find_tagged(name, strategy.tag_key or "", strategy.tag_value or "")
            return tagged[0] if tagged else None
        latest = self._list(f"finding the latest version of model {name!r}", name=name, latest=True)
        return latest[0] if latest else None

    def find_by_run(self, name: str, run_id: str) -> ModelVersion | None:
        """Return the highest version of `name` registered from `run_id`, or None."""
        found = self._list(
            f"finding versions of model {name!r} from run {run_id!r}", name=name, run_id=run_id
        )
        return found[0] if found else None

    def find_tagged(self, name: str, key: str, value: str) -> Sequence[ModelVersion]:
        """Return the versions of `name` whose tag `key` is `value`, highest first."""
        # The service's filter is a text of comma-separated "key=value" clauses: a pair holding
        # either character is asked by key alone. The exact pair is checked here either way.
        wanted: list[Any] = [key] if any(c in key + value for c in ",=") else [[key, value]]
        found = self._list(
            f"finding versions of model {name!r} tagged {key}={value}", name=name, tags=wanted
        )
        return [v for v in found if v.tags.get(key) == value]

    def _get(self, name: str, version: int) -> ModelVersion | None:
        from azureml.core import Model  # noqa: PLC0415

        def get() -> Any:
            try:
                return Model(self._workspace, name=name, version=version, expand=False)
            except Exception as exc:
                if _is_not_found(exc):
                    return None
                raise

        model = self._gateway.call(f"reading version {version} of model {name!r}", get)
        return None if model is None else _version(model)

    def register(self, request: RegistrationRequest) -> ModelVersion:
        """Register a version: from its run with ``run.register_model``, else from disk.

        A transient failure is retried, but a registration is never sent again blindly: the
        version is first looked up by run, in case the failed call had been committed.

        Raises:
            SettingsError: A dataset the request names is not registered in the workspace.
            ModelFileError: Local mode: the path is outside the working directory.
            RegistryError: The registration failed.
        """
        options = self._options(request)
        if request.run is None:
            return self._register_local(request, options)
        run = self._backend._runs._handle(request.run)  # noqa: SLF001 - its sibling port
        run_id = request.run.run_id
        what = f"registering model {request.name!r} from run {run_id!r}"

        def find_earlier() -> ModelVersion | None:
            found = self._gateway.once(
                f"finding versions of model {request.name!r} from run {run_id!r}",
                functools.partial(self._models, name=request.name, run_id=run_id),
            )
            return found[0] if found else None

        def register() -> ModelVersion:
            model = self._gateway.once(
                what,
                lambda: run.register_model(
                    model_name=request.name, model_path=request.model_path, **options
                ),
            )
            return _version(model)

        return register_once(self._gateway.policy, register=register, find_earlier=find_earlier)

    def _register_local(
        self, request: RegistrationRequest, options: dict[str, Any]
    ) -> ModelVersion:
        from azureml.core import Model  # noqa: PLC0415

        path = Path(request.model_path)
        try:
            relative = path.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            raise ModelFileError(
                f"azureml-core registers local files only from under the working directory "
                f"({str(Path.cwd())!r}); {str(path)!r} is outside it",
                wanted=str(path),
            ) from None

        def register() -> Any:
            # Model.register prints progress; keep stdout for the caller's own output.
            with contextlib.redirect_stdout(sys.stderr):
                return Model.register(
                    self._workspace,
                    model_path=str(relative),
                    model_name=request.name,
                    **options,
                )

        # Once: with no run to look it up by, a retry could register the model twice.
        return _version(
            self._gateway.once(f"registering model {request.name!r} from {str(path)!r}", register)
        )

    def _options(self, request: RegistrationRequest) -> dict[str, Any]:
        from azureml.core.resource_configuration import ResourceConfiguration  # noqa: PLC0415

        datasets = self._datasets(request)
        # The decision tags are copied to properties too: tags can be edited later, properties
        # cannot, so the registration keeps a record of why it was made.
        decision = {k: v for k, v in request.tags.items() if k.startswith("promotion.")}
        options: dict[str, Any] = {
            "tags": dict(request.tags) or None,
            "properties": {**decision, **request.properties} or None,
            "model_framework": _framework(request.framework, request.framework_version),
            "model_framework_version": request.framework_version,
            "description": request.description,
            # As the original action did: each dataset's purpose is its name.
            "datasets": [(name, datasets[name]) for name in request.datasets] or None,
            "sample_input_dataset": datasets.get(request.sample_input_dataset or ""),
            "sample_output_dataset": datasets.get(request.sample_output_dataset or ""),
            "resource_configuration": None,
        }
        if request.cpu_cores is not None and request.memory_gb is not None:
            options["resource_configuration"] = ResourceConfiguration(
                cpu=request.cpu_cores, memory_in_gb=request.memory_gb
            )
        return options

    def _datasets(self, request: RegistrationRequest) -> dict[str, Any]:
        """Resolve every dataset the request names; all the missing ones are one error."""
        from azureml.core import Dataset  # noqa: PLC0415

        wanted: list[tuple[str, str]] = [
            (f"$.datasets[{index}]", name) for index, name in enumerate(request.datasets)
        ]
        for key in ("sample_input_dataset", "sample_output_dataset"):
            name = getattr(request, key)
            if name is not None:
                wanted.append((f"$.{key}", name))
        found: dict[str, Any] = {}
        problems = []
        for path, name in wanted:
            if name in found:
                continue

            def get(name: str = name) -> Any:
                try:
                    return Dataset.get_by_name(self._workspace, name=name)
                except Exception as exc:
                    if _is_not_found(exc):
                        return None
                    raise

            dataset = self._gateway.call(f"reading dataset {name!r}", get)
            if dataset is None:
                problems.append(
                    SettingsProblem(
                        path=path,
                        message=(
                            f"no dataset named {name!r} is registered in workspace "
                            f"{self._workspace.name!r}"
                        ),
                    )
                )
            else:
                found[name] = dataset
        if problems:
            raise SettingsError(problems)
        return found

    def _tags(self, version: ModelVersion, change: Callable[[dict[str, str]], None]) -> None:
        from azureml.core import Model  # noqa: PLC0415

        def update() -> None:
            # Read, change, write back: the service replaces the whole tag set at once.
            model = Model(self._workspace, id=version.id, expand=False)
            tags = dict(model.tags or {})
            before = dict(tags)
            change(tags)
            if tags == before:
                return
            if tags:
                model.update(tags=tags)
            else:
                # update() skips an empty tag set; this call sends it.
                model.update_tags_properties(remove_tags=list(before))

        self._gateway.call(f"updating the tags of model {version}", update)

    def set_tags(self, version: ModelVersion, tags: Mapping[str, str]) -> None:
        """Set tags on a version (two requests: read, then write the whole set)."""
        self._tags(version, lambda held: held.update(tags))

    def remove_tags(self, version: ModelVersion, keys: Collection[str]) -> None:
        """Remove tags from a version; a key it does not have is fine."""

        def drop(held: dict[str, str]) -> None:
            for key in keys:
                held.pop(key, None)

        self._tags(version, drop)

    def set_alias(self, version: ModelVersion, alias: str) -> None:  # noqa: ARG002 - the port's
        """Refuse: Azure ML (SDK v1) has no model aliases.

        Raises:
            SettingsError: Always (an ``alias:`` baseline is refused before this is reached).
        """
        raise unsupported_strategy(BaselineStrategy.alias(alias), "Azure ML (SDK v1)")


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
        _require_sdk()
        self.workspace = workspace
        self._gateway = _Gateway(retry or RetryPolicy())
        self._context_run: Any = None
        self._runs = _Runs(self)
        self._registry = _Registry(self)

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
        _require_sdk()
        run = _context_run(_Gateway(retry or RetryPolicy()))
        backend = cls(run.experiment.workspace, retry=retry)
        backend._context_run = run
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
        _require_sdk()
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
        _require_sdk()
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

    def _current_run(self) -> Any:
        if self._context_run is None:
            run = _context_run(self._gateway)
            workspace = run.experiment.workspace
            mine = self.workspace
            if (workspace.subscription_id, workspace.resource_group, workspace.name) != (
                mine.subscription_id,
                mine.resource_group,
                mine.name,
            ):
                raise RunNotFoundError(
                    f"the current run {run.id!r} is in workspace {workspace.name!r}, not in "
                    f"{mine.name!r}: pass experiment_name and run_id",
                    run_id=run.id,
                )
            self._context_run = run
        return self._context_run


def _context_run(gateway: _Gateway) -> Any:
    from azureml.core import Run  # noqa: PLC0415
    from azureml.core.run import _OfflineRun  # noqa: PLC0415

    run = gateway.call("reading the current run", lambda: Run.get_context(allow_offline=True))
    if isinstance(run, _OfflineRun):
        msg = (
            "there is no current run: this code is not running inside an Azure ML run, so "
            "experiment_name and run_id are needed"
        )
        raise RunNotFoundError(msg)
    return run


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

    return _Gateway(retry or RetryPolicy()).call(
        f"opening workspace {config.workspace_name!r} (resource group {config.resource_group!r})",
        open_workspace,
    )


if TYPE_CHECKING:

    def _is_a_backend(backend: AzureMLBackend) -> Backend:
        return backend  # mypy checks here that AzureMLBackend provides both ports exactly
