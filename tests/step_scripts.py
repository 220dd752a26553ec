"""Running a CI step's script as its runner does (action.yml, promote.yml): bash, a stand-in CLI."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
"""A template expression, ``${{ inputs.name }}``: the same syntax in GitHub and Azure Pipelines."""


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping the YAML file at `path` holds (an action, a step template)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def write_fake_cli(folder: Path, *, env: Mapping[str, str] | None = None) -> Path:
    """Write an `aml-promote` into `folder`/bin that prints what it was given as JSON.

    It prints ``{"argv": [...]}``, and for each key of `env` the value of the environment
    variable it names (null when unset). Returns the bin folder, to put on ``PATH``.
    """
    bin_folder = folder / "bin"
    bin_folder.mkdir()
    script = bin_folder / "aml-promote"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"names = {dict(env or {})!r}\n"
        "seen = {key: os.environ.get(name) for key, name in names.items()}\n"
        "print(json.dumps({'argv': sys.argv[1:], **seen}))\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bin_folder


def run_bash(
    script: str, env: Mapping[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `script` with ``bash -c`` in `env` alone; skip the test where there is no bash."""
    bash = shutil.which("bash")
    if bash is None:  # pragma: no cover - every CI image has bash
        pytest.skip("bash is not installed")
    return subprocess.run(
        [bash, "-c", script], env=dict(env), cwd=cwd, capture_output=True, text=True, check=False
    )
