"""`decide()`: the decision rules of DESIGN.md section 3, and the `Decision` they produce.

Pure: no I/O, no clock, no SDK. The same inputs always give the same `Decision`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from typing import TypeVar

import attrs

from aml_promotion._domain import render
from aml_promotion._domain.choices import choice, flag
from aml_promotion._domain.metrics import Reading, missing, read_metric, read_series
from aml_promotion._domain.outcomes import CheckOutcome, Verdict
from aml_promotion._domain.policy import (
    Aggregate,
    Goal,
    MetricRule,
    OnMismatch,
    OnMissingBaseline,
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
from aml_promotion._domain.tolerance import ABS_TOL, isclose

_T = TypeVar("_T")


def _value_check_outcome(value: CheckOutcome | str) -> CheckOutcome:
    return choice(CheckOutcome, "value_check", value)


def _change_check_outcome(value: CheckOutcome | str) -> CheckOutcome:
    return choice(CheckOutcome, "change_check", value)


def _verdict(value: Verdict | str) -> Verdict:
    return choice(Verdict, "verdict", value)


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
            "delta": _json_number(self.delta),
            "relative_delta": _json_number(self.relative_delta),
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
            name=_field(data, "metric", str),
            goal=_field(data, "goal", str),
            aggregate=_field(data, "aggregate", str),
            min_delta=_number_field(data, "min_delta"),
            min_relative_delta=_number_field(data, "min_relative_delta"),
            at_least=_number_field(data, "at_least"),
            at_most=_number_field(data, "at_most"),
            dataset=_optional_field(data, "dataset", str),
            significance=(
                None
                if data.get("alpha") is None
                else Significance(alpha=_field(data, "alpha", float))
            ),
        )
        method = _optional_field(data, "method", str)
        return cls(
            rule=rule,
            method=None if method is None else SignificanceMethod(method),
            n_candidate=_optional_field(data, "n_candidate", int),
            n_baseline=_optional_field(data, "n_baseline", int),
            p_value=_number_field(data, "p_value"),
            candidate_values=_numbers_field(data, "candidate_values"),
            baseline_values=_numbers_field(data, "baseline_values"),
            candidate=_number_field(data, "candidate"),
            baseline=_number_field(data, "baseline"),
            delta=_number_field(data, "delta"),
            relative_delta=_number_field(data, "relative_delta"),
            value_check=_field(data, "value_check", str),
            change_check=_field(data, "change_check", str),
            improved=_field(data, "improved", bool),
            passed=_field(data, "passed", bool),
            outcome=_field(data, "outcome", str),
            reason=_field(data, "reason", str),
        )


def _field(data: Mapping[str, object], key: str, kind: type[_T]) -> _T:
    if key not in data:
        msg = f"{key!r} is missing: expected a {kind.__name__}"
        raise ValueError(msg)
    value = data[key]
    if not isinstance(value, kind):
        msg = f"{key!r} must be a {kind.__name__}, not {type(value).__name__} {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - a record of the wrong shape is a bad value
    return value


def _data_field(data: Mapping[str, object], side: str) -> dict[str, str | None] | None:
    """Read one side of ``evaluation_data`` back: dataset name → digest or version."""
    record = _optional_field(data, "evaluation_data", dict)
    if record is None:
        return None
    identity = _optional_field(record, side, dict)
    if identity is None:
        return None
    if not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in identity.items()
    ):
        msg = (
            f"'evaluation_data.{side}' must map dataset names to strings or null, not {identity!r}"
        )
        raise ValueError(msg)
    return dict(identity)


def _optional_field(data: Mapping[str, object], key: str, kind: type[_T]) -> _T | None:
    if data.get(key) is None:
        return None
    return _field(data, key, kind)


def _number_field(data: Mapping[str, object], key: str) -> float | None:
    value = data.get(key)
    if value in ("inf", "-inf"):
        return float(str(value))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"{key!r} must be a number, 'inf', '-inf' or null, not {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - a record of the wrong shape is a bad value
    return float(value)


def _numbers_field(data: Mapping[str, object], key: str) -> tuple[float, ...] | None:
    value = _optional_field(data, key, list)
    if value is None:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        msg = f"{key!r} must be a list of numbers or null, not {value!r}"
        raise ValueError(msg)
    return tuple(float(v) for v in value)


def _json_number(value: float | None) -> float | str | None:
    if value is not None and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _data_or_none(value: Mapping[str, str | None] | None) -> Mapping[str, str | None] | None:
    return None if value is None else dict(value)


def _data_dict(value: Mapping[str, str | None] | None) -> dict[str, str | None] | None:
    return None if value is None else dict(sorted(value.items()))


@attrs.frozen(kw_only=True)
class Decision:
    """Why a candidate was or was not registered; immutable.

    Attributes:
        verdict: `Verdict.PROMOTE`, `Verdict.REJECT` or `Verdict.FORCE`.
        comparisons: One per rule, in rule order.
        summary: One line that says why.
        reasons: Every reason that stands against promotion, first the one that decided.
        candidate: What the candidate is (a run, a file), for people.
        baseline: What the baseline is, or None when there is none.
        policy: The policy that decided.
        notes: Facts learned around the decision (for example "superseded by version 7").
        candidate_data: The data the candidate was evaluated on (name → digest or version; a
            None digest is unknown), when the policy asks for it; None when not read.
        baseline_data: The same for the baseline.
    """

    verdict: Verdict = attrs.field(converter=_verdict)
    comparisons: tuple[Comparison, ...]
    summary: str
    reasons: tuple[str, ...] = ()
    candidate: str | None = None
    baseline: str | None = None
    policy: PromotionPolicy = attrs.field(validator=attrs.validators.instance_of(PromotionPolicy))
    notes: tuple[str, ...] = ()
    candidate_data: Mapping[str, str | None] | None = attrs.field(
        default=None, converter=_data_or_none
    )
    baseline_data: Mapping[str, str | None] | None = attrs.field(
        default=None, converter=_data_or_none
    )

    @property
    def promote(self) -> bool:
        """Whether the candidate is to be registered (`PROMOTE` or `FORCE`)."""
        return self.verdict is not Verdict.REJECT

    def with_note(self, note: str) -> Decision:
        """Return a copy with `note` added."""
        return attrs.evolve(self, notes=(*self.notes, note))

    def to_dict(self) -> dict[str, object]:
        """Return the decision as JSON-ready data."""
        return {
            "verdict": self.verdict.value,
            "promote": self.promote,
            "summary": self.summary,
            "reasons": list(self.reasons),
            "candidate": self.candidate,
            "baseline": self.baseline,
            "notes": list(self.notes),
            "comparisons": [comparison.to_dict() for comparison in self.comparisons],
            "policy": self.policy.to_dict(),
            "evaluation_data": (
                None
                if self.policy.evaluation_data is None
                else {
                    "candidate": _data_dict(self.candidate_data),
                    "baseline": _data_dict(self.baseline_data),
                }
            ),
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """Return the decision as a JSON document (compact unless `indent` is given)."""
        separators = (",", ":") if indent is None else None
        return json.dumps(
            self.to_dict(),
            indent=indent,
            separators=separators,
            allow_nan=False,
            ensure_ascii=False,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Decision:
        """Return the decision that `to_dict()` gave `data` (a JSON record read back).

        Raises:
            ValueError: `data` is not what `to_dict()` returns; the message names the key.
        """
        comparisons = _field(data, "comparisons", list)
        return cls(
            verdict=_field(data, "verdict", str),
            comparisons=tuple(
                Comparison.from_dict(_field({"comparison": item}, "comparison", dict))
                for item in comparisons
            ),
            summary=_field(data, "summary", str),
            reasons=tuple(_texts(data, "reasons")),
            candidate=_optional_field(data, "candidate", str),
            baseline=_optional_field(data, "baseline", str),
            policy=PromotionPolicy.from_dict(_field(data, "policy", dict)),
            notes=tuple(_texts(data, "notes")),
            candidate_data=_data_field(data, "candidate"),
            baseline_data=_data_field(data, "baseline"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Decision:
        """Return the decision that `to_json()` gave `text`.

        Raises:
            ValueError: `text` is not JSON, or not what `to_json()` returns.
        """
        data = json.loads(text)
        if not isinstance(data, dict):
            msg = f"expected a JSON object, not {type(data).__name__}"
            raise ValueError(msg)  # noqa: TRY004 - a document of the wrong shape is a bad value
        return cls.from_dict(data)

    def to_markdown(self) -> str:
        """Return the decision as Markdown: a headline, the summary and a table of the rules."""
        return render.as_markdown(self)

    def to_text(self, *, color: bool = False) -> str:
        """Return the decision as plain text for a terminal: the verdict, then an aligned table.

        Args:
            color: Colour the verdict and each rule's result with ANSI escapes (for a terminal
                that shows them; the command line decides with `render.wants_color`).
        """
        return render.as_text(self, color=color)

    def _repr_html_(self) -> str:
        # Deferred: `html` (with html.entities) is for notebooks only, not the user's import.
        from aml_promotion._domain import render_html  # noqa: PLC0415

        return render_html.decision_html(self)

    def __str__(self) -> str:
        return f"{self.verdict.name}: {self.summary}"


def _texts(data: Mapping[str, object], key: str) -> list[str]:
    items = _field(data, key, list)
    for item in items:
        if not isinstance(item, str):
            msg = f"{key!r} must be a list of strings, not one holding {item!r}"
            raise ValueError(msg)  # noqa: TRY004 - a record of the wrong shape is a bad value
    return items


def improvement(candidate: float, baseline: float, goal: Goal) -> float:
    """Return Δ: how much better the candidate is (0 when the two are float-equal)."""
    if isclose(candidate, baseline):
        return 0.0
    return candidate - baseline if goal is Goal.MAXIMIZE else baseline - candidate


def relative_improvement(delta: float, baseline: float) -> float:
    """Return ρ = Δ / |baseline|, or ±inf / 0 when the baseline is 0."""
    if abs(baseline) <= ABS_TOL:
        if delta > 0:
            return math.inf
        return -math.inf if delta < 0 else 0.0
    return delta / abs(baseline)


def meets(value: float, threshold: float) -> bool:
    """Return whether `value` reaches `threshold`, float-safely."""
    return value >= threshold or isclose(value, threshold)


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


def _compare(
    rule: MetricRule,
    candidate: Reading,
    baseline: Reading | None,
    policy: PromotionPolicy,
    available: Collection[str],
) -> Comparison:
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


def _compare_series(
    rule: MetricRule,
    candidate_raw: object,
    baseline_raw: object | None,
    policy: PromotionPolicy,
    available: Collection[str],
) -> Comparison:
    """Compare the means of two series, and test whether the gain is more than noise."""
    assert rule.significance is not None  # noqa: S101 - decide() sends only such rules here
    plain = _compare(
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


def _identity(data: Mapping[str, str | None] | None) -> str | None:
    """Return evaluation data as text ("eval@1a2b"), or None when unknown or incomplete."""
    if not data or any(digest is None for digest in data.values()):
        return None
    return ", ".join(f"{name}@{digest}" for name, digest in sorted(data.items()))


def _check_data(argument: str, value: object) -> None:
    """Refuse evaluation data that is not a mapping of names to text or None.

    Raises:
        TypeError: `value` is not None nor such a mapping; the message names `argument`.
    """
    if value is None:
        return
    if not isinstance(value, Mapping):
        msg = (
            f"{argument} must be a mapping of dataset names to digests or versions (strings, "
            f"or None when unknown), not {type(value).__name__}"
        )
        raise TypeError(msg)
    for name, digest in value.items():
        if not isinstance(name, str) or not (digest is None or isinstance(digest, str)):
            msg = (
                f"{argument} must map dataset names (strings) to digests or versions (strings, "
                f"or None when unknown); found {name!r}: {digest!r}"
            )
            raise TypeError(msg)


def _data_mismatch(
    candidate_data: Mapping[str, str | None] | None,
    baseline_data: Mapping[str, str | None] | None,
) -> str | None:
    """Return why the two were not evaluated on the same data, or None when they were."""
    candidate, baseline = _identity(candidate_data), _identity(baseline_data)
    if candidate is not None and candidate == baseline:
        return None
    return (
        f"the candidate was evaluated on {candidate or 'unknown data'}, the baseline on "
        f"{baseline or 'unknown data'}: not comparable"
    )


NO_RULES_SUMMARY = "no metric rules: registered without comparison"


def _unforced_verdict(
    comparisons: tuple[Comparison, ...],
    policy: PromotionPolicy,
    *,
    has_baseline: bool,
    no_baseline: str | None = None,
) -> tuple[Verdict, str, tuple[str, ...]]:
    """Apply steps 2 to 8 of section 3: the verdict, its one-line reason, and every reason.

    Every reason against promotion is listed, in the order of the steps, so one run of the
    pipeline shows every problem; the first is the one that decided.
    """
    unusable = [c.reason for c in comparisons if c.candidate is None]
    out_of_range = [c.reason for c in comparisons if c.value_check is CheckOutcome.FAILED]
    # Without a baseline no change check ran, so these are empty then.
    missing_in_baseline = [
        c.reason for c in comparisons
        if c.change_check is CheckOutcome.FAILED and c.baseline is None
    ]  # fmt: skip
    worse = [
        c.reason for c in comparisons
        if c.change_check is CheckOutcome.FAILED and c.baseline is not None
    ]  # fmt: skip
    # A rule failing two checks has one reason naming both: list it once.
    against = tuple(dict.fromkeys(unusable + out_of_range + missing_in_baseline + worse))
    if not comparisons:
        # The seed registered every model when metrics_max / metrics_min were absent, and most
        # real settings files have none: no rules means no gate, whatever the baseline.
        return Verdict.PROMOTE, NO_RULES_SUMMARY, ()
    if unusable or out_of_range:
        return Verdict.REJECT, against[0], against
    if not has_baseline:
        why = f" ({no_baseline})" if no_baseline else ""
        choice = policy.on_missing_baseline.value
        reason = f"no baseline to compare with{why}, and on_missing_baseline is {choice!r}"
        if policy.on_missing_baseline is OnMissingBaseline.PROMOTE:
            return Verdict.PROMOTE, reason, ()
        return Verdict.REJECT, reason, (reason,)
    if against:
        return Verdict.REJECT, against[0], against
    if policy.require_improvement and not any(c.improved for c in comparisons):
        if all(c.change_check is CheckOutcome.SKIPPED for c in comparisons):
            reason = "no improvement: no metric could be compared with the baseline"
        else:
            reason = "no improvement: no metric is better than the baseline's"
        return Verdict.REJECT, reason, (reason,)
    better = [c.metric for c in comparisons if c.improved]
    if better:
        return (
            Verdict.PROMOTE,
            "better on " + ", ".join(better) + ", and no metric worse than allowed",
            (),
        )
    return Verdict.PROMOTE, "no metric worse than allowed (improvement not required)", ()


def decide(
    candidate: Mapping[str, object],
    baseline: Mapping[str, object] | None,
    policy: PromotionPolicy,
    *,
    candidate_label: str | None = None,
    baseline_label: str | None = None,
    candidate_metric_names: Collection[str] | None = None,
    no_baseline: str | None = None,
    candidate_data: Mapping[str, str | None] | None = None,
    baseline_data: Mapping[str, str | None] | None = None,
) -> Decision:
    """Decide whether the candidate is to be registered, by the rules of DESIGN.md section 3.

    Args:
        candidate: Metric name → raw value as the candidate run reports it (a number, a list
            for a series, or anything else a run may hold).
        baseline: The same for the baseline's run, or None when there is no baseline.
        policy: The rules.
        candidate_label: What the candidate is, for people (kept in the decision).
        baseline_label: What the baseline is, for people.
        candidate_metric_names: Every metric the candidate logged, if known (used to suggest
            close matches for a missing metric); defaults to the keys of `candidate`.
        no_baseline: When `baseline` is None, what was looked for and not found ("no version
            of churn holds the alias @champion"), said in the summary.
        candidate_data: The data the candidate was evaluated on, when the policy's
            `evaluation_data` asks: dataset name → digest or version (None: unknown).
        baseline_data: The same for the baseline.

    Returns:
        The decision; "not better" is a `Verdict.REJECT`, never an exception.

    Raises:
        TypeError: `policy` is not a `PromotionPolicy` (given `Settings`, pass
            ``settings.policy``), or `candidate_data` / `baseline_data` is not None nor a
            mapping of names to strings or None.
    """
    raw: object = policy
    if not isinstance(raw, PromotionPolicy):
        has_policy = isinstance(getattr(raw, "policy", None), PromotionPolicy)
        hint = ": pass settings.policy" if has_policy else ""
        msg = f"decide() takes a PromotionPolicy as policy, not {type(raw).__name__}{hint}"
        raise TypeError(msg)
    _check_data("candidate_data", candidate_data)
    _check_data("baseline_data", baseline_data)
    available = candidate.keys() if candidate_metric_names is None else candidate_metric_names
    comparisons = tuple(
        _compare(
            rule,
            read_metric(candidate.get(rule.name, missing()), rule.aggregate),
            None
            if baseline is None
            else read_metric(baseline.get(rule.name, missing()), rule.aggregate),
            policy,
            available,
        )
        if rule.significance is None
        else _compare_series(
            rule,
            candidate.get(rule.name, missing()),
            None if baseline is None else baseline.get(rule.name, missing()),
            policy,
            available,
        )
        for rule in policy.rules
    )
    verdict, summary, reasons = _unforced_verdict(
        comparisons, policy, has_baseline=baseline is not None, no_baseline=no_baseline
    )
    notes: tuple[str, ...] = ()
    mismatch = (
        _data_mismatch(candidate_data, baseline_data)
        if policy.evaluation_data is not None and baseline is not None and comparisons
        else None
    )
    if mismatch is not None and policy.evaluation_data is not None:
        if policy.evaluation_data.on_mismatch is OnMismatch.WARN:
            notes = (f"{mismatch} (on_mismatch is 'warn': decided anyway)",)
        else:
            # After the candidate's own checks (steps 2 and 3), before any comparison with the
            # baseline: numbers from different data say nothing about each other.
            early = [
                c.reason
                for c in comparisons
                if c.candidate is None or c.value_check is CheckOutcome.FAILED
            ]
            first = len(dict.fromkeys(early))
            reasons = (*reasons[:first], mismatch, *reasons[first:])
            verdict, summary = Verdict.REJECT, reasons[0]
    if baseline_label is None and baseline is not None:
        # Renderings say "no baseline" when the label is None: never of a baseline that exists.
        baseline_label = "the baseline"
    if policy.force:
        would = "promote" if verdict is Verdict.PROMOTE else f"reject: {summary}"
        summary = f"registration forced (the policy alone would {would})"
        verdict = Verdict.FORCE
    return Decision(
        verdict=verdict,
        comparisons=comparisons,
        summary=summary,
        reasons=reasons,
        candidate=candidate_label,
        baseline=baseline_label,
        policy=policy,
        notes=notes,
        candidate_data=None if policy.evaluation_data is None else candidate_data,
        baseline_data=None if policy.evaluation_data is None else baseline_data,
    )
