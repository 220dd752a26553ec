"""`ModelRegistry` over azureml-core's model registry."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aml_promotion._domain.policy import BaselineKind, BaselineStrategy
from aml_promotion.adapters._azure import without
from aml_promotion.adapters._registration import register_once
from aml_promotion.adapters.azureml._gateway import is_not_found
from aml_promotion.exceptions import (
    BaselineNotFoundError,
    ModelFileError,
    SettingsError,
    SettingsProblem,
)
from aml_promotion.ports import Framework, ModelVersion, RegistrationRequest, unsupported_strategy

if TYPE_CHECKING:
    from aml_promotion.adapters.azureml._runs import Runs
    from aml_promotion.adapters.azureml._session import AzureMLSession

__all__ = ["Registry"]


# --- Values -----------------------------------------------------------------------------------


def _framework(framework: Framework | None, version: str | None) -> str | None:
    from azureml.core import Model  # noqa: PLC0415

    names = {
        Framework.SCIKITLEARN: Model.Framework.SCIKITLEARN,
        Framework.ONNX: Model.Framework.ONNX,
        Framework.TENSORFLOW: Model.Framework.TENSORFLOW,
        Framework.KERAS: Model.Framework.TFKERAS,
        Framework.CUSTOM: Model.Framework.CUSTOM,
    }
    if framework is None:
        # The SDK refuses a framework version without a framework; "Custom" is its default.
        return Model.Framework.CUSTOM if version is not None else None
    return str(names[framework])


def _version(model: Any) -> ModelVersion:
    return ModelVersion(
        name=model.name,
        version=int(model.version),
        id=model.id,
        run_id=model.run_id or None,
        experiment_name=model.experiment_name or None,
        tags=dict(model.tags or {}),
        source=model.url,
    )


class Registry:
    """`ModelRegistry` over azureml-core.

    Args:
        session: The backend's workspace and gateway.
        runs: The backend's run store (a registration reads the run).
    """

    def __init__(self, session: AzureMLSession, *, runs: Runs) -> None:
        self._session = session
        self._gateway = session.gateway
        self._runs = runs

    @property
    def _workspace(self) -> Any:
        return self._session.workspace

    def _models(self, **filters: Any) -> list[ModelVersion]:
        """List versions, highest first, in one request (``expand=False``: no run loading)."""
        from azureml.core import Model  # noqa: PLC0415

        models = Model.list(self._workspace, expand=False, **filters)
        return sorted((_version(m) for m in models), key=lambda v: v.version, reverse=True)

    def _list(self, what: str, **filters: Any) -> list[ModelVersion]:
        return self._gateway.call(what, functools.partial(self._models, **filters))

    def find_baseline(self, name: str, strategy: BaselineStrategy) -> ModelVersion | None:
        """Return the version `strategy` picks, or None; one request.

        Raises:
            BaselineNotFoundError: The strategy pins a version that does not exist.
            SettingsError: The strategy is an MLflow alias or stage, which SDK v1 lacks.
        """
        if strategy.kind is BaselineKind.VERSION:
            number = strategy.version_number
            # Model(ws, name, version=0) would answer the latest version: never ask it that.
            found = self._get(name, number) if number is not None and number >= 1 else None
            if found is None:
                raise BaselineNotFoundError(model_name=name, strategy=str(strategy))
            return found
        if strategy.kind in {BaselineKind.ALIAS, BaselineKind.STAGE}:
            raise unsupported_strategy(strategy, "Azure ML (SDK v1)")
        if strategy.kind is BaselineKind.TAG:
            tagged = self.find_tagged(name, strategy.tag_key or "", strategy.tag_value or "")
            return tagged[0] if tagged else None
        latest = self._list(f"finding the latest version of model {name!r}", name=name, latest=True)
        return latest[0] if latest else None

    def find_by_run(self, name: str, run_id: str) -> ModelVersion | None:
        """Return the highest version of `name` registered from `run_id`, or None."""
        found = self._list(
            f"finding versions of model {name!r} from run {run_id!r}", name=name, run_id=run_id
        )
        return found[0] if found else None

    def find_tagged(self, name: str, key: str, value: str) -> Sequence[ModelVersion]:
        """Return the versions of `name` whose tag `key` is `value`, highest first."""
        # The service's filter is a text of comma-separated "key=value" clauses: a pair holding
        # either character is asked by key alone. The exact pair is checked here either way.
        wanted: list[Any] = [key] if any(c in key + value for c in ",=") else [[key, value]]
        found = self._list(
            f"finding versions of model {name!r} tagged {key}={value}", name=name, tags=wanted
        )
        return [v for v in found if v.tags.get(key) == value]

    def _get(self, name: str, version: int) -> ModelVersion | None:
        from azureml.core import Model  # noqa: PLC0415

        def get() -> Any:
            try:
                return Model(self._workspace, name=name, version=version, expand=False)
            except Exception as exc:
                if is_not_found(exc):
                    return None
                raise

        model = self._gateway.call(f"reading version {version} of model {name!r}", get)
        return None if model is None else _version(model)

    def register(self, request: RegistrationRequest) -> ModelVersion:
        """Register a version: from its run (as ``run.register_model`` does), else from disk.

        A transient failure is retried, but a registration is never sent again blindly: the
        version is first looked up by run, in case the failed call had been committed.

        Raises:
            SettingsError: A dataset the request names is not registered in the workspace.
            ModelFileError: Local mode: the path is outside the working directory.
            RegistryError: The registration failed.
        """
        options = self._options(request)
        if request.run is None:
            return self._register_local(request, options)
        run = self._runs.handle(request.run)
        run_id = request.run.run_id
        what = f"registering model {request.name!r} from run {run_id!r}"

        def find_earlier() -> ModelVersion | None:
            found = self._gateway.once(
                f"finding versions of model {request.name!r} from run {run_id!r}",
                functools.partial(self._models, name=request.name, run_id=run_id),
            )
            return found[0] if found else None

        def register() -> ModelVersion:
            model = self._gateway.once(
                what,
                lambda: self._register_run_file(run, request.name, request.model_path, options),
            )
            return _version(model)

        return register_once(self._gateway.policy, register=register, find_earlier=find_earlier)

    def _register_run_file(
        self, run: Any, name: str, model_path: str, options: Mapping[str, Any]
    ) -> Any:
        """Register `model_path` of `run` as ``run.register_model`` does, less three requests.

        The same two writes as azureml-core 1.x's ``RunHistoryFacade.register_model`` and
        ``Model._register_with_asset`` (the asset of the run's files under the path, then the
        model on it), without what they add around them: the check that the path holds files
        (the path comes from the run's file listing, read by this promotion), and the read
        back of the model's experiment and run (``Model(..., expand=True)``, whose failure the
        SDK ignores). The model is built from the service's answer with ``expand=False``.
        """
        from azureml._model_management._util import model_name_validation  # noqa: PLC0415
        from azureml._restclient.models_client import ModelsClient  # noqa: PLC0415
        from azureml.core import Model  # noqa: PLC0415

        model_name_validation(name)
        facade = run._client  # noqa: SLF001 - the run's own REST clients, as register_model
        path = os.path.normpath(model_path).replace(os.sep, "/")
        prefix = f"ExperimentRun/{facade._data_container_id}/{path}"  # noqa: SLF001
        asset = facade.assets.create_asset(
            name, [{"prefix": prefix}], metadata_dict=None, run_id=run.id
        )
        workspace = run.experiment.workspace
        datasets = [
            {"name": purpose, "id": dataset._ensure_saved(workspace)}  # noqa: SLF001
            for purpose, dataset in options["datasets"] or ()
        ]
        samples = {
            key: None
            if options[key] is None
            else f"aml://dataset/{options[key]._ensure_saved(workspace)}"  # noqa: SLF001
            for key in ("sample_input_dataset", "sample_output_dataset")
        }
        resources = options["resource_configuration"]
        if resources is not None:
            resources._validate_configuration()  # noqa: SLF001 - as the SDK checks it
            resources = resources.serialize()
        dto = ModelsClient(workspace.service_context).register_model(
            name=name,
            tags=options["tags"],
            properties=options["properties"],
            description=options["description"],
            url=f"aml://asset/{asset.id}",
            framework=options["model_framework"],
            framework_version=options["model_framework_version"],
            unpack=False,
            experiment_name=run.experiment.name,
            run_id=run.id,
            datasets=datasets,
            sample_input_data=samples["sample_input_dataset"],
            sample_output_data=samples["sample_output_dataset"],
            resource_requirements=resources,
        )
        return Model(workspace, _model_dto=dto, expand=False)

    def _register_local(
        self, request: RegistrationRequest, options: dict[str, Any]
    ) -> ModelVersion:
        from azureml.core import Model  # noqa: PLC0415

        path = Path(request.model_path)
        cwd = Path.cwd()
        # Unresolved first (normalised, so ".." cannot leave), so that a symlink (DVC,
        # git-annex) keeps its own name; resolved when only that is under the directory.
        places = [(Path(os.path.normpath(path.absolute())), cwd), (path.resolve(), cwd.resolve())]
        relative = next((p.relative_to(base) for p, base in places if p.is_relative_to(base)), None)
        if relative is None:
            raise ModelFileError(
                f"azureml-core registers local files only from under the working directory "
                f"({str(cwd)!r}); {str(path)!r} is outside it",
                wanted=str(path),
            )

        def register() -> Any:
            # Model.register prints progress; keep stdout for the caller's own output.
            with contextlib.redirect_stdout(sys.stderr):
                return Model.register(
                    self._workspace,
                    model_path=str(relative),
                    model_name=request.name,
                    **options,
                )

        # Once: with no run to look it up by, a retry could register the model twice.
        return _version(
            self._gateway.once(f"registering model {request.name!r} from {str(path)!r}", register)
        )

    def _options(self, request: RegistrationRequest) -> dict[str, Any]:
        from azureml.core.resource_configuration import ResourceConfiguration  # noqa: PLC0415

        datasets = self._datasets(request)
        # The decision tags are copied to properties too: tags can be edited later, properties
        # cannot, so the registration keeps a record of why it was made.
        decision = {k: v for k, v in request.tags.items() if k.startswith("promotion.")}
        options: dict[str, Any] = {
            "tags": dict(request.tags) or None,
            "properties": {**decision, **request.properties} or None,
            "model_framework": _framework(request.framework, request.framework_version),
            "model_framework_version": request.framework_version,
            "description": request.description,
            # As the original action did: each dataset's purpose is its name.
            "datasets": [(name, datasets[name]) for name in request.datasets] or None,
            "sample_input_dataset": datasets.get(request.sample_input_dataset or ""),
            "sample_output_dataset": datasets.get(request.sample_output_dataset or ""),
            "resource_configuration": None,
        }
        if request.cpu_cores is not None and request.memory_gb is not None:
            options["resource_configuration"] = ResourceConfiguration(
                cpu=request.cpu_cores, memory_in_gb=request.memory_gb
            )
        return options

    def _datasets(self, request: RegistrationRequest) -> dict[str, Any]:
        """Resolve every dataset the request names; all the missing ones are one error."""
        from azureml.core import Dataset  # noqa: PLC0415

        wanted: list[tuple[str, str]] = [
            (f"$.datasets[{index}]", name) for index, name in enumerate(request.datasets)
        ]
        for key in ("sample_input_dataset", "sample_output_dataset"):
            name = getattr(request, key)
            if name is not None:
                wanted.append((f"$.{key}", name))
        found: dict[str, Any] = {}
        problems = []
        for path, name in wanted:
            if name in found:
                continue

            def get(name: str = name) -> Any:
                try:
                    return Dataset.get_by_name(self._workspace, name=name)
                except Exception as exc:
                    if is_not_found(exc):
                        return None
                    raise

            dataset = self._gateway.call(f"reading dataset {name!r}", get)
            if dataset is None:
                problems.append(
                    SettingsProblem(
                        path=path,
                        message=(
                            f"no dataset named {name!r} is registered in workspace "
                            f"{self._workspace.name!r}"
                        ),
                    )
                )
            else:
                found[name] = dataset
        if problems:
            raise SettingsError(problems)
        return found

    def _tags(self, version: ModelVersion, change: Callable[[dict[str, str]], None]) -> None:
        from azureml.core import Model  # noqa: PLC0415

        def update() -> None:
            # Read, change, write back: the service replaces the whole tag set at once.
            model = Model(self._workspace, id=version.id, expand=False)
            tags = dict(model.tags or {})
            before = dict(tags)
            change(tags)
            if tags == before:
                return
            if tags:
                model.update(tags=tags)
            else:
                # update() skips an empty tag set; this call sends it.
                model.update_tags_properties(remove_tags=list(before))

        self._gateway.call(f"updating the tags of model {version}", update)

    def set_tags(self, version: ModelVersion, tags: Mapping[str, str]) -> None:
        """Set tags on a version (two requests: read, then write the whole set)."""
        self._tags(version, lambda held: held.update(tags))

    def remove_tags(self, version: ModelVersion, keys: Collection[str]) -> None:
        """Remove tags from a version; a key it does not have is fine."""
        self._tags(version, without(keys))

    def set_alias(self, version: ModelVersion, alias: str) -> None:  # noqa: ARG002 - the port's
        """Refuse: Azure ML (SDK v1) has no model aliases.

        Raises:
            SettingsError: Always (an ``alias:`` baseline is refused before this is reached).
        """
        raise unsupported_strategy(BaselineStrategy.alias(alias), "Azure ML (SDK v1)")
