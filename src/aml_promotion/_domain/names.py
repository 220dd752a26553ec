"""The names a registry accepts for an alias or a tag key, checked before anything is written.

MLflow's own rules (``mlflow.utils.validation``: ``_validate_alias_name``,
``_validate_alias_name_reserved``, ``_validate_tag_name`` and the registry's key length), which
are also the strictest of the backends': a name MLflow would refuse after the version is
registered is refused when the settings are read instead.
"""

from __future__ import annotations

import posixpath
import re

ALIAS_MAX_LENGTH = 255
TAG_KEY_MAX_LENGTH = 250
_ALIAS = re.compile(r"[\w\-]+")
_VERSION_ALIAS = re.compile(r"[vV]\d+")
_TAG_KEY = re.compile(r"[/\w.\- :]+")
OWN_PREFIX = "promotion."
"""The library's own tag namespace: its decision records, which no setting may name."""
ALIAS_TAG_PREFIX = OWN_PREFIX + "alias."
METRIC_TAG_PREFIXES = tuple(OWN_PREFIX + part for part in ("metric.", "delta.", "rank.", "series."))
"""The prefixes of the tag keys derived from a rule's metric (`aml_promotion._domain.tags`)."""


def _odd_characters(text: str, allowed: re.Pattern[str]) -> str:
    odd = sorted({char for char in text if not allowed.fullmatch(char)})
    return " ".join(repr(char) for char in odd)


def alias_problem(alias: str) -> str | None:
    """Return what is wrong with `alias` as a registered-model alias, or None if MLflow takes it.

    Letters, digits, ``_`` and ``-``, at most 255 characters; ``v<digits>`` and ``latest`` are
    reserved (MLflow reads ``@v3`` as version 3, ``@latest`` as the highest version).
    """
    if not alias.strip():
        return "the alias is blank"
    if len(alias) > ALIAS_MAX_LENGTH:
        return f"the alias is {len(alias)} characters long; at most {ALIAS_MAX_LENGTH} are allowed"
    if not _ALIAS.fullmatch(alias):
        return (
            f"the alias {alias!r} has characters an alias cannot have "
            f"({_odd_characters(alias, _ALIAS)}): use letters, digits, '_' and '-'"
        )
    if _VERSION_ALIAS.fullmatch(alias):
        return (
            f"the alias {alias!r} is reserved: MLflow reads @{alias} as version {alias[1:]}; "
            "choose another name, or write 'version:N' for a fixed version"
        )
    if alias.casefold() == "latest":
        return (
            f"the alias {alias!r} is reserved: MLflow reads @latest as the highest version; "
            "write 'latest' for that baseline, or choose another name"
        )
    return None


def tag_key_problem(key: str) -> str | None:
    """Return what is wrong with `key` as a tag key, or None if every backend takes it.

    Letters, digits, ``_``, ``-``, ``.``, spaces, ``:`` and ``/``, at most 250 characters, not
    in the library's own namespace (``promotion.``), and no path tricks: MLflow refuses a key
    that its normalised path would change (``a//b``, ``./a``, ``a/``, a leading ``/`` or ``..``).
    """
    if not key.strip():
        return "the tag key is blank" if key else "the tag key is empty"
    if key.startswith(OWN_PREFIX):
        return (
            f"the tag key {key!r} is in the library's own namespace {OWN_PREFIX!r} (its "
            "decision records, which a promotion overwrites): choose a key without that prefix"
        )
    if len(key) > TAG_KEY_MAX_LENGTH:
        return (
            f"the tag key is {len(key)} characters long; at most {TAG_KEY_MAX_LENGTH} are allowed"
        )
    if not _TAG_KEY.fullmatch(key):
        return (
            f"the tag key {key!r} has characters a tag key cannot have "
            f"({_odd_characters(key, _TAG_KEY)}): use letters, digits, '_', '-', '.', ' ', ':' "
            "and '/'"
        )
    normal = posixpath.normpath(key)
    if normal != key or normal == "." or normal.startswith(("..", "/")):
        return (
            f"the tag key {key!r} is not a plain path, which MLflow refuses: no leading '/' "
            "or '..', no '.' or '..' parts, no '//' and no trailing '/'"
        )
    return None


def derived_key_problem(prefixes: tuple[str, ...], name: str, what: str) -> str | None:
    """Return what is wrong when a tag key the library derives from `name` is too long, or None.

    Args:
        prefixes: The prefixes of the derived keys (`ALIAS_TAG_PREFIX`, `METRIC_TAG_PREFIXES`);
            each key is a prefix and `name` (odd characters replaced one for one).
        name: The alias or metric name.
        what: What `name` is, for the message ("the alias", "the metric").
    """
    prefix = max(prefixes, key=len)
    allowed = TAG_KEY_MAX_LENGTH - len(prefix)
    if len(name) <= allowed:
        return None
    return (
        f"{what} {name[:40]!r}... is {len(name)} characters long: the library records it in "
        f"the tag {prefix}<name>, and a tag key has at most {TAG_KEY_MAX_LENGTH} characters, "
        f"so {what} may have at most {allowed}"
    )
