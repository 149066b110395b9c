"""``kl-weight``: a weight lambda on the KL term against sigma * sqrt(lambda), trained side
by side on the 2-D toy problem (chapter 3). The training code is ``lvae.toy2d_experiment``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .base import Experiment
from .config import TrainingConfig


@dataclass(frozen=True)
class KLWeightConfig(TrainingConfig):
    """Section 3.2: a weight lambda on the KL term acts like sigma * sqrt(lambda)."""

    POSITIVE: ClassVar[tuple[str, ...]] = ("hidden",)

    sigma: float = 0.1
    kl_weights: tuple[float, ...] = (0.25, 4.0)
    hidden: int = 64
    n_blocks: int = 2
    data_seed: int = 7

    def __post_init__(self):
        super().__post_init__()
        if not self.sigma > 0 or not self.kl_weights or min(self.kl_weights) <= 0:
            raise ValueError("sigma and every KL weight must be > 0")


PROFILES = {
    "smoke": KLWeightConfig(
        kl_weights=(4.0,), seeds=(0,), steps=30, hidden=16, n_blocks=1, log_every=10
    ),
    "book": KLWeightConfig(),
    "paper": KLWeightConfig(seeds=tuple(range(10)), steps=20000, hidden=200, n_blocks=4),
}


def run(config: KLWeightConfig, device, checkpoint_dir) -> dict:
    """Both arms, trained and compared (``lvae.toy2d_experiment``; torch)."""
    from ..toy2d_experiment import _run_kl_weight

    return _run_kl_weight(config, device, checkpoint_dir)


EXPERIMENT = Experiment(
    "kl-weight",
    "a KL weight lambda against sigma * sqrt(lambda), trained side by side (chapter 3)",
    KLWeightConfig,
    PROFILES,
    run,
)
