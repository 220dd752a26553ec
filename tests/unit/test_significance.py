"""The significance tests of DESIGN.md section 3: exact counts, sampled draws, and their laws."""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aml_promotion._domain import significance
from aml_promotion._domain.policy import Goal
from aml_promotion._domain.significance import (
    SignificanceError,
    SignificanceMethod,
    significance_test,
    smallest_p,
)

scores = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_subnormal=False)
goals = st.sampled_from(Goal)


Number = float | Fraction


def _no_near_tie(statistics: list[Fraction], observed: Fraction, values: list[Number]) -> None:
    """Skip an example where an arrangement ties the observed one within float tolerance only.

    The library counts such an arrangement as a tie (as it must: 0.03 - 0.02 - 0.01 is 1e-17
    in binary floats); the exact count of the binary fractions does not.
    """
    tolerance = max(abs(Fraction(v)) for v in values) * Fraction(1, 10**9)
    assume(not any(0 < abs(t - observed) <= tolerance for t in statistics))


def brute_paired(
    candidate: Sequence[Number],
    baseline: Sequence[Number],
    min_delta: Number,
    *,
    skip_near_ties: bool = False,
) -> float:
    """Count every sign pattern, pattern by pattern, in exact fractions."""
    differences = [
        Fraction(c) - Fraction(b) - Fraction(min_delta)
        for c, b in zip(candidate, baseline, strict=True)
    ]
    observed = sum(differences, Fraction(0))
    patterns = list(itertools.product((1, -1), repeat=len(differences)))
    statistics = [
        sum((s * d for s, d in zip(signs, differences, strict=True)), Fraction(0))
        for signs in patterns
    ]
    if skip_near_ties:
        _no_near_tie(statistics, observed, [*candidate, *baseline, min_delta])
    return sum(1 for t in statistics if t >= observed) / len(patterns)


def brute_unpaired(
    candidate: Sequence[Number],
    baseline: Sequence[Number],
    min_delta: Number = 0.0,
    *,
    skip_near_ties: bool = False,
) -> float:
    """Count every split of the pooled scores (the candidate's shifted by -min_delta), exactly."""
    shift = Fraction(min_delta)
    pooled = [Fraction(v) - shift for v in candidate] + [Fraction(v) for v in baseline]
    observed = sum(pooled[: len(candidate)], Fraction(0))
    splits = list(itertools.combinations(range(len(pooled)), len(candidate)))
    statistics = [sum((pooled[i] for i in split), Fraction(0)) for split in splits]
    if skip_near_ties:
        _no_near_tie(statistics, observed, [*candidate, *baseline, min_delta])
    return sum(1 for t in statistics if t >= observed) / len(splits)


@contextlib.contextmanager
def few_draws() -> Iterator[None]:
    """Sampled tests draw 2,000 arrangements instead of 100,000 (the laws hold for any number)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(significance, "SAMPLED_DRAWS", 2_000)
        yield


def test_paired_exact_counts_every_sign_pattern() -> None:
    candidate = [0.81, 0.83, 0.80, 0.84, 0.82, 0.85, 0.79, 0.83]
    baseline = [0.80, 0.81, 0.81, 0.82, 0.80, 0.82, 0.80, 0.81]
    result = significance_test(candidate, baseline, goal=Goal.MAXIMIZE)
    assert result.method is SignificanceMethod.PAIRED
    assert result.exact
    assert (result.n_candidate, result.n_baseline) == (8, 8)
    assert result.p_value == brute_paired(candidate, baseline, 0.0)
    assert result.p_value == 11 / 256


@given(
    pairs=st.lists(st.tuples(scores, scores), min_size=2, max_size=9),
    min_delta=st.sampled_from([0.0, 0.5, -0.25]),
)
def test_paired_exact_agrees_with_brute_force(
    pairs: list[tuple[float, float]], min_delta: float
) -> None:
    candidate = [c for c, _ in pairs]
    baseline = [b for _, b in pairs]
    # Values within float tolerance count as equal in the library: keep them apart here.
    if any(
        math.isclose(c, b, rel_tol=1e-9, abs_tol=1e-12)
        or math.isclose(c - b, min_delta, rel_tol=1e-9, abs_tol=1e-12)
        for c, b in pairs
    ):
        return
    result = significance_test(candidate, baseline, goal=Goal.MAXIMIZE, min_delta=min_delta)
    assert result.p_value == brute_paired(candidate, baseline, min_delta, skip_near_ties=True)


def test_unpaired_exact_counts_every_split() -> None:
    candidate = [0.84, 0.86, 0.85]
    baseline = [0.80, 0.83, 0.81, 0.82, 0.79]
    result = significance_test(candidate, baseline, goal=Goal.MAXIMIZE)
    assert result.method is SignificanceMethod.UNPAIRED
    assert result.exact
    assert result.p_value == brute_unpaired(candidate, baseline) == 1 / math.comb(8, 3)


@given(
    candidate=st.lists(scores, min_size=2, max_size=6),
    baseline=st.lists(scores, min_size=2, max_size=7),
)
def test_unpaired_exact_agrees_with_brute_force(
    candidate: list[float], baseline: list[float]
) -> None:
    if len(candidate) == len(baseline):
        baseline = [*baseline, 0.0]
    result = significance_test(candidate, baseline, goal=Goal.MAXIMIZE)
    assert result.p_value == brute_unpaired(candidate, baseline, skip_near_ties=True)


def test_minimizing_mirrors_maximizing() -> None:
    low = [0.20, 0.18, 0.21, 0.19, 0.17]
    high = [0.25, 0.24, 0.26, 0.23, 0.25]
    as_loss = significance_test(low, high, goal=Goal.MINIMIZE)
    as_score = significance_test(high, low, goal=Goal.MAXIMIZE)
    assert as_loss.p_value == as_score.p_value == 1 / 32


def test_min_delta_is_the_null_hypothesis() -> None:
    """A gain of 0.01 on every fold is significant against 0, not against min_delta 0.02."""
    baseline = [0.80, 0.81, 0.79, 0.82, 0.80, 0.81]
    candidate = [b + 0.01 for b in baseline]
    assert significance_test(candidate, baseline, goal=Goal.MAXIMIZE).p_value == 1 / 64
    demanding = significance_test(candidate, baseline, goal=Goal.MAXIMIZE, min_delta=0.02)
    assert demanding.p_value == 1.0


def test_equal_series_give_p_one() -> None:
    scores_ = [0.8, 0.9, 0.85]
    assert significance_test(scores_, list(scores_), goal=Goal.MAXIMIZE).p_value == 1.0


def test_paired_twenty_pairs_is_exact() -> None:
    baseline = [0.80 + 0.001 * i for i in range(20)]
    candidate = [b + 0.01 for b in baseline]
    result = significance_test(candidate, baseline, goal=Goal.MAXIMIZE)
    assert result.exact
    assert result.p_value == 1 / 2**20


def test_paired_beyond_twenty_pairs_is_sampled_and_deterministic() -> None:
    baseline = [0.80 + 0.001 * (i % 7) for i in range(30)]
    candidate = [b + (0.004 if i % 3 else -0.006) for i, b in enumerate(baseline)]
    first = significance_test(candidate, baseline, goal=Goal.MAXIMIZE)
    again = significance_test(candidate, baseline, goal=Goal.MAXIMIZE)
    assert not first.exact
    assert first.p_value == again.p_value
    # The true p is P(sum of flipped gains <= 0); the sample estimates it to about ±0.005.
    exact = brute_flip_probability(candidate, baseline)
    assert abs(first.p_value - exact) < 0.01
    assert first.smallest_p == 1 / 100_001


def brute_flip_probability(candidate: list[float], baseline: list[float]) -> float:
    """The exact paired p for 20 gains of +0.004 and 10 of -0.006 (computed by counting)."""
    gains = [round((c - b) * 1000) for c, b in zip(candidate, baseline, strict=True)]
    positives = gains.count(4)
    negatives = gains.count(-6)
    hits = 0
    for i in range(positives + 1):
        for j in range(negatives + 1):
            # Flipping i gains and j losses: at least as extreme when their sum is <= 0.
            if 4 * i - 6 * j <= 0:
                hits += math.comb(positives, i) * math.comb(negatives, j)
    return hits / 2 ** (positives + negatives)


def test_unpaired_beyond_the_exact_limit_is_sampled() -> None:
    candidate = [0.85 + 0.001 * i for i in range(12)]
    baseline = [0.80 + 0.001 * i for i in range(14)]
    assert math.comb(26, 12) > significance.EXACT_SPLITS_MAX
    result = significance_test(candidate, baseline, goal=Goal.MAXIMIZE)
    assert not result.exact
    assert result.p_value == 1 / 100_001  # no random split beats a complete separation


def test_unpaired_sampled_with_the_candidate_the_larger_side() -> None:
    candidate = [0.85 + 0.001 * i for i in range(14)]
    baseline = [0.80 + 0.001 * i for i in range(12)]
    with few_draws():
        result = significance_test(candidate, baseline, goal=Goal.MAXIMIZE)
        reverse = significance_test(baseline, candidate, goal=Goal.MAXIMIZE)
    assert not result.exact
    assert result.p_value == 1 / 2_001
    assert reverse.p_value == 1.0


def test_fewer_than_two_scores_are_refused_with_the_numbers() -> None:
    with pytest.raises(SignificanceError, match="found 1 for the candidate and 5") as info:
        significance_test([0.9], [0.8] * 5, goal=Goal.MAXIMIZE)
    assert (info.value.n_candidate, info.value.n_baseline) == (1, 5)


def test_a_length_that_cannot_reach_alpha_is_refused() -> None:
    with pytest.raises(SignificanceError, match=r"n = 3: even a perfect result gives p = 0\.125"):
        significance_test([0.9, 0.91, 0.92], [0.8, 0.81, 0.82], goal=Goal.MAXIMIZE, alpha=0.05)
    with pytest.raises(SignificanceError, match=r"unpaired test with n = 2 vs 3.*p = 0\.1"):
        significance_test([0.9, 0.91], [0.8, 0.81, 0.82], goal=Goal.MAXIMIZE, alpha=0.05)
    # Without alpha, or with a reachable one, the test runs.
    assert (
        significance_test([0.9, 0.91, 0.92], [0.8, 0.81, 0.82], goal=Goal.MAXIMIZE).p_value == 0.125
    )
    assert (
        significance_test(
            [0.9, 0.91, 0.92], [0.8, 0.81, 0.82], goal=Goal.MAXIMIZE, alpha=0.125
        ).p_value
        == 0.125
    )


@pytest.mark.parametrize(
    ("n_candidate", "n_baseline", "expected"),
    [(3, 3, 0.125), (5, 5, 1 / 32), (20, 20, 1 / 2**20), (21, 21, 1 / 100_001),
     (2, 3, 0.1), (5, 10, 1 / 3003), (12, 14, 1 / 100_001)],
)  # fmt: skip
def test_smallest_p(n_candidate: int, n_baseline: int, expected: float) -> None:
    assert smallest_p(n_candidate, n_baseline) == expected


# --- Laws -------------------------------------------------------------------------------------

series = st.lists(scores, min_size=2, max_size=8)
long_series = st.lists(scores, min_size=21, max_size=26)


@given(candidate=series, baseline=series, goal=goals, min_delta=st.sampled_from([0.0, 0.1, -0.1]))
def test_p_is_in_zero_one(
    candidate: list[float], baseline: list[float], goal: Goal, min_delta: float
) -> None:
    p = significance_test(candidate, baseline, goal=goal, min_delta=min_delta).p_value
    assert 0 < p <= 1


def _never_both_significant(candidate: list[float], baseline: list[float], goal: Goal) -> None:
    forward = significance_test(candidate, baseline, goal=goal).p_value
    backward = significance_test(baseline, candidate, goal=goal).p_value
    assert forward + backward > 1  # so no alpha ≤ 0.5 finds both significant


@given(candidate=series, baseline=series, goal=goals)
def test_swapping_never_makes_both_significant(
    candidate: list[float], baseline: list[float], goal: Goal
) -> None:
    _never_both_significant(candidate, baseline, goal)


@settings(max_examples=30)  # each example draws 4 x 2,000 arrangements
@given(
    pairs=st.lists(st.tuples(scores, scores), min_size=21, max_size=26),
    extra=st.lists(scores, min_size=1, max_size=3),
    goal=goals,
)
def test_swapping_never_makes_both_significant_when_sampled(
    pairs: list[tuple[float, float]], extra: list[float], goal: Goal
) -> None:
    candidate = [c for c, _ in pairs]
    baseline = [b for _, b in pairs]
    with few_draws():
        _never_both_significant(candidate, baseline, goal)  # paired, sampled
        _never_both_significant(candidate, baseline + extra, goal)  # unpaired, sampled


def _constant_never_raises_p(
    candidate: list[float], baseline: list[float], goal: Goal, constant: float
) -> None:
    better = [c + constant if goal is Goal.MAXIMIZE else c - constant for c in candidate]
    before = significance_test(candidate, baseline, goal=goal).p_value
    after = significance_test(better, baseline, goal=goal).p_value
    assert after <= before


@given(
    candidate=series,
    baseline=series,
    goal=goals,
    constant=st.floats(min_value=1e-6, max_value=100.0),
)
def test_a_better_candidate_never_raises_p(
    candidate: list[float], baseline: list[float], goal: Goal, constant: float
) -> None:
    """Adding a positive constant to every candidate score (in the goal's direction)."""
    _constant_never_raises_p(candidate, baseline, goal, constant)


@settings(max_examples=30)  # each example draws 4 x 2,000 arrangements
@given(
    candidate=long_series,
    baseline=long_series,
    goal=goals,
    constant=st.floats(min_value=1e-6, max_value=100.0),
)
def test_a_better_candidate_never_raises_p_when_sampled(
    candidate: list[float], baseline: list[float], goal: Goal, constant: float
) -> None:
    with few_draws():
        _constant_never_raises_p(candidate, candidate[::-1], goal, constant)  # paired
        _constant_never_raises_p(candidate, baseline[:20], goal, constant)  # unpaired


@pytest.mark.parametrize("min_delta", [0.0, 0.02, 0.05, -0.05])
def test_unpaired_min_delta_shifts_the_candidates_scores(min_delta: float) -> None:
    candidate = [0.84, 0.85, 0.86]
    baseline = [0.80, 0.81, 0.82, 0.83, 0.79]
    result = significance_test(candidate, baseline, goal=Goal.MAXIMIZE, min_delta=min_delta)
    # The exact count of the decimals as written (0.84 - 0.02 ties 0.82 exactly).
    assert result.p_value == brute_unpaired(
        [Fraction(str(v)) for v in candidate],
        [Fraction(str(v)) for v in baseline],
        Fraction(str(min_delta)),
    )
    if min_delta == 0.05:
        assert result.p_value > 0.5  # a gain of about 0.045 is no gain of more than 0.05


def test_extreme_scores_are_summed_exactly_without_overflow() -> None:
    """1.5e308 minus -1.5e308 overflows a float; the test's integer sums do not."""
    big = [1.5e308, 1.6e308, 1.7e308]
    small = [-1.5e308, -1.6e308, -1.7e308]
    assert significance_test(big, small, goal=Goal.MAXIMIZE).p_value == 1 / 8
    assert significance_test(big, [*small, -1e308], goal=Goal.MAXIMIZE).p_value == 1 / 35
    tiny = [5e-324, 1e-323, 1.5e-323]
    assert significance_test(tiny, [0.0, 0.0, 0.0], goal=Goal.MAXIMIZE).p_value == 1.0


def test_unpaired_exact_counts_by_the_smaller_side() -> None:
    """600 scores against 2: 179,700 splits, counted as pairs, not as 600-subsets."""
    many = [0.80 + 0.0001 * (i % 97) for i in range(600)]
    few = [0.79, 0.805]
    forward = significance_test(many, few, goal=Goal.MAXIMIZE)
    backward = significance_test(few, many, goal=Goal.MAXIMIZE)
    assert forward.exact
    assert backward.exact
    assert forward.p_value + backward.p_value >= 1
    assert significance_test(many[:5], few, goal=Goal.MAXIMIZE).p_value == brute_unpaired(
        many[:5], few
    )


# --- Ties in the decimals people write (issue #12 review) -------------------------------------
#
# 0.03 - 0.02 - 0.01 is 0 in the decimals but about 1e-17 in binary floats: an arrangement that
# ties the observed one exactly must count as "at least as extreme" whichever way the floats
# round, so p is the exact rational answer, whatever the scale or offset of the scores.

cents = st.integers(min_value=0, max_value=100)  # scores in [0, 1], where ties are common
cent_series = st.lists(cents, min_size=2, max_size=7)
delta_cents = st.integers(min_value=-5, max_value=5)


def _decimals(values: list[int]) -> list[float]:
    return [v / 100 for v in values]


def _exact(values: list[int]) -> list[Fraction]:
    return [Fraction(v, 100) for v in values]


def test_an_exact_decimal_tie_counts_whatever_the_scale() -> None:
    """The review's repro: the verdict flipped between scores in [0, 1] and in percent."""
    candidate = [0.81, 0.89, 0.84, 0.85, 0.86]
    baseline = [0.84, 0.79, 0.84, 0.8, 0.8, 0.8]
    as_fractions = significance_test(candidate, baseline, goal=Goal.MAXIMIZE, min_delta=0.01)
    as_percent = significance_test(
        [round(x * 100) for x in candidate],
        [round(x * 100) for x in baseline],
        goal=Goal.MAXIMIZE,
        min_delta=1,
    )
    exact = brute_unpaired(
        [Fraction(round(x * 100), 100) for x in candidate],
        [Fraction(round(x * 100), 100) for x in baseline],
        Fraction(1, 100),
    )
    assert as_fractions.p_value == as_percent.p_value == exact
    assert exact > 0.05


def test_an_exact_decimal_tie_counts_whatever_the_offset() -> None:
    """Paired: adding 0.5 to both series flipped p from 3/64 to 1/16; 1/16 is exact."""
    candidate = [0.8, 0.8, 0.86, 0.81, 0.9, 0.9]
    baseline = [0.77, 0.82, 0.83, 0.8, 0.87, 0.88]
    plain = significance_test(candidate, baseline, goal=Goal.MAXIMIZE)
    shifted = significance_test(
        [c + 0.5 for c in candidate], [b + 0.5 for b in baseline], goal=Goal.MAXIMIZE
    )
    assert plain.p_value == shifted.p_value == 1 / 16


@given(pairs=st.lists(st.tuples(cents, cents), min_size=2, max_size=9), delta=delta_cents)
def test_paired_p_is_the_exact_rational_count_on_decimal_scores(
    pairs: list[tuple[int, int]], delta: int
) -> None:
    candidate = [c for c, _ in pairs]
    baseline = [b for _, b in pairs]
    result = significance_test(
        _decimals(candidate), _decimals(baseline), goal=Goal.MAXIMIZE, min_delta=delta / 100
    )
    assert result.p_value == brute_paired(_exact(candidate), _exact(baseline), Fraction(delta, 100))


@given(candidate=cent_series, baseline=cent_series, delta=delta_cents)
def test_unpaired_p_is_the_exact_rational_count_on_decimal_scores(
    candidate: list[int], baseline: list[int], delta: int
) -> None:
    if len(candidate) == len(baseline):
        baseline = [*baseline, baseline[0]]
    result = significance_test(
        _decimals(candidate), _decimals(baseline), goal=Goal.MAXIMIZE, min_delta=delta / 100
    )
    assert result.p_value == brute_unpaired(
        _exact(candidate), _exact(baseline), Fraction(delta, 100)
    )


@given(
    candidate=cent_series,
    baseline=cent_series,
    delta=delta_cents,
    goal=goals,
    power=st.integers(min_value=-6, max_value=6),
)
def test_p_is_invariant_under_scaling_by_a_power_of_ten(
    candidate: list[int], baseline: list[int], delta: int, goal: Goal, power: int
) -> None:
    """Exact paths, paired and unpaired: scores in [0, 1], in percent, in basis points agree."""
    factor = 10.0**power
    for other in (baseline[: len(candidate)], baseline):
        if len(other) < 2:  # a significance test needs 2 scores a side
            continue
        plain = significance_test(
            _decimals(candidate), _decimals(other), goal=goal, min_delta=delta / 100
        )
        scaled = significance_test(
            [v / 100 * factor for v in candidate],
            [v / 100 * factor for v in other],
            goal=goal,
            min_delta=delta / 100 * factor,
        )
        assert plain.exact
        assert scaled.p_value == plain.p_value


@given(
    candidate=cent_series,
    baseline=cent_series,
    delta=delta_cents,
    goal=goals,
    offset=st.integers(min_value=-100_000, max_value=100_000),
)
def test_p_is_invariant_under_adding_a_constant_to_both_series(
    candidate: list[int], baseline: list[int], delta: int, goal: Goal, offset: int
) -> None:
    for other in (baseline[: len(candidate)], baseline):
        if len(other) < 2:  # a significance test needs 2 scores a side
            continue
        plain = significance_test(
            _decimals(candidate), _decimals(other), goal=goal, min_delta=delta / 100
        )
        moved = significance_test(
            [v / 100 + offset / 100 for v in candidate],
            [v / 100 + offset / 100 for v in other],
            goal=goal,
            min_delta=delta / 100,
        )
        assert moved.p_value == plain.p_value


def test_sampled_tests_count_decimal_ties_whatever_the_scale() -> None:
    """Both sampled paths see the same integers for scores in [0, 1] and in percent."""
    candidate = [round(0.80 + 0.01 * ((7 * i) % 11), 2) for i in range(24)]
    baseline = [round(0.80 + 0.01 * ((5 * i) % 9), 2) for i in range(24)]
    with few_draws():
        for other in (baseline, baseline[:23]):
            as_fractions = significance_test(candidate, other, goal=Goal.MAXIMIZE, min_delta=0.01)
            as_percent = significance_test(
                [round(x * 100) for x in candidate],
                [round(x * 100) for x in other],
                goal=Goal.MAXIMIZE,
                min_delta=1,
            )
            assert not as_fractions.exact
            assert as_fractions.p_value == as_percent.p_value


def test_scores_are_snapped_to_a_decimal_grid_below_the_largest() -> None:
    """The grid unit is 10^-12 of the largest score's power of ten, exactly at the boundaries."""
    assert significance._on_grid([0.81, 0.8, 0.01]) == (
        [8_100_000_000_000, 8_000_000_000_000, 100_000_000_000],
        -13,
    )
    assert significance._on_grid([1000.0, 999.99]) == ([1_000_000_000_000, 999_990_000_000], -9)
    assert significance._on_grid([0.0, 0.0]) == ([0, 0], 0)
    assert significance._on_grid([1.5e308, -1e308])[1] == 308 - 12
    # Half a unit rounds to even.
    assert significance._on_grid([1.0, 2.5e-12, 3.5e-12])[0] == [10**12, 2, 4]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.0, 0),
        (0.5, -1),
        (5.0, 0),
        (1000.0, 3),
        (999.9999999999999, 2),
        (9.999999999999999e-301, -301),
        (1e-300, -300),
        (5e-324, -324),
        (1.7976931348623157e308, 308),
    ],
)
def test_the_decade_of_a_score_is_exact(value: float, expected: int) -> None:
    """floor(log10(x)) without log10's rounding (math.log10(9.999999999999999e-301) is -300)."""
    assert significance._decade(value) == expected
