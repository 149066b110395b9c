"""lvae.theory against independent computations: mpmath, elementary identities, Monte Carlo,
finite differences and brute-force maximisation."""

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import special

from lvae import theory

mp.mp.dps = 40


def reference_log_marginal(r, R, sigma, D):
    """Eq. (8) with 40-digit arithmetic (mpmath tanh-sinh quadrature)."""
    a = mp.mpf(r) * R / sigma**2
    J = mp.quad(lambda p: mp.sin(p) ** (D - 2) * mp.e ** (a * mp.cos(p)), [0, mp.pi / 2, mp.pi])
    return float(-(mp.mpf(r) ** 2) / (2 * mp.mpf(sigma) ** 2) + mp.log(J))


@pytest.mark.parametrize("method", theory.METHODS)
@pytest.mark.parametrize("D", [2, 3, 5, 12, 100, 1000])
def test_log_marginal_matches_high_precision_reference(method, D):
    for R, sigma in [(0.5, 1.0), (3.0, 0.7), (40.0, 1.0)]:
        for r in [0.0, 1e-6, 0.3, 2.0, 35.0]:
            expected = reference_log_marginal(r, R, sigma, D)
            got = theory.log_marginal(r, R, sigma, D, method=method)
            assert got == pytest.approx(expected, rel=1e-11, abs=1e-11), (r, R, sigma, D)


def test_methods_agree_on_a_grid_including_extreme_arguments():
    r = np.concatenate([[0.0, 1e-12, 1e-3], np.linspace(0.1, 50, 40), [1e3, 1e5]])
    for D in (2, 3, 4, 17, 250, 1000):
        for R in (0.0, 0.2, 1.41, 9.0, 300.0):
            q = theory.log_marginal(r, R, 1.0, D, method="quad")
            b = theory.log_marginal(r, R, 1.0, D, method="bessel")
            np.testing.assert_allclose(b, q, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("a", [0.0, 1e-8, 0.01, 1.0, 7.5, 80.0, 600.0])
def test_known_closed_forms_for_small_dimensions(a):
    # D = 3: int sin(phi) e^{a cos phi} = 2 sinh(a) / a (elementary), 2 at a = 0.
    if a == 0:
        d3 = math.log(2.0)
    elif a < 300:  # math.sinh is accurate for tiny a, where the other form cancels
        d3 = math.log(2.0 * math.sinh(a) / a)
    else:
        d3 = a + math.log1p(-math.exp(-2 * a)) - math.log(a)
    # D = 2: pi I_0(a); D = 4: pi I_1(a) / a (-> pi/2 at a = 0).
    d2 = math.log(math.pi) + math.log(special.ive(0, a)) + a
    d4 = math.log(math.pi / 2) if a == 0 else math.log(math.pi * special.ive(1, a) / a) + a
    for D, expected in ((2, d2), (3, d3), (4, d4)):
        for method in theory.METHODS:
            assert theory.log_j(a, D, method) == pytest.approx(expected, rel=1e-12, abs=1e-13)


def test_monte_carlo_over_the_sphere():
    """For mu uniform on the unit sphere, E[exp(a <mu, e1>)] = J(a) / J(0)."""
    rng = np.random.default_rng(0)
    for D, a in ((2, 1.3), (5, 2.0), (30, 4.0)):
        u = rng.standard_normal((400_000, D))
        first = u[:, 0] / np.linalg.norm(u, axis=1)
        samples = np.exp(a * first)
        estimate, stderr = samples.mean(), samples.std() / math.sqrt(samples.size)
        exact = math.exp(theory.log_j(a, D, "bessel") - theory.log_j(0.0, D, "bessel"))
        assert abs(estimate - exact) < 4 * stderr, (D, a, estimate, exact, stderr)


def test_scale_invariance_and_vectorisation():
    r = np.array([0.0, 0.5, 1.5])
    scaled = theory.log_marginal(r * 0.3, 2.0 * 0.3, 0.3, 4)
    np.testing.assert_allclose(scaled, theory.log_marginal(r, 2.0, 1.0, 4), rtol=1e-13)
    assert scaled.shape == (3,)
    assert isinstance(theory.log_marginal(0.5, 2.0, 1.0, 4), float)
    grid = theory.log_marginal(np.ones((2, 3)), 1.0, 1.0, 3, method="bessel")
    assert grid.shape == (2, 3)


def test_eq9_corrected_is_the_exact_derivative():
    for D, R, sigma in ((2, 2.0, 0.6), (3, 1.0, 1.3), (9, 4.0, 1.0)):
        for r in (0.2, 1.0, 2.5):
            h = 1e-5

            def p(x, D=D, R=R, sigma=sigma):
                return math.exp(reference_log_marginal(x, R, sigma, D))

            fd = (p(r + h) - p(r - h)) / (2 * h)
            exact = math.exp(-(r**2) / (2 * sigma**2)) * theory.eq9_integral(
                r, R, sigma, D, as_printed=False
            )
            assert exact == pytest.approx(fd, rel=1e-7)
            printed = theory.eq9_integral(r, R, sigma, D, as_printed=True)
            if sigma == 1.0:
                assert printed == theory.eq9_integral(r, R, sigma, D, as_printed=False)


def brute_force_optimum(ratio, D, n=4001):
    """argmax of Eq. (8) over a grid of r in [0, 1.2 R], by quadrature only."""
    rho = np.linspace(0.0, 1.2 * ratio, n)
    values = theory.log_marginal(rho, ratio, 1.0, D, method="quad")
    return rho[int(np.argmax(values))], rho[1] - rho[0]


@pytest.mark.parametrize(
    "ratio,D", [(0.5, 2), (1.2, 2), (1.8, 2), (3.0, 2), (6.0, 3), (2.5, 7), (12.0, 50)]
)
def test_optimal_radius_matches_brute_force(ratio, D):
    expected, step = brute_force_optimum(ratio, D)
    got = theory.optimal_radius(ratio, 1.0, D)
    assert 0.0 <= got <= ratio
    assert abs(got - expected) <= step


def test_optimal_radius_is_stationary_and_scales_with_sigma():
    for ratio, D in ((2.0, 2), (5.0, 10)):
        r = theory.optimal_radius(ratio, 1.0, D)
        h = 1e-5
        slope = (
            theory.log_marginal(r + h, ratio, 1.0, D) - theory.log_marginal(r - h, ratio, 1.0, D)
        ) / (2 * h)
        assert abs(slope) < 1e-5
        assert theory.optimal_radius(ratio * 0.25, 0.25, D) == pytest.approx(0.25 * r, rel=1e-7)


@pytest.mark.parametrize("D", [2, 3, 7, 20])
def test_critical_ratio_against_brute_force_and_curvature(D):
    c = theory.critical_ratio(D)
    # Below the threshold a quadrature grid search keeps r = 0; above it, it does not.
    assert brute_force_optimum(0.97 * c, D)[0] == 0.0
    assert brute_force_optimum(1.10 * c, D)[0] > 0.0
    # Independently: the curvature of Eq. (8) at r = 0 (finite differences of the
    # quadrature) changes sign at the same ratio.
    h = 1e-3
    for factor, sign in ((0.99, -1), (1.01, 1)):
        ratio = factor * c
        f = theory.log_marginal(np.array([0.0, h]), ratio, 1.0, D, method="quad")
        assert np.sign(f[1] - f[0]) == sign


@pytest.mark.parametrize("D", [2, 3, 4, 10, 101, 1000])
def test_critical_ratio_equals_sqrt_d(D):
    # sqrt(D) is derived by hand in chapter 1 (series of 0F1, Wallis ratio); the
    # function itself only bisects on optimal_radius.
    assert theory.critical_ratio(D) == pytest.approx(math.sqrt(D), rel=1e-8)


@pytest.mark.parametrize(
    "kwargs,pattern",
    [
        ({"D": 1}, r"D must be an integer >= 2, got 1"),
        ({"D": 2.5}, r"D must be an integer >= 2, got 2.5"),
        ({"D": True}, r"D must be an integer"),
        ({"sigma": 0.0}, r"sigma must be > 0, got 0.0"),
        ({"sigma": -1.0}, r"sigma must be > 0"),
        ({"sigma": math.nan}, r"sigma must be finite"),
        ({"R": -0.1}, r"R must be >= 0, got -0.1"),
        ({"R": math.inf}, r"R must be finite"),
        ({"R": "one"}, r"R must be a real number"),
        ({"r": -1.0}, r"r must be >= 0"),
        ({"r": [0.1, math.nan]}, r"r must be finite"),
        ({"r": "x"}, r"r must be a real number"),
        ({"method": "simpson"}, r"method must be one of \('quad', 'bessel'\), got 'simpson'"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(kwargs, pattern):
    args = {"r": 0.5, "R": 1.0, "sigma": 1.0, "D": 3, "method": "quad"} | kwargs
    with pytest.raises(ValueError, match=pattern):
        theory.log_marginal(**args)


def test_bad_input_for_optimum_and_threshold():
    with pytest.raises(ValueError, match="sigma must be > 0"):
        theory.optimal_radius(1.0, 0.0, 2)
    with pytest.raises(ValueError, match="R must be >= 0"):
        theory.optimal_radius(-1.0, 1.0, 2)
    with pytest.raises(ValueError, match="D must be an integer >= 2"):
        theory.critical_ratio(1)
    with pytest.raises(ValueError, match="D must be an integer"):
        theory.critical_ratio(3.0)
