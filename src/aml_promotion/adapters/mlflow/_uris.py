"""Reading a tracking or registry URI: its scheme, and its credentials kept out of messages."""

from __future__ import annotations

import re

__all__ = ["_DATABASE_SCHEMES", "_redact", "_scheme"]

_DATABASE_SCHEMES = frozenset({"sqlite", "postgresql", "mysql", "mssql"})
_USERINFO = re.compile(r"(?<=//)[^/@\s]+@")


def _redact(text: str) -> str:
    # A tracking URI may carry credentials (https://user:token@host); messages never do.
    return _USERINFO.sub("***@", text)


def _scheme(uri: str) -> str:
    head, sep, _rest = uri.partition(":")
    return head.split("+", 1)[0].lower() if sep else ""
