"""`PromotionResult`: what a promotion did, and its JSON form."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from aml_promotion._domain.choices import flag
from aml_promotion._domain.decision import Decision

if TYPE_CHECKING:
    # The ports' classes load with the first promotion: only annotations name them here, and
    # the functions that build or test them import them (import time).
    from aml_promotion.ports import (
        ModelVersion,  # noqa: TC004 - PromotionResult is never structured by cattrs
        RunRecord,  # noqa: TC004 - likewise
    )


@attrs.frozen(kw_only=True)
class PromotionResult:
    """What `promote()` did.

    Attributes:
        decision: Why the candidate was or was not registered.
        model: The registered version: new, or registered earlier from the same run
            (`already_registered`); None when nothing is registered.
        baseline: The version the candidate was compared with, or None.
        candidate_run: The run the candidate came from (None in local mode).
        model_path: The model file or folder that was (or would be) registered.
        dry_run: Nothing was registered because this was a dry run.
        already_registered: A version of this name was registered from this run before, so
            nothing new was registered.
        superseded_by: With a tag or alias baseline, the version that kept the champion when
            a concurrent promotion ranked higher than this one; None when this one kept it.
            Read once this promotion's settle converged (its last read found one holder): a
            concurrent promotion that takes the tag after that read can still supersede it.
        champion_version: With a ``tag:`` or ``alias:`` baseline, the version that holds the
            champion tag or alias once this promotion is done (this one's, the one that
            superseded it, or, when nothing was registered, the baseline); None otherwise.
            Read as `superseded_by` is.
    """

    decision: Decision
    model: ModelVersion | None
    baseline: ModelVersion | None
    candidate_run: RunRecord | None = None
    model_path: str | None = None
    dry_run: bool = attrs.field(default=False, validator=flag)
    already_registered: bool = attrs.field(default=False, validator=flag)
    superseded_by: ModelVersion | None = None
    champion_version: int | None = None

    @property
    def registered(self) -> bool:
        """Whether this call registered a new version."""
        return self.model is not None and not self.already_registered

    @property
    def promoted(self) -> bool:
        """Whether the candidate is in the registry now: registered by this call or before."""
        return self.model is not None

    def _repr_html_(self) -> str:
        """Return the result as HTML, for notebooks: what was registered, then the decision."""
        import html  # noqa: PLC0415 - only notebooks need it

        if self.model is None:
            what = "nothing registered" + (" (dry run)" if self.dry_run else "")
        elif self.already_registered:
            what = f"already registered as {self.model}"
        else:
            what = f"registered {self.model}"
        return f"<div><p>{html.escape(what)}</p>{self.decision._repr_html_()}</div>"

    def to_dict(self) -> dict[str, object]:
        """Return the result as JSON-ready data."""
        return {
            "promoted": self.promoted,
            "registered": self.registered,
            "already_registered": self.already_registered,
            "dry_run": self.dry_run,
            "model": _version_dict(self.model),
            "baseline": _version_dict(self.baseline),
            "candidate_run": None if self.candidate_run is None else self.candidate_run.run_id,
            "model_path": self.model_path,
            "superseded_by": _version_dict(self.superseded_by),
            "champion_version": self.champion_version,
            "decision": self.decision.to_dict(),
        }


def _version_dict(version: ModelVersion | None) -> dict[str, object] | None:
    if version is None:
        return None
    return {
        "name": version.name,
        "version": version.version,
        "id": version.id,
        "run_id": version.run_id,
    }
