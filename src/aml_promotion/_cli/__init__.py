"""The command line, ``aml-promote``: promote one candidate, print why, exit with a meaningful code.

It is a thin shell over `promote()`: parse the arguments, load the settings file, build a backend,
promote, then report — a plain-text table (or one JSON document) on stdout, coloured only on a
terminal and never with ``NO_COLOR``; warnings and errors on stderr; and, in GitHub Actions, step
outputs, the step summary (Markdown) and annotations (`aml_promotion._github`); in Azure
Pipelines, output variables, the run's summary (Markdown) and issues
(`aml_promotion._azure_pipelines`).

One module per concept, each importing only those above it:

- `._exit`: `ExitCode`, and which code a result or an error means;
- `._parser`: the options and their ``--help`` (`build_parser`), `BackendChoice`, the default
  backend;
- `._arguments`: `Arguments`, the parsed command line, typed, and its combinations checked;
- `._inputs`: the settings file, the metrics file, the local model search, the Azure ML job as
  the candidate;
- `._backends`: building the MLflow, Azure ML (SDK v2, v1) and target backends, the SDKs
  imported only there;
- `._report`: the console and the places a result or an error is shown;
- `._main`: `run` and `main`, the entry points.

The names below are what the console script (``aml_promotion._cli:main``), ``python -m
aml_promotion`` and the tests use.
"""

from __future__ import annotations

from aml_promotion._cli._arguments import Arguments
from aml_promotion._cli._backends import (
    NO_CREDENTIALS_IN_CI,
    V1_DEPRECATED,
    build_backend,
    build_target_backend,
    check_mlflow_uri,
    in_ci,
    is_interactive,
)
from aml_promotion._cli._exit import ExitCode, exit_code_for, exit_code_for_error
from aml_promotion._cli._inputs import (
    find_local_model,
    find_parameters_file,
    in_azureml_job,
    read_metrics,
    read_settings,
)
from aml_promotion._cli._main import NO_RULES_NOTICE, main, run
from aml_promotion._cli._parser import BackendChoice, build_parser, default_backend
from aml_promotion._cli._report import result_outputs, result_view

__all__ = [
    "NO_CREDENTIALS_IN_CI",
    "NO_RULES_NOTICE",
    "V1_DEPRECATED",
    "Arguments",
    "BackendChoice",
    "ExitCode",
    "build_backend",
    "build_parser",
    "build_target_backend",
    "check_mlflow_uri",
    "default_backend",
    "exit_code_for",
    "exit_code_for_error",
    "find_local_model",
    "find_parameters_file",
    "in_azureml_job",
    "in_ci",
    "is_interactive",
    "main",
    "read_metrics",
    "read_settings",
    "result_outputs",
    "result_view",
    "run",
]
