"""Bad input of any shape ends in a Decision or a SettingsError, never a traceback from inside."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aml_promotion import Decision, Settings, decide, load_settings, promote
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
