"""Findings of the core's review: each once a silent accept, a traceback or a misleading line."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from aml_promotion import (
    BaselineStrategy,
    Decision,
    EvaluationData,
    MetricRule,
    PromotionPolicy,
    Settings,
    Significance,
    Verdict,
    decide,
    load_settings,
    promote,
)
from aml_promotion._domain import tags
from aml_promotion.exceptions import SettingsError
from aml_promotion.ports import MetricValues, RegistrationRequest
from aml_promotion.testing import InMemoryBackend

AUC = PromotionPolicy(rules=[MetricRule(name="auc", goal="maximize")])


def add_run(backend: InMemoryBackend, run_id: str, auc: float) -> None:
    backend.runs.add_run(
        run_id, experiment_name="e", metrics={"auc": auc}, files=["outputs/model.pkl"]
    )


# --- 1. A mapping holding what only Settings(...) takes ------------------------------------------


def test_a_policy_in_a_settings_mapping_is_refused_not_ignored(backend: InMemoryBackend) -> None:
    """{"policy": PromotionPolicy(...)} is a SettingsError at $.policy, so no model gets through."""
    add_run(backend, "good", 0.9)
    settings = {"model_name": "churn", "policy": AUC}
    with pytest.raises(SettingsError) as info:
        promote(settings=settings, backend=backend, run_id="good", experiment_name="e")
    (problem,) = info.value.problems
    assert problem.path == "$.policy"
    assert "pass Settings(policy=...)" in problem.message
    assert "metrics_max" in problem.message
    assert backend.registry.versions.get("churn", []) == []


@pytest.mark.parametrize("key", ["policy", "unknown_keys"])
def test_an_attribute_of_settings_is_no_key_of_a_mapping_even_when_not_strict(key: str) -> None:
    """Every attribute of Settings that no file has is an error in a mapping, named by its path."""
    with pytest.raises(SettingsError) as info:
        load_settings({"model_name": "churn", key: ()})
    assert [p.path for p in info.value.problems] == [f"$.{key}"]
    assert f"Settings({key}=...)" in info.value.problems[0].message


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"metric_rules": {"auc": MetricRule(name="auc", goal="maximize")}}, "$.metric_rules.auc"),
        ({"baseline": BaselineStrategy.tagged("stage", "prod")}, "$.baseline"),
        ({"metrics_max": ["auc", AUC]}, "$.metrics_max[1]"),
        (
            {"metric_rules": {"auc": {"goal": "maximize", "significance": Significance()}}},
            "$.metric_rules.auc.significance",
        ),
    ],
)
def test_a_value_object_in_a_settings_mapping_is_refused_at_its_path(
    data: dict[str, Any], path: str
) -> None:
    """A MetricRule, BaselineStrategy... in a mapping: a problem at its path saying what to do."""
    with pytest.raises(SettingsError) as info:
        load_settings(data)
    ours = [p for p in info.value.problems if "a settings mapping cannot hold" in p.message]
    assert [p.path for p in ours] == [path]
    assert "pass Settings(policy=..., baseline=...)" in ours[0].message


def test_a_plain_mapping_still_loads() -> None:
    """A mapping of file values (no value objects) is read as before."""
    settings = load_settings({"model_name": "churn", "metrics_max": ["auc"], "baseline": "latest"})
    assert [rule.name for rule in settings.policy.rules] == ["auc"]


# --- 2. A string where a tuple of names is expected ----------------------------------------------


@pytest.mark.parametrize("field", ["datasets", "unknown_keys"])
def test_a_string_for_a_names_field_of_settings_is_a_type_error(field: str) -> None:
    """Settings(datasets="ds1") is refused, not read as ('d', 's', '1')."""
    with pytest.raises(TypeError, match=f"^{field} must be a list or tuple of names"):
        Settings(**{field: "ds1"})


@pytest.mark.parametrize("field", ["datasets", "unknown_keys"])
def test_a_non_string_name_in_settings_is_a_type_error(field: str) -> None:
    """Every item of a names field is a string."""
    with pytest.raises(TypeError, match=f"^{field} must hold names .*item 1 is 3"):
        Settings(**{field: ["ds1", 3]})
    with pytest.raises(TypeError, match=f"^{field} must be a list or tuple of names"):
        Settings(**{field: 3})


def test_names_fields_of_settings_take_any_iterable_of_names() -> None:
    """A list or a generator of names becomes a tuple."""
    assert Settings(datasets=["a", "b"]).datasets == ("a", "b")
    assert Settings(datasets=(name for name in ["a"])).datasets == ("a",)


def test_a_string_for_the_datasets_of_a_registration_request_is_a_type_error() -> None:
    """RegistrationRequest(datasets="ds1") is refused too; a list becomes a tuple."""
    with pytest.raises(TypeError, match=r"^datasets must be a list or tuple of names"):
        RegistrationRequest(name="m", model_path="p", datasets="ds1")
    with pytest.raises(TypeError, match=r"^datasets must hold names"):
        RegistrationRequest(name="m", model_path="p", datasets=["a", None])  # type: ignore[list-item]
    assert RegistrationRequest(name="m", model_path="p", datasets=["a"]).datasets == ("a",)


# --- 3. Errors that name the field, at construction ----------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error", "said"),
    [
        ({"model_file_name": None}, TypeError, "model_file_name must be a string, not None"),
        ({"model_file_name": " "}, ValueError, "model_file_name is blank"),
        ({"pipeline_child_run_name": 3}, TypeError, "pipeline_child_run_name must be a string"),
        ({"model_framework_version": 1.1}, TypeError, "model_framework_version must be a string"),
        ({"model_description": ["x"]}, TypeError, "model_description must be a string or None"),
        ({"sample_input_dataset": 1}, TypeError, "sample_input_dataset must be a string or None"),
        ({"sample_output_dataset": 1}, TypeError, "sample_output_dataset must be a string or"),
        ({"model_tags": [("a", "b")]}, TypeError, "model_tags must be a mapping of names"),
        ({"model_tags": {"a": 1}}, TypeError, "model_tags must map names .* found 'a': 1"),
        ({"model_properties": {1: "a"}}, TypeError, "model_properties must map names"),
        ({"cpu_cores": "2", "memory_gb": "x"}, TypeError, "cpu_cores must be a number greater"),
        ({"cpu_cores": 2, "memory_gb": "x"}, TypeError, "memory_gb must be a number greater"),
        ({"cpu_cores": True, "memory_gb": 1}, TypeError, "cpu_cores must be a number .* True"),
        ({"cpu_cores": 0, "memory_gb": 1}, ValueError, "cpu_cores must be a finite number greater"),
        ({"cpu_cores": 1, "memory_gb": -2}, ValueError, "memory_gb must be a finite number"),
        ({"cpu_cores": float("inf"), "memory_gb": 1}, ValueError, "cpu_cores must be a finite"),
        ({"cpu_cores": 10**400, "memory_gb": 1}, TypeError, "cpu_cores must be a number"),
    ],
)
def test_a_settings_field_of_the_wrong_kind_is_refused_by_name(
    fields: dict[str, Any], error: type[Exception], said: str
) -> None:
    """Settings(...) refuses what would fail deep inside promote(), naming the field."""
    with pytest.raises(error, match=f"^{said}"):
        Settings(**fields)


def test_cpu_cores_and_memory_take_any_real_number_as_a_float() -> None:
    """A Fraction or a numpy number is a float in Settings."""
    settings = Settings(cpu_cores=Fraction(1, 2), memory_gb=np.float32(2))
    assert (settings.cpu_cores, settings.memory_gb) == (0.5, 2.0)
    assert type(settings.cpu_cores) is float
    assert type(settings.memory_gb) is float


def test_promote_with_settings_of_no_model_file_name_fails_at_construction() -> None:
    """The reviewer's repro: the error is raised by Settings, before any backend call."""
    backend = InMemoryBackend()
    with pytest.raises(TypeError, match=r"^model_file_name must be a string"):
        promote(
            settings=Settings(model_name="x", model_file_name=None),  # type: ignore[arg-type]
            backend=backend,
            run_id="1",
            experiment_name="e",
        )
    assert backend.operations() == []


@pytest.mark.parametrize("argument", ["candidate_data", "baseline_data"])
@pytest.mark.parametrize(
    ("data", "said"),
    [
        ("1a2b", "must be a mapping of dataset names to digests or versions .* not str"),
        (["eval"], "must be a mapping of dataset names .* not list"),
        ({"t": 1}, "must map dataset names .* found 't': 1"),
        ({1: "a"}, "must map dataset names .* found 1: 'a'"),
    ],
)
def test_decide_refuses_evaluation_data_that_is_no_mapping_of_text(
    argument: str, data: object, said: str
) -> None:
    """Evaluation data is None or names → text or None; anything else names the argument."""
    with pytest.raises(TypeError, match=f"^{argument} {said}"):
        decide({"auc": 0.9}, {"auc": 0.8}, AUC, **{argument: data})


def test_decide_keeps_evaluation_data_that_round_trips() -> None:
    """Text and None digests are accepted, and the decision reads back from its JSON."""
    policy = PromotionPolicy(
        rules=[MetricRule(name="auc", goal="maximize")],
        evaluation_data=EvaluationData(context="eval"),
    )
    decision = decide(
        {"auc": 0.9},
        {"auc": 0.8},
        policy,
        candidate_data={"eval": "1a2b", "extra": None},
        baseline_data={"eval": "1a2b", "extra": None},
    )
    assert Decision.from_json(decision.to_json()) == decision


@pytest.mark.parametrize(
    "alpha", [Fraction(1, 20), np.float64(0.05), np.float32(0.25), 0.5, Fraction(1, 2)]
)
def test_alpha_takes_any_real_number_as_a_float(alpha: object) -> None:
    """Significance(alpha=Fraction(1, 20)) or a numpy float is a float level."""
    significance = Significance(alpha=alpha)  # type: ignore[arg-type]
    assert type(significance.alpha) is float
    assert significance.alpha == float(alpha)  # type: ignore[arg-type]


@pytest.mark.parametrize("alpha", [np.bool_(True), Fraction(3, 4), 10**400, np.float64(0)])
def test_alpha_refuses_booleans_and_levels_out_of_range(alpha: object) -> None:
    """A numpy bool, 3/4, a number too large for a float, 0: refused, naming alpha."""
    with pytest.raises(ValueError, match=r"^alpha must be a number in \(0, 0.5\]"):
        Significance(alpha=alpha)  # type: ignore[arg-type]


# --- 4. A re-run's summary says what was compared ------------------------------------------------


def test_a_rerun_of_the_first_champion_does_not_claim_the_tag_has_no_holder(
    backend: InMemoryBackend,
) -> None:
    """Runs a, b, then a again with tag:stage=prod: the summary says why there is no baseline."""
    settings = {"model_name": "ch", "metrics_max": ["auc"], "baseline": "tag:stage=prod"}
    add_run(backend, "a", 0.8)
    add_run(backend, "b", 0.9)
    for run_id in ("a", "b"):
        promote(settings=settings, backend=backend, run_id=run_id, experiment_name="e")
    again = promote(settings=settings, backend=backend, run_id="a", experiment_name="e")
    assert again.already_registered
    assert "holds the tag" not in again.decision.summary
    assert (
        "already registered as version 1 of ch, when it had no baseline; a re-run compares "
        "with the baseline recorded at that registration"
    ) in again.decision.summary


def test_a_rerun_whose_recorded_baseline_is_gone_says_so(backend: InMemoryBackend) -> None:
    """The recorded baseline was deleted: the summary names it, not the strategy."""
    settings = {"model_name": "ch", "metrics_max": ["auc"]}
    add_run(backend, "a", 0.8)
    add_run(backend, "b", 0.9)
    for run_id in ("a", "b"):
        promote(settings=settings, backend=backend, run_id=run_id, experiment_name="e")
    del backend.registry.versions["ch"][0]
    again = promote(settings=settings, backend=backend, run_id="b", experiment_name="e")
    assert again.already_registered
    assert (
        "already registered as version 2 of ch; version 1, the baseline recorded at that "
        "registration, no longer exists"
    ) in again.decision.summary


def test_a_rerun_of_a_version_with_no_recorded_baseline_is_never_its_own_baseline(
    backend: InMemoryBackend,
) -> None:
    """A version registered by hand from the run (no record): it is not compared with itself."""
    add_run(backend, "a", 0.8)
    backend.registry.add_version("ch", run_id="a", experiment_name="e")
    settings = {"model_name": "ch", "metrics_max": ["auc"]}
    again = promote(settings=settings, backend=backend, run_id="a", experiment_name="e")
    assert again.already_registered
    assert again.baseline is None
    assert (
        "already registered as version 1 of ch, and no other version is the baseline (latest)"
    ) in again.decision.summary
    assert "has no registered version yet" not in again.decision.summary


def test_a_rerun_of_a_local_model_says_what_was_compared(
    backend: InMemoryBackend, tmp_path: Path
) -> None:
    """Local mode: the same content again is described as already registered, too."""
    model = tmp_path / "model.pkl"
    model.write_bytes(b"weights")
    settings = {"model_name": "ch", "metrics_max": ["auc"]}
    promote(settings=settings, backend=backend, model_path=model, metrics={"auc": 0.8})
    again = promote(settings=settings, backend=backend, model_path=model, metrics={"auc": 0.8})
    assert again.already_registered
    assert "already registered as version 1 of ch, when it had no baseline" in (
        again.decision.summary
    )


def test_a_rerun_whose_recorded_baseline_is_too_long_to_be_a_version_says_it_is_gone(
    backend: InMemoryBackend,
) -> None:
    """A 5000-digit promotion.baseline_version (no registry numbers so): never read by int()."""
    settings = {"model_name": "ch", "metrics_max": ["auc"]}
    add_run(backend, "a", 0.8)
    promote(settings=settings, backend=backend, run_id="a", experiment_name="e")
    huge = "7" * 5000
    backend.registry.set_tags(backend.registry.get("ch", 1), {tags.BASELINE_VERSION: huge})
    again = promote(settings=settings, backend=backend, run_id="a", experiment_name="e")
    assert again.already_registered
    assert again.baseline is None
    assert "the baseline recorded at that registration, no longer exists" in again.decision.summary


# --- 5. An integer too long to read -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ('{"cpu_cores": ' + "9" * 5001 + ', "memory_gb": 1}', "$.cpu_cores"),
        (
            '{"metric_rules": {"auc": {"goal": "maximize", "min_delta": -' + "1" * 5001 + "}}}",
            "$.metric_rules.auc.min_delta",
        ),
        ('{"model_tags": {"a": [1, ' + "2" * 4301 + "]}}", "$.model_tags.a[1]"),
    ],
)
def test_an_integer_too_long_to_read_is_reported_at_its_path(
    tmp_path: Path, text: str, path: str
) -> None:
    """A 5001-digit integer: a SettingsError at its path, with no advice about Python."""
    source = tmp_path / "registermodel.json"
    source.write_text(text)
    with pytest.raises(SettingsError) as info:
        load_settings(source)
    assert info.value.__cause__ is None
    (problem,) = info.value.problems
    assert problem.path == path
    assert problem.message.startswith("an integer of more than 4300 digits")
    assert "sys." not in str(info.value)
    assert "set_int_max_str_digits" not in str(info.value)


def test_a_long_integer_within_the_limit_still_reads(tmp_path: Path) -> None:
    """An integer of 4300 digits is read (and then refused as a setting as before, or used)."""
    source = tmp_path / "registermodel.json"
    source.write_text('{"model_tags": {"big": ' + "7" * 4300 + "}}")
    assert load_settings(source).model_tags["big"] == "7" * 4300


def test_the_verdict_of_a_refused_policy_mapping_never_registers(
    backend: InMemoryBackend,
) -> None:
    """With Settings(policy=...) the gate works: 'bad' after 'good' is rejected."""
    add_run(backend, "good", 0.9)
    add_run(backend, "bad", 0.5)
    settings = Settings(model_name="churn", policy=AUC)
    verdicts = [
        promote(
            settings=settings, backend=backend, run_id=run, experiment_name="e"
        ).decision.verdict
        for run in ("good", "bad")
    ]
    assert verdicts == [Verdict.PROMOTE, Verdict.REJECT]


def test_a_string_for_the_available_metrics_of_metric_values_is_a_type_error() -> None:
    """MetricValues(available="auc") is refused; any collection of names becomes a frozenset."""
    with pytest.raises(TypeError, match=r"^available must be a set of metric names"):
        MetricValues(available="auc")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^available must hold metric names"):
        MetricValues(available=["auc", 1])  # type: ignore[list-item]
    assert MetricValues(available=["auc", "loss"]).available == frozenset({"auc", "loss"})
    assert MetricValues().available is None
