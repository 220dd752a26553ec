"""Requests per MLflow promotion, counted by a proxy in front of a real ``mlflow server``.

Issue 21's scenario: a candidate run that logged N metrics, 2 of them gated (one maximised, one
minimised), beats the latest version and is registered; the model was registered before. The
server serves the artifacts, so the run's file listing passes the proxy too. The count does not
grow with the number of metrics logged, nor with the number of versions.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")

from aml_promotion import BaselineStrategy, RetryPolicy, promote
from aml_promotion.adapters.mlflow import MlflowBackend
from faultproxy import FaultProxy

if TYPE_CHECKING:
    from integration.mlflow.conftest import MlflowServer

pytestmark = pytest.mark.mlflow_server

GATED = ("metric_00", "metric_01")

PROMOTION = [
    "GET runs/get",  # the candidate: its metrics, tags, inputs and outputs come with it
    "GET experiments/get",  # its experiment's name, checked
    "POST runs/search",  # its child runs (the pipeline step)
    "GET -artifacts artifacts",  # its files (the artifact API); it logged no model as its
    # output (runs/get says so), so no logged-models/search
    "GET model-versions/search",  # a version of this run already (idempotency)
    "GET model-versions/search",  # the latest version: the baseline
    "GET runs/get",  # the baseline's run
    "POST model-versions/create",  # no read of the registered model first: a version was seen
]

# The same when both runs logged their model with log_model (MLflow 3: a logged model, the run's
# output): the tracking requests, each run's logged models searched once (the artifact API's
# listings are left out: a logged model's files are listed under its own location).
LOGGED_MODEL_PROMOTION = [
    "GET runs/get",  # the candidate
    "GET experiments/get",  # its experiment's name, checked
    "POST runs/search",  # its child runs
    "POST logged-models/search",  # its logged models: their files, dataset metrics, the source
    "GET model-versions/search",  # a version of this run already (idempotency)
    "GET model-versions/search",  # the latest version: the baseline
    "GET runs/get",  # the baseline's run
    "POST logged-models/search",  # its logged models: its metrics logged on datasets
    "POST model-versions/create",  # source models:/<model id>
]


@pytest.fixture
def proxy(mlflow_server: MlflowServer) -> Iterator[FaultProxy]:
    """A counting proxy (no faults) in front of the session's server."""
    counting = FaultProxy(mlflow_server.url).start()
    try:
        yield counting
    finally:
        counting.stop()


def _route(path: str) -> str:
    bare = path.split("?", maxsplit=1)[0]
    return re.sub(r"^/api/2\.0/mlflow(-artifacts)?/", r"\1 ", bare).strip()


def _gated_runs(
    client: Any, request: pytest.FixtureRequest, tmp_path: Path, prefix: str, *, logged: int = 0
) -> tuple[str, str, Callable[[float], str]]:
    """Return this test's experiment and model names, and a maker of finished candidate runs.

    Each run logs `logged` ungated metrics, the two gated ones at `level` (and 1 - `level`),
    and ``model.pkl``.
    """
    from mlflow.entities import Metric  # noqa: PLC0415

    tag = re.sub(r"\W", "-", str(request.node.name))[-40:]
    experiment, name = f"{prefix}-{tag}", f"model-{tag}"
    experiment_id = client.create_experiment(experiment)
    model = tmp_path / "model.pkl"
    model.write_text("a model\n")

    def run(level: float) -> str:
        run_id = str(client.create_run(experiment_id).info.run_id)
        values = {f"metric_{i:02d}": 0.5 for i in range(logged)}
        values.update({GATED[0]: level, GATED[1]: 1.0 - level})
        client.log_batch(run_id, metrics=[Metric(k, v, 0, 0) for k, v in values.items()])
        client.log_artifact(run_id, str(model))
        client.set_terminated(run_id)
        return run_id

    return experiment, name, run


def _gated_settings(name: str) -> dict[str, Any]:
    """The settings of these promotions: `model.pkl`, gated on the two metrics."""
    return {
        "model_name": name,
        "model_file_name": "model.pkl",
        "metrics_max": [GATED[0]],
        "metrics_min": [GATED[1]],
    }


@pytest.mark.parametrize(("logged", "versions"), [(52, 1), (500, 1), (52, 12)])
def test_a_promotion_costs_8_requests_whatever_the_metrics_logged_and_the_versions(
    *,
    proxy: FaultProxy,
    policy: RetryPolicy,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    logged: int,
    versions: int,
) -> None:
    """8 requests (7 to the tracking API, 1 to the artifact API), the same for each case."""
    from mlflow import MlflowClient  # noqa: PLC0415

    client = MlflowClient(tracking_uri=proxy.url)
    experiment, name, run = _gated_runs(client, request, tmp_path, "requests", logged=logged)
    baseline = run(0.80)
    client.create_registered_model(name)
    for _ in range(versions):
        client.create_model_version(name, f"runs:/{baseline}/model.pkl", run_id=baseline)
    candidate = run(0.85)
    settings = _gated_settings(name)
    backend = MlflowBackend(proxy.url, retry=policy)  # a new one, as the CLI's
    proxy.clear()
    result = promote(
        experiment_name=experiment, run_id=candidate, settings=settings, backend=backend
    )
    assert result.model is not None, result.decision.summary
    assert result.model.version == versions + 1
    assert [f"{method} {_route(path)}" for method, path, _ in proxy.requests] == PROMOTION


def test_a_run_that_logged_a_model_costs_one_logged_model_search_per_run_read(
    *, proxy: FaultProxy, policy: RetryPolicy, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A model logged as the run's output (as log_model does): a logged-models/search a run."""
    from mlflow import MlflowClient  # noqa: PLC0415
    from mlflow.entities import LoggedModelOutput, Metric  # noqa: PLC0415

    client = MlflowClient(tracking_uri=proxy.url)
    tag = re.sub(r"\W", "-", str(request.node.name))[-40:]
    experiment, name = f"requests-{tag}", f"model-{tag}"
    experiment_id = client.create_experiment(experiment)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "MLmodel").write_text("artifact_path: model\nflavors: {}\n")
    (folder / "model.pkl").write_text("a model\n")

    def run(level: float) -> str:
        run_id = str(client.create_run(experiment_id).info.run_id)
        values = {GATED[0]: level, GATED[1]: 1.0 - level}
        client.log_batch(run_id, metrics=[Metric(k, v, 0, 0) for k, v in values.items()])
        model = client.create_logged_model(experiment_id, name="model", source_run_id=run_id)
        client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step=0)])
        client.log_model_artifacts(model.model_id, str(folder))
        client.finalize_logged_model(model.model_id, "READY")
        client.set_terminated(run_id)
        return run_id

    baseline = run(0.80)
    client.create_registered_model(name)
    client.create_model_version(name, f"runs:/{baseline}/model", run_id=baseline)
    candidate = run(0.85)
    settings = {
        "model_name": name,
        "model_file_name": "model",
        "metrics_max": [GATED[0]],
        "metrics_min": [GATED[1]],
    }
    backend = MlflowBackend(proxy.url, retry=policy)
    proxy.clear()
    result = promote(
        experiment_name=experiment, run_id=candidate, settings=settings, backend=backend
    )
    assert result.model is not None, result.decision.summary
    assert result.model.source is not None
    assert result.model.source.startswith("models:/")  # the logged model, as register_model
    tracking = [
        f"{method} {_route(path)}"
        for method, path, _ in proxy.requests
        if not _route(path).startswith("-artifacts")
    ]
    assert tracking == LOGGED_MODEL_PROMOTION


def _register(client: Any, name: str, versions: int, tag: str) -> None:
    """Register `name` with `versions` versions of one run (experiment ``versions-<tag>``)."""
    experiment = client.get_experiment_by_name(f"versions-{tag}")
    experiment_id = (
        client.create_experiment(f"versions-{tag}")
        if experiment is None
        else experiment.experiment_id
    )
    run_id = str(client.create_run(experiment_id).info.run_id)
    client.create_registered_model(name)
    for _ in range(versions):
        client.create_model_version(name, f"runs:/{run_id}/model.pkl", run_id=run_id)


def _searches(proxy: FaultProxy) -> list[dict[str, list[str]]]:
    """The query of each model-versions/search the proxy saw, decoded."""
    return [
        urllib.parse.parse_qs(query)
        for (method, path, _), query in zip(proxy.requests, proxy.queries, strict=True)
        if method == "GET" and _route(path) == "model-versions/search"
    ]


def test_the_latest_version_is_searched_by_name_like_in_name_then_version_order(
    *, proxy: FaultProxy, policy: RetryPolicy, request: pytest.FixtureRequest
) -> None:
    """On a server: ``name LIKE``, ordered by name then version, one result (issue 21).

    PostgreSQL reads the highest version of ``name LIKE '<name>'`` from the primary key's
    index; for ``name = '<name>'`` it sorts every version of the model (docs/reliability.md).
    """
    from mlflow import MlflowClient  # noqa: PLC0415

    tag = re.sub(r"[\W_]", "-", str(request.node.name))[-40:]  # no "_": LIKE takes it as any
    name = f"model-{tag}"
    _register(MlflowClient(tracking_uri=proxy.url), name, 3, tag)
    backend = MlflowBackend(proxy.url, retry=policy)
    proxy.clear()
    found = backend.registry.find_baseline(name, BaselineStrategy.latest())
    assert found is not None
    assert found.version == 3
    assert _searches(proxy) == [
        {
            "filter": [f"name LIKE '{name}'"],
            "order_by": ["name DESC", "version_number DESC"],
            "max_results": ["1"],
        }
    ]


def test_a_name_like_matches_otherwise_is_still_searched_for_itself(
    *, proxy: FaultProxy, policy: RetryPolicy, request: pytest.FixtureRequest
) -> None:
    """Neither another case of the name nor a name LIKE's `_` matches is taken for the model's.

    ``Case-x`` and ``case-x``: ``name LIKE`` compares case (MLflow's sqlite store sets
    ``case_sensitive_like``; a version of another name would be passed over anyway).
    ``snake_x`` holds a character LIKE takes for any one (``snakeXx``): it is searched by "=".
    """
    from mlflow import MlflowClient  # noqa: PLC0415

    tag = re.sub(r"[\W_]", "-", str(request.node.name))[-30:]
    client = MlflowClient(tracking_uri=proxy.url)
    versions = {f"Case-{tag}": 3, f"case-{tag}": 2, f"snake_{tag}": 1, f"snakeX{tag}": 4}
    for name, count in versions.items():
        _register(client, name, count, tag)
    backend = MlflowBackend(proxy.url, retry=policy)
    for name, count in versions.items():
        found = backend.registry.find_baseline(name, BaselineStrategy.latest())
        assert found is not None
        assert (found.name, found.version) == (name, count)
    proxy.clear()
    backend.registry.find_baseline(f"snake_{tag}", BaselineStrategy.latest())
    assert [query["filter"] for query in _searches(proxy)] == [[f"name = 'snake_{tag}'"]]


# A tag or alias baseline, the champion the highest of 3 versions: what comes after the latest
# search's place in PROMOTION (the holder searched, the baseline read, the version made, the
# champion moved). No registered-models/get before a write: the adapter writes through MLflow's
# registry client, not MlflowClient, which reads the registered model first (a server loads
# every version of it to answer).
TAG_PROMOTION_TAIL = [
    "GET model-versions/search",  # the holder of the tag: the baseline
    "GET runs/get",  # the baseline's run
    "POST model-versions/create",
    "POST model-versions/set-tag",  # the new version takes the champion tag
    "GET model-versions/search",  # the holders, read again
    "POST model-versions/set-tag",  # the baseline retired: superseded by...
    "POST model-versions/set-tag",  # ... and its champion tag
    "GET model-versions/search",  # the holders: one left
]
ALIAS_PROMOTION_TAIL = [  # the alias set by hand: no earlier holder tag to retire
    "GET registered-models/alias",  # its holder: the baseline
    "GET model-versions/search",  # versions tagged as its holder
    # The alias is on a version without the holder tag (a person's choice): the versions whose
    # tag is superseded, then moved, for the epoch of the move (none: nothing is written).
    "GET model-versions/search",
    "GET model-versions/search",
    "GET registered-models/alias",
    "GET runs/get",  # the baseline's run
    "POST model-versions/create",
    "POST model-versions/set-tag",  # the new version tagged as the holder
    "GET model-versions/search",
    "GET registered-models/alias",
    "POST registered-models/alias",  # moved to the new version
    "GET model-versions/search",
    "GET registered-models/alias",
]


@pytest.mark.parametrize(
    ("baseline", "tail"),
    [("tag:champion=true", TAG_PROMOTION_TAIL), ("alias:champion", ALIAS_PROMOTION_TAIL)],
)
def test_a_champion_is_moved_without_reading_the_registered_model_first(
    *,
    proxy: FaultProxy,
    policy: RetryPolicy,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    baseline: str,
    tail: list[str],
) -> None:
    """A tag or alias baseline: each tag or alias write is one request, no read before it."""
    from mlflow import MlflowClient  # noqa: PLC0415

    client = MlflowClient(tracking_uri=proxy.url)
    experiment, name, run = _gated_runs(client, request, tmp_path, "champion")
    earlier = run(0.80)
    client.create_registered_model(name)
    for _ in range(3):
        client.create_model_version(name, f"runs:/{earlier}/model.pkl", run_id=earlier)
    if baseline.startswith("tag:"):
        client.set_model_version_tag(name, "3", "champion", "true")
    else:
        client.set_registered_model_alias(name, "champion", "3")
    candidate = run(0.85)
    settings = {**_gated_settings(name), "baseline": baseline}
    backend = MlflowBackend(proxy.url, retry=policy)
    proxy.clear()
    result = promote(
        experiment_name=experiment, run_id=candidate, settings=settings, backend=backend
    )
    assert result.model is not None, result.decision.summary
    assert result.model.version == 4
    sent = [f"{method} {_route(path)}" for method, path, _ in proxy.requests]
    assert "GET registered-models/get" not in sent
    assert sent == PROMOTION[:5] + tail
    if baseline.startswith("tag:"):
        assert client.get_model_version(name, "4").tags.get("champion") == "true"
        assert client.get_model_version(name, "3").tags.get("champion") != "true"
    else:
        assert client.get_model_version_by_alias(name, "champion").version == "4"
