"""The parsed command line, typed: `Arguments`, and the combinations of options that cannot work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from aml_promotion._cli._parser import BackendChoice, build_parser, default_backend
from aml_promotion.exceptions import UsageError
from aml_promotion.ports import VersionRef

__all__ = ["Arguments"]


# The options that name an Azure ML workspace or identity: given, the default backend is Azure ML.
_AZURE_OPTIONS = (
    "workspace_config",
    "subscription_id",
    "resource_group",
    "workspace_name",
    "client_id",
    "tenant_id",
    "target_registry",
)


@attrs.frozen(kw_only=True)
class Arguments:
    """The parsed command line, typed."""

    experiment_name: str | None
    run_id: str | None
    metrics_file: Path | None
    parameters_file: str | None
    strict: bool
    backend: BackendChoice
    tracking_uri: str | None
    workspace_config: Path | None
    dry_run: bool
    fail_on_reject: bool
    json: bool
    verbose: bool
    model_id: str | None = None
    registry_uri: str | None = None
    model_name: str | None = None
    subscription_id: str | None = None
    resource_group: str | None = None
    workspace_name: str | None = None
    client_id: str | None = None
    tenant_id: str | None = None
    backend_given: bool = True
    candidate_version: str | None = None
    target_registry_uri: str | None = None
    target_registry: str | None = None

    @classmethod
    def parse(cls, argv: Sequence[str], *, environ: Mapping[str, str] | None = None) -> Arguments:
        """Parse `argv`; raise `UsageError` for arguments that cannot be used together.

        Args:
            argv: The arguments, without the program name.
            environ: The environment the default backend is chosen from (`default_backend`;
                default: an empty one).

        Raises:
            UsageError: Unknown or malformed arguments, or a combination that cannot work.
        """
        namespace = build_parser().parse_args(list(argv))
        fields = attrs.fields_dict(cls)
        values = {name: getattr(namespace, name) for name in fields if hasattr(namespace, name)}
        if values["backend"] is None:
            named = any(values[name] is not None for name in _AZURE_OPTIONS)
            values["backend"] = default_backend(environ=environ or {}, azure_named=named)
            values["backend_given"] = False
        args = cls(**values)
        args.check()
        return args

    @property
    def local(self) -> bool:
        """Local mode: no run named, the model is a file or folder here."""
        return (
            self.experiment_name is None
            and self.run_id is None
            and self.model_id is None
            and self.candidate_version is None
        )

    def check(self) -> None:
        """Raise `UsageError` for a combination that cannot work.

        Raises:
            UsageError: Only one of experiment and run id; a local-mode or backend option
                without its mode or backend.
        """
        self._check_not_empty("--experiment-name", self.experiment_name)
        self._check_not_empty("--run-id", self.run_id)
        self._check_mlflow_options()
        self._check_azure_options()
        self._check_version_options()
        if self.candidate_version is not None:
            return  # it names the candidate alone (checked above)
        # A v2 job's name is unique in its workspace: the experiment is only checked, if given.
        run_id_alone = self.backend is BackendChoice.AZUREML_V2 and self.experiment_name is None
        if (
            self.model_id is None
            and not run_id_alone
            and (self.experiment_name is None) != (self.run_id is None)
        ):
            given, missing = (
                ("--experiment-name", "--run-id")
                if self.run_id is None
                else ("--run-id", "--experiment-name")
            )
            msg = (
                f"{given} is given but {missing} is not: give both to promote a run, or "
                "neither to register a local file (the old action silently fell back to local "
                "mode here)"
            )
            raise UsageError(msg)
        if self.metrics_file is not None and not self.local:
            msg = "--metrics-file is for local mode: a run's metrics are read from the run"
            raise UsageError(msg)
        self._check_for_backend("--tracking-uri", self.tracking_uri, BackendChoice.MLFLOW)
        azure = (BackendChoice.AZUREML, BackendChoice.AZUREML_V2)
        if self.workspace_config is not None and self.backend not in azure:
            msg = "--workspace-config is for --backend azureml or azureml-v2"
            raise UsageError(msg)

    def _check_for_backend(self, option: str, value: object, backend: BackendChoice) -> None:
        """Raise `UsageError` when `option` is given but the backend is not `backend`."""
        if value is not None and self.backend is not backend:
            said = "the backend" if self.backend_given else "the default backend"
            msg = f"{option} is for --backend {backend.value} ({said} is {self.backend.value})"
            raise UsageError(msg)

    @staticmethod
    def _check_not_empty(option: str, value: str | None) -> None:
        """Raise `UsageError` when `option` is given empty (or blank)."""
        if value is not None and not value.strip():
            msg = f"{option} is empty"
            raise UsageError(msg)

    def _check_option(self, option: str, value: str | None, backend: BackendChoice) -> None:
        """Raise `UsageError` when `option` is given for another backend, or given empty."""
        self._check_for_backend(option, value, backend)
        self._check_not_empty(option, value)

    def _check_azure_options(self) -> None:
        for option, value in (
            ("--subscription-id", self.subscription_id),
            ("--resource-group", self.resource_group),
            ("--workspace-name", self.workspace_name),
            ("--client-id", self.client_id),
            ("--tenant-id", self.tenant_id),
            ("--target-registry", self.target_registry),
        ):
            self._check_option(option, value, BackendChoice.AZUREML_V2)

    def _check_version_options(self) -> None:
        if self.candidate_version is not None:
            if not self.candidate_version.strip():
                msg = "--candidate-version is empty: give NAME:VERSION, NAME@ALIAS or NAME:latest"
                raise UsageError(msg)
            VersionRef.parse(self.candidate_version, field="--candidate-version")
            given = [
                option
                for option, value in (
                    ("--experiment-name", self.experiment_name),
                    ("--run-id", self.run_id),
                    ("--model-id", self.model_id),
                    ("--metrics-file", self.metrics_file),
                )
                if value is not None
            ]
            if given:
                msg = f"--candidate-version names the candidate alone: not with {given[0]}"
                raise UsageError(msg)
        self._check_option("--target-registry-uri", self.target_registry_uri, BackendChoice.MLFLOW)
        if self.target_registry_uri is not None and self.candidate_version is None:
            msg = (
                "--target-registry-uri goes with --candidate-version: the registered "
                "version to copy into it"
            )
            raise UsageError(msg)
        self._check_target_registry()

    def _check_target_registry(self) -> None:
        # Its backend (azureml-v2) and emptiness are checked with the other Azure options.
        if self.target_registry is not None and self.candidate_version is None:
            msg = (
                "--target-registry goes with --candidate-version: the workspace's registered "
                "version to copy into it"
            )
            raise UsageError(msg)

    def _check_mlflow_options(self) -> None:
        for option, value in (("--registry-uri", self.registry_uri), ("--model-id", self.model_id)):
            self._check_option(option, value, BackendChoice.MLFLOW)
        if self.model_id is not None and (self.run_id is not None or self.metrics_file):
            msg = "--model-id names the run too: give it without --run-id and --metrics-file"
            raise UsageError(msg)
