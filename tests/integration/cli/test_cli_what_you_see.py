"""What a person sees from ``aml-promote``: a terminal, GitHub's summary, Azure Pipelines' agent.

A subprocess against a local MLflow sqlite store, as in ``test_cli_mlflow.py``: plain text on a
terminal (colour only on a TTY and never with ``NO_COLOR``), Markdown only in CI summaries, and
in Azure Pipelines (``TF_BUILD=True``) output variables, the run's summary and issues, read
back as the agent parses them.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from aml_promotion._azure_pipelines import ParsedCommand, parse_command
from integration.cli.clirun import Cli, CliRun, base_environment
from integration.cli.mlflow_store import SETTINGS, Store, TemplateStore
from mlflow_sqlite import MARKS

pytest.importorskip("mlflow")
pytest.importorskip("sqlalchemy")

pytestmark = MARKS

FOLDS = {
    "model_name": "churn",
    "model_file_name": "model.pkl",
    "metrics_max": ["f1"],
    "metric_rules": {"f1": {"significance": {"alpha": 0.05}}},
}
ANSI = re.compile(r"\x1b\[[0-9;]*m")
STEP_TEMPLATE = Path(__file__).resolve().parents[3] / "azure-pipelines" / "promote.yml"
OUTPUTS = ("model_name", "model_version", "model_id", "promoted", "decision", "champion_version")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Runs with a last value (auc, log_loss) and fold scores (f1); version 1 from `baseline`."""
    store = TemplateStore.create(tmp_path_factory.mktemp("mlflow-what-you-see"))
    for name, auc, log_loss, folds in (
        ("baseline", 0.80, 0.40, (0.78, 0.80, 0.80, 0.79, 0.80)),
        ("better", 0.85, 0.35, (0.80, 0.82, 0.85, 0.81, 0.84)),
        ("worse", 0.75, 0.45, (0.70, 0.71, 0.69, 0.72, 0.70)),
    ):
        store.log_run(name, {"auc": auc, "log_loss": log_loss, "f1": folds})
    return store.done()


@pytest.fixture
def uri(template: Store, tmp_path: Path) -> str:
    """This test's copy of the template store."""
    return template.copy(tmp_path).uri


@pytest.fixture(autouse=True)
def settings(write_settings: Callable[..., Path]) -> Path:
    """The settings file in .cloud/.azure/registermodel.json."""
    return write_settings(SETTINGS)


def run_args(template: Store, uri: str, name: str) -> list[str]:
    return [
        "--backend", "mlflow", "--tracking-uri", uri,
        "--experiment-name", "train", "--run-id", template.runs[name],
    ]  # fmt: skip


@pytest.fixture
def promote(cli: Cli, template: Store, uri: str) -> Callable[..., CliRun]:
    """Promote run `name` of the template; `args` and `env` add to it."""

    def invoke(name: str, *args: str, env: Mapping[str, str] | None = None) -> CliRun:
        return cli(*run_args(template, uri, name), *args, env=env)

    return invoke


@pytest.fixture
def on_terminal(template: Store, uri: str, workdir: Path, tmp_path: Path) -> Callable[..., str]:
    """Promote run `name` with stdout on a pseudo-terminal; return what the terminal got."""

    def invoke(name: str, *, env: Mapping[str, str] | None = None) -> str:
        home = tmp_path / "home-tty"
        home.mkdir(exist_ok=True)
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "aml_promotion", *run_args(template, uri, name)],
            cwd=workdir,
            env={**base_environment(home), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=follower,
            stderr=subprocess.PIPE,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode in (0, 1), stderr.decode()
        # A terminal turns "\n" into "\r\n".
        return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")

    return invoke


# --- The terminal ------------------------------------------------------------------------------


def test_stdout_is_a_plain_aligned_table_with_the_verdict_first(
    promote: Callable[..., CliRun],
) -> None:
    """No Markdown on a terminal: the verdict first, aligned columns, "Δ (+ is better)"."""
    done = promote("better")
    assert done.code == 0, done.explain()
    lines = done.stdout.splitlines()
    assert lines[0].startswith("PROMOTE: better on auc, log_loss")
    header = next(line for line in lines if line.lstrip().startswith("metric"))
    assert "Δ (+ is better)" in header
    rows = [line for line in lines if line.startswith(("  auc ", "  log_loss "))]
    assert len(rows) == 2
    # Aligned: each column starts at the same offset in the header and in every row.
    column = header.index("candidate")
    assert all(row[column:].startswith(("0.85", "0.35")) for row in rows)
    # A loss falling 0.40 → 0.35 is an improvement: +0.05 under "+ is better".
    assert re.search(r"^  log_loss +minimize +0\.35 +0\.4 +\+0\.05 ", done.stdout, re.MULTILINE)
    for markdown in ("###", "|---", "| ", "&gt;", "&lt;", "&amp;", "**"):
        assert markdown not in done.stdout
    assert "\x1b[" not in done.stdout  # not a terminal: no colour
    assert "Registered churn version 2" in done.stdout


def test_a_terminal_gets_colour_unless_no_color_is_set_and_not_empty(
    on_terminal: Callable[..., str],
) -> None:
    """On a TTY the verdict is coloured; NO_COLOR=1 turns it off; an empty NO_COLOR does not."""
    coloured = on_terminal("worse")
    assert "\x1b[1;31mREJECT\x1b[0m" in coloured
    assert "\x1b[31mFAIL\x1b[0m" in coloured
    plain = on_terminal("worse", env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain
    assert plain.startswith("REJECT: ")
    # The same text, without the escapes.
    assert ANSI.sub("", coloured) == plain
    assert "\x1b[1;31mREJECT" in on_terminal("worse", env={"NO_COLOR": ""})


# --- GitHub's step summary ------------------------------------------------------------------------


def test_the_step_summary_is_markdown_with_a_mermaid_chart_of_the_folds(
    promote: Callable[..., CliRun],
    write_settings: Callable[..., Path],
    github_files: dict[str, str],
) -> None:
    """A fold-score rule: the summary's Markdown table, then an xychart of both sides' folds."""
    write_settings(FOLDS)
    done = promote("better", env=github_files)
    assert done.code == 0, done.explain()
    summary = done.summary
    assert summary.startswith("### ✅ PROMOTE: ")
    assert "| metric | goal | candidate | baseline | Δ (+ is better) |" in summary
    assert "```mermaid\nxychart-beta\n" in summary
    assert (
        "    line [0.8, 0.82, 0.85, 0.81, 0.84]\n    line [0.78, 0.8, 0.8, 0.79, 0.8]\n" in summary
    )
    assert "**Registered churn version 2" in summary
    # The terminal has the table, not the chart.
    assert "mermaid" not in done.stdout


# --- Azure Pipelines ----------------------------------------------------------------------------


def agent_commands(text: str) -> list[ParsedCommand]:
    """Every logging command the agent would act on in `text`, in order."""
    return [found for line in text.splitlines() if (found := parse_command(line)) is not None]


@pytest.fixture
def pipeline(tmp_path: Path) -> dict[str, str]:
    """The variables the Azure Pipelines agent sets for a step."""
    folder = tmp_path / "agent-temp"
    return {"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": str(folder)}


def test_in_azure_pipelines_every_output_is_an_output_variable_and_the_summary_uploaded(
    promote: Callable[..., CliRun], pipeline: dict[str, str]
) -> None:
    """TF_BUILD=True: six setvariable commands (isOutput), and an uploaded Markdown summary."""
    done = promote("better", env=pipeline)
    assert done.code == 0, done.explain()
    commands = agent_commands(done.stdout)
    variables = {
        c.properties["variable"]: c.data
        for c in commands
        if c.name == "task.setvariable" and c.properties.get("isOutput") == "true"
    }
    assert set(variables) == set(OUTPUTS)
    assert variables["model_version"] == "2"
    assert variables["promoted"] == "true"
    assert json.loads(variables["decision"])["verdict"] == "promote"
    (upload,) = [c for c in commands if c.name == "task.uploadsummary"]
    summary = Path(upload.data)
    assert summary.parent.parent == Path(pipeline["AGENT_TEMPDIRECTORY"])
    markdown = summary.read_text(encoding="utf-8")
    assert markdown.startswith("### ✅ PROMOTE: ")
    assert "| auc | maximize | 0.85 | 0.8 |" in markdown
    assert "mermaid" not in markdown  # Azure DevOps' summary does not render Mermaid
    assert not [c for c in commands if c.name == "task.logissue"]
    # The table is still on stdout, for the log.
    assert "Registered churn version 2" in done.stdout


def test_in_azure_pipelines_a_rejection_and_an_error_are_issues(
    promote: Callable[..., CliRun], pipeline: dict[str, str], settings: Path
) -> None:
    """A rejection logs an error issue (exit 1); bad settings too (exit 2)."""
    rejected = promote("worse", env=pipeline)
    assert rejected.code == 1, rejected.explain()
    (issue,) = [c for c in agent_commands(rejected.stdout) if c.name == "task.logissue"]
    assert issue.properties == {"type": "error"}
    assert issue.data.startswith("Not registered churn: auc: 0.75 vs 0.8")
    settings.write_text('{"model_name": "churn",,}', encoding="utf-8")
    broken = promote("better", env=pipeline)
    assert broken.code == 2, broken.explain()
    (error,) = [c for c in agent_commands(broken.stdout) if c.name == "task.logissue"]
    assert error.properties == {"type": "error"}
    assert error.data.startswith("aml-promote: bad input: ")


def test_with_json_the_logging_commands_leave_stdout_to_the_document(
    promote: Callable[..., CliRun], pipeline: dict[str, str]
) -> None:
    """--json in a pipeline: one JSON document on stdout; the commands on stderr (read too)."""
    done = promote("better", "--json", env=pipeline)
    assert done.code == 0, done.explain()
    assert done.document["promoted"] is True
    names = {c.properties.get("variable") for c in agent_commands(done.stderr)}
    assert set(OUTPUTS) <= names


def test_a_metric_name_cannot_inject_a_logging_command(
    cli: Cli,
    uri: str,
    workdir: Path,
    write_settings: Callable[..., Path],
    pipeline: dict[str, str],
) -> None:
    """A metric named with "##vso[...]", ";", "]" and a newline is data in every command."""
    name = "auc\n##vso[task.complete result=Failed;]x ##vso[task.setvariable variable=promoted]1"
    write_settings({**SETTINGS, "metrics_max": [name], "metrics_min": []})
    (workdir / "model.pkl").write_bytes(b"a model")
    (workdir / "metrics.json").write_text(json.dumps({name: 0.9}), encoding="utf-8")
    done = cli(
        "--backend", "mlflow", "--tracking-uri", uri, "--metrics-file", "metrics.json",
        env=pipeline,
    )  # fmt: skip
    # Version 1 lacks the metric: rejected, so an error issue too.
    assert done.code == 1, done.explain()
    commands = agent_commands(done.stdout + "\n" + done.stderr)
    assert [c.name for c in commands].count("task.logissue") == 1
    assert {c.name for c in commands} == {
        "task.setvariable", "task.uploadsummary", "task.logissue"
    }  # fmt: skip
    variables = {c.properties["variable"]: c.data for c in commands if c.name == "task.setvariable"}
    assert set(variables) == set(OUTPUTS)
    assert variables["promoted"] == "false"
    # The name reaches the decision output and the issue whole: the agent unescapes it.
    decision = json.loads(variables["decision"])
    assert decision["comparisons"][0]["metric"] == name
    (issue,) = [c for c in commands if c.name == "task.logissue"]
    assert name in issue.data
    # In the table, the name is text: "##vso[" is broken wherever it appears.
    assert "auc ## vso[task.complete" in done.stdout


def test_the_step_templates_script_promotes_and_sets_the_output_variables(
    template: Store, uri: str, workdir: Path, pipeline: dict[str, str], tmp_path: Path
) -> None:
    """azure-pipelines/promote.yml's script, run by bash as the agent would: outputs set."""
    import yaml  # noqa: PLC0415 - test dependency, only here

    bash = shutil.which("bash")
    bin_dir = Path(sys.executable).parent
    if bash is None or not (bin_dir / "aml-promote").exists():
        pytest.skip("needs bash and the aml-promote console script next to this Python")
    data = yaml.safe_load(STEP_TEMPLATE.read_text(encoding="utf-8"))
    (step,) = data["steps"]
    values = {p["name"]: str(p.get("default", "")) for p in data["parameters"]}
    values.update(
        package="", backend="mlflow", trackingUri=uri,
        experimentName="train", runId=template.runs["better"],
    )  # fmt: skip
    env = {
        **base_environment(tmp_path),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        **pipeline,
    }
    for name, expression in step["env"].items():
        env[name] = values[expression.removeprefix("${{ parameters.").removesuffix(" }}")]
    done = subprocess.run(
        [bash, "-c", step["inputs"]["inlineScript"]],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    variables = {
        c.properties["variable"]: c.data
        for c in agent_commands(done.stdout)
        if c.name == "task.setvariable"
    }
    assert variables["model_version"] == "2"
    assert variables["promoted"] == "true"
