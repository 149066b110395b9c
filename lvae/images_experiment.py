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
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from . import image_quality
from .conv import conv_networks
from .images import QUANTIZATION_LEVELS, load_images, load_labels, require_dataset
from .likelihood import bits_per_dim, check_levels, dequantize, importance_weighted_bounds
from .spec import ModelSpec, grid, record_rows
from .train import train_stacked
from .vae import StackedVAE

# ``config`` is the ImagesConfig declared, torch-free, in lvae.experiments.image_config;
# that module imports this one when it runs, so this one imports nothing from it.

# The five settings, by name; ``sigma_floor`` here counts grey levels of the dataset
# (``images_specs`` turns it into pixel values).
SETTINGS = {
    "F": ModelSpec("F", "fixed", 2**-0.5),  # the MSE loss: a Gaussian with sigma^2 = 1/2
    "LS": ModelSpec("LS", "scalar", 1.0),
    "LV": ModelSpec("LV", "vector", 1.0),
    "LV-floor": ModelSpec("LV-floor", "vector", 1.0, sigma_floor=1.0),  # sigma >= a grey level
    # fits the density the bits/dim measure scores
    "LV-deq": ModelSpec("LV-deq", "vector", 1.0, dequantised=True),
}


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


def _datasets(config):
    train = load_images(config.dataset, split=config.split, limit=config.limit)
    if config.n_holdout:
        if config.n_holdout >= len(train):
            raise ValueError(f"n_holdout {config.n_holdout} leaves no training images")
        return train[: -config.n_holdout], train[-config.n_holdout :]
    return train, load_images(config.dataset, split=config.eval_split, limit=config.limit)


def check_data(config) -> None:
    """Before training: the dataset's files are there and intact (or downloaded), so a
    missing one is reported, with the command that fetches it, before the run starts, not
    after its first message; then the images load with the configured split sizes."""
    splits = (config.split,) if config.n_holdout else (config.split, config.eval_split)
    require_dataset(config.dataset, splits=splits)
    if config.dataset != "celeba":  # CelebA's loader decodes every image: read when run
        _datasets(config)


def batch_sampler(x_train, dequantised, batch_size: int, levels: int, gen):
    """A function drawing one training batch per model, (M, batch_size, D): images drawn
    with replacement, dequantised afresh (uniform noise in each grey level) for the models
    flagged in ``dequantised`` (one bool per model), raw for the others. The flags and the
    grey-level grid of ``x_train`` are checked once here, so drawing a batch never waits
    for the device."""
    flags = [bool(d) for d in dequantised]
    mask = None
    if any(flags):
        check_levels(x_train, levels)
        mask = torch.tensor(flags, device=x_train.device).view(-1, 1, 1)

    def batch():
        idx = torch.randint(
            len(x_train), (len(flags), batch_size), generator=gen, device=x_train.device
        )
        x = x_train[idx]
        if mask is not None:
            x = torch.where(mask, dequantize(x, gen, levels, check=False), x)
        return x

    return batch


def _chunks(model, x, chunk: int = 100):
    """``x`` (N, D) in chunks, repeated for every model: (M, n, D)."""
    for start in range(0, x.shape[0], chunk):
        yield x[start : start + chunk].expand(model.n_models, -1, -1)


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

    n_models = model.n_models
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


IMAGES_ROW = ("setting", "seed")  # a model's row in the record


def images_specs(config, levels: int) -> list[ModelSpec]:
    """Every configured setting crossed with every seed; a setting's init seeds follow its
    place in ``SETTINGS`` (not in ``config.settings``), so a subset trains the same models."""
    names = list(SETTINGS)
    return [
        spec
        for name in config.settings
        for spec in grid(
            [replace(SETTINGS[name], sigma_floor=SETTINGS[name].sigma_floor / levels)],
            config.seeds,
            first_index=names.index(name),
        )
    ]


def _run_images(config, device: torch.device, checkpoints: Path) -> dict:
    train, held_out = _datasets(config)  # missing or bad files fail here, before training
    shape = tuple(train.shape[1:])
    dim = math.prod(shape)
    levels = QUANTIZATION_LEVELS[config.dataset]
    specs = images_specs(config, levels)
    networks = conv_networks(shape, config.width, config.n_convs, config.n_blocks)
    model = StackedVAE(specs, networks, config.latent_dim).to(device)
    x_train = train.flatten(1).to(device)
    gen = torch.Generator(device=device).manual_seed(config.data_seed)
    batch = batch_sampler(x_train, [s.dequantised for s in specs], config.batch_size, levels, gen)

    # The held-out ELBO on the same images and latent noise at every log step (the
    # protocol's convergence criterion); its own generator leaves the training stream as it
    # is, so a run without it trains the same models.
    x_monitor = held_out[: config.n_monitor].flatten(1).to(device)

    def monitor():
        noise = torch.Generator(device=device).manual_seed(config.data_seed + 8)
        return model.mean_terms(_chunks(model, x_monitor), noise)["elbo"]

    history = train_stacked(
        model,
        batch,
        steps=config.steps,
        lr=config.lr,
        log_every=config.log_every,
        generator=gen,
        desc=f"images-{config.dataset}",
        checkpoint=checkpoints / "train.pt",
        checkpoint_tag=checkpoints.name,
        monitor=monitor if config.n_monitor else None,
    )
    x_eval = held_out.flatten(1).to(device)
    raw = model.mean_terms(_chunks(model, x_eval), gen)
    x_deq = dequantize(x_eval, gen, levels)
    deq = model.mean_terms(_chunks(model, x_deq), gen)
    x_iw = x_deq[: config.n_iw]  # the IW subset, where the ELBO is recorded as well
    deq_iw = model.mean_terms(_chunks(model, x_iw), gen)
    iw = _iw_means(model, x_iw, iw_ks(config.iw_k), gen)

    first = [j for j, s in enumerate(specs) if s.seed == config.seeds[0]]
    show = x_eval[: config.n_show]
    recon, log_sigma = model.reconstruct(show.expand(len(specs), -1, -1), gen)
    generated = model.generate(config.n_show, gen)

    def panels(t):  # one named panel per setting (its first seed): {setting: images}
        return {specs[j].setting: _pack(t[j].reshape(config.n_show, *shape)) for j in first}

    # The protocol's measurements come last, so that a run without them draws the same
    # random numbers for everything above.
    protocol = {}
    if config.n_visual:
        protocol.update(_visual(model, held_out[: config.n_visual].to(device), gen))
    if config.n_quality:
        protocol.update(_sample_quality(model, config, train, held_out, gen))
    return {
        **protocol,
        "models": record_rows(specs, IMAGES_ROW),
        "image_shape": list(shape),
        "n_train": len(train),
        "n_eval": len(held_out),
        "elbo_raw": raw["elbo"].cpu().tolist(),
        "sigma_geomean": raw["sigma"].cpu().tolist(),
        "kl": raw["kl"].cpu().tolist(),
        "bits_per_dim_elbo": bits_per_dim(deq["elbo"], dim, levels).cpu().tolist(),
        "bits_per_dim_elbo_iw_subset": bits_per_dim(deq_iw["elbo"], dim, levels).cpu().tolist(),
        "bits_per_dim_iw": bits_per_dim(iw[config.iw_k], dim, levels).cpu().tolist(),
        # {k: per-model bits/dim}, keys as strings (JSON)
        "bits_per_dim_iw_by_k": {
            str(k): bits_per_dim(v, dim, levels).cpu().tolist() for k, v in iw.items()
        },
        "history": {
            "step": history["step"],
            **{k: history[k] for k in ("log_likelihood", "kl", "elbo", "sigma")},
            **({"monitor_elbo": history["monitor"]} if config.n_monitor else {}),
        },
        "figures": {
            "originals": _pack(show.reshape(config.n_show, *shape)),
            "recon": panels(recon),
            "gen_mean": panels(generated["mean"]),
            "gen_sample": panels(generated["sample"]),
            # log sigma of the reconstructions, on a fixed scale: [-10, 0] -> [0, 1].
            "log_sigma_map": panels(images_from_log_sigma(log_sigma)),
        },
    }


@torch.no_grad()
def _visual(model, images: torch.Tensor, gen) -> dict:
    """Per model, over ``images`` (n, C, H, W): the sharpness of its reconstructions
    (``image_quality.sharpness``) and their mean absolute error."""
    shape = images.shape[1:]
    x = images.flatten(1)
    recon = torch.cat([model.reconstruct(part, gen)[0] for part in _chunks(model, x)], dim=1).clamp(
        0, 1
    )
    originals = images.cpu().numpy()
    return {
        "visual_sharpness": [
            image_quality.sharpness(r.reshape(-1, *shape).cpu().numpy(), originals) for r in recon
        ],
        "visual_error": (recon - x).abs().mean(dim=(1, 2)).cpu().tolist(),
    }


def _sizes(total: int, chunk: int) -> list[int]:
    """``total`` split into parts of ``chunk`` (the last one smaller)."""
    return [min(chunk, total - start) for start in range(0, total, chunk)]


def _sample_quality(model, config, train, held_out, gen) -> dict:
    """The sample-quality score (``lvae.image_quality``): a classifier trained on the
    labelled training images (which no VAE is evaluated on), its accuracy on the held-out
    images, and per model the confidence and Fréchet distance of ``n_quality`` decoder
    means and samples from the prior against the held-out images; beside them the values of
    real training images (the floor) and of uniform noise (what "looks like noise" scores)."""
    labels = load_labels(config.dataset, split=config.split)[: config.limit]
    if config.n_holdout:
        train_labels, held_labels = labels[: -config.n_holdout], labels[-config.n_holdout :]
    else:
        train_labels = labels
        held_labels = load_labels(config.dataset, split=config.eval_split)[: config.limit]
    device = next(model.parameters()).device
    train, held_out = train.to(device), held_out.to(device)
    classifier = image_quality.train_classifier(
        train, train_labels.to(device), seed=config.data_seed
    )
    reference = image_quality.features(classifier, held_out)
    real = train[-config.n_quality :]
    # What "looks like noise" scores: uniform noise in [0, 1], from its own generator.
    noise_gen = torch.Generator(device=device).manual_seed(config.data_seed + 9)
    noise = torch.rand(real.shape, generator=noise_gen, device=device)
    parts = [model.generate(n, gen) for n in _sizes(config.n_quality, 250)]  # bounded memory
    generated = {k: torch.cat([part[k] for part in parts], dim=1) for k in ("mean", "sample")}
    shape = (config.n_quality, *train.shape[1:])
    out = {
        "classifier_accuracy": image_quality.accuracy(classifier, held_out, held_labels.to(device)),
        "real_confidence": image_quality.confidence(classifier, real),
        "real_frechet": image_quality.frechet_distance(
            image_quality.features(classifier, real), reference
        ),
        "noise_confidence": image_quality.confidence(classifier, noise),
        "noise_frechet": image_quality.frechet_distance(
            image_quality.features(classifier, noise), reference
        ),
        "sample_gap": (generated["sample"] - generated["mean"]).abs().mean(dim=(1, 2)).tolist(),
    }
    for kind in ("mean", "sample"):
        images = [g.reshape(shape) for g in generated[kind]]
        out[f"confidence_{kind}"] = [image_quality.confidence(classifier, g) for g in images]
        out[f"frechet_{kind}"] = [
            image_quality.frechet_distance(image_quality.features(classifier, g), reference)
            for g in images
        ]
    return out
