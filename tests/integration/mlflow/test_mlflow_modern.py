"""MLflow as its users use it today: logged models, aliases, stages, usable versions, deleted runs.

Models are logged with ``mlflow.pyfunc.log_model`` (a tiny `PythonModel`, no ML library) into a
real sqlite store, and every version the backend registers is loaded back with
``mlflow.pyfunc.load_model("models:/...")``: MLflow's own loader is the oracle, not a listing.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")
pytest.importorskip("sqlalchemy", reason="a sqlite MLflow store needs SQLAlchemy")
pytest.importorskip("pandas", reason="mlflow.pyfunc.load_model needs pandas")

import mlflow
import pandas as pd

from aml_promotion import BaselineStrategy, promote
from aml_promotion.adapters.mlflow import MlflowBackend
from aml_promotion.exceptions import (
    BaselineNotFoundError,
    RegistryError,
    RunNotFoundError,
    RunStateError,
)
from integration.mlflow.pyfunc_model import AddK, predict

if TYPE_CHECKING:
    from integration.mlflow.conftest import MlflowHarness

pytestmark = [
    # MLflow's own chatter when a pyfunc model is logged or its types module is imported.
    pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*Add type hints to the `predict` method:UserWarning"),
    # mlflow.data.from_pandas calls pandas with positional arguments that pandas 4 will refuse.
    pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0 all arguments"),
]

SETTINGS: dict[str, Any] = {
    "model_name": "churn",
    "model_file_name": "model",
    "metrics_max": ["auc"],
    "baseline": "alias:champion",
}


def _train(k: int, auc: float, *, name: str = "model", step: int = 0) -> tuple[str, str]:
    """Log a run with metric auc and a pyfunc model `name`; return (run id, model id)."""
    mlflow.set_experiment("train")
    with mlflow.start_run() as run:
        mlflow.log_metric("auc", auc)
        info = mlflow.pyfunc.log_model(
            name=name, python_model=AddK(k), pip_requirements=[], step=step
        )
    return str(run.info.run_id), str(info.model_id)


def _backend(uri: str) -> MlflowBackend:
    return MlflowBackend(uri)


# --- logged models ----------------------------------------------------------------------------


def test_a_logged_model_is_registered_as_mlflow_does_and_loads_through_models_uris(
    tracking: str,
) -> None:
    """The version's source is models:/<model_id>, with model_id; it loads by number and alias."""
    run_id, model_id = _train(1, 0.80)
    result = promote(
        experiment_name="train", run_id=run_id, settings=SETTINGS, backend=_backend(tracking)
    )
    assert result.model is not None
    assert result.model.source == f"models:/{model_id}"
    held = mlflow.MlflowClient().get_model_version("churn", "1")
    assert held.source == f"models:/{model_id}"
    assert held.run_id == run_id
    assert predict("models:/churn/1") == [2, 3]
    assert predict("models:/churn@champion") == [2, 3]
    assert result.champion_version == 1

    better, _ = _train(10, 0.90)
    second = promote(
        experiment_name="train", run_id=better, settings=SETTINGS, backend=_backend(tracking)
    )
    assert second.baseline is not None
    assert second.baseline.version == 1
    assert second.champion_version == 2
    assert predict("models:/churn@champion") == [11, 12]
    assert predict("models:/churn/1") == [2, 3]


def test_a_logged_model_registers_on_a_store_other_than_mlflows_global_one(
    tracking: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow's sqlite registry resolves models:/<id> on the global URI: ours is used for it."""
    run_id, _ = _train(1, 0.80)
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", elsewhere)
    mlflow.set_tracking_uri(elsewhere)
    result = promote(
        experiment_name="train", run_id=run_id, settings=SETTINGS, backend=_backend(tracking)
    )
    assert result.model is not None
    assert mlflow.get_tracking_uri() == elsewhere
    assert os.environ["MLFLOW_TRACKING_URI"] == elsewhere
    mlflow.set_tracking_uri(tracking)
    assert predict("models:/churn@champion") == [2, 3]


def test_of_several_logged_models_of_one_name_the_one_register_model_picks_is_registered(
    tracking: str,
) -> None:
    """Two log_model calls with one name: the one mlflow.register_model picks (largest step)."""
    mlflow.set_experiment("train")
    with mlflow.start_run() as run:
        mlflow.log_metric("auc", 0.8)
        late = mlflow.pyfunc.log_model(
            name="model", python_model=AddK(5), pip_requirements=[], step=7
        )
        mlflow.pyfunc.log_model(name="model", python_model=AddK(1), pip_requirements=[], step=2)
    run_id = str(run.info.run_id)
    oracle = mlflow.register_model(f"runs:/{run_id}/model", "oracle")
    result = promote(
        experiment_name="train", run_id=run_id, settings=SETTINGS, backend=_backend(tracking)
    )
    assert result.model is not None
    assert result.model.source == oracle.source == f"models:/{late.model_id}"
    assert predict("models:/churn/1") == [6, 7]


def test_a_candidate_named_by_its_model_id_is_that_logged_model(tracking: str) -> None:
    """promote(model_id=...) registers that logged model, with its run's metrics."""
    mlflow.set_experiment("train")
    with mlflow.start_run() as run:
        mlflow.log_metric("auc", 0.8)
        early = mlflow.pyfunc.log_model(
            name="model", python_model=AddK(1), pip_requirements=[], step=1
        )
        mlflow.pyfunc.log_model(name="model", python_model=AddK(5), pip_requirements=[], step=9)
    result = promote(model_id=early.model_id, settings=SETTINGS, backend=_backend(tracking))
    assert result.model is not None
    assert result.candidate_run is not None
    assert result.candidate_run.run_id == run.info.run_id
    assert mlflow.MlflowClient().get_model_version("churn", "1").source == (
        f"models:/{early.model_id}"
    )
    assert predict("models:/churn@champion") == [2, 3]
    with pytest.raises(RunNotFoundError, match="no MLflow logged model with id 'm-nope'"):
        promote(model_id="m-nope", settings=SETTINGS, backend=_backend(tracking))


def test_a_plain_run_artifact_is_still_registered_from_the_run(
    harness_with_tracking: MlflowHarness,
) -> None:
    """A model file among the run's artifacts (no logged model) keeps its runs:/ source."""
    harness = harness_with_tracking
    run_id = harness.add_run("train", {"auc": 0.8}, ["outputs/model.pkl"])
    result = promote(
        experiment_name="train",
        run_id=run_id,
        settings={**SETTINGS, "model_file_name": "outputs/model.pkl"},
        backend=harness.backend,
    )
    assert result.model is not None
    assert result.model.source == f"runs:/{run_id}/outputs/model.pkl"


@pytest.fixture
def harness_with_tracking(sqlite_harness: MlflowHarness, tracking: str) -> MlflowHarness:
    """The sqlite harness, with MLflow's fluent API on the same store."""
    assert tracking
    return sqlite_harness


# --- usable versions --------------------------------------------------------------------------


def _set_status(uri: str, name: str, version: int, status: str) -> None:
    # MLflow's sqlite store registers synchronously: write the state a slow or failed copy
    # leaves (a Databricks or remote-artifact registration), as MLflow stores it.
    with sqlite3.connect(uri.removeprefix("sqlite:///")) as db:
        db.execute(
            "UPDATE model_versions SET status = ? WHERE name = ? AND version = ?",
            (status, name, version),
        )


def test_failed_and_pending_versions_are_never_baselines(tracking: str) -> None:
    """latest, version:N and alias: pass over a version whose registration failed or pends."""
    backend = _backend(tracking)
    settings = {**SETTINGS, "baseline": "latest"}
    for k, auc in [(1, 0.7), (2, 0.8), (3, 0.9)]:
        run_id, _ = _train(k, auc)
        promote(experiment_name="train", run_id=run_id, settings=settings, backend=backend)
    registry = backend.registry
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("churn", "champion", "3")
    _set_status(tracking, "churn", 3, "FAILED_REGISTRATION")
    _set_status(tracking, "churn", 2, "PENDING_REGISTRATION")
    latest = registry.find_baseline("churn", BaselineStrategy.latest())
    assert latest is not None
    assert latest.version == 1
    with pytest.raises(BaselineNotFoundError, match="registration failed or is pending"):
        registry.find_baseline("churn", BaselineStrategy.version(3))
    assert registry.find_baseline("churn", BaselineStrategy.alias("champion")) is None
    tagged = registry.find_tagged("churn", "promotion.verdict", "promote")
    assert [v.version for v in tagged] == [1]


def test_a_failed_registration_of_this_run_is_registered_again(tracking: str) -> None:
    """A FAILED_REGISTRATION version from this run is not 'already registered'."""
    run_id, _ = _train(1, 0.8)
    backend = _backend(tracking)
    first = promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
    assert first.model is not None
    _set_status(tracking, "churn", 1, "FAILED_REGISTRATION")
    again = promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
    assert not again.already_registered
    assert again.model is not None
    assert again.model.version == 2
    assert predict("models:/churn@champion") == [2, 3]


class _SettlesAfter:
    """MLflow's client, whose get_model_version finds the pending version settled on a call."""

    def __init__(self, client: Any, uri: str, *, after: int, status: str) -> None:
        self._client, self._uri, self._after, self._status = client, uri, after, status
        self.reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_model_version(self, name: str, version: str) -> Any:
        self.reads += 1
        if self.reads == self._after:
            _set_status(self._uri, name, int(version), self._status)
        return self._client.get_model_version(name, version)


@pytest.mark.parametrize(
    ("status", "registered"), [("READY", False), ("FAILED_REGISTRATION", True)]
)
def test_a_pending_version_of_this_run_is_waited_for(
    tracking: str, retry_waits: list[float], status: str, registered: bool
) -> None:
    """Pending: wait (bounded) until it settles; ready is 'already registered', failed is not."""
    run_id, _ = _train(1, 0.8)
    backend = _backend(tracking)
    promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
    _set_status(tracking, "churn", 1, "PENDING_REGISTRATION")
    spy = _SettlesAfter(backend._client, tracking, after=3, status=status)
    backend._client = spy
    again = promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
    assert spy.reads >= 3
    assert len(retry_waits) == 2
    assert again.already_registered is not registered
    assert again.model is not None
    assert again.model.version == (2 if registered else 1)


@pytest.mark.parametrize(("status", "found"), [("READY", True), ("FAILED_REGISTRATION", False)])
def test_a_pending_copy_is_waited_for_as_a_runs_version_is(
    tracking: str, retry_waits: list[float], status: str, found: bool
) -> None:
    """A copy found by its source key while pending: waited for; ready is found, failed is not."""
    from aml_promotion._domain import tags  # noqa: PLC0415

    run_id, _ = _train(1, 0.8)
    client = mlflow.MlflowClient()
    client.create_registered_model("copies")
    client.create_model_version(
        "copies", f"runs:/{run_id}/model", run_id=run_id, tags={tags.SOURCE_KEY: "k1"}
    )
    _set_status(tracking, "copies", 1, "PENDING_REGISTRATION")
    backend = _backend(tracking)
    spy = _SettlesAfter(backend._client, tracking, after=2, status=status)
    backend._client = spy
    copy = backend.registry.find_by_source("copies", "k1")
    assert spy.reads == 2
    assert len(retry_waits) == 1
    assert (copy is not None and copy.version == 1) is found


def test_a_version_that_stays_pending_is_an_error_not_a_second_version(tracking: str) -> None:
    """Still pending after the bounded wait: a RegistryError; nothing is registered twice."""
    run_id, _ = _train(1, 0.8)
    backend = _backend(tracking)
    promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
    _set_status(tracking, "churn", 1, "PENDING_REGISTRATION")
    with pytest.raises(RegistryError, match="still PENDING_REGISTRATION"):
        promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
    assert len(mlflow.MlflowClient().search_model_versions("name = 'churn'")) == 1


# --- aliases and stages ------------------------------------------------------------------------


def test_an_alias_set_by_hand_is_the_baseline_and_moves_to_the_promoted_version(
    tracking: str,
) -> None:
    """The holder of @champion, not the latest version, is compared with; then it moves."""
    backend = _backend(tracking)
    latest = {**SETTINGS, "baseline": "latest"}
    for k, auc in [(1, 0.7), (2, 0.95)]:
        run_id, _ = _train(k, auc)
        promote(experiment_name="train", run_id=run_id, settings=latest, backend=backend)
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("churn", "champion", "1")
    candidate, _ = _train(3, 0.8)
    result = promote(experiment_name="train", run_id=candidate, settings=SETTINGS, backend=backend)
    assert result.baseline is not None
    assert result.baseline.version == 1
    assert result.model is not None
    assert int(client.get_model_version_by_alias("churn", "champion").version) == 3
    assert predict("models:/churn@champion") == [4, 5]


def test_a_missing_alias_or_model_is_no_baseline(tracking: str) -> None:
    """No model, or a model without that alias: no baseline (never an error)."""
    registry = _backend(tracking).registry
    assert registry.find_baseline("churn", BaselineStrategy.alias("champion")) is None
    mlflow.MlflowClient().create_registered_model("churn")
    assert registry.find_baseline("churn", BaselineStrategy.alias("champion")) is None


@pytest.mark.filterwarnings("ignore:.*transition_model_version_stage.*:FutureWarning")
def test_a_stage_baseline_is_the_latest_version_in_that_stage(tracking: str) -> None:
    """stage:Production reads MLflow 2 stages (case-insensitively), and never moves them."""
    backend = _backend(tracking)
    latest = {**SETTINGS, "baseline": "latest"}
    for k, auc in [(1, 0.7), (2, 0.8), (3, 0.9)]:
        run_id, _ = _train(k, auc)
        promote(experiment_name="train", run_id=run_id, settings=latest, backend=backend)
    client = mlflow.MlflowClient()
    client.transition_model_version_stage("churn", "2", "Production")
    client.transition_model_version_stage("churn", "1", "Production")
    found = backend.registry.find_baseline("churn", BaselineStrategy.parse("stage:production"))
    assert found is not None
    assert found.version == 2
    assert backend.registry.find_baseline("churn", BaselineStrategy.stage("Staging")) is None
    candidate, _ = _train(4, 0.85)
    result = promote(
        experiment_name="train",
        run_id=candidate,
        settings={**SETTINGS, "baseline": "stage:Production"},
        backend=backend,
    )
    assert result.baseline is not None
    assert result.baseline.version == 2
    assert result.model is not None
    assert client.get_model_version("churn", str(result.model.version)).current_stage == "None"


# --- runs as MLflow keeps them -------------------------------------------------------------------


def test_a_deleted_run_is_refused_unless_forced(tracking: str) -> None:
    """A run in MLflow's trash is a RunStateError; forced, it is registered."""
    run_id, _ = _train(1, 0.8)
    mlflow.MlflowClient().delete_run(run_id)
    backend = _backend(tracking)
    with pytest.raises(RunStateError) as caught:
        promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
    assert "deleted" in str(caught.value)
    forced = promote(
        experiment_name="train",
        run_id=run_id,
        settings={**SETTINGS, "force_registration": True},
        backend=backend,
    )
    assert forced.model is not None


def test_a_null_pipeline_step_promotes_a_sweeps_parent_that_logged_the_best_model(
    tracking: str,
) -> None:
    """pipeline_child_run_name: null: the parent run itself, though it has child runs."""
    mlflow.set_experiment("sweep")
    with mlflow.start_run() as parent:
        for k in (1, 2):
            with mlflow.start_run(run_name="model_training", nested=True):
                mlflow.log_metric("auc", 0.5 + k / 10)
        mlflow.log_metric("auc", 0.7)
        mlflow.pyfunc.log_model(name="model", python_model=AddK(2), pip_requirements=[])
    settings = {**SETTINGS, "pipeline_child_run_name": None}
    result = promote(
        experiment_name="sweep",
        run_id=parent.info.run_id,
        settings=settings,
        backend=_backend(tracking),
    )
    assert result.candidate_run is not None
    assert result.candidate_run.run_id == parent.info.run_id
    assert predict("models:/churn@champion") == [3, 4]


class _ReversedHistory:
    """MLflow's client, giving a metric's history in reverse order."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_metric_history(self, run_id: str, key: str) -> list[Any]:
        return list(reversed(self._client.get_metric_history(run_id, key)))


def test_last_is_mlflows_latest_value_when_steps_and_timestamps_tie(
    harness: MlflowHarness,
) -> None:
    """Values logged at one step and one timestamp: the series ends with MLflow's latest."""
    from mlflow.entities import Metric  # noqa: PLC0415

    run_id = harness.add_run("train", {}, [])
    now = int(time.time() * 1000)
    harness.client.log_batch(
        run_id,
        metrics=[Metric("auc", value, now, 3) for value in (0.9, 0.7, 0.8)],
    )
    # Another store may give the history in another order (logging order, say): reversed here.
    harness.backend._client = _ReversedHistory(harness.backend._client)
    runs = harness.backend.runs
    run = runs.get_run(experiment_name="train", run_id=run_id)
    latest = harness.client.get_run(run_id).data.metrics["auc"]
    assert latest == 0.9
    values = runs.get_metrics(run, ["auc"], series=["auc"]).values["auc"]  # noqa: PD011 - ours
    assert isinstance(values, list)
    assert values[-1] == latest
    assert runs.get_metrics(run, ["auc"]).values["auc"] == latest  # noqa: PD011 - not pandas


@pytest.fixture
def harness(sqlite_harness: MlflowHarness) -> MlflowHarness:
    """A fresh sqlite store with runs logged by MLflow's client."""
    return sqlite_harness


# --- conventions -------------------------------------------------------------------------------


def test_a_client_is_used_as_it_is(sqlite_uri: str, tmp_path: Path) -> None:
    """MlflowBackend(client=MlflowClient(...)): its URIs, and no URI beside it."""
    registry_uri = f"sqlite:///{tmp_path / 'registry.db'}"
    client = mlflow.MlflowClient(tracking_uri=sqlite_uri, registry_uri=registry_uri)
    backend = MlflowBackend(client=client)
    assert backend._client is client
    assert backend.tracking_uri == sqlite_uri
    assert backend.registry_uri == registry_uri
    with pytest.raises(ValueError, match="client= alone"):
        MlflowBackend(sqlite_uri, client=client)


# --- dataset-scoped metrics ----------------------------------------------------------------------


def _train_on_datasets(k: int, scores: dict[str, float], *, loss: float = 0.3) -> str:
    """Log a model, auc on each named evaluation dataset (MLflow 3), and loss unscoped."""
    mlflow.set_experiment("train")
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(name="model", python_model=AddK(k), pip_requirements=[])
        for name, score in scores.items():
            frame = pd.DataFrame({"x": [k, len(name)]})
            dataset = mlflow.data.from_pandas(frame, name=name)
            mlflow.log_metric("auc", score, dataset=dataset, model_id=info.model_id)
        mlflow.log_metric("loss", loss)
    return str(run.info.run_id)


DATASET_SETTINGS = {
    **SETTINGS,
    "metrics_max": [],
    "metric_rules": {"auc": {"goal": "maximize", "dataset": "val"}},
}


def test_a_rules_dataset_picks_that_datasets_value(tracking: str) -> None:
    """Auc on 'val' decides, whatever was logged last on 'test'."""
    backend = _backend(tracking)
    first = _train_on_datasets(1, {"val": 0.80, "test": 0.95})
    promote(experiment_name="train", run_id=first, settings=DATASET_SETTINGS, backend=backend)
    # Better on val, worse on test (logged last, so MLflow's run-level auc is the test one).
    second = _train_on_datasets(2, {"val": 0.85, "test": 0.60})
    result = promote(
        experiment_name="train", run_id=second, settings=DATASET_SETTINGS, backend=backend
    )
    comparison = result.decision.comparisons[0]
    assert (comparison.candidate, comparison.baseline) == (0.85, 0.80)
    assert result.model is not None
    assert predict("models:/churn@champion") == [3, 4]


def test_a_metric_on_several_datasets_with_none_chosen_is_refused_listing_them(
    tracking: str,
) -> None:
    """No dataset in the rule: rejected, and the reason lists the datasets (never the last)."""
    run_id = _train_on_datasets(1, {"val": 0.80, "test": 0.95})
    result = promote(
        experiment_name="train", run_id=run_id, settings=SETTINGS, backend=_backend(tracking)
    )
    assert result.model is None
    reason = result.decision.comparisons[0].outcome
    assert "logged on 2 datasets (test@" in reason
    assert ", val@" in reason
    assert 'choose one with the rule\'s "dataset"' in reason


def test_a_dataset_the_metric_was_not_logged_on_is_refused_naming_the_others(
    tracking: str,
) -> None:
    """The rule's dataset is not among those logged: rejected, and the reason lists them."""
    run_id = _train_on_datasets(1, {"test": 0.95})
    settings = {**DATASET_SETTINGS, "metric_rules": {"auc": {"goal": "maximize", "dataset": "x"}}}
    result = promote(
        experiment_name="train", run_id=run_id, settings=settings, backend=_backend(tracking)
    )
    assert result.model is None
    assert "'auc' was not logged on dataset 'x'; it was logged on test@" in (
        result.decision.comparisons[0].outcome
    )


def test_a_metric_on_one_dataset_and_unscoped_metrics_read_as_before(tracking: str) -> None:
    """One dataset only, or no dataset at all: the run's own latest value, as before."""
    run_id = _train_on_datasets(1, {"val": 0.80}, loss=0.25)
    settings = {**SETTINGS, "metrics_min": ["loss"]}
    result = promote(
        experiment_name="train", run_id=run_id, settings=settings, backend=_backend(tracking)
    )
    assert [c.candidate for c in result.decision.comparisons] == [0.80, 0.25]
    assert result.model is not None


def test_each_logged_model_of_one_run_is_registered_once_by_its_model_id(tracking: str) -> None:
    """A run logging models a and b: b registers after a; each re-run finds its own version."""
    mlflow.set_experiment("train")
    with mlflow.start_run():
        mlflow.log_metric("auc", 0.8)
        first = mlflow.pyfunc.log_model(name="a", python_model=AddK(100), pip_requirements=[])
        second = mlflow.pyfunc.log_model(name="b", python_model=AddK(200), pip_requirements=[])
    settings = {"model_name": "churn", "metrics_max": ["auc"], "require_improvement": False}
    backend = _backend(tracking)
    results = [
        promote(settings=settings, backend=backend, model_id=str(info.model_id))
        for info in (first, second, first, second)
    ]
    assert [r.already_registered for r in results] == [False, False, True, True]
    assert [r.model.version if r.model else None for r in results] == [1, 2, 1, 2]
    assert predict("models:/churn/1") == [101, 102]
    assert predict("models:/churn/2") == [201, 202]


def test_each_logged_model_of_one_run_picked_by_name_is_registered_once(tracking: str) -> None:
    """model_file_name "a", then "b", of one run: two versions; a re-run of "a" finds its own."""
    mlflow.set_experiment("train")
    with mlflow.start_run() as run:
        mlflow.log_metric("auc", 0.8)
        mlflow.pyfunc.log_model(name="a", python_model=AddK(100), pip_requirements=[])
        mlflow.pyfunc.log_model(name="b", python_model=AddK(200), pip_requirements=[])
    backend = _backend(tracking)
    results = [
        promote(
            experiment_name="train",
            run_id=run.info.run_id,
            settings={
                "model_name": "churn",
                "model_file_name": picked,
                "metrics_max": ["auc"],
                "require_improvement": False,
            },
            backend=backend,
        )
        for picked in ("a", "b", "a")
    ]
    assert [r.already_registered for r in results] == [False, False, True]
    assert [r.model.version if r.model else None for r in results] == [1, 2, 1]
    assert predict("models:/churn/2") == [201, 202]
