"""The short namespaced tags a decision writes onto the version it registers."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping

from aml_promotion._domain.decision import Decision
from aml_promotion._domain.metrics import is_usable_number, read_series
from aml_promotion._domain.policy import Aggregate, PromotionPolicy, tag_safe

PREFIX = "promotion."
VERDICT = PREFIX + "verdict"
BASELINE_VERSION = PREFIX + "baseline_version"
GENERATION = PREFIX + "generation"
EPOCH = PREFIX + "epoch"
"""The tag that records a version's epoch in the champion ranking
(`aml_promotion._domain.champion`): the forced registrations on its line. Not under
``promotion.rank.``, whose keys are the metrics' names."""
REGRESSIONS = PREFIX + "regressions"
"""The tag that records how many regressions within the tolerance (a negative ``min_delta``) were
crowned on a version's line since its effective rank was set (`aml_promotion._domain.champion`)."""
SUPERSEDED_BY = PREFIX + "superseded_by"
METRIC_PREFIX = PREFIX + "metric."
ALIAS_PREFIX = PREFIX + "alias."
ALIAS_HOLDER = "true"
RANK_PREFIX = PREFIX + "rank."
PENDING = "pending"
"""The champion tag's (or alias tag's) value on a version registered by a promotion that has not
completed: it is never a holder, a baseline or the alias's target until a re-run completes it."""
SUPERSEDED = "superseded"
"""The value a holder's champion tag (or alias tag) is overwritten with when a better-ranked
version keeps it: a tag is never deleted, so a promotion needs no permission to delete."""
MOVED = "moved"
"""The alias tag's value on a version a person moved the alias away from: it never wins it back."""
DELTA_PREFIX = PREFIX + "delta."
SERIES_PREFIX = PREFIX + "series."
MODEL_DIGEST = PREFIX + "model_digest"
DATA_PREFIX = PREFIX + "data."
METRICS_RUN = PREFIX + "metrics_run"
"""The run the metrics came from, when it is not the version's own (another pipeline step)."""
NO_BASELINE = "none"
SERIES_MAX_CHARS = 1000
"""The longest series text recorded (a JSON list): far below the tag value limits of MLflow
(5,000 characters in its oldest registries) and Azure ML. A longer series is not recorded; the
version then records its aggregate only (``promotion.metric.*``)."""
_SERIES_AGGREGATES = frozenset({Aggregate.MAX, Aggregate.MIN, Aggregate.MEAN})


def _safe(metric: str) -> str:
    # Tag keys must survive every backend's rules; a policy never holds two names alike here.
    return tag_safe(metric)


def metric_tag(metric: str) -> str:
    """Return the tag key that records a metric's candidate value."""
    return METRIC_PREFIX + _safe(metric)


def alias_tag(alias: str) -> str:
    """Return the tag key that marks a version promoted to hold the registered-model alias."""
    return ALIAS_PREFIX + _safe(alias)


def rank_tag(metric: str) -> str:
    """Return the tag key that records a metric's value in a version's effective rank."""
    return RANK_PREFIX + _safe(metric)


def state_value(state: str, live: str) -> str:
    """Return the value that marks `state` (`PENDING`, `SUPERSEDED`, `MOVED`) on a champion tag.

    It always differs from the tag's `live` value (the holder's), which lookups count alone.
    """
    return state if state != live else f"{state} (not {live})"


def delta_tag(metric: str) -> str:
    """Return the tag key that records a metric's improvement Δ over the baseline."""
    return DELTA_PREFIX + _safe(metric)


def series_tag(metric: str) -> str:
    """Return the tag key that records every value of a metric's candidate series."""
    return SERIES_PREFIX + _safe(metric)


def recorded_series_names(policy: PromotionPolicy) -> tuple[str, ...]:
    """Return the metrics whose series a version records: their rules read every value.

    A significance test needs every score, and ``max``, ``min`` and ``mean`` aggregate them
    all; ``last`` and ``first`` read one value, which ``promotion.metric.*`` records already.
    """
    return tuple(rule.name for rule in policy.rules if rule.aggregate in _SERIES_AGGREGATES)


def series_text(raw: object) -> str | None:
    """Return a metric's series as tag text, a compact JSON list of exact floats.

    Args:
        raw: The metric as the candidate reported it.

    Returns:
        The text (every float written to round-trip exactly), or None when there is nothing to
        record: not a series of at least 2 usable numbers, or its text is longer than
        `SERIES_MAX_CHARS`.
    """
    if not isinstance(raw, (list, tuple)) or len(raw) < 2:  # noqa: PLR2004 - one is no series
        return None
    values, _problem = read_series(raw)
    if values is None:
        return None

    text = json.dumps(list(values), separators=(",", ":"))
    return text if len(text) <= SERIES_MAX_CHARS else None


def unrecorded_series(policy: PromotionPolicy, candidate: Mapping[str, object]) -> tuple[str, ...]:
    """Return the usable candidate series too long to record (`SERIES_MAX_CHARS`), by name."""
    unrecorded = []
    for name in recorded_series_names(policy):
        raw = candidate.get(name)
        if isinstance(raw, (list, tuple)) and len(raw) > 1 and series_text(raw) is None:
            values, _problem = read_series(raw)
            if values is not None:
                unrecorded.append(name)
    return tuple(unrecorded)


def _recorded_series(text: str) -> list[float] | None:
    if not text:
        return None

    try:
        values = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return None
    if not isinstance(values, list) or not values or not all(map(is_usable_number, values)):
        return None
    return [float(value) for value in values]


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


def recorded_metrics(
    tags: Mapping[str, str], names: Iterable[str]
) -> dict[str, float | list[float]] | None:
    """Return the metric values a promotion recorded on a version (``promotion.metric.*``).

    Args:
        tags: The version's tags.
        names: The metrics wanted.

    Returns:
        Name → value for each wanted metric the tags record: its whole series when
        ``promotion.series.*`` records one (as the run would give it), else its value (a value
        that is not a number is left out, so it reads as missing); None when the version
        records no metric at all (it was not registered by a promotion that compared metrics).
    """
    if not any(key.startswith(METRIC_PREFIX) for key in tags):
        return None
    values: dict[str, float | list[float]] = {}
    for name in names:
        series = _recorded_series(tags.get(series_tag(name), ""))
        if series is not None:
            values[name] = series
            continue
        text = tags.get(metric_tag(name))
        if text is None:
            continue
        try:
            values[name] = float(text)
        except ValueError:
            continue
    return values


# A counter's longest text read as written: far beyond any real count, far below int()'s digit
# limit (a longer text is never parsed).
_COUNTER_MAX_DIGITS = 18
COUNTER_MAX: int = 10**_COUNTER_MAX_DIGITS - 1
"""The largest counter (generation, epoch, tolerated regressions): a longer decimal reads as it,
and a counter one past it is written as it (`one_more`)."""


def _counter(text: str) -> int:
    """Read a counter: a decimal, saturated at `COUNTER_MAX`; anything else is 0."""
    if not (text.isdecimal() and text.isascii()):
        return 0
    digits = text.lstrip("0")
    # Too long to be a real count: the largest, so a huge epoch still ranks highest.
    return int(digits or "0") if len(digits) <= _COUNTER_MAX_DIGITS else COUNTER_MAX


def version_number(text: str) -> int | None:
    """Read a version number a tag names (``promotion.baseline_version``, ``superseded_by``).

    Returns:
        The number; None when `text` is no decimal, or is longer than any registry's numbers
        (never parsed: `int()` has a digit limit).
    """
    usable = text.isdecimal() and text.isascii() and len(text) <= _COUNTER_MAX_DIGITS
    return int(text) if usable else None


def one_more(count: int) -> int:
    """Return `count` + 1, saturated at `COUNTER_MAX`: a counter is read back as written."""
    return min(count + 1, COUNTER_MAX)


def generation_of(tags: Mapping[str, str]) -> int:
    """Return a version's generation from its tags (0 when it has none or it is unreadable)."""
    return _counter(tags.get(GENERATION, ""))


def epoch_of(tags: Mapping[str, str]) -> int:
    """Return a version's epoch from its tags (0 when it has none or it is unreadable)."""
    return _counter(tags.get(EPOCH, ""))


def regressions_of(tags: Mapping[str, str]) -> int:
    """Return a version's count of tolerated regressions (0: none, or it is unreadable)."""
    return _counter(tags.get(REGRESSIONS, ""))


def decision_tags(
    decision: Decision,
    *,
    baseline_version: int | None,
    generation: int,
    candidate_values: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """Return the tags that record `decision` on the version it registers.

    Args:
        decision: The decision.
        baseline_version: The version the candidate was compared with, if any.
        generation: The new version's generation: its baseline's plus one (see `champion`).
        candidate_values: The candidate's raw metrics: the series of a metric whose rule reads
            every value (`recorded_series_names`) is recorded too (``promotion.series.*``), so
            that a version without a run is compared as its run would be.
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
    for name in recorded_series_names(decision.policy):
        text = series_text((candidate_values or {}).get(name))
        if text is not None:
            tags[series_tag(name)] = text
    for name, digest in (decision.candidate_data or {}).items():
        if digest is not None:
            tags[data_tag(name)] = digest
    return tags


SOURCE_PREFIX = PREFIX + "source."
SOURCE_KEY = SOURCE_PREFIX + "key"
"""The tag a copy in another registry is found by: its source's registry, name and version."""
SOURCE_REGISTRY = SOURCE_PREFIX + "registry"
SOURCE_NAME = SOURCE_PREFIX + "name"
SOURCE_VERSION = SOURCE_PREFIX + "version"
SOURCE_RUN = SOURCE_PREFIX + "run"


def source_key(registry: str, name: str, version: int) -> str:
    """Return the key a copy of version `version` of `name` in `registry` is found by."""
    return f"{registry}#{name}/{version}"


def source_tags(registry: str, name: str, version: int, run_id: str | None) -> dict[str, str]:
    """Return the ``promotion.source.*`` tags a copy carries: where it was copied from."""
    found = {
        SOURCE_KEY: source_key(registry, name, version),
        SOURCE_REGISTRY: registry,
        SOURCE_NAME: name,
        SOURCE_VERSION: str(version),
    }
    if run_id is not None:
        found[SOURCE_RUN] = run_id
    return found
