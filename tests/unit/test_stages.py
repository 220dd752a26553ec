"""Stage settings (``on_promote``, ``on_supersede``): checked at load, refused without stages."""

from __future__ import annotations

from typing import Any

import pytest

from aml_promotion import Settings, load_settings, promote
from aml_promotion.exceptions import SettingsError
from aml_promotion.ports import StageMoves
from aml_promotion.testing import InMemoryBackend


def _file(**more: Any) -> dict[str, Any]:
    return {"model_name": "churn", "metrics_max": ["auc"], "baseline": "tag:champion=true", **more}


def test_stage_settings_are_read_from_the_file() -> None:
    """on_promote.stage and on_supersede.stage become the settings' StageMoves."""
    settings = load_settings(
        _file(on_promote={"stage": "Production"}, on_supersede={"stage": "Archived"})
    )
    assert settings.stages == StageMoves(on_promote="Production", on_supersede="Archived")


def test_no_stage_settings_move_nothing() -> None:
    """Without them nothing moves."""
    assert not load_settings(_file()).stages.any


@pytest.mark.parametrize(
    ("more", "path", "words"),
    [
        ({"on_promote": {"stage": ""}}, "$.on_promote.stage", "blank"),
        ({"on_promote": {"stage": 3}}, "$.on_promote.stage", "string"),
        ({"on_promote": "Production"}, "$.on_promote", "expected an object"),
        ({"on_supersede": {"stage": "Archived"}, "baseline": "latest"}, "$.on_supersede", "tag:"),
        (
            {"on_promote": {"stage": "Staging"}, "baseline": "stage:Production"},
            "$.on_promote",
            "never be the champion",
        ),
        (
            {"on_promote": {"stage": "Production"}, "on_supersede": {"stage": "Production"}},
            "$.on_supersede",
            "both stage",
        ),
    ],
)
def test_bad_stage_settings_are_refused_at_their_path(
    more: dict[str, Any], path: str, words: str
) -> None:
    """Each bad stage setting is a SettingsError at its own path, saying what is expected."""
    with pytest.raises(SettingsError) as caught:
        load_settings(_file(**more))
    problems = {p.path: p.message for p in caught.value.problems}
    assert path in problems, problems
    assert words in problems[path]


def test_stage_values_check_themselves() -> None:
    """StageMoves refuses a non-string and a padded name; on_supersede needs a tag: baseline."""
    with pytest.raises(TypeError, match="on_promote"):
        StageMoves(on_promote=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="surrounding spaces"):
        StageMoves(on_supersede=" Archived")
    with pytest.raises(ValueError, match="tag:KEY=VALUE"):
        Settings(stages=StageMoves(on_supersede="Archived"))


def test_stages_on_a_registry_without_them_are_refused_before_anything_is_written() -> None:
    """The in-memory registry has no stages: a SettingsError naming the setting, nothing read."""
    backend = InMemoryBackend()
    backend.runs.add_run("r1", experiment_name="train", metrics={"auc": 0.9}, files=["model.pkl"])
    settings = _file(on_promote={"stage": "Production"})
    with pytest.raises(SettingsError) as caught:
        promote(experiment_name="train", run_id="r1", settings=settings, backend=backend)
    (problem,) = caught.value.problems
    assert problem.path == "$.on_promote.stage"
    assert "has no model stages" in problem.message
    assert backend.registry.versions == {}
