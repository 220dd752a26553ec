"""Settings: the `registermodel.json` file, read into validated values.

One private cattrs `Converter` structures the file; every problem is collected and reported at
once with its path (`$.metric_rules.auc.min_delta`), never as a traceback from inside cattrs.
"""

from __future__ import annotations

import enum
import functools
import math
import numbers
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NewType

import attrs

from aml_promotion._domain.choices import choice, is_bool
from aml_promotion._domain.frameworks import Framework
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
    tag_safe,
)
from aml_promotion.exceptions import SettingsError, SettingsProblem, SettingsWarning

if TYPE_CHECKING:
    from pathlib import Path

    import cattrs

MODEL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
DEFAULT_MODEL_FILE_NAME = "model.pkl"
DEFAULT_PIPELINE_CHILD_RUN_NAME = "model_training"


def _names_tuple(field: str, value: Iterable[str]) -> tuple[str, ...]:
    """Return `value` as a tuple of names, refusing a lone string or an item that is none."""
    raw: object = value
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        # A string is an iterable of its characters: "ds1" would become ('d', 's', '1').
        msg = f"{field} must be a list or tuple of names (strings), not {raw!r}"
        raise TypeError(msg)
    names = tuple(value)
    for index, name in enumerate(names):
        item: object = name
        if not isinstance(item, str):
            msg = f"{field} must hold names (strings); item {index} is {item!r}"
            raise TypeError(msg)
    return names


def _datasets(value: Iterable[str]) -> tuple[str, ...]:
    return _names_tuple("datasets", value)


def _unknown_keys(value: Iterable[str]) -> tuple[str, ...]:
    return _names_tuple("unknown_keys", value)


def _text_field(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        msg = f"{attribute.name} must be a string, not {value!r}"
        raise TypeError(msg)
    if not value.strip():
        msg = f"{attribute.name} is blank"
        raise ValueError(msg)


_DEFAULT_STEP: str | None = DEFAULT_PIPELINE_CHILD_RUN_NAME


def _optional_name_field(
    instance: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    if value is not None:
        _text_field(instance, attribute, value)  # type: ignore[arg-type] # not None here


def _optional_text_field(
    _instance: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    if value is not None and not isinstance(value, str):
        msg = f"{attribute.name} must be a string or None, not {value!r}"
        raise TypeError(msg)


def _labels_field(
    _instance: object, attribute: attrs.Attribute[Mapping[str, str]], value: object
) -> None:
    if not isinstance(value, Mapping):
        msg = f"{attribute.name} must be a mapping of names to strings, not {value!r}"
        raise TypeError(msg)
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            msg = (
                f"{attribute.name} must map names (strings) to strings; found "
                f"{key!r}: {item!r} (write the value as text, e.g. str(value))"
            )
            raise TypeError(msg)


def _optional_positive_float(value: float | None) -> float | None:
    # Real numbers become floats; anything else reaches the validator as it is.
    raw: object = value
    if raw is None or is_bool(raw) or not isinstance(raw, numbers.Real):
        return value
    try:
        return float(raw)
    except OverflowError:
        return value  # the validator says it is not a finite number


def _optional_positive(
    _instance: object, attribute: attrs.Attribute[float | None], value: object
) -> None:
    if value is None:
        return
    if not isinstance(value, float):
        msg = f"{attribute.name} must be a number greater than 0, or None, not {value!r}"
        raise TypeError(msg)
    if not math.isfinite(value) or value <= 0:
        msg = f"{attribute.name} must be a finite number greater than 0, not {value!r}"
        raise ValueError(msg)


def _check_model_name(_instance: object, _attribute: object, value: str | None) -> None:
    raw: object = value
    if raw is not None and not isinstance(raw, str):
        msg = f"model_name must be a string or None, not {type(raw).__name__} {raw!r}"
        raise TypeError(msg)
    if value is not None and not MODEL_NAME_PATTERN.fullmatch(value):
        raise ValueError(_model_name_problem(value))


def _optional_framework(value: Framework | str | None) -> Framework | None:
    return None if value is None else choice(Framework, "model_framework", value)


def _baseline_strategy(value: BaselineStrategy | str) -> BaselineStrategy:
    raw: object = value
    if isinstance(raw, BaselineStrategy):
        return raw
    if isinstance(raw, str):
        return BaselineStrategy.parse(raw)
    msg = f"baseline must be a BaselineStrategy or a string such as 'latest', not {raw!r}"
    raise TypeError(msg)


def _model_name_problem(value: str) -> str:
    if not value:
        return "model_name is empty"
    if len(value) > 255:  # noqa: PLR2004 - Azure ML's limit
        return f"model_name is {len(value)} characters long; at most 255 are allowed"
    bad = sorted({ch for ch in value if not re.fullmatch(r"[A-Za-z0-9._-]", ch)})
    if bad:
        shown = " ".join(repr(ch) for ch in bad)
        return (
            f"model_name {value!r} has characters that model names cannot have ({shown}); "
            "use letters, digits, '.', '_' and '-'"
        )
    return f"model_name {value!r} must start with a letter or a digit"


@attrs.frozen(kw_only=True)
class Settings:
    """Everything a promotion needs besides the run: the model's name and metadata, and the policy.

    Build it with `load_settings` from a `registermodel.json`-style file or mapping, or directly.

    Attributes:
        model_name: The registered model's name; None means the default ``<repo>-<branch>``
            in GitHub Actions (an error elsewhere).
        model_file_name: The model file or folder among the run's files.
        model_framework: The framework, if given.
        model_framework_version: The framework's version, if given.
        model_tags: Tags for the new version (decision tags are added to these).
        model_properties: Properties for the new version.
        model_description: A description for the new version.
        datasets: Names of registered datasets the model was trained on.
        sample_input_dataset: Name of a registered dataset of sample inputs.
        sample_output_dataset: Name of a registered dataset of sample outputs.
        pipeline_child_run_name: In a pipeline run, the step that produced the model; None
            (``null`` in a file) for the run itself, even when it has child runs (a sweep's
            parent that logged the best model).
        cpu_cores: CPU cores to request when deploying (with `memory_gb`, or neither).
        memory_gb: Memory in GB to request when deploying (with `cpu_cores`, or neither).
        policy: The promotion policy (from metrics_max, metrics_min, metric_rules...).
        baseline: How the baseline version is chosen.
        unknown_keys: Keys of the source that were not understood (and so ignored).
    """

    model_name: str | None = attrs.field(default=None, validator=_check_model_name)
    model_file_name: str = attrs.field(default=DEFAULT_MODEL_FILE_NAME, validator=_text_field)
    model_framework: Framework | None = attrs.field(default=None, converter=_optional_framework)
    model_framework_version: str | None = attrs.field(default=None, validator=_optional_text_field)
    model_tags: Mapping[str, str] = attrs.field(factory=dict, validator=_labels_field)
    model_properties: Mapping[str, str] = attrs.field(factory=dict, validator=_labels_field)
    model_description: str | None = attrs.field(default=None, validator=_optional_text_field)
    datasets: tuple[str, ...] = attrs.field(default=(), converter=_datasets)
    sample_input_dataset: str | None = attrs.field(default=None, validator=_optional_text_field)
    sample_output_dataset: str | None = attrs.field(default=None, validator=_optional_text_field)
    # None: the run itself (an MLflow sweep's parent, a run that logged the model directly).
    pipeline_child_run_name: str | None = attrs.field(
        default=_DEFAULT_STEP, validator=_optional_name_field
    )
    cpu_cores: float | None = attrs.field(
        default=None, converter=_optional_positive_float, validator=_optional_positive
    )
    memory_gb: float | None = attrs.field(
        default=None, converter=_optional_positive_float, validator=_optional_positive
    )
    policy: PromotionPolicy = attrs.field(
        factory=PromotionPolicy, validator=attrs.validators.instance_of(PromotionPolicy)
    )
    baseline: BaselineStrategy = attrs.field(
        factory=BaselineStrategy.latest, converter=_baseline_strategy
    )
    unknown_keys: tuple[str, ...] = attrs.field(default=(), converter=_unknown_keys)

    def __attrs_post_init__(self) -> None:
        if (self.cpu_cores is None) != (self.memory_gb is None):
            msg = "cpu_cores and memory_gb go together: give both or neither"
            raise ValueError(msg)


# --- The file's shape, and the converter that reads it -----------------------------------------

_Text = NewType("_Text", str)
_Name = NewType("_Name", str)
_ModelName = NewType("_ModelName", str)
_VersionText = NewType("_VersionText", str)
_Number = NewType("_Number", float)
_Positive = NewType("_Positive", float)
_Flag = NewType("_Flag", bool)
_Names = NewType("_Names", tuple)  # type: ignore[type-arg]
_Labels = NewType("_Labels", dict)  # type: ignore[type-arg]
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


def _names(value: Any, _type: object) -> tuple[str, ...]:
    if isinstance(value, str):
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
    model_framework: Framework | None = None
    model_framework_version: _VersionText | None = None
    model_tags: _Labels | None = None
    model_properties: _Labels | None = None
    model_description: _Text | None = None
    datasets: _Names | None = None
    sample_input_dataset: _Name | None = None
    sample_output_dataset: _Name | None = None
    pipeline_child_run_name: _Name | None = None
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


KNOWN_KEYS: frozenset[str] = frozenset(_File.__annotations__)
_RULE_KEYS: frozenset[str] = frozenset(_RuleFile.__annotations__)


def _define_shapes() -> None:
    # In place (slots=False), so that every reference to the classes sees the attrs class.
    for shape in (_SignificanceFile, _EvaluationDataFile, _RuleFile, _File):
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
    for shape in (_SignificanceFile, _EvaluationDataFile):
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


def _format_exception(exc: BaseException, type_: type | None) -> str:
    # (No KeyError case: every field of the file is optional, so none is ever missing.)
    if isinstance(exc, _InvalidError):
        return str(exc)
    from cattrs.v import format_exception  # noqa: PLC0415 - see _converter()

    # Settings are JSON: say "object" where cattrs says "mapping".
    return format_exception(exc, type_).replace("a mapping", "a JSON object")


def _problems_of(exc: Exception) -> list[SettingsProblem]:
    problems = []
    from cattrs import transform_error  # noqa: PLC0415 - see _converter()

    for line in transform_error(exc, path="$", format_exception=_format_exception):
        # The path may hold " @ " itself (a metric named "top1 @ k"): split at the first one.
        message, found, rest = line.partition(" @ $")
        path = "$" + rest if found else "$"
        problems.append(SettingsProblem(path=_bracket_paths(path), message=message or line))
    return problems


_CATTRS_KEY = re.compile(r"""\[('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]""")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_path(parent: str, key: str) -> str:
    """Return the path of `key` under `parent`: ``$.metric_rules.auc``, or quoted when odd.

    A key that is not plain letters, digits, ``_`` and ``-`` is quoted, so that a metric named
    ``top1 @ k`` or ``acc.top1`` reads unambiguously: ``$.metric_rules["top1 @ k"]``.
    """
    if _PLAIN_KEY.fullmatch(key):
        return f"{parent}.{key}"
    import json  # noqa: PLC0415 - only odd keys need it; see _converter()

    return f"{parent}[{json.dumps(key, ensure_ascii=False)}]"


def _bracket_paths(path: str) -> str:
    # cattrs writes mapping keys as $.metric_rules['auc'] (a repr); we write $.metric_rules.auc.
    import ast  # noqa: PLC0415 - only error paths need it

    parts = _CATTRS_KEY.split(path)
    result = parts[0]
    for quoted, rest in zip(parts[1::2], parts[2::2], strict=True):
        result = key_path(result, str(ast.literal_eval(quoted))) + rest
    return result


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def _near(key: str) -> str | None:
    candidates = sorted(KNOWN_KEYS | _ALIASES.keys())
    folded = key.strip().lower().replace("-", "_").replace(" ", "_")
    best = min(candidates, key=lambda known: (_edit_distance(folded, known), known))
    return best if _edit_distance(folded, best) <= 2 else None  # noqa: PLR2004 - DESIGN.md §4


# --- Reading the source -------------------------------------------------------------------------


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once (the last one wins)."""

    duplicates: tuple[str, ...] = ()


def _object_with_duplicates(pairs: list[tuple[str, Any]]) -> _JsonObject:
    result = _JsonObject(pairs)
    counts: dict[str, int] = {}
    for key, _ in pairs:
        counts[key] = counts.get(key, 0) + 1
    result.duplicates = tuple(key for key, count in counts.items() if count > 1)
    return result


def _duplicate_problems(value: object, path: str = "$") -> list[SettingsProblem]:
    """Return a problem for every key given twice in the same object, at any depth."""
    problems: list[SettingsProblem] = []
    if isinstance(value, _JsonObject):
        problems.extend(
            SettingsProblem(
                path=key_path(path, key), message=f"the key {key!r} appears more than once"
            )
            for key in value.duplicates
        )
        for key, item in value.items():
            problems.extend(_duplicate_problems(item, key_path(path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems.extend(_duplicate_problems(item, f"{path}[{index}]"))
    return problems


def _read_file(path: Path) -> tuple[Mapping[str, Any], list[SettingsProblem]]:
    import json  # noqa: PLC0415 - only files need it; see _converter()

    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problem = SettingsProblem(path="$", message=f"settings file not found: {source}")
        raise SettingsError([problem], source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        problem = SettingsProblem(path="$", message=f"cannot read the settings file: {exc}")
        raise SettingsError([problem], source=source) from None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_object_with_duplicates,
            parse_constant=_refuse_constant,
            parse_int=_integer,
        )
        duplicates = _duplicate_problems(data)
        too_long = _too_long_integers(data)
    except json.JSONDecodeError as exc:
        problem = SettingsProblem(
            path="$",
            message=(
                f"not valid JSON: {exc.msg} at {source}, line {exc.lineno}, column {exc.colno}"
            ),
        )
        raise SettingsError([problem], source=source) from None
    except _NonJsonTokenError as exc:
        problem = SettingsProblem(
            path="$",
            message=f"not valid JSON: {exc.token} is no JSON value (in {source}); use a number",
        )
        raise SettingsError([problem], source=source) from None
    except RecursionError:
        problem = SettingsProblem(
            path="$", message=f"not a settings file: nested too deeply to read ({source})"
        )
        raise SettingsError([problem], source=source) from None
    if too_long:
        raise SettingsError(too_long, source=source)
    if not isinstance(data, dict):
        problem = SettingsProblem(path="$", message=f"expected a JSON object, found {_kind(data)}")
        raise SettingsError([problem], source=source)
    return data, duplicates


class _TooLongInteger:
    """An integer Python refuses to read (more digits than its limit, CVE-2020-10735)."""

    # A plain class: only a settings file with such a number needs it (import time).
    __slots__ = ("digits", "limit")

    def __init__(self, *, digits: int, limit: int) -> None:
        self.digits = digits
        self.limit = limit


def _integer(text: str) -> int | _TooLongInteger:
    import sys  # noqa: PLC0415 - already loaded; the import statement is only a lookup

    try:
        return int(text)
    except ValueError:
        # Kept as a marker, so that the problem is reported at the value's path.
        return _TooLongInteger(digits=len(text.lstrip("-")), limit=sys.get_int_max_str_digits())


def _too_long_integers(value: object, path: str = "$") -> list[SettingsProblem]:
    """Return a problem at the path of every integer too long to read, at any depth."""
    if isinstance(value, _TooLongInteger):
        message = (
            f"an integer of more than {value.limit} digits ({value.digits}): no setting takes "
            "one; write a number of ordinary size"
        )
        return [SettingsProblem(path=path, message=message)]
    if isinstance(value, dict):
        return [
            problem
            for key, item in value.items()
            for problem in _too_long_integers(item, key_path(path, str(key)))
        ]
    if isinstance(value, list):
        return [
            problem
            for index, item in enumerate(value)
            for problem in _too_long_integers(item, f"{path}[{index}]")
        ]
    return []


class _NonJsonTokenError(ValueError):
    """NaN, Infinity or -Infinity: Python's json reads them, but they are no JSON."""

    def __init__(self, token: str) -> None:
        self.token = token
        super().__init__(token)


def _refuse_constant(token: str) -> Any:
    raise _NonJsonTokenError(token)


def _split_keys(
    data: Mapping[str, Any], *, strict: bool
) -> tuple[dict[str, Any], list[SettingsProblem], list[str]]:
    known: dict[str, Any] = {}
    problems: list[SettingsProblem] = []
    unknown: list[str] = []
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
            suggestion = _near(key)
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
            else:
                unknown.append(key)
            continue
        known[target] = value
    return known, problems, unknown


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
    has_cpu = raw.get("cpu_cores") is not None
    has_memory = raw.get("memory_gb") is not None
    if has_cpu != has_memory:
        given, missing = ("cpu_cores", "memory_gb") if has_cpu else ("memory_gb", "cpu_cores")
        problems.append(
            SettingsProblem(
                path=f"$.{missing}",
                message=f"{given} is set but {missing} is not: give both or neither",
            )
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
        if rule.significance is not None and rule.aggregate not in {None, Aggregate.MEAN}:
            problems.append(
                SettingsProblem(
                    path=f"{path}.aggregate",
                    message=(
                        "a rule with significance compares the means of the series: its "
                        f"aggregate is 'mean', not {rule.aggregate.value!r}"
                    ),
                )
            )
        if rule.at_least is not None and rule.at_most is not None and rule.at_least > rule.at_most:
            problems.append(
                SettingsProblem(
                    path=f"{path}.at_least",
                    message=(
                        f"at_least ({rule.at_least:g}) is greater than at_most "
                        f"({rule.at_most:g}): no value could pass"
                    ),
                )
            )
    problems.extend(_evaluation_data_problems(raw.get("evaluation_data")))
    return problems


def _name_clashes(raw: Mapping[str, Any]) -> list[SettingsProblem]:
    """Return a problem for names that would silently become one metric, or share one tag.

    ``"auc"`` and ``" auc"`` are one metric once trimmed; ``acc@1`` and ``acc#1`` would be
    recorded under the same decision tag.
    """
    problems: list[SettingsProblem] = []
    given: dict[str, str] = {}
    tagged: dict[str, str] = {}
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
                continue
            other = tagged.setdefault(tag_safe(name), name)
            if other != name:
                problems.append(
                    SettingsProblem(
                        path=path,
                        message=(
                            f"metrics {other!r} and {name!r} would be recorded under the same "
                            f"tag (promotion.metric.{tag_safe(name)}): rename one"
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
            best = min(known, key=lambda field: (_edit_distance(text, field), field))
            near = _edit_distance(text, best) <= 2  # noqa: PLR2004 - as for top-level keys
            hint = f"; did you mean {best!r}?" if near else f"; a rule takes {', '.join(known)}"
            problems.append(
                SettingsProblem(
                    path=key_path(key_path("$.metric_rules", str(name)), text),
                    message=f"unknown key {text!r} in the rule of {str(name)!r}{hint}",
                )
            )
    return problems


def _evaluation_data_problems(value: Any) -> list[SettingsProblem]:
    try:
        parsed = _converter().structure(value, _EvaluationDataFile) if value is not None else None
    except Exception:  # noqa: BLE001 - already reported by the structuring of the whole file
        return []
    if parsed is not None and (parsed.context is None) == (parsed.tag is None):
        return [
            SettingsProblem(
                path="$.evaluation_data",
                message=(
                    'give exactly one of "context" (the datasets logged as inputs with that '
                    'context) and "tag" (a run tag or parameter naming the data)'
                ),
            )
        ]
    return []


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
        problems.extend(_problems_of(exc))
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


def _caller_stacklevel() -> int:
    """Return the stacklevel of the first frame outside this package, for `warnings.warn`.

    A warning points at the user's line that called `load_settings` or `promote()` (whichever
    way it came through the package), not at a line of ours.
    """
    import sys  # noqa: PLC0415 - already loaded; the import statement is only a lookup

    package = __name__.rpartition(".")[0] + "."
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


def default_model_name(environ: Mapping[str, str]) -> str | None:
    """Return ``<repo>-<branch>`` from GitHub Actions' variables, sanitized into a model name.

    On a pull request (``GITHUB_REF`` is ``refs/pull/N/merge``) the branch is the one the pull
    request targets (``GITHUB_BASE_REF``): a dry run then answers "would this beat the model of
    the branch it merges into?", not "...of a model named after the pull request's number".

    Returns:
        The name, or None when the variables are not set.
    """
    repository = environ.get("GITHUB_REPOSITORY", "").rsplit("/", 1)[-1]
    branch = environ.get("GITHUB_REF_NAME") or environ.get("GITHUB_REF", "").removeprefix(
        "refs/heads/"
    )
    base = environ.get("GITHUB_BASE_REF", "").strip()
    if base and environ.get("GITHUB_REF", "").startswith("refs/pull/"):
        branch = base
    if not repository:
        return None
    raw = f"{repository}-{branch}" if branch else repository
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", raw)
    cleaned = re.sub(r"^[^A-Za-z0-9]+", "", cleaned)[:255].rstrip("-")
    return cleaned or None
