"""The checks that span several keys of a settings source, run on its raw values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aml_promotion._domain.policy import (
    Goal,
)
from aml_promotion._domain.suggest import close_matches
from aml_promotion._settings._problems import key_path, near_file_key, near_key
from aml_promotion._settings._shapes import (
    _ALIASES,
    _RULE_KEYS,
    KNOWN_KEYS,
    _converter,
    _InvalidError,
    _name,
    _names,
    _RuleFile,
)
from aml_promotion.exceptions import SettingsProblem


def _split_keys(
    data: Mapping[str, Any], *, strict: bool
) -> tuple[dict[str, Any], list[SettingsProblem], list[str]]:
    known: dict[str, Any] = {}
    problems: list[SettingsProblem] = []
    unknown: list[str] = []
    ungated = not any(data.get(key) for key in _METRIC_KEYS)
    for raw_key, value in data.items():
        key = str(raw_key)
        if key in KNOWN_KEYS:
            target = key
        elif key in _ALIASES:
            target = _ALIASES[key]
            if target in data:
                problems.append(
                    SettingsProblem(
                        path=f"$.{key}",
                        message=f"{key!r} and {target!r} are the same setting; give only one",
                    )
                )
                continue
        else:
            suggestion = near_file_key(key)
            if suggestion is not None:
                problems.append(
                    SettingsProblem(
                        path=f"$.{key}",
                        message=f"unknown key {key!r}; did you mean {suggestion!r}?",
                    )
                )
            elif strict:
                problems.append(
                    SettingsProblem(path=f"$.{key}", message=f"unknown key {key!r} (strict mode)")
                )
            elif ungated and (meant := _meant_metric_keys(key)):
                # Ignored with a warning, it would let every model be registered unchecked.
                problems.append(
                    SettingsProblem(
                        path=f"$.{key}",
                        message=(
                            f"unknown key {key!r}, and no metric rules are given: every model "
                            f"would be registered unchecked; did you mean {' or '.join(meant)}?"
                        ),
                    )
                )
            else:
                unknown.append(key)
            continue
        known[target] = value
    return known, problems, unknown


# The keys that give a policy its metric rules: without any, every model is registered.
_METRIC_KEYS = ("metrics_max", "metrics_min", "metric_rules")


def _meant_metric_keys(key: str) -> list[str]:
    """Return the metric keys an unknown `key` may stand for (closest first), or [] if none."""
    folded = key.strip().lower().replace("-", "_").replace(" ", "_")
    if "metr" not in folded and not close_matches(folded, _METRIC_KEYS):
        return []
    return [repr(name) for name in close_matches(folded, _METRIC_KEYS, cutoff=0.0, n=2)]


def _cross_checks(raw: Mapping[str, Any]) -> list[SettingsProblem]:
    """Check what spans several keys, on raw values: reported alongside type errors."""
    problems: list[SettingsProblem] = []
    maximized = _names_or_empty(raw.get("metrics_max"))
    minimized = _names_or_empty(raw.get("metrics_min"))
    problems.extend(
        SettingsProblem(
            path="$.metrics_min",
            message=f"metric {name!r} is in both metrics_max and metrics_min",
        )
        for name in maximized
        if name in minimized
    )
    problems.extend(_name_clashes(raw))
    problems.extend(_unknown_rule_keys(raw.get("metric_rules")))
    for name, rule in _well_formed_rules(raw.get("metric_rules")).items():
        path = key_path("$.metric_rules", name)
        listed = (
            Goal.MAXIMIZE if name in maximized else Goal.MINIMIZE if name in minimized else None
        )
        if listed is None and rule.goal is None:
            problems.append(
                SettingsProblem(
                    path=path,
                    message=(
                        f"metric {name!r} has a rule but no goal: list it in metrics_max or "
                        'metrics_min, or give "goal": "maximize" or "minimize"'
                    ),
                )
            )
        elif listed is not None and rule.goal is not None and rule.goal is not listed:
            problems.append(
                SettingsProblem(
                    path=f"{path}.goal",
                    message=f"goal {rule.goal.value!r} contradicts the metric's list",
                )
            )
    return problems


def _name_clashes(raw: Mapping[str, Any]) -> list[SettingsProblem]:
    """Return a problem for names that would silently become one metric once trimmed.

    ``"auc"`` and ``" auc"`` are one metric. (Names the decision tags would record under one key,
    ``acc@1`` and ``acc#1``, are `PromotionPolicy`'s own rule: see `_load._policy_problems`.)
    """
    problems: list[SettingsProblem] = []
    given: dict[str, str] = {}
    rules = raw.get("metric_rules")
    sources = [
        ("$.metrics_max", raw.get("metrics_max")),
        ("$.metrics_min", raw.get("metrics_min")),
        ("$.metric_rules", list(rules) if isinstance(rules, Mapping) else None),
    ]
    for path, names in sources:
        if not isinstance(names, (list, tuple)):
            continue
        for written in names:
            if not isinstance(written, str) or not written.strip():
                continue  # reported by the structuring
            name = written.strip()
            first = given.setdefault(name, written)
            if first != written:
                problems.append(
                    SettingsProblem(
                        path=path,
                        message=(
                            f"{first!r} and {written!r} are the same metric once surrounding "
                            "spaces are trimmed: write it one way"
                        ),
                    )
                )
    return problems


def _unknown_rule_keys(rules: Any) -> list[SettingsProblem]:
    """Return a problem for every unknown key of a rule, with "did you mean" when one is near."""
    if not isinstance(rules, Mapping):
        return []
    problems = []
    known = sorted(_RULE_KEYS)
    for name, rule in rules.items():
        if not isinstance(rule, Mapping):
            continue
        for key in rule:
            if key in _RULE_KEYS:
                continue
            text = str(key)
            best = near_key(text, known)
            hint = f"; did you mean {best!r}?" if best else f"; a rule takes {', '.join(known)}"
            problems.append(
                SettingsProblem(
                    path=key_path(key_path("$.metric_rules", str(name)), text),
                    message=f"unknown key {text!r} in the rule of {str(name)!r}{hint}",
                )
            )
    return problems


def _well_formed_rules(value: Any) -> dict[str, _RuleFile]:
    """Return the rules of `metric_rules` that structure on their own (the others are reported).

    Each rule is read alone so that one bad rule does not hide another rule's problems.
    """
    if not isinstance(value, Mapping):
        return {}
    pairs = (_rule_alone(name, rule) for name, rule in value.items())
    return dict(pair for pair in pairs if pair is not None)


def _rule_alone(name: Any, rule: Any) -> tuple[str, _RuleFile] | None:
    try:
        return _name(name, None), _converter().structure(rule, _RuleFile)
    except Exception:  # noqa: BLE001 - already reported by the structuring of the whole file
        return None


def _names_or_empty(value: Any) -> tuple[str, ...]:
    try:
        return _names(value, None) if value is not None else ()
    except _InvalidError:
        return ()
