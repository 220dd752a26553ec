"""`RunStore` over azure-ai-ml jobs, with metrics and files through the workspace's MLflow."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from aml_promotion._domain.metrics import is_usable_number
from aml_promotion.adapters._azure import run_status
from aml_promotion.adapters.azureml_v2._gateway import is_not_found
from aml_promotion.exceptions import RunNotFoundError
from aml_promotion.ports import Hop, MetricValues, Resolution, RunRecord, RunStatus

if TYPE_CHECKING:
    from aml_promotion._domain.policy import EvaluationData
    from aml_promotion.adapters.azureml_v2._session import AzureMLV2Session

__all__ = ["Runs"]


# --- Values -------------------------------------------------------------------------------------


# What azure-ai-ml calls a job it read from run history (a pipeline's child step).
_CHILD_JOB = "base"


# A data asset's id: ``azureml:/subscriptions/…/workspaces/…/data/NAME/versions/N`` (the form
# the service stores a job's input in) or ``azureml://registries/…/data/NAME/versions/N``.
_ASSET_ID = re.compile(r"/data/(?P<name>[^/]+)/versions/(?P<version>[^/]+)/?")
# What a user writes: ``azureml:NAME:VERSION`` (or ``azureml:NAME@LABEL``, its version unknown).
_ASSET_REF = re.compile(r"azureml:(?P<name>[^/:@]+)(?::(?P<version>[^/:@]+)|@[^/:@]+)")


def _data_identity(input_name: str, value: object) -> tuple[str, str | None]:
    """Name a job input's data: a data asset by name and version, else by input name and URI.

    Args:
        input_name: The input's name in the job.
        value: The input: an azure-ai-ml ``Input`` (its ``path``), or a literal value.

    Returns:
        (name, version): the asset's name and version (None for a label); for a path that
        names no asset (a datastore or web URI), the input's name and that path; for a
        literal, the input's name and the literal.
    """
    path = getattr(value, "path", value)
    text = "" if path is None else str(path)
    found = _ASSET_ID.search(text)
    if found is not None and text.startswith(("azureml:", "/subscriptions/")):
        return found["name"], found["version"]
    ref = _ASSET_REF.fullmatch(text)
    if ref is not None:
        return ref["name"], ref["version"]
    return input_name, text or None


def _status_text(job: Any) -> str:
    status = getattr(job, "status", None)
    return str(getattr(status, "value", status) or "Unknown")


# --- The ports ----------------------------------------------------------------------------------


class Runs:
    """`RunStore` over azure-ai-ml jobs, with metrics and files through the workspace's MLflow.

    Args:
        session: The backend's clients and gateway.
    """

    def __init__(self, session: AzureMLV2Session) -> None:
        self._session = session
        self._gateway = session.gateway
        # A finished job's files do not change: registering reads the listing made for the
        # model-file check again instead of asking twice.
        self._files: dict[str, list[str]] = {}
        self._output_files: dict[tuple[str, str], list[str]] = {}
        # Where a job's files are (its MLflow run's artifact URI, which never changes): the
        # metrics read learns it, so listing the files does not read the run again.
        self._artifact_uris: dict[str, str] = {}

    @property
    def _jobs(self) -> Any:
        return self._session.ml_client.jobs

    def get_run(
        self,
        *,
        experiment_name: str | None,
        run_id: str | None,
        pipeline_step: str | None = None,
    ) -> RunRecord:
        """Return the job, resolved to a pipeline's step or a sweep's best trial.

        With `run_id` None, the job this code runs in (`_current`).

        Raises:
            RunNotFoundError: No such job, another experiment, no current job, or no (or
                several) matching steps.
            RegistryError: Azure ML failed.
        """
        if run_id is None:
            return self._current(experiment_name, pipeline_step)
        job = self._load(run_id)
        kind = str(getattr(job, "type", "") or "").lower()
        experiment = getattr(job, "experiment_name", None)
        if kind == _CHILD_JOB:
            experiment = self._child_experiment(job, experiment_name)
        elif experiment_name is not None and experiment != experiment_name:
            raise RunNotFoundError(
                f"job {run_id!r} belongs to experiment {experiment!r}, not {experiment_name!r}",
                run_id=run_id,
                experiment_name=experiment_name,
            )
        if kind == "pipeline" and pipeline_step is not None:
            child = self._step(job, pipeline_step)
            hop = Hop.step(pipeline_step, str(child.name))
            return self._record(child, experiment, given=run_id, hop=hop)
        if kind == "sweep":
            best = self._best_trial(job)
            return self._record(best, experiment, given=run_id, hop=Hop.best_trial(str(best.name)))
        return self._record(job, experiment)

    def _current(self, experiment_name: str | None, pipeline_step: str | None) -> RunRecord:
        """Return the job this code runs in, or its pipeline's step `pipeline_step`.

        The job is named by the variables Azure ML sets in it (`current_job_name`). A step of a
        pipeline (its run-history record names a pipeline job as its parent: one request, and
        one for the parent) resolves to its sibling step `pipeline_step`, as the pipeline's own
        name would; a job outside a pipeline, or the step itself, is the candidate (it may
        still be running: `RunRecord.is_current`).

        Raises:
            RunNotFoundError: Not inside an Azure ML job, or the pipeline has no (or several)
                steps of that name.
        """
        import os  # noqa: PLC0415 - already loaded; only the job's own path reads it

        from aml_promotion.adapters.azureml_v2._job_context import (  # noqa: PLC0415
            JOB_RUN_ID_VARIABLES,
            current_job_name,
        )

        environ = self._session.environ
        name = current_job_name(os.environ if environ is None else environ)
        if name is None:
            msg = (
                "the Azure ML (SDK v2) backend needs the job's name (run_id), or to run inside "
                f"an Azure ML job (none of {', '.join(JOB_RUN_ID_VARIABLES)} is set)"
            )
            raise RunNotFoundError(msg, experiment_name=experiment_name)
        if pipeline_step is not None:
            pipeline = self._parent_pipeline(name)
            if pipeline is not None:
                experiment = getattr(pipeline, "experiment_name", None)
                if experiment_name is not None and experiment != experiment_name:
                    raise RunNotFoundError(
                        f"the pipeline {pipeline.name!r} of job {name!r} belongs to experiment "
                        f"{experiment!r}, not {experiment_name!r}",
                        run_id=str(pipeline.name),
                        experiment_name=experiment_name,
                    )
                step = self._step(pipeline, pipeline_step)
                if str(step.name) != name:
                    hop = Hop.step(pipeline_step, str(step.name))
                    return self._record(step, experiment, given=str(pipeline.name), hop=hop)
        record = self.get_run(experiment_name=experiment_name, run_id=name)
        return attrs.evolve(record, is_current=True)

    def _parent_pipeline(self, name: str) -> Any:
        """Return the pipeline job that job `name` is a step of (azure-ai-ml's entity), or None."""

        def parent() -> str | None:
            # azure-ai-ml keeps no public call for a job's parent: run history's record has it.
            history = self._jobs._runs_operations.get_run(name)  # noqa: SLF001
            return getattr(history, "parent_run_id", None) or None

        found = self._gateway.call(f"reading the parent of job {name!r}", parent)
        if found is None:
            return None
        job = self._load(found)
        return job if str(getattr(job, "type", "") or "").lower() == "pipeline" else None

    def get_metrics(
        self, run: RunRecord, names: Collection[str], *, series: Collection[str] = ()
    ) -> MetricValues:
        """Return the metrics `names`: their latest values in one request, series on demand.

        The latest value of every metric comes with one MLflow ``runs/get``; one
        ``metrics/get-history`` request is made per name in `series` that the job logged. A
        metric logged on several evaluation datasets (MLflow 3's ``log_metric(..., dataset=
        ...)``, kept on the job's logged models: one more request when it logged models) is
        unusable, as the MLflow backend says, never silently the last one logged.
        """
        return self.get_dataset_metrics(run, names, datasets={}, series=series)

    def get_dataset_metrics(
        self,
        run: RunRecord,
        names: Collection[str],
        *,
        datasets: Mapping[str, str],
        series: Collection[str] = (),
    ) -> MetricValues:
        """Return the metrics as `get_metrics` does, those in `datasets` read on that dataset.

        The job's metrics are read through the workspace's MLflow endpoint, exactly as the
        MLflow backend reads a run's (the same code): the two backends give one verdict on the
        same job.
        """
        held = self._mlflow_run(run, f"reading the metrics of job {run.run_id!r}")
        self._artifact_uris[run.run_id] = str(held.info.artifact_uri)
        return self._session.mlflow_runs().get_dataset_metrics(
            attrs.evolve(run, handle=held), names, datasets=datasets, series=series
        )

    def get_baseline_run(self, run_id: str) -> RunRecord:
        """Return the job behind a promoted version, read through MLflow alone (one request).

        A version a promotion registered records the job (pipeline step, sweep trial) that
        produced it, so there is nothing to resolve (the service asks `get_run` for other
        versions); the MLflow run read here carries the metrics `get_metrics` then takes, and
        the tags an ``evaluation_data`` tag source reads, without a request of their own. A run
        in MLflow's trash is read as the MLflow backend reads it (status "(deleted)").

        Raises:
            RunNotFoundError: No such job.
            RegistryError: Azure ML failed.
        """
        # The MLflow adapter's reading, with its own retries and errors (MLflow's HTTP retries
        # off): not inside this gateway's retry loop, which would compound with them.
        return self._session.mlflow_runs().get_run(experiment_name=None, run_id=run_id)

    def _mlflow_run(self, run: RunRecord, what: str) -> Any:
        """Return the job's MLflow run: the one `run` holds (`get_baseline_run`), else read."""
        if _is_mlflow_run(run.handle):
            return run.handle
        client = self._session.mlflow()
        return self._gateway.call(what, lambda: client.get_run(run.run_id))

    def list_files(self, run: RunRecord) -> Sequence[str]:
        """Return the job's files (its MLflow artifacts), in one request.

        azureml-mlflow lists every file of a job with one request and filters by folder on the
        client; that list is read once here rather than once per folder.
        """
        client = self._session.mlflow()

        def listing() -> list[str]:
            from mlflow.store.artifact.artifact_repository_registry import (  # noqa: PLC0415
                get_artifact_repository,
            )

            uri = self._artifact_uris.get(run.run_id)
            if uri is None:
                uri = self._artifact_uris[run.run_id] = str(
                    client.get_run(run.run_id).info.artifact_uri
                )
            repository: Any = get_artifact_repository(uri)
            files = getattr(repository, "artifacts", None)
            if files is not None and hasattr(files, "get_file_paths"):
                # A run's artifact URI names its root: the paths are relative to the run.
                return [str(p) for p in files.get_file_paths()]
            return _walk(repository)  # pragma: no cover - another artifact store

        if run.run_id in self._files:
            return list(self._files[run.run_id])
        paths = self._gateway.call(f"listing the files of job {run.run_id!r}", listing)
        files = sorted({p.replace("\\", "/") for p in paths})
        if run.status is RunStatus.COMPLETED:
            self._files[run.run_id] = files
        return files

    def list_output_files(self, run: RunRecord, output: str) -> Sequence[str]:
        """Return the files of the job's named output `output` (see `_outputs`), relative to it.

        The job's outputs come with a command job (no request); a pipeline's step costs one
        request to run history for them. Listing the output is a datastore look-up (two
        requests, and one more for the default datastore when the output has no path of its
        own) and one storage listing. A completed job's listing is kept: registering reads it
        again.

        Raises:
            ModelFileError: The job has no output of that name.
            RegistryError: Azure ML failed.
        """
        key = (run.run_id, output)
        if key in self._output_files:
            return list(self._output_files[key])
        from aml_promotion.adapters.azureml_v2._outputs import output_files  # noqa: PLC0415

        files = self._gateway.call(
            f"listing output {output!r} of job {run.run_id!r}",
            lambda: output_files(self._session.ml_client, run, output),
        )
        if run.status is RunStatus.COMPLETED:
            self._output_files[key] = files
        return list(files)

    def get_evaluation_data(
        self, run: RunRecord, source: EvaluationData
    ) -> Mapping[str, str | None]:
        """Return the job's input named `source.context` (data asset name → version).

        A job's inputs come with the job (no request when `run` came from `get_run`, one when
        it came from `get_baseline_run`, which reads no job); a data
        asset input (``azureml:NAME:VERSION``, or the asset id the service stores) is named by
        its name and version, another path by the input's name and the path (see
        `_data_identity`). A pipeline step read from run history carries no inputs: empty.
        With `source.tag`, the job's MLflow run tag of that name, else its parameter (one
        request, none when `run` came from `get_baseline_run`).

        Raises:
            RegistryError: Azure ML failed.
        """
        if source.tag is not None:
            held = self._mlflow_run(run, f"reading the tags of job {run.run_id!r}")
            value = held.data.tags.get(source.tag, held.data.params.get(source.tag))
            return {} if value is None else {source.tag: str(value)}
        job = (
            self._load(run.run_id)
            if run.handle is None or _is_mlflow_run(run.handle)
            else run.handle
        )
        inputs: Mapping[str, object] = getattr(job, "inputs", None) or {}
        found: dict[str, str | None] = {}
        for input_name, value in inputs.items():
            if input_name == source.context and value is not None:
                name, version = _data_identity(str(input_name), value)
                found[name] = version
        return found

    # --- helpers ------------------------------------------------------------------------------

    def _record(
        self, job: Any, experiment: str | None, *, given: str | None = None, hop: Hop | None = None
    ) -> RunRecord:
        """Return the job's record; reached by `hop` from job `given`, when both are given."""
        text = _status_text(job)
        return RunRecord(
            run_id=str(job.name),
            experiment_name=experiment,
            status=run_status(text),
            status_text=text,
            resolution=None
            if given is None or hop is None
            else Resolution(given=given, hops=(hop,)),
            handle=job,
        )

    def _load(self, name: str) -> Any:
        def load() -> Any:
            try:
                return self._jobs.get(name)
            except Exception as exc:
                if is_not_found(exc):
                    raise RunNotFoundError(
                        f"no job named {name!r} in workspace "
                        f"{self._session.ml_client.workspace_name!r}",
                        run_id=name,
                    ) from exc
                raise

        return self._gateway.call(f"reading job {name!r}", load)

    def _child_experiment(self, job: Any, experiment_name: str | None) -> str | None:
        """Check a pipeline child's experiment, which the SDK gives by id, against a name.

        ``jobs.get`` reads a pipeline's child from run history, where the SDK puts the
        experiment's id in ``experiment_name``; the name is looked up through MLflow (one
        request), and only when there is one to check.
        """
        if experiment_name is None:
            return None
        client = self._session.mlflow()
        found = self._gateway.call(
            f"reading experiment {experiment_name!r}",
            functools.partial(client.get_experiment_by_name, experiment_name),
        )
        if found is None or str(found.experiment_id) != str(job.experiment_name):
            raise RunNotFoundError(
                f"job {job.name!r} does not belong to experiment {experiment_name!r}",
                run_id=str(job.name),
                experiment_name=experiment_name,
            )
        return experiment_name

    def _children(self, parent: Any) -> list[Any]:
        return self._gateway.call(
            f"listing the child jobs of {parent.name!r}",
            lambda: list(self._jobs.list(parent_job_name=parent.name)),
        )

    def _step(self, pipeline: Any, step: str) -> Any:
        children = self._children(pipeline)
        names = sorted({str(c.display_name) for c in children if c.display_name})
        matches = [c for c in children if step in (c.name, c.display_name)]
        if len(matches) != 1:
            found = "no step" if not matches else f"{len(matches)} steps"
            raise RunNotFoundError(
                f"pipeline job {pipeline.name!r} has {found} named {step!r} "
                f"(pipeline_child_run_name); its steps are: {', '.join(names) or 'none'}",
                run_id=str(pipeline.name),
                experiment_name=getattr(pipeline, "experiment_name", None),
                candidates=names,
            )
        return matches[0]

    def _best_trial(self, sweep: Any) -> Any:
        """Return a sweep's best trial: the one the service recorded, else the best completed.

        A recorded best trial that did not complete (it failed after logging its metric, or
        was canceled) is passed over for the best completed trial by the primary metric.
        """
        properties = dict(getattr(sweep, "properties", None) or {})
        best = properties.get("best_child_run_id")
        if best:
            recorded = self._load(str(best))
            if run_status(_status_text(recorded)) is RunStatus.COMPLETED:
                return recorded
        objective = getattr(sweep, "objective", None)
        metric = getattr(objective, "primary_metric", None)
        goal = str(getattr(objective, "goal", "maximize") or "maximize").lower()
        if not metric:
            best_text = f"a best trial ({best!r}) that completed" if best else "its best trial"
            raise RunNotFoundError(
                f"sweep job {sweep.name!r} records neither {best_text} nor its primary metric",
                run_id=str(sweep.name),
            )
        trials = [
            t for t in self._children(sweep) if run_status(_status_text(t)) is RunStatus.COMPLETED
        ]
        pick = max if goal == "maximize" else min
        scored: list[tuple[float, Any]] = []
        for trial in trials:
            record = RunRecord(run_id=str(trial.name))
            value: Any = self.get_metrics(record, [metric]).values.get(metric)
            if is_usable_number(value):
                scored.append((float(value), trial))
        if not scored:
            raise RunNotFoundError(
                f"sweep job {sweep.name!r} has no best trial: none of its {len(trials)} "
                f"completed trials logged its primary metric {metric!r}",
                run_id=str(sweep.name),
                candidates=[str(t.name) for t in trials],
            )
        return pick(scored, key=lambda pair: pair[0])[1]


def _is_mlflow_run(handle: object) -> bool:
    """Whether a record's handle is an MLflow run (`get_baseline_run`), not an azure-ai-ml job."""
    from mlflow.entities import Run  # noqa: PLC0415 - loaded with the backend

    return isinstance(handle, Run)


def _walk(repository: Any) -> list[str]:  # pragma: no cover - another artifact store
    files: list[str] = []
    folders: list[str | None] = [None]
    while folders:
        folder = folders.pop()
        for entry in repository.list_artifacts(folder):
            (folders if entry.is_dir else files).append(str(entry.path))
    return files
