"""A registered version as the candidate, and its copy into a target registry.

Promotion across environments: the candidate is a version already registered in a source
registry (``churn:3``, ``churn@staging``, ``churn:latest``), and it lands in a target registry
(another workspace, an Azure ML registry, a prod MLflow registry, Unity Catalog) as a copy that
carries the decision and where it came from (``promotion.source.*``). `read_version` is the
candidate's reader, `VersionOrigin` finds an earlier copy by its source, and `copy_version`
writes the copy, through the target's `VersionCopier` port.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import attrs

from aml_promotion._domain import tags
from aml_promotion._service._baseline import baseline_data, read_scored_run, recorded_values
from aml_promotion._service._candidate import Candidate, CopySource, read_metrics
from aml_promotion.exceptions import RunNotFoundError, UsageError
from aml_promotion.ports import (
    CopyRequest,
    VersionCopier,
    VersionRef,
    VersionSource,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from aml_promotion._domain.policy import PromotionPolicy
    from aml_promotion.ports import (
        Backend,
        ModelRegistry,
        ModelVersion,
        RegistrationRequest,
        RunRecord,
        RunStore,
    )


@attrs.frozen(kw_only=True)
class VersionOrigin:
    """A registered version: a version of the target copied from it (its source key) is it."""

    key: str

    def find_registered(self, registry: ModelRegistry, name: str) -> ModelVersion | None:
        """Return the version of `name` copied from this source, or None."""
        if not isinstance(registry, VersionCopier):
            return None
        return registry.find_by_source(name, self.key)

    def registered_note(self, version: ModelVersion) -> str:
        """Say that `version` is already a copy of the source."""
        return (
            f"already copied from {self.key} as version {version.version}; nothing new registered"
        )


def parse_ref(text: object) -> VersionRef:
    """Read ``candidate_version=``: ``name:3``, ``name@alias`` or ``name:latest``.

    Raises:
        TypeError: It is not a string.
        UsageError: It is not one of those forms.
    """
    if isinstance(text, VersionRef):
        return text
    if not isinstance(text, str):
        msg = (
            "candidate_version must be a string such as 'churn:3', 'churn@staging' or "
            f"'churn:latest', not {type(text).__name__}"
        )
        raise TypeError(msg)
    return VersionRef.parse(text)


def check_target(source: Backend, target: Backend) -> VersionCopier:
    """Return the target's registry as a `VersionCopier`, or say why it cannot take copies.

    Raises:
        TypeError: `target` is no backend.
        UsageError: The target's registry cannot take a copy, or the source's cannot offer one.
    """
    if isinstance(target, str) or not (hasattr(target, "runs") and hasattr(target, "registry")):
        msg = (
            "target must be a backend object with .runs and .registry, such as "
            "MlflowBackend(registry_uri=...) from aml_promotion.adapters.mlflow, "
            f"not {type(target).__name__} {target!r}"
        )
        raise TypeError(msg)
    if not isinstance(source.registry, VersionSource):
        msg = (
            f"{type(source).__name__}'s registry cannot offer a registered version as the "
            "candidate (it has no get_version)"
        )
        raise UsageError(msg)
    registry = target.registry
    if not isinstance(registry, VersionCopier):
        msg = f"{type(target).__name__}'s registry cannot take a copy of a version from another"
        raise UsageError(msg)
    return registry


def read_version(
    source: Backend,
    ref: VersionRef,
    policy: PromotionPolicy,
    *,
    target_name: str,
    target: VersionCopier,
) -> Candidate:
    """Read a registered version's candidate: the version, its metrics, where it is.

    Its metrics come from its run when the source can read it, else from the
    ``promotion.metric.*`` tags a promotion wrote on it; with neither it is refused (unless
    forced), and the refusal says what is missing.

    Raises:
        VersionNotFoundError: No usable version is named so.
        UsageError: The target is the version's own registry and model: nothing to copy.
    """
    registry = source.registry
    if not isinstance(registry, VersionSource):  # pragma: no cover - check_target said so
        raise UsageError("the source registry cannot offer a registered version")
    found = registry.get_version(ref)
    version = found.version
    if found.registry == target.location and version.name == target_name:
        msg = (
            f"{version} is already a version of {target_name} in {found.registry}: give a "
            "target (another registry) or another model_name to promote it into"
        )
        raise UsageError(msg)
    run = _readable_run(source.runs, version)
    refusal = None
    metrics: Mapping[str, object] | None = None
    available: Collection[str] | None = None
    if run is not None:
        read = read_metrics(source.runs, run, policy)
        metrics, available = read.values, read.available
    else:
        metrics = recorded_values(version, policy)
        if metrics is None and not policy.force:
            refusal = _nothing_to_compare(version)
    copy = CopySource(version=found, download=functools.partial(registry.download_version, found))
    added = tags.source_tags(found.registry, version.name, version.version, version.run_id)
    scored = version.tags.get(tags.METRICS_RUN)
    if scored is not None and found.registry == target.location:
        # A copy in its own registry is read there as a baseline: from the step that scored it.
        added[tags.METRICS_RUN] = scored
    return Candidate(
        label=f"version {version} in {found.registry}",
        origin=VersionOrigin(key=copy.key),
        model_path=found.uri,
        shown_path=found.uri,
        run=run,
        metrics=metrics,
        available=available,
        data=baseline_data(source.runs, version, run, policy),
        tags=added,
        refusal=refusal,
        copy_from=copy,
    )


def _readable_run(runs: RunStore, version: ModelVersion) -> RunRecord | None:
    """Return the run `version`'s metrics come from when the source can read it, else None.

    That is the run the baseline's are read from too (`read_scored_run`): the version's own,
    or the pipeline step a promotion took its metrics from (``promotion.metrics_run``).
    """
    try:
        return read_scored_run(runs, version)
    except RunNotFoundError:
        return None  # copied from elsewhere, or the run was deleted: its tags may still say


def _nothing_to_compare(version: ModelVersion) -> str:
    run = (
        "no linked run"
        if version.run_id is None
        else f"its run {version.run_id!r} is not readable here"
    )
    return (
        f"{version} has {run} and no metrics recorded by a promotion (promotion.metric.*), so "
        "there is nothing to compare: promote its run first, tag it with promotion.metric.<name>, "
        "or force registration"
    )


def copy_version(
    registry: ModelRegistry, request: RegistrationRequest, source: CopySource
) -> ModelVersion:
    """Copy `source` into `registry` as `request` says (its name, tags and metadata).

    The copy's tags are the source version's own (not its ``promotion.*`` ones), under the
    request's: the settings', the decision's, the source's and the champion tag.

    Raises:
        UsageError: The registry cannot take a copy.
        RegistryError: The backend failed.
    """
    if not isinstance(registry, VersionCopier):  # pragma: no cover - check_target said so
        raise UsageError("the target registry cannot take a copy of a version")
    # The source's own tags travel (its framework, its owner...), not its promotion.* record:
    # that describes its place in the source registry (its baseline there, an alias it held).
    own = {
        key: value
        for key, value in source.version.version.tags.items()
        if not key.startswith(tags.PREFIX)
    }
    return registry.copy(
        CopyRequest(
            name=request.name,
            source=source.version,
            source_key=source.key,
            tags={**own, **request.tags},
            properties=request.properties,
            description=request.description,
            download=source.download,
            metrics=request.metrics,
        )
    )
