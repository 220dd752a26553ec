"""Concurrent promotions of different quality: the champion at the end is the best (issue 22).

The real `promote()` runs in one thread per promotion, over one in-memory registry whose every
call waits for its turn: a scheduler (Hypothesis, or a test's fixed order) chooses which promotion
makes its next registry call, so every interleaving of reads, decisions, writes, re-reads and
resolutions can be tried. The oracle is `decide()` itself: no version registered in the race would
be promoted against the final champion.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from aml_promotion import decide, load_settings, promote
from aml_promotion._domain import tags
from aml_promotion._domain.champion import compare_values, own_values, rank_values
from aml_promotion.ports import ModelVersion
from aml_promotion.testing import InMemoryBackend, InMemoryRegistry, InMemoryRunStore

NAME = "churn"
BASELINES = ["tag:champion=true", "alias:champion"]


def _settings(baseline: str, **extra: Any) -> dict[str, Any]:
    return {
        "model_name": NAME,
        "metrics_max": ["auc"],
        "metrics_min": ["loss"],
        "baseline": baseline,
        **extra,
    }


class Scheduler:
    """Lets one promotion thread at a time make its next registry call, in a chosen order.

    A thread that sleeps (a promotion waiting for a moved alias to settle) is scheduled again
    only when no other thread can move: its sleep is long beside the others' calls.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._waiting: set[int] = set()
        self._sleeping: set[int] = set()
        self._done: set[int] = set()
        self._turn: int | None = None
        self._local = threading.local()

    def wait_turn(self) -> None:
        """Called by a promotion thread before each registry call."""
        me: int | None = getattr(self._local, "me", None)
        if me is None:
            return
        with self._condition:
            self._waiting.add(me)
            self._condition.notify_all()
            self._condition.wait_for(lambda: self._turn == me)
            self._turn = None
            self._waiting.discard(me)
            self._sleeping.discard(me)
            self._condition.notify_all()

    def sleep(self, seconds: float, real: Callable[[float], None]) -> None:
        """`time.sleep` within the test: a promotion thread yields until the others are stuck."""
        if getattr(self._local, "me", None) is None:
            real(seconds)
            return
        with self._condition:
            self._sleeping.add(self._local.me)
        self.wait_turn()

    def run(self, jobs: Sequence[Callable[[], Any]], choices: Iterator[int]) -> list[Any]:
        """Run each job in its own thread, one registry call at a time; return their results.

        Each choice names the job to go next; one that cannot go (done, or asleep while others
        can go) counts among those that can, modulo their number. Once the choices run out, the
        first that can go goes.
        """
        results: list[Any] = [None] * len(jobs)

        def body(index: int, job: Callable[[], Any]) -> None:
            self._local.me = index
            try:
                results[index] = job()
            except Exception as exc:  # noqa: BLE001 - reported as the job's result
                results[index] = exc
            finally:
                with self._condition:
                    self._done.add(index)
                    self._condition.notify_all()

        threads = [
            threading.Thread(target=body, args=(i, job), daemon=True) for i, job in enumerate(jobs)
        ]
        for thread in threads:
            thread.start()
        everyone = set(range(len(jobs)))
        with self._condition:
            while True:
                self._condition.wait_for(
                    lambda: self._turn is None and self._waiting | self._done == everyone,
                    timeout=30,
                )
                if self._done == everyone:
                    break
                if self._waiting | self._done != everyone:
                    msg = "a promotion thread neither called the registry nor finished"
                    raise AssertionError(msg)
                awake = sorted(self._waiting - self._sleeping) or sorted(self._waiting)
                choice = next(choices, 0)
                self._turn = choice if choice in awake else awake[choice % len(awake)]
                self._condition.notify_all()
        for thread in threads:
            thread.join(timeout=30)
        return results


class GatedRegistry:
    """One promotion's view of the shared registry: every call waits for its turn first."""

    def __init__(self, registry: InMemoryRegistry, scheduler: Scheduler) -> None:
        self._registry = registry
        self._scheduler = scheduler

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._registry, name)

        def gated(*args: Any, **kwargs: Any) -> Any:
            self._scheduler.wait_turn()
            return method(*args, **kwargs)

        return gated


class GatedBackend:
    """A backend whose runs are shared and whose registry calls are scheduled."""

    def __init__(self, runs: InMemoryRunStore, registry: GatedRegistry) -> None:
        self.runs = runs
        self.registry = registry


def _race(
    baseline: str,
    seed: tuple[float, float],
    candidates: Sequence[tuple[float, float]],
    choices: Sequence[int],
    *,
    history: Sequence[tuple[tuple[float, float], bool]] = (),
    forced: frozenset[int] = frozenset(),
    rerun: Sequence[str] = (),
    seed_extra: dict[str, Any] | None = None,
    **extra: Any,
) -> tuple[InMemoryBackend, list[Any]]:
    """Promote the seed, then every candidate at once, interleaved as `choices` say.

    `history` is promoted in turn after the seed (each forced or not) as runs ``h0``, ``h1``...;
    the candidates at `forced` indexes are forced; `rerun` names runs promoted again in the race
    (after the candidates' jobs; a forced candidate's run forced again); `seed_extra` overrides
    settings for the seed's promotion alone (it has no baseline).
    """
    backend = InMemoryBackend()
    settings = _settings(baseline, **extra)
    forcing = _settings(baseline, force_registration=True, **extra)
    for index, (auc, loss) in enumerate([seed, *candidates]):
        backend.runs.add_run(
            f"r{index}",
            experiment_name="train",
            metrics={"auc": auc, "loss": loss},
            files=["model.pkl"],
        )
    seeding = _settings(baseline, **{**extra, **(seed_extra or {})})
    promote(experiment_name="train", run_id="r0", settings=seeding, backend=backend)
    for index, ((auc, loss), force) in enumerate(history):
        backend.runs.add_run(
            f"h{index}", experiment_name="train", metrics={"auc": auc, "loss": loss},
            files=["model.pkl"],
        )  # fmt: skip
        promote(
            experiment_name="train",
            run_id=f"h{index}",
            settings=forcing if force else settings,
            backend=backend,
        )
    scheduler = Scheduler()
    real_sleep = time.sleep

    def job(run_id: str, *, force: bool = False) -> Callable[[], Any]:
        gated = GatedBackend(backend.runs, GatedRegistry(backend.registry, scheduler))
        chosen = forcing if force else settings
        return lambda: promote(
            experiment_name="train", run_id=run_id, settings=chosen, backend=gated
        )

    jobs = [job(f"r{index}", force=index - 1 in forced) for index in range(1, len(candidates) + 1)]
    # A re-run of a forced candidate's run is forced too, as the same pipeline would run it.
    forced_runs = {f"r{index + 1}" for index in forced}
    jobs += [job(run_id, force=run_id in forced_runs) for run_id in rerun]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "sleep", lambda seconds: scheduler.sleep(seconds, real_sleep))
        results = scheduler.run(jobs, iter(choices))
    return backend, results


def _champion(backend: InMemoryBackend, baseline: str) -> ModelVersion:
    """The one champion at the end: exactly one live holder, and the alias on it."""
    key = "champion" if baseline.startswith("tag:") else tags.alias_tag("champion")
    holders = backend.registry.find_tagged(NAME, key, "true")
    assert len(holders) == 1, f"one holder, not {[h.version for h in holders]}"
    if baseline.startswith("alias:"):
        assert backend.registry.aliases[NAME]["champion"] == holders[0].version
    return holders[0]


def _check_best(backend: InMemoryBackend, baseline: str, results: list[Any]) -> ModelVersion:
    """No version the race registered would be promoted against the champion (`decide()`)."""
    for result in results:
        assert not isinstance(result, Exception), result
    champion = _champion(backend, baseline)
    policy = load_settings(_settings(baseline)).policy
    runs = backend.runs.runs
    assert champion.run_id is not None
    for result in results:
        if result.registered and result.model.version != champion.version:
            decision = decide(
                runs[str(result.model.run_id)].metrics, runs[champion.run_id].metrics, policy
            )
            assert not decision.promote, (
                f"version {result.model.version} ({result.model.run_id}) beats the champion "
                f"{champion.version} ({champion.run_id}): {decision.summary}"
            )
    return champion


# The reproduction of issue 22: X = 0.77 reads the seed (0.60) and decides; before X registers,
# Y = 0.72 and then Z = 0.74 promote in turn; then X registers and settles.
SEED = (0.60, 0.5)
X, Y, Z = (0.77, 0.5), (0.72, 0.5), (0.74, 0.5)


@pytest.mark.parametrize("baseline", BASELINES)
@pytest.mark.parametrize("order", ["YZ", "ZY"])
def test_a_better_candidate_that_decided_first_ends_as_champion(baseline: str, order: str) -> None:
    """X decided against the seed; Y and Z promote before X registers: X ends as champion."""
    later = {"Y": Y, "Z": Z}
    candidates = [X, later[order[0]], later[order[1]]]
    # Job 0 (X) reads until it has decided; jobs 1 and 2 then run to the end, in turn; X last.
    # (the look-up by run, [the alias's two reads of a moved-alias check], the baseline)
    reads_before_deciding = 4 if baseline.startswith("alias:") else 2
    choices = [0] * reads_before_deciding + [1] * 50 + [2] * 50
    backend, results = _race(baseline, SEED, candidates, choices)
    champion = _check_best(backend, baseline, results)
    assert champion.run_id == "r1", "X, the best, is the champion"
    x = results[0]
    assert x.registered
    assert x.superseded_by is None
    assert x.champion_version == champion.version
    # The later ones that registered (each beat the champion it read) were superseded.
    assert results[1].registered, "the first of them beat the seed"
    key = "champion" if baseline.startswith("tag:") else tags.alias_tag("champion")
    later_versions = {r.model.version for r in results[1:] if r.registered}
    for version in later_versions:
        held = backend.registry.get(NAME, version).tags
        assert held[key] == tags.SUPERSEDED
        winners = {str(v) for v in later_versions | {champion.version} if v > version}
        assert held[tags.SUPERSEDED_BY] in winners


def _bursts(count: int) -> st.SearchStrategy[list[int]]:
    """Interleavings as bursts: one promotion makes a few calls in a row (or all), then another."""
    lengths = st.sampled_from([1, 2, 3, 5, 50])
    burst = st.tuples(st.integers(min_value=0, max_value=count - 1), lengths)
    return st.lists(burst, max_size=12).map(
        lambda bursts: [job for job, length in bursts for _ in range(length)]
    )


@st.composite
def _races(draw: st.DrawFn) -> tuple[str, list[tuple[float, float]], list[int]]:
    """A baseline, 2 to 4 candidates of different quality, and an interleaving of their calls."""
    baseline = draw(st.sampled_from(BASELINES))
    count = draw(st.integers(min_value=2, max_value=4))
    # Values a step apart, and some within the float tolerance of another (equal to decide()).
    values = st.sampled_from([0.77, 0.72, 0.74, 0.74 + 1e-15, 0.70])
    losses = st.sampled_from([0.5, 0.5 - 1e-15, 0.4])
    candidates = draw(st.lists(st.tuples(values, losses), min_size=count, max_size=count))
    return baseline, candidates, draw(_bursts(count))


@given(_races())
# The reproduction of issue 22, always tried (the thorough profile finds such a case by itself).
@example(("tag:champion=true", [X, Y, Z], [0, 0] + [1] * 50 + [2] * 50))
@example(("alias:champion", [X, Y, Z], [0] * 4 + [1] * 50 + [2] * 50))
def test_any_interleaving_of_promotions_of_different_quality_crowns_the_best(
    race: tuple[str, list[tuple[float, float]], list[int]],
) -> None:
    """Whatever the interleaving, one champion remains, and no registered version beats it."""
    baseline, candidates, choices = race
    backend, results = _race(baseline, (0.71, 0.5), candidates, choices)
    champion = _check_best(backend, baseline, results)
    # Results read after the settle converged: the last promotion to finish reports the champion.
    reported = {r.champion_version for r in results}
    assert champion.version in reported | {1}


@st.composite
def _tolerant_races(draw: st.DrawFn) -> tuple[str, list[tuple[float, float]], list[int]]:
    baseline = draw(st.sampled_from(BASELINES))
    count = draw(st.integers(min_value=2, max_value=3))
    values = st.sampled_from([0.70, 0.705, 0.71, 0.72, 0.74])
    candidates = draw(st.lists(st.tuples(values, st.just(0.4)), min_size=count, max_size=count))
    return baseline, candidates, draw(_bursts(count))


@given(_tolerant_races())
def test_with_a_tolerated_regression_no_registered_version_ranks_above_the_champion(
    race: tuple[str, list[tuple[float, float]], list[int]],
) -> None:
    """min_delta -0.01: the champion's effective rank is at least every registered version's.

    A version promoted within the tolerated regression ranks as the champion it replaced, so
    no version of the race whose own metrics are better than the champion's rank is left
    superseded (what holds with a negative min_delta, docs/reliability.md).
    """
    baseline, candidates, choices = race
    extra = {"metric_rules": {"auc": {"min_delta": -0.01}}, "require_improvement": False}
    backend, results = _race(baseline, (0.71, 0.4), candidates, choices, **extra)
    for result in results:
        assert not isinstance(result, Exception), result
    champion = _champion(backend, baseline)
    policy = load_settings(_settings(baseline, **extra)).policy
    top = rank_values(champion.tags, policy)
    for result in results:
        if result.registered:
            own = own_values(backend.registry.get(NAME, result.model.version).tags, policy)
            assert compare_values(own, top, policy) <= 0, (own, top)


@pytest.mark.parametrize("baseline", BASELINES)
def test_sequential_promotions_within_a_tolerated_regression_each_take_the_champion(
    baseline: str,
) -> None:
    """min_delta -0.02: each promoted version takes the champion, though slightly worse."""
    backend = InMemoryBackend()
    settings = _settings(
        baseline, metric_rules={"auc": {"min_delta": -0.02}}, require_improvement=False
    )
    for index, auc in enumerate((0.80, 0.79, 0.78, 0.81, 0.80)):
        backend.runs.add_run(
            f"r{index}", experiment_name="train", metrics={"auc": auc, "loss": 0.4},
            files=["model.pkl"],
        )  # fmt: skip
        result = promote(
            experiment_name="train", run_id=f"r{index}", settings=settings, backend=backend
        )
        assert result.registered
        assert result.superseded_by is None
        assert result.champion_version == index + 1
        assert _champion(backend, baseline).version == index + 1


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_forced_registration_takes_the_champion(baseline: str) -> None:
    """A forced, worse version takes the champion from a better one, as it did sequentially."""
    backend = InMemoryBackend()
    for index, auc in enumerate((0.80, 0.60)):
        backend.runs.add_run(
            f"r{index}", experiment_name="train", metrics={"auc": auc, "loss": 0.4},
            files=["model.pkl"],
        )  # fmt: skip
    promote(experiment_name="train", run_id="r0", settings=_settings(baseline), backend=backend)
    forced = _settings(baseline, force_registration=True)
    result = promote(experiment_name="train", run_id="r1", settings=forced, backend=backend)
    assert result.registered
    assert _champion(backend, baseline).version == 2
    assert result.champion_version == 2


def _line(backend: InMemoryBackend, version: ModelVersion) -> set[int]:
    """The versions `version` was promoted against, one after the other, back to the first."""
    line: set[int] = set()
    recorded = version.tags.get(tags.BASELINE_VERSION, tags.NO_BASELINE)
    while recorded.isdecimal() and int(recorded) not in line:
        line.add(int(recorded))
        recorded = backend.registry.get(NAME, int(recorded)).tags.get(
            tags.BASELINE_VERSION, tags.NO_BASELINE
        )
    return line


# Before each race: the seed 0.55 (v1), then 0.80 promoted (v2), then 0.60 forced (v3, a rollback).
SEED_BEFORE_ROLLBACK = (0.55, 0.5)
HISTORY = [((0.80, 0.5), False), ((0.60, 0.5), True)]


@st.composite
def _forced_races(draw: st.DrawFn) -> tuple[str, list[tuple[float, float]], int | None, list[int]]:
    """After a forced rollback: 2-3 candidates of different quality, one of them maybe forced."""
    baseline = draw(st.sampled_from(BASELINES))
    count = draw(st.integers(min_value=2, max_value=3))
    values = st.sampled_from([0.55, 0.62, 0.65, 0.70, 0.82])
    losses = st.sampled_from([0.5, 0.4])
    candidates = draw(st.lists(st.tuples(values, losses), min_size=count, max_size=count))
    forced = draw(st.none() | st.integers(min_value=0, max_value=count - 1))
    # The last job re-runs the seed's run (0.55, older and worse than the forced 0.60).
    return baseline, candidates, forced, draw(_bursts(count + 1))


@given(_forced_races())
# 0.65 decides against the forced 0.60; 0.62 then promotes, and 0.63 against 0.62, before 0.65
# registers (a chain the generation decided when the forced line shared one inherited rank).
# Then: 0.82 decides against the forced 0.60, and a forced 0.50 promotes before it registers.
@example(
    (
        "tag:champion=true",
        [(0.65, 0.5), (0.62, 0.5), (0.63, 0.5)],
        None,
        [0, 0] + [1] * 50 + [2] * 50,
    )
)
@example(
    ("alias:champion", [(0.65, 0.5), (0.62, 0.5), (0.63, 0.5)], None, [0] * 4 + [1] * 50 + [2] * 50)
)
@example(("tag:champion=true", [(0.82, 0.5), (0.50, 0.5)], 1, [0, 0] + [1] * 50))
def test_after_a_forced_promotion_the_champion_is_the_best_of_the_latest_epoch(
    race: tuple[str, list[tuple[float, float]], int | None, list[int]],
) -> None:
    """A forced version outranks all before it; after it, the policy's best is the champion.

    The history: the seed 0.55, then 0.80 promoted, then 0.60 forced (a rollback). In the race
    (no regression tolerated), a forced candidate, if any, or else the forced 0.60, starts the
    latest epoch: the champion is it or a version promoted on its line, and no version the race
    registered on that line would be promoted against the champion. The seed's run (older and
    worse than the forced version), promoted again during the race, never takes it back.
    """
    baseline, candidates, forced, choices = race
    backend, results = _race(
        baseline,
        SEED_BEFORE_ROLLBACK,
        candidates,
        choices,
        history=HISTORY,
        forced=frozenset() if forced is None else frozenset({forced}),
        rerun=["r0"],
    )
    for result in results:
        assert not isinstance(result, Exception), result
    champion = _champion(backend, baseline)
    rollback = 3  # the forced 0.60
    latest = rollback if forced is None else results[forced].model.version
    on_line = {latest} | {
        r.model.version
        for r in results
        if r.model is not None
        and latest in _line(backend, backend.registry.get(NAME, r.model.version))
    }
    assert champion.version in on_line, (
        f"the champion {champion.version} is neither the forced version {latest} nor promoted on "
        f"its line {sorted(on_line)}"
    )
    policy = load_settings(_settings(baseline)).policy
    runs = backend.runs.runs
    assert champion.run_id is not None
    for version in on_line - {champion.version}:
        run_id = backend.registry.get(NAME, version).run_id
        decision = decide(runs[str(run_id)].metrics, runs[champion.run_id].metrics, policy)
        assert not decision.promote, (
            f"version {version} ({run_id}) beats the champion {champion.version} "
            f"({champion.run_id}): {decision.summary}"
        )
    assert results[-1].already_registered
    assert champion.version != 1


# Calls of a promotion up to its registration (the look-up by run, [the alias's two reads of a
# moved-alias check], the baseline, the registration).
def _calls_to_register(baseline: str) -> int:
    return 5 if baseline.startswith("alias:") else 3


@pytest.mark.parametrize("baseline", BASELINES)
@pytest.mark.parametrize(
    ("history", "forced", "extra"),
    [
        ((), frozenset(), {}),
        ((), frozenset(), {"on_missing_baseline": "reject"}),
        # A rollback (0.70 forced below the champion, 0.80 forced before): its epoch is 2.
        ([((0.80, 0.5), True)], frozenset({0}), {}),
    ],
    ids=["promoted", "reject-without-baseline", "forced-rollback"],
)
def test_a_rerun_racing_its_own_promotion_leaves_that_promotion_as_it_completed(
    baseline: str, history: Any, forced: frozenset[int], extra: dict[str, Any]
) -> None:
    """B re-runs A's run, reads A's version pending, and A completes before B reads its baseline.

    B finds the version the champion: it compares as A's registration did (with the baseline
    A recorded), and never rewrites A's record nor retires it from stale tags.
    """
    reads = _calls_to_register(baseline)
    # A registers; B finds A's version (pending); A runs to the end; then B.
    choices = [0] * reads + [1] + [0] * 50 + [1] * 50
    candidate = (0.70, 0.5) if forced else (0.90, 0.5)
    backend, results = _race(
        baseline,
        SEED,
        [candidate],
        choices,
        history=history,
        forced=forced,
        rerun=["r1"],
        seed_extra={"on_missing_baseline": "promote"},
        **extra,
    )
    first, again = results
    assert not isinstance(first, Exception), first
    assert not isinstance(again, Exception), again
    key = "champion" if baseline.startswith("tag:") else tags.alias_tag("champion")
    assert again.registered_before.tags[key] == tags.PENDING, "B read A's version pending"
    version = first.model.version
    champion = _champion(backend, baseline)
    assert champion.version == version
    recorded_before = {k: v for k, v in first.model.tags.items() if k.startswith("promotion.")}
    held = backend.registry.get(NAME, version).tags
    assert {k: held[k] for k in recorded_before if k != key} == {
        k: v for k, v in recorded_before.items() if k != key
    }, "A's record (baseline, generation, epoch, rank) as A wrote it"
    recorded = first.baseline.version
    assert held[tags.BASELINE_VERSION] == str(recorded)
    assert held[tags.EPOCH] == ("2" if forced else "0")
    assert again.already_registered
    assert again.baseline is not None
    assert again.baseline.version == recorded, "compared as A's registration was"
    assert "no longer exists" not in again.decision.summary
    assert again.champion_version == version
    assert again.superseded_by is None


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_rerun_racing_its_promotion_and_a_better_one_leaves_both_records_as_written(
    baseline: str,
) -> None:
    """B read A's version pending; A completed, then a better promotion took the champion.

    B never rewrites A's record (it was promoted, then superseded) nor crowns it again.
    """
    reads = _calls_to_register(baseline)
    # A registers; B (job 2) finds A's version pending; A, then the better one, run to the end.
    choices = [0] * reads + [2] + [0] * 50 + [1] * 50 + [2] * 50
    backend, results = _race(baseline, SEED, [(0.90, 0.5), (0.95, 0.5)], choices, rerun=["r1"])
    first, better, again = results
    for result in results:
        assert not isinstance(result, Exception), result
    key = "champion" if baseline.startswith("tag:") else tags.alias_tag("champion")
    assert again.registered_before.tags[key] == tags.PENDING, "B read A's version pending"
    champion = _champion(backend, baseline)
    assert champion.version == better.model.version
    held = backend.registry.get(NAME, first.model.version).tags
    assert held[tags.VERDICT] == "promote", "A's record, as A wrote it"
    assert held[tags.BASELINE_VERSION] == "1"
    assert held[tags.GENERATION] == "2"
    assert held[key] == tags.SUPERSEDED
    assert held[tags.SUPERSEDED_BY] == str(better.model.version)
    assert again.already_registered
    assert again.champion_version == better.model.version
