"""Settings checked when they are read: names a registry refuses, messages saying what to change.

Issues 19 (the messages) and 22 (alias names and tag keys refused at load, exit 2).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from aml_promotion import (
    Aggregate,
    BaselineStrategy,
    EvaluationData,
    Goal,
    MetricRule,
    PromotionPolicy,
    Settings,
    Significance,
    load_settings,
    promote,
)
from aml_promotion.exceptions import SettingsError, SettingsWarning
from aml_promotion.ports import RegistrationRequest
from aml_promotion.testing import InMemoryBackend


def problems_of(source: Any) -> list[tuple[str, str]]:
    with pytest.raises(SettingsError) as info:
        load_settings(source)
    return [(problem.path, problem.message) for problem in info.value.problems]


def write(tmp_path: Path, content: bytes | str) -> Path:
    path = tmp_path / "registermodel.json"
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


# --- Alias names and tag keys, as MLflow accepts them ------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        (
            "alias:my champ",
            (
                "the alias 'my champ' has characters an alias cannot have (' '): "
                "use letters, digits, '_' and '-'"
            ),
        ),
        (
            "alias:a/b",
            (
                "the alias 'a/b' has characters an alias cannot have ('/'): "
                "use letters, digits, '_' and '-'"
            ),
        ),
        (
            "alias:v1",
            (
                "the alias 'v1' is reserved: MLflow reads @v1 as version 1; choose another name, "
                "or write 'version:N' for a fixed version"
            ),
        ),
        ("alias:V12", "the alias 'V12' is reserved: MLflow reads @V12 as version 12"),
        ("alias:Latest", "the alias 'Latest' is reserved: MLflow reads @latest as the highest"),
        ("alias:" + "a" * 256, "the alias is 256 characters long; at most 255 are allowed"),
        ("tag:a//b=1", "the tag key 'a//b' is not a plain path, which MLflow refuses"),
        ("tag:<key>=1", "the tag key '<key>' has characters a tag key cannot have ('<' '>')"),
    ],
)
def test_a_baseline_name_mlflow_refuses_is_a_settings_error(baseline: str, message: str) -> None:
    """alias:my champ, alias:v1, alias:a/b...: refused at load (exit 2), at $.baseline."""
    [(path, found)] = problems_of({"baseline": baseline})
    assert path == "$.baseline"
    assert found.startswith(message)


@pytest.mark.parametrize("alias", ["champion", "prod-2", "champion_v2", "v", "vtwo", "chämp"])
def test_an_alias_mlflow_takes_loads(alias: str) -> None:
    """Letters (any script), digits, '_' and '-' are an alias; v alone or vtwo is no version."""
    assert load_settings({"baseline": f"alias:{alias}"}).baseline == BaselineStrategy.alias(alias)


def test_the_baseline_value_object_refuses_the_same_names() -> None:
    """BaselineStrategy.alias/tagged check the name themselves: one rule for Python and files."""
    with pytest.raises(ValueError, match="the alias 'v1' is reserved"):
        BaselineStrategy.alias("v1")
    with pytest.raises(ValueError, match="the tag key '/stage' is not a plain path"):
        BaselineStrategy.tagged("/stage", "prod")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "the tag key is empty"),
        ("  ", "the tag key is blank"),
        ("team/", "the tag key 'team/' is not a plain path"),
        ("a\nb", "the tag key 'a\\nb' has characters a tag key cannot have ('\\n')"),
        ("k" * 251, "the tag key is 251 characters long; at most 250 are allowed"),
    ],
)
def test_a_model_tag_key_mlflow_refuses_is_a_settings_error(key: str, message: str) -> None:
    """An empty or odd model_tags key: exit 2 at load, not exit 3 at registration."""
    [(path, found)] = problems_of({"model_tags": {key: "x"}})
    assert path == "$.model_tags"
    assert found.startswith(message)
    with pytest.raises(ValueError, match=r"^model_tags: "):
        Settings(model_tags={key: "x"})


@pytest.mark.parametrize(
    ("settings", "path"),
    [
        ({"model_tags": {"promotion.verdict": "promote"}}, "$.model_tags"),
        ({"baseline": "tag:promotion.verdict=promote"}, "$.baseline"),
        ({"baseline": "tag:promotion.alias.champion=true"}, "$.baseline"),
    ],
)
def test_a_tag_key_in_the_librarys_own_namespace_is_refused(
    settings: dict[str, Any], path: str
) -> None:
    """``promotion.*`` keys are the decision records: refused as a baseline tag or model tag.

    A champion tag ``promotion.verdict`` overwrote retired versions' verdicts.
    """
    [(found_path, message)] = problems_of({"metrics_max": ["auc"], **settings})
    assert found_path == path
    assert "the library's own namespace 'promotion.'" in message


def test_no_promotion_overwrites_a_decision_record_through_its_baseline_tag() -> None:
    """The review's reproduction: refused at load, before any version is registered."""
    backend = InMemoryBackend()
    backend.runs.add_run("r0", experiment_name="t", metrics={"auc": 0.6}, files=["model.pkl"])
    settings = {"metrics_max": ["auc"], "baseline": "tag:promotion.verdict=promote"}
    with pytest.raises(SettingsError, match=r"promotion\.verdict"):
        promote(experiment_name="t", run_id="r0", settings=settings, backend=backend)
    assert not backend.registry.versions


@pytest.mark.parametrize(
    ("settings", "path", "limit"),
    [
        ({"metrics_max": ["auc"], "baseline": "alias:" + "a" * 235}, "$.baseline", 234),
        ({"metrics_max": ["m" * 234]}, "$.metrics_max", 233),
        ({"metrics_min": ["m" * 234]}, "$.metrics_min", 233),
        ({"metric_rules": {"m" * 234: {"goal": "maximize"}}}, "$.metric_rules", 233),
    ],
)
def test_a_name_whose_derived_tag_key_is_too_long_is_refused_at_load(
    settings: dict[str, Any], path: str, limit: int
) -> None:
    """``promotion.alias.<alias>``, ``promotion.series.<metric>``...: at most 250 characters."""
    [(found_path, message)] = problems_of(settings)
    assert found_path == path
    assert f"at most {limit}" in message


def test_names_whose_derived_tag_keys_just_fit_load() -> None:
    """The longest derived key of each name at 250 characters exactly loads."""
    loaded = load_settings({"metrics_max": ["m" * 233], "baseline": "alias:" + "a" * 234})
    assert loaded.policy.rules[0].name == "m" * 233


def test_model_tag_keys_mlflow_takes_load() -> None:
    """Spaces, ':', '.', '/' inside and '-' are fine in a tag key."""
    tags = {"team name": "a", "mlflow.note": "b", "a:b": "c", "dir/sub": "d", "x-y": "e"}
    assert load_settings({"model_tags": tags}).model_tags == tags


# --- A list of names, not a lone string --------------------------------------------------------


@pytest.mark.parametrize("key", ["metrics_max", "metrics_min", "datasets"])
def test_several_names_in_one_string_say_to_write_a_list(key: str) -> None:
    """A string such as "auc,log_loss" where a list of names belongs: say to write the list."""
    assert problems_of({key: "auc,log_loss"}) == [
        (
            f"$.{key}",
            (
                """expected a list of names, found the string 'auc,log_loss': """
                """write ["auc", "log_loss"]"""
            ),
        )
    ]


def test_a_lone_string_for_a_names_field_of_python_values_says_what_to_write() -> None:
    """Settings and RegistrationRequest share one check; its message gives the list."""
    with pytest.raises(TypeError, match=r"""write \["a", "b"\]$"""):
        Settings(datasets="a; b")
    with pytest.raises(TypeError, match=r"""write \["ds1"\]$"""):
        RegistrationRequest(name="m", model_path="p", datasets="ds1")


# --- Unknown keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("metrcs_minimum", "'metrics_min' or 'metrics_max'"),
        ("metrics_maximize", "'metrics_max' or 'metrics_min'"),
        ("Metric_Thresholds", "'metric_rules' or 'metrics_min'"),
    ],
)
def test_a_metrics_key_far_from_any_is_an_error_when_no_rule_is_given(key: str, meant: str) -> None:
    """No rules and an unknown metric-like key: an error, not a run that registers ungated."""
    assert problems_of({key: ["loss"]}) == [
        (
            f"$.{key}",
            (
                f"unknown key {key!r}, and no metric rules are given: every model would be "
                f"registered unchecked; did you mean {meant}?"
            ),
        )
    ]


def test_a_metrics_like_key_beside_metric_rules_is_only_a_warning() -> None:
    """With a rule given, a stray metric-like key is a warning as other unknown keys are."""
    with pytest.warns(SettingsWarning, match="metrcs_minimum"):
        settings = load_settings({"metrics_max": ["auc"], "metrcs_minimum": ["loss"]})
    assert settings.policy.metric_names == ("auc",)


def test_a_metrics_key_far_from_any_exits_2_through_the_cli(tmp_path: Path) -> None:
    """The real command line: exit 2, the key and the suggestion on stderr, nothing registered."""
    path = write(tmp_path, '{"model_name": "m", "metrcs_minimum": ["loss"]}')
    result = subprocess.run(
        [sys.executable, "-m", "aml_promotion", "--parameters-file", str(path), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "unknown key 'metrcs_minimum'" in result.stderr
    assert "did you mean 'metrics_min'" in result.stderr


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aml_promotion", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{\n  // the model\n  "model_name": "m"\n}', "JSON has no comments; remove the comment"),
        ('{"model_name": "m",}', "remove the trailing comma"),
        (b'{"model_name": "caf\xe9"}', "is not UTF-8 text: byte 0xe9 at offset 19"),
        ('{"model_name": "m", "metrics_max": "auc,log_loss"}', 'write ["auc", "log_loss"]'),
        ('{"model_name": "m", "baseline": "alias:my champ"}', "the alias 'my champ' has"),
        ('{"model_name": "m", "model_tags": {"": "x"}}', "the tag key is empty"),
    ],
)
def test_the_cli_exits_2_with_the_one_line_message(
    tmp_path: Path, content: str | bytes, expected: str
) -> None:
    """Through the real command line: exit 2 (bad input), the message on stderr, on one line."""
    path = write(tmp_path, content)
    result = _cli("--parameters-file", str(path), "--dry-run", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    [line] = [line for line in result.stderr.splitlines() if expected in line]
    assert line.rstrip().endswith("@ $") or "@ $." in line


def test_the_cli_exits_2_for_a_directory_given_as_the_settings_file(tmp_path: Path) -> None:
    """A folder for --parameters-file: exit 2, saying to give the JSON file inside it."""
    result = _cli("--parameters-file", str(tmp_path), "--dry-run", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "is a directory, not a settings file" in result.stderr


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [("pipeline_child_run", "pipeline_child_run_name"), ("datset", "datasets"), ("cpus", "cpu")],
)
def test_difflib_finds_what_two_edits_did_not(key: str, suggestion: str) -> None:
    """One did-you-mean (difflib): a truncated key is recognised too."""
    assert problems_of({key: 1}) == [
        (f"$.{key}", f"unknown key {key!r}; did you mean {suggestion!r}?")
    ]


# --- Files that are no JSON settings -----------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{\n  // the model\n  "model_name": "m"\n}',
            "not valid JSON: JSON has no comments; remove the comment at {path}, line 2, column 3",
        ),
        (
            '{"model_name": "m" /* x */}',
            "not valid JSON: JSON has no comments; remove the comment at {path}, line 1, column 20",
        ),
        (
            '{\n  "metrics_max": ["auc",],\n  "model_name": "m"\n}',
            (
                "not valid JSON: a comma before the closing ']'; remove the trailing comma at "
                "{path}, line 2, column 24"
            ),
        ),
        (
            '{\n  "model_name": "m",\n}',
            (
                "not valid JSON: a comma before the closing '}'; remove the trailing comma at "
                "{path}, line 2, column 20"
            ),
        ),
        (
            b'{"model_name": "caf\xe9"}',
            (
                "the settings file is not UTF-8 text: byte 0xe9 at offset 19 ({path}); "
                "save it as UTF-8"
            ),
        ),
        (
            '{"model_name": "m"}'.encode("utf-16"),
            "the settings file is UTF-16 text, not UTF-8 ({path}): save it as UTF-8",
        ),
    ],
)
def test_a_file_that_is_no_json_says_what_to_change(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    """Comments, trailing commas, another encoding: one line each, saying what to change."""
    path = write(tmp_path, content)
    assert problems_of(path) == [("$", message.replace("{path}", str(path)))]


def test_a_directory_given_as_the_file_names_the_file_inside(tmp_path: Path) -> None:
    """A folder holding one JSON file: the message names that file."""
    (tmp_path / "settings.json").write_text("{}")
    assert problems_of(tmp_path) == [
        (
            "$",
            (
                f"{tmp_path} is a directory, not a settings file: give the JSON file's path, "
                f"e.g. {tmp_path / 'settings.json'}"
            ),
        )
    ]


# --- One rule, one place ------------------------------------------------------------------------


def test_default_model_name_lives_with_the_github_code_only() -> None:
    """The GitHub variables' rule is in _github, and _settings holds no second way to it."""
    import aml_promotion._settings  # noqa: PLC0415
    from aml_promotion._github import default_model_name  # noqa: PLC0415

    environ = {"GITHUB_REPOSITORY": "me/churn", "GITHUB_REF_NAME": "main"}
    assert default_model_name(environ) == "churn-main"
    assert not hasattr(aml_promotion._settings, "default_model_name")


def test_settings_warnings_point_at_the_callers_line(backend: InMemoryBackend) -> None:
    """Through promote() too, a SettingsWarning names this file, not a module of the package."""
    backend.runs.add_run("cand", experiment_name="train", files=["model.pkl"])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        load_settings({"webservice_name": "svc"})
        promote(
            settings={"model_name": "m", "webservice_name": "svc"},
            backend=backend,
            experiment_name="train",
            run_id="cand",
            dry_run=True,
        )
    assert [w.filename for w in record if w.category is SettingsWarning] == [__file__, __file__]


@pytest.mark.parametrize(
    ("source", "path", "build"),
    [
        (
            {"metric_rules": {"f1": {"goal": "maximize", "at_least": 0.9, "at_most": 0.1}}},
            "$.metric_rules.f1.at_least",
            lambda: MetricRule(name="f1", goal=Goal.MAXIMIZE, at_least=0.9, at_most=0.1),
        ),
        (
            {"metric_rules": {"f1": {"goal": "maximize", "aggregate": "max", "significance": {}}}},
            "$.metric_rules.f1.aggregate",
            lambda: MetricRule(
                name="f1", goal=Goal.MAXIMIZE, aggregate=Aggregate.MAX, significance=Significance()
            ),
        ),
        ({"evaluation_data": {}}, "$.evaluation_data", EvaluationData),
        ({"cpu_cores": 2}, "$.memory_gb", lambda: Settings(cpu_cores=2)),
        (
            {"metrics_max": ["acc@1"], "metrics_min": ["acc#1"]},
            "$.metrics_min",
            lambda: PromotionPolicy(
                rules=[
                    MetricRule(name="acc@1", goal=Goal.MAXIMIZE),
                    MetricRule(name="acc#1", goal=Goal.MINIMIZE),
                ]
            ),
        ),
    ],
)
def test_a_file_reports_the_value_objects_own_error_at_its_path(
    source: dict[str, Any], path: str, build: Any
) -> None:
    """One rule, one wording: the file's problem is the value object's message, at its path."""
    [(found_path, message)] = problems_of(source)
    assert found_path == path
    with pytest.raises(ValueError) as info:  # noqa: PT011 - InvariantError or SettingsError
        build()
    error = info.value
    said = (
        error.problems[0].message
        if isinstance(error, SettingsError)
        else getattr(error, "message", str(error))
    )
    assert said == message


def test_an_invariant_is_reported_beside_a_type_error_elsewhere() -> None:
    """A bad model_name and a bad rule do not hide cpu_cores without memory_gb."""
    assert problems_of(
        {
            "model_name": "a b",
            "metric_rules": {"auc": {"goal": "up"}, "f1": {"at_least": 2, "at_most": 1}},
            "cpu_cores": 2,
        }
    ) == [
        (
            "$.model_name",
            (
                "model_name 'a b' has characters that model names cannot have (' '); "
                "use letters, digits, '.', '_' and '-'"
            ),
        ),
        ("$.metric_rules.auc.goal", "goal must be one of maximize, minimize; found 'up'"),
        (
            "$.metric_rules.f1",
            (
                "metric 'f1' has a rule but no goal: list it in metrics_max or metrics_min, "
                'or give "goal": "maximize" or "minimize"'
            ),
        ),
        (
            "$.metric_rules.f1.at_least",
            "at_least (2) is greater than at_most (1): no value could pass",
        ),
        ("$.memory_gb", "cpu_cores is set but memory_gb is not: give both or neither"),
    ]
