"""The float tolerances of every comparison a decision makes (DESIGN.md section 3).

Two values within these of each other are equal: a candidate that logged 0.1 + 0.2 ties a
baseline of 0.3, and a gain within them of `min_delta` reaches it. The decision's checks and the
significance tests (which compare exactly, on a decimal grid of integers) use these numbers.
"""

from __future__ import annotations

import math

REL_TOL = 1e-9
"""Relative tolerance, as `math.isclose`'s ``rel_tol``."""
ABS_TOL = 1e-12
"""Absolute tolerance, as `math.isclose`'s ``abs_tol``: it decides near 0."""
INVERSE_REL_TOL = 10**9
"""``1 / REL_TOL`` as an exact integer, for comparisons in integers."""
ABS_TOL_DIGITS = 12
"""``ABS_TOL`` is ``10 ** -ABS_TOL_DIGITS``."""


def isclose(a: float, b: float) -> bool:
    """Return whether `a` and `b` are equal within the tolerances."""
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
