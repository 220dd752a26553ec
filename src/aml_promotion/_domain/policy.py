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


def _alpha(_instance: object, attribute: attrs.Attribute[float], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 0.5:  # noqa: PLR2004
        msg = f"{attribute.name} must be a number in (0, 0.5], not {value!r}"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class Significance:
    """A significance test on a rule whose values are series of scores (DESIGN.md section 3).

    The candidate's and the baseline's series (per-fold, per-seed or bootstrap scores logged
    under one name) are compared by a permutation test: paired when they have the same length,
    unpaired otherwise. The rule's change check passes only when p ≤ `alpha`.

    Attributes:
        alpha: The significance level, in (0, 0.5].
    """

    alpha: float = attrs.field(default=0.05, validator=_alpha)


def _default_aggregate(rule: MetricRule) -> Aggregate:
    # A rule with a significance test compares whole series: its value is their mean.
    return Aggregate.LAST if rule.significance is None else Aggregate.MEAN


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
        aggregate: Which value of a series stands for the run (default the last one; the mean,
            the only one allowed, with `significance`).
        significance: If set, the candidate's and the baseline's series are compared by a
            significance test, and the change check also needs p ≤ alpha.
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
    significance: Significance | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.instance_of(Significance)),
    )
    aggregate: Aggregate = attrs.field(
        default=attrs.Factory(_default_aggregate, takes_self=True),
        validator=attrs.validators.instance_of(Aggregate),
    )

    def __attrs_post_init__(self) -> None:
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            msg = (
                f"metric {self.name!r}: at_least ({self.at_least:g}) is greater than "
                f"at_most ({self.at_most:g}), so no value could pass"
            )
            raise ValueError(msg)
        if self.significance is not None and self.aggregate is not Aggregate.MEAN:
            msg = (
                f"metric {self.name!r}: a rule with significance compares the means of the "
                f"series, so its aggregate is 'mean', not {self.aggregate.value!r}"
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


class OnMismatch(enum.Enum):
    """What to do when the candidate and the baseline were not evaluated on the same data."""

    REJECT = "reject"
    WARN = "warn"


def _on_mismatch(value: OnMismatch | str) -> OnMismatch:
    # A plausible string ("warn", "Reject") is taken; anything else reaches the validator.
    if isinstance(value, str):
        for member in OnMismatch:
            if member.value == value.strip().lower():
                return member
        msg = f"on_mismatch must be one of reject, warn; not {value!r}"
        raise ValueError(msg)
    return value


def _optional_name(
    _instance: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        msg = f"{attribute.name} must be a non-empty string or None, not {value!r}"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class EvaluationData:
    """How a run names the data it was evaluated on (DESIGN.md section 3, "Same evaluation data").

    Give exactly one of `context` and `tag`.

    Attributes:
        context: The datasets a run logged as inputs with this context (MLflow dataset inputs
            tagged ``mlflow.data.context``; Azure ML v1 input datasets of this input name):
            name → digest or version.
        tag: A run tag or parameter both runs carry, such as a hash of the test set.
        on_mismatch: `OnMismatch.REJECT` (default) or `OnMismatch.WARN` (decide anyway, and
            record the mismatch).
    """

    context: str | None = attrs.field(default=None, validator=_optional_name)
    tag: str | None = attrs.field(default=None, validator=_optional_name)
    on_mismatch: OnMismatch = attrs.field(
        default=OnMismatch.REJECT,
        converter=_on_mismatch,
        validator=attrs.validators.instance_of(OnMismatch),
    )

    def __attrs_post_init__(self) -> None:
        if (self.context is None) == (self.tag is None):
            msg = "evaluation_data needs exactly one of context and tag"
            raise ValueError(msg)

    def to_dict(self) -> dict[str, object]:
        """Return the setting as JSON-ready data."""
        return {"context": self.context, "tag": self.tag, "on_mismatch": self.on_mismatch.value}

    def __str__(self) -> str:
        return f"context {self.context!r}" if self.context is not None else f"tag {self.tag!r}"


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
        evaluation_data: If set, the candidate is compared with the baseline only when both
            were evaluated on the same data.
    """

    rules: tuple[MetricRule, ...] = attrs.field(
        default=(), converter=_rules_tuple, validator=_unique_metrics
    )
    force: bool = False
    require_improvement: bool = True
    on_missing_baseline: OnMissingBaseline = OnMissingBaseline.PROMOTE
    on_missing_baseline_metric: OnMissingBaselineMetric = OnMissingBaselineMetric.REJECT
    evaluation_data: EvaluationData | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.instance_of(EvaluationData)),
    )

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The names of the metrics the rules use, in rule order."""
        return tuple(rule.name for rule in self.rules)

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
                    "significance": (
                        None if rule.significance is None else {"alpha": rule.significance.alpha}
                    ),
                }
                for rule in self.rules
            ],
            "evaluation_data": (
                None if self.evaluation_data is None else self.evaluation_data.to_dict()
            ),
        }


class BaselineKind(enum.Enum):
    """How the baseline version is chosen among the registered versions of a model."""

    LATEST = "latest"
    TAG = "tag"
    VERSION = "version"


_TAG_STRATEGY = re.compile(r"^tag:(?P<key>[^=]+)=(?P<value>.*)$", re.DOTALL)
_VERSION_STRATEGY = re.compile(r"^version:(?P<version>[1-9][0-9]*)$")


@attrs.frozen(kw_only=True)
class BaselineStrategy:
    """Which registered version is the baseline: the latest, the latest with a tag, or a number.

    Build one with :meth:`latest`, :meth:`tagged`, :meth:`version` or :meth:`parse`.
    """

    kind: BaselineKind = BaselineKind.LATEST
    tag_key: str | None = None
    tag_value: str | None = None
    version_number: int | None = None

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
    def parse(cls, text: str) -> BaselineStrategy:
        """Parse ``latest``, ``tag:KEY=VALUE`` or ``version:N``.

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
        msg = f"expected 'latest', 'tag:KEY=VALUE' or 'version:N' (N ≥ 1), not {text!r}"
        raise ValueError(msg)

    def __str__(self) -> str:
        if self.kind is BaselineKind.TAG:
            return f"tag:{self.tag_key}={self.tag_value}"
        if self.kind is BaselineKind.VERSION:
            return f"version:{self.version_number}"
        return "latest"
