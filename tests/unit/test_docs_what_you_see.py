"""docs/what-you-see.md shows what the library prints today: its terminal examples are re-made."""

from __future__ import annotations

from pathlib import Path

from aml_promotion import Goal, MetricRule, PromotionPolicy, decide
from aml_promotion._domain import render
from aml_promotion.ports import Hop, Resolution

PAGE = Path(__file__).resolve().parents[2] / "docs" / "what-you-see.md"
POLICY = PromotionPolicy(
    rules=[MetricRule(name="auc", goal=Goal.MAXIMIZE), MetricRule(name="log_loss", goal="minimize")]
)
BASELINE = {"auc": 0.8, "log_loss": 0.4}
BASELINE_LABEL = "churn:1 (run 0c7a52)"


def block(text: str) -> str:
    return f"```text\n{text.rstrip()}\n```"


def test_the_promotion_example_is_the_cli_text() -> None:
    """The PROMOTE example is `result_text` of a better run, registered as version 2."""
    decision = decide(
        {"auc": 0.85, "log_loss": 0.35}, BASELINE, POLICY,
        candidate_label="run 3f2c9a in experiment train", baseline_label=BASELINE_LABEL,
    )  # fmt: skip
    view = render.ResultView(
        model_name="churn", model_version=2, model_id="churn/2",
        champion="@champion", champion_version=2,
    )  # fmt: skip
    assert block(render.result_text(decision, view)) in PAGE.read_text(encoding="utf-8")


def test_the_rejection_example_is_the_cli_text() -> None:
    """The REJECT example is `result_text` of a worse run."""
    decision = decide(
        {"auc": 0.75, "log_loss": 0.45}, BASELINE, POLICY,
        candidate_label="run 5d1e8f in experiment train", baseline_label=BASELINE_LABEL,
    )  # fmt: skip
    view = render.ResultView(model_name="churn")
    assert block(render.result_text(decision, view)) in PAGE.read_text(encoding="utf-8")


def test_the_pipeline_example_is_the_cli_text() -> None:
    """The pipeline example names the steps the run named was resolved to, in one line."""
    decision = decide(
        {"auc": 0.85, "log_loss": 0.35}, BASELINE, POLICY,
        candidate_label="run 9b41d0 in experiment train (metrics from run e7c213)",
        baseline_label=BASELINE_LABEL,
    )  # fmt: skip
    view = render.ResultView(
        model_name="churn", model_version=2, model_id="churn/2",
        candidate_run="9b41d0",
        resolution=Resolution(given="4a8f3c", hops=(Hop.step("train", "9b41d0"),)),
        metrics_run="e7c213",
        metrics_resolution=Resolution(given="4a8f3c", hops=(Hop.step("evaluate", "e7c213"),)),
    )  # fmt: skip
    assert block(render.result_text(decision, view)) in PAGE.read_text(encoding="utf-8")
