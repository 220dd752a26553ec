"""Registration: build the request, register when promoted, report a version already there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from aml_promotion._domain import tags
from aml_promotion._domain.decision import Decision
from aml_promotion._service._champion import (
    _champion_version,
    _logger,
    _settle_champion,
    pending_tags,
    settle_again,
)
from aml_promotion._service._result import PromotionResult
from aml_promotion._settings import Settings

if TYPE_CHECKING:
    from pathlib import Path

    # The ports' classes load with the first promotion: only annotations name them here, and
    # the functions that build or test them import them (import time).
    from aml_promotion.ports import (
        ModelRegistry,
        ModelVersion,
        RegistrationRequest,
        RunRecord,
    )


def _request(
    settings: Settings,
    *,
    name: str,
    model_path: str,
    run: RunRecord | None,
    decision: Decision,
    baseline: ModelVersion | None,
    candidate_values: Mapping[str, object] | None = None,
) -> RegistrationRequest:
    generation = 1 if baseline is None else tags.generation_of(baseline.tags) + 1
    new_tags = {
        **settings.model_tags,
        **tags.decision_tags(
            decision,
            baseline_version=None if baseline is None else baseline.version,
            generation=generation,
            candidate_values=candidate_values,
        ),
    }
    if pending_tags(settings.baseline):
        from aml_promotion._domain import champion  # noqa: PLC0415 - only champions are ranked

        rank = champion.effective_rank(
            decision, None if baseline is None else baseline.tags, settings.policy
        )
        # Registered pending: it is a holder only once its promotion takes the tag (_champion).
        new_tags.update(champion.rank_tags(rank, settings.policy))
        new_tags.update(pending_tags(settings.baseline))
    from aml_promotion.ports import RegistrationRequest  # noqa: PLC0415 - see the imports

    return RegistrationRequest(
        name=name,
        model_path=model_path,
        run=run,
        framework=settings.model_framework,
        framework_version=settings.model_framework_version,
        tags=new_tags,
        properties=dict(settings.model_properties),
        description=settings.model_description,
        datasets=settings.datasets,
        sample_input_dataset=settings.sample_input_dataset,
        sample_output_dataset=settings.sample_output_dataset,
        cpu_cores=settings.cpu_cores,
        memory_gb=settings.memory_gb,
    )


def _register_if_promoted(
    registry: ModelRegistry,
    settings: Settings,
    request: RegistrationRequest,
    *,
    decision: Decision,
    baseline: ModelVersion | None,
    dry_run: bool,
    shown_path: str | None = None,
) -> PromotionResult:
    """Register `request` if `decision` promotes and this is no dry run; settle the champion."""
    _log_decision(decision)
    shown = request.model_path if shown_path is None else shown_path
    if dry_run or not decision.promote:
        if dry_run:
            decision = decision.with_note("dry run: nothing registered")
        return PromotionResult(
            decision=decision,
            model=None,
            baseline=baseline,
            candidate_run=request.run,
            model_path=shown,
            dry_run=dry_run,
            champion_version=_champion_version(settings, baseline, None),
        )
    model = registry.register(request)
    _logger().info("registered %s (id %s)", model, model.id)
    decision, superseded_by = _settle_champion(registry, settings, decision, model)
    return PromotionResult(
        decision=decision,
        model=model,
        baseline=baseline,
        candidate_run=request.run,
        model_path=shown,
        superseded_by=superseded_by,
        champion_version=_champion_version(settings, model, superseded_by),
    )


def _local_already_registered(
    registry: ModelRegistry,
    settings: Settings,
    decision: Decision,
    existing: ModelVersion,
    *,
    baseline: ModelVersion | None,
    model_path: Path,
    dry_run: bool,
) -> PromotionResult:
    """Report a local model whose content `existing` already holds; register nothing new."""
    decision = decision.with_note(
        f"already registered with the same content as version {existing.version}; "
        "nothing new registered"
    )
    # A version that lost the champion to a better one, or a person's move of the alias, does
    # not take it back by a re-run; one whose promotion did not complete is completed.
    decision, superseded_by = settle_again(registry, settings, decision, existing, dry_run=dry_run)
    return PromotionResult(
        decision=decision,
        model=None if dry_run else existing,
        baseline=baseline,
        model_path=str(model_path),
        dry_run=dry_run,
        already_registered=True,
        superseded_by=superseded_by,
    )


def _log_decision(decision: Decision) -> None:
    _logger().info("decision: %s: %s", decision.verdict.value, decision.summary)
