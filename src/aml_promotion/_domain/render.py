"""Rendering a `Decision` for people: Markdown (GitHub step summaries) and HTML (notebooks)."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aml_promotion._domain.decision import Comparison, Decision

_HEADERS = ("metric", "goal", "candidate", "baseline", "Δ", "relative Δ", "rule", "result")
_ICON = {"promote": "✅", "force": "⚠️", "reject": "❌"}


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


def _rule_text(comparison: Comparison) -> str:
    rule = comparison.rule
    parts = [f"Δ ≥ {rule.effective_min_delta:g}"]
    if rule.min_relative_delta is not None:
        parts.append(f"ρ ≥ {rule.min_relative_delta:.2%}")
    if rule.at_least is not None:
        parts.append(f"≥ {rule.at_least:g}")
    if rule.at_most is not None:
        parts.append(f"≤ {rule.at_most:g}")
    if rule.aggregate.value != "last":
        parts.append(f"{rule.aggregate.value} of series")
    if rule.significance is not None:
        parts.append(f"p ≤ {rule.significance.alpha:g}")
    return ", ".join(parts)


def _test_text(comparison: Comparison) -> str:
    """Return the significance test's cell: "p 0.031 (paired, n 5 vs 5)", or "–"."""
    if comparison.n_candidate is None and comparison.p_value is None:
        return "–"
    p = "–" if comparison.p_value is None else f"{comparison.p_value:.4g}"
    how = [] if comparison.method is None else [comparison.method.value]
    n_baseline = "–" if comparison.n_baseline is None else comparison.n_baseline
    how.append(f"n {comparison.n_candidate} vs {n_baseline}")
    return f"{p} ({', '.join(how)})"


def _headers(decision: Decision) -> tuple[str, ...]:
    # The p column shows only when a rule has a significance test: other tables stay as they were.
    if any(c.rule.significance is not None for c in decision.comparisons):
        return (*_HEADERS[:-1], "p", _HEADERS[-1])
    return _HEADERS


def _result_text(comparison: Comparison) -> str:
    # A failed value check is a failure even when the change check was skipped.
    if comparison.passed and comparison.change_check.value == "skipped":
        return "⏭️ " + comparison.outcome
    return ("✅ " if comparison.passed else "❌ ") + comparison.outcome


def _digits(candidate: float | None, baseline: float | None) -> int:
    """Return the significant digits that tell two different values apart (6 at least)."""
    digits = 6
    if candidate is None or baseline is None or candidate == baseline:
        return digits
    while digits < 17 and f"{candidate:.{digits}g}" == f"{baseline:.{digits}g}":  # noqa: PLR2004 - a float's digits
        digits += 1
    return digits


def _cells(comparison: Comparison, *, tested: bool = False) -> tuple[str, ...]:
    digits = _digits(comparison.candidate, comparison.baseline)
    return (
        comparison.metric,
        comparison.goal.value,
        _number(comparison.candidate, digits),
        _number(comparison.baseline, digits),
        _signed(comparison.delta),
        _percent(comparison.relative_delta),
        _rule_text(comparison),
        *((_test_text(comparison),) if tested else ()),
        _result_text(comparison),
    )


def _headline(decision: Decision) -> str:
    return f"{_ICON[decision.verdict.value]} {decision.verdict.name}"


def _subjects(decision: Decision) -> str:
    candidate = decision.candidate or "the candidate"
    baseline = decision.baseline or "no baseline"
    return f"{candidate} vs {baseline}"


def _data_text(data: Mapping[str, str | None] | None) -> str:
    if not data:
        return "unknown"
    return ", ".join(f"{name}@{digest or '?'}" for name, digest in sorted(data.items()))


def _evaluation_data(decision: Decision) -> str | None:
    """Return the line naming what each side was evaluated on, when the policy checks it."""
    if decision.policy.evaluation_data is None:
        return None
    return (
        f"evaluated on: {_data_text(decision.candidate_data)} (candidate), "
        f"{_data_text(decision.baseline_data)} (baseline)"
    )


def _md_escape(text: str) -> str:
    # A lone "\r" ends a Markdown line too, and would cut a table row in two; "<" would open
    # an HTML tag, which GitHub renders in step summaries.
    text = text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\\\").replace("|", "\\|")


def as_markdown(decision: Decision) -> str:
    """Return `decision` as Markdown."""
    lines = [
        f"### {_headline(decision)}: {_md_escape(decision.summary)}",
        "",
        _md_escape(_subjects(decision)),
        "",
    ]
    data = _evaluation_data(decision)
    if data is not None:
        lines[-1:-1] = ["", _md_escape(data)]
    if decision.comparisons:
        headers = _headers(decision)
        tested = len(headers) > len(_HEADERS)
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "---|" * len(headers))
        lines.extend(
            "| " + " | ".join(_md_escape(cell) for cell in _cells(c, tested=tested)) + " |"
            for c in decision.comparisons
        )
    else:
        lines.append("_The policy has no metric rules._")
    extra = [*decision.reasons[1:], *decision.notes]
    if extra:
        lines.append("")
        lines.extend(f"- {_md_escape(item)}" for item in extra)
    return "\n".join(lines) + "\n"


def html_table(decision: Decision) -> str:
    """Return the rules of `decision` as an HTML table."""
    headers = _headers(decision)
    tested = len(headers) > len(_HEADERS)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(cell)}</td>" for cell in _cells(c, tested=tested))
        + "</tr>"
        for c in decision.comparisons
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def as_html(decision: Decision) -> str:
    """Return `decision` as an HTML fragment, for notebooks."""
    esc = html.escape
    body = (
        html_table(decision)
        if decision.comparisons
        else "<p><em>The policy has no metric rules.</em></p>"
    )
    extra = [*decision.reasons[1:], *decision.notes]
    items = "".join(f"<li>{esc(item)}</li>" for item in extra)
    return (
        f"<div><p><strong>{esc(_headline(decision))}</strong>: {esc(decision.summary)}</p>"
        f"<p>{esc(_subjects(decision))}</p>"
        + ("" if (data := _evaluation_data(decision)) is None else f"<p>{esc(data)}</p>")
        + body
        + (f"<ul>{items}</ul>" if items else "")
        + "</div>"
    )
