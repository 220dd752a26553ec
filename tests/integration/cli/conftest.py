"""Running ``aml-promote`` as a user does: a subprocess, with GitHub Actions' files around it.

`cli` runs ``python -m aml_promotion`` (the console script's code path: `main()` returns the
code, the wrapper exits with it) in a scratch working directory, with an environment reduced to
what the test gives: no ``GITHUB_*``, ``AZURE*`` or ``MLFLOW_*`` from the machine running the
tests, and ``HOME`` in the scratch directory (azureml-core keeps a discovery cache there).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from integration.cli.clirun import Cli, CliRun, base_environment

TIMEOUT = 120


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The working directory of the command line (a repository checkout, in GitHub Actions)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def github_files(tmp_path: Path) -> dict[str, str]:
    """The variables GitHub Actions sets for a step, with fresh output and summary files."""
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary"),
        "GITHUB_REPOSITORY": "octo-org/churn",
        "GITHUB_REF_NAME": "main",
    }


@pytest.fixture
def cli(workdir: Path, tmp_path: Path) -> Cli:
    """Run ``python -m aml_promotion ARGS`` in `workdir`; `env` adds variables."""
    home = tmp_path / "home"
    home.mkdir()

    def invoke(*args: str, env: Mapping[str, str] | None = None) -> CliRun:
        done = subprocess.run(
            [sys.executable, "-m", "aml_promotion", *args],
            cwd=workdir,
            env={**base_environment(home), **(env or {})},
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
            check=False,
        )
        return CliRun(
            code=done.returncode,
            stdout=done.stdout,
            stderr=done.stderr,
            output_file=tmp_path / "github-output",
            summary_file=tmp_path / "step-summary",
        )

    return invoke


@pytest.fixture
def write_settings(workdir: Path) -> Callable[..., Path]:
    """Write a settings file where the original action kept it: .cloud/.azure/NAME."""

    def write(settings: Mapping[str, object], name: str = "registermodel.json") -> Path:
        path = workdir / ".cloud" / ".azure" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings), encoding="utf-8")
        return path

    return write
