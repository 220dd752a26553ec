#!/usr/bin/env bash
# The README's test command: install everything into ./.venv (and the mlflow server into a venv of
# its own), then run every test but the slow races (see below). Needs only python3 (3.10+) with
# venv and pip.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip>=25.1"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[mlflow,azureml]" --group test

# The real `mlflow server` needs the full mlflow package (≈850 MB): it lives apart from the library.
SERVER_VENV=.nox/mlflow-server
# The auth extra (Flask-WTF) serves `mlflow server --app-name basic-auth` for the permission tests.
if [ ! -x "$SERVER_VENV/bin/mlflow" ] || ! "$SERVER_VENV/bin/python" -c "import flask_wtf" 2>/dev/null; then
  [ -x "$SERVER_VENV/bin/python" ] || "$PYTHON" -m venv "$SERVER_VENV"
  "$SERVER_VENV/bin/python" -m pip install -q --disable-pip-version-check "mlflow[auth]>=3,<4" psycopg2-binary
fi
export AML_PROMOTION_MLFLOW_SERVER="$PWD/$SERVER_VENV/bin/mlflow"

export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-fast}"
# The slow tests (8-process races on sqlite and PostgreSQL: about 2 minutes, rarely failing) run
# with `nox -s slow` or `nox -s integration`, or here with AML_PROMOTION_SLOW=1: CI keeps to 20 min.
select=(-m "not slow")
if [ "${AML_PROMOTION_SLOW:-}" = "1" ]; then
  select=()
fi

# Coverage is measured where it is required: the pure domain is fully covered by the unit tests
# alone (DESIGN.md §6), so tests/unit runs under coverage and the rest of the suite without it
# (the tracer took tests/unit from 29 s to 67 s; the adapters' figures were never checked). With
# AML_PROMOTION_COVERAGE=0 (CI, whose `nox -s tests-3.10` checks the same) it is not measured.
if [ "${AML_PROMOTION_COVERAGE:-1}" = "0" ]; then
  .venv/bin/python -m pytest tests/unit -p no:cacheprovider "${select[@]}" "$@"
else
  .venv/bin/python -m pytest tests/unit -p no:cacheprovider "${select[@]}" \
    --cov=aml_promotion --cov-branch --cov-report= "$@"
  .venv/bin/python -m coverage report --include='src/aml_promotion/_domain/*' --fail-under=100
fi
# The integration tests are mostly CLI subprocesses and servers: two workers (AML_PROMOTION_WORKERS;
# 0 runs them in this process), each taking whole files (a module's template store is built once),
# keep both of CI's cores busy.
workers=(-n "${AML_PROMOTION_WORKERS:-2}" --dist loadfile)
.venv/bin/python -m pytest tests --ignore=tests/unit -p no:cacheprovider "${workers[@]}" "${select[@]}" "$@"

# Azure ML SDK v2 (azure-ai-ml, azureml-mlflow) pins mlflow-skinny apart from azureml-core's pins:
# its tests run in a venv of their own (in .venv they skip themselves).
if [ ! -x .venv-v2/bin/python ]; then
  "$PYTHON" -m venv .venv-v2
fi
.venv-v2/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip>=25.1"
.venv-v2/bin/python -m pip install -q --disable-pip-version-check -e ".[azureml-v2]" --group test
.venv-v2/bin/python -m pytest tests/integration/azureml_v2 -p no:cacheprovider "$@"
