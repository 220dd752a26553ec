"""How one rule judges the candidate against the baseline: `Comparison`, and how it is made.

`compare_value` applies a rule's value and change checks (DESIGN.md section 3, steps 2 to 5) to
one reading each; `compare_series` compares the means of two series and tests the gain. Each
writes the rule's outcome and its one-line reason for people. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import attrs

from aml_promotion._domain.choices import choice, flag
from aml_promotion._domain.delta import improvement, meets, relative_improvement
from aml_promotion._domain.json_fields import (
    json_number,
    read_field,
    read_number,
    read_numbers,
    read_optional,
)
from aml_promotion._domain.metrics import Reading, read_metric, read_series
from aml_promotion._domain.outcomes import CheckOutcome
from aml_promotion._domain.policy import (
    Aggregate,
    Goal,
    MetricRule,
    OnMissingBaselineMetric,
    PromotionPolicy,
    Significance,
)
from aml_promotion._domain.significance import (
    SignificanceError,
    SignificanceMethod,
    method_for,
    significance_test,
)
from aml_promotion._domain.suggest import close_matches


def _value_check_outcome(value: CheckOutcome | str) -> CheckOutcome:
    return choice(CheckOutcome, "value_check", value)


def _change_check_outcome(value: CheckOutcome | str) -> CheckOutcome:
    return choice(CheckOutcome, "change_check", value)


def _scores(value: object) -> tuple[float, ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        msg = f"a series of scores must be a list of numbers or None, not {value!r}"
        raise TypeError(msg)
    return tuple(float(item) for item in value)


def _list_or_none(value: tuple[float, ...] | None) -> list[float] | None:
    return None if value is None else list(value)


@attrs.frozen(kw_only=True)
class Comparison:
    """How one rule judged the candidate against the baseline (passes are recorded too).

    Attributes:
        rule: The rule, with its goal and thresholds.
        candidate: The candidate's usable value, or None (see `reason`).
        baseline: The baseline's usable value, or None.
        delta: The improvement Δ (positive is better whatever the goal), when both are usable.
        relative_delta: Δ / |baseline|; ±inf when the baseline is 0.
        value_check: Whether the candidate stays within `at_least`/`at_most`.
        change_check: Whether Δ (and ρ) meet the rule's thresholds.
        improved: Δ is strictly positive, beyond float tolerance.
        passed: Nothing in this rule stands in the way of promotion.
        outcome: A few words on the result ("better", "worse than the baseline"...).
        reason: One line, for people: the metric, the values and the outcome.
        method: With a significance test, whether it was paired or unpaired; else None.
        n_candidate: With a significance test, how many candidate scores there were.
        n_baseline: With a significance test, how many baseline scores there were.
        p_value: The test's p-value, when it ran; else None.
        candidate_values: With a significance test, the candidate's scores (folds, seeds), in
            the order logged; else None.
        baseline_values: The same for the baseline.
    """

    rule: MetricRule = attrs.field(validator=attrs.validators.instance_of(MetricRule))
    candidate: float | None
    baseline: float | None
    delta: float | None
    relative_delta: float | None
    value_check: CheckOutcome = attrs.field(converter=_value_check_outcome)
    change_check: CheckOutcome = attrs.field(converter=_change_check_outcome)
    improved: bool = attrs.field(validator=flag)
    passed: bool = attrs.field(validator=flag)
    outcome: str
    reason: str
    method: SignificanceMethod | None = None
    n_candidate: int | None = None
    n_baseline: int | None = None
    p_value: float | None = None
    candidate_values: tuple[float, ...] | None = attrs.field(default=None, converter=_scores)
    baseline_values: tuple[float, ...] | None = attrs.field(default=None, converter=_scores)

    @property
    def metric(self) -> str:
        """The metric's name."""
        return self.rule.name

    @property
    def goal(self) -> Goal:
        """Whether the metric is maximized or minimized."""
        return self.rule.goal

    def to_dict(self) -> dict[str, object]:
        """Return the comparison as JSON-ready data (±inf as the strings "inf" and "-inf")."""
        rule = self.rule
        return {
            "metric": rule.name,
            "goal": rule.goal.value,
            "aggregate": rule.aggregate.value,
            "dataset": rule.dataset,
            "candidate": self.candidate,
            "baseline": self.baseline,
            "delta": json_number(self.delta),
            "relative_delta": json_number(self.relative_delta),
            "min_delta": rule.min_delta,
            "min_relative_delta": rule.min_relative_delta,
            "at_least": rule.at_least,
            "at_most": rule.at_most,
            "value_check": self.value_check.value,
            "change_check": self.change_check.value,
            "improved": self.improved,
            "passed": self.passed,
            "outcome": self.outcome,
            "reason": self.reason,
            "alpha": None if rule.significance is None else rule.significance.alpha,
            "method": None if self.method is None else self.method.value,
            "n_candidate": self.n_candidate,
            "n_baseline": self.n_baseline,
            "p_value": self.p_value,
            "candidate_values": _list_or_none(self.candidate_values),
            "baseline_values": _list_or_none(self.baseline_values),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Comparison:
        """Return the comparison that `to_dict()` gave `data`.

        Raises:
            ValueError: `data` is not what `to_dict()` returns.
        """
        rule = MetricRule(
            name=read_field(data, "metric", str),
            goal=read_field(data, "goal", str),
            aggregate=read_field(data, "aggregate", str),
            min_delta=read_number(data, "min_delta"),
            min_relative_delta=read_number(data, "min_relative_delta"),
            at_least=read_number(data, "at_least"),
            at_most=read_number(data, "at_most"),
            dataset=read_optional(data, "dataset", str),
            significance=(
                None
                if data.get("alpha") is None
                else Significance(alpha=read_field(data, "alpha", float))
            ),
        )
        method = read_optional(data, "method", str)
        return cls(
            rule=rule,
            method=None if method is None else SignificanceMethod(method),
            n_candidate=read_optional(data, "n_candidate", int),
            n_baseline=read_optional(data, "n_baseline", int),
            p_value=read_number(data, "p_value"),
            candidate_values=read_numbers(data, "candidate_values"),
            baseline_values=read_numbers(data, "baseline_values"),
            candidate=read_number(data, "candidate"),
            baseline=read_number(data, "baseline"),
            delta=read_number(data, "delta"),
            relative_delta=read_number(data, "relative_delta"),
            value_check=read_field(data, "value_check", str),
            change_check=read_field(data, "change_check", str),
            improved=read_field(data, "improved", bool),
            passed=read_field(data, "passed", bool),
            outcome=read_field(data, "outcome", str),
            reason=read_field(data, "reason", str),
        )


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _signed(value: float) -> str:
    return f"{value:+.6g}"


def _close_matches(name: str, available: Collection[str]) -> str:
    suggestions = close_matches(name, available)
    if not suggestions:
        return ""
    return " (did you mean " + " or ".join(repr(s) for s in suggestions[:3]) + "?)"


def _value_check(rule: MetricRule, value: float) -> tuple[CheckOutcome, str | None]:
    if rule.at_least is None and rule.at_most is None:
        return CheckOutcome.NOT_APPLICABLE, None
    if rule.at_least is not None and not meets(value, rule.at_least):
        return CheckOutcome.FAILED, f"{_fmt(value)} is below at_least {_fmt(rule.at_least)}"
    if rule.at_most is not None and not meets(-value, -rule.at_most):
        return CheckOutcome.FAILED, f"{_fmt(value)} is above at_most {_fmt(rule.at_most)}"
    return CheckOutcome.PASSED, None


def _change_check(rule: MetricRule, delta: float, rho: float) -> tuple[CheckOutcome, str | None]:
    if not meets(delta, rule.effective_min_delta):
        if rule.min_delta is None:
            return CheckOutcome.FAILED, "worse than the baseline"
        return CheckOutcome.FAILED, (
            f"improvement {_signed(delta)} is short of min_delta {_fmt(rule.min_delta)}"
        )
    if rule.min_relative_delta is not None and not meets(rho, rule.min_relative_delta):
        return CheckOutcome.FAILED, (
            f"relative improvement {rho:+.4%} is short of min_relative_delta "
            f"{rule.min_relative_delta:.4%}"
        )
    return CheckOutcome.PASSED, None


def compare_value(
    rule: MetricRule,
    candidate: Reading,
    baseline: Reading | None,
    policy: PromotionPolicy,
    available: Collection[str],
) -> Comparison:
    """Judge one reading of the candidate against one of the baseline (None: no baseline).

    Args:
        rule: The rule, without a significance test.
        candidate: The candidate's value, or why it is unusable.
        baseline: The baseline's value, or why it is unusable; None when there is no baseline.
        policy: For `on_missing_baseline_metric`.
        available: The candidate's metric names, to suggest one for a missing metric.
    """
    name = rule.name
    if candidate.value is None:
        hint = _close_matches(name, available) if candidate.problem == "missing" else ""
        what = (
            f"missing from the candidate{hint}"
            if candidate.problem == "missing"
            else f"the candidate's value is unusable: {candidate.problem}"
        )
        baseline_value = None if baseline is None else baseline.value
        return Comparison(
            rule=rule, candidate=None, baseline=baseline_value, delta=None, relative_delta=None,
            value_check=CheckOutcome.NOT_APPLICABLE, change_check=CheckOutcome.NOT_APPLICABLE,
            improved=False, passed=False, outcome=what, reason=f"{name}: {what}",
        )  # fmt: skip
    c = candidate.value
    value_check, value_problem = _value_check(rule, c)
    delta = rho = None
    b = None
    change_problem: str | None = None
    skipped: str | None = None
    if baseline is None:
        change_check = CheckOutcome.NOT_APPLICABLE
        detail = f"{_fmt(c)}, no baseline"
    elif baseline.value is None:
        b_problem = (
            "missing from the baseline"
            if baseline.problem == "missing"
            else f"the baseline's value is unusable: {baseline.problem}"
        )
        if policy.on_missing_baseline_metric is OnMissingBaselineMetric.SKIP:
            change_check = CheckOutcome.SKIPPED
            skipped = f"change check skipped ({b_problem})"
            detail = _fmt(c)
        else:
            change_check = CheckOutcome.FAILED
            change_problem = b_problem
            detail = f"{_fmt(c)}"
    else:
        b = baseline.value
        delta = improvement(c, b, rule.goal)
        rho = relative_improvement(delta, b)
        change_check, change_problem = _change_check(rule, delta, rho)
        detail = f"{_fmt(c)} vs {_fmt(b)}, Δ {_signed(delta)}"
    problems = [p for p in (value_problem, change_problem) if p]
    improved = delta is not None and delta > 0
    if problems:
        verdict_text = "; ".join(problems)
    elif skipped is not None:
        verdict_text = skipped
    elif delta is None:
        verdict_text = "ok"
    else:
        verdict_text = (
            "better" if improved else "equal" if delta == 0 else "worse, within min_delta"
        )
    return Comparison(
        rule=rule,
        candidate=c,
        baseline=b,
        delta=delta,
        relative_delta=rho,
        value_check=value_check,
        change_check=change_check,
        improved=improved,
        passed=not problems,
        outcome=verdict_text,
        reason=f"{name}: {detail}: {verdict_text}",
    )


def compare_series(
    rule: MetricRule,
    candidate_raw: object,
    baseline_raw: object | None,
    policy: PromotionPolicy,
    available: Collection[str],
) -> Comparison:
    """Compare the means of two series, and test whether the gain is more than noise.

    Takes the raw values (`read_metric` and `read_series` read them); the rest as
    `compare_value`, for a rule with a significance test.
    """
    assert rule.significance is not None  # noqa: S101 - decide() sends only such rules here
    plain = compare_value(
        rule,
        read_metric(candidate_raw, Aggregate.MEAN),
        None if baseline_raw is None else read_metric(baseline_raw, Aggregate.MEAN),
        policy,
        available,
    )
    candidate_values = read_series(candidate_raw)[0] if plain.candidate is not None else None
    n_candidate = None if candidate_values is None else len(candidate_values)
    if plain.delta is None or plain.candidate is None or plain.baseline is None:
        # Nothing to test: the candidate is unusable, or there is no usable baseline value.
        return attrs.evolve(plain, n_candidate=n_candidate, candidate_values=candidate_values)
    baseline_values = read_series(baseline_raw)[0] or ()
    assert candidate_values is not None  # noqa: S101 - its mean is usable, so are its values
    n_baseline = len(baseline_values)
    alpha = rule.significance.alpha
    p_value: float | None = None
    method = method_for(n_candidate or 0, n_baseline)
    try:
        result = significance_test(
            candidate_values,
            baseline_values,
            goal=rule.goal,
            min_delta=rule.effective_min_delta,
            alpha=alpha,
        )
    except SignificanceError as exc:
        test_problem: str | None = str(exc)
    else:
        p_value = result.p_value
        test_problem = (
            None if p_value <= alpha else f"not significant: p = {p_value:.4g} > alpha {alpha:g}"
        )
    c, b, delta = plain.candidate, plain.baseline, plain.delta
    value_check, value_problem = _value_check(rule, c)
    change_check, change_problem = _change_check(rule, delta, plain.relative_delta or 0.0)
    if test_problem is not None:
        change_check = CheckOutcome.FAILED
    problems = [p for p in (value_problem, change_problem, test_problem) if p]
    tested = "" if p_value is None else f", {method.value} p = {p_value:.4g}"
    detail = (
        f"mean {_fmt(c)} vs {_fmt(b)}, Δ {_signed(delta)}{tested} "
        f"(n = {n_candidate} vs {n_baseline})"
    )
    if problems:
        outcome = "; ".join(problems)
    else:
        outcome = "significantly better" if delta > 0 else f"within min_delta (p ≤ alpha {alpha:g})"
    return attrs.evolve(
        plain,
        value_check=value_check,
        change_check=change_check,
        passed=not problems,
        outcome=outcome,
        reason=f"{rule.name}: {detail}: {outcome}",
        method=method,
        n_candidate=n_candidate,
        n_baseline=n_baseline,
        p_value=p_value,
        candidate_values=candidate_values,
        baseline_values=baseline_values,
    )
