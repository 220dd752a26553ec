"""Reading a run's raw metric value into a number, or saying why it cannot be one."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import attrs

from aml_promotion._domain.policy import Aggregate

_MISSING = object()
"""Stands for "the run has no such metric", which differs from a value of None."""


@attrs.frozen
class Reading:
    """A metric value read from a run: `value` when usable, else `problem` says why not."""

    value: float | None
    problem: str | None = None


_SHOWN = 60


def _describe(raw: object) -> str:
    try:
        text = repr(raw)
    except Exception:  # noqa: BLE001 - an int past Python's digit limit, or a broken __repr__
        text = f"<unprintable {type(raw).__name__}>"
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


_KINDS: dict[type, str] = {str: "a string", dict: "a table", type(None): "no value"}


def _as_number(raw: object) -> tuple[float | None, str | None]:
    # bool is an int to Python, but True is no accuracy; numpy scalars register as numbers.Real
    # (numpy's bool_ does not, but gets the clearer message).
    if isinstance(raw, bool) or type(raw).__name__ == "bool_":
        return None, f"a boolean ({_describe(raw)}), not a number"
    if not isinstance(raw, numbers.Real):
        kind = _KINDS.get(type(raw), f"a {type(raw).__name__}")
        return None, f"{kind} ({_describe(raw)}), not a number"
    try:
        value = float(raw)
    except (OverflowError, ValueError, TypeError):
        return None, f"{_describe(raw)} cannot be read as a float"
    if math.isnan(value):
        return None, "NaN, not a number"
    if math.isinf(value):
        return None, f"{'+' if value > 0 else '-'}infinity, not a finite number"
    return value, None


class Unusable:
    """A value a backend found but cannot stand for the run, and why (read as unusable).

    For example a metric logged on several datasets when no rule picked one: the reason lists
    them, rather than one being taken silently. (A plain class: an attrs class costs import time
    that only the MLflow adapter's users would use.)
    """

    __slots__ = ("reason",)

    def __init__(self, *, reason: str) -> None:
        self.reason = reason

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unusable) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash((Unusable, self.reason))

    def __repr__(self) -> str:
        return f"Unusable(reason={self.reason!r})"


def is_usable_number(raw: object) -> bool:
    """Whether `raw` is a usable metric value: a real, finite number (numpy's too), not a bool.

    The one definition adapters share with `decide()`, so that what an adapter keeps (a local
    model's metrics, a sweep's scores) is what the rules would accept.
    """
    return _as_number(raw)[0] is not None


def _aggregate(values: Sequence[float], how: Aggregate) -> float:
    """Return the max, min or mean of `values` (last and first never get here)."""
    if how is Aggregate.MAX:
        return max(values)
    if how is Aggregate.MIN:
        return min(values)
    try:
        return math.fsum(values) / len(values)
    except OverflowError:
        # The sum overflows though the mean may not (1e308 twice): scale first.
        return math.fsum(value / len(values) for value in values)


def read_metric(raw: object, aggregate: Aggregate = Aggregate.LAST) -> Reading:
    """Read a raw metric value as a run reports it.

    Args:
        raw: A number; a series (list or tuple, the metric logged several times); anything else
            a run may hold, or the module's missing sentinel.
        aggregate: Which value of a series stands for the run: `last` and `first` read that
            one element only; `max`, `min` and `mean` need every element usable.

    Returns:
        The usable value, or the reason there is none.
    """
    if raw is _MISSING:
        return Reading(None, "missing")
    if isinstance(raw, Unusable):
        return Reading(None, raw.reason)
    if isinstance(raw, (list, tuple)):
        if not raw:
            return Reading(None, "an empty series")
        if aggregate in {Aggregate.LAST, Aggregate.FIRST}:
            # That one element only, as a backend that fetches only the last value sees it: an
            # earlier NaN in a training curve does not matter; a NaN as the last value does.
            index = len(raw) - 1 if aggregate is Aggregate.LAST else 0
            value, problem = _as_number(raw[index])
            if value is None:
                which = "last" if aggregate is Aggregate.LAST else "first"
                return Reading(None, f"a series whose {which} value is {problem}")
            return Reading(value)
        values = []
        for index, item in enumerate(raw):
            value, problem = _as_number(item)
            if value is None:
                return Reading(None, f"a series whose value #{index + 1} is {problem}")
            values.append(value)
        # Every item is finite, so is any aggregate of them (the mean is computed not to overflow).
        return Reading(_aggregate(values, aggregate))
    value, problem = _as_number(raw)
    return Reading(value, problem)


def missing() -> object:
    """Return the sentinel that stands for a metric the run did not log."""
    return _MISSING


def read_series(raw: object) -> tuple[tuple[float, ...] | None, str | None]:
    """Read every value of a series (a number is a series of one), for a significance test.

    Args:
        raw: A number, or a list or tuple of them, as a run reports a metric.

    Returns:
        The values, or None and the reason they are unusable (any unusable element spoils it).
    """
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    values = []
    for index, item in enumerate(items):
        value, problem = _as_number(item)
        if value is None:
            return None, f"value #{index + 1} is {problem}"
        values.append(value)
    return tuple(values), None
