"""Adapters implementing the ports for real backends.

Each lives in its own module and imports its SDK lazily, when a backend is created:

- `aml_promotion.adapters.mlflow.MlflowBackend`: MLflow's model registry (``[mlflow]`` extra);
- `aml_promotion.adapters.azureml.AzureMLBackend`: Azure ML, SDK v1 (``[azureml]`` extra).
"""
