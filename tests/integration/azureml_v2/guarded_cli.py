"""``aml-promote`` in a subprocess behind the tests' socket guard: nothing but loopback.

Run as ``python guarded_cli.py ARGS``: installs `SocketGuard` (no connection or name lookup beyond
127.0.0.1) before anything is imported, runs the command line's `main()`, and writes each refused
attempt, one a line, to the file named by ``AML_PROMOTION_REFUSED`` (empty: none was made), so the
test fails on an attempt the SDKs swallowed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for socket_guard

from socket_guard import SocketGuard


def _main() -> int:
    guard = SocketGuard()
    guard.install()
    try:
        from aml_promotion._cli import main  # noqa: PLC0415 - imported behind the guard

        return main(sys.argv[1:])
    finally:
        Path(os.environ["AML_PROMOTION_REFUSED"]).write_text(
            "".join(f"{attempt}\n" for attempt in guard.refused), encoding="utf-8"
        )


if __name__ == "__main__":
    sys.exit(_main())
