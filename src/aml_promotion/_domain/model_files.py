"""Finding the model among a run's files: a file name, a relative path, or a folder."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aml_promotion.exceptions import ModelFileError

_SHOWN = 20


def normalize(path: str) -> str:
    """Return `path` with forward slashes, no leading ``./`` or ``/``, no trailing ``/``."""
    text = path.replace("\\", "/").strip()
    while text.startswith("./"):
        text = text[2:]
    return text.strip("/")


def _folders(files: Iterable[str]) -> set[str]:
    folders = set()
    for name in files:
        parts = name.split("/")[:-1]
        for end in range(1, len(parts) + 1):
            folders.add("/".join(parts[:end]))
    return folders


def _matching(names: Iterable[str], target: str) -> list[str]:
    # A bare name matches anywhere; a path matches whole trailing components ("a/b" ≠ "xa/b").
    return sorted(n for n in names if n == target or n.endswith("/" + target))


def _listing(files: Sequence[str]) -> str:
    shown = ", ".join(repr(f) for f in files[:_SHOWN])
    more = f" and {len(files) - _SHOWN} more" if len(files) > _SHOWN else ""
    return f"{shown}{more}" if files else "no files at all"


def find_model_file(files: Iterable[str], wanted: str) -> str:
    """Return the one path among a run's `files` that `wanted` names.

    `wanted` is a file name found anywhere (``model.pkl``), a relative path (``outputs/model.pkl``,
    an exact match preferred over one deeper in the tree), or a folder (``outputs/model/``, or a
    name that only a folder has), which is returned without its trailing slash.

    Raises:
        ModelFileError: Nothing matches, or several paths do; the error lists what was found.
    """
    names = sorted({normalize(f) for f in files} - {""})
    target = normalize(wanted)
    if not target:
        raise ModelFileError("the model file name is empty", wanted=wanted, files=names)
    wants_folder = wanted.replace("\\", "/").rstrip().endswith("/")
    matches: list[str] = []
    if not wants_folder:
        matches = [target] if "/" in target and target in names else _matching(names, target)
    if not matches:
        folders = _folders(names)
        matches = [target] if target in folders else _matching(folders, target)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ModelFileError(
            f"{len(matches)} paths in the run match model_file_name {wanted!r}: "
            f"{_listing(matches)}; give the relative path of the one to register",
            wanted=wanted,
            matches=matches,
            files=names,
        )
    raise ModelFileError(
        f"no file or folder in the run matches model_file_name {wanted!r}; "
        f"the run holds {_listing(names)}",
        wanted=wanted,
        files=names,
    )
