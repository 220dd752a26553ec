"""Inside an Azure ML job: which job this is, from the variables Azure ML sets in it.

Azure ML starts a job's process with its run id in the environment: ``MLFLOW_RUN_ID`` (with
``MLFLOW_TRACKING_URI`` and ``MLFLOW_EXPERIMENT_ID``/``_NAME``, read by MLflow and by
azureml-mlflow, whose ``_is_remote()`` tests ``MLFLOW_RUN_ID`` or ``AZUREML_RUN_ID``) and
``AZUREML_RUN_ID`` (read by azureml-core's run context and by azureml-mlflow). In SDK v2 a
job's run id is its name, so either names the job (a pipeline's step: the step's own job).
The workspace is ``AZUREML_ARM_SUBSCRIPTION``, ``AZUREML_ARM_RESOURCEGROUP`` and
``AZUREML_ARM_WORKSPACE_NAME``. No SDK names a variable for the parent pipeline (there is no
``AZUREML_ROOT_RUN_ID`` in azure-ai-ml, azureml-mlflow or azureml-core): the parent is read
from the step's run-history record. See docs/azureml-pipeline-step.md.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["JOB_RUN_ID_VARIABLES", "current_job_name"]

JOB_RUN_ID_VARIABLES = ("MLFLOW_RUN_ID", "AZUREML_RUN_ID")
"""The variables that name the job this process runs in, the first set wins."""


def current_job_name(environ: Mapping[str, str]) -> str | None:
    """Return the name of the Azure ML job this process runs in, or None outside a job."""
    for variable in JOB_RUN_ID_VARIABLES:
        value = environ.get(variable, "").strip()
        if value:
            return value
    return None
