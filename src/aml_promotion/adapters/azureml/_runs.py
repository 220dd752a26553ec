"""`RunStore` over azureml-core: runs, their metrics, files and input datasets."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aml_promotion._domain.metrics import is_usable_number
from aml_promotion._domain.policy import EvaluationData
from aml_promotion.adapters._azure import run_status
from aml_promotion.adapters.azureml._gateway import is_not_found
from aml_promotion.exceptions import RunNotFoundError
from aml_promotion.ports import Hop, MetricValues, Resolution, RunRecord, RunStatus

if TYPE_CHECKING:
    from aml_promotion.adapters.azureml._session import AzureMLSession

__all__ = ["Runs"]


# --- Values -----------------------------------------------------------------------------------

_PIPELINE_RUN = "azureml.PipelineRun"
_HYPERDRIVE_RUN = "hyperdrive"


class Runs:
    """`RunStore` over azureml-core.

    Args:
        session: The backend's workspace and gateway.
    """

    def __init__(self, session: AzureMLSession) -> None:
        self._session = session
        self._gateway = session.gateway
        self._experiments: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def _workspace(self) -> Any:
        return self._session.workspace

    def get_run(
        self,
        *,
        experiment_name: str | None,
        run_id: str | None,
        pipeline_step: str | None = None,
    ) -> RunRecord:
        """Return the run, resolved to a pipeline step or a HyperDrive run's best child.

        With `run_id` None this is the run the code is running in (never resolved further: a
        training script runs in the step or child that holds its model).
        """
        if run_id is None:
            current = self._session.current_run()
            found = current.experiment.name
            if experiment_name is not None and found != experiment_name:
                raise RunNotFoundError(
                    f"the current run {current.id!r} belongs to experiment {found!r}, "
                    f"not {experiment_name!r}",
                    run_id=current.id,
                    experiment_name=experiment_name,
                )
            return self._record(current, current=True)
        run = self._load(run_id, experiment_name)
        resolution = None
        if run.type == _PIPELINE_RUN and pipeline_step is not None:
            run = self._step(run, pipeline_step)
            resolution = Resolution.hop(resolution, run_id, Hop.step(pipeline_step, run.id))
        if run.type == _HYPERDRIVE_RUN:
            run = self._best_child(run)
            resolution = Resolution.hop(resolution, run_id, Hop.best_trial(run.id))
        return self._record(run, resolution=resolution)

    def get_metrics(
        self, run: RunRecord, names: Collection[str], *, series: Collection[str] = ()
    ) -> MetricValues:
        """Return the values of the metrics `names`, with one request per name.

        A metric logged once is its value, one logged several times a list (the series); a name
        in `series` always comes back as a list. Which other metrics the run logged is not
        asked (it would cost a request more), so `available` is None.
        """
        handle = self.handle(run)
        if run.is_current:
            # A script's metrics are uploaded in the background: send what is queued first.
            self._gateway.call(f"flushing the metrics of run {run.run_id!r}", handle.flush)
        values: dict[str, object] = {}
        for name in dict.fromkeys(names):
            got = self._gateway.call(
                f"reading metric {name!r} of run {run.run_id!r}",
                functools.partial(handle.get_metrics, name=name),
            )
            if name in got:
                value = got[name]
                values[name] = [value] if name in series and not isinstance(value, list) else value
        return MetricValues(values=values, available=None)

    def list_files(self, run: RunRecord) -> Sequence[str]:
        """Return the run's file paths."""
        handle = self.handle(run)
        return list(
            self._gateway.call(f"listing the files of run {run.run_id!r}", handle.get_file_names)
        )

    def get_evaluation_data(
        self, run: RunRecord, source: EvaluationData
    ) -> Mapping[str, str | None]:
        """Return the run's input datasets named `source.context` (dataset name → version).

        The input name is the one a job gave the dataset (``dataset.as_named_input("eval")``).
        A registered dataset is named by its name and version; an unregistered one by the input
        name and its snapshot id. One request for the run's details, one per input dataset.
        With `source.tag`, the run's tag of that name, else its property.
        """
        handle = self.handle(run)
        if source.tag is not None:
            tags = self._gateway.call(f"reading the tags of run {run.run_id!r}", handle.get_tags)
            value = tags.get(source.tag)
            if value is None:
                properties = self._gateway.call(
                    f"reading the properties of run {run.run_id!r}", handle.get_properties
                )
                value = properties.get(source.tag)
            return {} if value is None else {source.tag: str(value)}

        def inputs() -> list[tuple[str, str | None]]:
            found = []
            for entry in handle.get_details().get("inputDatasets") or ():
                details = entry.get("consumptionDetails") or {}
                if details.get("inputName") != source.context:
                    continue
                dataset = entry.get("dataset")
                name = getattr(dataset, "name", None)
                version = getattr(dataset, "version", None)
                if name:
                    found.append((str(name), None if version is None else str(version)))
                else:
                    saved = getattr(dataset, "id", None)
                    found.append((str(source.context), None if saved is None else str(saved)))
            return found

        return dict(self._gateway.call(f"reading the input datasets of run {run.run_id!r}", inputs))

    # --- helpers -------------------------------------------------------------------------------

    def _record(
        self, run: Any, *, current: bool = False, resolution: Resolution | None = None
    ) -> RunRecord:
        text = run.status or "Unknown"
        return RunRecord(
            run_id=run.id,
            experiment_name=run.experiment.name,
            status=run_status(text),
            status_text=text,
            is_current=current,
            resolution=resolution,
            handle=run,
        )

    def handle(self, run: RunRecord) -> Any:
        if run.handle is not None and hasattr(run.handle, "get_metrics"):
            return run.handle
        return self._load(run.run_id, run.experiment_name)

    def _experiment(self, experiment_id: str) -> Any:
        from azureml._restclient.workspace_client import WorkspaceClient  # noqa: PLC0415
        from azureml.core import Experiment  # noqa: PLC0415

        with self._lock:
            if experiment_id in self._experiments:
                return self._experiments[experiment_id]
        dto = WorkspaceClient(self._workspace.service_context).get_experiment_by_id(experiment_id)
        # Built from what the service said: Experiment(ws, name) would create a missing one.
        experiment = Experiment(
            self._workspace,
            dto.name,
            _id=dto.experiment_id,
            _archived_time=dto.archived_time,
            _create_in_cloud=False,
            _experiment_dto=dto,
        )
        with self._lock:
            return self._experiments.setdefault(experiment_id, experiment)

    def _load(self, run_id: str, experiment_name: str | None) -> Any:
        """Load a run as a plain `Run`: 1 request, plus 1 the first time its experiment is seen.

        ``Run.get`` would rehydrate a pipeline run as ``PipelineRun`` (2 requests more) and a
        step as ``StepRun`` (3 more); nothing here needs what they add.
        """
        from azureml._restclient.workspace_client import WorkspaceClient  # noqa: PLC0415
        from azureml.core import Run  # noqa: PLC0415

        def load() -> Any:
            client = WorkspaceClient(self._workspace.service_context)
            try:
                dto = client.get_run(run_id)
            except Exception as exc:
                if is_not_found(exc):
                    raise RunNotFoundError(
                        f"no run with id {run_id!r} in workspace {self._workspace.name!r}",
                        run_id=run_id,
                        experiment_name=experiment_name,
                    ) from exc
                raise
            return Run(self._experiment(dto.experiment_id), dto.run_id, _run_dto=dto)

        run = self._gateway.call(f"reading run {run_id!r}", load)
        found = run.experiment.name
        if experiment_name is not None and found != experiment_name:
            raise RunNotFoundError(
                f"run {run_id!r} belongs to experiment {found!r}, not {experiment_name!r}",
                run_id=run_id,
                experiment_name=experiment_name,
            )
        return run

    def _children(self, run: Any) -> list[Any]:
        return self._gateway.call(
            f"listing the child runs of {run.id!r}",
            lambda: list(run.get_children(_rehydrate_runs=False)),
        )

    def _step(self, pipeline: Any, step: str) -> Any:
        children = self._children(pipeline)
        names = sorted({child.name for child in children if child.name})
        matches = [child for child in children if child.name == step]
        if len(matches) != 1:
            found = "no step" if not matches else f"{len(matches)} steps"
            raise RunNotFoundError(
                f"pipeline run {pipeline.id!r} has {found} named {step!r} "
                f"(pipeline_child_run_name); its steps are: {', '.join(names) or 'none'}",
                run_id=pipeline.id,
                experiment_name=pipeline.experiment.name,
                candidates=names,
            )
        return matches[0]

    def _best_child(self, sweep: Any) -> Any:
        """Return a HyperDrive run's best child: the one the service recorded, else computed.

        A finished sweep records ``best_child_run_id``; otherwise the primary metric is read
        from each completed child (one request each) and the best value wins, as HyperDrive's
        own ``get_best_run_by_primary_metric`` does.
        """
        properties = dict(sweep.properties or {})
        best = properties.get("best_child_run_id")
        if best:
            return self._load(str(best), sweep.experiment.name)
        try:
            config = json.loads(properties.get("primary_metric_config") or "null")
            metric, goal = str(config["name"]), str(config.get("goal", "maximize")).lower()
        except (ValueError, TypeError, KeyError):
            raise RunNotFoundError(
                f"HyperDrive run {sweep.id!r} records neither its best child run nor its "
                "primary metric",
                run_id=sweep.id,
                experiment_name=sweep.experiment.name,
            ) from None
        children = [c for c in self._children(sweep) if run_status(c.status) is RunStatus.COMPLETED]
        pick = max if goal == "maximize" else min
        scored: list[tuple[float, Any]] = []
        for child in children:
            got = self._gateway.call(
                f"reading metric {metric!r} of run {child.id!r}",
                functools.partial(child.get_metrics, name=metric),
            )
            value = got.get(metric)
            values = value if isinstance(value, list) else [value]
            numbers = [float(v) for v in values if is_usable_number(v)]
            if numbers:
                scored.append((pick(numbers), child))
        if not scored:
            raise RunNotFoundError(
                f"HyperDrive run {sweep.id!r} has no best child run: none of its "
                f"{len(children)} completed child runs logged its primary metric {metric!r}",
                run_id=sweep.id,
                experiment_name=sweep.experiment.name,
                candidates=[c.id for c in children],
            )
        return pick(scored, key=lambda pair: pair[0])[1]
