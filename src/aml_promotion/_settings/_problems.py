"""Problems at paths: cattrs' errors turned into `SettingsProblem`s, and "did you mean"."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aml_promotion._domain.suggest import close_matches
from aml_promotion._settings._shapes import _ALIASES, KNOWN_KEYS, _InvalidError
from aml_promotion.exceptions import SettingsProblem


def _format_exception(exc: BaseException, type_: object) -> str:
    # (No KeyError case: every field of the file is optional, so none is ever missing.)
    if isinstance(exc, _InvalidError):
        return str(exc)
    from cattrs.v import format_exception  # noqa: PLC0415 - see _converter()

    # Settings are JSON: say "object" where cattrs says "mapping".
    return format_exception(exc, type_).replace("a mapping", "a JSON object")  # type: ignore[arg-type]


def problems_of(exc: BaseException, path: str = "$") -> list[SettingsProblem]:
    """Return a problem for every failure inside cattrs' error `exc`, each at its own path.

    The path is built from cattrs' structured errors: a `ClassValidationError`'s exceptions carry
    the field's name in their notes, an `IterableValidationError`'s the index or mapping key.
    """
    from cattrs.errors import (  # noqa: PLC0415 - see _converter()
        ClassValidationError,
        IterableValidationError,
    )

    if isinstance(exc, ClassValidationError):
        with_fields, without = exc.group_exceptions()
        found = [(inner, key_path(path, note.name), note.type) for inner, note in with_fields]
    elif isinstance(exc, IterableValidationError):
        with_items, without = exc.group_exceptions()
        found = [(inner, item_path(path, note.index), note.type) for inner, note in with_items]
    else:
        return [SettingsProblem(path=path, message=_format_exception(exc, None))]
    problems: list[SettingsProblem] = []
    for inner, inner_path, type_ in found:
        if isinstance(inner, (ClassValidationError, IterableValidationError)):
            problems.extend(problems_of(inner, inner_path))
        else:
            problems.append(
                SettingsProblem(path=inner_path, message=_format_exception(inner, type_))
            )
    problems.extend(
        SettingsProblem(path=path, message=_format_exception(inner, None)) for inner in without
    )
    return problems


def failed_fields(exc: BaseException) -> frozenset[str]:
    """Return the top-level fields that cattrs' error `exc` names (all of them, "*", if none)."""
    from cattrs.errors import ClassValidationError  # noqa: PLC0415 - see _converter()

    if not isinstance(exc, ClassValidationError):
        return frozenset({"*"})
    with_fields, without = exc.group_exceptions()
    names = frozenset(note.name for _, note in with_fields)
    return names | {"*"} if without else names


def item_path(parent: str, index: object) -> str:
    """Return the path of a list's item (``$.datasets[2]``) or of a mapping's key."""
    return f"{parent}[{index}]" if isinstance(index, int) else key_path(parent, str(index))


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_path(parent: str, key: str) -> str:
    """Return the path of `key` under `parent`: ``$.metric_rules.auc``, or quoted when odd.

    A key that is not plain letters, digits, ``_`` and ``-`` is quoted, so that a metric named
    ``top1 @ k`` or ``acc.top1`` reads unambiguously: ``$.metric_rules["top1 @ k"]``.
    """
    if _PLAIN_KEY.fullmatch(key):
        return f"{parent}.{key}"
    import json  # noqa: PLC0415 - only odd keys need it; see _converter()

    return f"{parent}[{json.dumps(key, ensure_ascii=False)}]"


# How similar an unknown key must be to a known one for "did you mean" to make it an error:
# difflib's ratio, 2 x matching characters / total characters. 0.85 keeps what two edits of a key
# gave (metric_max, force_registartion, memry, baselines) and leaves metrics_maximize (0.815)
# unknown.
KEY_CUTOFF = 0.85


def near_key(key: str, known: Iterable[str]) -> str | None:
    """Return the known key `key` was probably meant to be, or None.

    Case, ``-`` and spaces do not count (``Model-Name`` is ``model_name``).
    """
    folded = key.strip().lower().replace("-", "_").replace(" ", "_")
    matches = close_matches(folded, known, cutoff=KEY_CUTOFF, n=1)
    return matches[0] if matches else None


def near_file_key(key: str) -> str | None:
    """Return the top-level settings key (or alias) `key` was probably meant to be, or None."""
    return near_key(key, KNOWN_KEYS | _ALIASES.keys())
