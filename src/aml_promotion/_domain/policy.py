"""The promotion policy: one rule per metric, and what to do when data is missing."""

from __future__ import annotations

import enum
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from aml_promotion._domain.choices import (
    InvariantError,
    checked_optional_text,
    checked_text,
    choice,
    flag,
    is_bool,
)
from aml_promotion._domain.names import (
    ALIAS_TAG_PREFIX,
    METRIC_TAG_PREFIXES,
    alias_problem,
    derived_key_problem,
    tag_key_problem,
)
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
    if is_bool(value):
        msg = f"{attribute.name} must be a finite number or None, not the boolean {value!r}"
        raise TypeError(msg)
    if not isinstance(value, numbers.Real):
        msg = f"{attribute.name} must be a finite number or None, not {type(value).__name__}"
        raise TypeError(msg)
    number: object = value  # the converter made every real number a float, when it could
    if not isinstance(number, float) or not math.isfinite(number):
        # A real number is still no float here only when it is too large for one (10**400).
        shown = repr(number) if isinstance(number, float) else "a number too large for a float"
        msg = f"{attribute.name} must be a finite number or None, not {shown}"
        raise ValueError(msg)


def _optional_float(value: float | None) -> float | None:
    # Only real numbers become floats: True or "0.1" must reach the validator as they are, not
    # as 1.0 and 0.1.
    raw: object = value  # the annotation is what type checkers see; callers may pass anything
    if is_bool(raw):
        return value
    if isinstance(raw, numbers.Real):
        try:
            return float(raw)
        except OverflowError:
            pass  # the validator says it is not a finite number
    return value


def _goal(value: Goal | str) -> Goal:
    return choice(Goal, "goal", value)


def _aggregate(value: Aggregate | str) -> Aggregate:
    return choice(Aggregate, "aggregate", value)


def _on_missing_baseline(value: OnMissingBaseline | str) -> OnMissingBaseline:
    return choice(OnMissingBaseline, "on_missing_baseline", value)


def _on_missing_baseline_metric(value: OnMissingBaselineMetric | str) -> OnMissingBaselineMetric:
    return choice(OnMissingBaselineMetric, "on_missing_baseline_metric", value)


def _metric_name(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    name = checked_text(
        attribute,
        value,
        expected="a metric name (a string)",
        blank=": give the metric's name as the run logged it",
    )
    # Refused here, not by the registry after a version is registered.
    problem = derived_key_problem(METRIC_TAG_PREFIXES, name, "the metric")
    if problem is not None:
        raise InvariantError(problem, field="name")


def _optional_dataset(
    _instance: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    checked_optional_text(
        attribute,
        value,
        expected="a dataset name (a string)",
        blank=": give the evaluation dataset's name, or None",
        show_value=True,
    )


def _alpha_float(value: float) -> float:
    # Any real number (a Fraction, a numpy float) is a level; a bool is not, nor is text.
    raw: object = value
    if is_bool(raw) or not isinstance(raw, numbers.Real):
        return value
    try:
        return float(raw)
    except OverflowError:
        return value  # the validator says it is out of range


def _alpha(_instance: object, attribute: attrs.Attribute[float], value: object) -> None:
    if not isinstance(value, float) or not 0 < value <= 0.5:  # noqa: PLR2004
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

    alpha: float = attrs.field(default=0.05, converter=_alpha_float, validator=_alpha)


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
        dataset: If set, the metric's value logged for this evaluation dataset (MLflow 3
            dataset-scoped metrics); None reads the value logged without a dataset.
        significance: If set, the candidate's and the baseline's series are compared by a
            significance test, and the change check also needs p ≤ alpha.
    """

    name: str = attrs.field(validator=_metric_name)
    goal: Goal = attrs.field(converter=_goal)
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
    # After significance: its default depends on it.
    aggregate: Aggregate = attrs.field(
        default=attrs.Factory(_default_aggregate, takes_self=True), converter=_aggregate
    )
    dataset: str | None = attrs.field(default=None, validator=_optional_dataset)

    def __attrs_post_init__(self) -> None:
        subject = f"metric {self.name!r}"
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            msg = (
                f"at_least ({self.at_least:g}) is greater than at_most ({self.at_most:g}): "
                "no value could pass"
            )
            raise InvariantError(msg, field="at_least", subject=subject)
        if self.significance is not None and self.aggregate is not Aggregate.MEAN:
            msg = (
                "a rule with significance compares the means of the series: its aggregate is "
                f"'mean', not {self.aggregate.value!r}"
            )
            raise InvariantError(msg, field="aggregate", subject=subject)

    @property
    def effective_min_delta(self) -> float:
        """The change check's threshold: `min_delta`, or 0 ("no worse") when unset."""
        return 0.0 if self.min_delta is None else self.min_delta


def _rules_tuple(rules: Iterable[MetricRule]) -> tuple[MetricRule, ...]:
    raw: object = rules
    if isinstance(raw, (str, bytes, MetricRule)) or not isinstance(raw, Iterable):
        msg = f"rules must be a list of MetricRule, not {type(raw).__name__}"
        raise TypeError(msg)
    converted = tuple(rules)
    for index, rule in enumerate(converted):
        item: object = rule
        if not isinstance(item, MetricRule):
            msg = f"rules[{index}] must be a MetricRule, not {type(item).__name__} {item!r}"
            raise TypeError(msg)
    return converted


# Characters a tag key keeps on every backend (MLflow allows these, Azure ML more); the others
# become "_" in the tags that record a decision (promotion.metric.<name>).
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-/ ]")


def tag_safe(metric: str) -> str:
    """Return the form of a metric's name used in tag keys (odd characters become ``_``)."""
    return _TAG_UNSAFE.sub("_", metric)


def _unique_metrics(
    _instance: object,
    _attribute: attrs.Attribute[tuple[MetricRule, ...]],
    rules: tuple[MetricRule, ...],
) -> None:
    seen: dict[str, MetricRule] = {}
    tagged: dict[str, str] = {}
    problems = []
    for index, rule in enumerate(rules):
        other = tagged.setdefault(tag_safe(rule.name), rule.name)
        if other != rule.name:
            problems.append(
                SettingsProblem(
                    path=f"$.rules[{index}]",
                    message=(
                        f"metrics {other!r} and {rule.name!r} would be recorded under the same "
                        f"tag (promotion.metric.{tag_safe(rule.name)}): rename one"
                    ),
                )
            )
        if rule.name in seen:
            first = seen[rule.name]
            what = (
                "is both maximized and minimized"
                if first.goal is not rule.goal
                else "has more than one rule"
            )
            problems.append(
                SettingsProblem(path=f"$.rules[{index}]", message=f"metric {rule.name!r} {what}")
            )
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
            msg = (
                'give exactly one of "context" (the datasets logged as inputs with that '
                'context) and "tag" (a run tag or parameter naming the data)'
            )
            raise InvariantError(msg, subject="evaluation_data")

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
    force: bool = attrs.field(default=False, validator=flag)
    require_improvement: bool = attrs.field(default=True, validator=flag)
    on_missing_baseline: OnMissingBaseline = attrs.field(
        default=OnMissingBaseline.PROMOTE,
        converter=_on_missing_baseline,
    )
    on_missing_baseline_metric: OnMissingBaselineMetric = attrs.field(
        default=OnMissingBaselineMetric.REJECT,
        converter=_on_missing_baseline_metric,
    )
    evaluation_data: EvaluationData | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.instance_of(EvaluationData)),
    )

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
                    "dataset": rule.dataset,
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PromotionPolicy:
        """Return the policy that `to_dict()` gave `data`.

        Raises:
            ValueError: `data` is not what `to_dict()` returns; the message names the key.
        """
        rules = data.get("rules", [])
        if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
            msg = f"'rules' must be a list of objects, not {rules!r}"
            raise ValueError(msg)
        known = ("min_delta", "min_relative_delta", "at_least", "at_most", "dataset")
        try:
            return cls(
                rules=tuple(
                    MetricRule(
                        name=rule.get("metric"),
                        goal=rule.get("goal"),
                        aggregate=rule.get("aggregate", Aggregate.LAST.value),
                        significance=_significance_from(rule.get("significance")),
                        **{key: rule.get(key) for key in known},
                    )
                    for rule in rules
                ),
                evaluation_data=_evaluation_data_from(data.get("evaluation_data")),
                force=data.get("force", False),
                require_improvement=data.get("require_improvement", True),
                on_missing_baseline=data.get("on_missing_baseline", OnMissingBaseline.PROMOTE),
                on_missing_baseline_metric=data.get(
                    "on_missing_baseline_metric", OnMissingBaselineMetric.REJECT
                ),
            )
        except TypeError as exc:
            raise ValueError(str(exc)) from None


def _significance_from(data: object) -> Significance | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        msg = f"'significance' must be an object such as {{'alpha': 0.05}}, not {data!r}"
        raise ValueError(msg)  # noqa: TRY004 - a record of the wrong shape is a bad value
    return Significance(alpha=data.get("alpha", 0.05))


def _evaluation_data_from(data: object) -> EvaluationData | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        msg = f"'evaluation_data' must be an object, not {data!r}"
        raise ValueError(msg)  # noqa: TRY004 - a record of the wrong shape is a bad value
    return EvaluationData(
        context=data.get("context"),
        tag=data.get("tag"),
        on_mismatch=data.get("on_mismatch", OnMismatch.REJECT),
    )


class BaselineKind(enum.Enum):
    """How the baseline version is chosen among the registered versions of a model."""

    LATEST = "latest"
    TAG = "tag"
    VERSION = "version"
    ALIAS = "alias"
    """An MLflow registered-model alias (``@champion``)."""
    STAGE = "stage"
    """An MLflow 2 stage (``Production``), read-only."""


# The kind is case-insensitive ("Latest", "Tag:stage=prod"), like the other choices; what
# follows it (a tag, an alias) is kept as written.
_TAG_STRATEGY = re.compile(r"tag:(?P<key>[^=]+)=(?P<value>.*)", re.DOTALL | re.IGNORECASE)
_VERSION_STRATEGY = re.compile(r"version:(?P<version>[1-9][0-9]{0,17})", re.IGNORECASE)
_NAMED_STRATEGY = re.compile(r"(?P<kind>alias|stage):(?P<name>.*)", re.DOTALL | re.IGNORECASE)


def _optional_text(
    _instance: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    if value is not None and not isinstance(value, str):
        msg = f"{attribute.name} must be a string or None, not {type(value).__name__} {value!r}"
        raise TypeError(msg)


def _optional_version(
    _instance: object, attribute: attrs.Attribute[int | None], value: object
) -> None:
    if value is None:
        return
    if is_bool(value) or not isinstance(value, int):
        msg = f"{attribute.name} must be an int or None, not {type(value).__name__} {value!r}"
        raise TypeError(msg)
    if value < 1:
        msg = f"{attribute.name} must be at least 1 (versions count from 1), not {value}"
        raise ValueError(msg)


def _kind(value: BaselineKind | str) -> BaselineKind:
    return choice(BaselineKind, "kind", value)


# What each kind needs set: the others must be None.
_NEEDS = {
    BaselineKind.LATEST: (),
    BaselineKind.TAG: ("tag_key", "tag_value"),
    BaselineKind.VERSION: ("version_number",),
    BaselineKind.ALIAS: ("name",),
    BaselineKind.STAGE: ("name",),
}


@attrs.frozen(kw_only=True)
class BaselineStrategy:
    """Which registered version is the baseline.

    The latest, the latest with a tag, a number, the holder of a registered-model alias
    (MLflow), or the latest version in a stage (MLflow 2 registries, read-only). Build one with
    :meth:`latest`, :meth:`tagged`, :meth:`version`, :meth:`alias`, :meth:`stage` or
    :meth:`parse`.
    """

    kind: BaselineKind = attrs.field(default=BaselineKind.LATEST, converter=_kind)
    tag_key: str | None = attrs.field(default=None, validator=_optional_text)
    tag_value: str | None = attrs.field(default=None, validator=_optional_text)
    version_number: int | None = attrs.field(default=None, validator=_optional_version)
    name: str | None = attrs.field(default=None, validator=_optional_text)
    """The alias (``ALIAS``) or the stage (``STAGE``)."""

    def __attrs_post_init__(self) -> None:
        needs = _NEEDS[self.kind]
        for name in ("tag_key", "tag_value", "version_number", "name"):
            given = getattr(self, name) is not None
            if given != (name in needs):
                what = "needs" if not given else "takes no"
                msg = f"the {self.kind.value!r} baseline strategy {what} {name}"
                raise ValueError(msg)
        for name in ("tag_key", "name"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                # The name is the alias or the stage: say which.
                what = self.kind.value if name == "name" else name
                msg = f"{what} of the {self.kind.value!r} baseline strategy is blank"
                raise ValueError(msg)
        # Refused here, not by the registry after a version is registered (DESIGN.md section 4).
        problem = None
        if self.kind is BaselineKind.ALIAS and self.name is not None:
            problem = alias_problem(self.name) or derived_key_problem(
                (ALIAS_TAG_PREFIX,), self.name, "the alias"
            )
        elif self.kind is BaselineKind.TAG and self.tag_key is not None:
            problem = tag_key_problem(self.tag_key)
        if problem is not None:
            raise ValueError(problem)

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
        """Parse ``latest``, ``tag:KEY=VALUE``, ``alias:NAME``, ``stage:NAME`` or ``version:N``.

        The kind is case-insensitive (``Latest``); the rest is kept as written.

        Raises:
            TypeError: `text` is not a string.
            ValueError: `text` is none of these.
        """
        raw: object = text
        if not isinstance(raw, str):
            msg = f"baseline must be a string such as 'latest', not {type(raw).__name__}"
            raise TypeError(msg)
        stripped = text.strip()
        if stripped.casefold() == "latest":
            return cls.latest()
        if (match := _TAG_STRATEGY.fullmatch(stripped)) and match["key"].strip():
            return cls.tagged(match["key"].strip(), match["value"].strip())
        if match := _VERSION_STRATEGY.fullmatch(stripped):
            return cls.version(int(match["version"]))
        if (match := _NAMED_STRATEGY.fullmatch(stripped)) and match["name"].strip():
            name = match["name"].strip()
            if match["kind"].casefold() == "alias":
                return cls.alias(name.removeprefix("@"))
            return cls.stage(name)
        msg = (
            "expected 'latest', 'tag:KEY=VALUE', 'alias:NAME', 'stage:NAME' or 'version:N' "
            f"(N ≥ 1), not {text!r}"
        )
        raise ValueError(msg)

    def describe_missing(self, model: str) -> str:
        """Return what was looked for and not found, for a decision's summary.

        Args:
            model: The model's name.
        """
        if self.kind is BaselineKind.TAG:
            return f"no version of {model} holds the tag {self.tag_key}={self.tag_value}"
        if self.kind is BaselineKind.ALIAS:
            return f"no version of {model} holds the alias @{self.name}"
        if self.kind is BaselineKind.STAGE:
            return f"no version of {model} is in the stage {self.name}"
        if self.kind is BaselineKind.VERSION:
            return f"{model} has no version {self.version_number}"
        return f"{model} has no registered version yet"

    def __str__(self) -> str:
        if self.kind is BaselineKind.TAG:
            return f"tag:{self.tag_key}={self.tag_value}"
        if self.kind is BaselineKind.VERSION:
            return f"version:{self.version_number}"
        if self.kind in (BaselineKind.ALIAS, BaselineKind.STAGE):
            return f"{self.kind.value}:{self.name}"
        return "latest"
