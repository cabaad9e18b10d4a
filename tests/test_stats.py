"""Aggregate statistics on hand-worked values (rl_zoo.stats)."""

import numpy as np
import pytest

from rl_zoo import stats


def test_iqm_of_known_arrays():
    assert stats.iqm(np.arange(1, 9)) == pytest.approx(4.5)  # middle half: 3, 4, 5, 6
    # outliers at both ends are trimmed away: middle half of the sorted 8 is 2, 3, 4, 5
    assert stats.iqm([100.0, 1, 2, 3, 4, 5, 6, -100]) == pytest.approx(3.5)
    # a [runs, tasks] matrix pools every score
    assert stats.iqm(np.arange(1, 9).reshape(4, 2)) == pytest.approx(4.5)
    # per column along an axis
    np.testing.assert_allclose(stats.iqm(np.arange(1, 9).reshape(4, 2), axis=0), [4.0, 5.0])


def test_optimality_gap_by_hand():
    # shortfalls below 1: 0.5, 0, 0 (1.5 counts as reaching 1, no more), 1
    assert stats.optimality_gap([0.5, 1.0, 1.5, 0.0]) == pytest.approx(0.375)
    assert stats.optimality_gap([2.0, 3.0]) == 0.0
    assert stats.optimality_gap([0.2], gamma=0.5) == pytest.approx(0.3)
    # per column: shortfalls (0.5, 1) and (0, 0); the stratified bootstrap calls it with an axis
    np.testing.assert_allclose(stats.optimality_gap([[0.5, 2.0], [0.0, 1.0]], axis=0), [0.75, 0.0])


def test_a_stratified_interval_of_the_optimality_gap_by_hand():
    """Task A's gaps (0.5, 1), task B's (0, 0.8): pooled mean 0.575. A resample draws 2 runs per task; the
    lowest pooled mean, (0.5 + 0.5 + 0 + 0) / 4 = 0.25, has probability 1/4 x 1/4 = 6.25% > 2.5%, so it is
    the interval's low end; likewise the highest, (1 + 1 + 0.8 + 0.8) / 4 = 0.9."""
    point, lo, hi = stats.stratified_bootstrap_ci([np.array([0.5, 0.0]), np.array([1.0, 0.2])], stats.optimality_gap)
    assert (point, lo, hi) == pytest.approx((0.575, 0.25, 0.9))


def test_normalize():
    np.testing.assert_allclose(stats.normalize([21.5, 475.0, 248.25], 21.5, 475.0), [0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="must differ from the random score"):
        stats.normalize(1.0, 2.0, 2.0)


def test_bootstrap_ci_covers_the_mean_of_a_big_normal_sample():
    x = np.random.default_rng(0).normal(3.0, 1.0, size=4000)
    lo, hi = stats.bootstrap_ci(x)
    assert lo < 3.0 < hi
    assert hi - lo == pytest.approx(2 * 1.96 / np.sqrt(x.size), rel=0.25)  # about the normal-theory width
    assert stats.bootstrap_ci([5.0, 5.0, 5.0]) == (5.0, 5.0)  # no spread: the interval collapses


def test_small_sample_bootstrap_intervals_by_hand():
    """Two values 0 and 2: a resample is both 0 (mean 0) with probability 1/4 > 2.5%, both 2 likewise, so
    the 95% interval is (0, 2); with 4 values 0..6 a 50% interval is inside the 95% one. The median of
    (1, 2, 3, 100) is 2.5; a resample's median is 1 when 3 of its 4 draws are the 1 (5.1% > 2.5%)."""
    assert stats.bootstrap_ci([0.0, 2.0]) == (0.0, 2.0)
    lo50, hi50 = stats.bootstrap_ci([0.0, 2.0, 4.0, 6.0], confidence=0.5)
    lo95, hi95 = stats.bootstrap_ci([0.0, 2.0, 4.0, 6.0])
    assert lo95 < lo50 < 3.0 < hi50 < hi95
    assert stats.point_ci([1.0, 2.0, 3.0, 100.0], np.median) == (2.5, 1.0, 100.0)


def test_interval_name_says_a_few_seeds_interval_is_their_range():
    """What bootstrap_ci over 2-3 seeds is, as its name says: exactly the seeds' range (min, max), for
    any values (1/4 and 1/27 > 2.5%), and from 4 seeds on inside it (1/256 < 2.5%)."""
    rng = np.random.default_rng(3)
    for n in (2, 3):
        x = rng.normal(size=n)
        assert stats.bootstrap_ci(x) == (x.min(), x.max())
        assert stats.interval_name(n) == f"the range of the {n} seeds (a percentile bootstrap over {n} values is their range, not a 95% interval)"
    x = np.array([0.0, 1.0, 2.0, 9.0])
    lo, hi = stats.bootstrap_ci(x)
    assert x.min() < lo and hi < x.max()
    assert stats.interval_name(4) == "a 95% percentile-bootstrap interval over 4 seeds"
    assert stats.interval_name(1) == "1 seed: no interval"
    with pytest.raises(ValueError, match="at least 1"):
        stats.interval_name(0)


def test_stratified_resamples_keep_every_task():
    a, b = np.array([0.0, 1.0, 2.0]), np.array([10.0, 11.0])
    boot = stats.stratified_resamples([a, b], n_resamples=200, seed=1)
    assert boot.shape == (200, 5)
    assert np.isin(boot[:, :3], a).all() and np.isin(boot[:, 3:], b).all()


def test_stratified_bootstrap_ci_point_and_interval():
    rng = np.random.default_rng(2)
    scores = rng.normal(0.5, 0.1, size=(10, 3))  # [runs, tasks]
    point, lo, hi = stats.stratified_bootstrap_ci(scores, stats.mean)
    assert point == pytest.approx(scores.mean())
    assert lo < point < hi and hi - lo < 0.1
    # unequal numbers of runs per task
    point, lo, hi = stats.stratified_bootstrap_ci([np.array([0.0, 1.0]), np.array([1.0, 1.0, 1.0])], stats.mean)
    assert point == pytest.approx(0.8) and lo == pytest.approx(0.6) and hi == pytest.approx(1.0)


def test_a_jax_matrix_is_runs_by_tasks_as_a_numpy_one():
    import jax.numpy as jnp

    scores = np.array([[0.1, 0.9], [0.2, 1.0], [0.3, 1.1]], np.float32)  # 3 runs x 2 tasks
    assert [list(c) for c in stats._columns(jnp.asarray(scores))] == [list(c) for c in stats._columns(scores)]
    np.testing.assert_allclose(stats.stratified_bootstrap_ci(jnp.asarray(scores), stats.iqm),
                               stats.stratified_bootstrap_ci(scores, stats.iqm))
    # a list of 0-d arrays (indexing a JAX or numpy vector) is one task, as a list of floats: it was one
    # task per value, and the stratified bootstrap, resampling within each, gave a zero-width interval
    column = jnp.asarray(scores[:, 0])
    for listed in ([column[i] for i in range(3)], [np.float32(v) for v in scores[:, 0]], [np.asarray(v) for v in scores[:, 0]]):
        assert [list(c) for c in stats._columns(listed)] == [list(scores[:, 0])]


def test_performance_profile_by_hand_and_monotone():
    scores = np.array([[0.1, 0.6], [0.4, 1.2]])  # 4 runs pooled: 0.1, 0.4, 0.6, 1.2
    np.testing.assert_allclose(stats.performance_profile(scores, [0.0, 0.4, 0.5, 1.0, 1.2]), [1.0, 0.5, 0.5, 0.25, 0.0])
    assert np.isnan(stats.performance_profile([0.5, np.nan, 2.0], [0.0, 1.0])).all()  # as iqm and mean: NaN, not "low"
    rng = np.random.default_rng(3)
    taus = np.linspace(-1, 2, 301)  # beyond every score: rng.uniform(0, 1)
    p, lo, hi = stats.performance_profile_ci(rng.uniform(0, 1, size=(7, 3)), taus)
    assert np.all(np.diff(p) <= 0) and p[0] == 1.0 and p[-1] == 0.0
    assert np.all(lo <= p + 1e-12) and np.all(p <= hi + 1e-12)
    assert np.all(np.diff(lo) <= 1e-12) and np.all(np.diff(hi) <= 1e-12)


def test_mean_band_over_seeds():
    curves = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]])  # [seeds, points]
    m, lo, hi = stats.mean_ci_over_seeds(curves)
    np.testing.assert_allclose(m, [1.0, 2.0, 3.0])
    assert np.all(lo <= m) and np.all(m <= hi) and np.all(lo >= curves.min(0)) and np.all(hi <= curves.max(0))
    # two seeds: a resample of both rows the first has probability 1/4 > 2.5%, so the band is the two seeds
    np.testing.assert_allclose(lo, curves[0])
    np.testing.assert_allclose(hi, curves[1])
    m1, lo1, hi1 = stats.mean_ci_over_seeds(curves[:1])  # one seed: no band
    np.testing.assert_allclose(lo1, m1)
    np.testing.assert_allclose(hi1, m1)
    # any shape: seeds first, every other entry a point of its own
    m3, lo3, hi3 = stats.mean_band_over_seeds(np.arange(12.0).reshape(3, 2, 2))
    np.testing.assert_allclose(m3, [4.0, 5.0, 6.0, 7.0])
    assert np.all(lo3 < m3) and np.all(m3 < hi3)


def test_wilson_interval_by_hand():
    # k = 0 of n = 8, z = 1.96: centre = (z^2 / 16) / (1 + z^2 / 8) = half-width, so lo = 0 and hi = 2 * centre
    z2 = 1.96**2
    centre = (z2 / 16) / (1 + z2 / 8)
    lo, hi = stats.wilson(np.array([0, 8]), 8)
    np.testing.assert_allclose([lo[0], hi[0]], [0.0, 2 * centre], atol=1e-12)
    np.testing.assert_allclose([lo[1], hi[1]], [1 - 2 * centre, 1.0], atol=1e-12)  # symmetric at k = n
    assert 2 * centre == pytest.approx(0.3244, abs=1e-4)
    lo, hi = stats.wilson(np.array([0, 10]), 10)  # rounding put k = 0's bound at -2.8e-17, outside [0, 1]
    assert lo[0] == 0.0 and hi[1] == 1.0 and (lo >= 0).all() and (hi <= 1).all()


def test_fisher_p_by_hand():
    # 0 of 16 against 6 of 8: the observed table is the most extreme one; its hypergeometric probability
    # C(16, 0) C(8, 6) / C(24, 6) = 28 / 134596, and no other table is as unlikely (two-sided p).
    assert stats.fisher_p(0, 16, 6, 8) == pytest.approx(28 / 134596, rel=1e-9)
    assert stats.fisher_p(3, 8, 3, 8) == pytest.approx(1.0)


def test_holm_steps_down():
    # sorted p 0.001 <= 0.05/3; 0.03 > 0.05/2 stops, and 0.04 after it is kept too
    assert stats.holm([0.001, 0.04, 0.03]) == [True, False, False]
    assert stats.holm([0.01, 0.02]) == [True, True]  # 0.01 <= 0.025, 0.02 <= 0.05
    assert stats.holm([0.03, 0.04]) == [False, False]  # the smaller, 0.03 > 0.05/2: nothing rejected
    assert stats.holm([0.05]) == [True] and stats.holm([0.025, 0.04]) == [True, True]  # p = alpha / (m - rank) rejects
    assert stats.holm([]) == []
    assert stats.holm([float("nan")]) == [False] and stats.holm([0.001, float("nan")]) == [True, False]  # no test: no rejection
    assert stats.holm([0.03, float("nan")]) == [True, False]  # nor is it counted in m: 0.03 <= 0.05 / 1


def test_holm_adjusted_p_values():
    # sorted 0.001, 0.03, 0.04: 3 x 0.001 = 0.003; 2 x 0.03 = 0.06; max(0.06, 1 x 0.04) = 0.06
    assert stats.holm_adjusted([0.001, 0.04, 0.03]) == pytest.approx([0.003, 0.06, 0.06])
    assert stats.holm_adjusted([0.6, 0.5]) == pytest.approx([1.0, 1.0])  # 2 x 0.5 = 1.0; 0.6 takes the running maximum
    adjusted = stats.holm_adjusted([0.2, float("nan"), 0.01])  # m = 2 tests made: 2 x 0.01 = 0.02; 1 x 0.2
    assert adjusted[0] == pytest.approx(0.2) and np.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.02)
    rng = np.random.default_rng(0)
    for p in rng.uniform(0, 0.1, (50, 6)):  # holm rejects exactly where the adjusted p <= alpha
        assert stats.holm(list(p)) == [a <= 0.05 for a in stats.holm_adjusted(list(p))]


def test_diff_ci_brackets_the_difference():
    m, lo, hi = stats.diff_ci([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert m == pytest.approx(2.0) and 1.0 <= lo <= m <= hi <= 3.0
    m, lo, hi = stats.diff_ci([5.0, 5.0], [2.0, 2.0])
    assert (m, lo, hi) == (3.0, 3.0, 3.0)
    # samples of other sizes: each resampled at its own size. b's 30 coin flips: a bootstrap mean's sd is
    # sqrt(0.25 / 30) = 0.09, so the interval is about 0.36 wide (resampled at a's size 3 it was about 1)
    m, lo, hi = stats.diff_ci([0.0, 0.0, 0.0], [0.0, 1.0] * 15)
    assert m == pytest.approx(-0.5) and -0.75 < lo < m < hi < -0.25 and hi - lo < 0.5


def test_permutation_p_by_hand():
    """(1, 2, 3) against (4, 5, 6): of the 20 ways to split the six values three and three, only the observed
    split and its mirror are as far apart (|difference| 3): p = 2/20. Equal samples: every split is as far: 1."""
    assert stats.permutation_p([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == pytest.approx(0.1)
    assert stats.permutation_p([1.0, 2.0], [1.0, 2.0]) == 1.0
    # a NaN has no difference to compare: p was 0 (exact) or its floor (random splits), "highly significant"
    assert np.isnan(stats.permutation_p([1, 2, 3], [4, 5, np.nan]))
    assert np.isnan(stats.permutation_p(np.r_[np.nan, np.zeros(9)], np.zeros(10)))
    # (0, 0, 1) against (1, 1), |difference| 2/3: of the 10 splits of {0, 0, 1, 1, 1} into 3 and 2, the 3 with two
    # ones in the pair (2/3) and the 1 with both zeros there (1) are as far; the 6 with one of each, 1/6, are not
    assert stats.permutation_p([0.0, 0.0, 1.0], [1.0, 1.0]) == pytest.approx(0.4)
    # past n_resamples splits it samples them: the same answer within its noise, the observed split counted
    exact = stats.permutation_p(np.arange(8.0), np.arange(8.0) + 3.0)
    assert abs(stats.permutation_p(np.arange(8.0), np.arange(8.0) + 3.0, n_resamples=2000) - exact) < 0.02


def test_permutation_p_refuses_an_empty_sample():
    """An empty sample has no mean: p came out 0.0, "highly significant", from a comparison with NaN."""
    for a, b in (([], [1.0, 2.0, 3.0]), ([1.0, 2.0], []), ([], [])):
        with pytest.raises(ValueError, match="at least one value in each sample"):
            stats.permutation_p(a, b)


def test_an_infinite_bootstrap_statistic_gives_an_infinite_bound_not_nan():
    # 0.5 confidence: the 0.25 and 0.75 quantiles. Of (1, 2, inf) at positions 0.5 and 1.5: between 1 and 2 (1.5),
    # between 2 and inf (inf, where interpolating gave inf - inf = NaN)
    assert stats._percentile_interval([1.0, 2.0, np.inf], 0.5) == (1.5, np.inf)
    assert stats._percentile_interval([-np.inf, 1.0, 2.0], 0.5) == (-np.inf, 1.5)
    # of (1, 2, 3, 4, inf) at positions 1 and 3: exactly 2 and 4 (numpy's 4 + 0 * inf was NaN)
    assert stats._percentile_interval([1.0, 2.0, 3.0, 4.0, np.inf], 0.5) == (2.0, 4.0)
    # between -inf and inf: the outer one, each bound as wide as it goes
    assert stats._percentile_interval([-np.inf, np.inf], 0.5) == (-np.inf, np.inf)
    # task a's runs (1, 2), task b's (3, inf): 3 in 4 resamples draw b's inf, so their mean is inf, and the upper
    # bound is inf (was NaN); the lowest mean, (1 + 1 + 3 + 3) / 4 = 2, comes in 1 of 16 resamples (> 2.5%)
    assert stats.stratified_bootstrap_ci([[1.0, 2.0], [3.0, np.inf]], stats.mean) == (np.inf, 2.0, np.inf)
    # a -inf seed: 19 in 27 resamples of the 3 seeds draw it (mean -inf), 1 in 27 (> 2.5%) draws 2 three times
    m, lo, hi = stats.mean_ci_over_seeds([[-np.inf], [1.0], [2.0]])
    assert (m[0], lo[0], hi[0]) == (-np.inf, -np.inf, 2.0)  # lo was NaN
    # NaN stays NaN
    assert np.isnan(stats._percentile_interval([1.0, np.nan, np.inf], 0.5)).all()


def test_iqm_trims_a_quarter_of_the_runs_rounded_down_from_each_end():
    # asymmetric, so the amount trimmed shows: floor(8/4) = 2 from each end leaves 4, 8, 16, 32
    # (trimming one from each end would give 21)
    assert stats.iqm([1.0, 2, 4, 8, 16, 32, 64, 128]) == pytest.approx(15.0)
    assert stats.iqm([1.0, 2, 3, 4, 100]) == pytest.approx(3.0)  # 5 runs: the middle 3
    assert stats.iqm([1.0, 2, 100]) == pytest.approx(103 / 3)  # 3 runs: nothing trimmed, the mean


def test_t_band_by_hand():
    # mean 1, sd (n-1) sqrt(2), se 1, t(0.975, 1 dof) = 12.706
    m, lo, hi = stats.t_band(np.array([0.0, 2.0]))
    assert (float(m), float(lo), float(hi)) == pytest.approx((1.0, 1 - 12.7062, 1 + 12.7062), abs=1e-3)


@pytest.mark.parametrize("interval", ["stratified", "mean_band", "diff", "profile"])
def test_the_bootstrap_intervals_are_95_percent_wide_on_a_big_normal_sample(interval):
    # 400 standard normal seeds: a 95% interval of a mean is about 2 x 1.96 / 20 = 0.196 wide (of a
    # difference of two such means sqrt(2) wider; of the fraction above 0, 2 x 1.96 x 0.5 / 20 = 0.098);
    # a 90% one would be 16% narrower
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=400), rng.normal(size=400)
    if interval == "stratified":
        _, lo, hi = stats.stratified_bootstrap_ci(x.reshape(-1, 1), stats.mean)
        expected = 2 * 1.96 * x.std() / 20
    elif interval == "mean_band":
        _, lo, hi = (float(v[0]) for v in stats.mean_ci_over_seeds(x.reshape(-1, 1)))
        expected = 2 * 1.96 * x.std() / 20
    elif interval == "diff":
        _, lo, hi = stats.diff_ci(x, y)
        expected = 2 * 1.96 * np.sqrt(x.var() / 400 + y.var() / 400)
    else:
        p, low, high = stats.performance_profile_ci(x.reshape(-1, 1), [0.0])
        lo, hi = float(low[0]), float(high[0])
        expected = 2 * 1.96 * np.sqrt(p[0] * (1 - p[0]) / 400)
    assert hi - lo == pytest.approx(expected, rel=0.08)


def test_performance_profile_band_counts_scores_above_tau_and_propagates_nan():
    # two runs at 1 and 2, tau = 1: P(X > 1) = 0.5; resampled fractions are 0, 0.5 or 1
    p, lo, hi = stats.performance_profile_ci(np.array([[1.0], [2.0]]), [1.0])
    assert (p[0], lo[0], hi[0]) == (0.5, 0.0, 1.0)
    # a NaN score is not a low score: the band is NaN as the profile is (it was a finite [0, 1])
    p, lo, hi = stats.performance_profile_ci(np.array([[1.0], [2.0], [np.nan]]), [0.0, 1.5])
    assert np.isnan(p).all() and np.isnan(lo).all() and np.isnan(hi).all()


def test_out_of_range_arguments_are_refused_not_turned_into_nan():
    """confidence=95 (a percentage) gave NaN bounds silently; holm ranked 1.5 as a p-value; wilson(12, 10) was
    (nan, nan) and wilson(0, 0) a ZeroDivisionError."""
    x = np.array([1.0, 2.0, 3.0, 4.0])
    for call in (lambda: stats.bootstrap_ci(x, confidence=95), lambda: stats.point_ci(x, confidence=95),
                 lambda: stats.t_band(x[:, None], confidence=95), lambda: stats.mean_ci_over_seeds(x[:, None], confidence=0),
                 lambda: stats.stratified_bootstrap_ci([x], stats.mean, confidence=1.0)):
        with pytest.raises(ValueError, match="confidence = .* is invalid: a fraction in \\(0, 1\\)"):
            call()
    with pytest.raises(ValueError, match=r"p-values lie in \[0, 1\] \(NaN: no test\); got \[1.5\]"):
        stats.holm([1.5, 0.01])
    with pytest.raises(ValueError, match=r"got \[-0.1\]"):
        stats.holm_adjusted([-0.1])
    assert stats.holm([0.01, float("nan")]) == [True, False]  # NaN is still "no test"
    for k, n in ((12, 10), (0, 0), (-1, 5)):
        with pytest.raises(ValueError, match=r"n trials > 0 and 0 <= k <= n successes"):
            stats.wilson(k, n)


def test_probability_of_improvement_by_hand():
    """x = (1, 2, 3) against y = (2, 2, 0), every pair S(x_i, y_j): x = 1 beats only the 0 (1); x = 2 ties both 2s
    (1/2 + 1/2) and beats the 0 (2); x = 3 beats all three (3): 6 of 9 pairs, P = 2/3; the other way round the
    complement, 1/3. Ties count one half: (1, 1) against (1, 1) is 1/2, (1, 2) against (1) is (1/2 + 1) / 2."""
    assert stats.probability_of_improvement([1.0, 2.0, 3.0], [2.0, 2.0, 0.0]) == pytest.approx(2 / 3)
    assert stats.probability_of_improvement([2.0, 2.0, 0.0], [1.0, 2.0, 3.0]) == pytest.approx(1 / 3)
    assert stats.probability_of_improvement([1.0, 1.0], [1.0, 1.0]) == 0.5
    assert stats.probability_of_improvement([1.0, 2.0], [1.0]) == 0.75
    assert stats.probability_of_improvement([5.0, 6.0], [1.0, 2.0, 3.0]) == 1.0


def test_probability_of_improvement_averages_the_tasks():
    """Task A: 2/3 (as above); task B: (0, 0) never beats (1, 1), 0. The mean over the 2 tasks is 1/3, whether
    the scores come as per-task arrays (the runs may differ in number) or as [runs, tasks] matrices."""
    per_task = stats.probability_of_improvement([np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0])],
                                                [np.array([2.0, 2.0, 0.0]), np.array([1.0, 1.0])])
    matrix = stats.probability_of_improvement(np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]),
                                              np.array([[2.0, 1.0], [2.0, 1.0], [0.0, 1.0]]))
    assert per_task == pytest.approx(1 / 3) and matrix == pytest.approx(1 / 3)


def test_probability_of_improvement_is_the_normalised_mann_whitney_u():
    """rliable's definition: scipy's U of x over y, over N K, averaged over tasks (ties included); and
    P(X > Y) + P(Y > X) = 1."""
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(4)
    x, y = rng.integers(0, 4, size=(5, 3)).astype(float), rng.integers(0, 4, size=(7, 3)).astype(float)
    u = [mannwhitneyu(x[:, m], y[:, m]).statistic / (5 * 7) for m in range(3)]
    assert stats.probability_of_improvement(x, y) == pytest.approx(np.mean(u))
    assert stats.probability_of_improvement(x, y) + stats.probability_of_improvement(y, x) == pytest.approx(1.0)


def test_probability_of_improvement_interval_by_hand():
    """x = (1) against y = (0, 2): a resample of y is (0, 0) with probability 1/4 (P = 1), (2, 2) with 1/4 (P = 0),
    else mixed (P = 1/2); 1/4 > 2.5% at each end, so the interval is (0, 1) about the point 1/2. X's and Y's runs
    are resampled apart: (0, 1) against itself is always 1/2 if they were resampled together, but x = (0, 0) with
    y = (1, 1) has probability 1/16 > 2.5% (P = 0), and the reverse likewise (P = 1)."""
    assert stats.probability_of_improvement_ci([1.0], [0.0, 2.0]) == (0.5, 0.0, 1.0)
    assert stats.probability_of_improvement_ci([0.0, 1.0], [0.0, 1.0]) == (0.5, 0.0, 1.0)
    # one run of each per task: no spread to resample, the interval is the point
    assert stats.probability_of_improvement_ci(np.array([[1.0, 0.0]]), np.array([[0.0, 0.0]])) == (0.75, 0.75, 0.75)


def test_probability_of_improvement_interval_contains_the_point_and_is_seeded():
    rng = np.random.default_rng(5)
    x, y = rng.normal(0.3, 1.0, size=(5, 3)), rng.normal(0.0, 1.0, size=(5, 3))
    point, lo, hi = stats.probability_of_improvement_ci(x, y, seed=7)
    assert point == stats.probability_of_improvement(x, y)
    assert 0.0 <= lo < point < hi <= 1.0
    assert stats.probability_of_improvement_ci(x, y, seed=7) == (point, lo, hi)  # the same seed, the same interval
    assert stats.probability_of_improvement_ci(x, y, seed=8) != (point, lo, hi)
    lo50, hi50 = stats.probability_of_improvement_ci(x, y, confidence=0.5, seed=7)[1:]
    assert lo <= lo50 < hi50 <= hi


def test_probability_of_improvement_refuses_unmatched_tasks_and_propagates_nan():
    with pytest.raises(ValueError, match="on the same tasks"):
        stats.probability_of_improvement(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="on the same tasks"):
        stats.probability_of_improvement([np.array([1.0]), np.array([])], [np.array([1.0]), np.array([2.0])])
    with pytest.raises(ValueError, match="confidence = 95 is invalid"):
        stats.probability_of_improvement_ci([1.0, 2.0], [0.0], confidence=95)
    assert np.isnan(stats.probability_of_improvement([1.0, np.nan], [0.0]))  # NaN is not a loss (NaN > 0 is False)
    assert all(np.isnan(stats.probability_of_improvement_ci([1.0, np.nan], [0.0, 1.0])))


def test_area_under_curve_weighs_each_evaluation_by_the_env_steps_it_covers():
    """Steps (0, 100, 400), scores (0, 1, 1): trapezoids 100 x 1/2 + 300 x 1 = 350 over 400 steps is 0.875
    (the plain mean of the points, 2/3, would weigh the evaluation at 100 like the 300 steps after it). A
    grid from step 100: (100, 200, 300), scores (0.25, 0.5, 1): (100 x 0.375 + 100 x 0.75) / 200 = 0.5625,
    the span being 200 steps, not 300. The same final score reached sooner, steps 0..4: (0, 1, 1, 1, 1) is
    (1/2 + 3) / 4 = 0.875, (0, 0, 0, 1, 1) is (1/2 + 1) / 4 = 0.375. Normalised: 1 at the reference throughout,
    0 at random throughout, one curve per row of ``[..., E]``."""
    assert stats.area_under_curve([0, 100, 400], [0.0, 1.0, 1.0]) == 0.875
    assert stats.area_under_curve([100, 200, 300], [0.25, 0.5, 1.0]) == 0.5625
    np.testing.assert_array_equal(stats.area_under_curve(np.arange(5), [[0, 1, 1, 1, 1], [0, 0, 0, 1, 1]]), [0.875, 0.375])
    np.testing.assert_array_equal(stats.area_under_curve([0, 10, 30], np.array([[[1.0] * 3, [0.0] * 3]])), [[1.0, 0.0]])
    # returns 21.5 (random) then 475 (threshold) on CartPole: normalised (0, 1, 1), 0.875; the area of the returns
    # normalised is the normalised area of the returns (the normalisation is affine)
    returns = np.array([21.5, 475.0, 475.0])
    assert stats.area_under_curve([0, 100, 400], stats.normalize(returns, 21.5, 475.0)) == 0.875
    assert stats.normalize(stats.area_under_curve([0, 100, 400], returns), 21.5, 475.0) == pytest.approx(0.875)


def test_area_under_curve_of_one_evaluation_and_bad_grids():
    """One evaluation spans no env steps: its score. Steps that do not increase, or a curve of another
    length than the steps, are refused; a NaN score makes the area NaN."""
    assert stats.area_under_curve([500], [0.3]) == 0.3
    np.testing.assert_array_equal(stats.area_under_curve([500], [[0.3], [0.7]]), [0.3, 0.7])
    for steps, scores in (([0, 100, 100], [0, 1, 1]), ([100, 0], [0, 1]), ([0, 100], [0, 1, 1]), ([], [])):
        with pytest.raises(ValueError, match="increasing env steps"):
            stats.area_under_curve(steps, scores)
    assert np.isnan(stats.area_under_curve([0, 1, 2], [0.0, np.nan, 1.0]))


def test_task_mean_ci_is_the_mean_over_tasks_of_each_tasks_statistic():
    """Tasks [1, 3, 5] and [2, 4, 6]: IQMs 3 and 4 (3 runs: nothing trimmed), mean 3.5; one run per task leaves the
    bootstrap nothing to draw but itself; a task where every run fails costs its share, where the pooled IQM trims it."""
    assert stats.task_mean_ci(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))[0] == 3.5
    assert stats.task_mean_ci(np.array([[1.0, 2.0]])) == (1.5, 1.5, 1.5)
    collapse = np.array([[500.0] * 4 + [0.0]] * 4)  # [runs, tasks]: 0 on the last of five tasks
    assert stats.task_mean_ci(collapse)[0] == 400.0 and stats.stratified_bootstrap_ci(collapse)[0] == 500.0
    low, high = stats.task_mean_ci(np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0], [7.0, 10.0]]), statistic=stats.mean)[1:]
    assert 5.5 <= low < 7.0 < high <= 8.5  # (mean of the first task's resamples, in [1, 7]) / 2 + 5
    low, high = stats.task_mean_ci(np.array([[1.0, 3.0], [3.0, 1.0]]), statistic=stats.mean)[1:]
    assert (low, high) == (1.0, 3.0)  # each task's runs drawn apart (both at 1: 1/16 > 2.5%); whole rows would give [2, 2]
    with pytest.raises(ValueError, match=r"\[runs, tasks\]"):
        stats.task_mean_ci(np.array([1.0, 2.0]))
    # a nested list is per-task rows here too, as stratified_bootstrap_ci reads it (it was [runs, tasks] here alone)
    m = [[0.1, 0.9], [0.2, 1.0], [0.3, 1.1], [0.4, 1.2]]  # 4 tasks of 2 runs
    assert stats.task_mean_ci(m, stats.mean) == stats.task_mean_ci(np.array(m).T, stats.mean)
    assert stats.task_mean_ci(m, stats.mean)[1:] == pytest.approx(stats.stratified_bootstrap_ci(m, stats.mean)[1:], abs=0.05)
    with pytest.raises(ValueError, match="as many runs"):
        stats.task_mean_ci([[1.0, 2.0], [3.0]])


def test_return_decimals_tell_small_returns_apart():
    """A sweep printed every Blackjack config as "-0.1 [-0.1, -0.0]": one decimal for returns below 1."""
    from rl_zoo.stats import return_decimals

    assert return_decimals(500.0, [103.0, -20.5]) == 1 and return_decimals(-160.8) == 1 and return_decimals(-10.0) == 1
    assert return_decimals(7.9, [-1.5]) == 2 and return_decimals(np.array([0.74, 0.1])) == 3
    assert return_decimals(-0.0437, np.nan, np.inf) == 3 and return_decimals() == 1 and return_decimals(np.nan) == 1


def test_stratified_bootstrap_refuses_a_task_without_runs():
    """An empty task was dropped from the pool without a word: (1, 2, 3) and () gave the interval of (1, 2, 3)
    alone, as if one task had been passed."""
    with pytest.raises(ValueError, match=r"task 1 \(counting from 0\) of 2 has none"):
        stats.stratified_bootstrap_ci([np.array([1.0, 2.0, 3.0]), np.array([])])
    with pytest.raises(ValueError, match="no task was given"):
        stats.stratified_bootstrap_ci([])
    with pytest.raises(ValueError, match="task 0"):
        stats.performance_profile_ci([[], [1.0]], [0.5])
