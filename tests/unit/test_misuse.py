"""A core that cannot be misused: plausible calls either mean what they say or are refused.

Each test here names a call that once gave a silent wrong verdict or a confusing error.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aml_promotion import (
    Aggregate,
    BaselineStrategy,
    Decision,
    Framework,
    Goal,
    MetricRule,
    OnMissingBaseline,
    OnMissingBaselineMetric,
    PromotionPolicy,
    PromotionResult,
    RetryPolicy,
    Settings,
    Verdict,
    decide,
    load_settings,
    promote,
)
from aml_promotion._domain.policy import BaselineKind
from aml_promotion.exceptions import (
    BaselineNotFoundError,
    SettingsError,
    SettingsWarning,
    UsageError,
)
from aml_promotion.ports import RegistrationRequest, RunRecord, RunStatus
from aml_promotion.testing import InMemoryBackend

# --- item 1: public value types convert or refuse ------------------------------------------------


def test_a_first_model_is_promoted_when_the_policy_says_promote_as_a_string() -> None:
    """on_missing_baseline="promote" is the enum, so a first model (no baseline) is promoted."""
    policy = PromotionPolicy(
        rules=[MetricRule(name="auc", goal="maximize")], on_missing_baseline="promote"
    )
    assert policy.on_missing_baseline is OnMissingBaseline.PROMOTE
    assert decide({"auc": 0.9}, None, policy).verdict == "promote"
    rejecting = attrs.evolve(policy, on_missing_baseline="REJECT")
    assert decide({"auc": 0.9}, None, rejecting).verdict == "reject"


def test_skip_as_a_string_skips_the_missing_baseline_metric() -> None:
    """on_missing_baseline_metric="skip" is honoured, not ignored."""
    policy = PromotionPolicy(
        rules=[
            MetricRule(name="auc", goal="maximize"),
            MetricRule(name="loss", goal="minimize"),
        ],
        on_missing_baseline_metric="skip",
    )
    assert policy.on_missing_baseline_metric is OnMissingBaselineMetric.SKIP
    assert decide({"auc": 0.9, "loss": 0.1}, {"auc": 0.8}, policy).verdict == "promote"


@pytest.mark.parametrize("value", ["false", "true", 0, 1, None, "no"])
def test_a_flag_takes_only_a_bool(value: object) -> None:
    """force="false" is an error naming the field, never a forced registration."""
    with pytest.raises(TypeError, match="force must be True or False"):
        PromotionPolicy(force=value)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="require_improvement must be True or False"):
        PromotionPolicy(require_improvement=value)  # type: ignore[arg-type]


class bool_:  # noqa: N801 - numpy's name, which is how its bools are recognized
    """Stands in for numpy.bool_ (numpy is no dependency): a bool that is no `int`."""

    def __init__(self, value: bool) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return self.value

    def __repr__(self) -> str:
        return f"np.{self.value}"


def test_a_numpy_bool_gets_the_bool_message() -> None:
    """A numpy bool is refused as a flag with advice, and as a threshold as a boolean."""
    with pytest.raises(TypeError, match=r"force must be True or False, not a numpy bool"):
        PromotionPolicy(force=bool_(True))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="min_delta must be a finite number or None, not the bool"):
        MetricRule(name="auc", goal=Goal.MAXIMIZE, min_delta=bool_(True))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "error", "message"),
    [
        ("on_missing_baseline", "skip", ValueError, "must be one of 'promote', 'reject'"),
        ("on_missing_baseline", True, TypeError, "must be a OnMissingBaseline or one of"),
        ("on_missing_baseline_metric", "promote", ValueError, "must be one of 'reject', 'skip'"),
        ("on_missing_baseline_metric", None, TypeError, "on_missing_baseline_metric must be"),
        ("rules", "auc", TypeError, "rules must be a list of MetricRule"),
        ("rules", [{"name": "auc"}], TypeError, r"rules\[0\] must be a MetricRule"),
    ],
)  # fmt: skip
def test_a_policy_refuses_what_is_no_choice(
    field: str, value: object, error: type[Exception], message: str
) -> None:
    """Anything but a member or its value is refused, naming the field and the choices."""
    with pytest.raises(error, match=message):
        PromotionPolicy(**{field: value})


def test_settings_take_a_baseline_and_a_framework_as_strings() -> None:
    """Settings(baseline="latest") is the strategy, not a later AttributeError."""
    settings = Settings(baseline="Tag:stage=prod", model_framework="ScikitLearn")
    assert settings.baseline == BaselineStrategy.tagged("stage", "prod")
    assert settings.model_framework is Framework.SCIKITLEARN
    assert Settings(baseline="latest").baseline == BaselineStrategy.latest()
    with pytest.raises(ValueError, match="expected 'latest'"):
        Settings(baseline="newest")
    with pytest.raises(TypeError, match="baseline must be a BaselineStrategy or a string"):
        Settings(baseline=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="model_framework must be one of 'scikitlearn'"):
        Settings(model_framework="sklearn")
    with pytest.raises(TypeError, match="PromotionPolicy"):
        Settings(policy={"rules": []})  # type: ignore[arg-type]


def test_a_baseline_strategy_kind_is_converted_or_refused() -> None:
    """kind="tag" is the enum; a strategy lacking what its kind needs is refused."""
    assert BaselineStrategy(kind="TAG", tag_key="k", tag_value="v") == BaselineStrategy.tagged(
        "k", "v"
    )
    with pytest.raises(ValueError, match="kind must be one of 'latest', 'tag', 'version'"):
        BaselineStrategy(kind="newest")
    with pytest.raises(ValueError, match="needs version_number"):
        BaselineStrategy(kind=BaselineKind.VERSION)
    with pytest.raises(ValueError, match="takes no tag_key"):
        BaselineStrategy(tag_key="stage")
    with pytest.raises(TypeError, match="version_number must be an int"):
        BaselineStrategy.version("7")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="version_number must be at least 1"):
        BaselineStrategy.version(0)


ENUM_FIELDS: dict[str, type[Any]] = {
    "on_missing_baseline": OnMissingBaseline,
    "on_missing_baseline_metric": OnMissingBaselineMetric,
}

case_variants = st.sampled_from([str.lower, str.upper, str.title, lambda s: f" {s} "])


@given(
    goals=st.lists(st.sampled_from(Goal), min_size=1, max_size=3),
    aggregates=st.lists(st.sampled_from(Aggregate), min_size=3, max_size=3),
    on_missing=st.sampled_from(OnMissingBaseline),
    on_metric=st.sampled_from(OnMissingBaselineMetric),
    force=st.booleans(),
    require=st.booleans(),
    spell=case_variants,
    candidate=st.dictionaries(
        st.sampled_from(["m0", "m1", "m2"]),
        st.floats(-2, 2) | st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=3),
    ),
    baseline=st.none()
    | st.dictionaries(
        st.sampled_from(["m0", "m1", "m2"]),
        st.floats(-2, 2) | st.lists(st.floats(-2, 2, allow_nan=False), min_size=1, max_size=3),
    ),
)
def test_a_policy_built_from_strings_decides_as_the_one_built_from_enums(  # noqa: PLR0917
    goals: list[Goal],
    aggregates: list[Aggregate],
    on_missing: OnMissingBaseline,
    on_metric: OnMissingBaselineMetric,
    force: bool,
    require: bool,
    spell: Any,
    candidate: dict[str, object],
    baseline: dict[str, object] | None,
) -> None:
    """Strings (in any case) and enums are the same policy, so the same decision."""
    rules = [
        MetricRule(name=f"m{i}", goal=goal, aggregate=aggregates[i]) for i, goal in enumerate(goals)
    ]
    from_enums = PromotionPolicy(
        rules=rules,
        force=force,
        require_improvement=require,
        on_missing_baseline=on_missing,
        on_missing_baseline_metric=on_metric,
    )
    from_strings = PromotionPolicy(
        rules=[
            MetricRule(name=r.name, goal=spell(r.goal.value), aggregate=spell(r.aggregate.value))
            for r in rules
        ],
        force=force,
        require_improvement=require,
        on_missing_baseline=spell(on_missing.value),
        on_missing_baseline_metric=spell(on_metric.value),
    )
    assert from_strings == from_enums
    assert decide(candidate, baseline, from_strings) == decide(candidate, baseline, from_enums)


# --- item 2: a pinned baseline that does not exist is an error -----------------------------------


def test_a_missing_pinned_baseline_is_a_settings_error_that_pickles() -> None:
    """BaselineNotFoundError is a SettingsError (exit 2) that carries the model and strategy."""
    import pickle  # noqa: PLC0415

    error = BaselineNotFoundError(model_name="churn", strategy="version:7")
    assert isinstance(error, SettingsError)
    assert "the baseline 'version:7' of model 'churn' does not exist" in str(error)
    again = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (again.model_name, again.strategy, str(again)) == ("churn", "version:7", str(error))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alias:champion", BaselineStrategy.alias("champion")),
        ("ALIAS:@champion", BaselineStrategy.alias("champion")),
        ("stage:Production", BaselineStrategy.stage("Production")),
        ("Stage: Staging ", BaselineStrategy.stage("Staging")),
        ("Latest", BaselineStrategy.latest()),
        ("VERSION:3", BaselineStrategy.version(3)),
    ],
)
def test_alias_and_stage_strategies_parse_and_print(text: str, expected: BaselineStrategy) -> None:
    """alias:NAME and stage:NAME parse (kind in any case) and print back as written."""
    parsed = BaselineStrategy.parse(text)
    assert parsed == expected
    assert BaselineStrategy.parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    ("strategy", "said"),
    [
        (BaselineStrategy.latest(), "churn has no registered version yet"),
        (BaselineStrategy.tagged("stage", "prod"), "no version of churn holds the tag stage=prod"),
        (BaselineStrategy.alias("champion"), "no version of churn holds the alias @champion"),
        (BaselineStrategy.stage("Production"), "no version of churn is in the stage Production"),
        (BaselineStrategy.version(7), "churn has no version 7"),
    ],
)
def test_a_strategy_says_what_it_looked_for(strategy: BaselineStrategy, said: str) -> None:
    """The decision's summary says what was looked for when nothing was found."""
    assert strategy.describe_missing("churn") == said
    policy = PromotionPolicy(rules=[MetricRule(name="auc", goal="maximize")])
    decision = decide({"auc": 0.9}, None, policy, no_baseline=strategy.describe_missing("churn"))
    assert decision.summary == (
        f"no baseline to compare with ({said}), and on_missing_baseline is 'promote'"
    )


def test_alias_and_stage_settings_load() -> None:
    """A settings file's "baseline": "alias:champion" is the alias strategy."""
    assert load_settings({"baseline": "alias:champion"}).baseline == BaselineStrategy.alias(
        "champion"
    )
    assert load_settings({"baseline": "stage:Production"}).baseline.kind is BaselineKind.STAGE
    assert load_settings({"baseline": "Latest"}).baseline == BaselineStrategy.latest()


# --- item 6: notebook ergonomics ---------------------------------------------------------------


def test_decide_given_settings_points_at_settings_policy() -> None:
    """decide(c, b, settings) is a TypeError that says to pass settings.policy."""
    settings = load_settings({"metrics_max": ["auc"]})
    with pytest.raises(TypeError, match=r"not Settings: pass settings.policy"):
        decide({"auc": 0.9}, None, settings)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"takes a PromotionPolicy as policy, not dict$"):
        decide({"auc": 0.9}, None, {"rules": []})  # type: ignore[arg-type]


def test_a_verdict_is_a_string() -> None:
    """Verdict.PROMOTE == "promote", and it prints and formats as its value on every Python."""
    assert Verdict.PROMOTE == "promote"
    assert str(Verdict.REJECT) == "reject"
    assert f"{Verdict.FORCE:>6}" == " force"
    assert Verdict("promote") is Verdict.PROMOTE


def test_a_decision_round_trips_through_json() -> None:
    """Decision.from_json(d.to_json()) == d, with ±inf, skipped checks and a forced policy."""
    policy = PromotionPolicy(
        rules=[
            MetricRule(name="auc", goal="maximize", min_relative_delta=0.01, at_least=0.5),
            MetricRule(name="loss", goal="minimize", aggregate="mean", dataset="test"),
            MetricRule(name="f1", goal="maximize"),
        ],
        force=True,
        on_missing_baseline_metric="skip",
    )
    decision = decide(
        {"auc": 0.9, "loss": [0.2, 0.3], "f1": "bad"},
        {"auc": 0.0, "f1": 0.4},
        policy,
        candidate_label="run 1",
        baseline_label="churn:1",
    ).with_note("a note")
    assert Decision.from_json(decision.to_json()) == decision
    assert Decision.from_dict(decision.to_dict()) == decision
    assert Decision.from_json(decision.to_json(indent=2)).comparisons[0].relative_delta == math.inf


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("verdict"), "'verdict' is missing"),
        (lambda d: d.update(verdict="maybe"), "verdict must be one of"),
        (lambda d: d.update(comparisons={}), "'comparisons' must be a list"),
        (lambda d: d["comparisons"][0].update(delta="big"), "'delta' must be a number"),
        (lambda d: d["comparisons"][0].update(improved="yes"), "'improved' must be a bool"),
        (lambda d: d["policy"].update(force="false"), "force must be True or False"),
        (lambda d: d["policy"].update(rules=["auc"]), "'rules' must be a list of objects"),
        (lambda d: d.update(notes=[1]), "'notes' must be a list of strings"),
    ],
)
def test_a_decision_record_of_the_wrong_shape_is_a_value_error(change: Any, message: str) -> None:
    """from_dict names the key that is wrong, as a ValueError."""
    policy = PromotionPolicy(rules=[MetricRule(name="auc", goal="maximize")])
    data = decide({"auc": 0.9}, {"auc": 0.8}, policy).to_dict()
    change(data)
    with pytest.raises(ValueError, match=message):
        Decision.from_dict(data)


def _noisy_decision() -> Decision:
    settings = {
        "metrics_max": ["auc"],
        "metric_rules": {"auc": {"significance": {"alpha": 0.1}}},
        "evaluation_data": {"context": "eval", "on_mismatch": "warn"},
    }
    return decide(
        {"auc": [0.90, 0.91, 0.92, 0.93, 0.94]},
        {"auc": [0.80, 0.81, 0.82, 0.83, 0.84]},
        load_settings(settings).policy,
        candidate_data={"test": "sha256:1a2b"},
        baseline_data={"test": None},
    )


def test_a_decision_with_significance_and_evaluation_data_round_trips() -> None:
    """The test's method, n, p and alpha, and what each side was evaluated on, come back."""
    decision = _noisy_decision()
    back = Decision.from_json(decision.to_json())
    assert back == decision
    assert back.comparisons[0].p_value == decision.comparisons[0].p_value
    assert back.comparisons[0].method is decision.comparisons[0].method
    assert back.baseline_data == {"test": None}
    assert back.policy.evaluation_data == decision.policy.evaluation_data
    unknown = decision.to_dict()
    unknown["evaluation_data"]["candidate"] = None  # type: ignore[index]
    assert Decision.from_dict(unknown).candidate_data is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["policy"]["rules"][0].update(significance=0.1), "'significance' must be"),
        (lambda d: d["policy"].update(evaluation_data="eval"), "'evaluation_data' must be"),
        (lambda d: d["evaluation_data"].update(candidate={"test": 1}), "must map dataset names"),
    ],
)
def test_a_noisy_decision_record_of_the_wrong_shape_is_a_value_error(
    change: Any, message: str
) -> None:
    """Significance and evaluation data of the wrong shape are named, as ValueErrors."""
    data = _noisy_decision().to_dict()
    change(data)
    with pytest.raises(ValueError, match=message):
        Decision.from_dict(data)


def test_from_json_refuses_a_document_that_is_no_object() -> None:
    """A JSON list is not a decision."""
    with pytest.raises(ValueError, match="expected a JSON object, not list"):
        Decision.from_json("[]")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"backend": "azureml"}, "backend must be a backend object with .runs and .registry"),
        ({"model_path": "m.pkl", "metrics": [("auc", 0.9)]}, "metrics must be a mapping"),
        ({"dry_run": "false"}, "dry_run must be True or False, not str 'false'"),
        ({"dry_run": None}, "dry_run must be True or False"),
    ],
)
def test_promote_refuses_arguments_of_the_wrong_kind(
    backend: InMemoryBackend, arguments: dict[str, Any], message: str
) -> None:
    """backend="azureml", metrics=[...], dry_run="false": TypeErrors saying what is expected."""
    call: dict[str, Any] = {"settings": {"model_name": "churn"}, "backend": backend, **arguments}
    with pytest.raises(TypeError, match=message):
        promote(**call)
    assert backend.calls == []


@pytest.mark.parametrize("path", ["", "  "])
def test_an_empty_model_path_is_refused_not_the_working_directory(
    backend: InMemoryBackend, path: str
) -> None:
    """model_path="" would name the working directory: a UsageError, nothing registered."""
    with pytest.raises(UsageError, match="model_path is empty"):
        promote(settings={"model_name": "churn"}, backend=backend, model_path=path)
    assert backend.registry.requests == []


def test_a_local_model_path_expands_the_home_folder(
    backend: InMemoryBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """model_path="~/model.pkl" is the file in the home folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "model.pkl").write_bytes(b"model")
    result = promote(settings={"model_name": "churn"}, backend=backend, model_path="~/model.pkl")
    assert result.model is not None
    assert backend.registry.requests[0].model_path == str(tmp_path / "model.pkl")


def test_a_result_says_whether_the_candidate_was_promoted(backend: InMemoryBackend) -> None:
    """result.promoted, and an HTML rendering for notebooks that says what was registered."""
    backend.runs.add_run("r1", experiment_name="e", metrics={"auc": 0.9}, files=["model.pkl"])
    backend.runs.add_run("r2", experiment_name="e", metrics={"auc": 0.8}, files=["model.pkl"])
    settings = {"model_name": "churn", "metrics_max": ["auc"]}
    first = promote(settings=settings, backend=backend, experiment_name="e", run_id="r1")
    worse = promote(settings=settings, backend=backend, experiment_name="e", run_id="r2")
    again = promote(settings=settings, backend=backend, experiment_name="e", run_id="r1")
    assert (first.promoted, worse.promoted, again.promoted) == (True, False, True)
    assert first.to_dict()["promoted"] is True
    assert "registered <strong>churn:1</strong>" in first._repr_html_()
    assert ">PROMOTE</span>" in first._repr_html_()
    assert ">REJECT</span>" in worse._repr_html_()
    assert "already registered" in again._repr_html_()
    # The plain repr is short: a line, not the whole record.
    assert len(repr(first)) < 300
    assert "PROMOTE" in str(first)


def test_dir_of_the_package_lists_the_public_names_only() -> None:
    """dir(aml_promotion) is __all__ and __version__, whatever was imported before."""
    import aml_promotion  # noqa: PLC0415

    _ = aml_promotion.promote  # a lazy import puts names in the module's globals
    assert dir(aml_promotion) == sorted({*aml_promotion.__all__, "__version__"})


def test_an_unknown_key_warning_points_at_the_callers_line(backend: InMemoryBackend) -> None:
    """The SettingsWarning names this file, whether from load_settings() or from promote()."""
    with pytest.warns(SettingsWarning) as caught:
        load_settings({"model_name": "churn", "webservice_name": "svc"})
    assert caught[0].filename == __file__
    with pytest.warns(SettingsWarning) as caught:
        promote(
            settings={"model_name": "churn", "webservice_name": "svc"},
            backend=backend,
            model_path=__file__,
            dry_run=True,
        )
    assert caught[0].filename == __file__


def test_a_table_shows_enough_digits_to_tell_the_values_apart() -> None:
    """0.91234564 vs 0.91234561 differ in the table, not both "0.912346"."""
    policy = PromotionPolicy(rules=[MetricRule(name="auc", goal="maximize")])
    decision = decide({"auc": 0.91234564}, {"auc": 0.91234561}, policy)
    row = decision.to_markdown().splitlines()[-1]
    assert "| 0.91234564 | 0.91234561 |" in row
    assert "<td>0.91234564</td><td>0.91234561</td>" in decision._repr_html_()
    same = decide({"auc": 0.5}, {"auc": 0.5}, policy).to_markdown().splitlines()[-1]
    assert "| 0.5 | 0.5 |" in same


@pytest.mark.parametrize(
    ("field", "value"), [("attempts", True), ("attempts", "5"), ("timeout", None)]
)
def test_a_retry_policy_takes_numbers_only(field: str, value: object) -> None:
    """RetryPolicy(attempts=True) is no 1 attempt, and "5" is refused naming the field."""
    with pytest.raises(TypeError, match=f"{field} must be a number"):
        RetryPolicy(**{field: value})


def test_the_command_line_exits_2_on_a_pinned_baseline_that_does_not_exist(
    tmp_path: Path, backend: InMemoryBackend
) -> None:
    """aml-promote with "baseline": "version:7" and no version 7: exit 2, nothing registered."""
    import io  # noqa: PLC0415

    from aml_promotion._cli import ExitCode, run  # noqa: PLC0415

    folder = tmp_path / ".cloud" / ".azure"
    folder.mkdir(parents=True)
    settings = {"model_name": "churn", "metrics_max": ["auc"], "baseline": "version:7"}
    (folder / "registermodel.json").write_text(json.dumps(settings), encoding="utf-8")
    backend.registry.add_version("churn")
    run_id = backend.runs.add_run(metrics={"auc": 0.5}, files=["outputs/model.pkl"]).run_id
    stderr = io.StringIO()
    code = run(
        ["--experiment-name", "default", "--run-id", run_id],
        environ={},
        stdout=io.StringIO(),
        stderr=stderr,
        cwd=tmp_path,
        backend_factory=lambda _args: backend,
    )
    assert code == ExitCode.BAD_INPUT == 2
    assert "the baseline 'version:7' of model 'churn' does not exist" in stderr.getvalue()
    assert backend.registry.requests == []


def test_port_values_convert_their_choices_and_refuse_the_rest() -> None:
    """RunRecord(status="completed"), RegistrationRequest(framework="ONNX"); flags are bools."""
    assert RunRecord(run_id="r", status="completed").status is RunStatus.COMPLETED
    assert RegistrationRequest(name="m", model_path="p", framework="ONNX").framework is (
        Framework.ONNX
    )
    with pytest.raises(ValueError, match="status must be one of 'Completed', 'Running'"):
        RunRecord(run_id="r", status="done")
    with pytest.raises(TypeError, match="is_current must be True or False"):
        RunRecord(run_id="r", is_current="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="framework must be one of 'scikitlearn'"):
        RegistrationRequest(name="m", model_path="p", framework="sklearn")
    policy = PromotionPolicy()
    decision = decide({}, None, policy)
    with pytest.raises(TypeError, match="dry_run must be True or False"):
        PromotionResult(decision=decision, model=None, baseline=None, dry_run="false")  # type: ignore[arg-type]
