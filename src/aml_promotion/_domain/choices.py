"""What the public value types accept for a closed choice or a flag, and what they refuse.

A wrong verdict from a plausible argument is the worst bug this library can have: a string given
for an enum field (``on_missing_baseline="promote"``) is converted, case-insensitively, and
anything else is refused with an error that names the field and the accepted values; a flag
takes a bool and nothing else (``force="false"`` is an error, never "true").
"""

from __future__ import annotations

import enum
from typing import TypeVar

import attrs

E = TypeVar("E", bound=enum.Enum)


def _accepted(enum_type: type[enum.Enum]) -> str:
    return ", ".join(repr(member.value) for member in enum_type)


def choice(enum_type: type[E], field: str, value: E | str) -> E:
    """Return `value` as a member of `enum_type`: the converter of an enum field `field`.

    Members pass through; a string that is a member's value (any case, surrounding spaces
    ignored) becomes that member; the rest is refused.

    Raises:
        ValueError: `value` is a string that is no member's value.
        TypeError: `value` is neither a member nor a string.
    """
    if isinstance(value, enum_type):
        return value
    if isinstance(value, str):
        folded = value.strip().casefold()
        for member in enum_type:
            if str(member.value).casefold() == folded:
                return member
        msg = f"{field} must be one of {_accepted(enum_type)}, not {value!r}"
        raise ValueError(msg)
    msg = (
        f"{field} must be a {enum_type.__name__} or one of {_accepted(enum_type)}, "
        f"not {_kind_of(value)}"
    )
    raise TypeError(msg)


def _kind_of(value: object) -> str:
    if is_bool(value):
        return f"the boolean {value!r}"
    return f"{type(value).__name__} {value!r}"


def is_bool(value: object) -> bool:
    """Return whether `value` is a bool, Python's own or numpy's (which is no `int`)."""
    return isinstance(value, bool) or type(value).__name__ == "bool_"


def flag(_instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    """Refuse anything but a bool for a flag (an attrs validator).

    Raises:
        TypeError: `value` is not a bool (a numpy bool is told to pass ``bool(value)``).
    """
    if isinstance(value, bool):
        return
    if is_bool(value):
        msg = f"{attribute.name} must be True or False, not a numpy bool: pass bool(value)"
    else:
        msg = f"{attribute.name} must be True or False, not {type(value).__name__} {value!r}"
    raise TypeError(msg)
