"""The candidate: what a promotion offers for registration, read once, whatever named it.

A `Candidate` carries what the later stages use: its metrics, its label in the decision, the
path a registration uploads, and its `Origin`, which finds a version already registered from
it. Each kind of candidate has a reader here (`read_run`, `read_local`, `read_logged_model`)
and an origin: a new kind adds the two, as a registered version did (`_version`).

A run's parts may be apart: a pipeline may log its metrics in one step (evaluate) and hold its
model in another (train), and a job may keep its model in a named output
(``outputs.model_output``) rather than among its files. `read_run` reads each where the
settings put it (`metrics_child_run_name`, `job_output`). Only a run's candidate has parts:
`check_parts` refuses those settings for every other kind, before anything is read.
"""

from __future__ import annotations

import enum
import hashlib
import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import attrs

from aml_promotion._domain import tags
from aml_promotion._domain.model_files import find_model_file, normalize
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
    JobOutputStore,
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
        metrics_run: The run its metrics (and evaluation data) came from, when it is not `run`
            (another step of the pipeline, `metrics_child_run_name`); None for `run` itself.
        job_output: The run's named output that holds the model, when the model is there
            (`model_path` is then a path inside it, empty for the whole output).
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
    metrics_run: RunRecord | None = None
    job_output: str | None = None
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
    metrics_step: str | None,
    model_file_name: str,
    job_output: str | None,
    model_id: str | None = None,
) -> Candidate:
    """Read a run's candidate: the run (or its pipeline step), its metrics and its model.

    Args:
        runs: Where the run is read.
        registry: Where a logged model of the run is found (MLflow 3).
        policy: What is compared (and whether registration is forced).
        experiment_name: The run's experiment (checked when given).
        run_id: The run; None for the run this code runs in, where the backend knows one.
        pipeline_step: The pipeline's step that holds the model; None for the run itself.
        metrics_step: The pipeline's step whose metrics are compared; the model's step when it
            is `pipeline_step`.
        model_file_name: The model among the run's files (or inside `job_output`).
        job_output: The run's named output that holds the model, or None for its files.
        model_id: The logged model, when it named the candidate.

    Raises:
        SettingsError: `job_output` is given, and the backend's runs have no named outputs.
        RunNotFoundError: The run (or a step) does not exist.
        RunStateError: The run (or the metrics' step) did not complete, and registration is
            not forced.
        ModelFileError: The model is not among the run's files (or in its output), or several
            paths match.
    """
    outputs = None if job_output is None else _output_store(runs, job_output)
    run = runs.get_run(experiment_name=experiment_name, run_id=run_id, pipeline_step=pipeline_step)
    if run.status is not RunStatus.COMPLETED and not run.is_current and not policy.force:
        raise RunStateError(run_id=run.run_id, status=run.status_text)
    scored = run
    if metrics_step != pipeline_step:
        scored = _metrics_run(
            runs, run, policy, experiment_name=experiment_name, run_id=run_id, step=metrics_step
        )
    metrics = read_metrics(runs, scored, policy)
    logged = None
    if outputs is None or job_output is None:  # both None, or neither
        path = find_model_file(runs.list_files(run), model_file_name)
        if isinstance(registry, LoggedModelRegistry):
            logged = model_id or registry.logged_model_of(run, path)
    else:
        path = _output_path(outputs, run, job_output, model_file_name)
    where = f" in experiment {run.experiment_name}" if run.experiment_name else ""
    label = f"run {run.run_id}{where}"
    if scored is not run:
        label += f" (metrics from run {scored.run_id})"
    return Candidate(
        label=label,
        origin=RunOrigin(run_id=run.run_id, logged_model=logged),
        model_path=path,
        shown_path=path,
        run=run,
        metrics_run=None if scored is run else scored,
        job_output=job_output,
        metrics=metrics.values,
        available=metrics.available,
        data=None
        if policy.evaluation_data is None
        else runs.get_evaluation_data(scored, policy.evaluation_data),
        model_id=model_id,
    )


def _metrics_run(
    runs: RunStore,
    model_run: RunRecord,
    policy: PromotionPolicy,
    *,
    experiment_name: str | None,
    run_id: str | None,
    step: str | None,
) -> RunRecord:
    """Return the run whose metrics are compared: the pipeline's `step`, resolved as the model's.

    `model_run` itself when `step` resolves to it (one `get_run` more either way).

    Raises:
        RunNotFoundError: The pipeline has no (or several) steps of that name.
        RunStateError: That step did not complete, and registration is not forced.
    """
    found = runs.get_run(experiment_name=experiment_name, run_id=run_id, pipeline_step=step)
    if found.run_id == model_run.run_id:
        return model_run
    done = found.status is RunStatus.COMPLETED or found.is_current
    if not done and not policy.force:
        raise RunStateError(run_id=found.run_id, status=found.status_text)
    return found


def _output_store(runs: RunStore, job_output: str) -> JobOutputStore:
    """Return `runs` as the store of its runs' named outputs, refusing a backend without them.

    Raises:
        SettingsError: The backend's runs have no named outputs (MLflow, Azure ML SDK v1).
    """
    if not isinstance(runs, JobOutputStore):
        raise job_output_refused(
            f"job_output {job_output!r} names a job output, but this backend's runs have no "
            "named outputs (Azure ML SDK v2 jobs have: --backend azureml-v2); remove "
            "job_output and name the model among the run's files with model_file_name"
        )
    return runs


def _output_path(runs: JobOutputStore, run: RunRecord, output: str, wanted: str) -> str:
    """Return the model's path inside the run's output `output` ("" for the whole output).

    Raises:
        ModelFileError: The run has no such output, it holds no files, or `wanted` matches
            nothing (or several paths) in it.
    """
    files = runs.list_output_files(run, output)
    where = f"output {output!r} of job {run.run_id!r}"
    if not normalize(wanted):
        if not files:
            raise ModelFileError(f"{where} holds no files: nothing to register", wanted=wanted)
        return ""
    try:
        return find_model_file(files, wanted)
    except ModelFileError as exc:
        raise ModelFileError(
            f"{where}: {exc}", wanted=exc.wanted, matches=exc.matches, files=exc.files
        ) from None


def job_output_refused(why: str) -> SettingsError:
    """Return the settings error for a `job_output` that cannot be used, saying `why`."""
    return SettingsError([SettingsProblem(path="$.job_output", message=why)])


class CandidateKind(enum.Enum):
    """How a promotion's candidate is named (`promote`'s arguments choose one)."""

    RUN = "run"
    """A run, named or the current one: the only kind with parts (steps, named outputs)."""
    LOGGED_MODEL = "logged model"
    """An MLflow 3 logged model (``model_id``), read with the run that logged it."""
    LOCAL = "local model"
    """A file or folder here (``model_path``), with the metrics given for it."""
    VERSION = "registered version"
    """A version registered in a source registry (``candidate_version``), copied as it is."""


# The settings that say where a run's parts are, and why each other kind has no use for them:
# one table, so that no kind ignores one silently (a copy that compared the wrong step's metrics,
# or the whole version when one output was meant, would be a wrong promotion nobody was told of).
_RUN_PARTS: Mapping[str, Mapping[CandidateKind, str]] = {
    "job_output": {
        CandidateKind.LOGGED_MODEL: (
            "a logged model is registered from its run's files, not from a job output: "
            "remove job_output, or name the job (run_id) instead of the logged model"
        ),
        CandidateKind.LOCAL: (
            "a local model is a file or folder here, not a job's output: name the job "
            "(run_id, --run-id) or remove job_output"
        ),
        CandidateKind.VERSION: (
            "candidate_version names a registered version, which is copied with the files it "
            "holds, not a job's output: remove job_output from these settings (it picks the "
            "model among a job's outputs, when the job is promoted: run_id, --run-id)"
        ),
    },
    "metrics_child_run_name": {
        CandidateKind.LOGGED_MODEL: (
            "a logged model's metrics are read from the run that logged it, not from another "
            "step: remove metrics_child_run_name, or name the pipeline's run (run_id) instead "
            "of the logged model"
        ),
        CandidateKind.LOCAL: (
            "a local model's metrics are the ones given with it (metrics=, --metrics-file), "
            "not a pipeline step's: remove metrics_child_run_name, or name the pipeline's run "
            "(run_id, --run-id)"
        ),
        CandidateKind.VERSION: (
            "candidate_version names a registered version, whose metrics come from its own "
            "run (or its promotion.metric.* tags), not from a pipeline step: remove "
            "metrics_child_run_name from these settings"
        ),
    },
}


def check_parts(
    kind: CandidateKind, *, job_output: str | None, metrics_child_run_name: str | None
) -> None:
    """Refuse the settings of a run's parts for a candidate that is no run; read nothing.

    Args:
        kind: How the candidate is named.
        job_output: The settings' `job_output`.
        metrics_child_run_name: The settings' `metrics_child_run_name`.

    Raises:
        SettingsError: One of them is set and `kind` is not `CandidateKind.RUN`: one problem
            for each, at its path, saying why and what to do.
    """
    given = {"job_output": job_output, "metrics_child_run_name": metrics_child_run_name}
    problems = [
        SettingsProblem(path=f"$.{key}", message=_RUN_PARTS[key][kind])
        for key, value in given.items()
        if value is not None and kind is not CandidateKind.RUN
    ]
    if problems:
        raise SettingsError(problems)


def read_logged_model(runs: RunStore, model_id: str) -> LoggedModel:
    """Read an MLflow 3 logged model, which names the run it was logged in.

    Its run's parts are refused before (`check_parts`): the model is the logged model's files.

    Args:
        runs: Where the logged model is read.
        model_id: The logged model.

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

    A run's parts are refused before (`check_parts`): a local model is no job's output.

    Args:
        model_path: The file or folder.
        metrics: Its metrics, or None.
        policy: What is compared (and whether registration is forced).

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
