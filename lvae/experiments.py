"""Experiments: configurations per profile, and results loaded from ``results/`` or computed.

A notebook asks for a result here. When a record with the same configuration hash exists
in the results folder it is loaded; otherwise the experiment runs (with a progress bar)
and its record is written atomically.

Profiles: ``smoke`` (seconds; proves the training path end to end in CI), ``book`` (what
the committed records were made with; minutes on a laptop CPU) and ``paper`` (larger
networks, more seeds and steps; meant for a GPU).
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import store, theory
from .data import sample_sphere
from .devices import describe, resolve_device
from .train import train_stacked
from .vae import StackedVAE

PROFILES = ("smoke", "book", "paper")


def _check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    return profile


def _normalised(config) -> dict:
    """The configuration as plain JSON types (tuples become lists), as it is stored."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


# --------------------------------------------------------------------------- sphere VAE
@dataclass(frozen=True)
class SphereVAEConfig:
    """VAEs with a fixed sigma trained on data uniform on the sphere S_{dim-1}(radius).

    One model is trained per (ratio, seed), with sigma = radius / ratio, all in one stack.
    """

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
        if not self.seeds:
            raise ValueError("seeds must not be empty")
        for name in ("steps", "dim", "latent_dim", "hidden", "batch_size", "log_every", "n_eval"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not (self.radius > 0 and self.lr > 0):
            raise ValueError(f"radius and lr must be > 0, got {self.radius}, {self.lr}")


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
    """The configuration of ``profile``, with fields replaced by ``overrides``."""
    base = SPHERE_PROFILES[_check_profile(profile)]
    unknown = set(overrides) - {f.name for f in dataclasses.fields(SphereVAEConfig)}
    if unknown:
        raise ValueError(f"unknown sphere-vae option(s): {sorted(unknown)}")
    return dataclasses.replace(base, **overrides)


def _run_sphere_vae(config: SphereVAEConfig, device: torch.device) -> dict:
    labels = [f"R/sigma={q:g}, seed={s}" for q in config.ratios for s in config.seeds]
    sigmas = torch.tensor([config.radius / q for q in config.ratios for _ in config.seeds])
    # Seeds also index the ratio, so two settings never share an initialisation by accident.
    init_seeds = [1000 * i + s for i, _ in enumerate(config.ratios) for s in config.seeds]
    model = StackedVAE(
        init_seeds, config.dim, config.latent_dim, config.hidden, config.n_blocks, sigmas
    ).to(device)
    gen = torch.Generator(device=device).manual_seed(config.data_seed)
    n_models = len(labels)

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
    )
    with torch.no_grad():
        x = sample_sphere((n_models, config.n_eval), config.dim, config.radius, gen, device=device)
        terms = model.elbo_terms(x, gen)
        z = torch.randn(n_models, config.n_eval, config.latent_dim, generator=gen, device=device)
        means = model.decode(z)
        radii = means.norm(dim=-1)
    # The collapsed solution (all decoder means at the centre) has ELBO = log N(x; 0, sigma^2).
    collapsed = [
        -0.5 * q**2
        - config.dim * math.log(config.radius / q)
        - 0.5 * config.dim * math.log(2 * math.pi)
        for q in config.ratios
        for _ in config.seeds
    ]
    return {
        "models": [
            {"ratio": q, "seed": s, "sigma": config.radius / q}
            for q in config.ratios
            for s in config.seeds
        ],
        "elbo": terms["elbo"].mean(dim=1).cpu().tolist(),
        "log_likelihood": terms["log_likelihood"].mean(dim=1).cpu().tolist(),
        "kl": terms["kl"].mean(dim=1).cpu().tolist(),
        "elbo_collapsed": collapsed,
        "mean_radius": radii.mean(dim=1).cpu().tolist(),
        "radius_quantiles": torch.quantile(
            radii, torch.tensor([0.1, 0.5, 0.9], device=device), dim=1
        )
        .T.cpu()
        .tolist(),
        "theory_optimal_radius": [
            theory.optimal_radius(config.radius, config.radius / q, config.dim)
            for q in config.ratios
            for _ in config.seeds
        ],
        "decoder_means": np.round(means[:, : config.n_keep].cpu().numpy(), 4).tolist(),
        "history": history,
    }


def sphere_vae(
    profile: str = "book",
    *,
    results_dir: Path | str | None = None,
    device: str = "auto",
    recompute: bool = False,
    **overrides,
) -> dict:
    """The sphere-VAE record for ``profile``: loaded when stored, else trained and stored."""
    config = sphere_vae_config(profile, **overrides)
    return _cached(
        "sphere-vae",
        config,
        profile,
        results_dir,
        device,
        recompute,
        lambda dev: _run_sphere_vae(config, dev),
    )


# --------------------------------------------------------------------------- registry
def _cached(name, config, profile, results_dir, device, recompute, run) -> dict:
    dev = resolve_device(device)  # bad device names fail before anything else happens
    plain = _normalised(config)
    path = store.record_path(Path(results_dir or store.default_results_dir()), name, plain)
    if path.exists() and not recompute:
        try:
            return store.load_record(path, name, plain)
        except store.InvalidRecord as exc:
            warnings.warn(f"recomputing: {exc}", stacklevel=3)
    print(
        f"[lvae] running {name} ({profile} profile) on {describe(dev)}; record: {path}",
        file=sys.stderr,
        flush=True,
    )
    start = time.perf_counter()
    result = run(dev)
    record = {
        "schema": store.SCHEMA,
        "experiment": name,
        "config_hash": store.config_hash(plain),
        "config": plain,
        "provenance": store.provenance(
            profile=profile,
            seeds=list(config.seeds),
            steps=config.steps,
            device=describe(dev),
            wall_time_s=time.perf_counter() - start,
        ),
        "result": result,
    }
    store.save_record(path, record)
    return record


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str
    run: object = field(repr=False)


EXPERIMENTS = {
    "sphere-vae": Experiment(
        "sphere-vae",
        "fixed-sigma VAEs on data on a circle, on both sides of the critical R/sigma (chapter 1)",
        sphere_vae,
    ),
}
