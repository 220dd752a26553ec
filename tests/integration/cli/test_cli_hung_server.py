"""A tracking server that accepts connections and never answers cannot stall ``aml-promote``.

Every MLflow request times out after the retry deadline's share (`request_timeout`), so the CLI
gives up within the deadline plus one request's timeout, exit 3, naming the stage and the
deadline (``AML_PROMOTION_RETRY_DEADLINE`` shortens it here).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from integration.cli.clirun import Cli

pytest.importorskip("mlflow")

pytestmark = [pytest.mark.mlflow]

DEADLINE = 6.0
REQUEST_TIMEOUT = 5.0  # max(5, DEADLINE / 5 attempts)
STARTUP = 10.0  # the subprocess's imports, on a shared machine


@pytest.fixture
def hung_server() -> Iterator[str]:
    """An HTTP address on 127.0.0.1 that accepts every connection and never sends a byte."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            held.append(connection)  # read nothing, answer nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


def test_a_hung_tracking_server_fails_within_the_deadline_naming_the_stage(
    cli: Cli, write_settings: object, hung_server: str
) -> None:
    write_settings({"model_name": "churn", "model_file_name": "model.pkl", "metrics_max": ["auc"]})  # type: ignore[operator]
    started = time.monotonic()
    run = cli(
        "--backend", "mlflow", "--tracking-uri", hung_server,
        "--experiment-name", "train", "--run-id", "0123456789abcdef0123456789abcdef",
        env={"AML_PROMOTION_RETRY_DEADLINE": str(DEADLINE), "CI": "true"},
    )  # fmt: skip
    took = time.monotonic() - started
    assert run.code == 3, run.explain()
    assert took < DEADLINE + REQUEST_TIMEOUT + STARTUP, (took, run.explain())
    assert "reading the candidate" in run.stderr, run.explain()  # the stage line
    assert "failed to read run" in run.stderr, run.explain()  # the stage, in the error
    assert "6 s retry deadline" in run.stderr, run.explain()
