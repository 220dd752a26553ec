"""Where a run's parts are: the step whose metrics count, and a model kept in a job output.

A pipeline may log its metrics in one step (evaluate) and hold its model in another (train):
`metrics_child_run_name` names the first, `pipeline_child_run_name` the second. A job may keep
its model in a named output (``outputs.model_output``) rather than in its files: `job_output`
names it, on a backend that has named outputs (`JobOutputStore`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aml_promotion._domain import tags
from aml_promotion._domain.model_files import find_model_file, normalize
from aml_promotion.exceptions import (
    ModelFileError,
    RunStateError,
    SettingsError,
    SettingsProblem,
)

if TYPE_CHECKING:
    from aml_promotion._settings import Settings
    from aml_promotion.ports import RunRecord, RunStore


def _metrics_run(
    runs: RunStore,
    model_run: RunRecord,
    settings: Settings,
    *,
    experiment_name: str | None,
    run_id: str | None,
) -> RunRecord:
    """Return the run whose metrics (and evaluation data) are compared.

    The model's run itself, unless `metrics_child_run_name` names another step of the same
    pipeline: that step, resolved as the model's step is (one more `get_run`).

    Raises:
        RunNotFoundError: The pipeline has no (or several) steps of that name.
        RunStateError: That step did not complete, and registration is not forced.
    """
    step = settings.metrics_step
    if step == settings.pipeline_child_run_name:
        return model_run
    found = runs.get_run(experiment_name=experiment_name, run_id=run_id, pipeline_step=step)
    if found.run_id == model_run.run_id:
        return model_run
    from aml_promotion.ports import RunStatus  # noqa: PLC0415 - loaded with the first promotion

    done = found.status is RunStatus.COMPLETED or found.is_current
    if not done and not settings.policy.force:
        raise RunStateError(run_id=found.run_id, status=found.status_text)
    return found


def _metrics_label(model_run: RunRecord, metrics_run: RunRecord) -> str:
    """Return what the record says of a candidate whose metrics come from another step."""
    where = f" in experiment {model_run.experiment_name}" if model_run.experiment_name else ""
    return f"run {model_run.run_id}{where} (metrics from run {metrics_run.run_id})"


def _with_metrics_run(
    held: Mapping[str, str], model_run: RunRecord, metrics_run: RunRecord
) -> dict[str, str]:
    """Return a version's tags, naming the step its metrics came from when not its own.

    The version's run is the model's step; a later promotion that compares with it reads the
    metrics from the step this tag names (see `_baseline._baseline_run`).
    """
    if metrics_run is model_run:
        return dict(held)
    return {**held, tags.METRICS_RUN: metrics_run.run_id}


def _check_job_output(runs: RunStore, settings: Settings) -> None:
    """Refuse `job_output` on a backend whose runs have no named outputs.

    Raises:
        SettingsError: The backend has no named outputs (MLflow, Azure ML SDK v1).
    """
    if settings.job_output is None:
        return
    from aml_promotion.ports import JobOutputStore  # noqa: PLC0415 - see above

    if not isinstance(runs, JobOutputStore):
        raise job_output_refused(
            f"job_output {settings.job_output!r} names a job output, but this backend's runs "
            "have no named outputs (Azure ML SDK v2 jobs have: --backend azureml-v2); remove "
            "job_output and name the model among the run's files with model_file_name"
        )


def job_output_refused(why: str) -> SettingsError:
    """Return the settings error for a `job_output` that cannot be used, saying `why`."""
    return SettingsError([SettingsProblem(path="$.job_output", message=why)])


def _job_output_path(runs: RunStore, run: RunRecord, settings: Settings) -> str:
    """Return the model's path inside the run's output `job_output` ("" for the whole output).

    Raises:
        ModelFileError: The run has no such output, it holds no files, or `model_file_name`
            matches nothing (or several paths) in it.
    """
    from aml_promotion.ports import JobOutputStore  # noqa: PLC0415 - see above

    output = settings.job_output
    if output is None or not isinstance(runs, JobOutputStore):  # pragma: no cover - checked
        msg = "no job output to read"
        raise AssertionError(msg)
    files = runs.list_output_files(run, output)
    wanted = settings.model_file_name
    where = f"output {output!r} of job {run.run_id!r}"
    if not normalize(wanted):
        if not files:
            raise ModelFileError(f"{where} holds no files: nothing to register", wanted=wanted)
        return ""
    try:
        return find_model_file(files, wanted)
    except ModelFileError as exc:
        raise ModelFileError(
            f"{where}: {exc}",
            wanted=exc.wanted,
            matches=exc.matches,
            files=exc.files,
        ) from None
