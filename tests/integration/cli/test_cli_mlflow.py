"""``aml-promote --backend mlflow`` end to end: a subprocess, against a local MLflow sqlite store.

The runs are logged with the real MLflow client, once per module, into a template store (creating
an MLflow database runs its migrations: seconds); each test promotes against its own copy of the
database file, and reads the outcome back with the MLflow client.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from integration.cli.clirun import Cli, CliRun
from integration.cli.mlflow_store import SETTINGS, Store, TemplateStore
from mlflow_sqlite import MARKS

pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")

pytestmark = MARKS

ACTION = Path(__file__).resolve().parents[3] / "action.yml"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Runs logged with the MLflow client; version 1 of `churn` registered from the baseline."""
    store = TemplateStore.create(tmp_path_factory.mktemp("mlflow-template"))
    for name, auc, log_loss, status in (
        ("baseline", 0.80, 0.40, "FINISHED"),
        ("better", 0.85, 0.35, "FINISHED"),
        ("worse", 0.75, 0.45, "FINISHED"),
        ("failed", 0.99, 0.01, "FAILED"),
    ):
        store.log_run(name, {"auc": auc, "log_loss": log_loss}, status=status)
    # A pipeline: the parent run, its "train" step with the model, its "evaluate" step with the
    # metrics (MLflow's nested runs: children tagged with their parent's id).
    client, experiment_id = store.client, store.experiment_id
    parent = client.create_run(experiment_id, run_name="pipeline").info.run_id
    for step, files, metrics in (
        ("train", True, {}),
        ("evaluate", False, {"auc": 0.9, "log_loss": 0.3}),
    ):
        child = client.create_run(
            experiment_id, run_name=step, tags={"mlflow.parentRunId": parent}
        ).info.run_id
        for metric, value in metrics.items():
            client.log_metric(child, metric, value)
        if files:
            client.log_artifact(child, str(store.model_file), "outputs")
        client.set_terminated(child)
        store.runs[f"pipeline-{step}"] = child
    client.set_terminated(parent)
    store.runs["pipeline"] = parent
    return store.done()


@pytest.fixture
def store(template: Store, tmp_path: Path) -> Store:
    """This test's copy of the template store (the artifacts stay shared: nothing writes them)."""
    return template.copy(tmp_path)


@pytest.fixture
def uri(store: Store) -> str:
    """This test's tracking URI."""
    return store.uri


@pytest.fixture
def versions(uri: str) -> Callable[[str], list[int]]:
    """The versions of a model in this test's store, read with the MLflow client."""

    def read(name: str) -> list[int]:
        from mlflow import MlflowClient  # noqa: PLC0415

        found = MlflowClient(tracking_uri=uri).search_model_versions(f"name='{name}'")
        return sorted(int(v.version) for v in found)

    return read


@pytest.fixture(autouse=True)
def settings(write_settings: Callable[..., Path]) -> Path:
    """The settings file in .cloud/.azure/registermodel.json."""
    return write_settings(SETTINGS)


@pytest.fixture
def promote(cli: Cli, store: Store, uri: str) -> Callable[..., CliRun]:
    """Promote run `name` of the template with the mlflow backend; `args` and `env` add to it."""

    def invoke(name: str | None, *args: str, env: dict[str, str] | None = None) -> CliRun:
        target = [] if name is None else ["--experiment-name", "train"]
        if name is not None:
            target += ["--run-id", store.runs.get(name, name)]
        return cli("--backend", "mlflow", "--tracking-uri", uri, *target, *args, env=env)

    return invoke


# --- exit 0 --------------------------------------------------------------------------------------


def test_a_better_run_is_registered_with_outputs_and_summary(
    promote: Callable[..., CliRun],
    github_files: dict[str, str],
    versions: Callable[[str], list[int]],
) -> None:
    """A better run becomes version 2: exit 0, the outputs, the summary and the table."""
    done = promote("better", env=github_files)
    assert done.code == 0, done.explain()
    assert done.outputs["model_name"] == "churn"
    assert done.outputs["model_version"] == "2"
    assert done.outputs["model_id"]
    assert done.outputs["promoted"] == "true"
    decision = json.loads(done.outputs["decision"])
    assert decision["verdict"] == "promote"
    assert {c["metric"] for c in decision["comparisons"]} == {"auc", "log_loss"}
    assert "| auc | maximize | 0.85 | 0.8 |" in done.summary
    assert "| log_loss | minimize | 0.35 | 0.4 |" in done.summary
    # The log gets the plain-text table (it used to get the summary's Markdown).
    assert re.search(r"^  auc +maximize +0\.85 +0\.8 ", done.stdout, re.MULTILINE)
    assert "Registered churn version 2" in done.stdout
    assert "::notice title=Model promoted::" in done.stderr
    assert versions("churn") == [1, 2]


def test_a_registry_uri_and_an_alias_baseline_give_the_champion_version(
    promote: Callable[..., CliRun],
    github_files: dict[str, str],
    write_settings: Callable[..., Path],
    tmp_path: Path,
    uri: str,
) -> None:
    """--registry-uri puts versions in that registry; champion_version names the alias holder."""
    from mlflow import MlflowClient  # noqa: PLC0415

    write_settings({**SETTINGS, "baseline": "alias:champion"})
    registry = f"sqlite:///{tmp_path / 'registry.db'}"
    done = promote("better", "--registry-uri", registry, "--json", "-v", env=github_files)
    assert done.code == 0, done.explain()
    assert done.outputs["champion_version"] == "1"
    assert json.loads(done.stdout)["champion_version"] == 1
    client = MlflowClient(tracking_uri=uri, registry_uri=registry)
    assert client.get_model_version_by_alias("churn", "champion").version in (1, "1")
    assert "decision: promote:" in done.stderr


def test_a_logged_model_named_by_model_id_is_registered_as_models_uri(
    cli: Cli, uri: str, store: Store, tmp_path: Path
) -> None:
    """--model-id: the logged model's run is the candidate; the version's source is models:/id."""
    from mlflow import MlflowClient  # noqa: PLC0415

    client = MlflowClient(tracking_uri=uri)
    run_id = store.runs["better"]
    experiment_id = client.get_run(run_id).info.experiment_id
    model = client.create_logged_model(experiment_id, name="model", source_run_id=run_id)
    folder = tmp_path / "logged"
    folder.mkdir()
    (folder / "MLmodel").write_text("artifact_path: model\nflavors: {}\n")
    client.log_model_artifacts(model.model_id, str(folder))
    client.finalize_logged_model(model.model_id, "READY")
    done = cli("--backend", "mlflow", "--tracking-uri", uri, "--model-id", model.model_id, "--json")
    assert done.code == 0, done.explain()
    document = json.loads(done.stdout)
    assert document["candidate_run"] == run_id
    assert document["model"]["version"] == 2
    assert client.get_model_version("churn", "2").source == f"models:/{model.model_id}"


def test_json_prints_one_document_on_stdout(
    promote: Callable[..., CliRun], versions: Callable[[str], list[int]]
) -> None:
    """--json prints the result as exactly one JSON document, logs going to stderr."""
    done = promote("better", "--json", "--verbose")
    assert done.code == 0, done.explain()
    document = done.document
    assert document["promoted"] is True
    assert document["model"]["version"] == 2  # type: ignore[index]
    assert document["baseline"]["version"] == 1  # type: ignore[index]
    assert "info:" in done.stderr
    assert versions("churn") == [1, 2]


def test_a_dry_run_exits_0_whatever_the_verdict_and_registers_nothing(
    promote: Callable[..., CliRun], versions: Callable[[str], list[int]]
) -> None:
    """A dry run of a worse run decides, reports and exits 0; nothing is registered."""
    done = promote("worse", "--dry-run")
    assert done.code == 0, done.explain()
    assert "Dry run: would not register churn" in done.stdout
    assert versions("churn") == [1]


def test_local_mode_registers_a_file_of_the_working_directory(
    promote: Callable[..., CliRun], workdir: Path, versions: Callable[[str], list[int]]
) -> None:
    """Neither experiment nor run id: model_file_name here is the candidate, with its metrics."""
    (workdir / "model.pkl").write_bytes(b"a model trained in the workflow")
    (workdir / "metrics.json").write_text('{"auc": 0.9, "log_loss": 0.3}', encoding="utf-8")
    done = promote(None, "--metrics-file", "metrics.json")
    assert done.code == 0, done.explain()
    assert "local model" in done.stdout
    assert versions("churn") == [1, 2]


def test_the_default_model_name_comes_from_the_repository_and_branch(
    promote: Callable[..., CliRun],
    write_settings: Callable[..., Path],
    github_files: dict[str, str],
    versions: Callable[[str], list[int]],
) -> None:
    """Without model_name, the model is `<repo>-<branch>` from GitHub's variables, sanitized."""
    write_settings({key: value for key, value in SETTINGS.items() if key != "model_name"})
    env = {**github_files, "GITHUB_REF_NAME": "feature/new-model"}
    done = promote("better", env=env)
    assert done.code == 0, done.explain()
    assert done.outputs["model_name"] == "churn-feature-new-model"
    assert versions("churn-feature-new-model") == [1]


# --- exit 1 --------------------------------------------------------------------------------------


def test_a_worse_run_exits_1_and_registers_nothing(
    promote: Callable[..., CliRun],
    github_files: dict[str, str],
    versions: Callable[[str], list[int]],
) -> None:
    """A worse run exits 1, annotates an error, outputs promoted=false; nothing registered."""
    done = promote("worse", env=github_files)
    assert done.code == 1, done.explain()
    assert done.outputs["promoted"] == "false"
    assert done.outputs["model_version"] == ""
    assert json.loads(done.outputs["decision"])["verdict"] == "reject"
    assert "::error title=Model not promoted::" in done.stderr
    assert "| auc | maximize | 0.75 | 0.8 |" in done.summary
    assert versions("churn") == [1]


def test_a_worse_run_with_no_fail_on_reject_exits_0(
    promote: Callable[..., CliRun], versions: Callable[[str], list[int]]
) -> None:
    """--no-fail-on-reject: the rejection exits 0, and still nothing is registered."""
    done = promote("worse", "--no-fail-on-reject")
    assert done.code == 0, done.explain()
    assert "Not registered churn" in done.stdout
    assert versions("churn") == [1]


# --- exit 2 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--run-id", "abc"], "--experiment-name is not"),
        (["--experiment-name", "train"], "--run-id is not"),
        (["--no-such-option"], "unrecognized arguments"),
    ],
    ids=["run-id-only", "experiment-only", "unknown-option"],
)
def test_bad_arguments_exit_2(promote: Callable[..., CliRun], args: list[str], says: str) -> None:
    """Bad arguments exit 2 and say why; only one of experiment and run id is never local mode."""
    done = promote(None, *args)
    assert done.code == 2, done.explain()
    assert says in done.stderr
    assert done.stdout == ""


def test_invalid_settings_exit_2_naming_file_line_and_column(
    promote: Callable[..., CliRun], settings: Path, github_files: dict[str, str]
) -> None:
    """Settings that are not JSON exit 2 with the file, line and column, and an annotation."""
    settings.write_text('{\n  "model_name": "churn",,\n}', encoding="utf-8")
    done = promote("better", env=github_files)
    assert done.code == 2, done.explain()
    assert "line 2, column" in done.stderr
    assert "::error title=aml-promote%3A bad input" in done.stderr
    assert done.outputs == {}


def test_strict_refuses_unknown_settings_keys(
    promote: Callable[..., CliRun], write_settings: Callable[..., Path]
) -> None:
    """With --strict an unknown key (a warning otherwise) is an error: exit 2, naming it."""
    write_settings({**SETTINGS, "webservice_name": "churn-svc"})
    done = promote("better", "--dry-run", "--strict")
    assert done.code == 2, done.explain()
    assert "webservice_name" in done.stderr


def test_a_missing_explicit_settings_file_exits_2(promote: Callable[..., CliRun]) -> None:
    """A --parameters-file that exists nowhere exits 2 (only the default may be absent)."""
    done = promote("better", "--parameters-file", "nope.json")
    assert done.code == 2, done.explain()
    assert "settings file not found" in done.stderr


@pytest.mark.parametrize(
    ("run", "says"), [("no-such-run", "no-such-run"), ("failed", "FAILED")], ids=str
)
def test_a_run_that_cannot_be_promoted_exits_2(
    promote: Callable[..., CliRun], versions: Callable[[str], list[int]], run: str, says: str
) -> None:
    """A run that does not exist, or did not complete, is bad input: exit 2, nothing registered."""
    done = promote(run)
    assert done.code == 2, done.explain()
    assert says.lower() in done.stderr.lower()
    assert versions("churn") == [1]


# --- exit 3 --------------------------------------------------------------------------------------


def test_a_broken_store_is_a_backend_failure(
    promote: Callable[..., CliRun], store: Store, github_files: dict[str, str]
) -> None:
    """A store that cannot be read exits 3, with an error annotation and no outputs."""
    store.database.write_bytes(b"this is not a sqlite database" * 100)
    done = promote("better", "--json", env=github_files)
    assert done.code == 3, done.explain()
    assert done.document["error"]["exit_code"] == 3  # type: ignore[index]
    assert "::error title=aml-promote%3A backend failure::" in done.stderr
    assert done.outputs == {}


# --- the action's own script ---------------------------------------------------------------------


def test_the_actions_promote_step_runs_the_installed_console_script(
    store: Store, uri: str, workdir: Path, github_files: dict[str, str], tmp_path: Path
) -> None:
    """action.yml's promote step, run by bash with the inputs in env:, promotes end to end."""
    bin_dir = Path(sys.executable).parent
    bash = shutil.which("bash")
    if bash is None or not (bin_dir / "aml-promote").exists():
        pytest.skip("needs bash and the aml-promote console script next to this Python")
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    (step,) = [s for s in action["runs"]["steps"] if s.get("id") == "promote"]
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update(
        backend="mlflow",
        tracking_uri=uri,
        experiment_name="train",
        run_id=store.runs["better"],
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AML_PROMOTE_BIN": str(bin_dir),
        **github_files,
    }
    for name, expression in step["env"].items():
        inner = expression.strip().removeprefix("${{").removesuffix("}}").strip()
        if inner.startswith("inputs."):
            env[name] = inputs[inner.removeprefix("inputs.")]
    done = subprocess.run(
        [bash, "-c", step["run"]],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    outputs = CliRun(0, "", "", Path(github_files["GITHUB_OUTPUT"]), tmp_path).outputs
    assert outputs["model_version"] == "2"
    assert outputs["promoted"] == "true"


@pytest.mark.parametrize("baseline", ["alias:champion", "tag:champion=true"])
def test_a_rerun_of_a_superseded_version_outputs_the_current_champion(
    promote: Callable[..., CliRun],
    github_files: dict[str, str],
    write_settings: Callable[..., Path],
    baseline: str,
) -> None:
    """Re-running version 1's run after version 2 took the champion: champion_version is 2."""
    write_settings({**SETTINGS, "baseline": baseline})
    better = promote("better", "--json")
    assert better.code == 0, better.explain()
    assert json.loads(better.stdout)["champion_version"] == 2
    done = promote("baseline", "--json", env=github_files)
    assert done.code == 0, done.explain()
    assert json.loads(done.stdout)["already_registered"] is True
    assert json.loads(done.stdout)["champion_version"] == 2
    assert done.outputs["champion_version"] == "2"


# --- settings a backend cannot use ---------------------------------------------------------------


def test_job_output_on_mlflow_is_exit_2_naming_the_setting(
    promote: Callable[..., CliRun],
    write_settings: Callable[..., Path],
    versions: Callable[[str], list[int]],
) -> None:
    """MLflow runs have no named outputs: job_output is refused with exit 2, nothing registered."""
    write_settings({**SETTINGS, "job_output": "model_output"})
    done = promote("better")
    assert done.code == 2, done.explain()
    assert "job_output 'model_output' names a job output" in done.stderr
    assert "$.job_output" in done.stderr
    assert "Traceback" not in done.everything()
    assert versions("churn") == [1]


# --- what a person expects (issue 19) ------------------------------------------------------------


def test_progress_lines_name_each_stage_on_stderr_in_ci(
    promote: Callable[..., CliRun], versions: Callable[[str], list[int]]
) -> None:
    """In CI (no -v), each stage is logged on stderr as it starts, and stdout keeps the table."""
    done = promote("better", env={"CI": "true"})
    assert done.code == 0, done.explain()
    stages = [line for line in done.stderr.splitlines() if line.startswith("aml-promote: info:")]
    wanted = [
        "reading the candidate: run ",
        "finding the baseline: latest of churn",
        "reading the baseline's metrics: churn:1",
        "registering churn from run ",
    ]
    for stage in wanted:
        assert any(stage in line for line in stages), (stage, done.explain())
    assert "reading the candidate" not in done.stdout
    assert versions("churn") == [1, 2]


def test_progress_lines_are_off_outside_ci_without_verbose(promote: Callable[..., CliRun]) -> None:
    """Outside CI and without -v, no stage is logged; with -v they are."""
    quiet = promote("better", "--dry-run")
    assert quiet.code == 0, quiet.explain()
    assert "reading the candidate" not in quiet.stderr
    loud = promote("better", "--dry-run", "-v")
    assert "aml-promote: info: reading the candidate: run " in loud.stderr, loud.explain()


def test_model_name_overrides_the_settings_files_name(
    promote: Callable[..., CliRun], versions: Callable[[str], list[int]]
) -> None:
    """--model-name registers under that name, not the settings file's model_name."""
    done = promote("better", "--model-name", "churn-try")
    assert done.code == 0, done.explain()
    assert "Registered churn-try version 1" in done.stdout
    assert versions("churn-try") == [1]
    assert versions("churn") == [1]


def test_model_name_overrides_the_repository_branch_default(
    promote: Callable[..., CliRun],
    write_settings: Callable[..., Path],
    github_files: dict[str, str],
    versions: Callable[[str], list[int]],
) -> None:
    """Without model_name in the file, --model-name wins over <repo>-<branch>."""
    write_settings({key: value for key, value in SETTINGS.items() if key != "model_name"})
    done = promote("better", "--model-name", "mine", env=github_files)
    assert done.code == 0, done.explain()
    assert done.outputs["model_name"] == "mine"
    assert versions("mine") == [1]


def test_a_model_name_a_registry_refuses_is_exit_2(promote: Callable[..., CliRun]) -> None:
    """--model-name with characters no model name has is bad input, naming the option."""
    done = promote("better", "--model-name", "a/b")
    assert done.code == 2, done.explain()
    assert "--model-name" in done.stderr


@pytest.mark.parametrize("path", ["mlflow.db", "./mlruns", "/nowhere/mlflow.db"])
def test_a_bare_file_path_as_tracking_uri_is_exit_2_with_the_sqlite_uri(
    cli: Cli, store: Store, workdir: Path, path: str
) -> None:
    """--tracking-uri mlflow.db is no URI: exit 2 'did you mean sqlite:///…', nothing created."""
    done = cli("--backend", "mlflow", "--tracking-uri", path, "--experiment-name", "train",
               "--run-id", store.runs["better"])  # fmt: skip
    assert done.code == 2, done.explain()
    assert "did you mean sqlite:///" in done.stderr
    assert sorted(p.name for p in workdir.iterdir()) == [".cloud"]


def test_an_unknown_uri_scheme_is_exit_2(cli: Cli, store: Store) -> None:
    """A scheme MLflow has no store for is bad input (2), not a backend failure (3)."""
    done = cli("--backend", "mlflow", "--tracking-uri", "htp://localhost:5000",
               "--experiment-name", "train", "--run-id", store.runs["better"])  # fmt: skip
    assert done.code == 2, done.explain()
    assert "htp:" in done.stderr


@pytest.mark.parametrize(
    "uri", ["htp://ci:s3cr3t-pw@localhost:5000", "https//localhost:5000/?token=s3cr3t-pw"]
)
def test_a_mistyped_uri_is_refused_without_its_secret(cli: Cli, store: Store, uri: str) -> None:
    """A URI refused as mistyped still holds its password or token: the message masks it."""
    done = cli("--backend", "mlflow", "--tracking-uri", uri,
               "--experiment-name", "train", "--run-id", store.runs["better"])  # fmt: skip
    assert done.code == 2, done.explain()
    assert "--tracking-uri" in done.stderr
    assert "***" in done.stderr
    assert "s3cr3t-pw" not in done.stderr + done.stdout


def test_a_dry_run_against_a_mistyped_sqlite_path_creates_no_database(
    cli: Cli, store: Store, tmp_path: Path
) -> None:
    """A dry run against a sqlite:/// path that does not exist is exit 2 and creates no file."""
    missing = tmp_path / "mlfow.db"
    done = cli("--backend", "mlflow", "--tracking-uri", f"sqlite:///{missing}", "--dry-run",
               "--experiment-name", "train", "--run-id", store.runs["better"])  # fmt: skip
    assert done.code == 2, done.explain()
    assert "dry run creates no store" in done.stderr
    assert not missing.exists()
    from_env = cli("--dry-run", "--experiment-name", "train", "--run-id", store.runs["better"],
                   env={"MLFLOW_TRACKING_URI": f"sqlite:///{missing}"})  # fmt: skip
    assert from_env.code == 2, from_env.explain()
    assert not missing.exists()


def test_a_dry_run_of_a_registered_run_says_only_already_registered(
    promote: Callable[..., CliRun],
) -> None:
    """A dry run of the baseline's own run says 'already registered as version 1', no 'would'."""
    done = promote("baseline", "--dry-run")
    assert done.code == 0, done.explain()
    assert "already registered" in done.stdout.lower()
    assert "version 1" in done.stdout
    assert "would register" not in done.stdout
    assert "would not register" not in done.stdout


def test_mlflows_table_creation_lines_do_not_reach_the_output(
    cli: Cli, workdir: Path, tmp_path: Path
) -> None:
    """A first promotion into a new sqlite store shows no alembic or table-creation INFO lines."""
    (workdir / "model.pkl").write_bytes(b"a model")
    (workdir / "metrics.json").write_text('{"auc": 0.9, "log_loss": 0.3}', encoding="utf-8")
    fresh = tmp_path / "fresh.db"
    done = cli("--backend", "mlflow", "--tracking-uri", f"sqlite:///{fresh}", "-v",
               "--metrics-file", "metrics.json")  # fmt: skip
    assert done.code == 0, done.explain()
    assert fresh.exists()
    assert "aml-promote: info: reading the candidate: local model" in done.stderr
    for noise in ("Creating initial MLflow database tables", "alembic", "Context impl"):
        assert noise not in done.everything(), done.explain()


def test_a_pipelines_steps_are_named_in_the_output_plain_and_json(
    promote: Callable[..., CliRun],
    write_settings: Callable[..., Path],
    store: Store,
    github_files: dict[str, str],
) -> None:
    """The parent run named resolves to its train step (model) and evaluate step (metrics)."""
    steps = {"pipeline_child_run_name": "train", "metrics_child_run_name": "evaluate"}
    write_settings({**SETTINGS, **steps})
    parent, train, evaluate = (
        store.runs[name] for name in ("pipeline", "pipeline-train", "pipeline-evaluate")
    )
    done = promote("pipeline", "--dry-run", env=github_files)
    assert done.code == 0, done.explain()
    line = (
        f"Candidate: run {parent} → pipeline step 'train' (run {train}); "
        f"metrics from step 'evaluate' (run {evaluate})."
    )
    assert done.stdout.count(line) == 1, done.explain()
    assert line in done.summary
    done = promote("pipeline", "--dry-run", "--json")
    assert done.code == 0, done.explain()
    document = done.document
    assert document["candidate_run"] == train
    assert document["candidate_resolution"] == {
        "given": parent,
        "hops": [{"kind": "pipeline_step", "name": "train", "run_id": train}],
    }
    assert document["metrics_run"] == evaluate
    assert document["metrics_resolution"] == {
        "given": parent,
        "hops": [{"kind": "pipeline_step", "name": "evaluate", "run_id": evaluate}],
    }


def test_a_run_read_as_named_has_no_candidate_line(promote: Callable[..., CliRun]) -> None:
    """A run with no steps is the candidate itself: no "Candidate:" line, nulls in JSON."""
    done = promote("better")
    assert done.code == 0, done.explain()
    assert "Candidate:" not in done.everything()
    document = promote("worse", "--json", "--no-fail-on-reject").document
    assert document["candidate_resolution"] is None
    assert document["metrics_run"] is None


def test_the_json_result_gives_mlflows_models_uri(promote: Callable[..., CliRun]) -> None:
    """On MLflow the registered version carries its models:/ URI, shown in the JSON document."""
    done = promote("better", "--json")
    assert done.code == 0, done.explain()
    assert done.document["model"]["uri"] == "models:/churn/2"  # type: ignore[index]
    assert done.document["baseline"]["uri"] == "models:/churn/1"  # type: ignore[index]


def test_a_failed_run_is_reported_in_mlflows_own_status_word(
    promote: Callable[..., CliRun],
) -> None:
    """MLflow says FAILED: the message says FAILED, as MLflow spells it (not 'Failed')."""
    done = promote("failed")
    assert done.code == 2, done.explain()
    assert "FAILED" in done.stderr, done.explain()
