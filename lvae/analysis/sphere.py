"""Chapter 1: fixed-sigma VAEs trained on a sphere, set against the hypersphere theorem.

A sphere-vae record holds one model per (R/sigma ratio, seed). What the theory says about
each ratio (the optimal radius, the ELBO of the collapsed solution) is computed here from
the configuration, not stored, so a change to ``lvae.theory`` reaches every record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import theory


def _check_ratio(ratio, radius, dim) -> None:
    if not (ratio > 0 and math.isfinite(ratio)):
        raise ValueError(f"ratio (R/sigma) must be positive and finite, got {ratio!r}")
    if not (radius > 0 and math.isfinite(radius)):
        raise ValueError(f"radius must be positive and finite, got {radius!r}")
    if not (isinstance(dim, int) and dim >= 2):
        raise ValueError(f"dim must be an integer >= 2, got {dim!r}")


def collapsed_elbo(ratio: float, radius: float, dim: int) -> float:
    """ELBO of the collapsed solution (every decoder mean at the centre, KL = 0), for data
    on the sphere of radius R in R^D and sigma = R / ratio: the exact log N(x; 0, sigma^2 I)
    at |x| = R,

        -R^2 / (2 sigma^2) - D log sigma - (D/2) log(2 pi)
        = -ratio^2 / 2 - D log(R / ratio) - (D/2) log(2 pi).
    """
    _check_ratio(ratio, radius, dim)
    return -0.5 * ratio**2 - dim * math.log(radius / ratio) - 0.5 * dim * math.log(2 * math.pi)


def theory_radius(ratio: float, radius: float, dim: int) -> float:
    """The radius r* of the best sphere of decoder means (Eq. (8) maximised over r), for
    data radius R and sigma = R / ratio: ``theory.optimal_radius(R, R / ratio, D)``."""
    _check_ratio(ratio, radius, dim)
    return theory.optimal_radius(radius, radius / ratio, dim)


def derived_columns(config: dict, models: list[dict]) -> dict[str, list[float]]:
    """The per-model values the theory gives for a sphere-vae record: ``elbo_collapsed``
    and ``theory_optimal_radius``, one entry per model (for tables over models)."""
    radius, dim = config["radius"], config["dim"]
    return {
        "elbo_collapsed": [collapsed_elbo(m["ratio"], radius, dim) for m in models],
        "theory_optimal_radius": [theory_radius(m["ratio"], radius, dim) for m in models],
    }


@dataclass(frozen=True)
class SphereSummary:
    """A sphere-vae record by ratio: arrays are (ratios, seeds); theory values (ratios,)."""

    ratios: list[float]
    dim: int
    median_radius: np.ndarray
    elbo: np.ndarray
    kl: np.ndarray
    collapsed: np.ndarray
    theory_r: np.ndarray

    @property
    def below(self) -> list[int]:
        """Indices of the ratios below the exact threshold sqrt(D), where the model fails."""
        return [i for i, q in enumerate(self.ratios) if q < math.sqrt(self.dim)]

    @property
    def above(self) -> list[int]:
        """Indices of the ratios above the exact threshold sqrt(D)."""
        return [i for i, q in enumerate(self.ratios) if q > math.sqrt(self.dim)]

    @property
    def between(self) -> list[float]:
        """The ratios between the theorem's sqrt(D - 1) and the exact sqrt(D): the runs that
        tell the two thresholds apart."""
        return [q for q in self.ratios if math.sqrt(self.dim - 1) < q < math.sqrt(self.dim)]


def per_ratio(record, column: str) -> np.ndarray:
    """A per-model column of a sphere-vae ``store.Record`` as (ratios, seeds[, ...]), the
    ratios in the configuration's order and the seeds in the record's."""
    return np.stack([record.models.where(ratio=q).column(column) for q in record.config["ratios"]])


def summarise(record) -> SphereSummary:
    """The record's measurements by ratio, beside what the theory says for each ratio."""
    cfg = record.config
    ratios = list(cfg["ratios"])
    return SphereSummary(
        ratios=ratios,
        dim=int(cfg["dim"]),
        median_radius=per_ratio(record, "radius_quantiles")[:, :, 1],  # quantiles .1 .5 .9
        elbo=per_ratio(record, "elbo"),
        kl=per_ratio(record, "kl"),
        collapsed=np.array([collapsed_elbo(q, cfg["radius"], cfg["dim"]) for q in ratios]),
        theory_r=np.array([theory_radius(q, cfg["radius"], cfg["dim"]) for q in ratios]),
    )


def collapse_evidence(s: SphereSummary) -> dict[str, float | None]:
    """The numbers behind "below sqrt(D) every model collapses, above it finds the sphere":

    * ``below_max_radius``: the largest median |mu(z)| of any model below the threshold;
    * ``below_max_elbo_gap``: the largest |ELBO - collapsed ELBO| below the threshold;
    * ``near``: the first ratio above the threshold (None when there is none);
    * ``above_min_radius``: the smallest median |mu(z)| above it (NaN when none).
    """
    below, above = s.below, s.above
    if not below:
        raise ValueError(f"no ratio below sqrt(D) = {math.sqrt(s.dim):.4g}: {s.ratios}")
    return {
        "below_max_radius": float(s.median_radius[below].max()),
        "below_max_elbo_gap": float(np.max(np.abs(s.elbo[below] - s.collapsed[below, None]))),
        "near": s.ratios[above[0]] if above else None,
        "above_min_radius": float(s.median_radius[above].min()) if above else float("nan"),
    }


def summary_table(record, s: SphereSummary):
    """The trained VAEs by ratio: theory r*, median |mu(z)|, ELBO, collapsed ELBO, KL."""
    from ..report import fixed, pm, provenance, table

    rows = [
        [
            f"{q:g}",
            fixed(s.theory_r[i], 3),
            pm(s.median_radius[i].mean(), s.median_radius[i].std()),
            pm(s.elbo[i].mean(), s.elbo[i].std()),
            fixed(s.collapsed[i], 3),
            pm(s.kl[i].mean(), s.kl[i].std()),
        ]
        for i, q in enumerate(s.ratios)
    ]
    return table(
        rows,
        ["R/σ", "theory r*", "median |μ(z)|", "ELBO", "ELBO if collapsed", "KL"],
        caption=f"VAEs trained on the unit circle ({provenance(record.provenance)}): mean ± std "
        "over seeds; ELBO and KL in nats per point, on fresh data.",
        name="sphere_vae",
        align_left=0,
    )


# ------------------------------------------------------------- the theory, checked
def eq9_check(r: float, R: float, sigma: float, D: int, h: float = 1e-5) -> dict[str, float]:
    """dp/dr of Eq. (8) three ways: a central difference of p with step ``h``
    (``finite_difference``), and exp(-r^2 / (2 sigma^2)) times Eq. (9)'s integral with the
    corrected exponent r R cos(phi) / sigma^2 (``corrected``) and as printed, r R cos(phi)
    (``printed``). The corrected form equals the derivative; the printed one only at
    sigma = 1."""
    if not h > 0 or not r - h >= 0:
        raise ValueError(f"need 0 < h <= r for a central difference, got h={h!r}, r={r!r}")

    def p(x: float) -> float:
        return math.exp(float(theory.log_marginal(x, R, sigma, D, method="bessel")))

    damp = math.exp(-(r**2) / (2 * sigma**2))
    return {
        "finite_difference": (p(r + h) - p(r - h)) / (2 * h),
        "corrected": damp * float(theory.eq9_integral(r, R, sigma, D, as_printed=False)),
        "printed": damp * float(theory.eq9_integral(r, R, sigma, D, as_printed=True)),
    }


# ------------------------------------------------- the trained threshold (protocol, S1)
ESCAPE_RADIUS = 0.1  # escaped collapse: the decoder means' mean norm exceeds 0.1 R


def escaped(record) -> np.ndarray:
    """(ratios, seeds) booleans: the model's decoder means, over prior draws, have a mean
    norm above ESCAPE_RADIUS x R (the protocol's criterion for having escaped collapse)."""
    return per_ratio(record, "mean_radius") > ESCAPE_RADIUS * record.config["radius"]


def crossing(ratios, fractions, level: float = 0.5) -> float | None:
    """The R/sigma at which the escaped fraction first reaches ``level`` from below, by
    linear interpolation between the two neighbouring ratios; None if it never does (or
    starts at or above it, where the grid does not bracket the crossing)."""
    r, f = np.asarray(ratios, dtype=float), np.asarray(fractions, dtype=float)
    if r.shape != f.shape or r.ndim != 1 or len(r) < 2 or np.any(np.diff(r) <= 0):
        raise ValueError(f"ratios must be increasing and match fractions, got {r} and {f}")
    if f[0] >= level:
        return None
    for i in range(1, len(r)):
        if f[i] >= level:
            return float(r[i - 1] + (level - f[i - 1]) * (r[i] - r[i - 1]) / (f[i] - f[i - 1]))
    return None


@dataclass(frozen=True)
class TrainedThreshold:
    """Where trained VAEs stop collapsing: the crossing of one half by the escaped fraction,
    its percentile bootstrap interval over seeds (None where too few resamples cross), and
    the two candidate values."""

    dim: int
    ratios: list[float]
    fractions: np.ndarray
    value: float | None
    low: float | None
    high: float | None
    paper: float  # sqrt(D - 1)
    ours: float  # sqrt(D), chapter 1's
    bracket: tuple[float, float] | None = None  # the grid ratios either side of the crossing

    @property
    def interval(self) -> tuple[float, float] | None:
        """Where the threshold lies: the bootstrap interval widened to the grid bracket
        (the grid's step bounds what any interval can resolve; with every seed agreeing
        at every ratio the bootstrap interval alone is a point). None without either."""
        if self.low is None or self.bracket is None:
            return None
        return min(self.low, self.bracket[0]), max(self.high, self.bracket[1])

    def excludes(self, ratio: float) -> bool:
        """Whether ``ratio`` lies outside ``interval``."""
        if self.interval is None:
            return False
        lo, hi = self.interval
        return not lo <= ratio <= hi


def trained_threshold(record, n: int = 2000, seed: int = 0) -> TrainedThreshold:
    """The protocol's S1 measurement on a ``sphere-vae-grid-d*`` record: seeds are resampled
    with replacement at every ratio independently (each model trained alone)."""
    ratios, dim = list(record.config["ratios"]), int(record.config["dim"])
    hits = escaped(record).astype(float)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, hits.shape[1], size=(n, *hits.shape))
    boot = np.take_along_axis(hits[None], draws, axis=2).mean(axis=2)  # (n, ratios)
    crossings = [c for c in (crossing(ratios, b) for b in boot) if c is not None]
    low = high = None
    if len(crossings) >= 0.95 * n:  # an interval only where almost every resample crosses
        low, high = (float(x) for x in np.percentile(crossings, [2.5, 97.5]))
    fractions = hits.mean(axis=1)
    value = crossing(ratios, fractions)
    bracket = None
    if value is not None:
        i = int(np.argmax(fractions >= 0.5))  # the first ratio at or above one half
        bracket = (float(ratios[i - 1]), float(ratios[i]))
    return TrainedThreshold(
        dim, ratios, fractions, value, low, high, math.sqrt(dim - 1), math.sqrt(dim), bracket
    )


def threshold_evidence(t: TrainedThreshold) -> str:
    """One line: the crossing with its interval, beside sqrt(D - 1) and sqrt(D)."""
    sig = lambda x: f"{x:.3g}"  # noqa: E731
    where = f"(√(D−1) = {sig(t.paper)}, √D = {sig(t.ours)})"
    if t.value is None:
        return f"no crossing of ½ on R/σ {sig(t.ratios[0])}–{sig(t.ratios[-1])} {where}"
    within = ""
    if t.interval is not None:
        a, b = t.interval
        within = f"; threshold in [{sig(a)}, {sig(b)}] by seed bootstrap and grid step"
    lo, hi = t.bracket
    return (
        f"the escaped fraction crosses ½ between R/σ = {sig(lo)} and {sig(hi)} "
        f"(interpolated {sig(t.value)}{within}) {where}"
    )


HOLDS_NOT_SHARP = "holds, not sharp"


def threshold_verdict(thresholds) -> str:
    """The paper's sqrt(D - 1) judged on trained grids, as the sufficient condition the
    theorem proves (below it, collapse): "contradicted" when some dimension's threshold
    interval (``TrainedThreshold.interval``) lies below sqrt(D - 1) (VAEs escape where the
    theorem says they collapse); "holds" when every interval contains it; "holds, not
    sharp" when none lies below it and some lies above (collapse goes on past it, so the
    bound is loose: chapter 1's exact threshold is sqrt(D)); "not shown" when a grid has no
    crossing or no interval."""
    thresholds = list(thresholds)
    if not thresholds:
        raise ValueError("need at least one trained threshold")
    judged = [t for t in thresholds if t.interval is not None]
    if any(t.interval[1] < t.paper for t in judged):
        return "contradicted"
    if len(judged) < len(thresholds):
        return "not shown"
    return HOLDS_NOT_SHARP if any(t.excludes(t.paper) for t in judged) else "holds"
