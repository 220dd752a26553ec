"""Reading a settings file: JSON text into a mapping, with its problems at their paths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aml_promotion._settings._problems import key_path
from aml_promotion._settings._shapes import _kind
from aml_promotion.exceptions import SettingsError, SettingsProblem

if TYPE_CHECKING:
    from pathlib import Path


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once (the last one wins)."""

    duplicates: tuple[str, ...] = ()


def _object_with_duplicates(pairs: list[tuple[str, Any]]) -> _JsonObject:
    result = _JsonObject(pairs)
    counts: dict[str, int] = {}
    for key, _ in pairs:
        counts[key] = counts.get(key, 0) + 1
    result.duplicates = tuple(key for key, count in counts.items() if count > 1)
    return result


def _duplicate_problems(value: object, path: str = "$") -> list[SettingsProblem]:
    """Return a problem for every key given twice in the same object, at any depth."""
    problems: list[SettingsProblem] = []
    if isinstance(value, _JsonObject):
        problems.extend(
            SettingsProblem(
                path=key_path(path, key), message=f"the key {key!r} appears more than once"
            )
            for key in value.duplicates
        )
        for key, item in value.items():
            problems.extend(_duplicate_problems(item, key_path(path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems.extend(_duplicate_problems(item, f"{path}[{index}]"))
    return problems


def _read_file(path: Path) -> tuple[Mapping[str, Any], list[SettingsProblem]]:
    import json  # noqa: PLC0415 - only files need it; see _converter()

    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problem = SettingsProblem(path="$", message=f"settings file not found: {source}")
        raise SettingsError([problem], source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        problem = SettingsProblem(path="$", message=f"cannot read the settings file: {exc}")
        raise SettingsError([problem], source=source) from None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_object_with_duplicates,
            parse_constant=_refuse_constant,
            parse_int=_integer,
        )
        duplicates = _duplicate_problems(data)
        too_long = _too_long_integers(data)
    except json.JSONDecodeError as exc:
        problem = SettingsProblem(
            path="$",
            message=(
                f"not valid JSON: {exc.msg} at {source}, line {exc.lineno}, column {exc.colno}"
            ),
        )
        raise SettingsError([problem], source=source) from None
    except _NonJsonTokenError as exc:
        problem = SettingsProblem(
            path="$",
            message=f"not valid JSON: {exc.token} is no JSON value (in {source}); use a number",
        )
        raise SettingsError([problem], source=source) from None
    except RecursionError:
        problem = SettingsProblem(
            path="$", message=f"not a settings file: nested too deeply to read ({source})"
        )
        raise SettingsError([problem], source=source) from None
    if too_long:
        raise SettingsError(too_long, source=source)
    if not isinstance(data, dict):
        problem = SettingsProblem(path="$", message=f"expected a JSON object, found {_kind(data)}")
        raise SettingsError([problem], source=source)
    return data, duplicates


class _TooLongInteger:
    """An integer Python refuses to read (more digits than its limit, CVE-2020-10735)."""

    # A plain class: only a settings file with such a number needs it (import time).
    __slots__ = ("digits", "limit")

    def __init__(self, *, digits: int, limit: int) -> None:
        self.digits = digits
        self.limit = limit


def _integer(text: str) -> int | _TooLongInteger:
    import sys  # noqa: PLC0415 - already loaded; the import statement is only a lookup

    try:
        return int(text)
    except ValueError:
        # Kept as a marker, so that the problem is reported at the value's path.
        return _TooLongInteger(digits=len(text.lstrip("-")), limit=sys.get_int_max_str_digits())


def _too_long_integers(value: object, path: str = "$") -> list[SettingsProblem]:
    """Return a problem at the path of every integer too long to read, at any depth."""
    if isinstance(value, _TooLongInteger):
        message = (
            f"an integer of more than {value.limit} digits ({value.digits}): no setting takes "
            "one; write a number of ordinary size"
        )
        return [SettingsProblem(path=path, message=message)]
    if isinstance(value, dict):
        return [
            problem
            for key, item in value.items()
            for problem in _too_long_integers(item, key_path(path, str(key)))
        ]
    if isinstance(value, list):
        return [
            problem
            for index, item in enumerate(value)
            for problem in _too_long_integers(item, f"{path}[{index}]")
        ]
    return []


class _NonJsonTokenError(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, but they are no JSON."""

    def __init__(self, token: str) -> None:
        self.token = token
        super().__init__(token)


def _refuse_constant(token: str) -> Any:
    raise _NonJsonTokenError(token)
