"""`ModelRegistry` over the Azure ML v2 model registry (``ml_client.models``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from aml_promotion._domain import tags as decision_tags
from aml_promotion._domain.policy import BaselineKind, BaselineStrategy
from aml_promotion.adapters._azure import without
from aml_promotion.adapters._errors import exception_chain
from aml_promotion.adapters._registration import register_once
from aml_promotion.adapters.azureml_v2._copies import (
    copy_of,
    copy_once,
    copy_properties,
    no_aliases,
    workspace_location,
)
from aml_promotion.adapters.azureml_v2._gateway import is_not_found, version_taken
from aml_promotion.exceptions import (
    BaselineNotFoundError,
    ModelFileError,
    RegistryError,
    TransientRegistryError,
    UsageError,
    VersionNotFoundError,
)
from aml_promotion.ports import (
    CopyRequest,
    ModelVersion,
    RegistrationRequest,
    RunRecord,
    SourceVersion,
    StageMoves,
    VersionRef,
    unsupported_strategy,
)

if TYPE_CHECKING:
    from aml_promotion.adapters.azureml_v2._runs import Runs
    from aml_promotion.adapters.azureml_v2._session import AzureMLV2Session

__all__ = ["Registry"]

logger = logging.getLogger("aml_promotion")


def _job_output_uri(job_name: str, path: str, *, folder: bool) -> str:
    return f"azureml://jobs/{job_name}/outputs/artifacts/paths/{path}{'/' if folder else ''}"


# The job a version was registered from, written by `Registry.register` itself: the SDK's
# Model entity does not send its job_name, and the service's jobName (filled from the output
# path) is not documented, so idempotency does not rest on it alone.
JOB_PROPERTY = "promotion.job_name"

# The ignore files azure-ai-ml applies to a local folder it uploads (the first found, at the
# folder's root: `azure.ai.ml._utils._asset_utils.get_ignore_file`).
_IGNORE_FILES = (".amlignore", ".gitignore")


def _left_by_a_partial_upload(error: BaseException) -> bool:
    """Whether a folder's upload met a file that an earlier, failed upload of it left behind.

    azure-ai-ml re-uploads an unconfirmed folder with overwrite only when its first file (which
    carries the confirmation) is there: when that one failed and others made it, the next
    upload refuses to overwrite them (409 ``BlobAlreadyExists``), but uploads the first file,
    so the attempt after it overwrites the rest.
    """
    return any(
        getattr(link, "error_code", None) == "BlobAlreadyExists" for link in exception_chain(error)
    )


def _properties(request: RegistrationRequest) -> dict[str, str]:
    """Return a registration's properties (a job's registration adds the job's name).

    The decision tags are copied to the properties, which cannot be edited later; the
    framework is kept as properties (the v2 model has no framework field). Datasets cannot be
    kept at all: a warning says so.
    """
    decision = {k: v for k, v in request.tags.items() if k.startswith("promotion.")}
    properties = {**decision, **request.properties}
    if request.framework is not None:
        properties.setdefault("framework", request.framework.value)
    if request.framework_version is not None:
        properties.setdefault("framework_version", request.framework_version)
    if request.datasets or request.sample_input_dataset or request.sample_output_dataset:
        logger.warning(
            "the Azure ML (SDK v2) registry has no datasets on a model: datasets, "
            "sample_input_dataset and sample_output_dataset are not registered"
        )
    return properties


def _version(model: Any) -> ModelVersion:
    name = str(model.name)
    properties = getattr(model, "properties", None) or {}
    return ModelVersion(
        name=name,
        version=int(model.version),
        id=f"{name}:{model.version}",
        run_id=getattr(model, "job_name", None) or properties.get(JOB_PROPERTY) or None,
        tags={str(k): str(v) for k, v in (model.tags or {}).items()},
        source=str(model.path) if model.path else None,
    )


class Registry:
    """`ModelRegistry` over the v2 model registry (``ml_client.models``).

    Args:
        session: The backend's clients and gateway.
        runs: The backend's run store (a registration lists the job's files).
    """

    def __init__(
        self,
        session: AzureMLV2Session,
        *,
        runs: Runs,
        stages: StageMoves | None = None,
        champion: tuple[str, str] | None = None,
    ) -> None:
        self._session = session
        self._gateway = session.gateway
        self._runs = runs
        self._stages = stages or StageMoves()
        self._champion = champion
        # The highest version of each model seen in a listing of every version (archived ones
        # too), taken once by the next registration as its number (see `register`).
        self._highest: dict[str, int] = {}

    # --- stages ---------------------------------------------------------------------------------

    def with_stages(
        self, stages: StageMoves, *, champion: tuple[str, str] | None = None
    ) -> Registry:
        """Return this registry, moving stages as `stages` says (`StagedRegistry`).

        A promoted version takes ``stages.on_promote`` in the write that makes it the
        champion: with a champion tag (`champion`: key and live value), the request that
        registers it holding that value, or the read-modify-write that sets it (a version
        registered pending takes the stage only once it is live); without one, the request
        that registers it. A version the promotion supersedes (it is tagged
        ``promotion.superseded_by``) moves to ``stages.on_supersede`` in the same
        read-modify-write as that tag, unless it is archived: an archived version is never
        written (its tags neither), so never restored (azure-ai-ml writes every version back
        as not archived).
        """
        return Registry(self._session, runs=self._runs, stages=stages, champion=champion)

    def _stage_at_registration(self, tags: Mapping[str, str]) -> str | None:
        """The stage a new version with `tags` is registered in (`with_stages`)."""
        if self._champion is None:
            return self._stages.on_promote
        key, live = self._champion
        return self._stages.on_promote if tags.get(key) == live else None

    def _stage_change(self, before: Mapping[str, str], after: Mapping[str, str]) -> str | None:
        """The stage a tag change moves a version to, or None (`with_stages`)."""
        superseded = decision_tags.SUPERSEDED_BY
        if superseded in after and superseded not in before:
            return self._stages.on_supersede
        if self._champion is not None:
            key, live = self._champion
            if after.get(key) == live and before.get(key) != live:
                return self._stages.on_promote
        return None

    @property
    def _models(self) -> Any:
        return self._session.ml_client.models

    @property
    def registry_name(self) -> str | None:
        """The Azure ML registry this is, or None: a workspace's model registry."""
        return self._session.registry_name

    # --- a registered version as the candidate (this is the source) -----------------------------

    @property
    def location(self) -> str:
        """Where this registry is: ``azureml://registries/<r>``, or the workspace's long id."""
        if self.registry_name is not None:
            return f"azureml://registries/{self.registry_name}"
        return workspace_location(self._session.ml_client)

    def get_version(self, ref: VersionRef) -> SourceVersion:
        """Return the version `ref` names: a number, or the latest (the last one created).

        Raises:
            SettingsError: `ref` names an alias: Azure ML has none.
            VersionNotFoundError: No such version (an archived one is not offered).
            RegistryError: The backend failed.
        """
        if ref.alias is not None:
            raise no_aliases(ref)
        which = {"label": "latest"} if ref.number is None else {"version": str(ref.number)}

        def get() -> Any:
            try:
                return self._models.get(ref.name, **which)
            except Exception as exc:
                if is_not_found(exc):
                    return None
                raise

        entity = self._gateway.call(f"reading model {ref.name!r} ({ref})", get)
        found = None if entity is None else _version(entity)
        if found is not None and ref.number is not None and self._archived(ref.name, ref.number):
            found = None
        if found is None:
            raise VersionNotFoundError(
                f"no version {ref} in {self.location} (an archived version is not offered)",
                model_name=ref.name,
                ref=str(ref),
            )
        return SourceVersion(
            version=found,
            registry=self.location,
            uri=f"{self.location}/models/{found.name}/versions/{found.version}",
            handle=entity,
        )

    def download_version(self, source: SourceVersion, folder: str) -> str:
        """Download the version's files into `folder` (``models.download``); return their path.

        For a target that cannot read the version by its ``azureml://`` URI (MLflow).

        Raises:
            RegistryError: The backend failed.
        """
        held = source.version
        # azure-ai-ml puts a file model's file in <folder>/<name>/, and a folder model's folder
        # one level deeper, under its own name (<folder>/<name>/<its basename>/): the copy is
        # of the version's files, as they were registered, never of a wrapping folder.
        landed = Path(folder) / held.name
        basename = str(getattr(source.handle, "path", "") or "").rstrip("/").rsplit("/", 1)[-1]

        def download() -> str:
            self._models.download(held.name, str(held.version), download_path=folder)
            inner = landed / basename if basename else landed
            return str(inner if inner.is_dir() else landed)

        return self._gateway.call(f"downloading model {held}", download)

    # --- a registry as the target ---------------------------------------------------------------

    def find_by_source(self, name: str, source_key: str) -> ModelVersion | None:
        """Return the version of `name` copied from `source_key`, or None; one listing.

        An archived copy is not found in a registry: azure-ai-ml asks a registry for its
        active versions only (it sends no ``listViewType`` there), see
        docs/backends-azureml-v2.md.
        """
        found = self._list(f"finding the copy of {source_key} in model {name!r}", name)
        return copy_of(found, source_key)

    def copy(self, request: CopyRequest) -> ModelVersion:
        """Copy `request.source` into this registry as a new version of `request.name`.

        One ``create_or_update`` carries the path, the tags (the source key among them), the
        properties (the ``promotion.*`` record again, write-once) and the stage. The path is
        the source version's job output when the source is this workspace (the new version
        keeps its job), else the source's ``azureml://`` URI (a registry has no jobs: the
        ``promotion.source.run`` tag keeps the link). A retry first looks the copy up by its
        key: a copy whose answer was lost is never made twice (`_copies`).

        Raises:
            RegistryError: The copy failed.
        """
        source = request.source
        held = source.version
        same_workspace = self.registry_name is None and source.registry == self.location
        path = held.source if same_workspace and held.source else source.uri
        properties = copy_properties(request, job=held.run_id if same_workspace else None)
        model_type = getattr(source.handle, "type", None) or "custom_model"

        def model() -> Any:
            # A new entity each attempt: create_or_update writes the number it chose into it.
            return self._entity(request, path=path, model_type=model_type, properties=properties)

        where = self.registry_name or self._session.ml_client.workspace_name
        what = f"copying {held} from {source.registry} into model {request.name!r} of {where!r}"
        return copy_once(
            self._gateway,
            create=lambda: self._create(what, model),
            find_copy=lambda: copy_of(self._listing(request.name), request.source_key),
            what=what,
        )

    def _list(
        self, what: str, name: str, stage: str | None = None, *, everything: bool = False
    ) -> list[ModelVersion]:
        """List the active versions of `name` (or all, archived too), highest first."""
        return self._gateway.call(
            what, lambda: self._listing(name, stage=stage, everything=everything)
        )

    def _listing(
        self, name: str, *, stage: str | None = None, everything: bool = False
    ) -> list[ModelVersion]:
        """One listing of `name`'s versions, highest first (no retry: see `_list`)."""
        view: dict[str, Any] = {}
        if everything:
            from azure.ai.ml.constants import ListViewType  # noqa: PLC0415 - lazy SDK

            view["list_view_type"] = ListViewType.ALL
        try:
            found = list(self._models.list(name=name, stage=stage, **view))
        except Exception as exc:
            if is_not_found(exc):
                return []
            raise
        if stage is not None:
            # azure-ai-ml drops the stage filter for a registry (`ModelOperations.list`): the
            # listing holds every active version, and the stage is picked here.
            found = [m for m in found if getattr(m, "stage", None) == stage]
        return sorted((_version(m) for m in found), key=lambda v: v.version, reverse=True)

    def _get(self, name: str, **which: str) -> ModelVersion | None:
        def get() -> ModelVersion | None:
            try:
                return _version(self._models.get(name, **which))
            except Exception as exc:
                if is_not_found(exc):
                    return None
                raise

        return self._gateway.call(f"reading model {name!r} ({which})", get)

    def find_baseline(self, name: str, strategy: BaselineStrategy) -> ModelVersion | None:
        """Return the version `strategy` picks, or None; one request.

        Raises:
            BaselineNotFoundError: The strategy pins a version that does not exist, or is
                archived.
            SettingsError: An alias strategy: the v2 registry has stages, not aliases.
        """
        if strategy.kind is BaselineKind.ALIAS:
            raise unsupported_strategy(strategy, "Azure ML (SDK v2)")
        if strategy.kind is BaselineKind.VERSION:
            number = strategy.version_number
            found = None
            if number is not None and number >= 1:
                found = self._get(name, version=str(number))
            if found is None:
                raise BaselineNotFoundError(model_name=name, strategy=str(strategy))
            if self._archived(name, found.version):
                raise BaselineNotFoundError(
                    model_name=name,
                    strategy=str(strategy),
                    detail=f"version {found.version} is archived: restore it, or pin another",
                )
            return found
        if strategy.kind is BaselineKind.TAG:
            tagged = self.find_tagged(name, strategy.tag_key or "", strategy.tag_value or "")
            return tagged[0] if tagged else None
        if strategy.kind is BaselineKind.STAGE:
            staged = self._list(
                f"finding the versions of model {name!r} in stage {strategy.name!r}",
                name,
                stage=strategy.name,
            )
            return staged[0] if staged else None
        return self._get(name, label="latest")

    def _archived(self, name: str, version: int) -> bool:
        """Whether `version` of `name` is archived: absent from the active versions' list.

        The v2 ``Model`` entity has no archived flag; only the list's view type tells.
        """
        active = self._list(f"listing the active versions of model {name!r}", name)
        return all(v.version != version for v in active)

    def find_by_run(self, name: str, run_id: str) -> ModelVersion | None:
        """Return the highest version of `name` registered from job `run_id`, or None.

        Archived versions count (``archived`` set): a job whose version was archived is
        already registered, and is not registered again. One request when there is none; a
        second (the active versions) tells whether the one found is archived.
        """
        what = f"finding versions of model {name!r} from job {run_id!r}"
        found = self._list(what, name, everything=True)
        self._highest[name] = max((v.version for v in found), default=0)
        matches = [v for v in found if v.run_id == run_id]
        if not matches:
            return None
        active = {v.version for v in self._list(what, name) if v.run_id == run_id}
        kept = [v for v in matches if v.version in active]
        return kept[0] if kept else attrs.evolve(matches[0], archived=True)

    def find_tagged(self, name: str, key: str, value: str) -> Sequence[ModelVersion]:
        """Return the active versions of `name` whose tag `key` is `value`, highest first."""
        found = self._list(f"finding versions of model {name!r} tagged {key}={value}", name)
        return [v for v in found if v.tags.get(key) == value]

    def register(self, request: RegistrationRequest) -> ModelVersion:
        """Register a version with ``models.create_or_update``, from a job's output or a local path.

        Local mode (no job) registers the local file or folder, which the SDK uploads first.
        The type is ``mlflow_model`` when the path holds an ``MLmodel`` file, else
        ``custom_model``. A transient failure is retried, but never blindly: the version is
        first looked up by job (local mode: by the content digest the promotion tags it with),
        in case the failed call had been committed.

        Raises:
            ModelFileError: Local mode: the local path does not exist.
            RegistryError: The registration failed.
        """
        if self.registry_name is not None:
            msg = (
                f"registry {self.registry_name!r} holds no jobs or local files to register "
                "from: promote a registered version into it (candidate_version=...)"
            )
            raise UsageError(msg)
        if request.run is None:
            return self._register_local(request)
        run = request.run
        path = request.model_path.strip("/")
        if request.job_output is not None:
            uri, is_mlflow = self._in_output(run, request.job_output, path)
        else:
            files = self._runs.list_files(run)
            is_folder = any(f.startswith(path + "/") for f in files)
            is_mlflow = is_folder and f"{path}/MLmodel" in files
            uri = _job_output_uri(run.run_id, path, folder=is_folder)
        properties = {**_properties(request), JOB_PROPERTY: run.run_id}

        def model() -> Any:
            # A new entity each attempt: create_or_update writes the version it chose into it.
            # The first attempt numbers the version itself, one above the highest version the
            # look-up by job just listed (archived ones included, as the service's own
            # nextVersion counts them), which saves the SDK's read of the model container. A
            # number taken since is refused by the service (another path) and retried; a
            # retry lets the SDK read nextVersion.
            known = self._highest.pop(request.name, None)
            return self._entity(
                request,
                path=uri,
                model_type="mlflow_model" if is_mlflow else "custom_model",
                properties=properties,
                version=None if known is None else str(known + 1),
            )

        def find_earlier() -> ModelVersion | None:
            return self._highest_listed(
                f"finding versions of model {request.name!r} from job {run.run_id!r}",
                request.name,
                lambda v: v.run_id == run.run_id,
            )

        what = f"registering model {request.name!r} from job {run.run_id!r}"
        return register_once(
            self._gateway.policy,
            register=lambda: self._create(what, model),
            find_earlier=find_earlier,
        )

    def _in_output(self, run: RunRecord, output: str, path: str) -> tuple[str, bool]:
        """Return the URI of `path` in the job's named output, and whether it is an MLflow model.

        An MLflow model is a folder with an ``MLmodel`` file (the whole output, or a folder in
        it); the listing is the one the model-file check made (no request).
        """
        from aml_promotion.adapters.azureml_v2._outputs import job_output_uri  # noqa: PLC0415

        files = self._runs.list_output_files(run, output)
        is_folder = not path or any(f.startswith(path + "/") for f in files)
        marker = f"{path}/MLmodel" if path else "MLmodel"
        uri = job_output_uri(run.run_id, output, path, folder=is_folder)
        return uri, is_folder and marker in files

    def _entity(
        self,
        request: RegistrationRequest | CopyRequest,
        *,
        path: str,
        model_type: str,
        properties: dict[str, str],
        version: str | None = None,
    ) -> Any:
        """Return the SDK's ``Model`` that registers (or copies) `request` as a new version.

        Its tags and description are the request's, its stage the one a version with those
        tags is registered in (`with_stages`); `version` None lets the service number it.
        """
        from azure.ai.ml.entities import Model  # noqa: PLC0415 - the SDK is lazy

        return Model(
            name=request.name,
            version=version,
            path=path,
            type=model_type,
            tags=dict(request.tags) or None,
            properties=properties or None,
            description=request.description,
            stage=self._stage_at_registration(request.tags),
        )

    def _highest_listed(
        self, what: str, name: str, keep: Callable[[ModelVersion], bool]
    ) -> ModelVersion | None:
        """The highest active version of `name` that `keep` keeps, or None; one listing, once.

        What an earlier, failed registration may have left, looked up before a retry (no
        retry of its own: `register_once` retries it).
        """
        found = self._gateway.once(what, lambda: [v for v in self._listing(name) if keep(v)])
        return found[0] if found else None

    def _create(self, what: str, model: Callable[[], Any]) -> ModelVersion:
        """Make one ``create_or_update`` call; a refusal that a retry cures is transient."""
        try:
            return self._gateway.once(
                what, lambda: _version(self._models.create_or_update(model()))
            )
        except RegistryError as exc:
            if _left_by_a_partial_upload(exc):
                msg = f"{what}: files of an earlier, failed upload are in the way"
            elif version_taken(exc):
                # Another registration took the number we (or the SDK) chose: ask again.
                msg = f"{what}: its version number was taken by a concurrent registration"
            else:
                raise
            raise TransientRegistryError(msg) from exc

    def _register_local(self, request: RegistrationRequest) -> ModelVersion:
        """Register a local file or folder: the SDK uploads it to the default datastore.

        ``create_or_update`` uploads the content to the workspace's default datastore
        (``LocalUpload/<content hash>/<name>``, skipped when that upload was already confirmed)
        and registers the version on that datastore path. The version has no job; the
        promotion's ``promotion.*`` tags (metrics, series, content digest) make it a baseline
        and tell a re-run. A failed attempt is retried only when the request carries the content
        digest (as every promotion's does): the version is looked up by it first, so a
        registration committed before its answer was lost is not made twice. Without the
        digest there is nothing to look it up by, and the registration is made once.
        """
        path = Path(request.model_path)
        if not path.exists():
            raise ModelFileError(
                f"the local model path {str(path)!r} does not exist", wanted=str(path)
            )
        is_mlflow = path.is_dir() and (path / "MLmodel").is_file()
        properties = _properties(request)
        # The one azure-ai-ml applies is the first of them at the folder's root.
        ignore_files = [path / n for n in _IGNORE_FILES if (path / n).is_file()]
        if path.is_dir() and ignore_files:
            logger.warning(
                "%s: azure-ai-ml leaves out of the upload the files it names, so the version "
                "lacks them (the content digest still covers them); remove it from the model "
                "folder, or register a copy without it",
                ignore_files[0],
            )

        def model() -> Any:
            # A new entity each attempt: create_or_update rewrites its version and path.
            return self._entity(
                request,
                path=os.path.normpath(path.absolute()),  # not resolved: a symlink keeps its name
                model_type="mlflow_model" if is_mlflow else "custom_model",
                properties=properties,
            )

        what = f"registering model {request.name!r} from {str(path)!r}"
        digest = request.tags.get(decision_tags.MODEL_DIGEST)
        if digest is None:
            return self._create(what, model)

        def find_earlier() -> ModelVersion | None:
            return self._highest_listed(
                f"finding versions of model {request.name!r} with content {digest}",
                request.name,
                lambda v: v.tags.get(decision_tags.MODEL_DIGEST) == digest,
            )

        return register_once(
            self._gateway.policy,
            register=lambda: self._create(what, model),
            find_earlier=find_earlier,
        )

    def _update_tags(self, version: ModelVersion, change: Callable[[dict[str, str]], None]) -> None:
        def update() -> None:
            # Read, change, write back: a PUT replaces the version's whole tag set.
            model = self._models.get(version.name, version=str(version.version))
            tags = {str(k): str(v) for k, v in (model.tags or {}).items()}
            before = dict(tags)
            change(tags)
            if tags == before:
                return
            # azure-ai-ml writes every version back with is_archived false (its restore is
            # that same PUT): a version archived since it was listed is never written, tags
            # alone or a stage, so never restored.
            if self._archived_now(version):
                return
            stage = self._stage_change(before, tags)
            if stage is not None:
                model.stage = stage
            model.tags = tags
            self._models.create_or_update(model)

        self._gateway.call(f"updating the tags of model {version}", update)

    def _archived_now(self, version: ModelVersion) -> bool:
        """Whether `version` is archived now (one listing; no retry: inside the caller's)."""
        return all(v.version != version.version for v in self._listing(version.name))

    def set_tags(self, version: ModelVersion, tags: Mapping[str, str]) -> None:
        """Set tags on a version (read, then write the version back)."""
        self._update_tags(version, lambda held: held.update(tags))

    def remove_tags(self, version: ModelVersion, keys: Collection[str]) -> None:
        """Remove tags from a version; a key it does not have is fine."""
        self._update_tags(version, without(keys))

    def set_alias(self, version: ModelVersion, alias: str) -> None:  # noqa: ARG002 - the port's
        """Refuse: the Azure ML (SDK v2) registry has no model aliases.

        Raises:
            SettingsError: Always (an ``alias:`` baseline is refused before this is reached).
        """
        raise unsupported_strategy(BaselineStrategy.alias(alias), "Azure ML (SDK v2)")
