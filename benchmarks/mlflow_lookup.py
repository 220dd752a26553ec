"""Does the MLflow backend's cost grow with the number of registered versions? (It should not.)

Two models in one local sqlite MLflow store: one with 10 versions, one with 10,000. For each:

- **latest-version lookup**: ``backend.registry.find_baseline(name, BaselineStrategy.latest())``,
  one ``search_model_versions`` query ordered by version number with ``max_results=1``;
- **dry-run promotion**: ``promote(..., dry_run=True)`` of a better candidate run: the candidate
  run, its files, the lookup by run (idempotency), the latest version, the baseline's run and
  metrics, the decision;
- for comparison, **listing every version** (what a lookup that lists versions would cost).

Goal: the 10,000 case costs at most 1.5x the 10 case. The figures go in docs/backends-mlflow.md.

Seeding: the first version of each model is registered with MLflow's client; the other versions
are copies of its rows made with bulk SQL inserts into the sqlite file (registering 10,000
versions through the client takes minutes). Every version points at the same run, which logged
the baseline's metrics.

Run: ``python benchmarks/mlflow_lookup.py [--versions 10 10000] [--repeat 50]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

SETTINGS = {"model_file_name": "model.pkl", "metrics_max": ["auc"], "metrics_min": ["loss"]}


def seed(db: Path, client: Any, name: str, run_id: str, versions: int) -> None:
    """Register version 1 with the client, then copy it (and its tags) up to `versions`."""
    client.create_registered_model(name)
    client.create_model_version(
        name, source=f"runs:/{run_id}/model.pkl", run_id=run_id, tags={"seeded": "yes"}
    )
    with sqlite3.connect(db) as connection:
        for table in ("model_versions", "model_version_tags"):
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            copied = ", ".join("?" if column == "version" else column for column in columns)
            statement = (
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - our own names
                f"SELECT {copied} FROM {table} WHERE name = ? AND version = 1"
            )
            connection.executemany(statement, [(v, name) for v in range(2, versions + 1)])


def log_run(client: Any, experiment_id: str, metrics: dict[str, float], folder: Path) -> str:
    """Log a finished run with `metrics` and a model.pkl, with MLflow's client."""
    run = client.create_run(experiment_id)
    run_id = str(run.info.run_id)
    for key, value in metrics.items():
        client.log_metric(run_id, key, value)
    (folder / "model.pkl").write_text("a model\n")
    client.log_artifact(run_id, str(folder / "model.pkl"))
    client.set_terminated(run_id)
    return run_id


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Return the median and the 90th percentile, in milliseconds, after two warm-up calls."""
    for _ in range(2):
        call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.9 * (len(samples) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, nargs="+", default=[10, 10_000])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    warnings.simplefilter("ignore", DeprecationWarning)  # SQLAlchemy 2.1 on MLflow's store
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    from mlflow import MlflowClient  # noqa: PLC0415 - after the filters above

    from aml_promotion import BaselineStrategy, promote  # noqa: PLC0415
    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

    work = Path(tempfile.mkdtemp(prefix="aml-promotion-bench-mlflow-"))
    os.chdir(work)
    db = work / "mlflow.db"
    uri = f"sqlite:///{db}"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("bench", artifact_location=(work / "art").as_uri())
    baseline_run = log_run(client, experiment_id, {"auc": 0.80, "loss": 0.5}, work)
    candidate_run = log_run(client, experiment_id, {"auc": 0.85, "loss": 0.4}, work)

    seeding = time.perf_counter()
    for count in args.versions:
        seed(db, client, f"model-{count}", baseline_run, count)
    print(
        f"seeded {' + '.join(map(str, args.versions))} versions in "
        f"{time.perf_counter() - seeding:.1f} s (sqlite, {db})"
    )

    backend = MlflowBackend(uri)
    rows = []
    for count in args.versions:
        name = f"model-{count}"
        latest = backend.registry.find_baseline(name, BaselineStrategy.latest())
        assert latest is not None
        assert latest.version == count, latest

        def dry_run(name: str = name) -> object:
            result = promote(
                settings={**SETTINGS, "model_name": name},
                backend=backend,
                experiment_name="bench",
                run_id=candidate_run,
                dry_run=True,
            )
            assert result.decision.promote, result.decision.summary
            return result

        def listing(name: str = name) -> object:
            return client.search_model_versions(f"name = '{name}'", max_results=200_000)

        lookup = timed(
            lambda name=name: backend.registry.find_baseline(name, BaselineStrategy.latest()),
            args.repeat,
        )
        promotion = timed(dry_run, max(5, args.repeat // 5))
        every = timed(listing, max(3, args.repeat // 25))
        rows.append((count, lookup, promotion, every))

    print()
    print("| versions | latest-version lookup | dry-run promotion | listing every version |")
    print("|---:|---:|---:|---:|")
    for count, lookup, promotion, every in rows:
        print(
            f"| {count:,} | {lookup[0]:.2f} ms (p90 {lookup[1]:.2f}) "
            f"| {promotion[0]:.1f} ms (p90 {promotion[1]:.1f}) "
            f"| {every[0]:.0f} ms |"
        )
    small, large = rows[0], rows[-1]
    lookup_ratio = large[1][0] / small[1][0]
    promotion_ratio = large[2][0] / small[2][0]
    print()
    print(
        f"ratio {large[0]:,} / {small[0]:,} versions: lookup {lookup_ratio:.2f}x, "
        f"dry-run promotion {promotion_ratio:.2f}x (goal: at most 1.5x)"
    )


if __name__ == "__main__":
    main()
