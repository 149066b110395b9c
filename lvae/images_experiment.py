"""Image experiments (the paper's Section 4.3 and Appendix B): ``images-<dataset>``.

Every seed trains five observation models in one stack, on the same convolutional
networks: F-VAE with the MSE loss (sigma = 1/sqrt(2)), LS-VAE, LV-VAE, LV-VAE with a sigma
floor of one grey level of the dataset (1/256 for 8-bit images, 1/17 for the digits), and
LV-VAE trained on dequantised pixels (uniform noise in each grey level, fresh every step;
the others train on the raw pixels, as in the paper). Each is evaluated on held-out images:

* the ELBO on raw pixels, and the paper's Table-2 number (bits per pixel, its convention);
* the NLL in bits per dimension on uniformly dequantised 8-bit data, from the ELBO and from
  the importance-weighted bound with ``iw_k`` samples (see ``lvae.likelihood``). The bound
  is costly, so it is computed on the first ``n_iw`` held-out images, where the ELBO is
  recorded too (a paired comparison), and at k = 1, 10, 100, ... up to ``iw_k`` from the
  same samples (how far the bound has converged).

Images are read by ``lvae.images.load_images`` from ``$LVAE_DATA_DIR`` (the CLI's
``--data-dir``). The MNIST profiles here train on the official test set minus its last
1,000 images and evaluate on those, because only that set is available offline; the
``paper`` profile uses the official training and test sets.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from .conv import conv_networks
from .experiments import check_training_fields, entry_point, profile_config
from .images import DATASETS, QUANTIZATION_LEVELS, load_images, require_dataset
from .likelihood import (
    bits_per_dim,
    dequantize,
    importance_weighted_bounds,
    paper_bits_per_pixel,
)
from .train import train_stacked
from .vae import StackedVAE

# name: (observation kind, initial or fixed sigma, sigma floor in grey levels of the
# dataset, trained on dequantised pixels)
SETTINGS = {
    "F": ("fixed", 2**-0.5, 0.0, False),  # the MSE loss: a Gaussian with sigma^2 = 1/2
    "LS": ("scalar", 1.0, 0.0, False),
    "LV": ("vector", 1.0, 0.0, False),
    "LV-floor": ("vector", 1.0, 1.0, False),  # sigma >= one grey level
    "LV-deq": ("vector", 1.0, 0.0, True),  # fits the density the bits/dim measure scores
}


@dataclass(frozen=True)
class ImagesConfig:
    # Fields that change only the evaluation after training (see experiments.training_key).
    EVALUATION_ONLY: ClassVar[tuple[str, ...]] = ("iw_k", "n_iw", "n_show")

    dataset: str = "digits"
    split: str = "train"  # what is loaded for training
    limit: int | None = None  # load only the first images of the split (CelebA is large)
    n_holdout: int = 0  # > 0: evaluate on the last n_holdout training images instead
    eval_split: str = "test"
    settings: tuple[str, ...] = tuple(SETTINGS)
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: int = 3000
    latent_dim: int = 16
    width: int = 16
    n_convs: int = 3
    n_blocks: int = 2
    batch_size: int = 100
    lr: float = 1e-3
    log_every: int = 100
    iw_k: int = 1000
    n_iw: int = 200  # held-out images for the importance-weighted bound
    n_show: int = 8  # images kept per figure panel
    data_seed: int = 0

    def __post_init__(self):
        check_training_fields(self, extra=("width", "n_convs", "iw_k", "n_iw", "n_show"))
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        unknown = set(self.settings) - set(SETTINGS)
        if not self.settings or unknown:
            raise ValueError(f"settings must be among {tuple(SETTINGS)}, got {self.settings}")
        if self.n_holdout < 0 or self.n_blocks < 0:
            raise ValueError("n_holdout and n_blocks must be >= 0")


def _profiles(dataset: str, book: dict, paper: dict, smoke: dict | None = None) -> dict:
    base = {"dataset": dataset, **book}
    small = {
        "seeds": (0,),
        "steps": 30,
        "width": 8,
        "n_blocks": 1,
        "log_every": 10,
        "iw_k": 5,
        "n_iw": 20,
        "n_show": 4,
        **(smoke or {}),
    }
    return {
        "smoke": ImagesConfig(**{**base, **small}),
        "book": ImagesConfig(**base),
        "paper": ImagesConfig(**{**base, **paper}),
    }


IMAGE_PROFILES = {
    "digits": _profiles(
        "digits",
        {},
        {"seeds": tuple(range(10)), "steps": 20000, "width": 32, "n_blocks": 4, "latent_dim": 32},
    ),
    "mnist": _profiles(
        "mnist",
        # width 8 and one residual block: 15 models in about 50 min on one CPU core.
        {
            "split": "test",
            "n_holdout": 1000,
            "latent_dim": 32,
            "width": 8,
            "n_blocks": 1,
            "steps": 2000,
        },
        {
            "split": "train",
            "n_holdout": 0,
            "latent_dim": 256,
            "width": 64,
            "n_blocks": 4,
            "steps": 100000,
            "iw_k": 1000,
            "n_iw": 1000,
        },
    ),
    "olivetti": _profiles(
        "olivetti",
        # 64x64 pixels cost 5x MNIST per image: 2 seeds, 1,000 batches of 40 (of 360 faces).
        {
            "n_convs": 4,
            "latent_dim": 32,
            "width": 8,
            "n_blocks": 1,
            "seeds": (0, 1),
            "batch_size": 40,
            "steps": 1000,
        },
        {
            "width": 64,
            "n_blocks": 5,
            "latent_dim": 256,
            "steps": 50000,
            "seeds": (0, 1, 2),
            "batch_size": 100,
        },
    ),
    "celeba": _profiles(
        "celeba",
        {
            "n_convs": 4,
            "latent_dim": 128,
            "width": 32,
            "steps": 20000,
            "split": "train",
            "eval_split": "test",
        },
        {"width": 64, "n_blocks": 5, "latent_dim": 2048, "steps": 100000},
        smoke={"split": "all", "n_holdout": 4, "limit": 16},
    ),
}


def images_config(dataset: str, profile: str = "book", **overrides) -> ImagesConfig:
    if dataset not in IMAGE_PROFILES:
        raise ValueError(f"dataset must be one of {tuple(IMAGE_PROFILES)}, got {dataset!r}")
    return profile_config(IMAGE_PROFILES[dataset], profile, f"images-{dataset}", **overrides)


def _pack(images: torch.Tensor) -> dict:
    """Images in [0, 1] as base64 uint8, for small records: {"shape", "uint8_base64"}."""
    array = (images.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    return {"shape": list(array.shape), "uint8_base64": base64.b64encode(array.tobytes()).decode()}


LOG_SIGMA_RANGE = (-10.0, 0.0)  # sigma maps are stored as log sigma in this range


def images_from_log_sigma(log_sigma: torch.Tensor) -> torch.Tensor:
    """log sigma mapped linearly from ``LOG_SIGMA_RANGE`` to [0, 1] (then clipped)."""
    low, high = LOG_SIGMA_RANGE
    return ((log_sigma - low) / (high - low)).clamp(0, 1)


def log_sigma_from_images(values: np.ndarray) -> np.ndarray:
    """The inverse of ``images_from_log_sigma`` (to the 8-bit resolution of the record)."""
    low, high = LOG_SIGMA_RANGE
    return low + values * (high - low)


def unpack(packed: dict) -> np.ndarray:
    """The inverse of the packing above: a float array in [0, 1]."""
    raw = np.frombuffer(base64.b64decode(packed["uint8_base64"]), dtype=np.uint8)
    return raw.reshape(packed["shape"]).astype(np.float32) / 255.0


def _datasets(config: ImagesConfig):
    train = load_images(config.dataset, split=config.split, limit=config.limit)
    if config.n_holdout:
        if config.n_holdout >= len(train):
            raise ValueError(f"n_holdout {config.n_holdout} leaves no training images")
        return train[: -config.n_holdout], train[-config.n_holdout :]
    return train, load_images(config.dataset, split=config.eval_split, limit=config.limit)


def check_data(config: ImagesConfig) -> None:
    """Before training: the dataset's files are there and intact (or downloaded), so a
    missing one is reported, with the command that fetches it, before the run starts, not
    after its first message; then the images load with the configured split sizes."""
    splits = (config.split,) if config.n_holdout else (config.split, config.eval_split)
    require_dataset(config.dataset, splits=splits)
    if config.dataset != "celeba":  # CelebA's loader decodes every image: read when run
        _datasets(config)


def batch_sampler(x_train, dequantised: torch.Tensor, batch_size: int, levels: int, gen):
    """A function drawing one training batch per model, (M, batch_size, D): images drawn
    with replacement, dequantised afresh (uniform noise in each grey level) for the models
    flagged in ``dequantised`` (M,), raw for the others."""

    def batch():
        idx = torch.randint(
            len(x_train), (len(dequantised), batch_size), generator=gen, device=x_train.device
        )
        x = x_train[idx]
        if bool(dequantised.any()):
            x = torch.where(dequantised.view(-1, 1, 1), dequantize(x, gen, levels), x)
        return x

    return batch


def _chunks(model, x, chunk: int = 100):
    """``x`` (N, D) in chunks, repeated for every model: (M, n, D)."""
    n_models = model.scalar_log_sigma.shape[0]
    for start in range(0, x.shape[0], chunk):
        yield x[start : start + chunk].expand(n_models, -1, -1)


def iw_ks(iw_k: int) -> list[int]:
    """The sample counts at which the IW bound is recorded: 1, 10, 100, ... and iw_k."""
    return sorted({10**i for i in range(len(str(iw_k)))} | {iw_k})  # powers below iw_k


@torch.no_grad()
def _iw_means(model, x, ks, gen, chunk: int = 20) -> dict[int, torch.Tensor]:
    """The mean IW bound over the images ``x`` (n, D) for every k in ``ks``: {k: (M,)}.

    Images go ``chunk`` at a time and samples are drawn 25 at a time (the random stream of
    the committed records); the decoder takes as many as ``likelihood.DECODE_ELEMENTS``
    allows. A progress bar counts the decoded (image, sample) pairs of every model."""
    from tqdm import tqdm

    n_models = model.scalar_log_sigma.shape[0]
    sums = {k: torch.zeros(n_models, device=x.device) for k in ks}
    pairs = x.shape[0] * max(ks)
    with tqdm(total=pairs, desc="importance-weighted bound", unit="sample", leave=False) as bar:
        for s in range(0, x.shape[0], chunk):
            part = x[s : s + chunk].expand(n_models, -1, -1)
            bounds = importance_weighted_bounds(
                model,
                part,
                ks,
                gen,
                chunk=25,
                progress=lambda n, b=part.shape[1]: bar.update(n * b),
            )
            for k, bound in bounds.items():
                sums[k] += bound.sum(dim=1)
    return {k: total / x.shape[0] for k, total in sums.items()}


def _run_images(config: ImagesConfig, device: torch.device, checkpoints: Path) -> dict:
    train, held_out = _datasets(config)  # missing or bad files fail here, before training
    shape = tuple(train.shape[1:])
    dim = math.prod(shape)
    specs = [(name, seed) for name in config.settings for seed in config.seeds]
    kinds = [SETTINGS[name][0] for name, _ in specs]
    levels = QUANTIZATION_LEVELS[config.dataset]
    model = StackedVAE(
        [1000 * list(SETTINGS).index(name) + seed for name, seed in specs],
        dim,
        config.latent_dim,
        0,
        0,
        torch.tensor([SETTINGS[name][1] for name, _ in specs]),
        kinds,
        networks=conv_networks(shape, config.width, config.n_convs, config.n_blocks),
        sigma_floor=torch.tensor([SETTINGS[name][2] / levels for name, _ in specs]),
    ).to(device)
    x_train = train.flatten(1).to(device)
    gen = torch.Generator(device=device).manual_seed(config.data_seed)

    dequantised = torch.tensor([SETTINGS[name][3] for name, _ in specs], device=device)
    batch = batch_sampler(x_train, dequantised, config.batch_size, levels, gen)

    history = train_stacked(
        model,
        batch,
        steps=config.steps,
        lr=config.lr,
        labels=[f"{name}, seed={seed}" for name, seed in specs],
        log_every=config.log_every,
        generator=gen,
        desc=f"images-{config.dataset}",
        checkpoint=checkpoints / "train.pt",
        checkpoint_tag=checkpoints.name,
    )
    x_eval = held_out.flatten(1).to(device)
    raw = model.mean_terms(_chunks(model, x_eval), gen)
    x_deq = dequantize(x_eval, gen, levels)
    deq = model.mean_terms(_chunks(model, x_deq), gen)
    x_iw = x_deq[: config.n_iw]  # the IW subset, where the ELBO is recorded as well
    deq_iw = model.mean_terms(_chunks(model, x_iw), gen)
    iw = _iw_means(model, x_iw, iw_ks(config.iw_k), gen)

    first = [j for j, (_, seed) in enumerate(specs) if seed == config.seeds[0]]
    show = x_eval[: config.n_show]
    with torch.no_grad():
        mu, logvar = model.encode(show.expand(len(specs), -1, -1))
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=gen, device=device)
        recon, log_sigma = model.decode(z)
        generated = model.generate(config.n_show, gen)

    def images(t):
        return _pack(t[first].reshape(len(first), config.n_show, *shape))

    return {
        "models": [{"setting": name, "seed": seed} for name, seed in specs],
        "image_shape": list(shape),
        "n_train": len(train),
        "n_eval": len(held_out),
        "elbo_raw": raw["elbo"].cpu().tolist(),
        "paper_bits_per_pixel": paper_bits_per_pixel(raw["elbo"], dim).cpu().tolist(),
        "sigma_geomean": raw["sigma"].cpu().tolist(),
        "kl": raw["kl"].cpu().tolist(),
        "levels": levels,
        "bits_per_dim_elbo": bits_per_dim(deq["elbo"], dim, levels).cpu().tolist(),
        "n_iw_used": len(x_iw),
        "bits_per_dim_elbo_iw_subset": bits_per_dim(deq_iw["elbo"], dim, levels).cpu().tolist(),
        "bits_per_dim_iw": bits_per_dim(iw[config.iw_k], dim, levels).cpu().tolist(),
        # {k: per-model bits/dim}, keys as strings (JSON)
        "bits_per_dim_iw_by_k": {
            str(k): bits_per_dim(v, dim, levels).cpu().tolist() for k, v in iw.items()
        },
        "history": {
            "step": history["step"],
            **{k: history[k] for k in ("log_likelihood", "kl", "elbo", "sigma")},
        },
        "figures": {
            "settings": [specs[j][0] for j in first],
            "originals": _pack(show.reshape(config.n_show, *shape)),
            "recon": images(recon),
            "gen_mean": images(generated["mean"]),
            "gen_sample": images(generated["sample"]),
            # log sigma of the reconstructions, on a fixed scale: [-10, 0] -> [0, 1].
            "log_sigma_map": _pack(
                images_from_log_sigma(log_sigma[first]).reshape(len(first), config.n_show, *shape)
            ),
        },
    }


def images(dataset: str, profile: str = "book", **kwargs) -> dict:
    """The record of ``images-<dataset>`` for ``profile``: loaded when stored, else trained."""
    if dataset not in IMAGE_PROFILES:
        raise ValueError(f"dataset must be one of {tuple(IMAGE_PROFILES)}, got {dataset!r}")
    return IMAGE_EXPERIMENTS[dataset](profile, **kwargs)


IMAGE_EXPERIMENTS = {
    name: entry_point(
        f"images-{name}",
        lambda profile, name=name, **overrides: images_config(name, profile, **overrides),
        _run_images,
        preflight=check_data,
    )
    for name in IMAGE_PROFILES
}
