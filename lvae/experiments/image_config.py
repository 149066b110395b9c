"""What the ``images-<dataset>`` experiments share (chapter 4): their configuration, the
presets' common smoke scale, and the computation (``lvae.images_experiment``; torch).

Each dataset's experiment is declared in its own module (``images_digits`` ...), with the
scale of its presets and why.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from .base import COMMON_OPTIONS, Experiment
from .config import TrainingConfig

# The datasets and observation settings, named here without torch (the CLI needs them):
# lvae.images.DATASETS and lvae.images_experiment.SETTINGS, which a test holds equal.
IMAGE_DATASETS = ("digits", "mnist", "olivetti", "celeba")
IMAGE_SETTINGS = ("F", "LS", "LV", "LV-floor", "LV-deq")
# The datasets with class labels: the sample-quality score's classifier needs them
# (lvae.images.LABELLED, which a test holds equal).
LABELLED_DATASETS = ("digits", "mnist")
# Every dataset but scikit-learn's bundled digits is read from a data folder.
FILE_DATASETS = ("mnist", "olivetti", "celeba")


@dataclass(frozen=True)
class ImagesConfig(TrainingConfig):
    # Fields that change only the evaluation after training (see config.training_key).
    EVALUATION_ONLY: ClassVar[tuple[str, ...]] = ("iw_k", "n_iw", "n_show", "n_visual", "n_quality")
    POSITIVE: ClassVar[tuple[str, ...]] = ("width", "n_convs", "iw_k", "n_iw", "n_show")
    # Added with the protocol's image study; at 0 they are off, as before they existed.
    OMITTED_AT: ClassVar[dict[str, object]] = {"n_monitor": 0, "n_visual": 0, "n_quality": 0}

    dataset: str = "digits"
    split: str = "train"  # what is loaded for training
    limit: int | None = None  # load only the first images of the split (CelebA is large)
    n_holdout: int = 0  # > 0: evaluate on the last n_holdout training images instead
    eval_split: str = "test"
    settings: tuple[str, ...] = IMAGE_SETTINGS
    latent_dim: int = 16
    width: int = 16
    n_convs: int = 3
    n_blocks: int = 2
    iw_k: int = 1000
    n_iw: int = 200  # held-out images for the importance-weighted bound
    n_show: int = 8  # images kept per figure panel
    # The protocol's measurements (0: off). n_monitor: held-out images whose ELBO, with
    # fixed latent noise, is logged every log_every steps (the convergence criterion);
    # n_visual: held-out images for sharpness and reconstruction error, every model;
    # n_quality: generated means and samples per model for the sample-quality score
    # (lvae.image_quality; the digits and MNIST only, which have labels).
    n_monitor: int = 0
    n_visual: int = 0
    n_quality: int = 0

    def __post_init__(self):
        super().__post_init__()
        if self.dataset not in IMAGE_DATASETS:
            raise ValueError(f"dataset must be one of {IMAGE_DATASETS}, got {self.dataset!r}")
        unknown = set(self.settings) - set(IMAGE_SETTINGS)
        if not self.settings or unknown:
            raise ValueError(f"settings must be among {IMAGE_SETTINGS}, got {self.settings}")
        for name in ("n_holdout", "n_blocks", "n_monitor", "n_visual", "n_quality"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.n_quality and self.dataset not in LABELLED_DATASETS:
            raise ValueError(
                f"n_quality needs class labels, which only {LABELLED_DATASETS} have; "
                f"got dataset {self.dataset!r}"
            )
        if 0 < self.n_quality < 2:
            raise ValueError(f"n_quality must be 0 or >= 2 (a covariance), got {self.n_quality}")


def image_profiles(dataset: str, book: dict, paper: dict, smoke: dict | None = None) -> dict:
    """The presets of ``dataset``: ``book`` replaces defaults, ``paper`` and ``smoke``
    replace ``book``'s (smoke starts from a small common scale: seconds on a CPU)."""
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


def run(config: ImagesConfig, device, checkpoint_dir) -> dict:
    """Train the five observation models and evaluate them (``lvae.images_experiment``)."""
    from ..images_experiment import _run_images

    return _run_images(config, device, checkpoint_dir)


def check_data(config: ImagesConfig) -> None:
    """Before training: the dataset's files are there (``lvae.images_experiment``)."""
    from ..images_experiment import check_data

    check_data(config)


def image_experiment(dataset: str, profiles: dict) -> Experiment:
    """The ``images-<dataset>`` experiment on ``profiles`` (from ``image_profiles``)."""
    return Experiment(
        f"images-{dataset}",
        f"fixed (MSE), learned scalar and per-pixel sigma VAEs on {dataset} (chapter 4)",
        ImagesConfig,
        profiles,
        run,
        preflight=check_data,
        options=(*COMMON_OPTIONS, "iw_k", *(("data_dir",) if dataset in FILE_DATASETS else ())),
    )


PROTOCOL_SEEDS = tuple(range(5))  # the protocol's image study: at least 5 seeds


def protocol_variant(experiment: Experiment, overrides: dict | None = None, **fields) -> Experiment:
    """``<experiment>-protocol``: the book page "Protocol"'s image study on ``experiment``'s
    presets: 5 seeds (smoke trains two), the held-out ELBO monitored for the convergence
    criterion, the visual measures on 100 held-out images and the sample-quality score on
    1,000 generated images of every model, with ``fields`` replaced in book and paper, and
    ``overrides[profile]`` then in that profile only."""

    def change(config: ImagesConfig) -> ImagesConfig:
        return dataclasses.replace(
            config, seeds=PROTOCOL_SEEDS, n_monitor=500, n_visual=100, n_quality=1000
        )

    # smoke: seconds, with the two seeds a rank test needs at the least
    smoke = {"seeds": (0, 1), "n_monitor": 20, "n_visual": 20, "n_quality": 20}
    return experiment.variant(
        f"{experiment.name}-protocol",
        f"{experiment.summary}: the protocol's image study (5 seeds, sample quality)",
        change,
        {
            p: {**extra, **(overrides or {}).get(p, {})}
            for p, extra in {"smoke": smoke, "book": fields, "paper": fields}.items()
        },
    )
