"""`promote()`: read the candidate and the baseline through the ports, decide, register."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from aml_promotion._domain import tags
from aml_promotion._domain.decision import decide
from aml_promotion._service._baseline import (
    _baseline_data,
    _baseline_label,
    _baseline_metrics,
    _baseline_run,
    _find_baseline,
    _no_baseline,
    _passed_over,
)
from aml_promotion._service._candidate import (
    _evaluation_data,
    _local_path,
    _metrics,
    _run_label,
    content_digest,
)
from aml_promotion._service._champion import (
    _current_champion,
    _respect_moved_alias,
    settle_again,
)
from aml_promotion._service._register import (
    _local_already_registered,
    _log_decision,
    _register_if_promoted,
    _request,
)
from aml_promotion._service._result import PromotionResult
from aml_promotion._settings import Settings, default_model_name, load_settings
from aml_promotion.exceptions import (
    ModelFileError,
    RunNotFoundError,
    RunStateError,
    SettingsError,
    SettingsProblem,
    UsageError,
)

if TYPE_CHECKING:
    from pathlib import Path

    # The ports' classes load with the first promotion: only annotations name them here, and
    # the functions that build or test them import them (import time).
    from aml_promotion.ports import (
        Backend,
    )


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
    baseline = _find_baseline(registry, name, settings.baseline, existing, policy=policy)
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
        # Settling is idempotent: a re-run completes a promotion that registered the version
        # but failed after, and a version that lost the tag to a worse one takes it back. One
        # that lost it to a better one keeps its record (superseded_by) as that promotion wrote.
        decision, superseded_by = settle_again(
            registry, settings, decision, existing, dry_run=dry_run
        )
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
    baseline = _find_baseline(registry, name, settings.baseline, existing, policy=policy)
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
