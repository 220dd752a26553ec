"""The entry points: `main` (the console script) and `run`, with everything it touches given.

`run` parses the arguments, reads the settings and inputs, builds the backend, calls
`promote()`, and reports; every failure becomes an exit code (`._exit`) and a reported error.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from aml_promotion._azure_pipelines import AzurePipelines
from aml_promotion._cli._arguments import Arguments
from aml_promotion._cli._backends import (
    RUN_CONTEXT_VARIABLE,
    BackendFactory,
    TargetFactory,
    build_backend,
    build_target_backend,
    in_ci,
)
from aml_promotion._cli._exit import ExitCode, exit_code_for, exit_code_for_error
from aml_promotion._cli._inputs import (
    find_local_model,
    in_azureml_job,
    read_metrics,
    read_settings,
    relative,
)
from aml_promotion._cli._parser import DEFAULT_PARAMETERS_FILE
from aml_promotion._cli._report import Console, logging_to, report, report_error
from aml_promotion._github import CREDENTIALS_VARIABLE, GitHubActions, Redactor, credential_secrets
from aml_promotion._service import model_name, promote
from aml_promotion.exceptions import UsageError
from aml_promotion.ports import VersionRef

__all__ = ["NO_RULES_NOTICE", "main", "run"]

logger = logging.getLogger("aml_promotion")

NO_RULES_NOTICE = (
    "no metric rules: every model is registered without comparison, as the original action "
    "did. Add metrics_max / metrics_min (or metric_rules) to the settings file to register "
    "only models that beat the registered one"
)


def run(
    argv: Sequence[str],
    *,
    environ: Mapping[str, str],
    stdout: TextIO,
    stderr: TextIO,
    cwd: Path | None = None,
    backend_factory: BackendFactory | None = None,
    target_factory: TargetFactory | None = None,
) -> int:
    """Run the command line with everything it touches given; return the exit code.

    Args:
        argv: The arguments, without the program name.
        environ: The environment (GitHub Actions' variables, AZURE_CREDENTIALS...).
        stdout: Where the decision goes.
        stderr: Where warnings, errors, logs and workflow commands go.
        cwd: The directory relative paths start from (default: the process's).
        backend_factory: Builds the backend from the arguments (default: `build_backend`).
        target_factory: Builds the target backend of ``--candidate-version`` (default:
            `build_target_backend`).

    Returns:
        An `ExitCode` value.
    """
    redact = Redactor(credential_secrets(environ.get(CREDENTIALS_VARIABLE)))
    github = GitHubActions.from_environ(environ, stderr, redact=redact)
    # Before anything else is written, so that the runner hides these values everywhere.
    github.mask(redact.secrets)
    # Before the arguments are parsed, so that a usage error is a JSON document too.
    as_json = "--json" in argv
    # Logging commands on stdout, where the agent reads them; on stderr (read too) when
    # stdout is kept for the one JSON document of --json.
    azure = AzurePipelines.from_environ(environ, stderr if as_json else stdout, redact=redact)
    azure.mask(redact.secrets)
    console = Console(stdout=stdout, stderr=stderr, github=github, redact=redact, azure=azure)
    here = Path.cwd() if cwd is None else cwd
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = Arguments.parse(argv, environ=environ)
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else ExitCode.OK
    except UsageError as error:
        report_error(console, error, ExitCode.BAD_INPUT, as_json=as_json)
        return ExitCode.BAD_INPUT
    factory = backend_factory or (lambda a: build_backend(a, environ=environ, cwd=here))
    targets = target_factory or (lambda a: build_target_backend(a, environ=environ, cwd=here))
    # In CI (or an Azure ML job: its log is all anyone sees) nobody watches a terminal: the
    # stages are logged, so that slow work, and which credential signed in, show in the log.
    in_job = bool(environ.get(RUN_CONTEXT_VARIABLE, "").strip())
    verbose = args.verbose or environ.get("RUNNER_DEBUG") == "1" or in_ci(environ) or in_job
    with logging_to(console, verbose=verbose):
        try:
            return _promote(
                console, args, environ=environ, cwd=here, factory=factory, targets=targets
            )
        except Exception as error:  # noqa: BLE001 - every failure becomes an exit code
            code = exit_code_for_error(error)
            report_error(console, error, code, as_json=args.json)
            return code


def _promote(
    console: Console,
    args: Arguments,
    *,
    environ: Mapping[str, str],
    cwd: Path,
    factory: BackendFactory,
    targets: TargetFactory | None = None,
) -> ExitCode:
    settings, path, shown = read_settings(
        args.parameters_file,
        cwd=cwd,
        strict=args.strict,
        environ=environ,
        model_name=args.model_name,
        candidate_version=args.candidate_version,
    )
    source = None if path is None else relative(path, cwd)
    for message in shown:
        console.warn(message, file=source)
    if path is None:
        logger.info("no %s found: using default settings", DEFAULT_PARAMETERS_FILE)
    else:
        logger.info("settings from %s", source)
    metrics = None if args.metrics_file is None else read_metrics(args.metrics_file, cwd=cwd)
    backend = factory(args)
    # The name shown when nothing is registered: a candidate version's is promote()'s choice.
    name = settings.model_name
    if args.candidate_version is not None:
        ref = VersionRef.parse(args.candidate_version, field="--candidate-version")
        name = model_name(settings.model_name, candidate=ref)
        result = promote(
            settings=settings,
            backend=backend,
            candidate_version=args.candidate_version,
            target=None if targets is None else targets(args),
            dry_run=args.dry_run,
        )
    elif args.local and not in_azureml_job(args, environ):
        result = promote(
            settings=settings,
            backend=backend,
            model_path=find_local_model(settings.model_file_name, environ=environ, cwd=cwd),
            metrics=metrics,
            dry_run=args.dry_run,
        )
    else:
        result = promote(
            settings=settings,
            backend=backend,
            experiment_name=args.experiment_name,
            run_id=args.run_id,
            dry_run=args.dry_run,
            model_id=args.model_id,
        )
    code = exit_code_for(result, fail_on_reject=args.fail_on_reject)
    report(
        console,
        result,
        as_json=args.json,
        settings=settings,
        environ=environ,
        code=code,
        model_name=name,
    )
    if not settings.policy.rules:
        console.github.annotate("notice", NO_RULES_NOTICE, title="No metric rules", file=source)
        logger.info("%s", NO_RULES_NOTICE)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``aml-promote`` in this process; return the exit code (the console script exits with it).

    Args:
        argv: The arguments, without the program name (default: ``sys.argv[1:]``).
    """
    for stream in (sys.stdout, sys.stderr):
        # Tables hold ✅ and Δ: a console that cannot show them gets "?" rather than a crash.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    return run(
        sys.argv[1:] if argv is None else argv,
        environ=os.environ,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )
