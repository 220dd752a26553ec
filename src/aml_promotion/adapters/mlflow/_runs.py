"""`Runs`: the `RunStore` part of `MlflowBackend`: runs, metrics, files, logged models."""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from aml_promotion._domain.metrics import Unusable
from aml_promotion._domain.policy import EvaluationData
from aml_promotion._retry import LOGGER_NAME
from aml_promotion.adapters._redaction import redact
from aml_promotion.adapters.mlflow._errors import _InvalidError, _NotFoundError
from aml_promotion.adapters.mlflow._filters import _quote
from aml_promotion.exceptions import RegistryError, RunNotFoundError, TransientRegistryError
from aml_promotion.ports import Hop, LoggedModel, MetricValues, Resolution, RunRecord, RunStatus

if TYPE_CHECKING:
    from aml_promotion.adapters.mlflow._session import MlflowSession

__all__ = ["Runs"]

# A pipeline's steps are its child runs; one page of them is read. A bigger family is searched
# again by name, so a wide hyperparameter sweep costs one more bounded query, not a full listing.
_CHILD_PAGE = 100
_LOGGED_MODELS = 50  # MLflow 3 logged models of one run (log_model calls): a handful at most

_STATUS = {
    "FINISHED": RunStatus.COMPLETED,
    "RUNNING": RunStatus.RUNNING,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.CANCELED,
}
_DELETED = "deleted"  # a run's lifecycle stage once deleted

_DATA_CONTEXT_TAG = "mlflow.data.context"
"""The input tag MLflow gives a dataset input logged with ``context=...``."""


def _in_mlflow_order(metrics: Sequence[Any]) -> list[Any]:
    # MLflow's own order for its latest value: (step, timestamp, value), so a series ends with
    # the value run.data.metrics holds, also when both tie.
    return sorted(metrics, key=lambda metric: (metric.step, metric.timestamp, metric.value))


def _logged_a_model(run: Any) -> bool:
    """Whether the run logged a model as its output (MLflow 3's ``run.outputs.model_outputs``)."""
    return bool(getattr(getattr(run, "outputs", None), "model_outputs", None))


def _listing(datasets: Collection[tuple[str, str]]) -> str:
    return ", ".join(f"{name}@{digest}" if digest else name for name, digest in sorted(datasets))


class Runs:
    """Where runs are read: the `RunStore` of `MlflowBackend`, with datasets and logged models.

    Args:
        session: The backend's connection to MLflow.
    """

    def __init__(self, session: MlflowSession) -> None:
        self._session = session
        self._gateway = session.gateway
        # The logged models of the runs read last, by the identity of the run object read: a
        # promotion asks for them up to three times (metrics, files, what to register), MLflow
        # once. A run read again (a new object, as each promotion reads it) is asked again.
        self._logged: list[tuple[Any, list[Any]]] = []
        # The runs of the logged models read by id (`get_logged_model`): their logged models
        # are searched even when the run's outputs name none (a model made apart from it).
        self._named: set[str] = set()

    def get_run(
        self,
        *,
        experiment_name: str | None,
        run_id: str | None,
        pipeline_step: str | None = None,
    ) -> RunRecord:
        """Return the run, resolved to its child run named `pipeline_step` if it has children.

        Args:
            experiment_name: The experiment the run must belong to; None to not check.
            run_id: The run's id; None for MLflow's active run (``mlflow.active_run()``).
            pipeline_step: The run name of the child run (MLflow's nested runs stand for
                pipeline steps) that holds the model; a run with no children is used as is.

        Raises:
            RunNotFoundError: No such run, no active run, a run of another experiment, or no
                (or several) children named `pipeline_step`.
            RegistryError: MLflow failed.
        """
        current = run_id is None
        if run_id is None:
            active = self._session.sdk.active_run()
            if active is None:
                raise RunNotFoundError(
                    "no current run: there is no active MLflow run (mlflow.start_run()); "
                    "pass experiment_name and run_id"
                )
            run_id = str(active.info.run_id)
        run = self._fetch_run(run_id)
        if experiment_name is not None:
            self._check_experiment(run, experiment_name)
        if pipeline_step is not None:
            child = self._child_step(run, pipeline_step)
            if child is not None:
                step = self._record(child, experiment_name, current=False)
                hop = Hop.step(pipeline_step, step.run_id)
                return attrs.evolve(step, resolution=Resolution(given=run_id, hops=(hop,)))
        return self._record(run, experiment_name, current=current)

    def _fetch_run(self, run_id: str) -> Any:
        try:
            return self._gateway.call(
                f"read run {run_id!r}", lambda: self._session.client.get_run(run_id)
            )
        except (_NotFoundError, _InvalidError) as exc:
            raise RunNotFoundError(
                f"no MLflow run with id {run_id!r} at {redact(self._session.tracking_uri)}",
                run_id=run_id,
            ) from exc

    def _check_experiment(self, run: Any, experiment_name: str) -> None:
        experiment_id = run.info.experiment_id
        experiment = self._gateway.call(
            f"read experiment {experiment_id}",
            lambda: self._session.client.get_experiment(experiment_id),
        )
        actual = str(experiment.name)
        if actual != experiment_name:
            run_id = str(run.info.run_id)
            raise RunNotFoundError(
                f"run {run_id!r} belongs to experiment {actual!r}, not {experiment_name!r}",
                run_id=run_id,
                experiment_name=experiment_name,
            )

    def _child_step(self, run: Any, step: str) -> Any | None:
        run_id = str(run.info.run_id)
        experiment_ids = [str(run.info.experiment_id)]
        parent = f"tags.mlflow.parentRunId = '{run_id}'"
        children = self._gateway.call(
            f"list the child runs of run {run_id!r}",
            lambda: self._session.client.search_runs(
                experiment_ids, filter_string=parent, max_results=_CHILD_PAGE
            ),
        )
        if not children:
            return None
        matches = [child for child in children if child.info.run_name == step]
        quoted = _quote(step)
        if len(children) >= _CHILD_PAGE and len(matches) < 2 and quoted is not None:  # noqa: PLR2004
            # More children than one page: ask for the step by name, so none is missed.
            by_name = f"{parent} AND attributes.run_name = {quoted}"
            matches = list(
                self._gateway.call(
                    f"find child run {step!r} of run {run_id!r}",
                    lambda: self._session.client.search_runs(
                        experiment_ids, filter_string=by_name, max_results=2
                    ),
                )
            )
        if len(matches) == 1:
            return matches[0]
        names = sorted({str(child.info.run_name) for child in children})
        found = "no child run" if not matches else f"{len(matches)} child runs"
        more = " (first page)" if len(children) >= _CHILD_PAGE else ""
        raise RunNotFoundError(
            f"run {run_id!r} has {found} named {step!r}; its child runs{more} are: "
            f"{', '.join(names)}",
            run_id=run_id,
            candidates=names,
        )

    @staticmethod
    def _record(run: Any, experiment_name: str | None, *, current: bool) -> RunRecord:
        status_text = str(run.info.status)
        status = _STATUS.get(status_text, RunStatus.OTHER)
        if str(run.info.lifecycle_stage) == _DELETED:
            # A deleted run (in MLflow's trash) is not promoted unless forced, whatever it did.
            status, status_text = RunStatus.OTHER, f"{status_text} (deleted)"
        return RunRecord(
            run_id=str(run.info.run_id),
            experiment_name=experiment_name,
            status=status,
            status_text=status_text,
            is_current=current,
            handle=run,
        )

    def run_of(self, record: RunRecord) -> Any:
        from mlflow.entities import Run  # noqa: PLC0415

        if isinstance(record.handle, Run):
            return record.handle
        return self._fetch_run(record.run_id)

    def get_metrics(
        self, run: RunRecord, names: Collection[str], *, series: Collection[str] = ()
    ) -> MetricValues:
        """Return the last values of the metrics `names`, and the whole series for `series`.

        The last values come with the run (no request when `run` came from `get_run`); one
        ``get_metric_history`` request is made per name in `series` that the run logged. A
        series is ordered as MLflow orders it for the last value (step, timestamp, value): its
        last element is MLflow's latest value, the one the run's data holds.

        A run that logged models (MLflow 3) costs one more request, for the metrics kept on
        them: a metric logged on several evaluation datasets (``log_metric(..., dataset=...)``)
        is unusable here, with a reason that lists the datasets, never silently the last one
        logged (see `get_dataset_metrics` to choose one).

        Raises:
            RegistryError: MLflow failed.
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

        MLflow 3 keeps a dataset-scoped metric, with the dataset's name and digest, on the
        logged model it was logged for. For a metric in `datasets` the value (or, in `series`,
        the values) logged on that dataset by this run count; none logged on it, or two versions
        of it (two digests), leave it unusable with a reason.

        Raises:
            RegistryError: MLflow failed.
        """
        held = self.run_of(run)
        logged: Mapping[str, float] = held.data.metrics
        scoped = self._scoped_metrics(held, names)
        values: dict[str, object] = {}
        for name in names:
            on_datasets = scoped.get(name, {})
            wanted = datasets.get(name)
            if wanted is not None:
                values[name] = self._on_dataset(name, wanted, on_datasets, series=name in series)
            elif len(on_datasets) > 1:
                values[name] = Unusable(
                    reason=(
                        f"logged on {len(on_datasets)} datasets ({_listing(on_datasets)}): "
                        f'choose one with the rule\'s "dataset"'
                    )
                )
            elif name in logged:
                values[name] = logged[name]
        for name in series:
            if name in values and name not in datasets and not isinstance(values[name], Unusable):
                history = self._gateway.call(
                    f"read the history of metric {name!r} of run {run.run_id!r}",
                    functools.partial(self._session.client.get_metric_history, run.run_id, name),
                )
                values[name] = [metric.value for metric in _in_mlflow_order(history)]
        return MetricValues(values=values, available=frozenset(logged))

    @staticmethod
    def _on_dataset(
        name: str, wanted: str, on_datasets: Mapping[tuple[str, str], list[Any]], *, series: bool
    ) -> object:
        matches = {key: found for key, found in on_datasets.items() if key[0] == wanted}
        if len(matches) == 1:
            ordered = _in_mlflow_order(next(iter(matches.values())))
            return [m.value for m in ordered] if series else ordered[-1].value
        if matches:
            return Unusable(
                reason=(
                    f"logged on {len(matches)} versions of dataset {wanted!r} "
                    f"({_listing(matches)}): one digest is needed"
                )
            )
        where = f"; it was logged on {_listing(on_datasets)}" if on_datasets else ""
        return Unusable(reason=f"{name!r} was not logged on dataset {wanted!r}{where}")

    def _scoped_metrics(
        self, run: Any, names: Collection[str]
    ) -> dict[str, dict[tuple[str, str], list[Any]]]:
        """Return this run's dataset-scoped values of `names`: name → (dataset, digest) → values."""
        if not names or not self._may_have_logged_models(run):
            return {}  # the run logged no model: no request
        run_id = str(run.info.run_id)
        scoped: dict[str, dict[tuple[str, str], list[Any]]] = {}
        for model in self.logged_models(run):
            for metric in model.metrics or ():
                dataset = getattr(metric, "dataset_name", None)
                if not dataset or metric.key not in names or str(metric.run_id) != run_id:
                    continue
                key = (str(dataset), str(getattr(metric, "dataset_digest", None) or ""))
                scoped.setdefault(str(metric.key), {}).setdefault(key, []).append(metric)
        return scoped

    def list_files(self, run: RunRecord) -> Sequence[str]:
        """Return every file of the run: its artifacts, and the files of its logged models.

        Artifacts are listed recursively, one request per folder. MLflow 3's ``log_model``
        keeps a model apart from the run's artifacts, as a "logged model" of the run: its files
        are listed under the model's name (``model/MLmodel``, ``model/model.pkl``...), the paths
        that ``runs:/<run id>/<name>/...`` resolves, so they can be registered like artifacts.
        Finding the run's logged models costs one more request, made only when the run logged
        a model as its output (see `logged_models`).

        Raises:
            RegistryError: MLflow failed.
        """
        held = self.run_of(run)
        files = self._tree(str(held.info.artifact_uri), f"list the artifacts of run {run.run_id!r}")
        for model in self.logged_models(held):
            what = f"list the files of logged model {model.name!r} of run {run.run_id!r}"
            files.extend(
                f"{model.name}/{path}" for path in self._tree(model.artifact_location, what)
            )
        return sorted(set(files))

    def get_evaluation_data(
        self, run: RunRecord, source: EvaluationData
    ) -> Mapping[str, str | None]:
        """Return the run's dataset inputs of context `source.context` (name → digest).

        A dataset input's context is its input tag ``mlflow.data.context`` (``mlflow.log_input
        (dataset, context="eval")``). With `source.tag`, the run's tag of that name, else its
        parameter. The inputs and tags come with the run: no request when `run` came from
        `get_run`.

        Raises:
            RegistryError: MLflow failed.
        """
        held = self.run_of(run)
        if source.tag is not None:
            value = held.data.tags.get(source.tag, held.data.params.get(source.tag))
            return {} if value is None else {source.tag: str(value)}
        found: dict[str, str | None] = {}
        inputs = getattr(held, "inputs", None)
        for dataset_input in getattr(inputs, "dataset_inputs", None) or ():
            contexts = {
                tag.value for tag in dataset_input.tags or () if tag.key == _DATA_CONTEXT_TAG
            }
            if source.context in contexts:
                dataset = dataset_input.dataset
                found[str(dataset.name)] = str(dataset.digest) if dataset.digest else None
        return found

    def _tree(self, artifact_uri: str, what: str) -> list[str]:
        """Return the paths of every file under `artifact_uri`, relative to it."""
        repository = self._gateway.call(what, functools.partial(self.repository, artifact_uri))
        files: list[str] = []
        folders: list[str | None] = [None]
        while folders:
            folder = folders.pop()
            entries = self._gateway.call(what, functools.partial(repository.list_artifacts, folder))
            for entry in entries:
                (folders if entry.is_dir else files).append(str(entry.path).replace("\\", "/"))
        return files

    def repository(self, artifact_uri: str) -> Any:
        # What MlflowClient.list_artifacts builds, built once: the client's own method reads
        # the run again (and, in MLflow 3, searches its logged models) for every folder.
        from mlflow.store.artifact.artifact_repository_registry import (  # noqa: PLC0415
            get_artifact_repository,
        )
        from mlflow.utils.uri import add_databricks_profile_info_to_artifact_uri  # noqa: PLC0415

        with_profile: Any = add_databricks_profile_info_to_artifact_uri  # untyped in MLflow
        uri = with_profile(artifact_uri, self._session.tracking_uri)
        return get_artifact_repository(uri, tracking_uri=self._session.tracking_uri)

    def logged_models(self, run: Any) -> list[Any]:
        """Return the READY logged models of `run` (an MLflow run), asked once per run object.

        A run that logged no model as its output (``run.outputs.model_outputs``, which every
        ``mlflow.<flavor>.log_model`` under a run writes) has none, and costs no request: a
        logged model made apart from the run (``create_logged_model`` with its
        ``source_run_id``, never logged as the run's output) is not one of the run's models,
        unless it was named by its id (`get_logged_model`).
        """
        if not self._may_have_logged_models(run):
            return []
        for held, models in self._logged:
            if held is run:
                return list(models)
        models = self._search_logged_models(run)
        # Two entries: the candidate's run and the baseline's; the run object is kept alive by
        # the entry, so its identity cannot be taken by another object meanwhile.
        self._logged = [*self._logged[-1:], (run, models)]
        return list(models)

    def _may_have_logged_models(self, run: Any) -> bool:
        return _logged_a_model(run) or str(run.info.run_id) in self._named

    def _search_logged_models(self, run: Any) -> list[Any]:
        run_id = str(run.info.run_id)
        try:
            found = self._gateway.call(
                f"find the logged models of run {run_id!r}",
                functools.partial(
                    self._session.client.search_logged_models,
                    experiment_ids=[str(run.info.experiment_id)],
                    filter_string=f"source_run_id = '{run_id}'",
                    max_results=_LOGGED_MODELS,
                ),
            )
        except TransientRegistryError:
            raise
        except RegistryError as exc:
            # Logged models are MLflow 3's: an MLflow 2 server, or a hosted endpoint that lacks
            # them (or their filter), has none to offer. The run's own artifacts still count.
            logging.getLogger(LOGGER_NAME).debug("no logged models for run %s: %s", run_id, exc)
            return []
        # A model still being logged (PENDING) or whose logging failed has no complete files.
        return [model for model in found if str(model.status) == "READY"]

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """Return the logged model `model_id` (MLflow 3): its name and the run that logged it.

        Raises:
            RunNotFoundError: No logged model has that id.
            RegistryError: MLflow failed.
        """
        try:
            model = self._gateway.call(
                f"read logged model {model_id!r}",
                lambda: self._session.client.get_logged_model(model_id),
            )
        except (_NotFoundError, _InvalidError) as exc:
            raise RunNotFoundError(
                f"no MLflow logged model with id {model_id!r} at "
                f"{redact(self._session.tracking_uri)}"
            ) from exc
        run_id = model.source_run_id
        if run_id:
            self._named.add(str(run_id))
        return LoggedModel(
            model_id=str(model.model_id),
            name=str(model.name),
            run_id=str(run_id) if run_id else None,
        )

    def logged_model_id(self, record: RunRecord, path: str) -> str | None:
        """Return the id of the run's logged model named `path`, as mlflow.register_model picks.

        None when `path` names no logged model of the run (a plain artifact or folder). When
        several share the name, the one logged at the largest step wins (then the newest).
        """
        if not path or "/" in path:
            return None
        held = self.run_of(record)
        named = [model for model in self.logged_models(held) if str(model.name) == path]
        if not named:
            return None
        outputs = getattr(held, "outputs", None)
        steps = {
            str(output.model_id): int(output.step or 0)
            for output in (getattr(outputs, "model_outputs", None) or [])
        }
        best = max(
            named,
            key=lambda model: (
                steps.get(str(model.model_id), 0),
                int(model.creation_timestamp or 0),
            ),
        )
        return str(best.model_id)
