"""The arguments of ``aml-promote``: the parser, its ``--help``, and the default backend.

`build_parser` is the one description of the options; `Arguments` (`._arguments`) reads what
it parses into typed values and checks their combinations.
"""

from __future__ import annotations

import argparse
import enum
import sys
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NoReturn

from aml_promotion.exceptions import UsageError

__all__ = [
    "DEFAULT_PARAMETERS_FILE",
    "PARAMETERS_FOLDER",
    "PROG",
    "BackendChoice",
    "backend_choice",
    "build_parser",
    "default_backend",
]

PROG = "aml-promote"
DEFAULT_PARAMETERS_FILE = "registermodel.json"
# Where the Azure/aml-registermodel action looked for its parameters file.
PARAMETERS_FOLDER = Path(".cloud", ".azure")


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


_EPILOG = """\
exit status:
  0  registered (or registered before from the same run), a dry run whatever its verdict,
     or rejected with --no-fail-on-reject
  1  rejected by the policy: nothing registered
  2  bad input: arguments, the settings file, credentials, or what they name — a run that
     does not exist or did not complete, a model file the run does not hold
  3  the backend failed (after retries), or an unexpected error

retries: a transient failure is retried, 5 attempts within 60 s; each request times out
  after the deadline's share (at least 5 s) or what is left of the deadline, whichever is
  less, so a hung server fails the stage within the minute, naming it.
  AML_PROMOTION_RETRY_DEADLINE=SECONDS changes the 60 s.

candidate:
  --experiment-name and --run-id together name a run (on azureml-v2 --run-id alone names a
  job: its experiment is checked when given); neither means local mode: the settings'
  model_file_name is a file or folder in the checkout (metrics from --metrics-file).

  Inside an Azure ML job with --backend azureml-v2 (MLFLOW_RUN_ID or AZUREML_RUN_ID set),
  neither means the job itself, or, as a pipeline's step, its sibling step
  pipeline_child_run_name (see docs/azureml-pipeline-step.md). The settings' job_output
  names the job's output that holds the model (azureml-v2), metrics_child_run_name the step
  whose metrics are compared when another one logs them (docs/settings.md).

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
     compute's managed identity (MSI_ENDPOINT/MSI_SECRET, or DEFAULT_IDENTITY_CLIENT_ID; a
     user-assigned one named by DEFAULT_IDENTITY_CLIENT_ID, else AZURE_CLIENT_ID);
  5. an Azure CLI login (az on PATH: azure/login, AzureCLI@2, or az login).
  Otherwise exit 2 naming these. -v (always on in CI and in an Azure ML job) logs which one
  was used (never an id, secret or token).
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
