"""Trustworthy comparisons: significance per rule, and the same evaluation data (DESIGN §3)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aml_promotion import (
    Aggregate,
    CheckOutcome,
    Goal,
    MetricRule,
    PromotionPolicy,
    Verdict,
    decide,
    load_settings,
    promote,
)
from aml_promotion._domain import tags
from aml_promotion._domain.metrics import read_series
from aml_promotion._domain.policy import EvaluationData, OnMismatch, Significance
from aml_promotion._domain.significance import SignificanceMethod
from aml_promotion._service._baseline import baseline_data as _baseline_data
from aml_promotion.exceptions import SettingsError
from aml_promotion.testing import InMemoryBackend

FOLDS_BETTER = [0.83, 0.85, 0.84, 0.86, 0.85]
FOLDS_BASE = [0.81, 0.82, 0.82, 0.83, 0.82]
NOISY = [0.80, 0.86, 0.79, 0.87, 0.83]


def significant(
    *, alpha: float = 0.05, min_delta: float | None = None, goal: Goal = Goal.MAXIMIZE, **kw: object
) -> PromotionPolicy:
    rule = MetricRule(
        name="auc", goal=goal, min_delta=min_delta, significance=Significance(alpha=alpha)
    )
    return PromotionPolicy(rules=[rule], **kw)  # type: ignore[arg-type]


# --- Significance in decide() -------------------------------------------------------------------


def test_a_consistent_gain_on_every_fold_is_significant() -> None:
    decision = decide({"auc": FOLDS_BETTER}, {"auc": FOLDS_BASE}, significant())
    assert decision.verdict is Verdict.PROMOTE
    (comparison,) = decision.comparisons
    assert comparison.method is SignificanceMethod.PAIRED
    assert (comparison.n_candidate, comparison.n_baseline) == (5, 5)
    assert comparison.p_value == 1 / 32
    assert comparison.candidate == pytest.approx(0.846)
    assert comparison.baseline == pytest.approx(0.82)
    assert comparison.change_check is CheckOutcome.PASSED
    assert "paired p = 0.03125" in comparison.reason


def test_a_higher_mean_within_the_noise_is_rejected() -> None:
    """The mean is higher, but the folds overlap: p is above alpha, so the rule fails."""
    decision = decide({"auc": NOISY}, {"auc": FOLDS_BASE}, significant())
    assert decision.verdict is Verdict.REJECT
    (comparison,) = decision.comparisons
    assert comparison.delta is not None
    assert comparison.delta > 0
    assert comparison.p_value is not None
    assert comparison.p_value > 0.05
    assert comparison.change_check is CheckOutcome.FAILED
    assert "not significant: p = " in decision.summary


def test_without_significance_the_same_numbers_promote() -> None:
    plain = PromotionPolicy(
        rules=[MetricRule(name="auc", goal=Goal.MAXIMIZE, aggregate=Aggregate.MEAN)]
    )
    decision = decide({"auc": NOISY}, {"auc": FOLDS_BASE}, plain)
    assert decision.verdict is Verdict.PROMOTE
    assert decision.comparisons[0].p_value is None
    assert decision.comparisons[0].method is None


def test_unpaired_when_the_lengths_differ() -> None:
    decision = decide({"auc": [*FOLDS_BETTER, 0.85]}, {"auc": FOLDS_BASE}, significant())
    (comparison,) = decision.comparisons
    assert comparison.method is SignificanceMethod.UNPAIRED
    assert (comparison.n_candidate, comparison.n_baseline) == (6, 5)
    assert decision.verdict is Verdict.PROMOTE


def test_three_folds_cannot_reach_alpha_and_the_reason_says_so() -> None:
    decision = decide({"auc": [0.9, 0.91, 0.92]}, {"auc": [0.8, 0.81, 0.82]}, significant())
    assert decision.verdict is Verdict.REJECT
    (comparison,) = decision.comparisons
    assert comparison.p_value is None
    assert comparison.method is SignificanceMethod.PAIRED
    assert "paired test with n = 3: even a perfect result gives p = 0.125" in comparison.reason


def test_a_single_value_is_too_few_scores() -> None:
    decision = decide({"auc": 0.9}, {"auc": FOLDS_BASE}, significant())
    assert decision.verdict is Verdict.REJECT
    assert "found 1 for the candidate and 5 for the baseline" in decision.summary


def test_min_delta_is_tested_not_just_the_mean() -> None:
    decision = decide({"auc": FOLDS_BETTER}, {"auc": FOLDS_BASE}, significant(min_delta=0.03))
    assert decision.verdict is Verdict.REJECT
    (comparison,) = decision.comparisons
    assert "short of min_delta 0.03" in comparison.outcome
    assert "not significant" in comparison.outcome


def test_a_tolerated_regression_passes_when_significantly_within_it() -> None:
    decision = decide(
        {"auc": FOLDS_BASE},
        {"auc": FOLDS_BETTER},
        significant(min_delta=-0.05),
    )
    (comparison,) = decision.comparisons
    assert comparison.passed
    assert comparison.outcome == "within min_delta (p ≤ alpha 0.05)"


def test_minimized_metric_with_significance() -> None:
    losses_new = [0.30, 0.28, 0.29, 0.27, 0.28]
    losses_old = [0.33, 0.31, 0.32, 0.30, 0.31]
    decision = decide({"auc": losses_new}, {"auc": losses_old}, significant(goal=Goal.MINIMIZE))
    assert decision.verdict is Verdict.PROMOTE
    assert decision.comparisons[0].p_value == 1 / 32


def test_unusable_candidate_or_missing_baseline_runs_no_test() -> None:
    unusable = decide({"auc": [0.8, float("nan")]}, {"auc": FOLDS_BASE}, significant())
    assert unusable.verdict is Verdict.REJECT
    assert unusable.comparisons[0].n_candidate is None
    assert unusable.comparisons[0].p_value is None
    no_baseline = decide({"auc": FOLDS_BETTER}, None, significant())
    assert no_baseline.verdict is Verdict.PROMOTE
    assert no_baseline.comparisons[0].n_candidate == 5
    assert no_baseline.comparisons[0].p_value is None


def test_value_checks_apply_to_the_candidates_mean() -> None:
    rule = MetricRule(name="auc", goal=Goal.MAXIMIZE, at_least=0.85, significance=Significance())
    decision = decide({"auc": FOLDS_BETTER}, {"auc": FOLDS_BASE}, PromotionPolicy(rules=[rule]))
    assert decision.verdict is Verdict.REJECT
    assert "0.846 is below at_least 0.85" in decision.summary


def test_the_comparison_serializes_and_renders_its_test() -> None:
    decision = decide({"auc": FOLDS_BETTER}, {"auc": FOLDS_BASE}, significant())
    data = json.loads(decision.to_json())
    comparison = data["comparisons"][0]
    assert comparison["method"] == "paired"
    assert comparison["n_candidate"] == comparison["n_baseline"] == 5
    assert comparison["p_value"] == 1 / 32
    assert comparison["alpha"] == 0.05
    assert data["policy"]["rules"][0]["significance"] == {"alpha": 0.05}
    markdown = decision.to_markdown()
    assert "| rule | p | result |" in markdown
    assert "| 0.03125 (paired, n 5 vs 5) |" in markdown
    assert "p ≤ 0.05" in markdown
    html = decision._repr_html_()
    assert "<th>p</th>" in html
    assert "0.03125 (paired, n 5 vs 5)" in html


def test_tables_without_significance_have_no_p_column() -> None:
    policy = PromotionPolicy(rules=[MetricRule(name="auc", goal=Goal.MAXIMIZE)])
    decision = decide({"auc": 0.9}, {"auc": 0.8}, policy)
    assert "| p |" not in decision.to_markdown()
    assert "<th>p</th>" not in decision._repr_html_()


def test_the_p_cell_when_no_test_ran() -> None:
    decision = decide({"auc": FOLDS_BETTER}, None, significant())
    assert "| – (n 5 vs –) |" in decision.to_markdown()
    refused = decide({"auc": [0.9, 0.91, 0.92]}, {"auc": [0.8, 0.81, 0.82]}, significant())
    assert "| – (paired, n 3 vs 3) |" in refused.to_markdown()
    unusable = decide({"auc": "x"}, {"auc": FOLDS_BASE}, significant())
    assert "| – | ❌" in unusable.to_markdown()


def test_read_series_reads_every_value() -> None:
    assert read_series([1, 2.5]) == ((1.0, 2.5), None)
    assert read_series(0.5) == ((0.5,), None)
    assert read_series([1, float("inf")]) == (None, "value #2 is +infinity, not a finite number")


# --- The rule and the policy as values --------------------------------------------------------


def test_a_rule_with_significance_aggregates_by_mean() -> None:
    rule = MetricRule(name="auc", goal=Goal.MAXIMIZE, significance=Significance())
    assert rule.aggregate is Aggregate.MEAN
    assert MetricRule(name="auc", goal=Goal.MAXIMIZE).aggregate is Aggregate.LAST
    with pytest.raises(ValueError, match="its aggregate is 'mean', not 'last'"):
        MetricRule(
            name="auc", goal=Goal.MAXIMIZE, aggregate=Aggregate.LAST, significance=Significance()
        )


@pytest.mark.parametrize("alpha", [0, -0.1, 0.6, True, "0.05", float("nan")])
def test_alpha_must_be_in_zero_half(alpha: object) -> None:
    with pytest.raises(ValueError, match=r"alpha must be a number in \(0, 0.5\]"):
        Significance(alpha=alpha)  # type: ignore[arg-type]


def test_evaluation_data_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError, match='exactly one of "context"'):
        EvaluationData()
    with pytest.raises(ValueError, match='exactly one of "context"'):
        EvaluationData(context="eval", tag="hash")
    with pytest.raises(ValueError, match="context must be a non-empty string"):
        EvaluationData(context=" ")
    assert str(EvaluationData(context="eval")) == "context 'eval'"
    assert str(EvaluationData(tag="hash")) == "tag 'hash'"


# --- Same evaluation data in decide() ---------------------------------------------------------

SAME = {"eval": "1a2b"}
OTHER = {"eval": "9f8e"}


def gated(on_mismatch: OnMismatch = OnMismatch.REJECT, **kw: object) -> PromotionPolicy:
    return PromotionPolicy(
        rules=[MetricRule(name="auc", goal=Goal.MAXIMIZE, **kw)],  # type: ignore[arg-type]
        evaluation_data=EvaluationData(context="eval", on_mismatch=on_mismatch),
    )


def test_same_data_compares_as_usual_and_is_recorded() -> None:
    decision = decide(
        {"auc": 0.9}, {"auc": 0.8}, gated(), candidate_data=SAME, baseline_data=dict(SAME)
    )
    assert decision.verdict is Verdict.PROMOTE
    assert decision.to_dict()["evaluation_data"] == {"candidate": SAME, "baseline": SAME}


def test_different_data_rejects_with_both_identities() -> None:
    decision = decide({"auc": 0.9}, {"auc": 0.8}, gated(), candidate_data=SAME, baseline_data=OTHER)
    assert decision.verdict is Verdict.REJECT
    assert decision.summary == (
        "the candidate was evaluated on eval@1a2b, the baseline on eval@9f8e: not comparable"
    )


@pytest.mark.parametrize(
    ("candidate_data", "baseline_data", "expected"),
    [
        (None, OTHER, "on unknown data, the baseline on eval@9f8e"),
        (SAME, {}, "on eval@1a2b, the baseline on unknown data"),
        (SAME, {"eval": None}, "on eval@1a2b, the baseline on unknown data"),
        (SAME, {"eval": "1a2b", "extra": "77"}, "the baseline on eval@1a2b, extra@77"),
    ],
)
def test_an_unknown_or_different_side_rejects(
    candidate_data: dict[str, str | None] | None,
    baseline_data: dict[str, str | None],
    expected: str,
) -> None:
    decision = decide(
        {"auc": 0.9},
        {"auc": 0.8},
        gated(),
        candidate_data=candidate_data,
        baseline_data=baseline_data,
    )
    assert decision.verdict is Verdict.REJECT
    assert expected in decision.summary


def test_warn_decides_anyway_and_notes_the_mismatch() -> None:
    decision = decide(
        {"auc": 0.9},
        {"auc": 0.8},
        gated(OnMismatch.WARN),
        candidate_data=SAME,
        baseline_data=OTHER,
    )
    assert decision.verdict is Verdict.PROMOTE
    assert decision.notes == (f"{decision_mismatch()} (on_mismatch is 'warn': decided anyway)",)


def decision_mismatch() -> str:
    return "the candidate was evaluated on eval@1a2b, the baseline on eval@9f8e: not comparable"


def test_the_candidates_own_checks_come_before_the_data_check() -> None:
    decision = decide(
        {"auc": 0.4},
        {"auc": 0.8},
        gated(at_least=0.5),
        candidate_data=SAME,
        baseline_data=OTHER,
    )
    assert decision.verdict is Verdict.REJECT
    assert (
        decision.reasons[0]
        == "auc: 0.4 vs 0.8, Δ -0.4: 0.4 is below at_least 0.5; worse than the baseline"
    )
    assert decision.reasons[1].startswith("the candidate was evaluated on eval@1a2b")


def test_the_data_check_comes_before_the_change_checks() -> None:
    decision = decide({"auc": 0.7}, {"auc": 0.8}, gated(), candidate_data=SAME, baseline_data=OTHER)
    assert decision.reasons[0].startswith("the candidate was evaluated on")
    assert decision.reasons[1] == "auc: 0.7 vs 0.8, Δ -0.1: worse than the baseline"


def test_no_baseline_or_no_rules_needs_no_data_check() -> None:
    assert decide({"auc": 0.9}, None, gated(), candidate_data=None).verdict is Verdict.PROMOTE
    no_rules = PromotionPolicy(evaluation_data=EvaluationData(context="eval"))
    assert decide({}, {}, no_rules, baseline_data=OTHER).verdict is Verdict.PROMOTE


def test_forced_registration_records_the_mismatch() -> None:
    policy = PromotionPolicy(
        rules=[MetricRule(name="auc", goal=Goal.MAXIMIZE)],
        force=True,
        evaluation_data=EvaluationData(tag="data_hash"),
    )
    decision = decide({"auc": 0.9}, {"auc": 0.8}, policy, candidate_data={"data_hash": "a"})
    assert decision.verdict is Verdict.FORCE
    assert "the policy alone would reject: the candidate was evaluated on data_hash@a" in (
        decision.summary
    )


def test_without_the_setting_data_is_ignored() -> None:
    policy = PromotionPolicy(rules=[MetricRule(name="auc", goal=Goal.MAXIMIZE)])
    decision = decide({"auc": 0.9}, {"auc": 0.8}, policy, candidate_data=SAME, baseline_data=OTHER)
    assert decision.verdict is Verdict.PROMOTE
    assert decision.candidate_data is None
    assert decision.to_dict()["evaluation_data"] is None


def test_the_identity_is_written_as_tags() -> None:
    decision = decide(
        {"auc": 0.9},
        {"auc": 0.8},
        gated(),
        candidate_data={"eval": "1a2b", "holdout": None},
        baseline_data={"eval": "1a2b", "holdout": None},
    )
    written = tags.decision_tags(decision, baseline_version=1, generation=2)
    assert written["promotion.data.eval"] == "1a2b"
    assert "promotion.data.holdout" not in written
    assert tags.evaluation_data_of(written) == {"eval": "1a2b"}


# --- Settings -----------------------------------------------------------------------------------


def test_settings_read_significance_and_evaluation_data() -> None:
    settings = load_settings(
        {
            "metrics_max": ["auc_fold"],
            "metric_rules": {"auc_fold": {"significance": {"alpha": 0.01}, "min_delta": 0.005}},
            "evaluation_data": {"tag": "eval_data_hash", "on_mismatch": "Warn"},
        }
    )
    (rule,) = settings.policy.rules
    assert rule.significance == Significance(alpha=0.01)
    assert rule.aggregate is Aggregate.MEAN
    assert settings.policy.evaluation_data == EvaluationData(
        tag="eval_data_hash", on_mismatch=OnMismatch.WARN
    )
    default = load_settings(
        {
            "metrics_max": ["auc"],
            "metric_rules": {"auc": {"significance": {}, "aggregate": "mean"}},
            "evaluation_data": {"context": "eval"},
        }
    )
    assert default.policy.rules[0].significance == Significance(alpha=0.05)
    assert default.policy.evaluation_data == EvaluationData(context="eval")


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (
            {"metric_rules": {"auc": {"significance": {"alpha": 0.05}, "aggregate": "last"}}},
            "$.metric_rules.auc.aggregate",
            "its aggregate is 'mean', not 'last'",
        ),
        (
            {"metric_rules": {"auc": {"significance": {"alpha": 0.9}}}},
            "$.metric_rules.auc.significance.alpha",
            "expected a number in (0, 0.5], found 0.9",
        ),
        (
            {"metric_rules": {"auc": {"significance": 0.05}}},
            "$.metric_rules.auc.significance",
            "expected an object with any of alpha; found a number",
        ),
        (
            {"evaluation_data": {"context": "eval", "tag": "hash"}},
            "$.evaluation_data",
            'give exactly one of "context"',
        ),
        ({"evaluation_data": {}}, "$.evaluation_data", 'give exactly one of "context"'),
        (
            {"evaluation_data": {"context": "eval", "on_mismatch": "ignore"}},
            "$.evaluation_data.on_mismatch",
            "on_mismatch must be one of reject, warn; found 'ignore'",
        ),
        ({"evaluation_data": "eval"}, "$.evaluation_data", "expected an object with any of"),
    ],
)
def test_settings_errors_name_the_path(data: dict[str, object], path: str, message: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"metrics_max": ["auc"], **data})
    problems = {(p.path, p.message) for p in info.value.problems}
    assert any(p == path and message in m for p, m in problems), problems


# --- The service reads the identities through the run port ------------------------------------

SETTINGS = {
    "model_name": "churn",
    "metrics_max": ["auc"],
    "evaluation_data": {"context": "eval"},
}


def seeded(backend: InMemoryBackend, *, baseline_data: dict[str, str | None]) -> None:
    backend.runs.add_run(
        "old", metrics={"auc": 0.8}, files=["model.pkl"], inputs={"eval": baseline_data}
    )
    backend.registry.add_version("churn", run_id="old")


def test_promote_reads_both_runs_evaluation_data(backend: InMemoryBackend) -> None:
    seeded(backend, baseline_data={"test-set": "1a2b"})
    backend.runs.add_run(
        "new",
        metrics={"auc": 0.9},
        files=["model.pkl"],
        inputs={"eval": {"test-set": "1a2b"}, "train": {"train-set": "ffff"}},
    )
    result = promote(settings=SETTINGS, backend=backend, experiment_name="default", run_id="new")
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.decision.candidate_data == {"test-set": "1a2b"}
    assert result.model is not None
    assert backend.registry.get("churn", 2).tags["promotion.data.test-set"] == "1a2b"
    assert ("get_evaluation_data", "new", "context 'eval'") in backend.calls


def test_promote_rejects_a_candidate_scored_on_other_data(backend: InMemoryBackend) -> None:
    seeded(backend, baseline_data={"test-set": "1a2b"})
    backend.runs.add_run(
        "new", metrics={"auc": 0.9}, files=["model.pkl"], inputs={"eval": {"test-set": "9f8e"}}
    )
    result = promote(settings=SETTINGS, backend=backend, experiment_name="default", run_id="new")
    assert result.decision.verdict is Verdict.REJECT
    assert result.model is None
    assert "test-set@9f8e, the baseline on test-set@1a2b" in result.decision.summary


def test_a_runless_baseline_has_its_identity_from_its_tags(backend: InMemoryBackend) -> None:
    backend.registry.add_version(
        "churn", tags={"promotion.metric.auc": "0.8", "promotion.data.test-set": "1a2b"}
    )
    backend.runs.add_run(
        "new", metrics={"auc": 0.9}, files=["model.pkl"], inputs={"eval": {"test-set": "1a2b"}}
    )
    settings = load_settings(SETTINGS)
    baseline = backend.registry.find_baseline("churn", settings.baseline)
    assert _baseline_data(backend.runs, baseline, None, settings.policy) == {"test-set": "1a2b"}


def test_the_tag_source_reads_a_run_tag(backend: InMemoryBackend) -> None:
    backend.runs.add_run("old", metrics={"auc": 0.8}, files=["model.pkl"], tags={"h": "1"})
    backend.registry.add_version("churn", run_id="old")
    backend.runs.add_run("new", metrics={"auc": 0.9}, files=["model.pkl"], tags={"h": "2"})
    settings = {**SETTINGS, "evaluation_data": {"tag": "h"}}
    result = promote(settings=settings, backend=backend, experiment_name="default", run_id="new")
    assert result.decision.verdict is Verdict.REJECT
    assert result.decision.summary.startswith(
        "the candidate was evaluated on h@2, the baseline on h@1"
    )
    backend.runs.add_run("same", metrics={"auc": 0.9}, files=["model.pkl"])
    unknown = promote(settings=settings, backend=backend, experiment_name="default", run_id="same")
    assert "evaluated on unknown data, the baseline on h@1" in unknown.decision.summary


def test_forced_with_a_lost_baseline_run_the_data_is_unknown(backend: InMemoryBackend) -> None:
    backend.registry.add_version("churn", run_id="gone")
    backend.runs.add_run(
        "new", metrics={"auc": 0.9}, files=["model.pkl"], inputs={"eval": {"test-set": "1a2b"}}
    )
    settings = {**SETTINGS, "force_registration": True}
    result = promote(settings=settings, backend=backend, experiment_name="default", run_id="new")
    assert result.decision.verdict is Verdict.FORCE
    assert result.decision.baseline_data is None


def test_a_local_candidate_has_unknown_evaluation_data(
    backend: InMemoryBackend, tmp_path: object
) -> None:
    seeded(backend, baseline_data={"test-set": "1a2b"})
    model = tmp_path / "model.pkl"  # type: ignore[operator]
    model.write_bytes(b"m")
    result = promote(settings=SETTINGS, backend=backend, model_path=model, metrics={"auc": 0.9})
    assert result.decision.verdict is Verdict.REJECT
    assert "evaluated on unknown data, the baseline on test-set@1a2b" in result.decision.summary


def test_the_renderings_name_the_evaluation_data() -> None:
    decision = decide(
        {"auc": 0.9},
        {"auc": 0.8},
        gated(),
        candidate_data={"eval": "1a2b", "extra": None},
        baseline_data=None,
    )
    line = "evaluated on: eval@1a2b, extra@? (candidate), unknown (baseline)"
    assert f"\n\n{line}\n\n|" in decision.to_markdown()
    assert f"<p>{line}</p><table>" in decision._repr_html_()
    plain = decide({"auc": 0.9}, {"auc": 0.8}, PromotionPolicy(rules=gated().rules))
    assert "evaluated on" not in plain.to_markdown()
    assert "evaluated on" not in plain._repr_html_()


fold_scores = st.lists(
    st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=2, max_size=8
)


@given(first=fold_scores, second=fold_scores, goal=st.sampled_from(Goal))
def test_swapping_never_promotes_both_ways(
    first: list[float], second: list[float], goal: Goal
) -> None:
    """A significant gain one way is never a significant gain the other way too."""
    policy = significant(goal=goal)
    forward = decide({"auc": first}, {"auc": second}, policy)
    backward = decide({"auc": second}, {"auc": first}, policy)
    assert not (forward.promote and backward.promote)
    for decision in (forward, backward):
        p = decision.comparisons[0].p_value
        assert p is None or 0 < p <= 1


def test_p_equal_to_alpha_passes() -> None:
    """The change check passes when p ≤ alpha: 5 winning folds give p = 1/32 exactly."""
    decision = decide({"auc": FOLDS_BETTER}, {"auc": FOLDS_BASE}, significant(alpha=1 / 32))
    assert decision.comparisons[0].p_value == 1 / 32
    assert decision.verdict is Verdict.PROMOTE


def test_on_mismatch_takes_its_names_and_nothing_else() -> None:
    assert EvaluationData(context="e", on_mismatch="WARN ").on_mismatch is OnMismatch.WARN
    with pytest.raises(ValueError, match="on_mismatch must be one of reject, warn; not 'ignore'"):
        EvaluationData(context="e", on_mismatch="ignore")
    with pytest.raises(TypeError, match="on_mismatch"):
        EvaluationData(context="e", on_mismatch=True)  # type: ignore[arg-type]
