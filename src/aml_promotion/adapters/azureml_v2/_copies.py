"""Copying a workspace's model version into an Azure ML registry (or a workspace), once.

The copy is one ``models.create_or_update`` in the target's ``MLClient``, whose path is the
workspace version itself (``azureml://subscriptions/<s>/resourceGroups/<rg>/workspaces/<ws>/
models/<name>/versions/<v>``, the form Microsoft's registry docs give for a copy), with the
decision's tags, the ``promotion.source.*`` record and the stage in that same request. Not
``models.share``: it is experimental in azure-ai-ml 1.35, makes the copy through the registry's
``import`` operation with the workspace version's own metadata only, so the record would be a
second write (a second step to fail between), and it asks for the version number up front.

A registry version can never be re-created (its number is taken for good, even once archived),
so a copy is never sent twice blindly: before every retry the registry is searched for a version
carrying the source's key (``promotion.source.key``: the source's location, name and version).
The number is the registry's own next one (azure-ai-ml reads the model container's
``nextVersion``); two copies that read the same number
collide, the loser's create is refused (409), and its retry looks for its copy first, then asks
for the next number again.

A registry has no jobs: the copy's link to its training job is the ``promotion.source.run`` tag
(and property, which cannot be edited later), next to the workspace, name and version it came
from. A copy into the source's own workspace (another model name) is made from the source's job
output instead, so it keeps the job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aml_promotion._domain import tags
from aml_promotion.adapters._registration import register_once
from aml_promotion.exceptions import SettingsError, SettingsProblem

if TYPE_CHECKING:
    from aml_promotion.adapters._gateway import SdkGateway
    from aml_promotion.ports import CopyRequest, ModelVersion, VersionRef

__all__ = ["copy_of", "copy_once", "copy_properties", "no_aliases", "workspace_location"]

# The job a copy into the same workspace keeps (as `Registry.register` records it).
_JOB_PROPERTY = "promotion.job_name"


def workspace_location(ml_client: Any) -> str:
    """Return a workspace's long ``azureml://`` id (its versions: ``.../models/n/versions/v``)."""
    return (
        f"azureml://subscriptions/{ml_client.subscription_id}"
        f"/resourceGroups/{ml_client.resource_group_name}"
        f"/workspaces/{ml_client.workspace_name}"
    )


def copy_of(versions: Sequence[ModelVersion], source_key: str) -> ModelVersion | None:
    """Return the lowest of `versions` copied from `source_key` (the first copy), or None."""
    found = [v for v in versions if v.tags.get(tags.SOURCE_KEY) == source_key]
    return min(found, key=lambda v: v.version) if found else None


def copy_properties(request: CopyRequest, *, job: str | None) -> dict[str, str]:
    """Return a copy's properties: the ``promotion.*`` record again (write-once), and its own."""
    record = {k: v for k, v in request.tags.items() if k.startswith(tags.PREFIX)}
    found = {**record, **request.properties}
    if job is not None:
        found[_JOB_PROPERTY] = job
    return found


def no_aliases(ref: VersionRef) -> SettingsError:
    """Return the error for a candidate named by an alias: Azure ML has none."""
    return SettingsError(
        [
            SettingsProblem(
                path="candidate_version",
                message=(
                    f"Azure ML (SDK v2) has no model aliases, so {str(ref)!r} names no "
                    f"version: give {ref.name}:<number> or {ref.name}:latest"
                ),
            )
        ]
    )


def copy_once(
    gateway: SdkGateway,
    *,
    create: Callable[[], ModelVersion],
    find_copy: Callable[[], ModelVersion | None],
    what: str,
) -> ModelVersion:
    """Make the copy under the gateway's policy, looking for an earlier attempt's before a retry.

    Args:
        gateway: The registry backend's gateway (its policy retries).
        create: Makes one ``create_or_update`` (no retries of its own).
        find_copy: One look-up of the copy by its source key (no retries of its own).
        what: What is being done, for errors.
    """
    return register_once(
        gateway.policy,
        register=create,
        find_earlier=lambda: gateway.once(f"{what}: looking for an earlier copy", find_copy),
    )
