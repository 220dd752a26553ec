"""`Registry`: the `ModelRegistry` part of `MlflowBackend`: registering, tags and aliases."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from aml_promotion._domain.metrics import is_usable_number
from aml_promotion.adapters._redaction import redact
from aml_promotion.adapters._registration import register_once
from aml_promotion.adapters.mlflow._copies import Copies
from aml_promotion.adapters.mlflow._errors import _AlreadyExistsError, _NotFoundError
from aml_promotion.adapters.mlflow._http import _http_retries_off
from aml_promotion.adapters.mlflow._runs import Runs
from aml_promotion.adapters.mlflow._uris import _DATABASE_SCHEMES, _scheme
from aml_promotion.adapters.mlflow._versions import Versions, to_version
from aml_promotion.exceptions import RegistryError
from aml_promotion.ports import (
    CopyRequest,
    ModelVersion,
    RegistrationRequest,
    RunRecord,
    SourceVersion,
    VersionRef,
)

if TYPE_CHECKING:
    from aml_promotion._domain.policy import BaselineStrategy
    from aml_promotion.adapters.mlflow._session import MlflowSession

__all__ = [
    "LOCAL_EXPERIMENT",
    "LOCAL_FOLDER",
    "TAG_CPU_CORES",
    "TAG_DATASETS",
    "TAG_FRAMEWORK",
    "TAG_FRAMEWORK_VERSION",
    "TAG_MEMORY_GB",
    "TAG_SAMPLE_INPUT",
    "TAG_SAMPLE_OUTPUT",
    "Registry",
]

LOCAL_EXPERIMENT = "aml-promotion-local"
"""The experiment that holds the runs made for local model files (registered with no run)."""

LOCAL_FOLDER = "model"
"""The artifact folder of such a run that holds the local file (or the local folder's files)."""

# Tags that carry what MLflow's model versions have no field for.
TAG_FRAMEWORK = "framework"
TAG_FRAMEWORK_VERSION = "framework_version"
TAG_DATASETS = "datasets"
TAG_SAMPLE_INPUT = "sample_input_dataset"
TAG_SAMPLE_OUTPUT = "sample_output_dataset"
TAG_CPU_CORES = "cpu_cores"
TAG_MEMORY_GB = "memory_gb"

_TRACKING_VARIABLE = "MLFLOW_TRACKING_URI"


class Registry:
    """The `ModelRegistry` of `MlflowBackend`: versions found (by `Versions`), registered, tagged.

    A registration reads the run (its logged models, a model's signature) and looks its
    version up first, so this part is given the backend's `Runs` and `Versions`.

    Args:
        session: The backend's connection to MLflow.
        runs: The backend's run store.
        versions: The backend's version searches.
    """

    def __init__(self, session: MlflowSession, *, runs: Runs, versions: Versions) -> None:
        self._session = session
        self._gateway = session.gateway
        self._runs = runs
        self._versions = versions
        self._copies = Copies(
            session,
            runs=runs,
            versions=versions,
            log_folder=self._log_local_run,
            ensure_model=self._ensure_registered_model,
        )

    # --- finding versions: see Versions -------------------------------------------------------

    def find_baseline(self, name: str, strategy: BaselineStrategy) -> ModelVersion | None:
        """Return the version `strategy` picks among the versions of `name`, or None.

        See `Versions.find_baseline`.
        """
        return self._versions.find_baseline(name, strategy)

    def find_by_run(self, name: str, run_id: str) -> ModelVersion | None:
        """Return the highest usable version of `name` registered from `run_id`, or None.

        See `Versions.find_by_run`.
        """
        return self._versions.find_by_run(name, run_id)

    def find_by_logged_model(self, name: str, run_id: str, model_id: str) -> ModelVersion | None:
        """Return the highest usable version of `name` registered from logged model `model_id`.

        See `Versions.find_by_logged_model`.
        """
        return self._versions.find_by_logged_model(name, run_id, model_id)

    def find_tagged(self, name: str, key: str, value: str) -> Sequence[ModelVersion]:
        """Return every version of `name` whose tag `key` is `value`, highest version first.

        See `Versions.find_tagged`.
        """
        return self._versions.find_tagged(name, key, value)

    # --- across environments: see Copies -------------------------------------------------------

    @property
    def location(self) -> str:
        """Where this registry is: its URI (a sqlite file's absolute), without credentials."""
        return self._copies.location

    def get_version(self, ref: VersionRef) -> SourceVersion:
        """Return the usable version `ref` names. See `Copies.get_version`."""
        return self._copies.get_version(ref)

    def download_version(self, source: SourceVersion, folder: str) -> str:
        """Download a version's files into `folder`. See `Copies.download_version`."""
        return self._copies.download_version(source, folder)

    def find_by_source(self, name: str, source_key: str) -> ModelVersion | None:
        """Return the copy of `source_key` in `name`, or None. See `Copies.find_by_source`."""
        return self._copies.find_by_source(name, source_key)

    def copy(self, request: CopyRequest) -> ModelVersion:
        """Copy a version from another registry (or model) in. See `Copies.copy`."""
        return self._copies.copy(request)

    # --- writing ------------------------------------------------------------------------------

    def set_alias(self, version: ModelVersion, alias: str) -> None:
        """Point the registered-model alias `alias` at `version` (MLflow moves it).

        Raises:
            RegistryError: MLflow failed, or the version does not exist.
        """
        number = str(version.version)
        self._gateway.call(
            f"point alias {alias!r} at version {version}",
            # The writer is made inside the call: building it is an SDK call too.
            lambda: self._writer().set_registered_model_alias(version.name, alias, number),
        )

    def _write_tag(self, name: str, number: str, key: str, value: str) -> None:
        self._writer().set_model_version_tag(name, number, key, value)

    def _delete_tag(self, name: str, number: str, key: str) -> None:
        self._writer().delete_model_version_tag(name, number, key)

    def _writer(self) -> Any:
        """Return what writes tags and aliases: MLflow's registry client, else `MlflowClient`.

        ``MlflowClient.set_model_version_tag``, ``delete_model_version_tag`` and
        ``set_registered_model_alias`` read the registered model before each write (MLflow 3:
        their check that the name is not a prompt's), and a server loads every version of the
        model to answer that read (2.4 s at 100,000 versions: docs/reliability.md). The
        registry client beneath (``MlflowClient._get_registry_client()``, what those methods
        call next) sends the write alone. Nothing is lost: the versions written to here were
        found by a search or a read that passes prompts over, or were just registered.
        """
        client = self._session.client
        beneath = getattr(client, "_get_registry_client", None)  # private: gone, the public one
        return client if beneath is None else beneath()

    def logged_model_of(self, run: RunRecord, path: str) -> str | None:
        """Return the id of the logged model `path` names, as `register` picks it, or None.

        No request when the run logged no model (or `path` is a file or a folder's path).

        Raises:
            RegistryError: MLflow failed.
        """
        held = self._runs.run_of(run)
        if not getattr(getattr(held, "outputs", None), "model_outputs", None):
            return None
        return self._runs.logged_model_id(attrs.evolve(run, handle=held), path.strip("/"))

    def register(self, request: RegistrationRequest) -> ModelVersion:
        """Register a new version from the request's run (or from a local file or folder).

        A logged model of the run (MLflow 3: `model_path` is its name, or the request names its
        ``model_id``) is registered as ``mlflow.register_model`` registers it: source
        ``models:/<model_id>``, with ``model_id``, so that ``models:/<name>/<version>`` loads
        it; of several logged models of that name, the one at the largest step. Anything else
        is registered as ``runs:/<run id>/<model path>`` (any file or folder works; no MLmodel
        file is needed). With Unity Catalog, a model without a signature is refused first. The
        registered model is created when missing; it is not read first when a version of it
        was seen (a server loads every version of it to answer). Tags are, in order of
        precedence: the request's tags, then the metadata MLflow has no field for
        (``framework``, ``framework_version``, ``datasets`` comma-joined,
        ``sample_input_dataset``, ``sample_output_dataset``, ``cpu_cores``, ``memory_gb``),
        then the request's properties as they are.

        With no run (local mode), a run is made in the experiment `LOCAL_EXPERIMENT`: the file,
        or the folder's contents, logged into its artifact folder `LOCAL_FOLDER` (the version's
        source, so that ``models:/<name>/<version>`` resolves it), and the request's numeric
        metrics as its metrics (a list as a series), so the version can serve as a baseline
        later.

        A registration retried after a transient failure first looks for a version of this
        name from this run, so a model is never registered twice.

        Raises:
            RegistryError: MLflow failed; or, with Unity Catalog, the model has no signature.
        """
        model_id: str | None = None
        if request.run is None:
            run_id, model_path = self._log_local_run(request)
            experiment_name: str | None = LOCAL_EXPERIMENT
        else:
            run_id, model_path = request.run.run_id, request.model_path.strip("/")
            experiment_name = request.run.experiment_name
            model_id = request.model_id or self._runs.logged_model_id(request.run, model_path)
        if self._session.unity_catalog:
            self._require_signature(run_id, model_path, model_id)
        tags = self._version_tags(request)
        # A logged model is registered as mlflow.register_model does: its own URI and id, so
        # that models:/<name>/<version> loads it and the version links back to it.
        source = f"models:/{model_id}" if model_id else f"runs:/{run_id}/{model_path}"
        what = f"register model {request.name!r} from {source}"

        def find_earlier() -> ModelVersion | None:
            # The failed attempt may have registered it before the answer was lost.
            earlier = self._versions.settled_by_run(
                what,
                request.name,
                run_id,
                retry=False,  # register_once retries; no retries within a retry
            )
            return (
                None if earlier is None else attrs.evolve(earlier, experiment_name=experiment_name)
            )

        def create() -> Any:
            with _http_retries_off.forced(), self._resolving_logged_models(model_id):
                return self._gateway.once(
                    what,
                    lambda: self._session.client.create_model_version(
                        request.name,
                        source=source,
                        run_id=run_id,
                        tags=tags,
                        description=request.description,
                        model_id=model_id,
                    ),
                )

        def register() -> ModelVersion:
            if not self._versions.has_versions(request.name):
                self._ensure_registered_model(request.name)
                return to_version(create(), experiment_name)
            # A version of it was seen: the registered model is not read first (on a server
            # that loads every version of it). Deleted since, MLflow says "does not exist",
            # which committed nothing: it is created, and the version with it.
            try:
                held = create()
            except _NotFoundError:
                self._create_registered_model(request.name)
                held = create()  # still "does not exist": something else is missing (the run)
            return to_version(held, experiment_name)

        return register_once(self._gateway.policy, register=register, find_earlier=find_earlier)

    def _require_signature(self, run_id: str, model_path: str, model_id: str | None) -> None:
        """Refuse, before registering, a model Unity Catalog would refuse: one with no signature.

        Raises:
            RegistryError: The model has no ``MLmodel`` file, or no signature with outputs.
        """
        import tempfile  # noqa: PLC0415

        from mlflow.models import Model  # noqa: PLC0415

        shown = f"models:/{model_id}" if model_id else f"runs:/{run_id}/{model_path}"
        unreadable: tuple[type[Exception], ...] = (RegistryError, *self._session.sdk_errors)

        def read(folder: str) -> Any:
            try:
                if model_id:
                    location = self._gateway.call(
                        f"read logged model {model_id!r}",
                        lambda: self._session.client.get_logged_model(model_id),
                    ).artifact_location
                    repository = self._runs.repository(str(location))
                    path = repository.download_artifacts("MLmodel", folder)
                else:
                    path = self._session.client.download_artifacts(
                        run_id, f"{model_path}/MLmodel", folder
                    )
                return Model.load(path)
            except unreadable as exc:
                raise RegistryError(
                    f"{shown} has no readable MLmodel file, and Unity Catalog registers MLflow "
                    f"models only (log it with mlflow.<flavor>.log_model): {redact(str(exc))}"
                ) from exc

        with tempfile.TemporaryDirectory() as folder:
            # Through the gateway: our error passes, its chain kept free of secrets.
            model = self._gateway.once(f"read the MLmodel file of {shown}", lambda: read(folder))
        signature = model.signature
        if signature is None or signature.outputs is None:
            raise RegistryError(
                f"{shown} has no signature with inputs and outputs, and Unity Catalog refuses "
                "such a model: log it with signature= or input_example= (nothing registered)"
            )

    @contextlib.contextmanager
    def _resolving_logged_models(self, model_id: str | None) -> Iterator[None]:
        """Within the block, MLflow's global tracking URI is this backend's, for a database store.

        MLflow's database registry store resolves a ``models:/<model_id>`` source with a new
        ``MlflowClient()``, that is on the *global* tracking URI, not on ours (MLflow 3.17,
        ``SqlAlchemyStore.create_model_version``). A server resolves it on its own side.
        """
        registry = (
            self._session.registry_uri
            or os.environ.get("MLFLOW_REGISTRY_URI")
            or self._session.tracking_uri
        )
        if model_id is None or _scheme(registry) not in _DATABASE_SCHEMES:
            yield
            return
        from mlflow.tracking._tracking_service import utils as sdk_utils  # noqa: PLC0415

        utils: Any = sdk_utils  # typed loosely: its annotations refuse None, which it takes

        # Not MLflow's own _use_tracking_uri: restoring "no URI set" unsets the user's
        # MLFLOW_TRACKING_URI. Both the global and the variable are put back as they were.
        saved_global = utils._tracking_uri  # noqa: SLF001 - MLflow has no getter for "unset"
        saved_variable = os.environ.get(_TRACKING_VARIABLE)
        utils.set_tracking_uri(self._session.tracking_uri)
        try:
            yield
        finally:
            utils.set_tracking_uri(saved_global)
            if saved_variable is None:
                os.environ.pop(_TRACKING_VARIABLE, None)
            else:
                os.environ[_TRACKING_VARIABLE] = saved_variable

    def _ensure_registered_model(self, name: str) -> None:
        try:
            self._gateway.call(
                f"read registered model {name!r}",
                lambda: self._session.client.get_registered_model(name),
            )
        except _NotFoundError:
            self._create_registered_model(name)

    def _create_registered_model(self, name: str) -> None:
        # Another process may create it between our look and our create: that is fine.
        with contextlib.suppress(_AlreadyExistsError):
            self._gateway.call(
                f"create registered model {name!r}",
                lambda: self._session.client.create_registered_model(name),
            )

    @staticmethod
    def _version_tags(request: RegistrationRequest) -> dict[str, str]:
        metadata: dict[str, str] = {}
        if request.framework is not None:
            metadata[TAG_FRAMEWORK] = request.framework.value
        if request.framework_version is not None:
            metadata[TAG_FRAMEWORK_VERSION] = request.framework_version
        if request.datasets:
            metadata[TAG_DATASETS] = ",".join(request.datasets)
        if request.sample_input_dataset is not None:
            metadata[TAG_SAMPLE_INPUT] = request.sample_input_dataset
        if request.sample_output_dataset is not None:
            metadata[TAG_SAMPLE_OUTPUT] = request.sample_output_dataset
        if request.cpu_cores is not None:
            metadata[TAG_CPU_CORES] = format(request.cpu_cores, "g")
        if request.memory_gb is not None:
            metadata[TAG_MEMORY_GB] = format(request.memory_gb, "g")
        return {**request.properties, **metadata, **request.tags}

    def _log_local_run(self, request: RegistrationRequest) -> tuple[str, str]:
        from mlflow.entities import Metric  # noqa: PLC0415

        local = Path(request.model_path)
        experiment_id = self._local_experiment_id()
        run = self._gateway.call(
            f"create a run for local model {request.name!r}",
            lambda: self._session.client.create_run(
                experiment_id,
                run_name=f"local-{request.name}",
                tags={"aml_promotion.model_name": request.name},
            ),
        )
        run_id = str(run.info.run_id)
        # Always a folder: MLflow resolves ``models:/<name>/<version>`` only for a folder; for a
        # version made from a single file it downloads nothing (MLflow 3.17, verified).
        if local.is_dir():
            self._gateway.call(
                f"log the model folder {local.name!r}",
                lambda: self._session.client.log_artifacts(
                    run_id, str(local), artifact_path=LOCAL_FOLDER
                ),
            )
        else:
            self._gateway.call(
                f"log the model file {local.name!r}",
                lambda: self._session.client.log_artifact(
                    run_id, str(local), artifact_path=LOCAL_FOLDER
                ),
            )
        timestamp = int(run.info.start_time or 0)
        metrics = [
            Metric(key=key, value=float(value), timestamp=timestamp, step=step)
            for key, raw in request.metrics.items()
            for step, value in enumerate(raw if isinstance(raw, list) else [raw])
            if is_usable_number(value)
        ]
        if metrics:
            self._gateway.call(
                "log the local model's metrics",
                lambda: self._session.client.log_batch(run_id, metrics=metrics),
            )
        self._gateway.call(
            f"finish run {run_id!r}",
            lambda: self._session.client.set_terminated(run_id, "FINISHED"),
        )
        return run_id, LOCAL_FOLDER

    def _local_experiment_id(self) -> str:
        for _ in range(2):
            experiment = self._gateway.call(
                f"read experiment {LOCAL_EXPERIMENT!r}",
                lambda: self._session.client.get_experiment_by_name(LOCAL_EXPERIMENT),
            )
            if experiment is not None:
                return str(experiment.experiment_id)
            try:
                return str(
                    self._gateway.call(
                        f"create experiment {LOCAL_EXPERIMENT!r}",
                        lambda: self._session.client.create_experiment(LOCAL_EXPERIMENT),
                    )
                )
            except _AlreadyExistsError:
                continue  # created by another process meanwhile: read it again
        raise RegistryError(f"MLflow failed to create or read experiment {LOCAL_EXPERIMENT!r}")

    def set_tags(self, version: ModelVersion, tags: Mapping[str, str]) -> None:
        """Set (add or overwrite) tags on a version, one request per tag.

        Raises:
            RegistryError: MLflow failed, or the version does not exist.
        """
        number = str(version.version)
        for key, value in tags.items():
            self._gateway.call(
                f"tag version {version}",
                functools.partial(self._write_tag, version.name, number, key, value),
            )

    def remove_tags(self, version: ModelVersion, keys: Collection[str]) -> None:
        """Remove tags from a version (a key it does not have is fine), one request per key.

        Raises:
            RegistryError: MLflow failed, or the version does not exist.
        """
        number = str(version.version)
        for key in keys:
            self._gateway.call(
                f"untag version {version}",
                functools.partial(self._delete_tag, version.name, number, key),
            )
