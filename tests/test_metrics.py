import numpy as np
import pytest
from scipy import stats

from lvae import metrics
from lvae.analysis import claims


def test_energy_distance_matches_scipy_in_one_dimension():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 1)), rng.normal(1.0, 2.0, size=(400, 1))
    # scipy reports sqrt(V) for the biased V-statistic V (all pairs, diagonal included).
    ours_v = 2 * np.abs(a - b.T).mean() - np.abs(a - a.T).mean() - np.abs(b - b.T).mean()
    assert np.sqrt(ours_v) == pytest.approx(stats.energy_distance(a[:, 0], b[:, 0]))
    # The U-statistic differs from the V-statistic only by the diagonal terms.
    n, m = len(a), len(b)
    u_from_v = (
        ours_v
        + np.abs(a - a.T).sum() * (1 / n**2 - 1 / (n * (n - 1)))
        + np.abs(b - b.T).sum() * (1 / m**2 - 1 / (m * (m - 1)))
    )
    assert metrics.energy_distance(a, b) == pytest.approx(u_from_v)


def test_energy_distance_separates_distributions():
    rng = np.random.default_rng(1)
    same = [
        metrics.energy_distance(rng.normal(size=(200, 2)), rng.normal(size=(200, 2)))
        for _ in range(20)
    ]
    shifted = metrics.energy_distance(rng.normal(size=(200, 2)), rng.normal(0.5, 1, (200, 2)))
    assert abs(np.mean(same)) < 0.01 and shifted > 10 * np.std(same)
    with pytest.raises(ValueError, match="two samples"):
        metrics.energy_distance(np.zeros((5, 2)), np.zeros((5, 3)))


def test_welch_statistic_by_hand_and_interval_contains_the_difference():
    a, b = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 0.5, 1.0, 0.2])
    # Welch: t = (mean_a - mean_b) / sqrt(s_a^2/n_a + s_b^2/n_b), Welch-Satterthwaite df.
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    t = (a.mean() - b.mean()) / np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    diff, p = claims.welch(a, b)
    assert diff == pytest.approx(a.mean() - b.mean())
    assert p == pytest.approx(2 * stats.t.sf(abs(t), df))
    d, lo, hi = claims.mean_diff_ci(a, b)
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    assert (lo, d, hi) == pytest.approx((diff - half, diff, diff + half))


def test_welch_holds_its_level_where_student_t_does_not():
    """Under the null with a small, noisy group beside a large, quiet one, Welch's test
    rejects about 5% of the time at p < 0.05; the equal-variance t-test, about 30%."""
    rng = np.random.default_rng(3)
    rejections = [
        claims.welch(rng.normal(0, 3, 5), rng.normal(0, 1, 30))[1] < 0.05 for _ in range(2000)
    ]
    assert 0.035 < np.mean(rejections) < 0.065


def test_distance_to_curve_against_closed_forms():
    # The line y = x: the distance from (a, b) is |a - b| / sqrt(2).
    pts = np.array([[0.0, 0.5], [0.3, -0.1], [0.2, 0.2]])
    np.testing.assert_allclose(
        metrics.distance_to_curve(pts, lambda u: u),
        np.abs(pts[:, 0] - pts[:, 1]) / np.sqrt(2),
        atol=1e-3,
    )
    # The unit upper half-circle: distance |r - 1| from points inside its cone.
    circle = lambda u: np.sqrt(np.clip(1 - u**2, 0, None))  # noqa: E731
    pts = np.array([[0.0, 0.5], [0.3, 0.3], [0.1, 1.4]])
    r = np.linalg.norm(pts, axis=1)
    np.testing.assert_allclose(metrics.distance_to_curve(pts, circle), np.abs(r - 1), atol=2e-3)


def test_decay_exponent_recovers_power_laws():
    t = np.arange(100, 60001, 100)
    both = np.stack([3.0 * t**-0.07, np.full(len(t), 0.05)], axis=1)
    np.testing.assert_allclose(metrics.decay_exponent(t, both), [0.07, 0.0], atol=1e-9)
    # Only the fitted range counts: a fall that ends before half way leaves alpha = 0.
    early = np.where(t < 20000, 1.0, 0.5)
    assert metrics.decay_exponent(t, early)[0] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="positive"):
        metrics.decay_exponent(t, -both)
    with pytest.raises(ValueError, match="fewer than two"):
        metrics.decay_exponent([1, 2, 100], [1, 1, 1], from_fraction=0.9)
