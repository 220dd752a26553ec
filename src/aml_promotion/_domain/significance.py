"""Significance tests over series of scores: is the candidate's gain more than noise?

DESIGN.md section 3, "Significance". The candidate's and the baseline's values are series of
per-fold, per-seed or bootstrap scores. The one-sided null hypothesis is "the improvement is at
most `min_delta`":

- *paired* when both series have the same length (score i against score i): a sign-flip
  permutation test over the differences, exact up to `EXACT_PAIRED_MAX` pairs, else
  `SAMPLED_DRAWS` random sign patterns;
- *unpaired* otherwise: a permutation test of the difference of means, exact when there are at
  most `EXACT_SPLITS_MAX` ways to split the pooled scores, else `SAMPLED_DRAWS` random splits.

p counts the observed arrangement, so it is never 0. Pure, and deterministic on every machine:
the scores are snapped onto a decimal grid of integers, its unit 10^-12 of the largest score's
power of ten (`_GRID_DIGITS`), so sums never round and an arrangement that ties the observed one
in the decimals people write ties it exactly (0.03 - 0.02 - 0.01 is 0 here, not the 1e-17 of
binary floats), whatever the scale or offset of the scores; sampling uses `random.Random(SEED)`,
whose Mersenne Twister is the same everywhere. No numpy, no scipy: the exact tests count with
subset sums met in the middle (2 x 2^10 sums for 20 pairs, not 2^20 patterns).
"""

from __future__ import annotations

import bisect
import enum
import math
import random
from collections.abc import Sequence

import attrs

from aml_promotion._domain.policy import Goal
from aml_promotion._domain.tolerance import ABS_TOL_DIGITS, INVERSE_REL_TOL, isclose

EXACT_PAIRED_MAX = 20
"""Up to this many pairs, every sign pattern is counted (2^20 = 1,048,576 of them)."""
EXACT_SPLITS_MAX = 200_000
"""Up to this many splits of the pooled scores, every split is counted."""
SAMPLED_DRAWS = 100_000
"""Beyond the exact limits, this many random sign patterns or splits are drawn."""
SEED = 20_240_917
"""The fixed seed of the sampled tests: the same inputs give the same p everywhere."""

_GRID_DIGITS = 12
"""The grid's unit is 10^-12 of the largest score's power of ten: far above a float's rounding
(2^-53, about 1.1e-16, of the score), so a decimal score lands exactly on its grid point."""


class SignificanceMethod(enum.Enum):
    """Which permutation test compared the two series."""

    PAIRED = "paired"
    """Same length: score i of the candidate against score i of the baseline (sign flips)."""
    UNPAIRED = "unpaired"
    """Different lengths: the difference of means against random splits of the pooled scores."""


@attrs.frozen(kw_only=True)
class SignificanceResult:
    """The outcome of one significance test.

    Attributes:
        method: Paired or unpaired.
        n_candidate: How many candidate scores were compared.
        n_baseline: How many baseline scores were compared.
        p_value: The one-sided p-value of "the improvement is at most min_delta", in (0, 1].
        exact: Every arrangement was counted (else `SAMPLED_DRAWS` were drawn).
        smallest_p: The smallest p this test could give, however good the candidate.
    """

    method: SignificanceMethod
    n_candidate: int
    n_baseline: int
    p_value: float
    exact: bool
    smallest_p: float


class SignificanceError(ValueError):
    """The series cannot be tested: too few scores, or too few to ever reach alpha."""

    def __init__(self, message: str, *, n_candidate: int, n_baseline: int) -> None:
        super().__init__(message)
        self.n_candidate = n_candidate
        self.n_baseline = n_baseline


def method_for(n_candidate: int, n_baseline: int) -> SignificanceMethod:
    """Return the test two series of these lengths get: paired when the lengths are equal."""
    return SignificanceMethod.PAIRED if n_candidate == n_baseline else SignificanceMethod.UNPAIRED


def smallest_p(n_candidate: int, n_baseline: int) -> float:
    """Return the smallest p a test of series of these lengths can give (each at least 1).

    A perfect result is the observed arrangement beating every other one: p = 1 / (number of
    arrangements) when counted exactly, 1 / (1 + draws) when sampled.
    """
    if n_candidate == n_baseline:
        if n_candidate <= EXACT_PAIRED_MAX:
            return 0.5**n_candidate
        return 1.0 / (1 + SAMPLED_DRAWS)
    splits = math.comb(n_candidate + n_baseline, n_candidate)
    if splits <= EXACT_SPLITS_MAX:
        return 1.0 / splits
    return 1.0 / (1 + SAMPLED_DRAWS)


def _decade(value: float) -> int:
    """Return floor(log10(value)) for a positive finite float, exactly (no rounding of log10).

    With num / den the float's ratio, of a and b digits, the value lies in
    [10^(a - b - 1), 10^(a - b + 1)): the answer is a - b, or one less.
    """
    num, den = value.as_integer_ratio()
    k = len(str(num)) - len(str(den))
    return k if _at_least_power(num, den, k) else k - 1


def _at_least_power(num: int, den: int, k: int) -> bool:
    """Whether num / den >= 10^k, in exact integers."""
    over, under = _over_power(num, den, k)
    return over >= under


def _over_power(num: int, den: int, k: int) -> tuple[int, int]:
    """Return (num / den) / 10^k as a ratio of integers."""
    power = int(10 ** abs(k))
    return (num, den * power) if k >= 0 else (num * power, den)


def _on_grid(values: Sequence[float]) -> tuple[list[int], int]:
    """Snap finite floats onto a decimal grid; return the integers and the unit's exponent.

    The unit is 10^e with e = floor(log10(largest |value|)) - `_GRID_DIGITS`; each value becomes
    the nearest multiple of it (half to even, in exact integer arithmetic). The integers are at
    most about 10^13 in size, and their differences and sums are exact: no rounding, and no
    overflow to infinity (1e308 minus -1e308 is a number here).
    """
    largest = max(abs(value) for value in values)
    exponent = 0 if largest == 0 else _decade(largest) - _GRID_DIGITS
    snapped = []
    for value in values:
        num, den = _over_power(*value.as_integer_ratio(), exponent)
        quotient, remainder = divmod(num, den)
        if 2 * remainder > den or (2 * remainder == den and quotient % 2 == 1):
            quotient += 1
        snapped.append(quotient)
    return snapped, exponent


def _close_on_grid(a: int, b: int, exponent: int) -> bool:
    """`tolerance.isclose(a * 10^e, b * 10^e)`, in exact integers."""
    gap = abs(a - b)
    if gap * INVERSE_REL_TOL <= max(abs(a), abs(b)):
        return True
    # gap * 10^e <= 10^-12  <=>  gap / 10^-(e + 12) <= 1
    over, under = _over_power(gap, 1, -(exponent + ABS_TOL_DIGITS))
    return over <= under


def significance_test(
    candidate: Sequence[float],
    baseline: Sequence[float],
    *,
    goal: Goal,
    min_delta: float = 0.0,
    alpha: float | None = None,
) -> SignificanceResult:
    """Test whether the candidate's scores beat the baseline's by more than `min_delta`.

    Args:
        candidate: The candidate's scores (finite numbers), in fold / seed order.
        baseline: The baseline's scores; the same length means paired, else unpaired.
        goal: Whether larger or smaller scores are better.
        min_delta: The improvement the null hypothesis grants ("Δ ≤ min_delta").
        alpha: If given, refuse lengths at which even a perfect result cannot reach it.

    Returns:
        The method, the lengths and the p-value.

    Raises:
        SignificanceError: Fewer than 2 scores on a side, or (with `alpha`) a length whose
            smallest p is above `alpha`; the message gives the numbers.
    """
    n_c, n_b = len(candidate), len(baseline)
    if n_c < 2 or n_b < 2:  # noqa: PLR2004 - one score has no spread to test against
        msg = (
            f"a significance test needs at least 2 scores on each side, "
            f"found {n_c} for the candidate and {n_b} for the baseline"
        )
        raise SignificanceError(msg, n_candidate=n_c, n_baseline=n_b)
    method = method_for(n_c, n_b)
    floor = smallest_p(n_c, n_b)
    if alpha is not None and floor > alpha:
        what = f"n = {n_c}" if method is SignificanceMethod.PAIRED else f"n = {n_c} vs {n_b}"
        msg = (
            f"{method.value} test with {what}: even a perfect result gives p = {floor:.4g}, "
            f"above alpha {alpha:g}; log more scores"
        )
        raise SignificanceError(msg, n_candidate=n_c, n_baseline=n_b)
    sign = 1 if goal is Goal.MAXIMIZE else -1
    scaled, exponent = _on_grid([*candidate, *baseline, min_delta])
    shift = scaled[-1]
    if method is SignificanceMethod.PAIRED:
        # Float-safe like the rest of section 3: scores within tolerance of each other differ by
        # 0, and a difference within tolerance of min_delta counts as min_delta.
        differences = []
        pairs = zip(candidate, baseline, scaled[:n_c], scaled[n_c:-1], strict=True)
        for c, b, c_int, b_int in pairs:
            gain = 0 if isclose(c, b) else sign * (c_int - b_int)
            differences.append(0 if _close_on_grid(gain, shift, exponent) else gain - shift)
        p, exact = _paired(differences)
    else:
        # The candidate's scores carry the shift: under the null they are min_delta better.
        pooled = [sign * v - shift for v in scaled[:n_c]] + [sign * v for v in scaled[n_c:-1]]
        p, exact = _unpaired(pooled, n_c)
    return SignificanceResult(
        method=method, n_candidate=n_c, n_baseline=n_b, p_value=p, exact=exact, smallest_p=floor
    )


# --- Paired: sign flips ---------------------------------------------------------------------
#
# With differences e_i, the statistic is T(s) = sum s_i e_i over sign patterns s, observed at
# s = (+1, ..., +1). Flipping the set F of positions gives T = T_obs - 2 sum_F e_i, so a pattern
# is at least as extreme as the observed one exactly when sum_F e_i <= 0.


def _subset_sums(values: Sequence[int]) -> list[int]:
    # sums[mask] is the sum of values[j] over the bits j set in mask.
    sums = [0]
    for value in values:
        sums += [s + value for s in sums]
    return sums


def _paired(differences: list[int]) -> tuple[float, bool]:
    n = len(differences)
    if n <= EXACT_PAIRED_MAX:
        # Meet in the middle: every subset sum of each half, one sorted; pairs summing to <= 0.
        half = n // 2
        left = _subset_sums(differences[:half])
        right = sorted(_subset_sums(differences[half:]))
        count = sum(bisect.bisect_right(right, -s) for s in left)
        return count / 2**n, True
    return _paired_sampled(differences), False


def _paired_sampled(differences: list[int]) -> float:
    # A random pattern is n random bits; the flipped sum is read byte by byte (little-endian:
    # byte j holds the bits of positions 8j to 8j+7) from tables of the 256 subset sums of each
    # byte's eight positions, all in C: map() over the tables and the pattern's bytes.
    n = len(differences)
    tables = [_subset_sums(differences[i : i + 8]) for i in range(0, n, 8)]
    width = len(tables)

    rng = random.Random(SEED)  # noqa: S311 - reproducible sampling, not secrecy
    bits = rng.getrandbits
    look_up = list.__getitem__
    count = 0
    for _ in range(SAMPLED_DRAWS):
        pattern = bits(n).to_bytes(width, "little")
        if sum(map(look_up, tables, pattern)) <= 0:
            count += 1
    return (1 + count) / (1 + SAMPLED_DRAWS)


# --- Unpaired: splits of the pooled scores --------------------------------------------------
#
# The total is fixed, so the difference of means grows with the sum of the scores put on the
# candidate's side: a split is at least as extreme as the observed one exactly when that sum is
# at least the observed sum.


def _sums_by_size(values: Sequence[int], largest: int) -> list[list[int]]:
    """Return, for each size k up to `largest`, the sums of the k-subsets of `values`."""
    by_size: list[list[int]] = [[0]] + [[] for _ in range(largest)]
    for value in values:
        for k in range(min(largest, len(values)), 0, -1):
            by_size[k].extend(s + value for s in by_size[k - 1])
    return by_size


def _unpaired(pooled: list[int], n_candidate: int) -> tuple[float, bool]:
    total = len(pooled)
    observed = sum(pooled[:n_candidate])
    splits = math.comb(total, n_candidate)
    if splits > EXACT_SPLITS_MAX:
        return _unpaired_sampled(pooled, n_candidate, observed), False
    n_baseline = total - n_candidate
    if n_candidate <= n_baseline:
        return _count_splits(pooled, n_candidate, observed) / splits, True
    # Count by the smaller side: the candidate's side sums to at least the observed sum exactly
    # when the baseline's side sums to at most its own, that is, negated, at least its own.
    flipped = [-v for v in pooled[n_candidate:]] + [-v for v in pooled[:n_candidate]]
    return _count_splits(flipped, n_baseline, observed - sum(pooled)) / splits, True


def _count_splits(pooled: list[int], size: int, observed: int) -> int:
    """Count the `size`-subsets of `pooled` whose sum is at least `observed`, half by half."""
    half = len(pooled) // 2
    left = _sums_by_size(pooled[:half], size)
    right = [sorted(sums) for sums in _sums_by_size(pooled[half:], size)]
    # `size` is at most half of `total` (the smaller side), so each half has subsets of every
    # size up to it, and a k-subset of the left pairs with the (size - k)-subsets of the right.
    count = 0
    for k, sums in enumerate(left):
        others = right[size - k]
        found = len(others)
        count += sum(found - bisect.bisect_left(others, observed - s) for s in sums)
    return count


def _unpaired_sampled(pooled: list[int], n_candidate: int, observed: int) -> float:
    # Draw the smaller side, from a pool that lists the smaller side first, so that swapping the
    # candidate and the baseline draws the very same splits (and p and its mirror add to > 1).
    n_baseline = len(pooled) - n_candidate
    if n_candidate <= n_baseline:
        pool, size, candidate_side = pooled, n_candidate, True
    else:
        pool = pooled[n_candidate:] + pooled[:n_candidate]
        size, candidate_side = n_baseline, False
    total = sum(pool)

    rng = random.Random(SEED)  # noqa: S311 - reproducible sampling, not secrecy
    sample = rng.sample
    count = 0
    for _ in range(SAMPLED_DRAWS):
        drawn = sum(sample(pool, size))
        candidate_sum = drawn if candidate_side else total - drawn
        if candidate_sum >= observed:
            count += 1
    return (1 + count) / (1 + SAMPLED_DRAWS)


__all__ = [
    "EXACT_PAIRED_MAX",
    "EXACT_SPLITS_MAX",
    "SAMPLED_DRAWS",
    "SEED",
    "SignificanceError",
    "SignificanceMethod",
    "SignificanceResult",
    "method_for",
    "significance_test",
    "smallest_p",
]
