"""What one ``aml-promote`` subprocess did, and the environment it runs in."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import attrs

from aml_promotion._github import parse_outputs
from cli_outcome import Outcome

# Kept from the machine's environment; everything else must be given by the test.
# PYTHONPATH too: the subprocess must import the same aml_promotion as the tests do.
_KEPT = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")


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


Cli = Callable[..., CliRun]


def base_environment(home: Path) -> dict[str, str]:
    """The machine's locale, PATH and PYTHONPATH only, and HOME in the test's scratch folder."""
    env = {name: os.environ[name] for name in _KEPT if name in os.environ}
    env["HOME"] = str(home)
    env["PYTHONIOENCODING"] = "utf-8"
    return env
