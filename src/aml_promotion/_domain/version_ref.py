"""`VersionRef`: a registered version named as a candidate (``name:3``, ``name@alias``)."""

from __future__ import annotations

import attrs

from aml_promotion.exceptions import UsageError

_LATEST = "latest"


@attrs.frozen(kw_only=True)
class VersionRef:
    """A registered version, named by its number, an alias, or as the latest usable one.

    Attributes:
        name: The model's name in the source registry (Unity Catalog: ``catalog.schema.model``).
        number: The version's number, or None.
        alias: The alias that points at it (MLflow), or None.

    With neither `number` nor `alias` it names the latest (highest) usable version.
    """

    name: str
    number: int | None = None
    alias: str | None = None

    @property
    def latest(self) -> bool:
        """Whether this names the latest usable version."""
        return self.number is None and self.alias is None

    @classmethod
    def parse(cls, text: str) -> VersionRef:
        """Read ``name:3``, ``name@alias`` or ``name:latest`` (the last ``:`` or ``@`` splits).

        Raises:
            UsageError: Not one of those forms (the message says which are).
        """
        given = text.strip()
        at, colon = given.rfind("@"), given.rfind(":")
        if at > colon:
            name, alias = given[:at], given[at + 1 :]
            if name.strip() and alias.strip():
                return cls(name=name.strip(), alias=alias.strip())
        elif colon > 0:
            name, ref = given[:colon].strip(), given[colon + 1 :].strip()
            if name and ref.lower() == _LATEST:
                return cls(name=name)
            if name and ref.isdecimal() and ref.isascii() and int(ref) > 0:
                return cls(name=name, number=int(ref))
        msg = (
            f"candidate version {text!r} is not one: give NAME:VERSION (a number from 1), "
            "NAME@ALIAS or NAME:latest, for example churn:3"
        )
        raise UsageError(msg)

    def __str__(self) -> str:
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return f"{self.name}:{_LATEST if self.number is None else self.number}"
