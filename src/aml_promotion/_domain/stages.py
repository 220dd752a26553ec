"""`StageMoves`: the model stages a promotion moves versions to (Azure ML's ``stage``)."""

from __future__ import annotations

import attrs

from aml_promotion._domain.choices import InvariantError, checked_optional_text

__all__ = ["StageMoves"]

_MAX_STAGE = 255


def _stage(_instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    stage = checked_optional_text(
        attribute, value, expected="a stage's name (a string)", blank=None, show_value=True
    )
    if stage is None:
        return
    # A blank name is one made of surrounding spaces: the same message.
    if not stage.strip() or stage != stage.strip():
        msg = f"{attribute.name} must be a stage's name without surrounding spaces, not {stage!r}"
        raise ValueError(msg)
    if len(stage) > _MAX_STAGE:
        msg = f"{attribute.name} is {len(stage)} characters long; at most {_MAX_STAGE} are allowed"
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class StageMoves:
    """Where a promotion moves versions: the winner's stage, and the superseded champion's.

    Attributes:
        on_promote: The stage a promoted version is registered in (``"Production"``), or
            None to leave the registry's default.
        on_supersede: The stage a version moves to when a promotion supersedes it as the
            champion (``"Archived"``), or None to leave it where it is. An archived version
            is never moved (nor restored).
    """

    on_promote: str | None = attrs.field(default=None, validator=_stage)
    on_supersede: str | None = attrs.field(default=None, validator=_stage)

    def __attrs_post_init__(self) -> None:
        if self.on_promote is not None and self.on_promote == self.on_supersede:
            msg = (
                f"on_promote and on_supersede are both stage {self.on_promote!r}: a superseded "
                "champion would stay where the winner goes"
            )
            raise InvariantError(msg, field="on_supersede")

    @property
    def any(self) -> bool:
        """Whether any stage is moved."""
        return self.on_promote is not None or self.on_supersede is not None
