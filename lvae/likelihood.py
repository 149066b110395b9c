"""Likelihoods a careful reader can compare: dequantised bits per dimension, the importance-
weighted bound, and the paper's reporting convention for images.

Why dequantise. Pixels take 256 values. A density on [0, 1]^D can put unbounded mass near
those values (a learned per-pixel sigma shrinks towards 0 on pixels that never change,
such as MNIST's black background), so the ELBO of a continuous model on raw pixels has no
upper bound. The standard fix (Theis et al., 2016): add uniform noise u ~ U[0, 1)^D to the
integer pixels and rescale, x~ = (k + u) / 256. Then for any density p on [0, 1]^D,

    log P(k) >= E_u[ log p(x~) ] - D log 256,

a lower bound on the log-probability of the *discrete* image, which cannot exceed 0. In
bits per dimension, NLL = -(log p(x~) - D log 256) / (D log 2) >= 0, and 8 bits/dim is a
uniform model.
"""

from __future__ import annotations

import math

import torch

from .observation import gaussian_log_likelihood, paper_convention_elbo


def check_levels(x: torch.Tensor, levels: int) -> None:
    """Raise ValueError unless ``x`` takes values k/(levels-1) (one wait for the device)."""
    k = torch.round(x * (levels - 1))
    if not torch.allclose(k / (levels - 1), x, atol=1e-5):
        raise ValueError(f"dequantize expects {levels}-level images: values k/{levels - 1}")


def dequantize(
    x: torch.Tensor,
    generator: torch.Generator | None = None,
    levels: int = 256,
    *,
    check: bool = True,
) -> torch.Tensor:
    """Images with ``levels`` grey levels, values k/(levels-1) in [0, 1], to (k + u)/levels
    with u ~ U[0, 1): 256 levels for 8-bit images, 17 for scikit-learn's digits.
    ``check=False`` skips ``check_levels`` (for data checked once before, as the training
    sampler does, so that a step never waits for the device)."""
    if check:
        check_levels(x, levels)
    k = torch.round(x * (levels - 1))
    u = torch.rand(x.shape, generator=generator, device=x.device)
    return (k + u) / levels


def bits_per_dim(log_density: torch.Tensor, n_dims: int, levels: int = 256) -> torch.Tensor:
    """NLL in bits per dimension of ``levels``-level data, from log p(x~) (nats, per image)
    of dequantised data on [0, 1]^D: -(log p(x~) - D log levels) / (D log 2)."""
    return -(log_density - n_dims * math.log(levels)) / (n_dims * math.log(2.0))


def paper_bits_per_pixel(elbo: torch.Tensor, n_dims: int) -> torch.Tensor:
    """The paper's Table 2 number: its convention ELBO (no log 2 pi, Eq. (10)/(11) log sigma
    kept; footnote 6) on raw [0, 1] pixels, in bits per pixel, higher being better."""
    return paper_convention_elbo(elbo, n_dims) / (n_dims * math.log(2.0))


DECODE_ELEMENTS = 2**24  # pixels decoded at once, all models together (64 MB of float32)


@torch.no_grad()
def importance_weighted_bounds(
    model, x: torch.Tensor, ks, generator=None, chunk: int = 64, progress=None
) -> dict[int, torch.Tensor]:
    """The IWAE bound (Burda et al., 2016) for every k in ``ks``, from one set of samples:

        L_k(x) = log (1/k) sum_{i<=k} p(x, z_i) / q(z_i | x),   z_i ~ q(z | x).

    L_k is a lower bound on log p(x) for every k, equal to the ELBO in expectation at
    k = 1, and its expectation rises to log p(x) as k grows. Each L_k uses the first k
    of the max(ks) samples drawn, so the values show how the bound converges at the cost
    of the largest k alone. ``model`` has ``encode(x) -> (mu, logvar)`` and
    ``decode(z) -> (mean, log_sigma)`` on tensors shaped (M, B, .). Returns {k: (M, B)}
    in nats.

    The samples are drawn ``chunk`` at a time (which fixes the random stream a generator
    gives), and decoded as many at a time as keep the decoder's output under
    ``DECODE_ELEMENTS`` numbers, so the result does not depend on the memory bound.
    ``progress(n)`` is called after each decode with the number of samples decoded.
    """
    ks = sorted(set(int(k) for k in ks))
    if not ks or ks[0] < 1:
        raise ValueError(f"every k must be >= 1, got {ks}")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    mu, logvar = model.encode(x)
    std = torch.exp(0.5 * logvar)
    m, b, latent = mu.shape
    eps = torch.cat(  # drawn as before this function decoded in larger batches
        [
            torch.randn(
                (min(chunk, ks[-1] - start), m, b, latent), generator=generator, device=mu.device
            )
            for start in range(0, ks[-1], chunk)
        ]
    )
    per_decode = max(1, DECODE_ELEMENTS // (2 * m * b * x.shape[-1]))
    log_w = []
    zero = torch.zeros((), device=mu.device)
    for part in eps.split(per_decode):
        n = part.shape[0]
        z = mu + std * part  # (n, M, B, L)
        mean, log_sigma = model.decode(z.permute(1, 0, 2, 3).reshape(m, n * b, latent))
        mean = mean.reshape(m, n, b, -1).permute(1, 0, 2, 3)
        log_sigma = log_sigma.reshape(m, n, b, -1).permute(1, 0, 2, 3)
        log_lik = gaussian_log_likelihood(x, mean, log_sigma)  # log p(x | z)
        log_prior = gaussian_log_likelihood(z, zero, zero)  # log N(z; 0, I)
        log_q = gaussian_log_likelihood(z, mu, 0.5 * logvar)  # log q(z | x)
        log_w.append(log_lik + log_prior - log_q)
        if progress is not None:
            progress(n)
    log_w = torch.cat(log_w)  # (max k, M, B)
    return {k: torch.logsumexp(log_w[:k], dim=0) - math.log(k) for k in ks}


def importance_weighted_bound(
    model, x: torch.Tensor, k: int, generator=None, chunk: int = 64
) -> torch.Tensor:
    """The IWAE bound with ``k`` samples, (M, B) nats: see ``importance_weighted_bounds``."""
    return importance_weighted_bounds(model, x, (k,), generator, chunk)[k]
