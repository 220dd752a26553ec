"""A mapping given in Python: what only `Settings(...)` takes, and shapes no settings file has.

A settings mapping holds what a file holds. Python can give more: a `Settings` attribute or a
value object where file values belong, a container that holds itself, nesting hundreds of levels
deep. Each is a `SettingsProblem`, found before anything else walks the mapping (and so never a
`RecursionError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from aml_promotion._domain.policy import (
    BaselineStrategy,
    EvaluationData,
    MetricRule,
    PromotionPolicy,
    Significance,
)
from aml_promotion._settings._problems import item_path, key_path
from aml_promotion._settings._shapes import KNOWN_KEYS
from aml_promotion._settings._values import Settings
from aml_promotion.exceptions import SettingsProblem

MAX_DEPTH = 16
"""How deep a settings value may be nested; the deepest setting is 4 levels down
(``$.metric_rules.auc.significance.alpha``)."""
MAX_VALUES = 100_000
"""How many values (containers and leaves) a settings source may hold."""


def nesting_problems(data: object) -> list[SettingsProblem]:
    """Return the first problem with how `data` nests: too deep, too large, or holding itself.

    The walk is iterative, and stops at the first problem: such a source is no settings file,
    and reporting each of its 2^n paths would be as hostile as the source.
    """
    stack: list[tuple[object, str, tuple[int, ...]]] = [(data, "$", ())]
    seen = 0
    while stack:
        value, path, above = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            message = f"holds more than {MAX_VALUES:,} values: no settings source is this large"
            return [SettingsProblem(path="$", message=message)]
        if not isinstance(value, (Mapping, list, tuple)):
            continue
        if id(value) in above:
            message = "holds itself (a reference cycle): settings are plain nested values"
            return [SettingsProblem(path=path, message=message)]
        if len(above) >= MAX_DEPTH:
            message = (
                f"nested more than {MAX_DEPTH} levels deep: no setting is "
                "(the deepest, $.metric_rules.NAME.significance.alpha, is 4 levels down)"
            )
            return [SettingsProblem(path=path, message=message)]
        inside = (*above, id(value))
        if isinstance(value, Mapping):
            children = [(item, key_path(path, str(key))) for key, item in value.items()]
        else:
            children = [(item, item_path(path, index)) for index, item in enumerate(value)]
        stack.extend((item, child, inside) for item, child in reversed(children))
    return []


# Attributes of Settings that no file has: in a mapping, they mean Settings(...) was meant.
_NOT_FILE_KEYS = frozenset(attrs.fields_dict(Settings)) - KNOWN_KEYS


def _python_only_problems(data: Mapping[Any, Any]) -> list[SettingsProblem]:
    """Return a problem for what only `Settings(...)` takes: its attributes and value objects.

    A mapping holds what a settings file holds: ``{"policy": PromotionPolicy(...)}`` would
    otherwise be an unknown key, ignored with a warning, and every model registered.
    """
    problems: list[SettingsProblem] = []
    for raw_key, value in data.items():
        key = str(raw_key)
        path = key_path("$", key)
        if key in _NOT_FILE_KEYS:
            hint = (
                ", or give metrics_max, metrics_min or metric_rules in the mapping"
                if key == "policy"
                else ""
            )
            problems.append(
                SettingsProblem(
                    path=path,
                    message=(
                        f"{key!r} is an attribute of Settings, not a settings key: pass "
                        f"Settings({key}=...) instead of a mapping{hint}"
                    ),
                )
            )
            continue
        problems.extend(_value_object_problems(value, path))
    return problems


_VALUE_OBJECTS = (
    Settings,
    PromotionPolicy,
    MetricRule,
    Significance,
    EvaluationData,
    BaselineStrategy,
)


def _value_object_problems(value: object, path: str) -> list[SettingsProblem]:
    if isinstance(value, _VALUE_OBJECTS):
        kind = type(value).__name__
        return [
            SettingsProblem(
                path=path,
                message=(
                    f"found a {kind}, which a settings mapping cannot hold: pass "
                    "Settings(policy=..., baseline=...) instead of a mapping, or write the "
                    "value as in a settings file (metrics_max, metrics_min, metric_rules, "
                    "'tag:stage=prod')"
                ),
            )
        ]
    if isinstance(value, Mapping):
        return [
            problem
            for key, item in value.items()
            for problem in _value_object_problems(item, key_path(path, str(key)))
        ]
    if isinstance(value, (list, tuple)):
        return [
            problem
            for index, item in enumerate(value)
            for problem in _value_object_problems(item, f"{path}[{index}]")
        ]
    return []
