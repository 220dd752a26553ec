"""The command line in-process: arguments, settings lookup, exit codes, GitHub Actions output.

`run()` takes its environment, streams and backend as arguments, so these tests drive it with the
public in-memory fake; the end-to-end tests (subprocess, real backends) are in
tests/integration/cli/.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from aml_promotion._cli import (
    Arguments,
    BackendChoice,
    ExitCode,
    build_parser,
    find_parameters_file,
    main,
    run,
)
from aml_promotion._github import (
    GitHubActions,
    Redactor,
    command,
    credential_secrets,
    escape_data,
    escape_property,
    output_entry,
    parse_outputs,
)
from aml_promotion.exceptions import RegistryError, RunNotFoundError, SettingsError, UsageError
from aml_promotion.ports import Backend
from aml_promotion.testing import InMemoryBackend
from cli_outcome import CliRun

SECRET = "s3cr3t-Value-that-must-never-show"  # noqa: S105 - made up, for the tests to hunt
CREDENTIALS = json.dumps(
    {
        "clientId": "11111111-2222-3333-4444-555555555555",
        "clientSecret": SECRET,
        "subscriptionId": "66666666-7777-8888-9999-000000000000",
        "tenantId": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "resourceManagerEndpointUrl": "https://management.azure.com/",
    }
)


Cli = Callable[..., CliRun]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The working directory of the command line, with a settings file in .cloud/.azure/."""
    folder = tmp_path / ".cloud" / ".azure"
    folder.mkdir(parents=True)
    (folder / "registermodel.json").write_text(
        json.dumps({"model_name": "churn", "metrics_max": ["auc"]}), encoding="utf-8"
    )
    return tmp_path


@pytest.fixture
def github_env(workdir: Path) -> dict[str, str]:
    """The variables GitHub Actions sets for a step."""
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(workdir / "github-output"),
        "GITHUB_STEP_SUMMARY": str(workdir / "step-summary"),
    }


@pytest.fixture
def cli(workdir: Path, backend: InMemoryBackend) -> Cli:
    """Run the command line in `workdir` against the in-memory backend."""

    def invoke(
        *argv: str,
        env: dict[str, str] | None = None,
        factory: Callable[[Arguments], Backend] | None = None,
    ) -> CliRun:
        stdout, stderr = io.StringIO(), io.StringIO()
        code = run(
            list(argv),
            environ=env or {},
            stdout=stdout,
            stderr=stderr,
            cwd=workdir,
            backend_factory=factory or (lambda _args: backend),
        )
        return CliRun(
            code=code,
            stdout=stdout.getvalue(),
            stderr=stderr.getvalue(),
            output_file=workdir / "github-output",
            summary_file=workdir / "step-summary",
        )

    return invoke


def add_run(backend: InMemoryBackend, auc: float) -> str:
    return backend.runs.add_run(
        experiment_name="train", metrics={"auc": auc}, files=["outputs/model.pkl"]
    ).run_id


def run_args(run_id: str, *extra: str) -> tuple[str, ...]:
    return ("--experiment-name", "train", "--run-id", run_id, *extra)


# --- arguments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (["--experiment-name", "train"], "--run-id"),
        (["--backend", "azureml", "--run-id", "abc"], "--experiment-name"),
        (["--backend", "mlflow", "--run-id", "abc"], "--experiment-name"),
    ],
)
def test_only_one_of_experiment_and_run_id_is_bad_input(
    cli: Cli, argv: list[str], missing: str
) -> None:
    """Giving only one of experiment and run id exits 2 naming the other, never local mode."""
    outcome = cli(*argv)
    assert outcome.code == ExitCode.BAD_INPUT
    assert f"{missing} is not" in outcome.stderr
    assert outcome.stdout == ""


def test_an_empty_run_id_is_bad_input(cli: Cli) -> None:
    """An empty --run-id (an unset workflow variable) is an error, not a run named ''."""
    assert cli("--experiment-name", "train", "--run-id", " ").code == ExitCode.BAD_INPUT


@pytest.mark.parametrize(
    ("argv", "needs"),
    [
        (["--tracking-uri", "sqlite:///x.db"], "--backend mlflow"),
        (["--backend", "mlflow", "--workspace-config", "c.json"], "--backend azureml"),
        (["--experiment-name", "e", "--run-id", "r", "--metrics-file", "m.json"], "local mode"),
        (["--registry-uri", "databricks-uc"], "--registry-uri is for --backend mlflow"),
        (["--model-id", "m-1"], "--model-id is for --backend mlflow"),
        (["--backend", "mlflow", "--model-id", " "], "--model-id is empty"),
        (["--backend", "mlflow", "--model-id", "m-1", "--run-id", "r"], "names the run too"),
    ],
)
def test_options_without_their_mode_are_bad_input(cli: Cli, argv: list[str], needs: str) -> None:
    """A backend- or mode-specific option without its backend or mode exits 2 and says why."""
    outcome = cli(*argv)
    assert outcome.code == ExitCode.BAD_INPUT
    assert needs in outcome.stderr


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--tracking-uri", "sqlite:///x.db"], "(the default backend is azureml-v2)"),
        (["--backend", "azureml-v2", "--model-id", "m-1"], "(the backend is azureml-v2)"),
        (["--backend", "mlflow", "--client-id", "c"], "(the backend is mlflow)"),
    ],
)
def test_an_option_for_another_backend_says_whether_the_backend_was_given(
    argv: list[str], said: str
) -> None:
    """The error says which backend is in use, and whether it was given or is the default."""
    with pytest.raises(UsageError) as raised:
        Arguments.parse(argv)
    assert str(raised.value).endswith(said)


def test_unknown_argument_is_bad_input_with_usage(cli: Cli) -> None:
    """An unknown option exits 2, with the usage and the error on stderr."""
    outcome = cli("--frobnicate")
    assert outcome.code == ExitCode.BAD_INPUT
    assert "usage: aml-promote" in outcome.stderr
    assert "--frobnicate" in outcome.stderr


def test_bad_arguments_with_json_print_one_error_document(cli: Cli) -> None:
    """With --json, even an argument error leaves exactly one JSON document on stdout."""
    outcome = cli("--json", "--backend", "nope")
    assert outcome.code == ExitCode.BAD_INPUT
    document = json.loads(outcome.stdout)
    assert document["error"]["exit_code"] == 2
    assert "nope" in document["error"]["message"]


def test_help_documents_the_exit_codes(cli: Cli) -> None:
    """--help exits 0 and documents every exit code and the credentials order."""
    outcome = cli("--help")
    assert outcome.code == 0
    for line in ("0  registered", "1  rejected", "2  bad input", "3  the backend failed"):
        assert line in outcome.stdout
    assert "AZURE_CREDENTIALS" in outcome.stdout


def test_a_v2_job_is_named_by_its_run_id_alone() -> None:
    """On azureml-v2 (the default) a job's name is unique: --run-id alone names the candidate."""
    args = Arguments.parse(["--run-id", "calm_lemon_x7k2m9"])
    assert args.backend is BackendChoice.AZUREML_V2
    assert (args.experiment_name, args.run_id, args.local) == (None, "calm_lemon_x7k2m9", False)


def test_arguments_parse_into_typed_values() -> None:
    """Parsed arguments are typed: the backend is an enum, the default is azureml-v2."""
    assert Arguments.parse([]).backend is BackendChoice.AZUREML_V2
    args = Arguments.parse(["--backend", "mlflow", "--tracking-uri", "sqlite:///a.db"])
    assert args.backend is BackendChoice.MLFLOW
    assert args.tracking_uri == "sqlite:///a.db"
    assert args.local
    assert args.fail_on_reject
    assert not Arguments.parse(["--no-fail-on-reject"]).fail_on_reject
    named = Arguments.parse(
        ["--backend", "mlflow", "--model-id", "m-1", "--registry-uri", "databricks-uc"]
    )
    assert (named.model_id, named.registry_uri) == ("m-1", "databricks-uc")
    assert not named.local


def test_parser_prog_is_the_console_script() -> None:
    """`python -m aml_promotion --help` names the console script, not __main__.py."""
    assert build_parser().prog == "aml-promote"


# --- settings file lookup ------------------------------------------------------------------------


def test_default_settings_file_is_found_in_cloud_azure(workdir: Path) -> None:
    """The default registermodel.json is found in .cloud/.azure/, as the original action did."""
    found = find_parameters_file(None, cwd=workdir)
    assert found == workdir / ".cloud" / ".azure" / "registermodel.json"


def test_a_settings_file_as_given_wins_over_cloud_azure(workdir: Path) -> None:
    """A file that exists as given is used before the one in .cloud/.azure/."""
    (workdir / "registermodel.json").write_text("{}", encoding="utf-8")
    assert find_parameters_file(None, cwd=workdir) == workdir / "registermodel.json"


def test_a_missing_default_settings_file_means_defaults(tmp_path: Path) -> None:
    """No registermodel.json anywhere means every setting's default, as in the original."""
    assert find_parameters_file(None, cwd=tmp_path) is None


@pytest.mark.parametrize("given", ["other.json", "test/other.json"])
def test_a_relative_settings_file_is_also_looked_up_in_cloud_azure(
    workdir: Path, given: str
) -> None:
    """A relative path missing as given is looked up under .cloud/.azure/ (even with folders)."""
    target = workdir / ".cloud" / ".azure" / given
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("{}", encoding="utf-8")
    assert find_parameters_file(given, cwd=workdir) == target


def test_an_explicit_missing_settings_file_is_an_error(workdir: Path) -> None:
    """A settings file that was asked for and exists nowhere is an error naming both places."""
    with pytest.raises(SettingsError, match=r"not found: .*nope\.json or .*\.azure.*nope\.json"):
        find_parameters_file("nope.json", cwd=workdir)


def test_an_explicit_missing_settings_file_exits_2(cli: Cli) -> None:
    """A missing --parameters-file exits 2 (bad input), before any backend is built."""

    def no_backend(_args: Arguments) -> InMemoryBackend:
        raise AssertionError

    outcome = cli("--parameters-file", "nope.json", factory=no_backend)
    assert outcome.code == ExitCode.BAD_INPUT
    assert "settings file not found" in outcome.stderr


def test_invalid_settings_exit_2_with_every_problem(cli: Cli, workdir: Path) -> None:
    """Invalid settings exit 2 and list every problem with its path."""
    (workdir / "bad.json").write_text(
        '{"model_name": "a b", "metrics_max": ["auc"], "metrics_min": ["auc"]}', encoding="utf-8"
    )
    outcome = cli("--parameters-file", "bad.json", *run_args("r"))
    assert outcome.code == ExitCode.BAD_INPUT
    assert "$.model_name" in outcome.stderr
    assert "$.metrics_min" in outcome.stderr


def test_unknown_settings_keys_warn_and_strict_makes_them_errors(
    cli: Cli, backend: InMemoryBackend, workdir: Path, github_env: dict[str, str]
) -> None:
    """An unknown key is a warning (an annotation on the file in GitHub); --strict exits 2."""
    (workdir / "shared.json").write_text(
        '{"model_name": "churn", "webservice_name": "svc"}', encoding="utf-8"
    )
    run_id = add_run(backend, 0.8)
    loose = cli("--parameters-file", "shared.json", *run_args(run_id), env=github_env)
    assert loose.code == ExitCode.OK
    assert "warning: unknown settings key(s) ignored" in loose.stderr
    assert "::warning title=aml-promote,file=shared.json::" in loose.stderr
    strict = cli("--parameters-file", "shared.json", "--strict", *run_args(run_id))
    assert strict.code == ExitCode.BAD_INPUT
    assert "webservice_name" in strict.stderr


# --- default model name ---------------------------------------------------------------------------


def test_default_model_name_comes_from_the_repository_and_branch(
    cli: Cli, backend: InMemoryBackend, workdir: Path, github_env: dict[str, str]
) -> None:
    """Without model_name, the model is `<repo>-<branch>`, sanitized, never cut at 32."""
    (workdir / "noname.json").write_text('{"metrics_max": ["auc"]}', encoding="utf-8")
    env = {
        **github_env,
        "GITHUB_REPOSITORY": "octo-org/customer-churn-prediction-service",
        "GITHUB_REF_NAME": "feature/better model",
    }
    outcome = cli("--parameters-file", "noname.json", *run_args(add_run(backend, 0.8)), env=env)
    assert outcome.code == ExitCode.OK
    name = "customer-churn-prediction-service-feature-better-model"
    assert outcome.outputs["model_name"] == name
    assert backend.registry.get(name, 1).name == name


def test_no_model_name_outside_github_is_bad_input(
    cli: Cli, backend: InMemoryBackend, workdir: Path
) -> None:
    """Without model_name and outside GitHub Actions there is no name to use: exit 2."""
    (workdir / "noname.json").write_text("{}", encoding="utf-8")
    outcome = cli("--parameters-file", "noname.json", *run_args(add_run(backend, 0.8)))
    assert outcome.code == ExitCode.BAD_INPUT
    assert "GITHUB_REPOSITORY" in outcome.stderr


# --- exit codes and reports -----------------------------------------------------------------------


def test_a_registered_model_exits_0_with_outputs_and_summary(
    cli: Cli, backend: InMemoryBackend, github_env: dict[str, str]
) -> None:
    """A promotion exits 0, sets every output, and writes the decision table as the summary."""
    outcome = cli(*run_args(add_run(backend, 0.8)), env=github_env)
    assert outcome.code == ExitCode.OK
    outputs = outcome.outputs
    assert outputs["model_name"] == "churn"
    assert outputs["model_version"] == "1"
    assert outputs["model_id"] == "churn:1"
    assert outputs["promoted"] == "true"
    assert json.loads(outputs["decision"])["verdict"] == "promote"
    assert "| auc | maximize |" in outcome.summary
    assert "Registered churn version 1" in outcome.summary
    # The terminal gets plain text, the summary Markdown (it used to be Markdown on both).
    assert re.search(r"^  auc +maximize +0\.8 ", outcome.stdout, re.MULTILINE)
    assert "|" not in outcome.stdout
    assert "::notice title=Model promoted::" in outcome.stderr


def test_a_rejected_model_exits_1_with_an_error_annotation(
    cli: Cli, backend: InMemoryBackend, github_env: dict[str, str]
) -> None:
    """A rejection exits 1, annotates an error, and outputs promoted=false with no version."""
    assert cli(*run_args(add_run(backend, 0.8))).code == ExitCode.OK
    outcome = cli(*run_args(add_run(backend, 0.7)), env=github_env)
    assert outcome.code == ExitCode.REJECTED
    assert outcome.outputs["promoted"] == "false"
    assert outcome.outputs["model_version"] == ""
    assert outcome.outputs["model_name"] == "churn"
    assert json.loads(outcome.outputs["decision"])["verdict"] == "reject"
    assert "::error title=Model not promoted::" in outcome.stderr


def test_a_rejected_model_with_no_fail_on_reject_exits_0(
    cli: Cli, backend: InMemoryBackend, github_env: dict[str, str]
) -> None:
    """With --no-fail-on-reject a rejection exits 0 and is a warning, not an error."""
    cli(*run_args(add_run(backend, 0.8)))
    outcome = cli(*run_args(add_run(backend, 0.7), "--no-fail-on-reject"), env=github_env)
    assert outcome.code == ExitCode.OK
    assert outcome.outputs["promoted"] == "false"
    assert "::warning title=Model not promoted::" in outcome.stderr
    assert "::error" not in outcome.stderr


def test_a_dry_run_exits_0_whatever_the_verdict_and_registers_nothing(
    cli: Cli, backend: InMemoryBackend
) -> None:
    """A dry run of a worse model exits 0, says it would not register, and registers nothing."""
    cli(*run_args(add_run(backend, 0.8)))
    outcome = cli(*run_args(add_run(backend, 0.7), "--dry-run"))
    assert outcome.code == ExitCode.OK
    assert "Dry run: would not register churn" in outcome.stdout
    assert [v.version for v in backend.registry._of("churn")] == [1]


def test_json_prints_exactly_one_document_and_logs_go_to_stderr(
    cli: Cli, backend: InMemoryBackend, workdir: Path
) -> None:
    """--json prints the result as one JSON document; warnings stay on stderr."""
    (workdir / "shared.json").write_text(
        '{"model_name": "churn", "metrics_max": ["auc"], "webservice_name": "svc"}',
        encoding="utf-8",
    )
    outcome = cli("--parameters-file", "shared.json", "--json", *run_args(add_run(backend, 0.8)))
    assert outcome.code == ExitCode.OK
    document = json.loads(outcome.stdout)
    assert document["model"]["version"] == 1
    assert document["decision"]["verdict"] == "promote"
    assert "webservice_name" in outcome.stderr


def test_a_registry_failure_exits_3(cli: Cli, backend: InMemoryBackend) -> None:
    """A RegistryError from the backend is a backend failure: exit 3, never "no baseline"."""
    backend.fail_next("find_baseline", RegistryError("the registry is down"))
    outcome = cli("--json", *run_args(add_run(backend, 0.8)))
    assert outcome.code == ExitCode.BACKEND_FAILURE
    assert "the registry is down" in outcome.stderr
    assert json.loads(outcome.stdout)["error"]["type"] == "RegistryError"


def test_a_run_that_does_not_exist_is_bad_input(cli: Cli, backend: InMemoryBackend) -> None:
    """A run id that names no run exits 2: the input names something that is not there."""
    backend.fail_next("get_run", RunNotFoundError("no run 'nope'", run_id="nope"))
    outcome = cli(*run_args("nope"))
    assert outcome.code == ExitCode.BAD_INPUT
    assert "no run 'nope'" in outcome.stderr


def test_an_unexpected_error_exits_3_with_a_traceback(cli: Cli) -> None:
    """An error that is not ours exits 3 (never 1, which means rejected), with its traceback."""

    def broken(_args: Arguments) -> InMemoryBackend:
        msg = "a bug"
        raise ZeroDivisionError(msg)

    outcome = cli(*run_args("r"), factory=broken)
    assert outcome.code == ExitCode.BACKEND_FAILURE
    assert "Traceback" in outcome.stderr
    assert "unexpected error: ZeroDivisionError: a bug" in outcome.stderr


def test_usage_errors_from_promote_are_bad_input(cli: Cli) -> None:
    """A UsageError raised anywhere below the command line exits 2."""

    def refuses(_args: Arguments) -> InMemoryBackend:
        msg = "not like this"
        raise UsageError(msg)

    assert cli(*run_args("r"), factory=refuses).code == ExitCode.BAD_INPUT


# --- local mode -----------------------------------------------------------------------------------


def test_local_mode_registers_a_file_with_metrics_from_a_file(
    cli: Cli, backend: InMemoryBackend, workdir: Path
) -> None:
    """Without experiment and run id, model_file_name in the working directory is the candidate."""
    (workdir / "model.pkl").write_bytes(b"model")
    (workdir / "metrics.json").write_text('{"auc": 0.9}', encoding="utf-8")
    outcome = cli("--metrics-file", "metrics.json")
    assert outcome.code == ExitCode.OK
    assert "local model" in outcome.stdout
    assert re.search(r"^  auc +maximize +0\.9 ", outcome.stdout, re.MULTILINE)
    assert backend.registry.get("churn", 1).version == 1


def test_local_mode_without_metrics_is_rejected_when_rules_need_them(
    cli: Cli, workdir: Path
) -> None:
    """A local model with metric rules and no metrics is rejected, never registered unchecked."""
    (workdir / "model.pkl").write_bytes(b"model")
    outcome = cli()
    assert outcome.code == ExitCode.REJECTED
    assert "no run to read metrics from" in outcome.stdout


def test_local_mode_without_the_model_file_is_bad_input(cli: Cli) -> None:
    """A local model file that is not there exits 2."""
    outcome = cli()
    assert outcome.code == ExitCode.BAD_INPUT
    assert "model.pkl" in outcome.stderr


@pytest.mark.parametrize("content", ["[1, 2]", "{not json"])
def test_a_malformed_metrics_file_is_bad_input(cli: Cli, workdir: Path, content: str) -> None:
    """A --metrics-file that is not a JSON object exits 2 naming the file."""
    (workdir / "model.pkl").write_bytes(b"model")
    (workdir / "metrics.json").write_text(content, encoding="utf-8")
    outcome = cli("--metrics-file", "metrics.json")
    assert outcome.code == ExitCode.BAD_INPUT
    assert "metrics.json" in outcome.stderr


# --- secrets --------------------------------------------------------------------------------------


def test_secrets_are_masked_before_anything_else_is_written(
    cli: Cli, backend: InMemoryBackend, github_env: dict[str, str]
) -> None:
    """In GitHub Actions every credential value is masked first; it shows nowhere else."""
    env = {**github_env, "AZURE_CREDENTIALS": CREDENTIALS}
    outcome = cli(*run_args(add_run(backend, 0.8)), "--frobnicate", env=env)
    lines = outcome.stderr.splitlines()
    masks = [line for line in lines if line.startswith("::add-mask::")]
    assert lines[: len(masks)] == masks
    assert f"::add-mask::{SECRET}" in masks
    assert not any("management.azure.com" in mask for mask in masks)
    assert all(SECRET not in line for line in lines[len(masks) :])


def test_a_secret_in_an_error_message_is_redacted(cli: Cli, github_env: dict[str, str]) -> None:
    """Defence in depth: a secret that reaches a message is replaced by *** everywhere."""

    def leaky(_args: Arguments) -> InMemoryBackend:
        msg = f"the service said: bad secret {SECRET}"
        raise RegistryError(msg)

    env = {**github_env, "AZURE_CREDENTIALS": CREDENTIALS}
    outcome = cli("--json", *run_args("r"), env=env, factory=leaky)
    assert outcome.code == ExitCode.BACKEND_FAILURE
    assert "bad secret ***" in outcome.stderr
    assert SECRET not in outcome.stdout
    assert all(
        line.startswith("::add-mask::") for line in outcome.stderr.splitlines() if SECRET in line
    )


def test_a_dependencys_log_warning_goes_through_the_redactor(
    cli: Cli, backend: InMemoryBackend
) -> None:
    """An SDK's logged warning is shown on stderr, named, with any secret replaced by ***."""

    def chatty(_args: Arguments) -> InMemoryBackend:
        logging.getLogger("some.sdk").warning("signing in with %s", SECRET)
        return backend

    outcome = cli(
        *run_args(add_run(backend, 0.8)), env={"AZURE_CREDENTIALS": CREDENTIALS}, factory=chatty
    )
    assert outcome.code == ExitCode.OK
    assert "aml-promote: warning: [some.sdk] signing in with ***" in outcome.stderr
    assert SECRET not in outcome.stderr


def test_credential_secrets_are_every_value_but_urls_and_short_ones() -> None:
    """Every string value counts as a secret, except URLs and values too short to be one."""
    raw = json.dumps({"clientSecret": SECRET, "id": "abc", "url": "https://x.example/", "n": 5})
    assert credential_secrets(raw) == (SECRET,)
    assert credential_secrets(None) == ()
    assert credential_secrets("  ") == ()


def test_credential_secrets_of_malformed_json_are_its_quoted_values() -> None:
    """A credentials document with a typo still yields its values, so they are masked."""
    raw = '{"clientId": "client-id-1", "clientSecret": "' + SECRET + '",,}'
    assert set(credential_secrets(raw)) == {SECRET, "client-id-1"}


def test_redactor_replaces_longer_secrets_first() -> None:
    """A secret that contains another is replaced whole."""
    redact = Redactor(credential_secrets(json.dumps({"a": "abcdef", "b": "abcdefgh"})))
    assert redact("x abcdefgh y abcdef") == "x *** y ***"


# --- GitHub Actions formatting --------------------------------------------------------------------


def test_command_escapes_its_message_and_properties() -> None:
    """Workflow command data escapes %, CR and LF; properties also escape : and ,."""
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"
    line = command("error", "line 1\nline 2", title="Bad: input", file=None)
    assert line == "::error title=Bad%3A input::line 1%0Aline 2"


def test_output_entries_round_trip_multi_line_values() -> None:
    """Outputs use the delimiter syntax, so multi-line values and `=` survive the runner."""
    text = output_entry("a", "x=1\ny") + output_entry("b", "") + "c=plain\n"
    assert parse_outputs(text) == {"a": "x=1\ny", "b": "", "c": "plain"}


def test_output_entry_refuses_a_value_holding_its_delimiter() -> None:
    """A value that contains the delimiter is refused rather than cut short."""
    with pytest.raises(ValueError, match="delimiter"):
        output_entry("a", "x\nEOF\ny", delimiter="EOF")


def test_parse_outputs_refuses_an_unterminated_entry() -> None:
    """An entry whose delimiter never comes is an error, as the runner treats it."""
    with pytest.raises(ValueError, match="closing delimiter"):
        parse_outputs("a<<EOF\nvalue\n")


def test_outside_github_actions_nothing_is_written(tmp_path: Path) -> None:
    """Without GitHub's variables there are no commands, outputs or summary."""
    stream = io.StringIO()
    github = GitHubActions.from_environ({}, stream)
    github.mask(["abcdefgh"])
    github.annotate("error", "boom")
    github.set_outputs({"a": "b"})
    github.add_summary("# hi")
    assert stream.getvalue() == ""
    assert list(tmp_path.iterdir()) == []


def test_main_returns_the_exit_code_instead_of_exiting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """main() returns the code (the console script's wrapper exits with it), --version too."""
    for name in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "AZURE_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--run-id", "only"]) == ExitCode.BAD_INPUT
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("aml-promote ")
