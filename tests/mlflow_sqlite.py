"""The marks of a test module outside tests/integration/mlflow that opens an MLflow sqlite store."""

from __future__ import annotations

import pytest

MARKS = [
    pytest.mark.mlflow,
    # MLflow 3's sqlite store uses a SQLAlchemy 2.1 deprecation (when a store opens).
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated"),
]
"""The `mlflow` mark, and the one warning MLflow's sqlite store raises under SQLAlchemy 2.1."""
