"""``sphere-vae``: fixed-sigma VAEs on data uniform on a sphere (a circle by default), both
sides of the critical R/sigma (chapter 1). The training code is ``lvae.sphere_experiment``."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

from .base import Experiment
from .config import TrainingConfig


@dataclass(frozen=True)
class SphereVAEConfig(TrainingConfig):
    """One model per (ratio, seed), with sigma = radius / ratio, all trained in one stack."""

    # Fields that change only the evaluation after training (see config.training_key).
    EVALUATION_ONLY: ClassVar[tuple[str, ...]] = ("n_eval", "n_keep")
    POSITIVE: ClassVar[tuple[str, ...]] = ("hidden", "dim", "n_eval")

    ratios: tuple[float, ...] = (0.7, 1.2, 1.6, 2.5, 4.0)  # R / sigma
    steps: int = 4000
    dim: int = 2
    radius: float = 1.0
    hidden: int = 64
    n_blocks: int = 2
    batch_size: int = 256
    n_eval: int = 4096  # fresh points and prior draws used for the final metrics
    n_keep: int = 300  # decoder means kept in the record for figures
    data_seed: int = 12345

    def __post_init__(self):
        if not self.ratios or any(not (r > 0 and math.isfinite(r)) for r in self.ratios):
            raise ValueError(f"ratios (R/sigma) must be positive and finite, got {self.ratios}")
        super().__post_init__()
        if not self.radius > 0:
            raise ValueError(f"radius must be > 0, got {self.radius}")


PROFILES = {
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


def run(config: SphereVAEConfig, device, checkpoint_dir) -> dict:
    """Train the stack and measure it (``lvae.sphere_experiment``; torch)."""
    from ..sphere_experiment import _run

    return _run(config, device, checkpoint_dir)


EXPERIMENT = Experiment(
    "sphere-vae",
    "fixed-sigma VAEs on a circle, both sides of the critical R/sigma (chapter 1)",
    SphereVAEConfig,
    PROFILES,
    run,
)

# The protocol's grid around the threshold (claim S1): R/sigma in steps of 0.05 around
# sqrt(D-1) and sqrt(D), 5 seeds (10 at the paper profile): 1.0 to 1.6 in D = 2, 2.7 to
# 3.6 in D = 10. The smoke profile keeps its two ratios.
GRID_RATIOS = {
    2: tuple(round(1.0 + 0.05 * i, 2) for i in range(13)),
    10: tuple(round(2.7 + 0.05 * i, 2) for i in range(19)),
}


def grid_name(dim: int) -> str:
    return f"sphere-vae-grid-d{dim}"


GRID = {
    d: EXPERIMENT.variant(
        grid_name(d),
        f"fixed-sigma VAEs on a sphere in {d} dimensions, R/sigma in steps of 0.05 around "
        "the threshold (protocol, claim S1)",
        # A latent as large as the data, so a model that escapes collapse can cover the sphere.
        lambda config, d=d: dataclasses.replace(config, dim=d, latent_dim=d),
        overrides={
            "book": {"ratios": GRID_RATIOS[d], "seeds": tuple(range(5))},
            "paper": {"ratios": GRID_RATIOS[d]},
        },
    )
    for d in GRID_RATIOS
}
