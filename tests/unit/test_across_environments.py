"""Promotion across environments with the public fakes: a dev version gated into a prod registry."""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from aml_promotion import Verdict, promote
from aml_promotion._cli import run
from aml_promotion.exceptions import (
    RegistryError,
    SettingsError,
    TransientRegistryError,
    UsageError,
    VersionNotFoundError,
)
from aml_promotion.ports import VersionRef
from aml_promotion.testing import InMemoryBackend

NAME = "churn"
SETTINGS: dict[str, Any] = {"metrics_max": ["auc"]}
CHAMPION: dict[str, Any] = {**SETTINGS, "baseline": "tag:stage=prod"}
# A pipeline whose train step holds the model and whose evaluate step holds the metrics.
PIPELINE: dict[str, Any] = {
    "model_name": NAME,
    "model_file_name": "model.pkl",
    "metrics_child_run_name": "evaluate",
}


@pytest.fixture
def dev() -> InMemoryBackend:
    """The source: a dev registry with its runs."""
    return InMemoryBackend(location="memory://dev")


@pytest.fixture
def prod() -> InMemoryBackend:
    """The target: a prod registry, whose runs are never read."""
    return InMemoryBackend(location="memory://prod")


def dev_version(dev: InMemoryBackend, auc: float, *, run: bool = True) -> int:
    """Register a version of `NAME` in dev: from a run holding `auc`, or with only a metric tag."""
    if run:
        run_id = f"run-{auc}"
        dev.runs.add_run(run_id, experiment_name="train", metrics={"auc": auc}, files=["m.pkl"])
        return dev.registry.add_version(NAME, run_id=run_id).version
    return dev.registry.add_version(NAME, tags={"promotion.metric.auc": str(auc)}).version


def prod_champion(prod: InMemoryBackend, auc: float | None, *, run_id: str = "dev-run") -> int:
    """Put a champion in prod (holding the tag stage=prod), with its metric tag when given."""
    tags = {"stage": "prod"}
    if auc is not None:
        tags["promotion.metric.auc"] = str(auc)
    return prod.registry.add_version(NAME, run_id=run_id, tags=tags).version


def test_a_better_dev_version_lands_in_prod_once_with_its_record(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """Better than prod's champion: copied into prod, with the decision, its source, the tag."""
    prod_champion(prod, 0.80)
    number = dev_version(dev, 0.90)

    result = promote(
        candidate_version=f"{NAME}:{number}", backend=dev, target=prod, settings=CHAMPION
    )

    assert result.registered
    assert result.decision.verdict is Verdict.PROMOTE
    assert result.baseline is not None
    assert result.baseline.version == 1
    copy = prod.registry.get(NAME, 2)
    assert copy.tags["promotion.metric.auc"] == "0.9"
    assert copy.tags["promotion.baseline_version"] == "1"
    assert copy.tags["promotion.source.key"] == f"memory://dev#{NAME}/{number}"
    assert copy.tags["promotion.source.registry"] == "memory://dev"
    assert copy.tags["promotion.source.version"] == str(number)
    assert copy.tags["promotion.source.run"] == "run-0.9"
    assert copy.tags["stage"] == "prod"
    # The old champion is retired as main's champion rewrite retires a loser (not untagged).
    assert prod.registry.get(NAME, 1).tags["stage"] == "superseded"
    assert prod.registry.get(NAME, 1).tags["promotion.superseded_by"] == "2"
    assert result.champion_version == 2
    assert [request.source.uri for request in prod.registry.copies] == [
        f"memory://dev/{NAME}/{number}"
    ]
    assert NAME not in dev.registry.versions or len(dev.registry.versions[NAME]) == 1


def test_prods_runs_are_never_read_its_champion_is_compared_by_its_tags(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """A prod champion with a run in prod's store is still read from its tags alone."""
    prod.runs.add_run("dev-run", metrics={"auc": 0.99})  # were it read, the candidate would lose
    prod_champion(prod, 0.80)
    dev_version(dev, 0.90)

    result = promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=CHAMPION)

    assert result.registered
    assert "get_run" not in prod.operations()
    assert "get_metrics" not in prod.operations()


def test_a_worse_dev_version_leaves_prod_untouched(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """Worse than prod's champion: nothing copied, no tag moved."""
    prod_champion(prod, 0.80)
    dev_version(dev, 0.70)
    before = dict(prod.registry.versions)

    result = promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=CHAMPION)

    assert result.decision.verdict is Verdict.REJECT
    assert result.model is None
    assert prod.registry.versions == before
    assert prod.registry.copies == []
    assert not {"copy", "set_tags", "remove_tags"} & set(prod.operations())


def test_a_re_run_copies_nothing_new(dev: InMemoryBackend, prod: InMemoryBackend) -> None:
    """The same version promoted twice: the second finds the copy by its source."""
    prod_champion(prod, 0.80)
    dev_version(dev, 0.90)
    first = promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=CHAMPION)

    again = promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=CHAMPION)

    assert first.registered
    assert again.already_registered
    assert not again.registered
    assert again.model is not None
    assert again.model.version == 2
    assert len(prod.registry.copies) == 1
    assert any("already copied from memory://dev#churn/1" in n for n in again.decision.notes)
    assert again.champion_version == 2


def test_a_lost_copy_answer_is_completed_by_a_re_run_without_a_duplicate(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """The copy was made but its answer lost: the error says so; a re-run finds the copy."""
    prod_champion(prod, 0.80)
    dev_version(dev, 0.90)
    prod.lose_next("copy", TransientRegistryError("connection reset"))

    with pytest.raises(RegistryError):
        promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=CHAMPION)
    again = promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=CHAMPION)

    assert again.already_registered
    assert len(prod.registry.copies) == 1
    assert len(prod.registry.versions[NAME]) == 2
    # The re-run settled the champion tag the lost attempt never got to settle.
    assert prod.registry.get(NAME, 1).tags["stage"] == "superseded"
    assert prod.registry.get(NAME, 2).tags["stage"] == "prod"
    # The copy was made pending, as a registration is; the settle made its tag live.
    assert prod.registry.copies[0].tags["stage"] == "pending"
    assert prod.registry.get(NAME, 2).tags["stage"] == "prod"


@pytest.mark.parametrize("operation", ["find_by_source", "copy", "get_version"])
def test_a_failure_at_a_new_step_copies_nothing(
    dev: InMemoryBackend, prod: InMemoryBackend, operation: str
) -> None:
    """The source look-up, the copy's look-up or the copy failing: an error, nothing in prod."""
    prod_champion(prod, 0.80)
    dev_version(dev, 0.90)
    side = dev if operation == "get_version" else prod
    side.fail_next(operation, RegistryError(f"{operation} failed"))

    with pytest.raises(RegistryError, match=operation):
        promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=CHAMPION)

    assert len(prod.registry.versions[NAME]) == 1
    assert prod.registry.get(NAME, 1).tags["stage"] == "prod"


def test_a_dev_version_without_a_run_is_compared_by_its_metric_tags(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """A version whose run is not readable in dev offers its promotion.metric.* tags."""
    prod_champion(prod, 0.80)
    dev_version(dev, 0.85, run=False)

    result = promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=CHAMPION)

    assert result.registered
    assert result.decision.comparisons[0].candidate == pytest.approx(0.85)


def test_the_run_wins_over_the_tags_when_dev_can_read_it(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """A version with both a readable run and metric tags: the run's metrics are compared."""
    prod_champion(prod, 0.80)
    dev.runs.add_run("r", metrics={"auc": 0.70})
    dev.registry.add_version(NAME, run_id="r", tags={"promotion.metric.auc": "0.95"})

    result = promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=CHAMPION)

    assert result.decision.verdict is Verdict.REJECT
    assert result.candidate_run is not None
    assert result.candidate_run.run_id == "r"


def test_a_version_with_neither_run_nor_metric_tags_is_refused_unless_forced(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """Nothing to compare: refused, naming what is missing; forced, it is copied."""
    dev.registry.add_version(NAME, run_id="gone")

    refused = promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=SETTINGS)
    forced = promote(
        candidate_version=f"{NAME}:1",
        backend=dev,
        target=prod,
        settings={**SETTINGS, "force_registration": True},
    )

    assert refused.model is None
    assert "run 'gone' is not readable here" in refused.decision.summary
    assert "promotion.metric" in refused.decision.summary
    assert forced.registered
    assert forced.decision.verdict is Verdict.FORCE


def test_a_prod_champion_without_metric_tags_is_missing_its_metrics_and_says_how_to_seed(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """A champion registered by hand in prod: on_missing_baseline_metric applies (reject)."""
    prod_champion(prod, None)
    dev_version(dev, 0.99)

    result = promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=CHAMPION)
    skipped = promote(
        candidate_version=f"{NAME}:1",
        backend=dev,
        target=prod,
        # Every change check skipped: nothing improved, unless no improvement is required.
        settings={**CHAMPION, "on_missing_baseline_metric": "skip", "require_improvement": False},
    )

    assert result.decision.verdict is Verdict.REJECT
    assert result.baseline is not None
    assert result.baseline.version == 1
    assert any("promotion.metric.<metric>" in note for note in result.decision.notes)
    assert skipped.registered


def test_the_target_name_is_the_settings_model_name(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """model_name names the model in the target; the copy records its source's name."""
    dev_version(dev, 0.9)

    result = promote(
        candidate_version=f"{NAME}:1",
        backend=dev,
        target=prod,
        settings={**SETTINGS, "model_name": "churn-prod"},
    )

    assert result.model is not None
    assert result.model.name == "churn-prod"
    assert prod.registry.get("churn-prod", 1).tags["promotion.source.name"] == NAME


def test_without_a_target_the_version_is_copied_under_another_name_in_its_own_registry(
    dev: InMemoryBackend,
) -> None:
    """No target: the source registry is the target, and its runs are read for the baseline."""
    dev_version(dev, 0.80)
    first = promote(
        candidate_version=f"{NAME}:1", backend=dev, settings={**SETTINGS, "model_name": "gated"}
    )
    dev_version(dev, 0.90)
    second = promote(
        candidate_version=f"{NAME}:2", backend=dev, settings={**SETTINGS, "model_name": "gated"}
    )

    assert first.registered
    assert second.registered
    assert second.baseline is not None
    assert second.baseline.name == "gated"
    assert second.decision.comparisons[0].baseline == pytest.approx(0.80)


def test_the_versions_own_registry_and_name_is_refused(dev: InMemoryBackend) -> None:
    """Promoting a version into itself has nothing to copy: a usage error saying what to give."""
    dev_version(dev, 0.9)

    with pytest.raises(UsageError, match="give a target"):
        promote(candidate_version=f"{NAME}:1", backend=dev, settings=SETTINGS)


def test_an_alias_and_latest_name_the_version(dev: InMemoryBackend, prod: InMemoryBackend) -> None:
    """``name@alias`` and ``name:latest`` pick the version the registry points at."""
    dev_version(dev, 0.80)
    dev_version(dev, 0.90)
    dev.registry.aliases[NAME] = {"staging": 1}

    by_alias = promote(candidate_version=f"{NAME}@staging", backend=dev, target=prod, settings={})
    latest = promote(candidate_version=f"{NAME}:latest", backend=dev, target=prod, settings={})

    assert by_alias.model is not None
    assert prod.registry.get(NAME, 1).tags["promotion.source.version"] == "1"
    assert latest.model is not None
    assert prod.registry.get(NAME, 2).tags["promotion.source.version"] == "2"


def test_a_missing_version_is_an_error_naming_it(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """No such version: VersionNotFoundError with what was looked for."""
    with pytest.raises(VersionNotFoundError, match="churn:7") as caught:
        promote(candidate_version=f"{NAME}:7", backend=dev, target=prod, settings=SETTINGS)
    assert caught.value.model_name == NAME


@pytest.mark.parametrize(
    "text",
    [
        "churn", "churn:", ":3", "churn:0", "churn:x", "churn@", "", " ", "@x", " :3",
        # A name holding the other separator is refused, never read as model "churn:3".
        "churn:3@x", "churn@a@b", "churn@x:3", "churn:x:latest",
    ],
)  # fmt: skip
def test_a_malformed_candidate_version_is_a_usage_error(text: str) -> None:
    """Not NAME:N, NAME@ALIAS or NAME:latest: a usage error that names the field and the forms."""
    with pytest.raises(UsageError, match="NAME:VERSION") as caught:
        VersionRef.parse(text)
    assert str(caught.value).startswith(f"candidate_version {text!r} ")


@pytest.mark.parametrize(
    ("fields", "error", "words"),
    [
        ({"name": "churn", "number": True}, TypeError, "number must be .* not the boolean True"),
        ({"name": "churn", "number": 1.0}, TypeError, "number must be .* not float"),
        ({"name": "churn", "number": 0}, ValueError, "number must be a version number from 1"),
        ({"name": ""}, ValueError, "name is blank"),
        ({"name": "  "}, ValueError, "name is blank"),
        ({"name": 3}, TypeError, "name must be a model name .* not int"),
        ({"name": "churn:3"}, ValueError, "name 'churn:3' holds ':' or '@'"),
        ({"name": "churn", "alias": ""}, ValueError, "alias is blank"),
        ({"name": "churn", "alias": 3}, TypeError, "alias must be an alias .* not int"),
        ({"name": "churn", "number": 1, "alias": "x"}, ValueError, "number=1 and alias='x' both"),
    ],
)
def test_a_version_ref_refuses_fields_that_name_no_version(
    fields: dict[str, Any], error: type[Exception], words: str
) -> None:
    """VersionRef checks what it is given; the error names the field and what it expects."""
    with pytest.raises(error, match=words):
        VersionRef(**fields)


def test_a_version_ref_of_a_bool_number_never_reaches_promote(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """number=True was promoted as version 1: now it is refused before anything is read."""
    dev_version(dev, 0.9)

    with pytest.raises(TypeError, match="number"):
        promote(
            candidate_version=VersionRef(name=NAME, number=True),  # type: ignore[arg-type]
            backend=dev,
            target=prod,
            settings=SETTINGS,
        )
    assert prod.operations() == []


def test_a_bad_candidate_version_on_the_command_line_names_the_flag(
    dev: InMemoryBackend, prod: InMemoryBackend, tmp_path: Path
) -> None:
    """--candidate-version churn:3@x: exit 2, the error names --candidate-version; nothing read."""
    err = io.StringIO()
    code = run(
        ["--backend", "mlflow", "--candidate-version", "churn:3@x"],
        environ={},
        stdout=io.StringIO(),
        stderr=err,
        cwd=tmp_path,
        backend_factory=lambda _args: dev,
        target_factory=lambda _args: prod,
    )

    assert code == 2
    assert "--candidate-version 'churn:3@x' is not a version" in err.getvalue()
    assert dev.operations() == []


def test_a_candidate_version_parses_the_last_separator() -> None:
    """The forms, with a three-part Unity Catalog name."""
    assert VersionRef.parse("main.ml.churn:3") == VersionRef(name="main.ml.churn", number=3)
    assert VersionRef.parse("churn@champion") == VersionRef(name="churn", alias="champion")
    assert VersionRef.parse("churn:LATEST").latest
    assert str(VersionRef.parse(" churn:latest ")) == "churn:latest"


def test_target_alone_or_with_another_candidate_is_a_usage_error(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """target= needs candidate_version=, which names the candidate alone."""
    with pytest.raises(UsageError, match="candidate_version"):
        promote(run_id="r", experiment_name="e", backend=dev, target=prod, settings=SETTINGS)
    with pytest.raises(UsageError, match="alone"):
        promote(
            candidate_version="churn:1", run_id="r", backend=dev, target=prod, settings=SETTINGS
        )
    with pytest.raises(TypeError, match="target must be a backend"):
        promote(candidate_version="churn:1", backend=dev, target="prod", settings=SETTINGS)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="candidate_version must be a string"):
        promote(candidate_version=3, backend=dev, target=prod, settings=SETTINGS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "value"),
    [("job_output", "model_output"), ("metrics_child_run_name", "evaluate")],
)
def test_a_runs_parts_in_the_settings_are_refused_with_a_candidate_version(
    dev: InMemoryBackend, prod: InMemoryBackend, key: str, value: str
) -> None:
    """A run's parts (ignored by a copy) are a settings error naming them and candidate_version.

    Refused before either registry is asked anything.
    """
    dev_version(dev, 0.9)
    dev.calls.clear()

    with pytest.raises(SettingsError, match=rf"candidate_version.* @ \$\.{key}") as raised:
        promote(
            candidate_version=f"{NAME}:1",
            backend=dev,
            target=prod,
            settings={**SETTINGS, key: value},
        )

    assert [problem.path for problem in raised.value.problems] == [f"$.{key}"]
    assert dev.operations() == []
    assert prod.operations() == []


def test_both_parts_are_refused_at_once(dev: InMemoryBackend, prod: InMemoryBackend) -> None:
    """Every such setting is named in the one error, each at its path."""
    settings = {**SETTINGS, "job_output": "model_output", "metrics_child_run_name": "evaluate"}
    with pytest.raises(SettingsError) as raised:
        promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=settings)
    assert [p.path for p in raised.value.problems] == ["$.job_output", "$.metrics_child_run_name"]


def test_the_cli_refuses_job_output_with_a_candidate_version_as_exit_2(
    dev: InMemoryBackend, prod: InMemoryBackend, tmp_path: Path
) -> None:
    """--candidate-version with job_output in the settings: exit 2, nothing read or copied."""
    (tmp_path / "registermodel.json").write_text(
        '{"metrics_max": ["auc"], "job_output": "model_output"}'
    )
    dev_version(dev, 0.9)
    dev.calls.clear()
    argv = ["--backend", "mlflow", "--candidate-version", "churn:1"]

    assert _cli(argv, source=dev, target=prod, cwd=tmp_path) == 2
    assert dev.operations() == []
    assert prod.operations() == []


def test_a_dry_run_copies_nothing(dev: InMemoryBackend, prod: InMemoryBackend) -> None:
    """Dry run: the decision, and nothing in prod."""
    dev_version(dev, 0.9)

    result = promote(
        candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=SETTINGS, dry_run=True
    )

    assert result.decision.promote
    assert result.model is None
    assert prod.registry.versions == {}


def test_the_copy_carries_the_sources_own_tags_but_not_its_promotion_record(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """The dev version's owner tag travels; its dev alias holder tag and baseline do not."""
    dev.registry.add_version(
        NAME,
        tags={
            "owner": "team-a",
            "stage": "dev",
            "promotion.metric.auc": "0.9",
            "promotion.alias.champion": "true",
            "promotion.baseline_version": "7",
        },
    )

    promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=CHAMPION)

    copy = prod.registry.get(NAME, 1)
    assert copy.tags["owner"] == "team-a"
    assert copy.tags["stage"] == "prod"  # the champion tag wins over the source's own
    assert "promotion.alias.champion" not in copy.tags
    assert copy.tags["promotion.baseline_version"] == "none"


def test_a_registry_that_cannot_offer_or_take_a_version_is_a_usage_error(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """A source with no get_version, a target with no copy: said before anything is read."""
    no_ports = SimpleNamespace(runs=dev.runs, registry=object())

    with pytest.raises(UsageError, match="cannot offer a registered version"):
        promote(candidate_version="churn:1", backend=no_ports, target=prod, settings=SETTINGS)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="cannot take a copy"):
        promote(candidate_version="churn:1", backend=dev, target=no_ports, settings=SETTINGS)  # type: ignore[arg-type]
    assert dev.operations() == []


def _cli(argv: list[str], *, source: InMemoryBackend, target: InMemoryBackend, cwd: Path) -> int:
    return run(
        argv,
        environ={},
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        cwd=cwd,
        backend_factory=lambda _args: source,
        target_factory=lambda _args: target,
    )


def test_the_cli_promotes_a_version_into_the_target_the_hook_builds(
    dev: InMemoryBackend, prod: InMemoryBackend, tmp_path: Path
) -> None:
    """--candidate-version goes to promote() with the target from build_target_backend's hook."""
    (tmp_path / "registermodel.json").write_text('{"metrics_max": ["auc"]}')
    prod_champion(prod, 0.80)
    dev_version(dev, 0.70)
    dev_version(dev, 0.90)
    argv = ["--backend", "mlflow", "--candidate-version"]

    worse = _cli([*argv, "churn:1"], source=dev, target=prod, cwd=tmp_path)
    better = _cli([*argv, "churn:2"], source=dev, target=prod, cwd=tmp_path)

    assert worse == 1
    assert better == 0
    assert prod.registry.get(NAME, 2).tags["promotion.source.version"] == "2"


def test_the_target_registry_uri_is_for_mlflow_with_a_candidate_version(
    dev: InMemoryBackend, prod: InMemoryBackend, tmp_path: Path
) -> None:
    """--target-registry-uri on another backend, or without --candidate-version: exit 2."""
    on_azure = ["--backend", "azureml-v2", "--candidate-version", "c:1"]
    alone = ["--backend", "mlflow", "--target-registry-uri", "sqlite:///p.db"]

    assert (
        _cli([*on_azure, "--target-registry-uri", "x"], source=dev, target=prod, cwd=tmp_path) == 2
    )
    assert _cli(alone, source=dev, target=prod, cwd=tmp_path) == 2
    assert prod.operations() == []


def test_a_version_whose_metrics_came_from_another_pipeline_step_offers_that_steps_metrics(
    dev: InMemoryBackend, prod: InMemoryBackend
) -> None:
    """Registered from a pipeline's train step, scored by its evaluate step: that run is read.

    The dev promotion recorded the evaluate step (``promotion.metrics_run``); the copy into
    prod is compared by that step's metrics and evaluation data, never the train step's.
    """
    # The train step holds the model and was tagged with its training data: not what is compared.
    dev.runs.add_run("train-1", files=["outputs/model.pkl"], tags={"data": "train-set"})
    dev.runs.add_run("eval-1", metrics={"auc": 0.95}, tags={"data": "eval-set"})
    dev.runs.add_run("pipe-1", steps={"model_training": "train-1", "evaluate": "eval-1"})
    scored = {**SETTINGS, "evaluation_data": {"tag": "data"}}
    first = promote(
        run_id="pipe-1",
        backend=dev,
        settings={**scored, **PIPELINE},
    )
    assert first.model is not None
    assert first.model.run_id == "train-1"
    prod.registry.add_version(
        NAME, tags={"promotion.metric.auc": "0.90", "promotion.data.data": "eval-set"}
    )

    result = promote(candidate_version=f"{NAME}:1", backend=dev, target=prod, settings=scored)

    assert result.decision.verdict is Verdict.PROMOTE, result.decision.summary
    assert result.decision.comparisons[0].candidate == pytest.approx(0.95)
    assert result.registered


def test_a_copy_in_its_own_registry_keeps_the_step_its_metrics_came_from(
    dev: InMemoryBackend,
) -> None:
    """Copied under another name in dev, the copy is a baseline read from the evaluate step."""
    steps = {"model_training": "train-1", "evaluate": "eval-1"}
    dev.runs.add_run("train-1", files=["outputs/model.pkl"])
    dev.runs.add_run("eval-1", metrics={"auc": 0.80})
    dev.runs.add_run("pipe-1", steps=steps)
    promote(
        run_id="pipe-1",
        backend=dev,
        settings={**SETTINGS, **PIPELINE},
    )
    gated = {**SETTINGS, "model_name": "gated"}
    first = promote(candidate_version=f"{NAME}:1", backend=dev, settings=gated)
    dev_version(dev, 0.90)

    second = promote(candidate_version=f"{NAME}:2", backend=dev, settings=gated)

    assert first.registered
    assert second.decision.verdict is Verdict.PROMOTE, second.decision.summary
    assert second.decision.comparisons[0].baseline == pytest.approx(0.80)


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("sqlite:///typo.db", "--target-registry-uri 'sqlite:///typo.db': .* dry run creates no"),
        ("prod.db", "--target-registry-uri 'prod.db' is a file path, .* did you mean sqlite:///"),
        ("htp://127.0.0.1:5000", "--target-registry-uri 'htp://127.0.0.1:5000': MLflow knows no"),
    ],
)
def test_the_target_registry_uri_is_checked_as_the_tracking_uri_is(
    dev: InMemoryBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, uri: str, words: str
) -> None:
    """A dry run never creates the target's store; a bare path is told its sqlite:/// URI."""
    monkeypatch.chdir(tmp_path)  # where MLflow would create a relative store
    dev_version(dev, 0.9)
    err = io.StringIO()
    code = run(
        ["--backend", "mlflow", "--candidate-version", "churn:1", "--target-registry-uri", uri,
         "--dry-run"],
        environ={},
        stdout=io.StringIO(),
        stderr=err,
        cwd=tmp_path,
        backend_factory=lambda _args: dev,
    )  # fmt: skip

    assert code == 2, err.getvalue()
    assert re.search(words, err.getvalue()), err.getvalue()
    assert list(tmp_path.iterdir()) == []
