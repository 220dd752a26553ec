"""Writes that fail leave a safe registry (issue 22, item 2), with the public fakes.

A promotion's writes are: the registration (its champion tag pending), the tag going live, the
alias (alias baselines), and the retirement of the other holders. Each is failed in turn: the
error names the version and what was not done, no later promotion takes a version of the failed
promotion for the champion (unless the error says it is the champion already), and a re-run
completes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from aml_promotion import load_settings, promote
from aml_promotion._domain import tags
from aml_promotion._service._champion import champion_of
from aml_promotion.exceptions import IncompletePromotionError, RegistryError
from aml_promotion.ports import ModelVersion
from aml_promotion.testing import InMemoryBackend, InMemoryRegistry

NAME = "churn"
BASELINES = ["tag:champion=true", "alias:champion"]
WRITES = {"register", "set_tags", "set_alias", "remove_tags"}


def _settings(baseline: str) -> dict[str, Any]:
    return {"model_name": NAME, "metrics_max": ["auc"], "baseline": baseline}


class FailingWrite:
    """The registry, but its `fail_at`-th write (counting from 1) raises; None fails none."""

    def __init__(self, registry: InMemoryRegistry, fail_at: int | None) -> None:
        self._registry = registry
        self.fail_at = fail_at
        self.writes: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._registry, name)
        if name not in WRITES:
            return method

        def write(*args: Any, **kwargs: Any) -> Any:
            self.writes.append(name)
            if len(self.writes) == self.fail_at:
                msg = f"injected: {name} refused"
                raise RegistryError(msg)
            return method(*args, **kwargs)

        return write


class Backend:
    """The in-memory backend's runs, and a registry whose writes may fail."""

    def __init__(self, backend: InMemoryBackend, registry: Any) -> None:
        self.runs = backend.runs
        self.registry = registry


def _setup(baseline: str) -> InMemoryBackend:
    backend = InMemoryBackend()
    for run_id, auc in (("seed", 0.80), ("best", 0.90), ("weaker", 0.85)):
        backend.runs.add_run(
            run_id, experiment_name="train", metrics={"auc": auc}, files=["model.pkl"]
        )
    promote(experiment_name="train", run_id="seed", settings=_settings(baseline), backend=backend)
    return backend


def _champion(backend: InMemoryBackend, baseline: str) -> int | None:
    """The champion: the alias's target, or the best-ranked holder of the tag (the baseline)."""
    settings = load_settings(_settings(baseline))
    found = champion_of(backend.registry, NAME, settings.baseline, settings.policy)
    return None if found is None else found.version


def _writes_of_a_clean_promotion(baseline: str) -> list[str]:
    backend = _setup(baseline)
    registry = FailingWrite(backend.registry, None)
    promote(
        experiment_name="train",
        run_id="best",
        settings=_settings(baseline),
        backend=Backend(backend, registry),
    )
    return registry.writes


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_promotion_never_deletes_a_tag(baseline: str) -> None:
    """Retiring a holder overwrites its tag: MLflow's EDIT permission cannot delete one."""
    writes = _writes_of_a_clean_promotion(baseline)
    assert "remove_tags" not in writes
    assert writes[0] == "register"


@pytest.mark.parametrize("baseline", BASELINES)
@pytest.mark.parametrize("fail_at", range(1, 5))
def test_a_failed_write_leaves_no_version_that_can_be_crowned_later(
    baseline: str, fail_at: int
) -> None:
    """Each write failed in turn: a clear error, no crowning later, and a re-run completes it."""
    if fail_at > len(_writes_of_a_clean_promotion(baseline)):
        pytest.skip("the promotion makes fewer writes")
    backend = _setup(baseline)
    settings = _settings(baseline)
    failing = FailingWrite(backend.registry, fail_at)
    with pytest.raises(RegistryError) as raised:
        promote(
            experiment_name="train",
            run_id="best",
            settings=settings,
            backend=Backend(backend, failing),
        )
    registered = backend.registry.find_by_run(NAME, "best")
    error = raised.value
    if fail_at == 1:
        assert registered is None, "the registration failed: nothing registered"
        assert not isinstance(error, IncompletePromotionError)
        return
    assert registered is not None
    assert isinstance(error, IncompletePromotionError)
    assert (error.model_name, error.version) == (NAME, registered.version)
    assert f"version {registered.version} of model 'churn' was registered" in str(error)
    assert error.not_done
    assert error.not_done in str(error)
    assert "injected" in str(error)
    assert _champion(backend, baseline) == (registered.version if error.champion else 1)

    # A later promotion of a weaker (still better than the seed) run, nothing failing.
    weaker = promote(experiment_name="train", run_id="weaker", settings=settings, backend=backend)
    if not error.champion:
        assert _champion(backend, baseline) != registered.version
        assert weaker.champion_version != registered.version
    else:
        assert _champion(backend, baseline) == registered.version

    again = promote(experiment_name="train", run_id="best", settings=settings, backend=backend)
    assert again.already_registered
    key = "champion" if baseline.startswith("tag:") else tags.alias_tag("champion")
    assert [h.version for h in backend.registry.find_tagged(NAME, key, "true")] == [
        registered.version
    ]
    assert _champion(backend, baseline) == registered.version, "the re-run completed it"
    assert again.champion_version == registered.version
    assert again.superseded_by is None


def test_a_version_registered_pending_is_never_a_baseline() -> None:
    """A version a crashed promotion left pending is passed by: the baseline is the champion."""
    backend = _setup("tag:champion=true")
    crashed: ModelVersion = backend.registry.add_version(
        NAME, run_id="best", tags={"champion": tags.PENDING, tags.VERDICT: "promote"}
    )
    result = promote(
        experiment_name="train",
        run_id="weaker",
        settings=_settings("tag:champion=true"),
        backend=backend,
    )
    assert result.baseline is not None
    assert result.baseline.version == 1
    assert result.champion_version == 3
    assert backend.registry.get(NAME, crashed.version).tags["champion"] == tags.PENDING


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_rerun_gives_the_champion_back_to_a_better_version_a_worse_one_superseded(
    baseline: str,
) -> None:
    """Superseded by a worse version (as generation-first ranking did): a re-run repairs it."""
    backend = _setup(baseline)
    settings = _settings(baseline)
    promote(experiment_name="train", run_id="best", settings=settings, backend=backend)
    registry = backend.registry
    key = "champion" if baseline.startswith("tag:") else tags.alias_tag("champion")
    # What an earlier release could leave: version 3 (0.85) took the champion from 2 (0.90).
    worse = registry.add_version(
        NAME,
        run_id="weaker",
        tags={
            key: "true",
            tags.VERDICT: "promote",
            tags.GENERATION: "3",
            tags.metric_tag("auc"): "0.85",
        },
    )
    registry.set_tags(registry.get(NAME, 2), {key: tags.SUPERSEDED, tags.SUPERSEDED_BY: "3"})
    if baseline.startswith("alias:"):
        registry.set_alias(worse, "champion")

    again = promote(experiment_name="train", run_id="best", settings=settings, backend=backend)

    assert again.already_registered
    assert again.champion_version == 2
    assert any("takes it back" in note for note in again.decision.notes)
    assert _champion(backend, baseline) == 2
    assert registry.get(NAME, 3).tags[key] == tags.SUPERSEDED
    assert registry.get(NAME, 2).tags[tags.SUPERSEDED_BY] == tags.NO_BASELINE
    # The worse one's own re-run does not take it back.
    rerun = promote(experiment_name="train", run_id="weaker", settings=settings, backend=backend)
    assert rerun.champion_version == 2


class Faulty:
    """The registry, but at the first call of `method` something goes wrong.

    `before` runs first (a concurrent promotion, say); the call is applied unless `refused`,
    and its answer is lost (an error) unless `answered`; with `then_down`, every later call
    fails: the registry is down.
    """

    def __init__(
        self,
        registry: InMemoryRegistry,
        method: str,
        *,
        before: Any = None,
        refused: bool = False,
        answered: bool = False,
        then_down: bool = False,
    ) -> None:
        self._registry = registry
        self._method = method
        self._before = before
        self._refused = refused
        self._answered = answered
        self._then_down = then_down
        self._struck = False

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._registry, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._struck and self._then_down:
                msg = "the registry is down"
                raise RegistryError(msg)
            if name != self._method or self._struck:
                return method(*args, **kwargs)
            self._struck = True
            if self._before is not None:
                self._before()
            if self._refused:
                msg = f"injected: {name} refused"
                raise RegistryError(msg)
            answer = method(*args, **kwargs)
            if self._answered:
                return answer
            msg = "the answer was lost"
            raise RegistryError(msg)

        return call


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_tag_write_whose_answer_was_lost_leaves_no_version_to_crown_later(baseline: str) -> None:
    """The live tag was applied but its answer lost: never a trap for a later, weaker promotion."""
    backend = _setup(baseline)
    settings = _settings(baseline)
    with pytest.raises(IncompletePromotionError) as raised:
        promote(
            experiment_name="train",
            run_id="best",
            settings=settings,
            backend=Backend(backend, Faulty(backend.registry, "set_tags")),
        )
    error = raised.value
    assert error.version == 2
    assert _champion(backend, baseline) == (2 if error.champion else 1), str(error)
    weaker = promote(experiment_name="train", run_id="weaker", settings=settings, backend=backend)
    if not error.champion:
        assert weaker.registered
        assert _champion(backend, baseline) == weaker.model.version  # type: ignore[union-attr]
    again = promote(experiment_name="train", run_id="best", settings=settings, backend=backend)
    assert again.already_registered
    assert _champion(backend, baseline) == 2, "the re-run completed it"


def _promote_losing_the_alias_write(
    backend: InMemoryBackend, *, then_down: bool
) -> IncompletePromotionError:
    """Promote "best" to @champion through a `Faulty` alias write; return the error it raises."""
    registry = Faulty(backend.registry, "set_alias", refused=then_down, then_down=then_down)
    with pytest.raises(IncompletePromotionError) as raised:
        promote(
            experiment_name="train",
            run_id="best",
            settings=_settings("alias:champion"),
            backend=Backend(backend, registry),
        )
    return raised.value


def test_an_alias_write_whose_answer_was_lost_leaves_the_version_champion() -> None:
    """The alias did move: the error says the version is the champion; its tag stays live."""
    backend = _setup("alias:champion")
    error = _promote_losing_the_alias_write(backend, then_down=False)
    assert error.champion
    assert "it is the champion all the same" in str(error)
    assert backend.registry.get(NAME, 2).tags[tags.alias_tag("champion")] == "true"


def test_when_the_alias_tag_cannot_be_withdrawn_the_error_says_so() -> None:
    """The alias write failed and the registry stays down: the error warns of the live tag."""
    error = _promote_losing_the_alias_write(_setup("alias:champion"), then_down=True)
    assert not error.champion
    assert "nor could its tag promotion.alias.champion be set back to pending" in str(error)


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_rerun_of_a_local_model_completes_its_pending_promotion(
    baseline: str, tmp_path: Path
) -> None:
    """A local model's re-run (same content) completes a promotion that failed after registering.

    Every kind of candidate reaches the one already-registered path: a local model's, found by
    its content, is completed as a run's is.
    """
    backend = _setup(baseline)
    settings = _settings(baseline)
    model_file = tmp_path / "model.pkl"
    model_file.write_bytes(b"a model")
    failing = FailingWrite(backend.registry, 2)  # the registration passes, the tag going live not
    with pytest.raises(IncompletePromotionError) as raised:
        promote(
            model_path=model_file,
            metrics={"auc": 0.95},
            settings=settings,
            backend=Backend(backend, failing),
        )
    version = raised.value.version
    assert not raised.value.champion
    assert _champion(backend, baseline) == 1, "a pending version is never the champion"

    again = promote(
        model_path=model_file, metrics={"auc": 0.95}, settings=settings, backend=backend
    )
    assert again.already_registered
    assert again.model is not None
    assert again.model.version == version
    assert any("did not complete: completed now" in note for note in again.decision.notes)
    assert _champion(backend, baseline) == version, "the re-run completed it"
    assert again.champion_version == version


def _left_pending(backend: InMemoryBackend, baseline: str, run_id: str) -> int:
    """Promote `run_id` with the tag going live refused: its version is left pending."""
    failing = FailingWrite(backend.registry, 2)
    with pytest.raises(IncompletePromotionError) as raised:
        promote(
            experiment_name="train",
            run_id=run_id,
            settings=_settings(baseline),
            backend=Backend(backend, failing),
        )
    assert not raised.value.champion
    return raised.value.version


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_rerun_of_a_pending_version_that_no_longer_beats_the_champion_leaves_it_uncrowned(
    baseline: str,
) -> None:
    """0.85 left pending, then 0.90 crowned: re-running 0.85 never crowns it, and retires it."""
    backend = _setup(baseline)
    pending = _left_pending(backend, baseline, "weaker")
    best = promote(
        experiment_name="train", run_id="best", settings=_settings(baseline), backend=backend
    )
    assert best.model is not None

    again = promote(
        experiment_name="train", run_id="weaker", settings=_settings(baseline), backend=backend
    )

    assert again.already_registered
    assert not again.decision.promote, "compared with the champion now, 0.90, not the seed"
    assert again.baseline is not None
    assert again.baseline.version == best.model.version
    assert _champion(backend, baseline) == best.model.version
    assert again.champion_version == best.model.version
    key = "champion" if baseline.startswith("tag:") else tags.alias_tag("champion")
    held = backend.registry.get(NAME, pending).tags
    assert held[key] == tags.SUPERSEDED, "retired, no longer pending"
    assert held[tags.SUPERSEDED_BY] == str(best.model.version)
    assert held[tags.VERDICT] == "reject"
    assert again.model is not None
    assert again.model.tags[key] == tags.SUPERSEDED
    assert any("not promoted against the champion" in note for note in again.decision.notes)
    # Run again: nothing more is written, and it stays un-crowned.
    third = promote(
        experiment_name="train", run_id="weaker", settings=_settings(baseline), backend=backend
    )
    assert third.already_registered
    assert _champion(backend, baseline) == best.model.version


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_rerun_of_a_pending_version_that_beats_the_champion_now_completes_it_against_it(
    baseline: str,
) -> None:
    """0.90 left pending, then 0.85 crowned: re-running 0.90 crowns it, recorded against 0.85."""
    backend = _setup(baseline)
    pending = _left_pending(backend, baseline, "best")
    weaker = promote(
        experiment_name="train", run_id="weaker", settings=_settings(baseline), backend=backend
    )
    assert weaker.model is not None

    again = promote(
        experiment_name="train", run_id="best", settings=_settings(baseline), backend=backend
    )

    assert again.decision.promote
    assert _champion(backend, baseline) == pending
    assert again.champion_version == pending
    held = backend.registry.get(NAME, pending).tags
    assert held[tags.BASELINE_VERSION] == str(weaker.model.version)
    assert held[tags.GENERATION] == "3"
    assert held[tags.delta_tag("auc")] == tags.number(0.90 - 0.85)


def test_a_settle_that_does_not_converge_warns_and_claims_no_champion(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every re-read finds a new holder: after its rounds the settle names what was left."""
    backend = _setup("tag:champion=true")
    registry = backend.registry
    plain_find_tagged = registry.find_tagged

    def a_new_holder_each_time(*args: Any) -> Any:
        # Once this one is registered, a concurrent promotion takes the tag before every re-read.
        if registry.find_by_run(NAME, "best") is not None:
            better = {"champion": "true", tags.VERDICT: "promote", tags.metric_tag("auc"): "0.99"}
            registry.add_version(NAME, tags=better)
        return plain_find_tagged(*args)

    registry.find_tagged = a_new_holder_each_time  # type: ignore[method-assign]
    with caplog.at_level("WARNING", logger="aml_promotion"):
        result = promote(
            experiment_name="train",
            run_id="best",
            settings=_settings("tag:champion=true"),
            backend=backend,
        )
    registry.find_tagged = plain_find_tagged  # type: ignore[method-assign]

    assert result.registered
    assert result.champion_version is None, "no champion it did not verify"
    assert result.superseded_by is None
    assert any("did not settle" in note for note in result.decision.notes)
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "the champion of churn did not settle in 10 rounds" in message
    assert "champion=true" in message
    assert f"version {result.model.version}" in message


def _earlier_releases_race(
    backend: InMemoryBackend, baseline: str, *, best: dict[str, str], champion: dict[str, str]
) -> None:
    """v2 (the run "best", 0.90) lost the champion to v3 (0.85) under an earlier release.

    v1 (the seed) is retired by v2. `best` and `champion` are v2's and v3's tags besides
    their verdict, generation and metric (what an earlier release recorded: no epoch, no rank).
    """
    registry = backend.registry
    key = _key(baseline)
    registry.set_tags(registry.get(NAME, 1), {key: tags.SUPERSEDED, tags.SUPERSEDED_BY: "2"})
    registry.add_version(
        NAME,
        run_id="best",
        tags={
            tags.VERDICT: "promote",
            tags.BASELINE_VERSION: "1",
            tags.GENERATION: "2",
            tags.metric_tag("auc"): "0.9",
            **best,
        },
    )
    worse = registry.add_version(
        NAME,
        run_id="weaker",
        tags={
            key: "true",
            tags.VERDICT: "promote",
            tags.BASELINE_VERSION: "1",
            tags.GENERATION: "3",
            tags.metric_tag("auc"): "0.85",
            **champion,
        },
    )
    if baseline.startswith("alias:"):
        registry.set_alias(worse, "champion")


def _run(backend: InMemoryBackend, run_id: str, auc: float) -> None:
    backend.runs.add_run(run_id, experiment_name="train", metrics={"auc": auc}, files=["model.pkl"])


def _key(baseline: str) -> str:
    return "champion" if baseline.startswith("tag:") else tags.alias_tag("champion")


def _rerun_best(backend: InMemoryBackend, baseline: str) -> Any:
    again = promote(
        experiment_name="train", run_id="best", settings=_settings(baseline), backend=backend
    )
    assert again.already_registered
    return again


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_version_an_earlier_release_retired_by_deleting_its_tag_takes_the_champion_back(
    baseline: str,
) -> None:
    """Earlier releases deleted a retired holder's tag: superseded_by names who took it."""
    backend = _setup(baseline)
    _earlier_releases_race(backend, baseline, best={tags.SUPERSEDED_BY: "3"}, champion={})
    again = _rerun_best(backend, baseline)
    assert again.champion_version == 2
    assert any("takes it back" in note for note in again.decision.notes)
    assert _champion(backend, baseline) == 2
    assert backend.registry.get(NAME, 3).tags[_key(baseline)] == tags.SUPERSEDED


@pytest.mark.parametrize("baseline", BASELINES)
@pytest.mark.parametrize(
    "best",
    [
        # Registered by this release (an epoch), which never deletes a tag: a person did.
        {tags.SUPERSEDED_BY: "3", tags.EPOCH: "0"},
        # Its tag deleted while it held it (a person, or an earlier release's moved alias).
        {},
        {tags.SUPERSEDED_BY: "3", "_": "moved"},
    ],
    ids=["deleted-by-a-person", "no-superseded-by", "moved"],
)
def test_a_version_whose_tag_a_person_deleted_or_retired_never_takes_the_champion_back(
    baseline: str, best: dict[str, str]
) -> None:
    """Only a settle's retirement is repaired; a person's deletion or move is respected."""
    backend = _setup(baseline)
    moved = best.get("_") == "moved"
    best = {key: value for key, value in best.items() if key != "_"}
    if moved:
        best[_key(baseline)] = tags.MOVED
    _earlier_releases_race(backend, baseline, best=best, champion={})
    calls = len(backend.registry.calls)
    again = _rerun_best(backend, baseline)
    assert again.champion_version == 3
    assert not any("takes it back" in note for note in again.decision.notes)
    assert [c for c in backend.registry.calls[calls:] if c[0] in WRITES] == []


@pytest.mark.parametrize("baseline", BASELINES)
@pytest.mark.parametrize("retired", ["superseded", "deleted"])
@pytest.mark.parametrize(
    "champion",
    [{tags.VERDICT: "force"}, {tags.delta_tag("auc"): "-0.05"}],
    ids=["forced", "tolerated-regression"],
)
def test_a_champion_an_earlier_release_forced_or_let_regress_is_never_taken_back_from(
    baseline: str, retired: str, champion: dict[str, str]
) -> None:
    """A forced rollback (or a tolerated regression) without an epoch is not undone by a re-run."""
    backend = _setup(baseline)
    best = {tags.SUPERSEDED_BY: "3"}
    if retired == "superseded":
        best[_key(baseline)] = tags.SUPERSEDED
    _earlier_releases_race(backend, baseline, best=best, champion=champion)
    again = _rerun_best(backend, baseline)
    assert again.champion_version == 3
    assert _champion(backend, baseline) == 3
    assert not any("takes it back" in note for note in again.decision.notes)


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_forced_rollback_of_an_earlier_release_on_the_champions_line_is_not_undone(
    baseline: str,
) -> None:
    """Forced by an earlier release, then a promotion of this one against it: the rollback holds.

    v3 (0.60, forced, no epoch) replaced v2 (0.90); v4 (0.87) is promoted against v3 now, in
    v3's epoch (0). A re-run of v2, ranking above v4 by its metrics, does not take it back.
    """
    backend = _setup(baseline)
    best = {tags.SUPERSEDED_BY: "3", _key(baseline): tags.SUPERSEDED}
    _earlier_releases_race(
        backend,
        baseline,
        best=best,
        champion={tags.VERDICT: "force", tags.metric_tag("auc"): "0.6"},
    )
    backend.runs.add_run(
        "after", experiment_name="train", metrics={"auc": 0.87}, files=["model.pkl"]
    )
    # The forced v3's run ("weaker") scored 0.60 here, as its record says.
    backend.runs.add_run(
        "weaker", experiment_name="train", metrics={"auc": 0.6}, files=["model.pkl"]
    )
    after = promote(
        experiment_name="train", run_id="after", settings=_settings(baseline), backend=backend
    )
    assert after.baseline is not None
    assert (after.baseline.version, after.champion_version) == (3, 4)
    assert backend.registry.get(NAME, 3).tags[tags.SUPERSEDED_BY] == "4"
    again = _rerun_best(backend, baseline)
    assert again.champion_version == 4
    assert _champion(backend, baseline) == 4


def test_a_champion_tag_a_person_moved_by_hand_is_not_taken_back_by_a_rerun() -> None:
    """tag:champion=true moved by hand from v3 to v1; v4 beats v1: a re-run of v2 leaves v4."""
    baseline = "tag:champion=true"
    backend = _setup(baseline)
    settings = _settings(baseline)
    registry = backend.registry
    for run_id, auc in (("r2", 0.85), ("r3", 0.90)):
        backend.runs.add_run(
            run_id, experiment_name="train", metrics={"auc": auc}, files=["model.pkl"]
        )
        promote(experiment_name="train", run_id=run_id, settings=settings, backend=backend)
    assert registry.get(NAME, 2).tags[tags.SUPERSEDED_BY] == "3"
    registry.set_tags(registry.get(NAME, 3), {"champion": "rolled back"})
    registry.set_tags(registry.get(NAME, 1), {"champion": "true"})
    _run(backend, "r4", 0.82)
    after = promote(experiment_name="train", run_id="r4", settings=settings, backend=backend)
    assert after.baseline is not None
    assert (after.baseline.version, after.champion_version) == (1, 4)
    again = promote(experiment_name="train", run_id="r2", settings=settings, backend=backend)
    assert again.already_registered
    assert again.champion_version == 4
    assert _champion(backend, baseline) == 4


def test_a_rerun_of_a_pending_version_with_no_champion_now_says_so() -> None:
    """Left pending, then the champion's tag removed by hand: the summary says what was looked for.

    Its recorded baseline (the seed) still exists: the summary never says it is gone.
    """
    backend = _setup("tag:champion=true")
    pending = _left_pending(backend, "tag:champion=true", "best")
    backend.registry.set_tags(backend.registry.get(NAME, 1), {"champion": "false"})

    again = promote(
        experiment_name="train",
        run_id="best",
        settings=_settings("tag:champion=true"),
        backend=backend,
    )

    assert again.already_registered
    assert again.baseline is None
    summary = again.decision.summary
    assert "no longer exists" not in summary
    assert (
        f"already registered as version {pending} of churn by a promotion that did not "
        "complete, compared with the champion now: no version of churn holds the tag "
        "champion=true"
    ) in summary


class ConcurrentAfterTagWrite:
    """The registry, where another promotion writes during the first tag write after registering.

    That write runs `concurrent`, then fails: lost (the registry applied it) or refused; or,
    with `fail_read`, it succeeds and the re-read after it fails once.
    """

    def __init__(
        self,
        registry: InMemoryRegistry,
        concurrent: Any,
        *,
        applied: bool = True,
        fail_read: bool = False,
    ) -> None:
        self._registry = registry
        self._concurrent = concurrent
        self._applied = applied
        self._fail_read = fail_read
        self._state = "before"

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._registry, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if name == "set_tags" and self._state == "before":
                self._state = "read" if self._fail_read else "done"
                if self._applied:
                    method(*args, **kwargs)
                self._concurrent()
                if not self._fail_read:
                    msg = "the answer was lost" if self._applied else "injected: set_tags refused"
                    raise RegistryError(msg)
                return None
            if name == "find_tagged" and self._state == "read":
                self._state = "done"
                msg = "injected: the re-read failed"
                raise RegistryError(msg)
            return method(*args, **kwargs)

        return call


def _better_holder_appears(registry: InMemoryRegistry) -> Any:
    """A concurrent promotion of 0.95 (version 2, registered pending before ours) takes the tag."""
    better = registry.add_version(
        NAME,
        run_id="w",
        tags={
            "champion": tags.PENDING,
            tags.VERDICT: "promote",
            tags.BASELINE_VERSION: "1",
            tags.GENERATION: "2",
            tags.metric_tag("auc"): "0.95",
        },
    )

    def take_the_tag() -> None:
        registry.set_tags(better, {"champion": "true"})

    return take_the_tag


@pytest.mark.parametrize(
    ("applied", "fail_read"),
    [(True, False), (False, False), (True, True)],
    ids=["tag-write-lost", "tag-write-refused", "re-read-failed"],
)
def test_a_tag_baseline_failure_with_a_better_holder_never_claims_the_champion(
    applied: bool, fail_read: bool
) -> None:
    """A better-ranked (lower-numbered) version takes the tag meanwhile: ours is no champion.

    The error says so, and ours is pending again: a later, weaker promotion never crowns it.
    """
    backend = _setup("tag:champion=true")
    concurrent = _better_holder_appears(backend.registry)
    registry = ConcurrentAfterTagWrite(
        backend.registry, concurrent, applied=applied, fail_read=fail_read
    )
    with pytest.raises(IncompletePromotionError) as raised:
        promote(
            experiment_name="train",
            run_id="best",
            settings=_settings("tag:champion=true"),
            backend=Backend(backend, registry),
        )
    error = raised.value
    assert error.version == 3
    assert not error.champion, str(error)
    assert "it is the champion all the same" not in str(error)
    assert _champion(backend, "tag:champion=true") == 2
    assert backend.registry.get(NAME, 3).tags["champion"] == tags.PENDING
    assert "its tag champion is pending again" in error.not_done


def test_a_lost_tag_write_another_promotion_already_crowned_stays_the_champion() -> None:
    """Lost answer, and a concurrent settle retired the old champion for ours: ours stays live.

    Setting it back to pending would leave no holder at all.
    """
    backend = _setup("tag:champion=true")
    registry = backend.registry

    def retire_the_seed_for_ours() -> None:
        registry.set_tags(
            registry.get(NAME, 1), {tags.SUPERSEDED_BY: "2", "champion": tags.SUPERSEDED}
        )

    with pytest.raises(IncompletePromotionError) as raised:
        promote(
            experiment_name="train",
            run_id="best",
            settings=_settings("tag:champion=true"),
            backend=Backend(backend, ConcurrentAfterTagWrite(registry, retire_the_seed_for_ours)),
        )
    assert raised.value.champion
    assert "it is the champion all the same" in str(raised.value)
    assert [h.version for h in registry.find_tagged(NAME, "champion", "true")] == [2]


def test_a_tag_baseline_holder_whose_settle_cannot_read_is_not_claimed_champion() -> None:
    """The tag went live, then nothing answers: the error says it holds the tag, not champion."""
    backend = _setup("tag:champion=true")
    with pytest.raises(IncompletePromotionError) as raised:
        promote(
            experiment_name="train",
            run_id="best",
            settings=_settings("tag:champion=true"),
            backend=Backend(
                backend, Faulty(backend.registry, "set_tags", answered=True, then_down=True)
            ),
        )
    error = raised.value
    assert (error.version, error.champion, error.holder) == (2, False, True)
    assert "nor could its tag champion be set back to pending" in error.not_done
    message = str(error)
    assert "version 2 of model 'churn' was registered" in message
    assert "re-read the versions tagged champion=true" in message
    assert "it holds the champion tag among the holders, which a later promotion ranks" in message


def test_an_archived_version_that_kept_the_tag_never_wins_a_settle() -> None:
    """The champion 0.95 was archived with its tag: a new champion is crowned, not retired for it.

    An archived version is never a baseline; were it ranked in the settle, the new version
    would be retired for it, and no version would be the champion.
    """
    backend = _setup("tag:champion=true")
    settings = _settings("tag:champion=true")
    backend.runs.add_run("top", experiment_name="train", metrics={"auc": 0.95}, files=["model.pkl"])
    promote(experiment_name="train", run_id="top", settings=settings, backend=backend)
    versions = backend.registry.versions[NAME]
    versions[1] = attrs.evolve(versions[1], archived=True)
    archived_tags = dict(versions[1].tags)

    result = promote(experiment_name="train", run_id="best", settings=settings, backend=backend)

    assert result.registered
    assert result.superseded_by is None
    assert result.champion_version == 3
    assert _champion(backend, "tag:champion=true") == 3
    assert dict(backend.registry.get(NAME, 2).tags) == archived_tags, "never written"


def test_a_pending_version_deleted_during_its_rerun_is_not_completed() -> None:
    """Deleted between the re-run's first read and its completion: nothing is written to it."""
    backend = _setup("tag:champion=true")
    pending = _left_pending(backend, "tag:champion=true", "best")
    registry = backend.registry
    plain_find_baseline = registry.find_baseline

    def deleted_meanwhile(name: str, strategy: Any) -> Any:
        if strategy.version_number == pending:
            registry.versions[NAME] = [v for v in registry.versions[NAME] if v.version != pending]
        return plain_find_baseline(name, strategy)

    registry.find_baseline = deleted_meanwhile  # type: ignore[method-assign]
    again = promote(
        experiment_name="train",
        run_id="best",
        settings=_settings("tag:champion=true"),
        backend=backend,
    )
    assert again.already_registered
    assert any(f"version {pending} is no longer found" in n for n in again.decision.notes)
    assert _champion(backend, "tag:champion=true") == 1


@pytest.mark.parametrize("failed_reads", [1, 2])
def test_a_reruns_failed_settle_leaves_a_holder_it_did_not_tag_as_it_was(
    failed_reads: int,
) -> None:
    """A re-run of a live holder; its re-read fails (and the read after, too): the tag stays.

    A better-ranked version holds the tag too: the error never claims the champion, and says
    the version is a holder, as it was before the re-run.
    """
    backend = _setup("tag:champion=true")
    settings = _settings("tag:champion=true")
    promote(experiment_name="train", run_id="best", settings=settings, backend=backend)
    better = {
        "champion": "true",
        tags.VERDICT: "promote",
        tags.BASELINE_VERSION: "2",
        tags.metric_tag("auc"): "0.95",
    }
    backend.registry.add_version(NAME, run_id="w", tags=better)
    backend.fail_next("find_tagged", RegistryError("injected: read refused"), times=failed_reads)
    with pytest.raises(IncompletePromotionError) as raised:
        promote(experiment_name="train", run_id="best", settings=settings, backend=backend)
    error = raised.value
    assert (error.version, error.champion, error.holder) == (2, False, True)
    assert "its tag champion=true is live: it is a holder" in error.not_done
    assert "it holds the champion tag among the holders" in str(error)
    assert backend.registry.get(NAME, 2).tags["champion"] == "true"


@pytest.mark.parametrize("retired", ["deleted", "superseded"])
def test_a_champion_a_person_tagged_again_by_hand_is_not_taken_back_from(retired: str) -> None:
    """A rollback by hand: v3's tag deleted, champion=true set on v1, which a settle had retired.

    v2 (0.95) lost to v1 (0.80) in a race of an earlier release, v1 then to v3 (0.90). v1 still
    names v3 in promotion.superseded_by: a person chose it, and v2's re-run leaves it champion.
    """
    baseline = "tag:champion=true"
    backend = InMemoryBackend()
    registry = backend.registry
    _run(backend, "r0", 0.95)

    def record(auc: float, **more: str) -> dict[str, str]:
        return {
            tags.VERDICT: "promote",
            tags.BASELINE_VERSION: "none",
            tags.GENERATION: "1",
            tags.metric_tag("auc"): str(auc),
            tags.delta_tag("auc"): "0.1",
            **more,
        }

    state = {} if retired == "deleted" else {"champion": tags.SUPERSEDED}
    registry.add_version(NAME, run_id="r1", tags=record(0.80, **state, **{tags.SUPERSEDED_BY: "3"}))
    registry.add_version(NAME, run_id="r0", tags=record(0.95, **state, **{tags.SUPERSEDED_BY: "1"}))
    registry.add_version(NAME, run_id="r2", tags=record(0.90, champion="true"))
    registry.remove_tags(registry.get(NAME, 3), ["champion"])
    registry.set_tags(registry.get(NAME, 1), {"champion": "true"})
    assert _champion(backend, baseline) == 1
    calls = len(registry.calls)
    again = promote(
        experiment_name="train", run_id="r0", settings=_settings(baseline), backend=backend
    )
    assert again.already_registered
    assert not any("takes it back" in note for note in again.decision.notes)
    assert (again.champion_version, _champion(backend, baseline)) == (1, 1)
    assert [c for c in registry.calls[calls:] if c[0] in WRITES] == []


class LostAliasWriteToABetterHolder:
    """The settle's first alias write succeeds, then a better holder appears.

    The second alias write, pointing at it, is applied and its answer lost.
    """

    def __init__(self, registry: InMemoryRegistry) -> None:
        self._registry = registry
        self._aliases = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._registry, name)
        if name != "set_alias":
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            self._aliases += 1
            method(*args, **kwargs)
            if self._aliases == 1:
                key = tags.alias_tag("champion")
                self._registry.add_version(
                    NAME,
                    run_id="w",
                    tags={
                        key: "true",
                        tags.VERDICT: "promote",
                        tags.BASELINE_VERSION: "1",
                        tags.GENERATION: "2",
                        tags.EPOCH: "0",
                        tags.metric_tag("auc"): "0.95",
                        tags.rank_tag("auc"): "0.95",
                    },
                )
            if self._aliases == 2:
                msg = "the answer was lost"
                raise RegistryError(msg)

        return call


def test_a_lost_alias_write_to_another_version_never_claims_the_champion() -> None:
    """Ours took @champion, then lost it to a better holder (that write's answer lost).

    The error does not say ours is the champion, and ours is pending again.
    """
    backend = _setup("alias:champion")
    with pytest.raises(IncompletePromotionError) as raised:
        promote(
            experiment_name="train",
            run_id="best",
            settings=_settings("alias:champion"),
            backend=Backend(backend, LostAliasWriteToABetterHolder(backend.registry)),
        )
    error = raised.value
    assert (error.version, error.champion, error.holder) == (2, False, False), str(error)
    assert "it is the champion all the same" not in str(error)
    assert _champion(backend, "alias:champion") == 3
    assert backend.registry.get(NAME, 2).tags[tags.alias_tag("champion")] == tags.PENDING


@pytest.mark.parametrize("baseline", BASELINES)
def test_a_take_back_that_fails_leaves_the_version_superseded_as_it_was(baseline: str) -> None:
    """The take-back's tag write is refused: v2 stays superseded, naming v3.

    The error says it is registered (not by this run); a re-run takes the champion back.
    """
    backend = _setup(baseline)
    key = _key(baseline)
    _earlier_releases_race(
        backend, baseline, best={tags.SUPERSEDED_BY: "3", key: tags.SUPERSEDED}, champion={}
    )
    registry = backend.registry
    plain_set_tags = registry.set_tags

    def refuse_going_live(version: ModelVersion, new_tags: Any) -> None:
        if new_tags.get(key) == "true":
            msg = "injected: set_tags refused"
            raise RegistryError(msg)
        plain_set_tags(version, new_tags)

    registry.set_tags = refuse_going_live  # type: ignore[method-assign]
    with pytest.raises(IncompletePromotionError) as raised:
        promote(
            experiment_name="train", run_id="best", settings=_settings(baseline), backend=backend
        )
    registry.set_tags = plain_set_tags  # type: ignore[method-assign]
    error = raised.value
    message = str(error)
    assert (error.version, error.champion, error.holder, error.registered) == (
        2,
        False,
        False,
        False,
    )
    assert "version 2 of model 'churn' is registered (not by this run)" in message
    assert "was registered" not in message
    assert tags.PENDING not in message
    assert f"{key}={tags.SUPERSEDED}" in message
    left = registry.get(NAME, 2).tags
    assert (left[key], left[tags.SUPERSEDED_BY]) == (tags.SUPERSEDED, "3")
    assert _champion(backend, baseline) == 3
    again = _rerun_best(backend, baseline)
    assert any("takes it back" in note for note in again.decision.notes)
    assert _champion(backend, baseline) == 2


def test_a_take_back_whose_tag_cannot_be_restored_says_it_holds_the_tag() -> None:
    """The take-back's answer is lost, then the registry is down.

    The error says the tag is live, and that it could not be set back to superseded.
    """
    baseline = "tag:champion=true"
    backend = _setup(baseline)
    _earlier_releases_race(
        backend, baseline, best={tags.SUPERSEDED_BY: "3", "champion": tags.SUPERSEDED}, champion={}
    )
    registry = backend.registry
    plain_set_tags = registry.set_tags
    plain_find_tagged = registry.find_tagged

    def lost_then_down(version: ModelVersion, new_tags: Any) -> None:
        plain_set_tags(version, new_tags)
        registry.find_tagged = down  # type: ignore[method-assign]
        registry.set_tags = down  # type: ignore[method-assign]
        msg = "the answer was lost"
        raise RegistryError(msg)

    def down(*_args: Any, **_kwargs: Any) -> Any:
        msg = "the registry is down"
        raise RegistryError(msg)

    registry.set_tags = lost_then_down  # type: ignore[method-assign]
    with pytest.raises(IncompletePromotionError) as raised:
        promote(
            experiment_name="train", run_id="best", settings=_settings(baseline), backend=backend
        )
    registry.set_tags = plain_set_tags  # type: ignore[method-assign]
    registry.find_tagged = plain_find_tagged  # type: ignore[method-assign]
    error = raised.value
    assert (error.champion, error.holder, error.registered) == (False, True, False)
    assert "nor could its tags be set back to promotion.superseded_by=3, champion=superseded" in (
        error.not_done
    )


def test_a_stale_alias_write_whose_answer_is_lost_is_pointed_back_at_the_best() -> None:
    """A (0.73) reads the alias; B (0.77) promotes whole; A's alias write lands, answer lost.

    The alias is then on A's version, which B's settle had retired: left so, a later promotion
    takes it for a person's move and crowns 0.73 for good (a 0.74 after it too). The failed
    promotion points it back at the best-ranked holder, and says so.
    """
    backend = InMemoryBackend()
    for run_id, auc in (("seed", 0.60), ("a", 0.73), ("b", 0.77), ("c", 0.74)):
        backend.runs.add_run(
            run_id, experiment_name="train", metrics={"auc": auc}, files=["model.pkl"]
        )
    baseline = "alias:champion"

    def run(run_id: str, on: Any = backend) -> Any:
        return promote(
            experiment_name="train", run_id=run_id, settings=_settings(baseline), backend=on
        )

    run("seed")
    registry = backend.registry
    with pytest.raises(IncompletePromotionError) as raised:
        run("a", Backend(backend, Faulty(registry, "set_alias", before=lambda: run("b"))))
    assert not raised.value.champion
    assert not raised.value.holder
    assert "the alias is pointed at version 3 again" in str(raised.value)
    assert raised.value.retired  # nothing to complete: it was superseded, and says so
    assert "a better-ranked version superseded it" in str(raised.value)
    assert str(raised.value).endswith("Run the promotion again to settle the champion")
    assert registry.aliases[NAME]["champion"] == 3
    assert run("c").champion_version == 3
    assert registry.aliases[NAME]["champion"] == 3
    key = tags.alias_tag("champion")
    assert registry.get(NAME, 3).tags[key] == tags.ALIAS_HOLDER
    assert registry.get(NAME, 2).tags[key] == tags.state_value(tags.SUPERSEDED, tags.ALIAS_HOLDER)
