"""Ports: what `promote()` needs from a backend, as small Protocols and the values they pass.

A backend is any object with a `runs` attribute (a `RunStore`) and a `registry` attribute (a
`ModelRegistry`). The adapters in `aml_promotion.adapters` implement them for Azure ML and
MLflow; `aml_promotion.testing.InMemoryBackend` is a public in-memory fake. No SDK type or SDK
exception crosses a port: adapters translate both.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Protocol, runtime_checkable

import attrs

from aml_promotion._domain.choices import choice, flag, names
from aml_promotion._domain.frameworks import Framework
from aml_promotion._domain.policy import BaselineStrategy, EvaluationData
from aml_promotion._domain.resolution import Hop, HopKind, Resolution
from aml_promotion._domain.stages import StageMoves
from aml_promotion._domain.version_ref import VersionRef
from aml_promotion.exceptions import SettingsError, SettingsProblem

__all__ = [
    "Backend",
    "BaselineRunStore",
    "CopyRequest",
    "DatasetMetricStore",
    "Framework",
    "Hop",
    "HopKind",
    "JobOutputStore",
    "LoggedModel",
    "LoggedModelRegistry",
    "LoggedModelStore",
    "MetricValues",
    "ModelRegistry",
    "ModelVersion",
    "RegistrationRequest",
    "Resolution",
    "RunRecord",
    "RunStatus",
    "RunStore",
    "SourceVersion",
    "StageMoves",
    "StagedRegistry",
    "VersionCopier",
    "VersionRef",
    "VersionSource",
    "unsupported_strategy",
]


class RunStatus(enum.Enum):
    """Where a run is in its life; only `COMPLETED` runs are promoted unless forced."""

    COMPLETED = "Completed"
    RUNNING = "Running"
    FAILED = "Failed"
    CANCELED = "Canceled"
    OTHER = "Other"


def _status(value: RunStatus | str) -> RunStatus:
    return choice(RunStatus, "status", value)


def _optional_framework(value: Framework | str | None) -> Framework | None:
    return None if value is None else choice(Framework, "framework", value)


def _frozen_mapping(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return dict(value or {})


def _values(value: Mapping[str, object] | None) -> Mapping[str, object]:
    return dict(value or {})


def _available_names(value: Collection[str] | None) -> frozenset[str] | None:
    raw: object = value
    if raw is None:
        return None
    # A string is a collection of its characters: "auc" would become {'a', 'u', 'c'}.
    if isinstance(raw, str) or not isinstance(raw, Collection):
        msg = f"available must be a set of metric names (strings) or None, not {raw!r}"
        raise TypeError(msg)
    names = frozenset(raw)
    if not all(isinstance(name, str) for name in names):
        msg = f"available must hold metric names (strings), not {raw!r}"
        raise TypeError(msg)
    return names


def _dataset_names(value: Sequence[str]) -> tuple[str, ...]:
    return names("datasets", value)


@attrs.frozen(kw_only=True)
class RunRecord:
    """A run, as a backend found it.

    Attributes:
        run_id: The run's id (for a pipeline, the step run that holds the model).
        experiment_name: The experiment it belongs to, if known.
        status: Its status; `status_text` keeps the backend's own word.
        status_text: The status as the backend said it.
        is_current: This is the run the code is running in (it may still be running).
        resolution: How it was reached from the run named (a pipeline's step, a sweep's best
            trial), when it is not that run; None for the run named itself.
        handle: The backend's own object for the run, for the adapter's use only.
    """

    run_id: str
    experiment_name: str | None = None
    status: RunStatus = attrs.field(default=RunStatus.COMPLETED, converter=_status)
    status_text: str = "Completed"
    is_current: bool = attrs.field(default=False, validator=flag)
    resolution: Resolution | None = None
    handle: object = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class MetricValues:
    """Metric values read from a run.

    Attributes:
        values: Name → raw value (a number, a list for a series, or whatever the run held), only
            for the names that were asked for and that the run has.
        available: Every metric name the run logged, when the backend learned it at no extra cost
            (used to suggest a close match for a missing metric).
    """

    values: Mapping[str, object] = attrs.field(factory=dict, converter=_values)
    available: frozenset[str] | None = attrs.field(default=None, converter=_available_names)


@attrs.frozen(kw_only=True)
class ModelVersion:
    """A registered model version.

    Attributes:
        name: The model's name.
        version: Its version number.
        id: The backend's id for it (Azure ML: ``name:version``; MLflow: ``name/version``).
        run_id: The run it was registered from, or None (registered from a local file).
        experiment_name: That run's experiment, if known.
        tags: Its tags.
        source: Where its files are, as the backend says (a URI or a path), if known.
        archived: Whether it is archived (Azure ML): found only as "already registered",
            never a baseline, and never restored or re-tagged by a promotion.
        uri: The URI that loads it, as its backend writes one (MLflow:
            ``models:/name/version``), or None where the backend has none.
    """

    name: str
    version: int
    id: str
    run_id: str | None = None
    experiment_name: str | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping)
    source: str | None = None
    archived: bool = False
    uri: str | None = None

    def __str__(self) -> str:
        return f"{self.name}:{self.version}"


@attrs.frozen(kw_only=True)
class RegistrationRequest:
    """Everything needed to register one model version.

    Attributes:
        name: The model's name.
        model_path: The model file or folder: a path within the run's files, or (when `run`
            is None) a local path.
        run: The run the model comes from, or None for a local file or folder.
        framework: The model's framework, if known.
        framework_version: Its version, if known.
        tags: Tags, including the decision's own tags.
        properties: Properties (write-once metadata, where the backend has them).
        description: A description, if any.
        datasets: Names of registered datasets the model was trained on.
        sample_input_dataset: Name of a registered dataset of sample inputs.
        sample_output_dataset: Name of a registered dataset of sample outputs.
        cpu_cores: CPU cores for deployment (with `memory_gb`), if any.
        memory_gb: Memory in GB for deployment (with `cpu_cores`), if any.
        metrics: The candidate's metrics when no run of the source holds them for the new
            version (a local model; a registered version copied, whose run stays behind), for
            a backend that can keep them with the version (for example in a run it creates),
            so it can serve as a baseline.
        model_id: The logged model to register (MLflow 3's ``models:/<model_id>``), when the
            candidate was named by one; None to let the backend find it from `model_path`.
        job_output: The run's named output that holds the model (`JobOutputStore`); then
            `model_path` is a path inside that output (empty for the whole output).
    """

    name: str
    model_path: str
    run: RunRecord | None = None
    framework: Framework | None = attrs.field(default=None, converter=_optional_framework)
    framework_version: str | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping)
    properties: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping)
    description: str | None = None
    datasets: tuple[str, ...] = attrs.field(default=(), converter=_dataset_names)
    sample_input_dataset: str | None = None
    sample_output_dataset: str | None = None
    cpu_cores: float | None = None
    memory_gb: float | None = None
    metrics: Mapping[str, object] = attrs.field(factory=dict, converter=_values)
    model_id: str | None = None
    job_output: str | None = None


class RunStore(Protocol):
    """Where runs, their metrics and their files are read."""

    def get_run(
        self,
        *,
        experiment_name: str | None,
        run_id: str | None,
        pipeline_step: str | None = None,
    ) -> RunRecord:
        """Return the run, resolved to the run that holds the model.

        Args:
            experiment_name: The experiment the run must belong to; None to not check.
            run_id: The run's id; None for the run this code is running in.
            pipeline_step: For a pipeline run, the name of the step that produced the model.
                A HyperDrive parent resolves to its best child.

        Returns:
            The run; when it is not the run named (a step, a best trial), its `resolution`
            says how it was reached, for the result to name it.

        Raises:
            RunNotFoundError: No such run, no current run, or no (or several) matching steps.
            RegistryError: The backend failed.
        """
        ...

    def get_metrics(
        self, run: RunRecord, names: Collection[str], *, series: Collection[str] = ()
    ) -> MetricValues:
        """Return the values of the metrics `names` only, never every metric the run logged.

        Args:
            run: The run.
            names: The metrics to read.
            series: Those of `names` whose every logged value is wanted (as a list); for the
                others the last value is enough, though a backend may return the series anyway.

        Raises:
            RegistryError: The backend failed.
        """
        ...

    def list_files(self, run: RunRecord) -> Sequence[str]:
        """Return the paths of every file the run holds, relative to the run, with ``/``.

        Raises:
            RegistryError: The backend failed.
        """
        ...

    def get_evaluation_data(
        self, run: RunRecord, source: EvaluationData
    ) -> Mapping[str, str | None]:
        """Return what the run was evaluated on, as `source` says to find it.

        With `source.context`: the datasets the run took as inputs with that context (MLflow
        dataset inputs tagged ``mlflow.data.context``; Azure ML input datasets of that input
        name), name → digest or version. With `source.tag`: the run's tag (else parameter) of
        that name, as ``{name: value}``.

        Returns:
            Name → digest or version (None where the backend does not know it); empty when
            the run names no such data.

        Raises:
            RegistryError: The backend failed.
        """
        ...


class ModelRegistry(Protocol):
    """Where model versions are looked up and registered."""

    def find_baseline(self, name: str, strategy: BaselineStrategy) -> ModelVersion | None:
        """Return the version `strategy` picks among the versions of `name`, or None.

        None means no version is selected (no version yet, no holder of the tag or alias).

        Raises:
            BaselineNotFoundError: The strategy pins a version (``version:N``) that does not
                exist: an error, never "no baseline".
            SettingsError: The registry has no notion of the strategy (an alias or a stage).
            RegistryError: The backend failed (never taken as "no baseline").
        """
        ...

    def find_by_run(self, name: str, run_id: str) -> ModelVersion | None:
        """Return a version of `name` already registered from `run_id`, or None.

        Raises:
            RegistryError: The backend failed.
        """
        ...

    def find_tagged(self, name: str, key: str, value: str) -> Sequence[ModelVersion]:
        """Return every version of `name` whose tag `key` is `value`, highest version first.

        Raises:
            RegistryError: The backend failed.
        """
        ...

    def register(self, request: RegistrationRequest) -> ModelVersion:
        """Register a new version and return it.

        Raises:
            RegistryError: The backend failed.
        """
        ...

    def set_tags(self, version: ModelVersion, tags: Mapping[str, str]) -> None:
        """Set (add or overwrite) tags on a version.

        Raises:
            RegistryError: The backend failed.
        """
        ...

    def remove_tags(self, version: ModelVersion, keys: Collection[str]) -> None:
        """Remove tags from a version; a key it does not have is fine.

        Raises:
            RegistryError: The backend failed.
        """
        ...

    def set_alias(self, version: ModelVersion, alias: str) -> None:
        """Point the alias `alias` of the version's model at `version` (moved from any other).

        Raises:
            SettingsError: The registry has no aliases (see `unsupported_strategy`).
            RegistryError: The backend failed.
        """
        ...


@attrs.frozen(kw_only=True)
class LoggedModel:
    """A logged model (MLflow 3's ``log_model``), as a backend found it.

    Attributes:
        model_id: Its id (``models:/<model_id>`` loads it).
        name: Its name (the ``name=`` given to ``log_model``).
        run_id: The run that logged it, or None.
    """

    model_id: str
    name: str
    run_id: str | None = None


@runtime_checkable
class LoggedModelStore(Protocol):
    """A `RunStore` that also knows logged models (MLflow 3), so a candidate can be named by one."""

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """Return the logged model `model_id`.

        Raises:
            RunNotFoundError: No such logged model.
            RegistryError: The backend failed.
        """
        ...


@runtime_checkable
class LoggedModelRegistry(Protocol):
    """A `ModelRegistry` that can find the version registered from one logged model (MLflow 3).

    A run may log several models: a re-run of one of them is not "already registered" because
    another model of the same run is.
    """

    def find_by_logged_model(self, name: str, run_id: str, model_id: str) -> ModelVersion | None:
        """Return a version of `name` registered from run `run_id`'s logged model `model_id`.

        Raises:
            RegistryError: The backend failed.
        """
        ...

    def logged_model_of(self, run: RunRecord, path: str) -> str | None:
        """Return the id of the logged model of `run` that `path` names, or None (a file).

        Raises:
            RegistryError: The backend failed.
        """
        ...


@runtime_checkable
class DatasetMetricStore(Protocol):
    """A `RunStore` whose metrics may be logged per evaluation dataset (MLflow 3)."""

    def get_dataset_metrics(
        self,
        run: RunRecord,
        names: Collection[str],
        *,
        datasets: Mapping[str, str],
        series: Collection[str] = (),
    ) -> MetricValues:
        """Return the metrics as `RunStore.get_metrics` does, some read on a chosen dataset.

        Args:
            run: The run.
            names: The metrics to read.
            datasets: Metric name → the dataset whose value counts, for the metrics that name
                one.
            series: As for `RunStore.get_metrics`.

        Raises:
            RegistryError: The backend failed.
        """
        ...


@runtime_checkable
class JobOutputStore(Protocol):
    """A `RunStore` whose runs have named outputs beside their files (Azure ML SDK v2 jobs).

    A job's output (``outputs.model_output`` of a command) is stored apart from the files the
    run logged; a model registered from it is named by the output and a path inside it.
    """

    def list_output_files(self, run: RunRecord, output: str) -> Sequence[str]:
        """Return the paths of the files in the run's output `output`, relative to it, with ``/``.

        Raises:
            ModelFileError: The run has no output of that name (the error lists its outputs).
            RegistryError: The backend failed.
        """
        ...


@runtime_checkable
class BaselineRunStore(Protocol):
    """A `RunStore` that reads the run behind a promoted version more cheaply than `get_run`.

    A version a promotion registered (it carries the decision's tags) records the run the
    promotion resolved: a plain run, never a pipeline to resolve or a sweep to pick a trial
    from, and its experiment is not checked. The service asks `get_run` for any other version.
    Azure ML (SDK v2) reads it through MLflow alone, with the request that returns its metrics,
    instead of reading the job first.
    """

    def get_baseline_run(self, run_id: str) -> RunRecord:
        """Return the run behind a promoted version, ready for `RunStore.get_metrics`.

        Args:
            run_id: The run the version records.

        Raises:
            RunNotFoundError: No such run (or it was deleted).
            RegistryError: The backend failed.
        """
        ...


@attrs.frozen(kw_only=True)
class SourceVersion:
    """A registered version offered as a candidate, with what a target needs to copy it.

    Attributes:
        version: The version, as its registry has it.
        registry: Where it is, in the form `VersionCopier.location` gives (MLflow: the registry
            URI, never with a secret; Azure ML: the workspace's or registry's ``azureml://``
            id); recorded on the copy as ``promotion.source.registry``.
        uri: How its own registry names it: ``models:/<name>/<version>`` on MLflow,
            ``azureml://.../models/<name>/versions/<version>`` on Azure ML.
        handle: The source adapter's own object for it, for that adapter's use only.
    """

    version: ModelVersion
    registry: str
    uri: str
    handle: object = attrs.field(default=None, eq=False, repr=False)


@runtime_checkable
class VersionSource(Protocol):
    """A `ModelRegistry` whose versions can be candidates (``name:3``, ``name@alias``)."""

    def get_version(self, ref: VersionRef) -> SourceVersion:
        """Return the usable version `ref` names (a failed or pending one is never returned).

        Raises:
            VersionNotFoundError: No such version (or it is not usable, or the alias points
                nowhere): the message names what was looked for.
            SettingsError: `ref` names an alias, and the registry has none.
            RegistryError: The backend failed.
        """
        ...

    def download_version(self, source: SourceVersion, folder: str) -> str:
        """Download the version's files into `folder`; return the path of the model there.

        For a target that cannot read the source's files by its URI (another MLflow server).

        Raises:
            RegistryError: The backend failed.
        """
        ...


@attrs.frozen(kw_only=True)
class CopyRequest:
    """Everything needed to copy a version from a source registry into a target registry.

    Attributes:
        name: The model's name in the target (Unity Catalog: ``catalog.schema.model``).
        source: The version copied, and where it is.
        source_key: The key `find_by_source` finds the copy by (also among `tags`).
        tags: Every tag of the copy: the settings' tags, the decision's, the source's
            (``promotion.source.*``, whose ``promotion.source.key`` `find_by_source` finds)
            and the champion tag.
        properties: Properties (write-once metadata, where the backend has them).
        description: A description, if any.
        download: Downloads the source's files into a folder and returns the model's path
            there (`VersionSource.download_version`), for a target that cannot read them by
            `source.uri`.
        metrics: The candidate's metrics, as compared, for a target that makes a run of its own
            to hold the copy's files (MLflow between two stores): they are logged on it, as a
            local model's are, so that the copy's run answers for them as the source's run
            did (read as the candidate of a promotion from there, or as a baseline).
    """

    name: str
    source: SourceVersion
    source_key: str
    tags: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping)
    properties: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping)
    description: str | None = None
    download: Callable[[str], str] | None = attrs.field(default=None, eq=False, repr=False)
    metrics: Mapping[str, object] = attrs.field(factory=dict, converter=_values)


@runtime_checkable
class VersionCopier(Protocol):
    """A `ModelRegistry` that can take a copy of a version from another registry (a target).

    A copy is registered once: `copy` looks for it by its source before any retry (registry
    versions cannot be re-created), and the service looks first too, so a re-run copies
    nothing new.
    """

    @property
    def location(self) -> str:
        """Where this registry is, in the form of `SourceVersion.registry`."""
        ...

    def find_by_source(self, name: str, source_key: str) -> ModelVersion | None:
        """Return the usable version of `name` copied from `source_key`, or None.

        Args:
            name: The model's name in this registry.
            source_key: The copy's ``promotion.source.key`` tag.

        Raises:
            RegistryError: The backend failed.
        """
        ...

    def copy(self, request: CopyRequest) -> ModelVersion:
        """Register a copy of `request.source` as a new version of `request.name`; return it.

        Raises:
            RegistryError: The backend failed (nothing, or the copy found by its source, was
                registered: a lost response never makes a duplicate).
        """
        ...


@runtime_checkable
class StagedRegistry(Protocol):
    """A `ModelRegistry` whose versions have a stage (Azure ML SDK v2's ``stage``)."""

    def with_stages(
        self, stages: StageMoves, *, champion: tuple[str, str] | None = None
    ) -> ModelRegistry:
        """Return this registry, moving stages as `stages` says.

        The returned registry gives a promoted version ``stages.on_promote`` in the write that
        makes it the champion: with a champion tag (`champion`: its key and live value) the
        write that gives it that value (its registration, or a later tag write: a version
        registered pending is not staged until it is live); without one, its registration. It
        moves a version it tags ``promotion.superseded_by`` to ``stages.on_supersede``, in the
        same read-modify-write as that tag. It never writes an archived version.
        """
        ...


class Backend(Protocol):
    """A backend provides both ports."""

    @property
    def runs(self) -> RunStore:
        """Where runs are read."""
        ...

    @property
    def registry(self) -> ModelRegistry:
        """Where model versions are looked up and registered."""
        ...


def unsupported_strategy(strategy: BaselineStrategy, registry: str) -> SettingsError:
    """Return the error for a baseline strategy that `registry` has no notion of.

    For implementations of `ModelRegistry.find_baseline`: an alias or a stage on a registry
    without them is a settings problem, never "no baseline".
    """
    kind = {"alias": "aliases", "stage": "stages"}.get(strategy.kind.value, strategy.kind.value)
    return SettingsError(
        [
            SettingsProblem(
                path="$.baseline",
                message=(
                    f"{registry} has no model {kind}, so {str(strategy)!r} cannot select a "
                    "baseline: use 'latest', 'tag:KEY=VALUE' or 'version:N'"
                ),
            )
        ]
    )
