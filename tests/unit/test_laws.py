"""Laws of the comparison, checked by Hypothesis over many generated metrics and policies.

Profiles (tests/unit/conftest.py): ``fast`` by default, ``thorough`` with HYPOTHESIS_PROFILE.
"""

from __future__ import annotations

import json
import math
from typing import Any

import attrs
from hypothesis import given
from hypothesis import strategies as st

from aml_promotion import (
    Aggregate,
    Goal,
    MetricRule,
    OnMissingBaseline,
    OnMissingBaselineMetric,
    PromotionPolicy,
    Verdict,
    decide,
)
from aml_promotion._domain.delta import improvement, relative_improvement

NAMES = ("auc", "loss", "f1")

finite = st.floats(allow_nan=False, allow_infinity=False)
# Metric values as runs log them: mostly ordinary magnitudes, some extreme ones.
values = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    finite,
    st.integers(min_value=-(10**6), max_value=10**6),
)
thresholds = st.floats(min_value=-10.0, max_value=10.0, allow_nan=False)
goals = st.sampled_from(Goal)


@st.composite
def rules(draw: st.DrawFn, name: str) -> MetricRule:
    bounds = sorted(draw(st.lists(values, min_size=2, max_size=2)))
    return MetricRule(
        name=name,
        goal=draw(goals),
        min_delta=draw(st.none() | thresholds),
        min_relative_delta=draw(st.none() | thresholds),
        at_least=draw(st.none() | st.just(float(bounds[0]))),
        at_most=draw(st.none() | st.just(float(bounds[1]))),
        aggregate=draw(st.sampled_from(Aggregate)),
    )


@st.composite
def policies(draw: st.DrawFn, *, force: bool | None = False, min_rules: int = 0) -> PromotionPolicy:
    names = draw(
        st.lists(st.sampled_from(NAMES), unique=True, min_size=min_rules, max_size=len(NAMES))
    )
    return PromotionPolicy(
        rules=[draw(rules(name)) for name in names],
        force=draw(st.booleans()) if force is None else force,
        require_improvement=draw(st.booleans()),
        on_missing_baseline=draw(st.sampled_from(OnMissingBaseline)),
        on_missing_baseline_metric=draw(st.sampled_from(OnMissingBaselineMetric)),
    )


usable = values | st.lists(values, min_size=1, max_size=4)
metrics = st.dictionaries(st.sampled_from(NAMES), usable)

unusable = st.one_of(
    st.just(math.nan),
    st.sampled_from([math.inf, -math.inf]),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
    st.dictionaries(st.text(max_size=4), values, max_size=2),
    st.just([]),
    # Unusable at both ends, so under every aggregate (last and first read one element only).
    st.lists(values, max_size=3).flatmap(
        lambda middle: st.sampled_from([math.nan, "x", None, True, [1.0]]).map(
            lambda bad: [bad, *middle, bad]
        )
    ),
)
junk = st.sampled_from([math.nan, math.inf, "x", None, True, [1.0], {}])

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=8,
)


@given(candidate=values, baseline=values, goal=goals)
def test_swapping_candidate_and_baseline_negates_delta(
    candidate: float, baseline: float, goal: Goal
) -> None:
    """Δ(c, b) = −Δ(b, c), for either goal, ties included."""
    assert improvement(candidate, baseline, goal) == -improvement(baseline, candidate, goal)


@given(candidate=values, baseline=values, goal=goals)
def test_swapping_negates_delta_in_decisions_too(
    candidate: float, baseline: float, goal: Goal
) -> None:
    """In a Decision, swapping the two sides negates the recorded Δ."""
    policy = PromotionPolicy(rules=[MetricRule(name="auc", goal=goal)])
    forth = decide({"auc": candidate}, {"auc": baseline}, policy).comparisons[0]
    back = decide({"auc": baseline}, {"auc": candidate}, policy).comparisons[0]
    assert forth.delta is not None
    assert back.delta is not None
    assert forth.delta == -back.delta


@given(candidate=values, baseline=values, goal=goals)
def test_relative_improvement_has_the_sign_of_delta(
    candidate: float, baseline: float, goal: Goal
) -> None:
    """ρ is positive, zero or negative exactly as Δ is (a negative baseline never flips it)."""
    delta = improvement(candidate, baseline, goal)
    rho = relative_improvement(delta, baseline)
    assert (rho > 0) == (delta > 0)
    assert (rho < 0) == (delta < 0)


def _raised(rule: MetricRule, field: str, by: float) -> MetricRule:
    current = getattr(rule, field)
    return attrs.evolve(rule, **{field: (0.0 if current is None else current) + by})


def _monotone_in(field: str, data: st.DataObject) -> None:
    policy = data.draw(policies(min_rules=1))
    index = data.draw(st.integers(min_value=0, max_value=len(policy.rules) - 1))
    rule = policy.rules[index]
    if field == "at_least":
        rule = attrs.evolve(rule, at_most=None)
    by = data.draw(st.floats(min_value=0.0, max_value=5.0))
    stricter_rule = _raised(rule, field, by)
    looser = attrs.evolve(policy, rules=_replace(policy.rules, index, rule))
    stricter = attrs.evolve(policy, rules=_replace(policy.rules, index, stricter_rule))
    candidate = data.draw(metrics)
    baseline = data.draw(st.none() | metrics)
    if decide(candidate, baseline, looser).verdict is Verdict.REJECT:
        assert decide(candidate, baseline, stricter).verdict is Verdict.REJECT


def _replace(rules: tuple[MetricRule, ...], index: int, rule: MetricRule) -> tuple[MetricRule, ...]:
    return (*rules[:index], rule, *rules[index + 1 :])


@given(data=st.data())
def test_raising_min_delta_never_turns_a_reject_into_a_promote(data: st.DataObject) -> None:
    """A stricter min_delta can only keep or take away a promotion."""
    _monotone_in("min_delta", data)


@given(data=st.data())
def test_raising_min_relative_delta_never_turns_a_reject_into_a_promote(
    data: st.DataObject,
) -> None:
    """A stricter min_relative_delta can only keep or take away a promotion."""
    _monotone_in("min_relative_delta", data)


@given(data=st.data())
def test_raising_at_least_never_turns_a_reject_into_a_promote(data: st.DataObject) -> None:
    """A higher floor can only keep or take away a promotion."""
    _monotone_in("at_least", data)


@given(
    policy=policies(force=None, min_rules=1),
    bad=unusable,
    baseline=st.none() | metrics,
    data=st.data(),
)
def test_unusable_candidate_values_always_reject_unless_forced(
    policy: PromotionPolicy, bad: object, baseline: dict[str, Any] | None, data: st.DataObject
) -> None:
    """A rule's metric that is NaN, ±inf, text, a boolean, a table or a bad series rejects."""
    name = data.draw(st.sampled_from(policy.metric_names))
    candidate = {**data.draw(metrics), name: bad}
    decision = decide(candidate, baseline, policy)
    assert decision.verdict is (Verdict.FORCE if policy.force else Verdict.REJECT)
    assert any(c.metric == name and c.candidate is None for c in decision.comparisons)


@given(
    policy=policies(force=None, min_rules=1),
    candidate=metrics,
    baseline=st.none() | metrics,
    padding=st.lists(junk | values, max_size=3),
    data=st.data(),
)
def test_last_and_first_read_one_element_whatever_the_rest_of_the_series_holds(
    policy: PromotionPolicy,
    candidate: dict[str, Any],
    baseline: dict[str, Any] | None,
    padding: list[object],
    data: st.DataObject,
) -> None:
    """A series decides as its last (or first) value alone: what a backend fetching it sees."""
    rule = data.draw(st.sampled_from(policy.rules))
    one = data.draw(values)
    if rule.aggregate is Aggregate.LAST:
        series = [*padding, one]
    elif rule.aggregate is Aggregate.FIRST:
        series = [one, *padding]
    else:
        return
    alone = decide({**candidate, rule.name: one}, baseline, policy)
    assert decide({**candidate, rule.name: series}, baseline, policy) == alone


@given(
    policy=policies(force=None),
    candidate=st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=5), json_like),
    baseline=st.none() | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=5), json_like),
)
def test_decide_never_raises_on_json_like_values(
    policy: PromotionPolicy, candidate: dict[str, Any], baseline: dict[str, Any] | None
) -> None:
    """Whatever a run holds, decide() returns a Decision, and it always renders and serializes."""
    decision = decide(candidate, baseline, policy)
    assert len(decision.comparisons) == len(policy.rules)
    assert json.loads(decision.to_json()) == decision.to_dict()
    assert decision.to_markdown()
    assert decision._repr_html_()


@given(policy=policies(force=None), candidate=metrics, baseline=st.none() | metrics)
def test_the_verdict_agrees_with_the_comparisons(
    policy: PromotionPolicy, candidate: dict[str, Any], baseline: dict[str, Any] | None
) -> None:
    """PROMOTE means every rule passed; REJECT always gives a reason; FORCE only when forced."""
    decision = decide(candidate, baseline, policy)
    assert (decision.verdict is Verdict.FORCE) == policy.force
    if decision.verdict is Verdict.PROMOTE:
        assert all(c.passed for c in decision.comparisons)
        assert decision.reasons == ()
    if decision.verdict is Verdict.REJECT:
        assert decision.reasons
        assert decision.summary == decision.reasons[0]
    assert decision.promote == (decision.verdict is not Verdict.REJECT)


@given(policy=policies(), candidate=metrics, baseline=metrics)
def test_forcing_changes_only_the_verdict_and_summary(
    policy: PromotionPolicy, candidate: dict[str, Any], baseline: dict[str, Any]
) -> None:
    """Forcing computes and records the same comparisons and reasons as the unforced policy."""
    unforced = decide(candidate, baseline, policy)
    forced = decide(candidate, baseline, attrs.evolve(policy, force=True))
    assert forced.verdict is Verdict.FORCE
    assert forced.comparisons == tuple(attrs.evolve(c, rule=c.rule) for c in unforced.comparisons)
    assert forced.reasons == unforced.reasons
