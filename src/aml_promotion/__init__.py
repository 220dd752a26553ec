"""aml-promotion: register a freshly trained model only when it beats the one in the registry.

>>> from aml_promotion import decide, PromotionPolicy, MetricRule, Goal
>>> policy = PromotionPolicy(rules=[MetricRule(name="auc", goal=Goal.MAXIMIZE)])
>>> decide({"auc": 0.91}, {"auc": 0.88}, policy).verdict
<Verdict.PROMOTE: 'promote'>
"""

from __future__ import annotations

import importlib

# typing is not imported at run time: it alone costs more than the rest of `import aml_promotion`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from aml_promotion import exceptions
    from aml_promotion._domain.comparison import Comparison
    from aml_promotion._domain.decision import Decision, decide
    from aml_promotion._domain.outcomes import CheckOutcome, Verdict
    from aml_promotion._domain.policy import (
        Aggregate,
        BaselineStrategy,
        EvaluationData,
        Goal,
        MetricRule,
        OnMismatch,
        OnMissingBaseline,
        OnMissingBaselineMetric,
        PromotionPolicy,
        Significance,
    )
    from aml_promotion._domain.significance import SignificanceMethod
    from aml_promotion._retry import RetryPolicy
    from aml_promotion._service import PromotionResult, promote
    from aml_promotion._settings import Settings, load_settings
    from aml_promotion.ports import Framework, ModelVersion

# Public names and the modules that define them. They are imported on first use (PEP 562), so
# that `import aml_promotion` stays cheap for tools that only need a part of it (the CLI's --help,
# a notebook that imports the package but decides later).
_EXPORTS = {
    "Aggregate": "aml_promotion._domain.policy",
    "BaselineStrategy": "aml_promotion._domain.policy",
    "CheckOutcome": "aml_promotion._domain.outcomes",
    "Comparison": "aml_promotion._domain.comparison",
    "Decision": "aml_promotion._domain.decision",
    "EvaluationData": "aml_promotion._domain.policy",
    "Framework": "aml_promotion.ports",
    "Goal": "aml_promotion._domain.policy",
    "MetricRule": "aml_promotion._domain.policy",
    "ModelVersion": "aml_promotion.ports",
    "OnMismatch": "aml_promotion._domain.policy",
    "OnMissingBaseline": "aml_promotion._domain.policy",
    "OnMissingBaselineMetric": "aml_promotion._domain.policy",
    "PromotionPolicy": "aml_promotion._domain.policy",
    "PromotionResult": "aml_promotion._service",
    "RetryPolicy": "aml_promotion._retry",
    "Settings": "aml_promotion._settings",
    "Significance": "aml_promotion._domain.policy",
    "SignificanceMethod": "aml_promotion._domain.significance",
    "Verdict": "aml_promotion._domain.outcomes",
    "decide": "aml_promotion._domain.decision",
    "load_settings": "aml_promotion._settings",
    "promote": "aml_promotion._service",
}

__all__ = [
    "Aggregate",
    "BaselineStrategy",
    "CheckOutcome",
    "Comparison",
    "Decision",
    "EvaluationData",
    "Framework",
    "Goal",
    "MetricRule",
    "ModelVersion",
    "OnMismatch",
    "OnMissingBaseline",
    "OnMissingBaselineMetric",
    "PromotionPolicy",
    "PromotionResult",
    "RetryPolicy",
    "Settings",
    "Significance",
    "SignificanceMethod",
    "Verdict",
    "decide",
    "exceptions",
    "load_settings",
    "promote",
]

if TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # the next lookup is a plain attribute
        return value
    if name == "exceptions":
        return importlib.import_module("aml_promotion.exceptions")
    if name == "__version__":
        # Deferred: importlib.metadata costs over 5 ms, and only __version__ needs it.
        from importlib.metadata import version  # noqa: PLC0415

        return version("aml-promotion")
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    # The public names only: not the lazy-import machinery, nor the modules imported so far.
    return sorted({*__all__, "__version__"})
