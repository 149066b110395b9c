"""``images-digits``: chapter 4's VAEs on scikit-learn's bundled 8x8 digits (no file)."""

from .image_config import image_experiment, image_profiles

PROFILES = image_profiles(
    "digits",
    {},
    {"seeds": tuple(range(10)), "steps": 20000, "width": 32, "n_blocks": 4, "latent_dim": 32},
)

EXPERIMENT = image_experiment("digits", PROFILES)
