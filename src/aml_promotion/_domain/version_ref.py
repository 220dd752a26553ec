"""`VersionRef`: a registered version named as a candidate (``name:3``, ``name@alias``)."""

from __future__ import annotations

import attrs

from aml_promotion._domain.choices import checked_optional_text, checked_text, is_bool
from aml_promotion.exceptions import UsageError

_LATEST = "latest"
# They separate the version or alias from the name: no registry takes them in a model's name.
_SEPARATORS = (":", "@")


def _check_name(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    name = checked_text(
        attribute, value, expected="a model name (a string)", blank=": give the model's name"
    )
    if any(separator in name for separator in _SEPARATORS):
        msg = (
            f"{attribute.name} {value!r} holds ':' or '@', which separate the version or the "
            "alias: give the model's name alone, and number= or alias="
        )
        raise ValueError(msg)


def _check_number(_instance: object, attribute: attrs.Attribute[int | None], value: object) -> None:
    if value is None:
        return
    if is_bool(value) or not isinstance(value, int):
        shown = f"the boolean {value!r}" if is_bool(value) else type(value).__name__
        msg = f"{attribute.name} must be a version number (an int from 1) or None, not {shown}"
        raise TypeError(msg)
    if value < 1:
        msg = f"{attribute.name} must be a version number from 1, not {value}"
        raise ValueError(msg)


def _check_alias(
    instance: VersionRef, attribute: attrs.Attribute[str | None], value: object
) -> None:
    alias = checked_optional_text(
        attribute, value, expected="an alias (a string)", blank=": give the alias, or None"
    )
    if alias is not None and instance.number is not None:
        msg = (
            f"number={instance.number} and alias={value!r} both name the version: give one "
            "(or neither, for the latest)"
        )
        raise ValueError(msg)


@attrs.frozen(kw_only=True)
class VersionRef:
    """A registered version, named by its number, an alias, or as the latest usable one.

    Attributes:
        name: The model's name in the source registry (Unity Catalog: ``catalog.schema.model``);
            not blank, without ``:`` or ``@``.
        number: The version's number (an int from 1, not a bool), or None.
        alias: The alias that points at it (MLflow), or None; not with `number`.

    With neither `number` nor `alias` it names the latest (highest) usable version.

    Raises:
        TypeError: A field is of the wrong kind (the message names it).
        ValueError: A field's value cannot name a version, or `number` and `alias` are both
            given.
    """

    name: str = attrs.field(validator=_check_name)
    number: int | None = attrs.field(default=None, validator=_check_number)
    alias: str | None = attrs.field(default=None, validator=_check_alias)

    @property
    def latest(self) -> bool:
        """Whether this names the latest usable version."""
        return self.number is None and self.alias is None

    @classmethod
    def parse(cls, text: str, *, field: str = "candidate_version") -> VersionRef:
        """Read ``name:3``, ``name@alias`` or ``name:latest`` (the last ``:`` or ``@`` splits).

        Args:
            text: What was given.
            field: What gave it, for the error (``--candidate-version`` on the command line).

        Raises:
            UsageError: Not one of those forms (the message names `field` and says which are).
        """
        given = text.strip()
        at, colon = given.rfind("@"), given.rfind(":")
        name = ""
        number: int | None = None
        alias: str | None = None
        valid = False
        if at > colon:
            name, alias = given[:at].strip(), given[at + 1 :].strip()
            valid = bool(alias)
        elif colon > 0:
            name, ref = given[:colon].strip(), given[colon + 1 :].strip()
            if ref.isdecimal() and ref.isascii() and int(ref) > 0:
                number, valid = int(ref), True
            else:
                valid = ref.lower() == _LATEST
        # A name holding the other separator (churn:3@x) is not a name: refused, never guessed.
        if valid and name and not any(separator in name for separator in _SEPARATORS):
            return cls(name=name, number=number, alias=alias)
        msg = (
            f"{field} {text!r} is not a version: give NAME:VERSION (a number from 1), "
            "NAME@ALIAS or NAME:latest, for example churn:3"
        )
        raise UsageError(msg)

    def __str__(self) -> str:
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return f"{self.name}:{_LATEST if self.number is None else self.number}"
