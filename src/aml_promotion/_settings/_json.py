"""Reading a settings file: JSON text into a mapping, with its problems at their paths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aml_promotion._settings._mapping import nesting_problems
from aml_promotion._settings._problems import key_path
from aml_promotion._settings._shapes import _kind
from aml_promotion.exceptions import SettingsError, SettingsProblem

if TYPE_CHECKING:
    import json
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
        raw = path.read_bytes()
    except FileNotFoundError:
        problem = SettingsProblem(path="$", message=f"settings file not found: {source}")
        raise SettingsError([problem], source=source) from None
    except OSError as exc:
        # IsADirectoryError on POSIX; Windows says PermissionError for a directory.
        message = (
            _directory_message(path) if path.is_dir() else f"cannot read the settings file: {exc}"
        )
        problem = SettingsProblem(path="$", message=message)
        raise SettingsError([problem], source=source) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = SettingsProblem(path="$", message=_encoding_message(raw, exc, source))
        raise SettingsError([problem], source=source) from None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_object_with_duplicates,
            parse_constant=_refuse_constant,
            parse_int=_integer,
        )
        if nesting := nesting_problems(data):
            # Before the walks below, which recurse.
            raise SettingsError(nesting, source=source)
        duplicates = _duplicate_problems(data)
        too_long = _too_long_integers(data)
    except json.JSONDecodeError as exc:
        problem = SettingsProblem(path="$", message=_json_message(exc, source))
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


def _directory_message(path: Path) -> str:
    inside = sorted(child.name for child in path.glob("*.json"))
    example = inside[0] if len(inside) == 1 else "registermodel.json"
    return (
        f"{path} is a directory, not a settings file: give the JSON file's path, "
        f"e.g. {path / example}"
    )


def _encoding_message(raw: bytes, exc: UnicodeDecodeError, source: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"the settings file is UTF-16 text, not UTF-8 ({source}): save it as UTF-8"
    byte = raw[exc.start]
    return (
        f"the settings file is not UTF-8 text: byte 0x{byte:02x} at offset {exc.start} "
        f"({source}); save it as UTF-8"
    )


def _json_message(exc: json.JSONDecodeError, source: str) -> str:
    """Return the one-line message for JSON that does not parse, saying what to change.

    Comments and trailing commas (JSON has neither; JSONC and JavaScript have both) get their
    own message; anything else gets the parser's, with the file, line and column.
    """
    where = f"{source}, line {exc.lineno}, column {exc.colno}"
    rest = exc.doc[exc.pos :]
    if rest.startswith(("//", "/*", "#")):
        return f"not valid JSON: JSON has no comments; remove the comment at {where}"
    before = exc.doc[: exc.pos].rstrip()
    if rest[:1] in {"}", "]"} and before.endswith(","):
        comma = len(before) - 1
        line = exc.doc.count("\n", 0, comma) + 1
        column = comma - exc.doc.rfind("\n", 0, comma)
        return (
            f"not valid JSON: a comma before the closing {rest[0]!r}; remove the trailing "
            f"comma at {source}, line {line}, column {column}"
        )
    return f"not valid JSON: {exc.msg} at {where}"
