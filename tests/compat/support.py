"""What the compatibility suite shares: the MLflow store copy, outcomes, settings files."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from cli_outcome import Outcome
from mlflow_sqlite import MARKS

EXPERIMENT = "train"
# Every compatibility test module starts with these marks.
PYTESTMARK = MARKS


@attrs.define
class Store:
    """A private copy of the MLflow store, and the client that logs runs into it."""

    database: Path
    artifacts: Path
    client: Any
    experiment_id: str

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.database}"

    def add_run(
        self,
        files: Sequence[str],
        metrics: Mapping[str, float] | None = None,
        *,
        step: str | None = None,
    ) -> str:
        """Log a finished run holding `files` (and, with `step`, as a pipeline's child step).

        Returns:
            The id to promote: the run's, or with `step` its parent's.
        """
        client = self.client
        parent = None
        if step is not None:
            parent = client.create_run(self.experiment_id, run_name="pipeline").info.run_id
        tags = {} if parent is None else {"mlflow.parentRunId": parent}
        run_id = client.create_run(self.experiment_id, run_name=step, tags=tags).info.run_id
        for name, value in (metrics or {}).items():
            client.log_metric(run_id, name, value)
        source = self.artifacts / f"files-{run_id}"
        for file in files:
            path = source / file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"model of run {run_id}".encode())
        client.log_artifacts(run_id, str(source))
        client.set_terminated(run_id)
        if parent is not None:
            client.set_terminated(parent)
            return parent
        return run_id

    def versions(self, name: str) -> list[Any]:
        """Every version of `name`, lowest first (none when the model does not exist)."""
        found = self.client.search_model_versions(f"name = '{name}'")
        return sorted(found, key=lambda v: int(v.version))


Promote = Callable[..., Outcome]


def write_settings(checkout: Path, content: str | bytes | Mapping[str, object]) -> Path:
    """Put a settings file where the original action read it: .cloud/.azure/registermodel.json."""
    path = checkout / ".cloud" / ".azure" / "registermodel.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        text = content if isinstance(content, str) else json.dumps(content)
        path.write_text(text, encoding="utf-8")
    return path
