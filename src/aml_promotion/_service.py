"""`promote()`: read the candidate and the baseline through the ports, decide, register."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from aml_promotion._domain import tags
from aml_promotion._domain.choices import flag
from aml_promotion._domain.decision import Decision, decide
from aml_promotion._domain.policy import BaselineKind, BaselineStrategy, PromotionPolicy
from aml_promotion._settings import Settings, default_model_name, load_settings
from aml_promotion.exceptions import (
    BaselineNotFoundError,
    ModelFileError,
    RunNotFoundError,
    RunStateError,
    SettingsError,
    SettingsProblem,
    UsageError,
)

if TYPE_CHECKING:
    import logging
    from pathlib import Path

    # The ports' classes load with the first promotion: only annotations name them here, and
    # the functions that build or test them import them (import time).
    from aml_promotion.ports import (
        Backend,
        MetricValues,
        ModelRegistry,
        ModelVersion,  # noqa: TC004 - PromotionResult is never structured by cattrs
        RegistrationRequest,
        RunRecord,  # noqa: TC004 - likewise
        RunStore,
    )


@attrs.frozen(kw_only=True)
class PromotionResult:
    """What `promote()` did.

    Attributes:
        decision: Why the candidate was or was not registered.
        model: The registered version: new, or registered earlier from the same run
            (`already_registered`); None when nothing is registered.
        baseline: The version the candidate was compared with, or None.
        candidate_run: The run the candidate came from (None in local mode).
        model_path: The model file or folder that was (or would be) registered.
        dry_run: Nothing was registered because this was a dry run.
        already_registered: A version of this name was registered from this run before, so
            nothing new was registered.
        superseded_by: With a tag baseline (a champion tag), the version that kept the tag when
            a concurrent promotion ranked higher than this one; None when this one kept it.
        champion_version: With a ``tag:`` or ``alias:`` baseline, the version that holds the
            champion tag or alias once this promotion is done (this one's, the one that
            superseded it, or, when nothing was registered, the baseline); None otherwise.
    """

    decision: Decision
    model: ModelVersion | None
    baseline: ModelVersion | None
    candidate_run: RunRecord | None = None
    model_path: str | None = None
    dry_run: bool = attrs.field(default=False, validator=flag)
    already_registered: bool = attrs.field(default=False, validator=flag)
    superseded_by: ModelVersion | None = None
    champion_version: int | None = None

    @property
    def registered(self) -> bool:
        """Whether this call registered a new version."""
        return self.model is not None and not self.already_registered

    @property
    def promoted(self) -> bool:
        """Whether the candidate is in the registry now: registered by this call or before."""
        return self.model is not None

    def _repr_html_(self) -> str:
        """Return the result as HTML, for notebooks: what was registered, then the decision."""
        import html  # noqa: PLC0415 - only notebooks need it

        if self.model is None:
            what = "nothing registered" + (" (dry run)" if self.dry_run else "")
        elif self.already_registered:
            what = f"already registered as {self.model}"
        else:
            what = f"registered {self.model}"
        return f"<div><p>{html.escape(what)}</p>{self.decision._repr_html_()}</div>"

    def to_dict(self) -> dict[str, object]:
        """Return the result as JSON-ready data."""
        return {
            "promoted": self.promoted,
            "registered": self.registered,
            "already_registered": self.already_registered,
            "dry_run": self.dry_run,
            "model": _version_dict(self.model),
            "baseline": _version_dict(self.baseline),
            "candidate_run": None if self.candidate_run is None else self.candidate_run.run_id,
            "model_path": self.model_path,
            "superseded_by": _version_dict(self.superseded_by),
            "champion_version": self.champion_version,
            "decision": self.decision.to_dict(),
        }


def _version_dict(version: ModelVersion | None) -> dict[str, object] | None:
    if version is None:
        return None
    return {
        "name": version.name,
        "version": version.version,
        "id": version.id,
        "run_id": version.run_id,
    }


def _coerce_settings(settings: Settings | str | os.PathLike[str] | Mapping[str, Any]) -> Settings:
    if isinstance(settings, Settings):
        return settings
    return load_settings(settings)


def _model_name(settings: Settings) -> str:
    if settings.model_name is not None:
        return settings.model_name
    name = default_model_name(os.environ)
    if name is None:
        problem = SettingsProblem(
            path="$.model_name",
            message=(
                "no model_name given, and no GITHUB_REPOSITORY to derive the default "
                "'<repo>-<branch>' from"
            ),
        )
        raise SettingsError([problem])
    return name


def _request(
    settings: Settings,
    *,
    name: str,
    model_path: str,
    run: RunRecord | None,
    decision: Decision,
    baseline: ModelVersion | None,
    candidate_values: Mapping[str, object] | None = None,
) -> RegistrationRequest:
    generation = 1 if baseline is None else tags.generation_of(baseline.tags) + 1
    new_tags = {
        **settings.model_tags,
        **tags.decision_tags(
            decision,
            baseline_version=None if baseline is None else baseline.version,
            generation=generation,
            candidate_values=candidate_values,
        ),
    }
    champion = _champion_tag(settings.baseline)
    if champion is not None:
        new_tags[champion[0]] = champion[1]
    from aml_promotion.ports import RegistrationRequest  # noqa: PLC0415 - see the imports

    return RegistrationRequest(
        name=name,
        model_path=model_path,
        run=run,
        framework=settings.model_framework,
        framework_version=settings.model_framework_version,
        tags=new_tags,
        properties=dict(settings.model_properties),
        description=settings.model_description,
        datasets=settings.datasets,
        sample_input_dataset=settings.sample_input_dataset,
        sample_output_dataset=settings.sample_output_dataset,
        cpu_cores=settings.cpu_cores,
        memory_gb=settings.memory_gb,
    )


def _metrics(runs: RunStore, run: RunRecord, policy: PromotionPolicy) -> MetricValues:
    if not policy.rules:
        from aml_promotion.ports import MetricValues  # noqa: PLC0415 - see the imports

        return MetricValues()
    datasets = policy.metric_datasets
    if datasets:
        from aml_promotion.ports import DatasetMetricStore  # noqa: PLC0415

        if not isinstance(runs, DatasetMetricStore):
            metric, dataset = next(iter(datasets.items()))
            problem = SettingsProblem(
                path=f"$.metric_rules.{metric}.dataset",
                message=(
                    f"this backend logs no metrics per dataset, so dataset {dataset!r} cannot "
                    "be chosen (MLflow 3's dataset-scoped metrics can)"
                ),
            )
            raise SettingsError([problem])
        return runs.get_dataset_metrics(
            run, policy.metric_names, datasets=datasets, series=policy.series_metric_names
        )
    return runs.get_metrics(run, policy.metric_names, series=policy.series_metric_names)


def _baseline_run(
    runs: RunStore, baseline: ModelVersion | None, policy: PromotionPolicy
) -> RunRecord | None:
    """Read the run behind the baseline, once; None when it has none (or, forced, it is gone).

    A version a promotion registered (it has the decision's tags) names the run the promotion
    resolved, so a backend that can read such a run more cheaply does (`BaselineRunStore`);
    a version registered otherwise may name a pipeline or sweep, which `get_run` resolves.

    Raises:
        RunNotFoundError: The run is gone, unforced: a baseline that cannot be read is never
            taken as "no baseline".
    """
    if baseline is None or baseline.run_id is None:
        return None
    from aml_promotion.ports import BaselineRunStore  # noqa: PLC0415 - see the imports

    try:
        if isinstance(runs, BaselineRunStore) and tags.VERDICT in baseline.tags:
            return runs.get_baseline_run(baseline.run_id)
        return runs.get_run(experiment_name=None, run_id=baseline.run_id)
    except RunNotFoundError as exc:
        if policy.force:
            return None  # forced: every rule records the baseline's metric as missing
        msg = (
            f"the run {baseline.run_id!r} behind the baseline {baseline} was not found, so the "
            f"candidate cannot be compared with it (force registration to register anyway): {exc}"
        )
        raise RunNotFoundError(msg, run_id=baseline.run_id) from exc


def _baseline_metrics(
    runs: RunStore, baseline: ModelVersion | None, run: RunRecord | None, policy: PromotionPolicy
) -> Mapping[str, object] | None:
    """Return the baseline's metrics: from its `run` (see `_baseline_run`), else its tags."""
    if baseline is None:
        return None
    if baseline.run_id is None:
        # Registered in local mode on a backend that keeps no run for it (Azure ML): what the
        # promotion recorded on the version. None (no such record) passes the version over.
        if not policy.rules:
            return {}
        return tags.recorded_metrics(baseline.tags, policy.metric_names)
    if run is None:
        return {}  # forced past a run that is gone: every rule records the metric as missing
    return _metrics(runs, run, policy).values


def _no_baseline(
    name: str, strategy: BaselineStrategy, existing: ModelVersion | None = None
) -> str:
    """Return what was looked for and not found, for the summary when there is no baseline.

    On a re-run (`existing` is the version the candidate already is), `_find_baseline` looks
    first at the baseline recorded at that registration, and never takes the version itself:
    say which of these left no baseline, not that the strategy found nothing.
    """
    if existing is None:
        return strategy.describe_missing(name)
    already = f"already registered as version {existing.version} of {name}"
    recorded = existing.tags.get(tags.BASELINE_VERSION)
    if recorded == tags.NO_BASELINE:
        return (
            f"{already}, when it had no baseline; a re-run compares with the baseline "
            "recorded at that registration"
        )
    if recorded is not None and recorded.isdecimal() and recorded.isascii():
        return (
            f"{already}; version {recorded}, the baseline recorded at that registration, "
            "no longer exists"
        )
    return (
        f"{already}, and no other version is the baseline ({strategy}): a version is never "
        "compared with itself"
    )


def _passed_over(baseline: ModelVersion | None, values: Mapping[str, object] | None) -> str | None:
    """Return why `baseline` cannot be compared with (no run, no recorded metrics), or None."""
    if baseline is None or values is not None:
        return None
    return (
        f"version {baseline.version} of {baseline.name} was passed over as the baseline: it has "
        "no linked run and no metrics recorded by a promotion (promotion.metric.*), as a model "
        "registered by hand"
    )


def content_digest(path: Path) -> str:
    """Return a digest of a local model's content: a file's bytes, or a folder's files.

    A folder's digest covers each file's path (relative, with ``/``) and content, so renaming
    or moving a file inside it changes the digest, and where the folder is does not. Symlinks
    are followed, folders too, as the registries' uploads follow them (a folder reached twice,
    a link loop, is read once).

    Returns:
        ``sha256:`` and the hex digest.
    """
    import hashlib  # noqa: PLC0415 - only local mode needs it: keep it out of the import

    digest = hashlib.sha256()
    if path.is_file():
        digest.update(_file_digest(path))
    else:
        for relative, file in _files_under(path):
            digest.update(relative.encode("utf-8") + b"\0")
            digest.update(_file_digest(file))
    return f"sha256:{digest.hexdigest()}"


def _files_under(folder: Path) -> list[tuple[str, Path]]:
    """Return (path relative to `folder` with ``/``, path) of every file, following symlinks.

    Sorted by path segments (as `Path` objects sort); a folder that links back to one of its
    own ancestors (a loop) is not entered again; the same folder reached by two paths is read
    under both, as an upload sends it.
    """
    found: list[tuple[str, Path]] = []
    real: dict[Path, str] = {}
    for root, folders, files in os.walk(folder, followlinks=True):
        here = folder.joinpath(os.path.relpath(root, folder))
        real[here] = os.path.realpath(here)
        if real[here] in {real.get(parent) for parent in here.parents}:
            folders.clear()  # a link back to an ancestor: a loop
            continue
        folders.sort()
        for name in files:
            file = here / name
            if file.is_file():
                found.append((file.relative_to(folder).as_posix(), file))
    return sorted(found, key=lambda pair: pair[1].relative_to(folder).parts)


def _file_digest(path: Path) -> bytes:
    import hashlib  # noqa: PLC0415

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


def _evaluation_data(
    runs: RunStore, run: RunRecord | None, policy: PromotionPolicy
) -> Mapping[str, str | None] | None:
    if policy.evaluation_data is None or run is None:
        return None
    return runs.get_evaluation_data(run, policy.evaluation_data)


def _baseline_data(
    runs: RunStore, baseline: ModelVersion | None, run: RunRecord | None, policy: PromotionPolicy
) -> Mapping[str, str | None] | None:
    """Return what the baseline was evaluated on: from its `run`, else from its tags."""
    if policy.evaluation_data is None or baseline is None:
        return None
    data: Mapping[str, str | None] = {}
    if run is not None:
        data = runs.get_evaluation_data(run, policy.evaluation_data)
    # A version registered by a promotion records it, so a run-less baseline still has it.
    return data or tags.evaluation_data_of(baseline.tags) or None


def _baseline_label(baseline: ModelVersion | None) -> str | None:
    if baseline is None:
        return None
    if baseline.run_id is None:
        return f"{baseline} (no linked run)"
    return f"{baseline} (run {baseline.run_id})"


def _find_baseline(
    registry: ModelRegistry, name: str, strategy: BaselineStrategy, existing: ModelVersion | None
) -> ModelVersion | None:
    if existing is not None:
        # A re-run: compare with what the first registration was compared with, not with itself.
        recorded = existing.tags.get(tags.BASELINE_VERSION)
        if recorded == tags.NO_BASELINE:
            return None
        if recorded is not None and recorded.isdecimal() and recorded.isascii():
            try:
                return registry.find_baseline(name, BaselineStrategy.version(int(recorded)))
            except BaselineNotFoundError:
                return None  # deleted since: nothing is registered on a re-run anyway
    found = registry.find_baseline(name, strategy)
    if existing is not None and found is not None and found.version == existing.version:
        return None
    return found


def promote(
    *,
    settings: Settings | str | os.PathLike[str] | Mapping[str, Any],
    backend: Backend,
    experiment_name: str | None = None,
    run_id: str | None = None,
    model_path: str | os.PathLike[str] | None = None,
    metrics: Mapping[str, object] | None = None,
    dry_run: bool = False,
    model_id: str | None = None,
) -> PromotionResult:
    """Register the candidate model only if it beats the baseline under the settings' policy.

    Three ways to name the candidate:

    - ``experiment_name`` and ``run_id``: a run that produced the model file;
    - neither (and no ``model_path``): the run this code is running in, where the backend knows
      one (Azure ML's run context);
    - ``model_path`` (with ``metrics``): a model that no run produced, such as a file in a
      notebook's folder. With rules but no ``metrics`` the candidate is rejected, never
      registered unchecked;
    - ``model_id``: an MLflow 3 logged model (``mlflow.<flavor>.log_model``), read with the
      run that logged it (``experiment_name`` is checked when given).

    Args:
        settings: A `Settings`, or a path or mapping for `load_settings`.
        backend: An object providing the two ports (`runs` and `registry`).
        experiment_name: The candidate run's experiment (checked when given).
        run_id: The candidate run's id.
        model_path: Local mode: the model file or folder to register.
        metrics: Local mode: the candidate's metrics.
        dry_run: Decide, but register nothing.
        model_id: The logged model to promote, on a backend that has logged models.

    Returns:
        The decision, and the registered version if there is one.

    Raises:
        SettingsError: The settings are invalid, or no model name can be found.
        UsageError: The arguments name the candidate in two ways at once.
        RunNotFoundError: The run (or its pipeline step, or the logged model) does not exist.
        RunStateError: The run did not complete (or was deleted), and registration is not
            forced.
        ModelFileError: The model file is not among the run's files, or several match.
        RegistryError: The backend failed; nothing is taken as "no baseline" on a failure.
    """
    _check_arguments(backend=backend, metrics=metrics, dry_run=dry_run, model_path=model_path)
    resolved = _coerce_settings(settings)
    if model_id is not None:
        if model_path is not None or run_id is not None or metrics is not None:
            msg = "give model_id alone (with experiment_name at most): it names the run too"
            raise UsageError(msg)
        return _promote_logged_model(
            resolved,
            backend,
            model_id=model_id,
            experiment_name=experiment_name,
            dry_run=dry_run,
        )
    if model_path is not None:
        if run_id is not None or experiment_name is not None:
            msg = "give either model_path (local mode) or experiment_name/run_id, not both"
            raise UsageError(msg)
        return _promote_local(
            resolved,
            backend,
            model_path=_local_path(model_path),
            metrics=metrics,
            dry_run=dry_run,
        )
    if metrics is not None:
        msg = "metrics= goes with model_path= (local mode); a run's metrics are read from the run"
        raise UsageError(msg)
    return _promote_run(
        resolved, backend, experiment_name=experiment_name, run_id=run_id, dry_run=dry_run
    )


def _local_path(model_path: str | os.PathLike[str]) -> Path:
    # pathlib (with urllib and ipaddress) is a tenth of the import's cost: only local mode pays.
    from pathlib import Path  # noqa: PLC0415

    return Path(model_path).expanduser()


def _check_arguments(
    *, backend: object, metrics: object, dry_run: object, model_path: object
) -> None:
    """Refuse arguments of the wrong kind at once, saying what was expected.

    Raises:
        TypeError: `backend`, `metrics` or `dry_run` is the wrong kind of thing.
        UsageError: `model_path` is empty (it would name the working directory).
    """
    if isinstance(backend, str) or not (hasattr(backend, "runs") and hasattr(backend, "registry")):
        msg = (
            "backend must be a backend object with .runs and .registry, such as "
            "AzureMLBackend.from_config() from aml_promotion.adapters.azureml or "
            "MlflowBackend(...) from aml_promotion.adapters.mlflow, "
            f"not {type(backend).__name__} {backend!r}"
        )
        raise TypeError(msg)
    if metrics is not None and not isinstance(metrics, Mapping):
        msg = (
            "metrics must be a mapping of metric name to value, such as {'auc': 0.91}, "
            f"not {type(metrics).__name__}"
        )
        raise TypeError(msg)
    if not isinstance(dry_run, bool):
        msg = f"dry_run must be True or False, not {type(dry_run).__name__} {dry_run!r}"
        raise TypeError(msg)
    if isinstance(model_path, (str, os.PathLike)) and not os.fspath(model_path).strip():
        msg = "model_path is empty: give the model file or folder to register"
        raise UsageError(msg)


def _promote_logged_model(
    settings: Settings,
    backend: Backend,
    *,
    model_id: str,
    experiment_name: str | None,
    dry_run: bool,
) -> PromotionResult:
    runs = backend.runs
    from aml_promotion.ports import LoggedModelStore  # noqa: PLC0415 - see the imports

    if not isinstance(runs, LoggedModelStore):
        msg = f"model_id={model_id!r}: this backend has no logged models (MLflow 3 has)"
        raise UsageError(msg)
    logged = runs.get_logged_model(model_id)
    if logged.run_id is None:
        msg = (
            f"logged model {model_id!r} was logged outside any run, so there are no run "
            "metrics to compare: log it within a run"
        )
        raise RunNotFoundError(msg)
    # The logged model's own run, never a child of it; the model is the folder of its name.
    named = attrs.evolve(settings, model_file_name=logged.name + "/", pipeline_child_run_name=None)
    return _promote_run(
        named,
        backend,
        experiment_name=experiment_name,
        run_id=logged.run_id,
        dry_run=dry_run,
        model_id=model_id,
    )


def _promote_run(
    settings: Settings,
    backend: Backend,
    *,
    experiment_name: str | None,
    run_id: str | None,
    dry_run: bool,
    model_id: str | None = None,
) -> PromotionResult:
    name = _model_name(settings)
    policy = settings.policy
    runs, registry = backend.runs, backend.registry
    run = runs.get_run(
        experiment_name=experiment_name,
        run_id=run_id,
        pipeline_step=settings.pipeline_child_run_name,
    )
    from aml_promotion.ports import RunStatus  # noqa: PLC0415 - see the imports

    if run.status is not RunStatus.COMPLETED and not run.is_current and not policy.force:
        raise RunStateError(run_id=run.run_id, status=run.status_text)
    candidate = _metrics(runs, run, policy)
    from aml_promotion._domain.model_files import find_model_file  # noqa: PLC0415 - import time

    path = find_model_file(runs.list_files(run), settings.model_file_name)
    from aml_promotion.ports import LoggedModelRegistry  # noqa: PLC0415 - import lines are shared

    logged = None
    if isinstance(registry, LoggedModelRegistry):
        logged = model_id or registry.logged_model_of(run, path)
    if logged is not None and isinstance(registry, LoggedModelRegistry):
        # The run may have logged other models: only a version of this one is "already there".
        existing = registry.find_by_logged_model(name, run.run_id, logged)
    else:
        existing = registry.find_by_run(name, run.run_id)
    existing = _respect_moved_alias(registry, settings, name, existing, dry_run=dry_run)
    baseline = _find_baseline(registry, name, settings.baseline, existing)
    baseline_run = _baseline_run(runs, baseline, policy)
    baseline_values = _baseline_metrics(runs, baseline, baseline_run, policy)
    passed_over = _passed_over(baseline, baseline_values)
    if passed_over is not None:
        baseline = None
    decision = decide(
        candidate.values,
        baseline_values,
        policy,
        candidate_label=_run_label(run),
        baseline_label=_baseline_label(baseline),
        candidate_metric_names=candidate.available,
        no_baseline=passed_over or _no_baseline(name, settings.baseline, existing),
        candidate_data=_evaluation_data(runs, run, policy),
        baseline_data=_baseline_data(runs, baseline, baseline_run, policy),
    )
    if existing is not None:
        _log_decision(decision)
        decision = decision.with_note(
            f"already registered from run {run.run_id} as version {existing.version}; "
            "nothing new registered"
        )
        if existing.archived:
            decision = decision.with_note(
                f"version {existing.version} is archived: it is not restored, and no new "
                "version is registered; restore it by hand if it should serve again"
            )
        superseded_by = None
        champion = _champion_tag(settings.baseline)
        holds = champion is not None and existing.tags.get(champion[0]) == champion[1]
        if not dry_run and holds and not existing.archived:
            # Settling is idempotent: a re-run repairs a champion tag that an earlier run
            # registered but failed to settle. A version that no longer holds the tag lost it
            # to a later promotion: its record (superseded_by) stays as that promotion wrote it.
            decision, superseded_by = _settle_champion(registry, settings, decision, existing)
        return PromotionResult(
            decision=decision,
            model=None if dry_run else existing,
            baseline=baseline,
            candidate_run=run,
            model_path=path,
            dry_run=dry_run,
            already_registered=True,
            superseded_by=superseded_by,
            champion_version=_current_champion(registry, name, settings),
        )
    return _register_if_promoted(
        registry,
        settings,
        attrs.evolve(
            _request(
                settings,
                name=name,
                model_path=path,
                run=run,
                decision=decision,
                # The tag says "none" whenever the decision had no baseline to compare with.
                baseline=None if baseline_values is None else baseline,
                candidate_values=candidate.values,
            ),
            model_id=model_id,
        ),
        decision=decision,
        baseline=baseline,
        dry_run=dry_run,
    )


def _run_label(run: RunRecord) -> str:
    where = f" in experiment {run.experiment_name}" if run.experiment_name else ""
    return f"run {run.run_id}{where}"


def _promote_local(
    settings: Settings,
    backend: Backend,
    *,
    model_path: Path,
    metrics: Mapping[str, object] | None,
    dry_run: bool,
) -> PromotionResult:
    name = _model_name(settings)
    policy = settings.policy
    if not model_path.exists():
        raise ModelFileError(
            f"the local model path {str(model_path)!r} does not exist", wanted=str(model_path)
        )
    registry = backend.registry
    # The same content registered before (a re-run): "already registered", as a run's re-run is.
    digest = content_digest(model_path)
    existing = next(iter(registry.find_tagged(name, tags.MODEL_DIGEST, digest)), None)
    existing = _respect_moved_alias(registry, settings, name, existing, dry_run=dry_run)
    baseline = _find_baseline(registry, name, settings.baseline, existing)
    baseline_run = _baseline_run(backend.runs, baseline, policy)
    baseline_values = _baseline_metrics(backend.runs, baseline, baseline_run, policy)
    passed_over = _passed_over(baseline, baseline_values)
    if passed_over is not None:
        baseline = None
    decision = decide(
        metrics or {},
        baseline_values,
        policy,
        candidate_label=f"local model {model_path}",
        baseline_label=_baseline_label(baseline),
        no_baseline=passed_over or _no_baseline(name, settings.baseline, existing),
        baseline_data=_baseline_data(backend.runs, baseline, baseline_run, policy),
    )
    if metrics is None and policy.rules and not policy.force:
        reason = (
            "a local model comes with no run to read metrics from, and none were given: "
            "pass metrics=..., or force registration"
        )
        decision = attrs.evolve(decision, summary=reason, reasons=(reason, *decision.reasons))
    for metric in tags.unrecorded_series(policy, metrics or {}):
        decision = decision.with_note(
            f"the series of {metric} is longer than {tags.SERIES_MAX_CHARS} characters and is not "
            f"recorded on the version: compared without a run, it offers only its "
            f"{tags.metric_tag(metric)} value"
        )
    if existing is not None:
        return _local_already_registered(
            registry,
            settings,
            decision,
            existing,
            baseline=baseline,
            model_path=model_path,
            dry_run=dry_run,
        )
    request = _request(
        settings,
        name=name,
        # Absolute, not resolved: a symlink (DVC, git-annex) keeps its own name.
        model_path=os.path.normpath(model_path.absolute()),
        run=None,
        decision=decision,
        baseline=None if baseline_values is None else baseline,
        candidate_values=metrics,
    )
    return _register_if_promoted(
        registry,
        settings,
        attrs.evolve(
            request, metrics=dict(metrics or {}), tags={**request.tags, tags.MODEL_DIGEST: digest}
        ),
        decision=decision,
        baseline=baseline,
        dry_run=dry_run,
        shown_path=str(model_path),
    )


def _local_already_registered(
    registry: ModelRegistry,
    settings: Settings,
    decision: Decision,
    existing: ModelVersion,
    *,
    baseline: ModelVersion | None,
    model_path: Path,
    dry_run: bool,
) -> PromotionResult:
    """Report a local model whose content `existing` already holds; register nothing new."""
    decision = decision.with_note(
        f"already registered with the same content as version {existing.version}; "
        "nothing new registered"
    )
    superseded_by = None
    champion = _champion_tag(settings.baseline)
    lost = champion is not None and existing.tags.get(champion[0]) != champion[1]
    if not dry_run and not lost:
        # A version that lost the champion (to a later promotion, or a person's move of the
        # alias) does not take it back by a re-run.
        decision, superseded_by = _settle_champion(registry, settings, decision, existing)
    return PromotionResult(
        decision=decision,
        model=None if dry_run else existing,
        baseline=baseline,
        model_path=str(model_path),
        dry_run=dry_run,
        already_registered=True,
        superseded_by=superseded_by,
    )


def _register_if_promoted(
    registry: ModelRegistry,
    settings: Settings,
    request: RegistrationRequest,
    *,
    decision: Decision,
    baseline: ModelVersion | None,
    dry_run: bool,
    shown_path: str | None = None,
) -> PromotionResult:
    """Register `request` if `decision` promotes and this is no dry run; settle the champion."""
    _log_decision(decision)
    shown = request.model_path if shown_path is None else shown_path
    if dry_run or not decision.promote:
        if dry_run:
            decision = decision.with_note("dry run: nothing registered")
        return PromotionResult(
            decision=decision,
            model=None,
            baseline=baseline,
            candidate_run=request.run,
            model_path=shown,
            dry_run=dry_run,
            champion_version=_champion_version(settings, baseline, None),
        )
    model = registry.register(request)
    _logger().info("registered %s (id %s)", model, model.id)
    decision, superseded_by = _settle_champion(registry, settings, decision, model)
    return PromotionResult(
        decision=decision,
        model=model,
        baseline=baseline,
        candidate_run=request.run,
        model_path=shown,
        superseded_by=superseded_by,
        champion_version=_champion_version(settings, model, superseded_by),
    )


def _logger() -> logging.Logger:
    # logging (and the retry module's logger name) load with the first promotion (import time).
    import logging  # noqa: PLC0415

    from aml_promotion._retry import LOGGER_NAME  # noqa: PLC0415

    return logging.getLogger(LOGGER_NAME)


def _log_decision(decision: Decision) -> None:
    _logger().info("decision: %s: %s", decision.verdict.value, decision.summary)


def _champion_tag(strategy: BaselineStrategy) -> tuple[str, str] | None:
    if strategy.kind is BaselineKind.TAG and strategy.tag_key and strategy.tag_value is not None:
        return strategy.tag_key, strategy.tag_value
    if strategy.kind is BaselineKind.ALIAS and strategy.name:
        # An alias has one holder but no compare-and-set: the promoted versions carry a tag
        # for it, ranked like a champion tag, and the alias follows the best-ranked holder.
        return tags.alias_tag(strategy.name), tags.ALIAS_HOLDER
    return None


def _champion_version(
    settings: Settings, model: ModelVersion | None, superseded_by: ModelVersion | None
) -> int | None:
    """Return the version that holds the champion tag or alias, for `PromotionResult`."""
    if _champion_tag(settings.baseline) is None or model is None:
        return None
    return (superseded_by or model).version


def _current_champion(registry: ModelRegistry, name: str, settings: Settings) -> int | None:
    """Return the version that holds the champion tag or alias now, read from the registry.

    A re-run of a version that lost the champion to a later promotion reports the later one.
    """
    if _champion_tag(settings.baseline) is None:
        return None
    holder = registry.find_baseline(name, settings.baseline)
    return None if holder is None else holder.version


# Seconds to wait, before each re-read, while the alias is on a version without the alias tag
# and other versions carry it: a concurrent promotion may be between untagging the holder and
# moving the alias. If it stays so, a person moved (or deleted) the alias.
_MOVED_ALIAS_WAITS: tuple[float, ...] = (0.2, 0.5, 1.0)


def _respect_moved_alias(
    registry: ModelRegistry,
    settings: Settings,
    name: str,
    existing: ModelVersion | None,
    *,
    dry_run: bool,
) -> ModelVersion | None:
    """With an alias baseline, retire the alias tag of versions a person moved the alias from.

    Promotions only ever point the alias at a version carrying the alias tag. An alias on a
    version without it (or no alias) while versions carry the tag means a person moved (or
    deleted) it: those versions did not hold the alias when this promotion read its baseline,
    so they lose the tag and can never win the alias back. The holder the person chose is
    the champion: the candidate is compared with it, and takes the alias if promoted. A dry
    run changes nothing, and reports as if the tags were gone.

    Returns:
        `existing`, as it is now (without the tag if it lost it).
    """
    strategy = settings.baseline
    if strategy.kind is not BaselineKind.ALIAS or not strategy.name:
        return existing
    key = tags.alias_tag(strategy.name)
    for wait in (*_MOVED_ALIAS_WAITS, None):
        holder = registry.find_baseline(name, strategy)
        tagged = registry.find_tagged(name, key, tags.ALIAS_HOLDER)
        if not tagged or (holder is not None and holder.tags.get(key) == tags.ALIAS_HOLDER):
            return existing
        if wait is not None:
            import time  # noqa: PLC0415 - only when the alias looks moved

            time.sleep(wait)
    shown = "deleted" if holder is None else f"on version {holder.version}"
    for stale in tagged:
        _logger().info(
            "the alias %s of %s is %s, not on version %s: someone moved it; %s loses its tag %s",
            strategy.name,
            name,
            shown,
            stale.version,
            stale,
            key,
        )
        if not dry_run:
            registry.remove_tags(stale, [key])
    if existing is not None and any(t.version == existing.version for t in tagged):
        return attrs.evolve(existing, tags={k: v for k, v in existing.tags.items() if k != key})
    return existing


# Rounds at most of "point the alias at the best-ranked holder, then check": each write is
# followed by a check, so concurrent promotions leave it on the best-ranked one.
_ALIAS_ROUNDS = 10


def _settle_alias(
    registry: ModelRegistry,
    settings: Settings,
    *,
    key: str,
    value: str,
    model: ModelVersion,
    winner: ModelVersion,
) -> ModelVersion:
    """Point the alias at `winner`, then re-check the holders until the alias is on the best."""
    strategy = settings.baseline
    alias = strategy.name or ""
    for _ in range(_ALIAS_ROUNDS):
        holder = registry.find_baseline(model.name, strategy)
        if holder is not None and holder.version == winner.version:
            return winner
        registry.set_alias(winner, alias)
        winner = resolve_holders(
            registry,
            key=key,
            value=value,
            holders=registry.find_tagged(model.name, key, value),
            model=model,
            policy=settings.policy,
        )
    return winner


def _settle_champion(
    registry: ModelRegistry, settings: Settings, decision: Decision, model: ModelVersion
) -> tuple[Decision, ModelVersion | None]:
    """With a tag baseline, leave exactly one holder of the tag: the best-ranked one.

    The new version was registered holding the tag. Re-read every holder and keep the one
    `pick_champion` ranks first; the others lose the tag and are tagged as superseded. Concurrent
    promotions each do this, and the ranking is a total order, so they converge on one holder.
    """
    champion = _champion_tag(settings.baseline)
    if champion is None:
        return decision, None
    key, value = champion
    holders = registry.find_tagged(model.name, key, value)
    winner = resolve_holders(
        registry, key=key, value=value, holders=holders, model=model, policy=settings.policy
    )
    if settings.baseline.kind is BaselineKind.ALIAS:
        winner = _settle_alias(registry, settings, key=key, value=value, model=model, winner=winner)
    if winner.version == model.version:
        return decision, None
    note = f"superseded by version {winner.version}: a concurrent promotion ranked higher"
    return decision.with_note(note), winner


def resolve_holders(
    registry: ModelRegistry,
    *,
    key: str,
    value: str,
    holders: Sequence[ModelVersion],
    model: ModelVersion,
    policy: PromotionPolicy,
) -> ModelVersion:
    """Keep the tag `key` (= `value`) on the best-ranked of `holders`, read after `model` got it.

    Every process ranks a set of holders the same way (given the same policy), and the
    best-ranked version ever tagged is never removed: concurrent promotions converge on it.

    Returns:
        The version that keeps the tag.
    """
    seen = list(holders)
    if not seen:
        # Nobody holds the tag: only possible when concurrent promotions ranked differently
        # (different policies). Take it back rather than leave the model without a champion.
        registry.set_tags(model, {key: value})
        return model
    # When `model` is not among the holders, a concurrent promotion already took the tag from
    # it: it cannot win back, and only the real holders are ranked.
    from aml_promotion._domain.champion import Holder, pick_champion  # noqa: PLC0415 - tags only

    best = pick_champion([Holder(version=h.version, tags=h.tags) for h in seen], policy)
    winner = next(h for h in seen if h.version == best.version)
    for holder in seen:
        if holder.version != winner.version:
            registry.remove_tags(holder, [key])
            registry.set_tags(holder, {tags.SUPERSEDED_BY: str(winner.version)})
    if winner.version != model.version and all(h.version != model.version for h in seen):
        registry.set_tags(model, {tags.SUPERSEDED_BY: str(winner.version)})
    return winner
