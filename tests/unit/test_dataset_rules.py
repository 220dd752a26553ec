"""A rule's dataset (MLflow 3 dataset-scoped metrics): settings, policy, reading, the service."""

from __future__ import annotations

import pytest

from aml_promotion import Goal, MetricRule, PromotionPolicy, load_settings, promote
from aml_promotion._domain.metrics import Unusable, is_usable_number, read_metric
from aml_promotion.exceptions import SettingsError
from aml_promotion.testing import InMemoryBackend


def test_a_rules_dataset_is_read_from_the_settings() -> None:
    """metric_rules.<name>.dataset becomes MetricRule.dataset; absent is None."""
    settings = load_settings(
        {
            "metrics_min": ["loss"],
            "metric_rules": {"auc": {"goal": "maximize", "dataset": "val"}},
        }
    )
    rules = {rule.name: rule for rule in settings.policy.rules}
    assert rules["auc"].dataset == "val"
    assert rules["loss"].dataset is None
    assert settings.policy.metric_datasets == {"auc": "val"}


def test_a_rules_dataset_shows_in_the_policy_record() -> None:
    """The policy's JSON names a rule's dataset, null when it has none (one shape for all)."""
    policy = PromotionPolicy(
        rules=[
            MetricRule(name="auc", goal=Goal.MAXIMIZE, dataset="val"),
            MetricRule(name="loss", goal=Goal.MINIMIZE),
        ]
    )
    rules = policy.to_dict()["rules"]
    assert isinstance(rules, list)
    assert rules[0]["dataset"] == "val"
    assert rules[1]["dataset"] is None


def test_an_unusable_value_reads_as_its_reason() -> None:
    """A backend's Unusable value is unusable, with the backend's reason as the problem."""
    reading = read_metric(Unusable(reason="logged on 2 datasets (a, b)"))
    assert reading.value is None
    assert reading.problem == "logged on 2 datasets (a, b)"


def test_a_dataset_on_a_backend_without_dataset_metrics_is_a_settings_error() -> None:
    """The in-memory backend (like Azure ML) cannot choose a dataset: said, with the path."""
    backend = InMemoryBackend()
    backend.runs.add_run("r1", experiment_name="train", metrics={"auc": 0.9}, files=["model.pkl"])
    settings = {
        "model_name": "churn",
        "metric_rules": {"auc": {"goal": "maximize", "dataset": "val"}},
    }
    with pytest.raises(SettingsError) as caught:
        promote(experiment_name="train", run_id="r1", settings=settings, backend=backend)
    problem = caught.value.problems[0]
    assert problem.path == "$.metric_rules.auc.dataset"
    assert "dataset 'val' cannot be chosen" in problem.message


@pytest.mark.parametrize(
    ("raw", "usable"),
    [(0.5, True), (3, True), (float("nan"), False), (True, False), ("0.9", False)],
)
def test_is_usable_number_agrees_with_reading_a_metric(raw: object, usable: bool) -> None:
    """What adapters keep (is_usable_number) is what a rule would read as a value."""
    assert is_usable_number(raw) is usable
    assert (read_metric(raw).value is not None) is usable


def test_an_unusable_value_is_a_value_equal_by_its_reason() -> None:
    """Unusable compares and hashes by its reason, and shows it."""
    one = Unusable(reason="logged on 2 datasets (a, b)")
    assert one == Unusable(reason="logged on 2 datasets (a, b)")
    assert one != Unusable(reason="other")
    assert one != "logged on 2 datasets (a, b)"
    assert len({one, Unusable(reason="logged on 2 datasets (a, b)")}) == 1
    assert repr(one) == "Unusable(reason='logged on 2 datasets (a, b)')"
