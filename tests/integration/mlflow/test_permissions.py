"""Permissions, with the real `mlflow server --app-name basic-auth` (issue 22, item 2).

A promotion needs no more than the permission that lets it register: EDIT on the registered model
(create a version, set tags, move an alias). READ cannot register: a clean error, nothing
written. And a write refused at any step (injected by the fault proxy) leaves no version that a
later promotion would crown; a re-run completes it.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")

from aml_promotion import RetryPolicy, load_settings, promote
from aml_promotion._domain import tags
from aml_promotion._service._champion import champion_of
from aml_promotion.exceptions import IncompletePromotionError, RegistryError
from faultproxy import FaultProxy
from integration.mlflow.conftest import SERVER_ENV, MlflowHarness, MlflowServer
from servers import ServerError, start_mlflow_server

pytestmark = pytest.mark.mlflow_server

ADMIN = ("admin", "admin-password-for-tests")
USERS = {"READ": "reader", "EDIT": "editor", "MANAGE": "manager"}
PASSWORD = "user-password-for-tests"  # noqa: S105 - a test server's throwaway user
BASELINES = ["tag:champion=true", "alias:champion"]
WRITES = r"/model-versions/(create|set-tag)$|/registered-models/alias$"
RETRIES = RetryPolicy(attempts=3, timeout=20.0, wait_initial=0.05, wait_max=0.2, jitter=0.0)


def _call(url: str, path: str, body: dict[str, Any]) -> Any:
    token = base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - a loopback test server
        url + path,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.loads(answer.read() or b"{}")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """`mlflow server --app-name basic-auth`, with a reader, an editor and a manager."""
    executable = os.environ.get(SERVER_ENV)
    if not executable:
        pytest.skip(f"{SERVER_ENV} is not set (see docs/backends-mlflow.md)")
    root = tmp_path_factory.mktemp("mlflow-auth")
    config = root / "basic_auth.ini"
    config.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{root / 'auth.db'}\n"
        f"admin_username = {ADMIN[0]}\n"
        f"admin_password = {ADMIN[1]}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "grant_default_workspace_access = true\n"
        # Checking a password costs a PBKDF2 hash per request: cached, as a busy server would.
        "auth_cache_ttl_seconds = 600\n"
    )
    environment = {
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "a-key-for-tests-only",
    }
    try:
        server = start_mlflow_server(
            executable,
            f"sqlite:///{root / 'server.db'}",
            root,
            app_name="basic-auth",
            extra_environment=environment,
        )
    except ServerError as error:
        pytest.fail(str(error))
    try:
        for user in USERS.values():
            _call(
                server.url, "/api/2.0/mlflow/users/create", {"username": user, "password": PASSWORD}
            )
        yield server
    finally:
        server.stop()


class Session:
    """Promotions and reads on the auth server, each as a user (MLflow reads its credentials)."""

    def __init__(self, server: MlflowServer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.server = server
        self._patch = monkeypatch

    def as_user(self, user: str, password: str = PASSWORD) -> None:
        self._patch.setenv("MLFLOW_TRACKING_USERNAME", user)
        self._patch.setenv("MLFLOW_TRACKING_PASSWORD", password)

    def as_admin(self) -> None:
        self.as_user(*ADMIN)

    def backend(self, url: str | None = None) -> Any:
        from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415

        return MlflowBackend(url or self.server.url, retry=RETRIES)

    def harness(self) -> MlflowHarness:
        from mlflow import MlflowClient  # noqa: PLC0415

        return MlflowHarness(self.backend(), MlflowClient(tracking_uri=self.server.url), None)

    def grant(self, user: str, model: str, permission: str) -> None:
        _call(
            self.server.url,
            "/api/3.0/mlflow/users/permissions/grant",
            {
                "username": user,
                "resource_type": "registered_model",
                "resource_id": model,
                "permission": permission,
            },
        )


@pytest.fixture
def session(auth_server: MlflowServer, monkeypatch: pytest.MonkeyPatch) -> Session:
    """The auth server, as the admin to begin with."""
    started = Session(auth_server, monkeypatch)
    started.as_admin()
    return started


def _settings(name: str, baseline: str) -> dict[str, Any]:
    return {
        "model_name": name,
        "model_file_name": "model.pkl",
        "metrics_max": ["auc"],
        "baseline": baseline,
    }


def _seed(session: Session, name: str, baseline: str) -> dict[str, str]:
    """As the admin: runs of auc 0.80 (promoted: version 1), 0.90 and 0.85."""
    harness = session.harness()
    exp = f"exp-{name}"
    runs = {
        label: harness.add_run(exp, {"auc": auc}, ["model.pkl"])
        for label, auc in (("seed", 0.80), ("best", 0.90), ("weaker", 0.85))
    }
    promote(
        experiment_name=exp,
        run_id=runs["seed"],
        settings=_settings(name, baseline),
        backend=session.backend(),
    )
    runs["exp"] = exp
    return runs


def _champion(session: Session, name: str, baseline: str) -> int | None:
    """The champion as promotions see it: the alias's target, or the best-ranked holder."""
    session.as_admin()
    settings = load_settings(_settings(name, baseline))
    found = champion_of(session.backend().registry, name, settings.baseline, settings.policy)
    return None if found is None else found.version


def _live_holders(session: Session, name: str, baseline: str) -> list[int]:
    key = "champion" if baseline.startswith("tag:") else tags.alias_tag("champion")
    session.as_admin()
    return [v.version for v in session.backend().registry.find_tagged(name, key, "true")]


def _name(baseline: str, what: str) -> str:
    return f"perm-{baseline.split(':', maxsplit=1)[0]}-{what}".lower()


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_reader_cannot_register_and_nothing_is_written(session: Session, baseline: str) -> None:
    """READ on the model: the registration is refused, a RegistryError, and nothing changes."""
    name = _name(baseline, "read")
    runs = _seed(session, name, baseline)
    session.grant(USERS["READ"], name, "READ")
    session.as_user(USERS["READ"])
    with pytest.raises(RegistryError) as raised:
        promote(
            experiment_name=runs["exp"],
            run_id=runs["best"],
            settings=_settings(name, baseline),
            backend=session.backend(),
        )
    assert not isinstance(raised.value, IncompletePromotionError)
    assert PASSWORD not in str(raised.value)
    session.as_admin()
    assert session.backend().registry.find_by_run(name, runs["best"]) is None
    assert _live_holders(session, name, baseline) == [1]
    assert _champion(session, name, baseline) == 1


@pytest.mark.parametrize("baseline", BASELINES)
@pytest.mark.parametrize("permission", ["EDIT", "MANAGE"])
def test_edit_on_the_model_is_enough_to_promote(
    session: Session, baseline: str, permission: str
) -> None:
    """EDIT (and MANAGE): the promotion completes; the old holder is retired, not untagged."""
    name = _name(baseline, permission)
    runs = _seed(session, name, baseline)
    session.grant(USERS[permission], name, permission)
    session.as_user(USERS[permission])
    result = promote(
        experiment_name=runs["exp"],
        run_id=runs["best"],
        settings=_settings(name, baseline),
        backend=session.backend(),
    )
    assert result.model is not None
    assert (result.model.version, result.champion_version, result.superseded_by) == (2, 2, None)
    assert _live_holders(session, name, baseline) == [2]
    assert _champion(session, name, baseline) == 2
    old = session.harness().client.get_model_version(name, "1")
    key = "champion" if baseline.startswith("tag:") else tags.alias_tag("champion")
    assert old.tags[key] == tags.SUPERSEDED
    assert old.tags[tags.SUPERSEDED_BY] == "2"


@pytest.fixture
def proxy(auth_server: MlflowServer) -> Iterator[FaultProxy]:
    """The fault proxy in front of the auth server."""
    fault_proxy = FaultProxy(auth_server.url).start()
    yield fault_proxy
    fault_proxy.stop()


@pytest.mark.parametrize("baseline", BASELINES)
@pytest.mark.parametrize("fail_at", [1, 2, 3, 4, 5])
def test_a_write_refused_at_any_step_leaves_nothing_to_crown_and_a_rerun_completes_it(
    session: Session, proxy: FaultProxy, baseline: str, fail_at: int
) -> None:
    """The editor's k-th write is refused: a clear error; a later promotion does not crown it."""
    name = _name(baseline, f"fault{fail_at}")
    runs = _seed(session, name, baseline)
    session.grant(USERS["EDIT"], name, "EDIT")
    settings = _settings(name, baseline)
    body = b'{"error_code": "PERMISSION_DENIED", "message": "injected refusal"}'
    proxy.fail("POST", WRITES, status=403, body=body, skip=fail_at - 1)
    session.as_user(USERS["EDIT"])
    try:
        promote(
            experiment_name=runs["exp"],
            run_id=runs["best"],
            settings=settings,
            backend=session.backend(proxy.url),
        )
    except RegistryError as exc:
        error: RegistryError | None = exc
    else:
        error = None
    if error is None:
        assert proxy.count("POST", WRITES) < fail_at, "it made fewer writes: no fault"
        pytest.skip("the promotion makes fewer writes")
    session.as_admin()
    registered = session.backend().registry.find_by_run(name, runs["best"])
    if fail_at == 1:
        assert registered is None
        assert not isinstance(error, IncompletePromotionError)
        return
    assert registered is not None
    assert isinstance(error, IncompletePromotionError), error
    assert error.version == registered.version
    assert f"version {registered.version} of model {name!r} was registered" in str(error)
    crowned = error.champion
    assert _champion(session, name, baseline) == (registered.version if crowned else 1)

    # The admin promotes a weaker run (0.85, better than the seed): it never crowns version 2.
    weaker = promote(
        experiment_name=runs["exp"],
        run_id=runs["weaker"],
        settings=settings,
        backend=session.backend(),
    )
    if not crowned:
        assert _champion(session, name, baseline) != registered.version
        assert weaker.champion_version != registered.version

    session.as_user(USERS["EDIT"])
    again = promote(
        experiment_name=runs["exp"],
        run_id=runs["best"],
        settings=settings,
        backend=session.backend(),
    )
    assert again.already_registered
    assert again.champion_version == registered.version
    assert _champion(session, name, baseline) == registered.version, "the re-run completed it"
    assert _live_holders(session, name, baseline) == [registered.version]
