"""`decide()`: the decision rules of DESIGN.md section 3, and the `Decision` they produce.

Each rule's comparison is made in `comparison`; this module turns the comparisons into one
verdict, its summary and every reason against promotion. Pure: no I/O, no clock, no SDK. The
same inputs always give the same `Decision`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping

import attrs

from aml_promotion._domain import render
from aml_promotion._domain.choices import choice
from aml_promotion._domain.comparison import Comparison, compare_series, compare_value
from aml_promotion._domain.json_fields import read_field, read_optional, read_texts
from aml_promotion._domain.metrics import missing, read_metric
from aml_promotion._domain.outcomes import CheckOutcome, Verdict
from aml_promotion._domain.policy import OnMismatch, OnMissingBaseline, PromotionPolicy


def _verdict(value: Verdict | str) -> Verdict:
    return choice(Verdict, "verdict", value)


def _data_field(data: Mapping[str, object], side: str) -> dict[str, str | None] | None:
    """Read one side of ``evaluation_data`` back: dataset name → digest or version."""
    record = read_optional(data, "evaluation_data", dict)
    if record is None:
        return None
    identity = read_optional(record, side, dict)
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
        comparisons = read_field(data, "comparisons", list)
        return cls(
            verdict=read_field(data, "verdict", str),
            comparisons=tuple(
                Comparison.from_dict(read_field({"comparison": item}, "comparison", dict))
                for item in comparisons
            ),
            summary=read_field(data, "summary", str),
            reasons=tuple(read_texts(data, "reasons")),
            candidate=read_optional(data, "candidate", str),
            baseline=read_optional(data, "baseline", str),
            policy=PromotionPolicy.from_dict(read_field(data, "policy", dict)),
            notes=tuple(read_texts(data, "notes")),
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
        compare_value(
            rule,
            read_metric(candidate.get(rule.name, missing()), rule.aggregate),
            None
            if baseline is None
            else read_metric(baseline.get(rule.name, missing()), rule.aggregate),
            policy,
            available,
        )
        if rule.significance is None
        else compare_series(
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
