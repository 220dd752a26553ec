"""`AzureMLSession`: what the parts of `AzureMLBackend` share: the workspace, the gateway.

And the run this code runs in, when it runs inside one (read once, on first use).
"""

from __future__ import annotations

from typing import Any

import attrs

from aml_promotion.adapters._gateway import SdkGateway
from aml_promotion.exceptions import RunNotFoundError

__all__ = ["AzureMLSession", "context_run"]


@attrs.define(kw_only=True)
class AzureMLSession:
    """One workspace, shared by the backend's parts (`Runs`, `Registry`)."""

    workspace: Any
    """The ``azureml.core.Workspace``."""
    gateway: SdkGateway
    """Every SDK call passes here: retried, its errors translated."""
    context_run: Any = None
    """The run this code runs in, once known (`from_run_context` gives it at once)."""

    def current_run(self) -> Any:
        """Return the run this code runs in, checked to be in this workspace.

        Raises:
            RunNotFoundError: Not inside a run, or inside a run of another workspace.
        """
        if self.context_run is None:
            run = context_run(self.gateway)
            workspace = run.experiment.workspace
            mine = self.workspace
            if (workspace.subscription_id, workspace.resource_group, workspace.name) != (
                mine.subscription_id,
                mine.resource_group,
                mine.name,
            ):
                raise RunNotFoundError(
                    f"the current run {run.id!r} is in workspace {workspace.name!r}, not in "
                    f"{mine.name!r}: pass experiment_name and run_id",
                    run_id=run.id,
                )
            self.context_run = run
        return self.context_run


def context_run(gateway: SdkGateway) -> Any:
    """Return the run this code runs in.

    Raises:
        RunNotFoundError: This code is not running inside an Azure ML run.
    """
    from azureml.core import Run  # noqa: PLC0415 - the SDK is lazy
    from azureml.core.run import _OfflineRun  # noqa: PLC0415

    run = gateway.call("reading the current run", lambda: Run.get_context(allow_offline=True))
    if isinstance(run, _OfflineRun):
        msg = (
            "there is no current run: this code is not running inside an Azure ML run, so "
            "experiment_name and run_id are needed"
        )
        raise RunNotFoundError(msg)
    return run
