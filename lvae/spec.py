"""What one model of a stack is: its setting, observation model, seeds and loss weights.

A stack trains many models at once (``lvae.vae.StackedVAE``); a ``ModelSpec`` says what
one of them is, and everything the code derives per model comes from it here, in one
place: its label (error messages, progress), its row in a record's ``"models"`` list, and
the seed of its initial weights (``init_seed``: setting ``i`` and seed ``s`` start from
``1000 i + s``, so two settings never share an initialisation).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

OBSERVATIONS = ("fixed", "scalar", "vector")  # F-VAE, LS-VAE (Eq. (10)), LV-VAE (Eq. (11))
INIT_SEED_STRIDE = 1000  # init seeds of setting i: 1000 i + seed, for seeds below 1000


def init_seed(setting_index: int, seed: int, offset: int = 0) -> int:
    """The seed of the initial weights of setting ``setting_index`` and seed ``seed``:
    ``1000 * setting_index + seed + offset`` (``offset`` moves a later phase's models off
    the first phase's initialisations). Raises ValueError unless 0 <= seed + offset < 1000,
    the range in which no two (setting, seed) pairs share an initialisation."""
    for name, value in (("setting_index", setting_index), ("seed", seed), ("offset", offset)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if setting_index < 0 or not 0 <= seed + offset < INIT_SEED_STRIDE:
        raise ValueError(
            f"need setting_index >= 0 and 0 <= seed + offset < {INIT_SEED_STRIDE} (else two "
            f"settings share an initialisation), got setting_index={setting_index}, "
            f"seed={seed}, offset={offset}"
        )
    return INIT_SEED_STRIDE * setting_index + seed + offset


def _check_number(name: str, value, minimum: float, strict: bool) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < minimum or (strict and value == minimum):
        relation = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {relation} {minimum:g}, got {value!r}")


@dataclass(frozen=True)
class ModelSpec:
    """One model of a stack.

    setting: the setting's label ("F sigma=0.1", "LS", "R/sigma=0.7", ...).
    observation: "fixed" (sigma constant, or set by a schedule), "scalar" (one learned
        sigma, Eq. (10)) or "vector" (sigma_i(z) from the decoder, Eq. (11)).
    sigma: "fixed": the value; "scalar": the initial value; "vector": unused.
    seed: the replicate (what a record calls ``seed``); init_seed: the seed of the initial
        weights (see ``init_seed``; ``grid`` sets it).
    kl_weight: lambda in the loss -(log p(x|z) - lambda KL) (1: a plain VAE).
    sigma_floor: "vector" only: sigma = floor + exp(raw) when > 0.
    dequantised: trained on dequantised data (uniform noise in each grey level).
    tags: further fields of the model's record row, as (name, value) pairs (say the ratio
        R/sigma of a sphere model); ``record_row`` reads them like attributes.
    """

    setting: str
    observation: str = "fixed"
    sigma: float = 1.0
    seed: int = 0
    init_seed: int = 0
    kl_weight: float = 1.0
    sigma_floor: float = 0.0
    dequantised: bool = False
    tags: tuple[tuple[str, object], ...] = ()

    def __post_init__(self):
        if not isinstance(self.setting, str):
            raise ValueError(f"setting must be a string, got {self.setting!r}")
        if self.observation not in OBSERVATIONS:
            raise ValueError(f"observation must be one of {OBSERVATIONS}, got {self.observation!r}")
        _check_number("sigma", self.sigma, 0.0, strict=True)
        _check_number("kl_weight", self.kl_weight, 0.0, strict=True)
        _check_number("sigma_floor", self.sigma_floor, 0.0, strict=False)
        if self.sigma_floor > 0 and self.observation != "vector":
            raise ValueError(
                f"sigma_floor applies to observation 'vector' only, got sigma_floor="
                f"{self.sigma_floor} with observation {self.observation!r}"
            )
        for name in ("seed", "init_seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if not isinstance(self.dequantised, bool):
            raise ValueError(f"dequantised must be True or False, got {self.dequantised!r}")
        names = [name for name, _ in self.tags]
        clash = set(names) & {f.name for f in dataclasses.fields(self)}
        if len(set(names)) != len(names) or clash:
            raise ValueError(f"tags must have distinct names, none a field's, got {names}")

    @property
    def label(self) -> str:
        """How messages name the model: "LS, seed=3" (or "seed=3" without a setting)."""
        return f"{self.setting}, seed={self.seed}" if self.setting else f"seed={self.seed}"

    def get(self, name: str):
        """The field or tag ``name`` (ValueError when the spec has neither)."""
        tags = dict(self.tags)
        if name in tags:
            return tags[name]
        if name != "tags" and name in {f.name for f in dataclasses.fields(self)}:
            return getattr(self, name)
        raise ValueError(f"{name!r} is neither a field nor a tag of {self!r}")

    def record_row(self, fields: Sequence[str]) -> dict:
        """The model's row in a record's ``"models"`` list: ``fields`` in that order, read
        from the spec's fields or its tags (``get``)."""
        return {name: self.get(name) for name in fields}


def grid(
    settings: Sequence[ModelSpec],
    seeds: Iterable[int],
    *,
    first_index: int = 0,
    init_offset: int = 0,
) -> list[ModelSpec]:
    """Every setting crossed with every seed, settings outermost (the order of a stack and
    of its record's rows). ``settings`` are specs whose seed fields are left unset; setting
    ``i`` (counted from ``first_index``) with seed ``s`` starts from
    ``init_seed(first_index + i, s, init_offset)``."""
    seeds = list(seeds)
    return [
        dataclasses.replace(
            setting, seed=seed, init_seed=init_seed(first_index + i, seed, init_offset)
        )
        for i, setting in enumerate(settings)
        for seed in seeds
    ]


def record_rows(specs: Sequence[ModelSpec], fields: Sequence[str]) -> list[dict]:
    """A record's ``"models"`` list: ``ModelSpec.record_row(fields)`` of every model."""
    return [spec.record_row(fields) for spec in specs]
