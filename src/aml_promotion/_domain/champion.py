"""Choosing one champion among versions that hold the champion tag at once.

Registries offer no compare-and-set, so concurrent promotions can each tag their version. Every
promotion re-reads the holders after its version took the tag and keeps the one this module ranks
first. The ranking is computed from the versions' own tags alone, so every process that sees a set
of holders picks the same one, and the highest-ranked version ever tagged is never retired: the
outcome converges to exactly one holder.

The ranking, highest first (`compare`):

1. **the epoch** (``promotion.epoch``): the number of forced registrations (and of a person's
   moves of the alias) on the version's line. A forced version is one epoch after its baseline;
   every other version is in its baseline's epoch. So a forced version outranks everything
   crowned before it, and every version of an earlier epoch: a promotion that read the champion
   of before the force, concurrently, too. A person's move of the alias, once a promotion
   notices it, ranks like a force: the version the person chose is given the epoch after the
   highest of the other versions that carry the alias tag (`epoch_after_move`), and what is
   promoted against it inherits that epoch. No write of a promotion lowers a version's epoch;
2. **the effective rank** (``promotion.rank.*``): the policy's metrics in rule order, each
   goal-adjusted, compared as `decide()` compares them (two values within its float tolerance are
   equal and the next rule decides); a missing value ranks lowest. A version's effective rank is
   its own metrics, or its baseline's effective rank when that ranks higher (`rank_of`); a
   forced version's is its own (it starts an epoch);
3. **the tolerated regressions** (``promotion.regressions``): a version promoted although its
   own metrics rank below its baseline's (within a tolerated regression: a negative
   ``min_delta``) counts one more than its baseline; any other version as many as its baseline,
   or none when its own metrics beat the baseline's effective rank. So a crowned regression
   outranks the champion it replaced, and the versions promoted after it on its line are ranked
   among themselves by their own metrics;
4. **its own metrics** (as in 2.);
5. **the generation**: a version promoted against a champion is one generation after it (this
   decides between versions level on everything above: a tie the policy promoted);
6. **the version number**, lower first: between equals, the first registered keeps the tag.

For a policy that tolerates no regression, a promoted version's own metrics rank above its
baseline's, so "a would be promoted against b" implies "a ranks above b" within an epoch; since
the last forced registration, the effective rank is the version's own metrics.

Versions registered before epochs existed record none (epoch 0, ranked by their own metrics):
a forced registration or a tolerated regression of an earlier release ranks below the version it
replaced. `rank_recorded` tells such a record from one the ranking places truthfully.

The ranking is a total order but for one case: values closer than `decide()`'s float tolerance
count as equal, and "equal" is not transitive (a ≈ b and b ≈ c while a < c), so a chain of such
values can rank cyclically. The pick stays deterministic (`pick_champion` looks at a set in
version order), but the "best" of such a chain is not defined.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence

import attrs

from aml_promotion._domain.decision import Decision
from aml_promotion._domain.delta import improvement
from aml_promotion._domain.outcomes import Verdict
from aml_promotion._domain.policy import PromotionPolicy
from aml_promotion._domain.tags import (
    DELTA_PREFIX,
    EPOCH,
    REGRESSIONS,
    VERDICT,
    epoch_of,
    generation_of,
    metric_tag,
    one_more,
    rank_tag,
    regressions_of,
)

# A metric's value in a ranking: a finite number, or None when missing or unreadable.
Values = tuple[float | None, ...]
MISSING = "missing"
"""The text of a rank tag whose metric the version lacks (it ranks lowest)."""


@attrs.frozen(kw_only=True)
class Holder:
    """A version holding the champion tag: its number and its tags."""

    version: int
    tags: Mapping[str, str]


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def own_values(tags: Mapping[str, str], policy: PromotionPolicy) -> Values:
    """Return a version's own metric values, in rule order, as its promotion recorded them."""
    return tuple(_float(tags.get(metric_tag(rule.name))) for rule in policy.rules)


def rank_values(tags: Mapping[str, str], policy: PromotionPolicy) -> Values:
    """Return a version's effective rank: its ``promotion.rank.*`` tags, else its own metrics.

    Versions registered before the rank tags existed (or by other tools) rank by their
    ``promotion.metric.*`` tags.
    """
    if not any(rank_tag(rule.name) in tags for rule in policy.rules):
        return own_values(tags, policy)
    return tuple(_float(tags.get(rank_tag(rule.name))) for rule in policy.rules)


def compare_values(a: Values, b: Values, policy: PromotionPolicy) -> int:
    """Return 1, 0 or -1 as `a` ranks above, level with or below `b`, rule by rule.

    Each rule compares goal-adjusted, with `decide()`'s float tolerance (`improvement`): values
    it counts as equal leave the decision to the next rule. A missing value ranks lowest.
    """
    for rule, left, right in zip(policy.rules, a, b, strict=False):
        if left is None or right is None:
            if left is None and right is None:
                continue
            return -1 if left is None else 1
        delta = improvement(left, right, rule.goal)
        if delta != 0:
            return 1 if delta > 0 else -1
    return 0


def _counted(a: int, b: int) -> int:
    return (a > b) - (a < b)


def compare(a: Holder, b: Holder, policy: PromotionPolicy) -> int:
    """Return 1, 0 or -1 as `a` ranks above, level with or below `b` (see the module)."""
    by_epoch = _counted(epoch_of(a.tags), epoch_of(b.tags))
    if by_epoch:
        return by_epoch
    by_rank = compare_values(rank_values(a.tags, policy), rank_values(b.tags, policy), policy)
    if by_rank:
        return by_rank
    by_regressions = _counted(regressions_of(a.tags), regressions_of(b.tags))
    if by_regressions:
        return by_regressions
    by_own = compare_values(own_values(a.tags, policy), own_values(b.tags, policy), policy)
    if by_own:
        return by_own
    by_generation = _counted(generation_of(a.tags), generation_of(b.tags))
    if by_generation:
        return by_generation
    return _counted(b.version, a.version)


def pick_champion(holders: Sequence[Holder], policy: PromotionPolicy) -> Holder:
    """Return the holder that keeps the champion tag.

    Raises:
        ValueError: `holders` is empty.
    """
    if not holders:
        msg = "no holders to choose a champion from"
        raise ValueError(msg)

    def ranked(a: Holder, b: Holder) -> int:
        return compare(a, b, policy)

    key = functools.cmp_to_key(ranked)
    # In version order, so that the same set gives the same pick whatever order it came in.
    return max(sorted(holders, key=lambda holder: holder.version), key=key)


@attrs.frozen(kw_only=True)
class Rank:
    """Where a version registered by a promotion ranks (`rank_of`), as its tags record it.

    Attributes:
        values: Its effective rank: a value per rule, in rule order (None: missing).
        epoch: Its epoch: the forced registrations on its line.
        regressions: The tolerated regressions crowned on its line since `values` was set.
    """

    values: Values
    epoch: int = 0
    regressions: int = 0


def rank_of(
    decision: Decision, baseline_tags: Mapping[str, str] | None, policy: PromotionPolicy
) -> Rank:
    """Return the rank of the version `decision` registers (see the module).

    Args:
        decision: The decision that registers it: its comparisons hold the candidate's values
            and the baseline's values as compared.
        baseline_tags: The baseline version's tags, or None when there was no baseline.
        policy: The policy.
    """
    by_name = {comparison.metric: comparison for comparison in decision.comparisons}
    own = tuple(
        by_name[rule.name].candidate if rule.name in by_name else None for rule in policy.rules
    )
    epoch = 0 if baseline_tags is None else epoch_of(baseline_tags)
    if decision.verdict is Verdict.FORCE:
        return Rank(values=own, epoch=one_more(epoch))
    if baseline_tags is None:
        return Rank(values=own)
    compared = tuple(
        by_name[rule.name].baseline if rule.name in by_name else None for rule in policy.rules
    )
    # Not registered by a promotion (or before it recorded metrics): the values compared.
    recorded = _or_compared(rank_values(baseline_tags, policy), compared)
    if compare_values(own, recorded, policy) > 0:
        return Rank(values=own, epoch=epoch)
    baseline_own = _or_compared(own_values(baseline_tags, policy), compared)
    regressed = compare_values(own, baseline_own, policy) < 0
    regressions = regressions_of(baseline_tags)
    if regressed:
        regressions = one_more(regressions)
    return Rank(values=recorded, epoch=epoch, regressions=regressions)


def _or_compared(recorded: Values, compared: Values) -> Values:
    return compared if all(value is None for value in recorded) else recorded


def rank_tags(rank: Rank, policy: PromotionPolicy) -> dict[str, str]:
    """Return the tags that record a rank: each value exactly (``repr``), and the counters."""
    recorded = {
        # repr round-trips a float exactly (the decision's tags show ten digits).
        rank_tag(rule.name): MISSING if value is None else repr(float(value))
        for rule, value in zip(policy.rules, rank.values, strict=False)
    }
    return {**recorded, EPOCH: str(rank.epoch), REGRESSIONS: str(rank.regressions)}


def epoch_after_move(others: Sequence[Mapping[str, str]], chosen: Mapping[str, str]) -> int | None:
    """Return the epoch to record on the version a person moved the alias to, if it needs one.

    A person's move of the alias ranks like a forced registration: the version chosen is one
    epoch after the highest of the other versions that carry the alias tag, whatever its state
    (live, superseded or moved), so that what is promoted against it outranks them and every
    version of their lines (a re-run of one included). The epoch is counted as every counter
    is (`one_more`): it is read back as written.

    Args:
        others: The tags of the other versions that carry the alias tag.
        chosen: The tags of the version the person moved the alias to.

    Returns:
        The epoch to record on it, or None when its own epoch is that high already (so a
        move is recorded once: a second look finds nothing to write).
    """
    highest = max((epoch_of(other) for other in others), default=None)
    epoch = 0 if highest is None else one_more(highest)
    return epoch if epoch > epoch_of(chosen) else None


def rank_recorded(tags: Mapping[str, str]) -> bool:
    """Return whether a crowned version's tags rank it truthfully against what it replaced.

    True when it records an epoch (every promotion with a champion tag or alias records one,
    `rank_tags`), or it predates epochs but was a plain promotion that regressed on no metric
    (a ``promote`` verdict, no negative or unreadable ``promotion.delta.*``). A forced
    registration or a tolerated regression of an earlier release is neither: ranked as epoch 0
    by its own metrics, it would rank below the version it replaced.
    """
    if EPOCH in tags:
        return True
    if tags.get(VERDICT) != Verdict.PROMOTE.value:
        return False
    return all(_improved(value) for key, value in tags.items() if key.startswith(DELTA_PREFIX))


def _improved(text: str) -> bool:
    try:
        delta = float(text)
    except ValueError:
        return False
    return delta >= 0  # False for NaN; +inf is an improvement
