"""What a user of Azure/aml-registermodel relied on: issue #9 "Drop-in for real", in-process.

Local-mode model search, no login prompt in CI, the pull-request default name, the no-rules
notice, and local-mode versions as baselines (recorded metrics, content digest). The same
behaviours end to end, through ``aml-promote`` on real backends, are in tests/compat/.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from aml_promotion import promote
from aml_promotion._cli import (
    NO_RULES_NOTICE,
    Arguments,
    ExitCode,
    build_backend,
    find_local_model,
    is_interactive,
    run,
)
from aml_promotion._domain import tags
from aml_promotion._github import default_model_name
from aml_promotion._service import content_digest
from aml_promotion.exceptions import CredentialsError, ModelFileError, UsageError
from aml_promotion.testing import InMemoryBackend

NAME = "churn"
RULES = {"model_name": NAME, "metrics_max": ["auc"]}


def write(path: Path, content: bytes = b"model") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


# --- item 2: local mode finds the model file as the original did ----------------------------------


def test_a_bare_name_found_once_in_the_checkout_is_used(tmp_path: Path) -> None:
    """One file of that name anywhere in GITHUB_WORKSPACE is the model."""
    model = write(tmp_path / "outputs" / "deep" / "model.pkl")
    write(tmp_path / "outputs" / "other.pkl")
    found = find_local_model("model.pkl", environ={"GITHUB_WORKSPACE": str(tmp_path)}, cwd=Path())
    assert found == model


def test_without_github_workspace_the_working_directory_is_searched(tmp_path: Path) -> None:
    """Outside GitHub Actions the search starts in the working directory."""
    model = write(tmp_path / "a" / "model.pkl")
    assert find_local_model("model.pkl", environ={}, cwd=tmp_path) == model


def test_a_bare_name_may_name_a_model_folder(tmp_path: Path) -> None:
    """A folder of that name (an MLflow model directory) is the model, its files not searched."""
    write(tmp_path / "build" / "model" / "MLmodel")
    found = find_local_model("model", environ={}, cwd=tmp_path)
    assert found == tmp_path / "build" / "model"


def test_several_matches_exit_2_listing_each(tmp_path: Path) -> None:
    """Two files of that name: an error listing both (the original silently took the first)."""
    write(tmp_path / "model.pkl")
    write(tmp_path / "tests" / "model.pkl")
    with pytest.raises(ModelFileError, match="2 files or folders") as caught:
        find_local_model("model.pkl", environ={}, cwd=tmp_path)
    assert caught.value.matches == ("model.pkl", "tests/model.pkl")
    assert "'tests/model.pkl'" in str(caught.value)


def test_no_match_says_where_it_looked(tmp_path: Path) -> None:
    """No file of that name: an error naming the folder searched and the variable it came from."""
    workspace = tmp_path / "checkout"
    workspace.mkdir()
    with pytest.raises(ModelFileError, match="no file or folder named") as caught:
        find_local_model("model.pkl", environ={"GITHUB_WORKSPACE": str(workspace)}, cwd=tmp_path)
    assert str(workspace) in str(caught.value)
    assert "GITHUB_WORKSPACE" in str(caught.value)


def test_git_and_virtualenv_folders_are_not_searched(tmp_path: Path) -> None:
    """Copies under .git, .venv, .nox or any folder with pyvenv.cfg never count as matches."""
    model = write(tmp_path / "model.pkl")
    for skipped in (".git/objects", ".venv/lib", ".nox/lint", "venv", "env/lib"):
        write(tmp_path / skipped / "model.pkl")
    write(tmp_path / "env" / "pyvenv.cfg", b"home = /usr/bin")
    assert find_local_model("model.pkl", environ={}, cwd=tmp_path) == model


@pytest.mark.parametrize("name", ["model.pkl", "model"])
def test_mlflows_own_artifact_folders_are_not_searched(tmp_path: Path, name: str) -> None:
    """What MLflow logged (in mlruns, mlartifacts, an artifact root elsewhere) never matches."""
    model = write(tmp_path / "outputs" / name)
    run, logged = "0123456789abcdef0123456789abcdef", "m-" + "f" * 32
    write(tmp_path / "mlruns" / "1" / run / "artifacts" / "model" / name)
    write(tmp_path / "mlartifacts" / "2" / run / "artifacts" / name)
    write(tmp_path / "store" / "3" / run / "artifacts" / "model" / name)
    write(tmp_path / "store" / "3" / "models" / logged / "artifacts" / name)
    assert find_local_model(name, environ={}, cwd=tmp_path) == model


def test_a_folder_only_named_like_mlflows_is_searched(tmp_path: Path) -> None:
    """An ``artifacts`` folder outside MLflow's layout is the user's: it is searched."""
    model = write(tmp_path / "build" / "artifacts" / "model.pkl")
    assert find_local_model("model.pkl", environ={}, cwd=tmp_path) == model


def test_a_name_with_a_path_separator_is_used_as_given(tmp_path: Path) -> None:
    """`outputs/model.pkl` is that path from the working directory, with no search."""
    write(tmp_path / "outputs" / "model.pkl")
    write(tmp_path / "elsewhere" / "outputs" / "model.pkl")
    found = find_local_model("outputs/model.pkl", environ={}, cwd=tmp_path)
    assert found == tmp_path / "outputs" / "model.pkl"
    assert find_local_model("out\\model.pkl", environ={}, cwd=tmp_path) == (
        tmp_path / "out\\model.pkl"
    )


def run_cli(
    workdir: Path, backend: InMemoryBackend, *argv: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(
        list(argv),
        environ=env or {},
        stdout=stdout,
        stderr=stderr,
        cwd=workdir,
        backend_factory=lambda _args: backend,
    )
    return code, stdout.getvalue(), stderr.getvalue()


def settings_file(workdir: Path, settings: dict[str, object]) -> None:
    folder = workdir / ".cloud" / ".azure"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "registermodel.json").write_text(json.dumps(settings), encoding="utf-8")


def test_the_cli_registers_the_one_match_and_exits_2_for_several(
    tmp_path: Path, backend: InMemoryBackend
) -> None:
    """Local mode through the command line: the match is registered; two matches are bad input."""
    settings_file(tmp_path, {"model_name": NAME, "model_file_name": "model.pkl"})
    model = write(tmp_path / "outputs" / "model.pkl")
    code, out, _ = run_cli(tmp_path, backend, "--json")
    assert code == ExitCode.OK
    assert json.loads(out)["model_path"] == str(model)
    write(tmp_path / "copy" / "model.pkl", b"another")
    code, _, err = run_cli(tmp_path, backend)
    assert code == ExitCode.BAD_INPUT
    assert "outputs/model.pkl" in err
    assert "copy/model.pkl" in err


# --- item 5: no credentials in CI fails at once ---------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "terminal", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"CI": "true"}, True, False),
        ({"CI": "1"}, True, False),
        ({"CI": "false"}, True, True),
        ({"CI": "0"}, True, True),
        ({"GITHUB_ACTIONS": "true"}, True, False),
    ],
)
def test_only_a_terminal_outside_ci_is_interactive(
    environ: dict[str, str], terminal: bool, expected: bool
) -> None:
    """CI or GITHUB_ACTIONS set, or no terminal: nobody can answer a login prompt."""
    assert is_interactive(environ, terminal=terminal) is expected


def test_is_interactive_asks_stdin_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without `terminal`, stdin's isatty() decides (a test's captured stdin is no terminal)."""
    monkeypatch.setattr("sys.stdin", io.StringIO())
    assert is_interactive({}) is False


def azureml_args(tmp_path: Path) -> Arguments:
    return Arguments.parse(
        ["--backend=azureml", "--workspace-config", str(tmp_path / "config.json")]
    )


@pytest.mark.parametrize("credentials", ["", "   "])
@pytest.mark.parametrize(
    ("environ", "terminal"),
    [({"GITHUB_ACTIONS": "true"}, True), ({"CI": "true"}, True), ({}, False)],
)
def test_no_credentials_in_ci_is_a_credentials_error_naming_the_input_and_format(
    tmp_path: Path, environ: dict[str, str], terminal: bool, credentials: str
) -> None:
    """Empty or missing AZURE_CREDENTIALS in CI: exit 2 at once, never a login prompt."""
    env = {**environ, "AZURE_CREDENTIALS": credentials} if credentials else environ
    with pytest.raises(CredentialsError) as caught:
        build_backend(azureml_args(tmp_path), environ=env, cwd=tmp_path, interactive=terminal)
    message = str(caught.value)
    assert "azure_credentials" in message
    assert "AZURE_CREDENTIALS" in message
    assert "az ad sp create-for-rbac --json-auth" in message
    assert "--sdk-auth" not in message  # deprecated by Microsoft: never advised
    assert "clientId, clientSecret, subscriptionId and tenantId" in message
    assert caught.value.missing == ("AZURE_CREDENTIALS",)


def test_the_cli_exits_2_without_credentials_in_github_actions(tmp_path: Path) -> None:
    """Through the command line: exit 2, an error annotation, and no backend built."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run(
        ["--backend", "azureml"],
        environ={"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/churn"},
        stdout=stdout,
        stderr=stderr,
        cwd=tmp_path,
    )
    assert code == ExitCode.BAD_INPUT
    assert "::error title=aml-promote%3A bad input::no Azure credentials" in stderr.getvalue()


# --- item 6: the pull-request default name --------------------------------------------------------


def test_a_pull_request_defaults_to_the_base_branchs_model() -> None:
    """On refs/pull/N/merge the default name is <repo>-<base branch>, not <repo>-N-merge."""
    environ = {
        "GITHUB_REPOSITORY": "octo-org/churn",
        "GITHUB_REF": "refs/pull/12/merge",
        "GITHUB_REF_NAME": "12/merge",
        "GITHUB_BASE_REF": "release/2.x",
        "GITHUB_HEAD_REF": "feature/x",
    }
    assert default_model_name(environ) == "churn-release-2.x"


def test_a_push_keeps_its_branch_even_with_a_stray_base_ref() -> None:
    """GITHUB_BASE_REF only counts on a pull request's ref."""
    environ = {
        "GITHUB_REPOSITORY": "octo-org/churn",
        "GITHUB_REF": "refs/heads/dev",
        "GITHUB_REF_NAME": "dev",
        "GITHUB_BASE_REF": "main",
    }
    assert default_model_name(environ) == "churn-dev"


# --- item 1: no metric rules: a notice, and idempotent re-runs ------------------------------------


def test_no_rules_adds_a_notice_suggesting_metrics(
    tmp_path: Path, backend: InMemoryBackend
) -> None:
    """Without metrics_max/metrics_min the model is registered and a ::notice:: suggests them."""
    settings_file(tmp_path, {"model_name": NAME})
    run_id = backend.runs.add_run(experiment_name="train", files=["model.pkl"]).run_id
    env = {"GITHUB_ACTIONS": "true"}
    code, _, err = run_cli(
        tmp_path, backend, "--experiment-name", "train", "--run-id", run_id, env=env
    )
    assert code == ExitCode.OK
    assert "::notice title=No metric rules,file=.cloud/.azure/registermodel.json::" in err
    assert "metrics_max / metrics_min" in NO_RULES_NOTICE
    settings_file(tmp_path, {"model_name": NAME, "metrics_max": ["auc"]})
    other = backend.runs.add_run(experiment_name="train", files=["model.pkl"], metrics={"auc": 1})
    _, _, err = run_cli(
        tmp_path, backend, "--experiment-name", "train", "--run-id", other.run_id, env=env
    )
    assert "No metric rules" not in err


def test_no_rules_rerun_of_the_same_run_is_already_registered(backend: InMemoryBackend) -> None:
    """The same run promoted twice without rules: one version, the second call registers nothing."""
    run_id = backend.runs.add_run(experiment_name="train", files=["model.pkl"]).run_id
    settings = {"model_name": NAME}
    first = promote(settings=settings, backend=backend, experiment_name="train", run_id=run_id)
    again = promote(settings=settings, backend=backend, experiment_name="train", run_id=run_id)
    assert first.registered
    assert again.already_registered
    assert again.model == first.model
    assert [v.version for v in backend.registry.versions[NAME]] == [1]


# --- item 3: a version registered in local mode is a real baseline --------------------------------


def test_a_runless_version_is_compared_through_its_recorded_metrics(
    backend: InMemoryBackend,
) -> None:
    """No linked run (Azure ML local mode): promotion.metric.* on the version is the baseline."""
    backend.registry.add_version(NAME, tags={tags.metric_tag("auc"): "0.8"})
    worse = backend.runs.add_run(experiment_name="t", metrics={"auc": 0.7}, files=["model.pkl"])
    better = backend.runs.add_run(experiment_name="t", metrics={"auc": 0.9}, files=["model.pkl"])
    rejected = promote(settings=RULES, backend=backend, experiment_name="t", run_id=worse.run_id)
    assert not rejected.decision.promote
    assert rejected.decision.comparisons[0].baseline == pytest.approx(0.8)
    assert rejected.baseline is not None
    assert rejected.baseline.version == 1
    promoted = promote(settings=RULES, backend=backend, experiment_name="t", run_id=better.run_id)
    assert promoted.registered
    assert promoted.model is not None
    assert promoted.model.tags[tags.BASELINE_VERSION] == "1"


def test_a_recorded_version_missing_the_rules_metric_is_a_missing_baseline_metric(
    backend: InMemoryBackend,
) -> None:
    """Recorded metrics, but not this one: on_missing_baseline_metric applies (reject)."""
    backend.registry.add_version(NAME, tags={tags.metric_tag("f1"): "0.8"})
    cand = backend.runs.add_run(experiment_name="t", metrics={"auc": 0.9}, files=["model.pkl"])
    result = promote(settings=RULES, backend=backend, experiment_name="t", run_id=cand.run_id)
    assert not result.decision.promote
    assert result.baseline is not None


def test_recorded_metrics_read_numbers_and_skip_what_is_not_one() -> None:
    """Tag text back to floats: inf too; an unreadable value reads as missing."""
    recorded = {
        tags.metric_tag("auc"): "0.91",
        tags.metric_tag("loss"): "-inf",
        tags.metric_tag("f1"): "n/a",
        "team": "risk",
    }
    assert tags.recorded_metrics(recorded, ["auc", "loss", "f1", "absent"]) == {
        "auc": 0.91,
        "loss": float("-inf"),
    }
    assert tags.recorded_metrics({"team": "risk"}, ["auc"]) is None


def test_local_versions_are_baselines_for_later_local_models(tmp_path: Path) -> None:
    """Local mode on a backend without runs: a worse local model is rejected, a better one in."""
    backend = InMemoryBackend(local_runs=False)
    first = promote(
        settings=RULES,
        backend=backend,
        model_path=write(tmp_path / "v1.pkl", b"1"),
        metrics={"auc": 0.8},
    )
    assert first.registered
    assert first.model is not None
    assert first.model.run_id is None
    worse = promote(
        settings=RULES,
        backend=backend,
        model_path=write(tmp_path / "v2.pkl", b"2"),
        metrics={"auc": 0.7},
    )
    assert not worse.decision.promote
    assert worse.decision.comparisons[0].baseline == pytest.approx(0.8)
    better = promote(
        settings=RULES,
        backend=backend,
        model_path=write(tmp_path / "v3.pkl", b"3"),
        metrics={"auc": 0.9},
    )
    assert better.registered


def test_a_rerun_of_the_same_local_model_is_already_registered(tmp_path: Path) -> None:
    """Same content again: "already registered", not a "no improvement" rejection."""
    backend = InMemoryBackend(local_runs=False)
    model = write(tmp_path / "model.pkl", b"weights")
    first = promote(settings=RULES, backend=backend, model_path=model, metrics={"auc": 0.8})
    assert first.model is not None
    assert first.model.tags[tags.MODEL_DIGEST] == content_digest(model)
    again = promote(settings=RULES, backend=backend, model_path=model, metrics={"auc": 0.8})
    assert again.already_registered
    assert again.model == first.model
    assert again.decision.promote
    assert any("same content as version 1" in note for note in again.decision.notes)
    dry = promote(
        settings=RULES, backend=backend, model_path=model, metrics={"auc": 0.8}, dry_run=True
    )
    assert dry.already_registered
    assert dry.model is None
    assert len(backend.registry.versions[NAME]) == 1


def test_the_cli_reports_a_local_rerun_as_already_registered(
    tmp_path: Path, backend: InMemoryBackend
) -> None:
    """The outcome line of a local re-run names the same content, not a run."""
    settings_file(tmp_path, {"model_name": NAME, "model_file_name": "model.pkl"})
    write(tmp_path / "model.pkl")
    assert run_cli(tmp_path, backend)[0] == ExitCode.OK
    code, out, _ = run_cli(tmp_path, backend)
    assert code == ExitCode.OK
    assert "Already registered from the same model content: churn version 1." in out


def test_a_folder_digest_covers_names_and_contents_not_location(tmp_path: Path) -> None:
    """Same files elsewhere: same digest; a renamed or changed file: another digest."""
    write(tmp_path / "a" / "model" / "weights.bin", b"w")
    write(tmp_path / "a" / "model" / "MLmodel", b"m")
    write(tmp_path / "b" / "model" / "weights.bin", b"w")
    write(tmp_path / "b" / "model" / "MLmodel", b"m")
    first = content_digest(tmp_path / "a" / "model")
    assert first == content_digest(tmp_path / "b" / "model")
    assert first.startswith("sha256:")
    (tmp_path / "b" / "model" / "MLmodel").rename(tmp_path / "b" / "model" / "MLmodel2")
    assert content_digest(tmp_path / "b" / "model") != first
    write(tmp_path / "a" / "model" / "weights.bin", b"changed")
    assert content_digest(tmp_path / "a" / "model") != first


def test_a_folder_digest_follows_symlinked_files_and_folders_and_survives_a_loop(
    tmp_path: Path,
) -> None:
    """Weights behind a symlinked folder (DVC, git-annex) count: changing them is new content."""
    write(tmp_path / "store" / "sub" / "x.bin", b"x1")
    write(tmp_path / "store" / "w.bin", b"w")
    model = tmp_path / "model"
    write(model / "MLmodel", b"m")
    (model / "sub").symlink_to(tmp_path / "store" / "sub", target_is_directory=True)
    (model / "w.bin").symlink_to(tmp_path / "store" / "w.bin")
    (model / "sub" / "loop").symlink_to(model, target_is_directory=True)  # back to the top
    first = content_digest(model)
    write(tmp_path / "store" / "sub" / "x.bin", b"x2")
    assert content_digest(model) != first
    write(tmp_path / "store" / "w.bin", b"w2")
    third = content_digest(model)
    assert third != first
    # The same files, copied rather than linked: the same content.
    copy = tmp_path / "copy"
    write(copy / "MLmodel", b"m")
    write(copy / "w.bin", b"w2")
    write(copy / "sub" / "x.bin", b"x2")
    assert content_digest(copy) == third


def test_a_folder_digest_is_the_one_earlier_releases_recorded(tmp_path: Path) -> None:
    """Pinned: versions registered before keep matching their re-runs ("already registered").

    The files are ordered by path segments: ``data/w.bin`` before ``data.json``, whatever the
    characters that sort before ``/``.
    """
    write(tmp_path / "model" / "data" / "w.bin", b"w")
    write(tmp_path / "model" / "data.json", b"{}")
    write(tmp_path / "model" / "MLmodel", b"m")
    assert content_digest(tmp_path / "model") == (
        "sha256:a5e748925c5bbbdcdbbad3082bdbb7abd57ee7f955d874070d57891b68a5d5c9"
    )


def test_a_folder_reached_twice_is_read_under_both_paths_whatever_the_listing_order(
    tmp_path: Path,
) -> None:
    """a/ and z -> a: both are uploaded, both are in the digest, as if z were a copy."""
    for first in ("a", "z"):  # the order the two are made in (listing orders differ)
        model = tmp_path / f"made-{first}" / "model"
        if first == "z":
            (model / "z").parent.mkdir(parents=True)
            (model / "z").symlink_to(model / "a", target_is_directory=True)
            write(model / "a" / "w.bin", b"w")
        else:
            write(model / "a" / "w.bin", b"w")
            (model / "z").symlink_to(model / "a", target_is_directory=True)
    copy = tmp_path / "copy"
    write(copy / "a" / "w.bin", b"w")
    write(copy / "z" / "w.bin", b"w")
    expected = content_digest(copy)
    assert content_digest(tmp_path / "made-a" / "model") == expected
    assert content_digest(tmp_path / "made-z" / "model") == expected


# --- item 4: the workspace file that Azure/aml-workspace writes wins ------------------------------

SCOPE = "/subscriptions/S/resourceGroups/R/providers/Microsoft.MachineLearningServices/workspaces/"


def test_aml_arm_config_wins_over_a_committed_config_json(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A developer's config.json beside the CI's aml_arm_config.json never redirects CI: logged."""
    from aml_promotion.adapters.azureml import find_workspace_config  # noqa: PLC0415

    keys = {"subscription_id": "S", "resource_group": "R", "workspace_name": "dev-workspace"}
    (tmp_path / "config.json").write_text(json.dumps(keys), encoding="utf-8")
    (tmp_path / ".azureml").mkdir()
    (tmp_path / ".azureml" / "config.json").write_text(json.dumps(keys), encoding="utf-8")
    arm = tmp_path / ".cloud" / ".azure"
    arm.mkdir(parents=True)
    # Deeper than both config.json files: precedence is by file, not by folder.
    (arm / "aml_arm_config.json").write_text(json.dumps({"Scope": SCOPE + "ci"}))
    with caplog.at_level("INFO", logger="aml_promotion"):
        found = find_workspace_config(arm)
    assert found.workspace_name == "ci"
    assert found.path == arm.resolve() / "aml_arm_config.json"
    assert "workspace configuration from" in caplog.text
    assert str(arm.resolve() / "aml_arm_config.json") in caplog.text
    assert str(tmp_path / "config.json") in caplog.text, "the config.json passed over is named"
    caplog.clear()
    with caplog.at_level("INFO", logger="aml_promotion"):
        assert find_workspace_config(tmp_path).workspace_name == "dev-workspace"
    assert f"workspace configuration from {tmp_path / '.azureml' / 'config.json'}" in caplog.text


@pytest.mark.parametrize("given", ["typo.json", "missing-folder"])
def test_a_workspace_configuration_that_does_not_exist_is_never_replaced_by_another(
    tmp_path: Path, given: str
) -> None:
    """A mistyped path is an error naming it, even with a config.json in the folder above."""
    from aml_promotion.adapters.azureml import find_workspace_config  # noqa: PLC0415

    keys = {"subscription_id": "S", "resource_group": "R", "workspace_name": "elsewhere"}
    (tmp_path / "config.json").write_text(json.dumps(keys), encoding="utf-8")
    with pytest.raises(UsageError, match=r"does not exist") as caught:
        find_workspace_config(tmp_path / "sub" / given)
    assert given in str(caught.value)


def test_a_relative_github_workspace_is_taken_from_the_working_directory(tmp_path: Path) -> None:
    """GITHUB_WORKSPACE=checkout (relative) is searched under the working directory."""
    model = write(tmp_path / "checkout" / "model.pkl")
    write(tmp_path / "elsewhere" / "model.pkl")
    found = find_local_model("model.pkl", environ={"GITHUB_WORKSPACE": "checkout"}, cwd=tmp_path)
    assert found == model


def test_many_matches_are_listed_up_to_twenty(tmp_path: Path) -> None:
    """A long list of matches is cut after twenty, saying how many more there are."""
    for index in range(23):
        write(tmp_path / f"copy{index:02}" / "model.pkl")
    with pytest.raises(ModelFileError, match="and 3 more") as caught:
        find_local_model("model.pkl", environ={}, cwd=tmp_path)
    assert len(caught.value.matches) == 23


def test_without_rules_a_runless_baseline_is_kept_as_the_baseline(
    backend: InMemoryBackend,
) -> None:
    """No rules: a hand-registered latest version stays the recorded baseline; registered."""
    backend.registry.add_version(NAME)
    cand = backend.runs.add_run(experiment_name="t", files=["model.pkl"])
    result = promote(
        settings={"model_name": NAME}, backend=backend, experiment_name="t", run_id=cand.run_id
    )
    assert result.registered
    assert result.baseline is not None
    assert result.model is not None
    assert result.model.tags[tags.BASELINE_VERSION] == "1"
    assert "passed over" not in result.decision.summary


def test_a_local_model_passes_over_a_hand_registered_version(tmp_path: Path) -> None:
    """Local mode against a version with no run and no recorded metrics: no baseline, said so."""
    backend = InMemoryBackend(local_runs=False)
    backend.registry.add_version(NAME)
    result = promote(
        settings=RULES, backend=backend, model_path=write(tmp_path / "m.pkl"), metrics={"auc": 0.5}
    )
    assert result.registered
    assert result.baseline is None
    assert "version 1 of churn was passed over as the baseline" in result.decision.summary
