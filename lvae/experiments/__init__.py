"""Experiments: each declared once, in its own module, and their records by name.

``record("table1", "book")`` is the one call notebooks, tests and the command line use:
the record of that experiment's configuration, loaded from ``results/`` when stored, else
(where training is allowed, see ``missing``) computed, checkpointed and stored.

Modules: ``base`` (``Experiment``, profiles), ``config`` (``TrainingConfig``, the hashes),
``missing`` (load-only builds), ``cache`` (load or train and store; torch), and one module
per experiment declaring its configuration, presets and ``EXPERIMENT``. Everything here
but ``cache`` is torch-free: the training code is imported by an experiment's ``run``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import (
    images_celeba,
    images_digits,
    images_mnist,
    images_olivetti,
    kl_weight,
    sphere_vae,
    table1,
    table1_calibration,
    table1_capacity,
    table1_lr,
)
from .base import DEVICES, PRECISIONS, PROFILES, Experiment, check_profile
from .config import TrainingConfig, normalised, training_key
from .missing import ALLOW_TRAINING, MissingRecord, how_to_make, training_allowed

if TYPE_CHECKING:
    from ..store import Record

__all__ = [
    "ALLOW_TRAINING",
    "DEVICES",
    "EXPERIMENTS",
    "PRECISIONS",
    "PROFILES",
    "Experiment",
    "MissingRecord",
    "TrainingConfig",
    "check_precision",
    "check_profile",
    "config",
    "experiment",
    "normalised",
    "record",
    "taking",
    "training_allowed",
    "training_key",
]

EXPERIMENTS: dict[str, Experiment] = {
    exp.name: exp
    for exp in (
        sphere_vae.EXPERIMENT,
        *sphere_vae.GRID.values(),
        table1.EXPERIMENT,
        table1.LONG,
        table1.LATENT2,
        *table1.CALIBRATED.values(),
        table1_calibration.EXPERIMENT,
        table1_lr.EXPERIMENT,
        table1_lr.LONG,
        table1_lr.LONGEST,
        table1_lr.DECAY,
        table1_lr.DECAY_LONGEST,
        table1_lr.LEARNED_STUDY,
        table1_lr.LEARNED_DECAY,
        table1_lr.LEARNED_DECAY_LONGEST,
        *(study for pair in table1_lr.LATENT_STUDIES.values() for study in pair),
        *(run for runs in table1_lr.LATENT_LONGER.values() for run in runs),
        table1_capacity.PILOT,
        table1_capacity.RUN,
        kl_weight.EXPERIMENT,
        images_digits.EXPERIMENT,
        images_digits.PROTOCOL,
        images_mnist.EXPERIMENT,
        images_mnist.PROTOCOL,
        images_olivetti.EXPERIMENT,
        images_celeba.EXPERIMENT,
    )
}


def check_precision(precision: str | None) -> str | None:
    """``precision`` if it is one of ``PRECISIONS`` or None (the device's default)."""
    if precision is not None and precision not in PRECISIONS:
        raise ValueError(
            f"precision must be one of {PRECISIONS} (or None: tf32 on CUDA, fp32 on the "
            f"CPU), got {precision!r}"
        )
    return precision


def experiment(name: str) -> Experiment:
    """The experiment called ``name`` (``python -m lvae list``)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {sorted(EXPERIMENTS)}, got {name!r}")
    return EXPERIMENTS[name]


def config(name: str, profile: str = "book", **overrides):
    """The configuration of experiment ``name`` at ``profile`` with ``overrides``
    (validated; nothing runs)."""
    return experiment(name).make_config(profile, **overrides)


def taking(option: str) -> list[str]:
    """The experiments that take the CLI run option ``option`` (argparse name), sorted."""
    return sorted(name for name, exp in EXPERIMENTS.items() if option in exp.options)


def record(
    name: str,
    profile: str = "book",
    *,
    device: str = "auto",
    results_dir=None,
    recompute: bool = False,
    checkpoint_dir=None,
    allow_training: bool | None = None,
    precision: str | None = None,
    compile: bool = False,
    discard_bad_checkpoints: bool = False,
    allow_dirty: bool = False,
    **overrides,
) -> Record:
    """The record of experiment ``name`` for ``profile`` (with configuration ``overrides``)
    as a ``store.Record``: loaded when stored; else trained and stored where training is
    allowed (``allow_training=True``, or ``$LVAE_ALLOW_TRAINING=1`` when it is None),
    otherwise ``MissingRecord`` names the command that makes it, before any compute.

    ``recompute`` trains from scratch even when a record exists; checkpoints of unfinished
    runs go to ``checkpoint_dir`` (default: ``.checkpoints/`` in the results folder).
    ``precision`` (``PRECISIONS``; default tf32 on CUDA, fp32 on the CPU) is how training
    does its arithmetic; the record's provenance states it. It is not part of the
    configuration: a stored record is loaded whatever precision made it. ``compile``
    trains through ``torch.compile`` (``lvae.train.compiled_training``), also stated.
    A checkpoint that fails its checksum or cannot be read stops the run
    (``lvae.checkpoints.BadCheckpoint``) unless ``discard_bad_checkpoints``, which deletes
    it (saying so) and trains that phase again. A ``book`` or ``paper`` record for the
    repository's own results folder is made only from a clean tree, unless
    ``allow_dirty`` (then stated in its provenance).
    """
    check_precision(precision)  # before torch, before anything
    from .. import store
    from .cache import cached_run

    exp = experiment(name)
    cfg = exp.make_config(profile, **overrides)  # bad values fail here, before anything
    data = cached_run(
        exp.record_name,
        cfg,
        profile,
        results_dir,
        device,
        recompute,
        lambda dev, checkpoints: exp.run(cfg, dev, checkpoints),
        preflight=exp.preflight,
        checkpoint_dir=checkpoint_dir,
        allow_training=allow_training,
        command=how_to_make(name, profile, overrides, exp.options, results_dir),
        precision=precision,
        compile=compile,
        label=name,
        discard_bad_checkpoints=discard_bad_checkpoints,
        allow_dirty=allow_dirty,
    )
    results = results_dir or store.default_results_dir()
    return store.Record(data, store.record_path(results, exp.record_name, normalised(cfg)))
