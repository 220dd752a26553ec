"""The short namespaced tags a decision writes onto the version it registers."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from aml_promotion._domain.decision import Decision

PREFIX = "promotion."
VERDICT = PREFIX + "verdict"
BASELINE_VERSION = PREFIX + "baseline_version"
GENERATION = PREFIX + "generation"
SUPERSEDED_BY = PREFIX + "superseded_by"
METRIC_PREFIX = PREFIX + "metric."
ALIAS_PREFIX = PREFIX + "alias."
ALIAS_HOLDER = "true"
DELTA_PREFIX = PREFIX + "delta."
NO_BASELINE = "none"


def _safe(metric: str) -> str:
    # Tag keys must survive every backend's rules (MLflow allows these characters, Azure ML more).
    return re.sub(r"[^A-Za-z0-9_.\-/ ]", "_", metric)


def metric_tag(metric: str) -> str:
    """Return the tag key that records a metric's candidate value."""
    return METRIC_PREFIX + _safe(metric)


def alias_tag(alias: str) -> str:
    """Return the tag key that marks a version promoted to hold the registered-model alias."""
    return ALIAS_PREFIX + _safe(alias)


def delta_tag(metric: str) -> str:
    """Return the tag key that records a metric's improvement Δ over the baseline."""
    return DELTA_PREFIX + _safe(metric)


def number(value: float) -> str:
    """Return a float as tag text: ten significant digits, or "inf" / "-inf"."""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return format(value, ".10g")


def generation_of(tags: Mapping[str, str]) -> int:
    """Return a version's generation from its tags (0 when it has none)."""
    text = tags.get(GENERATION, "")
    return int(text) if text.isdecimal() and text.isascii() else 0


def decision_tags(
    decision: Decision, *, baseline_version: int | None, generation: int
) -> dict[str, str]:
    """Return the tags that record `decision` on the version it registers.

    Args:
        decision: The decision.
        baseline_version: The version the candidate was compared with, if any.
        generation: The new version's generation: its baseline's plus one (see `champion`).
    """
    tags = {
        VERDICT: decision.verdict.value,
        BASELINE_VERSION: NO_BASELINE if baseline_version is None else str(baseline_version),
        GENERATION: str(generation),
    }
    for comparison in decision.comparisons:
        if comparison.candidate is not None:
            tags[metric_tag(comparison.metric)] = number(comparison.candidate)
        if comparison.delta is not None:
            tags[delta_tag(comparison.metric)] = number(comparison.delta)
    return tags
