"""Chapter 1: fixed-sigma VAEs trained on data uniform on a sphere (a circle by default)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .data import sample_sphere
from .nets import mlp_networks
from .spec import ModelSpec, grid, record_rows
from .train import train_stacked
from .vae import StackedVAE

# ``config`` is the SphereVAEConfig declared, torch-free, in lvae.experiments.sphere_vae;
# that module imports this one when it runs, so this one imports nothing from it.


SPHERE_ROW = ("ratio", "seed", "sigma")  # a model's row in the record


def sphere_specs(config) -> list[ModelSpec]:
    """One setting per ratio, sigma = R / ratio, with every seed. Init seeds also index the
    ratio (``lvae.spec.init_seed``), so two settings never share an initialisation."""
    settings = [
        ModelSpec(f"R/sigma={q:g}", "fixed", config.radius / q, tags=(("ratio", q),))
        for q in config.ratios
    ]
    return grid(settings, config.seeds)


def _run(config, device: torch.device, checkpoints: Path) -> dict:
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
    quantiles = torch.tensor([0.1, 0.5, 0.9], device=device)
    return {
        "models": record_rows(specs, SPHERE_ROW),
        "elbo": terms["elbo"].mean(dim=1).cpu().tolist(),
        "log_likelihood": terms["log_likelihood"].mean(dim=1).cpu().tolist(),
        "kl": terms["kl"].mean(dim=1).cpu().tolist(),
        "mean_radius": radii.mean(dim=1).cpu().tolist(),
        "radius_quantiles": torch.quantile(radii, quantiles, dim=1).T.cpu().tolist(),
        "decoder_means": np.round(means[:, : config.n_keep].cpu().numpy(), 4).tolist(),
        "history": history,
    }
