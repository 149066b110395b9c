"""The experiments the CLI runs: name, summary, options, and where the code lives.

No torch here, nor anything that imports it: the command line checks its arguments (and
answers ``--help``, ``list`` and mistakes) from this module alone, in a fraction of a
second. An experiment's module is imported only when it runs (``Experiment.run``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

PROFILES = ("smoke", "book", "paper")  # also lvae.experiments.PROFILES
DEVICES = ("auto", "cpu", "cuda")  # also lvae.devices.DEVICES

# The run options of the CLI (argparse names) that some experiments do not take.
COMMON_OPTIONS = ("seeds", "steps")


@dataclass(frozen=True)
class Experiment:
    name: str
    summary: str
    module: str  # lvae.<module> defines ...
    function: str  # ... the entry point, lvae.experiments.entry_point's result
    options: tuple[str, ...] = COMMON_OPTIONS  # CLI options it takes (argparse names)

    @property
    def run(self):
        """The entry point: ``run(profile, results_dir=..., device=..., **overrides)``."""
        module = importlib.import_module(f"lvae.{self.module}")
        target = getattr(module, self.function)
        return target[self.name.removeprefix("images-")] if isinstance(target, dict) else target


_IMAGE_SUMMARY = "fixed (MSE), learned scalar and per-pixel sigma VAEs on {} (chapter 4)"
IMAGE_DATASETS = ("digits", "mnist", "olivetti", "celeba")  # lvae.images.DATASETS
# Every dataset but scikit-learn's bundled digits is read from a data folder.
_FILE_DATASETS = ("mnist", "olivetti", "celeba")

EXPERIMENTS: dict[str, Experiment] = {
    **{
        f"images-{name}": Experiment(
            f"images-{name}",
            _IMAGE_SUMMARY.format(name),
            "images_experiment",
            "IMAGE_EXPERIMENTS",
            (*COMMON_OPTIONS, "iw_k", *(("data_dir",) if name in _FILE_DATASETS else ())),
        )
        for name in IMAGE_DATASETS
    },
    "sphere-vae": Experiment(
        "sphere-vae",
        "fixed-sigma VAEs on a circle, both sides of the critical R/sigma (chapter 1)",
        "sphere_experiment",
        "sphere_vae",
    ),
    "table1": Experiment(
        "table1",
        "2-D toy problem: F-VAE sigma sweep, LS-VAE, LV-VAE, F*-VAE, sigma schedule (chapters 2-3)",
        "toy2d_experiment",
        "table1",
    ),
    "kl-weight": Experiment(
        "kl-weight",
        "a KL weight lambda against sigma * sqrt(lambda), trained side by side (chapter 3)",
        "toy2d_experiment",
        "kl_weight",
    ),
}


def taking(option: str) -> list[str]:
    """The experiments that take the CLI option ``option`` (argparse name), sorted."""
    return sorted(name for name, exp in EXPERIMENTS.items() if option in exp.options)
