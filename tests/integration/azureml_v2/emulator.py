"""A local emulator of the endpoints the Azure ML SDK v2 calls, served over HTTPS on 127.0.0.1.

It drives the real ``azure-ai-ml`` and ``azureml-mlflow`` SDKs (no patching): a cloud-metadata
document (``ARM_CLOUD_METADATA_URL`` with ``AZUREML_CURRENT_CLOUD``) makes this server the
Resource Manager of an emulated cloud, so every request the SDKs make comes here:

- Resource Manager: the workspace, jobs (command, pipeline, sweep), model containers and
  versions (api-versions as ``reference/azureml-v2.md`` lists them);
- run history: a pipeline's children, a pipeline child's run, and the artifact listing that
  azureml-mlflow makes for ``list_artifacts``;
- the workspace's default datastore (``workspaceblobstore``, its account key by ``listSecrets``)
  and the few Blob REST calls azure-ai-ml makes to upload a local model into it, served for the
  host ``<account>.blob.<storage suffix>`` that the test session's forward proxy
  (``proxy.py``) tunnels here; the storage suffix is under the reserved ``.invalid`` TLD, so a
  request that bypassed the proxy could never reach a real host;
- the workspace's MLflow endpoint (``/mlflow/v2.0/<workspace>/api/2.0/mlflow/...``): ``runs/get``
  and ``metrics/get-history``. These few MLflow REST calls are implemented here rather than
  proxied to a real ``mlflow server``: a job and its MLflow run are one record in Azure ML (same
  id, same metrics, same files), and a second process would have to be seeded in step with the
  jobs; the wire format is MLflow's documented REST API.

TLS is mandatory (azure-core's bearer-token policy refuses http): the server uses a certificate
the test session makes and trusts through ``SSL_CERT_FILE``/``REQUESTS_CA_BUNDLE``.

Signing in (``identity.py``): the emulator also serves Entra ID's token endpoint, GitHub's ID-token
endpoint and an Azure ML job's managed-identity and on-behalf-of endpoints, issues a distinct
access token per flow, and refuses (401) every Resource Manager, run-history and MLflow request
that does not carry a token it issued; `identity` says which flow each accepted request used.

What no SDK code shows, assumed here (as the reference notes say): ``listViewType`` defaults to
ActiveOnly; ``nextVersion`` is one more than the highest version ever created, archived ones
included; a PUT on an existing version replaces its description, tags, properties, stage and
archived flag (200) but refuses another ``modelUri`` (400); a new version answers 201.

Every request is recorded; faults (a status with Retry-After, commit-then-fail, a dropped
connection) can be injected per route, as in the v1 emulator.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import itertools
import json
import math
import re
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from integration.azureml_v2.identity import EmulatedIdentity
from loopback_http import (
    EmulatedService,
    EmulatorError,
    Fault,
    JsonHandler,
    Recorded,
    parse_json,
    read_request,
)

__all__ = ["AzureMLV2Emulator", "Fault", "Recorded"]

_WS = (
    r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)"
)
_REGISTRY = (
    r"/mferp/managementfrontend/subscriptions/(?P<rsub>[^/]+)/resourceGroups/(?P<rrg>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/registries/(?P<registry>[^/]+)"
)
_CLOUD = "EmulatedCloud"
# The services that take a bearer token: Resource Manager, run history, MLflow, and the
# registries' discovery and regional endpoints.
_SIGNED_IN = ("/subscriptions/", "/history/", "/mlflow/", "/registrymanagement/", "/mferp/")
_EPOCH_MS = 1_700_000_000_000
_STORAGE_ACCOUNT = "emulatedstore"
# Under the reserved .invalid TLD (RFC 2606): no real host can ever answer for it.
_STORAGE_SUFFIX = "core.emulated.invalid"


def _error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": []}, "error_code": code}


@dataclass
class _Job:
    name: str
    experiment: str
    status: str = "Completed"
    job_type: str = "Command"
    display_name: str | None = None
    parent: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    # named outputs: name -> (output type, the datastore URI the job document gives, or None)
    outputs: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    created: int = 0
    sweep_metric: str | None = None
    sweep_goal: str = "Maximize"
    # MLflow 3 logged models: model id -> (name, [(metric, value, dataset name, digest)])
    logged_models: dict[str, tuple[str, list[tuple[str, float, str, str]]]] = field(
        default_factory=dict
    )


@dataclass
class _Blob:
    content: bytes
    content_type: str
    metadata: dict[str, str]
    etag: str
    modified: float


@dataclass
class _Route:
    method: str
    regex: re.Pattern[str]
    handler: Callable[..., Any]


class _Handler(JsonHandler):
    owner: AzureMLV2Emulator
    allow_nan = False  # as a JSON server: no bare NaN
    do_HEAD = JsonHandler.do_GET  # noqa: N815 - http.server's name; a blob's HEAD


class AzureMLV2Emulator(EmulatedService):
    """The emulator: start it with a certificate, seed jobs, point the SDKs at it.

    Starting and stopping, the recorded requests and the faults are `EmulatedService`'s
    (``tests/loopback_http.py``).

    Args:
        certfile: The server's certificate (PEM), trusted by the client.
        keyfile: Its private key (PEM).
        latency: Seconds to wait before answering each request.
    """

    _thread_name = "azureml-v2-emulator"
    handler_class = _Handler
    _error_body = staticmethod(_error_body)

    page_size = 100
    """How many versions a list answers per page."""

    subscription_id = "00000000-0000-0000-0000-000000000000"
    resource_group = "emulated-rg"
    workspace_name = "emulated-ws"
    datastore_name = "workspaceblobstore"
    """The workspace's default datastore (Azure Blob), where local models are uploaded."""
    storage_account = _STORAGE_ACCOUNT
    storage_suffix = _STORAGE_SUFFIX
    blob_host = f"{_STORAGE_ACCOUNT}.blob.{_STORAGE_SUFFIX}"
    """The default datastore's Blob endpoint, reached through the session's CONNECT proxy."""
    blob_container = "azureml-blobstore-emulated"
    storage_key = base64.b64encode(b"emulated storage account key").decode()
    """The account key ``listSecrets`` hands out; blob requests must be signed with it."""

    def __init__(self, *, certfile: str, keyfile: str, latency: float = 0.0) -> None:
        super().__init__()
        self._certfile = certfile
        self._keyfile = keyfile
        self.latency = latency
        self._jobs: dict[str, _Job] = {}
        # name -> version -> REST body of the version
        self._models: dict[str, dict[int, dict[str, Any]]] = {}
        self._next_version: dict[str, int] = {}
        self._races: dict[str, str] = {}
        # registry name -> (name -> version -> REST body, name -> next version)
        self._registries: dict[str, tuple[dict[str, dict[int, dict[str, Any]]], dict[str, int]]]
        self._registries = {}
        # (registry or None, name, version) -> reads left before it is archived
        self._archive_at: dict[tuple[str | None, str, int], int] = {}
        # blob name (in `blob_container`) -> the blob
        self._blobs: dict[str, _Blob] = {}
        self._clock = itertools.count(1)
        self._routes = self._route_table()
        self.identity = EmulatedIdentity()
        """The sign-in endpoints' state: apps, issued tokens, the flow of each request."""

    def start(self) -> AzureMLV2Emulator:
        """Listen (see `EmulatedService`); tokens are issued for this Resource Manager."""
        super().start()
        self.identity.resource = self.url + "/"
        return self

    # --- where it listens ---------------------------------------------------------------------

    def _bind(self, address: tuple[str, int]) -> ThreadingHTTPServer:
        """Listen on `address` with TLS."""
        server = _TlsServer(address, self._handler())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._certfile, self._keyfile)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        return server

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT``: the emulated cloud's Resource Manager."""
        return f"https://{self.host}"

    @property
    def metadata_url(self) -> str:
        """The cloud-metadata document's URL (for ``ARM_CLOUD_METADATA_URL``)."""
        return self.url + "/metadata/endpoints"

    cloud_name = _CLOUD

    @property
    def workspace_path(self) -> str:
        """The ``/subscriptions/.../workspaces/NAME`` part of workspace-scoped paths."""
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.MachineLearningServices/workspaces/{self.workspace_name}"
        )

    @property
    def workspace_path_uri(self) -> str:
        """The workspace's long ``azureml://`` id (a copy into a registry names its versions so)."""
        return (
            f"azureml://subscriptions/{self.subscription_id}/resourceGroups/"
            f"{self.resource_group}/workspaces/{self.workspace_name}"
        )

    # --- seeding ------------------------------------------------------------------------------

    def add_job(
        self,
        experiment: str,
        *,
        metrics: Mapping[str, Any] | None = None,
        files: list[str] | None = None,
        status: str = "Completed",
        name: str | None = None,
        display_name: str | None = None,
        parent: str | None = None,
        properties: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, list[str]] | None = None,
        output_type: str = "uri_folder",
        output_uris: bool = False,
    ) -> str:
        """Add a command job (or a pipeline child when `parent` is given); return its name.

        A metric given as a list was logged once per value, in order. `tags` are the job's
        tags (which are its MLflow run's tags), `params` its MLflow parameters, and `inputs`
        its data inputs, input name → URI (``azureml:name:version``, an asset's ARM id, or a
        datastore path), each a ``uri_folder`` input as the jobs REST API stores it.
        `outputs` are its named outputs, name → the files in it, stored where Azure ML puts a
        named output by default (``azureml/<job>/<output>/`` in the default datastore), each of
        `output_type`; the job document gives their datastore URI only with `output_uris`
        (else the path is null, as for an output the job gave no path).
        """
        job = _Job(
            name=name or f"job_{uuid.uuid4().hex[:12]}",
            experiment=experiment,
            status=status,
            display_name=display_name,
            parent=parent,
            properties=dict(properties or {}),
            tags=dict(tags or {}),
            params=dict(params or {}),
            inputs={
                key: {"jobInputType": "uri_folder", "uri": uri, "mode": "ReadOnlyMount"}
                for key, uri in (inputs or {}).items()
            },
            metrics={
                k: [float(x) for x in (v if isinstance(v, list) else [v])]
                for k, v in (metrics or {}).items()
            },
            files=list(files or []),
            created=next(self._clock),
        )
        with self._lock:
            self._jobs[job.name] = job
            for output, names in (outputs or {}).items():
                folder = f"azureml/{job.name}/{output}/"
                uri = f"azureml://datastores/{self.datastore_name}/paths/{folder}"
                job.outputs[output] = (output_type, uri if output_uris else None)
                for file in names:
                    self._blobs[folder + file] = _Blob(
                        content=f"{output}/{file}".encode(),
                        content_type="application/octet-stream",
                        metadata={},
                        etag=f'"0x{uuid.uuid4().hex[:15].upper()}"',
                        modified=time.time(),
                    )
        return job.name

    def add_pipeline_job(self, experiment: str, steps: Mapping[str, str]) -> str:
        """Add a pipeline job whose children are the jobs `steps` (node name → job name)."""
        name = self.add_job(experiment)
        with self._lock:
            self._jobs[name].job_type = "Pipeline"
            for node, child in steps.items():
                self._jobs[child].parent = name
                self._jobs[child].display_name = node
        return name

    def add_logged_model(
        self, job: str, name: str, *, dataset_metrics: list[tuple[str, float, str, str]]
    ) -> str:
        """Log an MLflow 3 model `name` in `job`, with metrics (name, value, dataset, digest).

        As ``mlflow.log_metric(key, value, dataset=...)`` keeps them: on the logged model, with
        the dataset's name and digest, and the job's last value in the run's own metrics too.
        """
        model_id = f"m-{uuid.uuid4().hex}"
        with self._lock:
            held = self._jobs[job]
            held.logged_models[model_id] = (name, list(dataset_metrics))
            for key, value, _, _ in dataset_metrics:
                held.metrics.setdefault(key, []).append(float(value))
        return model_id

    def add_sweep_job(
        self,
        experiment: str,
        trials: list[str],
        *,
        metric: str,
        goal: str = "Maximize",
        best: str | None = None,
        status: str = "Completed",
    ) -> str:
        """Add a sweep job over the jobs `trials`, recording `best` as its best trial if given."""
        name = self.add_job(experiment, status=status)
        with self._lock:
            sweep = self._jobs[name]
            sweep.job_type = "Sweep"
            sweep.sweep_metric = metric
            sweep.sweep_goal = goal
            if best is not None:
                sweep.properties["best_child_run_id"] = best
            for trial in trials:
                self._jobs[trial].parent = name
        return name

    def versions(self, name: str, *, registry: str | None = None) -> list[dict[str, Any]]:
        """Return the REST bodies of every version of model `name`, archived ones included.

        Of the workspace's model, or of the model in `registry`.
        """
        with self._lock:
            models = self._store(registry)[0]
            return [models[name][v] for v in sorted(models.get(name, {}))]

    registry_subscription_id = "11111111-1111-1111-1111-111111111111"
    registry_resource_group = "registry-rg"

    def add_registry(self, name: str) -> str:
        """Create an (empty) Azure ML registry `name`, in a subscription of its own; return it."""
        with self._lock:
            self._registries.setdefault(name, ({}, {}))
        return name

    def registry_path(self, name: str) -> str:
        """The path of registry `name`'s assets on its regional endpoint."""
        return (
            f"/mferp/managementfrontend/subscriptions/{self.registry_subscription_id}"
            f"/resourceGroups/{self.registry_resource_group}"
            f"/providers/Microsoft.MachineLearningServices/registries/{name}"
        )

    def add_registry_version(
        self,
        registry: str,
        name: str,
        *,
        tags: Mapping[str, str] | None = None,
        stage: str | None = None,
        archived: bool = False,
    ) -> int:
        """Register a version in `registry` directly (as another client would); return it."""
        with self._lock:
            version = self._store(registry)[1].get(name, 1)
            body = {
                "properties": {
                    "modelUri": f"azureml://registries/{registry}/models/{name}/versions/{version}",
                    "modelType": "custom_model",
                    "tags": dict(tags or {}),
                    "properties": {},
                    "stage": stage,
                    "isArchived": archived,
                }
            }
            self._put_version(name, str(version), body, registry)
            return version

    def archive_at_get(
        self, name: str, version: int, *, nth: int, registry: str | None = None
    ) -> None:
        """Archive a version right after its `nth` read from now (as a person would, meanwhile).

        The read answers the version as it was; the next listing finds it archived.
        """
        with self._lock:
            self._archive_at[(registry, name, version)] = nth

    def set_registry_archived(self, registry: str, name: str, version: int) -> None:
        """Archive a version of a registry's model."""
        with self._lock:
            self._store(registry)[0][name][version]["properties"]["isArchived"] = True

    def add_model_version(
        self,
        name: str,
        *,
        job: str | None = None,
        tags: Mapping[str, str] | None = None,
        stage: str | None = None,
        archived: bool = False,
    ) -> int:
        """Register a version directly in the emulator's store (as another client would)."""
        with self._lock:
            version = self._next_version.get(name, 1)
            uri = (
                f"azureml://jobs/{job}/outputs/artifacts/paths/model.pkl"
                if job
                else "azureml://datastores/workspaceblobstore/paths/by-hand/model.pkl"
            )
            body = {
                "properties": {
                    "modelUri": uri,
                    "modelType": "custom_model",
                    "tags": dict(tags or {}),
                    "properties": {},
                    "stage": stage,
                    "isArchived": archived,
                    "jobName": job,
                }
            }
            self._put_version(name, str(version), body)
            return version

    def race_next_registration(self, name: str, job: str) -> None:
        """Let another client win the next new version of `name`, registered from `job`.

        The next PUT of a version of `name` that does not exist yet finds it just taken (as when
        two promotions read the same ``nextVersion``): the other client's version is stored at
        that number first, so the PUT meets a different ``modelUri`` there.
        """
        with self._lock:
            self._races[name] = job

    def blob(self, name: str) -> bytes:
        """Return the content of blob `name` (a path in the default datastore's container)."""
        with self._lock:
            return self._blobs[name].content

    def blob_metadata(self, name: str) -> dict[str, str]:
        """Return the metadata of blob `name`."""
        with self._lock:
            return dict(self._blobs[name].metadata)

    def uploaded(self, uri: str) -> dict[str, bytes]:
        """Return the blobs a version's ``modelUri`` points at, by their name under that path.

        A file's URI gives its one blob, named by the file's name; a folder's URI every blob
        under it, named by its path relative to the folder.
        """
        match = re.search(r"/datastores/(?P<store>[^/]+)/paths/(?P<path>.+)$", uri)
        if match is None or match["store"] != self.datastore_name:
            msg = f"not a path in datastore {self.datastore_name!r}: {uri!r}"
            raise ValueError(msg)
        path = match["path"].rstrip("/")
        with self._lock:
            if path in self._blobs:
                return {path.rsplit("/", 1)[-1]: self._blobs[path].content}
            folder = path + "/"
            return {
                k[len(folder) :]: b.content for k, b in self._blobs.items() if k.startswith(folder)
            }

    def set_archived(self, name: str, version: int, *, archived: bool = True) -> None:
        """Archive (or restore) a version, as ``models.archive`` would."""
        with self._lock:
            self._models[name][version]["properties"]["isArchived"] = archived

    # --- request handling ---------------------------------------------------------------------

    def _handle(self, handler: JsonHandler) -> None:
        if self.latency:
            time.sleep(self.latency)
        if handler.headers.get("Host", "").split(":")[0] == self.blob_host:
            self._handle_blob(handler)
            return
        path, query, raw = read_request(handler)
        if self.identity.handles(path):
            record = self._record(handler.command, path, query, None)
            self._respond_json(
                handler,
                record,
                lambda: (
                    *self.identity.serve(
                        handler.command, path, query, handler.headers, raw, self.url
                    ),
                    {},
                ),
            )
            return
        body = parse_json(raw)
        record = self._record(handler.command, path, query, body)
        if (
            path.startswith(_SIGNED_IN)
            and self.identity.check(handler.command, path, handler.headers.get("Authorization", ""))
            is None
        ):
            record.status = 401
            message = "the access token is missing or was not issued by this emulator"
            handler.send_json(401, _error_body("InvalidAuthenticationToken", message), {})
            return
        self._respond_json(
            handler,
            record,
            lambda: (*self._dispatch(handler.command, path, query, body, record), {}),
        )

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], body: Any, record: Recorded
    ) -> tuple[int, Any]:
        for route in self._routes:
            if route.method != method:
                continue
            match = route.regex.fullmatch(path)
            if match is None:
                continue
            try:
                with self._lock:
                    self._check_workspace(match.groupdict())
                    result = route.handler(
                        query=query,
                        body=body,
                        **{k: v for k, v in match.groupdict().items() if k not in _SCOPE},
                    )
            except EmulatorError as error:
                return error.status, _error_body(error.code, error.message)
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                self._not_understood(record)
                return 400, _error_body("EmulatorError", f"{type(error).__name__}: {error}")
            if isinstance(result, tuple):
                return result
            return 200, result
        self._not_understood(record)
        return 400, _error_body("EmulatorUnknownRoute", f"no route for {method} {path}")

    def _check_workspace(self, groups: Mapping[str, str | None]) -> None:
        expected = {
            "sub": self.subscription_id,
            "rg": self.resource_group,
            "ws": self.workspace_name,
            "rsub": self.registry_subscription_id,
            "rrg": self.registry_resource_group,
        }
        for key, value in expected.items():
            if groups.get(key) is not None and groups[key] != value:
                raise EmulatorError(404, "ResourceNotFound", f"no workspace {groups[key]!r}")

    def _route_table(self) -> list[_Route]:
        models = _WS + r"/models/(?P<name>[^/]+)"
        registry_models = _REGISTRY + r"/models/(?P<name>[^/]+)"
        mlflow = r"/mlflow/v2\.0" + _WS + r"/api/2\.0/mlflow"
        history = r"/history/v1\.0" + _WS
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/metadata/endpoints", self._metadata),
            ("GET", _WS, self._workspace),
            ("GET", _WS + r"/datastores", self._list_datastores),
            ("GET", _WS + r"/datastores/(?P<datastore>[^/]+)", self._get_datastore),
            (
                "POST",
                _WS + r"/datastores/(?P<datastore>[^/]+)/listSecrets",
                self._datastore_secrets,
            ),
            ("GET", r"/discovery", self._discovery),
            ("GET", _WS + r"/jobs/(?P<job>[^/]+)", self._get_job),
            ("GET", history + r"/runs/(?P<run>[^/]+)", self._history_run),
            ("GET", history + r"/runs/(?P<run>[^/]+)/children", self._children),
            (
                "GET",
                history + r"/experiments/(?P<exp>[^/]+)/runs/(?P<run>[^/]+)/artifacts",
                self._artifacts,
            ),
            ("GET", models, self._get_container),
            ("GET", models + r"/versions", self._list_versions),
            ("GET", models + r"/versions/(?P<version>[^/]+)", self._get_version),
            ("PUT", models + r"/versions/(?P<version>[^/]+)", self._put_version_route),
            (
                "GET",
                r"/registrymanagement/v1\.0/registries/(?P<registry>[^/]+)/discovery",
                self._registry_discovery,
            ),
            ("GET", registry_models, self._get_container),
            ("GET", registry_models + r"/versions", self._list_versions),
            ("GET", registry_models + r"/versions/(?P<version>[^/]+)", self._get_version),
            ("PUT", registry_models + r"/versions/(?P<version>[^/]+)", self._put_version_route),
            (
                "PUT",
                _REGISTRY + r"/tempdatarefs/(?P<name>[^/]+)/versions/(?P<version>[^/]+)",
                self._temporary_data_reference,
            ),
            ("GET", mlflow + r"/runs/get", self._mlflow_run),
            ("GET", mlflow + r"/metrics/get-history", self._mlflow_history),
            ("POST", mlflow + r"/logged-models/search", self._mlflow_logged_models),
            ("GET", mlflow + r"/experiments/get", self._mlflow_experiment),
            ("GET", mlflow + r"/experiments/get-by-name", self._mlflow_experiment_by_name),
        ]
        return [_Route(m, re.compile(p), h) for m, p, h in table]

    # --- cloud and workspace ------------------------------------------------------------------

    def _metadata(self, **_: Any) -> Any:
        return [
            {
                "name": _CLOUD,
                "portal": "https://portal.emulated.test",
                "resourceManager": self.url + "/",
                "authentication": {
                    "loginEndpoint": self.url + "/login/",
                    "audiences": [self.url + "/"],
                    "tenant": "common",
                },
                "suffixes": {"storage": self.storage_suffix},
            }
        ]

    def _workspace(self, **_: Any) -> Any:
        ws = self.workspace_path
        return {
            "id": ws,
            "name": self.workspace_name,
            "type": "Microsoft.MachineLearningServices/workspaces",
            "location": "emulated",
            "kind": "Default",
            "properties": {
                "friendlyName": self.workspace_name,
                "discoveryUrl": self.url + "/discovery",
                "mlFlowTrackingUri": f"azureml://{self.host}/mlflow/v1.0{ws}",
                "workspaceId": str(uuid.uuid5(uuid.NAMESPACE_URL, self.workspace_name)),
            },
        }

    def _discovery(self, **_: Any) -> Any:
        keys = ("api", "catalog", "experimentation", "gallery", "history", "hyperdrive")
        return dict.fromkeys((*keys, "labeling", "modelmanagement", "pipelines"), self.url)

    # --- registries --------------------------------------------------------------------------

    def _registry_discovery(self, registry: str, **_: Any) -> Any:
        """Where a registry lives (``MLClient(registry_name=...)`` asks before anything else)."""
        if registry not in self._registries:
            raise EmulatorError(404, "RegistryNotFound", f"no registry {registry!r}")
        return {
            "registryName": registry,
            "tenantId": "emulated-tenant",
            "primaryRegion": "emulated",
            "regions": ["emulated"],
            "subscriptionId": self.registry_subscription_id,
            "resourceGroup": self.registry_resource_group,
            "primaryRegionResourceProviderUri": self.url + "/",
        }

    def _check_copied_from(self, uri: str) -> None:
        """Refuse a registry version made from a workspace's model version that does not exist.

        The path a copy names is ``azureml://subscriptions/<s>/resourceGroups/<rg>/workspaces/
        <ws>/models/<n>/versions/<v>`` (assumed: the service reads the version it names).
        """
        match = re.fullmatch(
            r"azureml://subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
            r"/workspaces/(?P<ws>[^/]+)/models/(?P<name>[^/]+)/versions/(?P<version>\d+)",
            uri,
        )
        if match is None:
            return
        here = (self.subscription_id, self.resource_group, self.workspace_name)
        if (match["sub"], match["rg"], match["ws"]) != here or int(
            match["version"]
        ) not in self._models.get(match["name"], {}):
            raise EmulatorError(400, "UserError", f"the model version {uri} was not found")

    def _temporary_data_reference(self, registry: str, name: str, version: str, **_: Any) -> Any:
        """A blob to upload a new version's files to (the SDK asks even for a remote path)."""
        self._store(registry)
        blob = f"https://{self.blob_host}/{registry}/{name}/{version}"
        return {
            "blobReferenceForConsumption": {
                "blobUri": blob,
                "credential": {"credentialType": "SAS", "sasUri": blob + "?sv=emulated"},
            }
        }

    # --- the default datastore ----------------------------------------------------------------

    def _datastore(self) -> dict[str, Any]:
        return {
            "id": f"{self.workspace_path}/datastores/{self.datastore_name}",
            "name": self.datastore_name,
            "type": "Microsoft.MachineLearningServices/workspaces/datastores",
            "properties": {
                "datastoreType": "AzureBlob",
                "accountName": self.storage_account,
                "containerName": self.blob_container,
                "endpoint": self.storage_suffix,
                "protocol": "https",
                "credentials": {"credentialsType": "AccountKey"},
                "isDefault": True,
                "serviceDataAccessAuthIdentity": "None",
                "tags": {},
                "properties": {},
            },
        }

    def _get_datastore(self, datastore: str, **_: Any) -> Any:
        if datastore != self.datastore_name:
            raise EmulatorError(404, "UserError", f"datastore {datastore!r} not found")
        return self._datastore()

    def _list_datastores(self, **_: Any) -> Any:
        # Only the one default datastore: ``isDefault=true`` (get_default) or every datastore.
        return {"value": [self._datastore()]}

    def _datastore_secrets(self, datastore: str, **_: Any) -> Any:
        self._get_datastore(datastore)
        return {"secretsType": "AccountKey", "key": self.storage_key}

    # --- jobs ---------------------------------------------------------------------------------

    def _find(self, name: str) -> _Job:
        job = self._jobs.get(name)
        if job is None:
            raise EmulatorError(404, "UserError", f"job {name!r} not found")
        return job

    def _get_job(self, job: str, **_: Any) -> Any:
        found = self._find(job)
        if found.parent is not None and self._jobs[found.parent].job_type == "Pipeline":
            # A pipeline child: the service answers without properties (job.py reads run history).
            return {"id": f"{self.workspace_path}/jobs/{job}", "name": job, "properties": None}
        return self._job_body(found)

    def _job_body(self, job: _Job) -> dict[str, Any]:
        ws = self.workspace_path
        common: dict[str, Any] = {
            "jobType": job.job_type,
            "status": job.status,
            "experimentName": job.experiment,
            "displayName": job.display_name or job.name,
            "properties": dict(job.properties),
            "tags": dict(job.tags),
        }
        if job.job_type == "Command":
            common |= {
                "command": "python train.py",
                "environmentId": f"{ws}/environments/env/versions/1",
                "inputs": {key: dict(value) for key, value in job.inputs.items()},
                "outputs": {
                    "default": {
                        "jobOutputType": "uri_folder",
                        "uri": f"azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.{job.name}",
                        "mode": "ReadWriteMount",
                    },
                    **{
                        name: {"jobOutputType": kind, "uri": uri, "mode": "ReadWriteMount"}
                        for name, (kind, uri) in job.outputs.items()
                    },
                },
            }
        elif job.job_type == "Pipeline":
            common |= {"jobs": {}, "inputs": {}, "outputs": {}, "settings": {}}
        elif job.job_type == "Sweep":
            common |= {
                "objective": {"primaryMetric": job.sweep_metric, "goal": job.sweep_goal},
                "samplingAlgorithm": {"samplingAlgorithmType": "Random"},
                "searchSpace": {"lr": ["choice", [[0.1, 0.01]]]},
                "trial": {
                    "command": "python train.py --lr ${{search_space.lr}}",
                    "environmentId": f"{ws}/environments/env/versions/1",
                    "codeId": None,
                },
                "limits": {"jobLimitsType": "Sweep", "maxTotalTrials": 2},
            }
        return {
            "id": f"{ws}/jobs/{job.name}",
            "name": job.name,
            "type": "Microsoft.MachineLearningServices/workspaces/jobs",
            "properties": common,
        }

    def _run_dto(self, job: _Job) -> dict[str, Any]:
        return {
            "runId": job.name,
            "runUuid": str(uuid.uuid5(uuid.NAMESPACE_URL, job.name)),
            "parentRunId": job.parent,
            "rootRunId": job.parent or job.name,
            "experimentId": str(uuid.uuid5(uuid.NAMESPACE_URL, job.experiment)),
            "status": job.status,
            "displayName": job.display_name or job.name,
            "name": job.display_name or job.name,
            "runType": "azureml.StepRun" if job.parent else "azureml.scriptrun",
            "properties": dict(job.properties),
            "tags": dict(job.tags),
            "createdUtc": "2024-01-01T00:00:00.000Z",
            # Run history names a named output by the data asset the service made of it.
            "outputs": {
                name: {
                    "assetId": (
                        f"azureml://locations/emulated/workspaces/{self.workspace_name}"
                        f"/data/azureml_{job.name}_output_data_{name}/versions/1"
                    ),
                    "type": _ASSET_TYPES.get(kind, "UriFolder"),
                }
                for name, (kind, _) in job.outputs.items()
            },
        }

    def _history_run(self, run: str, **_: Any) -> Any:
        return self._run_dto(self._find(run))

    def _children(self, run: str, **_: Any) -> Any:
        self._find(run)
        kids = sorted((j for j in self._jobs.values() if j.parent == run), key=lambda j: j.created)
        return {"value": [self._run_dto(j) for j in kids], "continuationToken": None}

    def _artifacts(self, exp: str, run: str, **_: Any) -> Any:
        job = self._find(run)
        if job.experiment != exp:
            raise EmulatorError(404, "UserError", f"run {run!r} not in experiment {exp!r}")
        return {
            "value": [
                {"origin": "ExperimentRun", "container": f"dcid.{run}", "path": path}
                for path in job.files
            ],
            "continuationToken": None,
        }

    # --- MLflow -------------------------------------------------------------------------------

    def _mlflow_run(self, query: dict[str, str], **_: Any) -> Any:
        run_id = query.get("run_id") or query["run_uuid"]
        job = self._jobs.get(run_id)
        if job is None:
            raise _MlflowError(404, "RESOURCE_DOES_NOT_EXIST", f"Run '{run_id}' not found")
        metrics = [
            {
                "key": k,
                "value": _proto_double(v[-1]),
                "timestamp": _EPOCH_MS + len(v),
                "step": len(v) - 1,
            }
            for k, v in job.metrics.items()
        ]
        return {
            "run": {
                "info": {
                    "run_id": job.name,
                    "run_uuid": job.name,
                    "experiment_id": str(uuid.uuid5(uuid.NAMESPACE_URL, job.experiment)),
                    "run_name": job.display_name or job.name,
                    "status": "FINISHED" if job.status == "Completed" else "RUNNING",
                    "start_time": _EPOCH_MS,
                    "lifecycle_stage": "active",
                    "artifact_uri": (
                        f"azureml://{self.host}/mlflow/v2.0{self.workspace_path}"
                        f"/experiments/{job.experiment}/runs/{job.name}/artifacts"
                    ),
                },
                "data": {
                    "metrics": metrics,
                    "params": [{"key": k, "value": v} for k, v in job.params.items()],
                    "tags": [{"key": k, "value": v} for k, v in job.tags.items()],
                },
                "inputs": {},
                "outputs": {
                    "model_outputs": [{"model_id": m, "step": 0} for m in job.logged_models]
                },
            }
        }

    def _mlflow_logged_models(self, body: Any, **_: Any) -> Any:
        match = re.fullmatch(r"source_run_id = '(?P<run>[^']+)'", str(body.get("filter") or ""))
        if match is None:
            raise _MlflowError(400, "INVALID_PARAMETER_VALUE", "filter by source_run_id only")
        job = self._jobs.get(match["run"])
        found = [] if job is None else job.logged_models.items()
        experiment = "" if job is None else str(uuid.uuid5(uuid.NAMESPACE_URL, job.experiment))
        models = [
            {
                "info": {
                    "model_id": model_id,
                    "experiment_id": experiment,
                    "name": name,
                    "artifact_uri": f"azureml://{self.host}/logged-models/{model_id}",
                    "status": "LOGGED_MODEL_READY",
                    "source_run_id": match["run"],
                    "creation_timestamp_ms": _EPOCH_MS,
                    "last_updated_timestamp_ms": _EPOCH_MS,
                },
                "data": {
                    "metrics": [
                        {
                            "key": key,
                            "value": _proto_double(value),
                            "timestamp": _EPOCH_MS + index,
                            "step": 0,
                            "dataset_name": dataset,
                            "dataset_digest": digest,
                            "model_id": model_id,
                            "run_id": match["run"],
                        }
                        for index, (key, value, dataset, digest) in enumerate(metrics)
                    ],
                    "params": [],
                },
            }
            for model_id, (name, metrics) in found
        ]
        return {"models": models}

    def _mlflow_history(self, query: dict[str, str], **_: Any) -> Any:
        run_id = query.get("run_id") or query["run_uuid"]
        job = self._jobs.get(run_id)
        if job is None:
            raise _MlflowError(404, "RESOURCE_DOES_NOT_EXIST", f"Run '{run_id}' not found")
        key = query["metric_key"]
        values = job.metrics.get(key, [])
        return {
            "metrics": [
                {"key": key, "value": _proto_double(v), "timestamp": _EPOCH_MS + i, "step": i}
                for i, v in enumerate(values)
            ]
        }

    def _mlflow_experiment(self, query: dict[str, str], **_: Any) -> Any:
        wanted = query["experiment_id"]
        for job in self._jobs.values():
            if str(uuid.uuid5(uuid.NAMESPACE_URL, job.experiment)) == wanted:
                return {
                    "experiment": {
                        "experiment_id": wanted,
                        "name": job.experiment,
                        "lifecycle_stage": "active",
                    }
                }
        raise _MlflowError(404, "RESOURCE_DOES_NOT_EXIST", f"experiment {wanted} not found")

    def _mlflow_experiment_by_name(self, query: dict[str, str], **_: Any) -> Any:
        wanted = query["experiment_name"]
        if not any(job.experiment == wanted for job in self._jobs.values()):
            raise _MlflowError(404, "RESOURCE_DOES_NOT_EXIST", f"experiment {wanted!r} not found")
        return {
            "experiment": {
                "experiment_id": str(uuid.uuid5(uuid.NAMESPACE_URL, wanted)),
                "name": wanted,
                "lifecycle_stage": "active",
            }
        }

    # --- models -------------------------------------------------------------------------------

    def _store(
        self, registry: str | None
    ) -> tuple[dict[str, dict[int, dict[str, Any]]], dict[str, int], str, str]:
        """The models of the workspace (None) or of a registry: (versions, next, id, type)."""
        if registry is None:
            return (
                self._models,
                self._next_version,
                self.workspace_path,
                "Microsoft.MachineLearningServices/workspaces",
            )
        if registry not in self._registries:
            raise EmulatorError(404, "ResourceNotFound", f"no registry {registry!r}")
        models, following = self._registries[registry]
        return models, following, f"azureml://registries/{registry}", "registries"

    def _container(self, name: str, registry: str | None = None) -> dict[str, Any]:
        models, following, prefix, kind = self._store(registry)
        return {
            "id": f"{prefix}/models/{name}",
            "name": name,
            "type": f"{kind}/models",
            "properties": {
                "latestVersion": str(max(models[name])),
                "nextVersion": str(following[name]),
                "isArchived": False,
                "tags": {},
                "properties": {},
            },
        }

    def _get_container(self, name: str, registry: str | None = None, **_: Any) -> Any:
        if name not in self._store(registry)[0]:
            raise EmulatorError(404, "UserError", f"model container {name!r} not found")
        return self._container(name, registry)

    def _version_body(self, name: str, version: int, registry: str | None = None) -> dict[str, Any]:
        models, _, prefix, kind = self._store(registry)
        held = models[name][version]
        properties = {**json.loads(json.dumps(held["properties"])), "flavors": {}}
        if registry is not None:
            # A registry's versions are made by a long-running operation: done when answered.
            properties["provisioningState"] = "Succeeded"
        return {
            "id": f"{prefix}/models/{name}/versions/{version}",
            "name": str(version),
            "type": f"{kind}/models/versions",
            "systemData": {"createdAt": "2024-01-01T00:00:00Z", "createdBy": "emulated"},
            "properties": properties,
        }

    def _list_versions(
        self, name: str, query: dict[str, str], registry: str | None = None, **_: Any
    ) -> Any:
        held = self._store(registry)[0].get(name, {})
        view = query.get("listViewType", "ActiveOnly")
        numbers = sorted(held, key=lambda v: held[v]["created"], reverse=True)
        if view == "ActiveOnly":
            numbers = [v for v in numbers if not held[v]["properties"].get("isArchived")]
        elif view == "ArchivedOnly":
            numbers = [v for v in numbers if held[v]["properties"].get("isArchived")]
        if query.get("stage"):
            numbers = [v for v in numbers if held[v]["properties"].get("stage") == query["stage"]]
        tags = query.get("tags")
        if tags:
            wanted = dict(
                pair.split("=", 1) if "=" in pair else (pair, None) for pair in tags.split(",")
            )
            numbers = [
                v
                for v in numbers
                if all(
                    k in held[v]["properties"]["tags"]
                    and (w is None or held[v]["properties"]["tags"][k] == w)
                    for k, w in wanted.items()
                )
            ]
        if query.get("$top"):
            numbers = numbers[: int(query["$top"])]
        # Pages of `page_size`, the next one named by a nextLink with a $skipToken.
        start = int(query.get("$skipToken") or 0)
        page = numbers[start : start + self.page_size]
        body: dict[str, Any] = {"value": [self._version_body(name, v, registry) for v in page]}
        if start + self.page_size < len(numbers):
            rest = {k: v for k, v in query.items() if k != "$skipToken"}
            rest["$skipToken"] = str(start + self.page_size)
            base = self.workspace_path if registry is None else self.registry_path(registry)
            body["nextLink"] = f"{self.url}{base}/models/{name}/versions?{urlencode(rest)}"
        return body

    def _get_version(self, name: str, version: str, registry: str | None = None, **_: Any) -> Any:
        number = int(version)
        models = self._store(registry)[0]
        if number not in models.get(name, {}):
            raise EmulatorError(404, "UserError", f"model {name}:{version} not found")
        body = self._version_body(name, number, registry)
        key = (registry, name, number)
        if key in self._archive_at:
            self._archive_at[key] -= 1
            if self._archive_at[key] == 0:
                del self._archive_at[key]
                models[name][number]["properties"]["isArchived"] = True
        return body

    def _put_version_route(
        self, name: str, version: str, body: Any, registry: str | None = None, **_: Any
    ) -> Any:
        key = name if registry is None else f"{registry}/{name}"
        if key in self._races and int(version) not in self._store(registry)[0].get(name, {}):
            job = self._races.pop(key)
            uri = f"azureml://jobs/{job}/outputs/artifacts/paths/model.pkl"
            self._put_version(
                name, version, {"properties": {"modelUri": uri, "tags": {}}}, registry
            )
        return self._put_version(name, version, body, registry)

    def _put_version(
        self, name: str, version: str, body: Any, registry: str | None = None
    ) -> tuple[int, Any]:
        models, following, _, _ = self._store(registry)
        number = int(version)
        props = dict(body["properties"])
        uri = str(props.get("modelUri") or "")
        match = re.match(r"azureml://jobs/(?P<job>[^/]+)/outputs/", uri)
        held = models.setdefault(name, {})
        if number in held:
            old = held[number]["properties"]
            if props.get("modelUri") and props["modelUri"] != old["modelUri"]:
                if registry is not None:
                    message = f"Model {name}:{version} already exists in registry {registry}."
                    raise EmulatorError(409, "UserError", message)
                raise EmulatorError(400, "UserError", "Asset paths cannot be updated.")
            for key in ("description", "tags", "properties", "stage", "isArchived"):
                if key in props:
                    old[key] = props[key]
            return 200, self._version_body(name, number, registry)
        if registry is not None:
            self._check_copied_from(uri)
        stored = {
            "modelUri": uri,
            "modelType": props.get("modelType") or "custom_model",
            "description": props.get("description"),
            "tags": dict(props.get("tags") or {}),
            "properties": dict(props.get("properties") or {}),
            "stage": props.get("stage") or "Development",
            "isArchived": bool(props.get("isArchived")),
            "jobName": props.get("jobName") or (match["job"] if match else None),
        }
        held[number] = {"properties": stored, "created": next(self._clock)}
        following[name] = max(following.get(name, 1), number + 1)
        return 201, self._version_body(name, number, registry)

    # --- the Blob service of the default datastore --------------------------------------------

    def _handle_blob(self, handler: JsonHandler) -> None:
        """Serve a Blob REST call the SDK makes through the proxy's tunnel (XML, not ARM JSON).

        Faults apply as to every route, matched on the path ``/<container>/<blob>``.
        """
        path, query, raw = read_request(handler)
        record = self._record(handler.command, path, query, raw)

        def answer(result: tuple[int, dict[str, str], bytes]) -> None:
            status, headers, body = result
            self._blob_answer(handler, record, status, headers, body=body)

        def fail(fault: Fault) -> None:
            headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            self._blob_answer(
                handler, record, fault.status, headers, error=("ServerBusy", "injected fault")
            )

        self._respond(
            handler,
            record,
            serve=lambda: self._blob_dispatch(handler, path, query, raw, record),
            answer=answer,
            fail=fail,
        )

    def _blob_dispatch(
        self, handler: JsonHandler, path: str, query: dict[str, str], raw: bytes, record: Recorded
    ) -> tuple[int, dict[str, str], bytes]:
        """Return (status, headers, body) for a blob request; errors as the service's XML."""
        method = handler.command
        auth = handler.headers.get("Authorization", "")
        if not auth.startswith(f"SharedKey {self.storage_account}:"):
            return self._blob_error(403, "AuthenticationFailed", "not signed with the account key")
        container, _, name = path.lstrip("/").partition("/")
        if container != self.blob_container:
            return self._blob_error(404, "ContainerNotFound", f"no container {container!r}")
        comp = query.get("comp")
        with self._lock:
            held = self._blobs.get(name)
            if method == "HEAD" and not comp and name:
                if held is None:
                    return self._blob_error(404, "BlobNotFound", f"no blob {name!r}")
                return 200, self._blob_headers(held, content=True), b""
            if method == "PUT" and not comp and name:
                return self._put_blob(handler, name, raw, held)
            if method == "GET" and not comp and name:
                return self._get_blob(handler, name, held)
            if method == "GET" and comp == "list" and not name:
                return self._list_blobs(query)
            if method == "PUT" and comp == "metadata" and name:
                if held is None:
                    return self._blob_error(404, "BlobNotFound", f"no blob {name!r}")
                held.metadata = _blob_metadata(handler)
                held.etag = f'"0x{uuid.uuid4().hex[:15].upper()}"'
                held.modified = time.time()
                return 200, self._blob_headers(held), b""
        self._not_understood(record)
        return self._blob_error(400, "EmulatorUnknownRoute", f"no blob route for {method} {path}")

    def _get_blob(
        self, handler: JsonHandler, name: str, held: _Blob | None
    ) -> tuple[int, dict[str, str], bytes]:
        """A blob's content: whole (200), or the range ``x-ms-range`` asks for (206).

        azure-storage-blob's download asks for its first chunk as a range, and reads the
        blob's length from ``Content-Range``.
        """
        if held is None:
            return self._blob_error(404, "BlobNotFound", f"no blob {name!r}")
        headers = self._blob_headers(held, content=True)
        wanted = handler.headers.get("x-ms-range") or handler.headers.get("Range")
        size = len(held.content)
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", wanted or "")
        if match is None:
            return 200, headers, held.content
        start = int(match[1])
        end = min(int(match[2]) if match[2] else size - 1, size - 1)
        if start >= size:
            return self._blob_error(416, "InvalidRange", "the range is past the blob's end")
        part = held.content[start : end + 1]
        headers |= {
            "Content-Length": str(len(part)),
            "Content-Range": f"bytes {start}-{end}/{size}",
        }
        return 206, headers, part

    def _list_blobs(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """List the blobs whose names start with ``prefix``, in one page.

        With ``delimiter=/`` (``walk_blobs``, which azure-ai-ml's ``exists`` uses to tell a
        folder), one level: the blobs right under the prefix, and a ``BlobPrefix`` for each
        folder below it.
        """
        prefix = query.get("prefix", "")
        delimiter = query.get("delimiter")
        if query.get("restype") != "container" or delimiter not in {None, "/"}:
            return self._blob_error(400, "EmulatorUnsupported", "a listing by '/' or flat only")
        names = sorted(name for name in self._blobs if name.startswith(prefix))
        folders: list[str] = []
        if delimiter is not None:
            below = [name for name in names if delimiter in name[len(prefix) :]]
            folders = sorted(
                {prefix + name[len(prefix) :].split(delimiter, 1)[0] + delimiter for name in below}
            )
            names = [name for name in names if name not in below]
        entries = "".join(
            f"<BlobPrefix><Name>{escape(folder)}</Name></BlobPrefix>" for folder in folders
        ) + "".join(
            f"<Blob><Name>{escape(name)}</Name><Properties>"
            f"<Last-Modified>{email.utils.formatdate(blob.modified, usegmt=True)}</Last-Modified>"
            f"<Etag>{escape(blob.etag)}</Etag><Content-Length>{len(blob.content)}</Content-Length>"
            f"<Content-Type>{escape(blob.content_type)}</Content-Type>"
            "<BlobType>BlockBlob</BlobType><LeaseStatus>unlocked</LeaseStatus>"
            "<LeaseState>available</LeaseState></Properties></Blob>"
            for name, blob in ((name, self._blobs[name]) for name in names)
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<EnumerationResults ServiceEndpoint="https://{self.blob_host}/" '
            f'ContainerName="{self.blob_container}"><Prefix>{escape(prefix)}</Prefix>'
            f"<Blobs>{entries}</Blobs><NextMarker /></EnumerationResults>"
        )
        return 200, {"Content-Type": "application/xml"}, body.encode()

    def _put_blob(
        self, handler: JsonHandler, name: str, raw: bytes, held: _Blob | None
    ) -> tuple[int, dict[str, str], bytes]:
        if handler.headers.get("x-ms-blob-type") != "BlockBlob":
            return self._blob_error(400, "InvalidHeaderValue", "only block blobs are emulated")
        if held is not None and handler.headers.get("If-None-Match") == "*":
            return self._blob_error(409, "BlobAlreadyExists", f"blob {name!r} exists")
        md5 = base64.b64encode(hashlib.md5(raw).digest()).decode()  # noqa: S324 - the protocol's
        sent = handler.headers.get("Content-MD5")
        if sent is not None and sent != md5:
            return self._blob_error(400, "Md5Mismatch", "the content's MD5 does not match")
        blob = _Blob(
            content=raw,
            content_type=handler.headers.get("x-ms-blob-content-type")
            or "application/octet-stream",
            metadata=_blob_metadata(handler),
            etag=f'"0x{uuid.uuid4().hex[:15].upper()}"',
            modified=time.time(),
        )
        self._blobs[name] = blob
        return 201, {**self._blob_headers(blob), "Content-MD5": md5}, b""

    def _blob_headers(self, blob: _Blob, *, content: bool = False) -> dict[str, str]:
        headers = {
            "ETag": blob.etag,
            "Last-Modified": email.utils.formatdate(blob.modified, usegmt=True),
            "x-ms-request-server-encrypted": "true",
        }
        if content:
            headers |= {
                "Content-Length": str(len(blob.content)),
                "Content-Type": blob.content_type,
                "x-ms-blob-type": "BlockBlob",
                "x-ms-creation-time": email.utils.formatdate(blob.modified, usegmt=True),
                "x-ms-lease-state": "available",
                "x-ms-lease-status": "unlocked",
                "x-ms-server-encrypted": "true",
            }
            headers |= {f"x-ms-meta-{k}": v for k, v in blob.metadata.items()}
        return headers

    @staticmethod
    def _blob_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        )
        return status, {"x-ms-error-code": code, "Content-Type": "application/xml"}, body.encode()

    def _blob_answer(
        self,
        handler: JsonHandler,
        record: Recorded,
        status: int,
        headers: Mapping[str, str],
        *,
        body: bytes = b"",
        error: tuple[str, str] | None = None,
    ) -> None:
        if error is not None:
            status, extra, body = self._blob_error(status, *error)
            headers = {**headers, **extra}
        record.status = status
        handler.send_response(status)
        sent = {k.lower() for k in headers}
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("x-ms-request-id", str(uuid.uuid4()))
        handler.send_header("x-ms-version", handler.headers.get("x-ms-version") or "2025-01-05")
        handler.send_header("Date", email.utils.formatdate(usegmt=True))
        if "content-length" not in sent:
            # A HEAD answers the blob's own length, and no body.
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)


def _blob_metadata(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    """Return a blob request's ``x-ms-meta-*`` headers as metadata (names in lower case)."""
    prefix = "x-ms-meta-"
    return {
        key[len(prefix) :].lower(): value
        for key, value in handler.headers.items()
        if key.lower().startswith(prefix)
    }


# How run history types an output (azure-ai-ml's get_job_output_uris_from_dataplane reads it).
_ASSET_TYPES = {
    "uri_folder": "UriFolder",
    "mlflow_model": "MLFlowModel",
    "custom_model": "CustomModel",
}


class _MlflowError(EmulatorError):
    pass


_SCOPE = ("sub", "rg", "ws", "rsub", "rrg")


def _proto_double(value: float) -> float | str:
    """A double as MLflow's server writes it: protobuf JSON quotes NaN and the infinities.

    The server answers with ``MessageToDict`` (``mlflow.utils.proto_json_utils``), which writes
    NaN as ``"NaN"`` and ±inf as ``"Infinity"`` / ``"-Infinity"``; the client's ``ParseDict``
    refuses the bare JSON token ``NaN`` that ``json.dumps`` would write.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


class _TlsServer(ThreadingHTTPServer):
    def server_bind(self) -> None:
        # Without TCP_NODELAY each small response waits ~40 ms for the client's delayed ACK.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().server_bind()

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn, addr
