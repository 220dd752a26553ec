"""Problems at paths: cattrs' errors turned into `SettingsProblem`s, and "did you mean"."""

from __future__ import annotations

import re

from aml_promotion._settings._shapes import _ALIASES, KNOWN_KEYS, _InvalidError
from aml_promotion.exceptions import SettingsProblem


def _format_exception(exc: BaseException, type_: type | None) -> str:
    # (No KeyError case: every field of the file is optional, so none is ever missing.)
    if isinstance(exc, _InvalidError):
        return str(exc)
    from cattrs.v import format_exception  # noqa: PLC0415 - see _converter()

    # Settings are JSON: say "object" where cattrs says "mapping".
    return format_exception(exc, type_).replace("a mapping", "a JSON object")


def _problems_of(exc: Exception) -> list[SettingsProblem]:
    problems = []
    from cattrs import transform_error  # noqa: PLC0415 - see _converter()

    for line in transform_error(exc, path="$", format_exception=_format_exception):
        # The path may hold " @ " itself (a metric named "top1 @ k"): split at the first one.
        message, found, rest = line.partition(" @ $")
        path = "$" + rest if found else "$"
        problems.append(SettingsProblem(path=_bracket_paths(path), message=message or line))
    return problems


_CATTRS_KEY = re.compile(r"""\[('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]""")
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


def _bracket_paths(path: str) -> str:
    # cattrs writes mapping keys as $.metric_rules['auc'] (a repr); we write $.metric_rules.auc.
    import ast  # noqa: PLC0415 - only error paths need it

    parts = _CATTRS_KEY.split(path)
    result = parts[0]
    for quoted, rest in zip(parts[1::2], parts[2::2], strict=True):
        result = key_path(result, str(ast.literal_eval(quoted))) + rest
    return result


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def _near(key: str) -> str | None:
    candidates = sorted(KNOWN_KEYS | _ALIASES.keys())
    folded = key.strip().lower().replace("-", "_").replace(" ", "_")
    best = min(candidates, key=lambda known: (_edit_distance(folded, known), known))
    return best if _edit_distance(folded, best) <= 2 else None  # noqa: PLR2004 - DESIGN.md §4
