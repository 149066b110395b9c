"""The protocol's statistics (lvae.analysis.stats) against hand computations, their
invariants, their levels under the null, and their errors for bad input."""

from math import comb

import numpy as np
import pytest

from lvae.analysis import stats


# ---------------------------------------------------------------- two-sample tests
def test_holm_matches_a_hand_computation_in_the_order_given():
    # Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> max so far 0.06.
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert stats.holm([0.02]) == pytest.approx([0.02])  # one test: unchanged


def test_holm_refuses_values_that_are_not_probabilities():
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        stats.holm([0.1, 1.5])
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        stats.holm([float("nan")])


def test_mann_whitney_is_exact_for_two_separated_samples_of_ten():
    # Only the two complete separations are as extreme: p = 2 / C(20, 10).
    a, b = np.arange(10.0), np.arange(10.0) + 100
    assert stats.mann_whitney(a, b) == pytest.approx(2 / comb(20, 10))
    assert stats.mann_whitney(b, a) == pytest.approx(2 / comb(20, 10))


def test_mann_whitney_sees_a_bimodal_gap_that_welch_misses():
    # Three of ten seeds fail badly: the mean is dragged down, the ranks are not.
    good = np.linspace(1.0, 1.1, 10)
    bimodal = np.r_[np.linspace(0.8, 0.9, 7), -20.0, -25.0, -30.0]
    from lvae.analysis.claims import welch

    assert stats.mann_whitney(good, bimodal) < 0.001 < 0.05 < welch(good, bimodal)[1]


def test_bootstrap_interval_contains_the_difference_and_is_reproducible():
    rng = np.random.default_rng(1)
    a, b = rng.normal(1, 0.2, 10), rng.normal(0, 0.2, 10)
    diff, lo, hi = stats.bootstrap_diff(a, b, seed=3)
    assert diff == pytest.approx(a.mean() - b.mean())
    assert lo < diff < hi
    assert stats.bootstrap_diff(a, b, seed=3) == (diff, lo, hi)
    _, lo99, hi99 = stats.bootstrap_diff(a, b, level=0.99, seed=3)
    assert lo99 < lo and hi < hi99
    # Constant samples: every resample has the same means.
    assert stats.bootstrap_diff([2.0, 2.0], [1.0, 1.0]) == (1.0, 1.0, 1.0)


def test_bootstrap_interval_covers_the_true_difference_about_as_often_as_it_says():
    rng = np.random.default_rng(0)
    hits = 0
    for i in range(200):
        a, b = rng.normal(0.5, 1, 10), rng.normal(0, 1, 10)
        _, lo, hi = stats.bootstrap_diff(a, b, n=1000, seed=i)
        hits += lo < 0.5 < hi
    # Percentile intervals at n = 10 run a little short of 95%; far below would be a bug.
    assert 0.85 < hits / 200 <= 1.0


@pytest.mark.parametrize(
    ("a", "match"),
    [([1.0], "at least 2"), ([1.0, float("inf")], "finite"), ([[1.0, 2.0]], "1-D")],
)
def test_two_sample_functions_refuse_bad_samples(a, match):
    with pytest.raises(ValueError, match=match):
        stats.mann_whitney(a, [1.0, 2.0])
    with pytest.raises(ValueError, match=match):
        stats.bootstrap_diff([1.0, 2.0], a)


def test_verdict_has_three_outcomes_and_checks_the_sign():
    assert stats.verdict(+0.3, +1, 0.01) == stats.HOLDS
    assert stats.verdict(-0.3, -1, 0.01) == stats.HOLDS
    assert stats.verdict(-0.3, +1, 0.01) == stats.CONTRADICTED
    assert stats.verdict(+0.3, +1, 0.05) == stats.NOT_SHOWN  # p must be below alpha
    with pytest.raises(ValueError, match="expected_sign"):
        stats.verdict(0.3, 0, 0.01)


def test_judge_decides_on_holm_adjusted_p_values():
    a, b = np.arange(10.0), np.arange(10.0) + 100  # p = 1.08e-5 either way
    close = np.linspace(0, 1, 10)
    near = close + 0.35  # a weak effect: significant alone, not as one of four
    raw = stats.mann_whitney(near, close)
    assert raw < 0.05 < 3 * raw
    weak = [(f"Z{i}", "near − close", near, close, +1, None) for i in range(3)]
    spec = [("X", "b − a", b, a, +1, 0.5), ("Y", "a − b", a, b, +1, None), *weak]
    x, y, *z = stats.judge(spec)
    assert (x.verdict, y.verdict) == (stats.HOLDS, stats.CONTRADICTED)
    # Holm: the two strong tests take the factors 5 and 4; the three equal weak ones
    # 3, 2 and 1, and the running maximum lifts all three to 3 p.
    for weak_claim in z:
        assert weak_claim.verdict == stats.NOT_SHOWN
        assert weak_claim.p == pytest.approx(raw)
        assert weak_claim.p_adjusted == pytest.approx(3 * raw)
    assert x.diff == pytest.approx(100) and x.paper_effect == 0.5
    assert x.ci_low <= x.diff <= x.ci_high
    # With one strong test beside it, the weak one is the largest p and keeps factor 1.
    assert stats.judge(spec[:1] + weak[:1])[1].verdict == stats.HOLDS
    with pytest.raises(ValueError, match="at least one claim"):
        stats.judge([])


def test_best_of_grid_ranks_by_mean_and_tests_against_the_runner_up():
    grid = {"a": np.arange(10.0), "b": np.arange(10.0) + 100, "c": np.arange(10.0) + 50}
    best = stats.best_of_grid(grid)
    assert (best.best, best.runner_up, best.diff) == ("b", "c", pytest.approx(50))
    assert best.significant and best.p == pytest.approx(2 / comb(20, 10))
    tied = stats.best_of_grid({"a": [1.0, 2.0, 3.0], "b": [1.1, 2.0, 2.9]})
    assert not tied.significant
    with pytest.raises(ValueError, match="at least 2 settings"):
        stats.best_of_grid({"a": [1.0, 2.0]})


def test_equivalence_holds_for_close_means_and_not_for_distant_ones():
    rng = np.random.default_rng(2)
    a = rng.normal(0, 0.02, 10)
    assert stats.equivalence(a, a + 0.01, margin=0.1)[0]
    held, diff, lo, hi = stats.equivalence(a, a + 0.3, margin=0.1)
    assert not held and diff == pytest.approx(-0.3) and hi < -0.1
    with pytest.raises(ValueError, match="margin must be > 0"):
        stats.equivalence(a, a, margin=0)


# ------------------------------------------------------------------- convergence
def test_fixed_sigma_convergence_compares_the_last_fifth_with_the_seed_spread():
    steps = np.arange(1, 11) * 100.0  # the last fifth starts at step 800
    flat = np.ones((10, 3)) * np.array([-1.0, -1.1, -0.9])
    rising = flat + np.linspace(0, 1, 10)[:, None]
    final = np.array([-1.0, -1.1, -0.9])  # std 0.1
    done = stats.fixed_sigma_convergence(steps, flat, final)
    assert done.converged and done.change == 0 and done.seed_std == pytest.approx(0.1)
    going = stats.fixed_sigma_convergence(steps, rising, final)
    # From step 800 (row 7, 7/9) to step 1000 (row 9): 2/9 of the rise.
    assert going.change == pytest.approx(2 / 9) and not going.converged


def test_seed_trend_catches_seeds_that_all_rise_however_widely_they_spread():
    steps = np.arange(1, 11) * 100.0
    levels = np.linspace(-3.0, 3.0, 10)  # seeds spread by about 2 nats
    rise = np.linspace(0.0, 0.9, 10)[:, None] * np.linspace(1.0, 1.9, 10)  # all rise
    curves = levels + rise
    # The registered criterion passes it: the mean rises 0.2 * 1.45 against a std of 2.
    assert stats.fixed_sigma_convergence(steps, curves, curves[-1]).converged
    trend = stats.seed_trend(steps, curves)
    assert trend.rising == 10 and trend.falling == 0
    assert trend.changes == pytest.approx(0.2 * np.linspace(1.0, 1.9, 10))
    # Exact signed-rank null: all 10 ranks positive is 1 of 2^10 sign patterns, twice.
    assert trend.p == pytest.approx(2 / 2**10) and trend.moving
    # Changes of both signs, symmetric about 0: nothing moves.
    mixed = levels + np.linspace(0.0, 1.0, 10)[:, None] * np.linspace(-0.45, 0.45, 10)
    balanced = stats.seed_trend(steps, mixed)
    assert (balanced.rising, balanced.falling) == (5, 5) and balanced.p > 0.9
    flat = stats.seed_trend(steps, np.ones((10, 4)))
    assert flat.p == 1.0 and not flat.moving and flat.rising == flat.falling == 0
    # Ties and zeros fall back to the normal approximation rather than failing.
    tied = np.ones((10, 6)) + np.linspace(0, 1, 10)[:, None] * np.array([0, 1, 1, 1, 1, 1])
    assert 0 < stats.seed_trend(steps, tied).p < 1
    with pytest.raises(ValueError, match="finite curves"):
        stats.seed_trend(steps, np.full((10, 3), np.nan))


def test_convergence_checks_refuse_misshapen_curves():
    with pytest.raises(ValueError, match="one row per logged step"):
        stats.fixed_sigma_convergence([1, 2, 3], np.ones((2, 3)), [1.0, 2.0])
    with pytest.raises(ValueError, match="increasing"):
        stats.sigma_stabilisation([2, 1], np.ones((2, 3)))
    with pytest.raises(ValueError, match="positive"):
        stats.sigma_stabilisation([1, 2], -np.ones((2, 3)))


def test_sigma_stabilisation_tells_a_plateau_from_a_power_law():
    steps = np.arange(1, 1001) * 10.0
    spread = np.exp(np.array([-0.1, 0.0, 0.1]))  # log-sigma std 0.1 across seeds
    plateau = 0.05 * np.ones((1000, 1)) * spread
    falling = 0.05 * (steps[:, None] / steps[0]) ** -0.5 * spread
    s = stats.sigma_stabilisation(steps, plateau)
    assert s.stabilised and s.drift == 0 and s.noise == pytest.approx(0.1)
    f = stats.sigma_stabilisation(steps, falling)
    # |log sigma(T) - log sigma(0.9 T)| = 0.5 log(1/0.9) = 0.053 < 0.1: a slow power law
    # counts as stable; a faster one (exponent 2: 0.21) does not.
    assert f.drift == pytest.approx(0.5 * np.log(1 / 0.9), rel=1e-3) and f.stabilised
    fast = 0.05 * (steps[:, None] / steps[0]) ** -2.0 * spread
    assert not stats.sigma_stabilisation(steps, fast).stabilised


# --------------------------------------------------------------------- dynamics
def _ar1(rng, n, phi=0.8):
    x = np.zeros(n)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + rng.normal()
    return x


def test_spearman_matches_scipy_with_ties_and_is_zero_for_a_constant():
    from scipy.stats import spearmanr

    x = np.array([1.0, 2, 2, 3, 5, 4])
    y = np.array([[2.0, 1, 4, 4, 6, 5], [6.0, 5, 4, 3, 2, 1]])
    got = stats._spearman(x, y)
    assert got == pytest.approx([spearmanr(x, row).statistic for row in y])
    assert stats._spearman(x, np.ones(6)) == pytest.approx([0.0])


def test_block_bootstrap_null_is_centred_on_zero_and_reproducible():
    rng = np.random.default_rng(4)
    x, y = _ar1(rng, 60), _ar1(rng, 60)
    null = stats.block_bootstrap_null(x, y, n=500, seed=1)
    assert null.shape == (500,) and abs(null.mean()) < 0.1
    assert np.array_equal(null, stats.block_bootstrap_null(x, y, n=500, seed=1))
    with pytest.raises(ValueError, match="at least 2 blocks"):
        stats.block_bootstrap_null(x[:15], y[:15])


def test_seed_dynamics_test_finds_a_real_link_and_rarely_an_absent_one():
    rng = np.random.default_rng(5)
    n_steps, n_seeds = 61, 40
    log_sigma = np.cumsum(-np.abs(rng.normal(0, 0.05, (n_steps, n_seeds))), axis=0)
    fall = -np.diff(log_sigma, axis=0)
    linked_elbo = np.vstack(
        [np.zeros(n_seeds), np.cumsum(fall + rng.normal(0, 0.01, fall.shape), axis=0)]
    )
    unlinked_elbo = np.cumsum(rng.normal(0, 0.05, (n_steps, n_seeds)), axis=0)
    linked = stats.seed_dynamics_test(log_sigma, linked_elbo, n=300)
    assert linked.significant.all() and (linked.correlation > 0.8).all()
    null = stats.seed_dynamics_test(log_sigma, unlinked_elbo, n=300)
    # A one-sided test at 2.5%: 40 unrelated seeds give about one false positive.
    assert null.significant.sum() <= 5
    with pytest.raises(ValueError, match="both be \\(steps, seeds\\)"):
        stats.seed_dynamics_test(log_sigma, unlinked_elbo[:-1])


def test_compare_with_replay_counts_seeds_and_checks_the_pairing():
    assert stats.compare_with_replay([0.5, 0.1, 0.3], [0.2, 0.2, 0.2]) == 2
    with pytest.raises(ValueError, match="one correlation per seed"):
        stats.compare_with_replay([0.5, 0.1], [0.2, 0.2, 0.2])


def test_mann_whitney_with_ties_uses_the_normal_approximation():
    from scipy.stats import mannwhitneyu

    a, b = [1.0, 2.0, 2.0, 3.0], [2.0, 4.0, 5.0, 6.0]
    expected = mannwhitneyu(a, b, alternative="two-sided", method="asymptotic").pvalue
    assert stats.mann_whitney(a, b) == pytest.approx(expected)


def test_smallest_two_sided_p_is_the_exact_tests_floor():
    assert stats.smallest_two_sided_p(3, 3) == pytest.approx(0.1)
    assert stats.smallest_two_sided_p(5, 5) == pytest.approx(2 / 252)
    # It is what the exact test gives for two separated samples.
    assert stats.mann_whitney([1.0, 2, 3], [4.0, 5, 6]) == pytest.approx(0.1)
    with pytest.raises(ValueError, match=">= 1"):
        stats.smallest_two_sided_p(0, 3)


def test_sigma_trend_counts_each_seed_once_and_tests_the_signs_exactly():
    steps = np.arange(1, 101) * 10
    rng = np.random.default_rng(0)
    # Nine seeds fall by 5% over the last tenth, one rises by 50%: the median drift is
    # small against the spread that one seed makes, but the signs say sigma still falls.
    base = np.exp(rng.normal(-2.0, 0.05, size=10))
    sigma = np.tile(base, (100, 1))
    late = steps > 900  # after the window opens at 0.9 T
    sigma[late, :9] *= 0.95
    sigma[late, 9] *= 1.5
    trend = stats.sigma_trend(steps, sigma)
    assert (trend.falling, trend.rising) == (9, 1)
    assert trend.p == pytest.approx(22 / 1024)  # 2 * P(X >= 9), X ~ Binomial(10, 1/2)
    assert trend.median_change == pytest.approx(np.log(0.95))
    flat = stats.sigma_trend(steps, np.tile(base, (100, 1)))
    assert (flat.falling, flat.rising, flat.p) == (0, 0, 1.0)
    with pytest.raises(ValueError, match="positive"):
        stats.sigma_trend(steps, -sigma)
