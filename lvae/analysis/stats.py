"""The pre-registered protocol's statistics (book page "Protocol"), on per-seed samples.

Every test here is distribution-free, because several of our samples are bimodal (some
seeds of a setting fail, others do not), which is exactly where Welch's t-test misleads:

* a difference of means with a percentile bootstrap interval, seeds resampled within
  each sample (``bootstrap_diff``);
* the two-sided Mann-Whitney U test, exact for up to 60 values without ties
  (``mann_whitney``);
* Holm's step-down correction across one table's claims (``holm``);
* a verdict in three words: the claim *holds* (the paper's sign, adjusted p < 0.05), is
  *contradicted* (the opposite sign, adjusted p < 0.05) or is *not shown* (``judge``);
* equivalence by the interval-inclusion rule (``equivalence``), the convergence criteria
  for fixed and learned sigma (with a paired, per-seed reading of the fixed-sigma one,
  ``seed_trend``), and a per-seed moving-block bootstrap test of whether the
  learned sigma's drops come with ELBO gains (``seed_dynamics_test``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

HOLDS, CONTRADICTED, NOT_SHOWN = "holds", "contradicted", "not shown"
ALPHA = 0.05
N_BOOTSTRAP = 10_000


def _sample(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or len(x) < 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be a 1-D sample of at least 2 finite values, got {x!r}")
    return x


def _level(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return level


# ---------------------------------------------------------------- two-sample tests
def bootstrap_diff(
    a, b, level: float = 0.95, n: int = N_BOOTSTRAP, seed: int = 0
) -> tuple[float, float, float]:
    """mean(a) - mean(b) and its percentile bootstrap interval at ``level``: (diff, lo, hi).

    Each resample draws len(a) values of a and len(b) values of b with replacement (the
    seeds of each setting resampled independently, as they were trained independently).
    """
    a, b, level = _sample(a, "a"), _sample(b, "b"), _level(level)
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, len(a), size=(n, len(a)))
    ib = rng.integers(0, len(b), size=(n, len(b)))
    diffs = a[ia].mean(axis=1) - b[ib].mean(axis=1)
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(diffs, [tail, 100 - tail])
    return float(a.mean() - b.mean()), float(lo), float(hi)


def mann_whitney(a, b) -> float:
    """Two-sided p-value of the Mann-Whitney U test of a against b: exact (the
    distribution of U over all splits of the pooled ranks) when there are no ties and
    at most 60 values, the normal approximation with a tie correction otherwise."""
    a, b = _sample(a, "a"), _sample(b, "b")
    pooled = np.concatenate([a, b])
    exact = len(np.unique(pooled)) == len(pooled) and len(pooled) <= 60
    method = "exact" if exact else "asymptotic"
    return float(scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method=method).pvalue)


def smallest_two_sided_p(n: int, m: int) -> float:
    """The smallest p-value an exact two-sided Mann-Whitney test of n against m values can
    give (the two complete separations): 2 / C(n + m, n). With 3 seeds against 3 it is
    0.1, so no such comparison can reach 0.05."""
    if n < 1 or m < 1:
        raise ValueError(f"n and m must be >= 1, got {n} and {m}")
    return min(1.0, 2 / math.comb(n + m, n))


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given.

    Sorted ascending, p_(i) becomes max over j <= i of min(1, (m - j + 1) p_(j)), so a
    family of m tests keeps its chance of any false rejection below alpha.
    """
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1 or np.any((p < 0) | (p > 1)) or not np.all(np.isfinite(p)):
        raise ValueError(f"p-values must be a 1-D list of values in [0, 1], got {pvalues!r}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted.tolist()


def verdict(diff: float, expected_sign: int, p: float, alpha: float = ALPHA) -> str:
    """HOLDS when the effect has the expected sign and p < alpha, CONTRADICTED when it has
    the opposite sign and p < alpha, else NOT_SHOWN."""
    if expected_sign not in (-1, 1):
        raise ValueError(f"expected_sign must be +1 or -1, got {expected_sign!r}")
    if p >= alpha or diff == 0:
        return NOT_SHOWN
    return HOLDS if np.sign(diff) == expected_sign else CONTRADICTED


@dataclass(frozen=True)
class Judged:
    """One difference claim judged: ``diff`` = mean(a) - mean(b), its 95% bootstrap
    interval, the raw and Holm-adjusted Mann-Whitney p-values, and the paper's effect."""

    claim_id: str
    description: str
    verdict: str
    diff: float
    ci_low: float
    ci_high: float
    p: float
    p_adjusted: float
    paper_effect: float | None


def judge(spec: Sequence[tuple], seed: int = 0, alpha: float = ALPHA) -> list[Judged]:
    """Judge a family of difference claims together (Holm across the family).

    ``spec``: (claim_id, description, a, b, expected_sign, paper_effect) per claim, where
    the claim says sign(mean(a) - mean(b)) == expected_sign.
    """
    if not spec:
        raise ValueError("spec must name at least one claim")
    raw = [mann_whitney(a, b) for _, _, a, b, _, _ in spec]
    adjusted = holm(raw)
    out = []
    for (cid, text, a, b, sign, paper), p, q in zip(spec, raw, adjusted, strict=True):
        diff, lo, hi = bootstrap_diff(a, b, seed=seed)
        out.append(Judged(cid, text, verdict(diff, sign, q, alpha), diff, lo, hi, p, q, paper))
    return out


@dataclass(frozen=True)
class BestOfGrid:
    """The setting with the highest mean, the next best, their difference and its p."""

    best: str
    runner_up: str
    diff: float
    p: float
    significant: bool


def best_of_grid(samples: Mapping[str, Sequence[float]], seed: int = 0) -> BestOfGrid:
    """Which setting of a grid scores highest on average, and whether it is significantly
    above the next best (Mann-Whitney, p < ALPHA). ``seed`` is unused (no resampling) and
    kept for a uniform signature."""
    if len(samples) < 2:
        raise ValueError(f"need at least 2 settings, got {list(samples)}")
    ranked = sorted(samples, key=lambda s: float(np.mean(samples[s])), reverse=True)
    best, second = ranked[0], ranked[1]
    diff = float(np.mean(samples[best]) - np.mean(samples[second]))
    p = mann_whitney(samples[best], samples[second])
    return BestOfGrid(best, second, diff, p, diff > 0 and p < ALPHA)


def equivalence(
    a, b, margin: float, level: float = 0.90, seed: int = 0
) -> tuple[bool, float, float, float]:
    """Whether mean(a) and mean(b) are equivalent within ``margin``: the ``level``
    bootstrap interval of the difference lies inside (-margin, margin) (the interval
    inclusion form of two one-sided tests at (1 - level) / 2 each). Returns
    (equivalent, diff, lo, hi)."""
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin!r}")
    diff, lo, hi = bootstrap_diff(a, b, level=level, seed=seed)
    return (-margin < lo and hi < margin), diff, lo, hi


# ------------------------------------------------------------------- convergence
def _index_at_or_before(steps: np.ndarray, step: float) -> int:
    i = int(np.searchsorted(steps, step, side="right")) - 1
    if i < 0:
        raise ValueError(f"no logged step at or before {step:g} (first: {steps[0]})")
    return i


def _curves(steps, curves) -> tuple[np.ndarray, np.ndarray]:
    steps, curves = np.asarray(steps, dtype=float), np.asarray(curves, dtype=float)
    if curves.ndim != 2 or curves.shape[0] != len(steps) or len(steps) < 2:
        raise ValueError(
            f"curves must be (steps, seeds) with one row per logged step, got shape "
            f"{curves.shape} for {len(steps)} steps"
        )
    if np.any(np.diff(steps) <= 0):
        raise ValueError("steps must be increasing")
    return steps, curves


@dataclass(frozen=True)
class FixedConvergence:
    """The mean monitored ELBO's change over the last fifth of training, the seeds'
    standard deviation of the final ELBO, and whether |change| is below it."""

    change: float
    seed_std: float
    converged: bool


def fixed_sigma_convergence(steps, curves, final, fraction: float = 0.2) -> FixedConvergence:
    """The protocol's criterion for a fixed-sigma row: the seed-mean of its monitored ELBO
    (``curves``, (steps, seeds)) changed between the logged step at (1 - fraction) T and
    the last one by less than the seed-to-seed standard deviation of ``final``."""
    steps, curves = _curves(steps, curves)
    final = _sample(final, "final")
    start = _index_at_or_before(steps, (1 - fraction) * steps[-1])
    change = float(curves[-1].mean() - curves[start].mean())
    sd = float(final.std(ddof=1))
    return FixedConvergence(change, sd, abs(change) < sd)


@dataclass(frozen=True)
class SeedTrend:
    """A paired reading of the same window as ``fixed_sigma_convergence``: each seed's own
    change of its monitored ELBO over the last fifth (``changes``), how many seeds rose
    and fell, and the two-sided Wilcoxon signed-rank p of the changes against 0. The
    seeds' spread cancels within each seed, so a row whose seeds spread widely but all
    still rise is caught here; ``moving``: p below ALPHA."""

    changes: tuple[float, ...]
    rising: int
    falling: int
    p: float

    @property
    def moving(self) -> bool:
        return self.p < ALPHA


def seed_trend(steps, curves, fraction: float = 0.2) -> SeedTrend:
    """``SeedTrend`` of ``curves`` ((steps, seeds)) between the logged step at
    (1 - fraction) T and the last. The signed-rank test is exact when no change is zero
    and no two tie (scipy's exact null), else the normal approximation; with every change
    zero, p is 1."""
    steps, curves = _curves(steps, curves)
    start = _index_at_or_before(steps, (1 - fraction) * steps[-1])
    changes = curves[-1] - curves[start]
    if len(changes) < 2 or not np.all(np.isfinite(changes)):
        raise ValueError(f"need at least 2 seeds with finite curves, got changes {changes!r}")
    if np.all(changes == 0):
        p = 1.0
    else:
        nonzero = changes[changes != 0]
        exact = len(nonzero) == len(changes) and len(np.unique(np.abs(nonzero))) == len(nonzero)
        method = "exact" if exact else "approx"
        p = float(scipy_stats.wilcoxon(changes, alternative="two-sided", method=method).pvalue)
    return SeedTrend(
        tuple(float(c) for c in changes), int((changes > 0).sum()), int((changes < 0).sum()), p
    )


@dataclass(frozen=True)
class SigmaStabilisation:
    """Median over seeds of |log sigma(T) - log sigma(0.9 T)| (``drift``), the seeds'
    standard deviation of log sigma(T) (``noise``), and whether drift < noise."""

    drift: float
    noise: float
    stabilised: bool


def sigma_stabilisation(steps, sigma, fraction: float = 0.1) -> SigmaStabilisation:
    """The protocol's criterion for the learned sigma (``sigma``: (traced steps, seeds))."""
    steps, sigma = _curves(steps, sigma)
    if np.any(sigma <= 0):
        raise ValueError("sigma must be positive")
    log_sigma = np.log(sigma)
    start = _index_at_or_before(steps, (1 - fraction) * steps[-1])
    drift = float(np.median(np.abs(log_sigma[-1] - log_sigma[start])))
    noise = float(log_sigma[-1].std(ddof=1))
    return SigmaStabilisation(drift, noise, drift < noise)


@dataclass(frozen=True)
class SigmaTrend:
    """Seed by seed, the change of log sigma over the last tenth: how many seeds fell and
    rose, the exact two-sided sign test's p, and the median change (log sigma)."""

    falling: int
    rising: int
    p: float
    median_change: float


def sigma_trend(steps, sigma, fraction: float = 0.1) -> SigmaTrend:
    """Whether the learned sigma still moves one way across seeds over the last
    ``fraction`` of training (``sigma``: (traced steps, seeds)). Each seed's change
    log sigma(T) - log sigma((1 - fraction) T) counts once, so one seed far from the others
    weighs no more than any other (the registered criterion compares the median change with
    the seeds' spread, which such a seed widens). Seeds whose sigma did not move are left
    out of the sign test."""
    steps, sigma = _curves(steps, sigma)
    if np.any(sigma <= 0):
        raise ValueError("sigma must be positive")
    log_sigma = np.log(sigma)
    start = _index_at_or_before(steps, (1 - fraction) * steps[-1])
    change = log_sigma[-1] - log_sigma[start]
    falling, rising = int((change < 0).sum()), int((change > 0).sum())
    moved = falling + rising
    p = 1.0 if moved == 0 else float(scipy_stats.binomtest(falling, moved, 0.5).pvalue)
    return SigmaTrend(falling, rising, p, float(np.median(change)))


# --------------------------------------------------------------------- dynamics
def _spearman(x, y) -> np.ndarray:
    """Spearman's rank correlation of x with each row of y (the Pearson correlation of
    mid-ranks); 0 where either side is constant, which carries no association."""
    rx = scipy_stats.rankdata(x)
    ry = scipy_stats.rankdata(np.atleast_2d(y), axis=1)
    rx, ry = rx - rx.mean(), ry - ry.mean(axis=1, keepdims=True)
    norm = np.sqrt((rx**2).sum() * (ry**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(norm > 0, (ry @ rx) / norm, 0.0)
    return r


def block_bootstrap_null(x, y, block: int = 10, n: int = 2000, seed: int = 0) -> np.ndarray:
    """Spearman correlations of x against y resampled by a moving-block bootstrap.

    y is rebuilt from random blocks of ``block`` consecutive values (circularly), which
    keeps its autocorrelation within blocks and breaks its alignment with x: the null
    distribution of the correlation when the two series are unrelated but each is
    autocorrelated, as training curves are.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2 * block:
        raise ValueError(
            f"x and y must be 1-D of the same length, at least 2 blocks of {block}; got "
            f"{x.shape} and {y.shape}"
        )
    rng = np.random.default_rng(seed)
    m = len(y)
    n_blocks = -(-m // block)
    starts = rng.integers(0, m, size=(n, n_blocks))
    index = (starts[:, :, None] + np.arange(block)).reshape(n, -1)[:, :m] % m
    return _spearman(x, y[index])


@dataclass(frozen=True)
class SeedDynamics:
    """Per seed: the Spearman correlation between the fall of log sigma and the gain of
    the monitored ELBO over consecutive windows, the upper edge of its block-bootstrap
    95% band, and whether the correlation lies above it."""

    correlation: np.ndarray
    band_high: np.ndarray
    significant: np.ndarray


def window_changes(log_sigma, elbo) -> tuple[np.ndarray, np.ndarray]:
    """Fall of log sigma and gain of the ELBO between consecutive logged steps, per seed:
    both (windows, seeds)."""
    log_sigma, elbo = np.asarray(log_sigma, dtype=float), np.asarray(elbo, dtype=float)
    if log_sigma.shape != elbo.shape or log_sigma.ndim != 2:
        raise ValueError(
            f"log_sigma and elbo must both be (steps, seeds), got {log_sigma.shape} and "
            f"{elbo.shape}"
        )
    return -np.diff(log_sigma, axis=0), np.diff(elbo, axis=0)


def seed_dynamics_test(
    log_sigma, elbo, block: int = 10, n: int = 2000, seed: int = 0
) -> SeedDynamics:
    """The protocol's T8 statistic and its per-seed null (``block_bootstrap_null``)."""
    fall, gain = window_changes(log_sigma, elbo)
    corr, band = [], []
    for j in range(fall.shape[1]):
        corr.append(float(_spearman(fall[:, j], gain[:, j])[0]))
        null = block_bootstrap_null(fall[:, j], gain[:, j], block, n, seed + j)
        band.append(float(np.percentile(null, 97.5)))
    corr, band = np.array(corr), np.array(band)
    return SeedDynamics(corr, band, corr > band)


def compare_with_replay(ls_correlation, replay_correlation) -> int:
    """In how many seeds LS-VAE's correlation exceeds its own replay's (seed-matched)."""
    a, b = np.asarray(ls_correlation), np.asarray(replay_correlation)
    if a.shape != b.shape:
        raise ValueError(f"one correlation per seed on each side, got {a.shape} and {b.shape}")
    return int(np.sum(a > b))
