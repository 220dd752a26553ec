"""The champion tag or alias: settle its holders after a registration, respect a moved alias.

The writes of a promotion with a ``tag:`` or ``alias:`` baseline, in order:

1. the version is registered with its decision record and its champion tag (for an alias, the
   tag ``promotion.alias.<alias>``) set to ``pending``: no lookup counts it, so it is never a
   holder, a baseline or the alias's target while pending;
2. the champion tag is set to its live value: the version is a holder from now on;
3. the holders are re-read and ranked (`aml_promotion._domain.champion`); with an alias, the alias
   is pointed at the best-ranked holder;
4. every other holder is retired: its tag is overwritten with ``superseded`` (never deleted) and
   ``promotion.superseded_by`` names the winner; 3 and 4 repeat until one holder is left.

A failure after step 1 raises `IncompletePromotionError`. Before step 2 succeeded the version is
still pending; with an alias, a version whose tag is live but that the alias never reached has its
tag set back to pending. Either way no later promotion takes it for a champion, and running the
promotion again completes it (`settle_again`).

These functions take the baseline strategy (and the policy that ranks holders), never the whole
settings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from aml_promotion._domain import tags
from aml_promotion._domain.champion import Holder, compare, pick_champion
from aml_promotion._domain.outcomes import Verdict
from aml_promotion._domain.policy import BaselineKind, BaselineStrategy, PromotionPolicy
from aml_promotion._retry import LOGGER_NAME, pause
from aml_promotion.exceptions import IncompletePromotionError, RegistryError

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


def pending_tags(strategy: BaselineStrategy) -> dict[str, str]:
    """Return the champion tag a version is registered with: pending until the promotion ends."""
    champion = champion_tag(strategy)
    if champion is None:
        return {}
    key, live = champion
    return {key: tags.state_value(tags.PENDING, live)}


def _best(holders: Sequence[ModelVersion], policy: PromotionPolicy) -> ModelVersion:
    best = pick_champion([Holder(version=h.version, tags=h.tags) for h in holders], policy)
    return next(h for h in holders if h.version == best.version)


def _ranks_above(a: ModelVersion, b: ModelVersion, policy: PromotionPolicy) -> bool:
    left, right = Holder(version=a.version, tags=a.tags), Holder(version=b.version, tags=b.tags)
    return compare(left, right, policy) > 0


def champion_of(
    registry: ModelRegistry, name: str, strategy: BaselineStrategy, policy: PromotionPolicy
) -> ModelVersion | None:
    """Return the version `strategy` selects; for a champion tag, its best-ranked holder.

    While concurrent promotions settle, several versions may hold the tag: the champion is the
    one the settle keeps, not the highest-numbered.
    """
    champion = champion_tag(strategy)
    if strategy.kind is not BaselineKind.TAG or champion is None:
        return registry.find_baseline(name, strategy)
    # An archived version is never a baseline (ports.ModelVersion), whatever tag it kept.
    holders = [h for h in registry.find_tagged(name, *champion) if not h.archived]
    # Versions tagged by hand carry no rank: among those alone, the highest-numbered, as ever.
    promoted = [h for h in holders if tags.VERDICT in h.tags]
    if promoted:
        return _best(promoted, policy)
    return holders[0] if holders else None


def champion_version(
    strategy: BaselineStrategy, model: ModelVersion | None, superseded_by: ModelVersion | None
) -> int | None:
    """Return the version that holds the champion tag or alias, for `PromotionResult`."""
    if champion_tag(strategy) is None or model is None:
        return None
    return (superseded_by or model).version


def current_champion(
    registry: ModelRegistry, name: str, strategy: BaselineStrategy, policy: PromotionPolicy
) -> int | None:
    """Return the version that holds the champion tag or alias now, read from the registry.

    A re-run of a version that lost the champion to a later promotion reports the later one.
    """
    if champion_tag(strategy) is None:
        return None
    holder = champion_of(registry, name, strategy, policy)
    return None if holder is None else holder.version


# Seconds to wait, before each re-read, while the alias is on a version without the alias tag
# and other versions carry it: a concurrent promotion may be between retiring the holder and
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
    so their tag is set to ``moved`` and they can never win the alias back. The holder the
    person chose is the champion: the candidate is compared with it, and takes the alias if
    promoted. A dry run changes nothing, and reports as if the tags were retired.

    Returns:
        `existing`, as it is now (with its tag retired if it was).
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
    moved = tags.state_value(tags.MOVED, tags.ALIAS_HOLDER)
    for stale in tagged:
        _LOGGER.info(
            "the alias %s of %s is %s, not on version %s: someone moved it; %s's tag %s is now %s",
            strategy.name,
            name,
            shown,
            stale.version,
            stale,
            key,
            moved,
        )
        if not dry_run:
            registry.set_tags(stale, {key: moved})
    if existing is not None and any(t.version == existing.version for t in tagged):
        return attrs.evolve(existing, tags={**existing.tags, key: moved})
    return existing


# Rounds at most of "re-read the holders, point the alias at the best, retire the others": each
# write is followed by a read, so concurrent promotions leave one holder, the best-ranked.
_ROUNDS = 10


class _Settle:
    """One promotion's settle of the champion tag (and alias) for its version `model`."""

    def __init__(
        self,
        registry: ModelRegistry,
        strategy: BaselineStrategy,
        policy: PromotionPolicy,
        model: ModelVersion,
        *,
        key: str,
        live: str,
        tagged: bool,
    ) -> None:
        self.registry = registry
        self.strategy = strategy
        self.policy = policy
        self.model = model
        self.key = key
        self.live = live
        self.step = ""
        # Whether its champion tag is live (a holder, ranked by every settle).
        self.tagged = tagged
        # Whether `model` holds the champion now: its live tag (a tag baseline), or the alias.
        self.champion = tagged and strategy.kind is not BaselineKind.ALIAS

    @property
    def alias(self) -> str | None:
        return self.strategy.name if self.strategy.kind is BaselineKind.ALIAS else None

    def take_tag(self, extra: dict[str, str] | None = None) -> None:
        """Set the model's champion tag to its live value: it is a holder from now on."""
        self.step = f"set its tag {self.key}={self.live}"
        # From the moment the write is sent the tag may be live: a lost answer (an error after
        # the registry applied it) must still be withdrawn, never taken for "still pending".
        self.tagged = True
        self.registry.set_tags(self.model, {**(extra or {}), self.key: self.live})
        self.champion = self.alias is None

    def converge(self) -> ModelVersion:
        """Re-read and resolve the holders until one is left; return it."""
        winner = self.model
        for _ in range(_ROUNDS):
            self.step = f"re-read the versions tagged {self.key}={self.live}"
            holders = list(self.registry.find_tagged(self.model.name, self.key, self.live))
            if not holders:
                # Nobody holds the tag: only possible when concurrent promotions ranked
                # differently (different policies). Take it back rather than leave no champion.
                self.take_tag()
                holders = [self.model]
            winner = _best(holders, self.policy)
            if self.alias is not None and self._move_alias(winner):
                continue
            losers = [h for h in holders if h.version != winner.version]
            if not losers:
                break
            for loser in losers:
                self._retire(loser, winner)
        return winner

    def _move_alias(self, winner: ModelVersion) -> bool:
        """Point the alias at `winner` unless it is there; return whether it was moved."""
        self.step = f"read the alias @{self.alias}"
        holder = self.registry.find_baseline(self.model.name, self.strategy)
        if holder is not None and holder.version == winner.version:
            self.champion = winner.version == self.model.version
            return False
        self.step = f"point the alias @{self.alias} at version {winner.version}"
        self.registry.set_alias(winner, self.alias or "")
        self.champion = winner.version == self.model.version
        return True

    def _retire(self, loser: ModelVersion, winner: ModelVersion) -> None:
        retired = tags.state_value(tags.SUPERSEDED, self.live)
        self.step = f"set the tag {self.key}={retired} on version {loser.version}"
        # superseded_by first: a retired tag always names its winner.
        self.registry.set_tags(loser, {tags.SUPERSEDED_BY: str(winner.version), self.key: retired})
        if loser.version == self.model.version:
            self.tagged = self.champion = False

    def incomplete(self, error: RegistryError) -> IncompletePromotionError:
        """Return the error to raise; first withdraw a live tag that did not make it champion."""
        not_done = self.step
        if self.tagged and not self.champion:
            not_done = self._withdraw(not_done)
        return IncompletePromotionError(
            model_name=self.model.name,
            version=self.model.version,
            not_done=not_done,
            champion=self.champion,
            reason=str(error),
        )

    def _withdraw(self, not_done: str) -> str:
        pending = tags.state_value(tags.PENDING, self.live)
        try:
            holder = self.registry.find_baseline(self.model.name, self.strategy)
            if holder is not None and holder.version == self.model.version:
                self.champion = True  # another promotion (or our lost answer) moved it here
                return not_done
            self.registry.set_tags(self.model, {self.key: pending})
        except RegistryError:
            return (
                f"{not_done}; nor could its tag {self.key} be set back to {pending}, so a "
                "later promotion may point the alias at it"
            )
        return f"{not_done} (its tag {self.key} is {pending} again)"


def _settle(
    registry: ModelRegistry,
    strategy: BaselineStrategy,
    policy: PromotionPolicy,
    decision: Decision,
    model: ModelVersion,
    *,
    take: dict[str, str] | None,
) -> tuple[Decision, ModelVersion | None]:
    """Take the champion tag for `model` (unless `take` is None: it holds it), then converge.

    Returns:
        The decision (with a note when another version keeps the champion), and that version.

    Raises:
        IncompletePromotionError: A read or write failed (see the module).
    """
    champion = champion_tag(strategy)
    if champion is None:
        return decision, None
    key, live = champion
    moved = f"@{strategy.name}" if strategy.kind is BaselineKind.ALIAS else f"tag {key}={live}"
    _LOGGER.info("moving %s to %s", moved, model)
    settle = _Settle(registry, strategy, policy, model, key=key, live=live, tagged=take is None)
    try:
        if take is not None:
            settle.take_tag(take)
        winner = settle.converge()
    except RegistryError as exc:
        raise settle.incomplete(exc) from exc
    if winner.version == model.version:
        return decision, None
    note = f"superseded by version {winner.version}: a concurrent promotion ranked higher"
    return decision.with_note(note), winner


def settle_champion(
    registry: ModelRegistry,
    strategy: BaselineStrategy,
    policy: PromotionPolicy,
    decision: Decision,
    model: ModelVersion,
) -> tuple[Decision, ModelVersion | None]:
    """With a tag or alias baseline, crown the version just registered (pending) if it is best.

    Its tag goes live, then the holders are resolved until one is left: the best-ranked one.
    Concurrent promotions each do this, and the ranking is a total order, so they converge.
    """
    return _settle(registry, strategy, policy, decision, model, take={})


def settle_again(
    registry: ModelRegistry,
    strategy: BaselineStrategy,
    policy: PromotionPolicy,
    decision: Decision,
    existing: ModelVersion,
    *,
    dry_run: bool,
) -> tuple[Decision, ModelVersion | None]:
    """On a re-run of a registered version, complete or repair its promotion; else leave it.

    - it holds the champion tag: settle again (repairs a settle that failed);
    - it is pending (its promotion failed after registering it): complete it;
    - it was superseded, yet ranks above the champion now (it lost the tag during a race to a
      worse one, as the generation-first ranking of earlier releases could): take it back;
    - otherwise (it lost to a better one, or a person moved the alias away from it, or a person
      registered it): its record stays as it is.
    """
    champion = champion_tag(strategy)
    if champion is None or dry_run or existing.archived:
        return decision, None
    key, live = champion
    state = existing.tags.get(key)
    if state == live:
        return _settle(registry, strategy, policy, decision, existing, take=None)
    if state == tags.state_value(tags.PENDING, live):
        decision = decision.with_note(
            f"version {existing.version} was registered by a promotion that did not complete: "
            "completed now"
        )
        return _settle(registry, strategy, policy, decision, existing, take={})
    promoted = existing.tags.get(tags.VERDICT) in {Verdict.PROMOTE.value, Verdict.FORCE.value}
    if state != tags.state_value(tags.SUPERSEDED, live) or not promoted:
        return decision, None
    current = champion_of(registry, existing.name, strategy, policy)
    if current is None or current.tags.get(key) != live:
        return decision, None  # no champion, or one a person chose: never taken from them
    if not _ranks_above(existing, current, policy):
        return decision, None
    decision = decision.with_note(
        f"version {existing.version} ranks above the champion, version {current.version}, "
        "under the policy (it lost the champion during a race): it takes it back"
    )
    return _settle(
        registry,
        strategy,
        policy,
        decision,
        existing,
        take={tags.SUPERSEDED_BY: tags.NO_BASELINE},
    )


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

    One round of the settle: every holder but the best-ranked is retired (its tag set to
    ``superseded``, never deleted). Every process ranks a set of holders the same way (given the
    same policy), and the best-ranked version ever tagged is never retired: concurrent
    promotions converge on it.

    Returns:
        The version that keeps the tag.
    """
    seen = list(holders)
    if not seen:
        # Nobody holds the tag: only possible when concurrent promotions ranked differently
        # (different policies). Take it back rather than leave the model without a champion.
        registry.set_tags(model, {key: value})
        return model
    winner = _best(seen, policy)
    retired = tags.state_value(tags.SUPERSEDED, value)
    for holder in seen:
        if holder.version != winner.version:
            registry.set_tags(holder, {tags.SUPERSEDED_BY: str(winner.version), key: retired})
    return winner
