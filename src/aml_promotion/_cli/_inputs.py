"""What a promotion is given besides the arguments: the settings file, the metrics, the model file.

The settings file is found as the original action found it (``.cloud/.azure/`` too); the model
name falls back to the GitHub default. In local mode the model is searched for in the checkout,
never in version control, virtualenvs or MLflow's own artifact folders; inside an Azure ML job
the candidate is the job itself (`in_azureml_job`).
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path

import attrs

from aml_promotion._cli._arguments import Arguments
from aml_promotion._cli._parser import DEFAULT_PARAMETERS_FILE, PARAMETERS_FOLDER, BackendChoice
from aml_promotion._github import default_model_name
from aml_promotion._settings import Settings, load_settings
from aml_promotion.exceptions import (
    ModelFileError,
    SettingsError,
    SettingsProblem,
    SettingsWarning,
    UsageError,
)

__all__ = [
    "find_local_model",
    "find_parameters_file",
    "in_azureml_job",
    "read_metrics",
    "read_settings",
    "relative",
]


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
    candidate_version: str | None = None,
) -> tuple[Settings, Path | None, list[str]]:
    """Load the settings; the model name is `model_name`, else the file's, else the default.

    The default is ``<repo>-<branch>`` from `environ`, as `promote()` chooses it from the
    process's; with a `candidate_version` (``--candidate-version``) there is none here:
    `promote()` names the target's model as the version is named (its rule, `model_name`),
    never ``<repo>-<branch>``, which no champion in the target holds.

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
    if settings.model_name is None and candidate_version is None:
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
    shown = [relative(path, root) for path in found]
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


# --- The candidate inside an Azure ML job ---------------------------------------------------------


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


def relative(path: Path, cwd: Path) -> str:
    """Return `path` from `cwd` (POSIX separators) when it lies below it, else as it is."""
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return str(path)
