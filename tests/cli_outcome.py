"""What one finished ``aml-promote`` gave: its exit code and both streams."""

from __future__ import annotations

import json
from typing import Any

import attrs


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
