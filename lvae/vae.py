"""A Gaussian VAE, stacked over M independent models (seeds and settings), from its parts.

ELBO(x) = E_{q(z|x)} log p(x|z) - KL(q(z|x) || p(z)), Eq. (3), with q(z|x) Gaussian
(reparameterised sample), p(z) = N(0, I) and p(x|z) = N(mu(z), diag sigma^2):

* the networks: an encoder x -> (mu, log var) of q(z|x) and a decoder z -> (mu, raw log
  sigma), stacked over the models, from a factory (``lvae.nets.mlp_networks``,
  ``lvae.conv.conv_networks``);
* the observation model: ``lvae.observation.GaussianObservation``, which turns the raw log
  sigma into each model's sigma by its kind (fixed, learned scalar, per dimension);
* the models: one ``lvae.spec.ModelSpec`` each (observation kind, sigma, KL weight, the
  seed of its initial weights).

The decoder always outputs (mu, log sigma), so models of every kind share one stack; the
log-sigma half is simply unused by the scalar kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from .observation import GaussianObservation, kl_to_standard_normal, reparameterised_sample
from .spec import ModelSpec

# (one generator per model, latent_dim) -> (encoder, decoder), both stacked over the models
Networks = Callable[[list[torch.Generator], int], tuple[nn.Module, nn.Module]]

# State-dict names before the observation model was a module of its own (lvae <= 0.x
# checkpoints and saved models): the scalar moved, the per-model flags are no longer state.
_LEGACY_MOVED = {"scalar_log_sigma": "observation.scalar_log_sigma"}
_LEGACY_DROPPED = ("learns_scalar", "per_dimension", "kl_weight", "sigma_floor")


class StackedVAE(nn.Module):
    """M VAEs trained as one: model i is ``specs[i]``, its networks drawn from a generator
    seeded with ``specs[i].init_seed`` (the same weights alone or in any stack).

    ``networks``: a factory (generators, latent_dim) -> (encoder, decoder), e.g.
    ``lvae.nets.mlp_networks(data_dim, hidden, n_blocks)`` or
    ``lvae.conv.conv_networks(image_shape, width, n_convs, n_blocks)``.
    """

    def __init__(self, specs: Sequence[ModelSpec], networks: Networks, latent_dim: int):
        super().__init__()
        specs = tuple(specs)
        if not specs or not all(isinstance(s, ModelSpec) for s in specs):
            raise ValueError(f"specs must be a non-empty list of ModelSpec, got {specs!r}")
        if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be an integer >= 1, got {latent_dim!r}")
        if not callable(networks):
            raise ValueError(
                f"networks must be a factory (generators, latent_dim) -> (encoder, decoder), "
                f"such as lvae.nets.mlp_networks(...), got {networks!r}"
            )
        self.specs, self.latent_dim = specs, latent_dim
        # The observation module first: its scalar is then the first parameter, as it was
        # before it had a module of its own, so earlier optimiser checkpoints still resume.
        self.observation = GaussianObservation.from_specs(specs)
        generators = [torch.Generator().manual_seed(s.init_seed) for s in specs]
        self.encoder, self.decoder = networks(generators, latent_dim)
        kl_weight = torch.tensor([s.kl_weight for s in specs], dtype=torch.float32)
        self.register_buffer("kl_weight", kl_weight.view(-1, 1), persistent=False)
        self.weighted_kl = any(s.kl_weight != 1.0 for s in specs)

    @property
    def n_models(self) -> int:
        return len(self.specs)

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.specs]

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Read checkpoints and saved models written before the observation module existed.
        for old, new in _LEGACY_MOVED.items():
            if prefix + old in state_dict and prefix + new not in state_dict:
                state_dict[prefix + new] = state_dict.pop(prefix + old)
        for old in _LEGACY_DROPPED:
            state_dict.pop(prefix + old, None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log variance of q(z|x), each (M, B, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log sigma of p(x|z), each shaped like x: (M, B, D)."""
        mean, raw_log_sigma = self.decoder(z).chunk(2, dim=-1)
        return mean, self.observation(raw_log_sigma)

    @torch.no_grad()
    def reconstruct(
        self, x: torch.Tensor, generator: torch.Generator | None = None, shared_noise: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log sigma of p(x|z) for z ~ q(z|x), each (M, B, D): the reconstructions
        drawn in the paper's figures. ``shared_noise``: one latent draw per example for
        every model (common random numbers), instead of one per model and example."""
        mu, logvar = self.encode(x)
        noise_shape = mu.shape[1:] if shared_noise else None
        return self.decode(reparameterised_sample(mu, 0.5 * logvar, generator, noise_shape))

    def elbo_terms(
        self, x: torch.Tensor, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Per-example terms, each shaped (M, B), in nats.

        ``loss`` is what training minimises: -(log p(x|z) - lambda KL), with lambda the
        model's KL weight (1 for a plain VAE). ``sigma`` is the geometric mean of sigma over
        the dimensions of each example.
        """
        mu, logvar = self.encode(x)
        z = reparameterised_sample(mu, 0.5 * logvar, generator)
        mean, log_sigma = self.decode(z)
        log_lik = self.observation.log_likelihood(x, mean, log_sigma)
        kl = kl_to_standard_normal(mu, logvar)
        return {
            "log_likelihood": log_lik,
            "kl": kl,
            "elbo": log_lik - kl,
            "loss": -(log_lik - (self.kl_weight * kl if self.weighted_kl else kl)),
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
    def generate(
        self, n: int, generator: torch.Generator | None = None, shared_noise: bool = False
    ) -> dict[str, torch.Tensor]:
        """Draw z ~ p(z); return the decoder means and actual samples x ~ p(x|z), (M, n, D).
        ``shared_noise``: the same z and the same sampling noise for every model."""
        device = self.observation.scalar_log_sigma.device
        shape = (n, self.latent_dim) if shared_noise else (self.n_models, n, self.latent_dim)
        z = torch.randn(shape, generator=generator, device=device)
        mean, log_sigma = self.decode(z.expand(self.n_models, n, self.latent_dim))
        noise_shape = mean.shape[1:] if shared_noise else None
        return {
            "mean": mean,
            "sample": reparameterised_sample(mean, log_sigma, generator, noise_shape),
        }
