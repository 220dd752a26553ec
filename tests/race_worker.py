"""What each process of a race test runs: wait for the start signal, then promote one candidate.

A module of its own so that spawned processes import only this, not a test module.
"""

from __future__ import annotations

from typing import Any

from aml_promotion import RetryPolicy, promote


def promote_one(args: tuple[str, str, str, dict[str, Any], Any]) -> dict[str, Any]:
    """Promote `run_id` through an MLflow backend at `uri` once `start` is set."""
    uri, experiment, run_id, settings, start = args
    from aml_promotion.adapters.mlflow import MlflowBackend  # noqa: PLC0415 - in the child

    backend = MlflowBackend(uri, retry=RetryPolicy(attempts=8, timeout=60.0, wait_initial=0.05))
    start.wait()
    result = promote(experiment_name=experiment, run_id=run_id, settings=settings, backend=backend)
    return {
        "run_id": run_id,
        "version": None if result.model is None else result.model.version,
        "superseded_by": None if result.superseded_by is None else result.superseded_by.version,
        "champion_version": result.champion_version,
        "notes": list(result.decision.notes),
    }
