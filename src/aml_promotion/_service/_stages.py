"""The stages a promotion moves versions to (``on_promote``, ``on_supersede``), where any are."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aml_promotion.exceptions import SettingsError, SettingsProblem
from aml_promotion.ports import StagedRegistry

if TYPE_CHECKING:
    from aml_promotion._domain.stages import StageMoves
    from aml_promotion.ports import ModelRegistry


def with_stages(
    registry: ModelRegistry, stages: StageMoves, champion: tuple[str, str] | None
) -> ModelRegistry:
    """Return `registry`, moving stages as `stages` says (itself when there are none to move).

    `champion` is the champion tag (key, live value) of a ``tag:`` baseline, if any: the
    promoted version takes its stage when that tag becomes live on it.

    Raises:
        SettingsError: `stages` moves some, and the registry has no stages (before anything is
            read or written).
    """
    if not stages.any:
        return registry
    if not isinstance(registry, StagedRegistry):
        given = [
            f"$.{key}.stage"
            for key, value in (
                ("on_promote", stages.on_promote),
                ("on_supersede", stages.on_supersede),
            )
            if value is not None
        ]
        raise SettingsError(
            [
                SettingsProblem(
                    path=path,
                    message=(
                        f"{type(registry).__name__} has no model stages (Azure ML SDK v2 "
                        "has them): remove it, or promote into an Azure ML workspace or registry"
                    ),
                )
                for path in given
            ]
        )
    return registry.with_stages(stages, champion=champion)
