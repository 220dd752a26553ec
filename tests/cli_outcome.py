"""What one finished ``aml-promote`` gave: its exit code, both streams, GitHub Actions' files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from aml_promotion._github import parse_outputs


@attrs.frozen
class Outcome:
    """One finished ``aml-promote`` (a subprocess, or `main()` called in the test's process)."""

    code: int
    stdout: str
    stderr: str

    @property
    def document(self) -> dict[str, Any]:
        """Stdout as the one JSON document ``--json`` promises (fails if it is anything else)."""
        value = json.loads(self.stdout)
        assert isinstance(value, dict)
        return value

    def explain(self) -> str:
        """What to show when an assertion on this run fails."""
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@attrs.frozen
class CliRun(Outcome):
    """One finished ``aml-promote``: its exit code, streams, and GitHub Actions files."""

    output_file: Path
    summary_file: Path

    @property
    def outputs(self) -> dict[str, str]:
        """The step outputs, read as the runner reads them."""
        if not self.output_file.exists():
            return {}
        return parse_outputs(self.output_file.read_text(encoding="utf-8"))

    @property
    def summary(self) -> str:
        """The step summary's Markdown."""
        return self.summary_file.read_text(encoding="utf-8") if self.summary_file.exists() else ""

    def everything(self) -> str:
        """Every byte the run wrote: both streams and both files."""
        files = [p.read_text(encoding="utf-8") for p in (self.output_file, self.summary_file)
                 if p.exists()]  # fmt: skip
        return "\n".join([self.stdout, self.stderr, *files])
