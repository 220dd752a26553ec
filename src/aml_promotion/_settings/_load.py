"""`load_settings`: a file or mapping read into `Settings`, every problem reported at once."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from aml_promotion._domain.choices import InvariantError
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
from aml_promotion._domain.stages import StageMoves
from aml_promotion._settings._checks import _cross_checks, _split_keys, _well_formed_rules
from aml_promotion._settings._json import _read_file
from aml_promotion._settings._mapping import _NOT_FILE_KEYS, _python_only_problems, nesting_problems
from aml_promotion._settings._problems import failed_fields, key_path, problems_of
from aml_promotion._settings._shapes import (
    _converter,
    _EvaluationDataFile,
    _File,
    _kind,
    _RuleFile,
    _SignificanceFile,
    _StageFile,
)
from aml_promotion._settings._values import (
    DEFAULT_MODEL_FILE_NAME,
    DEFAULT_PIPELINE_CHILD_RUN_NAME,
    WHOLE_JOB_OUTPUT,
    Settings,
)
from aml_promotion.exceptions import SettingsError, SettingsProblem, SettingsWarning


def _structure(known: Mapping[str, Any]) -> tuple[_File, list[SettingsProblem]]:
    """Return the file's shape with every key that structures, and a problem for each other.

    The keys that fail are left out of the shape, so that the value objects built from it still
    check what they can (every problem is reported at once).
    """
    try:
        return _converter().structure(known, _File), []
    except Exception as exc:  # noqa: BLE001 - cattrs' errors become our problems, with paths
        problems = problems_of(exc)
        failed = failed_fields(exc)
    rest = {key: value for key, value in known.items() if key not in failed}
    try:
        parsed = _converter().structure(rest, _File)
    except Exception:  # noqa: BLE001 - reported above; nothing is left to check
        parsed = _converter().structure({}, _File)
    # A key that failed was given: a stand-in keeps "give both or neither" honest.
    for key in failed & {"cpu_cores", "memory_gb"}:
        setattr(parsed, key, 1.0)
    return parsed, problems


def _build(
    parsed: _File, known: Mapping[str, Any], unknown: list[str]
) -> tuple[Settings | None, list[SettingsProblem]]:
    """Build the value objects from `parsed`, each error at the path of the object that raised it.

    Each value object checks its own invariants (`MetricRule`: ``at_least`` ≤ ``at_most``,
    significance ⇒ mean; `EvaluationData`: context or tag; `PromotionPolicy`: one tag per
    metric; `Settings`: cpu and memory together); this only says where in the file each is.
    """
    problems: list[SettingsProblem] = []
    rules: list[MetricRule] = []
    origins: list[str] = []
    for name, goal, rule_file, origin in _rule_sources(parsed, known):
        try:
            rules.append(_rule(name, goal, rule_file))
        except InvariantError as exc:  # noqa: PERF203 - each rule reports its own problem
            if exc.field == "name":  # the name itself (too long): where it is written
                problems.append(SettingsProblem(path=origin, message=exc.message))
            else:
                problems.append(_at(key_path("$.metric_rules", name), exc))
        else:
            origins.append(origin)
    evaluation_data = None
    try:
        evaluation_data = _evaluation_data(parsed.evaluation_data)
    except InvariantError as exc:
        problems.append(_at("$.evaluation_data", exc))
    policy = PromotionPolicy()
    try:
        policy = _policy(parsed, rules, evaluation_data)
    except SettingsError as exc:
        # The policy names a rule by its index; the file, by the list or object it came from.
        where = {f"$.rules[{index}]": origin for index, origin in enumerate(origins)}
        problems.extend(
            SettingsProblem(path=where.get(problem.path, "$"), message=problem.message)
            for problem in exc.problems
        )
    try:
        settings = _settings(parsed, policy, unknown)
    except InvariantError as exc:
        return None, [*problems, _at("$", exc)]
    return settings, problems


def _at(path: str, exc: InvariantError) -> SettingsProblem:
    return SettingsProblem(
        path=path if exc.field is None else key_path(path, exc.field), message=exc.message
    )


def _rule_sources(
    parsed: _File, known: Mapping[str, Any]
) -> Iterator[tuple[str, Goal, _RuleFile, str]]:
    """Yield each metric's name, goal, rule and the file path of the list or rule naming it."""
    # Each rule is read alone, so that one bad rule does not hide another rule's problems.
    rules_file = _well_formed_rules(known.get("metric_rules"))
    goals: dict[str, tuple[Goal, str]] = {}
    for name in parsed.metrics_max or ():
        goals[name] = (Goal.MAXIMIZE, "$.metrics_max")
    for name in parsed.metrics_min or ():
        goals.setdefault(name, (Goal.MINIMIZE, "$.metrics_min"))
    for name, rule_file in rules_file.items():
        # A rule without a goal is reported by _cross_checks; its other rules are still checked.
        goals.setdefault(name, (rule_file.goal or Goal.MAXIMIZE, "$.metric_rules"))
    for name, (goal, origin) in goals.items():
        yield name, goal, rules_file.get(name, _RuleFile()), origin


def _rule(name: str, goal: Goal, rule_file: _RuleFile) -> MetricRule:
    return MetricRule(
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


def _policy(
    parsed: _File, rules: list[MetricRule], evaluation_data: EvaluationData | None
) -> PromotionPolicy:
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
        evaluation_data=evaluation_data,
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


def _settings(parsed: _File, policy: PromotionPolicy, unknown: list[str]) -> Settings:
    return Settings(
        model_name=parsed.model_name,
        job_output=parsed.job_output,
        model_file_name=parsed.model_file_name
        or (DEFAULT_MODEL_FILE_NAME if parsed.job_output is None else WHOLE_JOB_OUTPUT),
        model_framework=parsed.model_framework,
        model_framework_version=parsed.model_framework_version,
        model_tags=dict(parsed.model_tags or {}),
        model_properties=dict(parsed.model_properties or {}),
        model_description=parsed.model_description,
        datasets=tuple(parsed.datasets or ()),
        sample_input_dataset=parsed.sample_input_dataset,
        sample_output_dataset=parsed.sample_output_dataset,
        pipeline_child_run_name=parsed.pipeline_child_run_name or DEFAULT_PIPELINE_CHILD_RUN_NAME,
        metrics_child_run_name=parsed.metrics_child_run_name,
        cpu_cores=parsed.cpu_cores,
        memory_gb=parsed.memory_gb,
        policy=policy,
        baseline=parsed.baseline or BaselineStrategy.latest(),
        stages=StageMoves(
            on_promote=_stage(parsed.on_promote), on_supersede=_stage(parsed.on_supersede)
        ),
        unknown_keys=tuple(unknown),
    )


def _stage(parsed: _StageFile | None) -> str | None:
    return None if parsed is None else parsed.stage


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
    parsed, structure_problems = _structure(known)
    problems.extend(structure_problems)
    problems.extend(_cross_checks(known))
    settings, invariant_problems = _build(parsed, known, unknown)
    problems.extend(invariant_problems)
    if problems or settings is None:
        raise SettingsError(sorted(problems, key=_problem_order(data)), source=label)
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        warnings.warn(
            f"unknown settings key(s) ignored{f' in {label}' if label else ''}: {names}",
            SettingsWarning,
            stacklevel=_caller_stacklevel(),
        )
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
