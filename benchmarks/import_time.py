"""Measure what importing aml_promotion costs over a bare interpreter, against `import attrs`.

The budget (issue #17): what users write, ``from aml_promotion import promote, decide,
load_settings``, imports no SDK and costs at most 3x what ``import attrs`` alone costs (attrs is
a runtime dependency, so it is the floor). Imports are deferred (imported inside a function)
only at the SDK boundary and where one saves 5 ms or more (tenacity, importlib.metadata); the
rest are at the top of their module, for readability.

Each sample starts fresh interpreters in turn, one doing nothing, one importing attrs, one doing
the user's import and one ``import aml_promotion``, so that a busy machine slows all alike; a
figure is the median of the differences over the bare interpreter.
It is given as CPU time (user + system of the child), which other work on the machine inflates
much less than wall-clock time, and as wall-clock time. For scale it also times a pure-Python
loop (about 0.4 s on a 2020s laptop core).

    python benchmarks/import_time.py [--runs 30] [--breakdown] [--python PATH] [--ratio 3]

Exits with status 1 when the user's import costs more than `--ratio` times `import attrs` (CPU
medians), or when the import pulls in an SDK.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

SDK_ROOTS = ("azureml", "azure", "mlflow", "sqlalchemy", "alembic", "msrest", "numpy", "pandas")
LOOP = "s = 0\nfor i in range(10_000_000):\n    s += i"


def _env() -> dict[str, str]:
    # Measure as installed packages run: with their bytecode cached, not compiled every time.
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _run(python: str, code: str) -> tuple[float, float]:
    """Run `code` in a fresh interpreter; return its wall-clock and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, env=_env())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


USERS_IMPORT = "from aml_promotion import promote, decide, load_settings"


def costs(python: str, codes: dict[str, str], runs: int) -> dict[str, tuple[float, float]]:
    """Return, per label, the median extra wall-clock and CPU seconds of its code.

    The codes run interleaved with a bare interpreter, one sample of each in turn.
    """
    for code in codes.values():
        _run(python, code)  # not counted: writes the bytecode, fills the OS file cache
    samples: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label in codes}
    for _ in range(runs):
        empty_wall, empty_cpu = _run(python, "pass")
        for label, code in codes.items():
            wall, cpu = _run(python, code)
            samples[label][0].append(wall - empty_wall)
            samples[label][1].append(cpu - empty_cpu)
    return {
        label: (statistics.median(walls), statistics.median(cpus))
        for label, (walls, cpus) in samples.items()
    }


def sdks_imported(python: str) -> list[str]:
    """Return the SDK modules that `import aml_promotion` pulls in (it must pull in none)."""
    code = (
        "import sys, aml_promotion\n"
        f"roots = {SDK_ROOTS!r}\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in roots)))"
    )
    out = subprocess.run(
        [python, "-c", code], check=True, capture_output=True, text=True, env=_env()
    )
    return out.stdout.split()


def breakdown(python: str, top: int) -> list[tuple[int, int, str]]:
    """Return the `top` modules with the largest cumulative import time, in microseconds."""
    result = subprocess.run(
        [python, "-X", "importtime", "-c", USERS_IMPORT],
        check=True,
        capture_output=True,
        text=True,
        env=_env(),
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(own), int(cumulative), name.rstrip()))
    return sorted(rows, key=lambda row: row[1], reverse=True)[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="samples (default 30)")
    parser.add_argument(
        "--ratio", type=float, default=3.0, help="most the user's import may cost, in attrs'"
    )
    parser.add_argument("--breakdown", action="store_true", help="show -X importtime's top")
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure")
    args = parser.parse_args()

    version = subprocess.run(
        [args.python, "-c", "import sys; print(sys.version.split()[0])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    measured = costs(
        args.python,
        {
            "attrs": "import attrs",
            "users": USERS_IMPORT,
            "package": "import aml_promotion",
        },
        args.runs,
    )
    _, loop = _run(args.python, LOOP)
    sdks = sdks_imported(args.python)
    print(f"Python {version}, medians of {args.runs} interleaved runs, over a bare interpreter")
    for label, text in (
        ("attrs", "import attrs (the floor)"),
        ("users", USERS_IMPORT),
        ("package", "import aml_promotion"),
    ):
        wall, cpu = measured[label]
        print(f"  {text:<58} {cpu * 1000:6.1f} ms CPU, {wall * 1000:6.1f} ms wall")
    ratio = measured["users"][1] / measured["attrs"][1]
    print(f"  machine speed: 10M-step loop in {loop:.2f} s CPU (about 0.4 s on a laptop)")
    print(f"  SDK modules imported: {', '.join(sdks) if sdks else 'none'}")
    within = ratio <= args.ratio
    print(
        f"  the user's import costs {ratio:.2f}x import attrs (CPU); "
        f"goal at most {args.ratio:g}x: {'met' if within else 'MISSED'}"
    )
    if args.breakdown:
        print("\n  slowest imports of the user's import (cumulative µs, own µs, module):")
        for own, cumulative, name in breakdown(args.python, top=15):
            print(f"    {cumulative:8d} {own:8d}  {name}")
    return 0 if within and not sdks else 1


if __name__ == "__main__":
    sys.exit(main())
