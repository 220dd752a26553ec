"""Choosing one champion among versions that hold the champion tag at once.

Registries offer no compare-and-set, so concurrent promotions can each tag their version. Every
promotion re-reads the holders after writing and keeps the one this module ranks first; because the
ranking is a *total* order computed from the versions' own tags, every process that sees a set of
holders picks the same one, and the highest-ranked version ever tagged is never removed: the outcome
converges to exactly one holder.

The ranking, highest first:

1. **generation**: a version promoted against a champion ranks above it (its generation is the
   champion's plus one), so a sequential promotion always takes the tag, as it should;
2. **the policy's metrics**, in rule order, each read goal-adjusted from the ``promotion.metric.*``
   tags the decision wrote (a version that Pareto-dominates another ranks above it; between
   incomparable versions the first rule decides); a missing value ranks lowest;
3. **the version number**, lower first: between equals, the first registered keeps the tag.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs

from aml_promotion._domain.policy import Goal, PromotionPolicy
from aml_promotion._domain.tags import generation_of, metric_tag


@attrs.frozen(kw_only=True)
class Holder:
    """A version holding the champion tag: its number and its tags."""

    version: int
    tags: Mapping[str, str]


def _float(text: str | None) -> float:
    if text is None:
        return -math.inf
    try:
        value = float(text)
    except ValueError:
        return -math.inf
    return value if math.isfinite(value) else -math.inf


def rank(holder: Holder, policy: PromotionPolicy) -> tuple[float, ...]:
    """Return the sort key of a holder: larger ranks first."""
    values = []
    for rule in policy.rules:
        value = _float(holder.tags.get(metric_tag(rule.name)))
        values.append(value if rule.goal is Goal.MAXIMIZE or value == -math.inf else -value)
    return (float(generation_of(holder.tags)), *values, float(-holder.version))


def pick_champion(holders: Sequence[Holder], policy: PromotionPolicy) -> Holder:
    """Return the holder that keeps the champion tag.

    Raises:
        ValueError: `holders` is empty.
    """
    if not holders:
        msg = "no holders to choose a champion from"
        raise ValueError(msg)
    return max(holders, key=lambda holder: rank(holder, policy))
