"""promote() against the public in-memory fakes: resolve, decide, register, fail closed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aml_promotion import (
    Framework,
    PromotionResult,
    Settings,
    Verdict,
    load_settings,
    promote,
)
from aml_promotion.exceptions import (
    BaselineNotFoundError,
    ModelFileError,
    PromotionError,
    RegistryError,
    RunNotFoundError,
    RunStateError,
    SettingsError,
    TransientRegistryError,
    UsageError,
)
from aml_promotion.ports import ModelVersion, RunRecord, RunStatus
from aml_promotion.testing import InMemoryBackend, InMemoryRunStore

NAME = "churn"
SETTINGS: dict[str, Any] = {"model_name": NAME, "metrics_max": ["auc"]}


def add_run(
    backend: InMemoryBackend,
    run_id: str,
    metrics: dict[str, object],
    files: tuple[str, ...] = ("outputs/model.pkl",),
    **options: Any,
) -> None:
    backend.runs.add_run(
        run_id, experiment_name="train", metrics=metrics, files=list(files), **options
    )


def add_baseline(
    backend: InMemoryBackend, metrics: dict[str, object], run_id: str = "base", **options: Any
) -> ModelVersion:
    """A registered version of NAME, from a run holding `metrics`."""
    add_run(backend, run_id, metrics)
    return backend.registry.add_version(NAME, run_id=run_id, experiment_name="train", **options)


def run_promote(
    backend: InMemoryBackend, run_id: str = "cand", settings: Any = None, **options: Any
) -> PromotionResult:
    return promote(
        experiment_name="train",
        run_id=run_id,
        settings=SETTINGS if settings is None else settings,
        backend=backend,
        **options,
    )


# --- Run mode -----------------------------------------------------------------------------------


def test_a_better_run_is_registered_and_the_version_returned(backend: InMemoryBackend) -> None:
    """A candidate better than the latest version is registered; the result names the version."""
    baseline = add_baseline(backend, {"auc": 0.80})
    add_run(backend, "cand", {"auc": 0.85})
    result = run_promote(backend)
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.model is not None
    assert (result.model.name, result.model.version, result.model.id) == (NAME, 2, "churn:2")
    assert result.model.run_id == "cand"
    assert result.baseline == baseline
    assert result.registered
    assert result.candidate_run is not None
    assert result.candidate_run.run_id == "cand"
    assert result.model_path == "outputs/model.pkl"
    assert result.decision.candidate == "run cand in experiment train"
    assert result.decision.baseline == "churn:1 (run base)"


def test_the_first_model_of_a_name_is_registered(backend: InMemoryBackend) -> None:
    """No version of the name yet: the candidate is registered (on_missing_baseline promote)."""
    add_run(backend, "cand", {"auc": 0.5})
    result = run_promote(backend)
    assert result.model is not None
    assert result.model.version == 1
    assert result.baseline is None
    assert result.model.tags["promotion.baseline_version"] == "none"


@pytest.mark.parametrize("auc", [0.79, 0.80])
def test_a_worse_or_equal_run_is_not_registered(backend: InMemoryBackend, auc: float) -> None:
    """Worse, or merely equal: REJECT, and nothing is registered."""
    add_baseline(backend, {"auc": 0.80})
    add_run(backend, "cand", {"auc": auc})
    result = run_promote(backend)
    assert result.decision.verdict is Verdict.REJECT
    assert result.model is None
    assert not result.registered
    assert "register" not in backend.operations()
    assert len(backend.registry.versions[NAME]) == 1


def test_force_registers_a_worse_run_and_records_the_checks(backend: InMemoryBackend) -> None:
    """force_registration: FORCE, registered, tagged as forced, with its failed comparison."""
    add_baseline(backend, {"auc": 0.80})
    add_run(backend, "cand", {"auc": 0.70})
    result = run_promote(backend, settings={**SETTINGS, "force_registration": True})
    assert result.decision.verdict is Verdict.FORCE
    assert result.model is not None
    assert result.model.tags["promotion.verdict"] == "force"
    assert result.decision.comparisons[0].passed is False


def test_a_missing_metric_suggests_what_the_run_logged(backend: InMemoryBackend) -> None:
    """A metric the run does not have rejects, naming a close match among all it logged."""
    add_baseline(backend, {"auc": 0.80})
    add_run(backend, "cand", {"AUC": 0.9, "loss": 0.1})
    result = run_promote(backend)
    assert result.decision.verdict is Verdict.REJECT
    assert result.decision.summary == "auc: missing from the candidate (did you mean 'AUC'?)"


def test_only_the_policys_metrics_are_fetched(backend: InMemoryBackend) -> None:
    """The runs log many metrics; only the rules' are asked for, series only when aggregated."""
    many = {f"metric_{i}": float(i) for i in range(40)}
    add_baseline(backend, {**many, "auc": 0.8, "loss": [0.5, 0.4]})
    add_run(backend, "cand", {**many, "auc": 0.9, "loss": [0.6, 0.3]})
    settings = {
        **SETTINGS,
        "metrics_min": ["loss"],
        "metric_rules": {"loss": {"aggregate": "min"}},
    }
    result = run_promote(backend, settings=settings)
    assert [call for call in backend.calls if call[0] == "get_metrics"] == [
        ("get_metrics", "cand", ("auc", "loss"), ("loss",)),
        ("get_metrics", "base", ("auc", "loss"), ("loss",)),
    ]
    assert [c.candidate for c in result.decision.comparisons] == [0.9, 0.3]


def test_a_policy_without_rules_fetches_no_metric(backend: InMemoryBackend) -> None:
    """No rules: no metric is read at all (the seed read every metric of both runs)."""
    add_run(backend, "cand", {"auc": 0.9})
    run_promote(backend, settings={"model_name": NAME})
    assert "get_metrics" not in backend.operations()


def test_the_registration_carries_every_setting_and_the_decision_tags(
    backend: InMemoryBackend,
) -> None:
    """Framework, tags, properties, description, datasets, samples and resources all reach it."""
    add_baseline(backend, {"auc": 0.8})
    add_run(backend, "cand", {"auc": 0.9})
    settings = {
        **SETTINGS,
        "model_framework": "onnx",
        "model_framework_version": "1.15",
        "model_tags": {"team": "ds", "promotion.verdict": "spoofed"},
        "model_properties": {"commit": "abc123"},
        "model_description": "churn model",
        "datasets": ["train-set"],
        "sample_input_dataset": "in-set",
        "sample_output_dataset": "out-set",
        "cpu_cores": 1,
        "memory_gb": 2.5,
    }
    result = run_promote(backend, settings=settings)
    [request] = backend.registry.requests
    assert request.name == NAME
    assert request.model_path == "outputs/model.pkl"
    assert request.run is not None
    assert request.run.run_id == "cand"
    assert request.framework is Framework.ONNX
    assert request.framework_version == "1.15"
    assert request.properties == {"commit": "abc123"}
    assert request.description == "churn model"
    assert request.datasets == ("train-set",)
    assert (request.sample_input_dataset, request.sample_output_dataset) == ("in-set", "out-set")
    assert (request.cpu_cores, request.memory_gb) == (1.0, 2.5)
    assert request.tags["team"] == "ds"
    # The decision's own tags win over a user tag of the same key.
    assert request.tags["promotion.verdict"] == "promote"
    assert request.tags["promotion.baseline_version"] == "1"
    assert request.tags["promotion.metric.auc"] == "0.9"
    assert float(request.tags["promotion.delta.auc"]) == pytest.approx(0.1)
    assert result.model is not None
    assert result.model.tags == request.tags


def test_the_decision_tags_are_short_and_namespaced(backend: InMemoryBackend) -> None:
    """Every tag the decision writes is under "promotion." and short."""
    add_baseline(backend, {"auc": 0.8, "val loss (%)": 3.0})
    add_run(backend, "cand", {"auc": 0.9, "val loss (%)": 2.0})
    result = run_promote(backend, settings={**SETTINGS, "metrics_min": ["val loss (%)"]})
    assert result.model is not None
    written = {k: v for k, v in result.model.tags.items() if k.startswith("promotion.")}
    assert written["promotion.metric.val loss ___"] == "2"
    assert all(len(key) < 64 and len(value) < 32 for key, value in written.items())


# --- Current-run mode, pipelines, HyperDrive ----------------------------------------------------


def test_the_current_run_is_the_candidate_when_none_is_named(backend: InMemoryBackend) -> None:
    """Without experiment_name and run_id, the backend's current run is used, even running."""
    add_run(backend, "me", {"auc": 0.9}, status=RunStatus.RUNNING)
    backend.runs.current_run_id = "me"
    result = promote(settings=SETTINGS, backend=backend)
    assert result.candidate_run is not None
    assert result.candidate_run.run_id == "me"
    assert result.candidate_run.is_current
    assert result.model is not None


def test_without_a_current_run_a_run_must_be_named(backend: InMemoryBackend) -> None:
    """No run named and no current run: RunNotFoundError."""
    with pytest.raises(RunNotFoundError, match="no current run"):
        promote(settings=SETTINGS, backend=backend)


def test_a_run_checked_against_another_experiment_is_not_found(backend: InMemoryBackend) -> None:
    """experiment_name is checked: a run of another experiment is RunNotFoundError."""
    add_run(backend, "cand", {"auc": 0.9})
    with pytest.raises(RunNotFoundError, match="not 'other'"):
        promote(experiment_name="other", run_id="cand", settings=SETTINGS, backend=backend)


def test_a_missing_run_is_not_found(backend: InMemoryBackend) -> None:
    """An unknown run id: RunNotFoundError, a LookupError."""
    with pytest.raises(RunNotFoundError) as info:
        run_promote(backend, run_id="nope")
    assert isinstance(info.value, LookupError)
    assert info.value.run_id == "nope"


def test_a_pipeline_run_resolves_to_its_model_training_step(backend: InMemoryBackend) -> None:
    """A pipeline's candidate is the step named pipeline_child_run_name (default model_training)."""
    add_run(backend, "step", {"auc": 0.9})
    add_run(backend, "pipe", {}, files=(), steps={"model_training": "step", "prep": "p"})
    result = run_promote(backend, run_id="pipe")
    assert result.candidate_run is not None
    assert result.candidate_run.run_id == "step"
    assert result.model is not None
    assert result.model.run_id == "step"


def test_a_pipeline_step_is_found_by_the_configured_name(backend: InMemoryBackend) -> None:
    """pipeline_child_run_name picks the step; a name no step has is RunNotFoundError."""
    add_run(backend, "step", {"auc": 0.9})
    add_run(backend, "pipe", {}, files=(), steps={"model training step": "step"})
    settings = {**SETTINGS, "pipeline_child_run_name": "model training step"}
    assert run_promote(backend, run_id="pipe", settings=settings).model is not None
    with pytest.raises(RunNotFoundError, match="its steps are: model training step"):
        run_promote(backend, run_id="pipe")


def test_a_hyperdrive_run_resolves_to_its_best_child(backend: InMemoryBackend) -> None:
    """A HyperDrive parent's candidate is its best child."""
    add_run(backend, "best", {"auc": 0.9})
    add_run(backend, "hd", {}, files=(), is_hyperdrive=True, best_child="best")
    result = run_promote(backend, run_id="hd")
    assert result.candidate_run is not None
    assert result.candidate_run.run_id == "best"


# --- Run state, model files ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [RunStatus.FAILED, RunStatus.CANCELED, RunStatus.RUNNING])
def test_a_run_that_did_not_complete_is_refused(
    backend: InMemoryBackend, status: RunStatus
) -> None:
    """A failed, canceled or (not current) running run: RunStateError, nothing registered."""
    add_run(backend, "cand", {"auc": 0.9}, status=status)
    with pytest.raises(RunStateError) as info:
        run_promote(backend)
    assert (info.value.run_id, info.value.status) == ("cand", status.value)
    assert "register" not in backend.operations()


def test_a_run_that_did_not_complete_is_registered_when_forced(backend: InMemoryBackend) -> None:
    """force_registration overrides the run state check."""
    add_run(backend, "cand", {"auc": 0.9}, status="Failed")
    result = run_promote(backend, settings={**SETTINGS, "force_registration": True})
    assert result.decision.verdict is Verdict.FORCE
    assert result.model is not None


def test_no_matching_model_file_is_an_error_listing_the_runs_files(
    backend: InMemoryBackend,
) -> None:
    """model_file_name not among the run's files: ModelFileError, nothing registered."""
    add_run(backend, "cand", {"auc": 0.9}, files=("outputs/model.onnx",))
    with pytest.raises(ModelFileError, match=r"'outputs/model\.onnx'"):
        run_promote(backend)
    assert "register" not in backend.operations()


def test_several_matching_model_files_are_an_error(backend: InMemoryBackend) -> None:
    """Two files named model.pkl: ModelFileError naming both."""
    add_run(backend, "cand", {"auc": 0.9}, files=("a/model.pkl", "b/model.pkl"))
    with pytest.raises(ModelFileError) as info:
        run_promote(backend)
    assert info.value.matches == ("a/model.pkl", "b/model.pkl")


def test_a_model_folder_is_registered_as_a_folder(backend: InMemoryBackend) -> None:
    """model_file_name "outputs/model/" registers the folder."""
    add_run(backend, "cand", {"auc": 0.9}, files=("outputs/model/saved_model.pb", "x.txt"))
    result = run_promote(backend, settings={**SETTINGS, "model_file_name": "outputs/model/"})
    assert result.model_path == "outputs/model"
    assert backend.registry.requests[0].model_path == "outputs/model"


# --- Dry run and idempotency --------------------------------------------------------------------


def test_a_dry_run_decides_but_registers_nothing(backend: InMemoryBackend) -> None:
    """dry_run: the full decision, no registration and no tag written; it says so."""
    add_baseline(backend, {"auc": 0.8})
    add_run(backend, "cand", {"auc": 0.9})
    result = run_promote(backend, dry_run=True)
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.dry_run
    assert result.model is None
    assert result.decision.notes == ("dry run: nothing registered",)
    assert not {"register", "set_tags", "remove_tags"} & set(backend.operations())


def test_a_dry_run_of_a_rejected_candidate_says_so_too(backend: InMemoryBackend) -> None:
    """dry_run with a REJECT: the same note, the same empty result."""
    add_baseline(backend, {"auc": 0.8})
    add_run(backend, "cand", {"auc": 0.7})
    result = run_promote(backend, dry_run=True)
    assert result.decision.verdict is Verdict.REJECT
    assert result.decision.notes == ("dry run: nothing registered",)


def test_a_rerun_returns_the_version_already_registered_from_the_run(
    backend: InMemoryBackend,
) -> None:
    """Promoting the same run twice registers once; the second call returns that version."""
    add_baseline(backend, {"auc": 0.8})
    add_run(backend, "cand", {"auc": 0.9})
    first = run_promote(backend)
    again = run_promote(backend)
    assert again.model == first.model
    assert again.already_registered
    assert not again.registered
    assert backend.operations().count("register") == 1
    assert len(backend.registry.versions[NAME]) == 2
    assert "already registered from run cand as version 2" in again.decision.notes[0]


def test_a_rerun_compares_with_the_first_runs_baseline_not_with_itself(
    backend: InMemoryBackend,
) -> None:
    """On a re-run the baseline is the one recorded at registration, never the version itself."""
    add_baseline(backend, {"auc": 0.8})
    add_run(backend, "cand", {"auc": 0.9})
    run_promote(backend)
    again = run_promote(backend)
    assert again.baseline is not None
    assert again.baseline.version == 1
    assert again.decision.verdict is Verdict.PROMOTE


def test_a_rerun_whose_recorded_baseline_was_deleted_still_reports_the_registration(
    backend: InMemoryBackend,
) -> None:
    """The version compared with first is gone: a re-run is no BaselineNotFoundError."""
    add_run(backend, "first", {"auc": 0.5})
    add_run(backend, "cand", {"auc": 0.6})
    run_promote(backend, "first")
    registered = run_promote(backend)
    assert registered.model is not None
    assert registered.model.tags["promotion.baseline_version"] == "1"
    del backend.registry.versions[NAME][0]  # version 1, deleted by hand
    again = run_promote(backend)
    assert again.already_registered
    assert again.baseline is None
    assert again.model == registered.model


def test_a_rerun_of_a_first_model_has_no_baseline(backend: InMemoryBackend) -> None:
    """A first registration recorded "no baseline"; its re-run has none either."""
    add_run(backend, "cand", {"auc": 0.9})
    run_promote(backend)
    again = run_promote(backend)
    assert again.baseline is None
    assert again.already_registered


def test_a_dry_rerun_reports_the_earlier_registration_without_returning_it(
    backend: InMemoryBackend,
) -> None:
    """dry_run on a registered run: already_registered, and no model returned."""
    add_run(backend, "cand", {"auc": 0.9})
    run_promote(backend)
    again = run_promote(backend, dry_run=True)
    assert again.already_registered
    assert again.model is None


# --- Baselines ----------------------------------------------------------------------------------


@pytest.fixture
def three_versions(backend: InMemoryBackend) -> InMemoryBackend:
    """Versions 1 (auc 0.7, production), 2 (auc 0.95, production) and 3 (auc 0.75)."""
    add_baseline(backend, {"auc": 0.70}, run_id="r1", tags={"stage": "production"})
    add_baseline(backend, {"auc": 0.95}, run_id="r2", tags={"stage": "production"})
    add_baseline(backend, {"auc": 0.75}, run_id="r3")
    add_run(backend, "cand", {"auc": 0.9})
    return backend


@pytest.mark.parametrize(
    ("strategy", "version", "verdict"),
    [
        ("latest", 3, Verdict.PROMOTE),
        ("tag:stage=production", 2, Verdict.REJECT),
        ("version:1", 1, Verdict.PROMOTE),
    ],
)
def test_the_baseline_is_chosen_by_the_strategy(
    three_versions: InMemoryBackend, strategy: str, version: int, verdict: Verdict
) -> None:
    """latest: the highest version; tag:KEY=VALUE: the highest holding it; version:N: that one."""
    result = run_promote(three_versions, settings={**SETTINGS, "baseline": strategy}, dry_run=True)
    assert result.baseline is not None
    assert result.baseline.version == version
    assert result.decision.verdict is verdict
    # A champion tag's holders are all read: the best-ranked promoted one is the baseline.
    looked_up = (
        ("find_tagged", NAME, "stage", "production")
        if strategy.startswith("tag:")
        else ("find_baseline", NAME, strategy)
    )
    assert looked_up in three_versions.calls


def test_a_tag_that_no_version_holds_means_no_baseline_and_says_what_was_looked_for(
    three_versions: InMemoryBackend,
) -> None:
    """No holder: no baseline, so on_missing_baseline decides; the summary names the tag."""
    settings = {**SETTINGS, "baseline": "tag:stage=canary"}
    result = run_promote(three_versions, settings=settings, dry_run=True)
    assert result.baseline is None
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.decision.summary == (
        "no baseline to compare with (no version of churn holds the tag stage=canary), "
        "and on_missing_baseline is 'promote'"
    )


def test_a_pinned_version_that_does_not_exist_is_an_error_not_no_baseline(
    three_versions: InMemoryBackend,
) -> None:
    """version:9 of a model with 3 versions: BaselineNotFoundError, a SettingsError; no register."""
    settings = {**SETTINGS, "baseline": "version:9"}
    with pytest.raises(BaselineNotFoundError, match="'version:9' of model 'churn' does not exist"):
        run_promote(three_versions, settings=settings)
    with pytest.raises(SettingsError) as info:
        run_promote(three_versions, settings=settings)
    assert info.value.problems[0].path == "$.baseline"
    assert isinstance(info.value, BaselineNotFoundError)
    assert info.value.model_name == "churn"
    assert info.value.strategy == "version:9"
    assert "register" not in three_versions.operations()


def test_a_stage_on_the_in_memory_registry_is_a_settings_error(
    three_versions: InMemoryBackend,
) -> None:
    """The in-memory registry has no stages: it says so, never picks "latest"."""
    with pytest.raises(SettingsError, match=r"the in-memory backend has no model stages, so"):
        run_promote(three_versions, settings={**SETTINGS, "baseline": "stage:Production"})


def test_the_baseline_version_tag_says_none_when_the_decision_had_no_baseline(
    backend: InMemoryBackend,
) -> None:
    """A version passed over (no linked run) is not recorded as the baseline compared with."""
    backend.registry.add_version(NAME)
    add_run(backend, "cand", {"auc": 0.5})
    result = run_promote(backend)
    assert result.model is not None
    assert result.model.tags["promotion.baseline_version"] == "none"


def test_a_baseline_without_a_linked_run_counts_as_no_baseline(backend: InMemoryBackend) -> None:
    """Registered by hand (no run, no recorded metrics): passed over, and the summary says so."""
    backend.registry.add_version(NAME)
    add_run(backend, "cand", {"auc": 0.5})
    result = run_promote(backend, dry_run=True)
    assert result.baseline is None
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.decision.baseline is None
    assert "version 1 of churn was passed over" in result.decision.summary
    assert "no linked run and no metrics recorded" in result.decision.summary
    assert result.decision.comparisons[0].baseline is None
    strict = run_promote(backend, settings={**SETTINGS, "on_missing_baseline": "reject"})
    assert strict.decision.verdict is Verdict.REJECT
    assert strict.model is None


def test_a_baseline_whose_run_is_gone_fails_closed(backend: InMemoryBackend) -> None:
    """The baseline's run cannot be read: RunNotFoundError, never "no baseline"."""
    backend.registry.add_version(NAME, run_id="deleted-run")
    add_run(backend, "cand", {"auc": 0.9})
    with pytest.raises(RunNotFoundError, match="behind the baseline churn:1") as caught:
        run_promote(backend)
    assert caught.value.run_id == "deleted-run"
    assert "register" not in backend.operations()


class _BaselineRuns(InMemoryRunStore):
    """A run store with the cheaper read of a registered version's run (`BaselineRunStore`)."""

    def __init__(self, store: InMemoryRunStore) -> None:
        self.__dict__.update(store.__dict__)
        self.baseline_reads: list[str] = []

    def get_baseline_run(self, run_id: str) -> RunRecord:
        self.baseline_reads.append(run_id)
        if run_id not in self.runs:
            raise RunNotFoundError(f"no run {run_id!r}", run_id=run_id)
        return RunRecord(run_id=run_id, status=RunStatus.COMPLETED)


@pytest.mark.parametrize("gone", [False, True])
def test_a_store_that_reads_baseline_runs_cheaply_is_asked_for_a_promoted_baseline(
    backend: InMemoryBackend, gone: bool
) -> None:
    """`BaselineRunStore`: a promoted baseline's run through it, once; gone fails closed."""
    runs = _BaselineRuns(backend.runs)
    backend.runs = runs
    backend.registry.add_version(NAME, run_id="base", tags={"promotion.verdict": "promote"})
    if not gone:
        add_run(backend, "base", {"auc": 0.8}, inputs={"eval": {"test-set": "1"}})
    add_run(backend, "cand", {"auc": 0.9}, inputs={"eval": {"test-set": "1"}})
    settings = {**SETTINGS, "evaluation_data": {"context": "eval"}}
    if gone:
        with pytest.raises(RunNotFoundError, match="behind the baseline churn:1"):
            run_promote(backend, settings=settings, dry_run=True)
    else:
        result = run_promote(backend, settings=settings, dry_run=True)
        assert result.decision.verdict is Verdict.PROMOTE
        assert result.decision.comparisons[0].baseline == 0.8
    assert runs.baseline_reads == ["base"]
    assert [c[2] for c in backend.calls if c[0] == "get_run"] == ["cand"]


def test_a_baseline_registered_otherwise_is_read_with_get_run(backend: InMemoryBackend) -> None:
    """No decision tags: its run may be a pipeline or sweep to resolve, so `get_run` reads it."""
    runs = _BaselineRuns(backend.runs)
    backend.runs = runs
    backend.registry.add_version(NAME, run_id="base")
    add_run(backend, "base", {"auc": 0.8})
    add_run(backend, "cand", {"auc": 0.9})
    assert run_promote(backend, dry_run=True).decision.comparisons[0].baseline == 0.8
    assert runs.baseline_reads == []
    assert [c[2] for c in backend.calls if c[0] == "get_run"] == ["cand", "base"]


def test_forcing_registers_past_a_baseline_whose_run_is_gone(backend: InMemoryBackend) -> None:
    """force_registration wins (DESIGN.md §3, step 1): the missing baseline metrics are recorded."""
    backend.registry.add_version(NAME, run_id="deleted-run")
    add_run(backend, "cand", {"auc": 0.9})
    result = run_promote(backend, settings={**SETTINGS, "force_registration": True})
    assert result.decision.verdict is Verdict.FORCE
    assert result.model is not None
    assert result.decision.comparisons[0].baseline is None


@pytest.mark.parametrize(
    "operation",
    ["get_run", "get_metrics", "list_files", "find_by_run", "find_baseline", "register"],
)
@pytest.mark.parametrize(
    "error", [RegistryError("backend down"), TransientRegistryError("503", retry_after=1)]
)
def test_a_backend_failure_propagates_and_nothing_is_decided_on_it(
    backend: InMemoryBackend, operation: str, error: RegistryError
) -> None:
    """A failing port call raises the backend's error: never taken as "no baseline" or "no run"."""
    add_baseline(backend, {"auc": 0.8})
    add_run(backend, "cand", {"auc": 0.9})
    backend.fail_next(operation, error)
    with pytest.raises(RegistryError) as info:
        run_promote(backend)
    assert info.value is error
    assert len(backend.registry.versions[NAME]) == 1


def test_a_failing_baseline_lookup_is_not_no_baseline(backend: InMemoryBackend) -> None:
    """Even when a failure would otherwise promote (no baseline → promote), it raises."""
    add_run(backend, "cand", {"auc": 0.1})
    backend.fail_next("find_baseline", RegistryError("timeout"))
    with pytest.raises(RegistryError, match="timeout"):
        run_promote(backend)
    assert "register" not in backend.operations()


# --- Local mode ---------------------------------------------------------------------------------


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"pickle")
    return path


def test_local_mode_compares_the_given_metrics_with_the_baseline(
    backend: InMemoryBackend, model_file: Path
) -> None:
    """A local file with metrics is compared with the baseline's run and registered if better."""
    add_baseline(backend, {"auc": 0.8})
    result = promote(
        model_path=model_file, metrics={"auc": 0.9}, settings=SETTINGS, backend=backend
    )
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.decision.candidate == f"local model {model_file}"
    assert result.model is not None
    assert result.model.version == 2
    assert result.candidate_run is None
    [request] = backend.registry.requests
    assert request.run is None
    assert request.model_path == str(model_file.absolute())
    assert request.metrics == {"auc": 0.9}
    assert request.tags["promotion.verdict"] == "promote"


def test_a_symlinked_local_model_is_registered_under_its_own_name(
    backend: InMemoryBackend, tmp_path: Path
) -> None:
    """model.pkl -> a content-addressed blob (DVC, git-annex): the link's name is registered."""
    blob = tmp_path / "cache" / "ab12cd"
    blob.parent.mkdir()
    blob.write_bytes(b"weights")
    link = tmp_path / "model.pkl"
    link.symlink_to(blob)
    promote(model_path=link, metrics={"auc": 0.9}, settings=SETTINGS, backend=backend)
    [request] = backend.registry.requests
    assert request.model_path == str(link.absolute())


def test_local_mode_rejects_a_worse_model(backend: InMemoryBackend, model_file: Path) -> None:
    """Worse given metrics: REJECT, nothing registered."""
    add_baseline(backend, {"auc": 0.8})
    result = promote(
        model_path=str(model_file), metrics={"auc": 0.7}, settings=SETTINGS, backend=backend
    )
    assert result.decision.verdict is Verdict.REJECT
    assert result.model is None
    assert "register" not in backend.operations()


@pytest.mark.parametrize("with_baseline", [True, False])
def test_local_mode_with_rules_but_no_metrics_rejects_and_says_why(
    backend: InMemoryBackend, model_file: Path, with_baseline: bool
) -> None:
    """No metrics, but rules: REJECT (never registered unchecked), saying what to do."""
    if with_baseline:
        add_baseline(backend, {"auc": 0.8})
    result = promote(model_path=model_file, settings=SETTINGS, backend=backend)
    assert result.decision.verdict is Verdict.REJECT
    assert "pass metrics=..., or force registration" in result.decision.summary
    assert result.model is None
    assert "register" not in backend.operations()


def test_local_mode_without_metrics_registers_when_forced(
    backend: InMemoryBackend, model_file: Path
) -> None:
    """Forced, a local model without metrics is registered (and recorded as forced)."""
    add_baseline(backend, {"auc": 0.8})
    settings = {**SETTINGS, "force_registration": True}
    result = promote(model_path=model_file, settings=settings, backend=backend)
    assert result.decision.verdict is Verdict.FORCE
    assert result.model is not None


def test_local_mode_without_rules_needs_no_metrics(
    backend: InMemoryBackend, model_file: Path
) -> None:
    """A policy without rules and no baseline: the first model is registered."""
    result = promote(model_path=model_file, settings={"model_name": NAME}, backend=backend)
    assert result.model is not None


def test_a_local_model_can_be_the_next_baseline(backend: InMemoryBackend, model_file: Path) -> None:
    """The fake keeps a local model's metrics, so a later run is compared with them."""
    promote(model_path=model_file, metrics={"auc": 0.9}, settings=SETTINGS, backend=backend)
    add_run(backend, "cand", {"auc": 0.85})
    assert run_promote(backend).decision.verdict is Verdict.REJECT


def test_local_mode_dry_run_registers_nothing(backend: InMemoryBackend, model_file: Path) -> None:
    """dry_run in local mode: decision only."""
    result = promote(
        model_path=model_file, metrics={"auc": 0.9}, settings=SETTINGS, backend=backend,
        dry_run=True,
    )  # fmt: skip
    assert result.dry_run
    assert result.model is None
    assert result.decision.notes == ("dry run: nothing registered",)
    assert "register" not in backend.operations()


def test_a_local_model_path_that_does_not_exist_is_an_error(
    backend: InMemoryBackend, tmp_path: Path
) -> None:
    """The local path must exist: ModelFileError naming it."""
    missing = tmp_path / "nope.pkl"
    with pytest.raises(ModelFileError, match="does not exist"):
        promote(model_path=missing, metrics={"auc": 0.9}, settings=SETTINGS, backend=backend)


def test_a_local_folder_is_a_model(backend: InMemoryBackend, tmp_path: Path) -> None:
    """A folder is registered as the model."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"pb")
    result = promote(model_path=folder, metrics={"auc": 0.9}, settings=SETTINGS, backend=backend)
    assert result.model is not None
    assert backend.registry.requests[0].model_path == str(folder.resolve())


# --- Arguments and settings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"model_path": "m.pkl", "run_id": "cand"},
        {"model_path": "m.pkl", "experiment_name": "train"},
        {"metrics": {"auc": 0.9}, "run_id": "cand"},
        {"metrics": {"auc": 0.9}},
    ],
)
def test_contradicting_arguments_are_a_usage_error(
    backend: InMemoryBackend, arguments: dict[str, Any]
) -> None:
    """model_path with a run, or metrics without model_path: UsageError, before any call."""
    with pytest.raises(UsageError) as info:
        promote(settings=SETTINGS, backend=backend, **arguments)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, PromotionError)
    assert backend.calls == []


def test_settings_may_be_a_path_a_mapping_or_settings(
    backend: InMemoryBackend, tmp_path: Path
) -> None:
    """settings= takes a Settings, a path to a JSON file, or a mapping."""
    path = tmp_path / "registermodel.json"
    path.write_text(json.dumps(SETTINGS), encoding="utf-8")
    add_run(backend, "cand", {"auc": 0.9})
    for settings in (path, str(path), SETTINGS, load_settings(SETTINGS)):
        result = run_promote(backend, settings=settings, dry_run=True)
        assert result.decision.policy == load_settings(SETTINGS).policy


def test_bad_settings_fail_before_any_backend_call(backend: InMemoryBackend) -> None:
    """Invalid settings: SettingsError, and the backend is not touched."""
    with pytest.raises(SettingsError):
        run_promote(backend, settings={"metrics_max": "auc", "metrics_min": ["auc"]})
    assert backend.calls == []


def test_the_default_model_name_comes_from_github(
    backend: InMemoryBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without model_name, GitHub's <repo>-<branch> names the model, sanitized."""
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/churn model")
    monkeypatch.setenv("GITHUB_REF_NAME", "feature/new-features")
    add_run(backend, "cand", {"auc": 0.9})
    result = run_promote(backend, settings=Settings())
    assert result.model is not None
    assert result.model.name == "churn-model-feature-new-features"


def test_without_a_model_name_or_github_it_is_a_settings_error(
    backend: InMemoryBackend, monkeypatch: pytest.MonkeyPatch, model_file: Path
) -> None:
    """No model_name and no GITHUB_REPOSITORY: SettingsError at $.model_name, in both modes."""
    monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
    add_run(backend, "cand", {"auc": 0.9})
    for call in (
        lambda: run_promote(backend, settings={}),
        lambda: promote(model_path=model_file, settings={}, backend=backend),
    ):
        with pytest.raises(SettingsError) as info:
            call()
        [problem] = info.value.problems
        assert problem.path == "$.model_name"


def test_the_result_serializes_to_json(backend: InMemoryBackend) -> None:
    """PromotionResult.to_dict() is JSON-ready: the model, the baseline and the decision."""
    add_baseline(backend, {"auc": 0.8})
    add_run(backend, "cand", {"auc": 0.9})
    data = run_promote(backend).to_dict()
    document = json.loads(json.dumps(data, allow_nan=False))
    assert document["promoted"] is True
    assert document["registered"] is True
    assert document["model"] == {
        "name": NAME,
        "version": 2,
        "id": "churn:2",
        "run_id": "cand",
        "uri": None,
    }
    assert document["baseline"]["version"] == 1
    assert document["candidate_run"] == "cand"
    assert document["decision"]["verdict"] == "promote"


def test_a_version_registered_from_the_run_by_hand_is_found_and_not_its_own_baseline(
    backend: InMemoryBackend,
) -> None:
    """A version from this run without decision tags (registered by hand) still counts."""
    add_run(backend, "cand", {"auc": 0.9})
    by_hand = backend.registry.add_version(NAME, run_id="cand")
    result = run_promote(backend)
    assert result.already_registered
    assert result.model == by_hand
    assert result.baseline is None
    assert "register" not in backend.operations()


def test_a_run_in_an_unknown_state_is_refused(backend: InMemoryBackend) -> None:
    """A status the backend knows but we do not ("Queued") is not "Completed": refused."""
    add_run(backend, "cand", {"auc": 0.9}, status="Queued")
    with pytest.raises(RunStateError, match="'Queued'"):
        run_promote(backend)


@pytest.mark.parametrize(("candidate", "tag"), [(1e308, "inf"), (-1e308, "-inf")])
def test_an_infinite_delta_is_tagged_as_text(
    backend: InMemoryBackend, candidate: float, tag: str
) -> None:
    """Δ between two huge finite values overflows to ±inf; its tag reads "inf" or "-inf"."""
    add_baseline(backend, {"auc": -candidate})
    add_run(backend, "cand", {"auc": candidate})
    result = run_promote(backend, settings={**SETTINGS, "force_registration": True})
    assert result.model is not None
    assert result.model.tags["promotion.delta.auc"] == tag
