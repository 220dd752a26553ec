"""HTTP requests and wall time of one promotion on Azure ML: this library vs. the original action.

One promotion: a candidate run that logged N metrics, gated on 2 of them, against a baseline
(the latest registered version, whose run also logged N metrics); the candidate wins and is
registered. Both sides drive the real azureml-core SDK against the local emulator of the Azure ML
REST API (tests/integration/azureml/emulator.py) on 127.0.0.1, which waits 30 ms before each
answer, as a nearby real service would.

- "aml-promotion": ``promote(..., backend=AzureMLBackend(workspace=ws))``.
- "original action": the call sequence of Azure/aml-registermodel's main.py and utils.py:
  ``Experiment``, ``Run``, the latest model by name (``Model(ws, name)``, which loads its run),
  ``get_metrics()`` of both runs, ``get_file_names()``, ``register_model``.

Run: ``python benchmarks/azureml_requests.py [--latency 0.03] [--repeat 3]``. Nothing leaves
127.0.0.1: HOME is a temporary folder and AZUREML_CURRENT_CLOUD is set before azureml is imported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

# Before azureml is imported: its discovery cache lives under ~ (path fixed at import), and
# without a cloud name its authentication classes ask management.azure.com for endpoints.
os.environ["HOME"] = tempfile.mkdtemp(prefix="aml-promotion-bench-home-")
os.environ["AZURE_CONFIG_DIR"] = str(Path(os.environ["HOME"]) / ".azure")
os.environ["AZUREML_CURRENT_CLOUD"] = "AzureCloud"
for _name in [n for n in os.environ if n.startswith("AZUREML_") and n != "AZUREML_CURRENT_CLOUD"]:
    del os.environ[_name]
os.environ.pop("ARM_CLOUD_METADATA_URL", None)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

# The SDK (and what imports it) only now, after the environment above.
from azureml.core import Experiment, Model, Run  # noqa: E402

from aml_promotion import promote  # noqa: E402
from aml_promotion.adapters.azureml import AzureMLBackend  # noqa: E402
from integration.azureml.emulator import AzureMLEmulator  # noqa: E402
from integration.azureml.workspace import emulator_workspace  # noqa: E402

GATED = ("metric_00", "metric_01")
LOGGED = (5, 50, 500)


def workspace(emulator: AzureMLEmulator) -> Any:
    """Return a Workspace on the emulator, built with no call to Resource Manager."""
    # Path B of reference/azureml-rest.md: a workspace from a service context, no ARM call.
    ws = emulator_workspace(emulator)
    ws.service_context._get_run_history_url()  # noqa: SLF001 - warm discovery, for both sides
    return ws


def seed(emulator: AzureMLEmulator, logged: int) -> tuple[str, str, str]:
    """Seed a baseline (registered) and a better candidate; return experiment, run, model."""
    tag = uuid.uuid4().hex[:8]
    experiment, model = f"bench-{tag}", f"model-{tag}"

    def metrics(level: float) -> dict[str, float]:
        values = {f"metric_{i:02d}": 0.5 for i in range(logged)}
        values.update({GATED[0]: level, GATED[1]: 1.0 - level})
        return values

    baseline = emulator.add_run(experiment, metrics=metrics(0.80), files=["outputs/model.pkl"])
    emulator.add_model(model, run_id=baseline)
    candidate = emulator.add_run(experiment, metrics=metrics(0.85), files=["outputs/model.pkl"])
    return experiment, candidate, model


def ours(ws: Any, experiment: str, run_id: str, model: str) -> None:
    settings = {
        "model_name": model,
        "model_file_name": "model.pkl",
        "metrics_max": [GATED[0]],
        "metrics_min": [GATED[1]],
    }
    result = promote(
        experiment_name=experiment,
        run_id=run_id,
        settings=settings,
        backend=AzureMLBackend(workspace=ws),
    )
    assert result.model is not None
    assert result.model.version == 2


def original(ws: Any, experiment_name: str, run_id: str, model_name: str) -> None:
    """The original action's calls, in its order (its HyperDrive import aside)."""
    experiment = Experiment(workspace=ws, name=experiment_name)
    run = Run(experiment=experiment, run_id=run_id)
    production_model = Model(workspace=ws, name=model_name)
    production_model_metrics = production_model.run.get_metrics()
    run_metrics = run.get_metrics()
    assert run_metrics[GATED[0]] >= production_model_metrics[GATED[0]]
    assert run_metrics[GATED[1]] <= production_model_metrics[GATED[1]]
    model_path = next(f for f in run.get_file_names() if "model.pkl" in os.path.split(f)[-1])
    registered = run.register_model(model_name=model_name, model_path=model_path)
    assert registered.version == 2


def measure(
    emulator: AzureMLEmulator, ws: Any, side: Any, logged: int, repeat: int
) -> tuple[int, float]:
    counts, times = [], []
    for _ in range(repeat):
        experiment, run_id, model = seed(emulator, logged)
        emulator.clear_requests()
        start = time.perf_counter()
        side(ws, experiment, run_id, model)
        times.append(time.perf_counter() - start)
        counts.append(len(emulator.requests))
    assert len(set(counts)) == 1, f"request counts varied: {counts}"
    return counts[0], statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per request")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell (median time)")
    args = parser.parse_args()
    with AzureMLEmulator(latency=args.latency) as emulator:
        ws = workspace(emulator)
        ours(ws, *seed(emulator, 5))  # warm both code paths up (imports, first-use costs)
        original(ws, *seed(emulator, 5))
        rows = []
        for logged in LOGGED:
            mine = measure(emulator, ws, ours, logged, args.repeat)
            theirs = measure(emulator, ws, original, logged, args.repeat)
            rows.append((logged, mine, theirs))
        assert not emulator.unhandled, emulator.unhandled
    print(
        f"One promotion, 2 gated metrics, {args.latency * 1000:.0f} ms per request, "
        f"median of {args.repeat}\n"
    )
    print(
        "| logged metrics | aml-promotion: requests, time | original action: requests, time "
        "| requests / time, original ÷ ours |"
    )
    print("|---:|---:|---:|---:|")
    for logged, (n_ours, t_ours), (n_orig, t_orig) in rows:
        print(
            f"| {logged} | {n_ours}, {t_ours:.2f} s | {n_orig}, {t_orig:.2f} s "
            f"| {n_orig / n_ours:.1f}× / {t_orig / t_ours:.1f}× |"
        )


if __name__ == "__main__":
    main()
