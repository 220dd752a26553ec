"""load_settings(): the registermodel.json keys, the new keys, and how bad settings are reported."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import attrs
import pytest

from aml_promotion import (
    Aggregate,
    BaselineStrategy,
    Framework,
    Goal,
    MetricRule,
    OnMissingBaseline,
    OnMissingBaselineMetric,
    Settings,
    load_settings,
)
from aml_promotion._github import default_model_name
from aml_promotion._settings import KNOWN_KEYS
from aml_promotion.exceptions import PromotionError, SettingsError, SettingsWarning

EVERY_KEY: dict[str, Any] = {
    "model_name": "churn-model",
    "model_file_name": "outputs/model.pkl",
    "model_framework": "ScikitLearn",
    "model_framework_version": "1.3.2",
    "model_tags": {"team": "ds", "epochs": 3, "tuned": True},
    "model_properties": {"source": "nightly"},
    "model_description": "Gradient boosting on the churn table",
    "datasets": ["train", " test "],
    "sample_input_dataset": "sample-in",
    "sample_output_dataset": "sample-out",
    "pipeline_child_run_name": "train step",
    "cpu_cores": 0.5,
    "memory_gb": 2,
    "metrics_max": ["auc"],
    "metrics_min": ["loss"],
    "force_registration": True,
    "metric_rules": {
        "auc": {"min_delta": 0.01, "min_relative_delta": 0.02, "at_least": 0.7, "at_most": 1},
        "loss": {"aggregate": "min"},
        "latency_ms": {"goal": "minimize", "at_most": 100},
    },
    "require_improvement": False,
    "on_missing_baseline": "reject",
    "on_missing_baseline_metric": "skip",
    "baseline": "tag:stage=production",
}


def problems_of(source: Any, **options: Any) -> list[tuple[str, str]]:
    """Load `source`, expecting a SettingsError; return its (path, message) pairs."""
    with pytest.raises(SettingsError) as info:
        load_settings(source, **options)
    return [(p.path, p.message) for p in info.value.problems]


def write(tmp_path: Path, text: str, name: str = "registermodel.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- Every key ----------------------------------------------------------------------------------


def check_every_key(settings: Settings) -> None:
    assert settings.model_name == "churn-model"
    assert settings.model_file_name == "outputs/model.pkl"
    assert settings.model_framework is Framework.SCIKITLEARN
    assert settings.model_framework_version == "1.3.2"
    assert settings.model_tags == {"team": "ds", "epochs": "3", "tuned": "true"}
    assert settings.model_properties == {"source": "nightly"}
    assert settings.model_description == "Gradient boosting on the churn table"
    assert settings.datasets == ("train", "test")
    assert settings.sample_input_dataset == "sample-in"
    assert settings.sample_output_dataset == "sample-out"
    assert settings.pipeline_child_run_name == "train step"
    assert (settings.cpu_cores, settings.memory_gb) == (0.5, 2.0)
    assert settings.baseline == BaselineStrategy.tagged("stage", "production")
    assert settings.unknown_keys == ()
    policy = settings.policy
    assert policy.force is True
    assert policy.require_improvement is False
    assert policy.on_missing_baseline is OnMissingBaseline.REJECT
    assert policy.on_missing_baseline_metric is OnMissingBaselineMetric.SKIP
    assert policy.rules == (
        MetricRule(
            name="auc",
            goal=Goal.MAXIMIZE,
            min_delta=0.01,
            min_relative_delta=0.02,
            at_least=0.7,
            at_most=1.0,
        ),
        MetricRule(name="loss", goal=Goal.MINIMIZE, aggregate=Aggregate.MIN),
        MetricRule(name="latency_ms", goal=Goal.MINIMIZE, at_most=100.0),
    )


def test_every_key_is_read_from_a_mapping() -> None:
    """Each of the seed's keys and each new key lands in its Settings field."""
    check_every_key(load_settings(EVERY_KEY))


def test_every_key_is_read_from_a_file(tmp_path: Path) -> None:
    """A file, given as str or Path, reads the same as the mapping."""
    path = write(tmp_path, json.dumps(EVERY_KEY, indent=4))
    check_every_key(load_settings(path))
    check_every_key(load_settings(str(path)))


def test_the_keys_known_are_the_designs() -> None:
    """The loader knows exactly the keys of DESIGN.md section 4 (aliases aside)."""
    assert {
        "model_name", "model_file_name", "model_framework", "model_framework_version",
        "model_tags", "model_properties", "model_description", "datasets",
        "sample_input_dataset", "sample_output_dataset", "pipeline_child_run_name", "cpu_cores",
        "memory_gb", "metrics_max", "metrics_min", "force_registration", "metric_rules",
        "require_improvement", "on_missing_baseline", "on_missing_baseline_metric", "baseline",
        "evaluation_data", "job_output", "metrics_child_run_name",
        # Issue 20 item 4: the Azure ML (SDK v2) stages a promotion moves (docs/settings.md).
        "on_promote", "on_supersede",
    } == KNOWN_KEYS  # fmt: skip


def test_every_key_is_optional() -> None:
    """An empty object gives the defaults of the seed action and of DESIGN.md."""
    settings = load_settings({})
    assert settings == Settings()
    assert settings.model_name is None
    assert settings.model_file_name == "model.pkl"
    assert settings.pipeline_child_run_name == "model_training"
    assert settings.baseline == BaselineStrategy.latest()
    assert settings.policy.rules == ()
    assert settings.policy.force is False
    assert (settings.cpu_cores, settings.memory_gb) == (None, None)


def test_null_means_not_given() -> None:
    """A key set to null takes its default, but for pipeline_child_run_name (the run itself)."""
    settings = load_settings(dict.fromkeys(KNOWN_KEYS))
    assert settings == attrs.evolve(Settings(), pipeline_child_run_name=None)


def test_a_null_pipeline_step_means_the_run_itself() -> None:
    """pipeline_child_run_name: null promotes the run itself; absent keeps the seed's default."""
    assert load_settings({"pipeline_child_run_name": None}).pipeline_child_run_name is None
    assert load_settings({}).pipeline_child_run_name == "model_training"


# --- cpu and memory -----------------------------------------------------------------------------


def test_cpu_and_memory_are_aliases() -> None:
    """The seed docs' names cpu and memory mean cpu_cores and memory_gb."""
    settings = load_settings({"cpu": 1, "memory": 0.5})
    assert (settings.cpu_cores, settings.memory_gb) == (1.0, 0.5)
    assert load_settings({"cpu": 2, "memory_gb": 4}).cpu_cores == 2.0


def test_an_alias_beside_its_key_is_an_error() -> None:
    """Giving cpu and cpu_cores together is ambiguous: an error at the alias."""
    assert problems_of({"cpu": 1, "cpu_cores": 2, "memory_gb": 1}) == [
        ("$.cpu", "'cpu' and 'cpu_cores' are the same setting; give only one")
    ]


@pytest.mark.parametrize(
    ("given", "path", "message"),
    [
        ({"cpu_cores": 1}, "$.memory_gb", "cpu_cores is set but memory_gb is not"),
        ({"memory": 1}, "$.cpu_cores", "memory_gb is set but cpu_cores is not"),
    ],
)
def test_cpu_and_memory_go_together(given: dict[str, Any], path: str, message: str) -> None:
    """Both or neither: one alone is an error at the missing one."""
    assert problems_of(given) == [(path, f"{message}: give both or neither")]


def test_settings_built_directly_keep_cpu_and_memory_together() -> None:
    """The Settings value itself refuses one without the other."""
    with pytest.raises(ValueError, match="give both or neither"):
        Settings(cpu_cores=1)


@pytest.mark.parametrize("bad", [0, -1, True, "2", math.inf])
def test_cpu_and_memory_are_positive_numbers(bad: object) -> None:
    """cpu_cores must be a finite number greater than 0."""
    [(path, _)] = problems_of({"cpu_cores": bad, "memory_gb": 1})
    assert path == "$.cpu_cores"


# --- Unknown keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("metric_max", "metrics_max"),
        ("model_version", None),
        ("Model_Name", "model_name"),
        ("model-name", "model_name"),
        ("force_registartion", "force_registration"),
        ("memry", "memory"),
        ("baselines", "baseline"),
    ],
)
def test_a_key_near_a_known_one_is_an_error_with_a_suggestion(
    key: str, suggestion: str | None
) -> None:
    """Within two edits of a known key: "did you mean"; further away: only a warning."""
    if suggestion is None:
        with pytest.warns(SettingsWarning, match=key):
            load_settings({key: 1})
        return
    assert problems_of({key: 1}) == [
        (f"$.{key}", f"unknown key {key!r}; did you mean {suggestion!r}?")
    ]


def test_other_unknown_keys_are_named_in_a_warning_and_ignored(tmp_path: Path) -> None:
    """Keys of sibling actions (webservice_name) load with a SettingsWarning naming them."""
    path = write(tmp_path, '{"model_file_name": "model.Rd", "webservice_name": "svc", "x_y": 1}')
    with pytest.warns(SettingsWarning) as record:
        settings = load_settings(path)
    [warning] = record
    assert str(warning.message) == (
        f"unknown settings key(s) ignored in {path}: 'webservice_name', 'x_y'"
    )
    assert warning.filename == __file__  # it points at the caller, not at the library
    assert settings.unknown_keys == ("webservice_name", "x_y")
    assert settings.model_file_name == "model.Rd"


def test_strict_mode_turns_unknown_keys_into_errors() -> None:
    """strict=True: every unknown key is an error with its path."""
    assert problems_of({"webservice_name": "svc"}, strict=True) == [
        ("$.webservice_name", "unknown key 'webservice_name' (strict mode)")
    ]


# --- Invalid JSON and other unreadable files ------------------------------------------------------


def test_invalid_json_names_the_file_line_and_column(tmp_path: Path) -> None:
    """A missing comma is reported with the file, the line and the column."""
    path = write(tmp_path, '{\n    "model_file_name": "model.pkl"\n    "metrics_max": ["auc"]\n}')
    assert problems_of(path) == [
        ("$", f"not valid JSON: Expecting ',' delimiter at {path}, line 3, column 5")
    ]


def test_the_error_message_names_the_source(tmp_path: Path) -> None:
    """SettingsError's message says which file, and counts the problems."""
    path = write(tmp_path, '{"cpu_cores": "x", "memory_gb": 1, "model_name": "a b"}')
    with pytest.raises(SettingsError) as info:
        load_settings(path)
    assert str(info.value).startswith(f"2 problems with the settings in {path}:\n  - ")
    assert info.value.source == str(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[1, 2]", "expected a JSON object, found a list"),
        (b'"model.pkl"', "expected a JSON object, found a string"),
        (b"\xff\xfe{}", "the settings file is UTF-16 text, not UTF-8"),
        (b"", "not valid JSON: Expecting value"),
    ],
)
def test_a_file_that_is_not_a_json_object_is_an_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """A list, a bare string, bytes that are not UTF-8, an empty file: one clear problem."""
    path = tmp_path / "registermodel.json"
    path.write_bytes(content)
    [(where, text)] = problems_of(path)
    assert where == "$"
    assert text.startswith(message)


def test_a_missing_file_or_a_folder_is_an_error(tmp_path: Path) -> None:
    """A path that is not a readable file is a SettingsError, not an OSError."""
    assert problems_of(tmp_path / "nope.json") == [
        ("$", f"settings file not found: {tmp_path / 'nope.json'}")
    ]
    [(_, message)] = problems_of(tmp_path)
    assert message == (
        f"{tmp_path} is a directory, not a settings file: give the JSON file's path, "
        f"e.g. {tmp_path / 'registermodel.json'}"
    )


def test_a_byte_order_mark_and_leading_whitespace_are_fine(tmp_path: Path) -> None:
    """Files saved by Windows editors start with a BOM; some start with blank lines."""
    path = tmp_path / "registermodel.json"
    path.write_bytes(b'\xef\xbb\xbf\n   \n{"model_name": "bom"}')
    assert load_settings(path).model_name == "bom"


def test_a_source_that_is_neither_a_path_nor_a_mapping_is_an_error() -> None:
    """load_settings(42) is a SettingsError saying what it expected."""
    assert problems_of(42) == [("$", "expected a path or a mapping, found a number")]


def test_duplicate_keys_are_errors_with_their_full_path(tmp_path: Path) -> None:
    """A key given twice is an error (not "the last one wins"), at any depth, with the rest."""
    path = write(
        tmp_path,
        '{"model_name": "a", "metric_rules": {"auc": {}, "auc": {"goal": "maximize"}},\n'
        ' "model_name": "b", "cpu_cores": "x", "memory_gb": 1}',
    )
    assert problems_of(path) == [
        ("$.model_name", "the key 'model_name' appears more than once"),
        ("$.metric_rules.auc", "the key 'auc' appears more than once"),
        ("$.cpu_cores", "expected a number, found a string"),
    ]


def test_duplicate_keys_inside_lists_are_found_too(tmp_path: Path) -> None:
    """Duplicates inside an object inside a list are reported with the list index."""
    path = write(tmp_path, '{"datasets": [{"a": 1, "a": 2}]}')
    problems = problems_of(path)
    assert ("$.datasets[0].a", "the key 'a' appears more than once") in problems


# --- Every problem at once, with its path ---------------------------------------------------------


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    """Type errors, rule errors and cross-key errors come together, in the file's order."""
    problems = problems_of(
        {
            "model_name": "a" * 256,
            "metric_rules": {
                "auc": {"min_delta": "0.1", "aggregate": "median", "goal": "up"},
                "f1": {"at_least": 0.9, "at_most": 0.1, "goal": "maximize"},
            },
            "cpu_cores": "2",
            "metrics_max": ["acc"],
            "metrics_min": ["acc"],
        }
    )
    assert problems == [
        ("$.model_name", "model_name is 256 characters long; at most 255 are allowed"),
        (
            "$.metric_rules.auc.aggregate",
            "aggregate must be one of last, first, max, min, mean; found 'median'",
        ),
        ("$.metric_rules.auc.goal", "goal must be one of maximize, minimize; found 'up'"),
        ("$.metric_rules.auc.min_delta", "expected a number, found a string"),
        (
            "$.metric_rules.f1.at_least",
            "at_least (0.9) is greater than at_most (0.1): no value could pass",
        ),
        ("$.cpu_cores", "expected a number, found a string"),
        ("$.metrics_min", "metric 'acc' is in both metrics_max and metrics_min"),
        ("$.memory_gb", "cpu_cores is set but memory_gb is not: give both or neither"),
    ]


BAD_VALUES: list[tuple[str, object, str]] = [
    ("model_name", 42, "expected a string, found a number"),
    ("model_name", "", "model_name is empty"),
    ("model_file_name", "   ", "expected a non-empty name"),
    ("model_file_name", ["model.pkl"], "expected a string, found a list"),
    ("model_framework", "pytorch", "model_framework must be one of scikitlearn, onnx, "),
    ("model_framework", 3, "model_framework must be one of"),
    ("model_framework_version", True, "expected a string, found a boolean"),
    ("model_tags", ["a"], "expected an object of names to values, found a list"),
    ("model_tags", {"a": None}, "the value of 'a' must be a string, number or boolean"),
    ("model_properties", {"a": {"b": 1}}, "the value of 'a' must be a string, number or boolean"),
    ("model_description", 1.5, "expected a string, found a number"),
    ("model_description", {"set"}, "expected a string, found a set"),
    ("datasets", {"a": 1}, "expected a list of names, found an object"),
    ("datasets", ["ok", 3, ""], "expected a list of non-empty names: item 1 is a number, item 2"),
    ("sample_input_dataset", ["x"], "expected a string, found a list"),
    ("pipeline_child_run_name", None, ""),
    ("metrics_max", 5, "expected a list of names, found a number"),
    ("metrics_min", [None], "expected a list of non-empty names: item 0 is null"),
    ("force_registration", "yes", "expected true or false, found a string"),
    ("force_registration", 1, "expected true or false, found a number"),
    ("metric_rules", ["auc"], "expected a JSON object"),
    ("metric_rules", {"auc": 0.05}, "expected an object with any of goal, min_delta, "),
    ("metric_rules", {"auc": {"min_delta": math.nan, "goal": "maximize"}}, "expected a finite"),
    (
        "metric_rules",
        {"auc": {"min_detla": 0.1, "goal": "maximize"}},
        "unknown key 'min_detla' in the rule of 'auc'; did you mean 'min_delta'?",
    ),
    ("require_improvement", "sometimes", "expected true or false, found a string"),
    ("on_missing_baseline", "skip", "on_missing_baseline must be one of promote, reject"),
    ("on_missing_baseline_metric", "promote", "on_missing_baseline_metric must be one of"),
    (
        "baseline",
        "best",
        "expected 'latest', 'tag:KEY=VALUE', 'alias:NAME', 'stage:NAME' or 'version:N'",
    ),
    ("baseline", 3, "expected a string, found a number"),
    ("cpu_cores", 10**400, "expected a finite number, found one too large"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD_VALUES)
def test_bad_values_are_problems_never_a_traceback_from_cattrs(
    key: str, value: object, message: str
) -> None:
    """Each bad value is one SettingsError problem under its key; no cattrs error escapes."""
    source = {key: value}
    if key == "cpu_cores":
        source["memory_gb"] = 1
    if value is None:  # null is "not given": no problem at all
        load_settings(source)
        return
    with pytest.raises(SettingsError) as info:
        load_settings(source)
    error = info.value
    assert isinstance(error, PromotionError)
    assert isinstance(error, ValueError)
    assert error.__cause__ is None
    assert error.__context__ is None
    assert all(p.path.startswith(f"$.{key}") for p in error.problems)
    assert message in str(error)
    for private in ("cattrs", "_RuleFile", "_File", "ClassValidationError", "Traceback"):
        assert private not in str(error)


def test_a_mapping_key_that_is_empty_keeps_a_readable_path() -> None:
    """An empty metric name is shown as $.metric_rules[""] rather than a dangling dot."""
    assert problems_of({"metric_rules": {"": {"goal": "maximize"}}}) == [
        ('$.metric_rules[""]', "expected a non-empty name, found a blank one")
    ]


# --- Model names --------------------------------------------------------------------------------


def test_a_model_name_of_255_characters_is_accepted_whole() -> None:
    """Azure ML allows 255 characters; the name is kept whole."""
    name = "m" * 255
    assert load_settings({"model_name": name}).model_name == name


def test_a_model_name_of_256_characters_is_an_error_not_cut() -> None:
    """One more is an error: an explicit name is never silently cut."""
    assert problems_of({"model_name": "m" * 256}) == [
        ("$.model_name", "model_name is 256 characters long; at most 255 are allowed")
    ]


def test_a_model_name_longer_than_the_seeds_32_characters_stays_whole() -> None:
    """The old action cut names to 32 characters; here a 34-character name is kept."""
    name = "COVID16Articles_githubactions_demo"
    assert len(name) == 34
    assert load_settings({"model_name": name}).model_name == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("my model", "has characters that model names cannot have (' ')"),
        ("<your-model-name>", "has characters that model names cannot have ('<' '>')"),
        ("-model", "must start with a letter or a digit"),
        ("_model", "must start with a letter or a digit"),
        ("modèle", "('è')"),
    ],
)
def test_a_model_name_outside_azure_mls_alphabet_is_an_error(name: str, message: str) -> None:
    """Letters, digits, '.', '_' and '-', starting with a letter or digit."""
    [(path, text)] = problems_of({"model_name": name})
    assert path == "$.model_name"
    assert message in text


def test_settings_built_directly_check_the_model_name() -> None:
    """Settings(model_name=...) follows the same rule."""
    with pytest.raises(ValueError, match="at most 255"):
        Settings(model_name="m" * 256)
    assert Settings(model_name="m.1_a-b").model_name == "m.1_a-b"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"GITHUB_REPOSITORY": "org/churn", "GITHUB_REF_NAME": "main"}, "churn-main"),
        ({"GITHUB_REPOSITORY": "o/My Repo", "GITHUB_REF_NAME": "feat/x y"}, "My-Repo-feat-x-y"),
        ({"GITHUB_REPOSITORY": "org/churn", "GITHUB_REF": "refs/heads/dev"}, "churn-dev"),
        ({"GITHUB_REPOSITORY": "org/churn", "GITHUB_REF_NAME": "12/merge"}, "churn-12-merge"),
        ({"GITHUB_REPOSITORY": "org/churn"}, "churn"),
        ({"GITHUB_REPOSITORY": "org/.github", "GITHUB_REF_NAME": "main"}, "github-main"),
        ({"GITHUB_REPOSITORY": "org/___"}, None),
        ({"GITHUB_REF_NAME": "main"}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_the_default_model_name_is_repo_dash_branch_sanitized(
    environ: dict[str, str], expected: str | None
) -> None:
    """<repo>-<branch> from GitHub's variables, made into a valid model name."""
    assert default_model_name(environ) == expected


def test_a_long_default_model_name_is_cut_to_a_valid_name() -> None:
    """The default (unlike an explicit name) is sanitized into 255 valid characters."""
    name = default_model_name({"GITHUB_REPOSITORY": "o/r", "GITHUB_REF_NAME": "x-" * 300})
    assert name is not None
    assert len(name) <= 255
    assert load_settings({"model_name": name}).model_name == name
    assert not name.endswith("-")


# --- Framework, datasets, tags --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "framework"),
    [
        ("scikitlearn", Framework.SCIKITLEARN),
        ("ScikitLearn", Framework.SCIKITLEARN),
        ("ONNX", Framework.ONNX),
        (" TensorFlow ", Framework.TENSORFLOW),
        ("Keras", Framework.KERAS),
        ("custom", Framework.CUSTOM),
    ],
)
def test_the_framework_is_case_insensitive(text: str, framework: Framework) -> None:
    """model_framework matches its five values whatever the case."""
    assert load_settings({"model_framework": text}).model_framework is framework


def test_a_numeric_framework_version_is_an_error_that_says_to_quote_it() -> None:
    """1.10 as a JSON number is 1.1 already: the version must be quoted, and the error says so."""
    [(path, message)] = problems_of({"model_framework_version": 1.10})
    assert path == "$.model_framework_version"
    assert 'found the number 1.1: quote the version ("model_framework_version": "1.10")' in (
        message
    )
    assert load_settings({"model_framework_version": "1.10"}).model_framework_version == "1.10"


def test_a_single_dataset_name_is_a_list_of_one_and_names_are_deduplicated() -> None:
    """A single dataset name is a list of one; repeated names appear once, stripped."""
    assert load_settings({"datasets": "train"}).datasets == ("train",)
    assert load_settings({"datasets": ["a", " a", "b"]}).datasets == ("a", "b")


def test_metric_lists_are_stripped_and_deduplicated() -> None:
    """A metric listed twice gives one rule; " auc" beside "auc" is refused, not collapsed."""
    policy = load_settings({"metrics_max": ["auc ", "auc "]}).policy
    assert policy.metric_names == ("auc",)
    assert problems_of({"metrics_max": [" auc", "auc"]}) == [
        (
            "$.metrics_max",
            (
                "' auc' and 'auc' are the same metric once surrounding spaces are trimmed: "
                "write it one way"
            ),
        )
    ]
    assert problems_of({"metrics_max": ["auc"], "metric_rules": {" auc": {"at_least": 0.5}}})[
        0
    ] == (
        "$.metric_rules",
        (
            "'auc' and ' auc' are the same metric once surrounding spaces are trimmed: "
            "write it one way"
        ),
    )


def test_force_registration_accepts_a_boolean_string() -> None:
    """The strings "true" and "false" (as YAML-minded users write) read as booleans."""
    assert load_settings({"force_registration": "True"}).policy.force is True
    assert load_settings({"force_registration": "false"}).policy.force is False


# --- Baseline strategies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("latest", BaselineStrategy.latest()),
        ("tag:stage=production", BaselineStrategy.tagged("stage", "production")),
        ("version:3", BaselineStrategy.version(3)),
    ],
)
def test_baseline_strategies_are_read(text: str, expected: BaselineStrategy) -> None:
    """baseline: latest (default), tag:KEY=VALUE or version:N."""
    assert load_settings({"baseline": text}).baseline == expected


def test_version_zero_is_not_a_baseline() -> None:
    """Versions count from 1."""
    [(path, _)] = problems_of({"baseline": "version:0"})
    assert path == "$.baseline"


# --- metric_rules -------------------------------------------------------------------------------


def test_a_rule_refines_a_listed_metric() -> None:
    """A metric in metrics_max with a metric_rules entry takes the list's goal and the rule."""
    [rule] = load_settings(
        {"metrics_max": ["auc"], "metric_rules": {"auc": {"min_delta": -0.01}}}
    ).policy.rules
    assert rule == MetricRule(name="auc", goal=Goal.MAXIMIZE, min_delta=-0.01)


def test_a_rule_may_carry_its_own_goal() -> None:
    """A metric in neither list is ruled by "goal"; a goal matching its list is fine."""
    rules = load_settings(
        {
            "metrics_min": ["loss"],
            "metric_rules": {"auc": {"goal": "Maximize"}, "loss": {"goal": "minimize"}},
        }
    ).policy.rules
    assert [(r.name, r.goal) for r in rules] == [("loss", Goal.MINIMIZE), ("auc", Goal.MAXIMIZE)]


def test_a_rule_without_a_goal_is_an_error() -> None:
    """A rule for a metric that is in neither list and gives no goal cannot decide."""
    [(path, message)] = problems_of({"metric_rules": {"auc": {"min_delta": 0.1}}})
    assert path == "$.metric_rules.auc"
    assert "has a rule but no goal" in message


def test_a_rules_goal_contradicting_its_list_is_an_error() -> None:
    """metrics_max with "goal": "minimize" for the same metric is refused."""
    assert problems_of({"metrics_max": ["auc"], "metric_rules": {"auc": {"goal": "minimize"}}}) == [
        ("$.metric_rules.auc.goal", "goal 'minimize' contradicts the metric's list")
    ]


@pytest.mark.parametrize("aggregate", list(Aggregate))
def test_every_aggregate_is_accepted(aggregate: Aggregate) -> None:
    """aggregate: last, first, max, min, mean (any case)."""
    [rule] = load_settings(
        {"metrics_max": ["auc"], "metric_rules": {"auc": {"aggregate": aggregate.value.upper()}}}
    ).policy.rules
    assert rule.aggregate is aggregate


def test_on_missing_options_are_read_case_insensitively() -> None:
    """on_missing_baseline and on_missing_baseline_metric accept any case."""
    policy = load_settings(
        {"on_missing_baseline": "REJECT", "on_missing_baseline_metric": " Skip "}
    ).policy
    assert policy.on_missing_baseline is OnMissingBaseline.REJECT
    assert policy.on_missing_baseline_metric is OnMissingBaselineMetric.SKIP


def test_require_improvement_defaults_to_true_and_can_be_switched_off() -> None:
    """require_improvement is true unless the file says false."""
    assert load_settings({}).policy.require_improvement is True
    assert load_settings({"require_improvement": False}).policy.require_improvement is False
