"""Which Azure ML workspace to use: its configuration file, found and read (both Azure ML adapters).

`WorkspaceConfig` is what ``config.json`` or the aml-workspace action's ``aml_arm_config.json``
says; `find_workspace_config` finds that file as ``Workspace.from_config`` would (the action's
file first); `workspace_target` is the workspace a service principal signs in to;
`named_workspace` is the workspace named by subscription, resource group and name (arguments, the
environment, an Azure ML job's own variables), a file only when they do not name it. Nothing here
imports an Azure SDK.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

import attrs

from aml_promotion.exceptions import UsageError

__all__ = ["WorkspaceConfig", "find_workspace_config", "named_workspace", "workspace_target"]

logger = logging.getLogger("aml_promotion")


_CONFIG_DIRS = (".azureml", "aml_config", "")
# aml_arm_config.json first, wherever it is: the file Azure/aml-workspace writes in CI names the
# workspace this job was given, and a committed config.json (often a developer's own workspace)
# must never redirect a CI promotion. The original action read aml_arm_config.json only.
_CONFIG_FILES = ("aml_arm_config.json", "config.json", "project.json")
_SCOPE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    r"/providers/Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)/?$",
    re.IGNORECASE,
)


@attrs.frozen(kw_only=True)
class WorkspaceConfig:
    """Which workspace to use: what ``config.json`` or ``aml_arm_config.json`` says.

    Attributes:
        subscription_id: The workspace's subscription.
        resource_group: Its resource group.
        workspace_name: Its name.
        path: The file it was read from, if any.
    """

    subscription_id: str
    resource_group: str
    workspace_name: str
    path: Path | None = None

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> WorkspaceConfig:
        """Read a workspace configuration file.

        Two shapes are accepted: ``{"subscription_id", "resource_group", "workspace_name"}``
        (``config.json`` as the portal and ``Workspace.write_config`` give it) and
        ``{"Scope": "/subscriptions/S/resourceGroups/R/providers/.../workspaces/W"}`` (what the
        aml-workspace action writes to ``.azureml/aml_arm_config.json``).

        Raises:
            UsageError: The file cannot be read, is not JSON, or lacks the workspace's keys.
        """
        file = Path(path)
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            msg = f"cannot read the workspace configuration {str(file)!r}: {exc.strerror}"
            raise UsageError(msg) from exc
        except ValueError as exc:
            msg = f"the workspace configuration {str(file)!r} is not valid JSON: {exc}"
            raise UsageError(msg) from exc
        if not isinstance(data, dict):
            msg = f"the workspace configuration {str(file)!r} must be a JSON object"
            raise UsageError(msg)
        scope = data.get("Scope")
        if isinstance(scope, str) and (match := _SCOPE.match(scope.strip())):
            return cls(
                subscription_id=match["sub"],
                resource_group=match["rg"],
                workspace_name=match["ws"],
                path=file,
            )
        keys = ("subscription_id", "resource_group", "workspace_name")
        missing = [k for k in keys if not isinstance(data.get(k), str) or not data[k].strip()]
        if missing:
            msg = (
                f"the workspace configuration {str(file)!r} lacks {', '.join(missing)}: it needs "
                "subscription_id, resource_group and workspace_name (or a workspace 'Scope')"
            )
            raise UsageError(msg)
        return cls(
            subscription_id=data["subscription_id"].strip(),
            resource_group=data["resource_group"].strip(),
            workspace_name=data["workspace_name"].strip(),
            path=file,
        )


def workspace_target(
    config: str | os.PathLike[str] | None,
    *,
    subscription_id: str | None,
    resource_group: str | None,
    workspace_name: str | None,
    principal_subscription: str,
) -> WorkspaceConfig:
    """Return the workspace a service principal signs in to (both Azure ML adapters).

    Named in full (resource group and workspace): those, with the given subscription, else the
    principal's. Otherwise the workspace file found from `config` fills what is not given, its
    subscription giving way only to an explicit one.

    Raises:
        UsageError: The workspace is not named and no configuration file says which.
    """
    if workspace_name is not None and resource_group is not None:
        return WorkspaceConfig(
            subscription_id=subscription_id or principal_subscription,
            resource_group=resource_group,
            workspace_name=workspace_name,
        )
    found = find_workspace_config(config)
    return WorkspaceConfig(
        subscription_id=subscription_id or found.subscription_id,
        resource_group=resource_group or found.resource_group,
        workspace_name=workspace_name or found.workspace_name,
        path=found.path,
    )


def find_workspace_config(start: str | os.PathLike[str] | None = None) -> WorkspaceConfig:
    """Find and read the workspace configuration, as `Workspace.from_config` would find it.

    `start` may be the file itself, or a folder to search from (default: the current
    directory). The search looks for ``aml_arm_config.json`` (what the aml-workspace action
    writes) in ``.azureml/``, ``aml_config/`` and the folder itself, then in each parent folder;
    only when there is none anywhere, for ``config.json``, then ``project.json``, the same way.
    The file used is logged, and so is a ``config.json`` it took precedence over.

    Raises:
        UsageError: `start` does not exist (a mistyped path is never replaced by another
            file found nearby), no such file was found, or it cannot be used.
    """
    origin = Path(start) if start is not None else Path.cwd()
    if not origin.exists():
        msg = (
            f"the workspace configuration {str(origin)!r} does not exist: give the config.json "
            "(or aml_arm_config.json) file, or a folder to search from"
        )
        raise UsageError(msg)
    if origin.is_file():
        logger.info("workspace configuration from %s (given)", origin)
        return WorkspaceConfig.read(origin)
    found = [
        candidate
        for name in _CONFIG_FILES
        for folder in (origin.resolve(), *origin.resolve().parents)
        for sub in _CONFIG_DIRS
        if (candidate := folder / sub / name).is_file()
    ]
    if found:
        chosen = found[0]
        passed = [str(path) for path in found[1:] if path.name != chosen.name]
        if passed:
            logger.warning(
                "workspace configuration from %s; not from %s (%s, written by Azure/aml-workspace, "
                "takes precedence)",
                chosen,
                ", ".join(passed),
                chosen.name,
            )
        else:
            logger.info("workspace configuration from %s", chosen)
        return WorkspaceConfig.read(chosen)
    msg = (
        f"no workspace configuration (config.json or aml_arm_config.json, in .azureml/ or "
        f"aml_config/) in {str(origin)!r} or its parents: download config.json from the Azure "
        "ML studio, or run the aml-workspace action first"
    )
    raise UsageError(msg)


# Where each part of the workspace's name is read, after the argument that names it: the generic
# variable first, then the ones Azure ML sets in every job (Microsoft's on-behalf-of sample reads
# these three).
_SUBSCRIPTION_VARIABLES = ("AZURE_SUBSCRIPTION_ID", "AZUREML_ARM_SUBSCRIPTION")
_RESOURCE_GROUP_VARIABLES = ("AZUREML_ARM_RESOURCEGROUP",)
_WORKSPACE_VARIABLES = ("AZUREML_ARM_WORKSPACE_NAME",)
_JOB_NAMED = frozenset({*_RESOURCE_GROUP_VARIABLES, *_WORKSPACE_VARIABLES})


def _named(
    given: str | None, option: str, environ: Mapping[str, str], names: tuple[str, ...]
) -> tuple[str | None, str | None]:
    """Return a part of the workspace's name and where it came from, or (None, None)."""
    if given is not None and given.strip():
        return given.strip(), option
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value, name
    return None, None


def named_workspace(
    *,
    subscription_id: str | None = None,
    resource_group: str | None = None,
    workspace_name: str | None = None,
    config: str | os.PathLike[str] | None = None,
    search_from: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    fallback_subscription: str | None = None,
) -> WorkspaceConfig:
    """Return the workspace named by subscription, resource group and name, or by a file.

    Each part is the argument, else a variable: the subscription ``AZURE_SUBSCRIPTION_ID`` then,
    in an Azure ML job, ``AZUREML_ARM_SUBSCRIPTION``, then `fallback_subscription` (the legacy
    ``AZURE_CREDENTIALS``' own); the resource group ``AZUREML_ARM_RESOURCEGROUP``; the name
    ``AZUREML_ARM_WORKSPACE_NAME``. A workspace whose resource group and name both come from
    the job's variables is in the job's subscription (``AZUREML_ARM_SUBSCRIPTION``), whatever
    ``AZURE_SUBSCRIPTION_ID`` says. With the resource group and name known, no file is read
    unless `config` is given; otherwise the workspace file (`config`, else the one found from
    `search_from` up) names what the arguments and variables do not (its subscription gives way
    to `subscription_id` alone).

    Args:
        subscription_id: ``--subscription-id`` (the action's ``subscription_id``).
        resource_group: ``--resource-group`` (``resource_group``).
        workspace_name: ``--workspace-name`` (``workspace_name``).
        config: A workspace file, or a folder to search from, given explicitly.
        search_from: Where the search for a workspace file starts when `config` is not given
            (default: the current directory).
        environ: The environment (default: the process's).
        fallback_subscription: The subscription to use when nothing else names it.

    Raises:
        UsageError: The workspace is named in part (a resource group without a name, or no
            subscription) and no file was given to name the rest, or no file names it.
    """
    env = os.environ if environ is None else environ
    sub, sub_from = _named(subscription_id, "--subscription-id", env, _SUBSCRIPTION_VARIABLES)
    if sub is None and fallback_subscription:
        sub, sub_from = fallback_subscription, "AZURE_CREDENTIALS"
    rg, rg_from = _named(resource_group, "--resource-group", env, _RESOURCE_GROUP_VARIABLES)
    ws, ws_from = _named(workspace_name, "--workspace-name", env, _WORKSPACE_VARIABLES)
    job_sub = env.get(_SUBSCRIPTION_VARIABLES[-1], "").strip()
    if sub_from == _SUBSCRIPTION_VARIABLES[0] and job_sub and {rg_from, ws_from} <= _JOB_NAMED:
        # The job's own workspace (its resource group and name from the job) is in the job's own
        # subscription: a job-wide AZURE_SUBSCRIPTION_ID names where other work goes.
        sub, sub_from = job_sub, _SUBSCRIPTION_VARIABLES[-1]
    if config is None and (rg is not None or ws is not None):
        missing = [
            what
            for what, value in (
                ("--subscription-id (the action's subscription_id, or AZURE_SUBSCRIPTION_ID)", sub),
                ("--resource-group (the action's resource_group)", rg),
                ("--workspace-name (the action's workspace_name)", ws),
            )
            if value is None
        ]
        if missing:
            msg = (
                f"the workspace is named in part: give {' and '.join(missing)}, or a "
                "workspace config file (--workspace-config) that names the rest"
            )
            raise UsageError(msg)
        assert sub is not None  # noqa: S101 - for mypy: checked just above
        assert rg is not None  # noqa: S101
        assert ws is not None  # noqa: S101
        logger.info(
            "workspace %s in resource group %s (from %s, %s and %s)",
            ws,
            rg,
            ws_from,
            rg_from,
            sub_from,
        )
        return WorkspaceConfig(subscription_id=sub, resource_group=rg, workspace_name=ws)
    found = find_workspace_config(config if config is not None else search_from)
    # The file's subscription gives way to the argument only: a job-wide AZURE_SUBSCRIPTION_ID
    # names where the workflow's other steps work, not the workspace this file names.
    explicit = sub if sub_from == "--subscription-id" else None
    return WorkspaceConfig(
        subscription_id=explicit or found.subscription_id,
        resource_group=rg or found.resource_group,
        workspace_name=ws or found.workspace_name,
        path=found.path,
    )
