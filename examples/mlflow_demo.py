"""Real promotions on a local MLflow store: no cloud account, no server.

Trains four small logistic-regression models (pure Python, on synthetic data), logs each the
way MLflow 3 users do (an MLflow run, its metrics, and the model with ``log_model``), and asks
aml-promotion whether to register it, comparing with the version that holds the alias
``@champion``:

1. a first model: registered as version 1 (there is no champion yet), and takes the alias;
2. a better one: registered as version 2, and the alias moves to it;
3. a worse one: rejected, and the decision says why;
4. another better one, as a dry run: it would be registered, and nothing is.

It ends by loading ``models:/churn-demo@champion`` with ``mlflow.pyfunc.load_model`` and
scoring a few customers with it.

Everything lands in ./demo-mlflow/ (a sqlite database and the runs' artifacts). The demo resets
that folder when it starts, so every run tells the same story; it leaves it in place at the
end, to be browsed with ``mlflow ui``. Run it with ``bash scripts/demo.sh`` from a fresh clone,
or ``python examples/mlflow_demo.py`` where ``aml-promotion[mlflow]`` is installed.
"""

# A script that talks to people (print), seeds a toy model's data (random), and is not a package.
# ruff: noqa: T201, S311, INP001

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import shutil
import sys
import warnings
from pathlib import Path

import mlflow

with warnings.catch_warnings():
    # MLflow's pyfunc module warns about its own type hints when imported.
    warnings.simplefilter("ignore", UserWarning)
    import mlflow.pyfunc

from aml_promotion import Decision, promote
from aml_promotion.adapters.mlflow import MlflowBackend

STORE = Path("demo-mlflow")
MARKER = STORE / ".aml-promotion-demo"
TRACKING_URI = f"sqlite:///{STORE.as_posix()}/mlflow.db"
EXPERIMENT = "churn-training"

# The same settings a registermodel.json would hold.
SETTINGS = {
    "model_name": "churn-demo",
    # The logged model's name (log_model(name="model")): registered as models:/<model_id>.
    "model_file_name": "model",
    # Compare with the version that holds the alias @champion; a promoted version takes it.
    "baseline": "alias:champion",
    "model_framework": "custom",
    "model_description": "logistic regression on synthetic churn data (aml-promotion demo)",
    "model_tags": {"project": "aml-promotion-demo"},
    "metrics_max": ["auc"],
    "metrics_min": ["log_loss"],
}


# --- a tiny model, so the metrics are real --------------------------------------------------------


def synthetic_data(count: int, seed: int) -> list[tuple[list[float], int]]:
    """Return `count` labelled points: two noisy features, and a third that is pure noise."""
    rng = random.Random(seed)
    points = []
    for _ in range(count):
        label = int(rng.random() < 0.4)  # noqa: PLR2004 - 40 % churn
        shift = 0.9 if label else -0.9
        points.append(
            ([rng.gauss(shift, 1.3), rng.gauss(shift * 0.6, 1.6), rng.gauss(0, 1)], label)
        )
    return points


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


def _predict(weights: list[float], features: list[float]) -> float:
    return _sigmoid(weights[0] + sum(w * x for w, x in zip(weights[1:], features, strict=True)))


def log_loss(weights: list[float], data: list[tuple[list[float], int]]) -> float:
    """Return the mean cross-entropy of the model on `data`."""
    total = 0.0
    for features, label in data:
        p = min(max(_predict(weights, features), 1e-12), 1 - 1e-12)
        total -= label * math.log(p) + (1 - label) * math.log(1 - p)
    return total / len(data)


def auc(weights: list[float], data: list[tuple[list[float], int]]) -> float:
    """Return the area under the ROC curve (the chance a positive outranks a negative)."""
    scored = sorted((_predict(weights, features), label) for features, label in data)
    positives = sum(label for _, label in scored)
    rank_sum = sum(rank for rank, (_, label) in enumerate(scored, start=1) if label)
    negatives = len(scored) - positives
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


class ChurnModel(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    """The trained weights as an MLflow pyfunc model: churn probabilities for feature rows."""

    def __init__(self, weights: list[float], features: int) -> None:
        self.weights = weights
        self.features = features

    def predict(self, model_input: list[list[float]], params: None = None) -> list[float]:  # noqa: ARG002 - pyfunc's signature
        """Return the churn probability of each row (extra features are ignored)."""
        return [_predict(self.weights, row[: self.features]) for row in model_input]


def train(epochs: int, learning_rate: float, features: int, seed: int) -> None:
    """Train a logistic regression inside the active MLflow run, logging what MLflow users log."""
    data = synthetic_data(600, seed=7)
    train_set, test_set = data[:400], data[400:]
    weights = [0.0] * (features + 1)
    mlflow.log_params({"epochs": epochs, "learning_rate": learning_rate, "features": features})
    rng = random.Random(seed)
    for epoch in range(epochs):
        rng.shuffle(train_set)
        for row, label in train_set:
            row = row[:features]  # noqa: PLW2901 - a model that sees fewer features
            error = _predict(weights, row) - label
            weights[0] -= learning_rate * error
            for index, value in enumerate(row, start=1):
                weights[index] -= learning_rate * error * value
        view = [(row[:features], label) for row, label in test_set]
        mlflow.log_metric("log_loss", log_loss(weights, view), step=epoch)  # a series
    view = [(row[:features], label) for row, label in test_set]
    mlflow.log_metric("auc", auc(weights, view))
    # MLflow 3's log_model: a logged model named "model", linked to this run.
    mlflow.pyfunc.log_model(
        name="model", python_model=ChurnModel(weights, features), pip_requirements=[]
    )


# --- the demo -------------------------------------------------------------------------------------


def reset_store() -> None:
    """Start from an empty ./demo-mlflow, refusing to delete a folder the demo did not make."""
    if STORE.exists():
        if not MARKER.exists():
            sys.exit(f"{STORE}/ exists and was not made by this demo: move it away first")
        shutil.rmtree(STORE)
    STORE.mkdir()
    MARKER.write_text("made by examples/mlflow_demo.py; deleted when the demo runs again\n")


def show(title: str, decision: Decision, outcome: str) -> None:
    """Print a decision as the command line does: the verdict, then an aligned table."""
    print(f"\n=== {title} ===")
    print(decision.to_text(color=sys.stdout.isatty() and not os.environ.get("NO_COLOR")), end="")
    print(f"-> {outcome}")


def main() -> None:
    """Run the four promotions and show the registry they leave."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print decisions as Markdown")
    args = parser.parse_args()

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # not its table-creation chatter
    # Its advice to log models from code: this demo pickles its own small class, knowingly.
    logging.getLogger("mlflow.pyfunc").setLevel(logging.ERROR)
    reset_store()
    mlflow.set_tracking_uri(TRACKING_URI)
    client = mlflow.MlflowClient(tracking_uri=TRACKING_URI)
    artifacts = (STORE / "artifacts").resolve().as_uri()
    experiment_id = client.create_experiment(EXPERIMENT, artifact_location=artifacts)
    backend = MlflowBackend(TRACKING_URI)
    print(f"MLflow store: {TRACKING_URI} (artifacts in {STORE}/artifacts)")

    candidates = [
        ("1. a first model", {"epochs": 1, "learning_rate": 0.002, "features": 1}, False),
        ("2. a better model", {"epochs": 8, "learning_rate": 0.01, "features": 2}, False),
        ("3. a worse model", {"epochs": 3, "learning_rate": 0.3, "features": 3}, False),
        (
            "4. a better one, as a dry run",
            {"epochs": 20, "learning_rate": 0.01, "features": 3},
            True,
        ),
    ]
    for seed, (title, params, dry_run) in enumerate(candidates, start=1):
        with mlflow.start_run(experiment_id=experiment_id, run_name=title[3:]) as run:
            train(**params, seed=seed)
        result = promote(
            experiment_name=EXPERIMENT,
            run_id=run.info.run_id,
            settings=SETTINGS,
            backend=backend,
            dry_run=dry_run,
        )
        if result.registered and result.model is not None:
            outcome = (
                f"registered {result.model.name} version {result.model.version}; "
                f"@champion is version {result.champion_version}"
            )
        elif dry_run:
            would = "would be registered" if result.decision.promote else "would be rejected"
            outcome = f"dry run: {would}; nothing registered"
        else:
            outcome = "not registered"
        if args.markdown:
            print(f"\n{result.decision.to_markdown()}\n-> {outcome}")
        else:
            show(title, result.decision, outcome)

    print("\n=== the registry now ===")
    for held in client.search_model_versions(f"name = '{SETTINGS['model_name']}'"):
        tags = held.tags
        print(
            f"  {held.name} version {held.version}: verdict {tags.get('promotion.verdict')}, "
            f"baseline {tags.get('promotion.baseline_version')}, auc "
            f"{tags.get('promotion.metric.auc')}, source {held.source}"
        )
    name = SETTINGS["model_name"]
    champion = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    customers = [row for row, _ in synthetic_data(3, seed=99)]
    scores = ", ".join(f"{score:.2f}" for score in champion.predict(customers))
    holder = client.get_model_version_by_alias(name, "champion").version
    print(
        f"\nmodels:/{name}@champion is version {holder}; loaded with mlflow.pyfunc.load_model, "
        f"it gives three customers churn probabilities {scores}. In your code:\n"
        f"  mlflow.set_tracking_uri({TRACKING_URI!r})\n"
        f"  model = mlflow.pyfunc.load_model('models:/{name}@champion')"
    )
    print(
        "\nThe store stays in ./demo-mlflow. Browse it with MLflow's UI (it needs the full mlflow"
        " package, e.g. in another virtualenv: pip install mlflow):\n"
        f"  mlflow ui --backend-store-uri {TRACKING_URI}"
    )


if __name__ == "__main__":
    main()
