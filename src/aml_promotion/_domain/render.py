"""Rendering a decision for people: plain text (terminals), Markdown (CI summaries).

HTML for notebooks is in `render_html`. Pure: no I/O; whether a terminal takes colour is
decided by `wants_color` from values the caller reads (the stream's ``isatty()``, the
environment).

The renderings read a decision through the `DecisionFacts` and `ComparisonFacts` protocols,
which `Decision` and `Comparison` satisfy: this module imports neither, so ``decision.py``
can import it without an import circle.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import attrs

from aml_promotion._domain.outcomes import CheckOutcome, Verdict
from aml_promotion._domain.policy import Aggregate, BaselineKind, BaselineStrategy
from aml_promotion._domain.resolution import HopKind, Resolution

if TYPE_CHECKING:
    from aml_promotion._domain.policy import Goal, MetricRule, PromotionPolicy
    from aml_promotion._domain.resolution import Hop
    from aml_promotion._domain.significance import SignificanceMethod

__all__ = [
    "ComparisonFacts",
    "DecisionFacts",
    "ResultView",
    "as_markdown",
    "as_text",
    "candidate_line",
    "champion_marker",
    "outcome_line",
    "result_markdown",
    "result_repr",
    "result_str",
    "result_text",
    "series_rules",
    "wants_color",
]


class ComparisonFacts(Protocol):
    """What the renderings read of one rule's judgement (`Comparison` has it all)."""

    @property
    def rule(self) -> MetricRule: ...
    @property
    def metric(self) -> str: ...
    @property
    def goal(self) -> Goal: ...
    @property
    def candidate(self) -> float | None: ...
    @property
    def baseline(self) -> float | None: ...
    @property
    def delta(self) -> float | None: ...
    @property
    def relative_delta(self) -> float | None: ...
    @property
    def change_check(self) -> CheckOutcome: ...
    @property
    def passed(self) -> bool: ...
    @property
    def outcome(self) -> str: ...
    @property
    def method(self) -> SignificanceMethod | None: ...
    @property
    def n_candidate(self) -> int | None: ...
    @property
    def n_baseline(self) -> int | None: ...
    @property
    def p_value(self) -> float | None: ...
    @property
    def candidate_values(self) -> tuple[float, ...] | None: ...
    @property
    def baseline_values(self) -> tuple[float, ...] | None: ...


class DecisionFacts(Protocol):
    """What the renderings read of a decision (`Decision` has it all)."""

    @property
    def verdict(self) -> Verdict: ...
    @property
    def summary(self) -> str: ...
    @property
    def reasons(self) -> tuple[str, ...]: ...
    @property
    def notes(self) -> tuple[str, ...]: ...
    @property
    def candidate(self) -> str | None: ...
    @property
    def baseline(self) -> str | None: ...
    @property
    def policy(self) -> PromotionPolicy: ...
    @property
    def comparisons(self) -> Sequence[ComparisonFacts]: ...
    @property
    def candidate_data(self) -> Mapping[str, str | None] | None: ...
    @property
    def baseline_data(self) -> Mapping[str, str | None] | None: ...


@attrs.frozen(kw_only=True)
class ResultView:
    """What a promotion did besides deciding, in plain values, for the renderings.

    Attributes:
        model_name: The model's name, when known.
        model_version: The version registered (now or before), or None.
        model_id: That version's backend id, or None.
        already_registered: The version was registered before, from the same run or content.
        from_run: The candidate was a run (else a local file or folder).
        dry_run: Nothing was registered because this was a dry run.
        champion: What a promotion moves: ``@champion`` (an alias), ``tag champion=true``;
            None when the baseline strategy moves nothing (``latest``, ``version:N``).
        champion_version: The version that holds `champion` once the promotion is done.
        superseded_by: The version that kept `champion` when a concurrent promotion ranked
            higher than this one.
        candidate_run: The run the model came from, or None (a local model, a version).
        resolution: How `candidate_run` was reached from the run named (a pipeline's step, a
            sweep's best trial); None when it is the run named.
        metrics_run: The run the metrics came from, when it is not `candidate_run`.
        metrics_resolution: How `metrics_run` was reached from the run named.
    """

    model_name: str | None = None
    model_version: int | None = None
    model_id: str | None = None
    already_registered: bool = False
    from_run: bool = True
    dry_run: bool = False
    champion: str | None = None
    champion_version: int | None = None
    superseded_by: int | None = None
    candidate_run: str | None = None
    resolution: Resolution | None = None
    metrics_run: str | None = None
    metrics_resolution: Resolution | None = None


def champion_marker(strategy: BaselineStrategy) -> str | None:
    """Return what a promotion moves under `strategy` (``@champion``), or None for nothing."""
    if strategy.kind is BaselineKind.ALIAS and strategy.name:
        return f"@{strategy.name}"
    if strategy.kind is BaselineKind.TAG and strategy.tag_key and strategy.tag_value:
        return f"tag {strategy.tag_key}={strategy.tag_value}"
    return None


def wants_color(*, isatty: bool, environ: Mapping[str, str]) -> bool:
    """Return whether to colour output: a terminal, and ``NO_COLOR`` unset or empty.

    See https://no-color.org: a ``NO_COLOR`` that is set and not empty turns colour off,
    whatever its value. ``TERM=dumb`` (a terminal that shows escapes as text) does too.
    """
    if environ.get("NO_COLOR", ""):
        return False
    return isatty and environ.get("TERM", "") != "dumb"


# --- Cells, shared by every rendering -------------------------------------------------------------

_HEADERS = ("metric", "goal", "candidate", "baseline", "Δ", "relative Δ", "rule", "result")
DELTA_NOTE = "Δ (+ is better)"
_ICON = {Verdict.PROMOTE: "✅", Verdict.FORCE: "⚠️", Verdict.REJECT: "❌"}


def _number(value: float | None, digits: int = 6) -> str:
    return "–" if value is None else f"{value:.{digits}g}"


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.6g}"


def _percent(value: float | None) -> str:
    if value is None:
        return "–"
    if math.isinf(value):
        return "+∞" if value > 0 else "−∞"
    return f"{value:+.2%}"


def rule_text(comparison: ComparisonFacts) -> str:
    """Return the rule's thresholds in a few symbols: "Δ ≥ 0.01, ≥ 0.5, mean of series"."""
    rule = comparison.rule
    parts = [f"Δ ≥ {rule.effective_min_delta:g}"]
    if rule.min_relative_delta is not None:
        parts.append(f"ρ ≥ {rule.min_relative_delta:.2%}")
    if rule.at_least is not None:
        parts.append(f"≥ {rule.at_least:g}")
    if rule.at_most is not None:
        parts.append(f"≤ {rule.at_most:g}")
    if rule.aggregate is not Aggregate.LAST:
        parts.append(f"{rule.aggregate.value} of series")
    if rule.significance is not None:
        parts.append(f"p ≤ {rule.significance.alpha:g}")
    return ", ".join(parts)


def _test_text(comparison: ComparisonFacts) -> str:
    """Return the significance test's cell: "p 0.031 (paired, n 5 vs 5)", or "–"."""
    if comparison.n_candidate is None and comparison.p_value is None:
        return "–"
    p = "–" if comparison.p_value is None else f"{comparison.p_value:.4g}"
    how = [] if comparison.method is None else [comparison.method.value]
    n_baseline = "–" if comparison.n_baseline is None else comparison.n_baseline
    how.append(f"n {comparison.n_candidate} vs {n_baseline}")
    return f"{p} ({', '.join(how)})"


def tested(decision: DecisionFacts) -> bool:
    """Return whether a rule has a significance test (then a p column shows)."""
    return any(c.rule.significance is not None for c in decision.comparisons)


def headers(decision: DecisionFacts, *, delta: str = DELTA_NOTE) -> tuple[str, ...]:
    """Return the table's column names (with a p column when a rule has a significance test)."""
    names = tuple(delta if h == "Δ" else h for h in _HEADERS)
    # The p column shows only when a rule has a significance test: other tables stay as they were.
    if tested(decision):
        return (*names[:-1], "p", names[-1])
    return names


class Mark(enum.Enum):
    """How a rule's result is marked in a table: its value is the word shown."""

    PASSED = "pass"
    FAILED = "FAIL"
    SKIPPED = "skip"


def mark(comparison: ComparisonFacts) -> Mark:
    """Return how a rule's result is marked."""
    # A failed value check is a failure even when the change check was skipped.
    if not comparison.passed:
        return Mark.FAILED
    if comparison.change_check is CheckOutcome.SKIPPED:
        return Mark.SKIPPED
    return Mark.PASSED


_MARK_ICON = {Mark.PASSED: "✅", Mark.FAILED: "❌", Mark.SKIPPED: "⏭️"}


def _digits(candidate: float | None, baseline: float | None) -> int:
    """Return the significant digits that tell two different values apart (6 at least)."""
    digits = 6
    if candidate is None or baseline is None or candidate == baseline:
        return digits
    while digits < 17 and f"{candidate:.{digits}g}" == f"{baseline:.{digits}g}":  # noqa: PLR2004 - a float's digits
        digits += 1
    return digits


def cells(comparison: ComparisonFacts, *, with_test: bool = False) -> tuple[str, ...]:
    """Return a rule's cells, the result last without its mark (see `mark`)."""
    digits = _digits(comparison.candidate, comparison.baseline)
    return (
        comparison.metric,
        comparison.goal.value,
        _number(comparison.candidate, digits),
        _number(comparison.baseline, digits),
        _signed(comparison.delta),
        _percent(comparison.relative_delta),
        rule_text(comparison),
        *((_test_text(comparison),) if with_test else ()),
        comparison.outcome,
    )


def subjects(decision: DecisionFacts) -> str:
    """Return "the candidate vs the baseline" as the decision names them."""
    candidate = decision.candidate or "the candidate"
    baseline = decision.baseline or "no baseline"
    return f"{candidate} vs {baseline}"


def _data_text(data: Mapping[str, str | None] | None) -> str:
    if not data:
        return "unknown"
    return ", ".join(f"{name}@{digest or '?'}" for name, digest in sorted(data.items()))


def evaluation_data(decision: DecisionFacts) -> str | None:
    """Return the line naming what each side was evaluated on, when the policy checks it."""
    if decision.policy.evaluation_data is None:
        return None
    return (
        f"evaluated on: {_data_text(decision.candidate_data)} (candidate), "
        f"{_data_text(decision.baseline_data)} (baseline)"
    )


def extra_lines(decision: DecisionFacts) -> list[str]:
    """Return what is said below the table: the other reasons, then the notes."""
    return [*decision.reasons[1:], *decision.notes]


def series_rules(decision: DecisionFacts) -> list[ComparisonFacts]:
    """Return the rules judged over a series on both sides (folds, seeds): those with a chart."""
    return [
        c for c in decision.comparisons
        if c.candidate_values and c.baseline_values
    ]  # fmt: skip


# --- What a promotion did -------------------------------------------------------------------------


def outcome_line(decision: DecisionFacts, view: ResultView) -> str:
    """Return one sentence on what the promotion did: registered, not, a dry run..."""
    name = view.model_name or ""
    if view.already_registered and view.model_version is not None:
        origin = "this run" if view.from_run else "the same model content"
        line = f"Already registered from {origin}: {name} version {view.model_version}."
        if view.dry_run:
            line = f"Dry run: already registered as version {view.model_version} of {name}."
    elif view.model_version is not None:
        line = f"Registered {name} version {view.model_version}"
        line += f" (id {view.model_id})." if view.model_id else "."
        if view.superseded_by is not None:
            line += (
                f" A concurrent promotion ranked higher: version {view.superseded_by} keeps "
                f"{view.champion or 'the champion'}."
            )
    elif view.dry_run:
        would = "would register" if decision.verdict is not Verdict.REJECT else "would not register"
        line = f"Dry run: {would}{' ' + name if name else ''}; nothing registered."
    else:
        line = f"Not registered{' ' + name if name else ''}: {decision.summary}"
    champion = champion_line(view)
    return line if champion is None else f"{line} {champion}"


def champion_line(view: ResultView) -> str | None:
    """Return "@champion is version 3." when the promotion keeps a champion, else None."""
    if view.champion is None or view.champion_version is None:
        return None
    return f"{view.champion} is version {view.champion_version}."


def _hop_text(hop: Hop, step: str) -> str:
    if hop.kind is HopKind.PIPELINE_STEP:
        return f"{step} {hop.name!r} (run {hop.run_id})"
    return f"the sweep's best trial (run {hop.run_id})"


def _hops_text(resolution: Resolution, *, step: str = "pipeline step") -> str:
    return " → ".join(_hop_text(hop, step) for hop in resolution.hops)


def candidate_line(view: ResultView) -> str | None:
    """Return the line naming what the run named was resolved to, or None when it was not.

    "Candidate: run p1 → pipeline step 'train' (run p1-train); metrics from step 'evaluate'
    (run p1-eval)." for a pipeline whose steps hold the model and the metrics;
    "Candidate: run s1 → the sweep's best trial (run s1-7)." for a sweep.
    """
    resolved, metrics = view.resolution, view.metrics_resolution
    if resolved is None and view.metrics_run is None:
        return None
    if resolved is None:
        given = view.candidate_run
        parts = [f"run {given}"]
    else:
        given = resolved.given
        parts = [f"run {given} → {_hops_text(resolved)}"]
    if metrics is not None:
        came = _hops_text(metrics, step="step")  # "pipeline" said once is enough
        parts.append(
            f"metrics from {came}"
            if metrics.given == given
            else f"metrics from run {metrics.given} → {came}"
        )
    elif view.metrics_run is not None:
        parts.append(f"metrics from run {view.metrics_run}")
    return f"Candidate: {'; '.join(parts)}."


def result_str(decision: DecisionFacts, view: ResultView) -> str:
    """Return a one-line ``str`` of a promotion's result: the verdict, then what was done."""
    return f"{decision.verdict.name}: {_plain(outcome_line(decision, view))}"


def result_repr(decision: DecisionFacts, view: ResultView) -> str:
    """Return a one-line ``repr`` of a promotion's result (a notebook's plain output)."""
    if view.model_version is not None:
        what = f"{view.model_name}:{view.model_version}"
        what = f"already registered {what}" if view.already_registered else f"registered {what}"
    else:
        what = "dry run, nothing registered" if view.dry_run else "nothing registered"
    champion = (
        ""
        if view.champion is None or view.champion_version is None
        else f", {view.champion} → {view.champion_version}"
    )
    summary = decision.summary if len(decision.summary) <= 80 else decision.summary[:79] + "…"  # noqa: PLR2004 - one line
    return f"<PromotionResult {decision.verdict.name}: {what}{champion}; {summary!r}>"


# --- Plain text (terminals) -----------------------------------------------------------------------

_ANSI = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2"}
_VERDICT_COLOR = {Verdict.PROMOTE: "green", Verdict.REJECT: "red", Verdict.FORCE: "yellow"}
_MARK_COLOR = {Mark.PASSED: "green", Mark.FAILED: "red", Mark.SKIPPED: "yellow"}
# Terminal control characters in data (a metric named "\x1b[2J") would act, not show.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain(text: str) -> str:
    """Return `text` on one line, its control characters shown as "?" (never acted on)."""
    text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return _CONTROL.sub("?", text)


def _paint(text: str, *styles: str, color: bool) -> str:
    if not color:
        return text
    codes = ";".join(_ANSI[s] for s in styles)
    return f"\x1b[{codes}m{text}\x1b[0m"


def as_text(decision: DecisionFacts, *, color: bool = False) -> str:
    """Return `decision` as plain text: the verdict first, then an aligned table of the rules.

    Args:
        decision: The decision.
        color: Colour the verdict and the marks with ANSI escapes.
    """
    verdict = decision.verdict
    headline = _paint(verdict.name, "bold", _VERDICT_COLOR[verdict], color=color)
    lines = [f"{headline}: {_plain(decision.summary)}", _plain(subjects(decision))]
    data = evaluation_data(decision)
    if data is not None:
        lines.append(_plain(data))
    lines.append("")
    if decision.comparisons:
        lines.extend(_table(decision, color=color))
    else:
        lines.append("The policy has no metric rules.")
    extra = extra_lines(decision)
    if extra:
        lines.append("")
        lines.extend(f"- {_plain(item)}" for item in extra)
    return "\n".join(lines) + "\n"


def _table(decision: DecisionFacts, *, color: bool) -> list[str]:
    names = headers(decision)
    with_test = tested(decision)
    rows = []
    for comparison in decision.comparisons:
        row = [_plain(cell) for cell in cells(comparison, with_test=with_test)]
        row[-1] = f"{mark(comparison).value} {row[-1]}"
        rows.append((row, mark(comparison)))
    widths = [max(len(names[i]), *(len(r[i]) for r, _ in rows)) for i in range(len(names))]

    def line(row: Sequence[str], marked: Mark | None = None) -> str:
        padded = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        if marked is not None:
            # Colour only the mark word, after padding: escapes have no width.
            word, _, rest = padded[-1].partition(" ")
            padded[-1] = f"{_paint(word, _MARK_COLOR[marked], color=color)} {rest}"
        return ("  " + "  ".join(padded)).rstrip()

    out = [line(names), "  " + "  ".join("-" * width for width in widths)]
    out.extend(line(row, marked) for row, marked in rows)
    return out


def result_text(decision: DecisionFacts, view: ResultView, *, color: bool = False) -> str:
    """Return a promotion's result as plain text: the decision, then what was done."""
    resolved = candidate_line(view)
    lines = [] if resolved is None else [_plain(resolved)]
    lines.append(_plain(outcome_line(decision, view)))
    return as_text(decision, color=color) + "\n" + "\n".join(lines) + "\n"


# --- Markdown (GitHub's step summary, Azure DevOps' build summary) -------------------------------


def _md_escape(text: str) -> str:
    # A lone "\r" ends a Markdown line too, and would cut a table row in two; "<" would open
    # an HTML tag, which GitHub renders in step summaries.
    text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\\\").replace("|", "\\|")


def as_markdown(decision: DecisionFacts) -> str:
    """Return `decision` as Markdown."""
    lines = [
        f"### {_ICON[decision.verdict]} {decision.verdict.name}: {_md_escape(decision.summary)}",
        "",
        _md_escape(subjects(decision)),
        "",
    ]
    data = evaluation_data(decision)
    if data is not None:
        lines[-1:-1] = ["", _md_escape(data)]
    if decision.comparisons:
        names = headers(decision)
        with_test = tested(decision)
        lines.append("| " + " | ".join(names) + " |")
        lines.append("|" + "---|" * len(names))
        for c in decision.comparisons:
            row = list(cells(c, with_test=with_test))
            row[-1] = f"{_MARK_ICON[mark(c)]} {row[-1]}"
            lines.append("| " + " | ".join(_md_escape(cell) for cell in row) + " |")
    else:
        lines.append("_The policy has no metric rules._")
    extra = extra_lines(decision)
    if extra:
        lines.append("")
        lines.extend(f"- {_md_escape(item)}" for item in extra)
    return "\n".join(lines) + "\n"


# Mermaid's own syntax has no escapes for a title: anything but these characters is replaced.
_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9 _.,:/()+=-]")


def _numbers(series: Sequence[float]) -> str:
    return ", ".join(f"{v:.6g}" for v in series)


def mermaid_chart(comparison: ComparisonFacts) -> str | None:
    """Return a Mermaid ``xychart-beta`` block of a series rule's scores, or None.

    GitHub renders ```` ```mermaid ```` blocks. The chart needs one score per fold on both sides
    (paired: the same folds or seeds), so unpaired series of different lengths get none.
    """
    ours, theirs = comparison.candidate_values, comparison.baseline_values
    if not ours or not theirs or len(ours) != len(theirs):
        return None
    values = [*ours, *theirs]
    if not all(math.isfinite(v) for v in values):
        return None
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.01 or 0.01
    name = _MERMAID_UNSAFE.sub("_", comparison.metric)[:60]
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f'    title "{name}: candidate (first line) vs baseline, per fold"',
            f"    x-axis [{', '.join(str(i) for i in range(1, len(ours) + 1))}]",
            f'    y-axis "{name}" {low - pad:.6g} --> {high + pad:.6g}',
            f"    line [{_numbers(ours)}]",
            f"    line [{_numbers(theirs)}]",
            "```",
        ]
    )


def result_markdown(decision: DecisionFacts, view: ResultView, *, mermaid: bool = True) -> str:
    """Return a promotion's result as Markdown for a CI summary.

    Args:
        decision: The decision.
        view: What the promotion did.
        mermaid: Add a Mermaid chart per series rule (GitHub renders them; Azure DevOps'
            build summary does not).
    """
    parts = [as_markdown(decision).rstrip()]
    if mermaid:
        parts.extend(
            chart for c in series_rules(decision) if (chart := mermaid_chart(c)) is not None
        )
    resolved = candidate_line(view)
    if resolved is not None:
        parts.append(_md_escape(resolved))
    parts.append(f"**{_md_escape(outcome_line(decision, view))}**")
    return "\n\n".join(parts) + "\n"
