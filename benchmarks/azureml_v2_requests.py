"""HTTP requests of one promotion on Azure ML SDK v2 (jobs, the v2 registry, MLflow metrics).

One promotion: a candidate job that logged N metrics, gated on 2 of them, against a baseline
(the latest registered version, whose job also logged N metrics); the candidate wins and is
registered. The real azure-ai-ml and azureml-mlflow SDKs drive the local HTTPS emulator
(tests/integration/azureml_v2/emulator.py) on 127.0.0.1. Requests are counted on a new backend
(which reads its workspace's MLflow tracking URI once) and on the same backend's next promotion,
apart from the cloud-metadata document that azure-ai-ml fetches again on some operations (a
client-side cache miss in the SDK, not a service call of the promotion).

Run with the azureml-v2 extra installed: ``python benchmarks/azureml_v2_requests.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from integration.azureml_v2.certificate import self_signed_certificate
from integration.azureml_v2.credential import StaticCredential
from integration.azureml_v2.emulator import AzureMLV2Emulator

GATED = ("metric_00", "metric_01")


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="aml-promotion-bench-v2-"))
    cert, key = self_signed_certificate(home, days=1)
    emulator = AzureMLV2Emulator(certfile=cert, keyfile=key).start()
    # Before the SDKs are imported (azureml-mlflow reads the cloud list at import).
    os.environ.update(
        HOME=str(home),
        SSL_CERT_FILE=cert,
        REQUESTS_CA_BUNDLE=cert,
        ARM_CLOUD_METADATA_URL=emulator.metadata_url,
        AZUREML_CURRENT_CLOUD=emulator.cloud_name,
    )
    from azure.ai.ml import MLClient  # noqa: PLC0415

    from aml_promotion import promote  # noqa: PLC0415
    from aml_promotion.adapters.azureml_v2 import AzureMLV2Backend  # noqa: PLC0415

    client = MLClient(
        # A token the emulator accepts: it refuses requests without one it issued.
        StaticCredential(emulator.identity.issue("benchmark")),
        subscription_id=emulator.subscription_id,
        resource_group_name=emulator.resource_group,
        workspace_name=emulator.workspace_name,
    )
    print("| logged metrics | backend | requests | by kind |")
    print("|---|---|---|---|")
    for logged in (5, 500):
        unique = uuid.uuid4().hex[:8]
        exp, name = f"bench-{unique}", f"bench-{unique}"
        settings = {"model_name": name, "model_file_name": "model.pkl", "metrics_max": list(GATED)}

        def job(base: float, exp: str = exp, logged: int = logged) -> str:
            metrics = {f"metric_{i:02d}": base + i / 1000 for i in range(logged)}
            return emulator.add_job(exp, metrics=metrics, files=["outputs/model.pkl"])

        first = AzureMLV2Backend.from_ml_client(client)
        promote(experiment_name=exp, run_id=job(0.5), settings=settings, backend=first)
        # A new backend, as in a new process (the CLI, the Action): it reads its workspace
        # once; then a second promotion on the same backend (a notebook, a training script).
        backend = AzureMLV2Backend.from_ml_client(client)
        for label, base, version in (("new", 0.6, 2), ("reused", 0.7, 3)):
            emulator.clear_requests()
            result = promote(
                experiment_name=exp, run_id=job(base), settings=settings, backend=backend
            )
            assert result.model is not None
            assert result.model.version == version
            counted = [r for r in emulator.requests if r.path != "/metadata/endpoints"]
            kinds = Counter(f"{r.method} {_kind(r.path)}" for r in counted)
            detail = ", ".join(f"{n}× {k}" for k, n in kinds.most_common())
            print(f"| {logged} | {label} | {len(counted)} | {detail} |")
    emulator.stop()


def _kind(path: str) -> str:
    for marker, label in (
        ("/mlflow/runs/get", "MLflow runs/get"),
        ("/get-history", "MLflow metric history"),
        ("/artifacts", "file listing"),
        ("/jobs/", "job"),
        ("/versions/", "model version"),
        ("/versions", "version list"),
        ("/models/", "model container"),
        ("/workspaces/", "workspace"),
    ):
        if marker in path:
            return label
    return path


if __name__ == "__main__":
    main()
