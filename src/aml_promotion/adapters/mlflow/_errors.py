"""MLflow's failures as ours: its exceptions, error codes and HTTP statuses mapped in one place.

Every error becomes a `RegistryError`: `TransientRegistryError` when trying again may work;
the private kinds below when the adapter turns an answer into something else (None,
`RunNotFoundError`...). A message never shows a URI's credentials (nor does the exception
chain: see `SdkGateway`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from aml_promotion.adapters._errors import exception_chain
from aml_promotion.adapters._redaction import redact
from aml_promotion.exceptions import RegistryError, TransientRegistryError

__all__ = [
    "_AlreadyExistsError",
    "_InvalidError",
    "_NotFoundError",
    "_sdk_error_types",
    "_translate",
]

_MESSAGE_LIMIT = 600
_NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
_INVALID = "INVALID_PARAMETER_VALUE"
# TEMPORARILY_UNAVAILABLE is also what MLflow's sqlite store says for "database is locked".
_TRANSIENT_CODES = frozenset({"TEMPORARILY_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"})
_TRANSIENT_HTTP = frozenset({408, 429, 500, 502, 503, 504})
# A write that collided with a concurrent one (two promotions tagging the same version at once:
# the server's insert-or-update is not atomic on PostgreSQL). Done again, it is an update.
_WRITE_CONFLICTS = (
    "UniqueViolation",
    "duplicate key value violates unique constraint",
    "UNIQUE constraint failed",
    "database is locked",
    "deadlock detected",
)


class _NotFoundError(RegistryError):
    """MLflow said RESOURCE_DOES_NOT_EXIST; callers turn it into None or RunNotFoundError."""


class _AlreadyExistsError(RegistryError):
    """MLflow said RESOURCE_ALREADY_EXISTS (someone created it first)."""


class _InvalidError(RegistryError):
    """MLflow said INVALID_PARAMETER_VALUE (for a run id: it cannot name any run)."""


def _sdk_error_types(mlflow_exception: type[Exception]) -> tuple[type[Exception], ...]:
    import requests  # noqa: PLC0415 - a dependency of mlflow-skinny

    types: list[type[Exception]] = [mlflow_exception, requests.RequestException, OSError]
    with contextlib.suppress(ImportError):
        import sqlalchemy.exc  # noqa: PLC0415

        types.append(sqlalchemy.exc.SQLAlchemyError)
    with contextlib.suppress(ImportError):
        import alembic.util  # noqa: PLC0415

        types.append(alembic.util.CommandError)
    return tuple(types)


def _translate(error: Exception, what: str) -> RegistryError:
    code = str(getattr(error, "error_code", "") or "")
    # Redacted before it is cut short: a cut inside a URI's user info would hide it from redact.
    text = redact(str(error).strip())
    if len(text) > _MESSAGE_LIMIT:
        text = text[:_MESSAGE_LIMIT] + "..."
    message = redact(f"MLflow failed to {what}: {text}")
    # MLflow's own verdict first: its sqlite store says RESOURCE_ALREADY_EXISTS for a model or
    # experiment another process created first, with the IntegrityError's "UNIQUE constraint
    # failed" in the message, which is not a collision to retry but an answer.
    if code == _NOT_FOUND:
        return _NotFoundError(message)
    if code == _ALREADY_EXISTS:
        return _AlreadyExistsError(message)
    if code == _INVALID:
        return _InvalidError(message)
    if any(marker in str(link) for link in exception_chain(error) for marker in _WRITE_CONFLICTS):
        return TransientRegistryError(message)
    if _is_transient(error):
        return TransientRegistryError(message)
    return RegistryError(message)


def _is_transient(error: Exception) -> bool:
    import requests  # noqa: PLC0415
    from mlflow.exceptions import RestException  # noqa: PLC0415

    for link in exception_chain(error):
        # A refused or dropped connection, a timeout, or retryable statuses that urllib3
        # gave up on (MLflow wraps these in a plain MlflowException, the cause kept).
        if isinstance(
            link,
            (
                requests.exceptions.ConnectionError,
                requests.exceptions.Timeout,
                requests.exceptions.RetryError,
            ),
        ):
            return True
        if str(getattr(link, "error_code", "")) in _TRANSIENT_CODES:
            return True
        response = getattr(link, "response", None)
        if getattr(response, "status_code", None) in _TRANSIENT_HTTP:
            return True
        if isinstance(link, RestException):
            rest: Any = link  # MLflow's annotations are partial
            if rest.get_http_status_code() in _TRANSIENT_HTTP:
                return True
    return False
