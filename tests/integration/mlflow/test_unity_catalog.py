"""Unity Catalog lookups, run through MLflow's own Unity Catalog store against a local stand-in.

Databricks is not reached: ``DATABRICKS_HOST`` points MLflow's ``UcModelRegistryStore`` at an
HTTP server on 127.0.0.1 that answers its search, get and alias endpoints the way Unity Catalog
does, and refuses what Unity Catalog refuses (an ``order_by``, a second filter condition). For a
copy into Unity Catalog it also serves the create path as MLflow's store makes it: the registered
model, the version (pending), its temporary credentials in Databricks' default storage (the
presigned-URL mode), one upload URL per file, the uploads themselves (a PUT to that URL, here on
127.0.0.1 too), and the finalize that makes the version ready. What this does not prove
(credentials, a customer's own cloud storage, permissions) is listed in docs/backends-mlflow.md.
"""

from __future__ import annotations

import http.server
import json
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")

from aml_promotion import BaselineStrategy, promote
from aml_promotion.adapters.mlflow import MlflowBackend
from aml_promotion.exceptions import RegistryError, SettingsError
from aml_promotion.ports import RegistrationRequest

if TYPE_CHECKING:
    from integration.mlflow.conftest import MlflowHarness

NAME = "main.default.churn"
UC = "/api/2.0/mlflow/unity-catalog"
PAGE = 2  # the stand-in's page size, whatever max_results asks: several pages, always


def _version(number: int, *, run_id: str, status: str = "READY", **tags: str) -> dict[str, Any]:
    return {
        "name": NAME,
        "version": str(number),
        "run_id": run_id,
        "status": status,
        "source": f"models:/m-{number}",
        "tags": [{"key": key, "value": value} for key, value in tags.items()],
    }


class StandIn(http.server.ThreadingHTTPServer):
    """Unity Catalog's model-version endpoints, over a list of versions; every request kept."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.versions: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.models: set[str] = set()
        # the files uploaded to the presigned URLs: path under /Models -> (content, headers)
        self.uploads: dict[str, tuple[bytes, dict[str, str]]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, message: str) -> None:
        self._answer(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": message})

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self) -> None:
        path = urllib.parse.urlparse(self.path).path
        self.server.requests.append(("POST", path, {}))
        body = json.loads(self._body() or b"{}")
        server = self.server
        if path == f"{UC}/registered-models/create":
            server.models.add(body["name"])
            self._answer(200, {"registered_model": {"name": body["name"]}})
        elif path == f"{UC}/model-versions/create":
            if body.get("name") not in server.models:
                self._answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no model"})
                return
            number = 1 + max((int(held["version"]) for held in server.versions), default=0)
            created = {
                "name": body["name"],
                "version": str(number),
                "source": body["source"],
                "status": "PENDING_REGISTRATION",
                "tags": body.get("tags", []),
                "description": body.get("description", ""),
                "storage_location": f"s3://stand-in/models/{number}",
            }
            if body.get("run_id"):
                created["run_id"] = body["run_id"]
            server.versions.append(created)
            self._answer(200, {"model_version": created})
        elif path == f"{UC}/model-versions/generate-temporary-credentials":
            # Databricks' default storage: the files go through presigned URLs.
            self._answer(200, {"credentials": {"storage_mode": "DEFAULT_STORAGE"}})
        elif path == "/api/2.0/fs/create-upload-url":
            headers = [{"name": "x-stand-in-signature", "value": "signed"}]
            self._answer(200, {"url": f"{server.url}/upload{body['path']}", "headers": headers})
        elif path == f"{UC}/model-versions/finalize":
            found = [held for held in server.versions if held["version"] == body["version"]]
            found[0]["status"] = "READY"
            self._answer(200, {"model_version": found[0]})
        elif path == f"{UC}/model-versions/set-tag":
            found = [held for held in server.versions if held["version"] == body["version"]]
            kept = [tag for tag in found[0]["tags"] if tag["key"] != body["key"]]
            found[0]["tags"] = [*kept, {"key": body["key"], "value": body["value"]}]
            self._answer(200, {})
        else:
            self._answer(
                404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "not in the stand-in"}
            )

    def do_PUT(self) -> None:
        path = urllib.parse.urlparse(self.path).path
        self.server.requests.append(("PUT", path, {}))
        if not path.startswith("/upload/"):
            self._answer(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "not here"})
            return
        headers = {key.lower(): value for key, value in self.headers.items()}
        self.server.uploads[path.removeprefix("/upload")] = (self._body(), headers)
        self._answer(200, {})

    def do_GET(self) -> None:
        parsed = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(parsed.query)
        self.server.requests.append(("GET", parsed.path, query))
        versions = self.server.versions
        if parsed.path == f"{UC}/model-versions/search":
            if "order_by" in query:
                self._refuse("order_by is not supported")
                return
            condition = query.get("filter", [""])[0]
            if " and " in condition.lower() or condition != f"name = '{NAME}'":
                self._refuse(f"unsupported filter: {condition}")
                return
            start = int(query.get("page_token", ["0"])[0])
            page = [{k: v for k, v in held.items() if k != "tags"} for held in versions]
            page = page[start : start + PAGE]  # search results carry no tags in Unity Catalog
            following = start + PAGE
            token = str(following) if following < len(versions) else ""
            self._answer(200, {"model_versions": page, "next_page_token": token})
        elif parsed.path == f"{UC}/registered-models/get":
            name = query["name"][0]
            if name in self.server.models:
                self._answer(200, {"registered_model": {"name": name}})
            else:
                self._answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "none"})
        elif parsed.path == f"{UC}/model-versions/get":
            number = query["version"][0]
            found = [held for held in versions if held["version"] == number]
            if found:
                self._answer(200, {"model_version": found[0]})
            else:
                self._answer(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "none"})
        else:
            self._answer(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "not here"})


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    """The stand-in, and Databricks' variables pointing MLflow at it."""
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DATABRICKS_HOST", server.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-stand-in")
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def backend(stand_in: StandIn, sqlite_uri: str) -> MlflowBackend:
    """Runs in a sqlite store, the registry in (the stand-in for) Unity Catalog."""
    assert stand_in.url
    return MlflowBackend(sqlite_uri, "databricks-uc")


def _searches(stand_in: StandIn) -> list[dict[str, list[str]]]:
    return [q for _, path, q in stand_in.requests if path == f"{UC}/model-versions/search"]


def test_the_latest_usable_version_is_found_without_order_by_over_every_page(
    stand_in: StandIn, backend: MlflowBackend
) -> None:
    """No order_by and one condition: pages read, ordered here; a failed version passed over."""
    stand_in.versions = [
        _version(2, run_id="r1"),
        _version(5, run_id="r3", status="FAILED_REGISTRATION"),
        _version(1, run_id="r1"),
        _version(4, run_id="r2", generation="2"),
        _version(3, run_id="r2"),
    ]
    latest = backend.registry.find_baseline(NAME, BaselineStrategy.latest())
    assert latest is not None
    assert latest.version == 4
    assert latest.tags == {"generation": "2"}  # read in full: the search gives no tags
    searches = _searches(stand_in)
    assert [q.get("page_token", [None])[0] for q in searches] == [None, "2", "4"]
    assert all("order_by" not in q for q in searches)
    assert {q["filter"][0] for q in searches} == {f"name = '{NAME}'"}


def test_the_version_of_a_run_is_filtered_here(stand_in: StandIn, backend: MlflowBackend) -> None:
    """find_by_run searches by name only, and keeps the run's highest usable version."""
    stand_in.versions = [
        _version(1, run_id="r1"),
        _version(2, run_id="r2"),
        _version(3, run_id="r2", status="FAILED_REGISTRATION"),
        _version(4, run_id="r3"),
    ]
    found = backend.registry.find_by_run(NAME, "r2")
    assert found is not None
    assert found.version == 2
    assert backend.registry.find_by_run(NAME, "r9") is None
    gets = [q["version"][0] for _, path, q in stand_in.requests if path.endswith("/get")]
    assert gets == ["3", "2"], "only the run's own versions are read in full"


def test_tagged_versions_are_read_in_full_and_filtered_here(
    stand_in: StandIn, backend: MlflowBackend
) -> None:
    """A tag baseline and find_tagged: tags come from each version, not from the search."""
    stand_in.versions = [
        _version(1, run_id="r1", champion="true"),
        _version(2, run_id="r2"),
        _version(3, run_id="r3", champion="true"),
    ]
    tagged = backend.registry.find_tagged(NAME, "champion", "true")
    assert [v.version for v in tagged] == [3, 1]
    baseline = backend.registry.find_baseline(NAME, BaselineStrategy.tagged("champion", "true"))
    assert baseline is not None
    assert baseline.version == 3


def test_a_stage_is_refused_in_unity_catalog(backend: MlflowBackend) -> None:
    """Unity Catalog has no stages: a SettingsError, never "no baseline"."""
    with pytest.raises(SettingsError, match="Unity Catalog has no model stages"):
        backend.registry.find_baseline(NAME, BaselineStrategy.stage("Production"))


def _log_model(harness: MlflowHarness, run_id: str, mlmodel: str) -> str:
    from mlflow.entities import LoggedModelOutput  # noqa: PLC0415

    client = harness.client
    experiment_id = client.get_run(run_id).info.experiment_id
    model = client.create_logged_model(experiment_id, name="model", source_run_id=run_id)
    client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step=0)])  # as log_model does
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "MLmodel").write_text(mlmodel)
        client.log_model_artifacts(model.model_id, folder)
    client.finalize_logged_model(model.model_id, "READY")
    return str(model.model_id)


UNSIGNED = "artifact_path: model\nflavors: {}\n"
SIGNED = (
    UNSIGNED + "signature:\n"
    '  inputs: \'[{"type": "double", "required": true}]\'\n'
    '  outputs: \'[{"type": "double", "required": true}]\'\n'
)


def test_a_model_without_a_signature_is_refused_before_registering(
    stand_in: StandIn, sqlite_harness: MlflowHarness
) -> None:
    """No signature: a clear RegistryError, and Unity Catalog never asked to register it."""
    backend = MlflowBackend(sqlite_harness.backend.tracking_uri, "databricks-uc")
    run_id = sqlite_harness.add_run("train", {"auc": 0.9}, [], status="RUNNING")
    model_id = _log_model(sqlite_harness, run_id, UNSIGNED)
    run = backend.runs.get_run(experiment_name="train", run_id=run_id)
    request = RegistrationRequest(name=NAME, model_path="model", run=run)
    with pytest.raises(RegistryError, match="no signature with inputs and outputs") as caught:
        backend.registry.register(request)
    assert f"models:/{model_id}" in str(caught.value)
    assert not [path for path in stand_in.paths() if path.startswith(UC)]


def test_a_model_with_a_signature_goes_on_to_register(
    stand_in: StandIn, sqlite_harness: MlflowHarness
) -> None:
    """With a signature the check passes: registered, its files uploaded, the version ready."""
    backend = MlflowBackend(sqlite_harness.backend.tracking_uri, "databricks-uc")
    run_id = sqlite_harness.add_run("train", {"auc": 0.9}, [], status="RUNNING")
    _log_model(sqlite_harness, run_id, SIGNED)
    run = backend.runs.get_run(experiment_name="train", run_id=run_id)
    request = RegistrationRequest(name=NAME, model_path="model", run=run)
    registered = backend.registry.register(request)
    assert registered.version == 1
    assert stand_in.versions[-1]["status"] == "READY"
    assert stand_in.versions[-1]["run_id"] == run_id
    assert list(stand_in.uploads) == ["/Models/main/default/churn/1/MLmodel"]


def test_a_plain_artifact_without_mlmodel_is_refused_before_registering(
    stand_in: StandIn, sqlite_harness: MlflowHarness
) -> None:
    """A file that is no MLflow model: Unity Catalog cannot take it; said before registering."""
    backend = MlflowBackend(sqlite_harness.backend.tracking_uri, "databricks-uc")
    run_id = sqlite_harness.add_run("train", {"auc": 0.9}, ["outputs/model.pkl"])
    run = backend.runs.get_run(experiment_name="train", run_id=run_id)
    request = RegistrationRequest(name=NAME, model_path="outputs", run=run)
    with pytest.raises(RegistryError, match="has no readable MLmodel file"):
        backend.registry.register(request)
    assert not [path for path in stand_in.paths() if path.startswith(UC)]


# --- promotion across environments: Unity Catalog as the target -------------------------------


def _dev_version(harness: MlflowHarness, mlmodel: str | None) -> None:
    """Version 1 of churn in the dev (sqlite) registry: a folder with this MLmodel, or a file."""
    run_id = harness.add_run("train", {"auc": 0.9}, [] if mlmodel else ["model/model.pkl"])
    if mlmodel is not None:
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "MLmodel").write_text(mlmodel)
            harness.client.log_artifacts(run_id, folder, "model")
    harness.client.create_registered_model("churn")
    harness.client.create_model_version("churn", f"runs:/{run_id}/model", run_id=run_id)


def test_a_copy_is_found_by_its_source_among_unity_catalogs_versions(
    stand_in: StandIn, sqlite_harness: MlflowHarness, sqlite_uri: str
) -> None:
    """The search by name alone, each version read in full: the copy of dev's churn:1 is found."""
    _dev_version(sqlite_harness, SIGNED)
    key = f"{sqlite_harness.backend.registry.location}#churn/1"
    stand_in.versions.extend(
        [
            _version(1, run_id="r1", **{"promotion.metric.auc": "0.8"}),
            _version(2, run_id="r2", **{"promotion.source.key": key}),
            _version(3, run_id="r3"),
        ]
    )
    target = MlflowBackend(sqlite_uri, "databricks-uc")

    found = target.registry.find_by_source(NAME, key)
    result = promote(
        candidate_version="churn:1",
        backend=sqlite_harness.backend,
        target=target,
        settings={"model_name": NAME, "metrics_max": ["auc"]},
    )

    assert found is not None
    assert found.version == 2
    assert result.already_registered
    assert not [path for method, path, _ in stand_in.requests if method == "POST"]


@pytest.mark.parametrize(
    ("mlmodel", "message"),
    [(None, "has no MLmodel file"), (UNSIGNED, "no signature with inputs and outputs")],
)
def test_a_copy_unity_catalog_would_refuse_is_refused_before_any_write(
    stand_in: StandIn,
    sqlite_harness: MlflowHarness,
    sqlite_uri: str,
    mlmodel: str | None,
    message: str,
) -> None:
    """A dev version with no MLmodel, or no signature: refused before Unity Catalog is written."""
    _dev_version(sqlite_harness, mlmodel)

    with pytest.raises(RegistryError, match=message):
        promote(
            candidate_version="churn:1",
            backend=sqlite_harness.backend,
            target=MlflowBackend(sqlite_uri, "databricks-uc"),
            settings={"model_name": NAME},
        )

    assert not [path for method, path, _ in stand_in.requests if method == "POST"]


def test_a_better_dev_version_is_copied_into_unity_catalog_once_with_its_files_and_record(
    stand_in: StandIn, sqlite_harness: MlflowHarness, sqlite_uri: str
) -> None:
    """A copy as MLflow's store makes it: created, uploaded, finalized, found again by a re-run.

    Each file goes to its presigned URL with its headers; the tags carry the decision and the
    source; a re-run finds the copy by its source and creates nothing.
    """
    run_id = sqlite_harness.add_run("train", {"auc": 0.9}, [])
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "MLmodel").write_text(SIGNED)
        (Path(folder) / "model.pkl").write_bytes(b"the pickled model")
        sqlite_harness.client.log_artifacts(run_id, folder, "model")
    sqlite_harness.client.create_registered_model("churn")
    sqlite_harness.client.create_model_version("churn", f"runs:/{run_id}/model", run_id=run_id)
    stand_in.models.add(NAME)
    stand_in.versions.append(_version(1, run_id="r-prod", **{"promotion.metric.auc": "0.8"}))
    settings = {"model_name": NAME, "metrics_max": ["auc"]}

    def promote_into_uc() -> Any:
        return promote(
            candidate_version="churn:1",
            backend=sqlite_harness.backend,
            target=MlflowBackend(sqlite_uri, "databricks-uc"),
            settings=settings,
        )

    result = promote_into_uc()

    assert result.registered
    assert result.model is not None
    assert result.model.version == 2
    copy = stand_in.versions[-1]
    assert copy["status"] == "READY"
    held = {tag["key"]: tag["value"] for tag in copy["tags"]}
    key = f"{sqlite_harness.backend.registry.location}#churn/1"
    assert held["promotion.source.key"] == key
    assert held["promotion.metric.auc"] == "0.9"
    assert held["promotion.baseline_version"] == "1"
    assert sorted(stand_in.uploads) == [
        "/Models/main/default/churn/2/MLmodel",
        "/Models/main/default/churn/2/model.pkl",
    ]
    content, headers = stand_in.uploads["/Models/main/default/churn/2/model.pkl"]
    assert content == b"the pickled model"
    assert headers["x-stand-in-signature"] == "signed"
    posts = [path for method, path, _ in stand_in.requests if method == "POST"]
    assert posts.index(f"{UC}/model-versions/create") < posts.index(f"{UC}/model-versions/finalize")

    again = promote_into_uc()

    assert again.already_registered
    assert len(stand_in.versions) == 2
    creates = [path for path in stand_in.paths() if path == f"{UC}/model-versions/create"]
    assert len(creates) == 1
