"""What the exit status of ``aml-promote`` means: one code per result, one per kind of error."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from aml_promotion.exceptions import (
    BackendNotInstalledError,
    CredentialsError,
    ModelFileError,
    RegistryError,
    RunNotFoundError,
    RunStateError,
    SettingsError,
    UsageError,
    VersionNotFoundError,
)

if TYPE_CHECKING:
    from aml_promotion._service import PromotionResult

__all__ = ["TITLES", "ExitCode", "exit_code_for", "exit_code_for_error"]


class ExitCode(enum.IntEnum):
    """What the exit status of ``aml-promote`` means."""

    OK = 0
    """Registered (or already registered), a dry run, or rejected with ``--no-fail-on-reject``."""
    REJECTED = 1
    """The policy rejected the candidate: nothing was registered."""
    BAD_INPUT = 2
    """Arguments, settings, credentials, or the run/model they name cannot be used."""
    BACKEND_FAILURE = 3
    """The backend failed (after retries), or an unexpected error."""


# Which exit code each error means: the first matching class wins.
_EXIT_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (UsageError, ExitCode.BAD_INPUT),
    (SettingsError, ExitCode.BAD_INPUT),
    (CredentialsError, ExitCode.BAD_INPUT),
    (BackendNotInstalledError, ExitCode.BAD_INPUT),
    (RunNotFoundError, ExitCode.BAD_INPUT),
    (VersionNotFoundError, ExitCode.BAD_INPUT),
    (RunStateError, ExitCode.BAD_INPUT),
    (ModelFileError, ExitCode.BAD_INPUT),
    (RegistryError, ExitCode.BACKEND_FAILURE),
)

# The title of an error annotation, by the exit code it ends with.
TITLES = {
    ExitCode.BAD_INPUT: "aml-promote: bad input",
    ExitCode.BACKEND_FAILURE: "aml-promote: backend failure",
}


def exit_code_for(result: PromotionResult, *, fail_on_reject: bool) -> ExitCode:
    """Return the exit code for a result (errors have theirs in `exit_code_for_error`)."""
    if result.dry_run or result.model is not None or not fail_on_reject:
        return ExitCode.OK
    return ExitCode.REJECTED


def exit_code_for_error(error: BaseException) -> ExitCode:
    """Return the exit code an error means; anything unexpected is a backend failure (3)."""
    for kind, code in _EXIT_CODES:
        if isinstance(error, kind):
            return code
    return ExitCode.BACKEND_FAILURE
