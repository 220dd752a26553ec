"""A version without a run records its candidate's series (issue #12 review, finding 2).

A significance rule (or a max / min / mean aggregate) reads every value of a series. In local
mode on a backend that keeps no run for the version (Azure ML), the version's tags are all a
later promotion can compare with: they record the series too (``promotion.series.<metric>``),
so the verdict is the one the run would have given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aml_promotion import MetricRule, PromotionPolicy, Significance, decide, promote
from aml_promotion._domain import tags
from aml_promotion.testing import InMemoryBackend

NAME = "sig"
SETTINGS: dict[str, Any] = {
    "model_name": NAME,
    "metric_rules": {"f": {"goal": "maximize", "significance": {"alpha": 0.05}}},
}
LOW = [0.7, 0.71, 0.72, 0.7, 0.71]
HIGH = [0.9, 0.91, 0.92, 0.9, 0.91]


def local(backend: InMemoryBackend, path: Path, metrics: dict[str, object]) -> Any:
    path.write_bytes(path.name.encode())
    return promote(settings=SETTINGS, backend=backend, model_path=path, metrics=metrics)


@pytest.mark.parametrize("local_runs", [False, True])
def test_a_significance_rule_compares_with_a_runless_local_version(
    tmp_path: Path, *, local_runs: bool
) -> None:
    """The review's repro: the same verdict with and without a run behind the baseline."""
    backend = InMemoryBackend(local_runs=local_runs)
    first = local(backend, tmp_path / "m0.pkl", {"f": LOW})
    assert first.model is not None
    assert first.model.tags[tags.series_tag("f")] == "[0.7,0.71,0.72,0.7,0.71]"
    better = local(backend, tmp_path / "m1.pkl", {"f": HIGH})
    comparison = better.decision.comparisons[0]
    assert better.decision.promote, better.decision.summary
    assert (comparison.n_candidate, comparison.n_baseline) == (5, 5)
    assert comparison.p_value == 1 / 32
    # Not significant: rejected for its p, not for a baseline of one score.
    noise = local(backend, tmp_path / "m2.pkl", {"f": [0.91, 0.9, 0.92, 0.9, 0.91]})
    assert not noise.decision.promote
    assert noise.decision.comparisons[0].n_baseline == 5
    assert "not significant" in noise.decision.summary


def test_a_run_candidate_compares_with_a_runless_versions_series() -> None:
    """Run mode against a version registered in local mode on Azure ML: its series counts."""
    backend = InMemoryBackend()
    recorded = {tags.metric_tag("f"): "0.708", tags.series_tag("f"): json.dumps(LOW)}
    backend.registry.add_version(NAME, tags=recorded)
    run = backend.runs.add_run(experiment_name="t", metrics={"f": HIGH}, files=["model.pkl"])
    result = promote(settings=SETTINGS, backend=backend, experiment_name="t", run_id=run.run_id)
    assert result.decision.promote, result.decision.summary
    assert result.decision.comparisons[0].n_baseline == 5
    assert result.model is not None
    assert json.loads(result.model.tags[tags.series_tag("f")]) == HIGH


def test_an_aggregate_reads_the_recorded_series_as_it_would_the_runs() -> None:
    """Mean over the recorded series, not the 10-digit mean in promotion.metric.*."""
    values = [0.1, 0.2, 0.4]
    recorded = {tags.metric_tag("f"): "0.2333333333", tags.series_tag("f"): json.dumps(values)}
    read = tags.recorded_metrics(recorded, ["f"])
    assert read == {"f": values}
    policy = PromotionPolicy(rules=[MetricRule(name="f", goal="maximize", aggregate="mean")])
    from_run = decide({"f": values}, {"f": values}, policy).comparisons[0]
    from_tags = decide({"f": values}, read, policy).comparisons[0]
    assert from_tags.baseline == from_run.baseline
    assert from_tags.delta == 0


def test_only_rules_that_read_every_value_record_a_series() -> None:
    policy = PromotionPolicy(
        rules=[
            MetricRule(name="last", goal="maximize"),
            MetricRule(name="first", goal="maximize", aggregate="first"),
            MetricRule(name="best", goal="maximize", aggregate="max"),
            MetricRule(name="low", goal="minimize", aggregate="min"),
            MetricRule(name="avg", goal="maximize", aggregate="mean"),
            MetricRule(name="sig", goal="maximize", significance=Significance(alpha=0.05)),
        ]
    )
    assert tags.recorded_series_names(policy) == ("best", "low", "avg", "sig")
    series = [0.5, 0.6, 0.7]
    decision = decide(dict.fromkeys(policy.metric_names, series), None, policy)
    written = tags.decision_tags(
        decision,
        baseline_version=None,
        generation=1,
        candidate_values=dict.fromkeys(policy.metric_names, series),
    )
    assert {key for key in written if key.startswith(tags.SERIES_PREFIX)} == {
        tags.series_tag(name) for name in ("best", "low", "avg", "sig")
    }
    without = tags.decision_tags(decision, baseline_version=None, generation=1)
    assert not any(key.startswith(tags.SERIES_PREFIX) for key in without)


def test_series_text_is_compact_exact_and_capped() -> None:
    """A JSON list whose floats round-trip; nothing for a lone value, a bad value, or too long."""
    assert tags.series_text([0.1, 1, 1e-300, -2.5]) == "[0.1,1.0,1e-300,-2.5]"
    assert json.loads(tags.series_text((0.1 + 0.2, 1 / 3)) or "") == [0.1 + 0.2, 1 / 3]
    assert tags.series_text(0.8) is None
    assert tags.series_text([0.8]) is None
    assert tags.series_text([0.8, float("nan")]) is None
    assert tags.series_text([0.8, True]) is None
    longest = [0.5] * ((tags.SERIES_MAX_CHARS - 1) // 4)  # "[0.5,0.5,...]": 4 characters each
    assert len(tags.series_text(longest) or "") <= tags.SERIES_MAX_CHARS
    assert tags.series_text([*longest, 0.5]) is None


def test_a_series_too_long_to_record_is_said_so_and_the_value_is_kept(tmp_path: Path) -> None:
    backend = InMemoryBackend(local_runs=False)
    scores = [0.8 + 0.0001 * i for i in range(300)]
    result = local(backend, tmp_path / "big.pkl", {"f": scores})
    assert result.model is not None
    assert tags.series_tag("f") not in result.model.tags
    assert tags.metric_tag("f") in result.model.tags
    assert any(
        "series of f is longer than 1000 characters" in note for note in result.decision.notes
    )
    assert tags.unrecorded_series(result.decision.policy, {"f": [0.8, float("nan")] * 300}) == ()
    assert tags.unrecorded_series(result.decision.policy, {"f": 0.8}) == ()


@pytest.mark.parametrize(
    "text",
    ["", "nope", "[]", '["0.7", 0.8]', "[0.7, NaN]", "[0.7, true]", "{}", "0.7", "[" * 100_000],
)
def test_a_series_tag_that_is_no_series_falls_back_to_the_value(text: str) -> None:
    recorded = {tags.metric_tag("f"): "0.708", tags.series_tag("f"): text}
    assert tags.recorded_metrics(recorded, ["f"]) == {"f": 0.708}
