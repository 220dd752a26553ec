"""Hostile settings and metrics: only the library's documented errors ever come out (#22).

`load_settings` gets arbitrary mappings (nested, shared, holding themselves) and arbitrary JSON
texts; `promote()` gets arbitrary settings and metrics with the public in-memory fakes. Each
either succeeds or raises one of the exceptions `aml_promotion.exceptions` documents: never a
`RecursionError`, `TypeError` or `KeyError` from deep inside.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aml_promotion import Verdict, load_settings, promote
from aml_promotion._settings._shapes import _RULE_KEYS, KNOWN_KEYS
from aml_promotion.exceptions import PromotionError, SettingsError, SettingsWarning
from aml_promotion.testing import InMemoryBackend

# Keys a settings source may hold: the known ones (most of the time), the rules' keys, near
# misses and anything else.
KEYS = st.one_of(
    st.sampled_from(sorted(KNOWN_KEYS | _RULE_KEYS | {"cpu", "memory", "policy", "auc"})),
    st.text(max_size=12),
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(),  # NaN and infinities included
    st.text(max_size=20),
    st.sampled_from(["latest", "alias:champion", "tag:stage=prod", "version:1", "maximize"]),
    st.binary(max_size=4),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(KEYS, inner, max_size=4),
    ),
    max_leaves=20,
)
MAPPINGS = st.dictionaries(KEYS, VALUES, max_size=8)


def _load(source: Any) -> None:
    """Load `source`; a SettingsError is a documented outcome, anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SettingsWarning)
        with contextlib.suppress(SettingsError):
            load_settings(source)


@given(MAPPINGS)
def test_any_mapping_loads_or_is_a_settings_error(data: dict[str, Any]) -> None:
    """Whatever a mapping holds, load_settings returns Settings or raises SettingsError."""
    _load(data)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(MAPPINGS.map(lambda data: json.dumps(data, default=repr)), st.text()))
def test_any_json_text_loads_or_is_a_settings_error(tmp_path: Path, text: str) -> None:
    """Whatever a settings file holds, load_settings returns Settings or raises SettingsError."""
    path = tmp_path / "registermodel.json"
    path.write_text(text, encoding="utf-8")
    _load(path)


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"alpha": 0.05}
    for _ in range(depth):
        value = {"significance": value}
    return value


@pytest.mark.parametrize("depth", [20, 500, 5_000])
def test_a_deeply_nested_mapping_is_a_settings_error(depth: int) -> None:
    """Hundreds of levels of nesting: a SettingsError at the path, not a RecursionError."""
    with pytest.raises(SettingsError, match="nested more than 16 levels deep") as info:
        load_settings({"metric_rules": {"auc": _nested(depth)}})
    [problem] = info.value.problems
    assert problem.path.startswith("$.metric_rules.auc.significance.significance")


def test_a_deeply_nested_json_file_is_a_settings_error(tmp_path: Path) -> None:
    """The same in a file: arrays and objects nested too deep for any setting."""
    path = tmp_path / "registermodel.json"
    path.write_text('{"datasets": ' + "[" * 500 + "]" * 500 + "}", encoding="utf-8")
    with pytest.raises(SettingsError, match="nested more than 16 levels deep"):
        load_settings(path)


@pytest.mark.parametrize("key", ["model_tags", "metric_rules", "datasets"])
def test_a_mapping_that_holds_itself_is_a_settings_error(key: str) -> None:
    """A self-referential mapping or list: a SettingsError naming where, not a RecursionError."""
    data: dict[str, Any] = {}
    data[key] = data
    with pytest.raises(SettingsError, match="holds itself") as info:
        load_settings(data)
    assert [p.path for p in info.value.problems] == [f"$.{key}"]
    items: list[Any] = []
    items.append(items)
    with pytest.raises(SettingsError, match="holds itself"):
        load_settings({key: items})


def test_a_value_shared_many_times_is_a_settings_error_not_a_long_walk() -> None:
    """A list that holds one list twice, 60 levels down, is 2^60 paths: refused at once."""
    shared: list[Any] = []
    for _ in range(60):
        shared = [shared, shared]
    with pytest.raises(SettingsError):
        load_settings({"datasets": shared})


NAME = "churn"
RULES = st.fixed_dictionaries(
    {},
    optional={
        "metrics_max": st.lists(st.sampled_from(["auc", "acc", " auc", "f1"]), max_size=3),
        "metrics_min": st.lists(st.sampled_from(["loss", "auc"]), max_size=2),
        "metric_rules": st.dictionaries(
            st.sampled_from(["auc", "loss", "acc@1", "acc#1"]),
            st.dictionaries(st.sampled_from(sorted(_RULE_KEYS)), VALUES, max_size=3),
            max_size=2,
        ),
        "baseline": st.sampled_from(["latest", "tag:stage=prod", "alias:champion", "version:1"]),
        "force_registration": st.booleans(),
        "require_improvement": st.booleans(),
        "on_missing_baseline": st.sampled_from(["promote", "reject"]),
    },
)
METRIC_VALUES = st.one_of(
    st.floats(),
    st.integers(),
    st.booleans(),
    st.text(max_size=5),
    st.none(),
    st.lists(st.floats(), max_size=4),
)
METRICS = st.dictionaries(st.sampled_from(["auc", "loss", "acc", "f1", "AUC"]), METRIC_VALUES)


@given(RULES, METRICS, st.one_of(st.none(), METRICS))
def test_promote_with_the_fakes_raises_only_documented_errors(
    rules: dict[str, Any], candidate: dict[str, Any], baseline: dict[str, Any] | None
) -> None:
    """Any settings and metrics: promote() returns a result or raises a PromotionError."""
    backend = InMemoryBackend()
    if baseline is not None:
        backend.runs.add_run("base", experiment_name="train", metrics=baseline, files=["model.pkl"])
        backend.registry.add_version(
            NAME, run_id="base", experiment_name="train", tags={"stage": "prod"}
        )
    backend.runs.add_run("cand", experiment_name="train", metrics=candidate, files=["model.pkl"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = promote(
                settings={"model_name": NAME, **rules},
                backend=backend,
                experiment_name="train",
                run_id="cand",
            )
        except PromotionError:
            return
    assert result.decision.verdict in set(Verdict)
    if result.model is not None:
        assert backend.registry.get(NAME, result.model.version) == result.model
