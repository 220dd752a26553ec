"""A champion that stays the best: faults at every step, and concurrent promotions (issue 6).

Faults are injected by a reverse proxy (tests/faultproxy.py) between the backend and a real
`mlflow server`; races run 8 processes at once against a sqlite store and against an `mlflow
server` backed by PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from attrs import evolve as attrs_evolve

pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")

from aml_promotion import RetryPolicy, decide, promote
from aml_promotion.exceptions import RegistryError
from faultproxy import FaultProxy
from integration.mlflow.conftest import MlflowHarness
from race_worker import promote_one
from servers import MlflowServer, ServerError, postgres, postgres_binaries, start_mlflow_server

SETTINGS = {
    "model_name": "churn",
    "model_file_name": "model.pkl",
    "metrics_max": ["auc"],
    "metrics_min": ["loss"],
    "baseline": "tag:champion=true",
}
# Production-shaped retries, scaled down: several attempts, a bounded budget (waits not slept).
FAST_RETRIES = RetryPolicy(attempts=4, timeout=20.0, wait_initial=0.05, wait_max=0.5, jitter=0.0)
API = "/api/2.0/mlflow"


def _versions_of(client: Any, name: str, run_id: str) -> list[Any]:
    return list(client.search_model_versions(f"name='{name}' and run_id='{run_id}'"))


def _holders(client: Any, name: str) -> list[Any]:
    found = client.search_model_versions(f"name='{name}'")
    return [v for v in found if v.tags.get("champion") == "true"]


# --- faults at every step ----------------------------------------------------------------------

STEPS = {
    # step of a promotion: (method, path pattern) of the MLflow REST call that does it
    "run lookup": ("GET", rf"{API}/runs/get$"),
    "metrics": ("GET", rf"{API}/metrics/get-history$"),
    "file listing": ("GET", r"/api/2.0/mlflow(-artifacts)?/artifacts"),
    "baseline lookup": ("GET", rf"{API}/model-versions/search$"),
    "registration": ("POST", rf"{API}/model-versions/create$"),
    # Taking the champion tag and retiring the old holder (a promotion never deletes a tag).
    "tagging": ("POST", rf"{API}/model-versions/set-tag$"),
}
FAULTS = {
    "503": {"status": 503},
    "429 Retry-After": {"status": 429, "retry_after": 2},
    "dropped connection": {"drop": True},
}


@pytest.fixture
def proxy(mlflow_server: MlflowServer) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the real server."""
    fault_proxy = FaultProxy(mlflow_server.url).start()
    yield fault_proxy
    fault_proxy.stop()


@pytest.mark.mlflow_server
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("step", list(STEPS))
def test_a_transient_fault_at_any_step_is_survived_with_one_version(
    server_harness: MlflowHarness,
    proxy: FaultProxy,
    retry_waits: list[float],
    step: str,
    fault: str,
) -> None:
    """The promotion completes, registers exactly one version and moves the champion tag."""
    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

    name = f"churn-{step.replace(' ', '-')}-{fault.split(maxsplit=1)[0]}"
    settings = {**SETTINGS, "model_name": name, "metric_rules": {"loss": {"aggregate": "min"}}}
    exp = f"faults-{name}"
    first = server_harness.add_run(exp, {"auc": 0.80, "loss": [0.6, 0.5]}, ["model.pkl"])
    better = server_harness.add_run(exp, {"auc": 0.85, "loss": [0.5, 0.4]}, ["model.pkl"])
    promote(experiment_name=exp, run_id=first, settings=settings, backend=server_harness.backend)

    method, path = STEPS[step]
    proxy.fail(method, path, **FAULTS[fault])
    flaky = MlflowBackend(proxy.url, retry=FAST_RETRIES)
    started = time.monotonic()
    result = promote(experiment_name=exp, run_id=better, settings=settings, backend=flaky)
    elapsed = time.monotonic() - started

    assert proxy.count(method, path) >= 2, "the fault was injected, then the call retried"
    assert result.model is not None
    assert result.superseded_by is None
    client = server_harness.client
    assert len(_versions_of(client, name, better)) == 1
    assert [h.version for h in _holders(client, name)] == [str(result.model.version)]
    assert elapsed < 30
    # MLflow's client turns a 429 into an error without its Retry-After header (urllib3 drops
    # the response), so the wait follows our backoff: it is retried, not honoured to the second.
    assert retry_waits, "the failed call waited, then was retried"


@pytest.mark.mlflow_server
def test_a_registration_committed_then_lost_is_not_registered_twice(
    server_harness: MlflowHarness, proxy: FaultProxy
) -> None:
    """The server registered the version but the answer was lost: the retry finds it instead."""
    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

    exp = "faults-commit"
    run_id = server_harness.add_run(exp, {"auc": 0.8, "loss": 0.5}, ["model.pkl"])
    settings = {**SETTINGS, "model_name": "churn-commit"}
    proxy.fail("POST", rf"{API}/model-versions/create$", status=503, commit=True)
    flaky = MlflowBackend(proxy.url, retry=FAST_RETRIES)

    result = promote(experiment_name=exp, run_id=run_id, settings=settings, backend=flaky)

    assert result.model is not None
    assert len(_versions_of(server_harness.client, "churn-commit", run_id)) == 1
    assert proxy.count("POST", rf"{API}/model-versions/create$") == 1, "never re-sent blindly"


# --- races ---------------------------------------------------------------------------------

# Candidates of different quality (auc 0.70 ... 0.77, in a shuffled order), all better than the
# seed (0.60): whichever reads which baseline, the 0.77 one beats any, so it must end champion.
CANDIDATES = [(0.70 + 0.01 * ((i * 3) % 8), 0.50) for i in range(8)]
SEED = (0.60, 0.55)
# The metrics each race run was logged with, by run id (filled by `_race`).
_METRICS: dict[str, dict[str, float]] = {}


ALIAS_SETTINGS = {**SETTINGS, "baseline": "alias:champion"}
ALIAS_TAG = "promotion.alias.champion"


def _race(
    harness: MlflowHarness, uri: str, settings: dict[str, Any] = SETTINGS
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Seed a champion and 8 better candidates, promote all 8 at once in 8 processes."""
    exp = "race"
    seed = harness.add_run(exp, {"auc": SEED[0], "loss": SEED[1]}, ["model.pkl"])
    promote(experiment_name=exp, run_id=seed, settings=settings, backend=harness.backend)
    _METRICS[seed] = {"auc": SEED[0], "loss": SEED[1]}
    runs = []
    for auc, loss in CANDIDATES:
        runs.append(harness.add_run(exp, {"auc": auc, "loss": loss}, ["model.pkl"]))
        _METRICS[runs[-1]] = {"auc": auc, "loss": loss}
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Event()
        with context.Pool(len(runs)) as pool:
            pending = pool.map_async(promote_one, [(uri, exp, r, settings, start) for r in runs])
            time.sleep(0.2)
            start.set()
            results = pending.get(timeout=240)
    versions = list(harness.client.search_model_versions(f"name='{settings['model_name']}'"))
    return results, versions


def _check_race(
    results: list[dict[str, Any]], versions: list[Any], *, key: str = "champion"
) -> int:
    """Check the race's outcome; return the champion's version number."""
    assert len(results) == 8, "no process crashed"
    by_run: dict[str, int] = {}
    for version in versions:
        by_run[version.run_id] = by_run.get(version.run_id, 0) + 1
    assert all(count == 1 for count in by_run.values()), f"a run was registered twice: {by_run}"
    holders = [v for v in versions if v.tags.get(key) == "true"]
    assert len(holders) == 1, f"exactly one champion, not {[h.version for h in holders]}"
    registered = {r["version"] for r in results if r["version"] is not None}
    assert registered, "the first candidate to arrive beats the seed, at the least"
    # Candidates that read the baseline after another had taken the tag were compared with
    # that one instead; those it beat were registered, the others not. The oracle is decide():
    # no version the race registered would be promoted against the champion.
    champion = holders[0]
    metrics = {v.run_id: _METRICS[v.run_id] for v in versions}
    policy = _policy()
    for version in versions:
        if int(version.version) in registered and version.version != champion.version:
            decision = decide(metrics[version.run_id], metrics[champion.run_id], policy)
            assert not decision.promote, (version.version, champion.version, decision.summary)
    best_auc = max(metrics[v.run_id]["auc"] for v in versions if int(v.version) in registered)
    assert metrics[champion.run_id]["auc"] == best_auc == max(auc for auc, _ in CANDIDATES)
    best = int(champion.version)
    # A loser names the version that beat it when it settled: the final champion, or one that
    # lost to it later in the same race. Every promoted version but the champion is tagged so.
    for result in results:
        if result["superseded_by"] is not None:
            assert result["superseded_by"] in registered - {result["version"]}
    for version in versions:
        if int(version.version) in registered and int(version.version) != best:
            assert version.tags.get("promotion.superseded_by"), version.version
    return best


def _check_alias_race(
    harness: MlflowHarness, results: list[dict[str, Any]], versions: list[Any], name: str
) -> None:
    best = _check_race(results, versions, key=ALIAS_TAG)
    holder = harness.client.get_model_version_by_alias(name, "champion")
    assert int(holder.version) == best, "the alias is on the best promoted version"
    assert best in {r["champion_version"] for r in results}, "the last to settle reports it"


def _policy() -> Any:
    from aml_promotion import load_settings  # noqa: PLC0415

    return load_settings(SETTINGS).policy


@pytest.mark.slow
def test_eight_processes_racing_on_sqlite_leave_one_champion_the_best(
    sqlite_harness: MlflowHarness, sqlite_uri: str
) -> None:
    """8 simultaneous promotions on one sqlite store: no crash, no double, one champion."""
    results, versions = _race(sqlite_harness, sqlite_uri)
    _check_race(results, versions)


@pytest.mark.slow
def test_eight_processes_racing_for_an_alias_on_sqlite_leave_it_on_the_best(
    sqlite_harness: MlflowHarness, sqlite_uri: str
) -> None:
    """8 simultaneous promotions to alias:champion on sqlite: the alias ends on the best one."""
    results, versions = _race(sqlite_harness, sqlite_uri, ALIAS_SETTINGS)
    _check_alias_race(sqlite_harness, results, versions, "churn")


# --- an mlflow server on PostgreSQL ------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_uri() -> Iterator[str]:
    """A PostgreSQL server in a temp dir on 127.0.0.1, started for this module (as `postgres`)."""
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (Debian's `postgresql` package)")
    with postgres(binaries) as database:
        yield database.uri


@pytest.fixture(scope="module")
def postgres_mlflow_server(
    postgres_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MlflowServer]:
    """A real `mlflow server` whose backend store is the PostgreSQL database."""
    executable = os.environ.get("AML_PROMOTION_MLFLOW_SERVER")
    if not executable:
        pytest.skip("AML_PROMOTION_MLFLOW_SERVER is not set (see docs/backends-mlflow.md)")
    root = tmp_path_factory.mktemp("mlflow-pg-server")
    try:
        server = start_mlflow_server(executable, postgres_uri, root, workers=2)
    except ServerError as error:
        pytest.fail(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.mlflow_server
def test_eight_processes_racing_on_a_postgres_backed_server_leave_one_champion_the_best(
    postgres_mlflow_server: MlflowServer,
) -> None:
    """8 simultaneous promotions through an mlflow server on PostgreSQL: one champion, the best."""
    from mlflow import MlflowClient  # noqa: PLC0415

    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

    url = postgres_mlflow_server.url
    harness = MlflowHarness(MlflowBackend(url, retry=FAST_RETRIES), MlflowClient(url), None)
    results, versions = _race(harness, url)
    _check_race(results, versions)


@pytest.mark.slow
@pytest.mark.mlflow_server
def test_eight_processes_racing_for_an_alias_on_a_postgres_backed_server_leave_it_on_the_best(
    postgres_mlflow_server: MlflowServer,
) -> None:
    """8 simultaneous promotions to alias:champion through PostgreSQL: the alias on the best."""
    from mlflow import MlflowClient  # noqa: PLC0415

    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

    url = postgres_mlflow_server.url
    harness = MlflowHarness(MlflowBackend(url, retry=FAST_RETRIES), MlflowClient(url), None)
    # The server is shared with the tag race: a model name of its own.
    settings = {**ALIAS_SETTINGS, "model_name": "churn-alias"}
    results, versions = _race(harness, url, settings)
    _check_alias_race(harness, results, versions, "churn-alias")


@pytest.mark.mlflow_server
@pytest.mark.parametrize(
    ("attempts", "user_retries"),
    [(1, None), (4, "3")],
    ids=["no-retries", "user-set-mlflow-retries"],
)
def test_mlflow_never_resends_a_registration_on_its_own(
    server_harness: MlflowHarness,
    proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
    attempts: int,
    user_retries: str | None,
) -> None:
    """MLflow's HTTP session retries POSTs; for a registration it is off whatever the settings."""
    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

    if user_retries is not None:
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", user_retries)
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    exp = f"faults-resend-{attempts}"
    run_id = server_harness.add_run(exp, {"auc": 0.8}, ["model.pkl"])
    settings = {"model_name": f"churn-resend-{attempts}", "metrics_max": ["auc"]}
    proxy.fail("POST", rf"{API}/model-versions/create$", status=503, commit=True)
    backend = MlflowBackend(proxy.url, retry=attrs_evolve(FAST_RETRIES, attempts=attempts))

    try:
        promote(experiment_name=exp, run_id=run_id, settings=settings, backend=backend)
    except RegistryError:
        assert attempts == 1, "with retries of ours, the registration is found, not failed"

    assert proxy.count("POST", rf"{API}/model-versions/create$") == 1
    assert len(_versions_of(server_harness.client, settings["model_name"], run_id)) == 1
    assert os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES") == user_retries


@pytest.mark.mlflow_server
def test_a_tag_write_that_collides_with_a_concurrent_one_is_retried(
    server_harness: MlflowHarness, proxy: FaultProxy
) -> None:
    """Two promotions tagging one version at once: the server's insert collides; done again."""
    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

    exp = "faults-conflict"
    first = server_harness.add_run(exp, {"auc": 0.80, "loss": 0.5}, ["model.pkl"])
    better = server_harness.add_run(exp, {"auc": 0.85, "loss": 0.4}, ["model.pkl"])
    settings = {**SETTINGS, "model_name": "churn-conflict"}
    promote(experiment_name=exp, run_id=first, settings=settings, backend=server_harness.backend)
    conflict = (
        b'{"error_code": "BAD_REQUEST", "message": "(psycopg2.errors.UniqueViolation) '
        b'duplicate key value violates unique constraint \\"model_version_tag_pk\\""}'
    )
    proxy.fail("POST", rf"{API}/model-versions/set-tag$", status=400, body=conflict)
    flaky = MlflowBackend(proxy.url, retry=FAST_RETRIES)

    result = promote(experiment_name=exp, run_id=better, settings=settings, backend=flaky)

    assert result.model is not None
    assert proxy.count("POST", rf"{API}/model-versions/set-tag$") >= 2
    holders = _holders(server_harness.client, "churn-conflict")
    assert [h.version for h in holders] == [str(result.model.version)]
