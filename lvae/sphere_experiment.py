"""Chapter 1: fixed-sigma VAEs trained on data uniform on a sphere (a circle by default)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import theory
from .data import sample_sphere
from .experiments import check_training_fields, entry_point, profile_config
from .nets import mlp_networks
from .spec import ModelSpec, grid, record_rows
from .train import train_stacked
from .vae import StackedVAE


@dataclass(frozen=True)
class SphereVAEConfig:
    """One model per (ratio, seed), with sigma = radius / ratio, all trained in one stack."""

    ratios: tuple[float, ...] = (0.7, 1.2, 1.6, 2.5, 4.0)  # R / sigma
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: int = 4000
    dim: int = 2
    radius: float = 1.0
    latent_dim: int = 2
    hidden: int = 64
    n_blocks: int = 2
    batch_size: int = 256
    lr: float = 1e-3
    log_every: int = 100
    n_eval: int = 4096  # fresh points and prior draws used for the final metrics
    n_keep: int = 300  # decoder means kept in the record for figures
    data_seed: int = 12345

    def __post_init__(self):
        if not self.ratios or any(not (r > 0 and math.isfinite(r)) for r in self.ratios):
            raise ValueError(f"ratios (R/sigma) must be positive and finite, got {self.ratios}")
        check_training_fields(self, extra=("hidden", "dim", "n_eval"))
        if not self.radius > 0:
            raise ValueError(f"radius must be > 0, got {self.radius}")


SPHERE_PROFILES = {
    "smoke": SphereVAEConfig(
        ratios=(0.7, 4.0),
        seeds=(0,),
        steps=60,
        hidden=16,
        n_blocks=1,
        log_every=20,
        n_eval=256,
        n_keep=50,
    ),
    "book": SphereVAEConfig(),
    "paper": SphereVAEConfig(seeds=tuple(range(10)), steps=20000, hidden=200, n_blocks=4),
}


def sphere_vae_config(profile: str = "book", **overrides) -> SphereVAEConfig:
    return profile_config(SPHERE_PROFILES, profile, "sphere-vae", **overrides)


SPHERE_ROW = ("ratio", "seed", "sigma")  # a model's row in the record


def sphere_specs(config: SphereVAEConfig) -> list[ModelSpec]:
    """One setting per ratio, sigma = R / ratio, with every seed. Init seeds also index the
    ratio (``lvae.spec.init_seed``), so two settings never share an initialisation."""
    settings = [
        ModelSpec(f"R/sigma={q:g}", "fixed", config.radius / q, tags=(("ratio", q),))
        for q in config.ratios
    ]
    return grid(settings, config.seeds)


def _run(config: SphereVAEConfig, device: torch.device, checkpoints: Path) -> dict:
    specs = sphere_specs(config)
    networks = mlp_networks(config.dim, config.hidden, config.n_blocks)
    model = StackedVAE(specs, networks, config.latent_dim).to(device)
    gen = torch.Generator(device=device).manual_seed(config.data_seed)
    n_models = model.n_models

    def batch():
        return sample_sphere(
            (n_models, config.batch_size), config.dim, config.radius, gen, device=device
        )

    history = train_stacked(
        model,
        batch,
        steps=config.steps,
        lr=config.lr,
        log_every=config.log_every,
        generator=gen,
        desc="sphere-vae",
        checkpoint=checkpoints / "train.pt",
        checkpoint_tag=checkpoints.name,
    )
    with torch.no_grad():
        x = sample_sphere((n_models, config.n_eval), config.dim, config.radius, gen, device=device)
        terms = model.elbo_terms(x, gen)
        means = model.generate(config.n_eval, gen)["mean"]
        radii = means.norm(dim=-1)
    # The collapsed solution (all decoder means at the centre) has ELBO = log N(x; 0, sigma^2).
    dim = config.dim
    collapsed = [
        -0.5 * q**2 - dim * math.log(config.radius / q) - 0.5 * dim * math.log(2 * math.pi)
        for q in (s.get("ratio") for s in specs)
    ]
    quantiles = torch.tensor([0.1, 0.5, 0.9], device=device)
    return {
        "models": record_rows(specs, SPHERE_ROW),
        "elbo": terms["elbo"].mean(dim=1).cpu().tolist(),
        "log_likelihood": terms["log_likelihood"].mean(dim=1).cpu().tolist(),
        "kl": terms["kl"].mean(dim=1).cpu().tolist(),
        "elbo_collapsed": collapsed,
        "mean_radius": radii.mean(dim=1).cpu().tolist(),
        "radius_quantiles": torch.quantile(radii, quantiles, dim=1).T.cpu().tolist(),
        "theory_optimal_radius": [
            theory.optimal_radius(config.radius, s.sigma, dim) for s in specs
        ],
        "decoder_means": np.round(means[:, : config.n_keep].cpu().numpy(), 4).tolist(),
        "history": history,
    }


sphere_vae = entry_point("sphere-vae", sphere_vae_config, _run)
