"""A person's move of the alias: noticed before the baseline is read, and respected.

Promotions only ever point the alias at a version carrying the live alias tag. So the alias on
a version without it, or no alias while versions carry the live tag, is a person's doing
(`respect_moved_alias`): the versions it was moved from can never win it back, and the version
the person chose ranks like a forced registration. The settles themselves pass through that
state for a moment: the waits below tell the two apart (docs/backends-mlflow.md, *Moving the
alias by hand*, says what cannot be).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from aml_promotion._domain import tags
from aml_promotion._domain.champion import epoch_after_move
from aml_promotion._domain.policy import BaselineKind, BaselineStrategy
from aml_promotion._retry import LOGGER_NAME, pause
from aml_promotion.ports import ModelVersion

if TYPE_CHECKING:
    from aml_promotion.ports import ModelRegistry

_LOGGER = logging.getLogger(LOGGER_NAME)


# Seconds to wait, before each re-read, while the alias is on a version without the alias tag
# and other versions carry it: a concurrent promotion may be between retiring the holder and
# moving the alias. If it stays so, a person moved (or deleted) the alias. In `testing_mode()`
# the waits are recorded, not slept, as retries' are.
_MOVED_ALIAS_WAITS = (0.2, 0.5, 1.0, 2.0, 4.0)


def respect_moved_alias(
    registry: ModelRegistry,
    strategy: BaselineStrategy,
    name: str,
    existing: ModelVersion | None,
    *,
    dry_run: bool,
) -> ModelVersion | None:
    """With an alias baseline, respect a person's move of the alias.

    Promotions only ever point the alias at a version carrying the live alias tag. So the alias
    on a version without it (a person's choice), or no alias while versions carry the live tag
    (a person deleted it), is a person's doing:

    - the versions carrying the live tag did not hold the alias when this promotion read its
      baseline: their tag is set to ``moved``, and they can never win the alias back;
    - the version the alias is on is the champion: the candidate is compared with it, and
      takes the alias if promoted. The move ranks like a forced registration: the version
      chosen is given the epoch after the highest of every other version carrying the alias
      tag, live, ``superseded`` or ``moved`` (``promotion.epoch``, `epoch_after_move`), unless
      its own is that high already, so that what is promoted against it outranks their lines,
      a re-run of one of them included. A move back to a version whose tag is ``moved`` or
      ``superseded`` (no version carries the live tag then) is one too. Only on that signal
      does a promotion read the retired versions (two more reads); it writes the epoch once.

    (With the alias deleted there is no version to record the move on: `settle_again` refuses
    to take the champion back for a version whose line a person retired.) A dry run changes
    nothing, and reports as if the tags were retired.

    Returns:
        `existing`, as it is now (with its tag retired, or its epoch recorded, if it was).
    """
    if strategy.kind is not BaselineKind.ALIAS or not strategy.name:
        return existing
    key = tags.alias_tag(strategy.name)
    for wait in (*_MOVED_ALIAS_WAITS, None):
        holder = registry.find_baseline(name, strategy)
        tagged = registry.find_tagged(name, key, tags.ALIAS_HOLDER)
        if holder is not None and holder.tags.get(key) == tags.ALIAS_HOLDER:
            return existing
        if not tagged:
            # Nobody to wait for: the alias is deleted (nothing to do), or on a version a
            # person chose among the retired ones (or one never promoted).
            break
        if wait is not None:
            pause(wait)
    if holder is not None:
        # Before the stale tags are retired: a promotion that finds none left reads it.
        existing = _rank_as_forced(registry, holder, tagged, existing, key=key, dry_run=dry_run)
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


def _rank_as_forced(
    registry: ModelRegistry,
    chosen: ModelVersion,
    live: Sequence[ModelVersion],
    existing: ModelVersion | None,
    *,
    key: str,
    dry_run: bool,
) -> ModelVersion | None:
    """Record on `chosen`, the alias holder a person chose, the epoch after the others'.

    The others are every version carrying the alias tag `key`: `live` (read already), and
    those whose tag is ``superseded`` or ``moved``, read here.

    Returns:
        `existing`, with the epoch recorded if it is `chosen`.
    """
    retired = [
        found
        for state in (tags.SUPERSEDED, tags.MOVED)
        for found in registry.find_tagged(
            chosen.name, key, tags.state_value(state, tags.ALIAS_HOLDER)
        )
    ]
    others = [t.tags for t in (*live, *retired) if t.version != chosen.version]
    epoch = epoch_after_move(others, chosen.tags)
    if epoch is None:
        return existing
    _LOGGER.info(
        "%s, to which someone moved the alias, ranks like a forced registration: its tag %s is "
        "now %d",
        chosen,
        tags.EPOCH,
        epoch,
    )
    if dry_run:
        return existing
    registry.set_tags(chosen, {tags.EPOCH: str(epoch)})
    if existing is not None and existing.version == chosen.version:
        return attrs.evolve(existing, tags={**existing.tags, tags.EPOCH: str(epoch)})
    return existing
