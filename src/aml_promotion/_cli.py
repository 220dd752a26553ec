"""The command line, ``aml-promote``: promote one candidate, print why, exit with a meaningful code.

It is a thin shell over `promote()`: parse the arguments, load the settings file, build a backend,
promote, then report — a plain-text table (or one JSON document) on stdout, coloured only on a
terminal and never with ``NO_COLOR``; warnings and errors on stderr; and, in GitHub Actions, step
outputs, the step summary (Markdown) and annotations (`aml_promotion._github`); in Azure
Pipelines, output variables, the run's summary (Markdown) and issues
(`aml_promotion._azure_pipelines`).
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import json
import logging
import os
import re
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NoReturn, TextIO

import attrs

from aml_promotion._azure_pipelines import AzurePipelines, neutralize
from aml_promotion._domain import render
from aml_promotion._github import (
    CREDENTIALS_VARIABLE,
    GitHubActions,
    Redactor,
    credential_secrets,
    default_model_name,
)
from aml_promotion._service import PromotionResult, promote
from aml_promotion._settings import Settings, load_settings
from aml_promotion.exceptions import (
    BackendNotInstalledError,
    CredentialsError,
    ModelFileError,
    PromotionError,
    RegistryError,
    RunNotFoundError,
    RunStateError,
    SettingsError,
    SettingsProblem,
    SettingsWarning,
    UsageError,
    VersionNotFoundError,
)
from aml_promotion.ports import Backend

__all__ = ["BackendChoice", "ExitCode", "main", "run"]

PROG = "aml-promote"
DEFAULT_PARAMETERS_FILE = "registermodel.json"
# Where the Azure/aml-registermodel action looked for its parameters file.
PARAMETERS_FOLDER = Path(".cloud", ".azure")
RUN_CONTEXT_VARIABLE = "AZUREML_RUN_ID"

logger = logging.getLogger("aml_promotion")


class ExitCode(enum.IntEnum):
    """What the exit status of ``aml-promote`` means."""

    OK = 0
    """Registered (or already registered), a dry run, or rejected with ``--no-fail-on-reject``."""
    REJECTED = 1
    """The policy rejected the candidate: nothing was registered."""
    BAD_INPUT = 2
    """Arguments, settings, credentials, or the run/model they name cannot be used."""
    BACKEND_FAILURE = 3
    """The backend failed (after retries), or an unexpected error."""


class BackendChoice(enum.Enum):
    """The backends the command line can build."""

    AZUREML = "azureml"
    MLFLOW = "mlflow"
    AZUREML_V2 = "azureml-v2"


# How --backend lists them: the default first, the deprecated one last.
_BACKEND_NAMES = ("azureml-v2", "mlflow", "azureml")


def backend_choice(text: str) -> BackendChoice:
    """Read a ``--backend`` value, in any case (``AzureML-v2`` is ``azureml-v2``).

    Raises:
        argparse.ArgumentTypeError: Not a backend; the message lists the choices.
    """
    try:
        return BackendChoice(text.strip().lower())
    except ValueError:
        msg = f"invalid choice: {text!r} (choose from {', '.join(_BACKEND_NAMES)})"
        raise argparse.ArgumentTypeError(msg) from None


# An Azure ML job sets MLFLOW_TRACKING_URI to its workspace's azureml:// URI, and these.
_AZURE_WORKSPACE_VARIABLES = ("AZUREML_ARM_WORKSPACE_NAME", "AZUREML_ARM_RESOURCEGROUP")


def default_backend(*, environ: Mapping[str, str], azure_named: bool = False) -> BackendChoice:
    """Return the backend used when ``--backend`` is left out: the one rule for it.

    Azure ML through SDK v2, unless ``MLFLOW_TRACKING_URI`` names an MLflow server and nothing
    names an Azure ML workspace (no workspace option given, `azure_named`; not in an Azure ML
    job; the tracking URI not ``azureml://``): then MLflow.

    Args:
        environ: The environment.
        azure_named: Whether an option names an Azure ML workspace or identity
            (``--workspace-name``, ``--workspace-config``, ``--client-id``...).
    """
    tracking = environ.get("MLFLOW_TRACKING_URI", "").strip()
    in_workspace = (
        azure_named
        or tracking.lower().startswith("azureml:")
        or any(environ.get(name, "").strip() for name in _AZURE_WORKSPACE_VARIABLES)
    )
    if tracking and not in_workspace:
        return BackendChoice.MLFLOW
    return BackendChoice.AZUREML_V2


# Which exit code each error means: the first matching class wins.
_EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (UsageError, ExitCode.BAD_INPUT),
    (SettingsError, ExitCode.BAD_INPUT),
    (CredentialsError, ExitCode.BAD_INPUT),
    (BackendNotInstalledError, ExitCode.BAD_INPUT),
    (RunNotFoundError, ExitCode.BAD_INPUT),
    (VersionNotFoundError, ExitCode.BAD_INPUT),
    (RunStateError, ExitCode.BAD_INPUT),
    (ModelFileError, ExitCode.BAD_INPUT),
    (RegistryError, ExitCode.BACKEND_FAILURE),
)

_TITLES = {
    ExitCode.BAD_INPUT: "aml-promote: bad input",
    ExitCode.BACKEND_FAILURE: "aml-promote: backend failure",
}

_EPILOG = """\
exit status:
  0  registered (or registered before from the same run), a dry run whatever its verdict,
     or rejected with --no-fail-on-reject
  1  rejected by the policy: nothing registered
  2  bad input: arguments, the settings file, credentials, or what they name — a run that
     does not exist or did not complete, a model file the run does not hold
  3  the backend failed (after retries), or an unexpected error

retries: a transient failure is retried, 5 attempts within 60 s; each request times out
  after the deadline's share (at least 5 s), so a hung server fails the stage in about a
  minute, naming it. AML_PROMOTION_RETRY_DEADLINE=SECONDS changes the 60 s.

candidate:
  --experiment-name and --run-id together name a run (on azureml-v2 --run-id alone names a
  job: its experiment is checked when given); neither means local mode: the settings'
  model_file_name is a file or folder in the checkout (metrics from --metrics-file).

  Inside an Azure ML job with --backend azureml-v2 (MLFLOW_RUN_ID or AZUREML_RUN_ID set),
  neither means the job itself, or, as a pipeline's step, its sibling step
  pipeline_child_run_name (see docs/azureml-pipeline-step.md).

  --candidate-version names a version already registered (churn:3, churn@staging,
  churn:latest): it is copied into the target registry (--target-registry-uri on MLflow,
  --target-registry on Azure ML) only if it beats the champion there, whose metrics are its
  promotion.metric.* tags.

Azure ML credentials (--backend azureml-v2), the first whose signal is present, no prompt:
  1. AZURE_CREDENTIALS, legacy: the JSON of `az ad sp create-for-rbac --json-auth` (or
     AZURE_CLIENT_SECRET with AZURE_CLIENT_ID and AZURE_TENANT_ID);
  2. GitHub OIDC: ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN (`permissions: id-token: write`) and
     --client-id/--tenant-id (or AZURE_CLIENT_ID/AZURE_TENANT_ID): a fresh GitHub ID token
     is exchanged at each sign-in, so a long job never outlives it;
  3. workload identity: AZURE_FEDERATED_TOKEN_FILE, with the client and tenant id as in 2;
  4. inside an Azure ML job: the submitting user's identity (OBO_ENDPOINT), else the
     compute's managed identity (MSI_ENDPOINT/MSI_SECRET, or DEFAULT_IDENTITY_CLIENT_ID);
  5. an Azure CLI login (az on PATH: azure/login, AzureCLI@2, or az login).
  Otherwise exit 2 naming these. -v logs which one was used (never an id, secret or token).
  The workspace: --subscription-id, --resource-group, --workspace-name (else
  AZURE_SUBSCRIPTION_ID and, in a job, AZUREML_ARM_SUBSCRIPTION/_RESOURCEGROUP/
  _WORKSPACE_NAME); without a resource group and name, the workspace config file as below.

Azure ML credentials (--backend azureml, SDK v1, deprecated), tried in this order:
  1. AZURE_CREDENTIALS (the JSON of `az ad sp create-for-rbac --json-auth`), for the workspace
     that --workspace-config names, or aml_arm_config.json (what Azure/aml-workspace writes,
     in .azureml/) else config.json, found from the working directory up;
  2. inside an Azure ML job (AZUREML_RUN_ID is set): the job's own workspace and token;
  3. at an interactive terminal only: the workspace config as in 1, with the SDK's own login
     (az login). In CI (CI, GITHUB_ACTIONS or TF_BUILD set) or without a terminal, no credentials is
     exit 2: never an interactive or device-code login that would hang the job.

local mode:
  a model_file_name without a path separator is searched for in the checkout (GITHUB_WORKSPACE,
  else the working directory; .git and virtualenv folders skipped): one match is registered,
  several or none is exit 2. A name with a separator is a path from the working directory.
"""


class _ArgumentsError(UsageError):
    """Arguments argparse could not parse."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One error path for every bad input: exit 2, an annotation, a JSON error document.
        self.print_usage(sys.stderr)
        raise _ArgumentsError(message)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``aml-promote``."""
    parser = _Parser(
        prog=PROG,
        description=(
            "Register a freshly trained model only when it beats the one in the registry,\n"
            "and say why. Reads .cloud/.azure/registermodel.json files unchanged."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    candidate = parser.add_argument_group("candidate")
    candidate.add_argument("--experiment-name", help="the candidate run's experiment")
    candidate.add_argument(
        "--run-id",
        help="the candidate run's id (pipeline or HyperDrive too); on azureml-v2 the job's name",
    )
    candidate.add_argument(
        "--model-id",
        help="--backend mlflow: an MLflow 3 logged model's id (models:/<model_id>); its run "
        "is the candidate run",
    )
    candidate.add_argument(
        "--candidate-version",
        metavar="NAME:VERSION",
        help="a registered version as the candidate: NAME:VERSION, NAME@ALIAS or NAME:latest, "
        "in the backend's registry; copied into the target registry if it beats the champion "
        "there (see docs/promote-across-environments.md)",
    )
    candidate.add_argument(
        "--metrics-file",
        type=Path,
        help="local mode only: a JSON object of the candidate's metrics (name → value)",
    )
    parser.add_argument(
        "--parameters-file",
        default=None,
        help=(
            "the settings file; a relative path that does not exist is also looked up in "
            f"{PARAMETERS_FOLDER.as_posix()}/ (default: {DEFAULT_PARAMETERS_FILE}, and all "
            "defaults when that file is nowhere)"
        ),
    )
    parser.add_argument(
        "--model-name",
        help="the registered model's name (default: the settings file's model_name, else "
        "<repository>-<branch> in GitHub Actions)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="unknown keys in the settings file are errors"
    )
    backend = parser.add_argument_group("backend")
    backend.add_argument(
        "--backend",
        type=backend_choice,
        default=None,
        metavar="{azureml-v2,mlflow,azureml}",
        help="where runs and models are, in any case: azureml-v2 (Azure ML, SDK v2), mlflow, or "
        "azureml (SDK v1, deprecated). Default: azureml-v2; mlflow when MLFLOW_TRACKING_URI is "
        "set and no Azure ML workspace is named (no option below, not in an Azure ML job)",
    )
    backend.add_argument(
        "--tracking-uri",
        help="--backend mlflow: the tracking URI (default: MLFLOW_TRACKING_URI, else "
        "sqlite:///mlflow.db)",
    )
    backend.add_argument(
        "--registry-uri",
        help="--backend mlflow: the model registry's URI, if not the tracking URI's "
        "(default: MLFLOW_REGISTRY_URI; databricks-uc for Unity Catalog)",
    )
    backend.add_argument(
        "--target-registry-uri",
        help="--backend mlflow with --candidate-version: the registry the version is copied "
        "into and whose champion it must beat (a sqlite file, an mlflow server, databricks-uc "
        "with a catalog.schema.model name); default: the backend's own registry",
    )
    backend.add_argument(
        "--workspace-config",
        type=Path,
        help="Azure ML: the workspace's config file (default: config.json or "
        "aml_arm_config.json, found from the working directory up; on azureml-v2 read only "
        "when the options below and the environment do not name the workspace)",
    )
    azure = parser.add_argument_group(
        "Azure ML workspace and sign-in (azureml-v2)",
        "No secret needed: see 'Azure ML credentials' below. Each option's action input\n"
        "has the same name with underscores (client_id...).",
    )
    azure.add_argument(
        "--subscription-id",
        help="the workspace's subscription (default: AZURE_SUBSCRIPTION_ID; in an Azure ML job "
        "AZUREML_ARM_SUBSCRIPTION)",
    )
    azure.add_argument(
        "--resource-group",
        help="the workspace's resource group (default: in an Azure ML job "
        "AZUREML_ARM_RESOURCEGROUP)",
    )
    azure.add_argument(
        "--workspace-name",
        help="the workspace's name (default: in an Azure ML job AZUREML_ARM_WORKSPACE_NAME)",
    )
    azure.add_argument(
        "--client-id",
        help="GitHub OIDC or workload identity: the Entra ID application (client) id to sign "
        "in as (default: AZURE_CLIENT_ID)",
    )
    azure.add_argument(
        "--tenant-id",
        help="GitHub OIDC or workload identity: its tenant id (default: AZURE_TENANT_ID)",
    )
    azure.add_argument(
        "--target-registry",
        help="with --candidate-version: the Azure ML registry to promote the workspace's "
        "version into (its champion is the baseline; signed in as for the workspace)",
    )
    behaviour = parser.add_argument_group("behaviour")
    behaviour.add_argument("--dry-run", action="store_true", help="decide, but register nothing")
    behaviour.add_argument(
        "--no-fail-on-reject",
        dest="fail_on_reject",
        action="store_false",
        help="exit 0, not 1, when the candidate is rejected",
    )
    behaviour.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON document on stdout (logs stay on stderr)",
    )
    behaviour.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log each stage on stderr as it starts (reading the candidate, finding the "
        "baseline, reading its metrics, registering, moving the alias or tag); on by default "
        "in CI (CI, GITHUB_ACTIONS or TF_BUILD set)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    return parser


def _version() -> str:
    try:
        return version("aml-promotion")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "unknown"


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
        for option, value in (
            ("--experiment-name", self.experiment_name),
            ("--run-id", self.run_id),
        ):
            if value is not None and not value.strip():
                msg = f"{option} is empty"
                raise UsageError(msg)
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
        if self.tracking_uri is not None and self.backend is not BackendChoice.MLFLOW:
            msg = f"--tracking-uri is for --backend mlflow ({self._backend_said()})"
            raise UsageError(msg)
        azure = (BackendChoice.AZUREML, BackendChoice.AZUREML_V2)
        if self.workspace_config is not None and self.backend not in azure:
            msg = "--workspace-config is for --backend azureml or azureml-v2"
            raise UsageError(msg)

    def _backend_said(self) -> str:
        if self.backend_given:
            return f"the backend is {self.backend.value}"
        return f"the default backend is {self.backend.value}"

    def _check_azure_options(self) -> None:
        for option, value in (
            ("--subscription-id", self.subscription_id),
            ("--resource-group", self.resource_group),
            ("--workspace-name", self.workspace_name),
            ("--client-id", self.client_id),
            ("--tenant-id", self.tenant_id),
            ("--target-registry", self.target_registry),
        ):
            if value is None:
                continue
            if self.backend is not BackendChoice.AZUREML_V2:
                msg = f"{option} is for --backend azureml-v2 ({self._backend_said()})"
                raise UsageError(msg)
            if not value.strip():
                msg = f"{option} is empty"
                raise UsageError(msg)

    def _check_version_options(self) -> None:
        if self.candidate_version is not None:
            if not self.candidate_version.strip():
                msg = "--candidate-version is empty: give NAME:VERSION, NAME@ALIAS or NAME:latest"
                raise UsageError(msg)
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
        if self.target_registry_uri is not None:
            if self.backend is not BackendChoice.MLFLOW:
                msg = f"--target-registry-uri is for --backend mlflow ({self._backend_said()})"
                raise UsageError(msg)
            if not self.target_registry_uri.strip():
                msg = "--target-registry-uri is empty"
                raise UsageError(msg)
            if self.candidate_version is None:
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
            if value is not None and self.backend is not BackendChoice.MLFLOW:
                msg = f"{option} is for --backend mlflow ({self._backend_said()})"
                raise UsageError(msg)
            if value is not None and not value.strip():
                msg = f"{option} is empty"
                raise UsageError(msg)
        if self.model_id is not None and (self.run_id is not None or self.metrics_file):
            msg = "--model-id names the run too: give it without --run-id and --metrics-file"
            raise UsageError(msg)


# --- Settings ------------------------------------------------------------------------------------


def find_parameters_file(given: str | None, *, cwd: Path) -> Path | None:
    """Return the settings file to read, as the original action found it, or None for defaults.

    A relative path that does not exist as given is also looked up in ``.cloud/.azure/``. The
    default, ``registermodel.json``, is looked up the same way, and missing everywhere means
    "all defaults"; an explicitly given file that is nowhere is an error.

    Args:
        given: The ``--parameters-file`` value, or None for the default.
        cwd: The working directory relative paths start from.

    Raises:
        SettingsError: An explicitly given file exists nowhere.
    """
    name = DEFAULT_PARAMETERS_FILE if given is None else given
    path = Path(name).expanduser()
    candidates = [path if path.is_absolute() else cwd / path]
    if not path.is_absolute():
        candidates.append(cwd / PARAMETERS_FOLDER / path)
    for candidate in candidates:
        # A directory given as the file: load_settings says to name the JSON file inside it.
        if candidate.is_file() or (given is not None and candidate.is_dir()):
            return candidate
    if given is None:
        return None
    looked = " or ".join(str(candidate) for candidate in candidates)
    raise SettingsError([SettingsProblem(path="$", message=f"settings file not found: {looked}")])


def read_settings(
    given: str | None,
    *,
    cwd: Path,
    strict: bool,
    environ: Mapping[str, str],
    model_name: str | None = None,
) -> tuple[Settings, Path | None, list[str]]:
    """Load the settings; the model name is `model_name`, else the file's, else the default.

    Returns:
        The settings, the file they came from (None: defaults), and the warnings to show.

    Raises:
        SettingsError: The file is missing (when given), invalid, or no model name can be found.
        UsageError: `model_name` (``--model-name``) is no name a registry accepts.
    """
    path = find_parameters_file(given, cwd=cwd)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SettingsWarning)
        settings = load_settings({} if path is None else path, strict=strict)
    shown = [str(w.message) for w in caught if issubclass(w.category, SettingsWarning)]
    if model_name is not None:
        try:
            settings = attrs.evolve(settings, model_name=model_name)
        except ValueError as exc:
            msg = f"--model-name: {exc}".replace("model_name ", "", 1)
            raise UsageError(msg) from None
    if settings.model_name is None:
        # The CLI's environment, not the process's, so that `run()` is testable in-process.
        name = default_model_name(environ)
        if name is not None:
            settings = attrs.evolve(settings, model_name=name)
    return settings, path, shown


def read_metrics(path: Path, *, cwd: Path) -> dict[str, object]:
    """Read a local candidate's metrics: a JSON object, metric name → value (or series).

    Raises:
        UsageError: The file is missing, not JSON, or not an object.
    """
    full = path if path.is_absolute() else cwd / path
    try:
        data = json.loads(full.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        msg = f"--metrics-file not found: {full}"
        raise UsageError(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"--metrics-file {full} cannot be read as JSON: {exc}"
        raise UsageError(msg) from None
    if not isinstance(data, dict):
        msg = f"--metrics-file {full} must hold a JSON object (metric name → value)"
        raise UsageError(msg)
    return {str(key): value for key, value in data.items()}


# --- Local mode: the model file in the checkout ---------------------------------------------------

# Never searched: version control, virtualenvs (which hold other projects' model files), and
# MLflow's own artifact folders: a local promotion on MLflow's default store logs the model
# under ./mlruns, and the next promotion in the same checkout must not find that copy.
_SKIPPED_FOLDERS = frozenset({".git", ".venv", "venv", ".nox", ".tox", "mlruns", "mlartifacts"})
_SHOWN_MATCHES = 20
# An MLflow artifact root elsewhere (an experiment's artifact_location, a server's
# --artifacts-destination) is known by its layout: <experiment id>/<run id>/artifacts for a
# run's files, <experiment id>/models/m-<id>/artifacts for an MLflow 3 logged model's.
_MLFLOW_RUN = re.compile(r"[0-9a-f]{32}")
_MLFLOW_LOGGED_MODEL = re.compile(r"m-[0-9a-f]{32}")


def _is_skipped(folder: Path) -> bool:
    return (
        folder.name in _SKIPPED_FOLDERS
        or (folder / "pyvenv.cfg").is_file()
        or _is_mlflow_artifacts(folder)
    )


def _is_mlflow_artifacts(folder: Path) -> bool:
    """Whether `folder` is the ``artifacts`` folder of a run or logged model in an MLflow store."""
    if folder.name != "artifacts":
        return False
    owner = folder.parent
    if _MLFLOW_RUN.fullmatch(owner.name):
        return owner.parent.name.isdecimal()
    return (
        _MLFLOW_LOGGED_MODEL.fullmatch(owner.name) is not None
        and owner.parent.name == "models"
        and owner.parent.parent.name.isdecimal()
    )


def find_local_model(name: str, *, environ: Mapping[str, str], cwd: Path) -> Path:
    """Return the local model that ``model_file_name`` names, found as the original action did.

    A name with a path separator is a path from the working directory, used as given. A bare
    name is searched for in the checkout (``GITHUB_WORKSPACE``, else the working directory),
    skipping ``.git``, virtualenv folders and MLflow's artifact folders (``mlruns``,
    ``mlartifacts``, and a run's or logged model's ``artifacts`` in an MLflow artifact root
    anywhere in the tree): a file or folder of that name. The original took
    the first match silently; here exactly one must match.

    Args:
        name: The settings' ``model_file_name``.
        environ: The environment (``GITHUB_WORKSPACE``).
        cwd: The working directory.

    Returns:
        The model file or folder.

    Raises:
        ModelFileError: Several files or folders match (all are listed), or none does (the
            message says where the search looked).
    """
    if "/" in name or "\\" in name:
        return cwd / name
    workspace = environ.get("GITHUB_WORKSPACE", "").strip()
    root = Path(workspace) if workspace else cwd
    if not root.is_absolute():
        root = cwd / root
    matches: list[Path] = []
    for folder, subfolders, files in os.walk(root):
        here = Path(folder)
        kept = []
        for sub in sorted(subfolders):
            if sub == name:
                matches.append(here / sub)  # a model folder: its own contents are the model
            elif not _is_skipped(here / sub):
                kept.append(sub)
        subfolders[:] = kept
        matches.extend(here / file for file in files if file == name)
    found = sorted(matches)
    if len(found) == 1:
        return found[0]
    where = "GITHUB_WORKSPACE" if workspace else "the working directory"
    shown = [_relative(path, root) for path in found]
    if found:
        listing = ", ".join(repr(path) for path in shown[:_SHOWN_MATCHES])
        more = f" and {len(shown) - _SHOWN_MATCHES} more" if len(shown) > _SHOWN_MATCHES else ""
        msg = (
            f"{len(found)} files or folders named model_file_name {name!r} in {root} "
            f"({where}): {listing}{more}; give the path of the one to register (for example "
            f"{shown[0]!r}) as model_file_name"
        )
        raise ModelFileError(msg, wanted=name, matches=shown)
    msg = (
        f"no file or folder named model_file_name {name!r} in {root} ({where}) or below it "
        "(.git, virtualenv and MLflow artifact folders are not searched); give its path from "
        "the working directory, or check that the step that makes the model ran before this one"
    )
    raise ModelFileError(msg, wanted=name)


# --- Backends ------------------------------------------------------------------------------------


def build_backend(
    args: Arguments, *, environ: Mapping[str, str], cwd: Path, interactive: bool | None = None
) -> Backend:
    """Return the backend the arguments and environment name; SDKs are imported only here.

    Azure ML (SDK v2): the workspace named by ``--subscription-id``, ``--resource-group`` and
    ``--workspace-name`` (or the environment, or a workspace file), signed in the first way the
    environment offers, never with a prompt (`AzureMLV2Backend.from_environment`).
    Azure ML (SDK v1, deprecated: a one-line warning): a service principal from
    ``AZURE_CREDENTIALS`` when it is set; else, inside an Azure ML job, the job's own workspace
    and token; else, at an interactive terminal only, the SDK's own login. The workspace config
    is ``--workspace-config``, or found from the working directory up (``aml_arm_config.json``
    before ``config.json``).

    Args:
        args: The parsed command line.
        environ: The environment.
        cwd: Where the workspace config search starts.
        interactive: Whether stdin is a terminal (default: ask ``sys.stdin``).

    Raises:
        BackendNotInstalledError: The backend's extra is not installed.
        CredentialsError: The Azure credentials are malformed, or missing in a
            non-interactive run (CI, or no terminal); on v2, no way to sign in is available.
        UsageError: The workspace is not named, and no workspace config file was found.
        RegistryError: The backend could not be reached.
    """
    if args.backend is BackendChoice.MLFLOW:
        for option, uri in (
            ("--tracking-uri", args.tracking_uri or environ.get("MLFLOW_TRACKING_URI")),
            ("--registry-uri", args.registry_uri or environ.get("MLFLOW_REGISTRY_URI")),
        ):
            check_mlflow_uri(option, uri, dry_run=args.dry_run, cwd=cwd)
        from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415 - lazy SDK

        return MlflowBackend(args.tracking_uri, args.registry_uri)
    if args.backend is BackendChoice.AZUREML_V2:
        return _azureml_v2_backend(args, environ=environ, cwd=cwd)
    logger.warning("%s", V1_DEPRECATED)
    credentials = environ.get(CREDENTIALS_VARIABLE, "")
    in_job = bool(environ.get(RUN_CONTEXT_VARIABLE, "").strip())
    if not credentials.strip() and not in_job and not is_interactive(environ, terminal=interactive):
        raise CredentialsError(NO_CREDENTIALS_IN_CI, missing=(CREDENTIALS_VARIABLE,))
    from aml_promotion.adapters.azureml import AzureMLBackend  # noqa: PLC0415 - lazy SDK

    config = args.workspace_config or cwd
    if credentials.strip():
        return AzureMLBackend.from_service_principal(credentials, config=config)
    if in_job:
        return AzureMLBackend.from_run_context()
    return AzureMLBackend.from_config(config)


def build_target_backend(
    args: Arguments, *, environ: Mapping[str, str], cwd: Path
) -> Backend | None:
    """Return the backend a registered version is copied into, or None for the backend's own.

    MLflow: ``--target-registry-uri``, with a tracking store where a copy from another server
    logs the version's files: Databricks' for ``databricks-uc`` (``databricks-uc://profile``:
    ``databricks://profile``), else the registry URI itself (a sqlite file or an
    ``mlflow server`` holds both). Azure ML: ``--target-registry``, the Azure ML registry of
    that name, signed in the way the workspace is (`AzureMLV2Backend.for_registry`).

    Args:
        args: The parsed command line.
        environ: The environment.
        cwd: Where relative paths start.

    Raises:
        BackendNotInstalledError: The backend's extra is not installed.
        CredentialsError: Azure ML: no way to sign in is available.
        RegistryError: The target could not be reached.
    """
    del cwd  # the target is named by the options alone
    if args.target_registry is not None:
        from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415 - lazy SDK

        return AzureMLV2Backend.for_registry(
            args.target_registry.strip(),
            client_id=args.client_id,
            tenant_id=args.tenant_id,
            environ=environ,
        )
    uri = args.target_registry_uri
    if uri is None:
        return None
    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415 - lazy SDK

    scheme, sep, rest = uri.partition(":")
    tracking = f"databricks{sep}{rest}" if scheme.lower() == "databricks-uc" else uri
    return MlflowBackend(tracking, uri)


V1_DEPRECATED = (
    "--backend azureml (Azure ML SDK v1, azureml-core) is deprecated: Microsoft's support for "
    "SDK v1 ended on 30 June 2026; use --backend azureml-v2 (see docs/migrating.md)"
)

NO_CREDENTIALS_IN_CI = (
    "no Azure credentials: the action's azure_credentials input (the AZURE_CREDENTIALS "
    "variable) is empty or missing, and this is not an interactive terminal (CI, "
    "GITHUB_ACTIONS, or no TTY), so no interactive or device-code login is tried. Set "
    "azure_credentials: ${{ secrets.AZURE_CREDENTIALS }}, a secret holding the JSON that "
    "`az ad sp create-for-rbac --json-auth` prints: an object with clientId, clientSecret, "
    "subscriptionId and tenantId. Better: --backend azureml-v2 signs in with GitHub OIDC, "
    "no secret needed"
)


# The URIs MLflow takes whose store is a file here: a dry run must find it, never create it.
_FILE_SCHEMES = ("sqlite", "file")
_SCHEMES = (
    "http", "https", "sqlite", "file", "postgresql", "mysql", "mssql", "databricks",
    "databricks-uc", "uc", "azureml",
)  # fmt: skip


def check_mlflow_uri(option: str, uri: str | None, *, dry_run: bool, cwd: Path) -> None:
    """Refuse an MLflow URI that cannot be meant, before MLflow creates anything for it.

    A bare path (``mlflow.db``) is not a URI: MLflow would make a file store of a folder of that
    name. A dry run never creates a store: a ``sqlite:///`` or ``file:`` path that does not
    exist is refused (a mistyped path would otherwise become an empty database).

    Args:
        option: The option the URI came from, or whose variable it came from.
        uri: The URI (None: MLflow's own default).
        dry_run: Whether this is a dry run.
        cwd: Where relative paths start.

    Raises:
        UsageError: The URI is a bare path, has no scheme MLflow knows, or names a store that
            does not exist in a dry run.
    """
    if uri is None or not uri.strip():
        return
    scheme, colon, rest = uri.strip().partition(":")
    if not colon or len(scheme) == 1 or "/" in scheme or "\\" in scheme:
        # No scheme, or a Windows drive letter: a file path.
        path = Path(uri).expanduser()
        full = path if path.is_absolute() else cwd / path
        msg = (
            f"{option} {uri!r} is a file path, not a URI: did you mean sqlite:///{full.as_posix()}"
            f" (a database file; sqlite:////abs/path or sqlite:///rel/path), or an http(s):// "
            "server?"
        )
        raise UsageError(msg)
    scheme = scheme.lower()
    if scheme not in _SCHEMES and not scheme.startswith(tuple(f"{s}+" for s in _SCHEMES)):
        msg = (
            f"{option} {uri!r}: MLflow knows no {scheme}: URIs; use http(s)://, sqlite:///, "
            "postgresql://, mysql://, file:, databricks or databricks-uc"
        )
        raise UsageError(msg)
    if dry_run and scheme in _FILE_SCHEMES:
        local = _local_path(scheme, rest)
        if local is not None:
            full = local if local.is_absolute() else cwd / local
            if not full.exists():
                msg = (
                    f"{option} {uri!r}: {full} does not exist, and a dry run creates no store "
                    "(check the path; sqlite:////abs/path has four slashes)"
                )
                raise UsageError(msg)


def _local_path(scheme: str, rest: str) -> Path | None:
    """The file a ``sqlite:`` or ``file:`` URI's rest names (None: in memory, or no path)."""
    if scheme == "sqlite":
        # sqlite:///relative.db, sqlite:////absolute.db; sqlite:// alone is in memory.
        if not rest.startswith("///"):
            return None
        return Path(rest[3:].split("?", 1)[0])
    from urllib.parse import unquote, urlparse  # noqa: PLC0415 - only for file: URIs

    parsed = urlparse(f"file:{rest}")
    return Path(unquote(parsed.path)) if parsed.path else None


def in_ci(environ: Mapping[str, str]) -> bool:
    """Return whether this is a CI job.

    ``CI`` (any value but ``false``/``0``), ``GITHUB_ACTIONS`` or ``TF_BUILD`` (Azure
    Pipelines) set means one.
    """
    ci = environ.get("CI", "").strip().lower()
    return bool(
        (ci and ci not in {"false", "0"})
        or environ.get("GITHUB_ACTIONS", "").strip()
        or environ.get("TF_BUILD", "").strip()
    )


def is_interactive(environ: Mapping[str, str], *, terminal: bool | None = None) -> bool:
    """Return whether a person could answer a login prompt: no CI variables, and a terminal.

    Args:
        environ: The environment; ``CI`` (any value but ``false``/``0``) or
            ``GITHUB_ACTIONS`` set means a CI job.
        terminal: Whether stdin is a terminal (default: ask ``sys.stdin``).
    """
    if in_ci(environ):
        return False
    if terminal is None:
        stdin = sys.stdin
        terminal = stdin is not None and stdin.isatty()
    return terminal


def _azureml_v2_backend(args: Arguments, *, environ: Mapping[str, str], cwd: Path) -> Backend:
    """Azure ML SDK v2: the workspace by name or file, the first credential the environment has."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415 - lazy SDK

    return AzureMLV2Backend.from_environment(
        subscription_id=args.subscription_id,
        resource_group=args.resource_group,
        workspace_name=args.workspace_name,
        client_id=args.client_id,
        tenant_id=args.tenant_id,
        config=args.workspace_config,
        search_from=cwd,
        environ=environ,
    )


BackendFactory = Callable[[Arguments], Backend]
TargetFactory = Callable[[Arguments], "Backend | None"]


# --- Reporting ------------------------------------------------------------------------------------


@attrs.define
class _Console:
    """Everything the command line writes, each line through the redactor."""

    stdout: TextIO
    stderr: TextIO
    github: GitHubActions
    redact: Redactor
    azure: AzurePipelines = attrs.field(factory=lambda: AzurePipelines(stream=sys.stderr))

    def _shown(self, text: str) -> str:
        text = self.redact(text).rstrip("\n") + "\n"
        # In a pipeline the agent acts on "##vso[" anywhere in a line: data must not hold one.
        return neutralize(text) if self.azure.active else text

    def out(self, text: str) -> None:
        self.stdout.write(self._shown(text))
        self.stdout.flush()

    def err(self, text: str) -> None:
        self.stderr.write(self._shown(text))
        self.stderr.flush()

    def warn(self, message: str, *, file: str | None = None) -> None:
        self.err(f"{PROG}: warning: {message}")
        self.github.annotate("warning", message, title="aml-promote", file=file)
        self.azure.log_issue("warning", message)


def result_outputs(result: PromotionResult, *, model_name: str | None) -> dict[str, str]:
    """Return the step outputs for a result."""
    model = result.model
    return {
        "model_name": model.name if model is not None else (model_name or ""),
        "model_version": "" if model is None else str(model.version),
        "model_id": "" if model is None else model.id,
        "promoted": "true" if model is not None else "false",
        "champion_version": (
            "" if result.champion_version is None else str(result.champion_version)
        ),
        "decision": result.decision.to_json(),
    }


def exit_code_for(result: PromotionResult, *, fail_on_reject: bool) -> ExitCode:
    """Return the exit code for a result (errors have theirs in `_EXIT_CODES`)."""
    if result.dry_run or result.model is not None or not fail_on_reject:
        return ExitCode.OK
    return ExitCode.REJECTED


def exit_code_for_error(error: BaseException) -> ExitCode:
    """Return the exit code an error means; anything unexpected is a backend failure (3)."""
    for kind, code in _EXIT_CODES:
        if isinstance(error, kind):
            return code
    return ExitCode.BACKEND_FAILURE


def result_view(
    result: PromotionResult, *, model_name: str | None, champion: str | None
) -> render.ResultView:
    """Return what the renderings show of a result besides its decision.

    Args:
        result: The result.
        model_name: The settings' model name, shown when nothing was registered.
        champion: What the promotion moves (``@champion``; see `render.champion_marker`).
    """
    view = result.view()
    return attrs.evolve(
        view, model_name=view.model_name or model_name, champion=view.champion or champion
    )


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stream
        return False


def _report(
    console: _Console,
    result: PromotionResult,
    *,
    args: Arguments,
    settings: Settings,
    environ: Mapping[str, str],
    code: ExitCode,
) -> None:
    decision = result.decision
    view = result_view(
        result,
        model_name=settings.model_name,
        champion=render.champion_marker(settings.baseline),
    )
    outcome = render.outcome_line(decision, view)
    outputs = result_outputs(result, model_name=settings.model_name)
    github, azure = console.github, console.azure
    github.set_outputs(outputs)
    azure.set_outputs(outputs)
    # Markdown only where Markdown is read; GitHub renders Mermaid charts, Azure DevOps does not.
    github.add_summary(render.result_markdown(decision, view, mermaid=True))
    azure.add_summary(render.result_markdown(decision, view, mermaid=False))
    if args.json:
        console.out(json.dumps(result.to_dict(), allow_nan=False, ensure_ascii=False))
    else:
        color = render.wants_color(isatty=_isatty(console.stdout), environ=environ)
        console.out(render.result_text(decision, view, color=color))
    if code is ExitCode.REJECTED:
        github.annotate("error", outcome, title="Model not promoted")
        azure.log_issue("error", outcome)
    elif result.model is None:
        level = "notice" if result.dry_run else "warning"
        github.annotate(level, outcome, title="Model not promoted")
        if not result.dry_run:
            azure.log_issue("warning", outcome)
    else:
        github.annotate("notice", outcome, title="Model promoted")


def _report_error(
    console: _Console, error: BaseException, code: ExitCode, *, as_json: bool
) -> None:
    message = str(error) or type(error).__name__
    if code is ExitCode.BACKEND_FAILURE and not isinstance(error, PromotionError):
        # Not one of ours: a bug, or an SDK error an adapter did not translate. The traceback is
        # what a bug report needs; it shows code and messages, never the credentials' values.
        console.err("".join(traceback.format_exception(error)).rstrip())
        message = f"unexpected error: {type(error).__name__}: {message}"
    console.err(f"{PROG}: error: {message}")
    source = getattr(error, "source", None)
    console.github.annotate(
        "error", message, title=_TITLES[code], file=source if isinstance(source, str) else None
    )
    console.azure.log_issue("error", f"{_TITLES[code]}: {message}")
    if as_json:
        document = {"error": {"type": type(error).__name__, "message": message, "exit_code": code}}
        console.out(json.dumps(document, ensure_ascii=False))


_QUIET_LOGGERS = ("alembic", "mlflow.store.db.utils", "mlflow.store.db_migrations")


@contextlib.contextmanager
def _logging_to(console: _Console, *, verbose: bool) -> Iterator[None]:
    """Within the block, log records go to the console (so through the redactor).

    The handler sits on the root logger: the SDKs' warnings pass through the redactor too,
    instead of Python's last-resort handler; ours are shown from INFO on when `verbose`.
    """

    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            where = "" if record.name.startswith(logger.name) else f"[{record.name}] "
            console.err(f"{PROG}: {record.levelname.lower()}: {where}{record.getMessage()}")

    handler = _Handler()
    root = logging.getLogger()
    previous = logger.level
    # MLflow's INFO lines about creating a database's tables are its business, not the user's.
    quieted = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
    root.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    for name in quieted:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        logger.setLevel(previous)
        for name, level in quieted.items():
            logging.getLogger(name).setLevel(level)


# --- Entry points ---------------------------------------------------------------------------------


def run(
    argv: Sequence[str],
    *,
    environ: Mapping[str, str],
    stdout: TextIO,
    stderr: TextIO,
    cwd: Path | None = None,
    backend_factory: BackendFactory | None = None,
    target_factory: TargetFactory | None = None,
) -> int:
    """Run the command line with everything it touches given; return the exit code.

    Args:
        argv: The arguments, without the program name.
        environ: The environment (GitHub Actions' variables, AZURE_CREDENTIALS...).
        stdout: Where the decision goes.
        stderr: Where warnings, errors, logs and workflow commands go.
        cwd: The directory relative paths start from (default: the process's).
        backend_factory: Builds the backend from the arguments (default: `build_backend`).
        target_factory: Builds the target backend of ``--candidate-version`` (default:
            `build_target_backend`).

    Returns:
        An `ExitCode` value.
    """
    redact = Redactor(credential_secrets(environ.get(CREDENTIALS_VARIABLE)))
    github = GitHubActions.from_environ(environ, stderr, redact=redact)
    # Before anything else is written, so that the runner hides these values everywhere.
    github.mask(redact.secrets)
    # Logging commands on stdout, where the agent reads them; on stderr (read too) when
    # stdout is kept for the one JSON document of --json.
    azure = AzurePipelines.from_environ(
        environ, stderr if "--json" in argv else stdout, redact=redact
    )
    azure.mask(redact.secrets)
    console = _Console(stdout=stdout, stderr=stderr, github=github, redact=redact, azure=azure)
    here = Path.cwd() if cwd is None else cwd
    as_json = "--json" in argv
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = Arguments.parse(argv, environ=environ)
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else ExitCode.OK
    except UsageError as error:
        _report_error(console, error, ExitCode.BAD_INPUT, as_json=as_json)
        return ExitCode.BAD_INPUT
    factory = backend_factory or (lambda a: build_backend(a, environ=environ, cwd=here))
    targets = target_factory or (lambda a: build_target_backend(a, environ=environ, cwd=here))
    # In CI nobody watches a terminal: the stages are logged so that slow work shows in the log.
    verbose = args.verbose or environ.get("RUNNER_DEBUG") == "1" or in_ci(environ)
    with _logging_to(console, verbose=verbose):
        try:
            return _promote(
                console, args, environ=environ, cwd=here, factory=factory, targets=targets
            )
        except Exception as error:  # noqa: BLE001 - every failure becomes an exit code
            code = exit_code_for_error(error)
            _report_error(console, error, code, as_json=args.json)
            return code


def _promote(
    console: _Console,
    args: Arguments,
    *,
    environ: Mapping[str, str],
    cwd: Path,
    factory: BackendFactory,
    targets: TargetFactory | None = None,
) -> ExitCode:
    settings, path, shown = read_settings(
        args.parameters_file,
        cwd=cwd,
        strict=args.strict,
        environ=environ,
        model_name=args.model_name,
    )
    source = None if path is None else _relative(path, cwd)
    for message in shown:
        console.warn(message, file=source)
    if path is None:
        logger.info("no %s found: using default settings", DEFAULT_PARAMETERS_FILE)
    else:
        logger.info("settings from %s", source)
    metrics = None if args.metrics_file is None else read_metrics(args.metrics_file, cwd=cwd)
    backend = factory(args)
    if args.candidate_version is not None:
        result = promote(
            settings=settings,
            backend=backend,
            candidate_version=args.candidate_version,
            target=None if targets is None else targets(args),
            dry_run=args.dry_run,
        )
    elif args.local and not in_azureml_job(args, environ):
        result = promote(
            settings=settings,
            backend=backend,
            model_path=find_local_model(settings.model_file_name, environ=environ, cwd=cwd),
            metrics=metrics,
            dry_run=args.dry_run,
        )
    else:
        result = promote(
            settings=settings,
            backend=backend,
            experiment_name=args.experiment_name,
            run_id=args.run_id,
            dry_run=args.dry_run,
            model_id=args.model_id,
        )
    code = exit_code_for(result, fail_on_reject=args.fail_on_reject)
    _report(console, result, args=args, settings=settings, environ=environ, code=code)
    if not settings.policy.rules:
        console.github.annotate("notice", NO_RULES_NOTICE, title="No metric rules", file=source)
        logger.info("%s", NO_RULES_NOTICE)
    return code


def in_azureml_job(args: Arguments, environ: Mapping[str, str]) -> bool:
    """Return whether no run was named because the candidate is the Azure ML job this runs in.

    With ``--backend azureml-v2``, no run id and no ``--metrics-file`` inside an Azure ML job
    (``MLFLOW_RUN_ID`` or ``AZUREML_RUN_ID`` set): the job, or in a pipeline its sibling step
    ``pipeline_child_run_name``, is the candidate (docs/azureml-pipeline-step.md); elsewhere
    no run named is local mode.
    """
    if not args.local or args.backend is not BackendChoice.AZUREML_V2:
        return False
    if args.metrics_file is not None:
        return False
    from aml_promotion.adapters.azureml_v2._job_context import (  # noqa: PLC0415 - v2 only
        current_job_name,
    )

    return current_job_name(environ) is not None


NO_RULES_NOTICE = (
    "no metric rules: every model is registered without comparison, as the original action "
    "did. Add metrics_max / metrics_min (or metric_rules) to the settings file to register "
    "only models that beat the registered one"
)


def _relative(path: Path, cwd: Path) -> str:
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``aml-promote`` in this process; return the exit code (the console script exits with it).

    Args:
        argv: The arguments, without the program name (default: ``sys.argv[1:]``).
    """
    for stream in (sys.stdout, sys.stderr):
        # Tables hold ✅ and Δ: a console that cannot show them gets "?" rather than a crash.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    return run(
        sys.argv[1:] if argv is None else argv,
        environ=os.environ,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )
