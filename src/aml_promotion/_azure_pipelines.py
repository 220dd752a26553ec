"""Azure DevOps Pipelines: output variables, the build summary, error issues; nothing injected.

Nothing is done unless the agent's variable says the process runs in a pipeline
(``TF_BUILD=True``). Then:

- every output is set with ``##vso[task.setvariable variable=NAME;isOutput=true]VALUE``: later
  steps read ``$(STEP.NAME)``, later jobs ``dependencies.JOB.outputs['STEP.NAME']``;
- the decision's Markdown is written to a file under ``AGENT_TEMPDIRECTORY`` (else the system's
  temporary folder) and attached to the run's summary with ``##vso[task.uploadsummary]PATH``;
- errors and warnings are ``##vso[task.logissue type=error]MESSAGE``;
- the values of ``AZURE_CREDENTIALS``, if set, are registered with ``##vso[task.setsecret]``
  before anything else is written.

Logging commands go to **stdout**: the agent reads them there (and ``--json`` is meant for
scripts, so with ``--json`` and ``TF_BUILD`` the commands go to stderr, which the agent reads
too, and stdout keeps its one document).

Injection: the agent finds ``##vso[`` **anywhere** in a line it reads (not only at its start)
and unescapes ``%3B`` (``;``), ``%0D``, ``%0A``, ``%5D`` (``]``) and ``%AZP25`` (``%``) in
properties and data. So `escape` turns those characters into their escapes (``%`` first), a
value is never more than one line, and `neutralize` breaks ``##vso[`` and ``##[`` in every
other line written in a pipeline (a metric named ``##vso[task.complete result=Failed]``
shows as text).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO

import attrs

from aml_promotion._github import Redactor

__all__ = ["AzurePipelines", "command", "escape", "neutralize", "parse_command", "unescape"]

# In the agent's order: it unescapes these first, then "%AZP25" to "%".
_ESCAPES = ((";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D"))
_PERCENT = "%AZP25"
_PREFIX = "##vso["
# The run's summary page titles an uploaded section with its file's name.
SUMMARY_NAME = "Model promotion.md"


def escape(text: str) -> str:
    """Escape a property value or the data of a logging command, as the agent unescapes it."""
    text = text.replace("%", _PERCENT)
    for token, replacement in _ESCAPES:
        text = text.replace(token, replacement)
    return text


def unescape(text: str) -> str:
    """Return what the agent reads from an escaped value: the inverse of `escape`."""
    for token, replacement in _ESCAPES:
        text = text.replace(replacement, token)
    return text.replace(_PERCENT, "%")


def neutralize(text: str) -> str:
    """Return `text` with no logging or formatting command in it (``##vso[``, ``##[``).

    A space after ``##`` is enough: the agent looks for the exact prefix ``##vso[``, and the
    log viewer for ``##[`` (a zero-width character would not do: .NET's culture-aware search
    ignores it).
    """
    return text.replace(_PREFIX, "## vso[").replace("##[", "## [")


def command(name: str, data: str = "", **properties: str) -> str:
    """Return one logging command line (without its newline).

    Args:
        name: ``task.setvariable``, ``task.logissue``, ``task.uploadsummary``...
        data: The command's data (after ``]``); escaped here.
        **properties: Its properties (``variable``, ``isOutput``, ``type``...); escaped here.

    Returns:
        For example ``##vso[task.setvariable variable=promoted;isOutput=true]true``.
    """
    shown = ";".join(f"{key}={escape(value)}" for key, value in properties.items())
    return f"{_PREFIX}{name}{' ' + shown if shown else ''}]{escape(data)}"


@attrs.frozen(kw_only=True)
class ParsedCommand:
    """A logging command as the agent reads it (for tests and `parse_command`)."""

    name: str
    properties: Mapping[str, str]
    data: str


def parse_command(line: str) -> ParsedCommand | None:
    """Read one line as the agent does: the first ``##vso[`` anywhere in it, up to ``]``.

    Returns:
        The command, or None when the agent would see none in `line`.
    """
    start = line.find(_PREFIX)
    if start < 0:
        return None
    end = line.find("]", start)
    if end < 0:
        return None
    info = line[start + len(_PREFIX) : end]
    name, _, rest = info.partition(" ")
    if len([part for part in name.split(".") if part]) != 2:  # noqa: PLR2004 - area.event
        return None
    properties: dict[str, str] = {}
    for item in (part for part in rest.split(";") if part):
        key, equals, value = item.partition("=")
        if key and equals and value:
            properties[key] = unescape(value)
    return ParsedCommand(name=name, properties=properties, data=unescape(line[end + 1 :]))


@attrs.define
class AzurePipelines:
    """Where Azure Pipelines' logging commands and the summary go (nowhere outside a pipeline).

    Attributes:
        stream: Where logging commands are written.
        active: Whether the process runs in Azure Pipelines (``TF_BUILD=True``).
        summary_folder: Where the summary file is written.
        redact: Applied to every value, message and summary.
    """

    stream: TextIO
    active: bool = False
    summary_folder: Path = attrs.field(factory=lambda: Path(tempfile.gettempdir()))
    redact: Redactor = attrs.field(factory=Redactor)

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], stream: TextIO, *, redact: Redactor | None = None
    ) -> AzurePipelines:
        """Return the pipeline the environment describes (inactive outside Azure Pipelines)."""
        folder = environ.get("AGENT_TEMPDIRECTORY", "").strip()
        return cls(
            stream=stream,
            active=environ.get("TF_BUILD", "").strip().lower() == "true",
            summary_folder=Path(folder) if folder else Path(tempfile.gettempdir()),
            redact=redact or Redactor(),
        )

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def mask(self, values: Iterable[str]) -> None:
        """Register `values` as secrets with the agent, which then hides them in every log."""
        if self.active:
            for value in values:
                self._write(command("task.setsecret", value))

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        """Set each output as an output variable of this step."""
        if self.active:
            for name, value in outputs.items():
                self._write(
                    command("task.setvariable", self.redact(value), variable=name, isOutput="true")
                )

    def log_issue(self, level: str, message: str) -> None:
        """Log an ``error`` or ``warning`` issue (shown on the run's summary page)."""
        if self.active:
            self._write(command("task.logissue", self.redact(message), type=level))

    def add_summary(self, markdown: str) -> Path | None:
        """Write `markdown` to a file and attach it to the run's summary; return the file."""
        if not self.active:
            return None
        self.summary_folder.mkdir(parents=True, exist_ok=True)
        # A folder of its own per call: two promotions in one job add two sections, each titled
        # by the file's name.
        folder = self.summary_folder / f"aml-promotion-{uuid.uuid4().hex[:12]}"
        folder.mkdir()
        path = folder / SUMMARY_NAME
        path.write_text(self.redact(markdown), encoding="utf-8")
        self._write(command("task.uploadsummary", os.fspath(path.resolve())))
        return path
