"""The promotion policy: one rule per metric, and what to do when data is missing."""

from __future__ import annotations

import enum
import math
import numbers
import re
from collections.abc import Iterable

import attrs

from aml_promotion.exceptions import SettingsError, SettingsProblem


class Goal(enum.Enum):
    """Whether a larger or a smaller value of a metric is better."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


class Aggregate(enum.Enum):
    """Which value of a series (a metric logged several times) stands for the run."""

    LAST = "last"
    FIRST = "first"
    MAX = "max"
    MIN = "min"
    MEAN = "mean"


class OnMissingBaseline(enum.Enum):
    """What to do when there is no baseline to compare with."""

    PROMOTE = "promote"
    REJECT = "reject"


class OnMissingBaselineMetric(enum.Enum):
    """What to do when the baseline lacks a rule's metric, or its value is unusable."""

    REJECT = "reject"
    SKIP = "skip"


def _optional_finite(
    _instance: object, attribute: attrs.Attribute[float | None], value: object
) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        msg = f"{attribute.name} must be a finite number or None, not {value!r}"
        raise ValueError(msg)


def _optional_float(value: float | None) -> float | None:
    # Only real numbers become floats: True or "0.1" must reach the validator as they are, not
    # as 1.0 and 0.1.
    raw: object = value  # the annotation is what type checkers see; callers may pass anything
    if isinstance(raw, bool):
        return value
    if isinstance(raw, numbers.Real):
        try:
            return float(raw)
        except OverflowError:
            pass  # the validator says it is not a finite number
    return value


@attrs.frozen(kw_only=True)
class MetricRule:
    """How one metric decides: its goal, the change it must show, the range it must stay in.

    Attributes:
        name: The metric's name as the run logged it.
        goal: Whether larger (`Goal.MAXIMIZE`) or smaller (`Goal.MINIMIZE`) is better.
        min_delta: The improvement Δ the candidate must show over the baseline (default 0,
            "no worse"). Negative tolerates that much regression.
        min_relative_delta: If set, the relative improvement Δ/|baseline| must reach it too.
        at_least: If set, the candidate's value must be at least this, baseline or not.
        at_most: If set, the candidate's value must be at most this, baseline or not.
        aggregate: Which value of a series stands for the run (default the last one).
        dataset: The evaluation dataset whose value counts, for a metric logged per dataset
            (MLflow 3: ``log_metric(..., dataset=...)``); None when it is logged once.
    """

    name: str = attrs.field(validator=attrs.validators.min_len(1))
    goal: Goal = attrs.field(validator=attrs.validators.instance_of(Goal))
    min_delta: float | None = attrs.field(
        default=None, converter=_optional_float, validator=_optional_finite
    )
    min_relative_delta: float | None = attrs.field(
        default=None, converter=_optional_float, validator=_optional_finite
    )
    at_least: float | None = attrs.field(
        default=None, converter=_optional_float, validator=_optional_finite
    )
    at_most: float | None = attrs.field(
        default=None, converter=_optional_float, validator=_optional_finite
    )
    aggregate: Aggregate = attrs.field(
        default=Aggregate.LAST, validator=attrs.validators.instance_of(Aggregate)
    )

    dataset: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            msg = (
                f"metric {self.name!r}: at_least ({self.at_least:g}) is greater than "
                f"at_most ({self.at_most:g}), so no value could pass"
            )
            raise ValueError(msg)

    @property
    def effective_min_delta(self) -> float:
        """The change check's threshold: `min_delta`, or 0 ("no worse") when unset."""
        return 0.0 if self.min_delta is None else self.min_delta


def _rules_tuple(rules: Iterable[MetricRule]) -> tuple[MetricRule, ...]:
    return tuple(rules)


def _unique_metrics(
    _instance: object,
    _attribute: attrs.Attribute[tuple[MetricRule, ...]],
    rules: tuple[MetricRule, ...],
) -> None:
    seen: dict[str, MetricRule] = {}
    problems = []
    for rule in rules:
        if rule.name in seen:
            first = seen[rule.name]
            what = (
                "is both maximized and minimized"
                if first.goal is not rule.goal
                else "has more than one rule"
            )
            problems.append(SettingsProblem(path="$.rules", message=f"metric {rule.name!r} {what}"))
        else:
            seen[rule.name] = rule
    if problems:
        raise SettingsError(problems)


@attrs.frozen(kw_only=True)
class PromotionPolicy:
    """The rules a candidate must pass to be registered.

    Attributes:
        rules: One rule per metric; a metric may appear once.
        force: Register whatever the rules say (the decision is still computed and recorded).
        require_improvement: At least one metric must be strictly better (the Pareto rule).
        on_missing_baseline: What to do when there is no baseline.
        on_missing_baseline_metric: What to do when the baseline lacks a metric, or its value
            is unusable.
    """

    rules: tuple[MetricRule, ...] = attrs.field(
        default=(), converter=_rules_tuple, validator=_unique_metrics
    )
    force: bool = False
    require_improvement: bool = True
    on_missing_baseline: OnMissingBaseline = OnMissingBaseline.PROMOTE
    on_missing_baseline_metric: OnMissingBaselineMetric = OnMissingBaselineMetric.REJECT

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The names of the metrics the rules use, in rule order."""
        return tuple(rule.name for rule in self.rules)

    @property
    def metric_datasets(self) -> dict[str, str]:
        """The dataset each rule that names one reads its metric on (metric name → dataset)."""
        return {rule.name: rule.dataset for rule in self.rules if rule.dataset is not None}

    @property
    def series_metric_names(self) -> tuple[str, ...]:
        """The metrics whose rule aggregates a series other than by its last value."""
        return tuple(rule.name for rule in self.rules if rule.aggregate is not Aggregate.LAST)

    def to_dict(self) -> dict[str, object]:
        """Return the policy as JSON-ready data."""
        return {
            "force": self.force,
            "require_improvement": self.require_improvement,
            "on_missing_baseline": self.on_missing_baseline.value,
            "on_missing_baseline_metric": self.on_missing_baseline_metric.value,
            "rules": [
                {
                    "metric": rule.name,
                    "goal": rule.goal.value,
                    "min_delta": rule.min_delta,
                    "min_relative_delta": rule.min_relative_delta,
                    "at_least": rule.at_least,
                    "at_most": rule.at_most,
                    "aggregate": rule.aggregate.value,
                    **({} if rule.dataset is None else {"dataset": rule.dataset}),
                }
                for rule in self.rules
            ],
        }


class BaselineKind(enum.Enum):
    """How the baseline version is chosen among the registered versions of a model."""

    LATEST = "latest"
    TAG = "tag"
    VERSION = "version"
    ALIAS = "alias"
    STAGE = "stage"


_TAG_STRATEGY = re.compile(r"^tag:(?P<key>[^=]+)=(?P<value>.*)$", re.DOTALL)
_VERSION_STRATEGY = re.compile(r"^version:(?P<version>[1-9][0-9]*)$")
_NAMED_STRATEGY = re.compile(r"^(?P<kind>alias|stage):(?P<name>.+)$", re.DOTALL | re.IGNORECASE)


@attrs.frozen(kw_only=True)
class BaselineStrategy:
    """Which registered version is the baseline.

    The latest, the latest with a tag, a number, the holder of a registered-model alias
    (MLflow), or the latest version in a stage (MLflow 2 registries, read-only). Build one with
    :meth:`latest`, :meth:`tagged`, :meth:`version`, :meth:`alias`, :meth:`stage` or
    :meth:`parse`.
    """

    kind: BaselineKind = BaselineKind.LATEST
    tag_key: str | None = None
    tag_value: str | None = None
    version_number: int | None = None
    name: str | None = None
    """The alias (``ALIAS``) or the stage (``STAGE``)."""

    @classmethod
    def latest(cls) -> BaselineStrategy:
        """Return the strategy "the version with the highest number"."""
        return cls()

    @classmethod
    def tagged(cls, key: str, value: str) -> BaselineStrategy:
        """Return the strategy "the highest-numbered version whose tag `key` is `value`"."""
        return cls(kind=BaselineKind.TAG, tag_key=key, tag_value=value)

    @classmethod
    def version(cls, number: int) -> BaselineStrategy:
        """Return the strategy "exactly version `number`"."""
        return cls(kind=BaselineKind.VERSION, version_number=number)

    @classmethod
    def alias(cls, name: str) -> BaselineStrategy:
        """Return the strategy "the version that holds the registered-model alias `name`"."""
        return cls(kind=BaselineKind.ALIAS, name=name)

    @classmethod
    def stage(cls, name: str) -> BaselineStrategy:
        """Return the strategy "the highest-numbered version in stage `name`" (MLflow 2)."""
        return cls(kind=BaselineKind.STAGE, name=name)

    @classmethod
    def parse(cls, text: str) -> BaselineStrategy:
        """Parse ``latest``, ``tag:KEY=VALUE``, ``version:N``, ``alias:NAME`` or ``stage:NAME``.

        Raises:
            ValueError: `text` is none of these.
        """
        stripped = text.strip()
        if stripped == "latest":
            return cls.latest()
        if (match := _TAG_STRATEGY.match(stripped)) and match["key"].strip():
            return cls.tagged(match["key"].strip(), match["value"].strip())
        if match := _VERSION_STRATEGY.match(stripped):
            return cls.version(int(match["version"]))
        if (match := _NAMED_STRATEGY.match(stripped)) and match["name"].strip():
            kind = BaselineKind(match["kind"].lower())
            return cls(kind=kind, name=match["name"].strip())
        msg = (
            "expected 'latest', 'tag:KEY=VALUE', 'version:N' (N ≥ 1), 'alias:NAME' or "
            f"'stage:NAME', not {text!r}"
        )
        raise ValueError(msg)

    def __str__(self) -> str:
        if self.kind is BaselineKind.TAG:
            return f"tag:{self.tag_key}={self.tag_value}"
        if self.kind is BaselineKind.VERSION:
            return f"version:{self.version_number}"
        if self.kind in (BaselineKind.ALIAS, BaselineKind.STAGE):
            return f"{self.kind.value}:{self.name}"
        return "latest"
