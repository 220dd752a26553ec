"""Promotion across environments on MLflow: a dev registry's version gated into a prod registry.

Two real stores (two sqlite files), and a real ``mlflow server`` as the target. MLflow's own
loader is the oracle: the copy must load with ``mlflow.pyfunc.load_model("models:/<name>@<alias>")``
against the target.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import pytest

from aml_promotion import RetryPolicy, Verdict, promote
from aml_promotion._retry import LOGGER_NAME
from aml_promotion.adapters.mlflow import MlflowBackend
from aml_promotion.exceptions import RegistryError, VersionNotFoundError
from aml_promotion.ports import CopyRequest, VersionRef
from faultproxy import FaultProxy
from integration.mlflow.pyfunc_model import AddK, predict

if TYPE_CHECKING:
    from integration.mlflow.conftest import MlflowServer

pytestmark = [
    # MLflow's own chatter when a pyfunc model is logged or its types module is imported.
    pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*Add type hints to the `predict` method:UserWarning"),
]

CHAMPION: dict[str, Any] = {"metrics_max": ["auc"], "baseline": "alias:champion"}


@pytest.fixture
def dev(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The dev store, where MLflow's fluent API logs (put back as it was after)."""
    # Recorded by monkeypatch, so what MLflow sets process-wide below is undone after the test.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", sqlite_uri)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", sqlite_uri)
    monkeypatch.setattr("mlflow.tracking._tracking_service.utils._tracking_uri", None)
    monkeypatch.setattr("mlflow.tracking._model_registry.utils._registry_uri", None)
    mlflow.set_tracking_uri(sqlite_uri)
    return sqlite_uri


@pytest.fixture
def prod(template_db: Path, tmp_path: Path) -> str:
    """The prod store: another sqlite file."""
    path = tmp_path / "prod.db"
    shutil.copyfile(template_db, path)
    return f"sqlite:///{path}"


def train(k: int, auc: float, *, data: str | None = None) -> str:
    """Log a run in the fluent API's store with metric auc and a pyfunc model; return its id.

    With `data`, the run's tag ``eval_digest`` says what it was evaluated on. Then MLflow's
    global tracking URI points elsewhere: the backends must use their own.
    """
    mlflow.set_experiment("train")
    with mlflow.start_run() as run:
        mlflow.log_metric("auc", auc)
        if data is not None:
            mlflow.set_tag("eval_digest", data)
        mlflow.pyfunc.log_model(name="model", python_model=AddK(k), pip_requirements=[])
    _point_mlflow_elsewhere()
    return str(run.info.run_id)


def _point_mlflow_elsewhere() -> None:
    # No registry URI set: MLflow's (and so the backends') registry is then the tracking URI
    # each is given; MLflow's own models:/ resolution would use the global one, elsewhere.
    from mlflow.tracking._model_registry import utils  # noqa: PLC0415

    mlflow.set_tracking_uri(f"sqlite:///{Path('elsewhere.db').absolute()}")
    utils._registry_uri = None
    os.environ.pop("MLFLOW_REGISTRY_URI", None)


def dev_champion(
    dev: str, k: int, auc: float, name: str = "churn", *, settings: dict[str, Any] = CHAMPION
) -> int:
    """Train in dev and promote the run there (alias champion); return the dev version."""
    mlflow.set_tracking_uri(dev)
    run_id = train(k, auc, data="sha256:eval-1" if "evaluation_data" in settings else None)
    settings = {**settings, "model_name": name, "model_file_name": "model"}
    result = promote(
        experiment_name="train", run_id=run_id, settings=settings, backend=MlflowBackend(dev)
    )
    assert result.model is not None
    return result.model.version


def client(uri: str) -> Any:
    """MLflow's client on the store `uri`: its runs and its registry."""
    return mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)


def predict_in(uri: str, model_uri: str) -> list[int]:
    """Load `model_uri` with MLflow's loader against the store `uri` (then back to before)."""
    from mlflow.tracking._model_registry import utils  # noqa: PLC0415

    before, registry_before = mlflow.get_tracking_uri(), utils._registry_uri
    variables = {name: os.environ.get(name) for name in _VARIABLES}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        return predict(model_uri)
    finally:
        mlflow.set_tracking_uri(before)
        utils._registry_uri = registry_before
        for name, value in variables.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


def test_a_dev_version_goes_to_prod_only_when_it_beats_prods_champion(dev: str, prod: str) -> None:
    """Better: copied, loads in prod by alias, with its record; worse: untouched; re-run: once."""
    dev_champion(dev, 1, 0.80)

    first = promote(
        candidate_version="churn@champion",
        backend=MlflowBackend(dev),
        target=MlflowBackend(prod),
        settings=CHAMPION,
    )

    assert first.registered
    assert first.baseline is None  # prod had no champion: the seed
    assert predict_in(prod, "models:/churn@champion") == [2, 3]
    held = client(prod).get_model_version("churn", "1")
    assert held.tags["promotion.metric.auc"] == "0.8"
    assert held.tags["promotion.source.key"] == f"sqlite:///{Path(dev[10:]).resolve()}#churn/1"
    assert held.tags["promotion.source.version"] == "1"
    assert held.tags["promotion.alias.champion"] == "true"

    # Registered by hand in dev (no promotion there): its metrics come from its run.
    mlflow.set_tracking_uri(dev)
    held_worse = client(dev).create_model_version(
        "churn", f"runs:/{(run := train(5, 0.70))}/model", run_id=run
    )
    worse = held_worse.version
    rejected = promote(
        candidate_version=f"churn:{worse}",
        backend=MlflowBackend(dev),
        target=MlflowBackend(prod),
        settings={**CHAMPION, "force_registration": False},
    )
    assert rejected.decision.verdict is Verdict.REJECT
    assert rejected.model is None
    assert len(client(prod).search_model_versions("name='churn'")) == 1

    dev_champion(dev, 10, 0.90)
    better = promote(
        candidate_version="churn@champion",
        backend=MlflowBackend(dev),
        target=MlflowBackend(prod),
        settings=CHAMPION,
    )
    assert better.registered
    assert better.baseline is not None
    assert better.baseline.version == 1
    assert better.decision.comparisons[0].baseline == pytest.approx(0.80)  # from prod's tags
    assert predict_in(prod, "models:/churn@champion") == [11, 12]
    assert predict_in(prod, "models:/churn/1") == [2, 3]

    again = promote(
        candidate_version="churn@champion",
        backend=MlflowBackend(dev),
        target=MlflowBackend(prod),
        settings=CHAMPION,
    )
    assert again.already_registered
    assert len(client(prod).search_model_versions("name='churn'")) == 2


def test_within_one_registry_the_copy_is_one_request_with_its_tags(dev: str) -> None:
    """No target, another model name: a version of it sourced from models:/churn/1."""
    dev_champion(dev, 3, 0.80)
    result = promote(
        candidate_version="churn:1",
        backend=MlflowBackend(dev),
        settings={**CHAMPION, "model_name": "churn-gated"},
    )
    assert result.registered
    held = client(dev).get_model_version("churn-gated", "1")
    assert held.source == "models:/churn/1"
    assert held.tags["promotion.source.name"] == "churn"
    assert predict_in(dev, "models:/churn-gated@champion") == [4, 5]


def test_a_missing_dev_version_names_it(dev: str, prod: str) -> None:
    """No version 7: VersionNotFoundError, nothing in prod."""
    dev_champion(dev, 1, 0.80)
    with pytest.raises(VersionNotFoundError, match="churn:7"):
        promote(
            candidate_version="churn:7",
            backend=MlflowBackend(dev),
            target=MlflowBackend(prod),
            settings=CHAMPION,
        )
    with pytest.raises(VersionNotFoundError, match="churn@nobody"):
        promote(
            candidate_version="churn@nobody",
            backend=MlflowBackend(dev),
            target=MlflowBackend(prod),
            settings=CHAMPION,
        )


# --- dev -> test -> prod: a copy promoted on -----------------------------------------------------

CHAINED: dict[str, Any] = {**CHAMPION, "evaluation_data": {"tag": "eval_digest"}}


@pytest.fixture
def staging(template_db: Path, tmp_path: Path) -> str:
    """The test environment's store: a third sqlite file, between dev and prod."""
    path = tmp_path / "staging.db"
    shutil.copyfile(template_db, path)
    return f"sqlite:///{path}"


def _promote_on(source: str, target: str) -> Any:
    """Promote the source store's champion of churn into the target store."""
    return promote(
        candidate_version="churn@champion",
        backend=MlflowBackend(source),
        target=MlflowBackend(target),
        settings=CHAINED,
    )


def test_a_copy_is_promoted_on_into_the_next_store_with_its_metrics(
    dev: str, staging: str, prod: str
) -> None:
    """From dev to test to prod: test's copy answers for its metrics, prod compares them."""
    dev_champion(dev, 1, 0.80, settings=CHAINED)
    assert _promote_on(dev, staging).registered

    # The copy's run in test (the files' holder) holds the metrics it was promoted on.
    copied = client(staging).get_model_version("churn", "1")
    assert client(staging).get_run(copied.run_id).data.metrics == {"auc": 0.8}

    seeded = _promote_on(staging, prod)
    assert seeded.registered, seeded.decision.summary
    assert seeded.decision.comparisons[0].candidate == pytest.approx(0.80)
    held = client(prod).get_model_version("churn", "1")
    assert held.tags["promotion.metric.auc"] == "0.8"
    assert held.tags["promotion.data.eval_digest"] == "sha256:eval-1"
    assert held.tags["promotion.source.version"] == "1"
    assert predict_in(prod, "models:/churn@champion") == [2, 3]

    dev_champion(dev, 10, 0.90, settings=CHAINED)
    assert _promote_on(dev, staging).registered
    better = _promote_on(staging, prod)
    assert better.registered, better.decision.summary
    assert better.baseline is not None
    assert better.baseline.version == 1
    assert better.decision.comparisons[0].candidate == pytest.approx(0.90)
    assert better.decision.comparisons[0].baseline == pytest.approx(0.80)
    assert predict_in(prod, "models:/churn@champion") == [11, 12]


def test_a_run_promoted_within_the_next_store_is_compared_with_the_copy_there(
    dev: str, staging: str
) -> None:
    """A run trained in test, worse than test's champion (a copy from dev): rejected."""
    dev_champion(dev, 1, 0.90, settings=CHAINED)
    assert _promote_on(dev, staging).registered

    mlflow.set_tracking_uri(staging)
    run_id = train(5, 0.85, data="sha256:eval-1")
    result = promote(
        experiment_name="train",
        run_id=run_id,
        backend=MlflowBackend(staging),
        settings={**CHAINED, "model_name": "churn", "model_file_name": "model"},
    )

    assert result.decision.verdict is Verdict.REJECT, result.decision.summary
    assert result.baseline is not None
    assert result.baseline.version == 1
    assert result.decision.comparisons[0].baseline == pytest.approx(0.90)
    assert len(client(staging).search_model_versions("name='churn'")) == 1


def test_a_metrics_run_of_the_source_store_is_not_named_on_a_copy_in_another(
    dev: str, prod: str
) -> None:
    """The copy's own run holds its metrics: a run of the source's store is never its record."""
    dev_champion(dev, 1, 0.80)
    source = MlflowBackend(dev).registry.get_version(VersionRef(name="churn", number=1))
    copy = MlflowBackend(prod).registry.copy(
        CopyRequest(
            name="churn",
            source=source,
            source_key="dev#churn/1",
            tags={"promotion.source.key": "dev#churn/1", "promotion.metrics_run": "a-dev-run"},
            metrics={"auc": 0.8, "loss": [0.5, 0.25]},
            download=functools.partial(MlflowBackend(dev).registry.download_version, source),
        )
    )

    held = client(prod).get_model_version("churn", str(copy.version))
    assert "promotion.metrics_run" not in held.tags
    assert held.tags["promotion.source.key"] == "dev#churn/1"
    history = client(prod).get_metric_history(held.run_id, "loss")
    assert [metric.value for metric in history] == [0.5, 0.25]


# --- a real `mlflow server` as the target ------------------------------------------------------


@pytest.fixture
def unique_name() -> str:
    """A model name no other test on the shared server uses."""
    return f"churn-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def proxy(mlflow_server: MlflowServer) -> Iterator[FaultProxy]:
    """A fault proxy in front of the server."""
    fault_proxy = FaultProxy(mlflow_server.url).start()
    try:
        yield fault_proxy
    finally:
        fault_proxy.stop()


def test_a_dev_version_is_copied_into_a_server_through_its_artifact_store(
    dev: str, mlflow_server: MlflowServer, unique_name: str
) -> None:
    """From a sqlite dev store into a server: files logged into a run there, then registered."""
    dev_champion(dev, 2, 0.85, name=unique_name)
    target = MlflowBackend(mlflow_server.url)

    result = promote(
        candidate_version=f"{unique_name}@champion",
        backend=MlflowBackend(dev),
        target=target,
        settings=CHAMPION,
    )

    assert result.registered
    held = client(mlflow_server.url).get_model_version(unique_name, "1")
    assert held.source.startswith("runs:/")
    assert predict_in(mlflow_server.url, f"models:/{unique_name}@champion") == [3, 4]


def test_a_copy_in_a_server_is_promoted_on_from_there_with_its_metrics(
    dev: str, mlflow_server: MlflowServer, prod: str, unique_name: str
) -> None:
    """From dev to a server to prod: the server's run holding the copy's files has its metrics."""
    dev_champion(dev, 2, 0.85, name=unique_name, settings=CHAINED)
    server = MlflowBackend(mlflow_server.url)
    first = promote(
        candidate_version=f"{unique_name}@champion",
        backend=MlflowBackend(dev),
        target=server,
        settings=CHAINED,
    )
    assert first.model is not None
    assert client(mlflow_server.url).get_run(first.model.run_id).data.metrics == {"auc": 0.85}

    onward = promote(
        candidate_version=f"{unique_name}@champion",
        backend=server,
        target=MlflowBackend(prod),
        settings=CHAINED,
    )

    assert onward.registered, onward.decision.summary
    assert onward.decision.comparisons[0].candidate == pytest.approx(0.85)
    held = client(prod).get_model_version(unique_name, "1")
    assert held.tags["promotion.metric.auc"] == "0.85"
    assert held.tags["promotion.data.eval_digest"] == "sha256:eval-1"
    assert held.tags["promotion.source.registry"] == mlflow_server.url
    assert predict_in(prod, f"models:/{unique_name}@champion") == [3, 4]


def test_a_lost_copy_answer_from_the_server_is_not_copied_twice(
    dev: str, mlflow_server: MlflowServer, proxy: FaultProxy, unique_name: str, policy: RetryPolicy
) -> None:
    """The server registers the copy, its answer is a 503: the retry finds it by its source."""
    dev_champion(dev, 2, 0.85, name=unique_name)
    proxy.fail("POST", r"/model-versions/create$", status=503, commit=True)

    result = promote(
        candidate_version=f"{unique_name}:1",
        backend=MlflowBackend(dev),
        target=MlflowBackend(proxy.url, retry=policy),
        settings=CHAMPION,
    )

    assert result.registered
    server = client(mlflow_server.url)
    assert len(server.search_model_versions(f"name='{unique_name}'")) == 1
    assert proxy.count("POST", r"/model-versions/create$") == 1
    assert predict_in(mlflow_server.url, f"models:/{unique_name}@champion") == [3, 4]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", r"/model-versions/search$"), ("POST", r"/model-versions/create$")],
)
def test_a_server_failing_at_the_copy_steps_leaves_no_copy(
    dev: str,
    *,
    mlflow_server: MlflowServer,
    proxy: FaultProxy,
    unique_name: str,
    method: str,
    path: str,
) -> None:
    """find_by_source or the copy failing for good: a RegistryError, and no version in prod."""
    dev_champion(dev, 2, 0.85, name=unique_name)
    proxy.fail(method, path, status=500, times=99)

    with pytest.raises(RegistryError):
        promote(
            candidate_version=f"{unique_name}:1",
            backend=MlflowBackend(dev),
            target=MlflowBackend(proxy.url, retry=RetryPolicy(attempts=2, wait_initial=0.0)),
            settings=CHAMPION,
        )

    server = client(mlflow_server.url)
    assert server.search_model_versions(f"name='{unique_name}'") == []


def test_one_registry_spelled_two_ways_is_one_location(
    prod: str, mlflow_server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sqlite file by a relative or absolute path, a server with or without a final "/"."""
    path = Path(prod.removeprefix("sqlite:///"))
    monkeypatch.chdir(path.parent)

    relative = MlflowBackend(f"sqlite:///{path.name}").registry.location
    absolute = MlflowBackend(prod).registry.location
    server = MlflowBackend(mlflow_server.url).registry.location
    slashed = MlflowBackend(mlflow_server.url + "/").registry.location

    assert relative == absolute == f"sqlite:///{path}"
    assert server == slashed == mlflow_server.url


# --- secrets in a URI's query string ------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "location"),
    [
        (
            "postgresql://mlflow@db.internal/mlflow?password=S3cretPw",
            "postgresql://***@db.internal/mlflow",
        ),
        (
            "mysql+pymysql://db.internal:3306/mlflow?ssl=1&access_token=S3cretPw#x",
            "mysql+pymysql://db.internal:3306/mlflow",
        ),
        ("https://mlflow.internal/?sig=S3cretPw", "https://mlflow.internal"),
    ],
)
def test_a_registrys_location_drops_its_query_string(uri: str, location: str) -> None:
    """What every copy's promotion.source.* tags name: no query string, so no secret in it."""
    from types import SimpleNamespace  # noqa: PLC0415

    # A client is all a backend needs to name its registry: no database driver, no connection.
    stand_in = SimpleNamespace(tracking_uri=uri, _registry_uri=uri)
    backend = MlflowBackend(client=stand_in)

    assert backend.registry.location == location
    assert "S3cretPw" not in repr(backend)


def test_a_query_string_token_is_nowhere_in_what_a_failing_promotion_raises_or_logs(
    dev: str, policy: RetryPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    """A target URI with ?token= that refuses: the SDK's text quotes it, redacted; so do logs."""
    import traceback  # noqa: PLC0415

    from servers import free_port  # noqa: PLC0415

    dev_champion(dev, 2, 0.85)
    # Our retries (MLflow's own off, so a refusal is quick): each attempt's text quotes it.
    target = MlflowBackend(f"http://127.0.0.1:{free_port()}/?token=T0ken-S3cret", retry=policy)
    caplog.set_level("DEBUG", logger=LOGGER_NAME)

    with pytest.raises(RegistryError) as caught:
        promote(
            candidate_version="churn@champion",
            backend=MlflowBackend(dev),
            target=target,
            settings=CHAMPION,
        )

    shown = "".join(traceback.format_exception(caught.value, chain=True))
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(LOGGER_NAME))
    assert "T0ken-S3cret" not in shown
    assert "token=***" in shown, "the redacted SDK text still says which URI failed"
    assert ours, "the promotion logged its steps"
    assert "T0ken-S3cret" not in ours
