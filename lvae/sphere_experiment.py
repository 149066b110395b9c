"""Chapter 1: fixed-sigma VAEs trained on data uniform on a sphere (a circle by default)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .data import sample_sphere
from .train import train_stacked
from .vae import StackedVAE

# ``config`` is the SphereVAEConfig declared, torch-free, in lvae.experiments.sphere_vae;
# that module imports this one when it runs, so this one imports nothing from it.


def _run(config, device: torch.device, checkpoints: Path) -> dict:
    pairs = [(q, s) for q in config.ratios for s in config.seeds]
    labels = [f"R/sigma={q:g}, seed={s}" for q, s in pairs]
    sigmas = torch.tensor([config.radius / q for q, _ in pairs])
    # Init seeds also index the ratio, so two settings never share an initialisation.
    init_seeds = [1000 * config.ratios.index(q) + s for q, s in pairs]
    model = StackedVAE(
        init_seeds, config.dim, config.latent_dim, config.hidden, config.n_blocks, sigmas
    ).to(device)
    gen = torch.Generator(device=device).manual_seed(config.data_seed)
    n_models = len(pairs)

    def batch():
        return sample_sphere(
            (n_models, config.batch_size), config.dim, config.radius, gen, device=device
        )

    history = train_stacked(
        model,
        batch,
        steps=config.steps,
        lr=config.lr,
        labels=labels,
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
        "models": [{"ratio": q, "seed": s, "sigma": config.radius / q} for q, s in pairs],
        "elbo": terms["elbo"].mean(dim=1).cpu().tolist(),
        "log_likelihood": terms["log_likelihood"].mean(dim=1).cpu().tolist(),
        "kl": terms["kl"].mean(dim=1).cpu().tolist(),
        "mean_radius": radii.mean(dim=1).cpu().tolist(),
        "radius_quantiles": torch.quantile(radii, quantiles, dim=1).T.cpu().tolist(),
        "decoder_means": np.round(means[:, : config.n_keep].cpu().numpy(), 4).tolist(),
        "history": history,
    }
