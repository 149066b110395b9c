"""The training configuration every experiment's configuration extends, and its hashes.

A record is filed under the hash of its whole configuration (``normalised``); checkpoints
under the hash of what decides training (``training_key``). Two class attributes keep
those hashes stable as configurations grow:

* ``EVALUATION_ONLY``: fields that change only what is measured after training (a figure
  count, importance samples): they are left out of the training key, so changing them
  re-evaluates the trained models instead of training again;
* ``OMITTED_AT``: a field added after records were made, with the value that reproduces
  the behaviour from before it existed: while it holds that value the field is left out
  of the stored configuration, so those records keep their hashes.

Torch-free.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class TrainingConfig:
    """The fields every experiment trains with, and their checks.

    Subclasses add their own fields (and may give these other defaults), name further
    whole-number fields that must be >= 1 in ``POSITIVE``, and call
    ``super().__post_init__()`` before their own checks.
    """

    EVALUATION_ONLY: ClassVar[tuple[str, ...]] = ()
    OMITTED_AT: ClassVar[dict[str, object]] = {}
    POSITIVE: ClassVar[tuple[str, ...]] = ()

    seeds: tuple[int, ...] = (0, 1, 2)  # one model per seed and setting
    steps: int = 3000
    latent_dim: int = 2
    batch_size: int = 100
    lr: float = 1e-3
    log_every: int = 100  # steps between the logged training curves' points
    data_seed: int = 0  # the training batches' generator

    def __post_init__(self):
        """Raise ValueError naming the field, its value and what is allowed."""
        if not self.seeds:
            raise ValueError("seeds must not be empty")
        for name in ("steps", "latent_dim", "batch_size", "log_every", *self.POSITIVE):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        fields = {f.name for f in dataclasses.fields(self)}
        for name in (*self.EVALUATION_ONLY, *self.OMITTED_AT):
            if name not in fields:  # a typo here would silently change hashes
                raise TypeError(f"{type(self).__name__} declares {name!r}, not a field")


def normalised(config: TrainingConfig) -> dict:
    """The configuration as plain JSON types (tuples become lists), as it is stored and
    hashed, without the ``OMITTED_AT`` fields that hold their omitted value."""
    plain = json.loads(json.dumps(dataclasses.asdict(config)))
    for name, value in config.OMITTED_AT.items():
        if plain[name] == json.loads(json.dumps(value)):  # compared as stored: () is []
            del plain[name]
    return plain


def training_key(config: TrainingConfig) -> str:
    """The hash of what decides training: the stored configuration without the fields its
    class names in ``EVALUATION_ONLY``.

    Checkpoints are filed under this key, so a run that differs from a finished one only
    in such fields (say, more importance samples) reuses the trained models from the
    checkpoint and evaluates again; the generator state is restored with the models, so
    the result is the one a run from scratch would give.
    """
    from ..store import config_hash  # imported here: lvae.store imports torch

    plain = normalised(config)
    for name in config.EVALUATION_ONLY:
        plain.pop(name, None)
    return config_hash(plain)
