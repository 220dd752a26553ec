"""The fields of a decision's JSON record: ±inf written as text, and each field read back.

`Decision.from_dict` and `Comparison.from_dict` read with these; each reader raises a
`ValueError` naming the key and what it expects when the record is not what ``to_dict()`` wrote.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TypeVar

_T = TypeVar("_T")


def read_field(data: Mapping[str, object], key: str, kind: type[_T]) -> _T:
    """Return ``data[key]``, which must be there and be a `kind`."""
    if key not in data:
        msg = f"{key!r} is missing: expected a {kind.__name__}"
        raise ValueError(msg)
    value = data[key]
    if not isinstance(value, kind):
        msg = f"{key!r} must be a {kind.__name__}, not {type(value).__name__} {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - a record of the wrong shape is a bad value
    return value


def read_optional(data: Mapping[str, object], key: str, kind: type[_T]) -> _T | None:
    """Return ``data[key]`` when it is a `kind`, or None when it is absent or null."""
    if data.get(key) is None:
        return None
    return read_field(data, key, kind)


def read_number(data: Mapping[str, object], key: str) -> float | None:
    """Return ``data[key]`` as a float ("inf" and "-inf" too), or None when absent or null."""
    value = data.get(key)
    if value in ("inf", "-inf"):
        return float(str(value))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"{key!r} must be a number, 'inf', '-inf' or null, not {value!r}"
        raise ValueError(msg)  # noqa: TRY004 - a record of the wrong shape is a bad value
    return float(value)


def read_numbers(data: Mapping[str, object], key: str) -> tuple[float, ...] | None:
    """Return the list of numbers at `key` as floats, or None when absent or null."""
    value = read_optional(data, key, list)
    if value is None:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        msg = f"{key!r} must be a list of numbers or null, not {value!r}"
        raise ValueError(msg)
    return tuple(float(v) for v in value)


def read_texts(data: Mapping[str, object], key: str) -> list[str]:
    """Return the list of strings at `key`, which must be there."""
    items = read_field(data, key, list)
    for item in items:
        if not isinstance(item, str):
            msg = f"{key!r} must be a list of strings, not one holding {item!r}"
            raise ValueError(msg)  # noqa: TRY004 - a record of the wrong shape is a bad value
    return items


def json_number(value: float | None) -> float | str | None:
    """Return `value` as JSON holds it: ±inf as the strings "inf" and "-inf" (JSON has no inf)."""
    if value is not None and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value
