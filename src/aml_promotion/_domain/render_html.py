"""Rendering a decision, or a promotion's result, as an HTML fragment for notebooks.

A coloured verdict badge that reads without emoji fonts (colour and a word: green PROMOTE, red
REJECT, amber FORCE or DRY RUN), the rules' table with coloured pass/FAIL words, and, for a rule
judged over a series (folds, seeds), a small inline SVG chart of the candidate's and the
baseline's scores. Every piece of text from the data is HTML-escaped; the styles are inline
(notebooks drop ``<style>`` blocks in some viewers), and nothing is loaded from elsewhere.
"""

from __future__ import annotations

import html
import math

from aml_promotion._domain import render
from aml_promotion._domain.outcomes import Verdict
from aml_promotion._domain.render import ComparisonFacts, DecisionFacts, ResultView

__all__ = ["BADGE_COLORS", "decision_html", "result_html", "series_svg"]

# Background colours of the badge (white text on each: contrast ≥ 4.5:1).
BADGE_COLORS = {
    Verdict.PROMOTE: "#1a7f37",
    Verdict.REJECT: "#cf222e",
    Verdict.FORCE: "#9a6700",
}
DRY_RUN_COLOR = BADGE_COLORS[Verdict.FORCE]
_MARK_COLORS = {
    render.Mark.PASSED: "#1a7f37",
    render.Mark.FAILED: "#cf222e",
    render.Mark.SKIPPED: "#9a6700",
}
CANDIDATE_COLOR = "#0969da"
BASELINE_COLOR = "#6e7781"

_esc = html.escape


def badge(text: str, background: str) -> str:
    """Return a badge: `text` in bold white on `background`, readable without emoji fonts."""
    return (
        f'<span class="aml-promotion-badge" style="display:inline-block;background:{background};'
        "color:#ffffff;font-weight:bold;font-family:sans-serif;padding:2px 10px;"
        f'border-radius:4px;letter-spacing:0.05em">{_esc(text)}</span>'
    )


def _table(decision: DecisionFacts) -> str:
    names = render.headers(decision)
    with_test = render.tested(decision)
    head = "".join(f"<th>{_esc(h)}</th>" for h in names)
    rows = []
    for comparison in decision.comparisons:
        row = render.cells(comparison, with_test=with_test)
        marked = render.mark(comparison)
        result = (
            f'<td><strong style="color:{_MARK_COLORS[marked]}">{_esc(marked.value)}</strong> '
            f"{_esc(row[-1])}</td>"
        )
        rows.append(
            "<tr>" + "".join(f"<td>{_esc(cell)}</td>" for cell in row[:-1]) + result + "</tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _body(decision: DecisionFacts) -> str:
    body = (
        _table(decision)
        if decision.comparisons
        else "<p><em>The policy has no metric rules.</em></p>"
    )
    charts = "".join(
        svg for c in render.series_rules(decision) if (svg := series_svg(c)) is not None
    )
    items = "".join(f"<li>{_esc(item)}</li>" for item in render.extra_lines(decision))
    data = render.evaluation_data(decision)
    return (
        f"<p>{_esc(render.subjects(decision))}</p>"
        + ("" if data is None else f"<p>{_esc(data)}</p>")
        + body
        + (f"<div>{charts}</div>" if charts else "")
        + (f"<ul>{items}</ul>" if items else "")
    )


def decision_html(decision: DecisionFacts) -> str:
    """Return `decision` as an HTML fragment: the badge and summary, the table, the charts."""
    verdict = decision.verdict
    return (
        f"<div><p>{badge(verdict.name, BADGE_COLORS[verdict])} {_esc(decision.summary)}</p>"
        + _body(decision)
        + "</div>"
    )


def result_html(decision: DecisionFacts, view: ResultView) -> str:
    """Return a promotion's result as an HTML fragment, for notebooks.

    The badge says what happened (a dry run is amber whatever the verdict), then a line for
    the registered version and where the champion alias or tag is now, the run the candidate
    was resolved to (a pipeline's step, a sweep's best trial) when it was, then the decision.
    """
    verdict = decision.verdict
    if view.dry_run:
        would = "would promote" if verdict is not Verdict.REJECT else "would reject"
        head = badge(f"DRY RUN: {would}", DRY_RUN_COLOR)
    else:
        head = badge(verdict.name, BADGE_COLORS[verdict])
    facts = []
    if view.model_version is not None:
        version = f"{view.model_name}:{view.model_version}"
        what = "already registered as" if view.already_registered else "registered"
        facts.append(f"{what} <strong>{_esc(version)}</strong>")
    else:
        facts.append("nothing registered")
    champion = render.champion_line(view)
    if champion is not None:
        facts.append(_esc(champion))
    if view.superseded_by is not None:
        facts.append(f"superseded by version {view.superseded_by}")
    summary = f"<p>{head} {_esc(decision.summary)}</p>"
    resolved = render.candidate_line(view)
    where = "" if resolved is None else f"<p>{_esc(resolved)}</p>"
    return f"<div>{summary}<p>{'; '.join(facts)}</p>{where}{_body(decision)}</div>"


# --- The chart of a series rule ------------------------------------------------------------

_WIDTH, _HEIGHT, _PAD = 340, 130, 28
_LEFT = 48  # room for the axis' numbers


def series_svg(comparison: ComparisonFacts) -> str | None:
    """Return an inline SVG of a series rule's scores: candidate vs baseline, per fold or seed.

    Each side is a line through its scores (index on the x axis), its mean dashed; the legend
    names both. None when either side has no finite scores.
    """
    ours = [v for v in comparison.candidate_values or () if math.isfinite(v)]
    theirs = [v for v in comparison.baseline_values or () if math.isfinite(v)]
    if not ours or not theirs:
        return None
    values = [*ours, *theirs]
    low, high = min(values), max(values)
    span = (high - low) or abs(high) or 1.0
    low, high = low - span * 0.1, high + span * 0.1
    count = max(len(ours), len(theirs))
    inner_w, inner_h = _WIDTH - _LEFT - _PAD, _HEIGHT - 2 * _PAD

    def x(index: int) -> float:
        return _LEFT + (inner_w * index / (count - 1) if count > 1 else inner_w / 2)

    def y(value: float) -> float:
        return _PAD + inner_h * (high - value) / (high - low)

    def series(scores: list[float], colour: str) -> str:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(scores))
        dots = "".join(
            f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}"/>'
            for i, v in enumerate(scores)
        )
        mean = sum(scores) / len(scores)
        return (
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
            f'{dots}<line x1="{_LEFT}" x2="{_WIDTH - _PAD}" y1="{y(mean):.1f}" y2="{y(mean):.1f}" '
            f'stroke="{colour}" stroke-dasharray="4 3" stroke-width="1"/>'
        )

    name = _esc(comparison.metric)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" font-family="sans-serif" font-size="10">'
        f"<title>{name}: candidate vs baseline, per fold</title>"
        f'<rect x="{_LEFT}" y="{_PAD}" width="{inner_w}" height="{inner_h}" fill="none" '
        'stroke="#d0d7de"/>'
        f'<text x="{_LEFT}" y="14" font-weight="bold">{name}, per fold</text>'
        f'<rect x="{_WIDTH - 150}" y="6" width="10" height="10" fill="{CANDIDATE_COLOR}"/>'
        f'<text x="{_WIDTH - 136}" y="15">candidate</text>'
        f'<rect x="{_WIDTH - 78}" y="6" width="10" height="10" fill="{BASELINE_COLOR}"/>'
        f'<text x="{_WIDTH - 64}" y="15">baseline</text>'
        f'<text x="{_LEFT - 4}" y="{_PAD + 4}" text-anchor="end">{high:.4g}</text>'
        f'<text x="{_LEFT - 4}" y="{_HEIGHT - _PAD}" text-anchor="end">{low:.4g}</text>'
        f'<text x="{_LEFT}" y="{_HEIGHT - 10}">1</text>'
        f'<text x="{_WIDTH - _PAD}" y="{_HEIGHT - 10}" text-anchor="end">{count}</text>'
        + series(theirs, BASELINE_COLOR)
        + series(ours, CANDIDATE_COLOR)
        + "</svg>"
    )
