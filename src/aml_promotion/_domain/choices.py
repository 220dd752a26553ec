"""What the public value types accept for a closed choice or a flag, and what they refuse.

A wrong verdict from a plausible argument is the worst bug this library can have: a string given
for an enum field (``on_missing_baseline="promote"``) is converted, case-insensitively, and
anything else is refused with an error that names the field and the accepted values; a flag
takes a bool and nothing else (``force="false"`` is an error, never "true"); a list of names
takes a list, never a lone string (``"ds1"`` would be read as ``('d', 's', '1')``); a name takes a
string, never a blank one.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

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


def checked_text(
    attribute: attrs.Attribute[Any],
    value: object,
    *,
    expected: str,
    blank: str | None,
    show_value: bool = False,
) -> str:
    """Return a text field's value, refusing one that is no string, or a blank one.

    The check an attrs validator of a name field starts with; what it checks beyond (a length,
    the characters) follows it, on the string returned.

    Args:
        attribute: The field (its name starts every message).
        value: The value given.
        expected: What the field takes, for the message (``"a model name (a string)"``).
        blank: What the message says after ``"<field> is blank"`` (``": give the alias"``);
            None to leave a blank string to the caller's own check.
        show_value: Show a value of the wrong type as itself (``repr``), not by its type's name.

    Raises:
        TypeError: `value` is not a string.
        ValueError: `value` is blank, and `blank` is not None.
    """
    if not isinstance(value, str):
        shown = repr(value) if show_value else type(value).__name__
        msg = f"{attribute.name} must be {expected}, not {shown}"
        raise TypeError(msg)
    if blank is not None and not value.strip():
        msg = f"{attribute.name} is blank{blank}"
        raise ValueError(msg)
    return value


def checked_optional_text(
    attribute: attrs.Attribute[Any],
    value: object,
    *,
    expected: str,
    blank: str | None,
    show_value: bool = False,
) -> str | None:
    """Return an optional text field's value: None, or what `checked_text` takes.

    The message of a wrong type says the field takes `expected` ``or None``.

    Raises:
        TypeError: `value` is neither None nor a string.
        ValueError: `value` is blank, and `blank` is not None.
    """
    if value is None:
        return None
    return checked_text(
        attribute, value, expected=f"{expected} or None", blank=blank, show_value=show_value
    )


def names(field: str, value: Iterable[str]) -> tuple[str, ...]:
    """Return `value` as a tuple of names: the converter of a names field `field`.

    Any iterable of strings is taken; a lone string is refused (a string is an iterable of its
    characters), with the list to write instead.

    Raises:
        TypeError: `value` is a string, not an iterable, or holds something other than strings.
    """
    raw: object = value
    if isinstance(raw, str):
        msg = (
            f"{field} must be a list or tuple of names, not the string {raw!r}: "
            f"write {written_as_list(raw)}"
        )
        raise TypeError(msg)
    if isinstance(raw, (bytes, Mapping)) or not isinstance(raw, Iterable):
        msg = f"{field} must be a list or tuple of names (strings), not {_kind_of(raw)}"
        raise TypeError(msg)
    items: tuple[object, ...] = tuple(raw)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            msg = f"{field} must hold names (strings); item {index} is {item!r}"
            raise TypeError(msg)
    return cast("tuple[str, ...]", items)  # every item was checked above


def written_as_list(text: str) -> str:
    """Return the list a lone string stands for: ``'auc,log_loss'`` → ``["auc", "log_loss"]``.

    Commas and semicolons separate names (spaces do not: a metric's name may hold one).
    """
    parts = [part.strip() for part in re.split(r"[,;]", text) if part.strip()] or [text]
    quoted = ('"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"' for part in parts)
    return "[" + ", ".join(quoted) + "]"


class InvariantError(ValueError):
    """A value object's rule across its fields is broken (``at_least`` above ``at_most``).

    The settings loader reports `message` at the path of `field` within the object's own path
    (the object itself when `field` is None); ``str()`` adds the `subject` for Python callers.

    Attributes:
        message: What is wrong, and what to change.
        field: The attribute the problem is reported at, or None for the whole object.
        subject: What the object is (``metric 'auc'``), or None.
    """

    def __init__(
        self, message: str, *, field: str | None = None, subject: str | None = None
    ) -> None:
        super().__init__(f"{subject}: {message}" if subject else message)
        self.message = message
        self.field = field
        self.subject = subject

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields: rebuilt from them, so the error crosses a process boundary whole.
        return _rebuild_invariant, (self.message, self.field, self.subject)


def _rebuild_invariant(message: str, field: str | None, subject: str | None) -> InvariantError:
    return InvariantError(message, field=field, subject=subject)
