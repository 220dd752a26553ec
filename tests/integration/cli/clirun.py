"""How an ``aml-promote`` subprocess runs: the environment it is given (`CliRun`: what it did)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cli_outcome import CliRun

# Kept from the machine's environment; everything else must be given by the test.
# PYTHONPATH too: the subprocess must import the same aml_promotion as the tests do.
_KEPT = ("PATH", "PYTHONPATH", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")


Cli = Callable[..., CliRun]


def base_environment(home: Path) -> dict[str, str]:
    """The machine's locale, PATH and PYTHONPATH only, and HOME in the test's scratch folder."""
    env = {name: os.environ[name] for name in _KEPT if name in os.environ}
    env["HOME"] = str(home)
    env["PYTHONIOENCODING"] = "utf-8"
    return env
