"""The decision rules of DESIGN.md section 3, clause by clause, and the seed action's defects."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import pytest

from aml_promotion import (
    Aggregate,
    CheckOutcome,
    Comparison,
    Decision,
    Goal,
    MetricRule,
    OnMissingBaseline,
    OnMissingBaselineMetric,
    PromotionPolicy,
    Verdict,
    decide,
    load_settings,
)
from aml_promotion._domain.delta import improvement, meets, relative_improvement
from aml_promotion._domain.metrics import missing, read_metric
from aml_promotion.exceptions import SettingsError


def rule(name: str = "auc", goal: Goal = Goal.MAXIMIZE, **thresholds: Any) -> MetricRule:
    return MetricRule(name=name, goal=goal, **thresholds)


def policy(*rules: MetricRule, **options: Any) -> PromotionPolicy:
    return PromotionPolicy(rules=rules, **options)


def compare(candidate: object, baseline: object, **thresholds: Any) -> Comparison:
    """Decide one maximized rule "auc" and return its comparison."""
    goal = thresholds.pop("goal", Goal.MAXIMIZE)
    decision = decide(
        {"auc": candidate}, {"auc": baseline}, policy(rule("auc", goal, **thresholds))
    )
    return decision.comparisons[0]


def verdict_of(
    candidate: Mapping[str, object], baseline: Mapping[str, object] | None, *rules: MetricRule
) -> Verdict:
    return decide(candidate, baseline, policy(*rules)).verdict


# --- Reading a metric value ---------------------------------------------------------------------


@pytest.mark.parametrize("raw", [0.9, 1, -3, 0, 10**20])
def test_an_int_or_a_float_is_usable(raw: float) -> None:
    """A real finite number, int or float, is read as itself."""
    assert read_metric(raw).value == float(raw)
    assert read_metric(raw).problem is None


class Float32Like:
    """Stands for a numpy scalar: not a float, but registered as a `numbers.Real`."""

    def __init__(self, value: float) -> None:
        self._value = value

    def __float__(self) -> float:
        return self._value


numbers.Real.register(Float32Like)


def test_a_numpy_like_real_scalar_is_usable() -> None:
    """A scalar that registers as numbers.Real (as numpy's do) is read through float()."""
    assert read_metric(Float32Like(0.75)).value == 0.75
    assert decide({"auc": Float32Like(0.9)}, {"auc": 0.8}, policy(rule())).promote


def test_a_fraction_is_usable() -> None:
    """Any numbers.Real, a Fraction included, is a number."""
    assert read_metric(Fraction(1, 4)).value == 0.25


class bool_:  # noqa: N801 - named as numpy's boolean scalar, which is what it stands for
    """Stands for numpy.bool_, which is not a numbers.Real but is clearly a boolean."""

    def __repr__(self) -> str:
        return "np.True_"


@pytest.mark.parametrize(
    ("aggregate", "expected"),
    [
        (Aggregate.LAST, 0.8),
        (Aggregate.FIRST, 0.7),
        (Aggregate.MAX, 0.9),
        (Aggregate.MIN, 0.7),
        (Aggregate.MEAN, 0.8),
    ],
)
def test_a_series_is_read_through_its_aggregate(aggregate: Aggregate, expected: float) -> None:
    """A metric logged several times stands for the run by its last, first, max, min or mean."""
    series = [0.7, 0.9, 0.8]
    assert read_metric(series, aggregate).value == pytest.approx(expected)
    assert read_metric(tuple(series), aggregate).value == pytest.approx(expected)


@pytest.mark.parametrize(
    ("series", "aggregate", "usable"),
    [
        ([math.nan, 0.95], Aggregate.LAST, True),
        ([0.95, math.nan], Aggregate.LAST, False),
        ([0.95, math.nan], Aggregate.FIRST, True),
        ([math.nan, 0.95], Aggregate.FIRST, False),
        (["warming up", 0.95], Aggregate.LAST, True),
        ([math.nan, 0.95], Aggregate.MAX, False),
        ([0.95, math.inf], Aggregate.MIN, False),
        ([0.9, None, 0.95], Aggregate.MEAN, False),
    ],
)
def test_last_and_first_read_one_element_and_the_others_need_every_element(
    series: list[object], aggregate: Aggregate, usable: bool
) -> None:
    """An earlier NaN in a training curve does not matter to last; max/min/mean need them all."""
    reading = read_metric(series, aggregate)
    assert (reading.value is not None) is usable
    if usable:
        assert reading.value == 0.95
    decision = decide({"auc": series}, {"auc": 0.9}, policy(rule(aggregate=aggregate)))
    assert decision.verdict is (Verdict.PROMOTE if usable else Verdict.REJECT)


def test_the_default_aggregate_is_the_last_value() -> None:
    """Without an aggregate, a series is read as its last value, in decide() too."""
    assert MetricRule(name="auc", goal=Goal.MAXIMIZE).aggregate is Aggregate.LAST
    comparison = compare([0.5, 0.95], [0.99, 0.9])
    assert (comparison.candidate, comparison.baseline) == (0.95, 0.9)


def test_the_aggregate_of_a_rule_applies_to_candidate_and_baseline() -> None:
    """A rule's aggregate reads both sides' series."""
    comparison = compare([0.9, 0.5], [0.8, 0.85], aggregate=Aggregate.MAX)
    assert (comparison.candidate, comparison.baseline) == (0.9, 0.85)


def test_the_mean_of_huge_values_does_not_overflow() -> None:
    """The mean of values whose sum overflows a float is still their (finite) mean."""
    assert read_metric([1e308, 1e308], Aggregate.MEAN).value == 1e308


def test_a_single_value_series_is_that_value() -> None:
    """A metric logged once as a list is its one value, whatever the aggregate."""
    for aggregate in Aggregate:
        assert read_metric([0.42], aggregate).value == 0.42


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        (math.nan, "NaN"),
        (math.inf, "+infinity"),
        (-math.inf, "-infinity"),
        ("0.9", "a string ('0.9')"),
        (True, "a boolean (True)"),
        (False, "a boolean (False)"),
        (bool_(), "a boolean (np.True_)"),
        ({"value": 0.9}, "a table ({'value': 0.9})"),
        (None, "no value (None)"),
        ([], "an empty series"),
        ((), "an empty series"),
        ([0.5, "x"], "last value is a string ('x')"),
        ([0.5, math.nan], "last value is NaN"),
        ([True], "last value is a boolean"),
        ([[0.5]], "last value is a list ([0.5])"),
        ({0.5}, "a set ({0.5})"),
        (10**400, "cannot be read as a float"),
        (Fraction(10**400, 3), "cannot be read as a float"),
    ],
)
def test_unusable_values_are_rejected_naming_the_metric_and_what_was_found(
    raw: object, found: str
) -> None:
    """NaN, ±inf, str, bool, table, empty or impure series...: REJECT, saying what was there."""
    decision = decide({"auc": raw}, {"auc": 0.5}, policy(rule()))
    assert decision.verdict is Verdict.REJECT
    comparison = decision.comparisons[0]
    assert comparison.candidate is None
    assert comparison.passed is False
    assert decision.summary.startswith("auc: the candidate's value is unusable: ")
    assert found in decision.summary


def test_a_long_unusable_value_is_shown_shortened() -> None:
    """The reason quotes an unusable value, cut to a readable length."""
    problem = read_metric("x" * 500).problem
    assert problem is not None
    assert "..." in problem
    assert len(problem) < 120


def test_a_value_that_cannot_even_be_shown_is_described_by_its_type() -> None:
    """An int past Python's digit limit (or a broken repr) does not break the reason."""
    problem = read_metric(10**5000).problem
    assert problem == "<unprintable int> cannot be read as a float"


class BadReal:
    """A numbers.Real whose float() fails."""

    def __float__(self) -> float:
        raise TypeError("no")


numbers.Real.register(BadReal)


def test_a_real_that_refuses_float_is_unusable() -> None:
    """A numbers.Real whose float() raises is unusable, not a crash."""
    assert read_metric(BadReal()).value is None


def test_a_missing_metric_differs_from_a_none_value() -> None:
    """The "missing" sentinel reads as missing; None reads as "no value"."""
    assert read_metric(missing()).problem == "missing"
    assert read_metric(None).problem == "no value (None), not a number"


# --- Δ and ρ ------------------------------------------------------------------------------------


def test_improvement_is_c_minus_b_when_maximizing() -> None:
    """Δ = c − b for a metric to maximize."""
    comparison = compare(0.9, 0.8)
    assert comparison.delta == pytest.approx(0.1)
    assert comparison.improved


def test_improvement_is_b_minus_c_when_minimizing() -> None:
    """Δ = b − c for a metric to minimize: a lower loss is a positive improvement."""
    comparison = compare(0.2, 0.3, goal=Goal.MINIMIZE)
    assert comparison.delta == pytest.approx(0.1)
    assert comparison.improved
    assert compare(0.4, 0.3, goal=Goal.MINIMIZE).delta == pytest.approx(-0.1)


def test_relative_improvement_divides_by_the_baseline() -> None:
    """ρ = Δ / |b|."""
    assert compare(0.9, 0.8).relative_delta == pytest.approx(0.125)
    assert compare(0.6, 0.8, goal=Goal.MINIMIZE).relative_delta == pytest.approx(0.25)


@pytest.mark.parametrize(
    ("candidate", "baseline", "goal", "delta", "rho"),
    [
        (-1.0, -2.0, Goal.MAXIMIZE, 1.0, 0.5),
        (-3.0, -2.0, Goal.MAXIMIZE, -1.0, -0.5),
        (-3.0, -2.0, Goal.MINIMIZE, 1.0, 0.5),
        (-1.0, -2.0, Goal.MINIMIZE, -1.0, -0.5),
    ],
)
def test_a_negative_baseline_never_flips_the_sign_of_rho(
    candidate: float, baseline: float, goal: Goal, delta: float, rho: float
) -> None:
    """ρ uses |b|: with a negative baseline, ρ has the sign of Δ."""
    comparison = compare(candidate, baseline, goal=goal)
    assert comparison.delta == pytest.approx(delta)
    assert comparison.relative_delta == pytest.approx(rho)


@pytest.mark.parametrize(
    ("candidate", "baseline", "rho"),
    [
        (0.5, 0.0, math.inf),
        (-0.5, 0.0, -math.inf),
        (0.0, 0.0, 0.0),
        (0.5, 1e-12, math.inf),
        (-0.5, -1e-13, -math.inf),
        (1e-13, 0.0, 0.0),
    ],
)
def test_a_zero_baseline_gives_an_infinite_or_zero_rho(
    candidate: float, baseline: float, rho: float
) -> None:
    """With |b| ≤ 1e-12, ρ is +inf if Δ > 0, 0 if Δ = 0, −inf if Δ < 0."""
    assert compare(candidate, baseline).relative_delta == rho


def test_relative_improvement_helper_matches_the_zero_baseline_clause() -> None:
    """The helper itself follows the |b| ≤ 1e-12 clause, at the boundary too."""
    assert relative_improvement(1.0, 1e-12) == math.inf
    assert relative_improvement(1.0, 1.1e-12) == pytest.approx(1 / 1.1e-12)


def test_equality_is_float_safe() -> None:
    """0.1 + 0.2 against 0.3 is a tie: Δ counts as exactly 0."""
    comparison = compare(0.1 + 0.2, 0.3)
    assert comparison.delta == 0.0
    assert not comparison.improved
    assert improvement(0.1 + 0.2, 0.3, Goal.MINIMIZE) == 0.0


def test_values_just_beyond_float_tolerance_are_not_equal() -> None:
    """A difference larger than the tolerance counts: 1e-11 over a zero baseline is better."""
    comparison = compare(1e-11, 0.0)
    assert comparison.improved
    assert comparison.relative_delta == math.inf


def test_a_threshold_is_met_float_safely() -> None:
    """0.85 vs 0.80 with min_delta 0.05 passes, though 0.85 − 0.80 < 0.05 in floats."""
    assert 0.85 - 0.80 < 0.05  # the trap
    comparison = compare(0.85, 0.80, min_delta=0.05)
    assert comparison.change_check is CheckOutcome.PASSED
    assert meets(0.85 - 0.80, 0.05)


# --- The change check ---------------------------------------------------------------------------


def test_no_worse_is_the_default_change_check() -> None:
    """Without min_delta, any regression fails the change check, and a tie passes it."""
    worse = compare(0.79, 0.80)
    assert worse.change_check is CheckOutcome.FAILED
    assert worse.outcome == "worse than the baseline"
    assert compare(0.80, 0.80).change_check is CheckOutcome.PASSED


def test_a_positive_min_delta_demands_that_much_gain() -> None:
    """min_delta 0.05: +0.04 fails, naming the threshold; +0.06 passes."""
    short = compare(0.84, 0.80, min_delta=0.05)
    assert short.change_check is CheckOutcome.FAILED
    assert "short of min_delta 0.05" in short.reason
    assert compare(0.86, 0.80, min_delta=0.05).change_check is CheckOutcome.PASSED


def test_a_negative_min_delta_tolerates_that_much_regression() -> None:
    """min_delta −0.02: −0.01 passes, −0.02 passes (float-safely), −0.03 fails."""
    assert compare(0.79, 0.80, min_delta=-0.02).change_check is CheckOutcome.PASSED
    assert compare(0.78, 0.80, min_delta=-0.02).change_check is CheckOutcome.PASSED
    assert compare(0.77, 0.80, min_delta=-0.02).change_check is CheckOutcome.FAILED


def test_a_negative_min_delta_works_for_a_minimized_metric() -> None:
    """For a loss, min_delta −0.01 tolerates a loss 0.01 higher, not 0.02."""
    assert compare(0.31, 0.30, goal=Goal.MINIMIZE, min_delta=-0.01).passed
    assert not compare(0.32, 0.30, goal=Goal.MINIMIZE, min_delta=-0.01).passed


def test_min_relative_delta_must_be_reached_too() -> None:
    """min_relative_delta 0.1: +10% passes (float-safely), +8.75% fails, naming the threshold."""
    assert compare(0.88, 0.80, min_relative_delta=0.1).change_check is CheckOutcome.PASSED
    short = compare(0.87, 0.80, min_relative_delta=0.1)
    assert short.change_check is CheckOutcome.FAILED
    assert "short of min_relative_delta" in short.reason


def test_min_relative_delta_over_a_zero_baseline() -> None:
    """Over a zero baseline, any gain is an infinite relative gain, any loss an infinite loss."""
    assert compare(0.1, 0.0, min_relative_delta=0.5).passed
    assert not compare(-0.1, 0.0, min_relative_delta=-0.5, min_delta=-1).passed


def test_both_change_thresholds_apply() -> None:
    """Δ must reach min_delta and ρ min_relative_delta: either one failing fails the check."""
    assert compare(0.9, 0.8, min_delta=0.05, min_relative_delta=0.1).passed
    assert not compare(0.9, 0.8, min_delta=0.15, min_relative_delta=0.1).passed
    assert not compare(0.9, 0.8, min_delta=0.05, min_relative_delta=0.2).passed


def test_min_delta_alone_does_not_check_rho() -> None:
    """Without min_relative_delta, a large ρ loss within min_delta passes."""
    assert compare(-0.5, 0.0, min_delta=-1).passed


# --- The value check ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        (0.69, CheckOutcome.FAILED),
        (0.7, CheckOutcome.PASSED),
        (0.8, CheckOutcome.PASSED),
        (0.9, CheckOutcome.PASSED),
        (0.91, CheckOutcome.FAILED),
    ],
)
def test_at_least_and_at_most_bound_the_candidate_inclusively(
    value: float, outcome: CheckOutcome
) -> None:
    """at_least ≤ c ≤ at_most, boundaries included."""
    comparison = compare(value, 0.5, at_least=0.7, at_most=0.9, min_delta=-1)
    assert comparison.value_check is outcome


def test_value_bounds_are_float_safe() -> None:
    """0.1 + 0.2 is within at_most 0.3, and 0.3 within at_least 0.1 + 0.2."""
    assert compare(0.1 + 0.2, 0.0, at_most=0.3).value_check is CheckOutcome.PASSED
    assert compare(0.3, 0.0, at_least=0.1 + 0.2).value_check is CheckOutcome.PASSED


def test_value_checks_apply_without_a_baseline() -> None:
    """With no baseline, at_least still rejects (on_missing_baseline "promote" cannot save it)."""
    decision = decide({"auc": 0.6}, None, policy(rule(at_least=0.7)))
    assert decision.verdict is Verdict.REJECT
    assert decision.summary == "auc: 0.6, no baseline: 0.6 is below at_least 0.7"
    assert decide({"auc": 0.8}, None, policy(rule(at_least=0.7))).verdict is Verdict.PROMOTE


def test_value_checks_apply_even_when_the_candidate_is_better() -> None:
    """A candidate better than the baseline but above at_most is rejected."""
    decision = decide(
        {"loss": 0.5}, {"loss": 0.9}, policy(rule("loss", Goal.MINIMIZE, at_most=0.4))
    )
    assert decision.verdict is Verdict.REJECT
    assert "0.5 is above at_most 0.4" in decision.summary


def test_without_bounds_the_value_check_is_not_applicable() -> None:
    """A rule with neither at_least nor at_most records its value check as n/a."""
    assert compare(0.9, 0.8).value_check is CheckOutcome.NOT_APPLICABLE


# --- The whole decision, step by step -----------------------------------------------------------


def test_step1_force_registers_and_still_records_every_check() -> None:
    """force=True gives FORCE (registered) and keeps every comparison and reason."""
    rules = (rule("auc"), rule("loss", Goal.MINIMIZE), rule("f1", at_least=0.5))
    decision = decide(
        {"auc": 0.7, "loss": 0.2, "f1": 0.4},
        {"auc": 0.8, "loss": 0.3, "f1": 0.6},
        policy(*rules, force=True),
    )
    assert decision.verdict is Verdict.FORCE
    assert decision.promote is True
    assert [c.metric for c in decision.comparisons] == ["auc", "loss", "f1"]
    assert [c.passed for c in decision.comparisons] == [False, True, False]
    assert decision.summary.startswith("registration forced (the policy alone would reject: ")
    assert len(decision.reasons) == 2


def test_step1_force_says_when_the_policy_would_have_promoted_anyway() -> None:
    """A forced candidate that would pass anyway says so."""
    decision = decide({"auc": 0.9}, {"auc": 0.8}, policy(rule(), force=True))
    assert decision.verdict is Verdict.FORCE
    assert decision.summary == "registration forced (the policy alone would promote)"


def test_step1_force_registers_an_unusable_candidate() -> None:
    """Even a NaN candidate is registered when forced; the comparison still says why it is bad."""
    decision = decide({"auc": math.nan}, {"auc": 0.8}, policy(rule(), force=True))
    assert decision.verdict is Verdict.FORCE
    assert "NaN" in decision.comparisons[0].reason


def test_step2_a_missing_candidate_metric_rejects_with_close_matches() -> None:
    """A rule's metric absent from the candidate rejects, suggesting similar logged names."""
    decision = decide({"AUC": 0.9, "acuracy": 0.8}, {"auc": 0.8}, policy(rule(), rule("accuracy")))
    assert decision.verdict is Verdict.REJECT
    assert decision.reasons == (
        "auc: missing from the candidate (did you mean 'AUC'?)",
        "accuracy: missing from the candidate (did you mean 'acuracy'?)",
    )


def test_step2_close_matches_come_from_every_logged_metric_when_known() -> None:
    """The suggestions come from every metric the run logged, not only those fetched."""
    decision = decide({}, {"auc": 0.8}, policy(rule()), candidate_metric_names=["val_auc", "loss"])
    assert decision.summary == "auc: missing from the candidate (did you mean 'val_auc'?)"


def test_step2_a_missing_metric_without_a_close_match_just_says_missing() -> None:
    """No similar name: no suggestion."""
    decision = decide({"loss": 0.1}, {"auc": 0.8}, policy(rule()))
    assert decision.summary == "auc: missing from the candidate"


def test_step2_comes_before_the_value_checks() -> None:
    """A missing metric is the reason given first, before another metric's failed value check."""
    decision = decide({"auc": 0.1}, None, policy(rule("auc", at_least=0.5), rule("f1")))
    assert decision.verdict is Verdict.REJECT
    assert decision.reasons[0].startswith("f1: missing from the candidate")
    assert "below at_least" in decision.reasons[1]


def test_step2_rejects_even_without_a_baseline() -> None:
    """An unusable candidate is rejected even when there is nothing to compare with."""
    decision = decide({"auc": "n/a"}, None, policy(rule()))
    assert decision.verdict is Verdict.REJECT


def test_step3_a_failed_value_check_rejects_before_the_change_checks() -> None:
    """A value out of range rejects, and is the first reason, even if another rule is worse."""
    decision = decide(
        {"auc": 0.6, "f1": 0.1},
        {"auc": 0.5, "f1": 0.9},
        policy(rule("auc", at_least=0.7), rule("f1")),
    )
    assert decision.verdict is Verdict.REJECT
    assert "below at_least 0.7" in decision.reasons[0]
    assert "worse than the baseline" in decision.reasons[1]


def test_step4_no_baseline_promotes_by_default() -> None:
    """No baseline: on_missing_baseline "promote" (the default) promotes, as the seed did."""
    decision = decide({"auc": 0.5}, None, policy(rule()))
    assert decision.verdict is Verdict.PROMOTE
    assert decision.summary == "no baseline to compare with, and on_missing_baseline is 'promote'"
    comparison = decision.comparisons[0]
    assert comparison.change_check is CheckOutcome.NOT_APPLICABLE
    assert comparison.baseline is None
    assert comparison.delta is None
    assert comparison.passed


def test_step4_no_baseline_rejects_when_the_policy_says_so() -> None:
    """on_missing_baseline "reject" rejects a candidate with nothing to compare with."""
    decision = decide(
        {"auc": 0.5}, None, policy(rule(), on_missing_baseline=OnMissingBaseline.REJECT)
    )
    assert decision.verdict is Verdict.REJECT
    assert "on_missing_baseline is 'reject'" in decision.summary


def test_step4_an_empty_baseline_is_a_baseline() -> None:
    """A baseline without the metric ({}) is not "no baseline": step 5 applies, not step 4."""
    assert decide({"auc": 0.9}, {}, policy(rule())).verdict is Verdict.REJECT


@pytest.mark.parametrize(
    ("baseline", "problem"),
    [
        ({}, "missing from the baseline"),
        ({"auc": math.nan}, "the baseline's value is unusable: NaN"),
        ({"auc": "0.8"}, "the baseline's value is unusable: a string"),
    ],
)
def test_step5_a_baseline_lacking_the_metric_rejects_by_default(
    baseline: Mapping[str, object], problem: str
) -> None:
    """Baseline metric missing or unusable: on_missing_baseline_metric "reject" (default)."""
    decision = decide({"auc": 0.9}, baseline, policy(rule()))
    assert decision.verdict is Verdict.REJECT
    assert decision.summary.startswith(f"auc: 0.9: {problem}")
    comparison = decision.comparisons[0]
    assert comparison.change_check is CheckOutcome.FAILED
    assert comparison.baseline is None


def test_step5_skip_skips_that_rules_change_check_and_records_it() -> None:
    """on_missing_baseline_metric "skip": the rule's change check is SKIPPED; others decide."""
    decision = decide(
        {"auc": 0.9, "f1": 0.7},
        {"f1": 0.6},
        policy(rule("auc"), rule("f1"), on_missing_baseline_metric=OnMissingBaselineMetric.SKIP),
    )
    assert decision.verdict is Verdict.PROMOTE
    skipped = decision.comparisons[0]
    assert skipped.change_check is CheckOutcome.SKIPPED
    assert skipped.passed
    assert skipped.outcome == "change check skipped (missing from the baseline)"
    assert skipped.reason == "auc: 0.9: change check skipped (missing from the baseline)"


def test_step5_skip_keeps_the_value_check() -> None:
    """A skipped change check does not skip the value check."""
    decision = decide(
        {"auc": 0.4},
        {},
        policy(rule(at_least=0.5), on_missing_baseline_metric=OnMissingBaselineMetric.SKIP),
    )
    assert decision.verdict is Verdict.REJECT
    assert decision.comparisons[0].change_check is CheckOutcome.SKIPPED


def test_step5_every_rule_skipped_shows_no_improvement() -> None:
    """If every change check is skipped, nothing is shown better: REJECT under step 7."""
    skip = OnMissingBaselineMetric.SKIP
    decision = decide({"auc": 0.9}, {}, policy(rule(), on_missing_baseline_metric=skip))
    assert decision.verdict is Verdict.REJECT
    assert decision.summary == "no improvement: no metric could be compared with the baseline"
    relaxed = policy(rule(), on_missing_baseline_metric=skip, require_improvement=False)
    assert decide({"auc": 0.9}, {}, relaxed).verdict is Verdict.PROMOTE


def test_step5_comes_before_step6() -> None:
    """A metric missing from the baseline is the first reason, before a worse metric."""
    decision = decide({"auc": 0.7, "f1": 0.9}, {"auc": 0.8}, policy(rule("auc"), rule("f1")))
    assert decision.reasons[0] == "f1: 0.9: missing from the baseline"
    assert decision.reasons[1].startswith("auc: 0.7 vs 0.8")


def test_step6_a_failed_change_check_rejects_and_every_failure_is_listed() -> None:
    """Any rule worse than allowed rejects; every failing rule is among the reasons."""
    decision = decide(
        {"auc": 0.7, "loss": 0.5, "f1": 0.9},
        {"auc": 0.8, "loss": 0.3, "f1": 0.8},
        policy(rule("auc"), rule("loss", Goal.MINIMIZE), rule("f1")),
    )
    assert decision.verdict is Verdict.REJECT
    assert [r.split(":")[0] for r in decision.reasons] == ["auc", "loss"]
    assert decision.summary == decision.reasons[0]


def test_step7_a_tie_on_every_metric_is_rejected() -> None:
    """require_improvement (default): ties on every metric reject, with "no improvement"."""
    decision = decide(
        {"auc": 0.8, "loss": 0.3},
        {"auc": 0.8, "loss": 0.3},
        policy(rule("auc"), rule("loss", Goal.MINIMIZE)),
    )
    assert decision.verdict is Verdict.REJECT
    assert decision.summary == "no improvement: no metric is better than the baseline's"


def test_step7_a_float_tie_is_a_tie() -> None:
    """Improvement must be beyond float tolerance: 0.1 + 0.2 vs 0.3 is not better."""
    assert verdict_of({"auc": 0.1 + 0.2}, {"auc": 0.3}, rule()) is Verdict.REJECT


def test_step7_ties_promote_when_improvement_is_not_required() -> None:
    """require_improvement=False: a candidate no worse anywhere is promoted."""
    decision = decide({"auc": 0.8}, {"auc": 0.8}, policy(rule(), require_improvement=False))
    assert decision.verdict is Verdict.PROMOTE
    assert decision.summary == "no metric worse than allowed (improvement not required)"


def test_step7_the_pareto_rule() -> None:
    """One metric strictly better and none worse promotes; one better and one worse rejects."""
    rules = (rule("auc"), rule("loss", Goal.MINIMIZE))
    assert verdict_of({"auc": 0.9, "loss": 0.3}, {"auc": 0.8, "loss": 0.3}, *rules) is (
        Verdict.PROMOTE
    )
    assert verdict_of({"auc": 0.9, "loss": 0.4}, {"auc": 0.8, "loss": 0.3}, *rules) is (
        Verdict.REJECT
    )


def test_step7_a_tolerated_regression_with_another_gain_promotes() -> None:
    """Within a negative min_delta, a regression does not stop a gain elsewhere from promoting."""
    rules = (rule("auc"), rule("latency", Goal.MINIMIZE, min_delta=-5))
    decision = decide({"auc": 0.9, "latency": 103}, {"auc": 0.8, "latency": 100}, policy(*rules))
    assert decision.verdict is Verdict.PROMOTE
    assert decision.summary == "better on auc, and no metric worse than allowed"
    assert decision.comparisons[1].outcome == "worse, within min_delta"


def test_step8_promote_names_the_metrics_that_are_better() -> None:
    """A promotion's summary names every metric that improved."""
    decision = decide(
        {"auc": 0.9, "f1": 0.8, "loss": 0.3},
        {"auc": 0.8, "f1": 0.7, "loss": 0.3},
        policy(rule("auc"), rule("f1"), rule("loss", Goal.MINIMIZE)),
    )
    assert decision.verdict is Verdict.PROMOTE
    assert decision.promote is True
    assert decision.reasons == ()
    assert decision.summary == "better on auc, f1, and no metric worse than allowed"
    assert [c.outcome for c in decision.comparisons] == ["better", "better", "equal"]


def test_every_rule_gets_a_comparison_in_rule_order_passes_included() -> None:
    """One Comparison per rule, in the policy's order, whether it passed or not."""
    rules = (rule("z"), rule("a"), rule("m", Goal.MINIMIZE))
    decision = decide({"z": 1, "a": 1, "m": 1}, {"z": 0, "a": 2, "m": 1}, policy(*rules))
    assert [c.rule for c in decision.comparisons] == list(rules)
    assert [c.passed for c in decision.comparisons] == [True, False, True]


# --- Policies without rules, and policies that cannot be ------------------------------------


def test_a_policy_without_rules_promotes_against_a_baseline_without_comparing() -> None:
    """No rules, no gate (the seed registered every model without metrics_max/metrics_min)."""
    decision = decide({"auc": 0.8}, {"auc": 0.9}, PromotionPolicy())
    assert decision.verdict is Verdict.PROMOTE
    assert decision.comparisons == ()
    assert decision.reasons == ()
    assert decision.summary == "no metric rules: registered without comparison"


def test_a_policy_without_rules_promotes_whatever_the_other_switches_say() -> None:
    """require_improvement and on_missing_baseline have nothing to act on without rules."""
    for policy_ in (
        PromotionPolicy(require_improvement=False),
        PromotionPolicy(on_missing_baseline=OnMissingBaseline.REJECT),
    ):
        for baseline in ({}, None):
            decision = decide({}, baseline, policy_)
            assert decision.verdict is Verdict.PROMOTE
            assert decision.summary == "no metric rules: registered without comparison"


def test_a_policy_without_rules_promotes_the_first_model_and_forced_ones() -> None:
    """No rules: no baseline promotes (step 4), and force forces."""
    assert decide({}, None, PromotionPolicy()).verdict is Verdict.PROMOTE
    assert decide({}, {}, PromotionPolicy(force=True)).verdict is Verdict.FORCE


def test_a_metric_both_maximized_and_minimized_is_a_configuration_error() -> None:
    """The same metric with both goals cannot make a policy: SettingsError (a ValueError)."""
    with pytest.raises(SettingsError, match="'auc' is both maximized and minimized") as info:
        policy(rule("auc", Goal.MAXIMIZE), rule("auc", Goal.MINIMIZE))
    assert isinstance(info.value, ValueError)


def test_a_metric_with_two_rules_is_a_configuration_error() -> None:
    """One rule per metric: a second rule for it is refused."""
    with pytest.raises(SettingsError, match="'auc' has more than one rule"):
        policy(rule("auc"), rule("auc", min_delta=0.1))


def test_a_metric_in_both_settings_lists_is_an_error() -> None:
    """metrics_max and metrics_min naming the same metric is a settings error."""
    with pytest.raises(SettingsError, match="'auc' is in both metrics_max and metrics_min"):
        load_settings({"metrics_max": ["auc"], "metrics_min": ["auc"]})


# --- Purity -------------------------------------------------------------------------------------


def test_decide_is_deterministic_and_leaves_its_inputs_alone() -> None:
    """The same inputs give equal decisions; the mappings given are not modified."""
    candidate: dict[str, Any] = {"auc": [0.7, 0.9], "loss": 0.2}
    baseline: dict[str, Any] = {"auc": [0.8], "loss": 0.3}
    rules = policy(rule("auc", aggregate=Aggregate.MAX), rule("loss", Goal.MINIMIZE))
    first = decide(candidate, baseline, rules)
    assert decide(candidate, baseline, rules) == first
    assert candidate == {"auc": [0.7, 0.9], "loss": 0.2}
    assert baseline == {"auc": [0.8], "loss": 0.3}


def test_a_decision_is_immutable() -> None:
    """Decision is a frozen value; notes are added to a copy."""
    decision = decide({"auc": 0.9}, None, policy(rule()))
    with pytest.raises(AttributeError):
        decision.verdict = Verdict.REJECT  # type: ignore[misc]
    noted = decision.with_note("superseded by version 7")
    assert noted.notes == ("superseded by version 7",)
    assert decision.notes == ()
    assert isinstance(noted, Decision)


def test_a_decision_reads_as_its_verdict_and_summary() -> None:
    """str(decision) is "VERDICT: summary"."""
    decision = decide({"auc": 0.9}, {"auc": 0.8}, policy(rule()))
    assert str(decision) == "PROMOTE: better on auc, and no metric worse than allowed"


def test_a_comparison_exposes_its_rules_metric_and_goal() -> None:
    """Comparison.metric and .goal come from its rule."""
    comparison = compare(0.2, 0.3, goal=Goal.MINIMIZE)
    assert (comparison.metric, comparison.goal) == ("auc", Goal.MINIMIZE)


def test_labels_name_the_candidate_and_the_baseline() -> None:
    """Labels are kept; an unlabelled baseline that exists is "the baseline", never None."""
    labelled = decide(
        {"auc": 0.9}, {"auc": 0.8}, policy(rule()), candidate_label="run 1", baseline_label="m:1"
    )
    assert (labelled.candidate, labelled.baseline) == ("run 1", "m:1")
    assert decide({"auc": 0.9}, {"auc": 0.8}, policy(rule())).baseline == "the baseline"
    assert decide({"auc": 0.9}, None, policy(rule())).baseline is None


# --- The seed action's defects ------------------------------------------------------------------


def test_seed_defect_metrics_min_prefers_lower_values() -> None:
    """The seed compared metrics_min with `<` like metrics_max; a lower loss must win here."""
    rules = load_settings({"metrics_min": ["loss"]}).policy
    assert decide({"loss": 0.2}, {"loss": 0.3}, rules).verdict is Verdict.PROMOTE
    assert decide({"loss": 0.4}, {"loss": 0.3}, rules).verdict is Verdict.REJECT


def test_seed_defect_ties_do_not_pass() -> None:
    """The seed registered a candidate merely equal to production; a tie is rejected here."""
    rules = load_settings({"metrics_max": ["Accuracy"]}).policy
    assert decide({"Accuracy": 0.9}, {"Accuracy": 0.9}, rules).verdict is Verdict.REJECT


@pytest.mark.parametrize(
    ("candidate", "baseline", "verdict"),
    [
        # As lists, [0.5, 0.95] < [0.9, 0.91] (0.5 < 0.9): the seed rejected a better last value.
        ([0.5, 0.95], [0.9, 0.91], Verdict.PROMOTE),
        # ...and [0.95, 0.5] > [0.9, 0.91]: the seed promoted a worse last value.
        ([0.95, 0.5], [0.9, 0.91], Verdict.REJECT),
    ],
)
def test_seed_defect_a_series_is_not_compared_as_a_list(
    candidate: list[float], baseline: list[float], verdict: Verdict
) -> None:
    """A series is read through its aggregate (last), never compared lexicographically."""
    rules = load_settings({"metrics_max": ["auc"]}).policy
    assert decide({"auc": candidate}, {"auc": baseline}, rules).verdict is verdict


def test_seed_defect_nan_does_not_pass() -> None:
    """`nan < x` is False, so the seed let a NaN metric through; here it rejects."""
    rules = load_settings({"metrics_max": ["auc"], "metrics_min": ["loss"]}).policy
    decision = decide({"auc": math.nan, "loss": 0.1}, {"auc": 0.8, "loss": 0.3}, rules)
    assert decision.verdict is Verdict.REJECT
    assert "NaN" in decision.summary
