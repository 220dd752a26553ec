"""MLflow as a backend: runs from its tracking store, versions in its model registry."""

from __future__ import annotations

# The TAG_* names are importable from here as before the package, though not in __all__.
from aml_promotion.adapters.mlflow._backend import (  # noqa: F401
    DEFAULT_TRACKING_URI,
    LOCAL_EXPERIMENT,
    LOCAL_FOLDER,
    TAG_CPU_CORES,
    TAG_DATASETS,
    TAG_FRAMEWORK,
    TAG_FRAMEWORK_VERSION,
    TAG_MEMORY_GB,
    TAG_SAMPLE_INPUT,
    TAG_SAMPLE_OUTPUT,
    MlflowBackend,
)
from aml_promotion.adapters.mlflow._backend import _http_retries_off as _http_retries_off

__all__ = ["DEFAULT_TRACKING_URI", "LOCAL_EXPERIMENT", "LOCAL_FOLDER", "MlflowBackend"]
