"""The champion tag: one holder, the best, however promotions interleave."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aml_promotion import Goal, MetricRule, PromotionPolicy, decide, promote
from aml_promotion._domain import tags
from aml_promotion._domain.champion import (
    Holder,
    Rank,
    compare,
    epoch_after_move,
    pick_champion,
    rank_of,
    rank_recorded,
    rank_tags,
)
from aml_promotion._domain.policy import BaselineStrategy
from aml_promotion._service._champion import _Settle
from aml_promotion.exceptions import RegistryError
from aml_promotion.testing import InMemoryBackend, InMemoryRegistry

POLICY = PromotionPolicy(
    rules=[
        MetricRule(name="auc", goal=Goal.MAXIMIZE),
        MetricRule(name="loss", goal=Goal.MINIMIZE),
    ]
)
SETTINGS = {
    "model_name": "churn",
    "metrics_max": ["auc"],
    "metrics_min": ["loss"],
    "baseline": "tag:champion=true",
}


def _holder(version: int, generation: int, auc: float | None, loss: float | None) -> Holder:
    held = {tags.GENERATION: str(generation)}
    if auc is not None:
        held[tags.metric_tag("auc")] = tags.number(auc)
    if loss is not None:
        held[tags.metric_tag("loss")] = tags.number(loss)
    return Holder(version=version, tags=held)


def _settle(registry: InMemoryRegistry, model: Any) -> _Settle:
    """The settle a promotion runs for `model`, whose tag champion=true is live."""
    strategy = BaselineStrategy.tagged("champion", "true")
    return _Settle(registry, strategy, POLICY, model, key="champion", live="true", tagged=True)


def test_a_version_promoted_within_a_tolerated_regression_inherits_its_baselines_rank() -> None:
    """A successor whose rank tags carry its champion's rank takes the tag by its later epoch."""
    old = _holder(1, 1, auc=0.95, loss=0.1)
    new = _holder(2, 2, auc=0.90, loss=0.2)
    inherited = Holder(
        version=2,
        tags={
            **new.tags,
            tags.rank_tag("auc"): "0.95",
            tags.rank_tag("loss"): "0.1",
            tags.REGRESSIONS: "1",
        },
    )
    assert pick_champion([old, inherited], POLICY) is inherited


def _ranked(
    version: int, generation: int, *, epoch: int, auc: float, rank: float, regressions: int = 0
) -> Holder:
    held = _holder(version, generation, auc=auc, loss=0.3).tags
    rank_of_holder = Rank(values=(rank, 0.3), epoch=epoch, regressions=regressions)
    return Holder(version=version, tags={**held, **rank_tags(rank_of_holder, POLICY)})


def test_a_forced_version_outranks_every_version_of_an_earlier_epoch() -> None:
    """A forced 0.5 (epoch 1) outranks the 0.71 it replaced, and a 0.85 that read that one."""
    seed = _ranked(1, 1, epoch=0, auc=0.71, rank=0.71)
    forced = _ranked(2, 2, epoch=1, auc=0.50, rank=0.50)
    concurrent = _ranked(3, 2, epoch=0, auc=0.85, rank=0.85)
    assert pick_champion([seed, forced, concurrent], POLICY) is forced


def test_within_an_epoch_own_metrics_outrank_a_later_generation() -> None:
    """0.65 read the forced 0.5, 0.6 read 0.55: the generation does not decide, 0.65 does."""
    best = _ranked(3, 3, epoch=1, auc=0.65, rank=0.65)
    chained = _ranked(5, 4, epoch=1, auc=0.60, rank=0.60)
    assert pick_champion([best, chained], POLICY) is best
    assert compare(chained, best, POLICY) == -1


def test_a_tolerated_regression_outranks_its_line_and_its_line_ranks_by_own_metrics() -> None:
    """0.70 (within the tolerance of 0.71) takes the rank 0.71; 0.705 after it beats 0.70."""
    seed = _ranked(1, 1, epoch=0, auc=0.71, rank=0.71)
    regressed = _ranked(2, 2, epoch=0, auc=0.70, rank=0.71, regressions=1)
    after = _ranked(3, 3, epoch=0, auc=0.705, rank=0.71, regressions=1)
    assert pick_champion([seed, regressed], POLICY) is regressed
    assert pick_champion([seed, regressed, after], POLICY) is after


def test_a_better_effective_rank_outranks_a_tolerated_regression() -> None:
    """A version that beat the rank a regression inherited outranks that regression."""
    regressed = _ranked(2, 2, epoch=0, auc=0.70, rank=0.71, regressions=1)
    better = _ranked(3, 2, epoch=0, auc=0.74, rank=0.74)
    assert pick_champion([regressed, better], POLICY) is better


def test_between_equal_ranks_epochs_and_metrics_the_later_generation_wins() -> None:
    """A tie the policy promoted (require_improvement false) takes the tag by its generation."""
    first = _ranked(2, 2, epoch=0, auc=0.7, rank=0.7)
    tied = _ranked(3, 3, epoch=0, auc=0.7, rank=0.7)
    assert pick_champion([first, tied], POLICY) is tied


def test_an_unreadable_epoch_or_generation_counts_as_zero() -> None:
    """Junk, non-ASCII digits or a sign read as 0, never an error."""
    for text in ("", "x", "\u0663", "-1", "1e3", " 7"):
        assert tags.epoch_of({tags.EPOCH: text}) == 0
        assert tags.regressions_of({tags.REGRESSIONS: text}) == 0
        assert tags.generation_of({tags.GENERATION: text}) == 0
    assert tags.epoch_of({tags.EPOCH: "12"}) == 12
    assert tags.epoch_of({tags.EPOCH: "0" * 40 + "12"}) == 12, "leading zeros count for nothing"


def test_a_counter_too_long_to_read_counts_as_the_largest_and_ranks_highest() -> None:
    """An enormous epoch (even too long for int()) saturates: it never ranks as epoch 0."""
    for text in ("1" * 5000, "9" * 19, "1" + "0" * 18):
        assert tags.epoch_of({tags.EPOCH: text}) == tags.COUNTER_MAX
        assert tags.regressions_of({tags.REGRESSIONS: text}) == tags.COUNTER_MAX
        assert tags.generation_of({tags.GENERATION: text}) == tags.COUNTER_MAX
    assert tags.epoch_of({tags.EPOCH: "9" * 18}) == tags.COUNTER_MAX
    enormous = _ranked(1, 1, epoch=0, auc=0.5, rank=0.5)
    enormous = Holder(version=1, tags={**enormous.tags, tags.EPOCH: "1" * 5000})
    later = _ranked(2, 2, epoch=5, auc=0.9, rank=0.9)
    assert pick_champion([enormous, later], POLICY) is enormous


def test_a_counter_one_past_the_largest_is_written_as_the_largest() -> None:
    """A forced version after a saturated epoch, a regression after saturated ones: the largest."""
    huge = "9" * 30
    forced = _decision({"auc": 0.7, "loss": 0.3}, {"auc": 0.8, "loss": 0.3})
    assert rank_of(forced, {tags.EPOCH: huge}, POLICY).epoch == tags.COUNTER_MAX
    policy = PromotionPolicy(rules=POLICY.rules)
    worse = decide({"auc": 0.7, "loss": 0.3}, {"auc": 0.8, "loss": 0.3}, policy)
    recorded = {
        **rank_tags(Rank(values=(0.85, 0.3)), POLICY),
        tags.metric_tag("auc"): "0.8",
        tags.metric_tag("loss"): "0.3",
        tags.REGRESSIONS: huge,
    }
    assert rank_of(worse, recorded, POLICY).regressions == tags.COUNTER_MAX
    written = rank_tags(rank_of(forced, {tags.EPOCH: huge}, POLICY), POLICY)
    assert tags.epoch_of(written) == tags.COUNTER_MAX, "read back as written"
    assert tags.one_more(3) == 4


def test_a_generation_after_a_saturated_one_is_written_as_the_largest() -> None:
    """A champion whose generation is enormous: the version promoted against it, the largest."""
    backend = InMemoryBackend()
    for run_id, auc in (("seed", 0.5), ("best", 0.9)):
        backend.runs.add_run(
            run_id, experiment_name="e", metrics={"auc": auc, "loss": 0.3}, files=["model.pkl"]
        )
    backend.registry.add_version(
        "churn",
        run_id="seed",
        experiment_name="e",
        tags={"champion": "true", tags.VERDICT: "promote", tags.GENERATION: "7" * 40},
    )
    result = promote(experiment_name="e", run_id="best", settings=SETTINGS, backend=backend)
    assert result.model is not None
    held = backend.registry.get("churn", result.model.version).tags
    assert held[tags.GENERATION] == str(tags.COUNTER_MAX)


def test_better_metrics_outrank_a_later_generation() -> None:
    """The policy ranks first: a worse version of a later generation never outranks a better one.

    (Earlier releases ranked the generation first; this pinned that, and was the race bug.)
    """
    old = _holder(1, 1, auc=0.95, loss=0.1)
    new = _holder(2, 2, auc=0.90, loss=0.2)
    assert pick_champion([old, new], POLICY) is old


def test_within_a_generation_the_first_rule_decides_then_the_next() -> None:
    """Concurrent promotions of one generation rank by the policy's metrics in rule order."""
    a = _holder(2, 2, auc=0.90, loss=0.30)
    b = _holder(3, 2, auc=0.91, loss=0.40)
    c = _holder(4, 2, auc=0.91, loss=0.35)
    assert pick_champion([a, b, c], POLICY) is c


def test_minimized_metrics_rank_lower_values_first() -> None:
    """For a minimized metric a smaller value ranks higher."""
    a = _holder(2, 2, auc=0.9, loss=0.3)
    b = _holder(3, 2, auc=0.9, loss=0.2)
    assert compare(b, a, POLICY) == 1
    assert compare(a, b, POLICY) == -1


def test_missing_or_unreadable_values_rank_lowest() -> None:
    """A holder without metric tags (registered by other tools) ranks below one with them."""
    bare = _holder(2, 2, auc=None, loss=None)
    junk = Holder(version=3, tags={tags.GENERATION: "2", tags.metric_tag("auc"): "n/a"})
    scored = _holder(4, 2, auc=0.1, loss=9.0)
    assert pick_champion([bare, junk, scored], POLICY) is scored


def test_between_equals_the_first_registered_keeps_the_tag() -> None:
    """Equal generations and metrics: the lower version number wins."""
    a = _holder(5, 2, auc=0.9, loss=0.3)
    b = _holder(3, 2, auc=0.9, loss=0.3)
    assert pick_champion([a, b], POLICY) is b


def test_no_holders_is_an_error() -> None:
    """Picking from nothing is a programming error, said plainly."""
    with pytest.raises(ValueError, match="no holders"):
        pick_champion([], POLICY)


def _add(backend: InMemoryBackend, run_id: str, auc: float, loss: float) -> None:
    backend.runs.add_run(
        run_id, experiment_name="train", metrics={"auc": auc, "loss": loss}, files=["model.pkl"]
    )


def test_sequential_promotions_move_the_tag_to_the_newest_promoted_version() -> None:
    """Each promoted version takes the champion tag; the previous holder loses it."""
    backend = InMemoryBackend()
    _add(backend, "r1", 0.80, 0.5)
    _add(backend, "r2", 0.85, 0.4)
    _add(backend, "r3", 0.70, 0.6)
    results = [
        promote(experiment_name="train", run_id=r, settings=SETTINGS, backend=backend)
        for r in ("r1", "r2", "r3")
    ]
    assert [r.model.version if r.model else None for r in results] == [1, 2, None]
    holders = backend.registry.find_tagged("churn", "champion", "true")
    assert [h.version for h in holders] == [2]
    assert backend.registry.get("churn", 1).tags[tags.SUPERSEDED_BY] == "2"
    assert results[1].baseline is not None
    assert results[1].baseline.version == 1
    assert results[2].baseline is not None
    assert results[2].baseline.version == 2


def test_the_champion_baseline_is_the_tag_holder_not_the_latest_version() -> None:
    """With a tag baseline, a newer untagged version is not the baseline."""
    backend = InMemoryBackend()
    _add(backend, "old", 0.80, 0.5)
    _add(backend, "manual", 0.99, 0.01)
    _add(backend, "cand", 0.85, 0.4)
    backend.registry.add_version(
        "churn",
        run_id="old",
        tags={"champion": "true", tags.GENERATION: "1", tags.metric_tag("auc"): "0.8"},
    )
    backend.registry.add_version("churn", run_id="manual")
    result = promote(experiment_name="train", run_id="cand", settings=SETTINGS, backend=backend)
    assert result.baseline is not None
    assert result.baseline.version == 1
    assert result.model is not None
    assert result.model.version == 3
    assert [h.version for h in backend.registry.find_tagged("churn", "champion", "true")] == [3]


@st.composite
def _race(draw: st.DrawFn) -> tuple[list[tuple[float, float]], list[int]]:
    """Candidates' metrics, and an interleaving of their three steps (write, read, resolve)."""
    count = draw(st.integers(min_value=2, max_value=6))
    metrics = draw(
        st.lists(
            st.tuples(st.sampled_from([0.81, 0.85, 0.9, 0.95]), st.sampled_from([0.1, 0.2, 0.3])),
            min_size=count,
            max_size=count,
        )
    )
    steps = [p for p in range(count) for _ in range(3)]
    order = draw(st.permutations(steps))
    return metrics, list(order)


@settings(max_examples=200, deadline=None)
@given(_race())
def test_any_interleaving_of_concurrent_promotions_leaves_one_champion_the_best(
    race: tuple[list[tuple[float, float]], list[int]],
) -> None:
    """However writes, re-reads and resolutions interleave, only the best keeps the tag."""
    metrics, order = race
    registry = InMemoryRegistry()
    champion = registry.add_version(
        "m", tags={"champion": "true", tags.GENERATION: "1", tags.metric_tag("auc"): "0.8"}
    )
    # Every candidate was compared with the same champion and promoted: generation 2.
    versions = {}
    settles: dict[int, _Settle] = {}
    seen: dict[int, list] = {}
    progress = dict.fromkeys(range(len(metrics)), 0)
    for process in order:
        step = progress[process]
        progress[process] += 1
        if step == 0:
            auc, loss = metrics[process]
            versions[process] = registry.add_version(
                "m",
                tags={
                    "champion": "true",
                    tags.GENERATION: "2",
                    tags.metric_tag("auc"): tags.number(auc),
                    tags.metric_tag("loss"): tags.number(loss),
                },
            )
            settles[process] = _settle(registry, versions[process])
        elif step == 1:
            seen[process] = settles[process].read_holders()
        else:
            settles[process].resolve(seen[process])
    holders = registry.find_tagged("m", "champion", "true")
    assert len(holders) == 1
    candidates = [Holder(version=v.version, tags=v.tags) for v in versions.values()]
    assert holders[0].version == pick_champion(candidates, POLICY).version
    assert holders[0].version != champion.version


def test_a_promotion_that_loses_a_race_says_it_was_superseded() -> None:
    """A concurrent, better promotion keeps the tag: the loser's result and tags say so."""
    backend = InMemoryBackend()
    _add(backend, "seed", 0.80, 0.5)
    _add(backend, "mine", 0.85, 0.4)
    promote(experiment_name="train", run_id="seed", settings=SETTINGS, backend=backend)
    registry = backend.registry
    plain_register = registry.register

    def register_then_lose_the_race(request: Any) -> Any:
        mine = plain_register(request)
        # Another pipeline promoted a better candidate against the same champion meanwhile.
        registry.add_version(
            "churn",
            tags={
                "champion": "true",
                tags.GENERATION: "2",
                tags.metric_tag("auc"): "0.9",
                tags.metric_tag("loss"): "0.3",
            },
        )
        return mine

    registry.register = register_then_lose_the_race  # type: ignore[method-assign]
    result = promote(experiment_name="train", run_id="mine", settings=SETTINGS, backend=backend)

    assert result.model is not None
    assert result.model.version == 2
    assert result.superseded_by is not None
    assert result.superseded_by.version == 3
    assert "superseded by version 3" in " ".join(result.decision.notes)
    assert registry.get("churn", 2).tags[tags.SUPERSEDED_BY] == "3"
    assert [h.version for h in registry.find_tagged("churn", "champion", "true")] == [3]


def test_a_rerun_settles_a_champion_tag_an_earlier_run_failed_to_settle() -> None:
    """Registered, tagged, then retiring the old holder failed: re-running leaves one holder."""
    backend = InMemoryBackend()
    _add(backend, "r1", 0.80, 0.5)
    _add(backend, "r2", 0.85, 0.4)
    promote(experiment_name="train", run_id="r1", settings=SETTINGS, backend=backend)
    registry = backend.registry
    plain_set_tags = registry.set_tags

    def refuse_retiring(version: Any, new_tags: Any) -> None:
        if new_tags.get("champion") == tags.SUPERSEDED:
            raise RegistryError("the registry is down")
        plain_set_tags(version, new_tags)

    registry.set_tags = refuse_retiring  # type: ignore[method-assign]
    with pytest.raises(RegistryError, match="version 2 of model 'churn' was registered"):
        promote(experiment_name="train", run_id="r2", settings=SETTINGS, backend=backend)
    assert len(backend.registry.find_tagged("churn", "champion", "true")) == 2
    registry.set_tags = plain_set_tags  # type: ignore[method-assign]

    again = promote(experiment_name="train", run_id="r2", settings=SETTINGS, backend=backend)

    assert again.already_registered
    assert [h.version for h in backend.registry.find_tagged("churn", "champion", "true")] == [2]


def test_rerunning_an_old_champions_run_leaves_its_record_alone() -> None:
    """v1 lost the tag to v2, then v3: re-running v1's run rewrites nothing and claims no race."""
    backend = InMemoryBackend()
    _add(backend, "r1", 0.80, 0.5)
    _add(backend, "r2", 0.85, 0.4)
    _add(backend, "r3", 0.90, 0.3)
    for run_id in ("r1", "r2", "r3"):
        promote(experiment_name="train", run_id=run_id, settings=SETTINGS, backend=backend)
    assert backend.registry.get("churn", 1).tags[tags.SUPERSEDED_BY] == "2"
    before = len(backend.calls)

    again = promote(experiment_name="train", run_id="r1", settings=SETTINGS, backend=backend)

    assert again.already_registered
    assert again.superseded_by is None
    assert not any("concurrent" in note for note in again.decision.notes)
    assert backend.registry.get("churn", 1).tags[tags.SUPERSEDED_BY] == "2"
    assert [h.version for h in backend.registry.find_tagged("churn", "champion", "true")] == [3]
    written = {"set_tags", "remove_tags", "register", "set_alias"}
    assert not [call for call in backend.calls[before:] if call[0] in written]


def test_when_nobody_holds_the_tag_the_promotion_takes_it_back() -> None:
    """Concurrent settles that ranked differently (different policies) never leave no champion."""
    registry = InMemoryRegistry()
    mine = registry.add_version("m", tags={tags.GENERATION: "2"})
    winner = _settle(registry, mine).converge()
    assert winner is not None
    assert winner.version == mine.version
    assert [h.version for h in registry.find_tagged("m", "champion", "true")] == [1]


def test_values_within_the_decisions_float_tolerance_leave_it_to_the_next_rule() -> None:
    """Values 0.8 and 0.8 + 1e-15 are equal to decide(): the loss decides, not the tiny gap."""
    a = _holder(2, 2, auc=0.8 + 1e-15, loss=0.3)
    b = _holder(3, 2, auc=0.8, loss=0.2)
    assert pick_champion([a, b], POLICY) is b


def test_a_recorded_rank_is_read_exactly_and_a_missing_one_ranks_lowest() -> None:
    """Rank tags hold repr() of each value; 'missing' (or junk) ranks below any number."""
    from aml_promotion._domain.champion import MISSING, rank_values  # noqa: PLC0415

    written = rank_tags(Rank(values=(0.1 + 0.2, None)), POLICY)
    assert written == {
        tags.rank_tag("auc"): "0.30000000000000004",
        tags.rank_tag("loss"): MISSING,
        tags.EPOCH: "0",
        tags.REGRESSIONS: "0",
    }
    assert rank_values(written, POLICY) == (0.1 + 0.2, None)
    assert rank_values({tags.rank_tag("auc"): "inf"}, POLICY) == (None, None)


def _decision(candidate: dict[str, float], baseline: dict[str, float] | None) -> Any:
    from aml_promotion import decide  # noqa: PLC0415

    return decide(candidate, baseline, POLICY.__class__(rules=POLICY.rules, force=True))


def test_the_rank_is_the_better_of_the_own_and_the_baselines() -> None:
    """A worse version inherits its baseline's rank, one regression on; a better one its own."""
    policy = PromotionPolicy(rules=POLICY.rules)
    worse = decide({"auc": 0.7, "loss": 0.3}, {"auc": 0.8, "loss": 0.3}, policy)
    better = decide({"auc": 0.9, "loss": 0.3}, {"auc": 0.8, "loss": 0.3}, policy)
    # The baseline: 0.8 promoted within a tolerated regression, in epoch 2, at the rank 0.85.
    recorded = {
        **rank_tags(Rank(values=(0.85, 0.3), epoch=2, regressions=1), POLICY),
        tags.metric_tag("auc"): "0.8",
        tags.metric_tag("loss"): "0.3",
    }
    assert rank_of(worse, None, POLICY) == Rank(values=(0.7, 0.3))
    # A baseline without promotion tags (registered by hand): the values decide() compared.
    assert rank_of(worse, {}, POLICY) == Rank(values=(0.8, 0.3), regressions=1)
    # One with rank tags: those, not its metrics; worse than its own metrics: one more.
    assert rank_of(worse, recorded, POLICY) == Rank(values=(0.85, 0.3), epoch=2, regressions=2)
    # Better than its own metrics, below its rank: as many, ranked by its own metrics.
    within = decide({"auc": 0.82, "loss": 0.3}, {"auc": 0.8, "loss": 0.3}, policy)
    assert rank_of(within, recorded, POLICY) == Rank(values=(0.85, 0.3), epoch=2, regressions=1)
    # Level with its rank (within the float tolerance): as many, never reset to none.
    level = decide({"auc": 0.85 + 1e-15, "loss": 0.3}, {"auc": 0.8, "loss": 0.3}, policy)
    assert rank_of(level, recorded, POLICY) == Rank(values=(0.85, 0.3), epoch=2, regressions=1)
    # Above its rank: its own metrics, in its baseline's epoch.
    assert rank_of(better, recorded, POLICY) == Rank(values=(0.9, 0.3), epoch=2)
    unrated = decide({"auc": 0.9}, None, policy)
    assert rank_of(unrated, None, POLICY) == Rank(values=(0.9, None))


def test_a_forced_version_starts_an_epoch_ranked_by_its_own_metrics() -> None:
    """Forced: one epoch after its baseline (or 1 without one), its rank its own metrics."""
    recorded = rank_tags(Rank(values=(0.85, 0.3), epoch=2, regressions=1), POLICY)
    assert rank_of(
        _decision({"auc": 0.7, "loss": 0.3}, {"auc": 0.8, "loss": 0.3}), recorded, POLICY
    ) == Rank(values=(0.7, 0.3), epoch=3)
    assert rank_of(_decision({"auc": 0.7}, None), None, POLICY) == Rank(values=(0.7, None), epoch=1)
    written = rank_tags(Rank(values=(0.9, None), epoch=3, regressions=2), POLICY)
    assert (written[tags.EPOCH], written[tags.REGRESSIONS]) == ("3", "2")


def test_a_state_value_never_equals_the_live_one() -> None:
    """'pending' and 'superseded' mark a champion tag; a tag whose live value is one differs."""
    assert tags.state_value(tags.PENDING, "true") == "pending"
    assert tags.state_value(tags.SUPERSEDED, "superseded") != "superseded"


def test_a_person_s_move_of_the_alias_gives_the_version_chosen_the_next_epoch() -> None:
    """The version chosen is one epoch after the highest moved from, unless it is already."""
    retired = [{tags.EPOCH: "1"}, {tags.EPOCH: "3"}, {}]
    assert epoch_after_move(retired, {tags.EPOCH: "0"}) == 4
    assert epoch_after_move(retired, {}) == 4
    assert epoch_after_move(retired, {tags.EPOCH: "4"}) is None
    assert epoch_after_move([{}], {}) == 1
    assert epoch_after_move([], {}) is None


def test_the_epoch_of_a_person_s_move_saturates_and_is_read_back_as_written() -> None:
    """From the largest epoch, the next is the largest too: written once, never again."""
    top = {tags.EPOCH: str(tags.COUNTER_MAX)}
    epoch = epoch_after_move([top], {})
    assert epoch == tags.COUNTER_MAX
    assert tags.epoch_of({tags.EPOCH: str(epoch)}) == epoch
    assert epoch_after_move([top], {tags.EPOCH: str(epoch)}) is None


@pytest.mark.parametrize(
    ("record", "recorded"),
    [
        ({tags.EPOCH: "0", tags.VERDICT: "force"}, True),
        ({tags.EPOCH: "2", tags.delta_tag("auc"): "-0.1"}, True),
        ({tags.VERDICT: "promote"}, True),
        ({tags.VERDICT: "promote", tags.delta_tag("auc"): "0.1"}, True),
        ({tags.VERDICT: "promote", tags.delta_tag("auc"): "inf"}, True),
        ({tags.VERDICT: "promote", tags.delta_tag("auc"): "0"}, True),
        ({tags.VERDICT: "force"}, False),
        ({tags.VERDICT: "reject"}, False),
        ({}, False),
        ({tags.VERDICT: "promote", tags.delta_tag("loss"): "-0.01"}, False),
        ({tags.VERDICT: "promote", tags.delta_tag("auc"): "-inf"}, False),
        ({tags.VERDICT: "promote", tags.delta_tag("auc"): "nan"}, False),
        ({tags.VERDICT: "promote", tags.delta_tag("auc"): "0.1", tags.delta_tag("l"): "x"}, False),
    ],
)
def test_a_record_without_an_epoch_ranks_truthfully_only_as_a_plain_promotion(
    record: dict[str, str], *, recorded: bool
) -> None:
    """Before epochs, a forced or regressing champion's tags rank it below what it replaced."""
    assert rank_recorded(record) is recorded
