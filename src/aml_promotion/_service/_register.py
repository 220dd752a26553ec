"""Registration: the model's name, the request, registering, and a version already there.

Every kind of candidate ends here the same way: registered when the decision promotes it (and
this is no dry run), or reported as the version already registered from it, by one path.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import attrs

from aml_promotion._domain import tags
from aml_promotion._domain.champion import rank_of, rank_tags
from aml_promotion._domain.decision import Decision
from aml_promotion._domain.policy import BaselineStrategy, PromotionPolicy
from aml_promotion._domain.render import champion_marker
from aml_promotion._github import default_model_name
from aml_promotion._retry import LOGGER_NAME
from aml_promotion._service._baseline import Baseline
from aml_promotion._service._candidate import Candidate
from aml_promotion._service._champion import (
    champion_tag,
    champion_version,
    current_champion,
    pending_tags,
    settle_again,
    settle_champion,
)
from aml_promotion._service._result import PromotionResult
from aml_promotion._service._version import copy_version
from aml_promotion.exceptions import SettingsError, SettingsProblem
from aml_promotion.ports import RegistrationRequest

if TYPE_CHECKING:
    from aml_promotion._service._champion import Settlement
    from aml_promotion._settings import Settings
    from aml_promotion.ports import ModelRegistry, ModelVersion, VersionRef

_LOGGER = logging.getLogger(LOGGER_NAME)


def model_name(given: str | None, *, candidate: VersionRef | None = None) -> str:
    """Return the name to register under, the one rule the library and the command line share.

    `given` (the settings' ``model_name``), else a registered candidate version's own name (a
    copy into another registry keeps it: prod's ``churn`` is what dev's ``churn`` must beat),
    else ``<repo>-<branch>`` on GitHub.

    Raises:
        SettingsError: No name is given, and there is no GitHub repository to derive one from.
    """
    if given is not None:
        return given
    if candidate is not None:
        return candidate.name
    name = default_model_name(os.environ)
    if name is None:
        problem = SettingsProblem(
            path="$.model_name",
            message=(
                "no model_name given, and no GITHUB_REPOSITORY to derive the default "
                "'<repo>-<branch>' from"
            ),
        )
        raise SettingsError([problem])
    return name


def request_template(settings: Settings, name: str) -> RegistrationRequest:
    """Return the request's fields the settings give (the model's name, framework, tags...).

    The candidate's path and run, and the decision's tags, are filled in by `register`.
    """
    return RegistrationRequest(
        name=name,
        model_path="",
        framework=settings.model_framework,
        framework_version=settings.model_framework_version,
        tags=settings.model_tags,
        properties=dict(settings.model_properties),
        description=settings.model_description,
        datasets=settings.datasets,
        sample_input_dataset=settings.sample_input_dataset,
        sample_output_dataset=settings.sample_output_dataset,
        cpu_cores=settings.cpu_cores,
        memory_gb=settings.memory_gb,
    )


@attrs.frozen(kw_only=True)
class Judged:
    """A candidate with the decision on it and what it was decided against.

    What `register` and `already_registered` take, and the fields every result of theirs
    shares (`result`).

    Attributes:
        candidate: What is (or would be) registered.
        decision: Whether it is.
        baseline: What it was compared with.
        strategy: The baseline strategy (its champion tag or alias is settled).
        policy: Ranks the champion's holders (and gives the version its effective rank).
        dry_run: Register nothing.
    """

    candidate: Candidate
    decision: Decision
    baseline: Baseline
    strategy: BaselineStrategy
    policy: PromotionPolicy
    dry_run: bool

    def result(
        self,
        decision: Decision,
        *,
        model: ModelVersion | None,
        champion_version: int | None,
        superseded_by: ModelVersion | None = None,
        registered_before: ModelVersion | None = None,
    ) -> PromotionResult:
        """Return the result of `decision`: already registered when `registered_before` is given."""
        candidate = self.candidate
        return PromotionResult(
            decision=decision,
            model=model,
            baseline=self.baseline.version,
            candidate_run=candidate.run,
            metrics_run=candidate.metrics_run,
            model_path=candidate.shown_path,
            dry_run=self.dry_run,
            already_registered=registered_before is not None,
            registered_before=registered_before,
            superseded_by=superseded_by,
            champion_version=champion_version,
            champion=champion_marker(self.strategy),
        )


def register(
    registry: ModelRegistry, template: RegistrationRequest, judged: Judged
) -> PromotionResult:
    """Register the candidate if it is promoted and this is no dry run; settle the champion.

    Args:
        registry: Where the version is registered.
        template: The request's fields from the settings (`request_template`).
        judged: The candidate, the decision on it, and what it was decided against.

    Raises:
        IncompletePromotionError: The version was registered, then a write settling the
            champion failed (see `aml_promotion._service._champion`).
    """
    decision, strategy, candidate = judged.decision, judged.strategy, judged.candidate
    log_decision(decision)
    if judged.dry_run or not decision.promote:
        if judged.dry_run:
            decision = decision.with_note("dry run: nothing registered")
        return judged.result(
            decision,
            model=None,
            champion_version=champion_version(strategy, judged.baseline.version, None),
        )
    request = _request(template, judged)
    _LOGGER.info("registering %s from %s", request.name, candidate.label)
    if candidate.copy_from is None:
        model = registry.register(request)
    else:
        model = copy_version(registry, request, candidate.copy_from)
    _LOGGER.info("registered %s (id %s)", model, model.id)
    settled = settle_champion(registry, strategy, judged.policy, decision, model)
    champion = champion_tag(strategy)
    if champion is not None:
        # The result shows the version as the registry holds it after the settle, not as sent.
        model = _as_settled(model, champion, settled)
    return judged.result(
        settled.decision,
        model=model,
        superseded_by=settled.superseded_by,
        # A settle that gave up verified no champion: the result names none.
        champion_version=(
            champion_version(strategy, model, settled.superseded_by) if settled.settled else None
        ),
    )


def already_registered(
    registry: ModelRegistry, existing: ModelVersion, judged: Judged
) -> PromotionResult:
    """Report `existing`, the version the candidate already is; register nothing new.

    The same for every kind of candidate: an archived version is said to be so and left as it
    is; otherwise `settle_again` completes or repairs its promotion (a version that holds the
    champion tag settles again, a pending one is completed if it beats the champion now, else
    retired, a superseded one that ranks above the champion takes it back); the result names
    the champion as the registry has it.

    Raises:
        IncompletePromotionError: Completing or repairing the promotion failed part-way.
    """
    strategy, policy, dry_run = judged.strategy, judged.policy, judged.dry_run
    log_decision(judged.decision)
    decision = judged.decision.with_note(judged.candidate.origin.registered_note(existing))
    if existing.archived:
        decision = decision.with_note(
            f"version {existing.version} is archived: it is not restored, and no new "
            "version is registered; restore it by hand if it should serve again"
        )
    # Settling is idempotent: a re-run completes a promotion that registered the version but
    # failed after, and a version that lost the tag to a worse one takes it back. One that lost
    # it to a better one (or a person's move of the alias) keeps its record (superseded_by) as
    # that promotion wrote it.
    settled = settle_again(
        registry,
        strategy,
        policy,
        decision,
        existing,
        baseline=judged.baseline.version,
        dry_run=dry_run,
    )
    model = existing
    champion = champion_tag(strategy)
    if champion is not None and not dry_run:
        key, live = champion
        if existing.tags.get(key) == tags.state_value(tags.PENDING, live):
            # Completed, or retired: shown as the registry holds it now, as `register` does.
            model = _as_settled(existing, champion, settled)
    return judged.result(
        settled.decision,
        model=None if dry_run else model,
        registered_before=existing,
        superseded_by=settled.superseded_by,
        champion_version=(
            current_champion(registry, existing.name, strategy, policy) if settled.settled else None
        ),
    )


def log_decision(decision: Decision) -> None:
    """Log the decision's verdict and summary."""
    _LOGGER.info("decision: %s: %s", decision.verdict.value, decision.summary)


def _request(template: RegistrationRequest, judged: Judged) -> RegistrationRequest:
    candidate, decision, policy = judged.candidate, judged.decision, judged.policy
    # The tag says "none" whenever the decision had no baseline to compare with.
    version = judged.baseline.version
    generation = 1 if version is None else tags.one_more(tags.generation_of(version.tags))
    new_tags = {
        **template.tags,
        **tags.decision_tags(
            decision,
            baseline_version=None if version is None else version.version,
            generation=generation,
            candidate_values=candidate.metrics,
        ),
    }
    if candidate.metrics_run is not None:
        # A later promotion comparing with this version reads its metrics from that run.
        new_tags[tags.METRICS_RUN] = candidate.metrics_run.run_id
    pending = pending_tags(judged.strategy)
    if pending:
        rank = rank_of(decision, None if version is None else version.tags, policy)
        new_tags.update(rank_tags(rank, policy))
        # Registered pending: it is a holder only once its promotion takes the tag (_champion).
        new_tags.update(pending)
    return attrs.evolve(
        template,
        model_path=candidate.model_path,
        run=candidate.run,
        tags={**new_tags, **candidate.tags},
        # A run's metrics stay with the run; a local model's ride with the request, and so do
        # a copied version's: its run stays behind, in the source's store.
        metrics=(
            {}
            if candidate.run is not None and candidate.copy_from is None
            else dict(candidate.metrics or {})
        ),
        model_id=candidate.model_id,
        job_output=candidate.job_output,
    )


def _as_settled(
    version: ModelVersion, champion: tuple[str, str], settled: Settlement
) -> ModelVersion:
    """Return `version` with the champion tag the settle left on it: held, else superseded."""
    key, live = champion
    held = live if settled.held else tags.state_value(tags.SUPERSEDED, live)
    return attrs.evolve(version, tags={**version.tags, key: held})
