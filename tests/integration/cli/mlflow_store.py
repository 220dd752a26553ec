"""A local MLflow sqlite store with runs logged by the real MLflow client, for the CLI's tests.

Creating an MLflow database runs its migrations (seconds): a module logs its runs once into a
template store (`TemplateStore`), and each test promotes against its own copy (`Store.copy`).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

MODEL_NAME = "churn"
EXPERIMENT = "train"
SETTINGS = {
    "model_name": MODEL_NAME,
    "model_file_name": "model.pkl",
    "metrics_max": ["auc"],
    "metrics_min": ["log_loss"],
}
"""The settings the template's runs are promoted under (their metrics: auc, log_loss)."""


@attrs.frozen
class Store:
    """The template store: its database file, and the runs logged into it."""

    database: Path
    runs: dict[str, str]
    experiment: str = EXPERIMENT

    @property
    def uri(self) -> str:
        """The store's tracking URI."""
        return f"sqlite:///{self.database}"

    def copy(self, folder: Path) -> Store:
        """Return a copy of the database in `folder`; artifacts stay shared, none is written."""
        database = folder / "mlflow.db"
        shutil.copyfile(self.database, database)
        return attrs.evolve(self, database=database)


@attrs.define
class TemplateStore:
    """A template store being filled: experiment ``train``, a model file to log with each run."""

    root: Path
    client: Any
    experiment_id: str
    model_file: Path
    runs: dict[str, str] = attrs.field(factory=dict)

    @classmethod
    def create(cls, root: Path) -> TemplateStore:
        """Create the database and the experiment in `root`."""
        from mlflow import MlflowClient  # noqa: PLC0415 - only once the extra is known to be there

        client = MlflowClient(tracking_uri=f"sqlite:///{root / 'mlflow.db'}")
        experiment_id = client.create_experiment(
            EXPERIMENT, artifact_location=(root / "art").as_uri()
        )
        model_file = root / "model.pkl"
        model_file.write_bytes(b"a pickled model")
        return cls(root=root, client=client, experiment_id=experiment_id, model_file=model_file)

    def log_run(
        self,
        name: str,
        metrics: Mapping[str, float | Sequence[float]],
        *,
        status: str = "FINISHED",
    ) -> str:
        """Log run `name` with `metrics` (a sequence: one value a step) and the model file."""
        client = self.client
        run_id: str = client.create_run(self.experiment_id, run_name=name).info.run_id
        for metric, value in metrics.items():
            if isinstance(value, Sequence):
                for step, score in enumerate(value):
                    client.log_metric(run_id, metric, score, step=step)
            else:
                client.log_metric(run_id, metric, value)
        client.log_artifact(run_id, str(self.model_file), "outputs")
        client.set_terminated(run_id, status=status)
        self.runs[name] = run_id
        return run_id

    def done(self) -> Store:
        """Register version 1 of ``churn`` from run ``baseline``; return the store."""
        baseline = self.runs["baseline"]
        self.client.create_registered_model(MODEL_NAME)
        self.client.create_model_version(
            MODEL_NAME, f"runs:/{baseline}/outputs/model.pkl", run_id=baseline
        )
        return Store(database=self.root / "mlflow.db", runs=dict(self.runs))
