"""aml-promotion: register a freshly trained model only when it beats the one in the registry.

>>> from aml_promotion import decide, PromotionPolicy, MetricRule, Goal
>>> policy = PromotionPolicy(rules=[MetricRule(name="auc", goal=Goal.MAXIMIZE)])
>>> decide({"auc": 0.91}, {"auc": 0.88}, policy).verdict
<Verdict.PROMOTE: 'promote'>
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aml_promotion import exceptions
from aml_promotion._domain.decision import CheckOutcome, Comparison, Decision, Verdict, decide
from aml_promotion._domain.policy import (
    Aggregate,
    BaselineStrategy,
    Goal,
    MetricRule,
    OnMissingBaseline,
    OnMissingBaselineMetric,
    PromotionPolicy,
)
from aml_promotion._retry import RetryPolicy
from aml_promotion._service import PromotionResult, promote
from aml_promotion._settings import Settings, load_settings
from aml_promotion.ports import Framework, ModelVersion

__all__ = [
    "Aggregate",
    "BaselineStrategy",
    "CheckOutcome",
    "Comparison",
    "Decision",
    "Framework",
    "Goal",
    "MetricRule",
    "ModelVersion",
    "OnMissingBaseline",
    "OnMissingBaselineMetric",
    "PromotionPolicy",
    "PromotionResult",
    "RetryPolicy",
    "Settings",
    "Verdict",
    "decide",
    "exceptions",
    "load_settings",
    "promote",
]

if TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version  # noqa: PLC0415 - only when asked for

        return version("aml-promotion")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
