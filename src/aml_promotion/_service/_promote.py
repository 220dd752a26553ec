"""`promote()`: the stages of a promotion, called top to bottom.

`promote` checks the arguments and reads the candidate; `_promote_candidate` finds what the
candidate may already be, reads the baseline, decides, and registers (or reports the version
already there). Each stage is a function of the module named for it, taking what it uses.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from aml_promotion._domain.decision import Decision, decide
from aml_promotion._retry import LOGGER_NAME
from aml_promotion._service._baseline import Baseline, read_baseline
from aml_promotion._service._candidate import (
    Candidate,
    CandidateKind,
    check_parts,
    read_local,
    read_logged_model,
    read_run,
)
from aml_promotion._service._champion import champion_tag
from aml_promotion._service._moved_alias import respect_moved_alias
from aml_promotion._service._register import (
    Judged,
    already_registered,
    model_name,
    register,
    request_template,
)
from aml_promotion._service._stages import with_stages
from aml_promotion._service._version import check_target, parse_ref, read_version
from aml_promotion._settings import Settings, load_settings
from aml_promotion.exceptions import UsageError

if TYPE_CHECKING:
    from aml_promotion._domain.policy import PromotionPolicy
    from aml_promotion._service._result import PromotionResult
    from aml_promotion.ports import Backend, LoggedModel

# One INFO line as each stage starts, so that slow work is seen while it happens.
_LOGGER = logging.getLogger(LOGGER_NAME)


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
    candidate_version: str | None = None,
    target: Backend | None = None,
) -> PromotionResult:
    """Register the candidate model only if it beats the baseline under the settings' policy.

    Five ways to name the candidate:

    - ``experiment_name`` and ``run_id``: a run that produced the model file;
    - neither (and no ``model_path``): the run this code is running in, where the backend knows
      one (Azure ML's run context; on SDK v2 the job named by ``MLFLOW_RUN_ID``, else
      ``AZUREML_RUN_ID``, or in a pipeline its sibling step ``pipeline_child_run_name``);
    - ``model_path`` (with ``metrics``): a model that no run produced, such as a file in a
      notebook's folder. With rules but no ``metrics`` the candidate is rejected, never
      registered unchecked;
    - ``model_id``: an MLflow 3 logged model (``mlflow.<flavor>.log_model``), read with the
      run that logged it (``experiment_name`` is checked when given);
    - ``candidate_version``: a version registered in `backend`'s registry (``name:3``,
      ``name@alias``, ``name:latest``), copied into `target`'s registry if it beats the
      champion there: promotion across environments. Its metrics come from its run when
      `backend` can read it, else from the ``promotion.metric.*`` tags a promotion wrote on
      it; the target's champion is compared by its ``promotion.metric.*`` tags alone.

    Args:
        settings: A `Settings`, or a path or mapping for `load_settings`.
        backend: An object providing the two ports (`runs` and `registry`).
        experiment_name: The candidate run's experiment (checked when given).
        run_id: The candidate run's id.
        model_path: Local mode: the model file or folder to register.
        metrics: Local mode: the candidate's metrics.
        dry_run: Decide, but register nothing.
        model_id: The logged model to promote, on a backend that has logged models.
        candidate_version: The registered version to promote, in `backend`'s registry.
        target: With `candidate_version`: the backend whose registry the version is copied
            into, and whose champion it must beat (default: `backend` itself, under another
            name). The model's name there is the settings' `model_name`, else the
            candidate's own name.

    Returns:
        The decision, and the registered version if there is one.

    Raises:
        SettingsError: The settings are invalid, or no model name can be found, or
            ``job_output`` or ``metrics_child_run_name`` (where a run's parts are) is given
            for a candidate that is no run (a local or logged model, a registered version),
            or ``job_output`` on a backend without named outputs (MLflow, Azure ML SDK v1).
        UsageError: The arguments name the candidate in two ways at once; `target` without
            `candidate_version`; a registry that cannot offer or take a copy.
        RunNotFoundError: The run (or its pipeline step, or the logged model) does not exist.
        VersionNotFoundError: The candidate version does not exist (or is not usable).
        RunStateError: The run did not complete (or was deleted), and registration is not
            forced.
        ModelFileError: The model file is not among the run's files, or several match.
        RegistryError: The backend failed; nothing is taken as "no baseline" on a failure.
        IncompletePromotionError: A version was registered, then a write of the champion's
            settle failed: the error says what was not done; running again completes it.
    """
    _check_arguments(backend=backend, metrics=metrics, dry_run=dry_run, model_path=model_path)
    resolved = settings if isinstance(settings, Settings) else load_settings(settings)
    if candidate_version is not None or target is not None:
        return _promote_version(
            candidate_version,
            backend,
            target,
            settings=resolved,
            dry_run=dry_run,
            others=(experiment_name, run_id, model_path, metrics, model_id),
        )
    _check_naming(
        experiment_name, run_id, model_path=model_path, metrics=metrics, model_id=model_id
    )
    kind = CandidateKind.RUN
    if model_id is not None:
        kind = CandidateKind.LOGGED_MODEL
    elif model_path is not None:
        kind = CandidateKind.LOCAL
    _check_parts(kind, resolved)
    if model_id is not None:
        _LOGGER.info("reading the candidate: logged model %s", model_id)
    logged = None if model_id is None else read_logged_model(backend.runs, model_id)
    name = model_name(resolved.model_name)
    if model_path is not None:
        _LOGGER.info("reading the candidate: local model %s", os.fspath(model_path))
        candidate = read_local(model_path, metrics, resolved.policy)
    else:
        if logged is None:
            _LOGGER.info(
                "reading the candidate: %s",
                "the current run" if run_id is None else f"run {run_id}",
            )
        candidate = _read_run(resolved, backend, experiment_name, run_id, logged=logged)
    return _promote_candidate(
        candidate,
        backend,
        name=name,
        settings=resolved,
        dry_run=dry_run,
    )


def _promote_version(
    candidate_version: str | None,
    backend: Backend,
    target: Backend | None,
    *,
    settings: Settings,
    dry_run: bool,
    others: tuple[object, ...],
) -> PromotionResult:
    """Promote a registered version of `backend` into `target` (or `backend` itself)."""
    if candidate_version is None:
        msg = "target= goes with candidate_version= (a registered version to copy into it)"
        raise UsageError(msg)
    if any(other is not None for other in others):
        msg = (
            "give candidate_version alone: it names the candidate (not experiment_name, "
            "run_id, model_path, metrics or model_id)"
        )
        raise UsageError(msg)
    _check_parts(CandidateKind.VERSION, settings)
    ref = parse_ref(candidate_version)
    into = backend if target is None else target
    registry = check_target(backend, into)
    name = model_name(settings.model_name, candidate=ref)
    _LOGGER.info("reading the candidate: version %s", candidate_version)
    candidate = read_version(backend, ref, settings.policy, target_name=name, target=registry)
    # Another environment's runs are never read: its champion's metrics are its tags.
    return _promote_candidate(
        candidate, into, name=name, settings=settings, dry_run=dry_run, tagged=into is not backend
    )


def _promote_candidate(
    candidate: Candidate,
    backend: Backend,
    *,
    name: str,
    settings: Settings,
    dry_run: bool,
    tagged: bool = False,
) -> PromotionResult:
    """Compare `candidate` with the baseline of `name`, and register it if it is better.

    With `tagged`, the baseline's metrics are read from its tags alone, never from its run:
    `backend` is another environment's registry, whose runs are not readable here.
    """
    registry = with_stages(backend.registry, settings.stages, champion_tag(settings.baseline))
    strategy, policy = settings.baseline, settings.policy
    runs = None if tagged else backend.runs
    _LOGGER.info("finding the baseline: %s of %s", strategy, name)
    existing = candidate.origin.find_registered(registry, name)
    existing = respect_moved_alias(registry, strategy, name, existing, dry_run=dry_run)
    baseline = read_baseline(runs, registry, name, strategy, policy, existing=existing)
    decision = _decide(candidate, baseline, policy)
    for note in baseline.notes:
        decision = decision.with_note(note)
    judged = Judged(
        candidate=candidate,
        decision=decision,
        baseline=baseline,
        strategy=strategy,
        policy=policy,
        dry_run=dry_run,
    )
    if existing is not None:
        return already_registered(registry, existing, judged)
    return register(registry, request_template(settings, name), judged)


def _read_run(
    settings: Settings,
    backend: Backend,
    experiment_name: str | None,
    run_id: str | None,
    *,
    logged: LoggedModel | None,
) -> Candidate:
    """Read a run's candidate: the run named (or the current one), or a logged model's run."""
    if logged is None:
        return read_run(
            backend.runs,
            backend.registry,
            settings.policy,
            experiment_name=experiment_name,
            run_id=run_id,
            pipeline_step=settings.pipeline_child_run_name,
            metrics_step=settings.metrics_step,
            model_file_name=settings.model_file_name,
            job_output=settings.job_output,
        )
    # The logged model's own run, never a child of it; the model is the folder of its name.
    return read_run(
        backend.runs,
        backend.registry,
        settings.policy,
        experiment_name=experiment_name,
        run_id=logged.run_id,
        pipeline_step=None,
        metrics_step=None,
        model_file_name=logged.name + "/",
        job_output=None,  # refused by check_parts
        model_id=logged.model_id,
    )


def _check_parts(kind: CandidateKind, settings: Settings) -> None:
    """Refuse the settings of a run's parts for a candidate of another `kind` (`check_parts`)."""
    check_parts(
        kind,
        job_output=settings.job_output,
        metrics_child_run_name=settings.metrics_child_run_name,
    )


def _decide(candidate: Candidate, baseline: Baseline, policy: PromotionPolicy) -> Decision:
    """Decide on `candidate` against `baseline`; a candidate's refusal and caveats are added."""
    decision = decide(
        candidate.metrics or {},
        baseline.metrics,
        policy,
        candidate_label=candidate.label,
        baseline_label=baseline.label,
        candidate_metric_names=candidate.available,
        no_baseline=baseline.missing,
        candidate_data=candidate.data,
        baseline_data=baseline.data,
    )
    if candidate.refusal is not None:
        reasons = (candidate.refusal, *decision.reasons)
        decision = attrs.evolve(decision, summary=candidate.refusal, reasons=reasons)
    for note in candidate.notes:
        decision = decision.with_note(note)
    return decision


def _check_naming(
    experiment_name: str | None,
    run_id: str | None,
    *,
    model_path: object,
    metrics: object,
    model_id: str | None,
) -> None:
    """Refuse a candidate named in two ways at once.

    Raises:
        UsageError: Two ways of naming the candidate are mixed.
    """
    if model_id is not None:
        if model_path is not None or run_id is not None or metrics is not None:
            msg = "give model_id alone (with experiment_name at most): it names the run too"
            raise UsageError(msg)
    elif model_path is not None:
        if run_id is not None or experiment_name is not None:
            msg = "give either model_path (local mode) or experiment_name/run_id, not both"
            raise UsageError(msg)
    elif metrics is not None:
        msg = "metrics= goes with model_path= (local mode); a run's metrics are read from the run"
        raise UsageError(msg)


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
