"""What `MlflowBackend` does beyond the contract: MLflow's concepts, its traps, its failures.

Runs are logged with MLflow's own client into real sqlite stores; failures come from real
sockets on 127.0.0.1 (a closed port, a stub answering 503) or, where a failure must strike
between MLflow doing something and us hearing of it, from a spy at the SDK seam.

This module is typed throughout: ``mypy`` checks that `MlflowBackend` satisfies the `Backend`
protocol (`test_the_backend_is_both_ports`).
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")
pytest.importorskip("sqlalchemy", reason="a sqlite MLflow store needs SQLAlchemy")
pytest.importorskip("alembic", reason="a sqlite MLflow store needs alembic")

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import ENDPOINT_NOT_FOUND, TEMPORARILY_UNAVAILABLE

from aml_promotion import BaselineStrategy, RetryPolicy, Verdict, promote
from aml_promotion._cli import ExitCode
from aml_promotion.adapters.mlflow import LOCAL_EXPERIMENT, MlflowBackend
from aml_promotion.exceptions import (
    BackendNotInstalledError,
    RegistryError,
    RunNotFoundError,
    RunStateError,
    TransientRegistryError,
)
from aml_promotion.ports import (
    Backend,
    DatasetMetricStore,
    Hop,
    LoggedModelRegistry,
    LoggedModelStore,
    ModelVersion,
    RegistrationRequest,
    Resolution,
    RunRecord,
    RunStatus,
)

if TYPE_CHECKING:
    from integration.mlflow.conftest import MlflowHarness

SETTINGS: dict[str, Any] = {
    "model_name": "churn",
    "model_file_name": "model.pkl",
    "metrics_max": ["auc"],
    "metrics_min": ["loss"],
}


class ClientSpy:
    """MLflow's client, recording every call and failing chosen ones: a spy at the SDK seam.

    ``fail(name, error, after=True)`` makes the next call of ``name`` reach MLflow and then
    raise `error`, as if the answer were lost on the way back; ``after=False`` raises instead
    of calling.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self._faults: dict[str, tuple[Exception, bool]] = {}

    def fail(self, name: str, error: Exception, *, after: bool) -> None:
        self._faults[name] = (error, after)

    def names(self) -> list[str]:
        return [name for name, _, _ in self.calls]

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            fault = self._faults.pop(name, None)
            if fault is not None and not fault[1]:
                raise fault[0]
            result = attribute(*args, **kwargs)
            if fault is not None:
                raise fault[0]
            return result

        return call


@pytest.fixture
def harness(sqlite_harness: MlflowHarness) -> MlflowHarness:
    """A fresh sqlite store with runs logged by MLflow's client."""
    return sqlite_harness


@pytest.fixture
def spy(harness: MlflowHarness) -> ClientSpy:
    """The backend's MLflow client, spied on."""
    spied = ClientSpy(harness.backend._client)
    harness.backend._client = spied
    return spied


def _transient() -> MlflowException:
    return MlflowException("database is locked", error_code=TEMPORARILY_UNAVAILABLE)


# --- construction -------------------------------------------------------------------------------


def test_the_backend_hands_out_both_ports(sqlite_uri: str) -> None:
    """An MlflowBackend hands out one run store and one registry, and mypy takes it as a Backend.

    Its parts share one session, as the Azure ML backends' do (issue 17); the backend itself is
    no longer its own run store.
    """
    backend = MlflowBackend(sqlite_uri)
    typed: Backend = backend  # the check mypy makes: MlflowBackend provides both ports
    assert typed.runs is backend.runs
    assert typed.registry is backend.registry
    # What the service asks of each port, beyond the Protocol, is where it asks it.
    assert isinstance(typed.runs, DatasetMetricStore)
    assert isinstance(typed.runs, LoggedModelStore)
    assert isinstance(typed.registry, LoggedModelRegistry)


def test_importing_the_adapter_imports_no_sdk() -> None:
    """`import aml_promotion.adapters.mlflow` imports neither MLflow nor its dependencies."""
    code = (
        "import sys, aml_promotion, aml_promotion.adapters.mlflow\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'mlflow', 'sqlalchemy', 'alembic', 'requests'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_a_missing_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without MLflow installed, creating the backend names the extra to install."""
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(BackendNotInstalledError, match=r"aml-promotion\[mlflow\]"):
        MlflowBackend("sqlite:///mlflow.db")


def test_a_sqlite_store_without_alembic_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """mlflow-skinny alone cannot open sqlite: the error names the extra, not MLflow's riddle."""
    monkeypatch.setitem(sys.modules, "alembic", None)
    with pytest.raises(BackendNotInstalledError, match="sqlite store"):
        MlflowBackend("sqlite:///mlflow.db")


def test_a_registry_in_another_sqlite_file_is_opened_and_used(
    harness: MlflowHarness, sqlite_uri: str, tmp_path: Path
) -> None:
    """Runs in one sqlite file, versions in another (new) one: both work, the versions go there."""
    registry_uri = f"sqlite:///{tmp_path / 'registry' / 'registry.db'}"
    backend = MlflowBackend(sqlite_uri, registry_uri)
    run_id = harness.add_run("train", {"auc": 0.9, "loss": 0.1}, ["model.pkl"])
    result = promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
    assert result.registered
    registry = mlflow.MlflowClient(tracking_uri=sqlite_uri, registry_uri=registry_uri)
    assert [v.run_id for v in registry.search_model_versions("name = 'churn'")] == [run_id]
    assert harness.client.search_model_versions("name = 'churn'") == []


def test_the_default_store_is_a_sqlite_file_in_the_working_directory(template_db: Path) -> None:
    """With no URI given and none set for MLflow, the store is ./mlflow.db."""
    shutil.copyfile(template_db, "mlflow.db")  # migrated already: the test stays fast
    mlflow.MlflowClient(
        tracking_uri=f"sqlite:///{Path.cwd() / 'mlflow.db'}"
    ).create_registered_model("seeded")
    backend = MlflowBackend()
    assert backend.tracking_uri == "sqlite:///mlflow.db"
    assert backend._client.get_registered_model("seeded").name == "seeded"


def test_the_tracking_uri_set_for_mlflow_is_the_default(
    sqlite_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLFLOW_TRACKING_URI, when set, is the default tracking URI."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri)
    assert MlflowBackend().tracking_uri == sqlite_uri


def test_a_file_store_is_refused_with_advice_to_use_sqlite() -> None:
    """MLflow 3 refuses a file store; the error says so, and points to sqlite."""
    with pytest.raises(RegistryError, match="sqlite") as caught:
        MlflowBackend("file:./mlruns")
    assert isinstance(caught.value.__cause__, MlflowException)


def test_an_unsupported_uri_is_a_registry_error() -> None:
    """A URI scheme MLflow does not know is a RegistryError, not an MLflow exception."""
    with pytest.raises(RegistryError, match="unsupported URI"):
        MlflowBackend("nosuchscheme://somewhere")


def test_a_model_created_first_by_another_process_is_an_answer_not_a_collision() -> None:
    """The sqlite store's "already exists" after a UNIQUE constraint failed: no retry.

    Two processes create one registered model at once: the loser's insert fails on the unique
    name, and MLflow's sqlite store answers RESOURCE_ALREADY_EXISTS from inside that
    IntegrityError (its `create_registered_model`, rebuilt here with MLflow's own handler, as a
    race would need two processes to hit it). That is MLflow's answer that the model exists,
    which registering then uses, never a write collision retried until the policy gives up (the
    slow race test below failed about one run in five that way).
    """
    import sqlite3  # noqa: PLC0415

    import sqlalchemy.exc  # noqa: PLC0415
    from mlflow.exceptions import MlflowException  # noqa: PLC0415
    from mlflow.prompt.registry_utils import (  # noqa: PLC0415 - where the store takes it from
        handle_resource_already_exist_error,
    )

    from aml_promotion.adapters.mlflow._errors import (  # noqa: PLC0415
        _AlreadyExistsError,
        _translate,
    )

    def insert() -> None:
        unique = sqlite3.IntegrityError("UNIQUE constraint failed: registered_models.name")
        raise sqlalchemy.exc.IntegrityError("INSERT INTO registered_models", {}, unique)

    def create_registered_model() -> None:
        try:
            insert()
        except sqlalchemy.exc.IntegrityError:
            handle_resource_already_exist_error("made-first", False, False)

    with pytest.raises(MlflowException) as caught:
        create_registered_model()
    assert "UNIQUE constraint failed" in repr(caught.value.__context__)
    assert isinstance(_translate(caught.value, "create it"), _AlreadyExistsError)


@pytest.mark.slow
def test_the_first_promotions_on_a_new_sqlite_file_do_not_race(tmp_path: Path) -> None:
    """Two processes promoting at once onto a database file that does not exist yet both work.

    Without the lock around the first opening, MLflow's migrations collide and crash.
    """
    uri = f"sqlite:///{tmp_path / 'new' / 'mlflow.db'}"
    model = tmp_path / "model.pkl"
    model.write_text("a model\n")
    child = textwrap.dedent(
        """
        import logging, sys, warnings
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        import mlflow, mlflow.store.tracking.sqlalchemy_store  # the slow imports, before the start
        from aml_promotion import promote
        from aml_promotion.adapters.mlflow import MlflowBackend
        print("ready", flush=True)
        sys.stdin.readline()
        result = promote(
            settings={"model_name": "race", "metrics_max": ["auc"]},
            backend=MlflowBackend(sys.argv[1]),
            model_path=sys.argv[2],
            metrics={"auc": 0.9},
        )
        print("verdict", result.decision.verdict.value, flush=True)
        """
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", child, uri, str(model)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=environment,
        )
        for _ in range(2)
    ]
    for process in processes:  # a barrier: every child has imported MLflow...
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    for process in processes:  # ...then all start at once
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outcomes = [process.communicate(timeout=120) for process in processes]
    for process, (out, err) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, err[-2000:]
        assert out.strip().startswith("verdict")
    client = mlflow.MlflowClient(tracking_uri=uri)
    assert client.search_model_versions("name = 'race'")


# --- runs -----------------------------------------------------------------------------------------


def test_the_active_run_is_the_current_run(
    harness: MlflowHarness, sqlite_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no run id, the run is MLflow's active run, still running and marked current."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri)
    experiment_id = harness.experiment_id("train")
    with mlflow.start_run(experiment_id=experiment_id) as active:
        mlflow.log_metric("auc", 0.9)
        run = harness.backend.runs.get_run(experiment_name="train", run_id=None)
        metrics = harness.backend.runs.get_metrics(run, ["auc"])
    assert run.run_id == active.info.run_id
    assert run.is_current
    assert run.status is RunStatus.RUNNING
    assert metrics.values == {"auc": pytest.approx(0.9)}


def test_no_active_run_is_a_clear_error(harness: MlflowHarness) -> None:
    """With no run id and no active MLflow run, the error says there is no current run."""
    with pytest.raises(RunNotFoundError, match="no current run"):
        harness.backend.runs.get_run(experiment_name=None, run_id=None)


def test_a_run_of_another_experiment_names_both(harness: MlflowHarness) -> None:
    """The experiment mismatch error names the run's experiment and the one asked for."""
    run_id = harness.add_run("actual", {}, [])
    with pytest.raises(RunNotFoundError, match="'actual', not 'expected'") as caught:
        harness.backend.runs.get_run(experiment_name="expected", run_id=run_id)
    assert caught.value.run_id == run_id


def test_a_malformed_run_id_is_not_found(harness: MlflowHarness) -> None:
    """A run id MLflow rejects as malformed is simply not found."""
    with pytest.raises(RunNotFoundError, match="no MLflow run"):
        harness.backend.runs.get_run(experiment_name=None, run_id="not/a/run")


@pytest.mark.parametrize(
    ("mlflow_status", "status"),
    [
        ("FINISHED", RunStatus.COMPLETED),
        ("FAILED", RunStatus.FAILED),
        ("KILLED", RunStatus.CANCELED),
        ("RUNNING", RunStatus.RUNNING),
        ("SCHEDULED", RunStatus.OTHER),
    ],
)
def test_run_statuses_map_and_keep_their_text(
    harness: MlflowHarness, mlflow_status: str, status: RunStatus
) -> None:
    """MLflow's statuses map onto ours; the raw word is kept."""
    run_id = harness.add_run("train", {}, [], status=mlflow_status)
    run = harness.backend.runs.get_run(experiment_name="train", run_id=run_id)
    assert (run.status, run.status_text) == (status, mlflow_status)


def test_a_failed_run_is_not_promoted(harness: MlflowHarness) -> None:
    """promote() refuses the model of a run that failed."""
    run_id = harness.add_run("train", {"auc": 0.9, "loss": 0.1}, ["model.pkl"], status="FAILED")
    with pytest.raises(RunStateError, match="FAILED"):
        promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=harness.backend)


def test_a_pipeline_step_is_the_child_run_of_that_name(harness: MlflowHarness) -> None:
    """A parent run resolves to its child run whose name is the step's name."""
    parent = harness.add_run("train", {}, [], run_name="pipeline")
    harness.add_run("train", {}, [], run_name="prepare", parent_run_id=parent)
    step = harness.add_run("train", {"auc": 0.9}, [], run_name="fit", parent_run_id=parent)
    run = harness.backend.runs.get_run(experiment_name="train", run_id=parent, pipeline_step="fit")
    assert run.run_id == step
    assert not run.is_current
    assert run.resolution == Resolution(given=parent, hops=(Hop.step("fit", step),))


def test_a_run_without_children_is_its_own_step(harness: MlflowHarness) -> None:
    """A run with no child runs is used as it is, whatever the step's name."""
    run_id = harness.add_run("train", {}, [])
    run = harness.backend.runs.get_run(
        experiment_name="train", run_id=run_id, pipeline_step="model_training"
    )
    assert run.run_id == run_id
    assert run.resolution is None


def test_a_missing_step_lists_the_child_runs(harness: MlflowHarness) -> None:
    """No child of the step's name: the error lists the children's names."""
    parent = harness.add_run("train", {}, [])
    for name in ("prepare", "evaluate"):
        harness.add_run("train", {}, [], run_name=name, parent_run_id=parent)
    with pytest.raises(RunNotFoundError, match="no child run named 'fit'") as caught:
        harness.backend.runs.get_run(experiment_name=None, run_id=parent, pipeline_step="fit")
    assert caught.value.candidates == ("evaluate", "prepare")


def test_two_children_of_the_step_name_are_ambiguous(harness: MlflowHarness) -> None:
    """Two child runs of the step's name: an error, not a guess."""
    parent = harness.add_run("train", {}, [])
    for _ in range(2):
        harness.add_run("train", {}, [], run_name="fit", parent_run_id=parent)
    with pytest.raises(RunNotFoundError, match="2 child runs named 'fit'"):
        harness.backend.runs.get_run(experiment_name=None, run_id=parent, pipeline_step="fit")


def test_a_step_beyond_the_first_page_of_children_is_found(
    harness: MlflowHarness, spy: ClientSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With more children than one page, the step is searched by name: one more bounded query."""
    monkeypatch.setattr("aml_promotion.adapters.mlflow._runs._CHILD_PAGE", 3)
    parent = harness.add_run("train", {}, [])
    step = harness.add_run("train", {}, [], run_name="fit", parent_run_id=parent)
    for index in range(4):
        harness.add_run("train", {}, [], run_name=f"trial-{index}", parent_run_id=parent)
    run = harness.backend.runs.get_run(experiment_name=None, run_id=parent, pipeline_step="fit")
    assert run.run_id == step
    searches = [kwargs for name, _, kwargs in spy.calls if name == "search_runs"]
    assert [search["max_results"] for search in searches] == [3, 2]


def test_metrics_come_with_the_run_and_a_history_only_for_a_series(
    harness: MlflowHarness, spy: ClientSpy
) -> None:
    """Last values cost no request; only a metric asked as a series reads its history."""
    run_id = harness.add_run("train", {"auc": [0.7, 0.9, 0.8], "loss": 0.2, "f1": 0.5}, [])
    runs = harness.backend.runs
    run = runs.get_run(experiment_name=None, run_id=run_id)
    spy.calls.clear()
    last = runs.get_metrics(run, ["auc", "loss", "missing"])
    assert dict(last.values) == {"auc": pytest.approx(0.8), "loss": pytest.approx(0.2)}
    assert last.available == {"auc", "loss", "f1"}
    assert spy.names() == []
    series = runs.get_metrics(run, ["auc", "loss"], series=["auc"])
    assert series.values["auc"] == pytest.approx([0.7, 0.9, 0.8])
    assert [(name, args) for name, args, _ in spy.calls] == [
        ("get_metric_history", (run_id, "auc"))
    ]


def test_metrics_of_a_run_known_only_by_id_are_read(harness: MlflowHarness) -> None:
    """A RunRecord made elsewhere (no MLflow run inside) is read from MLflow first."""
    run_id = harness.add_run("train", {"auc": 0.9}, [])
    values = harness.backend.runs.get_metrics(RunRecord(run_id=run_id), ["auc"]).values
    assert values == {"auc": pytest.approx(0.9)}


def test_a_series_is_ordered_by_step_not_by_logging_order(harness: MlflowHarness) -> None:
    """Values logged out of step order come back ordered by step."""
    run_id = harness.add_run("train", {}, [], status="RUNNING")
    for step, value in [(2, 0.3), (0, 0.1), (1, 0.2)]:
        harness.client.log_metric(run_id, "loss", value, step=step)
    runs = harness.backend.runs
    run = runs.get_run(experiment_name=None, run_id=run_id)
    assert runs.get_metrics(run, ["loss"], series=["loss"]).values["loss"] == pytest.approx(
        [0.1, 0.2, 0.3]
    )


def test_promote_reads_the_history_only_for_aggregated_rules(
    harness: MlflowHarness, spy: ClientSpy
) -> None:
    """A rule on the last value reads no history; a rule aggregating a series reads its own."""
    settings = {**SETTINGS, "metric_rules": {"loss": {"aggregate": "min"}}}
    run_id = harness.add_run("train", {"auc": 0.9, "loss": [0.5, 0.2, 0.3]}, ["model.pkl"])
    result = promote(
        experiment_name="train", run_id=run_id, settings=settings, backend=harness.backend
    )
    assert result.registered
    histories = [args for name, args, _ in spy.calls if name == "get_metric_history"]
    assert histories == [(run_id, "loss")]


def test_the_files_of_a_logged_model_are_listed_under_its_name(
    harness: MlflowHarness, spy: ClientSpy
) -> None:
    """MLflow 3's log_model keeps the model apart from the run: its files come under its name."""
    run_id = harness.add_run("train", {}, ["outputs/notes.txt"], status="RUNNING")
    harness.add_logged_model(run_id, "model", ["MLmodel", "model.pkl", "env/conda.yaml"])
    harness.add_logged_model(run_id, "pending", ["MLmodel"])
    pending = harness.client.search_logged_models(
        [harness.experiment_id("train")], filter_string="name = 'pending'"
    )[0]
    harness.client.finalize_logged_model(pending.model_id, "FAILED")
    harness.client.set_terminated(run_id)
    runs = harness.backend.runs
    run = runs.get_run(experiment_name="train", run_id=run_id)
    spy.calls.clear()
    assert runs.list_files(run) == [
        "model/MLmodel",
        "model/env/conda.yaml",
        "model/model.pkl",
        "outputs/notes.txt",
    ]
    assert spy.names() == ["search_logged_models"]


def test_a_run_that_logged_no_model_lists_its_files_without_the_logged_model_search(
    harness: MlflowHarness, spy: ClientSpy
) -> None:
    """No model among the run's outputs: no logged-model search; one made apart is not its own."""
    run_id = harness.add_run("train", {}, ["outputs/model.pkl"])
    apart = harness.client.create_logged_model(
        harness.experiment_id("train"), name="apart", source_run_id=run_id
    )
    harness.client.finalize_logged_model(apart.model_id, "READY")
    runs = harness.backend.runs
    run = runs.get_run(experiment_name="train", run_id=run_id)
    spy.calls.clear()
    assert runs.list_files(run) == ["outputs/model.pkl"]
    assert harness.backend.registry.logged_model_of(run, "apart") is None
    assert "search_logged_models" not in spy.names()


def test_a_store_without_logged_models_still_lists_the_artifacts(
    harness: MlflowHarness, spy: ClientSpy
) -> None:
    """A server that refuses the logged-model search (MLflow 2's) leaves the run's own files."""
    run_id = harness.add_run("train", {}, ["outputs/model.pkl"])
    run = harness.backend.runs.get_run(experiment_name=None, run_id=run_id)
    refusal = MlflowException("no such endpoint", error_code=ENDPOINT_NOT_FOUND)
    spy.fail("search_logged_models", refusal, after=False)
    assert harness.backend.runs.list_files(run) == ["outputs/model.pkl"]


def test_registered_versions_can_be_downloaded_with_mlflow(
    harness: MlflowHarness, sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Versions made from a run's file, a logged model and a local file download with MLflow.

    ``models:/<name>/<version>`` resolves folders only: a single-file version is downloaded
    from its source URI (MLflow 3.17 downloads nothing for ``models:/`` there).
    """
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri)
    first = harness.add_run("train", {"auc": 0.7, "loss": 0.3}, ["outputs/model.pkl"])
    second = harness.add_run("train", {"auc": 0.8, "loss": 0.2}, [], status="RUNNING")
    model_id = harness.add_logged_model(second, "model", ["MLmodel", "model.pkl"])
    harness.client.set_terminated(second)
    for run_id, model_file in [(first, "model.pkl"), (second, "model/")]:
        settings = {**SETTINGS, "model_file_name": model_file}
        result = promote(
            experiment_name="train", run_id=run_id, settings=settings, backend=harness.backend
        )
        assert result.registered
    local = tmp_path / "local.pkl"
    local.write_text("a local model\n")
    third = promote(
        settings=SETTINGS,
        backend=harness.backend,
        model_path=local,
        metrics={"auc": 0.9, "loss": 0.1},
    )
    assert third.registered

    def download(uri: str, folder: str) -> Path:
        return Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path / folder)))

    source = harness.client.get_model_version_download_uri("churn", "1")
    assert source == f"runs:/{first}/outputs/model.pkl"
    assert download(source, "1").read_text() == "contents of outputs/model.pkl\n"
    # A logged model is registered as mlflow.register_model registers it.
    assert harness.client.get_model_version("churn", "2").source == f"models:/{model_id}"
    two = download("models:/churn/2", "2")
    assert {"MLmodel", "model.pkl"} <= {p.name for p in two.rglob("*") if p.is_file()}
    three = download("models:/churn/3", "3")
    assert (three / "local.pkl").read_text() == "a local model\n"


# --- registry -------------------------------------------------------------------------------------


def test_the_latest_version_is_one_bounded_query(harness: MlflowHarness, spy: ClientSpy) -> None:
    """The latest version: one search, ordered by version number, for one result."""
    harness.backend.registry.find_baseline("churn", BaselineStrategy.latest())
    assert spy.calls == [
        (
            "search_model_versions",
            (),
            {
                "filter_string": "name = 'churn'",
                "order_by": ["version_number DESC"],
                "max_results": 1,
            },
        )
    ]


def test_registration_records_the_source_and_metadata_as_tags(harness: MlflowHarness) -> None:
    """The version's source is runs:/<run>/<path>; MLflow-less fields become clear tags."""
    settings = {
        **SETTINGS,
        "model_file_name": "outputs/model/",
        "model_framework": "ScikitLearn",
        "model_framework_version": "1.5.0",
        "model_tags": {"team": "risk"},
        "model_properties": {"owner": "ana"},
        "model_description": "churn model",
        "datasets": ["customers", "events"],
        "sample_input_dataset": "inputs",
        "cpu_cores": 1.5,
        "memory_gb": 4,
    }
    files = ["outputs/model/model.pkl", "outputs/model/conda.yaml"]
    run_id = harness.add_run("train", {"auc": 0.9, "loss": 0.1}, files)
    result = promote(
        experiment_name="train", run_id=run_id, settings=settings, backend=harness.backend
    )
    assert result.model is not None
    held = harness.client.get_model_version("churn", "1")
    assert held.source == f"runs:/{run_id}/outputs/model"
    assert held.run_id == run_id
    assert held.description == "churn model"
    assert {
        "team": "risk",
        "owner": "ana",
        "framework": "scikitlearn",
        "framework_version": "1.5.0",
        "datasets": "customers,events",
        "sample_input_dataset": "inputs",
        "cpu_cores": "1.5",
        "memory_gb": "4",
        "promotion.verdict": "promote",
        "promotion.baseline_version": "none",
    }.items() <= held.tags.items()
    assert result.model.id == "churn/1"
    assert result.model.experiment_name == "train"


def test_an_existing_registered_model_with_no_versions_is_used(harness: MlflowHarness) -> None:
    """A registered model created elsewhere (no versions yet) gets version 1."""
    harness.client.create_registered_model("churn")
    run_id = harness.add_run("train", {"auc": 0.9, "loss": 0.1}, ["model.pkl"])
    result = promote(
        experiment_name="train", run_id=run_id, settings=SETTINGS, backend=harness.backend
    )
    assert result.model is not None
    assert result.model.version == 1


def test_a_lost_registration_answer_is_not_registered_twice(
    harness: MlflowHarness, spy: ClientSpy, retry_waits: list[float]
) -> None:
    """MLflow registers, the answer is lost, the retry finds that version instead of a second."""
    run_id = harness.add_run("train", {}, ["model.pkl"])
    run = harness.backend.runs.get_run(experiment_name="train", run_id=run_id)
    spy.fail("create_model_version", _transient(), after=True)
    version = harness.backend.registry.register(
        RegistrationRequest(name="churn", model_path="model.pkl", run=run)
    )
    assert version.version == 1
    assert len(harness.client.search_model_versions("name = 'churn'")) == 1
    assert spy.names().count("create_model_version") == 1
    assert len(retry_waits) == 1


def test_a_transient_failure_before_registering_is_retried(
    harness: MlflowHarness, spy: ClientSpy
) -> None:
    """A registration that failed before MLflow acted is made again, once."""
    run_id = harness.add_run("train", {}, ["model.pkl"])
    run = harness.backend.runs.get_run(experiment_name="train", run_id=run_id)
    spy.fail("create_model_version", _transient(), after=False)
    version = harness.backend.registry.register(
        RegistrationRequest(name="churn", model_path="model.pkl", run=run)
    )
    assert version.version == 1
    assert spy.names().count("create_model_version") == 2


def test_a_run_id_no_mlflow_run_could_have_has_no_version(harness: MlflowHarness) -> None:
    """find_by_run with an id MLflow would never give (a quote, a slash) is simply None."""
    harness.client.create_registered_model("churn")
    assert harness.backend.registry.find_by_run("churn", "it's/no-id") is None


def test_a_tag_value_with_both_quotes_is_still_found(harness: MlflowHarness) -> None:
    """A tag value MLflow's filter cannot quote is matched by reading the versions instead."""
    registry = harness.backend.registry
    awkward = """it's "quoted" """
    runs = [harness.add_run("train", {}, ["model.pkl"]) for _ in range(3)]
    for index, run_id in enumerate(runs):
        run = harness.backend.runs.get_run(experiment_name=None, run_id=run_id)
        tags = {"note": awkward} if index != 2 else {}
        registry.register(
            RegistrationRequest(name="churn", model_path="model.pkl", run=run, tags=tags)
        )
    assert [v.version for v in registry.find_tagged("churn", "note", awkward)] == [2, 1]
    found = registry.find_baseline("churn", BaselineStrategy.tagged("note", awkward))
    assert found is not None
    assert found.version == 2


def test_tags_with_dots_spaces_and_quotes_select_baselines(harness: MlflowHarness) -> None:
    """Tag keys with dots or spaces, and values with one kind of quote, are filtered by MLflow."""
    registry = harness.backend.registry
    run = harness.backend.runs.get_run(
        experiment_name=None, run_id=harness.add_run("train", {}, ["model.pkl"])
    )
    tags = {"stage.name": "it's prod", "the owner": 'say "hi"'}
    version = registry.register(
        RegistrationRequest(name="churn", model_path="model.pkl", run=run, tags=tags)
    )
    for key, value in tags.items():
        assert [v.version for v in registry.find_tagged("churn", key, value)] == [version.version]
    assert registry.find_tagged("churn", "stage.name", "prod") == []


def test_tagging_a_missing_version_is_an_error(harness: MlflowHarness) -> None:
    """Tags set on or removed from a version that does not exist: a RegistryError."""
    harness.client.create_registered_model("churn")
    ghost = ModelVersion(name="churn", version=7, id="churn/7")
    with pytest.raises(RegistryError, match="not found"):
        harness.backend.registry.set_tags(ghost, {"a": "b"})
    with pytest.raises(RegistryError, match="not found"):
        harness.backend.registry.remove_tags(ghost, ["a"])


# --- local models -------------------------------------------------------------------------------


def test_a_local_model_is_logged_in_a_run_of_its_own_and_is_a_baseline_later(
    harness: MlflowHarness, tmp_path: Path
) -> None:
    """A local file is logged with its metrics into a new run; the next candidate is compared."""
    model = tmp_path / "model.pkl"
    model.write_text("first\n")
    first = promote(
        settings=SETTINGS,
        backend=harness.backend,
        model_path=model,
        metrics={"auc": 0.8, "loss": [0.5, 0.4], "note": "not a number"},
    )
    assert first.model is not None
    assert first.model.experiment_name == LOCAL_EXPERIMENT
    run = harness.client.get_run(first.model.run_id)
    assert harness.client.get_experiment(run.info.experiment_id).name == LOCAL_EXPERIMENT
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {"auc": 0.8, "loss": 0.4}
    assert [f.path for f in harness.client.list_artifacts(run.info.run_id, "model")] == [
        "model/model.pkl"
    ]
    held = harness.client.get_model_version("churn", "1")
    assert held.source == f"runs:/{run.info.run_id}/model"

    model.write_text("second\n")  # the same content again would be "already registered"
    worse = promote(
        settings=SETTINGS,
        backend=harness.backend,
        model_path=model,
        metrics={"auc": 0.7, "loss": 0.3},
    )
    assert worse.decision.verdict is Verdict.REJECT
    assert worse.baseline is not None
    assert worse.baseline.version == 1


def test_two_local_promotions_in_a_row_on_the_default_store_both_work() -> None:
    """On MLflow's default store, the copy a local promotion logs in ./mlruns is not found next.

    The default store is ./mlflow.db with its artifacts in ./mlruns: the second promotion in
    the same checkout must find one model.pkl, the user's, not that copy too. Each promotion is
    its own process, as in a workflow (MLflow keeps one store per URI in a process).
    """
    work = Path.cwd()  # this test's own working directory, no MLFLOW_* set (mlflow_isolation)
    (work / "settings.json").write_text(json.dumps({"model_name": "churn", "metrics_max": ["auc"]}))
    argv = [sys.executable, "-m", "aml_promotion", "--backend", "mlflow", "--json"]
    argv += ["--parameters-file", "settings.json", "--metrics-file", "metrics.json"]
    # Not in a GitHub workflow either: the working directory is the checkout searched.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    versions = []
    for auc, content in ((0.8, "first\n"), (0.9, "second\n")):
        (work / "model.pkl").write_text(content)
        (work / "metrics.json").write_text(json.dumps({"auc": auc}))
        done = subprocess.run(
            argv, cwd=work, env=environment, capture_output=True, text=True, check=False
        )
        assert done.returncode == ExitCode.OK, done.stderr
        versions.append(json.loads(done.stdout)["model"]["version"])
    assert versions == [1, 2]
    assert (work / "mlflow.db").is_file()
    assert any((work / "mlruns").rglob("model.pkl"))  # the copies MLflow logged are there


def test_a_local_model_folder_is_registered_as_a_folder(
    harness: MlflowHarness, tmp_path: Path
) -> None:
    """A local folder is logged whole, and the version's source is that folder."""
    folder = tmp_path / "my-model"
    (folder / "sub").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "sub" / "weights.bin").write_text("w\n")
    result = promote(
        settings={**SETTINGS, "force_registration": True},
        backend=harness.backend,
        model_path=folder,
    )
    assert result.model is not None
    run_id = result.model.run_id
    assert run_id is not None
    run = harness.backend.runs.get_run(experiment_name=LOCAL_EXPERIMENT, run_id=run_id)
    assert harness.backend.runs.list_files(run) == ["model/MLmodel", "model/sub/weights.bin"]
    assert result.model.source == f"runs:/{run_id}/model"


# --- failures over HTTP ---------------------------------------------------------------------------


class StubServer:
    """An HTTP server on 127.0.0.1 that answers every request with one status and body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.requests: list[str] = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                stub.requests.append(f"{self.command} {self.path}")
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Stay quiet."""

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def stub() -> Iterator[Callable[[int, dict[str, Any]], StubServer]]:
    """Start stub servers; each is stopped after the test."""
    started: list[StubServer] = []

    def start(status: int, body: dict[str, Any]) -> StubServer:
        server = StubServer(status, body).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_a_503_is_retried_by_us_alone(
    stub: Callable[[int, dict[str, Any]], StubServer],
    policy: RetryPolicy,
    retry_waits: list[float],
) -> None:
    """Each of our attempts is one request: MLflow's own retries are off, so none compound."""
    server = stub(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"})
    backend = MlflowBackend(server.url, retry=policy)
    with pytest.raises(TransientRegistryError):
        backend.registry.find_baseline("churn", BaselineStrategy.latest())
    assert len(server.requests) == policy.attempts
    assert len(retry_waits) == policy.attempts - 1
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ


def test_a_400_is_not_retried(
    stub: Callable[[int, dict[str, Any]], StubServer], policy: RetryPolicy
) -> None:
    """A refusal (HTTP 400) is a RegistryError at once, not a transient one."""
    server = stub(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "no"})
    backend = MlflowBackend(server.url, retry=policy)
    with pytest.raises(RegistryError) as caught:
        backend.registry.find_baseline("churn", BaselineStrategy.latest())
    assert not isinstance(caught.value, TransientRegistryError)
    assert len(server.requests) == 1


def test_a_refused_connection_is_transient_and_quick(
    policy: RetryPolicy, retry_waits: list[float]
) -> None:
    """Nothing listening: transient, retried by our policy, without MLflow's 4-minute retries."""
    from integration.mlflow.conftest import free_port  # noqa: PLC0415

    backend = MlflowBackend(f"http://user:secret@127.0.0.1:{free_port()}", retry=policy)
    started = time.monotonic()
    with pytest.raises(TransientRegistryError) as caught:
        backend.runs.get_run(experiment_name=None, run_id="abc123")
    assert time.monotonic() - started < 10
    assert len(retry_waits) == policy.attempts - 1
    assert "secret" not in str(caught.value)
    assert "secret" not in repr(backend)


def _whole_traceback(error: BaseException) -> str:
    """The traceback as any notebook or ``logging.exception()`` prints it: causes, contexts."""
    return "".join(traceback.format_exception(error, chain=True))


def test_a_password_in_the_tracking_uri_is_nowhere_in_the_exception_chain(
    policy: RetryPolicy, retry_waits: list[float]
) -> None:
    """A refused connection to ``user:password@`` names no password in any linked exception."""
    from integration.mlflow.conftest import free_port  # noqa: PLC0415

    uri = f"http://alice:pa55-W0rd.x@127.0.0.1:{free_port()}"
    backend = MlflowBackend(uri, retry=policy)
    with pytest.raises(TransientRegistryError) as caught:
        backend.runs.get_run(experiment_name=None, run_id="abc123")
    shown = _whole_traceback(caught.value)
    assert "pa55-W0rd.x" not in shown
    assert "alice" not in shown
    assert "***@127.0.0.1" in shown, "the redacted SDK text is kept, for whoever debugs it"
    assert type(caught.value.__cause__).__name__ == "RedactedSdkError"
    assert len(retry_waits) == policy.attempts - 1


def test_the_password_of_a_tracking_uri_is_masked_wherever_it_is_quoted_alone() -> None:
    """An SDK that quotes the password apart from its URI (or decoded) shows it nowhere."""
    from aml_promotion.adapters._redaction import redact  # noqa: PLC0415

    MlflowBackend("http://carol:Tr0ub4dor%403@127.0.0.1:1", registry_uri="http://d:R3g-Pw99@h:1")
    assert redact("auth failed for password Tr0ub4dor@3") == "auth failed for password ***"
    assert redact("Tr0ub4dor%403 / R3g-Pw99") == "*** / ***"


def test_a_long_message_is_redacted_before_it_is_cut_short() -> None:
    """A password that the 600-character cut would split is redacted all the same."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    from aml_promotion.adapters.mlflow._errors import _translate  # noqa: PLC0415

    for filler in range(560, 600):
        text = "x" * filler + " at https://bob:Hunter2secret@host/api"
        message = str(_translate(MlflowException(text), "read it"))
        assert "Hunter2" not in message
        assert "Hunt" not in message, filler


def test_a_user_setting_for_mlflow_retries_is_respected(
    stub: Callable[[int, dict[str, Any]], StubServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MLFLOW_HTTP_REQUEST_MAX_RETRIES set by the user is theirs: kept, and in effect."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    server = stub(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"})
    backend = MlflowBackend(server.url, retry=RetryPolicy(attempts=2, jitter=0))
    with pytest.raises(TransientRegistryError):
        backend.registry.find_baseline("churn", BaselineStrategy.latest())
    assert len(server.requests) == 4
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "1"


def test_with_our_retries_off_mlflow_keeps_its_own(
    stub: Callable[[int, dict[str, Any]], StubServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With one attempt (ours off), MLflow's own HTTP retries are left as they are."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    monkeypatch.setenv("_MLFLOW_HTTP_REQUEST_MAX_RETRIES_LIMIT", "10")
    server = stub(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"})
    backend = MlflowBackend(server.url, retry=RetryPolicy(attempts=1))
    with pytest.raises(TransientRegistryError):
        backend.registry.find_baseline("churn", BaselineStrategy.latest())
    assert len(server.requests) == 8  # MLflow's default: 7 retries
