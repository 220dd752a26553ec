"""The Azure ML backend for SDK v2 (azure-ai-ml): jobs, the v2 model registry, MLflow metrics.

>>> from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # doctest: +SKIP
>>> backend = AzureMLV2Backend.from_environment(                    # doctest: +SKIP
...     subscription_id="...", resource_group="ml-rg", workspace_name="ml-ws")

In Azure ML SDK v2 a training run is a **job**; its metrics and files are read through the
workspace's MLflow tracking endpoint (the ``azureml-mlflow`` plugin), and a model is registered
from the job's output path (``azureml://jobs/<job>/outputs/artifacts/paths/<path>``) with
``ml_client.models.create_or_update``.

- **Candidate.** ``run_id`` is the job's name. A pipeline job resolves to its child step named
  ``pipeline_child_run_name`` (the node name or the display name; exactly one must match); a
  sweep job to its best trial (``best_child_run_id``), else to the best completed trial by the
  sweep's primary metric and goal.
- **Metrics.** One MLflow ``runs/get`` returns the latest value of every metric; the history of a
  metric is read (one request) only when a rule's aggregate needs the whole series.
- **Registry.** The latest version in one request (``label="latest"``); ``tag:``, ``version:``
  and the v2 model ``stage`` (``stage:Production``); archived versions are never baselines (the
  service lists active versions only). Aliases are MLflow's: asking for one is a settings error.
- **Registries.** `AzureMLV2Backend.for_registry` (or a registry ``MLClient``) is the target of
  a promotion across environments: a workspace version (``candidate_version=``) is copied in
  with one ``create_or_update`` from its ``azureml://`` path, found again by its
  ``promotion.source.key``; the registry's champion is compared by its tags.
- **Our retries, not the SDKs'.** azure-core and MLflow retry 5xx and 429 on their own; while an
  adapter call is in flight both are switched off, and the adapter retries under its
  `RetryPolicy`. A registration is never sent again blindly: the version is first looked up
  by job (a lost answer may hide a committed registration).
"""

from __future__ import annotations

from aml_promotion.adapters.azureml_v2._backend import AzureMLV2Backend

__all__ = ["AzureMLV2Backend"]
