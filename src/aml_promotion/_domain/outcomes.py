"""The closed choices a decision ends in: its `Verdict`, and each check's `CheckOutcome`.

A module of their own so that both `decide()` (which produces them) and the renderings (which
show them) import them, and neither imports the other.
"""

from __future__ import annotations

import enum

__all__ = ["CheckOutcome", "Verdict"]


class Verdict(str, enum.Enum):
    """The outcome of a decision: register (`PROMOTE`, `FORCE`) or not (`REJECT`).

    A `str` enum: ``Verdict.PROMOTE == "promote"``, as a notebook or a JSON record compares it.
    """

    PROMOTE = "promote"
    REJECT = "reject"
    FORCE = "force"

    def __str__(self) -> str:
        return self.value

    def __format__(self, format_spec: str) -> str:
        # The same on every Python: 3.11 changed what format() gives for a mixed-in enum.
        return format(self.value, format_spec)


class CheckOutcome(enum.Enum):
    """The outcome of one check of one rule."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    """The baseline lacks the metric and the policy says to skip it."""
    NOT_APPLICABLE = "n/a"
    """Nothing to check: no threshold set, no baseline, or no usable candidate value."""
