"""`PromotionResult`: what a promotion did, and its JSON form."""

from __future__ import annotations

import attrs

from aml_promotion._domain import render
from aml_promotion._domain.choices import flag
from aml_promotion._domain.decision import Decision
from aml_promotion.ports import ModelVersion, RunRecord


@attrs.frozen(kw_only=True)
class PromotionResult:
    """What `promote()` did.

    Attributes:
        decision: Why the candidate was or was not registered.
        model: The registered version: new, or registered earlier from the same run
            (`already_registered`); None when nothing is registered.
        baseline: The version the candidate was compared with, or None.
        candidate_run: The run the candidate came from (None in local mode); its
            `resolution` says how it was reached from the run named (a pipeline's step, a
            sweep's best trial).
        metrics_run: The run the candidate's metrics came from, when it is not
            `candidate_run` (another step of the pipeline, ``metrics_child_run_name``).
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
        champion: What the promotion moves, as shown to a person (``@champion``,
            ``tag champion=true``); None when its baseline strategy moves nothing.
        registered_before: The version the candidate already is (`already_registered`), in a
            dry run too, where `model` stays None.
    """

    decision: Decision
    model: ModelVersion | None
    baseline: ModelVersion | None
    candidate_run: RunRecord | None = None
    metrics_run: RunRecord | None = None
    model_path: str | None = None
    dry_run: bool = attrs.field(default=False, validator=flag)
    already_registered: bool = attrs.field(default=False, validator=flag)
    superseded_by: ModelVersion | None = None
    champion_version: int | None = None
    champion: str | None = None
    registered_before: ModelVersion | None = None

    @property
    def registered(self) -> bool:
        """Whether this call registered a new version."""
        return self.model is not None and not self.already_registered

    @property
    def promoted(self) -> bool:
        """Whether the candidate is in the registry now: registered by this call or before."""
        return self.model is not None

    def view(self) -> render.ResultView:
        """Return what the renderings show of this result besides its decision."""
        model = self.model if self.model is not None else self.registered_before
        run, scored = self.candidate_run, self.metrics_run
        return render.ResultView(
            model_name=None if model is None else model.name,
            model_version=None if model is None else model.version,
            model_id=None if model is None else model.id,
            already_registered=self.already_registered,
            from_run=self.candidate_run is not None,
            dry_run=self.dry_run,
            champion=self.champion,
            champion_version=self.champion_version,
            superseded_by=None if self.superseded_by is None else self.superseded_by.version,
            candidate_run=None if run is None else run.run_id,
            resolution=None if run is None else run.resolution,
            metrics_run=None if scored is None else scored.run_id,
            metrics_resolution=None if scored is None else scored.resolution,
        )

    def __repr__(self) -> str:
        return render.result_repr(self.decision, self.view())

    def __str__(self) -> str:
        return render.result_str(self.decision, self.view())

    def _repr_html_(self) -> str:
        """Return the result as HTML, for notebooks: a verdict badge, what was done, the rules."""
        # html and the SVG charts load only in notebooks (import time of the user's import).
        from aml_promotion._domain import render_html  # noqa: PLC0415

        return render_html.result_html(self.decision, self.view())

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
            "candidate_resolution": _resolution_dict(self.candidate_run),
            "metrics_run": None if self.metrics_run is None else self.metrics_run.run_id,
            "metrics_resolution": _resolution_dict(self.metrics_run),
            "model_path": self.model_path,
            "superseded_by": _version_dict(self.superseded_by),
            "champion_version": self.champion_version,
            "decision": self.decision.to_dict(),
        }


def _resolution_dict(run: RunRecord | None) -> dict[str, object] | None:
    if run is None or run.resolution is None:
        return None
    return run.resolution.to_dict()


def _version_dict(version: ModelVersion | None) -> dict[str, object] | None:
    if version is None:
        return None
    return {
        "name": version.name,
        "version": version.version,
        "id": version.id,
        "run_id": version.run_id,
        "uri": version.uri,
    }
