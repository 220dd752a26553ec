"""Public in-memory fakes of the ports, for testing pipelines that call `promote()`.

>>> from aml_promotion import promote
>>> from aml_promotion.testing import InMemoryBackend
>>> backend = InMemoryBackend()
>>> _ = backend.runs.add_run("run-1", experiment_name="train", metrics={"auc": 0.91},
...                          files=["outputs/model.pkl"])
>>> result = promote(experiment_name="train", run_id="run-1", backend=backend,
...                  settings={"model_name": "churn", "metrics_max": ["auc"]})
>>> result.model.version
1

They behave like the real backends where `promote()` can tell the difference (versions numbered
from 1, the latest is the highest, runs checked against their experiment, pipeline steps found by
name), record every call in `calls`, and can be told to fail (`fail_next`), or to do a call and
then fail as if its answer were lost (`lose_next`).

Promotion across environments takes two backends: the registry of each can offer a version as
the candidate (`InMemoryRegistry.get_version`) and take a copy of one from another
(`InMemoryRegistry.copy`, found again by `find_by_source`):

>>> dev, prod = InMemoryBackend(location="memory://dev"), InMemoryBackend(location="memory://prod")
>>> _ = dev.registry.add_version("churn", tags={"promotion.metric.auc": "0.91"})
>>> result = promote(candidate_version="churn:1", backend=dev, target=prod,
...                  settings={"metrics_max": ["auc"]})
>>> prod.registry.get("churn", 1).tags["promotion.source.key"]
'memory://dev#churn/1'
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

import attrs

from aml_promotion._domain.policy import BaselineKind, BaselineStrategy, EvaluationData
from aml_promotion._domain.tags import SOURCE_KEY
from aml_promotion._retry import testing_mode
from aml_promotion.exceptions import (
    BaselineNotFoundError,
    RegistryError,
    RunNotFoundError,
    VersionNotFoundError,
)
from aml_promotion.ports import (
    CopyRequest,
    Hop,
    MetricValues,
    ModelVersion,
    RegistrationRequest,
    Resolution,
    RunRecord,
    RunStatus,
    SourceVersion,
    VersionRef,
    unsupported_strategy,
)

__all__ = [
    "FakeRun",
    "InMemoryBackend",
    "InMemoryRegistry",
    "InMemoryRunStore",
    "testing_mode",
]


@attrs.define(kw_only=True)
class FakeRun:
    """A run held by `InMemoryRunStore`.

    Attributes:
        run_id: Its id.
        experiment_name: Its experiment.
        metrics: Name → value; a list is a series.
        files: Paths of its files.
        status: Its status (a `RunStatus` or the backend's word for it).
        steps: For a pipeline run: step name → child run id.
        best_child: For a HyperDrive parent: the id of its best child, or None if it has none.
        is_hyperdrive: Whether this is a HyperDrive parent.
        inputs: The datasets it took as inputs: context → {dataset name → digest or version}.
        tags: Its tags (and parameters): name → value.
    """

    run_id: str
    experiment_name: str = "default"
    metrics: dict[str, object] = attrs.field(factory=dict)
    files: list[str] = attrs.field(factory=list)
    status: str = RunStatus.COMPLETED.value
    steps: dict[str, list[str]] = attrs.field(factory=dict)
    best_child: str | None = None
    is_hyperdrive: bool = False
    inputs: dict[str, dict[str, str | None]] = attrs.field(factory=dict)
    tags: dict[str, str] = attrs.field(factory=dict)


def _status(text: str) -> RunStatus:
    for status in RunStatus:
        if status.value.lower() == text.lower():
            return status
    return RunStatus.OTHER


class _Faults:
    """The log of port calls, and errors to raise at the next calls of named operations."""

    def __init__(self) -> None:
        self._pending: dict[str, list[Exception]] = {}
        self._lost: dict[str, list[Exception]] = {}
        self.calls: list[tuple[object, ...]] = []

    def add(self, operation: str, error: Exception, times: int) -> None:
        self._pending.setdefault(operation, []).extend([error] * times)

    def lose(self, operation: str, error: Exception) -> None:
        self._lost.setdefault(operation, []).append(error)

    def call(self, operation: str, *details: object) -> None:
        self.calls.append((operation, *details))
        pending = self._pending.get(operation)
        if pending:
            raise pending.pop(0)

    def done(self, operation: str) -> None:
        """Raise the error of a lost answer, if one is due: the call itself has been done."""
        lost = self._lost.get(operation)
        if lost:
            raise lost.pop(0)


class InMemoryRunStore:
    """A `RunStore` that holds runs in memory."""

    def __init__(self, faults: _Faults | None = None) -> None:
        """Create an empty store (`faults` is shared with the registry inside a backend)."""
        self.runs: dict[str, FakeRun] = {}
        self.current_run_id: str | None = None
        self._faults = faults or _Faults()
        self.calls = self._faults.calls
        self._ids = itertools.count(1)

    def add_run(
        self,
        run_id: str | None = None,
        *,
        experiment_name: str = "default",
        metrics: Mapping[str, object] | None = None,
        files: Iterable[str] = (),
        status: RunStatus | str = RunStatus.COMPLETED,
        steps: Mapping[str, str | Sequence[str]] | None = None,
        best_child: str | None = None,
        is_hyperdrive: bool = False,
        inputs: Mapping[str, Mapping[str, str | None]] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> FakeRun:
        """Add a run and return it; `run_id` defaults to a fresh ``run-N``."""
        rid = run_id if run_id is not None else f"run-{next(self._ids)}"
        run = FakeRun(
            run_id=rid,
            experiment_name=experiment_name,
            metrics=dict(metrics or {}),
            files=list(files),
            status=status.value if isinstance(status, RunStatus) else status,
            steps={
                step: [ids] if isinstance(ids, str) else list(ids)
                for step, ids in (steps or {}).items()
            },
            best_child=best_child,
            is_hyperdrive=is_hyperdrive,
            inputs={context: dict(data) for context, data in (inputs or {}).items()},
            tags=dict(tags or {}),
        )
        self.runs[rid] = run
        return run

    def _record(self, run: FakeRun, *, current: bool = False) -> RunRecord:
        return RunRecord(
            run_id=run.run_id,
            experiment_name=run.experiment_name,
            status=_status(run.status),
            status_text=run.status,
            is_current=current,
        )

    def _lookup(self, run_id: str) -> FakeRun:
        try:
            return self.runs[run_id]
        except KeyError:
            raise RunNotFoundError(f"no run with id {run_id!r}", run_id=run_id) from None

    def get_run(
        self,
        *,
        experiment_name: str | None,
        run_id: str | None,
        pipeline_step: str | None = None,
    ) -> RunRecord:
        """Return the run, resolved to a pipeline step or a HyperDrive run's best child."""
        self._faults.call("get_run", experiment_name, run_id)
        current = run_id is None
        if run_id is None:
            if self.current_run_id is None:
                raise RunNotFoundError("there is no current run: pass experiment_name and run_id")
            run_id = self.current_run_id
        run = self._lookup(run_id)
        if experiment_name is not None and run.experiment_name != experiment_name:
            raise RunNotFoundError(
                f"run {run_id!r} belongs to experiment {run.experiment_name!r}, "
                f"not {experiment_name!r}",
                run_id=run_id,
                experiment_name=experiment_name,
            )
        if run.steps and pipeline_step is not None:
            children = run.steps.get(pipeline_step, [])
            if len(children) != 1:
                found = "no step" if not children else f"{len(children)} steps"
                raise RunNotFoundError(
                    f"pipeline run {run_id!r} has {found} named {pipeline_step!r}; "
                    f"its steps are: {', '.join(sorted(run.steps)) or 'none'}",
                    run_id=run_id,
                    candidates=sorted(run.steps),
                )
            step = Hop.step(pipeline_step, children[0])
            resolved = Resolution(given=run_id, hops=(step,))
            return attrs.evolve(self._record(self._lookup(step.run_id)), resolution=resolved)
        if run.is_hyperdrive:
            if run.best_child is None:
                raise RunNotFoundError(
                    f"HyperDrive run {run_id!r} has no best child run", run_id=run_id
                )
            resolved = Resolution(given=run_id, hops=(Hop.best_trial(run.best_child),))
            return attrs.evolve(self._record(self._lookup(run.best_child)), resolution=resolved)
        return self._record(run, current=current)

    def get_metrics(
        self, run: RunRecord, names: Collection[str], *, series: Collection[str] = ()
    ) -> MetricValues:
        """Return the values of the metrics `names` (a series in full only if in `series`)."""
        self._faults.call("get_metrics", run.run_id, tuple(names), tuple(series))
        held = self._lookup(run.run_id).metrics
        values: dict[str, object] = {}
        for name in names:
            if name in held:
                value = held[name]
                if isinstance(value, list) and name not in series:
                    value = value[-1] if value else value
                values[name] = value
        return MetricValues(values=values, available=frozenset(held))

    def list_files(self, run: RunRecord) -> Sequence[str]:
        """Return the run's file paths."""
        self._faults.call("list_files", run.run_id)
        return list(self._lookup(run.run_id).files)

    def get_evaluation_data(
        self, run: RunRecord, source: EvaluationData
    ) -> Mapping[str, str | None]:
        """Return the run's inputs of `source.context`, or its tag `source.tag`."""
        self._faults.call("get_evaluation_data", run.run_id, str(source))
        held = self._lookup(run.run_id)
        if source.context is not None:
            return dict(held.inputs.get(source.context, {}))
        tag = source.tag or ""
        return {tag: held.tags[tag]} if tag in held.tags else {}


class InMemoryRegistry:
    """A `ModelRegistry` that holds versions in memory."""

    def __init__(
        self,
        runs: InMemoryRunStore | None = None,
        faults: _Faults | None = None,
        *,
        location: str = "memory://registry",
    ) -> None:
        """Create an empty registry; local registrations add runs to `runs` when given.

        Args:
            runs: Where a local registration's run is kept, if anywhere.
            faults: The call log and faults, shared with the run store inside a backend.
            location: Where this registry is (`VersionCopier.location`, and the
                ``promotion.source.registry`` of its versions' copies elsewhere).
        """
        self.versions: dict[str, list[ModelVersion]] = {}
        self.aliases: dict[str, dict[str, int]] = {}
        self.requests: list[RegistrationRequest] = []
        self.copies: list[CopyRequest] = []
        self._location = location
        self._faults = faults or _Faults()
        self.calls = self._faults.calls
        self._runs = runs
        self._local_ids = itertools.count(1)

    def add_version(
        self,
        name: str,
        *,
        run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        experiment_name: str | None = None,
    ) -> ModelVersion:
        """Add a version as if registered earlier (by anyone), and return it."""
        number = max((v.version for v in self.versions.get(name, [])), default=0) + 1
        version = ModelVersion(
            name=name,
            version=number,
            id=f"{name}:{number}",
            run_id=run_id,
            experiment_name=experiment_name,
            tags=dict(tags or {}),
        )
        self.versions.setdefault(name, []).append(version)
        return version

    def _of(self, name: str) -> list[ModelVersion]:
        return sorted(self.versions.get(name, []), key=lambda v: v.version, reverse=True)

    def find_baseline(self, name: str, strategy: BaselineStrategy) -> ModelVersion | None:
        """Return the version `strategy` picks, or None.

        Raises:
            BaselineNotFoundError: The strategy pins a version that does not exist.
            SettingsError: The strategy is an alias or a stage, which this registry lacks.
        """
        self._faults.call("find_baseline", name, str(strategy))
        if strategy.kind is BaselineKind.STAGE:
            raise unsupported_strategy(strategy, "the in-memory backend")
        versions = self._of(name)
        if strategy.kind is BaselineKind.ALIAS:
            number = self.aliases.get(name, {}).get(strategy.name or "")
            return next((v for v in versions if v.version == number), None)
        if strategy.kind is BaselineKind.VERSION:
            found = next((v for v in versions if v.version == strategy.version_number), None)
            if found is None:
                raise BaselineNotFoundError(model_name=name, strategy=str(strategy))
            return found
        if strategy.kind is BaselineKind.TAG:
            return next(
                (v for v in versions if v.tags.get(strategy.tag_key or "") == strategy.tag_value),
                None,
            )
        return versions[0] if versions else None

    def find_by_run(self, name: str, run_id: str) -> ModelVersion | None:
        """Return a version of `name` registered from `run_id`, or None."""
        self._faults.call("find_by_run", name, run_id)
        return next((v for v in self._of(name) if v.run_id == run_id), None)

    def find_tagged(self, name: str, key: str, value: str) -> Sequence[ModelVersion]:
        """Return the versions of `name` whose tag `key` is `value`, highest first."""
        self._faults.call("find_tagged", name, key, value)
        return [v for v in self._of(name) if v.tags.get(key) == value]

    def register(self, request: RegistrationRequest) -> ModelVersion:
        """Register a new version (from a run, or a local path: then a run is made for it)."""
        self._faults.call("register", request.name, request.model_path)
        self.requests.append(request)
        run_id = request.run.run_id if request.run is not None else None
        experiment = request.run.experiment_name if request.run is not None else None
        if request.run is None and self._runs is not None:
            # Keep a local model's metrics in a run of its own, so it can be a baseline later.
            run = self._runs.add_run(
                f"local-{request.name}-{next(self._local_ids)}",
                experiment_name="local",
                metrics=request.metrics,
                files=[request.model_path],
            )
            run_id, experiment = run.run_id, run.experiment_name
        version = self.add_version(
            request.name, run_id=run_id, tags=request.tags, experiment_name=experiment
        )
        self._faults.done("register")
        return version

    # --- promotion across environments: VersionSource and VersionCopier ----------------------

    @property
    def location(self) -> str:
        """Where this registry is, as its versions' copies record it."""
        return self._location

    def get_version(self, ref: VersionRef) -> SourceVersion:
        """Return the version `ref` names (a number, an alias, or the latest unarchived one).

        Raises:
            VersionNotFoundError: No such version.
        """
        self._faults.call("get_version", str(ref))
        versions = self._of(ref.name)
        if ref.alias is not None:
            number = self.aliases.get(ref.name, {}).get(ref.alias)
            found = next((v for v in versions if v.version == number), None)
        elif ref.number is not None:
            found = next((v for v in versions if v.version == ref.number), None)
        else:
            found = next((v for v in versions if not v.archived), None)
        if found is None:
            raise VersionNotFoundError(
                f"no version {ref} in {self._location}", model_name=ref.name, ref=str(ref)
            )
        uri = f"{self._location}/{found.name}/{found.version}"
        return SourceVersion(version=found, registry=self._location, uri=uri)

    def download_version(self, source: SourceVersion, folder: str) -> str:
        """Return where the version's files would be in `folder` (the fake holds no files)."""
        self._faults.call("download_version", str(source.version), folder)
        return f"{folder}/{source.version.name}-{source.version.version}"

    def find_by_source(self, name: str, source_key: str) -> ModelVersion | None:
        """Return the version of `name` whose ``promotion.source.key`` is `source_key`."""
        self._faults.call("find_by_source", name, source_key)
        return next((v for v in self._of(name) if v.tags.get(SOURCE_KEY) == source_key), None)

    def copy(self, request: CopyRequest) -> ModelVersion:
        """Add a copy of the source version; its run id is the source's, as MLflow keeps it."""
        self._faults.call("copy", request.name, request.source_key)
        self.copies.append(request)
        source = request.source.version
        version = self.add_version(
            request.name,
            run_id=source.run_id,
            tags=request.tags,
            experiment_name=source.experiment_name,
        )
        self._faults.done("copy")
        return version

    def _replace(self, version: ModelVersion, change: Callable[[dict[str, str]], None]) -> None:
        versions = self.versions.get(version.name, [])
        for index, held in enumerate(versions):
            if held.version == version.version:
                tags = dict(held.tags)
                change(tags)
                versions[index] = attrs.evolve(held, tags=tags)
                return
        msg = f"no version {version} to tag"
        raise RegistryError(msg)

    def set_tags(self, version: ModelVersion, tags: Mapping[str, str]) -> None:
        """Set tags on a version."""
        self._faults.call("set_tags", str(version), dict(tags))
        self._replace(version, lambda held: held.update(tags))

    def remove_tags(self, version: ModelVersion, keys: Collection[str]) -> None:
        """Remove tags from a version."""
        self._faults.call("remove_tags", str(version), tuple(keys))

        def drop(held: dict[str, str]) -> None:
            for key in keys:
                held.pop(key, None)

        self._replace(version, drop)

    def set_alias(self, version: ModelVersion, alias: str) -> None:
        """Point the alias at a version (moved from any other); `aliases` holds them."""
        self._faults.call("set_alias", str(version), alias)
        if all(held.version != version.version for held in self.versions.get(version.name, [])):
            msg = f"no version {version} to point alias {alias!r} at"
            raise RegistryError(msg)
        self.aliases.setdefault(version.name, {})[alias] = version.version

    def get(self, name: str, version: int) -> ModelVersion:
        """Return a version as it is now (with its current tags)."""
        return next(v for v in self.versions.get(name, []) if v.version == version)


class InMemoryBackend:
    """A backend whose runs and registry live in memory: `runs` and `registry`.

    Attributes:
        runs: The run store; add runs with `runs.add_run(...)`.
        registry: The registry; add earlier versions with `registry.add_version(...)`.
        calls: Every port call made, in order, as ``(operation, *details)``.
    """

    def __init__(self, *, local_runs: bool = True, location: str = "memory://registry") -> None:
        """Create an empty backend.

        Args:
            local_runs: Whether a model registered in local mode gets a run of its own holding
                its metrics (as on MLflow). False keeps only the version and its tags, as Azure
                ML (SDK v1) does: the promotion's ``promotion.metric.*`` tags are then what makes
                it a baseline.
            location: Where its registry is (`InMemoryRegistry`): give two backends used as
                the source and the target of a promotion different ones.
        """
        self._faults = _Faults()
        self.calls = self._faults.calls
        self.runs = InMemoryRunStore(self._faults)
        self.registry = InMemoryRegistry(
            self.runs if local_runs else None, self._faults, location=location
        )

    def fail_next(self, operation: str, error: Exception, *, times: int = 1) -> None:
        """Make the next `times` calls of `operation` (a port method's name) raise `error`."""
        self._faults.add(operation, error, times)

    def lose_next(self, operation: str, error: Exception) -> None:
        """Make the next call of `operation` (``register`` or ``copy``) do its work, then raise.

        As when a registration's answer is lost: the version exists, the caller got `error`.
        """
        self._faults.lose(operation, error)

    def operations(self) -> list[str]:
        """Return the names of the port operations called so far, in order."""
        return [str(call[0]) for call in self.calls]
