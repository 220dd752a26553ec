"""From an Azure ML workspace into an MLflow registry: the version's files through azure-ai-ml.

The source is the emulated workspace, read by the real azure-ai-ml: ``models.download`` reads
the version, its datastore's key, and its blobs (a hierarchical listing to tell a folder, a
flat one, each blob by ranged GETs). The target is a real ``mlflow server`` (artifacts it
serves): the copy is logged into a run there and registered from it, as from any registry that
the target cannot read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.ai.ml")
pytest.importorskip("mlflow")

from aml_promotion import promote
from integration.azureml_v2.emulator import AzureMLV2Emulator
from servers import MlflowServer, ServerError, start_mlflow_server

pytestmark = [
    pytest.mark.azureml_v2,
    # azure-ai-ml 1.35's models.download hands download_blob a BlobProperties and reads it
    # with content_as_bytes, both deprecated by azure-storage-blob 12.27 (warnings, not
    # failures, outside the tests).
    pytest.mark.filterwarnings(
        "ignore:The use of a 'BlobProperties' instance for param blob:DeprecationWarning"
    ),
    pytest.mark.filterwarnings("ignore:content_as_bytes is deprecated:DeprecationWarning"),
]

SERVER_ENV = "AML_PROMOTION_MLFLOW_SERVER"
_BLOB_GET = r"^/azureml-blobstore-emulated/LocalUpload/"


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` on 127.0.0.1 (the target registry)."""
    executable = os.environ.get(SERVER_ENV)
    if not executable:
        pytest.skip(f"{SERVER_ENV} is not set: the `mlflow` executable of a full mlflow")
    root = tmp_path_factory.mktemp("mlflow-target")
    try:
        server = start_mlflow_server(executable, f"sqlite:///{root / 'server.db'}", root)
    except ServerError as error:
        pytest.fail(str(error))
    try:
        yield server
    finally:
        server.stop()


def _model(tmp_path: Path, *, folder: bool) -> Path:
    """A model folder (``MLmodel`` and a pickle in a subfolder) or a single file."""
    if not folder:
        (tmp_path / "model.pkl").write_bytes(b"a pickled model")
        return tmp_path / "model.pkl"
    model = tmp_path / "model"
    (model / "data").mkdir(parents=True)
    (model / "MLmodel").write_text("artifact_path: model\nflavors: {}\n")
    (model / "data" / "model.pkl").write_bytes(b"a pickled model")
    return model


@pytest.mark.parametrize("folder", [True, False], ids=["folder", "file"])
def test_a_workspace_version_is_copied_into_mlflow_with_its_files_as_they_were(
    *,
    backend: Any,
    emulator: AzureMLV2Emulator,
    mlflow_server: MlflowServer,
    tmp_path: Path,
    unique: str,
    folder: bool,
) -> None:
    """The copy holds the version's files at the top of its model folder; once, with its record."""
    from mlflow import MlflowClient  # noqa: PLC0415

    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

    dev_name, prod_name = f"churn-dev-{unique}", f"churn-{unique}"
    model = _model(tmp_path, folder=folder)
    dev = promote(
        settings={"model_name": dev_name, "metrics_max": ["auc"]},
        backend=backend,
        model_path=model,
        metrics={"auc": 0.9},
    )
    assert dev.model is not None
    target = MlflowBackend(mlflow_server.url)
    settings = {"model_name": prod_name, "metrics_max": ["auc"]}
    emulator.clear_requests()

    result = promote(
        candidate_version=f"{dev_name}:{dev.model.version}",
        backend=backend,
        target=target,
        settings=settings,
    )

    assert result.registered
    assert result.model is not None
    client = MlflowClient(mlflow_server.url)
    copy = client.get_model_version(prod_name, str(result.model.version))
    assert copy.tags["promotion.metric.auc"] == "0.9"
    assert copy.tags["promotion.source.version"] == str(dev.model.version)
    assert copy.tags["promotion.source.registry"].startswith("azureml://subscriptions/")
    run_id, path = copy.source.removeprefix("runs:/").split("/", 1)
    listed = sorted(_files(client, run_id, path))
    wanted = ["MLmodel", "data/model.pkl"] if folder else ["model.pkl"]
    assert listed == [f"{path}/{name}" for name in wanted]
    assert emulator.matching("GET", _BLOB_GET), "the files came from the workspace's blobs"

    again = promote(
        candidate_version=f"{dev_name}:{dev.model.version}",
        backend=backend,
        target=target,
        settings=settings,
    )

    assert again.already_registered
    assert len(client.search_model_versions(f"name='{prod_name}'")) == 1


def _files(client: Any, run_id: str, path: str) -> list[str]:
    found: list[str] = []
    for info in client.list_artifacts(run_id, path):
        found.extend(_files(client, run_id, info.path) if info.is_dir else [info.path])
    return found
