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
