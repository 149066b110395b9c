"""``images-celeba``: chapter 4's VAEs on CelebA (64x64 crops). No record is committed
(chapter 4 estimates the cost of its paper preset); the smoke preset reads 16 images."""

from .image_config import image_experiment, image_profiles

PROFILES = image_profiles(
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
)

EXPERIMENT = image_experiment("celeba", PROFILES)
