"""Real servers on 127.0.0.1 for the tests and the benchmarks: `mlflow server` and PostgreSQL.

- `start_mlflow_server`: an ``mlflow server`` process (the full mlflow package, in a virtualenv
  of its own: its executable is given) over a backend store URI, artifacts served by it.
- `postgres`: a PostgreSQL server (Debian's ``postgresql`` package) in a temporary folder, with
  one database, for as long as the ``with`` block lasts.

No pytest here: the benchmarks start the same servers. The fixtures that skip or fail when a
server is missing are in tests/integration/mlflow/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs

# Seconds at most for `mlflow server` to start (about 15 s on a 2-core runner, most of it
# imports and the migration of its new database).
MLFLOW_START_TIMEOUT = 120.0


class ServerError(RuntimeError):
    """A server did not start; the message ends with what it printed."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MlflowServer:
    """A running ``mlflow server`` process, its URL and its output so far."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url
        self.output: list[str] = []
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self.drain, daemon=True)

    def drain(self) -> None:
        """Read the server's output until it ends (a thread: a full pipe would block it)."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            # uvicorn says so once its socket listens (its "startup complete" comes before).
            if "Uvicorn running on" in line or "Listening at" in line:
                self.ready.set()
        self.ready.set()  # it exited: stop waiting, the health check says the rest

    def healthy(self) -> bool:
        """Whether /health answers OK."""
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=5) as answer:  # noqa: S310
                return bool(answer.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server and every process it started (its own process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck server
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.reader.join(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_mlflow_server(
    executable: str,
    backend_store_uri: str,
    root: Path,
    *,
    workers: int = 1,
    timeout: float = MLFLOW_START_TIMEOUT,
    app_name: str | None = None,
    extra_environment: Mapping[str, str] | None = None,
) -> MlflowServer:
    """Start ``mlflow server`` on a free port of 127.0.0.1, working in `root`; wait until healthy.

    Artifacts are served by the server from ``root/artifacts``. MLflow's variables of this
    environment are not passed on (only `extra_environment`'s), and its background job runner
    (seven huey worker processes) is off. `app_name` serves another app (``basic-auth``).
    Raises `ServerError` with the server's last output if it is not healthy in time.
    """
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    environment["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    environment.update(extra_environment or {})
    app = [] if app_name is None else ["--app-name", app_name]
    command = [
        executable, "server", *app, "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--backend-store-uri", backend_store_uri,
        "--serve-artifacts", "--artifacts-destination", str(root / "artifacts"),
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=root,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so stop() reaches its workers
    )
    server = MlflowServer(process, f"http://127.0.0.1:{port}")
    server.reader.start()
    deadline = time.monotonic() + timeout
    server.ready.wait(timeout)
    while not server.healthy():
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            msg = f"mlflow server on {backend_store_uri.split(':', 1)[0]} did not start:\n"
            raise ServerError(msg + "".join(server.output[-40:]))
        time.sleep(0.25)
    return server


def postgres_binaries() -> Path | None:
    """The folder of PostgreSQL's programs (initdb, postgres, psql...), or None if not installed."""
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / "initdb").is_file():
            return root
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@attrs.frozen
class Postgres:
    """A running PostgreSQL server on 127.0.0.1 and the database made in it."""

    binaries: Path
    port: int
    database: str

    @property
    def uri(self) -> str:
        """The SQLAlchemy URI of the database (psycopg2; user `postgres`, no password)."""
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{self.database}"

    def psql(self, sql: str) -> str:
        """Run `sql` in the database with ``psql``, stop at the first error; return its output."""
        done = subprocess.run(
            [
                str(self.binaries / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                "-U", "postgres", "-d", self.database, "-v", "ON_ERROR_STOP=1",
                "-X", "-q", "-A", "-t", "-c", sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise ServerError(f"psql failed: {done.stderr.strip()}")
        return done.stdout


@contextlib.contextmanager
def postgres(binaries: Path, database: str = "mlflow") -> Iterator[Postgres]:
    """A PostgreSQL server in a temporary folder on 127.0.0.1, with `database`, for the block.

    Run as the `postgres` user when this process is root (PostgreSQL refuses root); trust
    authentication, on loopback only.
    """
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    folder = Path(tempfile.mkdtemp(prefix="aml-promotion-pg-"))
    data = folder / "data"
    if as_root:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        [*run_as, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        [
            *run_as, str(binaries / "postgres"), "-D", str(data), "-h", "127.0.0.1",
            "-p", str(port), "-k", str(folder), "-c", "max_connections=100",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            ready = subprocess.run(
                [str(binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                break
            time.sleep(0.1)
        subprocess.run(
            [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
             database],
            check=True,
            capture_output=True,
        )  # fmt: skip
        yield Postgres(binaries, port, database)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
