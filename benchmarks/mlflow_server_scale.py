"""Requests and wall time of one MLflow promotion at 10 vs 100,000 versions, PostgreSQL server.

A real ``mlflow server`` on 127.0.0.1 over a PostgreSQL database (Debian's ``postgresql``
package: ``initdb`` and ``postgres`` started in a temporary folder, as the race tests do:
tests/servers.py), with a counting proxy in front (tests/faultproxy.py, no faults) that records
every request the backend sends and how long the server took to answer it.

Two models per baseline strategy: one with 10 versions, one with 100,000. Version 1 of each is
registered with MLflow's client; the others are copies of its rows (``model_versions``,
``model_version_tags``) made by one ``INSERT ... SELECT ... generate_series`` per table, then
``ANALYZE`` (registering 100,000 versions through the client would take most of an hour).
Every version points at one baseline run, which logged 52 metrics. With ``tag:champion=true``
the highest version holds the tag, with ``alias:champion`` the alias.

One promotion: a new candidate run that logged 52 metrics, gated on 2 of them (one maximised,
one minimised), beats the baseline and is registered (``promote`` with
``MlflowBackend(proxy)``); the model was registered before. The promotions against the 10 and
the 100,000 versions alternate, so that the load of the machine weighs on both alike; the first
of each is a warm-up. Goal (issue 21): the same requests, and at most 1.5 times the time.

The 10-version, ``latest`` row is issue 21's scenario for the request count per promotion.

Run: ``python benchmarks/mlflow_server_scale.py [--versions 10 100000] [--repeat 5]``. Needs
PostgreSQL and the full mlflow package (``AML_PROMOTION_MLFLOW_SERVER``: its ``mlflow``
executable; by default ``.nox/mlflow-server/bin/mlflow``, what ``nox -s integration`` installs).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from faultproxy import FaultProxy  # noqa: E402
from servers import Postgres, postgres, postgres_binaries, start_mlflow_server  # noqa: E402

LOGGED = 52
GATED = ("metric_00", "metric_01")
STRATEGIES = {
    "latest": None,
    "tag:champion=true": "tag:champion=true",
    "alias:champion": "alias:champion",
}
GOAL = 1.5


def route(path: str) -> str:
    """The REST route of a request path, without the API prefix."""
    return re.sub(r"^/api/2\.0/mlflow(-artifacts)?/", r"\1 ", path).strip()


class Bench:
    """The server, its database and a client on it; candidates made on demand."""

    def __init__(self, database: Postgres, url: str, work: Path) -> None:
        from mlflow import MlflowClient  # noqa: PLC0415 - after the warning filters

        self.database = database
        self.client = MlflowClient(tracking_uri=url)
        self.work = work
        self.experiment_id = self.client.create_experiment("bench")
        self.level = 0
        self.baseline_run = self.log_run(0.60, 0.40)

    def log_run(self, gain: float, loss: float) -> str:
        """A finished run with LOGGED metrics (two of them gated) and a model.pkl."""
        from mlflow.entities import Metric  # noqa: PLC0415

        run = self.client.create_run(self.experiment_id)
        run_id = str(run.info.run_id)
        values = {f"metric_{i:02d}": 0.5 for i in range(LOGGED)}
        values.update({GATED[0]: gain, GATED[1]: loss})
        now = int(time.time() * 1000)
        self.client.log_batch(run_id, metrics=[Metric(k, v, now, 0) for k, v in values.items()])
        model = self.work / "model.pkl"
        model.write_text("a model\n")
        self.client.log_artifact(run_id, str(model))
        self.client.set_terminated(run_id)
        return run_id

    def candidate(self) -> str:
        """A run that beats every earlier one (each promotion makes the next baseline)."""
        self.level += 1
        return self.log_run(0.60 + self.level * 1e-4, 0.40 - self.level * 1e-4)

    def seed(self, name: str, versions: int, baseline: str | None) -> None:
        """Register version 1, copy it up to `versions` with SQL; the last one is the champion."""
        self.client.create_registered_model(name)
        self.client.create_model_version(
            name,
            source=f"runs:/{self.baseline_run}/model.pkl",
            run_id=self.baseline_run,
            tags={"seeded": "yes", "owner": "bench"},
        )
        for table in ("model_versions", "model_version_tags"):
            columns = self.database.psql(
                "SELECT column_name FROM information_schema.columns "  # noqa: S608 - our names
                f"WHERE table_name = '{table}' ORDER BY ordinal_position"
            ).split()
            names = ", ".join(f'"{column}"' for column in columns)
            copied = ", ".join("g" if column == "version" else f'"{column}"' for column in columns)
            self.database.psql(
                f"INSERT INTO {table} ({names}) "  # noqa: S608 - our own names
                f"SELECT {copied} FROM {table}, generate_series(2, {versions}) AS g "
                f"WHERE name = '{name}' AND version = 1"
            )
        self.database.psql("ANALYZE model_versions; ANALYZE model_version_tags")
        if baseline == "tag:champion=true":
            self.client.set_model_version_tag(name, str(versions), "champion", "true")
        elif baseline == "alias:champion":
            self.client.set_registered_model_alias(name, "champion", str(versions))


def promote_once(bench: Bench, proxy: FaultProxy, name: str, baseline: str | None) -> Any:
    """One promotion of a new, better candidate; the proxy's record is of it alone."""
    from aml_promotion import promote  # noqa: PLC0415
    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

    settings: dict[str, Any] = {
        "model_name": name,
        "model_file_name": "model.pkl",
        "metrics_max": [GATED[0]],
        "metrics_min": [GATED[1]],
    }
    if baseline is not None:
        settings["baseline"] = baseline
    run_id = bench.candidate()
    backend = MlflowBackend(proxy.url)  # a new backend per promotion, as the CLI and the Action
    proxy.clear()
    started = time.perf_counter()
    result = promote(experiment_name="bench", run_id=run_id, settings=settings, backend=backend)
    elapsed = time.perf_counter() - started
    assert result.model is not None, result.decision.summary
    assert not result.already_registered
    return elapsed, [(m, route(p)) for m, p, _ in proxy.requests], list(proxy.seconds)


Times = dict[tuple[str, int], list[float]]
Sent = dict[tuple[str, int], list[list[tuple[str, str]]]]
PerRoute = dict[tuple[str, int, int], list[float]]  # (baseline, versions, n-th request)


def measure(
    bench: Bench, proxy: FaultProxy, cells: list[tuple[str, int, str]], repeat: int
) -> tuple[Times, Sent, PerRoute]:
    """Promote `repeat` + 1 times in each cell, in turn; the first of each is a warm-up."""
    times: Times = defaultdict(list)
    requests: Sent = defaultdict(list)
    per_route: PerRoute = defaultdict(list)
    for attempt in range(repeat + 1):
        for label, count, name in cells:
            elapsed, sent, seconds = promote_once(bench, proxy, name, STRATEGIES[label])
            if attempt == 0:
                continue  # warm-up: first use of each code path and query plan
            times[label, count].append(elapsed)
            requests[label, count].append(sent)
            for position, took in enumerate(seconds):
                per_route[label, count, position].append(took)
    return times, requests, per_route


def report(
    times: Times, requests: Sent, per_route: PerRoute, sizes: tuple[int, int], *, repeat: int
) -> None:
    """Print the tables and the verdicts."""
    small, large = sizes
    print(
        f"\nOne MLflow promotion on a PostgreSQL-backed `mlflow server` ({LOGGED} metrics "
        f"logged, {len(GATED)} gated; the model registered before), median of {repeat}\n"
    )
    print(f"| baseline | versions | requests | wall time | ratio {large:,} ÷ {small:,} |")
    print("|---|---:|---:|---:|---:|")
    verdicts = []
    for label in STRATEGIES:
        counts = {count: {len(sent) for sent in requests[label, count]} for count in (small, large)}
        medians = {count: statistics.median(times[label, count]) for count in (small, large)}
        ratio = medians[large] / medians[small]
        for count in (small, large):
            shown = "/".join(str(n) for n in sorted(counts[count]))
            cell = f"{ratio:.2f}×" if count == large else ""
            print(f"| {label} | {count:,} | {shown} | {medians[count] * 1000:.0f} ms | {cell} |")
        same = counts[small] == counts[large] and len(counts[small]) == 1
        verdicts.append(
            f"{label}: {ratio:.2f}× the time, "
            f"{'the same requests' if same else 'NOT the same requests'} "
            f"({'met' if ratio <= GOAL and same else 'NOT met'}; goal ≤ {GOAL}×)"
        )
    print()
    for verdict in verdicts:
        print(f"flat at {large:,} versions: {verdict}")

    print(f"\nTime per request (the server's answer), median, {small:,} vs {large:,} versions\n")
    print(f"| baseline | request | {small:,} | {large:,} | ratio |")
    print("|---|---|---:|---:|---:|")
    for label in STRATEGIES:
        sequence = requests[label, small][0]
        same = all(sent == sequence for size in sizes for sent in requests[label, size])
        for position, (method, path) in enumerate(sequence):
            few = statistics.median(per_route[label, small, position])
            many = statistics.median(per_route[label, large, position]) if same else float("nan")
            print(
                f"| {label} | {position + 1}. {method} {path} | {few * 1000:.1f} ms "
                f"| {many * 1000:.1f} ms | {many / few:.2f}× |"
            )

    for label in STRATEGIES:
        sent = requests[label, small][0]
        listed = ", ".join(f"{m} {r}" for m, r in sent)
        print(f"\nrequests of one promotion, baseline {label}: {len(sent)}: {listed}")
    scenario = requests["latest", small][0]
    artifacts = sum(1 for _, path in scenario if path.startswith("-artifacts"))
    print(
        f"\nMLflow requests per promotion (issue 21 scenario: {len(GATED)} gated metrics of "
        f"{LOGGED} logged, the model registered before, baseline latest): {len(scenario)} "
        f"({len(scenario) - artifacts} to the tracking API, {artifacts} to the artifact API)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, nargs=2, default=[10, 100_000])
    parser.add_argument("--repeat", type=int, default=5, help="promotions per cell (median)")
    args = parser.parse_args()
    small, large = args.versions

    binaries = postgres_binaries()
    executable = os.environ.get("AML_PROMOTION_MLFLOW_SERVER") or str(
        ROOT / ".nox" / "mlflow-server" / "bin" / "mlflow"
    )
    if binaries is None or not Path(executable).is_file():
        print(
            "mlflow_server_scale: skipped: needs PostgreSQL (Debian's `postgresql` package) and "
            "the full mlflow package (AML_PROMOTION_MLFLOW_SERVER, or `nox -s integration` once)"
        )
        return

    warnings.simplefilter("ignore", DeprecationWarning)
    import mlflow  # noqa: PLC0415, F401 - it sets its loggers' levels when imported

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="aml-promotion-bench-pg-"))
    os.chdir(work)
    for variable in [n for n in os.environ if n.startswith("MLFLOW_")]:
        del os.environ[variable]
    os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"  # no "View run" per run

    with postgres(binaries) as database:
        server = start_mlflow_server(executable, database.uri, work)
        proxy = FaultProxy(server.url).start()
        try:
            bench = Bench(database, server.url, work)
            seeding = time.perf_counter()
            cells = []  # (strategy, versions, model name)
            for label, baseline in STRATEGIES.items():
                for count in (small, large):
                    name = f"bench-{label.split(':')[0]}-{count}"
                    bench.seed(name, count, baseline)
                    cells.append((label, count, name))
            print(
                f"seeded {len(STRATEGIES)} × ({small:,} + {large:,}) versions in "
                f"{time.perf_counter() - seeding:.1f} s (PostgreSQL, bulk SQL inserts)"
            )

            times, requests, per_route = measure(bench, proxy, cells, args.repeat)
        finally:
            proxy.stop()
            server.stop()
            os.chdir(ROOT)
            shutil.rmtree(work, ignore_errors=True)

    report(times, requests, per_route, (small, large), repeat=args.repeat)


if __name__ == "__main__":
    main()
