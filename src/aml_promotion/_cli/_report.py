"""Where a result or an error is shown: stdout and stderr, GitHub Actions, Azure Pipelines.

Everything goes through one `Console` and so through the redactor: a plain-text table (or one
JSON document) on stdout, coloured only on a terminal and never with ``NO_COLOR``; warnings,
errors and logs on stderr; in GitHub Actions step outputs, the step summary and annotations
(`aml_promotion._github`); in Azure Pipelines output variables, the run's summary and issues
(`aml_promotion._azure_pipelines`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import traceback
from collections.abc import Iterator, Mapping
from typing import TextIO

import attrs

from aml_promotion._azure_pipelines import AzurePipelines, neutralize
from aml_promotion._cli._exit import TITLES, ExitCode
from aml_promotion._cli._parser import PROG
from aml_promotion._domain import render
from aml_promotion._github import GitHubActions, Redactor
from aml_promotion._service import PromotionResult
from aml_promotion._settings import Settings
from aml_promotion.adapters._redaction import redact as redact_uris
from aml_promotion.exceptions import PromotionError

__all__ = ["Console", "logging_to", "report", "report_error", "result_outputs", "result_view"]

logger = logging.getLogger("aml_promotion")


@attrs.define
class Console:
    """Everything the command line writes, each line through the redactor."""

    stdout: TextIO
    stderr: TextIO
    github: GitHubActions
    redact: Redactor
    azure: AzurePipelines = attrs.field(factory=lambda: AzurePipelines(stream=sys.stderr))

    def _shown(self, text: str) -> str:
        # The given secrets, then a URI's user info and query-string secrets, wherever they are.
        text = redact_uris(self.redact(text)).rstrip("\n") + "\n"
        # In a pipeline the agent acts on "##vso[" anywhere in a line: data must not hold one.
        return neutralize(text) if self.azure.active else text

    def out(self, text: str) -> None:
        self.stdout.write(self._shown(text))
        self.stdout.flush()

    def err(self, text: str) -> None:
        self.stderr.write(self._shown(text))
        self.stderr.flush()

    def warn(self, message: str, *, file: str | None = None) -> None:
        self.err(f"{PROG}: warning: {message}")
        self.github.annotate("warning", message, title="aml-promote", file=file)
        self.azure.log_issue("warning", message)


def result_outputs(result: PromotionResult, *, model_name: str | None) -> dict[str, str]:
    """Return the step outputs for a result."""
    model = result.model
    return {
        "model_name": model.name if model is not None else (model_name or ""),
        "model_version": "" if model is None else str(model.version),
        "model_id": "" if model is None else model.id,
        "promoted": "true" if model is not None else "false",
        "champion_version": (
            "" if result.champion_version is None else str(result.champion_version)
        ),
        "decision": result.decision.to_json(),
    }


def result_view(
    result: PromotionResult, *, model_name: str | None, champion: str | None
) -> render.ResultView:
    """Return what the renderings show of a result besides its decision.

    Args:
        result: The result.
        model_name: The settings' model name, shown when nothing was registered.
        champion: What the promotion moves (``@champion``; see `render.champion_marker`).
    """
    view = result.view()
    return attrs.evolve(
        view, model_name=view.model_name or model_name, champion=view.champion or champion
    )


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed stream
        return False


def report(
    console: Console,
    result: PromotionResult,
    *,
    as_json: bool,
    settings: Settings,
    environ: Mapping[str, str],
    code: ExitCode,
    model_name: str | None = None,
) -> None:
    """Show a result everywhere it is read: stdout, and GitHub's or Azure Pipelines' records.

    Args:
        console: Where everything is written.
        result: The result.
        as_json: One JSON document on stdout (``--json``), not the table.
        settings: The settings (the model name shown when nothing was registered, the baseline).
        environ: The environment (``NO_COLOR``, ``TERM``).
        code: The exit code the result ends with.
        model_name: The model's name, shown when nothing was registered (default: the
            settings'; a candidate version's is its own).
    """
    decision = result.decision
    shown = model_name or settings.model_name
    view = result_view(
        result,
        model_name=shown,
        champion=render.champion_marker(settings.baseline),
    )
    outcome = render.outcome_line(decision, view)
    outputs = result_outputs(result, model_name=shown)
    github, azure = console.github, console.azure
    github.set_outputs(outputs)
    azure.set_outputs(outputs)
    # Markdown only where Markdown is read; GitHub renders Mermaid charts, Azure DevOps does not.
    github.add_summary(render.result_markdown(decision, view, mermaid=True))
    azure.add_summary(render.result_markdown(decision, view, mermaid=False))
    if as_json:
        console.out(json.dumps(result.to_dict(), allow_nan=False, ensure_ascii=False))
    else:
        color = render.wants_color(isatty=_isatty(console.stdout), environ=environ)
        console.out(render.result_text(decision, view, color=color))
    if code is ExitCode.REJECTED:
        github.annotate("error", outcome, title="Model not promoted")
        azure.log_issue("error", outcome)
    elif result.model is None:
        level = "notice" if result.dry_run else "warning"
        github.annotate(level, outcome, title="Model not promoted")
        if not result.dry_run:
            azure.log_issue("warning", outcome)
    else:
        github.annotate("notice", outcome, title="Model promoted")


def report_error(console: Console, error: BaseException, code: ExitCode, *, as_json: bool) -> None:
    """Show an error on stderr, as an annotation or issue, and with `as_json` on stdout too.

    An error that is not ours (a bug, an SDK error no adapter translated) shows its traceback.
    """
    message = str(error) or type(error).__name__
    if code is ExitCode.BACKEND_FAILURE and not isinstance(error, PromotionError):
        # Not one of ours: a bug, or an SDK error an adapter did not translate. The traceback is
        # what a bug report needs; it shows code and messages, never the credentials' values.
        console.err("".join(traceback.format_exception(error)).rstrip())
        message = f"unexpected error: {type(error).__name__}: {message}"
    console.err(f"{PROG}: error: {message}")
    source = getattr(error, "source", None)
    console.github.annotate(
        "error", message, title=TITLES[code], file=source if isinstance(source, str) else None
    )
    console.azure.log_issue("error", f"{TITLES[code]}: {message}")
    if as_json:
        document = {"error": {"type": type(error).__name__, "message": message, "exit_code": code}}
        console.out(json.dumps(document, ensure_ascii=False))


_QUIET_LOGGERS = ("alembic", "mlflow.store.db.utils", "mlflow.store.db_migrations")


@contextlib.contextmanager
def logging_to(console: Console, *, verbose: bool) -> Iterator[None]:
    """Within the block, log records go to the console (so through the redactor).

    The handler sits on the root logger: the SDKs' warnings pass through the redactor too,
    instead of Python's last-resort handler; ours are shown from INFO on when `verbose`.
    """

    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            where = "" if record.name.startswith(logger.name) else f"[{record.name}] "
            console.err(f"{PROG}: {record.levelname.lower()}: {where}{record.getMessage()}")

    handler = _Handler()
    root = logging.getLogger()
    previous = logger.level
    # MLflow's INFO lines about creating a database's tables are its business, not the user's.
    quieted = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
    root.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    for name in quieted:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        logger.setLevel(previous)
        for name, level in quieted.items():
            logging.getLogger(name).setLevel(level)
