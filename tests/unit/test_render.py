"""A Decision as data (to_dict / to_json), as Markdown (step summaries) and as HTML (notebooks)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import attrs
import pytest

from aml_promotion import (
    Aggregate,
    CheckOutcome,
    Decision,
    EvaluationData,
    Goal,
    MetricRule,
    OnMissingBaselineMetric,
    PromotionPolicy,
    Significance,
    decide,
)
from aml_promotion._domain import render, render_html
from aml_promotion._domain.policy import BaselineStrategy


def policy(*rules: MetricRule, **options: Any) -> PromotionPolicy:
    return PromotionPolicy(rules=rules, **options)


AUC = MetricRule(name="auc", goal=Goal.MAXIMIZE)
LOSS = MetricRule(name="loss", goal=Goal.MINIMIZE)


def infinite_rho_decision() -> Decision:
    """A decision whose ρ is +inf (auc over a zero baseline) and −inf (loss over zero)."""
    return decide(
        {"auc": 0.5, "loss": 0.1},
        {"auc": 0.0, "loss": 0.0},
        policy(AUC, LOSS),
        candidate_label="run 7 in experiment churn",
        baseline_label="churn:3 (run 2)",
    )


# --- to_dict / to_json --------------------------------------------------------------------------


def test_to_json_round_trips_through_strict_json_with_infinite_rho() -> None:
    """±inf ρ is written as "inf"/"-inf", so the document is valid JSON (allow_nan=False)."""
    decision = infinite_rho_decision()
    document = decision.to_json()
    assert json.loads(document) == decision.to_dict()
    # Strict parsers accept it: no Infinity or NaN tokens.
    json.loads(document, parse_constant=lambda token: pytest.fail(f"non-JSON token {token}"))
    rhos = [c["relative_delta"] for c in decision.to_dict()["comparisons"]]  # type: ignore[attr-defined]
    assert rhos == ["inf", "-inf"]


def test_to_dict_holds_the_whole_decision() -> None:
    """Verdict, promote, summary, reasons, subjects, notes, every comparison and the policy."""
    decision = infinite_rho_decision().with_note("dry run: nothing registered")
    data = decision.to_dict()
    assert data["verdict"] == "reject"
    assert data["promote"] is False
    assert data["summary"] == decision.summary
    assert data["reasons"] == list(decision.reasons)
    assert data["candidate"] == "run 7 in experiment churn"
    assert data["baseline"] == "churn:3 (run 2)"
    assert data["notes"] == ["dry run: nothing registered"]
    assert data["policy"] == decision.policy.to_dict()
    assert data["comparisons"] == [
        {
            "metric": "auc",
            "goal": "maximize",
            "aggregate": "last",
            "dataset": None,
            "candidate": 0.5,
            "baseline": 0.0,
            "delta": 0.5,
            "relative_delta": "inf",
            "min_delta": None,
            "min_relative_delta": None,
            "at_least": None,
            "at_most": None,
            "value_check": "n/a",
            "change_check": "passed",
            "improved": True,
            "passed": True,
            "outcome": "better",
            "reason": "auc: 0.5 vs 0, Δ +0.5: better",
            "alpha": None,
            "method": None,
            "n_candidate": None,
            "n_baseline": None,
            "p_value": None,
            "candidate_values": None,
            "baseline_values": None,
        },
        {
            "metric": "loss",
            "goal": "minimize",
            "aggregate": "last",
            "dataset": None,
            "candidate": 0.1,
            "baseline": 0.0,
            "delta": -0.1,
            "relative_delta": "-inf",
            "min_delta": None,
            "min_relative_delta": None,
            "at_least": None,
            "at_most": None,
            "value_check": "n/a",
            "change_check": "failed",
            "improved": False,
            "passed": False,
            "outcome": "worse than the baseline",
            "reason": "loss: 0.1 vs 0, Δ -0.1: worse than the baseline",
            "alpha": None,
            "method": None,
            "n_candidate": None,
            "n_baseline": None,
            "p_value": None,
            "candidate_values": None,
            "baseline_values": None,
        },
    ]


def test_to_json_is_compact_unless_indented() -> None:
    """Compact by default (one line for logs); indent= for people; non-ASCII kept as is."""
    decision = infinite_rho_decision()
    compact = decision.to_json()
    assert "\n" not in compact
    assert compact.startswith('{"verdict":"reject","promote":false,')
    indented = decision.to_json(indent=2)
    assert indented.startswith('{\n  "verdict": "reject"')
    assert "Δ" in indented


def test_unusable_values_serialize_as_null_with_their_reason() -> None:
    """A NaN candidate is null in JSON (never NaN), and its reason says NaN."""
    decision = decide({"auc": math.nan}, {"auc": math.inf}, policy(AUC))
    data = json.loads(decision.to_json())
    [comparison] = data["comparisons"]
    assert comparison["candidate"] is None
    assert comparison["baseline"] is None
    assert "NaN" in comparison["reason"]


# --- Markdown -----------------------------------------------------------------------------------


def test_markdown_has_a_headline_the_subjects_and_a_table_row_per_rule() -> None:
    """Headline with icon and summary, "candidate vs baseline", then the rules' table."""
    decision = decide(
        {"auc": 0.9, "loss": 0.2},
        {"auc": 0.8, "loss": 0.25},
        policy(AUC, LOSS),
        candidate_label="run 7",
        baseline_label="churn:3",
    )
    assert decision.to_markdown() == (
        "### ✅ PROMOTE: better on auc, loss, and no metric worse than allowed\n"
        "\n"
        "run 7 vs churn:3\n"
        "\n"
        "| metric | goal | candidate | baseline | Δ (+ is better) | relative Δ | rule | result |\n"
        "|---|---|---|---|---|---|---|---|\n"
        "| auc | maximize | 0.9 | 0.8 | +0.1 | +12.50% | Δ ≥ 0 | ✅ better |\n"
        "| loss | minimize | 0.2 | 0.25 | +0.05 | +20.00% | Δ ≥ 0 | ✅ better |\n"
    )


def test_markdown_shows_every_threshold_of_a_rule() -> None:
    """The rule column lists min_delta, min_relative_delta, the bounds and the aggregate."""
    rule = MetricRule(
        name="auc",
        goal=Goal.MAXIMIZE,
        min_delta=0.01,
        min_relative_delta=0.05,
        at_least=0.5,
        at_most=1,
        aggregate=Aggregate.MAX,
    )
    markdown = decide({"auc": [0.5, 0.9]}, {"auc": 0.8}, policy(rule)).to_markdown()
    assert "| Δ ≥ 0.01, ρ ≥ 5.00%, ≥ 0.5, ≤ 1, max of series |" in markdown


def test_markdown_shows_infinite_rho_and_missing_values() -> None:
    """±inf ρ shows as +∞/−∞; values that are not there as a dash."""
    markdown = infinite_rho_decision().to_markdown()
    assert "| +∞ |" in markdown
    assert "| −∞ |" in markdown
    missing = decide({"auc": "x"}, None, policy(AUC)).to_markdown()
    assert "| auc | maximize | – | – | – | – | Δ ≥ 0 | ❌ " in missing
    assert "the candidate vs no baseline" in missing


def test_markdown_lists_the_other_reasons_and_the_notes_below_the_table() -> None:
    """The first reason is the headline; the others and the notes follow as a list."""
    decision = decide(
        {"auc": 0.1, "loss": 0.9}, {"auc": 0.5, "loss": 0.5}, policy(AUC, LOSS)
    ).with_note("already registered as version 4")
    markdown = decision.to_markdown()
    assert markdown.startswith("### ❌ REJECT: auc: 0.1 vs 0.5, Δ -0.4: worse than the baseline\n")
    assert markdown.endswith(
        "\n- loss: 0.9 vs 0.5, Δ -0.4: worse than the baseline\n- already registered as version 4\n"
    )


def test_markdown_marks_forced_and_skipped() -> None:
    """FORCE gets a warning icon; a skipped change check a skip icon."""
    forced = decide({"auc": 0.1}, {"auc": 0.5}, policy(AUC, force=True)).to_markdown()
    assert forced.startswith("### ⚠️ FORCE: registration forced")
    skip = OnMissingBaselineMetric.SKIP
    skipped = decide({"auc": 0.1}, {}, policy(AUC, on_missing_baseline_metric=skip, force=True))
    assert "| ⏭️ change check skipped (missing from the baseline) |" in skipped.to_markdown()


def test_markdown_of_a_policy_without_rules_says_so() -> None:
    """No rules: no empty table, a sentence instead."""
    markdown = decide({}, {}, PromotionPolicy()).to_markdown()
    assert "_The policy has no metric rules._" in markdown
    assert "|" not in markdown


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("a\\b", "a\\\\b"),
        ("a\nb", "a b"),
        ("a\rb", "a b"),
        ("a\r\nb", "a b"),
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        ("a&b", "a&amp;b"),
    ],
)
def test_markdown_escapes_what_would_break_the_table(name: str, escaped: str) -> None:
    """Pipes, backslashes, line breaks and HTML in names cannot break the table or inject tags."""
    rule = MetricRule(name=name, goal=Goal.MAXIMIZE)
    decision = decide(
        {name: 0.9}, {name: 0.8}, policy(rule), candidate_label=f"run {name}", baseline_label="m:1"
    )
    lines = decision.to_markdown().splitlines()
    row = next(line for line in lines if line.startswith(f"| {escaped} |"))
    assert row.count(" | ") == 7  # eight cells: no extra column, no broken row
    assert f"run {escaped} vs m:1" in lines
    assert len(lines) == 7


# --- HTML ---------------------------------------------------------------------------------------


def test_html_shows_the_verdict_summary_subjects_and_table() -> None:
    """The notebook view has the same content as the Markdown."""
    page = infinite_rho_decision()._repr_html_()
    # A badge (colour and word, no emoji) before the summary.
    assert page.startswith('<div><p><span class="aml-promotion-badge" style="')
    assert "background:#cf222e;" in page
    assert ">REJECT</span> loss: 0.1 vs 0, Δ -0.1: " in page
    assert "<p>run 7 in experiment churn vs churn:3 (run 2)</p>" in page
    assert "<th>relative Δ</th>" in page
    assert "<td>+∞</td>" in page
    assert page.endswith("</table></div>")


def test_html_escapes_everything_it_shows() -> None:
    """Names, labels, reasons and notes are escaped: no tag from the data reaches the page."""
    name = "<script>alert(1)</script>"
    decision = decide(
        {name: "<img>"},
        None,
        policy(MetricRule(name=name, goal=Goal.MAXIMIZE)),
        candidate_label="<i>run</i>",
    ).with_note("<b>note</b>")
    page = decision._repr_html_()
    for raw in ("<script>", "<img>", "<i>", "<b>"):
        assert raw not in page
    assert "&lt;script&gt;" in page
    assert "<li>&lt;b&gt;note&lt;/b&gt;</li>" in page


def test_html_of_a_policy_without_rules_says_so() -> None:
    """No rules: a sentence instead of an empty table, and no list when nothing more is said."""
    page = decide({}, None, PromotionPolicy())._repr_html_()
    assert "<p><em>The policy has no metric rules.</em></p>" in page
    assert "<ul>" not in page


def test_a_failed_value_check_shows_a_cross_even_when_the_change_check_was_skipped() -> None:
    """at_least failed and the baseline lacked the metric (skip): ❌, not ⏭️, in both renderings."""
    policy = PromotionPolicy(
        rules=[MetricRule(name="auc", goal=Goal.MAXIMIZE, at_least=0.95)],
        on_missing_baseline_metric=OnMissingBaselineMetric.SKIP,
    )
    decision = decide({"auc": 0.9}, {}, policy)
    assert decision.comparisons[0].change_check is CheckOutcome.SKIPPED
    row = decision.to_markdown().splitlines()[-1]
    assert "❌" in row
    assert "⏭️" not in row
    assert ">FAIL</strong>" in decision._repr_html_()
    assert ">skip</strong>" not in decision._repr_html_()
    passed = decide({"auc": 0.97}, {}, policy)
    assert "⏭️" in passed.to_markdown()


# --- Plain text (terminals) --------------------------------------------------------------------

FOLDS = MetricRule(
    name="f1", goal=Goal.MAXIMIZE, aggregate=Aggregate.MEAN, significance=Significance()
)


def fold_decision() -> Decision:
    """A promotion on auc and on five fold scores of f1."""
    return decide(
        {"auc": 0.85, "f1": [0.80, 0.82, 0.85, 0.81, 0.84]},
        {"auc": 0.80, "f1": [0.78, 0.80, 0.80, 0.79, 0.80]},
        policy(AUC, FOLDS),
        candidate_label="run 8",
        baseline_label="churn:1",
    )


def test_text_puts_the_verdict_first_and_aligns_the_table() -> None:
    """Verdict and summary, the subjects, then columns that line up, with "Δ (+ is better)"."""
    text = decide(
        {"auc": 0.9, "loss": 0.35}, {"auc": 0.8, "loss": 0.4}, policy(AUC, LOSS),
        candidate_label="run 7", baseline_label="churn:3",
    ).to_text()  # fmt: skip
    assert text == (
        "PROMOTE: better on auc, loss, and no metric worse than allowed\n"
        "run 7 vs churn:3\n"
        "\n"
        "  metric  goal      candidate  baseline  Δ (+ is better)  relative Δ  rule   result\n"
        "  ------  --------  ---------  --------  ---------------  ----------  -----  -----------\n"
        "  auc     maximize  0.9        0.8       +0.1             +12.50%     Δ ≥ 0  pass better\n"
        "  loss    minimize  0.35       0.4       +0.05            +12.50%     Δ ≥ 0  pass better\n"
    )


def test_text_escapes_nothing_and_shows_control_characters_as_question_marks() -> None:
    """Plain text: "<", "&", "|" as they are; a newline or an escape in a name cannot act."""
    name = "a<b>&c|d\n\x1b[2Je"
    text = decide({name: 0.9}, {name: 0.8}, policy(MetricRule(name=name, goal="maximize")))
    shown = text.to_text()
    assert "a<b>&c|d ?[2Je" in shown
    assert "&lt;" not in shown
    assert "\x1b" not in shown


def test_colour_is_ansi_on_the_verdict_and_the_marks_only() -> None:
    """With colour: the verdict bold and red, FAIL red; the text is the same without escapes."""
    decision = decide({"auc": 0.7}, {"auc": 0.8}, policy(AUC))
    coloured = decision.to_text(color=True)
    assert coloured.startswith("\x1b[1;31mREJECT\x1b[0m: ")
    assert "\x1b[31mFAIL\x1b[0m worse than the baseline" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == decision.to_text()


@pytest.mark.parametrize(
    ("isatty", "environ", "wanted"),
    [
        (True, {}, True),
        (False, {}, False),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": "0"}, False),
        (True, {"NO_COLOR": ""}, True),
        (True, {"TERM": "dumb"}, False),
    ],
)
def test_colour_only_on_a_terminal_and_never_with_no_color(
    isatty: bool, environ: dict[str, str], wanted: bool
) -> None:
    """no-color.org: NO_COLOR set and not empty (any value) turns colour off."""
    assert render.wants_color(isatty=isatty, environ=environ) is wanted


def test_a_result_says_what_was_registered_and_where_the_champion_is() -> None:
    """The outcome line, the short repr, and the champion marker of each strategy."""
    decision = fold_decision()
    view = render.ResultView(
        model_name="churn", model_version=2, model_id="churn/2",
        champion="@champion", champion_version=2,
    )  # fmt: skip
    assert render.outcome_line(decision, view) == (
        "Registered churn version 2 (id churn/2). @champion is version 2."
    )
    assert render.result_text(decision, view).endswith(
        "\n\nRegistered churn version 2 (id churn/2). @champion is version 2.\n"
    )
    short = render.result_repr(decision, view)
    assert short.startswith("<PromotionResult PROMOTE: registered churn:2, @champion → 2; ")
    assert len(short) < 200
    assert render.result_str(decision, view) == (
        "PROMOTE: Registered churn version 2 (id churn/2). @champion is version 2."
    )
    dry = render.ResultView(model_name="churn", dry_run=True)
    assert (
        render.outcome_line(decision, dry) == "Dry run: would register churn; nothing registered."
    )
    assert "dry run, nothing registered" in render.result_repr(decision, dry)
    assert render.champion_marker(BaselineStrategy.alias("champion")) == "@champion"
    assert render.champion_marker(BaselineStrategy.tagged("stage", "prod")) == "tag stage=prod"
    assert render.champion_marker(BaselineStrategy.latest()) is None


# --- Charts -------------------------------------------------------------------------------------


def test_a_fold_rule_keeps_both_sides_scores_and_they_round_trip() -> None:
    """The scores behind a significance rule are in the decision and its JSON."""
    decision = fold_decision()
    f1 = decision.comparisons[1]
    assert f1.candidate_values == (0.80, 0.82, 0.85, 0.81, 0.84)
    assert f1.baseline_values == (0.78, 0.80, 0.80, 0.79, 0.80)
    assert Decision.from_json(decision.to_json()) == decision
    assert render.series_rules(decision) == [f1]


def test_the_summary_markdown_has_a_mermaid_chart_per_fold_rule() -> None:
    """xychart-beta, one line per side; none without a series rule, none when asked not to."""
    decision = fold_decision()
    view = render.ResultView(model_name="churn", model_version=2)
    markdown = render.result_markdown(decision, view)
    assert markdown.count("```mermaid\nxychart-beta\n") == 1
    assert "    x-axis [1, 2, 3, 4, 5]\n" in markdown
    assert (
        "    line [0.8, 0.82, 0.85, 0.81, 0.84]\n    line [0.78, 0.8, 0.8, 0.79, 0.8]\n" in markdown
    )
    assert markdown.endswith("**Registered churn version 2.**\n")
    assert "mermaid" not in render.result_markdown(decision, view, mermaid=False)
    plain = decide({"auc": 0.9}, {"auc": 0.8}, policy(AUC))
    assert "mermaid" not in render.result_markdown(plain, view)


def test_a_mermaid_title_holds_no_syntax_from_the_metric_name() -> None:
    """Quotes, backticks and newlines in a name cannot end the title or the code block."""
    rule = MetricRule(name='f1"\n```\n<b>', goal="maximize", aggregate="mean",
                      significance=Significance())  # fmt: skip
    decision = decide({rule.name: [0.8, 0.9, 0.85]}, {rule.name: [0.7, 0.8, 0.75]}, policy(rule))
    chart = render.mermaid_chart(decision.comparisons[0])
    assert chart is not None
    body = chart.removeprefix("```mermaid\n").removesuffix("\n```")
    assert "```" not in body
    assert (
        body.splitlines()[1]
        == '    title "f1_______b_: candidate (first line) vs baseline, per fold"'
    )


def test_unpaired_series_get_an_svg_but_no_mermaid_chart() -> None:
    """Different lengths: the SVG draws both; Mermaid needs one x value per score on both."""
    decision = decide({"f1": [0.8, 0.9, 0.85, 0.86]}, {"f1": [0.7, 0.8, 0.75]}, policy(FOLDS))
    comparison = decision.comparisons[0]
    assert render.mermaid_chart(comparison) is None
    svg = render_html.series_svg(comparison)
    assert svg is not None
    assert svg.count("<polyline") == 2
    assert svg.count("<circle") == 7


# --- HTML badges and charts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "colour", "word"),
    [
        (decide({"auc": 0.9}, {"auc": 0.8}, policy(AUC)), "#1a7f37", "PROMOTE"),
        (decide({"auc": 0.7}, {"auc": 0.8}, policy(AUC)), "#cf222e", "REJECT"),
        (decide({"auc": 0.7}, {"auc": 0.8}, policy(AUC, force=True)), "#9a6700", "FORCE"),
    ],
    ids=["promote", "reject", "force"],
)
def test_the_badge_is_a_colour_and_a_word(decision: Decision, colour: str, word: str) -> None:
    """Readable without emoji fonts: a coloured box with the verdict's name, no emoji."""
    page = decision._repr_html_()
    assert f"background:{colour};" in page
    assert f">{word}</span>" in page
    for emoji in ("✅", "❌", "⚠️", "⏭️"):
        assert emoji not in page


def test_the_result_html_shows_the_version_the_champion_and_a_chart() -> None:
    """Registered version in bold, "@champion is version 2", an inline SVG of the folds."""
    view = render.ResultView(
        model_name="churn", model_version=2, champion="@champion", champion_version=2
    )
    page = render_html.result_html(fold_decision(), view)
    assert "registered <strong>churn:2</strong>; @champion is version 2." in page
    assert page.count("<svg ") == 1
    assert "<title>f1: candidate vs baseline, per fold</title>" in page
    dry = render_html.result_html(fold_decision(), render.ResultView(dry_run=True))
    assert ">DRY RUN: would promote</span>" in dry
    assert "background:#9a6700;" in dry
    assert "nothing registered" in dry


def test_the_result_html_escapes_everything() -> None:
    """A model name, champion and metric with markup are text in the page, SVG included."""
    name = "<script>x</script>"
    rule = MetricRule(name=name, goal="maximize", aggregate="mean", significance=Significance())
    decision = decide({name: [0.8, 0.9, 0.85]}, {name: [0.7, 0.8, 0.75]}, policy(rule))
    view = render.ResultView(model_name=name, model_version=1, champion="@<b>", champion_version=1)
    page = render_html.result_html(decision, view)
    assert "<script>" not in page
    assert "<b>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


def test_scores_that_are_not_a_list_of_numbers_are_refused() -> None:
    """A Comparison's scores are a list of numbers or None; a JSON record's too."""
    plain = decide({"auc": 0.9}, {"auc": 0.8}, policy(AUC)).comparisons[0]
    with pytest.raises(TypeError, match="a series of scores must be a list of numbers"):
        type(plain)(**{**attrs.asdict(plain, recurse=False), "candidate_values": "0.8,0.9"})
    data = plain.to_dict()
    with pytest.raises(ValueError, match="'baseline_values' must be a list of numbers or null"):
        type(plain).from_dict({**data, "baseline_values": [0.8, "x"]})


def test_a_superseded_promotion_says_who_keeps_the_champion() -> None:
    """A concurrent promotion ranked higher: the line, the HTML and the text say so."""
    decision = fold_decision()
    view = render.ResultView(
        model_name="churn", model_version=3, champion="@champion",
        champion_version=4, superseded_by=4,
    )  # fmt: skip
    line = render.outcome_line(decision, view)
    assert "A concurrent promotion ranked higher: version 4 keeps @champion." in line
    assert "superseded by version 4" in render_html.result_html(decision, view)


def test_a_long_summary_is_cut_in_the_repr_and_data_lines_show_in_text() -> None:
    """The repr stays one short line; the evaluation-data line shows in the text."""
    decision = decide(
        {"auc": 0.7}, {"auc": 0.8}, policy(AUC, evaluation_data=EvaluationData(context="eval")),
        candidate_data={"eval": "1a"}, baseline_data={"eval": "1a"},
    )  # fmt: skip
    assert "evaluated on: eval@1a (candidate), eval@1a (baseline)" in decision.to_text()
    long = attrs.evolve(decision, summary="x" * 200)
    shown = render.result_repr(long, render.ResultView())
    assert "x" * 79 + "…" in shown
    assert len(shown) < 150


def test_no_chart_for_scores_that_are_not_finite() -> None:
    """Mermaid and SVG need finite scores; an infinite one leaves the chart out."""
    comparison = attrs.evolve(
        fold_decision().comparisons[1], candidate_values=(math.inf, 0.8), baseline_values=(0.7,)
    )
    assert render.mermaid_chart(attrs.evolve(comparison, baseline_values=(0.7, 0.7))) is None
    assert render_html.series_svg(attrs.evolve(comparison, candidate_values=(math.inf,))) is None


def test_text_of_no_rules_an_earlier_registration_and_an_unnamed_rejection() -> None:
    """No rules: a sentence; "Already registered from this run"; "Not registered: ..."."""
    assert "The policy has no metric rules." in decide({}, None, PromotionPolicy()).to_text()
    decision = decide({"auc": 0.7, "loss": 0.9}, {"auc": 0.8, "loss": 0.5}, policy(AUC, LOSS))
    assert "\n- loss: 0.9 vs 0.5, Δ -0.4: worse than the baseline\n" in decision.to_text()
    again = render.ResultView(model_name="churn", model_version=1, already_registered=True)
    assert render.outcome_line(decision, again) == (
        "Already registered from this run: churn version 1."
    )
    local = attrs.evolve(again, from_run=False)
    assert "from the same model content" in render.outcome_line(decision, local)
    assert render.outcome_line(decision, render.ResultView()).startswith("Not registered: auc")
