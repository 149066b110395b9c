"""``images-digits``: chapter 4's VAEs on scikit-learn's bundled 8x8 digits (no file)."""

from .image_config import image_experiment, image_profiles, protocol_variant

PROFILES = image_profiles(
    "digits",
    {},
    {"seeds": tuple(range(10)), "steps": 20000, "width": 32, "n_blocks": 4, "latent_dim": 32},
)

EXPERIMENT = image_experiment("digits", PROFILES)

# The protocol's study: the book network trained 8,000 steps (in the 3,000 of the book
# profile LS-VAE's ELBO still rose by four times its seed spread over the last fifth;
# about 40 minutes on a 2-core CPU for 25 models); the 297 held-out images all monitored.
PROTOCOL = protocol_variant(EXPERIMENT, n_monitor=297, overrides={"book": {"steps": 8000}})
