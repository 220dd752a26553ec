"""The short namespaced tags a decision writes onto the version it registers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from aml_promotion._domain.decision import Decision
from aml_promotion._domain.policy import tag_safe

PREFIX = "promotion."
VERDICT = PREFIX + "verdict"
BASELINE_VERSION = PREFIX + "baseline_version"
GENERATION = PREFIX + "generation"
SUPERSEDED_BY = PREFIX + "superseded_by"
METRIC_PREFIX = PREFIX + "metric."
ALIAS_PREFIX = PREFIX + "alias."
ALIAS_HOLDER = "true"
DELTA_PREFIX = PREFIX + "delta."
MODEL_DIGEST = PREFIX + "model_digest"
DATA_PREFIX = PREFIX + "data."
NO_BASELINE = "none"


def _safe(metric: str) -> str:
    # Tag keys must survive every backend's rules; a policy never holds two names alike here.
    return tag_safe(metric)


def metric_tag(metric: str) -> str:
    """Return the tag key that records a metric's candidate value."""
    return METRIC_PREFIX + _safe(metric)


def alias_tag(alias: str) -> str:
    """Return the tag key that marks a version promoted to hold the registered-model alias."""
    return ALIAS_PREFIX + _safe(alias)


def delta_tag(metric: str) -> str:
    """Return the tag key that records a metric's improvement Δ over the baseline."""
    return DELTA_PREFIX + _safe(metric)


def data_tag(name: str) -> str:
    """Return the tag key that records the digest of a dataset the candidate was evaluated on."""
    return DATA_PREFIX + _safe(name)


def evaluation_data_of(tags: Mapping[str, str]) -> dict[str, str | None]:
    """Return the evaluation data a version's tags record (name → digest), as written."""
    return {
        key[len(DATA_PREFIX) :]: value for key, value in tags.items() if key.startswith(DATA_PREFIX)
    }


def number(value: float) -> str:
    """Return a float as tag text: ten significant digits, or "inf" / "-inf"."""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return format(value, ".10g")


def recorded_metrics(tags: Mapping[str, str], names: Iterable[str]) -> dict[str, float] | None:
    """Return the metric values a promotion recorded on a version (``promotion.metric.*``).

    Args:
        tags: The version's tags.
        names: The metrics wanted.

    Returns:
        Name → value for each wanted metric the tags record (a value that is not a number is
        left out, so it reads as missing); None when the version records no metric at all (it
        was not registered by a promotion that compared metrics).
    """
    if not any(key.startswith(METRIC_PREFIX) for key in tags):
        return None
    values: dict[str, float] = {}
    for name in names:
        text = tags.get(metric_tag(name))
        if text is None:
            continue
        try:
            values[name] = float(text)
        except ValueError:
            continue
    return values


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
    for name, digest in (decision.candidate_data or {}).items():
        if digest is not None:
            tags[data_tag(name)] = digest
    return tags
