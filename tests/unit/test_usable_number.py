"""`is_usable_number`: the one definition of a usable metric value that adapters share."""

from __future__ import annotations

import math

import pytest

from aml_promotion._domain.metrics import is_usable_number


@pytest.mark.parametrize("value", [0, 1, -2.5, 1e300])
def test_real_finite_numbers_are_usable(value: object) -> None:
    """Ints and finite floats are usable."""
    assert is_usable_number(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "0.9", None, [0.9], {}])
def test_anything_else_is_not(value: object) -> None:
    """NaN, infinities, bools, strings, None and containers are not."""
    assert not is_usable_number(value)
