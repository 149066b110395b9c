"""The hypersphere theorem of Berger & Sebag (2020), Section 3.1, worked out numerically.

Setting: data spread uniformly over the sphere S_{D-1}(R) in R^D, a Gaussian observation
model N(mu, sigma^2 I), and (the best case the theorem allows) decoder means spread
uniformly over a concentric sphere S_{D-1}(r).  Up to terms that depend on neither r nor
phi, the log marginal likelihood of a data point is Eq. (8):

    L(r) = -r^2 / (2 sigma^2) + log J(a),   a = r R / sigma^2,
    J(a) = int_0^pi sin^{D-2}(phi) exp(a cos phi) dphi.

J is computed two independent ways:

* ``"quad"``: adaptive quadrature of the integrand, after factoring out its peak;
* ``"bessel"``: the closed form (DLMF 10.32.2)
      J(a) = B(1/2, nu + 1/2) * 0F1(; nu + 1; a^2 / 4),   nu = D/2 - 1,
  where 0F1(; nu+1; a^2/4) = Gamma(nu+1) (2/a)^nu I_nu(a).  It is evaluated through the
  exponentially scaled Bessel function ``ive`` where that is well conditioned, and through
  its power series in log space near a = 0 and wherever ``ive`` would underflow (large D).

Every quantity only depends on the ratios R/sigma and r/sigma, which is what the
functions below use internally.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from scipy import integrate, optimize, special

METHODS = ("quad", "bessel")

# Below this value of ive() the Bessel route loses accuracy to underflow; use the series.
_IVE_FLOOR = 1e-250
# The series is used where a^2/4 <= _SERIES_SPAN * (nu + 1): it then needs few terms, and
# the Bessel route would suffer cancellation between nu*log(2/a) and log(ive).
_SERIES_SPAN = 25.0


# --------------------------------------------------------------------------- validation
def _check_dimension(D) -> int:
    if isinstance(D, bool) or not isinstance(D, Integral):
        raise ValueError(f"D must be an integer >= 2, got {D!r}")
    if D < 2:
        raise ValueError(f"D must be an integer >= 2, got {D}")
    return int(D)


def _check_scalar(name: str, value, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if not positive and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _check_radii(r) -> np.ndarray:
    try:
        arr = np.asarray(r, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"r must be a real number or an array of them, got {r!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError("r must be finite (got NaN or inf)")
    if np.any(arr < 0):
        raise ValueError(f"r must be >= 0, got min(r) = {arr.min()}")
    return arr


def _check_method(method) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


# ------------------------------------------------------------------ log J, two ways
def log_beta_half(D: int) -> float:
    """log J(0) = log B(1/2, (D-1)/2) = log int_0^pi sin^{D-2} phi dphi."""
    return special.betaln(0.5, (D - 1) / 2.0)


def _log_0f1_series(nu: float, a: np.ndarray) -> np.ndarray:
    """log 0F1(; nu+1; a^2/4) by its power series, summed in log space.

    Term k is t_k = (a^2/4)^k / (k! (nu+1)_k); every term is positive, so the sum is
    computed without cancellation. Where t_0 = 1 dominates, log1p keeps full relative
    accuracy for tiny a, which the finite differences around r = 0 rely on.
    """
    a = np.asarray(a, dtype=float)
    out = np.zeros_like(a)
    positive = a > 0
    if not np.any(positive):
        return out
    x = a[positive] ** 2 / 4.0
    # The terms peak where (k+1)(nu+k+1) ~ x; sum well past the peak.
    k_peak = 0.5 * (np.sqrt((nu + 2.0) ** 2 + 4.0 * (x.max() - nu - 1.0)) - (nu + 2.0))
    k_peak = max(k_peak, 0.0)
    n_terms = int(k_peak + 15.0 * math.sqrt(k_peak + 1.0) + 40.0)
    k = np.arange(1, n_terms + 1, dtype=float)
    log_denominators = np.cumsum(np.log(k) + np.log(nu + k))  # log(k! (nu+1)_k)
    log_terms = k[None, :] * np.log(x)[:, None] - log_denominators[None, :]
    top = np.maximum(log_terms.max(axis=1), 0.0)  # 0 is log t_0
    rest = np.exp(log_terms - top[:, None]).sum(axis=1)
    out[positive] = np.where(top == 0.0, np.log1p(rest), top + np.log(np.exp(-top) + rest))
    return out


def log_hyp0f1(nu: float, a) -> np.ndarray:
    """log 0F1(; nu+1; a^2/4) = log[Gamma(nu+1) (2/a)^nu I_nu(a)] for a >= 0."""
    a = np.asarray(a, dtype=float)
    out = np.empty_like(a)
    use_series = a**2 / 4.0 <= _SERIES_SPAN * (nu + 1.0)
    big = ~use_series
    if np.any(big):
        ab = a[big]
        scaled = special.ive(nu, ab)  # I_nu(a) e^{-a}
        ok = np.isfinite(scaled) & (scaled > _IVE_FLOOR)
        vals = np.empty_like(ab)
        vals[ok] = (
            special.gammaln(nu + 1.0) + nu * np.log(2.0 / ab[ok]) + np.log(scaled[ok]) + ab[ok]
        )
        if np.any(~ok):
            vals[~ok] = _log_0f1_series(nu, ab[~ok])
        out[big] = vals
    if np.any(use_series):
        out[use_series] = _log_0f1_series(nu, a[use_series])
    return out


def _log_j_quad_scalar(a: float, D: int) -> float:
    """log J(a) by adaptive quadrature; the integrand's peak is factored out first.

    With h(phi) = (D-2) log sin phi + a cos phi, h' = 0 gives
    a c^2 + (D-2) c - a = 0 for c = cos(phi*), so the peak is known in closed form.
    """
    m = D - 2
    if a == 0.0:
        c_star = 0.0 if m > 0 else 1.0
    else:
        c_star = (-m + math.sqrt(m * m + 4.0 * a * a)) / (2.0 * a)
    phi_star = math.acos(min(1.0, c_star))

    def h(phi):
        val = a * math.cos(phi)
        if m:
            s = math.sin(phi)
            val = val + (m * math.log(s) if s > 0 else -math.inf)
        return val

    h_star = h(phi_star)
    # Curvature at the peak sets the width of the region quad must resolve.
    s2 = math.sin(phi_star) ** 2
    curvature = a * c_star + (m / s2 if m and s2 > 0 else 0.0)
    width = 1.0 / math.sqrt(curvature) if curvature > 0 else math.pi
    cuts = {0.0, math.pi, phi_star}
    for k in (1.0, 4.0, 12.0):
        for p in (phi_star - k * width, phi_star + k * width):
            if 0.0 < p < math.pi:
                cuts.add(p)
    cuts = sorted(cuts)

    def integrand(phi):
        return math.exp(h(phi) - h_star)

    # The integrand is 1 at its peak, so the integral is at least of order `width`;
    # an absolute tolerance on that scale stops quad chasing digits in the far tails.
    tol = 1e-14 * min(width, math.pi)
    total = 0.0
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        val, _ = integrate.quad(integrand, lo, hi, epsabs=tol, epsrel=1e-10, limit=200)
        total += val
    return h_star + math.log(total)


def log_j(a, D: int, method: str = "bessel") -> np.ndarray:
    """log J(a) = log int_0^pi sin^{D-2}(phi) exp(a cos phi) dphi, for a >= 0."""
    a = np.asarray(a, dtype=float)
    if method == "quad":
        return np.vectorize(lambda x: _log_j_quad_scalar(float(x), D), otypes=[float])(a)
    return log_beta_half(D) + log_hyp0f1(D / 2.0 - 1.0, a)


# ------------------------------------------------------------------------- Eq. (8)
def log_marginal(r, R, sigma, D, method: str = "quad"):
    """Eq. (8): the log of

        exp(-r^2/(2 sigma^2)) * int_0^pi sin^{D-2}phi exp(r R cos phi / sigma^2) dphi.

    No other constant is included. Vectorised over ``r``; returns a float for scalar r.
    ``method`` is ``"quad"`` (adaptive quadrature) or ``"bessel"`` (closed form).
    """
    D = _check_dimension(D)
    R = _check_scalar("R", R, positive=False)
    sigma = _check_scalar("sigma", sigma, positive=True)
    r_arr = _check_radii(r)
    method = _check_method(method)
    rho, ratio = r_arr / sigma, R / sigma
    out = -0.5 * rho**2 + log_j(rho * ratio, D, method)
    return float(out) if out.ndim == 0 else out


def _excess(rho, ratio: float, D: int) -> np.ndarray:
    """L(rho) - L(0) in units of sigma: -rho^2/2 + log 0F1(; D/2; (rho*ratio)^2/4).

    The constant log B cancels exactly, so tiny differences near rho = 0 keep their
    relative accuracy.
    """
    rho = np.asarray(rho, dtype=float)
    return -0.5 * rho**2 + log_hyp0f1(D / 2.0 - 1.0, rho * ratio)


# --------------------------------------------------------------- optimum and threshold
def _zero_beats_small_radii(ratio: float, D: int) -> bool:
    """True when L does not increase as r leaves 0 (second-order test at a small step)."""
    step = 1e-4 / max(1.0, ratio)
    return bool(_excess(step, ratio, D) <= 0.0)


def optimal_radius(R, sigma, D) -> float:
    """The radius r >= 0 of the decoder sphere that maximises Eq. (8).

    Any maximiser lies in [0, R]: for r > R the derivative is negative (Eq. (9) with
    the Bessel ratio I_{nu+1}/I_nu < 1).  The search first tests whether L grows as r
    leaves 0, then scans [0, R] on a grid (so a distant global maximum cannot be missed)
    and refines the best point with bounded Brent search.
    """
    D = _check_dimension(D)
    R = _check_scalar("R", R, positive=False)
    sigma = _check_scalar("sigma", sigma, positive=True)
    ratio = R / sigma
    if ratio == 0.0:
        return 0.0
    grid = np.linspace(0.0, ratio, 129)[1:]
    values = _excess(grid, ratio, D)
    best = int(np.argmax(values))
    if _zero_beats_small_radii(ratio, D) and values[best] <= 0.0:
        return 0.0
    lo = grid[best - 1] if best > 0 else 0.0
    hi = grid[min(best + 1, grid.size - 1)]
    res = optimize.minimize_scalar(
        lambda x: -float(_excess(x, ratio, D)),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-12 * max(1.0, ratio)},
    )
    return float(res.x) * sigma


def critical_ratio(D, rtol: float = 1e-12) -> float:
    """The largest R/sigma for which the optimal radius is 0, found by bisection.

    Uses only ``optimal_radius``: the bracket is doubled until the optimum leaves 0, then
    halved until its width is below ``rtol`` relative.
    """
    D = _check_dimension(D)
    lo, hi = 0.0, 1.0
    while optimal_radius(hi, 1.0, D) == 0.0:
        lo, hi = hi, 2.0 * hi
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if optimal_radius(mid, 1.0, D) == 0.0:
            lo = mid
        else:
            hi = mid
    return lo


# ------------------------------------------------------------------------- Eq. (9)
def eq9_integral(r, R, sigma, D, *, as_printed: bool = True) -> np.ndarray:
    """The integral of Eq. (9), which the paper says has the sign of dp/dr.

    int_0^pi (r/sigma^2) (R^2 sin^2 phi / ((D-1) sigma^2) - 1) sin^{D-2} phi e^{E cos phi} dphi

    with E = r R as printed in the paper, or E = r R / sigma^2 (``as_printed=False``), the
    exponent that integrating Eq. (8) by parts actually gives.  With that exponent,
    dp/dr = exp(-r^2 / (2 sigma^2)) * eq9_integral(..., as_printed=False) exactly.
    """
    D = _check_dimension(D)
    R = _check_scalar("R", R, positive=False)
    sigma = _check_scalar("sigma", sigma, positive=True)
    r_arr = _check_radii(r)
    s2 = sigma**2

    def one(rv: float) -> float:
        e = rv * R if as_printed else rv * R / s2

        def f(phi):
            s = math.sin(phi)
            return (
                (rv / s2)
                * (R**2 * s * s / ((D - 1) * s2) - 1.0)
                * s ** (D - 2)
                * math.exp(e * math.cos(phi))
            )

        return integrate.quad(f, 0.0, math.pi, epsabs=0.0, epsrel=1e-11, limit=200)[0]

    out = np.vectorize(one, otypes=[float])(r_arr)
    return float(out) if out.ndim == 0 else out
