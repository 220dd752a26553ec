"""MLflow as a backend: runs from its tracking store, versions in its model registry.

>>> from aml_promotion import promote
>>> from aml_promotion.adapters.mlflow import MlflowBackend
>>> backend = MlflowBackend("sqlite:///mlflow.db")  # doctest: +SKIP
>>> promote(experiment_name="train", run_id=run_id, backend=backend,
...         settings={"model_name": "churn", "metrics_max": ["auc"]})  # doctest: +SKIP

The same code talks to a local sqlite store, any MLflow tracking server, Databricks, or an
Azure ML workspace's MLflow endpoint: only the tracking URI changes. MLflow is imported when a
backend is created, never when this module is imported; without the ``[mlflow]`` extra that
raises `BackendNotInstalledError`.

How MLflow's concepts map onto the ports:

- a run is an MLflow run; a "pipeline step" is a nested (child) run, found by its run name;
- a model version's id is ``<name>/<version>``; its run is the version's ``run_id``;
- what MLflow has no field for (properties, framework, datasets, CPU and memory) is kept in
  the version's tags (see ``backend.registry.register``);
- a local model file (no run) is logged into a run the adapter creates in the experiment
  `LOCAL_EXPERIMENT`, with the candidate's metrics, so it can serve as a baseline later.
"""

from __future__ import annotations

from aml_promotion.adapters.mlflow._backend import DEFAULT_TRACKING_URI, MlflowBackend
from aml_promotion.adapters.mlflow._http import _http_retries_off as _http_retries_off

# The TAG_* names are importable from here as they were from the module, though not in __all__.
from aml_promotion.adapters.mlflow._registry import (  # noqa: F401
    LOCAL_EXPERIMENT,
    LOCAL_FOLDER,
    TAG_CPU_CORES,
    TAG_DATASETS,
    TAG_FRAMEWORK,
    TAG_FRAMEWORK_VERSION,
    TAG_MEMORY_GB,
    TAG_SAMPLE_INPUT,
    TAG_SAMPLE_OUTPUT,
)

__all__ = ["DEFAULT_TRACKING_URI", "LOCAL_EXPERIMENT", "LOCAL_FOLDER", "MlflowBackend"]
