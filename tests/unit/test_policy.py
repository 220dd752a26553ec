"""The policy's values: MetricRule, PromotionPolicy and BaselineStrategy keep themselves valid."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from aml_promotion import (
    Aggregate,
    BaselineStrategy,
    Goal,
    MetricRule,
    OnMissingBaseline,
    OnMissingBaselineMetric,
    PromotionPolicy,
)
from aml_promotion._domain.policy import BaselineKind


@pytest.mark.parametrize("field", ["min_delta", "min_relative_delta", "at_least", "at_most"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, True, "0.1"])
def test_a_threshold_must_be_a_finite_number(field: str, bad: object) -> None:
    """NaN, ±inf, a boolean or a string is refused as a threshold, naming the field."""
    with pytest.raises((ValueError, TypeError), match=field):
        MetricRule(name="auc", goal=Goal.MAXIMIZE, **{field: bad})


def test_thresholds_are_stored_as_floats() -> None:
    """An int threshold becomes a float; None stays None."""
    rule = MetricRule(name="auc", goal=Goal.MAXIMIZE, min_delta=1, at_most=None)
    assert rule.min_delta == 1.0
    assert isinstance(rule.min_delta, float)
    assert rule.at_most is None


def test_at_least_above_at_most_is_refused() -> None:
    """A range no value could be in is a configuration error."""
    with pytest.raises(ValueError, match="no value could pass"):
        MetricRule(name="auc", goal=Goal.MAXIMIZE, at_least=0.9, at_most=0.8)
    assert MetricRule(name="auc", goal=Goal.MAXIMIZE, at_least=0.8, at_most=0.8).at_least == 0.8


def test_a_rule_needs_a_name_and_a_goal() -> None:
    """A blank name, or a goal / aggregate that is no choice of theirs, is refused by name."""
    with pytest.raises(ValueError, match="name is blank"):
        MetricRule(name="", goal=Goal.MAXIMIZE)
    with pytest.raises(ValueError, match="name is blank"):
        MetricRule(name="  ", goal=Goal.MAXIMIZE)
    with pytest.raises(ValueError, match="goal must be one of 'maximize', 'minimize', not 'max'"):
        MetricRule(name="auc", goal="max")
    with pytest.raises(TypeError, match="goal must be a Goal or one of"):
        MetricRule(name="auc", goal=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="aggregate must be one of 'last', 'first'"):
        MetricRule(name="auc", goal=Goal.MAXIMIZE, aggregate="median")


def test_a_rule_takes_its_choices_as_strings_in_any_case() -> None:
    """goal="maximize" and aggregate="MAX" are the enums they name."""
    rule = MetricRule(name="auc", goal=" Maximize", aggregate="MAX")
    assert rule.goal is Goal.MAXIMIZE
    assert rule.aggregate is Aggregate.MAX
    assert rule == MetricRule(name="auc", goal=Goal.MAXIMIZE, aggregate=Aggregate.MAX)


def test_the_effective_min_delta_defaults_to_no_worse() -> None:
    """Without min_delta the change check's threshold is 0."""
    assert MetricRule(name="auc", goal=Goal.MAXIMIZE).effective_min_delta == 0.0
    assert MetricRule(name="a", goal=Goal.MAXIMIZE, min_delta=-0.1).effective_min_delta == -0.1


def test_policy_defaults_follow_the_design() -> None:
    """Defaults: no force, improvement required, promote without baseline, reject without metric."""
    policy = PromotionPolicy()
    assert policy.rules == ()
    assert policy.force is False
    assert policy.require_improvement is True
    assert policy.on_missing_baseline is OnMissingBaseline.PROMOTE
    assert policy.on_missing_baseline_metric is OnMissingBaselineMetric.REJECT


def test_policy_names_its_metrics_and_the_series_it_needs() -> None:
    """metric_names lists every rule's metric; series_metric_names those not read as "last"."""
    policy = PromotionPolicy(
        rules=[
            MetricRule(name="auc", goal=Goal.MAXIMIZE),
            MetricRule(name="loss", goal=Goal.MINIMIZE, aggregate=Aggregate.MIN),
        ]
    )
    assert isinstance(policy.rules, tuple)
    assert policy.metric_names == ("auc", "loss")
    assert policy.series_metric_names == ("loss",)


def test_policy_to_dict_lists_every_setting() -> None:
    """The policy serializes with its options and each rule's thresholds."""
    policy = PromotionPolicy(
        rules=[MetricRule(name="auc", goal=Goal.MAXIMIZE, min_delta=0.01, at_least=0.5)],
        force=True,
    )
    assert policy.to_dict() == {
        "force": True,
        "require_improvement": True,
        "on_missing_baseline": "promote",
        "on_missing_baseline_metric": "reject",
        "rules": [
            {
                "metric": "auc",
                "goal": "maximize",
                "min_delta": 0.01,
                "min_relative_delta": None,
                "at_least": 0.5,
                "at_most": None,
                "aggregate": "last",
                "dataset": None,
                "significance": None,
            }
        ],
        "evaluation_data": None,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("latest", BaselineStrategy.latest()),
        ("  latest ", BaselineStrategy.latest()),
        ("tag:stage=production", BaselineStrategy.tagged("stage", "production")),
        ("tag: stage = production ", BaselineStrategy.tagged("stage", "production")),
        ("tag:k=a=b", BaselineStrategy.tagged("k", "a=b")),
        ("tag:approved=", BaselineStrategy.tagged("approved", "")),
        ("version:7", BaselineStrategy.version(7)),
        ("alias:champion", BaselineStrategy.alias("champion")),
        ("Alias: champion ", BaselineStrategy.alias("champion")),
        ("stage:Production", BaselineStrategy.stage("Production")),
        ("STAGE:Staging", BaselineStrategy.stage("Staging")),
    ],
)
def test_baseline_strategies_parse(text: str, expected: BaselineStrategy) -> None:
    """latest, tag:KEY=VALUE and version:N parse into the matching strategy."""
    assert BaselineStrategy.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "newest",
        "version:0",
        "version:-1",
        "version:x",
        "tag:=v",
        "tag: =v",
        "tag:novalue",
        "v:1",
        "alias:",
        "stage: ",
    ],
)
def test_other_baseline_strategies_are_refused(text: str) -> None:
    """Anything else is a ValueError that shows the accepted forms."""
    with pytest.raises(
        ValueError, match="'latest', 'tag:KEY=VALUE', 'alias:NAME', 'stage:NAME' or 'version:N'"
    ):
        BaselineStrategy.parse(text)


@pytest.mark.parametrize(
    "text", ["latest", "tag:stage=production", "version:12", "alias:champion", "stage:Production"]
)
def test_a_baseline_strategy_prints_as_it_is_written(text: str) -> None:
    """str() of a strategy is the text it parses from."""
    assert str(BaselineStrategy.parse(text)) == text


def test_baseline_strategy_kinds() -> None:
    """Each constructor sets its kind and only its own fields."""
    assert BaselineStrategy.latest().kind is BaselineKind.LATEST
    tagged = BaselineStrategy.tagged("k", "v")
    assert (tagged.kind, tagged.tag_key, tagged.tag_value) == (BaselineKind.TAG, "k", "v")
    assert BaselineStrategy.version(3).version_number == 3
    alias = BaselineStrategy.alias("champion")
    assert (alias.kind, alias.name, alias.tag_key) == (BaselineKind.ALIAS, "champion", None)
    stage = BaselineStrategy.stage("Production")
    assert (stage.kind, stage.name) == (BaselineKind.STAGE, "Production")


def test_any_real_number_is_a_threshold_but_not_one_too_large_for_a_float() -> None:
    """A Fraction threshold becomes its float; one beyond float range is refused, not cut."""
    assert MetricRule(name="a", goal=Goal.MAXIMIZE, min_delta=Fraction(1, 4)).min_delta == 0.25
    with pytest.raises(ValueError, match="min_delta must be a finite number"):
        MetricRule(name="a", goal=Goal.MAXIMIZE, min_delta=Fraction(10**400, 1))


def test_a_rule_name_and_dataset_must_be_text() -> None:
    """A name that is no string, and a dataset that is no string or is blank, are refused."""
    with pytest.raises(TypeError, match="name must be a metric name"):
        MetricRule(name=1, goal=Goal.MAXIMIZE)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="dataset must be a dataset name"):
        MetricRule(name="auc", goal=Goal.MAXIMIZE, dataset=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dataset is blank"):
        MetricRule(name="auc", goal=Goal.MAXIMIZE, dataset=" ")
    assert MetricRule(name="auc", goal=Goal.MAXIMIZE, dataset="test").dataset == "test"


def test_a_baseline_strategy_refuses_what_is_not_text() -> None:
    """A tag key, alias or stage that is not a string, or is blank, and parse() of a non-string."""
    with pytest.raises(TypeError, match="name must be a string or None"):
        BaselineStrategy.alias(7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alias of the 'alias' baseline strategy is blank"):
        BaselineStrategy.alias(" ")
    with pytest.raises(ValueError, match="stage of the 'stage' baseline strategy is blank"):
        BaselineStrategy.stage("")
    with pytest.raises(TypeError, match="baseline must be a string such as 'latest', not int"):
        BaselineStrategy.parse(3)  # type: ignore[arg-type]
