"""MLflow for real: sqlite stores (one migrated template, copied per test) and a real server.

- ``sqlite_uri``: a fresh sqlite store per test, a copy of one database migrated once per
  session (MLflow's alembic migrations cost about 0.65 s per new database); ``tracking``: the
  same, with MLflow's fluent API pointed at it.
- ``mlflow_server``: a real ``mlflow server`` process on 127.0.0.1, started once per session. It
  needs the full ``mlflow`` package, which is kept out of the dev virtualenv: point the
  environment variable ``AML_PROMOTION_MLFLOW_SERVER`` at the ``mlflow`` executable of a
  separate virtualenv (see docs/backends-mlflow.md); without it those tests are skipped.

Every test runs in its own working directory (MLflow's default artifact root is ``./mlruns``),
with MLflow's environment variables cleared and retry waits recorded instead of slept.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aml_promotion import RetryPolicy
from aml_promotion._retry import testing_mode
from servers import MlflowServer, ServerError, free_port, start_mlflow_server

__all__ = ["MlflowHarness", "MlflowServer", "free_port"]  # imported by the test modules

SERVER_ENV = "AML_PROMOTION_MLFLOW_SERVER"
_HERE = Path(__file__).parent

# Targeted exceptions to `filterwarnings = error`, for MLflow's dependencies, not our code:
_WARNING_FILTERS = (
    # SQLAlchemy 2.1 deprecates the `noload` loader strategy that MLflow's sqlite store
    # configures; emitted by sqlalchemy.orm.configure_mappers() when a store opens.
    "ignore:The ``noload`` loader strategy is deprecated:DeprecationWarning",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark this directory's tests `mlflow` and give them the warning filters above."""
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.mlflow)
            for spec in _WARNING_FILTERS:
                item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.fixture(autouse=True)
def mlflow_isolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test in its own working directory, with no MLflow settings from the environment."""
    for name in list(os.environ):
        if name.startswith("MLFLOW_"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield
    mlflow = sys.modules.get("mlflow")  # None when a test hid it
    while mlflow is not None and mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture(autouse=True)
def retry_waits() -> Iterator[list[float]]:
    """Retries do not sleep within a test; the waits they would have slept, in order."""
    with testing_mode() as waits:
        yield waits


@pytest.fixture
def policy() -> RetryPolicy:
    """A short retry policy: three attempts."""
    return RetryPolicy(attempts=3, timeout=30.0, wait_initial=0.1, wait_max=1.0, jitter=0.0)


# --- sqlite ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One sqlite database that MLflow has migrated, to be copied by each test."""
    from mlflow import MlflowClient  # noqa: PLC0415

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(path.parent)  # whatever MLflow puts in ./mlruns stays out of the checkout
        client = MlflowClient(tracking_uri=f"sqlite:///{path}")
        client.search_registered_models(max_results=1)  # opens the registry store too
    return path


@pytest.fixture
def sqlite_uri(template_db: Path, tmp_path: Path) -> str:
    """A fresh sqlite store (a copy of the migrated template) for this test alone."""
    path = tmp_path / "mlflow.db"
    shutil.copyfile(template_db, path)
    return f"sqlite:///{path}"


@pytest.fixture
def tracking(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """MLflow's fluent API pointed at the test's sqlite store (put back as it was after)."""
    import mlflow  # noqa: PLC0415 - only in the tests that ask for it, which need the extra

    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri)
    # Recorded by monkeypatch, so the process-wide URI set below is undone after the test.
    monkeypatch.setattr("mlflow.tracking._tracking_service.utils._tracking_uri", None)
    mlflow.set_tracking_uri(sqlite_uri)
    return sqlite_uri


class MlflowHarness:
    """The contract suite's harness: runs made with MLflow's own client, the backend under test.

    Attributes:
        backend: The `MlflowBackend` under test.
        client: MLflow's client, on the same store, for making runs the way users do.
    """

    def __init__(self, backend: Any, client: Any, artifact_root: Path | None) -> None:
        self.backend = backend
        self.client = client
        self._artifact_root = artifact_root

    def experiment_id(self, experiment_name: str) -> str:
        """Return the id of the experiment, created if missing."""
        experiment = self.client.get_experiment_by_name(experiment_name)
        if experiment is not None:
            return str(experiment.experiment_id)
        location = None
        if self._artifact_root is not None:
            location = (self._artifact_root / experiment_name).as_uri()
        return str(self.client.create_experiment(experiment_name, artifact_location=location))

    def add_run(
        self,
        experiment_name: str,
        metrics: dict[str, Any],
        files: list[str],
        *,
        run_name: str | None = None,
        parent_run_id: str | None = None,
        status: str = "FINISHED",
    ) -> str:
        """Log a run with MLflow's client: metrics (a list: one value per step) and files."""
        tags = {"mlflow.parentRunId": parent_run_id} if parent_run_id else None
        run = self.client.create_run(
            self.experiment_id(experiment_name), run_name=run_name, tags=tags
        )
        run_id = str(run.info.run_id)
        for name, value in metrics.items():
            for step, item in enumerate(value if isinstance(value, list) else [value]):
                self.client.log_metric(run_id, name, item, step=step)
        if files:
            with tempfile.TemporaryDirectory() as folder:
                for relative in files:
                    target = Path(folder) / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(f"contents of {relative}\n")
                self.client.log_artifacts(run_id, folder)
        if status != "RUNNING":
            self.client.set_terminated(run_id, status)
        return run_id

    def add_logged_model(self, run_id: str, name: str, files: list[str]) -> str:
        """Log an MLflow 3 logged model of the run (what ``mlflow.<flavor>.log_model`` makes).

        As ``log_model`` does, the model is logged as the run's output too.
        """
        from mlflow.entities import LoggedModelOutput  # noqa: PLC0415

        experiment_id = self.client.get_run(run_id).info.experiment_id
        model = self.client.create_logged_model(experiment_id, name=name, source_run_id=run_id)
        self.client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step=0)])
        with tempfile.TemporaryDirectory() as folder:
            for relative in files:
                target = Path(folder) / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(f"contents of {relative}\n")
            self.client.log_model_artifacts(model.model_id, folder)
        self.client.finalize_logged_model(model.model_id, "READY")
        return str(model.model_id)


@pytest.fixture
def sqlite_harness(sqlite_uri: str, policy: RetryPolicy, tmp_path: Path) -> MlflowHarness:
    """A harness over a fresh sqlite store."""
    from mlflow import MlflowClient  # noqa: PLC0415

    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

    backend = MlflowBackend(sqlite_uri, retry=policy)
    return MlflowHarness(backend, MlflowClient(tracking_uri=sqlite_uri), tmp_path / "artifacts")


# --- a real `mlflow server` -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` on 127.0.0.1: a temporary sqlite store, artifacts it serves."""
    executable = os.environ.get(SERVER_ENV)
    if not executable:
        pytest.skip(
            f"{SERVER_ENV} is not set: point it at the `mlflow` executable of a virtualenv "
            "with the full mlflow package (see docs/backends-mlflow.md)"
        )
    if not Path(executable).is_file():
        pytest.fail(f"{SERVER_ENV}={executable!r} is not a file")
    root = tmp_path_factory.mktemp("mlflow-server")
    try:
        server = start_mlflow_server(executable, f"sqlite:///{root / 'server.db'}", root)
    except ServerError as error:
        pytest.fail(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server_harness(mlflow_server: MlflowServer, policy: RetryPolicy) -> MlflowHarness:
    """A harness over the real server (artifacts logged to it over HTTP)."""
    from mlflow import MlflowClient  # noqa: PLC0415

    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

    backend = MlflowBackend(mlflow_server.url, retry=policy)
    return MlflowHarness(backend, MlflowClient(tracking_uri=mlflow_server.url), None)
