"""The registry of experiments that the CLI runs: name, one-line summary, entry point.

It lives apart from ``lvae.experiments`` (the machinery every experiment imports), so that
any experiment module can be imported first without a circular import.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str
    run: Callable = field(repr=False)


def _registry() -> dict[str, Experiment]:
    from .images_experiment import IMAGE_EXPERIMENTS
    from .sphere_experiment import sphere_vae
    from .toy2d_experiment import kl_weight, table1

    images = {
        f"images-{name}": Experiment(
            f"images-{name}",
            f"fixed (MSE), learned scalar and per-pixel sigma VAEs on {name} (chapter 4)",
            run,
        )
        for name, run in IMAGE_EXPERIMENTS.items()
    }
    return images | {
        "sphere-vae": Experiment(
            "sphere-vae",
            "fixed-sigma VAEs on a circle, both sides of the critical R/sigma (chapter 1)",
            sphere_vae,
        ),
        "table1": Experiment(
            "table1",
            "2-D toy problem: F-VAE sigma sweep, LS-VAE, LV-VAE, F*-VAE, sigma schedule "
            "(chapters 2-3)",
            table1,
        ),
        "kl-weight": Experiment(
            "kl-weight",
            "a KL weight lambda against sigma * sqrt(lambda), trained side by side (chapter 3)",
            kl_weight,
        ),
    }


EXPERIMENTS = _registry()
