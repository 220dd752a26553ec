#!/usr/bin/env bash
# The README's main command: real promotions on a local MLflow store (sqlite), no cloud account.
#
# On a fresh machine (python3 >= 3.10 with venv and pip) it creates ./.venv if missing, installs
# aml-promotion with its [mlflow] extra into it, with numpy and pandas (mlflow.pyfunc needs them
# to load the champion at the end) (editable, quietly; skipped when already there),
# then runs examples/mlflow_demo.py, which leaves its store in ./demo-mlflow/ (reset at each run).
# Arguments are passed on to the demo (--markdown prints the decisions as Markdown).
# PYTHON=/path/to/python3 picks the interpreter that creates the virtualenv.
set -euo pipefail

cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
venv=".venv"

if [ ! -x "$venv/bin/python" ]; then
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
        echo "demo: needs Python 3.10 or newer as '$python' (set PYTHON=/path/to/python3)" >&2
        exit 1
    fi
    echo "demo: creating $venv"
    "$python" -m venv "$venv"
fi

# Installed already (this checkout, editable, with the extra's packages)? Then skip pip.
if ! "$venv/bin/python" - <<'PY' 2>/dev/null; then
import importlib.util, pathlib, sys
import aml_promotion
here = pathlib.Path("src").resolve()
sys.exit(
    not pathlib.Path(aml_promotion.__file__).resolve().is_relative_to(here)
    or not all(
        importlib.util.find_spec(m)
        for m in ("mlflow", "sqlalchemy", "alembic", "numpy", "pandas")
    )
)
PY
    echo "demo: installing aml-promotion[mlflow] into $venv (a minute or two, the first time)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[mlflow]" \
        numpy pandas
fi

exec "$venv/bin/python" examples/mlflow_demo.py "$@"
