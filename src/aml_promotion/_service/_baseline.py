"""The baseline: the version the candidate is compared with, its metrics and its data.

`read_baseline` reads it once: the version the strategy picks (for a champion tag, its
best-ranked holder; on a re-run, the one the first registration was compared with, or the
champion now when that promotion did not complete, unless it completed meanwhile), the run
behind it, and what it offers the comparison.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from aml_promotion._domain import tags
from aml_promotion._domain.policy import BaselineStrategy, PromotionPolicy
from aml_promotion._retry import LOGGER_NAME
from aml_promotion._service._candidate import read_metrics
from aml_promotion._service._champion import champion_of, pending_tags
from aml_promotion.exceptions import BaselineNotFoundError, RunNotFoundError
from aml_promotion.ports import BaselineRunStore, ModelVersion

if TYPE_CHECKING:
    from aml_promotion.ports import ModelRegistry, RunRecord, RunStore

_LOGGER = logging.getLogger(LOGGER_NAME)


@attrs.frozen(kw_only=True)
class Baseline:
    """What the candidate is compared with.

    Attributes:
        version: The baseline version; None when there is none (or it was passed over).
        metrics: Its metric values; None when there is no baseline to compare with.
        data: What it was evaluated on, when the policy asks.
        missing: What was looked for and not found (or why the version was passed over), for
            the decision's summary when there is no baseline.
        notes: Caveats for the decision (a target's champion that records no metrics).
    """

    version: ModelVersion | None
    metrics: Mapping[str, object] | None
    data: Mapping[str, str | None] | None
    missing: str
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str | None:
        """How the decision names the baseline, or None."""
        if self.version is None:
            return None
        if self.version.run_id is None:
            return f"{self.version} (no linked run)"
        return f"{self.version} (run {self.version.run_id})"


def read_baseline(
    runs: RunStore | None,
    registry: ModelRegistry,
    name: str,
    strategy: BaselineStrategy,
    policy: PromotionPolicy,
    *,
    existing: ModelVersion | None,
) -> Baseline:
    """Find the baseline of `name` by `strategy`, and read what the comparison needs of it.

    Args:
        runs: Where the baseline's run is read; None for a registry in another environment,
            whose runs are not readable here: the baseline's metrics are then its
            ``promotion.metric.*`` tags, and a baseline without them lacks every metric
            (`on_missing_baseline_metric`), never passed over.
        registry: Where the baseline is found.
        name: The model's name.
        strategy: Which version is the baseline.
        policy: What is compared (and whether registration is forced); ranks the holders of a
            champion tag.
        existing: The version the candidate already is (a re-run), or None.

    Raises:
        RunNotFoundError: The run behind the baseline is gone, and registration is not forced.
    """
    version, missing = _find_baseline(registry, name, strategy, existing, policy=policy)
    if version is not None:
        _LOGGER.info("reading the baseline's metrics: %s", version)
    if runs is None:
        return _tagged_baseline(version, policy, missing=missing)
    run = _baseline_run(runs, version, policy)
    metrics = _baseline_metrics(runs, version, run, policy)
    passed_over = _passed_over(version, metrics)
    if passed_over is not None:
        version = None
    return Baseline(
        version=version,
        metrics=metrics,
        data=baseline_data(runs, version, run, policy),
        missing=passed_over or missing,
    )


def _tagged_baseline(
    version: ModelVersion | None, policy: PromotionPolicy, *, missing: str
) -> Baseline:
    """Read a baseline from its tags alone: a registry whose runs are not readable here."""
    if version is None:
        return Baseline(version=None, metrics=None, data=None, missing=missing)
    metrics = recorded_values(version, policy)
    notes: tuple[str, ...] = ()
    if metrics is None:
        notes = (unrecorded_champion(version),)
    return Baseline(
        version=version,
        metrics=metrics or {},
        data=baseline_data(None, version, None, policy),
        missing=missing,
        notes=notes,
    )


def unrecorded_champion(version: ModelVersion) -> str:
    """Say that `version`, a target's baseline, records no metrics, and how to seed them once."""
    return (
        f"the baseline {version} records no metrics (promotion.metric.* tags), and its runs are "
        "not readable from here: set the tags promotion.metric.<metric> = <value> on it once "
        "(by hand, or with the registry's client), or force one promotion to seed the record"
    )


def recorded_values(version: ModelVersion, policy: PromotionPolicy) -> Mapping[str, object] | None:
    """Return the metrics a promotion recorded on `version` (``promotion.metric.*``).

    Returns:
        Name → value of the metrics `policy` compares (empty without rules); None when the
        version records no metric at all.
    """
    if not policy.rules:
        return {}
    return tags.recorded_metrics(version.tags, policy.metric_names)


def _find_baseline(
    registry: ModelRegistry,
    name: str,
    strategy: BaselineStrategy,
    existing: ModelVersion | None,
    *,
    policy: PromotionPolicy,
) -> tuple[ModelVersion | None, str]:
    """Return the baseline (None: none), and what was looked for, for the summary when None.

    A re-run compares with what the first registration was compared with, never with itself. A
    version read as pending (its promotion had not taken the champion tag) is compared with the
    champion now; if that is the version itself, its promotion completed meanwhile (another
    process, such as the candidate's first run, still running when this one read it): it is
    compared as that registration was, by the record read now.
    """
    if existing is None:
        return champion_of(registry, name, strategy, policy), strategy.describe_missing(name)
    if not _pending(existing, strategy) and _records_baseline(existing):
        return _recorded_baseline(registry, name, existing)
    # A champion tag's holder as the settle ranks them (several hold it while promotions race).
    found = champion_of(registry, name, strategy, policy)
    already = f"already registered as version {existing.version} of {name}"
    if found is None:
        if _pending(existing, strategy):
            return None, (
                f"{already} by a promotion that did not complete, compared with the champion "
                f"now: {strategy.describe_missing(name)}"
            )
        return None, _not_itself(already, strategy)
    if found.version != existing.version:
        return found, ""
    if _pending(existing, strategy) and _records_baseline(found):
        return _recorded_baseline(registry, name, found)
    return None, _not_itself(already, strategy)


def _not_itself(already: str, strategy: BaselineStrategy) -> str:
    return (
        f"{already}, and no other version is the baseline ({strategy}): a version is never "
        "compared with itself"
    )


def _records_baseline(version: ModelVersion) -> bool:
    """Whether `version` records the baseline it was compared with (a promotion registered it)."""
    recorded = version.tags.get(tags.BASELINE_VERSION)
    if recorded == tags.NO_BASELINE:
        return True
    return recorded is not None and recorded.isdecimal() and recorded.isascii()


def _recorded_baseline(
    registry: ModelRegistry, name: str, version: ModelVersion
) -> tuple[ModelVersion | None, str]:
    """Return the baseline `version` records (`_records_baseline`), as `_find_baseline` does."""
    already = f"already registered as version {version.version} of {name}"
    recorded = version.tags.get(tags.BASELINE_VERSION, tags.NO_BASELINE)
    if recorded == tags.NO_BASELINE:
        return None, (
            f"{already}, when it had no baseline; a re-run compares with the baseline "
            "recorded at that registration"
        )
    gone = (
        f"{already}; version {recorded}, the baseline recorded at that registration, "
        "no longer exists"
    )
    number = tags.version_number(recorded)
    if number is None:
        return None, gone
    try:
        found = registry.find_baseline(name, BaselineStrategy.version(number))
    except BaselineNotFoundError:
        return None, gone  # deleted since: nothing is registered on a re-run anyway
    return found, gone


def _pending(version: ModelVersion, strategy: BaselineStrategy) -> bool:
    """Whether `version` was registered by a promotion that did not take the champion tag."""
    pending = pending_tags(strategy)
    return bool(pending) and all(version.tags.get(k) == v for k, v in pending.items())


def _baseline_run(
    runs: RunStore, baseline: ModelVersion | None, policy: PromotionPolicy
) -> RunRecord | None:
    """Read the run behind the baseline, once; None when it has none (or, forced, it is gone).

    The run its metrics come from, by the rule a registered candidate's are read with
    (`read_scored_run`): its own, or the pipeline step a promotion took them from.

    Raises:
        RunNotFoundError: The run is gone, unforced: a baseline that cannot be read is never
            taken as "no baseline".
    """
    if baseline is None:
        return None
    try:
        return read_scored_run(runs, baseline)
    except RunNotFoundError as exc:
        run_id = _scored_run_id(baseline)
        if policy.force:
            return None  # forced: every rule records the baseline's metric as missing
        msg = (
            f"the run {run_id!r} behind the baseline {baseline} was not found, so the "
            f"candidate cannot be compared with it (force registration to register anyway): {exc}"
        )
        raise RunNotFoundError(msg, run_id=run_id) from exc


def _scored_run_id(version: ModelVersion) -> str | None:
    """Return the id of the run whose metrics `version` offers (None: it has no linked run).

    A promotion that read the metrics from another pipeline step (`metrics_child_run_name`)
    recorded that step's run (``promotion.metrics_run``; only a promotion writes it); else it
    is the version's own run.
    """
    if version.run_id is None:
        return None
    return version.tags.get(tags.METRICS_RUN) or version.run_id


def read_scored_run(runs: RunStore, version: ModelVersion) -> RunRecord | None:
    """Read the run whose metrics and evaluation data `version` offers (`_scored_run_id`).

    The baseline and a registered version as the candidate read it by this one rule. A run a
    promotion resolved (the version has the decision's tags) is read more cheaply where the
    backend can (`BaselineRunStore`); a version registered otherwise may name a pipeline or
    sweep, which `get_run` resolves.

    Returns:
        The run; None when `version` has no linked run.

    Raises:
        RunNotFoundError: The run is gone.
    """
    run_id = _scored_run_id(version)
    if run_id is None:
        return None
    if isinstance(runs, BaselineRunStore) and tags.VERDICT in version.tags:
        return runs.get_baseline_run(run_id)
    return runs.get_run(experiment_name=None, run_id=run_id)


def _baseline_metrics(
    runs: RunStore, baseline: ModelVersion | None, run: RunRecord | None, policy: PromotionPolicy
) -> Mapping[str, object] | None:
    """Return the baseline's metrics: from its `run` (see `_baseline_run`), else its tags."""
    if baseline is None:
        return None
    if baseline.run_id is None:
        # Registered in local mode on a backend that keeps no run for it (Azure ML): what the
        # promotion recorded on the version. None (no such record) passes the version over.
        return recorded_values(baseline, policy)
    if run is None:
        return {}  # forced past a run that is gone: every rule records the metric as missing
    return read_metrics(runs, run, policy).values


def baseline_data(
    runs: RunStore | None,
    baseline: ModelVersion | None,
    run: RunRecord | None,
    policy: PromotionPolicy,
) -> Mapping[str, str | None] | None:
    """Return what the baseline was evaluated on: from its `run`, else from its tags."""
    if policy.evaluation_data is None or baseline is None:
        return None
    data: Mapping[str, str | None] = {}
    if run is not None and runs is not None:
        data = runs.get_evaluation_data(run, policy.evaluation_data)
    # A version registered by a promotion records it, so a run-less baseline still has it.
    return data or tags.evaluation_data_of(baseline.tags) or None


def _passed_over(baseline: ModelVersion | None, values: Mapping[str, object] | None) -> str | None:
    """Return why `baseline` cannot be compared with (no run, no recorded metrics), or None."""
    if baseline is None or values is not None:
        return None
    return (
        f"version {baseline.version} of {baseline.name} was passed over as the baseline: it has "
        "no linked run and no metrics recorded by a promotion (promotion.metric.*), as a model "
        "registered by hand"
    )
