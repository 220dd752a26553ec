"""``--candidate-version`` and ``--target-registry``: checked before anything is built."""

from __future__ import annotations

import pytest

from aml_promotion._cli import Arguments
from aml_promotion.exceptions import UsageError


def test_a_candidate_version_and_a_target_registry_are_read() -> None:
    """Both are kept; naming the registry makes the default backend azureml-v2."""
    args = Arguments.parse(
        ["--candidate-version=churn-dev:7", "--target-registry=prod"],
        environ={"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"},
    )
    assert (args.candidate_version, args.target_registry) == ("churn-dev:7", "prod")
    assert args.backend.value == "azureml-v2"
    assert not args.local


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--target-registry=prod"], "goes with --candidate-version"),
        (["--candidate-version=churn:1", "--run-id=job"], "not with --run-id"),
        (["--candidate-version=churn:1", "--metrics-file=m.json"], "not with --metrics-file"),
        (["--candidate-version= "], "--candidate-version is empty"),
        (["--candidate-version=c:1", "--target-registry="], "--target-registry is empty"),
        (
            ["--backend=mlflow", "--candidate-version=c:1", "--target-registry=prod"],
            "--target-registry is for --backend azureml-v2",
        ),
    ],
)
def test_options_that_cannot_work_together_are_refused(argv: list[str], words: str) -> None:
    """Each bad combination is a usage error that names the option."""
    with pytest.raises(UsageError, match=words):
        Arguments.parse(argv)
