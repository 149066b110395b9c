"""``images-digits``: chapter 4's VAEs on scikit-learn's bundled 8x8 digits (no file)."""

from .image_config import image_experiment, image_profiles, protocol_variant

PROFILES = image_profiles(
    "digits",
    {},
    {"seeds": tuple(range(10)), "steps": 20000, "width": 32, "n_blocks": 4, "latent_dim": 32},
)

EXPERIMENT = image_experiment("digits", PROFILES)

# The protocol's study: the book network and steps; the held-out set has 297 images, all
# monitored.
PROTOCOL = protocol_variant(EXPERIMENT, n_monitor=297)
