"""The Azure ML backend (SDK v1, azureml-core) behind the ports.

>>> from aml_promotion.adapters.azureml import AzureMLBackend  # doctest: +SKIP
>>> backend = AzureMLBackend.from_config()                     # doctest: +SKIP

`AzureMLBackend` wraps an `azureml.core.Workspace`; its constructors cover the ways users get
one: inside a run (`from_run_context`), from a ``config.json`` or the ``aml_arm_config.json``
the aml-workspace action writes (`from_config`), and from the ``AZURE_CREDENTIALS`` secret
(`from_service_principal`).

What it does differently from calling the SDK plainly, and why:

- **Few requests.** A metric is read by name, one request each: never the 1 + N requests of
  ``get_metrics()`` for a run that logged N metrics. Runs are loaded without rehydrating
  pipeline and step runs (which costs 2-3 requests more each), experiments are cached by id,
  and models are listed with ``expand=False`` (one request, not 1 + 2 per model).
- **Our retries, not the SDK's.** The SDK retries in up to three nested layers (one 5xx became 16
  requests and 20-33 s; one 429, ~224 s). While an adapter call is in flight those are switched
  off, process-wide, so one failure is one request; the adapter retries transient failures
  itself (`RetryPolicy`), bounded in attempts and time, honouring Retry-After.
- **No blind re-registration.** A registration that failed transiently may have been committed
  (the plain SDK then registers the run twice); before registering again the adapter looks the
  version up by run.
- **Errors translated.** SDK exceptions become `RunNotFoundError`, `RegistryError`,
  `TransientRegistryError`... with the SDK's exception as ``__cause__``.

Azure ML SDK v1 is past Microsoft's end of support (30 June 2026); on SDK v2 use
`aml_promotion.adapters.azureml_v2.AzureMLV2Backend` (``--backend azureml-v2``).
"""

from __future__ import annotations

from aml_promotion.adapters._azure_credentials import (
    AzureCloud,
    ServicePrincipalCredentials,
    parse_credentials,
)
from aml_promotion.adapters._workspace_config import WorkspaceConfig, find_workspace_config

# Not API (outside __all__), but importable from here as it always was.
from aml_promotion.adapters._workspace_config import workspace_target as workspace_target
from aml_promotion.adapters.azureml._backend import AzureMLBackend

__all__ = [
    "AzureCloud",
    "AzureMLBackend",
    "ServicePrincipalCredentials",
    "WorkspaceConfig",
    "find_workspace_config",
    "parse_credentials",
]
