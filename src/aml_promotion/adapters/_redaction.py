"""Secrets kept out of what the library raises: messages, and the exceptions chained to them.

A tracking URI may carry credentials (``https://user:token@host``, or in its query string:
``postgresql://db/mlflow?password=...``, ``...?sig=...``), and an SDK's exception may quote
it, or a service principal's secret, in its text. Our messages are redacted before they are cut
short (a cut can split a URI so that no pattern finds its password), and an SDK
exception whose text holds a secret is never chained to our error: a copy with the secret
redacted stands in for it (see `safe_cause`), so no traceback, ``logging.exception()`` or
notebook shows it.
"""

from __future__ import annotations

import re
import threading

from aml_promotion.adapters._errors import exception_chain

__all__ = ["RedactedSdkError", "mask", "query_secrets", "redact", "safe_cause", "scrub"]

# A URI's user info: from "//" to the last "@" of the authority (a user name or a password may
# hold an "@" of its own; the authority ends at the first "/").
_USERINFO = re.compile(r"(?<=//)[^/\s]*@")
# A query parameter (or a connection string's ``;Name=value``) whose name says it holds a secret:
# ?password=, &access_token=, &sig= (a SAS), &X-Amz-Signature=, ;AccountKey=... Its value runs to
# the next parameter, fragment, space or quote. A harmless one masked too (?keyspace=) costs
# nothing; a secret shown costs the secret.
_QUERY_SECRET = re.compile(
    r"(?i)([?&;][^=&;#?\s'\"<>]*(?:pass|pwd|token|secret|key|sig|credential|auth)"
    r"[^=&;#?\s'\"<>]*=)([^&;#\s'\"<>]+)"
)
_MIN_SECRET = 4  # shorter values would redact ordinary words
_masked: set[str] = set()
_lock = threading.Lock()


def mask(*secrets: str | None) -> None:
    """Redact `secrets` from every message and exception chain from now on (process-wide).

    For values the library is handed (a service principal's client secret) that an SDK may
    quote back. Values shorter than four characters are ignored.
    """
    with _lock:
        _masked.update(s for s in secrets if s and len(s) >= _MIN_SECRET)


def query_secrets(uri: str) -> tuple[str, ...]:
    """Return the values of `uri`'s query parameters that `redact` masks, as written.

    For `mask`: an SDK may quote such a value apart from its URI (or percent-decoded).
    """
    return tuple(found.group(2) for found in _QUERY_SECRET.finditer(uri))


def redact(text: str) -> str:
    """Return `text` without a URI's secrets, and without masked values.

    A URI's user info (``//user:password@``) becomes ``***@``; the value of a query parameter
    named for a secret (``?password=``, ``&token=``, ``&sig=``, ``;AccountKey=``...) becomes
    ``***``.
    """
    text = _USERINFO.sub("***@", text)
    text = _QUERY_SECRET.sub(r"\1***", text)
    with _lock:
        secrets = sorted(_masked, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


class RedactedSdkError(Exception):
    """What an SDK raised, as text with its secrets redacted: it stands in for the original.

    Its message is ``<module>.<type>: <redacted text>`` for each exception of the original's
    chain, one per line, outermost first.
    """


def _text(error: BaseException) -> str:
    try:
        parts = [str(error), *(str(note) for note in getattr(error, "__notes__", ()))]
    except Exception:  # noqa: BLE001 - an SDK's __str__ may itself fail
        parts = [repr(error.args)]
    return "\n".join(parts)


def _holds_secret(error: BaseException) -> bool:
    for link in exception_chain(error):
        texts = [_text(link), *(repr(arg) for arg in link.args)]
        if any(redact(text) != text for text in texts):
            return True
    return False


def safe_cause(error: BaseException) -> BaseException:
    """Return `error` if no exception of its chain holds a secret, else a redacted copy.

    The copy (`RedactedSdkError`) has no chain of its own: the originals stay unreachable.
    """
    if not _holds_secret(error):
        return error
    lines = [
        f"{type(link).__module__}.{type(link).__qualname__}: {redact(_text(link))}"
        for link in exception_chain(error)
    ]
    return RedactedSdkError("\n".join(lines))


def scrub(error: BaseException) -> None:
    """Cut the SDK's exceptions holding secrets off `error`'s chain (in place), keeping copies.

    For our own error raised ``from`` an SDK exception (`error` itself is not changed otherwise:
    its message is ours, redacted when made).
    """
    links = [link for link in (error.__cause__, error.__context__) if link is not None]
    if not any(_holds_secret(link) for link in links):
        return
    cause = error.__cause__ if error.__cause__ is not None else error.__context__
    error.__cause__ = None if cause is None else safe_cause(cause)
    error.__context__ = None
    error.__suppress_context__ = True
