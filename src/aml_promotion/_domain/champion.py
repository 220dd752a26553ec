"""Choosing one champion among versions that hold the champion tag at once.

Registries offer no compare-and-set, so concurrent promotions can each tag their version. Every
promotion re-reads the holders after its version took the tag and keeps the one this module ranks
first; because the ranking is a *total* order computed from the versions' own tags, every process
that sees a set of holders picks the same one, and the highest-ranked version ever tagged is never
retired: the outcome converges to exactly one holder.

The ranking, highest first (`compare`):

1. **the effective rank**: the policy's metrics in rule order, each goal-adjusted, compared as
   `decide()` compares them (two values within its float tolerance are equal and the next rule
   decides); a missing value ranks lowest. A version's effective rank is its own metrics, or its
   baseline's effective rank when that ranks higher (`effective_rank`): a version promoted within
   a tolerated regression (a negative ``min_delta``) or forced inherits the rank of the champion
   it replaced, so that a sequential promotion still takes the tag (3.). For a policy that
   tolerates no regression a promoted version always ranks above its baseline, so the effective
   rank is its own metrics, and "a would be promoted against b" implies "a ranks above b";
2. **the generation**: a version promoted against a champion is one generation after it;
3. **its own metrics** (as in 1.);
4. **the version number**, lower first: between equals, the first registered keeps the tag.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence

import attrs

from aml_promotion._domain.decision import Decision
from aml_promotion._domain.delta import improvement
from aml_promotion._domain.policy import PromotionPolicy
from aml_promotion._domain.tags import generation_of, metric_tag, rank_tag

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


def compare(a: Holder, b: Holder, policy: PromotionPolicy) -> int:
    """Return 1, 0 or -1 as `a` ranks above, level with or below `b` (see the module)."""
    by_rank = compare_values(rank_values(a.tags, policy), rank_values(b.tags, policy), policy)
    if by_rank:
        return by_rank
    generations = generation_of(a.tags) - generation_of(b.tags)
    if generations:
        return 1 if generations > 0 else -1
    by_own = compare_values(own_values(a.tags, policy), own_values(b.tags, policy), policy)
    if by_own:
        return by_own
    return (a.version < b.version) - (a.version > b.version)


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


def effective_rank(
    decision: Decision, baseline_tags: Mapping[str, str] | None, policy: PromotionPolicy
) -> Values:
    """Return the effective rank of the version `decision` registers (see the module).

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
    if baseline_tags is None:
        return own
    recorded = rank_values(baseline_tags, policy)
    if all(value is None for value in recorded):
        # Not registered by a promotion (or before it recorded metrics): the values compared.
        recorded = tuple(
            by_name[rule.name].baseline if rule.name in by_name else None for rule in policy.rules
        )
    return own if compare_values(own, recorded, policy) >= 0 else recorded


def rank_tags(values: Values, policy: PromotionPolicy) -> dict[str, str]:
    """Return the tags that record an effective rank, each value exactly (``repr``)."""
    return {
        # repr round-trips a float exactly (the decision's tags show ten digits).
        rank_tag(rule.name): MISSING if value is None else repr(float(value))
        for rule, value in zip(policy.rules, values, strict=False)
    }
