"""Reading a tracking or registry URI: its scheme (its credentials: see `_redaction`)."""

from __future__ import annotations

__all__ = ["_DATABASE_SCHEMES", "_scheme"]

_DATABASE_SCHEMES = frozenset({"sqlite", "postgresql", "mysql", "mssql"})


def _scheme(uri: str) -> str:
    head, sep, _rest = uri.partition(":")
    return head.split("+", 1)[0].lower() if sep else ""
