"""A core that cannot be misused: plausible calls either mean what they say or are refused.

Each test here names a call that once gave a silent wrong verdict or a confusing error.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aml_promotion import (
    Aggregate,
    BaselineStrategy,
    Framework,
    Goal,
    MetricRule,
    OnMissingBaseline,
    OnMissingBaselineMetric,
    PromotionPolicy,
    Settings,
    decide,
)
from aml_promotion._domain.policy import BaselineKind

# --- item 1: public value types convert or refuse ------------------------------------------------


def test_a_first_model_is_promoted_when_the_policy_says_promote_as_a_string() -> None:
    """on_missing_baseline="promote" is the enum, so a first model (no baseline) is promoted."""
    policy = PromotionPolicy(
        rules=[MetricRule(name="auc", goal="maximize")], on_missing_baseline="promote"
    )
    assert policy.on_missing_baseline is OnMissingBaseline.PROMOTE
    assert decide({"auc": 0.9}, None, policy).verdict == "promote"
    rejecting = attrs.evolve(policy, on_missing_baseline="REJECT")
    assert decide({"auc": 0.9}, None, rejecting).verdict == "reject"


def test_skip_as_a_string_skips_the_missing_baseline_metric() -> None:
    """on_missing_baseline_metric="skip" is honoured, not ignored."""
    policy = PromotionPolicy(
        rules=[
            MetricRule(name="auc", goal="maximize"),
            MetricRule(name="loss", goal="minimize"),
        ],
        on_missing_baseline_metric="skip",
    )
    assert policy.on_missing_baseline_metric is OnMissingBaselineMetric.SKIP
    assert decide({"auc": 0.9, "loss": 0.1}, {"auc": 0.8}, policy).verdict == "promote"


@pytest.mark.parametrize("value", ["false", "true", 0, 1, None, "no"])
def test_a_flag_takes_only_a_bool(value: object) -> None:
    """force="false" is an error naming the field, never a forced registration."""
    with pytest.raises(TypeError, match="force must be True or False"):
        PromotionPolicy(force=value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="require_improvement must be True or False"):
        PromotionPolicy(require_improvement=value)  # type: ignore[arg-type]


class bool_:  # noqa: N801 - numpy's name, which is how its bools are recognized
    """Stands in for numpy.bool_ (numpy is no dependency): a bool that is no `int`."""

    def __init__(self, value: bool) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return self.value

    def __repr__(self) -> str:
        return f"np.{self.value}"


def test_a_numpy_bool_gets_the_bool_message() -> None:
    """A numpy bool is refused as a flag with advice, and as a threshold as a boolean."""
    with pytest.raises(TypeError, match=r"force must be True or False, not a numpy bool"):
        PromotionPolicy(force=bool_(True))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="min_delta must be a finite number or None, not the bool"):
        MetricRule(name="auc", goal=Goal.MAXIMIZE, min_delta=bool_(True))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "error", "message"),
    [
        ("on_missing_baseline", "skip", ValueError, "must be one of 'promote', 'reject'"),
        ("on_missing_baseline", True, TypeError, "must be a OnMissingBaseline or one of"),
        ("on_missing_baseline_metric", "promote", ValueError, "must be one of 'reject', 'skip'"),
        ("on_missing_baseline_metric", None, TypeError, "on_missing_baseline_metric must be"),
        ("rules", "auc", TypeError, "rules must be a list of MetricRule"),
        ("rules", [{"name": "auc"}], TypeError, r"rules\[0\] must be a MetricRule"),
    ],
)  # fmt: skip
def test_a_policy_refuses_what_is_no_choice(
    field: str, value: object, error: type[Exception], message: str
) -> None:
    """Anything but a member or its value is refused, naming the field and the choices."""
    with pytest.raises(error, match=message):
        PromotionPolicy(**{field: value})


def test_settings_take_a_baseline_and_a_framework_as_strings() -> None:
    """Settings(baseline="latest") is the strategy, not a later AttributeError."""
    settings = Settings(baseline="Tag:stage=prod", model_framework="ScikitLearn")
    assert settings.baseline == BaselineStrategy.tagged("stage", "prod")
    assert settings.model_framework is Framework.SCIKITLEARN
    assert Settings(baseline="latest").baseline == BaselineStrategy.latest()
    with pytest.raises(ValueError, match="expected 'latest'"):
        Settings(baseline="newest")
    with pytest.raises(TypeError, match="baseline must be a BaselineStrategy or a string"):
        Settings(baseline=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="model_framework must be one of 'scikitlearn'"):
        Settings(model_framework="sklearn")
    with pytest.raises(TypeError, match="PromotionPolicy"):
        Settings(policy={"rules": []})  # type: ignore[arg-type]


def test_a_baseline_strategy_kind_is_converted_or_refused() -> None:
    """kind="tag" is the enum; a strategy lacking what its kind needs is refused."""
    assert BaselineStrategy(kind="TAG", tag_key="k", tag_value="v") == BaselineStrategy.tagged(
        "k", "v"
    )
    with pytest.raises(ValueError, match="kind must be one of 'latest', 'tag', 'version'"):
        BaselineStrategy(kind="newest")
    with pytest.raises(ValueError, match="needs version_number"):
        BaselineStrategy(kind=BaselineKind.VERSION)
    with pytest.raises(ValueError, match="takes no tag_key"):
        BaselineStrategy(tag_key="stage")
    with pytest.raises(TypeError, match="version_number must be an int"):
        BaselineStrategy.version("7")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="version_number must be at least 1"):
        BaselineStrategy.version(0)


ENUM_FIELDS: dict[str, type[Any]] = {
    "on_missing_baseline": OnMissingBaseline,
    "on_missing_baseline_metric": OnMissingBaselineMetric,
}

case_variants = st.sampled_from([str.lower, str.upper, str.title, lambda s: f" {s} "])


@given(
    goals=st.lists(st.sampled_from(Goal), min_size=1, max_size=3),
    aggregates=st.lists(st.sampled_from(Aggregate), min_size=3, max_size=3),
    on_missing=st.sampled_from(OnMissingBaseline),
    on_metric=st.sampled_from(OnMissingBaselineMetric),
    force=st.booleans(),
    require=st.booleans(),
    spell=case_variants,
    candidate=st.dictionaries(
        st.sampled_from(["m0", "m1", "m2"]),
        st.floats(-2, 2) | st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=3),
    ),
    baseline=st.none()
    | st.dictionaries(
        st.sampled_from(["m0", "m1", "m2"]),
        st.floats(-2, 2) | st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=3),
    ),
)
def test_a_policy_built_from_strings_decides_as_the_one_built_from_enums(  # noqa: PLR0917
    goals: list[Goal],
    aggregates: list[Aggregate],
    on_missing: OnMissingBaseline,
    on_metric: OnMissingBaselineMetric,
    force: bool,
    require: bool,
    spell: Any,
    candidate: dict[str, object],
    baseline: dict[str, object] | None,
) -> None:
    """Strings (in any case) and enums are the same policy, so the same decision."""
    rules = [
        MetricRule(name=f"m{i}", goal=goal, aggregate=aggregates[i]) for i, goal in enumerate(goals)
    ]
    from_enums = PromotionPolicy(
        rules=rules,
        force=force,
        require_improvement=require,
        on_missing_baseline=on_missing,
        on_missing_baseline_metric=on_metric,
    )
    from_strings = PromotionPolicy(
        rules=[
            MetricRule(name=r.name, goal=spell(r.goal.value), aggregate=spell(r.aggregate.value))
            for r in rules
        ],
        force=force,
        require_improvement=require,
        on_missing_baseline=spell(on_missing.value),
        on_missing_baseline_metric=spell(on_metric.value),
    )
    assert from_strings == from_enums
    assert decide(candidate, baseline, from_strings) == decide(candidate, baseline, from_enums)
