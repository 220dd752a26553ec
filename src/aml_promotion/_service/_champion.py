"""The champion tag or alias: settle its holders after a registration, and on a re-run.

The writes of a promotion with a ``tag:`` or ``alias:`` baseline, in order:

1. the version is registered with its decision record and its champion tag (for an alias, the
   tag ``promotion.alias.<alias>``) set to ``pending``: no lookup counts it, so it is never a
   holder, a baseline or the alias's target while pending;
2. the champion tag is set to its live value: the version is a holder from now on;
3. the holders are re-read and ranked (`aml_promotion._domain.champion`); with an alias, the alias
   is pointed at the best-ranked holder;
4. every other holder is retired: its tag is overwritten with ``superseded`` (never deleted) and
   ``promotion.superseded_by`` names the winner; 3 and 4 repeat until one holder is left.

Archived versions are no holders: a settle never keeps, retires or points the alias at one.

A failure after step 1 raises `IncompletePromotionError`, which says whether the version is the
champion: known only from a read (the best-ranked holder of a tag, the alias's target), never
from its tag write alone. A version whose tag this promotion made live (or may have: an error
after the registry applied the write) and that such a read does not find champion (another holder
ranks above it, the alias never reached it) has its tag set back to pending (after a re-run's
take-back: to ``superseded``, naming the winner it named, as it was), so no later promotion
takes it for a champion; one the read finds champion keeps its live tag (a concurrent
settle may have retired the old champion for it: setting it back would leave no holder). If that
read or write fails too, the error says so, and that the version still holds the tag: later
promotions rank it among the holders. Running the promotion again compares the candidate with
the champion of that moment: if it still promotes, the promotion is completed (its record and
rank written anew against that champion), else the version is retired, never crowned
(`settle_again`). A version read as pending is re-read first: if its promotion has completed
since (it was still running), it is settled as it is now, its record left as written. A settle
that finds more to write after `_ROUNDS` rounds gives up with a WARNING, and the result names no
champion.

These functions take the baseline strategy (and the policy that ranks holders), never the whole
settings.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from aml_promotion._domain import tags
from aml_promotion._domain.champion import (
    Holder,
    compare,
    pick_champion,
    rank_of,
    rank_recorded,
    rank_tags,
)
from aml_promotion._domain.decision import Decision
from aml_promotion._domain.outcomes import Verdict
from aml_promotion._domain.policy import BaselineKind, BaselineStrategy, PromotionPolicy
from aml_promotion._retry import LOGGER_NAME
from aml_promotion.exceptions import (
    BaselineNotFoundError,
    IncompletePromotionError,
    RegistryError,
)
from aml_promotion.ports import ModelVersion

if TYPE_CHECKING:
    from aml_promotion.ports import ModelRegistry

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


def _ranks_above(a: ModelVersion, champion: ModelVersion, policy: PromotionPolicy) -> bool:
    """Whether `a` ranks above `champion`, whose record must rank it truthfully.

    A champion crowned by a forced registration or a tolerated regression of an earlier release
    records no epoch (`rank_recorded`): it would rank below the version it replaced, so nothing
    ranks above it for a take-back.
    """
    if not rank_recorded(champion.tags):
        return False
    left = Holder(version=a.version, tags=a.tags)
    right = Holder(version=champion.version, tags=champion.tags)
    return compare(left, right, policy) > 0


# The versions read at most when a re-run follows promotion.superseded_by towards the champion
# (`_lost_to_the_line_of`): a longer line is left as it is.
_LINE_READS = 50


def _winner_named(version: ModelVersion) -> int | None:
    return tags.version_number(version.tags.get(tags.SUPERSEDED_BY, ""))


def _retired_by_a_settle(version: ModelVersion, key: str, live: str) -> bool:
    """Whether a promotion crowned `version` and a settle retired it for a better-ranked one.

    Its champion tag is ``superseded``; or, retired by an earlier release (which deleted the
    tag), it has no champion tag, no epoch (this release never deletes the tag of a version it
    registered, so a person did) and a ``promotion.superseded_by``. A version a person moved
    the alias from (``moved``), or whose tag a person deleted, is not.
    """
    if version.tags.get(tags.VERDICT) not in {Verdict.PROMOTE.value, Verdict.FORCE.value}:
        return False
    state = version.tags.get(key)
    if state == tags.state_value(tags.SUPERSEDED, live):
        return True
    return state is None and tags.EPOCH not in version.tags and _winner_named(version) is not None


def _lost_to_the_line_of(
    registry: ModelRegistry, existing: ModelVersion, champion: ModelVersion, *, key: str, live: str
) -> bool:
    """Whether `existing` lost the champion to `champion`'s line, one settle after the other.

    Follows ``promotion.superseded_by`` from `existing`: each version it names before
    `champion` must have been retired by a settle in turn (`_retired_by_a_settle`) and record a
    truthful rank (`rank_recorded`); and `champion`, the live holder at its end, must hold the
    tag as a settle left it: it names no winner in ``promotion.superseded_by``. A settle that
    retires a version names its winner in the same write as the retired tag, and only a
    take-back makes a retired tag live again, writing ``none`` with it; so a live holder that
    names a winner was tagged live again by a person (a rollback by hand: a tag deleted on the
    champion, set again on a version retired before), or is being retired by a settle (its
    winner written, its tag not yet): nothing is taken back from either.

    False, so that nothing is taken back, for a line a person broke: a champion re-tagged by
    hand, as above; a retired version on the way that a person moved the alias from
    (``moved``), or whose tag a person deleted; a champion chosen by moving the alias (what is
    promoted against it supersedes nothing, and it ranks an epoch higher). False also for a
    forced rollback of an earlier release on the way, a version deleted since, a cycle, or a
    line longer than `_LINE_READS`. One read per version on the way.
    """
    if _winner_named(champion) is not None:
        return False
    seen = {existing.version}
    version = existing
    for _ in range(_LINE_READS):
        winner = _winner_named(version)
        if winner is None or winner in seen:
            return False
        if winner == champion.version:
            return True
        try:
            found = registry.find_baseline(existing.name, BaselineStrategy.version(winner))
        except BaselineNotFoundError:
            return False
        if found is None or not _retired_by_a_settle(found, key, live):
            return False
        if not rank_recorded(found.tags):
            return False
        seen.add(winner)
        version = found
    return False


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
        registered: bool = True,
        withdrawn: dict[str, str] | None = None,
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
        # Whether this settle sent the write that made it live (else it was live before).
        self.taken = False
        # Whether `model` is the champion, as known from a read: the best-ranked holder (a tag
        # baseline), or the alias's target. A live tag alone makes it a holder, not champion.
        self.champion = False
        # Whether its tag was live at the last read of a settle that gave up (`converge`).
        self.held = tagged
        # Whether this promotion registered `model` (else it is a re-run's).
        self.registered = registered
        # Whether its tag is known retired (``superseded``) for a better-ranked holder.
        self.retired = False
        # The tags that withdraw the tag this settle made live: pending, or (a take-back) the
        # retired tag and the winner it named, as they were.
        self.withdrawn = withdrawn or {key: tags.state_value(tags.PENDING, live)}

    @property
    def alias(self) -> str | None:
        return self.strategy.name if self.strategy.kind is BaselineKind.ALIAS else None

    def take_tag(self, extra: dict[str, str] | None = None) -> None:
        """Set the model's champion tag to its live value: it is a holder from now on."""
        self.step = f"set its tag {self.key}={self.live}"
        # From the moment the write is sent the tag may be live: a lost answer (an error after
        # the registry applied it) must still be withdrawn, never taken for "still pending".
        self.tagged = self.taken = True
        self.registry.set_tags(self.model, {**(extra or {}), self.key: self.live})

    def read_holders(self) -> list[ModelVersion]:
        """Re-read the versions whose champion tag is live; an archived one is no holder.

        An archived version is never a baseline (`champion_of`), nor written by a promotion:
        one that kept its tag is neither kept as the champion nor retired.
        """
        self.step = f"re-read the versions tagged {self.key}={self.live}"
        found = self.registry.find_tagged(self.model.name, self.key, self.live)
        return [h for h in found if not h.archived]

    def resolve(self, holders: Sequence[ModelVersion]) -> ModelVersion | None:
        """Keep the champion on the best-ranked of `holders`, a read: one round of the settle.

        Points the alias at it (with an alias) and retires every other holder.

        Returns:
            The best-ranked holder when this round wrote nothing (it holds the champion alone,
            as read), else None: the holders must be read again.
        """
        if not holders:
            # Nobody holds the tag: only possible when concurrent promotions ranked
            # differently (different policies). Take it back rather than leave no champion.
            self.take_tag()
            holders = [self.model]
        winner = _best(holders, self.policy)
        if self.alias is None:
            # The best-ranked holder read is the champion (the one `champion_of` returns).
            self.champion = winner.version == self.model.version
        elif self._move_alias(winner):
            return None
        losers = [h for h in holders if h.version != winner.version]
        for loser in losers:
            self._retire(loser, winner)
        return None if losers else winner

    def converge(self) -> ModelVersion | None:
        """Re-read and resolve the holders until one is left; return it.

        Returns:
            The one holder, or None when `_ROUNDS` rounds each found more to write: concurrent
            promotions kept changing the holders (or ranked them by different policies). The
            champion is then unknown to this promotion, and a WARNING says what was left.
        """
        holders: list[ModelVersion] = []
        for _ in range(_ROUNDS):
            holders = self.read_holders()
            winner = self.resolve(holders)
            if winner is not None:
                self.held = True
                return winner
        self.held = any(h.version == self.model.version for h in holders)
        shown = ", ".join(str(h.version) for h in holders) or "none"
        _LOGGER.warning(
            "the champion of %s did not settle in %d rounds: the versions tagged %s=%s at the "
            "last read were %s%s; this promotion (version %d) reports no champion; run it "
            "again, once the concurrent promotions are done, to settle it",
            self.model.name,
            _ROUNDS,
            self.key,
            self.live,
            shown,
            "" if self.alias is None else f", and the alias @{self.alias} may be on none of them",
            self.model.version,
        )
        return None

    def _move_alias(self, winner: ModelVersion) -> bool:
        """Point the alias at `winner` unless it is there; return whether it was moved."""
        self.step = f"read the alias @{self.alias}"
        holder = self.registry.find_baseline(self.model.name, self.strategy)
        if holder is not None and holder.version == winner.version:
            self.champion = winner.version == self.model.version
            return False
        self.step = f"point the alias @{self.alias} at version {winner.version}"
        # Unknown until the write answers: a lost answer leaves the alias on `winner` or where
        # it was, and `incomplete` reads which.
        self.champion = False
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
            self.retired = True

    def incomplete(self, error: RegistryError) -> IncompletePromotionError:
        """Return the error to raise; first withdraw a live tag not known to be the champion's."""
        not_done, holder = self.step, False
        if self.tagged and not self.champion:
            not_done, holder = self._withdraw(not_done)
        return IncompletePromotionError(
            model_name=self.model.name,
            version=self.model.version,
            not_done=not_done,
            champion=self.champion,
            holder=holder,
            reason=str(error),
            registered=self.registered,
            retired=self.retired and not self.champion and not holder,
        )

    def _repoint(self, not_done: str) -> str:
        """The alias is on `model`, whose tag a concurrent settle retired: point it at the best.

        The write that failed pointed the alias at `model` (its answer was lost) after another
        promotion had retired it for a better-ranked holder. Left so, a later promotion would
        take the alias on a retired version for a person's move, and crown `model`. (A settle
        that stops there, killed, is the same state: documented in docs/backends-mlflow.md.)

        Returns:
            What was not done, and what became of the alias.
        """
        self.tagged = self.champion = False
        self.retired = True
        stale = f"the alias @{self.alias} is on it, though a concurrent promotion retired it"
        try:
            holders = self.read_holders()
            if not holders:
                return f"{not_done}; {stale}, and no version holds the tag"
            winner = _best(holders, self.policy)
            self.registry.set_alias(winner, self.alias or "")
        except RegistryError:
            return (
                f"{not_done}; {stale}, and it could not be pointed at the best-ranked holder: "
                "run the promotion again to settle it"
            )
        return f"{not_done}; {stale}: the alias is pointed at version {winner.version} again"

    def _withdraw(self, not_done: str) -> tuple[str, bool]:
        """Read the champion; unless it is `model`, withdraw the tag this settle made live.

        It is set back to pending; after a take-back, to ``superseded`` naming the winner it
        named before (`settle_again`): the version is left as it was.

        The read is the one a later promotion's baseline is (`champion_of`): when it returns
        `model` (a lost answer; or a concurrent settle ranked it first, perhaps retiring the
        old champion for it), its tag stays live, else no version would hold it. A tag that
        was live before this settle is left live: it holds the tag as it did.

        Returns:
            What was not done, with what became of the tag; and whether `model` is left
            holding the tag without being known as the champion.
        """
        pending = self.withdrawn[self.key]
        plain = self.withdrawn == {self.key: pending}
        shown = ", ".join(f"{key}={value}" for key, value in self.withdrawn.items())
        kept = (
            f"its tag {self.key}={self.live} is live: it is a holder, ranked by a later "
            "promotion's settle (or this one's, run again)"
        )
        try:
            current = champion_of(self.registry, self.model.name, self.strategy, self.policy)
            if current is not None and current.version == self.model.version:
                if self.alias is not None and current.tags.get(self.key) != self.live:
                    return self._repoint(not_done), False
                self.champion = True
                return not_done, False
            if not self.taken:
                return f"{not_done}; {kept}", True
            self.registry.set_tags(self.model, self.withdrawn)
        except RegistryError:
            if not self.taken:
                return f"{not_done}; {kept}", True
            undone = (
                f"nor could its tag {self.key} be set back to {pending}"
                if plain
                else f"nor could its tags be set back to {shown}"
            )
            return f"{not_done}; {undone}: {kept}", True
        self.tagged = False
        if plain:
            return f"{not_done} (its tag {self.key} is {pending} again)", False
        return f"{not_done} (its tags are {shown}: retired, as it was before this run)", False


@attrs.frozen(kw_only=True)
class Settlement:
    """What settling the champion left, for the promotion's result.

    Attributes:
        decision: The decision, with a note when another version keeps the champion (or the
            settle gave up).
        superseded_by: The version that keeps the champion when it is not this promotion's.
        settled: Whether the settle converged (its last read found one holder); when not, the
            result names no champion.
        held: Whether the version's champion tag is live, as last read or written.
    """

    decision: Decision
    superseded_by: ModelVersion | None = None
    settled: bool = True
    held: bool = True


def _settle(
    registry: ModelRegistry,
    strategy: BaselineStrategy,
    policy: PromotionPolicy,
    decision: Decision,
    model: ModelVersion,
    *,
    take: dict[str, str] | None,
    registered: bool = False,
    withdrawn: dict[str, str] | None = None,
) -> Settlement:
    """Take the champion tag for `model` (unless `take` is None: it holds it), then converge.

    `registered`: whether this promotion registered `model` (else a re-run settles it);
    `withdrawn`: the tags that withdraw its tag if the settle fails (default: pending).

    Raises:
        IncompletePromotionError: A read or write failed (see the module).
    """
    champion = champion_tag(strategy)
    if champion is None:
        return Settlement(decision=decision)
    key, live = champion
    moved = f"@{strategy.name}" if strategy.kind is BaselineKind.ALIAS else f"tag {key}={live}"
    _LOGGER.info("moving %s to %s", moved, model)
    settle = _Settle(
        registry,
        strategy,
        policy,
        model,
        key=key,
        live=live,
        tagged=take is None,
        registered=registered,
        withdrawn=withdrawn,
    )
    try:
        if take is not None:
            settle.take_tag(take)
        winner = settle.converge()
    except RegistryError as exc:
        raise settle.incomplete(exc) from exc
    if winner is None:
        note = (
            f"the champion ({moved}) did not settle in {_ROUNDS} rounds of concurrent writes: "
            "this result names no champion; run the promotion again to settle it"
        )
        return Settlement(decision=decision.with_note(note), settled=False, held=settle.held)
    if winner.version == model.version:
        return Settlement(decision=decision)
    note = f"superseded by version {winner.version}: a concurrent promotion ranked higher"
    return Settlement(decision=decision.with_note(note), superseded_by=winner, held=False)


def settle_champion(
    registry: ModelRegistry,
    strategy: BaselineStrategy,
    policy: PromotionPolicy,
    decision: Decision,
    model: ModelVersion,
) -> Settlement:
    """With a tag or alias baseline, crown the version just registered (pending) if it is best.

    Its tag goes live, then the holders are resolved until one is left: the best-ranked one.
    Concurrent promotions each do this, and every process ranks a set of holders alike, so
    they converge (see `aml_promotion._domain.champion` for the one case the ranking is no
    total order).
    """
    return _settle(registry, strategy, policy, decision, model, take={}, registered=True)


def settle_again(
    registry: ModelRegistry,
    strategy: BaselineStrategy,
    policy: PromotionPolicy,
    decision: Decision,
    existing: ModelVersion,
    *,
    baseline: ModelVersion | None,
    dry_run: bool,
) -> Settlement:
    """On a re-run of a registered version, complete or repair its promotion; else leave it.

    - it holds the champion tag: settle again (repairs a settle that failed);
    - it is pending (its promotion failed after registering it): `decision` compared it with
      the current champion, `baseline`. If it promotes, the promotion is completed: its
      decision record and rank are written anew against `baseline`, and it takes the tag. If
      not, it is never crowned: its tag is set to ``superseded``, ``superseded_by`` names the
      champion, and its record says the decision that rejected it;
    - it was superseded (its tag ``superseded``, or deleted by an earlier release that named
      the winner in ``promotion.superseded_by``), yet ranks above the champion now, and lost
      the tag to the champion's own line (`_lost_to_the_line_of`): it lost during a race to a
      worse one, as the generation-first ranking of earlier releases could. It takes it back;
    - otherwise its record stays as it is: it lost to a better one; or a person moved the alias
      away from it or from a version of the line it lost to (``moved``), deleted the alias or
      its tag, or registered it; or tagged the champion by hand, a version a settle had
      retired (it names a winner in ``promotion.superseded_by``); or the champion was crowned
      by a forced registration or a tolerated regression of an earlier release, which records
      no epoch (`rank_recorded`). A take-back that fails leaves the version as it was:
      ``superseded``, naming the winner it named.
    """
    champion = champion_tag(strategy)
    if champion is None or dry_run or existing.archived:
        return Settlement(decision=decision)
    key, live = champion
    state = existing.tags.get(key)
    if state == live:
        return _settle(registry, strategy, policy, decision, existing, take=None)
    if state == tags.state_value(tags.PENDING, live):
        return _complete(registry, strategy, policy, decision, existing, baseline=baseline)
    if not _retired_by_a_settle(existing, key, live):
        return Settlement(decision=decision, held=False)
    current = champion_of(registry, existing.name, strategy, policy)
    if current is None or current.tags.get(key) != live:
        # No champion, or one a person chose: never taken from them.
        return Settlement(decision=decision, held=False)
    if not _ranks_above(existing, current, policy):
        return Settlement(decision=decision, held=False)
    if not _lost_to_the_line_of(registry, existing, current, key=key, live=live):
        _LOGGER.info(
            "%s ranks above the champion, version %d, but did not lose the champion to its line "
            "settle after settle (a person moved or deleted the champion since, an earlier "
            "release forced a version on the way, or it is longer than %d versions): it does not "
            "take it back",
            existing,
            current.version,
            _LINE_READS,
        )
        return Settlement(decision=decision, held=False)
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
        # A failed take-back leaves it as it was: retired, naming the winner it named.
        withdrawn={
            tags.SUPERSEDED_BY: existing.tags.get(tags.SUPERSEDED_BY, tags.NO_BASELINE),
            key: tags.state_value(tags.SUPERSEDED, live),
        },
    )


def _complete(
    registry: ModelRegistry,
    strategy: BaselineStrategy,
    policy: PromotionPolicy,
    decision: Decision,
    existing: ModelVersion,
    *,
    baseline: ModelVersion | None,
) -> Settlement:
    """Complete the promotion of a pending version if `decision` (against `baseline`) promotes.

    `existing` is re-read first: a version read as pending may have been completed since (by
    its own promotion, still running when this re-run read it, or by another re-run), then
    perhaps superseded. It is then settled as it is now (`settle_again`), and its record, as
    that promotion wrote it, is never rewritten from the stale read.
    """
    key, live = champion_tag(strategy) or ("", "")
    try:
        current = registry.find_baseline(existing.name, BaselineStrategy.version(existing.version))
    except BaselineNotFoundError:
        current = None
    if current is None:
        note = (
            f"version {existing.version} is no longer found (deleted or archived since it was "
            "read): its promotion is not completed"
        )
        return Settlement(decision=decision.with_note(note), held=False)
    if current.tags.get(key) != tags.state_value(tags.PENDING, live):
        _LOGGER.info("%s is no longer pending (its promotion completed meanwhile)", current)
        return settle_again(
            registry, strategy, policy, decision, current, baseline=baseline, dry_run=False
        )
    generation = 1 if baseline is None else tags.one_more(tags.generation_of(baseline.tags))
    record = tags.decision_tags(
        decision,
        baseline_version=None if baseline is None else baseline.version,
        generation=generation,
    )
    against = "no champion" if baseline is None else f"the champion, version {baseline.version}"
    if decision.promote:
        rank = rank_of(decision, None if baseline is None else baseline.tags, policy)
        # Never lower the epoch a person's move gave it since (`respect_moved_alias`).
        rank = attrs.evolve(rank, epoch=max(rank.epoch, tags.epoch_of(current.tags)))
        decision = decision.with_note(
            f"version {existing.version} was registered by a promotion that did not complete: "
            f"completed now, compared with {against}"
        )
        take = {**record, **rank_tags(rank, policy)}
        return _settle(registry, strategy, policy, decision, existing, take=take)
    decision = decision.with_note(
        f"version {existing.version} was registered by a promotion that did not complete, and "
        f"is not promoted against {against}: it is not made the champion (its tag {key} is "
        f"{tags.SUPERSEDED} now)"
    )
    winner = tags.NO_BASELINE if baseline is None else str(baseline.version)
    retired = tags.state_value(tags.SUPERSEDED, live)
    _LOGGER.info(
        "%s is not promoted against %s: its tag %s is now %s", existing, against, key, retired
    )
    try:
        registry.set_tags(existing, {**record, tags.SUPERSEDED_BY: winner, key: retired})
    except RegistryError as exc:
        raise IncompletePromotionError(
            model_name=existing.name,
            version=existing.version,
            not_done=f"set its tag {key}={retired} (it is still {tags.PENDING})",
            champion=False,
            reason=str(exc),
            registered=False,
        ) from exc
    return Settlement(decision=decision, superseded_by=baseline, held=False)
