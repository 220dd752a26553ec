"""Bad input of any shape ends in a Decision or a SettingsError, never a traceback from inside."""

from __future__ import annotations

import json
import math
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aml_promotion import (
    Decision,
    MetricRule,
    PromotionPolicy,
    Settings,
    decide,
    load_settings,
    promote,
)
from aml_promotion._settings import KNOWN_KEYS
from aml_promotion.exceptions import PromotionError, SettingsError
from aml_promotion.testing import InMemoryBackend

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["latest", "tag:champion=true", "version:3", "maximize", "min", "onnx"]),
)
_json = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=12,
)
_keys = st.one_of(
    st.sampled_from(sorted(KNOWN_KEYS | {"cpu", "memory", "metric_max", "webservice_name"})),
    st.text(max_size=16),
)
_metric_names = st.sampled_from(["auc", "loss", "Accuracy", "f1"])
_settings_mappings = st.dictionaries(_keys, _json, max_size=8) | st.fixed_dictionaries(
    {},
    optional={
        "metrics_max": st.lists(_metric_names, max_size=3) | _json,
        "metrics_min": st.lists(_metric_names, max_size=3) | _json,
        "metric_rules": st.dictionaries(
            _metric_names,
            st.dictionaries(
                st.sampled_from(
                    ["min_delta", "min_relative_delta", "at_least", "at_most", "aggregate", "goal"]
                ),
                _json,
                max_size=3,
            )
            | _json,
            max_size=3,
        ),
        "force_registration": _json,
        "require_improvement": _json,
        "on_missing_baseline_metric": _json,
        "model_name": st.text(max_size=20) | _json,
    },
)
_metric_values = st.dictionaries(_metric_names, _json, max_size=4)


def _load(mapping: dict[str, Any]) -> Settings | SettingsError:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return load_settings(mapping)
        except SettingsError as error:
            return error


@settings(max_examples=300, deadline=None)
@given(_settings_mappings, _metric_values, st.none() | _metric_values)
def test_any_settings_and_metric_values_give_a_decision_or_a_settings_error(
    mapping: dict[str, Any], candidate: dict[str, Any], baseline: dict[str, Any] | None
) -> None:
    """The only outcomes are a SettingsError listing problems with paths, or a Decision."""
    loaded = _load(mapping)
    if isinstance(loaded, SettingsError):
        assert loaded.problems
        assert all(problem.path.startswith("$") for problem in loaded.problems)
        return
    decision = decide(candidate, baseline, loaded.policy)
    assert isinstance(decision, Decision)
    json.loads(decision.to_json())  # always valid, strict JSON


@settings(max_examples=100, deadline=None)
@given(_settings_mappings, _metric_values)
def test_promote_with_any_settings_raises_only_our_own_errors(
    mapping: dict[str, Any], metrics: dict[str, Any]
) -> None:
    """promote() on any settings returns a result or raises a PromotionError, nothing else."""
    backend = InMemoryBackend()
    backend.runs.add_run("r1", experiment_name="e", metrics=metrics, files=["model.pkl"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = promote(
                experiment_name="e",
                run_id="r1",
                settings={"model_name": "m", **mapping},
                backend=backend,
            )
        except PromotionError:
            return
    assert result.decision.promote == (result.model is not None)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_non_finite_threshold_is_a_settings_error(value: float) -> None:
    """NaN or infinite thresholds never reach the rules."""
    mapping = {"metrics_max": ["auc"], "metric_rules": {"auc": {"min_delta": value}}}
    loaded = _load(mapping)
    if math.isfinite(value):
        assert isinstance(loaded, Settings)
    else:
        assert isinstance(loaded, SettingsError)
        assert loaded.problems[0].path == "$.metric_rules.auc.min_delta"


# --- Input that once reached a traceback or a silent accept -----------------------------------


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply to read"),
        ('{"metric_rules": {"auc": {"min_delta": NaN}}}', "NaN is no JSON value"),
        ('{"cpu_cores": Infinity, "memory_gb": 1}', "Infinity is no JSON value"),
        ('{"cpu_cores": -Infinity, "memory_gb": 1}', "-Infinity is no JSON value"),
    ],
)
def test_a_file_python_can_barely_read_is_a_settings_error(
    tmp_path: Path, text: str, said: str
) -> None:
    """100,000 nested arrays, NaN/Infinity tokens: SettingsError (a long integer: see below)."""
    path = tmp_path / "registermodel.json"
    path.write_text(text)
    with pytest.raises(SettingsError, match=said) as info:
        load_settings(path)
    assert info.value.__cause__ is None
    assert info.value.problems[0].path == "$"


def test_a_settings_path_expands_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A settings path "~/registermodel.json" is read from the home folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "registermodel.json").write_text('{"model_name": "churn"}')
    assert load_settings("~/registermodel.json").model_name == "churn"


@pytest.mark.parametrize("name", ["churn\n", "churn\r\n", "\nchurn"])
def test_a_model_name_is_matched_whole(name: str) -> None:
    """A trailing newline is no model name: the pattern matches the whole name."""
    with pytest.raises(SettingsError, match="model_name"):
        load_settings({"model_name": name})
    with pytest.raises(ValueError, match="model_name"):
        Settings(model_name=name)


def test_two_metrics_that_share_a_decision_tag_are_refused() -> None:
    """acc@1 and acc#1 would both be recorded as promotion.metric.acc_1: refused."""
    with pytest.raises(SettingsError, match=r"'acc@1' and 'acc#1' would be recorded under the"):
        load_settings({"metrics_max": ["acc@1", "acc#1"]})
    with pytest.raises(SettingsError, match=r"promotion.metric.acc_1\): rename one"):
        PromotionPolicy(
            rules=[
                MetricRule(name="acc@1", goal="maximize"),
                MetricRule(name="acc#1", goal="maximize"),
            ]
        )


@pytest.mark.parametrize("value", [10**400, -(10**400), Fraction(10**400, 3)])
def test_a_threshold_too_large_for_a_float_is_a_value_error(value: object) -> None:
    """MetricRule(min_delta=10**400) raises ValueError, not OverflowError."""
    with pytest.raises(ValueError, match="min_delta must be a finite number or None, not a number"):
        MetricRule(name="auc", goal="maximize", min_delta=value)  # type: ignore[arg-type]


def test_an_odd_metric_name_is_quoted_in_a_problem_path() -> None:
    """$.metric_rules["top1 @ k"].min_delta, never an ambiguous dotted path."""
    with pytest.raises(SettingsError) as info:
        load_settings(
            {"metrics_max": ["top1 @ k"], "metric_rules": {"top1 @ k": {"min_delta": "x"}}}
        )
    assert [p.path for p in info.value.problems] == ['$.metric_rules["top1 @ k"].min_delta']


def test_a_blank_metric_name_says_blank() -> None:
    """A metric named "  " is called blank, in a rule and in a list."""
    with pytest.raises(SettingsError, match="found a blank one"):
        load_settings({"metric_rules": {"  ": {"goal": "maximize"}}})
    with pytest.raises(ValueError, match="name is blank"):
        MetricRule(name=" ", goal="maximize")


def test_a_misspelt_key_inside_a_rule_gets_did_you_mean() -> None:
    """min_detla inside a rule is an error at its own path, with the likely key."""
    with pytest.raises(SettingsError) as info:
        load_settings({"metrics_max": ["auc"], "metric_rules": {"auc": {"min_detla": 0.1}}})
    [problem] = info.value.problems
    assert problem.path == "$.metric_rules.auc.min_detla"
    assert (
        problem.message == "unknown key 'min_detla' in the rule of 'auc'; did you mean 'min_delta'?"
    )


def test_a_rule_reads_its_dataset() -> None:
    """A rule's "dataset" picks a dataset-scoped value (MLflow 3); blank is refused."""
    [rule] = load_settings(
        {"metric_rules": {"auc": {"goal": "maximize", "dataset": "test"}}}
    ).policy.rules
    assert rule.dataset == "test"
    with pytest.raises(SettingsError, match="blank"):
        load_settings({"metric_rules": {"auc": {"goal": "maximize", "dataset": " "}}})


def test_a_numpy_bool_in_settings_gets_the_bool_message() -> None:
    """force_registration=np.bool_(True) from a notebook: refused as a numpy boolean."""

    class bool_:  # noqa: N801 - numpy's name, which is how its bools are recognized
        def __bool__(self) -> bool:
            return True

    with pytest.raises(SettingsError, match=r"found a numpy boolean \(pass bool\(value\)\)"):
        load_settings({"force_registration": bool_()})


def test_a_tag_value_too_long_to_write_is_a_settings_problem() -> None:
    """A 5001-digit integer as a tag value (a mapping from Python) names the tag."""
    with pytest.raises(SettingsError, match="the value of 'a' is a number too long to use"):
        load_settings({"model_tags": {"a": 10**5000}})
