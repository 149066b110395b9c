"""``images-olivetti``: chapter 4's VAEs on the 400 Olivetti faces (64x64 pixels)."""

from .image_config import image_experiment, image_profiles

PROFILES = image_profiles(
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
)

EXPERIMENT = image_experiment("olivetti", PROFILES)
