"""A local emulator of the Azure ML (SDK v1) REST API, for driving the real azureml-core SDK.

It serves, on 127.0.0.1 only and over plain http, the routes azureml-core 1.6x uses to read runs,
their metrics and files, datasets and pipeline steps, and to register and tag models (see
``reference/azureml-rest.md`` for the measured account it follows). Every request is recorded
(method, path, query, JSON body, status answered), so tests can assert on what the SDK sent as
well as on what it returned: the SDK hides some errors.

Faults can be injected per route: the next N answers with a status code (and a Retry-After
header), "commit, then fail" (the change is made, then an error is answered: what a timeout
after a committed write looks like), or a dropped connection. A latency per request models a
real service for the benchmark.

A request the emulator does not understand is answered 400 (never 500: the SDK would retry it)
and kept in `unhandled`, so a test can assert that there were none.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from loopback_http import (
    EmulatedService,
    EmulatorError,
    Fault,
    JsonHandler,
    Recorded,
    parse_json,
    read_request,
)

__all__ = ["AzureMLEmulator", "Fault", "Recorded"]

_WS = (
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)"
)
_EPOCH = "2024-01-01T00:00:00.000000+00:00"


def _error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": []}}


@dataclass
class _Run:
    run_id: str
    experiment: str
    status: str = "Completed"
    run_type: str = "azureml.scriptrun"
    name: str | None = None
    parent: str | None = None
    root: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, list[Any]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    number: int = 0
    input_datasets: list[Any] = field(default_factory=list)


@dataclass
class _Route:
    method: str
    regex: re.Pattern[str]
    handler: Callable[..., Any]


class AzureMLEmulator(EmulatedService):
    """The emulator: start it, seed it, point the SDK at `url`, read `requests`.

    Starting and stopping, the recorded requests and the faults are `EmulatedService`'s
    (``tests/loopback_http.py``).

    Args:
        subscription_id: The workspace's subscription (any text).
        resource_group: The workspace's resource group.
        workspace_name: The workspace's name.
        latency: Seconds to wait before answering each request.
    """

    _thread_name = "azureml-emulator"
    # A dropped connection is closed without being shut down first (the v2 emulator shuts it
    # down): kept as it always was here.
    shutdown_on_drop = False
    _error_body = staticmethod(_error_body)

    def __init__(
        self,
        *,
        subscription_id: str = "00000000-0000-0000-0000-000000000000",
        resource_group: str = "emulated-rg",
        workspace_name: str = "emulated-ws",
        latency: float = 0.0,
    ) -> None:
        super().__init__()
        self.subscription_id = subscription_id
        self.resource_group = resource_group
        self.workspace_name = workspace_name
        self.workspace_id = str(uuid.uuid5(uuid.NAMESPACE_URL, workspace_name))
        self.latency = latency
        self._experiments: dict[str, str] = {}
        self._runs: dict[str, _Run] = {}
        self._models: dict[str, list[dict[str, Any]]] = {}
        self._assets: dict[str, dict[str, Any]] = {}
        self._datasets: dict[str, dict[str, Any]] = {}
        self._blobs: dict[str, bytes] = {}
        self._counter = itertools.count(1)
        self._routes = self._route_table()

    # --- where it listens -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL every service is served under (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        """The discovery endpoint's URL."""
        return self.url + "/discovery"

    @property
    def workspace_path(self) -> str:
        """The ``/subscriptions/.../workspaces/NAME`` part of every workspace-scoped path."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{self.workspace_name}"
        )

    # --- seeding ----------------------------------------------------------------------------------

    def add_experiment(self, name: str) -> str:
        """Create an experiment (if new) and return its id."""
        with self._lock:
            return self._experiments.setdefault(name, str(uuid.uuid4()))

    def add_run(
        self,
        experiment: str,
        run_id: str | None = None,
        *,
        metrics: Mapping[str, Any] | None = None,
        files: Iterable[str] = (),
        status: str = "Completed",
        run_type: str = "azureml.scriptrun",
        name: str | None = None,
        parent: str | None = None,
        properties: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Add a run and return its id; a metric given as a list was logged once per value."""
        self.add_experiment(experiment)
        with self._lock:
            rid = run_id or f"{experiment}_{next(self._counter)}_{uuid.uuid4().hex[:8]}"
            root = self._runs[parent].root if parent and parent in self._runs else parent
            self._runs[rid] = _Run(
                run_id=rid,
                experiment=experiment,
                status=status,
                run_type=run_type,
                name=name,
                parent=parent,
                root=root or rid,
                properties=dict(properties or {}),
                tags=dict(tags or {}),
                metrics={
                    k: list(v) if isinstance(v, list) else [v] for k, v in (metrics or {}).items()
                },
                files=list(files),
                number=next(self._counter),
            )
            return rid

    def add_pipeline_run(
        self,
        experiment: str,
        steps: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        run_id: str | None = None,
        status: str = "Completed",
    ) -> tuple[str, list[str]]:
        """Add a pipeline run with one child per ``(step name, add_run keyword arguments)``.

        Returns:
            The pipeline run's id and its step runs' ids, in order.
        """
        pid = self.add_run(
            experiment,
            run_id,
            status=status,
            run_type="azureml.PipelineRun",
            properties={"azureml.runsource": "azureml.PipelineRun"},
        )
        children = []
        for index, (step, options) in enumerate(steps):
            node = f"node{index:04d}"
            children.append(
                self.add_run(
                    experiment,
                    run_type="azureml.StepRun",
                    name=step,
                    parent=pid,
                    properties={"azureml.runsource": "azureml.StepRun", "azureml.nodeid": node},
                    tags={"azureml.nodeid": node, "azureml.pipeline": pid},
                    **options,
                )
            )
        return pid, children

    def add_pipeline_step(self, pipeline_id: str, step: str, run_id: str) -> None:
        """Make an existing run (a HyperDrive sweep, say) a step of a pipeline run."""
        with self._lock:
            run = self._runs[run_id]
            run.parent, run.root, run.name = pipeline_id, self._runs[pipeline_id].root, step
            run.tags.update({"azureml.nodeid": f"node-{step}", "azureml.pipeline": pipeline_id})

    def add_hyperdrive_run(
        self,
        experiment: str,
        children: Sequence[Mapping[str, Any]],
        *,
        primary_metric: str,
        goal: str = "maximize",
        best_child: int | None = None,
        run_id: str | None = None,
    ) -> tuple[str, list[str]]:
        """Add a HyperDrive parent run with children (``add_run`` keyword arguments each).

        Args:
            experiment: The experiment.
            children: The child runs.
            primary_metric: The primary metric's name.
            goal: ``maximize`` or ``minimize``.
            best_child: The index of the child the service recorded as best (the
                ``best_child_run_id`` property of a finished sweep), or None to record none.
            run_id: The parent's id.

        Returns:
            The parent's id and its children's ids, in order.
        """
        hid = run_id or f"HD_{uuid.uuid4()}"
        config = json.dumps({"name": primary_metric, "goal": goal})
        self.add_run(
            experiment,
            hid,
            run_type="hyperdrive",
            properties={"primary_metric_config": config, "azureml.runsource": "hyperdrive"},
        )
        ids = [
            self.add_run(experiment, f"{hid}_{index}", parent=hid, **options)
            for index, options in enumerate(children)
        ]
        if best_child is not None:
            with self._lock:
                self._runs[hid].properties["best_child_run_id"] = ids[best_child]
        return hid, ids

    def add_dataset(self, name: str, *, dataset_type: str = "tabular") -> str:
        """Register a dataset by name and return its saved (snapshot) id."""
        with self._lock:
            saved = str(uuid.uuid4())
            self._datasets[name] = {
                "datasetId": str(uuid.uuid4()),
                "name": name,
                "datasetType": dataset_type,
                "savedDatasetId": saved,
            }
            return saved

    def add_input_dataset(self, run_id: str, dataset: str, *, input_name: str) -> None:
        """Record that a run took the registered dataset `dataset` as the input `input_name`."""
        with self._lock:
            registered = self._datasets[dataset]
            self._runs[run_id].input_datasets.append(
                {
                    "identifier": {
                        "savedId": registered["savedDatasetId"],
                        "registeredId": registered["datasetId"],
                        "registeredVersion": "1",
                    },
                    "consumptionType": "RunInput",
                    "inputDetails": {"inputName": input_name, "mechanism": "Direct"},
                }
            )

    def add_model(
        self,
        name: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Add a model version as if registered earlier, and return it."""
        experiment = None
        if run_id is not None:
            with self._lock:
                experiment = self._runs[run_id].experiment
        return self._register_model(
            {
                "name": name,
                "url": "aml://asset/seeded",
                "runId": run_id,
                "experimentName": experiment,
                "kvTags": dict(tags or {}),
                "properties": {},
            }
        )

    # --- state a test may read --------------------------------------------------------------------

    def models(self, name: str) -> list[dict[str, Any]]:
        """Return the versions of `name`, oldest first."""
        with self._lock:
            return [dict(m) for m in self._models.get(name, [])]

    def run_record(self, run_id: str) -> dict[str, Any]:
        """Return a run as the service would answer it."""
        with self._lock:
            return self._run_dto(self._runs[run_id])

    def blob(self, path: str) -> bytes | None:
        """Return the bytes uploaded to `path` (``origin/container/name``), if any."""
        with self._lock:
            return self._blobs.get(path)

    # --- request handling -------------------------------------------------------------------------

    def _handle(self, handler: JsonHandler) -> None:
        if self.latency:
            time.sleep(self.latency)
        path, query, raw = read_request(handler)
        # A body is JSON only when it says so (a blob upload is kept as bytes).
        body = parse_json(raw) if "json" in (handler.headers.get("Content-Type") or "") else raw
        record = self._record(handler.command, path, query, body)
        self._respond_json(
            handler, record, lambda: self._dispatch(handler.command, path, query, body, record)
        )

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], body: Any, record: Recorded
    ) -> tuple[int, Any, dict[str, str]]:
        for route in self._routes:
            if route.method != method:
                continue
            match = route.regex.fullmatch(path)
            if match is None:
                continue
            try:
                with self._lock:
                    self._check_workspace(match.groupdict())
                    result = route.handler(query=query, body=body, **_named(match))
            except EmulatorError as error:
                return error.status, _error_body(error.code, error.message), {}
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                # The emulator's own bug, or a request it does not model: 400, never 500,
                # or the SDK would retry it.
                self._not_understood(record)
                return 400, _error_body("EmulatorError", f"{type(error).__name__}: {error}"), {}
            if isinstance(result, tuple):
                return result[0], result[1], {}
            return 200, result, {}
        self._not_understood(record)
        return 400, _error_body("EmulatorUnknownRoute", f"no route for {method} {path}"), {}

    def _check_workspace(self, groups: Mapping[str, str | None]) -> None:
        expected = {"sub": self.subscription_id, "rg": self.resource_group}
        expected["ws"] = self.workspace_name
        for key, value in expected.items():
            if groups.get(key) is not None and groups[key] != value:
                raise EmulatorError(404, "WorkspaceNotFound", f"no workspace {groups[key]!r}")

    def _route_table(self) -> list[_Route]:
        history = "/history/v1.0" + _WS
        run = (
            history
            + r"/(?:experiments/(?P<exp>[^/]+)|experimentids/(?P<exp_id>[^/]+))/runs/(?P<run>[^/]+)"
        )
        mms = "/modelmanagement/v1.0" + _WS
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/discovery", self._discovery),
            ("GET", r"(?:/rp/workspaces)?" + _WS, self._workspace),
            ("GET", history + r"/experiments/(?P<exp>[^/]+)", self._get_experiment),
            ("POST", history + r"/experiments/(?P<exp>[^/]+)", self._create_experiment),
            ("GET", history + r"/experimentids/(?P<exp_id>[^/]+)", self._get_experiment),
            ("GET", run, self._get_run),
            ("PATCH", run, self._patch_run),
            ("GET", history + r"/runs/(?P<run>[^/]+)", self._get_run),
            ("GET", run + r"/details", self._run_details),
            ("GET", run + r"/children", self._run_children),
            ("GET", run + r"/token", self._run_token),
            ("POST", "/metric/v2.0" + _WS + r"/runs/(?P<run>[^/]+)/list", self._list_metrics),
            ("POST", "/metric/v2.0" + _WS + r"/runs/(?P<run>[^/]+)/full", self._full_metric),
            ("POST", "/metric/v2.0" + _WS + r"/runs/(?P<run>[^/]+)/batch", self._post_metrics),
            ("GET", run + r"/metricsingest/wait", self._metrics_ingested),
            (
                "GET",
                "/artifact/v2.0" + _WS + r"/artifacts/prefix/contentinfo/(?P<origin>[^/]+)"
                r"/(?P<container>[^/]+)/(?P<prefix>.*)",
                self._artifact_contentinfo,
            ),
            (
                "POST",
                "/artifact/v2.0" + _WS + r"/artifacts/batch/metadata/(?P<origin>[^/]+)"
                r"/(?P<container>[^/]+)",
                self._create_empty_artifacts,
            ),
            (
                "GET",
                "/artifact/v2.0" + _WS + r"/artifacts/(?P<origin>[^/]+)/(?P<container>[^/]+)",
                self._list_artifacts,
            ),
            ("PUT", r"/blob/(?P<blob>.+)", self._put_blob),
            ("POST", mms + r"/assets", self._create_asset),
            ("POST", mms + r"/models", self._post_model),
            ("GET", mms + r"/models", self._query_models),
            ("GET", mms + r"/models/(?P<model_id>[^/]+)", self._get_model),
            ("PATCH", mms + r"/models/(?P<model_id>[^/]+)", self._patch_model),
            (
                "GET",
                "/dataset/v1.0" + _WS + r"/datasets/query/name=(?P<name>[^/]+)",
                self._dataset_by_name,
            ),
            (
                "GET",
                "/dataset/v1.0" + _WS + r"/datasets/query/savedDatasetId=(?P<saved>[^/]+)",
                self._dataset_by_saved_id,
            ),
            (
                "GET",
                "/data/v1.0" + _WS + r"/dataversion/(?P<asset>[^/]+)/versions/(?P<version>[^/]+)",
                self._data_version,
            ),
            ("GET", "/pipelines/v1.0" + _WS + r"/DataTypes", self._data_types),
            ("GET", "/pipelines/v1.0" + _WS + r"/PipelineRuns/(?P<run>[^/]+)", self._pipeline_run),
        ]
        return [_Route(m, re.compile(p), h) for m, p, h in table]

    # --- workspace and discovery ------------------------------------------------------------------

    def _discovery(self, **_: Any) -> dict[str, str]:
        keys = ("api", "catalog", "experimentation", "gallery", "history", "hyperdrive")
        keys += ("labeling", "modelmanagement", "pipelines", "studio")
        return dict.fromkeys(keys, self.url)

    def _workspace(self, **_: Any) -> dict[str, Any]:
        return {
            "id": self.workspace_path,
            "name": self.workspace_name,
            "location": "emulated",
            "properties": {
                "discoveryUrl": self.discovery_url,
                "workspaceId": self.workspace_id,
            },
        }

    # --- run history ------------------------------------------------------------------------------

    def _experiment_name(self, exp: str | None, exp_id: str | None) -> str:
        if exp is not None:
            if exp not in self._experiments:
                raise EmulatorError(404, "ExperimentNotFound", f"no experiment {exp!r}")
            return exp
        for name, eid in self._experiments.items():
            if eid == exp_id:
                return name
        raise EmulatorError(404, "ExperimentNotFound", f"no experiment with id {exp_id!r}")

    def _experiment_dto(self, name: str) -> dict[str, Any]:
        return {
            "experimentId": self._experiments[name],
            "name": name,
            "createdUtc": _EPOCH,
            "tags": {},
            "archivedTime": None,
        }

    def _get_experiment(self, exp: str | None = None, exp_id: str | None = None, **_: Any) -> Any:
        return self._experiment_dto(self._experiment_name(exp, exp_id))

    def _create_experiment(self, exp: str, **_: Any) -> Any:
        self._experiments.setdefault(exp, str(uuid.uuid4()))
        return self._experiment_dto(exp)

    def _find_run(self, run: str, exp: str | None = None, exp_id: str | None = None) -> _Run:
        found = self._runs.get(run)
        if found is None:
            raise EmulatorError(404, "RunNotFound", f"no run {run!r}")
        if exp is not None or exp_id is not None:
            experiment = self._experiment_name(exp, exp_id)
            if found.experiment != experiment:
                raise EmulatorError(
                    404, "RunNotFound", f"no run {run!r} in experiment {experiment!r}"
                )
        return found

    def _run_dto(self, run: _Run) -> dict[str, Any]:
        return {
            "runId": run.run_id,
            "runUuid": str(uuid.uuid5(uuid.NAMESPACE_OID, run.run_id)),
            "runNumber": run.number,
            "experimentId": self._experiments[run.experiment],
            "status": run.status,
            "runType": run.run_type,
            "name": run.name,
            "displayName": run.name or run.run_id,
            "parentRunId": run.parent,
            "rootRunId": run.root,
            "dataContainerId": f"dcid.{run.run_id}",
            "target": "local",
            "properties": dict(run.properties),
            "tags": dict(run.tags),
            "createdBy": {"userName": "emulator"},
            "createdUtc": _EPOCH,
            "startTimeUtc": _EPOCH,
            "endTimeUtc": None if run.status == "Running" else _EPOCH,
            "hidden": False,
        }

    def _get_run(
        self, run: str, exp: str | None = None, exp_id: str | None = None, **_: Any
    ) -> Any:
        return self._run_dto(self._find_run(run, exp, exp_id))

    def _patch_run(
        self, run: str, body: Any, exp: str | None = None, exp_id: str | None = None, **_: Any
    ) -> Any:
        found = self._find_run(run, exp, exp_id)
        if not isinstance(body, dict):
            raise TypeError("a run PATCH needs a JSON object")
        found.input_datasets.extend(body.get("inputDatasets") or [])
        found.tags.update(body.get("tags") or {})
        found.properties.update(body.get("properties") or {})
        return self._run_dto(found)

    def _run_details(
        self, run: str, exp: str | None = None, exp_id: str | None = None, **_: Any
    ) -> Any:
        found = self._find_run(run, exp, exp_id)
        return {
            **self._run_dto(found),
            "logFiles": {},
            "inputDatasets": list(found.input_datasets),
            "outputDatasets": [],
            "runDefinition": {},
        }

    def _run_children(
        self, run: str, exp: str | None = None, exp_id: str | None = None, **_: Any
    ) -> Any:
        self._find_run(run, exp, exp_id)
        children = sorted(
            (r for r in self._runs.values() if r.parent == run), key=lambda r: -r.number
        )
        return {"value": [self._run_dto(c) for c in children], "continuationToken": None}

    def _run_token(self, **_: Any) -> Any:
        return {"token": "emulated-token", "expiryTimeUtc": "2099-01-01T00:00:00+00:00"}

    # --- metrics ----------------------------------------------------------------------------------

    def _list_metrics(self, run: str, **_: Any) -> Any:
        found = self._find_run(run)
        return {
            "value": [
                {"metricKey": {"name": name}, "columns": {name: _column_type(values)}}
                for name, values in found.metrics.items()
            ],
            "continuationToken": None,
        }

    def _full_metric(self, run: str, body: Any, **_: Any) -> Any:
        found = self._find_run(run)
        name = body["metricName"]
        if name not in found.metrics:
            raise EmulatorError(404, "MetricNotFound", f"run {run!r} has no metric {name!r}")
        values = found.metrics[name]
        return {
            "name": name,
            "dataContainerId": f"dcid.{run}",
            "columns": {name: _column_type(values)},
            "properties": {"uxMetricType": "azureml.v1.scalar"},
            "value": [
                {
                    "metricId": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{run}/{name}/{step}")),
                    "createdUtc": _EPOCH,
                    "step": step,
                    "data": {name: value},
                }
                for step, value in enumerate(values)
            ],
            "continuationToken": None,
        }

    def _post_metrics(self, run: str, body: Any, **_: Any) -> Any:
        found = self._find_run(run)
        for metric in body["values"]:
            for value in metric["value"]:
                for name, data in value["data"].items():
                    found.metrics.setdefault(name, []).append(data)
        return {"errors": []}

    def _metrics_ingested(self, **_: Any) -> Any:
        return {}

    # --- artifacts --------------------------------------------------------------------------------

    def _container_run(self, origin: str, container: str) -> _Run:
        if origin != "ExperimentRun" or not container.startswith("dcid."):
            raise EmulatorError(404, "ContainerNotFound", f"no container {origin}/{container}")
        return self._find_run(container[len("dcid.") :])

    def _artifact(self, origin: str, container: str, path: str) -> dict[str, Any]:
        return {
            "artifactId": f"{origin}/{container}/{path}",
            "origin": origin,
            "container": container,
            "path": path,
            "createdTime": _EPOCH,
        }

    def _list_artifacts(self, origin: str, container: str, **_: Any) -> Any:
        found = self._container_run(origin, container)
        return {
            "value": [self._artifact(origin, container, p) for p in found.files],
            "continuationToken": None,
        }

    def _artifact_contentinfo(self, origin: str, container: str, prefix: str, **_: Any) -> Any:
        if origin == "LocalUpload":
            files = [
                key.split("/", 2)[2]
                for key in self._blobs
                if key.startswith(f"{origin}/{container}/")
            ]
        else:
            files = self._container_run(origin, container).files
        wanted = prefix.rstrip("/")
        matched = [p for p in files if p == wanted or p.startswith(wanted + "/")]
        return {
            "value": [
                {
                    "path": p,
                    "contentUri": f"{self.url}/blob/{origin}/{container}/{p}",
                    "origin": origin,
                    "container": container,
                }
                for p in matched
            ],
            "continuationToken": None,
        }

    def _create_empty_artifacts(self, origin: str, container: str, body: Any, **_: Any) -> Any:
        paths = [item["path"] for item in body["paths"]]
        return {
            "artifacts": {p: self._artifact(origin, container, p) for p in paths},
            "artifactContentInformation": {
                p: {
                    "contentUri": f"{self.url}/blob/{origin}/{container}/{p}?sig=emulated",
                    "origin": origin,
                    "container": container,
                    "path": p,
                }
                for p in paths
            },
            "errors": {},
        }

    def _put_blob(self, blob: str, body: Any, **_: Any) -> Any:
        self._blobs[blob] = body if isinstance(body, bytes) else json.dumps(body).encode()
        return 201, {}

    # --- models -----------------------------------------------------------------------------------

    def _create_asset(self, body: Any, **_: Any) -> Any:
        asset_id = uuid.uuid4().hex
        self._assets[asset_id] = {**body, "id": asset_id}
        return self._assets[asset_id]

    def _register_model(self, body: Mapping[str, Any]) -> dict[str, Any]:
        name = body["name"]
        versions = self._models.setdefault(name, [])
        version = max((m["version"] for m in versions), default=0) + 1
        model = {
            "id": f"{name}:{version}",
            "name": name,
            "version": version,
            "url": body.get("url"),
            "mimeType": body.get("mimeType", "application/json"),
            "framework": body.get("framework") or "Custom",
            "frameworkVersion": body.get("frameworkVersion"),
            "description": body.get("description"),
            "kvTags": dict(body.get("kvTags") or {}),
            "properties": dict(body.get("properties") or {}),
            "runId": body.get("runId"),
            "experimentName": body.get("experimentName"),
            "datasets": list(body.get("datasets") or []),
            "sampleInputData": body.get("sampleInputData"),
            "sampleOutputData": body.get("sampleOutputData"),
            "resourceRequirements": body.get("resourceRequirements"),
            "createdTime": _EPOCH,
            "modifiedTime": _EPOCH,
            "unpack": False,
            "createdBy": {"userName": "emulator"},
        }
        versions.append(model)
        return dict(model)

    def _post_model(self, body: Any, **_: Any) -> Any:
        if not isinstance(body, dict) or not body.get("name"):
            raise TypeError("a model registration needs a JSON object with a name")
        asset = str(body.get("url", "")).removeprefix("aml://asset/")
        if asset not in self._assets:
            raise EmulatorError(400, "AssetNotFound", f"no asset {asset!r}")
        return self._register_model(body)

    def _query_models(self, query: dict[str, str], **_: Any) -> Any:
        found = [m for versions in self._models.values() for m in versions]
        if "name" in query:
            found = [m for m in found if m["name"] == query["name"]]
        if "runId" in query:
            found = [m for m in found if m["runId"] == query["runId"]]
        for clause in filter(None, query.get("tags", "").split(",")):
            key, has_value, value = clause.partition("=")
            found = [
                m
                for m in found
                if key in m["kvTags"] and (not has_value or m["kvTags"][key] == value)
            ]
        if query.get("latestVersionOnly", "").lower() == "true":
            latest: dict[str, dict[str, Any]] = {}
            for model in found:
                if (
                    model["name"] not in latest
                    or model["version"] > latest[model["name"]]["version"]
                ):
                    latest[model["name"]] = model
            found = list(latest.values())
        # Newest first, as the service answers (Model(ws, name) trusts this order).
        found.sort(key=lambda m: (m["name"], -m["version"]))
        count = int(query.get("count") or 255)
        return {"value": [dict(m) for m in found[:count]], "nextLink": None}

    def _model(self, model_id: str) -> dict[str, Any]:
        name, _, version = model_id.rpartition(":")
        for model in self._models.get(name, []):
            if str(model["version"]) == version:
                return model
        raise EmulatorError(404, "ModelNotFound", f"no model {model_id!r}")

    def _get_model(self, model_id: str, **_: Any) -> Any:
        return dict(self._model(model_id))

    def _patch_model(self, model_id: str, body: Any, **_: Any) -> Any:
        model = self._model(model_id)
        fields = {"/kvTags": "kvTags", "/properties": "properties", "/description": "description"}
        for operation in body:
            model[fields[operation["path"]]] = operation["value"]
        return dict(model)

    # --- datasets ---------------------------------------------------------------------------------

    def _dataset_dto(self, dataset: Mapping[str, Any]) -> dict[str, Any]:
        dataflow = json.dumps({"blocks": [], "inspectors": [], "meta": {}})
        return {
            "datasetId": dataset["datasetId"],
            "name": dataset["name"],
            "datasetType": dataset["datasetType"],
            "isVisible": True,
            "versionId": "1",
            "tags": {},
            "createdTime": _EPOCH,
            "modifiedTime": _EPOCH,
            "latest": {
                "datasetId": dataset["datasetId"],
                "versionId": "1",
                "savedDatasetId": dataset["savedDatasetId"],
                "dataflow": dataflow,
                "properties": {},
                "datasetType": dataset["datasetType"],
                "isVisible": True,
                "createdTime": _EPOCH,
                "modifiedTime": _EPOCH,
            },
        }

    def _dataset_by_name(self, name: str, **_: Any) -> Any:
        if name not in self._datasets:
            raise EmulatorError(404, "DatasetNotFound", f"no dataset named {name!r}")
        return self._dataset_dto(self._datasets[name])

    def _dataset_by_saved_id(self, saved: str, **_: Any) -> Any:
        found = [d for d in self._datasets.values() if d["savedDatasetId"] == saved]
        return {
            "value": [self._dataset_dto(d) for d in found],
            "continuationToken": None,
            "nextLink": None,
        }

    def _data_version(self, asset: str, **_: Any) -> Any:
        # A v1 dataset's definition, as the v2 data API serves it ("unregistered-<saved id>");
        # a plain name is a v2 data asset, which the emulator has none of.
        saved = asset.removeprefix("unregistered-")
        for dataset in self._datasets.values():
            if dataset["savedDatasetId"] == saved:
                pattern = f"azureml://datastores/workspaceblobstore/paths/{dataset['name']}/*.csv"
                return {"legacyDataflow": f"paths:\n  - pattern: {pattern}\n"}
        raise EmulatorError(404, "DataVersionNotFound", f"no data asset {asset!r}")

    # --- pipelines --------------------------------------------------------------------------------

    def _data_types(self, **_: Any) -> Any:
        # The defaults every workspace has; without one, the SDK creates it (a POST) per StepRun.
        files = (
            "AnyFile",
            "AzureBlobReference",
            "AzureDataLakeReference",
            "AzureFilesReference",
            "AzureSqlDatabaseReference",
            "AzurePostgresDatabaseReference",
            "AzureDataLakeGen2Reference",
            "AzureMLDataset",
            "AzureMySqlDatabaseReference",
            "DBFSReference",
        )
        return [
            {"Id": kind, "Name": kind, "Description": kind, "IsDirectory": kind == "AnyDirectory"}
            for kind in (*files, "AnyDirectory")
        ]

    def _pipeline_run(self, run: str, **_: Any) -> Any:
        found = self._find_run(run)
        return {
            "Id": found.run_id,
            "RunHistoryExperimentName": found.experiment,
            "Status": {"StatusCode": found.status},
        }


def _named(match: re.Match[str]) -> dict[str, str]:
    return {
        k: unquote(v) for k, v in match.groupdict().items() if v is not None and k not in _SCOPE
    }


_SCOPE = ("sub", "rg", "ws")


def _column_type(values: list[Any]) -> str:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "Double"
    if all(isinstance(v, bool) for v in values):
        return "Bool"
    return "String"
