"""A tiny MLflow pyfunc model for the tests: which model answered shows in its predictions.

Loading it back with ``mlflow.pyfunc.load_model("models:/...")`` is the tests' oracle that a
registered version is usable. It needs numpy and pandas (the ``test`` dependency group).
"""

from __future__ import annotations

import warnings

import mlflow
import pandas as pd

with warnings.catch_warnings():
    # Importing pyfunc infers a schema from MLflow's own agent types, and warns about it; a
    # PythonModel subclass without type hints on predict is warned about when defined.
    warnings.filterwarnings("ignore", ".*Any type hint is inferred as AnyType", UserWarning)
    warnings.filterwarnings("ignore", ".*Add type hints to the `predict` method", UserWarning)
    import mlflow.pyfunc

    class AddK(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
        """Adds `k` to the column ``x``."""

        def __init__(self, k: int) -> None:
            self.k = k

        # Untyped on purpose: MLflow infers a schema from predict's type hints, and warns on Any.
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]  # noqa: ARG002
            return [int(x) + self.k for x in model_input["x"]]


def predict(uri: str) -> list[int]:
    """Load `uri` with MLflow's pyfunc loader and predict x = 1, 2."""
    return list(mlflow.pyfunc.load_model(uri).predict(pd.DataFrame({"x": [1, 2]})))
