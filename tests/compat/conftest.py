"""The compatibility suite's MLflow store: created once (migrations take seconds), copied per test.

Each test gets its own copy of an empty sqlite store with one experiment, ``train``, logs the runs
it needs with MLflow's own client, and promotes with ``aml-promote --backend mlflow`` on it.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from aml_promotion._cli import run
from compat.support import EXPERIMENT, Outcome, Promote, Store


@pytest.fixture(scope="session")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow sqlite store with its tables made and the experiment ``train``."""
    from mlflow import MlflowClient  # noqa: PLC0415 - only once the extra is known to be there

    root = tmp_path_factory.mktemp("compat-mlflow")
    database = root / "template.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{database}")
    client.create_experiment(EXPERIMENT, artifact_location=(root / "artifacts").as_uri())
    return database


@pytest.fixture
def store(store_template: Path, tmp_path: Path) -> Store:
    """A fresh copy of the template store for this test."""
    from mlflow import MlflowClient  # noqa: PLC0415

    database = tmp_path / "mlflow.db"
    shutil.copyfile(store_template, database)
    client = MlflowClient(tracking_uri=f"sqlite:///{database}")
    experiment = client.get_experiment_by_name(EXPERIMENT)
    artifacts = tmp_path / "sources"
    artifacts.mkdir()
    return Store(
        database=database,
        artifacts=artifacts,
        client=client,
        experiment_id=experiment.experiment_id,
    )


@pytest.fixture
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repository checkout the command line runs in (GITHUB_WORKSPACE), and works in.

    Made before the store, so that MLflow, which fixes a store's default artifact root
    (``./mlruns``, where a new local experiment's files go) when it first opens it, puts it
    here rather than where the tests were started.
    """
    path = tmp_path / "checkout"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


@pytest.fixture
def promote_cli(checkout: Path, store: Store) -> Promote:
    """Run ``aml-promote --backend mlflow --tracking-uri <the store> ARGS`` in-process.

    `run()` is what `main()` runs, with the environment and streams given: the real backend,
    settings lookup and reporting, without a process start per call.
    """

    def invoke(*args: str, env: Mapping[str, str] | None = None) -> Outcome:
        stdout, stderr = io.StringIO(), io.StringIO()
        code = run(
            ["--backend", "mlflow", "--tracking-uri", store.uri, *args],
            environ={"GITHUB_WORKSPACE": str(checkout), **(env or {})},
            stdout=stdout,
            stderr=stderr,
            cwd=checkout,
        )
        return Outcome(code, stdout.getvalue(), stderr.getvalue())

    return invoke
