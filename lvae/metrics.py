"""Numbers computed from stored points: two-sample distances and distances to the curve.

The two-sample tests (Welch's test and its interval) are in ``lvae.analysis.claims``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["decay_exponent", "distance_to_curve", "energy_distance"]


def energy_distance(a, b) -> float:
    """Energy distance between two samples in R^d (Szekely & Rizzo, 2013):

        E(A, B) = 2 E|X - Y| - E|X - X'| - E|Y - Y'|,  X, X' ~ A,  Y, Y' ~ B,

    with the within-sample means over distinct pairs (the unbiased U-statistic). It is
    zero in expectation when both samples come from the same distribution, and grows as
    they separate.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError(f"need two samples shaped (n, d) with n >= 2, got {a.shape}, {b.shape}")

    def mean_dist(x, y, same: bool) -> float:
        d = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1)
        return d.sum() / (len(x) * (len(x) - 1)) if same else d.mean()

    return 2 * mean_dist(a, b, False) - mean_dist(a, a, True) - mean_dist(b, b, True)


def distance_to_curve(points, curve, lo: float = -1.0, hi: float = 1.0, n: int = 4001):
    """Euclidean distance from each point to the graph {(u, curve(u)) : lo <= u <= hi}.

    The graph is sampled at ``n`` points; with the default spacing, the error is below
    (spacing/2) * sqrt(1 + slope^2), about 2e-3 for the toy curve.
    """
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    u = np.linspace(lo, hi, n)
    graph = np.stack([u, curve(u)], axis=-1)
    out = np.empty(len(p))
    for start in range(0, len(p), 256):  # chunks keep the distance matrix small
        chunk = p[start : start + 256]
        out[start : start + 256] = np.linalg.norm(
            chunk[:, None, :] - graph[None, :, :], axis=-1
        ).min(axis=1)
    return out


def decay_exponent(steps, values, from_fraction: float = 0.5) -> np.ndarray:
    """The exponent alpha of a power-law decay, values ~ c * steps**(-alpha), fitted by least
    squares on log values against log steps, over the steps from ``from_fraction`` of the
    last one on. ``values`` is (n_steps,) or (n_steps, n_series); returns one alpha per
    series (positive: decaying).

    Under such a law the relative change over the last tenth of any run is about
    -alpha * ln(10/9) whatever its length, so training longer cannot make it settle.
    """
    t = np.asarray(steps, dtype=float)
    v = np.asarray(values, dtype=float)
    v = v[:, None] if v.ndim == 1 else v
    if t.ndim != 1 or len(t) != len(v) or np.any(t <= 0) or np.any(v <= 0):
        raise ValueError("need positive steps (n,) and positive values (n,) or (n, k)")
    keep = t >= from_fraction * t[-1]
    if keep.sum() < 2:
        raise ValueError("fewer than two steps in the fitted range")
    slopes = np.polyfit(np.log(t[keep]), np.log(v[keep]), 1)[0]
    return -np.atleast_1d(slopes)
