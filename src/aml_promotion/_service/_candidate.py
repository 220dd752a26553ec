"""The candidate: what a promotion offers for registration, read once, whatever named it.

A `Candidate` carries what the later stages use: its metrics, its label in the decision, the
path a registration uploads, and its `Origin`, which finds a version already registered from
it. Each kind of candidate has a reader here (`read_run`, `read_local`, `read_logged_model`)
and an origin: a new kind (a named job output) adds the two, as a registered version did
(`_version`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import attrs

from aml_promotion._domain import tags
from aml_promotion._domain.model_files import find_model_file
from aml_promotion.exceptions import (
    ModelFileError,
    RunNotFoundError,
    RunStateError,
    SettingsError,
    SettingsProblem,
    UsageError,
)
from aml_promotion.ports import (
    DatasetMetricStore,
    LoggedModelRegistry,
    LoggedModelStore,
    MetricValues,
    RunRecord,
    RunStatus,
    SourceVersion,
)

if TYPE_CHECKING:
    from aml_promotion._domain.policy import PromotionPolicy
    from aml_promotion.ports import (
        LoggedModel,
        ModelRegistry,
        ModelVersion,
        RunStore,
    )


class Origin(Protocol):
    """Where a candidate came from: what makes an earlier registration of it "the same"."""

    def find_registered(self, registry: ModelRegistry, name: str) -> ModelVersion | None:
        """Return a version of `name` already registered from this origin, or None."""

    def registered_note(self, version: ModelVersion) -> str:
        """Say that `version` already holds the candidate, for the decision's notes."""


@attrs.frozen(kw_only=True)
class RunOrigin:
    """A run's model: a version registered from the run (and, where known, its logged model)."""

    run_id: str
    logged_model: str | None = None

    def find_registered(self, registry: ModelRegistry, name: str) -> ModelVersion | None:
        """Return the version registered from the run; of this logged model, when it is known."""
        if self.logged_model is not None and isinstance(registry, LoggedModelRegistry):
            # The run may have logged other models: only a version of this one is "already there".
            return registry.find_by_logged_model(name, self.run_id, self.logged_model)
        return registry.find_by_run(name, self.run_id)

    def registered_note(self, version: ModelVersion) -> str:
        """Say that `version` was registered from the run."""
        return (
            f"already registered from run {self.run_id} as version {version.version}; "
            "nothing new registered"
        )


@attrs.frozen(kw_only=True)
class ContentOrigin:
    """A local model: a version registered with the same content (its digest tag) is it."""

    digest: str

    def find_registered(self, registry: ModelRegistry, name: str) -> ModelVersion | None:
        """Return the version tagged with this content's digest."""
        return next(iter(registry.find_tagged(name, tags.MODEL_DIGEST, self.digest)), None)

    def registered_note(self, version: ModelVersion) -> str:
        """Say that `version` holds the same content."""
        return (
            f"already registered with the same content as version {version.version}; "
            "nothing new registered"
        )


@attrs.frozen(kw_only=True)
class CopySource:
    """What a copy is made from: the source version, and how to fetch its files.

    Attributes:
        version: The source version, and where it is.
        download: Downloads its files into a folder (`VersionSource.download_version`).
    """

    version: SourceVersion
    download: Callable[[str], str] = attrs.field(eq=False, repr=False)

    @property
    def key(self) -> str:
        """The key its copies are found by (``promotion.source.key``)."""
        held = self.version.version
        return tags.source_key(self.version.registry, held.name, held.version)


@attrs.frozen(kw_only=True)
class Candidate:
    """The model a promotion offers, with what the decision and the registration need of it.

    Attributes:
        label: How the decision names it (``run r1 in experiment train``, ``local model m.pkl``).
        origin: Where it came from; finds a version already registered from it.
        model_path: What a registration uploads: a path among the run's files, or an absolute
            local path.
        shown_path: The path the result shows.
        run: The run it came from; None for a local model.
        metrics: Its metric values: read from the run, or given; None when none were given.
        available: The metric names the run has (for "did you mean"); None without a run.
        data: What it was evaluated on, when the policy asks.
        tags: Tags only this kind of candidate adds to the version (a local model's digest).
        model_id: The logged model to register, when it was named (MLflow 3).
        refusal: Why it cannot be promoted whatever the comparison says, or None.
        notes: Caveats for the decision.
        copy_from: A registered version (in another registry, or under another name): what
            is copied instead of registered; None for the other kinds.
    """

    label: str
    origin: Origin
    model_path: str
    shown_path: str
    run: RunRecord | None = None
    metrics: Mapping[str, object] | None = None
    available: Collection[str] | None = None
    data: Mapping[str, str | None] | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict)
    model_id: str | None = None
    refusal: str | None = None
    notes: tuple[str, ...] = ()
    copy_from: CopySource | None = None


def read_run(
    runs: RunStore,
    registry: ModelRegistry,
    policy: PromotionPolicy,
    *,
    experiment_name: str | None,
    run_id: str | None,
    pipeline_step: str | None,
    model_file_name: str,
    model_id: str | None = None,
) -> Candidate:
    """Read a run's candidate: the run (or its pipeline step), its metrics and its model file.

    Raises:
        RunNotFoundError: The run (or its step) does not exist.
        RunStateError: The run did not complete, and registration is not forced.
        ModelFileError: The model file is not among the run's files, or several match.
    """
    run = runs.get_run(experiment_name=experiment_name, run_id=run_id, pipeline_step=pipeline_step)
    if run.status is not RunStatus.COMPLETED and not run.is_current and not policy.force:
        raise RunStateError(run_id=run.run_id, status=run.status_text)
    metrics = read_metrics(runs, run, policy)
    path = find_model_file(runs.list_files(run), model_file_name)
    logged = None
    if isinstance(registry, LoggedModelRegistry):
        logged = model_id or registry.logged_model_of(run, path)
    where = f" in experiment {run.experiment_name}" if run.experiment_name else ""
    return Candidate(
        label=f"run {run.run_id}{where}",
        origin=RunOrigin(run_id=run.run_id, logged_model=logged),
        model_path=path,
        shown_path=path,
        run=run,
        metrics=metrics.values,
        available=metrics.available,
        data=None
        if policy.evaluation_data is None
        else runs.get_evaluation_data(run, policy.evaluation_data),
        model_id=model_id,
    )


def read_logged_model(runs: RunStore, model_id: str) -> LoggedModel:
    """Read an MLflow 3 logged model, which names the run it was logged in.

    Raises:
        UsageError: The backend has no logged models.
        RunNotFoundError: The logged model does not exist, or was logged outside any run.
    """
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
    return logged


def read_local(
    model_path: str | os.PathLike[str],
    metrics: Mapping[str, object] | None,
    policy: PromotionPolicy,
) -> Candidate:
    """Read a local model file or folder, with the metrics given for it.

    Raises:
        ModelFileError: The path does not exist.
    """
    path = Path(model_path).expanduser()
    if not path.exists():
        raise ModelFileError(f"the local model path {str(path)!r} does not exist", wanted=str(path))
    digest = content_digest(path)
    refusal = None
    if metrics is None and policy.rules and not policy.force:
        refusal = (
            "a local model comes with no run to read metrics from, and none were given: "
            "pass metrics=..., or force registration"
        )
    notes = tuple(
        f"the series of {metric} is longer than {tags.SERIES_MAX_CHARS} characters and is not "
        f"recorded on the version: compared without a run, it offers only its "
        f"{tags.metric_tag(metric)} value"
        for metric in tags.unrecorded_series(policy, metrics or {})
    )
    return Candidate(
        label=f"local model {path}",
        origin=ContentOrigin(digest=digest),
        # Absolute, not resolved: a symlink (DVC, git-annex) keeps its own name.
        model_path=os.path.normpath(path.absolute()),
        shown_path=str(path),
        metrics=metrics,
        tags={tags.MODEL_DIGEST: digest},
        refusal=refusal,
        notes=notes,
    )


def read_metrics(runs: RunStore, run: RunRecord, policy: PromotionPolicy) -> MetricValues:
    """Read the metrics `policy` compares from `run` (per dataset where the rules name one).

    Raises:
        SettingsError: A rule names a dataset, and the backend logs no metrics per dataset.
    """
    if not policy.rules:
        return MetricValues()
    datasets = policy.metric_datasets
    if datasets:
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


def content_digest(path: Path) -> str:
    """Return a digest of a local model's content: a file's bytes, or a folder's files.

    A folder's digest covers each file's path (relative, with ``/``) and content, so renaming
    or moving a file inside it changes the digest, and where the folder is does not. Symlinks
    are followed, folders too, as the registries' uploads follow them (a folder reached twice,
    a link loop, is read once).

    Returns:
        ``sha256:`` and the hex digest.
    """
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
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()
