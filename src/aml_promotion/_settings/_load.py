"""`load_settings`: a file or mapping read into `Settings`, every problem reported at once."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

import attrs

from aml_promotion._domain.policy import (
    Aggregate,
    BaselineStrategy,
    EvaluationData,
    Goal,
    MetricRule,
    OnMismatch,
    PromotionPolicy,
    Significance,
)
from aml_promotion._settings._checks import _cross_checks, _split_keys
from aml_promotion._settings._json import _read_file
from aml_promotion._settings._mapping import _NOT_FILE_KEYS, _python_only_problems, nesting_problems
from aml_promotion._settings._problems import problems_of
from aml_promotion._settings._shapes import (
    _converter,
    _EvaluationDataFile,
    _File,
    _kind,
    _RuleFile,
    _SignificanceFile,
)
from aml_promotion._settings._values import (
    DEFAULT_MODEL_FILE_NAME,
    DEFAULT_PIPELINE_CHILD_RUN_NAME,
    Settings,
)
from aml_promotion.exceptions import SettingsError, SettingsProblem, SettingsWarning


def _policy(parsed: _File) -> PromotionPolicy:
    rules_file: dict[str, _RuleFile] = {
        str(name): rule for name, rule in (parsed.metric_rules or {}).items()
    }
    goals: dict[str, Goal] = {}
    for name in parsed.metrics_max or ():
        goals[name] = Goal.MAXIMIZE
    for name in parsed.metrics_min or ():
        goals[name] = Goal.MINIMIZE
    for name, rule_file in rules_file.items():
        if name not in goals and rule_file.goal is not None:
            goals[name] = rule_file.goal
    rules: list[MetricRule] = []
    for name, goal in goals.items():
        rule_file = rules_file.get(name, _RuleFile())
        rules.append(
            MetricRule(
                name=name,
                goal=goal,
                min_delta=rule_file.min_delta,
                min_relative_delta=rule_file.min_relative_delta,
                at_least=rule_file.at_least,
                at_most=rule_file.at_most,
                aggregate=rule_file.aggregate
                or (Aggregate.LAST if rule_file.significance is None else Aggregate.MEAN),
                dataset=rule_file.dataset,
                significance=_significance(rule_file.significance),
            )
        )
    defaults = PromotionPolicy()
    return PromotionPolicy(
        rules=tuple(rules),
        force=bool(parsed.force_registration),
        require_improvement=(
            defaults.require_improvement
            if parsed.require_improvement is None
            else bool(parsed.require_improvement)
        ),
        on_missing_baseline=parsed.on_missing_baseline or defaults.on_missing_baseline,
        on_missing_baseline_metric=(
            parsed.on_missing_baseline_metric or defaults.on_missing_baseline_metric
        ),
        evaluation_data=_evaluation_data(parsed.evaluation_data),
    )


def _significance(parsed: _SignificanceFile | None) -> Significance | None:
    if parsed is None:
        return None
    return Significance() if parsed.alpha is None else Significance(alpha=parsed.alpha)


def _evaluation_data(parsed: _EvaluationDataFile | None) -> EvaluationData | None:
    if parsed is None:
        return None
    return EvaluationData(
        context=parsed.context,
        tag=parsed.tag,
        on_mismatch=parsed.on_mismatch or OnMismatch.REJECT,
    )


def _settings(parsed: _File, unknown: list[str]) -> Settings:
    return Settings(
        model_name=parsed.model_name,
        model_file_name=parsed.model_file_name or DEFAULT_MODEL_FILE_NAME,
        model_framework=parsed.model_framework,
        model_framework_version=parsed.model_framework_version,
        model_tags=dict(parsed.model_tags or {}),
        model_properties=dict(parsed.model_properties or {}),
        model_description=parsed.model_description,
        datasets=tuple(parsed.datasets or ()),
        sample_input_dataset=parsed.sample_input_dataset,
        sample_output_dataset=parsed.sample_output_dataset,
        pipeline_child_run_name=parsed.pipeline_child_run_name or DEFAULT_PIPELINE_CHILD_RUN_NAME,
        cpu_cores=parsed.cpu_cores,
        memory_gb=parsed.memory_gb,
        policy=_policy(parsed),
        baseline=parsed.baseline or BaselineStrategy.latest(),
        unknown_keys=tuple(unknown),
    )


def load_settings(
    source: str | os.PathLike[str] | Mapping[str, Any], *, strict: bool = False
) -> Settings:
    """Read settings from a ``registermodel.json``-style file or mapping.

    Every key is optional. Unknown keys close to a known one are errors ("did you mean");
    other unknown keys give a `SettingsWarning` (an error when `strict`).

    Args:
        source: A path to a JSON file, or a mapping with the same keys.
        strict: Treat unknown keys as errors.

    Returns:
        The validated settings.

    Raises:
        SettingsError: Every problem found, each with its path.
    """
    label: str | None
    early: list[SettingsProblem] = []  # found before the structuring
    if isinstance(source, Mapping):
        data, label = source, None
        if nesting := nesting_problems(data):
            raise SettingsError(nesting)
        early = _python_only_problems(data)
        if early:
            # Reported here, and never also as unknown keys (a warning) further down.
            data = {key: value for key, value in data.items() if str(key) not in _NOT_FILE_KEYS}
    elif isinstance(source, (str, os.PathLike)):
        from pathlib import Path  # noqa: PLC0415 - only files need it; see _converter()

        path = Path(source).expanduser()
        (data, early), label = _read_file(path), str(path)
    else:  # callers without type checking reach it
        problem = SettingsProblem(  # type: ignore[unreachable]
            path="$", message=f"expected a path or a mapping, found {_kind(source)}"
        )
        raise SettingsError([problem])
    known, problems, unknown = _split_keys(data, strict=strict)
    problems[:0] = early
    parsed: _File | None = None
    try:
        parsed = _converter().structure(known, _File)
    except Exception as exc:  # noqa: BLE001 - cattrs' errors become our problems, with paths
        problems.extend(problems_of(exc))
    problems.extend(_cross_checks(known))
    if problems or parsed is None:
        raise SettingsError(sorted(problems, key=_problem_order(data)), source=label)
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        warnings.warn(
            f"unknown settings key(s) ignored{f' in {label}' if label else ''}: {names}",
            SettingsWarning,
            stacklevel=_caller_stacklevel(),
        )
    settings = _settings(parsed, unknown)
    if "pipeline_child_run_name" in known and known["pipeline_child_run_name"] is None:
        # An explicit null: the run itself holds the model, never one of its children.
        settings = attrs.evolve(settings, pipeline_child_run_name=None)
    return settings


def _caller_stacklevel() -> int:
    """Return the stacklevel of the first frame outside this package, for `warnings.warn`.

    A warning points at the user's line that called `load_settings` or `promote()` (whichever
    way it came through the package), not at a line of ours.
    """
    import sys  # noqa: PLC0415 - already loaded; the import statement is only a lookup

    package = __name__.partition(".")[0] + "."  # aml_promotion.
    frame = sys._getframe(1)  # noqa: SLF001 - the cheap way to walk the stack
    level = 1
    while frame.f_globals.get("__name__", "").startswith(package) and frame.f_back is not None:
        frame, level = frame.f_back, level + 1
    return level


def _problem_order(data: Mapping[str, Any]) -> Any:
    order = {str(key): index for index, key in enumerate(data)}

    def key(problem: SettingsProblem) -> tuple[int, str]:
        top = problem.path.removeprefix("$.").split(".", 1)[0]
        return order.get(top, len(order)), problem.path

    return key
