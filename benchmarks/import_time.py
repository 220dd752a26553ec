"""Measure what `import aml_promotion` costs over a bare interpreter (the goal: at most 50 ms).

Each sample starts a fresh interpreter twice, once doing nothing and once importing the package,
alternating so that a busy machine slows both alike; the figure is the median of the differences.
It is given as wall-clock time and as CPU time (user + system of the child), which other work on
the machine inflates much less. For scale it also measures `import attrs` alone (a runtime
dependency, so a floor) and a pure-Python loop (about 0.4 s on a 2020s laptop core).

    python benchmarks/import_time.py [--runs 30] [--breakdown] [--python PATH] [--budget 50]

Exits with status 1 when the median CPU cost exceeds the budget (milliseconds) or when the
import pulls in an SDK.
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


def cost(python: str, code: str, runs: int) -> tuple[float, float]:
    """Return the median extra wall-clock and CPU seconds of `code` over an empty interpreter."""
    _run(python, code)  # not counted: writes the bytecode, fills the OS file cache
    walls, cpus = [], []
    for _ in range(runs):
        empty_wall, empty_cpu = _run(python, "pass")
        wall, cpu = _run(python, code)
        walls.append(wall - empty_wall)
        cpus.append(cpu - empty_cpu)
    return statistics.median(walls), statistics.median(cpus)


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
        [python, "-X", "importtime", "-c", "import aml_promotion"],
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
    parser.add_argument("--budget", type=float, default=50.0, help="milliseconds (default 50)")
    parser.add_argument("--breakdown", action="store_true", help="show -X importtime's top")
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure")
    args = parser.parse_args()

    version = subprocess.run(
        [args.python, "-c", "import sys; print(sys.version.split()[0])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    wall, cpu = cost(args.python, "import aml_promotion", args.runs)
    core_wall, core_cpu = cost(args.python, "from aml_promotion import promote", args.runs)
    attrs_wall, attrs_cpu = cost(args.python, "import attrs", args.runs)
    _, loop = _run(args.python, LOOP)
    sdks = sdks_imported(args.python)
    print(f"Python {version}, medians of {args.runs} runs, over a bare interpreter")
    print(f"  import aml_promotion:  {wall * 1000:6.1f} ms wall, {cpu * 1000:6.1f} ms CPU")
    print(
        f"  ...then using promote: {core_wall * 1000:6.1f} ms wall, {core_cpu * 1000:6.1f} ms CPU"
        "  (`from aml_promotion import promote`: the core, attrs included)"
    )
    print(
        f"  import attrs alone:    {attrs_wall * 1000:6.1f} ms wall, {attrs_cpu * 1000:6.1f} ms CPU"
    )
    print(f"  machine speed:         10M-step loop in {loop:.2f} s CPU (≈0.4 s on a laptop)")
    print(f"  SDK modules imported:  {', '.join(sdks) if sdks else 'none'}")
    within = cpu * 1000 <= args.budget
    print(f"  budget {args.budget:g} ms (CPU): {'met' if within else 'EXCEEDED'}")
    if args.breakdown:
        print("\n  slowest imports (cumulative µs, own µs, module):")
        for own, cumulative, name in breakdown(args.python, top=15):
            print(f"    {cumulative:8d} {own:8d}  {name}")
    return 0 if within and not sdks else 1


if __name__ == "__main__":
    sys.exit(main())
