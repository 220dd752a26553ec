"""The settings file's shapes, and the one private cattrs converter that structures them."""

from __future__ import annotations

import enum
import functools
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NewType

import attrs

from aml_promotion._domain.choices import is_bool, written_as_list
from aml_promotion._domain.frameworks import Framework
from aml_promotion._domain.names import tag_key_problem
from aml_promotion._domain.policy import (
    Aggregate,
    BaselineStrategy,
    Goal,
    OnMismatch,
    OnMissingBaseline,
    OnMissingBaselineMetric,
)
from aml_promotion._settings._values import MODEL_NAME_PATTERN, _model_name_problem

if TYPE_CHECKING:
    import cattrs

_Text = NewType("_Text", str)
_Name = NewType("_Name", str)
_ModelName = NewType("_ModelName", str)
_VersionText = NewType("_VersionText", str)
_Number = NewType("_Number", float)
_Positive = NewType("_Positive", float)
_Flag = NewType("_Flag", bool)
_Names = NewType("_Names", tuple)  # type: ignore[type-arg]
_Labels = NewType("_Labels", dict)  # type: ignore[type-arg]
_Tags = NewType("_Tags", dict)  # type: ignore[type-arg]
_Alpha = NewType("_Alpha", float)


class _InvalidError(ValueError):
    """A value that is the wrong kind of thing; its message says what was expected."""


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if is_bool(value):
        return "a numpy boolean (pass bool(value))"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _text(value: Any, _type: object) -> str:
    if not isinstance(value, str):
        raise _InvalidError(f"expected a string, found {_kind(value)}")
    return value


def _name(value: Any, _type: object) -> str:
    text = _text(value, _type).strip()
    if not text:
        raise _InvalidError("expected a non-empty name, found a blank one")
    return text


def _model_name(value: Any, _type: object) -> str:
    text = _text(value, _type)
    if not MODEL_NAME_PATTERN.fullmatch(text):
        raise _InvalidError(_model_name_problem(text))
    return text


def _version_text(value: Any, _type: object) -> str:
    # A version is text: as a JSON number, 1.10 has already become 1.1 by the time we see it.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise _InvalidError(
            f"expected a string, found the number {value!r}: quote the version "
            f'("model_framework_version": "1.10"), as a number 1.10 reads as 1.1'
        )
    return _text(value, _type)


def _number(value: Any, _type: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _InvalidError(f"expected a number, found {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise _InvalidError("expected a finite number, found one too large") from None
    if not math.isfinite(number):
        raise _InvalidError("expected a finite number")
    return number


def _positive(value: Any, _type: object) -> float:
    number = _number(value, _type)
    if number <= 0:
        raise _InvalidError(f"expected a number greater than 0, found {number:g}")
    return number


def _alpha(value: Any, _type: object) -> float:
    number = _number(value, _type)
    if not 0 < number <= 0.5:  # noqa: PLR2004 - above 0.5, a gain and its mirror both pass
        raise _InvalidError(f"expected a number in (0, 0.5], found {number:g}")
    return number


def _flag(value: Any, _type: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise _InvalidError(f"expected true or false, found {_kind(value)}")


_SEPARATOR = re.compile("[,;]")


def _names(value: Any, _type: object) -> tuple[str, ...]:
    if isinstance(value, str):
        if _SEPARATOR.search(value):
            # Several names in one string: "auc,log_loss" would be one metric of that name.
            raise _InvalidError(
                f"expected a list of names, found the string {value!r}: "
                f"write {written_as_list(value)}"
            )
        # A single name where a list was expected: take it as a list of one.
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise _InvalidError(f"expected a list of names, found {_kind(value)}")
    problems = [
        f"item {index} is {_kind(item)}"
        for index, item in enumerate(value)
        if not isinstance(item, str) or not item.strip()
    ]
    if problems:
        raise _InvalidError("expected a list of non-empty names: " + ", ".join(problems))
    return tuple(dict.fromkeys(item.strip() for item in value))


def _labels(value: Any, _type: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _InvalidError(f"expected an object of names to values, found {_kind(value)}")
    labels = {}
    for key, item in value.items():
        if isinstance(item, (dict, list)) or item is None:
            raise _InvalidError(
                f"the value of {key!r} must be a string, number or boolean, not {_kind(item)}"
            )
        try:
            labels[str(key)] = str(item).lower() if is_bool(item) else str(item)
        except ValueError:  # an int past Python's 4300-digit limit for text
            raise _InvalidError(f"the value of {key!r} is a number too long to use") from None
    return labels


def _tags(value: Any, _type: object) -> dict[str, str]:
    tags = _labels(value, _type)
    problems = [problem for key in tags if (problem := tag_key_problem(key)) is not None]
    if problems:
        raise _InvalidError("; ".join(problems))
    return tags


def _choice(enum_type: type[enum.Enum], what: str) -> Any:
    allowed = [member.value for member in enum_type]

    def structure(value: Any, _type: object) -> enum.Enum:
        if isinstance(value, str):
            for member in enum_type:
                if member.value == value.strip().lower():
                    return member
        found = repr(value) if isinstance(value, str) else _kind(value)
        raise _InvalidError(f"{what} must be one of {', '.join(allowed)}; found {found}")

    return structure


def _strategy(value: Any, _type: object) -> BaselineStrategy:
    text = _text(value, _type)
    try:
        return BaselineStrategy.parse(text)
    except ValueError as exc:
        raise _InvalidError(str(exc)) from None


# The file's shapes become attrs classes in _converter(), on first use: attrs compiles a class's
# methods when it decorates it, a cost that only load_settings() needs to pay (import time).
class _SignificanceFile:
    alpha: _Alpha | None = None


class _EvaluationDataFile:
    context: _Name | None = None
    tag: _Name | None = None
    on_mismatch: OnMismatch | None = None


class _StageFile:
    stage: _Name | None = None


class _RuleFile:
    goal: Goal | None = None
    min_delta: _Number | None = None
    min_relative_delta: _Number | None = None
    at_least: _Number | None = None
    at_most: _Number | None = None
    aggregate: Aggregate | None = None
    dataset: _Name | None = None
    significance: _SignificanceFile | None = None


class _File:
    model_name: _ModelName | None = None
    model_file_name: _Name | None = None
    job_output: _Name | None = None
    model_framework: Framework | None = None
    model_framework_version: _VersionText | None = None
    model_tags: _Tags | None = None
    model_properties: _Labels | None = None
    model_description: _Text | None = None
    datasets: _Names | None = None
    sample_input_dataset: _Name | None = None
    sample_output_dataset: _Name | None = None
    pipeline_child_run_name: _Name | None = None
    metrics_child_run_name: _Name | None = None
    cpu_cores: _Positive | None = None
    memory_gb: _Positive | None = None
    metrics_max: _Names | None = None
    metrics_min: _Names | None = None
    force_registration: _Flag | None = None
    metric_rules: dict[_Name, _RuleFile] | None = None
    require_improvement: _Flag | None = None
    on_missing_baseline: OnMissingBaseline | None = None
    on_missing_baseline_metric: OnMissingBaselineMetric | None = None
    baseline: BaselineStrategy | None = None
    evaluation_data: _EvaluationDataFile | None = None
    on_promote: _StageFile | None = None
    on_supersede: _StageFile | None = None


KNOWN_KEYS: frozenset[str] = frozenset(_File.__annotations__)
_RULE_KEYS: frozenset[str] = frozenset(_RuleFile.__annotations__)


def _define_shapes() -> None:
    # In place (slots=False), so that every reference to the classes sees the attrs class.
    for shape in (_SignificanceFile, _EvaluationDataFile, _StageFile, _RuleFile, _File):
        attrs.define(kw_only=True, slots=False, repr=False, eq=False)(shape)


_ALIASES = {"cpu": "cpu_cores", "memory": "memory_gb"}


@functools.cache
def _converter() -> cattrs.Converter:
    """Return the one converter, built on first use: cattrs is not imported with the package."""
    import cattrs  # noqa: PLC0415 - keeps `import aml_promotion` fast

    _define_shapes()
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    for new_type, hook in (
        (_Text, _text),
        (_Name, _name),
        (_ModelName, _model_name),
        (_VersionText, _version_text),
        (_Number, _number),
        (_Positive, _positive),
        (_Flag, _flag),
        (_Names, _names),
        (_Labels, _labels),
        (_Tags, _tags),
        (_Alpha, _alpha),
    ):
        converter.register_structure_hook(new_type, hook)
    converter.register_structure_hook(Framework, _choice(Framework, "model_framework"))
    converter.register_structure_hook(Goal, _choice(Goal, "goal"))
    converter.register_structure_hook(Aggregate, _choice(Aggregate, "aggregate"))
    converter.register_structure_hook(
        OnMissingBaseline, _choice(OnMissingBaseline, "on_missing_baseline")
    )
    converter.register_structure_hook(
        OnMissingBaselineMetric, _choice(OnMissingBaselineMetric, "on_missing_baseline_metric")
    )
    converter.register_structure_hook(BaselineStrategy, _strategy)
    converter.register_structure_hook(OnMismatch, _choice(OnMismatch, "on_mismatch"))
    for shape in (_SignificanceFile, _EvaluationDataFile, _StageFile):
        converter.register_structure_hook(shape, _object_of(shape, converter))
    rule_hook = converter.get_structure_hook(_RuleFile)

    def rule(value: Any, _type: object) -> _RuleFile:
        # Without this, cattrs would name the private class: "expected _RuleFile".
        if not isinstance(value, Mapping):
            fields = ", ".join(_RuleFile.__annotations__)
            raise _InvalidError(f"expected an object with any of {fields}; found {_kind(value)}")
        # Unknown keys are reported by _cross_checks, each at its own path ("did you mean").
        known = {key: item for key, item in value.items() if key in _RULE_KEYS}
        return rule_hook(known, _type)  # type: ignore[no-any-return]

    converter.register_structure_hook(_RuleFile, rule)
    return converter


def _object_of(shape: type, converter: cattrs.Converter) -> Any:
    hook = converter.get_structure_hook(shape)

    def structure(value: Any, _type: object) -> Any:
        # Without this, cattrs would name the private class.
        if not isinstance(value, Mapping):
            fields = ", ".join(attrs.fields_dict(shape))
            raise _InvalidError(f"expected an object with any of {fields}; found {_kind(value)}")
        return hook(value, _type)

    return structure
