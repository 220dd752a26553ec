"""Without the azureml-v2 extra: clear advice, never an ImportError traceback."""

from __future__ import annotations

import importlib.util
import io
import re
from pathlib import Path

import pytest

from aml_promotion._cli import BackendChoice, run
from aml_promotion.exceptions import BackendNotInstalledError

ROOT = Path(__file__).resolve().parents[2]


def _sdk_installed() -> bool:
    try:
        return importlib.util.find_spec("azure.ai.ml") is not None
    except ModuleNotFoundError:
        return False


needs_no_sdk = pytest.mark.skipif(_sdk_installed(), reason="azure-ai-ml is installed here")


@needs_no_sdk
def test_building_the_backend_says_which_extra_to_install() -> None:
    """AzureMLV2Backend without azure-ai-ml: BackendNotInstalledError naming the extra."""
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    with pytest.raises(BackendNotInstalledError, match=r"aml-promotion\[azureml-v2\]") as info:
        AzureMLV2Backend(object())
    assert info.value.extra == "azureml-v2"


@needs_no_sdk
def test_the_cli_exits_2_with_the_install_line() -> None:
    """aml-promote --backend azureml-v2 without the extra: exit 2 and the pip line."""
    out, err = io.StringIO(), io.StringIO()
    code = run(
        ["--backend=azureml-v2", "--experiment-name=e", "--run-id=r"],
        environ={},
        stdout=out,
        stderr=err,
        cwd=ROOT,
    )
    assert code == 2
    assert 'pip install "aml-promotion[azureml-v2]"' in err.getvalue()


def test_every_cli_backend_is_an_extra_the_action_can_install() -> None:
    """The action installs ``.[<backend>]``: each backend the CLI knows is an extra by that name."""
    # tomllib is 3.11+: read the one table by hand (a key per line, as the file is written).
    text = (ROOT / "pyproject.toml").read_text()
    table = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    extras = set(re.findall(r"^([A-Za-z0-9_-]+) = \[", table, flags=re.MULTILINE))
    assert {choice.value for choice in BackendChoice} <= extras
    action = (ROOT / "action.yml").read_text()
    assert "azureml|azureml-v2|mlflow) ;;" in action
