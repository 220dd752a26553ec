"""GitHub Actions: workflow commands, step outputs, the step summary, and keeping secrets out.

Everything here is plain text formatting and file appends; nothing is done unless the runner's
variables say the process runs in GitHub Actions:

- ``GITHUB_ACTIONS=true``: workflow commands (``::add-mask::``, ``::error::``, ...) are written;
- ``GITHUB_OUTPUT``: step outputs are appended to that file (delimiter syntax, so any value is
  safe, multi-line ones included);
- ``GITHUB_STEP_SUMMARY``: Markdown is appended to that file.

Workflow commands go to **stderr**: the runner reads commands from both streams (each has its own
output manager in the runner's script handler), and stdout stays free for what the user asked for
(one JSON document with ``--json``).

Secrets: every value found in ``AZURE_CREDENTIALS`` is registered with ``::add-mask::`` before
anything else is written, and, in or out of GitHub Actions, the `Redactor` replaces it with
``***`` in every line the command line writes (a defence in depth: no message is meant to hold one).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

import attrs

__all__ = [
    "CREDENTIALS_VARIABLE",
    "GitHubActions",
    "Redactor",
    "command",
    "credential_secrets",
    "default_model_name",
    "escape_data",
    "escape_property",
    "output_entry",
    "parse_outputs",
]

CREDENTIALS_VARIABLE = "AZURE_CREDENTIALS"
MASK = "***"
# Shorter values are not secrets worth the damage: masking "1" would garble every number in a log.
SECRET_MIN_LENGTH = 4
# A quoted JSON string after a colon: the values of a document too broken to parse.
_QUOTED_VALUE = re.compile(r':\s*"((?:[^"\\]|\\.)*)"')


def escape_data(text: str) -> str:
    """Escape the message of a workflow command (``%``, CR and LF), as the runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value of a workflow command: its data escapes, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | None) -> str:
    """Return one workflow command line (without its newline).

    Args:
        name: The command: ``error``, ``warning``, ``notice``, ``add-mask``...
        message: Its message; escaped here.
        **properties: Properties such as ``title`` or ``file``; None ones are left out.

    Returns:
        For example ``::error title=Bad input::line one%0Aline two``.
    """
    shown = ",".join(
        f"{key}={escape_property(value)}" for key, value in properties.items() if value is not None
    )
    return f"::{name}{' ' + shown if shown else ''}::{escape_data(message)}"


def output_entry(name: str, value: str, *, delimiter: str | None = None) -> str:
    """Return the lines that set step output `name` in the ``GITHUB_OUTPUT`` file.

    The heredoc-style syntax (``name<<DELIMITER``) takes any value, newlines included; the
    delimiter is random, so a value cannot end the entry early.

    Args:
        name: The output's name.
        value: Its value.
        delimiter: The delimiter to use (for tests); a fresh random one by default.

    Raises:
        ValueError: The delimiter occurs in the name or the value.
    """
    delimiter = delimiter or f"ghadelimiter_{uuid.uuid4()}"
    if delimiter in name or delimiter in value:
        msg = f"the output {name!r} contains its delimiter"
        raise ValueError(msg)
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def parse_outputs(text: str) -> dict[str, str]:
    """Read a ``GITHUB_OUTPUT`` file as the runner does: the inverse of `output_entry`.

    Both syntaxes are read: ``name=value`` and ``name<<DELIMITER`` ... ``DELIMITER``; a later
    entry for the same name wins.

    Raises:
        ValueError: An entry is malformed or its delimiter never comes.
    """
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            for body in lines:
                if body == delimiter:
                    break
                value.append(body)
            else:
                msg = f"the output {name!r} has no closing delimiter"
                raise ValueError(msg)
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, single = line.split("=", 1)
            outputs[name] = single
        else:
            msg = f"not an output entry: {line!r}"
            raise ValueError(msg)
    return outputs


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _is_secret(value: str) -> bool:
    # The --sdk-auth document also lists public endpoints (https://management.azure.com/...):
    # masking those would only make logs unreadable.
    text = value.strip()
    return len(text) >= SECRET_MIN_LENGTH and not text.startswith(("https://", "http://"))


def credential_secrets(raw: str | None) -> tuple[str, ...]:
    """Return the values to keep out of every log from an ``AZURE_CREDENTIALS`` document.

    Every string value counts (``clientId``, ``clientSecret``, ``subscriptionId``, ``tenantId``,
    and whatever else the document holds) except URLs and very short values. A document that is
    not valid JSON still yields its quoted values, so a typo in the secret does not print it.

    Args:
        raw: The variable's value, or None.

    Returns:
        The values, longest first (so a value containing another is replaced whole), each line
        of a multi-line value separately.
    """
    if not raw or not raw.strip():
        return ()
    try:
        found: Iterable[str] = list(_strings(json.loads(raw)))
    except ValueError:
        found = [_json_unquote(match) for match in _QUOTED_VALUE.findall(raw)]
    lines = {line.strip() for value in found for line in value.splitlines()}
    return tuple(sorted((line for line in lines if _is_secret(line)), key=lambda s: (-len(s), s)))


def _json_unquote(text: str) -> str:
    """Return the value of the body of a JSON string literal, or the body itself if malformed."""
    try:
        value = json.loads(f'"{text}"')
    except ValueError:
        return text
    return value if isinstance(value, str) else text


@attrs.frozen
class Redactor:
    """Replace every secret value in a text with ``***``."""

    secrets: tuple[str, ...] = ()

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


@attrs.define
class GitHubActions:
    """Where GitHub Actions' workflow commands, outputs and summary go (nowhere outside it).

    Attributes:
        stream: Where workflow commands are written (the command line's stderr).
        commands: Whether to write workflow commands (``GITHUB_ACTIONS=true``).
        output_file: The ``GITHUB_OUTPUT`` file, if set.
        summary_file: The ``GITHUB_STEP_SUMMARY`` file, if set.
        redact: Applied to every command message, output and summary (never to a mask).
    """

    stream: TextIO
    commands: bool = False
    output_file: Path | None = None
    summary_file: Path | None = None
    redact: Redactor = attrs.field(factory=Redactor)

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], stream: TextIO, *, redact: Redactor | None = None
    ) -> GitHubActions:
        """Return the GitHub Actions the environment describes (inactive outside GitHub)."""

        def path(name: str) -> Path | None:
            value = environ.get(name, "")
            return Path(value) if value.strip() else None

        return cls(
            stream=stream,
            commands=environ.get("GITHUB_ACTIONS", "").lower() == "true",
            output_file=path("GITHUB_OUTPUT"),
            summary_file=path("GITHUB_STEP_SUMMARY"),
            redact=redact or Redactor(),
        )

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def mask(self, values: Iterable[str]) -> None:
        """Register `values` as secrets with the runner, which then hides them in every log."""
        if self.commands:
            for value in values:
                self._write(command("add-mask", value))

    def annotate(
        self, level: str, message: str, *, title: str | None = None, file: str | None = None
    ) -> None:
        """Write an ``error``, ``warning`` or ``notice`` annotation."""
        if self.commands:
            self._write(
                command(
                    level,
                    self.redact(message),
                    title=None if title is None else self.redact(title),
                    file=file,
                )
            )

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Append step outputs to the ``GITHUB_OUTPUT`` file."""
        if self.output_file is not None:
            with self.output_file.open("a", encoding="utf-8") as handle:
                for name, value in outputs.items():
                    handle.write(output_entry(name, self.redact(value)))

    def add_summary(self, markdown: str) -> None:
        """Append Markdown to the job's step summary."""
        if self.summary_file is not None:
            with self.summary_file.open("a", encoding="utf-8") as handle:
                handle.write(self.redact(markdown).rstrip("\n") + "\n\n")


def default_model_name(environ: Mapping[str, str]) -> str | None:
    """Return ``<repo>-<branch>`` from GitHub Actions' variables, sanitized into a model name.

    On a pull request (``GITHUB_REF`` is ``refs/pull/N/merge``) the branch is the one the pull
    request targets (``GITHUB_BASE_REF``): a dry run then answers "would this beat the model of
    the branch it merges into?", not "...of a model named after the pull request's number".

    Returns:
        The name, or None when the variables are not set.
    """
    repository = environ.get("GITHUB_REPOSITORY", "").rsplit("/", 1)[-1]
    branch = environ.get("GITHUB_REF_NAME") or environ.get("GITHUB_REF", "").removeprefix(
        "refs/heads/"
    )
    base = environ.get("GITHUB_BASE_REF", "").strip()
    if base and environ.get("GITHUB_REF", "").startswith("refs/pull/"):
        branch = base
    if not repository:
        return None
    raw = f"{repository}-{branch}" if branch else repository
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", raw)
    cleaned = re.sub(r"^[^A-Za-z0-9]+", "", cleaned)[:255].rstrip("-")
    return cleaned or None
