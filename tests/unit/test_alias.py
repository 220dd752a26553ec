"""Alias baselines (``alias:champion``), champion_version, and naming a candidate by model_id."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from aml_promotion import _retry, promote
from aml_promotion._domain import tags
from aml_promotion._domain.policy import BaselineStrategy
from aml_promotion.exceptions import (
    IncompletePromotionError,
    RegistryError,
    RunNotFoundError,
    UsageError,
)
from aml_promotion.ports import LoggedModel, LoggedModelStore, ModelVersion
from aml_promotion.testing import InMemoryBackend, InMemoryRunStore

SETTINGS = {
    "model_name": "churn",
    "metrics_max": ["auc"],
    "metrics_min": ["loss"],
    "baseline": "alias:champion",
}
CHAMPION = tags.alias_tag("champion")


def _add(backend: InMemoryBackend, run_id: str, auc: float, loss: float) -> None:
    backend.runs.add_run(
        run_id, experiment_name="train", metrics={"auc": auc, "loss": loss}, files=["model.pkl"]
    )


def _promote_local_files(
    backend: InMemoryBackend, folder: Path, aucs: tuple[float, ...], settings: dict[str, Any]
) -> list[Path]:
    """Promote one local model file per auc (loss 0.5), each with other content; return them."""
    files = []
    for index, auc in enumerate(aucs):
        path = folder / f"model-{index}.pkl"
        path.write_bytes(bytes([index]))
        files.append(path)
        promote(
            model_path=path, metrics={"auc": auc, "loss": 0.5}, settings=settings, backend=backend
        )
    return files


def _holder(backend: InMemoryBackend) -> int | None:
    return backend.registry.aliases.get("churn", {}).get("champion")


def test_the_alias_tag_is_namespaced() -> None:
    """The tag that marks an alias's promoted holders names the alias under promotion."""
    assert tags.alias_tag("champion") == "promotion.alias.champion"
    assert tags.alias_tag("a b!") == "promotion.alias.a b_"


def test_sequential_promotions_move_the_alias_to_each_promoted_version() -> None:
    """Each promoted version takes the alias; a rejected one leaves it where it is."""
    backend = InMemoryBackend()
    _add(backend, "r1", 0.80, 0.5)
    _add(backend, "r2", 0.85, 0.4)
    _add(backend, "r3", 0.70, 0.6)
    results = [
        promote(experiment_name="train", run_id=r, settings=SETTINGS, backend=backend)
        for r in ("r1", "r2", "r3")
    ]
    assert [r.model.version if r.model else None for r in results] == [1, 2, None]
    assert _holder(backend) == 2
    assert [r.champion_version for r in results] == [1, 2, 2]
    assert results[1].baseline is not None
    assert results[1].baseline.version == 1
    assert results[2].baseline is not None
    assert results[2].baseline.version == 2
    assert [h.version for h in backend.registry.find_tagged("churn", CHAMPION, "true")] == [2]
    assert results[2].to_dict()["champion_version"] == 2


def test_the_baseline_is_the_alias_holder_not_the_latest_version() -> None:
    """An alias set by hand on an older version is the baseline; a newer version is not."""
    backend = InMemoryBackend()
    _add(backend, "old", 0.80, 0.5)
    _add(backend, "newer", 0.99, 0.01)
    _add(backend, "cand", 0.85, 0.4)
    old = backend.registry.add_version("churn", run_id="old")
    backend.registry.add_version("churn", run_id="newer")
    backend.registry.set_alias(old, "champion")
    result = promote(experiment_name="train", run_id="cand", settings=SETTINGS, backend=backend)
    assert result.baseline is not None
    assert result.baseline.version == 1
    assert result.model is not None
    assert result.model.version == 3
    assert _holder(backend) == 3
    assert result.champion_version == 3


def test_no_alias_holder_is_no_baseline() -> None:
    """No version holds the alias: the first candidate is promoted and takes it."""
    backend = InMemoryBackend()
    _add(backend, "r1", 0.80, 0.5)
    result = promote(experiment_name="train", run_id="r1", settings=SETTINGS, backend=backend)
    assert result.baseline is None
    assert result.registered
    assert _holder(backend) == 1
    assert result.champion_version == 1


def test_a_rerun_of_a_run_registered_by_hand_does_not_claim_the_alias() -> None:
    """A version no promotion made (no alias tag) is "already registered" and left as it is."""
    backend = InMemoryBackend()
    _add(backend, "r1", 0.80, 0.5)
    backend.registry.add_version("churn", run_id="r1")
    result = promote(experiment_name="train", run_id="r1", settings=SETTINGS, backend=backend)
    assert result.already_registered
    assert _holder(backend) is None


def _better_version(backend: InMemoryBackend) -> ModelVersion:
    return backend.registry.add_version(
        "churn",
        tags={
            CHAMPION: "true",
            tags.GENERATION: "2",
            tags.metric_tag("auc"): "0.9",
            tags.metric_tag("loss"): "0.3",
        },
    )


def test_a_promotion_that_loses_a_race_leaves_the_alias_on_the_better_version() -> None:
    """A concurrent, better promotion keeps the alias: the loser's result says so."""
    backend = InMemoryBackend()
    _add(backend, "seed", 0.80, 0.5)
    _add(backend, "mine", 0.85, 0.4)
    promote(experiment_name="train", run_id="seed", settings=SETTINGS, backend=backend)
    registry = backend.registry
    plain_register = registry.register

    def register_then_lose_the_race(request: Any) -> Any:
        mine = plain_register(request)
        registry.set_alias(_better_version(backend), "champion")
        return mine

    registry.register = register_then_lose_the_race  # type: ignore[method-assign]
    result = promote(experiment_name="train", run_id="mine", settings=SETTINGS, backend=backend)

    assert result.model is not None
    assert result.model.version == 2
    assert result.superseded_by is not None
    assert result.superseded_by.version == 3
    assert result.champion_version == 3
    assert _holder(backend) == 3


def test_a_stale_alias_write_after_ours_is_corrected_by_our_check() -> None:
    """A slower process points the alias at a worse version after we did: the check moves it."""
    backend = InMemoryBackend()
    _add(backend, "seed", 0.80, 0.5)
    _add(backend, "mine", 0.85, 0.4)
    seed = promote(experiment_name="train", run_id="seed", settings=SETTINGS, backend=backend)
    assert seed.model is not None
    registry = backend.registry
    plain_set_alias = registry.set_alias
    stale_writes = []

    def set_alias_then_a_stale_write(version: ModelVersion, alias: str) -> None:
        plain_set_alias(version, alias)
        if not stale_writes:
            # The seed's own promotion, late, points the alias back at version 1.
            stale_writes.append(version.version)
            assert seed.model is not None
            plain_set_alias(seed.model, alias)

    registry.set_alias = set_alias_then_a_stale_write  # type: ignore[method-assign]
    result = promote(experiment_name="train", run_id="mine", settings=SETTINGS, backend=backend)

    assert stale_writes == [2]
    assert _holder(backend) == 2
    assert result.champion_version == 2
    # The seed's, ours, the stale one, and our correction after the check.
    assert backend.operations().count("set_alias") == 4


def test_champion_version_reports_the_tag_holder_and_nothing_for_latest() -> None:
    """With a tag baseline champion_version is the tag holder; with latest there is none."""
    backend = InMemoryBackend()
    _add(backend, "r1", 0.80, 0.5)
    tagged = promote(
        experiment_name="train",
        run_id="r1",
        settings={**SETTINGS, "baseline": "tag:champion=true"},
        backend=backend,
    )
    assert tagged.champion_version == 1
    _add(backend, "r2", 0.90, 0.4)
    latest = promote(
        experiment_name="train",
        run_id="r2",
        settings={**SETTINGS, "baseline": "latest"},
        backend=backend,
    )
    assert latest.model is not None
    assert latest.champion_version is None


def test_a_dry_run_reports_the_current_holder() -> None:
    """A dry run registers nothing and reports who holds the alias now."""
    backend = InMemoryBackend()
    _add(backend, "r1", 0.80, 0.5)
    _add(backend, "r2", 0.90, 0.4)
    promote(experiment_name="train", run_id="r1", settings=SETTINGS, backend=backend)
    dry = promote(
        experiment_name="train", run_id="r2", settings=SETTINGS, backend=backend, dry_run=True
    )
    assert dry.model is None
    assert dry.champion_version == 1


def test_the_decision_and_the_registered_version_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An INFO line says the decision, another the version registered."""
    backend = InMemoryBackend()
    _add(backend, "r1", 0.80, 0.5)
    with caplog.at_level(logging.INFO, logger="aml_promotion"):
        promote(experiment_name="train", run_id="r1", settings=SETTINGS, backend=backend)
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(m.startswith("decision: promote:") for m in messages)
    assert "registered churn:1 (id churn:1)" in messages


class _LoggedModels(InMemoryRunStore):
    """A run store that also knows logged models (as MLflow 3 does)."""

    def __init__(self, models: dict[str, LoggedModel]) -> None:
        super().__init__()
        self.models = models

    def get_logged_model(self, model_id: str) -> LoggedModel:
        if model_id not in self.models:
            raise RunNotFoundError(f"no logged model {model_id!r}")
        return self.models[model_id]


def test_a_candidate_named_by_model_id_is_its_run_and_its_folder() -> None:
    """promote(model_id=...) reads the logged model's run and registers that model."""
    backend = InMemoryBackend()
    runs = _LoggedModels(
        {
            "m-1": LoggedModel(model_id="m-1", name="model", run_id="r1"),
            "m-orphan": LoggedModel(model_id="m-orphan", name="model"),
        }
    )
    assert isinstance(runs, LoggedModelStore)
    runs.add_run(
        "r1",
        experiment_name="train",
        metrics={"auc": 0.8, "loss": 0.5},
        files=["model/MLmodel", "model/python_model.pkl"],
        steps={"model_training": ["child"]},
    )
    # Were the step followed (it must not be), this child has no model folder.
    runs.add_run("child", experiment_name="train", files=["other.pkl"])
    backend.runs = runs
    result = promote(model_id="m-1", settings=SETTINGS, backend=backend)
    assert result.model is not None
    assert result.model_path == "model"
    assert backend.registry.requests[-1].model_id == "m-1"
    assert backend.registry.requests[-1].run is not None
    assert backend.registry.requests[-1].run.run_id == "r1"
    with pytest.raises(RunNotFoundError, match="outside any run"):
        promote(model_id="m-orphan", settings=SETTINGS, backend=backend)
    with pytest.raises(RunNotFoundError, match="no logged model 'nope'"):
        promote(model_id="nope", settings=SETTINGS, backend=backend)


def test_model_id_on_a_backend_without_logged_models_is_a_usage_error() -> None:
    """The in-memory backend (like Azure ML) has no logged models: said plainly."""
    with pytest.raises(UsageError, match="no logged models"):
        promote(model_id="m-1", settings=SETTINGS, backend=InMemoryBackend())


@pytest.mark.parametrize(
    "extra", [{"run_id": "r1"}, {"model_path": "model.pkl"}, {"metrics": {"auc": 1.0}}]
)
def test_model_id_with_another_way_to_name_the_candidate_is_a_usage_error(
    extra: dict[str, Any],
) -> None:
    """model_id names the run too: another candidate argument with it is refused."""
    with pytest.raises(UsageError, match="model_id alone"):
        promote(model_id="m-1", settings=SETTINGS, backend=InMemoryBackend(), **extra)


@pytest.mark.parametrize("baseline", ["alias:champion", "tag:champion=true"])
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_rerun_of_a_superseded_version_reports_the_current_champion(
    baseline: str, *, dry_run: bool
) -> None:
    """Re-running the run of a superseded version reports the version holding the champion now."""
    backend = InMemoryBackend()
    _add(backend, "r1", 0.80, 0.5)
    _add(backend, "r2", 0.90, 0.4)
    settings = {**SETTINGS, "baseline": baseline}
    for run_id in ("r1", "r2"):
        promote(experiment_name="train", run_id=run_id, settings=settings, backend=backend)
    again = promote(
        experiment_name="train", run_id="r1", settings=settings, backend=backend, dry_run=dry_run
    )
    assert again.already_registered
    assert again.champion_version == 2
    assert again.to_dict()["champion_version"] == 2


@pytest.mark.parametrize("baseline", ["alias:champion", "tag:champion=true"])
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_local_rerun_reports_the_current_champion_as_a_run_rerun_does(
    tmp_path: Path, baseline: str, *, dry_run: bool
) -> None:
    """Promoting a superseded version's local file again reports the version holding it now."""
    backend = InMemoryBackend()
    settings = {**SETTINGS, "baseline": baseline}
    files = _promote_local_files(backend, tmp_path, (0.80, 0.90), settings)
    again = promote(
        model_path=files[0],
        metrics={"auc": 0.80, "loss": 0.5},
        settings=settings,
        backend=backend,
        dry_run=dry_run,
    )
    assert again.already_registered
    assert again.champion_version == 2
    assert again.to_dict()["champion_version"] == 2


@pytest.mark.parametrize("local", [False, True])
def test_a_rerun_of_an_archived_champion_says_so_and_leaves_it_as_it_is(
    tmp_path: Path, *, local: bool
) -> None:
    """An archived version found again, from its run or its file, is named archived, not settled."""
    backend = InMemoryBackend()
    settings = {**SETTINGS, "baseline": "tag:champion=true"}
    model = tmp_path / "model.pkl"
    model.write_bytes(b"m")
    _add(backend, "r1", 0.80, 0.5)
    naming: dict[str, Any] = (
        {"model_path": model, "metrics": {"auc": 0.80, "loss": 0.5}}
        if local
        else {"experiment_name": "train", "run_id": "r1"}
    )
    first = promote(settings=settings, backend=backend, **naming)
    assert first.model is not None
    registry = backend.registry
    registry.versions["churn"] = [attrs.evolve(first.model, archived=True)]
    registry.add_version("churn", tags={"champion": "true"})  # tagged by hand: two holders
    calls = len(registry.calls)
    again = promote(settings=settings, backend=backend, **naming)
    assert again.already_registered
    assert any("is archived: it is not restored" in note for note in again.decision.notes)
    assert [c for c in registry.calls[calls:] if c[0] in {"set_tags", "remove_tags"}] == []
    assert again.champion_version == 2


@pytest.fixture
def no_wait() -> Iterator[list[float]]:
    """No sleeping while waiting for a concurrent promotion: testing mode records the waits."""
    with _retry.testing_mode() as waits:
        yield waits


def _two_champions(backend: InMemoryBackend) -> None:
    """v1 (auc 0.70) then v2 (0.80) promoted: the alias and its tag are on v2."""
    _add(backend, "r1", 0.70, 0.5)
    _add(backend, "r2", 0.80, 0.4)
    for run_id in ("r1", "r2"):
        promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
    assert _holder(backend) == 2


def _tagged(backend: InMemoryBackend) -> list[int]:
    return [v.version for v in backend.registry.find_tagged("churn", CHAMPION, "true")]


@pytest.mark.usefixtures("no_wait")
def test_an_alias_moved_by_hand_is_the_champion_and_the_promoted_version_takes_it() -> None:
    """A person moves @champion to v1: a candidate beating v1 (not v2) is v3 and takes it."""
    backend = InMemoryBackend()
    _two_champions(backend)
    backend.registry.aliases["churn"]["champion"] = 1
    _add(backend, "r3", 0.72, 0.45)
    result = promote(experiment_name="train", run_id="r3", settings=SETTINGS, backend=backend)
    assert result.baseline is not None
    assert result.baseline.version == 1
    assert result.model is not None
    assert result.model.version == 3
    assert (_holder(backend), result.champion_version, result.superseded_by) == (3, 3, None)
    assert not any("superseded" in note for note in result.decision.notes)
    assert _tagged(backend) == [3]


@pytest.mark.usefixtures("no_wait")
def test_a_rerun_never_moves_an_alias_a_person_moved() -> None:
    """Re-running v2's run after a person moved @champion to v1 leaves it on v1."""
    backend = InMemoryBackend()
    _two_champions(backend)
    backend.registry.aliases["churn"]["champion"] = 1
    again = promote(experiment_name="train", run_id="r2", settings=SETTINGS, backend=backend)
    assert again.already_registered
    assert (_holder(backend), again.champion_version) == (1, 1)
    assert _tagged(backend) == []


@pytest.mark.usefixtures("no_wait")
def test_an_alias_deleted_by_hand_does_not_come_back_to_its_old_holder() -> None:
    """After a person deletes @champion, the next promoted version takes it, not v2."""
    backend = InMemoryBackend()
    _two_champions(backend)
    del backend.registry.aliases["churn"]["champion"]
    _add(backend, "r3", 0.50, 0.9)
    result = promote(experiment_name="train", run_id="r3", settings=SETTINGS, backend=backend)
    assert result.baseline is None
    assert (_holder(backend), result.champion_version) == (3, 3)
    assert _tagged(backend) == [3]


@pytest.mark.usefixtures("no_wait")
def test_a_dry_run_after_a_moved_alias_changes_nothing() -> None:
    """A dry run compares with the holder a person chose, and leaves every tag as it was."""
    backend = InMemoryBackend()
    _two_champions(backend)
    backend.registry.aliases["churn"]["champion"] = 1
    _add(backend, "r3", 0.72, 0.45)
    dry = promote(
        experiment_name="train", run_id="r3", settings=SETTINGS, backend=backend, dry_run=True
    )
    assert dry.baseline is not None
    assert (dry.baseline.version, dry.champion_version, dry.decision.promote) == (1, 1, True)
    assert _tagged(backend) == [2]


def test_an_alias_a_concurrent_promotion_is_moving_is_waited_for(
    monkeypatch: pytest.MonkeyPatch, no_wait: list[float]
) -> None:
    """Alias on an untagged version while v2 is tagged: if it moves to v2 meanwhile, no untag."""
    backend = InMemoryBackend()
    _two_champions(backend)
    backend.registry.aliases["churn"]["champion"] = 1  # as between untagging v1 and moving it
    find_baseline = backend.registry.find_baseline
    reads: list[int] = []

    def concurrent(name: str, strategy: BaselineStrategy) -> ModelVersion | None:
        reads.append(1)
        if len(reads) == 2:  # the concurrent promotion ends during the first wait
            backend.registry.aliases["churn"]["champion"] = 2
        return find_baseline(name, strategy)

    monkeypatch.setattr(backend.registry, "find_baseline", concurrent)
    _add(backend, "r3", 0.90, 0.3)
    result = promote(experiment_name="train", run_id="r3", settings=SETTINGS, backend=backend)
    assert no_wait == [0.2]
    assert result.baseline is not None
    assert result.baseline.version == 2
    assert (_holder(backend), result.champion_version) == (3, 3)


def test_an_alias_moved_by_hand_is_waited_for_in_testing_mode_without_sleeping(
    monkeypatch: pytest.MonkeyPatch, no_wait: list[float]
) -> None:
    """The waits for a concurrent promotion obey testing mode: recorded, never slept."""
    monkeypatch.setattr("time.sleep", lambda seconds: pytest.fail(f"slept {seconds} s"))
    backend = InMemoryBackend()
    _two_champions(backend)
    backend.registry.aliases["churn"]["champion"] = 1
    _add(backend, "r3", 0.72, 0.45)
    promote(experiment_name="train", run_id="r3", settings=SETTINGS, backend=backend)
    assert no_wait == [0.2, 0.5, 1.0, 2.0, 4.0]
    assert _tagged(backend) == [3]


@pytest.mark.usefixtures("no_wait")
def test_a_local_rerun_never_moves_an_alias_a_person_moved(tmp_path: Path) -> None:
    """Promoting v2's local file again after a person moved @champion to v1 leaves it on v1."""
    backend = InMemoryBackend()
    files = _promote_local_files(backend, tmp_path, (0.70, 0.80), SETTINGS)
    assert _holder(backend) == 2
    backend.registry.aliases["churn"]["champion"] = 1
    again = promote(
        model_path=files[1], metrics={"auc": 0.80, "loss": 0.5}, settings=SETTINGS, backend=backend
    )
    assert again.already_registered
    assert _holder(backend) == 1
    assert _tagged(backend) == []


def _three_champions_then_a_person_s_move(backend: InMemoryBackend, *, deleted: bool) -> None:
    """v1 (0.70), v2 (0.80), v3 (0.90) promoted, then a person's move to v1 (or deletion).

    After it, v4 (0.75: better than v1, worse than v2) is promoted.
    """
    for run_id, auc, loss in (("r1", 0.70, 0.5), ("r2", 0.80, 0.4), ("r3", 0.90, 0.3)):
        _add(backend, run_id, auc, loss)
        promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
    assert backend.registry.get("churn", 2).tags[tags.SUPERSEDED_BY] == "3"
    if deleted:
        del backend.registry.aliases["churn"]["champion"]
    else:
        backend.registry.aliases["churn"]["champion"] = 1
    _add(backend, "r4", 0.75, 0.45)
    result = promote(experiment_name="train", run_id="r4", settings=SETTINGS, backend=backend)
    if deleted:
        assert result.baseline is None
    else:
        assert result.baseline is not None
        assert result.baseline.version == 1
    assert (_holder(backend), result.champion_version) == (4, 4)


@pytest.mark.usefixtures("no_wait")
@pytest.mark.parametrize("deleted", [False, True], ids=["moved", "deleted"])
def test_a_rerun_of_a_version_the_line_a_person_retired_superseded_never_undoes_the_move(
    *, deleted: bool
) -> None:
    """A person rolls @champion back from v3 to v1 (or deletes it); v4 is promoted after.

    v2, superseded by v3 and ranking above v4 by its metrics, is re-run: it does not take the
    champion back from v4, whose line the person started.
    """
    backend = InMemoryBackend()
    _three_champions_then_a_person_s_move(backend, deleted=deleted)
    registry = backend.registry
    if not deleted:
        # The move ranks like a forced registration: v1 is one epoch after v3, and so is v4.
        assert registry.get("churn", 1).tags[tags.EPOCH] == "1"
        assert registry.get("churn", 4).tags[tags.EPOCH] == "1"
    assert registry.get("churn", 3).tags[CHAMPION] == tags.MOVED
    for run_id in ("r2", "r3"):
        again = promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
        assert again.already_registered
        assert not any("takes it back" in note for note in again.decision.notes)
        assert (_holder(backend), again.champion_version) == (4, 4)
        assert _tagged(backend) == [4]


@pytest.mark.usefixtures("no_wait")
def test_the_epoch_of_a_persons_move_is_recorded_once_and_never_by_a_dry_run() -> None:
    """A dry run after a move records no epoch; the next promotion does, once."""
    backend = InMemoryBackend()
    _two_champions(backend)
    backend.registry.aliases["churn"]["champion"] = 1
    _add(backend, "r3", 0.72, 0.45)
    promote(experiment_name="train", run_id="r3", settings=SETTINGS, backend=backend, dry_run=True)
    assert backend.registry.get("churn", 1).tags[tags.EPOCH] == "0"
    calls = len(backend.registry.calls)
    promote(experiment_name="train", run_id="r3", settings=SETTINGS, backend=backend)
    writes = [c for c in backend.registry.calls[calls:] if c[0] == "set_tags"]
    assert backend.registry.get("churn", 1).tags[tags.EPOCH] == "1"
    assert backend.registry.get("churn", 3).tags[tags.EPOCH] == "1"
    # The epoch on v1, the moved tag on v2, then v3's own: its tag goes live.
    assert len(writes) == 3


def _epochs(backend: InMemoryBackend) -> dict[int, str | None]:
    return {v.version: v.tags.get(tags.EPOCH) for v in backend.registry.versions["churn"]}


@pytest.mark.usefixtures("no_wait")
def test_a_persons_move_back_to_a_moved_version_ranks_like_a_forced_registration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """@champion moved v2 -> v1 (noticed), then back to v2, when no version has the live tag.

    v2 is given the epoch after v1's: a better candidate promoted against it (0.95) keeps the
    alias against a worse one (0.81) that read v1 before the move back and registers after.
    """
    backend = InMemoryBackend()
    _two_champions(backend)
    registry = backend.registry
    registry.aliases["churn"]["champion"] = 1
    _add(backend, "r3", 0.50, 0.9)
    promote(experiment_name="train", run_id="r3", settings=SETTINGS, backend=backend)
    assert (_epochs(backend)[1], registry.get("churn", 2).tags[CHAMPION]) == ("1", tags.MOVED)
    _add(backend, "in-flight", 0.75, 0.5)
    _add(backend, "better", 0.95, 0.1)
    register = registry.register
    meanwhile: list[Any] = []

    def the_move_back_then_a_better_promotion(request: Any) -> ModelVersion:
        if not meanwhile:
            meanwhile.append(None)  # once: the promotion below registers through here too
            registry.aliases["churn"]["champion"] = 2
            meanwhile[0] = promote(
                experiment_name="train", run_id="better", settings=SETTINGS, backend=backend
            )
        return register(request)

    monkeypatch.setattr(registry, "register", the_move_back_then_a_better_promotion)
    late = promote(experiment_name="train", run_id="in-flight", settings=SETTINGS, backend=backend)
    better = meanwhile[0]
    assert better.baseline is not None
    assert better.baseline.version == 2
    assert (better.model.version, late.model.version) == (3, 4)  # type: ignore[union-attr]
    assert _epochs(backend)[2] == "2"
    assert _epochs(backend)[3] == "2"
    assert (_holder(backend), late.champion_version, _tagged(backend)) == (3, 3, [3])


@pytest.mark.usefixtures("no_wait")
def test_a_move_back_is_recorded_once_and_never_by_a_dry_run() -> None:
    """With no live tag left, the move back costs reads only after its epoch is recorded."""
    backend = InMemoryBackend()
    _two_champions(backend)
    registry = backend.registry
    registry.aliases["churn"]["champion"] = 1
    _add(backend, "r3", 0.50, 0.9)
    promote(experiment_name="train", run_id="r3", settings=SETTINGS, backend=backend)
    registry.aliases["churn"]["champion"] = 2
    calls = len(registry.calls)
    dry = promote(
        experiment_name="train", run_id="r3", settings=SETTINGS, backend=backend, dry_run=True
    )
    assert dry.baseline is not None
    assert dry.baseline.version == 2
    assert [c for c in registry.calls[calls:] if c[0] in {"set_tags", "set_alias"}] == []
    assert _epochs(backend)[2] == "0"
    _add(backend, "r4", 0.60, 0.8)
    for _ in range(2):
        calls = len(registry.calls)
        promote(experiment_name="train", run_id="r4", settings=SETTINGS, backend=backend)
        assert _epochs(backend)[2] == "2"
    # The second promotion (rejected, as the first) finds the epoch recorded: it writes nothing.
    assert [c for c in registry.calls[calls:] if c[0] in {"set_tags", "set_alias"}] == []
    assert _holder(backend) == 2


@pytest.mark.usefixtures("no_wait")
def test_completing_a_pending_version_a_person_chose_keeps_the_epoch_of_the_move() -> None:
    """v2's promotion failed (pending); a person moves @champion to v2; its re-run completes it.

    The completion's rank, written against v1, keeps the epoch the move gave v2: a promotion
    that read v1 before the move (0.86, epoch 0) does not take the alias from it.
    """
    backend = InMemoryBackend()
    _add(backend, "r1", 0.80, 0.5)
    _add(backend, "r2", 0.85, 0.45)
    _add(backend, "r3", 0.86, 0.44)
    promote(experiment_name="train", run_id="r1", settings=SETTINGS, backend=backend)
    registry = backend.registry
    plain_set_tags = registry.set_tags

    def refuse_going_live(version: ModelVersion, new_tags: Any) -> None:
        if new_tags.get(CHAMPION) == tags.ALIAS_HOLDER:
            msg = "injected: set_tags refused"
            raise RegistryError(msg)
        plain_set_tags(version, new_tags)

    registry.set_tags = refuse_going_live  # type: ignore[method-assign]
    with pytest.raises(IncompletePromotionError):
        promote(experiment_name="train", run_id="r2", settings=SETTINGS, backend=backend)
    registry.set_tags = plain_set_tags  # type: ignore[method-assign]
    assert registry.get("churn", 2).tags[CHAMPION] == tags.PENDING
    registry.aliases["churn"]["champion"] = 2
    again = promote(experiment_name="train", run_id="r2", settings=SETTINGS, backend=backend)
    assert again.already_registered
    assert _epochs(backend)[2] == "1"
    assert (_holder(backend), _tagged(backend)) == (2, [2])
    # A promotion that read v1 (epoch 0) before the move, and settles after it.
    stale = attrs.evolve(registry.get("churn", 1), tags={**registry.get("churn", 1).tags})
    late = registry.add_version(
        "churn",
        run_id="r3",
        tags={
            tags.VERDICT: "promote",
            tags.BASELINE_VERSION: str(stale.version),
            tags.GENERATION: "2",
            tags.metric_tag("auc"): "0.86",
            tags.rank_tag("auc"): "0.86",
            tags.rank_tag("loss"): "0.44",
            tags.EPOCH: stale.tags[tags.EPOCH],
            CHAMPION: tags.ALIAS_HOLDER,
        },
    )
    _add(backend, "r4", 0.10, 0.9)
    promote(experiment_name="train", run_id="r4", settings=SETTINGS, backend=backend)
    assert late.version == 3
    assert _holder(backend) == 2
