"""Two errata of the paper that need no training, each computed so that the book can
show the check beside the derivation (book page "The paper's claims and our verdicts").

**Eq. (12)** writes the negative log-likelihood of a Gaussian observation model as
||x - mu||^2 / (2 sigma^2) + log sigma. For x in R^D with covariance sigma^2 I the density
is a product of D one-dimensional Gaussians, so each contributes its own log sigma:

    -log N(x; mu, sigma^2 I) = ||x - mu||^2 / (2 sigma^2) + D log sigma + (D/2) log 2 pi.

Dropping the constant (the paper's convention) leaves D log sigma, not log sigma; the two
agree only for D = 1, and on the 2-D problem the printed form halves the term that makes
a small sigma costly to the likelihood.

**A ceiling on Table 2's F-VAE.** The MSE loss is the Gaussian model with sigma^2 = 1/2.
In the paper's convention (no Gaussian constant, the D log sigma term counted, footnote
6), its ELBO is

    -||x - mu||^2 / (2 sigma^2) - D log sigma - KL = -||x - mu||^2 - KL + (D/2) log 2,

and both subtracted terms are >= 0, so the ELBO is at most (D/2) log 2 nats, that is
D/2 bits: 0.5 bit per grey pixel and 1.5 bits per RGB pixel (three dimensions a pixel),
whatever the pixel scale. The paper's CelebA F-VAE entry, 5.52 bits per pixel, is above
that ceiling, so it cannot be an ELBO in the convention the caption states.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as scipy_stats

MSE_VARIANCE = 0.5  # the MSE loss's implied sigma^2
MSE_SIGMA = math.sqrt(MSE_VARIANCE)
PAPER_TABLE2_F = {"MNIST": (0.06, 1), "CelebA": (5.52, 3)}  # bits/px, channels a pixel


def gaussian_nll(x, mu, sigma: float) -> np.ndarray:
    """-log N(x; mu, sigma^2 I) of each row of x (last axis: the D coordinates), as the sum
    of D one-dimensional log-densities (scipy's), with no closed form for the sum assumed."""
    x, mu = np.asarray(x, dtype=float), np.asarray(mu, dtype=float)
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    return -scipy_stats.norm.logpdf(x, loc=mu, scale=sigma).sum(axis=-1)


def eq12(x, mu, sigma: float, *, as_printed: bool) -> np.ndarray:
    """Eq. (12) as printed (+ log sigma) or corrected (+ D log sigma), each with the
    Gaussian constant (D/2) log 2 pi added so that it can be compared with the exact NLL."""
    x, mu = np.asarray(x, dtype=float), np.asarray(mu, dtype=float)
    d = x.shape[-1]
    log_sigma_term = math.log(sigma) * (1 if as_printed else d)
    quadratic = ((x - mu) ** 2).sum(axis=-1) / (2 * sigma**2)
    return quadratic + log_sigma_term + 0.5 * d * math.log(2 * math.pi)


def mse_elbo_ceiling_bits(channels: int) -> float:
    """The largest ELBO, in bits per pixel and the paper's convention, that a VAE with the
    MSE loss (sigma^2 = 1/2) can have: (channels / 2) log2(1 / sigma^2) = channels / 2."""
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels must be a positive integer, got {channels!r}")
    return 0.5 * channels * math.log2(1 / MSE_VARIANCE)


def mse_elbo_bits(x, mu, kl_nats, channels: int) -> float:
    """The paper-convention ELBO of an MSE-trained VAE in bits per pixel, computed term by
    term: -||x - mu||^2 / (2 sigma^2) - D log sigma - KL, over D = pixels x channels."""
    x, mu = np.asarray(x, dtype=float), np.asarray(mu, dtype=float)
    d = x.size
    nats = -((x - mu) ** 2).sum() / (2 * MSE_SIGMA**2) - d * math.log(MSE_SIGMA) - kl_nats
    return nats / math.log(2) / (d / channels)
