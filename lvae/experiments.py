"""Experiments: the registry, and results loaded from ``results/`` or computed.

A notebook asks for a result here. When a record with the same configuration hash exists
in the results folder it is loaded; otherwise the experiment runs (with a progress bar,
checkpointing into ``.checkpoints/`` inside the results folder so an interrupted run
resumes) and its record is written atomically.

Profiles: ``smoke`` (seconds; proves the training path end to end in CI), ``book`` (what
the committed records were made with; minutes on a laptop CPU) and ``paper`` (the paper's
networks and scale; meant for a GPU).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from . import store
from .devices import describe, resolve_device
from .locks import config_lock
from .registry import PROFILES  # defined torch-free, for the CLI

CHECKPOINTS = ".checkpoints"  # the folder of unfinished runs, inside a results folder


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    return profile


def check_training_fields(config, extra: tuple[str, ...] = ()) -> None:
    """Validate the fields every training configuration has (and ``extra`` integers).

    Raises ValueError naming the field, its value and what is allowed, before any compute.
    """
    if not config.seeds:
        raise ValueError("seeds must not be empty")
    for name in ("steps", "latent_dim", "batch_size", "log_every", *extra):
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(config, name)}")
    if not config.lr > 0:
        raise ValueError(f"lr must be > 0, got {config.lr}")


def profile_config(presets: dict, profile: str, name: str, **overrides):
    """The preset configuration of ``profile``, with fields replaced by ``overrides``."""
    base = presets[check_profile(profile)]
    unknown = set(overrides) - {f.name for f in dataclasses.fields(base)}
    if unknown:
        raise ValueError(f"unknown {name} option(s): {sorted(unknown)}")
    return dataclasses.replace(base, **overrides)


def normalised(config) -> dict:
    """The configuration as plain JSON types (tuples become lists), as it is stored.

    A field named in the class's ``OMITTED_AT`` is left out while it holds the value given
    there: a field added with its old behaviour as default keeps existing hashes.
    """
    plain = json.loads(json.dumps(dataclasses.asdict(config)))
    for name, value in getattr(config, "OMITTED_AT", {}).items():
        if plain[name] == value:
            del plain[name]
    return plain


def training_key(config) -> str:
    """The hash of what decides training: the configuration without the fields its class
    names in ``EVALUATION_ONLY`` (they change only what is measured afterwards).

    Checkpoints are filed under this key, so a run that differs from a finished one only
    in such fields (say, more importance samples) reuses the trained models from the
    checkpoint and evaluates again; the generator state is restored with the models, so
    the result is the one a run from scratch would give.
    """
    plain = normalised(config)
    for name in getattr(config, "EVALUATION_ONLY", ()):
        del plain[name]
    return store.config_hash(plain)


def checkpoint_root(results_dir: Path | str | None) -> Path:
    """Where the checkpoints of runs recorded in ``results_dir`` go: ``.checkpoints/``
    inside it, so two results folders never share (or clobber) each other's runs."""
    return Path(results_dir or store.default_results_dir()) / CHECKPOINTS


def cached_run(
    name: str,
    config,
    profile: str,
    results_dir: Path | str | None,
    device: str,
    recompute: bool,
    run: Callable[[torch.device, Path], dict],
    *,
    preflight: Callable[[object], None] | None = None,
    checkpoint_dir: Path | str | None = None,
) -> dict:
    """Load the record of ``config`` or compute it with ``run(device, checkpoint_dir)``.

    ``recompute`` ignores a stored record and its checkpoints and trains from scratch.
    ``preflight(config)``, when given, runs only when training is needed, before anything
    is announced or written: it checks what the run needs (say, its data files) and raises
    with a clear message. Checkpoints go to ``checkpoint_dir`` (default: ``.checkpoints/``
    in the results folder), under the experiment's name and the training key.
    """
    dev = resolve_device(device)  # a bad device fails before anything else happens
    plain = normalised(config)
    results_dir = Path(results_dir or store.default_results_dir())
    path = store.record_path(results_dir, name, plain)
    root = Path(checkpoint_dir) if checkpoint_dir is not None else checkpoint_root(results_dir)
    checkpoints = root / name / training_key(config)
    if path.exists() and not recompute:
        try:
            return store.load_record(path, name, plain)
        except store.InvalidRecord as exc:
            warnings.warn(f"recomputing: {exc}", stacklevel=3)
    if preflight is not None:
        preflight(config)
    # One process trains a configuration at a time: a duplicate (a second sweep job, a
    # second terminal) waits here, then finds the record the first one wrote.
    with config_lock(results_dir, name, store.config_hash(plain), wait=True):
        if path.exists() and not recompute:
            try:
                return store.load_record(path, name, plain)
            except store.InvalidRecord:
                pass  # warned above; train it
        return _train_and_store(
            name, config, plain, profile, dev, path, checkpoints, recompute, run
        )


def _train_and_store(name, config, plain, profile, dev, path, checkpoints, recompute, run):
    """Train (resuming from ``checkpoints`` unless ``recompute``) and write the record."""
    if recompute:
        for stale in checkpoints.glob("*.pt"):
            stale.unlink()
    resumed = any(checkpoints.glob("*.pt"))  # an earlier session trained part of this run
    print(
        f"[lvae] running {name} ({profile} profile) on {describe(dev)}; record: {path}",
        file=sys.stderr,
        flush=True,
    )
    start, commit = time.perf_counter(), store.git_commit()  # the code that trains
    result = run(dev, checkpoints)
    record = {
        "schema": store.SCHEMA,
        "experiment": name,
        "config_hash": store.config_hash(plain),
        "config": plain,
        "provenance": store.provenance(
            profile=profile,
            seeds=list(config.seeds),
            steps=config.steps,
            device=describe(dev),
            wall_time_s=time.perf_counter() - start,
            commit=commit,
            resumed=resumed,
        ),
        "result": result,
    }
    store.save_record(path, record)
    return record


def entry_point(
    name: str,
    make_config: Callable,
    runner: Callable,
    preflight: Callable[[object], None] | None = None,
) -> Callable:
    """The public function of an experiment: its record for a profile, loaded or computed.

    ``make_config(profile, **overrides)`` builds (and validates) the configuration before
    anything runs; ``runner(config, device, checkpoint_dir)`` computes the result;
    ``preflight(config)`` checks, when training is needed, what it needs (see cached_run).
    The function's ``make_config`` attribute is ``make_config`` (the CLI estimates a run's
    cost from the configuration before running it).
    """

    def run(
        profile: str = "book",
        *,
        results_dir=None,
        device: str = "auto",
        recompute: bool = False,
        checkpoint_dir=None,
        **overrides,
    ) -> dict:
        config = make_config(profile, **overrides)
        return cached_run(
            name,
            config,
            profile,
            results_dir,
            device,
            recompute,
            lambda dev, checkpoints: runner(config, dev, checkpoints),
            preflight=preflight,
            checkpoint_dir=checkpoint_dir,
        )

    run.__name__ = name.replace("-", "_")
    run.__doc__ = f"The {name} record for ``profile``: loaded when stored, else trained and stored."
    run.make_config = make_config
    return run


def __getattr__(name):  # the experiment functions, as lvae.experiments.<name>
    from . import images_experiment, sphere_experiment, toy2d_experiment

    for module in (sphere_experiment, toy2d_experiment, images_experiment):
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(name)


def record(name: str, profile: str = "book", **kwargs) -> store.Record:
    """The record of experiment ``name`` (``python -m lvae list``) for ``profile``, as a
    ``store.Record``: loaded when stored, else computed and stored. ``kwargs`` are the
    entry point's (``device``, ``results_dir``, ``recompute``, configuration overrides)."""
    from .registry import EXPERIMENTS

    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {sorted(EXPERIMENTS)}, got {name!r}")
    data = EXPERIMENTS[name].run(profile, **kwargs)
    return store.Record(data)
