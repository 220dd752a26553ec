"""`MlflowBackend` against a real ``mlflow server`` process on 127.0.0.1, over HTTP.

Skipped unless ``AML_PROMOTION_MLFLOW_SERVER`` names the ``mlflow`` executable of a virtualenv
with the full mlflow package (see conftest.py). Failures are made by a small proxy on
127.0.0.1 in front of the server, which answers chosen requests with HTTP 503 before or after
passing them on.
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")

from aml_promotion import BaselineStrategy, RetryPolicy, Verdict, promote
from aml_promotion.adapters.mlflow import LOCAL_EXPERIMENT, MlflowBackend
from aml_promotion.exceptions import TransientRegistryError
from aml_promotion.ports import RegistrationRequest
from contract import BackendContract

if TYPE_CHECKING:
    from integration.mlflow.conftest import MlflowHarness, MlflowServer

pytestmark = pytest.mark.mlflow_server

SETTINGS: dict[str, Any] = {
    "model_name": "churn",
    "model_file_name": "model.pkl",
    "metrics_max": ["auc"],
    "metrics_min": ["loss"],
}


@pytest.fixture
def harness(server_harness: MlflowHarness) -> MlflowHarness:
    """The contract's harness: the shared server (each test uses fresh names)."""
    return server_harness


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> str:
    """A model name no other test on the shared server uses."""
    name = str(request.node.name)
    return "m-" + name.replace("[", "-").replace("]", "")[:80]


class TestMlflowBackendOnServer(BackendContract):
    """MlflowBackend over HTTP to a real MLflow server keeps the contract."""

    has_aliases = True


@attrs.define
class Fault:
    """Answer the next `times` requests whose path contains `path` with 503, `when` relayed."""

    path: str
    when: str  # "before": not passed on; "after": passed on, the answer replaced
    times: int = 1


class FlakyProxy:
    """An HTTP proxy on 127.0.0.1 in front of the MLflow server that fails chosen requests."""

    def __init__(self, upstream: str) -> None:
        self.faults: list[Fault] = []
        self.requests: list[str] = []
        target = urllib.parse.urlsplit(upstream)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.requests.append(f"{self.command} {self.path}")
                fault = proxy.take(self.path)
                if fault is None or fault.when == "after":
                    upstream = http.client.HTTPConnection(
                        target.hostname or "127.0.0.1", target.port, timeout=30
                    )
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    status, payload = answer.status, answer.read()
                    kind = answer.getheader("Content-Type", "application/json")
                    upstream.close()
                if fault is not None:
                    status, kind = 503, "application/json"
                    payload = json.dumps(
                        {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "proxy fault"}
                    ).encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _relay  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Stay quiet."""

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def take(self, path: str) -> Fault | None:
        """Return (and use up) the first fault for `path`, if any."""
        with self._lock:
            for fault in self.faults:
                if fault.path in path and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def proxy(mlflow_server: MlflowServer) -> Iterator[FlakyProxy]:
    """A fault-injecting proxy in front of the server."""
    flaky = FlakyProxy(mlflow_server.url)
    yield flaky
    flaky.stop()


@pytest.fixture
def proxied(proxy: FlakyProxy, policy: RetryPolicy) -> MlflowBackend:
    """A backend that talks to the server through the proxy."""
    return MlflowBackend(proxy.url, retry=policy)


def test_version_numbers_come_as_text_and_are_read_as_numbers(
    harness: MlflowHarness, unique_name: str
) -> None:
    """MLflow's REST API gives version numbers as strings; the ports get ints."""
    run_id = harness.add_run("server", {}, ["model.pkl"])
    run = harness.backend.runs.get_run(experiment_name="server", run_id=run_id)
    version = harness.backend.registry.register(
        RegistrationRequest(name=unique_name, model_path="model.pkl", run=run)
    )
    assert harness.client.get_model_version(unique_name, "1").version == "1"
    assert version.version == 1
    latest = harness.backend.registry.find_baseline(unique_name, BaselineStrategy.latest())
    assert latest is not None
    assert latest.version == 1


def test_a_lost_registration_answer_over_http_is_not_registered_twice(
    harness: MlflowHarness,
    proxy: FlakyProxy,
    proxied: MlflowBackend,
    unique_name: str,
    retry_waits: list[float],
) -> None:
    """The server registers, its answer is replaced by a 503: the retry finds that version."""
    run_id = harness.add_run("server", {}, ["model.pkl"])
    run = proxied.runs.get_run(experiment_name="server", run_id=run_id)
    proxy.faults.append(Fault("/model-versions/create", "after"))
    version = proxied.registry.register(
        RegistrationRequest(name=unique_name, model_path="model.pkl", run=run)
    )
    assert version.version == 1
    assert len(harness.client.search_model_versions(f"name = '{unique_name}'")) == 1
    creates = [r for r in proxy.requests if "/model-versions/create" in r]
    assert len(creates) == 1
    assert len(retry_waits) == 1


def test_503s_before_the_server_are_retried_one_request_per_attempt(
    proxy: FlakyProxy, proxied: MlflowBackend, unique_name: str, retry_waits: list[float]
) -> None:
    """Two 503s then an answer: three requests in all, MLflow's own retries off."""
    proxy.faults.append(Fault("/model-versions/search", "before", times=2))
    assert proxied.registry.find_baseline(unique_name, BaselineStrategy.latest()) is None
    assert len(proxy.requests) == 3
    assert len(retry_waits) == 2


def test_503s_that_last_are_a_transient_error(
    proxy: FlakyProxy, proxied: MlflowBackend, unique_name: str, policy: RetryPolicy
) -> None:
    """A server that keeps failing: TransientRegistryError after the policy's attempts."""
    proxy.faults.append(Fault("/model-versions/search", "before", times=99))
    with pytest.raises(TransientRegistryError):
        proxied.registry.find_baseline(unique_name, BaselineStrategy.latest())
    assert len(proxy.requests) == policy.attempts


def test_a_local_model_is_uploaded_through_the_server(
    harness: MlflowHarness, unique_name: str, tmp_path: Path
) -> None:
    """Local mode over HTTP: the file goes to the server's artifact store, then is registered."""
    model = tmp_path / "model.pkl"
    model.write_text("a model\n")
    settings = {"model_name": unique_name, "metrics_max": ["auc"]}
    first = promote(
        settings=settings, backend=harness.backend, model_path=model, metrics={"auc": 0.8}
    )
    assert first.model is not None
    assert first.model.run_id is not None
    assert first.model.experiment_name == LOCAL_EXPERIMENT
    files = [f.path for f in harness.client.list_artifacts(first.model.run_id, "model")]
    assert files == ["model/model.pkl"]
    assert first.model.source == f"runs:/{first.model.run_id}/model"
    model.write_text("another model\n")  # the same content again would be "already registered"
    worse = promote(
        settings=settings, backend=harness.backend, model_path=model, metrics={"auc": 0.7}
    )
    assert worse.decision.verdict is Verdict.REJECT


def test_awkward_tags_are_filtered_by_the_server(harness: MlflowHarness, unique_name: str) -> None:
    """Tag keys with dots and spaces, values with quotes: found through the REST API too."""
    registry = harness.backend.registry
    tags = {"stage.name": "it's prod", "the owner": 'say "hi"', "both": """it's "x" """}
    run = harness.backend.runs.get_run(
        experiment_name=None, run_id=harness.add_run("server", {}, ["model.pkl"])
    )
    version = registry.register(
        RegistrationRequest(name=unique_name, model_path="model.pkl", run=run, tags=tags)
    )
    for key, value in tags.items():
        assert [v.version for v in registry.find_tagged(unique_name, key, value)] == [
            version.version
        ]


def test_a_pipeline_step_is_found_over_http(harness: MlflowHarness) -> None:
    """The child run named like the step is found with a search the server runs."""
    parent = harness.add_run("server", {}, [])
    step = harness.add_run("server", {"auc": 0.9}, [], run_name="fit", parent_run_id=parent)
    run = harness.backend.runs.get_run(experiment_name="server", run_id=parent, pipeline_step="fit")
    assert run.run_id == step


def test_a_logged_model_is_found_and_registered_over_http(
    harness: MlflowHarness, unique_name: str
) -> None:
    """An MLflow 3 logged model's files are listed through the server and registered by name."""
    run_id = harness.add_run("server", {"auc": 0.9}, ["outputs/notes.txt"], status="RUNNING")
    harness.add_logged_model(run_id, "model", ["MLmodel", "model.pkl"])
    harness.client.set_terminated(run_id)
    run = harness.backend.runs.get_run(experiment_name="server", run_id=run_id)
    assert harness.backend.runs.list_files(run) == [
        "model/MLmodel",
        "model/model.pkl",
        "outputs/notes.txt",
    ]
    settings = {"model_name": unique_name, "model_file_name": "model/", "metrics_max": ["auc"]}
    result = promote(
        experiment_name="server", run_id=run_id, settings=settings, backend=harness.backend
    )
    assert result.model is not None
    # Registered as mlflow.register_model registers a logged model.
    logged = harness.client.search_logged_models(
        [harness.experiment_id("server")], filter_string=f"source_run_id = '{run_id}'"
    )
    assert result.model.source == f"models:/{logged[0].model_id}"


@pytest.mark.filterwarnings("ignore:.*Add type hints to the `predict` method:UserWarning")
def test_a_pyfunc_model_promoted_through_the_server_loads_by_alias(
    harness: MlflowHarness,
    unique_name: str,
    mlflow_server: MlflowServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """log_model over HTTP, promote to @champion, load models:/<name>@champion from the server."""
    import mlflow  # noqa: PLC0415

    from integration.mlflow.pyfunc_model import AddK, predict  # noqa: PLC0415

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    monkeypatch.setattr("mlflow.tracking._tracking_service.utils._tracking_uri", None)
    mlflow.set_tracking_uri(mlflow_server.url)
    mlflow.set_experiment("server")
    settings = {
        "model_name": unique_name,
        "model_file_name": "model",
        "metrics_max": ["auc"],
        "baseline": "alias:champion",
    }
    for k, auc in [(1, 0.8), (5, 0.9)]:
        with mlflow.start_run() as run:
            mlflow.log_metric("auc", auc)
            mlflow.pyfunc.log_model(name="model", python_model=AddK(k), pip_requirements=[])
        result = promote(
            experiment_name="server",
            run_id=run.info.run_id,
            settings=settings,
            backend=harness.backend,
        )
        assert result.champion_version == (1 if k == 1 else 2)
    assert predict(f"models:/{unique_name}/1") == [2, 3]
    assert predict(f"models:/{unique_name}@champion") == [6, 7]
