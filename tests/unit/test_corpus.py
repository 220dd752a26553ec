"""Real users' registermodel.json files behave as ../shared/corpus/registermodel/EXPECTED.md says.

Every file of the corpus must have an expectation below: a new file fails the suite until its
expected behaviour (from EXPECTED.md) is written down here.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from aml_promotion import Goal, Settings, load_settings
from aml_promotion._domain.model_files import find_model_file
from aml_promotion.exceptions import SettingsError, SettingsProblem, SettingsWarning

# The repository's parent holds shared/ (here, and in CI where shared/ is copied beside the clone).
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "registermodel"

if not CORPUS.is_dir():
    pytest.skip(
        f"the settings corpus is not there ({CORPUS}): copy shared/ beside the repository",
        allow_module_level=True,
    )

FILES = sorted(path.name for path in CORPUS.glob("*.json"))


@attrs.frozen
class Loads:
    """The file loads; `check` looks at the Settings; `warns` are unknown keys it must name."""

    check: Callable[[Settings], object] = lambda _settings: None
    warns: tuple[str, ...] = ()


@attrs.frozen
class Fails:
    """The file does not load; `check` looks at the problems reported (all at once)."""

    check: Callable[[list[SettingsProblem]], object]


def _invalid_json_at_line_3_column_5(problems: list[SettingsProblem]) -> None:
    [problem] = problems
    assert problem.path == "$"
    assert problem.message.startswith("not valid JSON: ")
    assert re.search(r"registermodel/[^ ]+\.json, line 3, column 5$", problem.message)


def _azure_template(problems: list[SettingsProblem]) -> None:
    by_path = {p.path: p.message for p in problems}
    assert "('<' '>')" in by_path["$.model_name"]
    assert by_path["$.model_framework"].startswith(
        "model_framework must be one of scikitlearn, onnx, tensorflow, keras, custom"
    )


def _in_both_lists(problems: list[SettingsProblem]) -> None:
    assert [(p.path, p.message) for p in problems] == [
        ("$.metrics_min", "metric 'Accuracy' is in both metrics_max and metrics_min"),
        ("$.metrics_min", "metric 'f1-score' is in both metrics_max and metrics_min"),
    ]


def _model_in_folder(folder: str) -> Callable[[Settings], object]:
    def check(settings: Settings) -> None:
        files = [f"{folder}/saved_model.pb", f"{folder}/variables/variables.index", "log.txt"]
        assert find_model_file(files, settings.model_file_name) == folder

    return check


def _maximizes_accuracy(settings: Settings) -> None:
    assert [(r.name, r.goal) for r in settings.policy.rules] == [("Accuracy", Goal.MAXIMIZE)]


def _path_within_the_run(settings: Settings) -> None:
    assert settings.model_file_name == "outputs/model.pkl"
    files = ["outputs/model.pkl", "model.pkl", "old/outputs/model.pkl"]
    assert find_model_file(files, settings.model_file_name) == "outputs/model.pkl"


def _whole_34_character_name(settings: Settings) -> None:
    assert settings.model_name == "COVID16Articles_githubactions_demo"
    assert len(settings.model_name) == 34


def _pipeline_step_and_dataset(settings: Settings) -> None:
    assert settings.pipeline_child_run_name == "model training step"
    assert settings.datasets == ("github_iris_dataset",)


def _tags(settings: Settings) -> None:
    assert settings.model_tags == {"type": "production", "team": "user1"}


EXPECTATIONS: dict[str, Loads | Fails] = {
    "Arnav047__Customer-Segmentation-Engine.json": Loads(),
    "Azure__aml-registermodel.json": Fails(_azure_template),
    "MynherVanKoek__aml-template.json": Fails(_in_both_lists),
    "ShreyasGithub__github-actions-aml-poc.json": Loads(_pipeline_step_and_dataset),
    "ThomasZ01__Azure-MLOPS.json": Loads(),  # leading whitespace before the JSON
    "berndverst__mlops-kubeflow-aml.json": Fails(_invalid_json_at_line_3_column_5),
    "buozuer__mlops.json": Fails(_invalid_json_at_line_3_column_5),
    "buozuer__mlopsdemomay.json": Loads(_maximizes_accuracy),
    "buozuer__mlopsmay.json": Loads(_maximizes_accuracy),
    "buozuer__mlopsnew.json": Loads(_maximizes_accuracy),
    "dinispeixoto__related-brands-mlops.json": Loads(),
    "laurenceday123__data_science_infrastructure.json": Loads(),
    "lyh01__unityhealthmlops.json": Loads(),  # tab indentation
    "marvinbuss__mlops.json": Loads(_path_within_the_run),
    "memasanz__ml-ops-template.json": Loads(),
    "mhelb__mlops-r-gha.json": Loads(warns=("webservice_name",)),
    "paulbruffett__mlops-base.json": Loads(_model_in_folder("output/model")),
    "paulbruffett__tycho_model.json": Loads(_model_in_folder("outputs/model")),
    "pulkitaggarwl__get-started-mlops.json": Loads(),
    "revodavid__mlops-r-gha.json": Loads(warns=("webservice_name",)),
    "rishavarjun__diabetes-detection.json": Loads(_tags),
    "roxanagoidaci__azure-ai-in-a-day-lab-02.json": Loads(_whole_34_character_name),
    "sglbl__Azure-Machine-Learning-Deployment.json": Loads(),
    "shikha1970__aml-template.json": Loads(),
    "shikha1970__mlopsbasic.json": Loads(),
    "solliancenet__azure-ai-in-a-day-lab-02-starter.json": Loads(),
    "tsmatsuz__oh4ml-lite-github-workflow.json": Loads(),
    "waqassiddiqi__cd4ml-example.json": Loads(),
}


def test_every_corpus_file_has_an_expectation() -> None:
    """A file added to the corpus fails here until its expected behaviour is written down."""
    missing = sorted(set(FILES) - set(EXPECTATIONS))
    assert not missing, f"no expectation for {missing}: add them from EXPECTED.md"
    gone = sorted(set(EXPECTATIONS) - set(FILES))
    assert not gone, f"expectations for files no longer in the corpus: {gone}"


def test_every_file_expected_md_names_is_in_the_corpus() -> None:
    """The table and the folder agree: each file EXPECTED.md names exists."""
    table = (CORPUS / "EXPECTED.md").read_text(encoding="utf-8")
    named = set(re.findall(r"[\w.-]+__[\w.-]+\.json", table))
    assert named
    assert named <= set(FILES)


def _what_the_file_says(settings: Settings, raw: dict[str, Any]) -> None:
    """The values are what the file says, for the keys the corpus uses."""
    for key in ("model_name", "model_framework_version", "pipeline_child_run_name"):
        if key in raw:
            assert getattr(settings, key) == raw[key]
    if "model_file_name" in raw:
        assert settings.model_file_name == raw["model_file_name"]
    listed = [*raw.get("metrics_max", []), *raw.get("metrics_min", [])]
    assert list(settings.policy.metric_names) == listed


@pytest.mark.parametrize("name", FILES)
def test_a_corpus_file_behaves_as_expected(name: str) -> None:
    """Each real file loads (with the values it holds) or fails, as EXPECTED.md says."""
    expectation = EXPECTATIONS.get(name)
    if expectation is None:
        pytest.fail(f"no expectation for {name}: add it from EXPECTED.md")
    path = CORPUS / name
    if isinstance(expectation, Fails):
        with pytest.raises(SettingsError) as info:
            load_settings(path)
        assert info.value.source == str(path)
        expectation.check(list(info.value.problems))
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings = load_settings(path)
    expected_warnings = (
        [f"unknown settings key(s) ignored in {path}: " + ", ".join(map(repr, expectation.warns))]
        if expectation.warns
        else []
    )
    assert [str(w.message) for w in caught if w.category is SettingsWarning] == expected_warnings
    assert [w for w in caught if w.category is not SettingsWarning] == []
    assert settings.unknown_keys == expectation.warns
    _what_the_file_says(settings, json.loads(path.read_text(encoding="utf-8")))
    expectation.check(settings)


@pytest.mark.parametrize("name", ["mhelb__mlops-r-gha.json", "revodavid__mlops-r-gha.json"])
def test_unknown_keys_of_the_corpus_are_errors_in_strict_mode(name: str) -> None:
    """In strict mode, webservice_name (a sibling action's key) is an error."""
    with pytest.raises(SettingsError) as info:
        load_settings(CORPUS / name, strict=True)
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("$.webservice_name", "unknown key 'webservice_name' (strict mode)")
    ]


def test_berndverst_after_fixing_its_commas_names_a_path_within_the_run(tmp_path: Path) -> None:
    """Once its missing commas are added, its model_file_name is a path within the run's files."""
    text = (CORPUS / "berndverst__mlops-kubeflow-aml.json").read_text(encoding="utf-8")
    fixed = re.sub(r'"\n(\s+")', r'",\n\1', text)
    path = tmp_path / "registermodel.json"
    path.write_text(fixed, encoding="utf-8")
    settings = load_settings(path)
    assert settings.model_file_name == "data/processed/model.h5"
    assert settings.model_framework_version == "2.0"
    files = ["data/processed/model.h5", "data/raw/model.h5", "model.h5"]
    assert find_model_file(files, settings.model_file_name) == "data/processed/model.h5"
