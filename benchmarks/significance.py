"""Measure the significance tests of DESIGN.md section 3 (pure Python: no numpy, no scipy).

Budgets: the exact paired test at n = 20 (2^20 sign patterns, counted by meeting in the
middle) in under 50 ms; every sampled test (100,000 draws) in under 1 s. Each figure is the
median of several runs, as wall-clock and as CPU time of this process (which other work on a
shared machine inflates less); the budgets are checked against CPU time.

    python benchmarks/significance.py [--runs 5]

Exits with status 1 when a figure is over its budget.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time

from aml_promotion._domain.policy import Goal
from aml_promotion._domain.significance import significance_test

EXACT_BUDGET = 0.050
SAMPLED_BUDGET = 1.0


def scores(rng: random.Random, n: int, mean: float) -> list[float]:
    return [mean + rng.gauss(0, 0.01) for _ in range(n)]


def measure(candidate: list[float], baseline: list[float], runs: int) -> tuple[float, float, bool]:
    walls, cpus = [], []
    exact = False
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = significance_test(candidate, baseline, goal=Goal.MAXIMIZE)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        exact = result.exact
    return statistics.median(walls), statistics.median(cpus), exact


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(1)  # noqa: S311 - made-up scores, not secrets
    cases = [
        ("paired", 20, 20),
        ("paired", 30, 30),
        ("paired", 200, 200),
        ("unpaired", 8, 12),
        ("unpaired", 2, 600),
        ("unpaired", 12, 14),
        ("unpaired", 20, 21),
        ("unpaired", 30, 40),
    ]
    failed = False
    print(
        f"{'test':<10}{'n':>12}{'arrangements':>16}{'how':>9}{'wall ms':>10}{'cpu ms':>9}  budget"
    )
    for kind, n_c, n_b in cases:
        candidate, baseline = scores(rng, n_c, 0.805), scores(rng, n_b, 0.80)
        wall, cpu, exact = measure(candidate, baseline, args.runs)
        arrangements = 2**n_c if kind == "paired" else math.comb(n_c + n_b, n_c)
        budget = EXACT_BUDGET if kind == "paired" and exact else SAMPLED_BUDGET
        over = cpu > budget
        failed |= over
        print(
            f"{kind:<10}{f'{n_c} vs {n_b}':>12}{arrangements:>16.3g}"
            f"{'exact' if exact else 'sampled':>9}{wall * 1000:>10.1f}{cpu * 1000:>9.1f}"
            f"  {'OVER ' if over else ''}{budget * 1000:.0f} ms"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
