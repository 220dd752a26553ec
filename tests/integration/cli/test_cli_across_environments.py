"""``aml-promote --candidate-version ... --target-registry-uri ...``: dev to prod, a subprocess.

A dev sqlite store holds three versions of ``churn`` registered from runs (auc 0.80, 0.85,
0.75); the prod store is another sqlite file. Each promotion is the real CLI in a subprocess.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest

from integration.cli.clirun import Cli
from mlflow_sqlite import MARKS

pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")

pytestmark = MARKS

SETTINGS = {"metrics_max": ["auc"], "baseline": "alias:champion"}


@attrs.frozen
class Stores:
    """The dev and prod tracking URIs."""

    dev: str
    prod: str


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dev store: versions 1, 2, 3 of churn from runs with auc 0.80, 0.85, 0.75."""
    from mlflow import MlflowClient  # noqa: PLC0415

    root = tmp_path_factory.mktemp("dev-template")
    database = root / "dev.db"
    uri = f"sqlite:///{database}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment("train", artifact_location=(root / "art").as_uri())
    model = root / "model.pkl"
    model.write_bytes(b"a pickled model")
    client.create_registered_model("churn")
    for auc in (0.80, 0.85, 0.75):
        run_id = client.create_run(experiment).info.run_id
        client.log_metric(run_id, "auc", auc)
        client.log_artifact(run_id, str(model), "model")
        client.set_terminated(run_id)
        client.create_model_version("churn", f"runs:/{run_id}/model", run_id=run_id)
    return database


@pytest.fixture
def stores(template: Path, tmp_path: Path) -> Stores:
    """This test's dev store (a copy of the template) and an empty prod store."""
    dev = tmp_path / "dev.db"
    shutil.copyfile(template, dev)
    return Stores(dev=f"sqlite:///{dev}", prod=f"sqlite:///{tmp_path / 'prod.db'}")


@pytest.fixture
def prod_versions(stores: Stores) -> Callable[[], list[int]]:
    """The versions of churn in prod, read with MLflow's client."""

    def read() -> list[int]:
        from mlflow import MlflowClient  # noqa: PLC0415

        client = MlflowClient(tracking_uri=stores.prod, registry_uri=stores.prod)
        return sorted(int(v.version) for v in client.search_model_versions("name='churn'"))

    return read


def promote_version(cli: Cli, stores: Stores, version: str, *more: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    """Promote dev's `version` into prod with the CLI; return its exit code and JSON result."""
    done = cli(
        "--backend",
        "mlflow",
        "--tracking-uri",
        stores.dev,
        "--candidate-version",
        version,
        "--target-registry-uri",
        stores.prod,
        "--json",
        *more,
    )
    return done.code, json.loads(done.stdout) if done.stdout.strip() else {}


def test_dev_versions_reach_prod_only_when_better_and_once(
    cli: Cli,
    write_settings: Callable[..., Path],
    stores: Stores,
    prod_versions: Callable[[], list[int]],
) -> None:
    """Seed, worse (exit 1, prod untouched), better (the champion moves), re-run (nothing new)."""
    write_settings(SETTINGS)

    seeded, first = promote_version(cli, stores, "churn:1")
    assert seeded == 0
    assert first["registered"] is True
    assert prod_versions() == [1]

    rejected, worse = promote_version(cli, stores, "churn:3")
    assert rejected == 1
    assert worse["model"] is None
    assert worse["baseline"]["version"] == 1
    assert prod_versions() == [1]

    promoted, better = promote_version(cli, stores, "churn:2")
    assert promoted == 0
    assert better["champion_version"] == 2
    assert better["decision"]["comparisons"][0]["baseline"] == pytest.approx(0.80)
    assert prod_versions() == [1, 2]

    again_code, again = promote_version(cli, stores, "churn:2")
    assert again_code == 0
    assert again["already_registered"] is True
    assert prod_versions() == [1, 2]


def test_candidate_version_options_that_cannot_work_are_exit_2(
    cli: Cli, write_settings: Callable[..., Path], stores: Stores
) -> None:
    """A version that does not exist, with --run-id, or a target with no candidate version."""
    write_settings(SETTINGS)

    missing = cli(
        "--backend", "mlflow", "--tracking-uri", stores.dev, "--candidate-version", "churn:9"
    )
    mixed = cli("--backend", "mlflow", "--candidate-version", "churn:1", "--run-id", "r")
    alone = cli("--backend", "mlflow", "--target-registry-uri", stores.prod)
    malformed = cli("--backend", "mlflow", "--candidate-version", "churn")

    assert missing.code == 2
    assert "churn:9" in missing.stderr
    assert mixed.code == 2
    assert "--candidate-version names the candidate alone" in mixed.stderr
    assert alone.code == 2
    assert "--target-registry-uri goes with --candidate-version" in alone.stderr
    assert malformed.code == 2
    assert "NAME:VERSION" in malformed.stderr


def test_in_github_actions_the_target_model_is_the_candidates_own_name(
    cli: Cli,
    write_settings: Callable[..., Path],
    stores: Stores,
    prod_versions: Callable[[], list[int]],
    github_files: dict[str, str],
) -> None:
    """GitHub's <repo>-<branch> default never names the copy: a worse version meets the champion.

    The workflow runs in octo-org/churn on main (default name ``churn-main``); prod's champion
    is ``churn``, so dev's worse ``churn:3`` is compared with it and rejected.
    """
    write_settings(SETTINGS)
    argv = ["--backend", "mlflow", "--tracking-uri", stores.dev, "--target-registry-uri",
            stores.prod, "--json", "--candidate-version"]  # fmt: skip

    seeded = cli(*argv, "churn:2", env=github_files)
    worse = cli(*argv, "churn:3", env=github_files)

    assert seeded.code == 0, seeded.explain()
    assert seeded.document["model"]["name"] == "churn"  # type: ignore[index]
    assert worse.code == 1, worse.explain()
    # Rejected, nothing registered: the output names the model the version was compared in.
    assert worse.outputs["model_name"] == "churn"
    assert worse.document["baseline"]["version"] == 1  # type: ignore[index]
    assert prod_versions() == [1]
    from mlflow import MlflowClient  # noqa: PLC0415

    client = MlflowClient(tracking_uri=stores.prod, registry_uri=stores.prod)
    assert [model.name for model in client.search_registered_models()] == ["churn"]


def test_job_output_with_a_candidate_version_is_exit_2_naming_both(
    cli: Cli,
    write_settings: Callable[..., Path],
    stores: Stores,
    prod_versions: Callable[[], list[int]],
) -> None:
    """A registered version has no job outputs: job_output in its settings is exit 2, no copy."""
    write_settings({**SETTINGS, "job_output": "model_output"})

    code, result = promote_version(cli, stores, "churn:2")

    assert code == 2
    assert result["error"]["type"] == "SettingsError"
    assert "candidate_version names a registered version" in result["error"]["message"]
    assert "$.job_output" in result["error"]["message"]
    assert prod_versions() == []
