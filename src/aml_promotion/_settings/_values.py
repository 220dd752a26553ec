"""The `Settings` value object: every setting of a promotion, each checked on construction."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping

import attrs

from aml_promotion._domain.choices import (
    InvariantError,
    checked_optional_text,
    checked_text,
    choice,
    is_bool,
    names,
)
from aml_promotion._domain.frameworks import Framework
from aml_promotion._domain.names import tag_key_problem
from aml_promotion._domain.policy import (
    BaselineKind,
    BaselineStrategy,
    PromotionPolicy,
)
from aml_promotion._domain.stages import StageMoves

MODEL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
DEFAULT_MODEL_FILE_NAME = "model.pkl"
DEFAULT_PIPELINE_CHILD_RUN_NAME = "model_training"
WHOLE_JOB_OUTPUT = "/"
"""`model_file_name` with a `job_output` and no file named: the whole output is the model."""


def _datasets(value: Iterable[str]) -> tuple[str, ...]:
    return names("datasets", value)


def _unknown_keys(value: Iterable[str]) -> tuple[str, ...]:
    return names("unknown_keys", value)


def _text_field(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    checked_text(attribute, value, expected="a string", blank="", show_value=True)


_DEFAULT_STEP: str | None = DEFAULT_PIPELINE_CHILD_RUN_NAME


def _optional_name_field(
    instance: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    if value is not None:
        _text_field(instance, attribute, value)  # type: ignore[arg-type] # not None here


def _default_model_file_name(settings: Settings) -> str:
    # A named job output is the model folder itself unless a path inside it is named.
    return DEFAULT_MODEL_FILE_NAME if settings.job_output is None else WHOLE_JOB_OUTPUT


def _optional_text_field(
    _instance: object, attribute: attrs.Attribute[str | None], value: object
) -> None:
    checked_optional_text(attribute, value, expected="a string", blank=None, show_value=True)


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


def _tags_field(
    instance: object, attribute: attrs.Attribute[Mapping[str, str]], value: object
) -> None:
    _labels_field(instance, attribute, value)
    for key in value:  # type: ignore[attr-defined] # a mapping, checked above
        problem = tag_key_problem(key)
        if problem is not None:
            msg = f"{attribute.name}: {problem}"
            raise ValueError(msg)


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
        job_output: The named job output that holds the model (Azure ML SDK v2, such as
            ``model_output``); None for the run's own files (its artifacts). With it,
            `model_file_name` names a file or folder inside that output, and defaults to the
            whole output (``/``).
        model_file_name: The model file or folder among the run's files (or inside
            `job_output`).
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
        metrics_child_run_name: In a pipeline run, the step that logged the metrics (and the
            evaluation data), when it is not the one that produced the model (an evaluate
            step after a train step); None for the same step as `pipeline_child_run_name`.
        cpu_cores: CPU cores to request when deploying (with `memory_gb`, or neither).
        memory_gb: Memory in GB to request when deploying (with `cpu_cores`, or neither).
        policy: The promotion policy (from metrics_max, metrics_min, metric_rules...).
        baseline: How the baseline version is chosen.
        stages: The stages a promotion moves versions to (``on_promote``, ``on_supersede``;
            Azure ML SDK v2 only). Moving the superseded champion needs a ``tag:`` baseline
            (its holder is the champion a promotion supersedes); with a ``stage:`` baseline
            the promoted version goes to that stage.
        unknown_keys: Keys of the source that were not understood (and so ignored).
    """

    model_name: str | None = attrs.field(default=None, validator=_check_model_name)
    # Before model_file_name: its default depends on it.
    job_output: str | None = attrs.field(default=None, validator=_optional_name_field)
    model_file_name: str = attrs.field(
        default=attrs.Factory(_default_model_file_name, takes_self=True), validator=_text_field
    )
    model_framework: Framework | None = attrs.field(default=None, converter=_optional_framework)
    model_framework_version: str | None = attrs.field(default=None, validator=_optional_text_field)
    model_tags: Mapping[str, str] = attrs.field(factory=dict, validator=_tags_field)
    model_properties: Mapping[str, str] = attrs.field(factory=dict, validator=_labels_field)
    model_description: str | None = attrs.field(default=None, validator=_optional_text_field)
    datasets: tuple[str, ...] = attrs.field(default=(), converter=_datasets)
    sample_input_dataset: str | None = attrs.field(default=None, validator=_optional_text_field)
    sample_output_dataset: str | None = attrs.field(default=None, validator=_optional_text_field)
    # None: the run itself (an MLflow sweep's parent, a run that logged the model directly).
    pipeline_child_run_name: str | None = attrs.field(
        default=_DEFAULT_STEP, validator=_optional_name_field
    )
    metrics_child_run_name: str | None = attrs.field(default=None, validator=_optional_name_field)
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
    stages: StageMoves = attrs.field(
        factory=StageMoves, validator=attrs.validators.instance_of(StageMoves)
    )
    unknown_keys: tuple[str, ...] = attrs.field(default=(), converter=_unknown_keys)

    def __attrs_post_init__(self) -> None:
        self._check_stages()
        if (self.cpu_cores is None) != (self.memory_gb is None):
            given, missing = (
                ("cpu_cores", "memory_gb") if self.memory_gb is None else ("memory_gb", "cpu_cores")
            )
            msg = f"{given} is set but {missing} is not: give both or neither"
            raise InvariantError(msg, field=missing)

    @property
    def metrics_step(self) -> str | None:
        """The pipeline step whose metrics are compared.

        `metrics_child_run_name`, else the step that produced the model
        (`pipeline_child_run_name`).
        """
        return self.metrics_child_run_name or self.pipeline_child_run_name

    def _check_stages(self) -> None:
        kind = self.baseline.kind
        if self.stages.on_supersede is not None and kind is not BaselineKind.TAG:
            msg = (
                "on_supersede moves the champion a promotion supersedes, which needs a "
                "'tag:KEY=VALUE' baseline (the tag's holder is the champion), not "
                f"{str(self.baseline)!r}"
            )
            raise InvariantError(msg, field="on_supersede")
        wanted = self.baseline.name if kind is BaselineKind.STAGE else None
        if wanted is not None and self.stages.on_promote not in (None, wanted):
            msg = (
                f"on_promote.stage is {self.stages.on_promote!r} but the baseline is "
                f"{str(self.baseline)!r}: the promoted version would never be the champion; "
                f"make it {wanted!r}"
            )
            raise InvariantError(msg, field="on_promote")
