"""A Gaussian VAE, stacked over M independent models (seeds or settings).

ELBO(x) = E_{q(z|x)} log p(x|z) - KL(q(z|x) || p(z)), Eq. (3), with q(z|x) Gaussian
(reparameterised sample), p(z) = N(0, I) and p(x|z) = N(decoder(z), sigma^2 I).
"""

from __future__ import annotations

import torch
from torch import nn

from .nets import StackedResMLP
from .observation import gaussian_log_likelihood, kl_to_standard_normal


class StackedVAE(nn.Module):
    def __init__(
        self,
        seeds: list[int],
        data_dim: int,
        latent_dim: int,
        hidden: int,
        n_blocks: int,
        sigma: torch.Tensor,
    ):
        super().__init__()
        if sigma.shape != (len(seeds),) or not bool(torch.all(sigma > 0)):
            raise ValueError(f"sigma must hold one positive value per model, got {sigma}")
        generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.latent_dim = latent_dim
        self.encoder = StackedResMLP(generators, data_dim, 2 * latent_dim, hidden, n_blocks)
        self.decoder = StackedResMLP(generators, latent_dim, data_dim, hidden, n_blocks)
        # Fixed sharpness (F-VAE): a buffer, one log sigma per model, broadcast over (B, D).
        self.register_buffer("log_sigma", torch.log(sigma.to(torch.float32)).view(-1, 1, 1))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def elbo_terms(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Per-example terms, each shaped (M, B): log-likelihood, KL and ELBO (nats)."""
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps
        log_lik = gaussian_log_likelihood(x, self.decode(z), self.log_sigma)
        kl = kl_to_standard_normal(mu, logvar)
        return {"log_likelihood": log_lik, "kl": kl, "elbo": log_lik - kl}
