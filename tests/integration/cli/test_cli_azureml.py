"""``aml-promote --backend azureml`` end to end: a subprocess, the real SDK, the local emulator.

How the subprocess reaches the emulator (the test seam): it is given the variables Azure ML sets
inside a job (``AZUREML_RUN_ID``, ``AZUREML_SERVICE_ENDPOINT``...), so the command line takes
its second way to a workspace, `AzureMLBackend.from_run_context()`, which azureml-core builds
from those variables with no call to Azure Resource Manager or Entra ID. The candidate is still
named by ``--experiment-name`` and ``--run-id``. The first way, a service principal from
``AZURE_CREDENTIALS``, needs Azure's login service: only its failures before any request (bad
credentials, no workspace config) are tested here, and a proxy on a closed port stands guard so
that a request to anything but 127.0.0.1 fails instead of leaving the machine.

The emulator runs in this process (the subprocess talks to it over http); this process never
imports azureml. The fixtures of tests/integration/azureml/conftest.py serve in-process tests
(they patch the SDK in this process), so this module starts an emulator of its own.
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import math
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.azureml.emulator import AzureMLEmulator
from integration.cli.clirun import Cli, CliRun

try:
    # Asked of the installed distributions, not by importing: this process must not import azureml
    # (tests/integration/azureml/conftest.py isolates it before its first import, and checks).
    importlib.metadata.distribution("azureml-core")
except importlib.metadata.PackageNotFoundError:
    pytest.skip("the azureml extra is not installed", allow_module_level=True)

pytestmark = pytest.mark.azureml

SECRET = "Zq8~azureml-client-secret-that-must-not-leak"  # noqa: S105 - made up, hunted for below
# Anything but 127.0.0.1 goes through this proxy, which is a closed port: it fails at once.
GUARD = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "AZUREML_CURRENT_CLOUD": "AzureCloud",
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[AzureMLEmulator]:
    """One emulator for the module; each test uses fresh names."""
    with AzureMLEmulator() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_emulator(emulator: AzureMLEmulator) -> Iterator[AzureMLEmulator]:
    """Each test starts with no faults and no recorded requests, and ends with no unknown ones."""
    with emulator.checked():
        yield emulator


@pytest.fixture
def unique() -> str:
    """A fresh suffix for experiment and model names."""
    return uuid.uuid4().hex[:8]


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = json.dumps({"alg": "none", "typ": "JWT"}).encode()
    # The SDK decodes without verifying, but the signature must still be valid base64url.
    return f"{part(header)}.{part(json.dumps(claims).encode())}.{part(b'unsigned')}"


@pytest.fixture
def job_env(emulator: AzureMLEmulator, unique: str) -> dict[str, str]:
    """The variables of an Azure ML job (the promotion step itself) on the emulator."""
    experiment = f"promotion-job-{unique}"
    run_id = emulator.add_run(experiment, files=[])
    # A long expiry: a token about to expire makes the SDK refresh it at once.
    token = _unsigned_jwt({"exp": int(time.time()) + 10 * 365 * 86400, "tid": "emulated"})
    return {
        **GUARD,
        "AZUREML_ARM_SUBSCRIPTION": emulator.subscription_id,
        "AZUREML_ARM_RESOURCEGROUP": emulator.resource_group,
        "AZUREML_ARM_WORKSPACE_NAME": emulator.workspace_name,
        "AZUREML_ARM_PROJECT_NAME": experiment,
        "AZUREML_EXPERIMENT_ID": emulator.add_experiment(experiment),
        "AZUREML_WORKSPACE_ID": emulator.workspace_id,
        "AZUREML_RUN_ID": run_id,
        "AZUREML_RUN_TOKEN": token,
        "AZUREML_SERVICE_ENDPOINT": emulator.url,
        "AZUREML_DISCOVERY_SERVICE_ENDPOINT": emulator.discovery_url,
    }


@pytest.fixture
def names(unique: str, write_settings: Any) -> dict[str, str]:
    """An experiment and a model name, with a settings file maximizing auc for that model."""
    model = f"churn-{unique}"
    write_settings({"model_name": model, "model_file_name": "model.pkl", "metrics_max": ["auc"]})
    return {"experiment": f"train-{unique}", "model": model}


@pytest.fixture
def baseline(emulator: AzureMLEmulator, names: dict[str, str]) -> str:
    """Version 1 of the model, registered from a run with auc 0.80; returns that run's id."""
    run_id = emulator.add_run(
        names["experiment"], metrics={"auc": 0.80}, files=["outputs/model.pkl"]
    )
    emulator.add_model(names["model"], run_id=run_id)
    return run_id


def candidate(emulator: AzureMLEmulator, names: dict[str, str], auc: float) -> list[str]:
    """Add a candidate run; return the arguments that name it."""
    run_id = emulator.add_run(
        names["experiment"], metrics={"auc": auc}, files=["outputs/model.pkl"]
    )
    return ["--experiment-name", names["experiment"], "--run-id", run_id]


def promote(cli: Cli, *args: str, env: dict[str, str]) -> CliRun:
    return cli("--backend", "azureml", *args, env=env)


@pytest.mark.usefixtures("baseline")
def test_a_better_run_is_registered_with_outputs_and_summary(
    cli: Cli,
    emulator: AzureMLEmulator,
    names: dict[str, str],
    job_env: dict[str, str],
    github_files: dict[str, str],
) -> None:
    """A better run is registered as version 2: exit 0, outputs, the summary table."""
    done = promote(cli, *candidate(emulator, names, 0.85), env={**job_env, **github_files})
    assert done.code == 0, done.explain()
    model = names["model"]
    assert done.outputs["model_name"] == model
    assert done.outputs["model_version"] == "2"
    assert done.outputs["model_id"] == f"{model}:2"
    assert done.outputs["promoted"] == "true"
    assert json.loads(done.outputs["decision"])["verdict"] == "promote"
    assert "| auc | maximize | 0.85 | 0.8 |" in done.summary
    assert [m["version"] for m in emulator.models(model)] == [1, 2]
    assert emulator.models(model)[1]["kvTags"]["promotion.verdict"] == "promote"


@pytest.mark.usefixtures("baseline")
def test_a_worse_run_exits_1_and_registers_nothing(
    cli: Cli,
    emulator: AzureMLEmulator,
    names: dict[str, str],
    job_env: dict[str, str],
    github_files: dict[str, str],
) -> None:
    """A worse run exits 1 with an error annotation; no model is registered."""
    done = promote(cli, *candidate(emulator, names, 0.70), env={**job_env, **github_files})
    assert done.code == 1, done.explain()
    assert done.outputs["promoted"] == "false"
    assert "::error title=Model not promoted::" in done.stderr
    assert emulator.count("POST", r"/modelmanagement/.*/models$") == 0
    assert len(emulator.models(names["model"])) == 1


@pytest.mark.usefixtures("baseline")
def test_a_worse_run_with_no_fail_on_reject_exits_0(
    cli: Cli, emulator: AzureMLEmulator, names: dict[str, str], job_env: dict[str, str]
) -> None:
    """--no-fail-on-reject turns the rejection's exit code into 0, and still registers nothing."""
    done = promote(cli, *candidate(emulator, names, 0.70), "--no-fail-on-reject", env=job_env)
    assert done.code == 0, done.explain()
    assert "Not registered" in done.stdout
    assert len(emulator.models(names["model"])) == 1


@pytest.mark.usefixtures("baseline")
def test_a_dry_run_with_json_prints_one_document_and_registers_nothing(
    cli: Cli, emulator: AzureMLEmulator, names: dict[str, str], job_env: dict[str, str]
) -> None:
    """A dry run of a better run exits 0 and prints one JSON document; nothing is registered."""
    done = promote(cli, *candidate(emulator, names, 0.90), "--dry-run", "--json", env=job_env)
    assert done.code == 0, done.explain()
    document = done.document
    assert document["dry_run"] is True
    assert document["model"] is None
    assert document["decision"]["verdict"] == "promote"  # type: ignore[index]
    assert emulator.count("POST", r"/modelmanagement/") == 0


def test_a_run_that_does_not_exist_is_bad_input(
    cli: Cli, names: dict[str, str], job_env: dict[str, str]
) -> None:
    """A run id the workspace does not have exits 2, naming it."""
    done = promote(
        cli, "--experiment-name", names["experiment"], "--run-id", "no-such-run", env=job_env
    )
    assert done.code == 2, done.explain()
    assert "no-such-run" in done.stderr


@pytest.mark.usefixtures("baseline")
def test_a_registry_that_refuses_is_a_backend_failure(
    cli: Cli,
    emulator: AzureMLEmulator,
    names: dict[str, str],
    job_env: dict[str, str],
    github_files: dict[str, str],
) -> None:
    """The model registry answering 403 exits 3 with an error annotation; nothing registered."""
    args = candidate(emulator, names, 0.90)
    emulator.fail_next("GET", r"/modelmanagement/.*/models", status=403, times=10)
    done = promote(cli, *args, env={**job_env, **github_files})
    assert done.code == 3, done.explain()
    assert "HTTP 403" in done.stderr
    assert "::error title=aml-promote%3A backend failure::" in done.stderr
    assert len(emulator.models(names["model"])) == 1


# --- credentials ---------------------------------------------------------------------------


def misspelt_credentials() -> str:
    """AZURE_CREDENTIALS with the secret under a misspelt key: so clientSecret is missing."""
    return json.dumps(
        {
            "clientId": "11111111-2222-3333-4444-555555555555",
            "client_secret": SECRET,
            "subscriptionId": "66666666-7777-8888-9999-000000000000",
            "tenantId": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        }
    )


@pytest.mark.usefixtures("names")
@pytest.mark.parametrize(
    ("credentials", "says"),
    [
        (misspelt_credentials(), "missing clientSecret"),
        ('{"clientId": "abc", "clientSecret": "' + SECRET + '",}', "not valid JSON"),
    ],
    ids=["missing-key", "malformed-json"],
)
def test_bad_credentials_exit_2_and_never_show_the_secret(
    cli: Cli, credentials: str, says: str
) -> None:
    """Bad credentials exit 2, say what is wrong, and the secret appears nowhere at all."""
    done = promote(
        cli,
        "--experiment-name",
        "e",
        "--run-id",
        "r",
        env={**GUARD, "AZURE_CREDENTIALS": credentials},
    )
    assert done.code == 2, done.explain()
    assert says in done.stderr
    assert SECRET not in done.everything()


@pytest.mark.usefixtures("names")
def test_bad_credentials_in_github_show_the_secret_only_to_mask_it(
    cli: Cli, github_files: dict[str, str]
) -> None:
    """In GitHub Actions the secret is written once, first, in the ::add-mask:: the runner eats."""
    env = {**GUARD, **github_files, "AZURE_CREDENTIALS": misspelt_credentials()}
    done = promote(cli, "--experiment-name", "e", "--run-id", "r", "--json", env=env)
    assert done.code == 2, done.explain()
    lines = done.stderr.splitlines()
    assert lines[0].startswith("::add-mask::")
    assert [line for line in lines if SECRET in line] == [f"::add-mask::{SECRET}"]
    assert SECRET not in done.stdout
    assert json.loads(done.stdout)["error"]["type"] == "CredentialsError"
    assert "::error title=aml-promote%3A bad input::" in done.stderr
    files = [Path(github_files[k]) for k in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")]
    assert all(SECRET not in p.read_text(encoding="utf-8") for p in files if p.exists())


@pytest.mark.usefixtures("names")
def test_credentials_without_a_workspace_config_are_bad_input(cli: Cli) -> None:
    """Valid credentials but no config.json or aml_arm_config.json exits 2, before any request."""
    credentials = json.loads(misspelt_credentials())
    credentials["clientSecret"] = credentials.pop("client_secret")
    done = promote(
        cli,
        "--experiment-name",
        "e",
        "--run-id",
        "r",
        env={**GUARD, "AZURE_CREDENTIALS": json.dumps(credentials)},
    )
    assert done.code == 2, done.explain()
    assert "aml_arm_config.json" in done.stderr
    assert SECRET not in done.everything()


# --- a hung or slow service cannot stall a promotion ---------------------------------------------

DEADLINE = 8.0  # AML_PROMOTION_RETRY_DEADLINE: each request 5 s at most (the floor), then 2.5 s
SLACK = 1.0  # from the deadline to the client closing its last connection
EXIT = 10.0  # from the deadline to the process's exit (the SDKs' teardown), on a shared machine


def _hurried(job_env: dict[str, str]) -> dict[str, str]:
    return {**job_env, "AML_PROMOTION_RETRY_DEADLINE": f"{DEADLINE:g}", "CI": "true"}


def _run_route(run_id: str) -> str:
    """The path of the candidate run's read (not the promotion job's own run)."""
    return rf"/history/v1\.0/.*/runs/{run_id}$"


def _cut_short(stderr: str) -> float:
    """The seconds the last attempt's request was given, as the error says."""
    found = re.search(r"no answer from Azure ML within ([\d.]+) s \(gave up", stderr)
    assert found, stderr
    return float(found[1])


def _spans(emulator: AzureMLEmulator, pattern: str) -> tuple[float, float]:
    """Seconds from the first GET matching `pattern` to the end of the last, and to now."""
    matching = emulator.matching("GET", pattern)
    ended = max(r.ended or math.inf for r in matching)
    return ended - matching[0].at, time.monotonic() - matching[0].at


@pytest.mark.usefixtures("baseline")
def test_a_hung_service_fails_the_stage_within_the_deadline_naming_both(
    cli: Cli, emulator: AzureMLEmulator, names: dict[str, str], job_env: dict[str, str]
) -> None:
    """The candidate's run is never answered: exit 3 within the deadline, the stage named.

    Two attempts: the first waits its 5 s, the retry only what is left of the 8 s.
    """
    args = candidate(emulator, names, 0.85)
    route = _run_route(args[-1])
    emulator.hang_next("GET", route, times=10)
    done = promote(cli, *args, env=_hurried(job_env))
    took, to_exit = _spans(emulator, route)
    assert done.code == 3, done.explain()
    assert took < DEADLINE + SLACK, (took, done.explain())
    assert to_exit < DEADLINE + EXIT, (to_exit, done.explain())
    assert emulator.count("GET", route) == 2, [str(r) for r in emulator.requests]
    assert "reading the candidate" in done.stderr, done.explain()  # the stage's progress line
    assert "gave up within the 8 s retry deadline" in done.stderr, done.explain()
    assert args[-1] in done.stderr  # the run it could not read
    assert "no answer from Azure ML within 5 s" in done.stderr, done.explain()  # the first
    assert _cut_short(done.stderr) < 3.0  # the retry: only what was left of the deadline


@pytest.mark.usefixtures("baseline")
def test_a_service_failing_after_3_s_each_time_is_given_up_on_at_the_deadline(
    cli: Cli, emulator: AzureMLEmulator, names: dict[str, str], job_env: dict[str, str]
) -> None:
    """503 after 3 s, every time: retried while the deadline allows, the last cut short."""
    args = candidate(emulator, names, 0.85)
    route = _run_route(args[-1])
    emulator.slow_next("GET", route, seconds=3, status=503, times=10)
    done = promote(cli, *args, env=_hurried(job_env))
    took, to_exit = _spans(emulator, route)
    assert done.code == 3, done.explain()
    assert took < DEADLINE + SLACK, (took, done.explain())
    assert to_exit < DEADLINE + EXIT, (to_exit, done.explain())
    assert emulator.count("GET", route) >= 2
    assert "gave up within the 8 s retry deadline" in done.stderr, done.explain()


@pytest.mark.usefixtures("baseline")
def test_a_service_answering_in_3_s_is_waited_for(
    cli: Cli, emulator: AzureMLEmulator, names: dict[str, str], job_env: dict[str, str]
) -> None:
    """A slow answer (3 s, under the 5 s a request may take) is not cut off: registered."""
    args = candidate(emulator, names, 0.85)
    route = _run_route(args[-1])
    emulator.slow_next("GET", route, seconds=3)
    done = promote(cli, *args, env=_hurried(job_env))
    assert done.code == 0, done.explain()
    assert emulator.count("GET", route) == 1
    assert [m["version"] for m in emulator.models(names["model"])] == [1, 2]
