"""`Copies`: promotion across environments on MLflow: a version offered, a version copied in.

As a source, a registry offers a version by number, alias or as the latest usable one
(`get_version`), and downloads its files (`download_version`). As a target, it takes a copy
(`copy`), found again by its ``promotion.source.key`` tag (`find_by_source`). How a copy is
made depends on where the source is:

- the same registry (another model name): one ``create_model_version`` whose source is the
  source version's ``models:/<name>/<version>``, with its run and logged model, as
  ``MlflowClient.copy_model_version`` does, but with the copy's tags in the same request (MLflow's
  copies the source's tags and takes none: tagging after it would leave, on a lost answer, a copy
  that nothing can find by its source, and a retry would copy it again);
- another registry, Unity Catalog: the source's files downloaded, then registered from that
  folder (``local_model_path``), as MLflow's own workspace-to-Unity-Catalog copy does;
- another registry, anything else (a sqlite file, another ``mlflow server``): the source's files
  downloaded, logged into a run of the target's tracking store as a local model's are
  (experiment ``aml-promotion-local``, folder ``model``: on a server with ``--serve-artifacts``
  they go to its artifact store), with the candidate's metrics (`CopyRequest.metrics`) logged on
  that run as a local model's are, and the version registered from ``runs:/<run>/model``. A
  registry cannot take another server's ``models:/`` or ``mlflow-artifacts:`` URI as a source:
  it would resolve it against itself.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aml_promotion._domain import tags
from aml_promotion.adapters._redaction import redact
from aml_promotion.adapters._registration import register_once
from aml_promotion.adapters.mlflow._http import _http_retries_off
from aml_promotion.adapters.mlflow._session import _sqlite_path
from aml_promotion.adapters.mlflow._uris import _scheme
from aml_promotion.adapters.mlflow._versions import Versions, _usable, to_version
from aml_promotion.exceptions import RegistryError, VersionNotFoundError
from aml_promotion.ports import (
    CopyRequest,
    ModelVersion,
    RegistrationRequest,
    SourceVersion,
    VersionRef,
)

if TYPE_CHECKING:
    from aml_promotion.adapters.mlflow._runs import Runs
    from aml_promotion.adapters.mlflow._session import MlflowSession

__all__ = ["Copies", "registry_location"]


def registry_location(session: MlflowSession) -> str:
    """Return where the session's registry is: its URI (a sqlite file's made absolute), redacted.

    The registry a client resolved (``MLFLOW_REGISTRY_URI``, else the tracking URI) is the one
    named, without a trailing ``/`` and without a query string or fragment, so two backends on
    one registry name it alike. Credentials in the URI are never part of it: its user info is
    ``***``, and a query string (``?password=...``, ``?sslmode=require``) is dropped whole, as
    connection options rather than where the registry is. The location is written into every
    copy's ``promotion.source.*`` tags, which anyone who can read the target can read.
    """
    uri = str(
        getattr(session.client, "_registry_uri", "") or session.registry_uri or session.tracking_uri
    )
    database = _sqlite_path(uri) if _scheme(uri) == "sqlite" else None
    if database is not None:
        return redact(f"sqlite:///{database}")
    if "://" not in uri:
        return redact(uri)  # "databricks", "databricks-uc": a name, not a URL
    # Redacted first: a password in the user info may hold a "?" or "#" of its own.
    shown = redact(uri).split("#", 1)[0].split("?", 1)[0]
    # "http://host/" and "http://host" are one server: one spelling, so a re-run finds its copy.
    return shown.rstrip("/")


class Copies:
    """The across-environments part of `MlflowBackend`'s registry.

    Args:
        session: The backend's connection to MLflow.
        runs: The backend's run store (to download files, to log a copy's run).
        versions: The backend's version searches.
        log_folder: Logs a local folder into a new run of this store; returns (run id, path).
        ensure_model: Creates the registered model when it is missing.
    """

    def __init__(
        self,
        session: MlflowSession,
        *,
        runs: Runs,
        versions: Versions,
        log_folder: Callable[[RegistrationRequest], tuple[str, str]],
        ensure_model: Callable[[str], None],
    ) -> None:
        self._session = session
        self._gateway = session.gateway
        self._runs = runs
        self._versions = versions
        self._log_folder = log_folder
        self._ensure_model = ensure_model

    @property
    def location(self) -> str:
        """Where this registry is (`registry_location`)."""
        return registry_location(self._session)

    # --- as a source ---------------------------------------------------------------------------

    def get_version(self, ref: VersionRef) -> SourceVersion:
        """Return the usable version `ref` names: a number, an alias, or the latest.

        Raises:
            VersionNotFoundError: No such version, or it is not usable (failed or pending).
            RegistryError: MLflow failed.
        """
        name = ref.name
        if ref.number is not None:
            held = self._versions.held_version(name, str(ref.number))
        elif ref.alias is not None:
            held = self._versions.held_by_alias(name, ref.alias)
        else:
            held = self._versions.latest_held(name)
        if held is None:
            raise VersionNotFoundError(
                f"there is no version {ref} in the MLflow registry {self.location}",
                model_name=name,
                ref=str(ref),
            )
        if not _usable(held):
            raise VersionNotFoundError(
                f"version {held.version} of {name} ({ref}) is not usable: its registration is "
                f"{held.status}",
                model_name=name,
                ref=str(ref),
            )
        version = to_version(held)
        return SourceVersion(
            version=version,
            registry=self.location,
            uri=f"models:/{version.name}/{version.version}",
            handle=held,
        )

    def download_version(self, source: SourceVersion, folder: str) -> str:
        """Download the version's files into `folder` (through this registry); return the path.

        Raises:
            RegistryError: MLflow failed.
        """
        version = source.version
        number = str(version.version)

        def download() -> str:
            # Not through a models:/ URI: MLflow resolves one on its *global* registry URI
            # (ModelsArtifactRepository, MLflow 3.x), not on this backend's.
            if self._session.unity_catalog:
                from mlflow.store.artifact.unity_catalog_models_artifact_repo import (  # noqa: PLC0415
                    UnityCatalogModelsArtifactRepository,
                )

                registry = str(getattr(self._session.client, "_registry_uri", ""))
                repository: Any = UnityCatalogModelsArtifactRepository(  # type: ignore[abstract]
                    artifact_uri=source.uri, registry_uri=registry
                )
            else:
                location = self._session.client.get_model_version_download_uri(version.name, number)
                repository = self._runs.repository(str(location))
            return str(repository.download_artifacts("", folder))

        return str(self._gateway.call(f"download the files of {source.uri}", download))

    # --- as a target ---------------------------------------------------------------------------

    def find_by_source(self, name: str, source_key: str) -> ModelVersion | None:
        """Return the usable version of `name` whose ``promotion.source.key`` is `source_key`.

        A copy still pending is waited for, within a bound; a failed one does not count.

        Raises:
            RegistryError: MLflow failed, or a copy stayed pending.
        """
        what = f"find the copy of {source_key} in model {name!r}"
        return self._settled_by_source(what, name, source_key, retry=True)

    def _settled_by_source(
        self, what: str, name: str, source_key: str, *, retry: bool
    ) -> ModelVersion | None:
        key = tags.SOURCE_KEY
        held = self._versions.held_by_tag(what, name, key, source_key, retry=retry)
        return None if held is None else self._versions.settled(held)

    def copy(self, request: CopyRequest) -> ModelVersion:
        """Register a copy of `request.source` as a new version of `request.name`.

        See the module's docstring for how, by where the source is. A copy retried after a
        transient failure first looks for the copy by its source, so it is never made twice.

        Raises:
            RegistryError: MLflow failed; or, with Unity Catalog, the model has no signature.
        """
        version_tags = {**request.properties, **request.tags}
        with contextlib.ExitStack() as stack:
            if request.source.registry == self.location:
                create = self._same_registry(request, version_tags)
            else:
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="aml-copy-"))
                create = self._from_files(request, version_tags, folder)
            self._ensure_model(request.name)
            what = f"copy {request.source.uri} into model {request.name!r}"

            def find_earlier() -> ModelVersion | None:
                return self._settled_by_source(what, request.name, request.source_key, retry=False)

            def register() -> ModelVersion:
                with _http_retries_off.forced():
                    held = self._gateway.once(what, create)
                return to_version(held)

            return register_once(self._gateway.policy, register=register, find_earlier=find_earlier)

    def _same_registry(
        self, request: CopyRequest, version_tags: dict[str, str]
    ) -> Callable[[], Any]:
        held = request.source.handle
        run_id = getattr(held, "run_id", None) or request.source.version.run_id
        model_id = getattr(held, "model_id", None) or None
        return functools.partial(
            self._session.client.create_model_version,
            request.name,
            source=request.source.uri,
            run_id=run_id,
            tags=version_tags,
            description=request.description,
            model_id=model_id,
        )

    def _from_files(
        self, request: CopyRequest, version_tags: dict[str, str], folder: str
    ) -> Callable[[], Any]:
        if request.download is None:
            raise RegistryError(
                f"{request.source.uri} is in another registry ({request.source.registry}) and "
                "no way to download its files was given"
            )
        path = request.download(folder)
        if self._session.unity_catalog:
            _require_local_signature(path, request.source.uri)
            # MLflow's client has no public way to register from a local folder; its
            # workspace-to-Unity-Catalog copy uses this one (MLflow 3.x).
            create_from_folder: Any = self._session.client._create_model_version  # noqa: SLF001
            return functools.partial(
                create_from_folder,
                request.name,
                source=request.source.uri,
                tags=version_tags,
                description=request.description,
                local_model_path=path,
            )
        # The run made here holds the copy's metrics as a local model's run does: a promotion
        # from this registry (the next environment), or one within it that compares with the
        # copy, reads them from that run, as from any version's. Without them the run reads
        # as a run with none, and its record (promotion.metric.*) would never be consulted.
        run_id, model_path = self._log_folder(
            RegistrationRequest(name=request.name, model_path=path, metrics=request.metrics)
        )
        # A metrics run the source's record names is a run of the source's store.
        version_tags.pop(tags.METRICS_RUN, None)
        return functools.partial(
            self._session.client.create_model_version,
            request.name,
            source=f"runs:/{run_id}/{model_path}",
            run_id=run_id,
            tags=version_tags,
            description=request.description,
        )


def _require_local_signature(path: str, shown: str) -> None:
    """Refuse, before registering, a model Unity Catalog would refuse: one with no signature.

    Raises:
        RegistryError: The folder has no ``MLmodel`` file, or no signature with outputs.
    """
    from mlflow.models import Model  # noqa: PLC0415

    mlmodel = Path(path) / "MLmodel"
    if not mlmodel.is_file():
        raise RegistryError(
            f"{shown} has no MLmodel file, and Unity Catalog registers MLflow models only "
            "(nothing copied)"
        )
    signature = Model.load(str(mlmodel)).signature
    if signature is None or signature.outputs is None:
        raise RegistryError(
            f"{shown} has no signature with inputs and outputs, and Unity Catalog refuses such "
            "a model (nothing copied)"
        )
