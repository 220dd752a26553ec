"""Exceptions raised by aml-promotion.

"Not better" is not an error: a rejected candidate is a normal :class:`~aml_promotion.Decision`.
These exceptions are for what went wrong: bad input, a run or file that is not there, a registry
that failed. Every exception carries structured fields and computes its own message; none ever
contains a secret.

The hierarchy::

    PromotionError
    ├── SettingsError (ValueError)          bad settings: every problem, each with its path
    │   └── BaselineNotFoundError           the pinned baseline (version:N) does not exist
    ├── CredentialsError (ValueError)       missing or malformed credentials (never shows a secret)
    ├── UsageError (ValueError)             arguments that contradict each other
    ├── BackendNotInstalledError (ImportError)  an optional extra is missing
    ├── RunNotFoundError (LookupError)      the run, its pipeline step or its best child is missing
    ├── VersionNotFoundError (LookupError)  the candidate version (name:3, name@alias) is missing
    ├── RunStateError                       the run did not complete (and promotion is not forced)
    ├── ModelFileError                      zero or several model files match
    └── RegistryError                       the backend failed
        ├── TransientRegistryError          ...in a way that may pass on retry (5xx, 429, network)
        └── IncompletePromotionError        ...after a version was registered: what was not done

    SettingsWarning (UserWarning)           unknown settings keys, ignored (errors in strict mode)
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

__all__ = [
    "BackendNotInstalledError",
    "BaselineNotFoundError",
    "CredentialsError",
    "IncompletePromotionError",
    "ModelFileError",
    "PromotionError",
    "RegistryError",
    "RunNotFoundError",
    "RunStateError",
    "SettingsError",
    "SettingsProblem",
    "SettingsWarning",
    "TransientRegistryError",
    "UsageError",
    "VersionNotFoundError",
]


class PromotionError(Exception):
    """Base class of every exception aml-promotion raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only constructors: rebuild from the fields, not from args (the message), so
        # an error raised in a worker process (multiprocessing, joblib) crosses back intact.
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(
    cls: type[PromotionError], args: tuple[object, ...], state: dict[str, object]
) -> PromotionError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


@attrs.frozen(kw_only=True)
class SettingsProblem:
    """One thing wrong with a settings source.

    Attributes:
        path: Where the problem is, JSONPath-style: ``$.metric_rules.auc.min_delta``.
        message: What was found and what was expected.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} @ {self.path}"


class SettingsError(PromotionError, ValueError):
    """Settings that cannot be used; lists every problem at once, each with its path."""

    def __init__(self, problems: Sequence[SettingsProblem], *, source: str | None = None) -> None:
        self.problems: tuple[SettingsProblem, ...] = tuple(problems)
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        where = f" in {self.source}" if self.source else ""
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} with the settings{where}:"
        return "\n".join([head, *(f"  - {problem}" for problem in self.problems)])


class BaselineNotFoundError(SettingsError):
    """The baseline the settings pin does not exist (``"baseline": "version:7"``, no version 7).

    Never taken as "no baseline": that would register a candidate compared with nothing.

    Attributes:
        model_name: The model whose version was looked for.
        strategy: The baseline strategy, as written in the settings (``version:7``).
    """

    def __init__(self, *, model_name: str, strategy: str, detail: str | None = None) -> None:
        self.model_name = model_name
        self.strategy = strategy
        message = f"the baseline {strategy!r} of model {model_name!r} does not exist"
        advice = detail or "pin a version that exists, or use 'latest' or a tag"
        problem = SettingsProblem(path="$.baseline", message=f"{message}: {advice}")
        super().__init__([problem])


class SettingsWarning(UserWarning):
    """Settings that load, with something worth knowing: keys that were not understood."""


class CredentialsError(PromotionError, ValueError):
    """Credentials that are missing or malformed.

    The message names the missing or malformed *keys*; it never contains a value.
    """

    def __init__(self, message: str, *, missing: Sequence[str] = ()) -> None:
        self.missing: tuple[str, ...] = tuple(missing)
        super().__init__(message)


class UsageError(PromotionError, ValueError):
    """Arguments that cannot be used together, or a required one that is missing."""


class BackendNotInstalledError(PromotionError, ImportError):
    """An optional backend was asked for, but its extra is not installed."""

    def __init__(self, backend: str, *, extra: str) -> None:
        self.backend = backend
        self.extra = extra
        super().__init__(
            f"the {backend} backend needs its optional dependencies: "
            f'pip install "aml-promotion[{extra}]"'
        )


class RunNotFoundError(PromotionError, LookupError):
    """A run (or the pipeline step or HyperDrive child that holds the model) was not found.

    Attributes:
        run_id: The run that was looked for, if known.
        experiment_name: The experiment it was looked for in, if known.
        candidates: Names that were found instead (for example the pipeline's step names).
    """

    def __init__(
        self,
        message: str,
        *,
        run_id: str | None = None,
        experiment_name: str | None = None,
        candidates: Sequence[str] = (),
    ) -> None:
        self.run_id = run_id
        self.experiment_name = experiment_name
        self.candidates: tuple[str, ...] = tuple(candidates)
        super().__init__(message)


class VersionNotFoundError(PromotionError, LookupError):
    """The registered version named as the candidate (``name:3``, ``name@alias``) was not found.

    Attributes:
        model_name: The model whose version was looked for.
        ref: The version as it was named (``3``, ``@champion``, ``latest``).
    """

    def __init__(self, message: str, *, model_name: str, ref: str) -> None:
        self.model_name = model_name
        self.ref = ref
        super().__init__(message)


class RunStateError(PromotionError):
    """The candidate run did not complete, so its model is not promoted unless forced."""

    def __init__(self, *, run_id: str, status: str) -> None:
        self.run_id = run_id
        self.status = status
        super().__init__(
            f"run {run_id!r} has status {status!r}, not 'Completed': its model is not "
            "promoted unless registration is forced"
        )


class ModelFileError(PromotionError):
    """The model file could not be identified: no match, or several.

    Attributes:
        wanted: The ``model_file_name`` that was looked for.
        matches: The files that matched (empty when none did).
        files: The files the run holds (possibly truncated in the message, never here).
    """

    def __init__(
        self,
        message: str,
        *,
        wanted: str,
        matches: Sequence[str] = (),
        files: Sequence[str] = (),
    ) -> None:
        self.wanted = wanted
        self.matches: tuple[str, ...] = tuple(matches)
        self.files: tuple[str, ...] = tuple(files)
        super().__init__(message)


class RegistryError(PromotionError):
    """The run store or model registry failed; the backend's own error is the ``__cause__``."""


class TransientRegistryError(RegistryError):
    """A failure that may pass if the same call is made again (5xx, 429, a dropped connection).

    Attributes:
        retry_after: Seconds the service asked us to wait, if it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class IncompletePromotionError(RegistryError):
    """A version was registered, then a write of the promotion failed: it did not complete.

    The writes are ordered so that a version of an incomplete promotion never becomes the
    champion later: until its champion tag (or the alias) is written it is marked pending, never
    a holder nor a baseline. Running the promotion again completes it if the candidate still
    beats the champion then (it is compared with the champion of that moment); if not, the
    version is retired (``superseded``), never crowned. The backend's error is the ``__cause__``.

    Attributes:
        model_name: The model.
        version: The version that was registered.
        not_done: What was not done ("point the alias @champion at it").
        champion: Whether the version is the champion anyway, as read after the failure (or
            before it): the best-ranked holder of the champion tag, or the alias's target.
        holder: Whether, not known to be the champion, it still holds the champion tag (its
            tag could not be set back to pending, or was live before this promotion): a later
            promotion ranks it among the holders, and may crown it.
        registered: Whether this promotion registered the version; False for a re-run that
            found it registered (and tried to complete, settle or take back its promotion).
        retired: Whether its champion tag is known retired (``superseded``) for a better-ranked
            version: its promotion is over, there is nothing to complete.
    """

    def __init__(
        self,
        *,
        model_name: str,
        version: int,
        not_done: str,
        champion: bool,
        reason: str,
        holder: bool = False,
        registered: bool = True,
        retired: bool = False,
    ) -> None:
        self.model_name = model_name
        self.version = version
        self.not_done = not_done
        self.champion = champion
        self.holder = holder
        self.registered = registered
        self.retired = retired
        self.reason = reason
        then = "Run the promotion again to complete it"
        if champion:
            state = "it is the champion all the same"
        elif holder:
            state = (
                "it is not known to be the champion: it holds the champion tag among the "
                "holders, which a later promotion ranks"
            )
        elif retired:
            state = "it is not the champion: a better-ranked version superseded it"
            then = "Run the promotion again to settle the champion"
        else:
            state = "it is not the champion, and is never taken for one until it is completed"
        done = "was registered" if registered else "is registered (not by this run)"
        super().__init__(
            f"version {version} of model {model_name!r} {done}, but this was not done: "
            f"{not_done} ({reason}); {state}. {then}"
        )
