"""Δ and ρ: how much better a candidate is than a baseline, float-safely (DESIGN.md section 3).

`decide()` compares by these; the champion ranking (`champion`) ranks by the same Δ.
"""

from __future__ import annotations

import math

from aml_promotion._domain.policy import Goal
from aml_promotion._domain.tolerance import ABS_TOL, isclose


def improvement(candidate: float, baseline: float, goal: Goal) -> float:
    """Return Δ: how much better the candidate is (0 when the two are float-equal)."""
    if isclose(candidate, baseline):
        return 0.0
    return candidate - baseline if goal is Goal.MAXIMIZE else baseline - candidate


def relative_improvement(delta: float, baseline: float) -> float:
    """Return ρ = Δ / |baseline|, or ±inf / 0 when the baseline is 0."""
    if abs(baseline) <= ABS_TOL:
        if delta > 0:
            return math.inf
        return -math.inf if delta < 0 else 0.0
    return delta / abs(baseline)


def meets(value: float, threshold: float) -> bool:
    """Return whether `value` reaches `threshold`, float-safely."""
    return value >= threshold or isclose(value, threshold)
