"""Development sessions: `nox -l` lists them; `nox -s tests` runs the core on every Python."""

from __future__ import annotations

import os
import subprocess

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "typing", "tests", "integration", "docs"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PYTHON_PATHS = ["src", "tests", "benchmarks", "examples", "noxfile.py"]
# azureml-core and the mlflow server are exercised on one Python: the SDK's own support window.
INTEGRATION_PYTHON = "3.11"
# Benchmarks of the azureml-v2 extra, which cannot share a venv with azureml-core's pins.
V2_BENCHMARKS = {"azureml_v2_requests.py"}


def _group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff: lint and formatting; zizmor: the action's security audit (offline)."""
    session.install(*_group("lint"))
    # Python files only: the Markdown docs keep their examples as written.
    session.run("ruff", "check", *PYTHON_PATHS)
    session.run("ruff", "format", "--check", *PYTHON_PATHS)
    # Offline: no GitHub API calls (and no token); pinning, injection and the other local audits.
    session.run("zizmor", "--offline", "action.yml")


@nox.session(python=INTEGRATION_PYTHON)
def typing(session: nox.Session) -> None:
    """Mypy, strict, on the package (with MLflow, which is typed; azureml-core is not)."""
    session.install("-e", ".[mlflow]", *_group("typing"))
    session.run("mypy")
    # MlflowBackend checked against the Backend protocol (the test module is typed throughout).
    session.run(
        "mypy",
        "--explicit-package-bases",
        "tests/integration/mlflow/test_mlflow_adapter.py",
        env={"MYPYPATH": "tests"},
    )


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The core's unit tests, with branch coverage (100% of the domain package is required)."""
    session.install("-e", ".", *_group("test-core"))
    session.run(
        "pytest",
        "tests/unit",
        "--cov=aml_promotion",
        "--cov-branch",
        "--cov-report=term-missing:skip-covered",
        *session.posargs,
    )
    session.run("coverage", "report", "--include=src/aml_promotion/_domain/*", "--fail-under=100")


@nox.session(python=INTEGRATION_PYTHON)
def integration(session: nox.Session) -> None:
    """Every test, adapters included: sqlite, an mlflow server and the Azure ML emulator."""
    session.install("-e", ".[mlflow,azureml]", *_group("test"))
    env = {}
    server = _mlflow_server(session)
    if server:
        env["AML_PROMOTION_MLFLOW_SERVER"] = server
    session.run("pytest", "tests", *session.posargs, env=env)


@nox.session(python=INTEGRATION_PYTHON)
def slow(session: nox.Session) -> None:
    """The slow tests only (8-process races on sqlite and on PostgreSQL), which CI leaves out."""
    session.install("-e", ".[mlflow,azureml]", *_group("test"))
    env = {}
    server = _mlflow_server(session)
    if server:
        env["AML_PROMOTION_MLFLOW_SERVER"] = server
    session.run("pytest", "tests", "-m", "slow", *session.posargs, env=env)


def _mlflow_server(session: nox.Session) -> str | None:
    """Install the full `mlflow` package (the server) in a venv of its own; return its path."""
    if os.environ.get("AML_PROMOTION_SKIP_MLFLOW_SERVER"):
        return None
    venv = os.path.join(".nox", "mlflow-server")
    mlflow = os.path.join(venv, "bin", "mlflow")
    python = os.path.join(venv, "bin", "python")
    # The auth extra (Flask-WTF) serves `mlflow server --app-name basic-auth` (permission tests).
    has_auth = (
        os.path.exists(python)
        and (
            subprocess.run([python, "-c", "import flask_wtf"], capture_output=True, check=False)
        ).returncode
        == 0
    )
    if not os.path.exists(mlflow) or not has_auth:
        if not os.path.exists(python):
            session.run("python", "-m", "venv", venv, external=True)
        session.run(
            python,
            "-m",
            "pip",
            "install",
            "-q",
            "mlflow[auth]>=3,<4",
            "psycopg2-binary",
            external=True,
        )
    return os.path.abspath(mlflow)


@nox.session(python=INTEGRATION_PYTHON)
def browser(session: nox.Session) -> None:
    """The notebook view drawn by headless Chromium, its badge colours read from the screenshot.

    Needs Chromium on the PATH (Debian: ``apt-get install chromium``); the tests skip without it.
    """
    session.install("-e", ".", *_group("test-core"))
    session.run("pytest", "tests/integration/browser", "-m", "browser", *session.posargs)


@nox.session(python=INTEGRATION_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors."""
    session.install("-e", ".", *_group("docs"))
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session(python=INTEGRATION_PYTHON)
def bench(session: nox.Session) -> None:
    """Run every benchmark under benchmarks/ and print its figures (measurements, not tests).

    mlflow_server_scale.py needs PostgreSQL (Debian's package) and starts the mlflow server
    installed as for the integration session; without them it says so and is skipped.
    """
    session.install("-e", ".[mlflow,azureml]", *_group("test"))
    env = {}
    server = _mlflow_server(session)
    if server:
        env["AML_PROMOTION_MLFLOW_SERVER"] = server
    for script in sorted(os.listdir("benchmarks")):
        if script in V2_BENCHMARKS:
            session.log(f"{script}: run by `nox -s bench_v2` (the azureml-v2 extra's venv)")
        elif script.endswith(".py") and not script.startswith("_"):
            session.run("python", os.path.join("benchmarks", script), *session.posargs, env=env)


@nox.session(python=INTEGRATION_PYTHON)
def bench_v2(session: nox.Session) -> None:
    """The Azure ML SDK v2 benchmarks, in a venv of their own (the azureml-v2 extra)."""
    session.install("-e", ".[azureml-v2]", *_group("test"))
    for script in sorted(V2_BENCHMARKS):
        session.run("python", os.path.join("benchmarks", script), *session.posargs)
