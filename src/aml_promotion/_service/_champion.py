"""The champion tag or alias: settle its holders after a registration, respect a moved alias.

With a ``tag:`` or ``alias:`` baseline the promoted version is registered holding the champion
tag (an alias's holders carry a tag for it); `settle_champion` then leaves exactly one holder,
and points the alias at it. These functions take the baseline strategy (and the policy that
ranks holders), never the whole settings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from aml_promotion._domain import tags
from aml_promotion._domain.champion import Holder, pick_champion
from aml_promotion._domain.policy import BaselineKind, BaselineStrategy, PromotionPolicy
from aml_promotion._retry import LOGGER_NAME, pause

if TYPE_CHECKING:
    from aml_promotion._domain.decision import Decision
    from aml_promotion.ports import ModelRegistry, ModelVersion

_LOGGER = logging.getLogger(LOGGER_NAME)


def champion_tag(strategy: BaselineStrategy) -> tuple[str, str] | None:
    """Return the champion tag (key, value) of a ``tag:`` or ``alias:`` baseline, else None."""
    if strategy.kind is BaselineKind.TAG and strategy.tag_key and strategy.tag_value is not None:
        return strategy.tag_key, strategy.tag_value
    if strategy.kind is BaselineKind.ALIAS and strategy.name:
        # An alias has one holder but no compare-and-set: the promoted versions carry a tag
        # for it, ranked like a champion tag, and the alias follows the best-ranked holder.
        return tags.alias_tag(strategy.name), tags.ALIAS_HOLDER
    return None


def champion_version(
    strategy: BaselineStrategy, model: ModelVersion | None, superseded_by: ModelVersion | None
) -> int | None:
    """Return the version that holds the champion tag or alias, for `PromotionResult`."""
    if champion_tag(strategy) is None or model is None:
        return None
    return (superseded_by or model).version


def current_champion(registry: ModelRegistry, name: str, strategy: BaselineStrategy) -> int | None:
    """Return the version that holds the champion tag or alias now, read from the registry.

    A re-run of a version that lost the champion to a later promotion reports the later one.
    """
    if champion_tag(strategy) is None:
        return None
    holder = registry.find_baseline(name, strategy)
    return None if holder is None else holder.version


# Seconds to wait, before each re-read, while the alias is on a version without the alias tag
# and other versions carry it: a concurrent promotion may be between untagging the holder and
# moving the alias. If it stays so, a person moved (or deleted) the alias. In `testing_mode()`
# the waits are recorded, not slept, as retries' are.
_MOVED_ALIAS_WAITS = (0.2, 0.5, 1.0)


def respect_moved_alias(
    registry: ModelRegistry,
    strategy: BaselineStrategy,
    name: str,
    existing: ModelVersion | None,
    *,
    dry_run: bool,
) -> ModelVersion | None:
    """With an alias baseline, retire the alias tag of versions a person moved the alias from.

    Promotions only ever point the alias at a version carrying the alias tag. An alias on a
    version without it (or no alias) while versions carry the tag means a person moved (or
    deleted) it: those versions did not hold the alias when this promotion read its baseline,
    so they lose the tag and can never win the alias back. The holder the person chose is
    the champion: the candidate is compared with it, and takes the alias if promoted. A dry
    run changes nothing, and reports as if the tags were gone.

    Returns:
        `existing`, as it is now (without the tag if it lost it).
    """
    if strategy.kind is not BaselineKind.ALIAS or not strategy.name:
        return existing
    key = tags.alias_tag(strategy.name)
    for wait in (*_MOVED_ALIAS_WAITS, None):
        holder = registry.find_baseline(name, strategy)
        tagged = registry.find_tagged(name, key, tags.ALIAS_HOLDER)
        if not tagged or (holder is not None and holder.tags.get(key) == tags.ALIAS_HOLDER):
            return existing
        if wait is not None:
            pause(wait)
    shown = "deleted" if holder is None else f"on version {holder.version}"
    for stale in tagged:
        _LOGGER.info(
            "the alias %s of %s is %s, not on version %s: someone moved it; %s loses its tag %s",
            strategy.name,
            name,
            shown,
            stale.version,
            stale,
            key,
        )
        if not dry_run:
            registry.remove_tags(stale, [key])
    if existing is not None and any(t.version == existing.version for t in tagged):
        return attrs.evolve(existing, tags={k: v for k, v in existing.tags.items() if k != key})
    return existing


# Rounds at most of "point the alias at the best-ranked holder, then check": each write is
# followed by a check, so concurrent promotions leave it on the best-ranked one.
_ALIAS_ROUNDS = 10


def _settle_alias(
    registry: ModelRegistry,
    strategy: BaselineStrategy,
    policy: PromotionPolicy,
    *,
    key: str,
    value: str,
    model: ModelVersion,
    winner: ModelVersion,
) -> ModelVersion:
    """Point the alias at `winner`, then re-check the holders until the alias is on the best."""
    alias = strategy.name or ""
    for _ in range(_ALIAS_ROUNDS):
        holder = registry.find_baseline(model.name, strategy)
        if holder is not None and holder.version == winner.version:
            return winner
        registry.set_alias(winner, alias)
        winner = resolve_holders(
            registry,
            key=key,
            value=value,
            holders=registry.find_tagged(model.name, key, value),
            model=model,
            policy=policy,
        )
    return winner


def settle_champion(
    registry: ModelRegistry,
    strategy: BaselineStrategy,
    policy: PromotionPolicy,
    decision: Decision,
    model: ModelVersion,
) -> tuple[Decision, ModelVersion | None]:
    """With a tag baseline, leave exactly one holder of the tag: the best-ranked one.

    The new version was registered holding the tag. Re-read every holder and keep the one
    `pick_champion` ranks first; the others lose the tag and are tagged as superseded. Concurrent
    promotions each do this, and the ranking is a total order, so they converge on one holder.
    """
    champion = champion_tag(strategy)
    if champion is None:
        return decision, None
    key, value = champion
    _LOGGER.info(
        "moving %s to %s",
        f"@{strategy.name}" if strategy.kind is BaselineKind.ALIAS else f"tag {key}={value}",
        model,
    )
    holders = registry.find_tagged(model.name, key, value)
    winner = resolve_holders(
        registry, key=key, value=value, holders=holders, model=model, policy=policy
    )
    if strategy.kind is BaselineKind.ALIAS:
        winner = _settle_alias(
            registry, strategy, policy, key=key, value=value, model=model, winner=winner
        )
    if winner.version == model.version:
        return decision, None
    note = f"superseded by version {winner.version}: a concurrent promotion ranked higher"
    return decision.with_note(note), winner


def resolve_holders(
    registry: ModelRegistry,
    *,
    key: str,
    value: str,
    holders: Sequence[ModelVersion],
    model: ModelVersion,
    policy: PromotionPolicy,
) -> ModelVersion:
    """Keep the tag `key` (= `value`) on the best-ranked of `holders`, read after `model` got it.

    Every process ranks a set of holders the same way (given the same policy), and the
    best-ranked version ever tagged is never removed: concurrent promotions converge on it.

    Returns:
        The version that keeps the tag.
    """
    seen = list(holders)
    if not seen:
        # Nobody holds the tag: only possible when concurrent promotions ranked differently
        # (different policies). Take it back rather than leave the model without a champion.
        registry.set_tags(model, {key: value})
        return model
    # When `model` is not among the holders, a concurrent promotion already took the tag from
    # it: it cannot win back, and only the real holders are ranked.
    best = pick_champion([Holder(version=h.version, tags=h.tags) for h in seen], policy)
    winner = next(h for h in seen if h.version == best.version)
    for holder in seen:
        if holder.version != winner.version:
            registry.remove_tags(holder, [key])
            registry.set_tags(holder, {tags.SUPERSEDED_BY: str(winner.version)})
    if winner.version != model.version and all(h.version != model.version for h in seen):
        registry.set_tags(model, {tags.SUPERSEDED_BY: str(winner.version)})
    return winner
