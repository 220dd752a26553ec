"""Finding the model among a run's files: a file name, a relative path, or a folder."""

from __future__ import annotations

import pytest

from aml_promotion._domain.model_files import find_model_file, normalize
from aml_promotion.exceptions import ModelFileError

RUN_FILES = [
    "outputs/model.pkl",
    "outputs/model.pkl.bak",
    "outputs/tf/saved_model.pb",
    "outputs/tf/variables/variables.index",
    "logs/azureml/driver.txt",
    "my_model.pkl",
]


@pytest.mark.parametrize(
    ("wanted", "found"),
    [
        ("model.pkl", "outputs/model.pkl"),
        ("my_model.pkl", "my_model.pkl"),
        ("saved_model.pb", "outputs/tf/saved_model.pb"),
        ("outputs/model.pkl", "outputs/model.pkl"),
        ("./outputs/model.pkl", "outputs/model.pkl"),
        ("/outputs/model.pkl", "outputs/model.pkl"),
        ("outputs\\model.pkl", "outputs/model.pkl"),
        ("tf/saved_model.pb", "outputs/tf/saved_model.pb"),
        ("outputs/tf/", "outputs/tf"),
        ("./outputs/tf/", "outputs/tf"),
        ("tf", "outputs/tf"),
        ("variables", "outputs/tf/variables"),
        (" outputs/model.pkl ", "outputs/model.pkl"),
    ],
)
def test_the_model_is_found_by_name_path_or_folder(wanted: str, found: str) -> None:
    """A file name anywhere, a relative path, or a folder (returned without its slash)."""
    assert find_model_file(RUN_FILES, wanted) == found


def test_a_name_matches_whole_file_names_only() -> None:
    """model.pkl does not match my_model.pkl or model.pkl.bak (the seed matched substrings)."""
    assert find_model_file(["my_model.pkl", "model.pkl.bak", "a/model.pkl"], "model.pkl") == (
        "a/model.pkl"
    )


def test_a_path_matches_whole_components_only() -> None:
    """outputs/model.pkl does not match xoutputs/model.pkl."""
    with pytest.raises(ModelFileError):
        find_model_file(["xoutputs/model.pkl"], "outputs/model.pkl")


def test_an_exact_relative_path_is_preferred_over_a_deeper_one() -> None:
    """outputs/model.pkl picks the top-level one when old/outputs/model.pkl exists too."""
    files = ["outputs/model.pkl", "old/outputs/model.pkl"]
    assert find_model_file(files, "outputs/model.pkl") == "outputs/model.pkl"


def test_a_relative_path_found_only_deeper_is_accepted() -> None:
    """A relative path that only exists below another folder is found there."""
    assert find_model_file(["run/outputs/model.pkl"], "outputs/model.pkl") == (
        "run/outputs/model.pkl"
    )


def test_a_file_is_preferred_over_a_folder_of_the_same_name() -> None:
    """A bare "model" names the file model when a folder model/ exists too; "model/" the folder."""
    files = ["outputs/model", "export/model/weights.bin"]
    assert find_model_file(files, "model") == "outputs/model"
    assert find_model_file(files, "model/") == "export/model"


def test_an_exact_folder_is_preferred_over_a_deeper_one() -> None:
    """outputs/model/ picks the top-level folder when a/outputs/model/ exists too."""
    files = ["outputs/model/w.bin", "a/outputs/model/w.bin"]
    assert find_model_file(files, "outputs/model/") == "outputs/model"


def test_several_matches_are_an_error_listing_them() -> None:
    """Two files named model.pkl: ModelFileError naming both, asking for the relative path."""
    files = ["a/model.pkl", "b/model.pkl", "c.txt"]
    with pytest.raises(ModelFileError) as info:
        find_model_file(files, "model.pkl")
    error = info.value
    assert error.matches == ("a/model.pkl", "b/model.pkl")
    assert error.files == ("a/model.pkl", "b/model.pkl", "c.txt")
    assert error.wanted == "model.pkl"
    assert str(error) == (
        "2 paths in the run match model_file_name 'model.pkl': 'a/model.pkl', 'b/model.pkl'; "
        "give the relative path of the one to register"
    )


def test_several_matching_folders_are_an_error() -> None:
    """A folder name found in two places is ambiguous too."""
    with pytest.raises(ModelFileError, match="2 paths in the run match"):
        find_model_file(["a/model/x", "b/model/y"], "model/")


def test_no_match_is_an_error_listing_what_the_run_holds() -> None:
    """Nothing matches: ModelFileError listing the run's files."""
    with pytest.raises(ModelFileError) as info:
        find_model_file(["outputs/model.onnx", "logs/a.txt"], "model.pkl")
    assert info.value.matches == ()
    assert str(info.value) == (
        "no file or folder in the run matches model_file_name 'model.pkl'; "
        "the run holds 'logs/a.txt', 'outputs/model.onnx'"
    )


def test_a_run_without_files_says_so() -> None:
    """An empty run: "no files at all"."""
    with pytest.raises(ModelFileError, match="the run holds no files at all"):
        find_model_file([], "model.pkl")


def test_a_long_listing_is_shortened_in_the_message_but_kept_whole_on_the_error() -> None:
    """Only the first 20 files are in the message; the error keeps them all."""
    files = [f"f{i:03}.txt" for i in range(50)]
    with pytest.raises(ModelFileError) as info:
        find_model_file(files, "model.pkl")
    assert str(info.value).endswith("'f019.txt' and 30 more")
    assert len(info.value.files) == 50


def test_an_empty_model_file_name_is_an_error() -> None:
    """An empty name, or "./", names nothing."""
    for wanted in ("", "./", "  "):
        with pytest.raises(ModelFileError, match="the model file name is empty"):
            find_model_file(["model.pkl"], wanted)


def test_paths_are_normalized() -> None:
    """Backslashes, ./ prefixes, and leading or trailing slashes are ignored."""
    assert normalize(".\\outputs\\model\\") == "outputs/model"
    assert normalize("././a/b/") == "a/b"
    assert normalize("/a") == "a"
