"""A Gaussian VAE, stacked over M independent models (seeds and settings).

ELBO(x) = E_{q(z|x)} log p(x|z) - KL(q(z|x) || p(z)), Eq. (3), with q(z|x) Gaussian
(reparameterised sample), p(z) = N(0, I) and p(x|z) = N(mu(z), diag sigma^2), where the
sharpness sigma depends on each model's observation kind:

* ``"fixed"``  (F-VAE): a constant sigma; a schedule (sigma following a given trajectory)
  is a fixed sigma whose value the trainer sets before every step;
* ``"scalar"`` (LS-VAE): one learned scalar, Eq. (10);
* ``"vector"`` (LV-VAE): sigma_i(z) output by the decoder beside mu_i(z), Eq. (11).

The decoder always outputs (mu, log sigma), so models of every kind share one stack; the
log-sigma half is simply unused by the scalar kinds.
"""

from __future__ import annotations

import torch
from torch import nn

from .nets import StackedResMLP
from .observation import gaussian_log_likelihood, kl_to_standard_normal

OBSERVATIONS = ("fixed", "scalar", "vector")
LOG_SIGMA_MIN, LOG_SIGMA_MAX = -10.0, 10.0  # limits of a per-dimension log sigma (decode)


class StackedVAE(nn.Module):
    def __init__(
        self,
        seeds: list[int],
        data_dim: int,
        latent_dim: int,
        hidden: int,
        n_blocks: int,
        sigma: torch.Tensor,
        observation: list[str] | None = None,
        kl_weight: torch.Tensor | None = None,
        networks=None,
        sigma_floor: torch.Tensor | None = None,
    ):
        """``networks(generators, latent_dim) -> (encoder, decoder)`` replaces the default
        residual MLPs (``hidden``, ``n_blocks``), e.g. ``lvae.conv.conv_networks``.
        ``sigma_floor`` (one value per model, 0 = off) bounds a per-dimension sigma from
        below: sigma = floor + exp(raw)."""
        super().__init__()
        n = len(seeds)
        observation = list(observation or ["fixed"] * n)
        if sigma.shape != (n,) or not bool(torch.all(sigma > 0)):
            raise ValueError(f"sigma must hold one positive value per model, got {sigma}")
        if len(observation) != n or any(k not in OBSERVATIONS for k in observation):
            raise ValueError(f"observation must give one of {OBSERVATIONS} per model")
        kl_weight = torch.ones(n) if kl_weight is None else kl_weight.to(torch.float32)
        if kl_weight.shape != (n,) or not bool(torch.all(kl_weight > 0)):
            raise ValueError(f"kl_weight must hold one positive value per model, got {kl_weight}")
        sigma_floor = torch.zeros(n) if sigma_floor is None else sigma_floor.to(torch.float32)
        if sigma_floor.shape != (n,) or not bool(torch.all(sigma_floor >= 0)):
            raise ValueError(f"sigma_floor must hold one value >= 0 per model, got {sigma_floor}")
        generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.data_dim, self.latent_dim = data_dim, latent_dim
        self.observation = observation
        if networks is None:
            self.encoder = StackedResMLP(generators, data_dim, 2 * latent_dim, hidden, n_blocks)
            self.decoder = StackedResMLP(generators, latent_dim, 2 * data_dim, hidden, n_blocks)
        else:
            self.encoder, self.decoder = networks(generators, latent_dim)
        # One scalar log sigma per model: learned for "scalar", constant (or scheduled) for
        # "fixed", unused for "vector".
        self.scalar_log_sigma = nn.Parameter(torch.log(sigma.to(torch.float32)))
        self.register_buffer("learns_scalar", torch.tensor([k == "scalar" for k in observation]))
        self.register_buffer("per_dimension", torch.tensor([k == "vector" for k in observation]))
        self.register_buffer("kl_weight", kl_weight)
        self.register_buffer("sigma_floor", sigma_floor)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log sigma of p(x|z), each shaped like x: (M, B, D)."""
        mean, raw_log_sigma = self.decoder(z).chunk(2, dim=-1)
        # Numerical guards, not model choices. On pixels that never change, an LV-VAE
        # drives sigma towards 0 until (x - mu)^2 / sigma^2 overflows float32 (seen on the
        # digits after ~600 steps); exp(-10) is 1/90 of an 8-bit grey level. In the other
        # direction, a decoder once output log sigma ~ 90 for a stray z (2-D problem, step
        # 32,251), where exp overflows; exp(10) is far above any data scale here.
        raw_log_sigma = raw_log_sigma.clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        # Gradients reach the scalar only where it is learned.
        scalar = torch.where(
            self.learns_scalar, self.scalar_log_sigma, self.scalar_log_sigma.detach()
        ).view(-1, 1, 1)
        floor = self.sigma_floor.view(-1, 1, 1)
        if bool((floor > 0).any()):  # sigma = floor + exp(raw), where a floor is set
            floored = torch.logaddexp(raw_log_sigma, torch.log(floor.clamp_min(1e-30)))
            raw_log_sigma = torch.where(floor > 0, floored, raw_log_sigma)
        log_sigma = torch.where(self.per_dimension.view(-1, 1, 1), raw_log_sigma, scalar)
        return mean, log_sigma

    def elbo_terms(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Per-example terms, each shaped (M, B), in nats.

        ``loss`` is what training minimises: -(log p(x|z) - lambda KL), with lambda the
        model's KL weight (1 for a plain VAE). ``sigma`` is the geometric mean of sigma over
        the dimensions of each example.
        """
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps
        mean, log_sigma = self.decode(z)
        log_lik = gaussian_log_likelihood(x, mean, log_sigma)
        kl = kl_to_standard_normal(mu, logvar)
        return {
            "log_likelihood": log_lik,
            "kl": kl,
            "elbo": log_lik - kl,
            "loss": -(log_lik - self.kl_weight.view(-1, 1) * kl),
            "sigma": torch.exp(log_sigma.mean(dim=-1)).expand_as(kl),
        }

    @torch.no_grad()
    def mean_terms(self, batches, generator=None) -> dict[str, torch.Tensor]:
        """Mean ELBO, log-likelihood and KL of every model over ``batches`` (an iterable of
        (M, n, D) tensors, evaluated in chunks), and sigma's geometric mean; each (M,)."""
        sums, count = {}, 0
        for x in batches:
            terms = self.elbo_terms(x, generator)
            terms["log_sigma"] = torch.log(terms.pop("sigma"))
            del terms["loss"]
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value.sum(dim=1)
            count += x.shape[1]
        out = {key: value / count for key, value in sums.items()}
        out["sigma"] = torch.exp(out.pop("log_sigma"))
        return out

    @torch.no_grad()
    def generate(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Draw z ~ p(z); return the decoder means and actual samples x ~ p(x|z), (M, n, D)."""
        m = self.scalar_log_sigma.shape[0]
        z = torch.randn(
            m, n, self.latent_dim, generator=generator, device=self.scalar_log_sigma.device
        )
        mean, log_sigma = self.decode(z)
        noise = torch.randn(mean.shape, generator=generator, device=mean.device)
        return {"mean": mean, "sample": mean + torch.exp(log_sigma) * noise}

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The mean of p(x|z) for z ~ q(z|x): the reconstructions drawn in the paper's figures."""
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(
            mu.shape, generator=generator, device=mu.device
        )
        return self.decode(z)[0]
