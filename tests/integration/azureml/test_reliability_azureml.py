"""A champion that stays the best on Azure ML: a fault at every step of a promotion (issue 6).

What tests/integration/mlflow/test_reliability.py does for MLflow through a proxy, done here on
the local Azure ML emulator, which injects the faults itself: for every request a promotion with
a champion tag makes, a 5xx, a 429 with Retry-After, or a dropped connection. The promotion must
still complete with one version for the run and the champion tag moved to it; the emulator's
record shows that the failed request was answered once (the SDK's own retries are off) and sent
again once by the adapter; the recorded retry waits show that Retry-After was honoured. (Two
reads the SDK makes after a registration are best-effort: it ignores their failure, so those
are neither retried nor needed.)

Several steps share a route (the registry's ``GET .../models`` is the lookup by run, the
baseline lookup and the re-read of the champion's holders; both tag writes are ``PATCH
.../models/NAME:1``): the emulator matches faults on method and path only, so `_Targeted` below
also selects by query, and by rank among the matching requests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from integration.azureml.emulator import AzureMLEmulator, Fault, Recorded

pytest.importorskip("azureml.core")

from aml_promotion import RetryPolicy, promote
from aml_promotion.adapters.azureml import AzureMLBackend

pytestmark = pytest.mark.azureml

SETTINGS: dict[str, Any] = {
    "model_file_name": "model.pkl",
    "metrics_max": ["auc"],
    "metrics_min": ["loss"],
    "baseline": "tag:champion=true",
}
SUPERSEDED_BY = "promotion.superseded_by"
RETRY_AFTER = 3.0  # above every backoff of the `policy` fixture's first retry (0.5 s)
FAULTED = 0  # in a step's expected statuses: where the injected fault's answer is


# --- faults that select requests by more than method and path ------------------------------------


@dataclass
class _Targeted(Fault):
    """A fault on the (skip+1)-th request of a route that `when` selects (by query or body).

    Attributes:
        owner: The emulator, to read the request being matched (the query and body).
        when: Which requests of the route count; None: all of them.
        skip: How many counted requests to serve normally before the fault.
        commit_first: Serve the request (the change is made) before the fault: with `drop`,
            an answer lost after a committed write (the emulator's own `commit` answers an error).
        seen: How many counted requests went by.
    """

    owner: AzureMLEmulator | None = None
    when: Callable[[Recorded], bool] | None = None
    skip: int = 0
    commit_first: bool = False
    seen: int = 0

    def matches(self, method: str, path: str) -> bool:
        if not super().matches(method, path):
            return False
        record = self._in_flight(method, path)
        if record is None or (self.when is not None and not self.when(record)):
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.commit_first and self.owner is not None:
            self.owner._dispatch(method, path, record.query, record.body, record)
        return True

    def _in_flight(self, method: str, path: str) -> Recorded | None:
        # Called with the emulator's (re-entrant) lock held, after the request was recorded.
        assert self.owner is not None
        pending = [
            r for r in self.owner.requests if r.status == 0 and (r.method, r.path) == (method, path)
        ]
        return pending[-1] if pending else None


def _queried(key: str, value: str | None = None) -> Callable[[Recorded], bool]:
    return lambda r: key in r.query and (value is None or r.query[key] == value)


# --- the steps of a promotion ---------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One request a promotion makes, as the emulator routes it.

    Attributes:
        method: Its HTTP method.
        pattern: A regular expression searched in its path; ``{candidate}``, ``{seed}``,
            ``{experiment}`` and ``{model}`` are filled in per test.
        expected: The statuses the route answers in the faulted promotion, in order, with
            `FAULTED` where the fault is; a clean promotion makes the others.
        when: Which requests of the route the step is (query, body); None: all.
        skip: The fault goes on the request after this many of those.
        retried: Whether a failure of it is retried; False for a read the SDK makes on a
            best-effort basis and whose failure it ignores.
    """

    method: str
    pattern: str
    expected: tuple[int, ...]
    when: Callable[[Recorded], bool] | None = None
    skip: int = 0
    retried: bool = True


_RUN = r"/history/v1\.0/.*/workspaces/[^/]+/runs/{run}$"
_MODELS = r"/modelmanagement/v1\.0/.*/models$"
_MODEL_1 = r"/modelmanagement/v1\.0/.*/models/{model}:1$"
_MODEL_2 = r"/modelmanagement/v1\.0/.*/models/{model}:2$"

STEPS = {
    # In the order a promotion makes them (a backend that has not seen the experiment yet).
    "run lookup": Step("GET", _RUN.format(run="{candidate}"), (FAULTED, 200)),
    "experiment lookup": Step("GET", r"/history/v1\.0/.*/experimentids/[^/]+$", (FAULTED, 200)),
    "metrics": Step("POST", r"/metric/v2\.0/.*/runs/{candidate}/full$", (FAULTED, 200, 200)),
    "file listing": Step(
        "GET", r"/artifact/v2\.0/.*/artifacts/ExperimentRun/dcid\.{candidate}$", (FAULTED, 200)
    ),
    "lookup by run": Step("GET", _MODELS, (FAULTED, 200), when=_queried("runId")),
    # The baseline, then the settle's two re-reads (the second finds one holder: converged).
    "baseline lookup": Step(
        "GET", _MODELS, (FAULTED, 200, 200, 200), when=_queried("tags", "champion=true")
    ),
    "baseline run": Step("GET", _RUN.format(run="{seed}"), (FAULTED, 200)),
    "baseline metrics": Step("POST", r"/metric/v2\.0/.*/runs/{seed}/full$", (FAULTED, 200, 200)),
    "registration: model file": Step(
        "GET", r"/artifact/v2\.0/.*/artifacts/prefix/contentinfo/", (FAULTED, 200)
    ),
    "registration: asset": Step("POST", r"/modelmanagement/v1\.0/.*/assets$", (FAULTED, 200)),
    "registration": Step("POST", _MODELS, (FAULTED, 200)),
    # After the service committed the version, the SDK reads its experiment and run back
    # (Model(workspace, _model_dto=...) with expand=True) and ignores a failure there (`except
    # Exception: pass` in Model._initialize): the registration succeeds, nothing is retried.
    "registration: reading back the experiment": Step(
        "GET", r"/history/v1\.0/.*/experiments/{experiment}$", (FAULTED,), retried=False
    ),
    "registration: reading back the run": Step(
        "GET",
        r"/history/v1\.0/.*/experimentids/[^/]+/runs/{candidate}$",
        (FAULTED,),
        retried=False,
    ),
    # Registered with champion=pending, the new version takes the tag (read, write), ...
    "taking the tag: read": Step("GET", _MODEL_2, (FAULTED, 200)),
    "taking the tag: write": Step("PATCH", _MODEL_2, (FAULTED, 200)),
    "champion holders re-read": Step(
        "GET", _MODELS, (200, FAULTED, 200, 200), when=_queried("tags", "champion=true"), skip=1
    ),
    # ...and the old holder is retired: champion=superseded and superseded_by, one write.
    "retiring the old holder: read": Step("GET", _MODEL_1, (FAULTED, 200)),
    "retiring the old holder: write": Step("PATCH", _MODEL_1, (FAULTED, 200)),
}
FAULTS: dict[str, dict[str, Any]] = {
    "503": {"status": 503},
    "429 Retry-After": {"status": 429, "retry_after": RETRY_AFTER},
    "dropped connection": {"drop": True},
}


def _route(step: Step, **names: str) -> str:
    pattern = step.pattern
    for key, value in names.items():
        pattern = pattern.replace("{" + key + "}", re.escape(value))
    return pattern


def _sent(emulator: AzureMLEmulator, step: Step, pattern: str) -> list[Recorded]:
    return [r for r in emulator.matching(step.method, pattern) if step.when is None or step.when(r)]


def _holders(emulator: AzureMLEmulator, name: str) -> list[int]:
    return [m["version"] for m in emulator.models(name) if m["kvTags"].get("champion") == "true"]


def _versions_of(emulator: AzureMLEmulator, name: str, run_id: str) -> list[int]:
    return [m["version"] for m in emulator.models(name) if m["runId"] == run_id]


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("step", list(STEPS))
def test_a_transient_fault_at_any_step_is_survived_with_one_version(  # noqa: PLR0917
    backend: Any,
    workspace: Any,
    policy: RetryPolicy,
    emulator: AzureMLEmulator,
    retry_waits: list[float],
    unique: str,
    step: str,
    fault: str,
) -> None:
    """The promotion completes, registers one version and moves the champion tag to it."""
    exp, name = f"faults-{unique}", f"churn-{unique}"
    settings = {**SETTINGS, "model_name": name}
    seed = emulator.add_run(exp, metrics={"auc": 0.80, "loss": 0.5}, files=["outputs/model.pkl"])
    better = emulator.add_run(exp, metrics={"auc": 0.85, "loss": 0.4}, files=["outputs/model.pkl"])
    first = promote(experiment_name=exp, run_id=seed, settings=settings, backend=backend)
    assert first.model is not None
    assert _holders(emulator, name) == [first.model.version]

    where = STEPS[step]
    route = _route(where, candidate=better, seed=seed, experiment=exp, model=name)
    kind = FAULTS[fault]
    emulator._add_fault(
        _Targeted(
            where.method,
            route,
            status=kind.get("status", 503),
            retry_after=kind.get("retry_after"),
            drop=kind.get("drop", False),
            owner=emulator,
            when=where.when,
            skip=where.skip,
        )
    )
    emulator.clear_requests()
    unhandled = len(emulator.unhandled)
    retry_waits.clear()
    # A backend that has not seen the experiment yet, as a new job's would be.
    flaky = AzureMLBackend(workspace=workspace, retry=policy)
    started = time.monotonic()
    result = promote(experiment_name=exp, run_id=better, settings=settings, backend=flaky)
    elapsed = time.monotonic() - started

    assert result.model is not None, result.decision.summary
    assert (result.model.run_id, result.superseded_by) == (better, None)
    assert _versions_of(emulator, name, better) == [result.model.version], "one version"
    assert _holders(emulator, name) == [result.model.version], "the champion tag moved"
    assert emulator.models(name)[0]["kvTags"].get(SUPERSEDED_BY) == str(result.model.version)
    # The fault was answered once, then (if the step is retried) the call was sent again once...
    answered = -1 if kind.get("drop") else kind["status"]
    statuses = [r.status for r in _sent(emulator, where, route)]
    assert statuses == [answered if s == FAULTED else s for s in where.expected]
    committed = [r for r in emulator.matching("POST", _MODELS) if r.status == 200]
    assert len(committed) == 1, "registered once"
    # ...by our retry, not the SDK's (which records no wait): one retry in the whole promotion,
    # after the wait the service asked for, if it did.
    wait = kind.get("retry_after", policy.wait_initial)
    assert retry_waits == ([wait] if where.retried else [])
    assert emulator.unhandled[unhandled:] == []
    assert elapsed < 20, "waits are recorded, not slept"


# --- a registration whose answer was lost ---------------------------------------------------------

LOST = {
    "503 after commit": lambda emulator: emulator.commit_then_fail("POST", _MODELS),
    "connection dropped after commit": lambda emulator: emulator._add_fault(
        _Targeted("POST", _MODELS, drop=True, owner=emulator, commit_first=True)
    ),
}


@pytest.mark.parametrize("lost", list(LOST))
def test_a_registration_committed_then_lost_is_not_registered_twice(
    backend: Any, emulator: AzureMLEmulator, retry_waits: list[float], unique: str, lost: str
) -> None:
    """The service registered the version but the answer was lost: the retry finds it by run."""
    exp, name = f"lost-{unique}", f"churn-{unique}"
    settings = {**SETTINGS, "model_name": name}
    seed = emulator.add_run(exp, metrics={"auc": 0.80, "loss": 0.5}, files=["outputs/model.pkl"])
    better = emulator.add_run(exp, metrics={"auc": 0.85, "loss": 0.4}, files=["outputs/model.pkl"])
    promote(experiment_name=exp, run_id=seed, settings=settings, backend=backend)
    emulator.clear_requests()
    retry_waits.clear()
    LOST[lost](emulator)

    result = promote(experiment_name=exp, run_id=better, settings=settings, backend=backend)

    assert result.model is not None
    assert (result.model.version, result.model.run_id, result.registered) == (2, better, True)
    assert _versions_of(emulator, name, better) == [2], "exactly one version for the run"
    assert _holders(emulator, name) == [2], "the champion tag moved to it"
    assert emulator.models(name)[0]["kvTags"].get(SUPERSEDED_BY) == "2"
    posts = emulator.matching("POST", _MODELS)
    assert len(posts) == 1, "never sent again blindly"
    after = emulator.requests[emulator.requests.index(posts[0]) + 1]
    assert (after.method, after.query.get("runId")) == ("GET", better), "looked up by run first"
    assert len(retry_waits) == 1


# --- one champion through successive promotions ---------------------------------------------------


def test_successive_promotions_leave_one_champion_the_last_promoted(
    backend: Any, emulator: AzureMLEmulator, unique: str
) -> None:
    """A first champion, then better, better, worse: one holder, the last one promoted.

    Each promoted version takes the tag from the one before, which records who superseded it;
    the worse candidate is compared with the current holder and registers nothing.
    """
    exp, name = f"seq-{unique}", f"churn-{unique}"
    settings = {**SETTINGS, "model_name": name}
    scores = [(0.80, 0.50), (0.85, 0.40), (0.90, 0.30), (0.82, 0.45)]
    runs = [
        emulator.add_run(exp, metrics={"auc": auc, "loss": loss}, files=["outputs/model.pkl"])
        for auc, loss in scores
    ]
    results = [
        promote(experiment_name=exp, run_id=run, settings=settings, backend=backend) for run in runs
    ]

    promoted = [None if r.model is None else r.model.version for r in results]
    assert promoted == [1, 2, 3, None]
    assert [None if r.baseline is None else r.baseline.version for r in results] == [None, 1, 2, 3]
    assert _holders(emulator, name) == [3], "exactly one holder: the last promoted"
    tags = {m["version"]: m["kvTags"] for m in emulator.models(name)}
    assert tags[2].get(SUPERSEDED_BY) == "3", "the previous holder names its successor"
    assert tags[1].get(SUPERSEDED_BY) == "2"
    assert SUPERSEDED_BY not in tags[3]
    assert [m["runId"] for m in emulator.models(name)] == runs[:3], "one version per promoted run"
    assert not results[3].decision.promote
