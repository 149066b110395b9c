"""Calibrating the scale of the 2-D toy data against the paper's Table 1.

The paper draws its curve (Fig. 3) without equations, so our curve (``lvae.data``) has
its own scale. One number of Table 1 pins the paper's scale down: an F-VAE with sigma = 1
scores -1.14 in the paper's convention. A collapsed VAE (every decoder mean at the data
mean m, posterior equal to the prior, KL = 0) scores, in that convention,

    ELBO_paper(sigma) = -E||x - m||^2 / (2 sigma^2) - D log sigma = -tr(Cov x) / (2 sigma^2)
                        - D log sigma,

since the paper's convention is the exact ELBO without -(D/2) log(2 pi)
(``observation.paper_convention_elbo``). Scaling every point by s multiplies tr(Cov x)
by s^2, so the scale at which a collapsed F-VAE at sigma = 1 scores the paper's value is

    s = sqrt(-2 ELBO_paper / tr(Cov x)).

For our curve, tr(Cov x) is exact (the position is uniform on [-1, 1]):

    Var(x)   = 1/3,
    Var(y)   = 0.5^2 / 2 + 0.15^2 / 2   (the cosine and sine terms are orthogonal on [-1, 1]
                                         and both have mean zero there),
    noise    = 2 * mean over the three thirds of std^2   (isotropic, two coordinates).

A trained F-VAE can only score at or above the collapsed value, so this scale is where the
paper's F(sigma = 1) row is reproduced if F(1) collapses on the scaled data; a run checks it.
"""

from __future__ import annotations

import math
from itertools import pairwise

from .data import TOY2D_NOISE

PAPER_F1_ELBO = -1.14  # Berger & Sebag (2020), Table 1: F-VAE at sigma = 1 (+- 0.02)
DATA_DIM = 2


def toy2d_total_variance(scale: float = 1.0) -> float:
    """tr(Cov x) of the toy distribution with every point multiplied by ``scale``."""
    curve = 1.0 / 3.0 + 0.5**2 / 2.0 + 0.15**2 / 2.0
    noise = DATA_DIM * sum(s**2 for s in TOY2D_NOISE) / len(TOY2D_NOISE)
    return scale**2 * (curve + noise)


def collapsed_paper_elbo(sigma: float, scale: float = 1.0) -> float:
    """ELBO (paper convention) of a collapsed F-VAE at ``sigma`` on data scaled by ``scale``."""
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    return -toy2d_total_variance(scale) / (2.0 * sigma**2) - DATA_DIM * math.log(sigma)


def scale_for_collapsed_elbo(target: float = PAPER_F1_ELBO, sigma: float = 1.0) -> float:
    """The data scale s at which a collapsed F-VAE at ``sigma`` scores ``target``."""
    spread = -2.0 * sigma**2 * (target + DATA_DIM * math.log(sigma))
    if not spread > 0:
        raise ValueError(
            f"target {target} is not reachable by a collapsed F-VAE at sigma = {sigma}: "
            f"it must be below {-DATA_DIM * math.log(sigma):.4g}"
        )
    return math.sqrt(spread / toy2d_total_variance())


def scale_from_trained(scales, mean_elbos, target: float = PAPER_F1_ELBO) -> float:
    """The data scale at which trained F-VAEs score ``target`` (paper convention), by
    linear interpolation of their mean ELBO between the two measured scales that bracket
    it (``table1-calibration``). The ELBO falls as the scale grows (more spread to pay
    for at a fixed sigma), so the bracket is the first pair with the target between them.
    Raises ValueError when no pair of neighbouring scales brackets the target."""
    scales, elbos = [float(s) for s in scales], [float(e) for e in mean_elbos]
    if len(scales) != len(elbos) or len(scales) < 2:
        raise ValueError(
            f"need at least 2 scales with one mean ELBO each, got {len(scales)} scales and "
            f"{len(elbos)} ELBOs"
        )
    if any(b <= a for a, b in pairwise(scales)):
        raise ValueError(f"scales must be increasing, got {scales}")
    for (s0, e0), (s1, e1) in pairwise(zip(scales, elbos, strict=True)):
        if min(e0, e1) <= target <= max(e0, e1) and e0 != e1:
            return s0 + (target - e0) * (s1 - s0) / (e1 - e0)
    raise ValueError(
        f"no two neighbouring scales bracket the target {target}: mean ELBOs {elbos} at "
        f"scales {scales}; measure a wider range"
    )
