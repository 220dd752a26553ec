"""The run named, resolved to another (a pipeline's step, a sweep's best trial), in the result.

`Resolution` is the typed record a backend puts on the `RunRecord` it resolved; the result's
plain text, Markdown, HTML and JSON name it in one line, and say nothing more when the run named
is the run read.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from aml_promotion import Goal, MetricRule, PromotionPolicy, decide, load_settings, promote
from aml_promotion._domain import render, render_html
from aml_promotion.ports import Hop, HopKind, Resolution, RunRecord
from aml_promotion.testing import InMemoryBackend

STEP = Resolution(given="p1", hops=(Hop.step("train", "p1-train"),))
EVAL = Resolution(given="p1", hops=(Hop.step("evaluate", "p1-eval"),))
SWEEP = Resolution(given="s1", hops=(Hop.best_trial("s1-7"),))


def decision() -> Any:
    return decide(
        {"auc": 0.9},
        {"auc": 0.8},
        PromotionPolicy(rules=(MetricRule(name="auc", goal=Goal.MAXIMIZE),)),
        candidate_label="run p1-train in experiment x",
        baseline_label="churn:1",
    )


# --- The values ---------------------------------------------------------------------------------


def test_a_hop_takes_its_kind_as_a_word_and_says_itself_as_data() -> None:
    """A kind given as its value is the enum member; to_dict is JSON-ready."""
    hop = Hop(kind="Pipeline_Step", run_id="r2", name="train")
    assert hop.kind is HopKind.PIPELINE_STEP
    assert hop.to_dict() == {"kind": "pipeline_step", "name": "train", "run_id": "r2"}
    assert Hop.best_trial("t3").to_dict() == {"kind": "best_trial", "name": None, "run_id": "t3"}


@pytest.mark.parametrize("run_id", ["", "  ", None, 7])
def test_a_hop_needs_a_run_id(run_id: object) -> None:
    """An empty or non-string run id is refused, naming the field."""
    with pytest.raises(ValueError, match="run_id must be a run's id"):
        Hop(kind=HopKind.BEST_TRIAL, run_id=run_id)  # type: ignore[arg-type]


def test_a_pipeline_steps_hop_needs_the_steps_name() -> None:
    """A hop to a pipeline's step without the step's name is refused."""
    with pytest.raises(ValueError, match="needs the step's name"):
        Hop(kind=HopKind.PIPELINE_STEP, run_id="r2")


def test_a_resolution_needs_the_run_named_and_a_hop() -> None:
    """No run named, no hop, or something else than a hop, is refused."""
    with pytest.raises(ValueError, match="given must be a run's id"):
        Resolution(given="", hops=(Hop.best_trial("t"),))
    with pytest.raises(ValueError, match="hops must be one Hop or more"):
        Resolution(given="p", hops=())
    with pytest.raises(ValueError, match="hops must be one Hop or more"):
        Resolution(given="p", hops=("t",))  # type: ignore[arg-type]


def test_a_resolution_grows_a_hop_at_a_time_and_ends_at_its_last_run() -> None:
    """From no resolution, a hop starts one; from one, it adds a hop; run_id is the last."""
    first = Resolution.hop(None, "p1", Hop.step("train", "p1-train"))
    assert first == STEP
    both = Resolution.hop(first, "ignored", Hop.best_trial("p1-train-3"))
    assert both.given == "p1"
    assert both.hops == (Hop.step("train", "p1-train"), Hop.best_trial("p1-train-3"))
    assert both.run_id == "p1-train-3"
    assert both.to_dict() == {
        "given": "p1",
        "hops": [
            {"kind": "pipeline_step", "name": "train", "run_id": "p1-train"},
            {"kind": "best_trial", "name": None, "run_id": "p1-train-3"},
        ],
    }


# --- The line -----------------------------------------------------------------------------------


def test_no_line_when_the_run_named_is_the_run_read() -> None:
    """Nothing extra for a plain run, a local model or a version."""
    assert render.candidate_line(render.ResultView(candidate_run="r1")) is None
    assert render.candidate_line(render.ResultView(from_run=False)) is None


@pytest.mark.parametrize(
    ("view", "line"),
    [
        (
            render.ResultView(candidate_run="p1-train", resolution=STEP),
            "Candidate: run p1 → pipeline step 'train' (run p1-train).",
        ),
        (
            render.ResultView(candidate_run="s1-7", resolution=SWEEP),
            "Candidate: run s1 → the sweep's best trial (run s1-7).",
        ),
        (
            render.ResultView(
                candidate_run="p1-train",
                resolution=STEP,
                metrics_run="p1-eval",
                metrics_resolution=EVAL,
            ),
            (
                "Candidate: run p1 → pipeline step 'train' (run p1-train); "
                "metrics from step 'evaluate' (run p1-eval)."
            ),
        ),
        (
            # The model in the run named, its metrics in a step of it.
            render.ResultView(candidate_run="p1", metrics_run="p1-eval", metrics_resolution=EVAL),
            "Candidate: run p1; metrics from step 'evaluate' (run p1-eval).",
        ),
        (
            # The job the code runs in is the model's step; the metrics are its sibling step.
            render.ResultView(
                candidate_run="p1-train", metrics_run="p1-eval", metrics_resolution=EVAL
            ),
            ("Candidate: run p1-train; metrics from run p1 → step 'evaluate' (run p1-eval)."),
        ),
        (
            render.ResultView(candidate_run="p1", metrics_run="other"),
            "Candidate: run p1; metrics from run other.",
        ),
        (
            render.ResultView(
                candidate_run="t3",
                resolution=Resolution(
                    given="p1", hops=(Hop.step("tune", "p1-tune"), Hop.best_trial("t3"))
                ),
            ),
            (
                "Candidate: run p1 → pipeline step 'tune' (run p1-tune) → "
                "the sweep's best trial (run t3)."
            ),
        ),
    ],
)
def test_the_line_names_each_run_the_run_named_led_to(view: render.ResultView, line: str) -> None:
    """The run named, each hop (step by name, best trial), and where the metrics came from."""
    assert render.candidate_line(view) == line


def test_every_rendering_of_a_result_shows_the_line_once_and_none_without_it() -> None:
    """Plain text, Markdown and HTML carry the line (escaped); a plain run adds nothing."""
    odd = Resolution(given="p1", hops=(Hop.step("<b>|x", "p1-train"),))
    view = render.ResultView(model_name="churn", model_version=2, candidate_run="p1-train")
    resolved = render.ResultView(
        model_name="churn", model_version=2, candidate_run="p1-train", resolution=odd
    )
    made = decision()
    text = render.result_text(made, resolved)
    assert text.count("Candidate: run p1 → pipeline step '<b>|x' (run p1-train).") == 1
    # Just above what was done.
    assert text.rstrip("\n").splitlines()[-2].startswith("Candidate: ")
    markdown = render.result_markdown(made, resolved)
    assert "Candidate: run p1 → pipeline step '&lt;b&gt;\\|x' (run p1-train)." in markdown
    html = render_html.result_html(made, resolved)
    assert (
        "<p>Candidate: run p1 → pipeline step &#x27;&lt;b&gt;|x&#x27; (run p1-train).</p>" in html
    )
    for shown in (
        render.result_text(made, view),
        render.result_markdown(made, view),
        render_html.result_html(made, view),
    ):
        assert "Candidate:" not in shown


# --- Through promote() --------------------------------------------------------------------------


def pipeline(backend: InMemoryBackend) -> None:
    runs = backend.runs
    runs.add_run("p1-train", experiment_name="x", files=["model.pkl"])
    runs.add_run("p1-eval", experiment_name="x", metrics={"auc": 0.8})
    runs.add_run("p1", experiment_name="x", steps={"train": "p1-train", "evaluate": "p1-eval"})


SETTINGS = {"model_name": "churn", "metrics_max": ["auc"], "model_file_name": "model.pkl"}


def test_a_pipelines_steps_are_named_in_the_result_and_its_json() -> None:
    """The model's step and the metrics' step, as typed records and in to_dict and the text."""
    backend = InMemoryBackend()
    pipeline(backend)
    settings = load_settings(
        {**SETTINGS, "pipeline_child_run_name": "train", "metrics_child_run_name": "evaluate"}
    )
    result = promote(settings=settings, backend=backend, experiment_name="x", run_id="p1")
    assert result.candidate_run is not None
    assert result.candidate_run.resolution == STEP
    assert result.metrics_run is not None
    assert result.metrics_run.resolution == EVAL
    document = json.loads(json.dumps(result.to_dict()))
    assert document["candidate_run"] == "p1-train"
    assert document["candidate_resolution"] == STEP.to_dict()
    assert document["metrics_run"] == "p1-eval"
    assert document["metrics_resolution"] == EVAL.to_dict()
    assert render.candidate_line(result.view()) == (
        "Candidate: run p1 → pipeline step 'train' (run p1-train); "
        "metrics from step 'evaluate' (run p1-eval)."
    )


def test_a_sweeps_best_trial_is_named_in_the_result_even_when_nothing_is_registered() -> None:
    """A dry run of a sweep names its best trial too."""
    backend = InMemoryBackend()
    backend.runs.add_run("s1-7", experiment_name="x", files=["model.pkl"], metrics={"auc": 0.8})
    backend.runs.add_run("s1", experiment_name="x", is_hyperdrive=True, best_child="s1-7")
    result = promote(
        settings=SETTINGS, backend=backend, experiment_name="x", run_id="s1", dry_run=True
    )
    assert result.model is None
    assert result.to_dict()["candidate_resolution"] == SWEEP.to_dict()
    assert result.to_dict()["metrics_run"] is None
    assert "Candidate: run s1 → the sweep's best trial (run s1-7)." in render.result_text(
        result.decision, result.view()
    )


def test_a_run_named_and_read_as_is_adds_nothing_to_the_result() -> None:
    """No resolution: null in JSON, no line in the text."""
    backend = InMemoryBackend()
    backend.runs.add_run("r1", experiment_name="x", files=["model.pkl"], metrics={"auc": 0.8})
    result = promote(settings=SETTINGS, backend=backend, experiment_name="x", run_id="r1")
    document = result.to_dict()
    assert document["candidate_resolution"] is None
    assert document["metrics_run"] is None
    assert document["metrics_resolution"] is None
    assert "Candidate:" not in render.result_text(result.decision, result.view())
    assert result.candidate_run == RunRecord(run_id="r1", experiment_name="x")
