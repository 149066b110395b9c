"""A record's models grouped by setting, and the averages chapters share.

Records list one row per model (setting, seed, ...) and per-model result columns
(``lvae.store.ModelTable``); chapters compare settings, each over its seeds.
"""

from __future__ import annotations

import numpy as np


def settings(record) -> list[str]:
    """The record's settings in the order its models were trained."""
    return record.models.values("setting")


def is_fixed(setting: str) -> bool:
    """Whether ``setting`` is a fixed-sigma row: one of the grid ("F sigma=0.1") or F*."""
    return setting.startswith("F sigma=") or setting == "F*"


def by_setting(record, values) -> dict[str, np.ndarray]:
    """``values`` grouped by setting: {setting: array over that setting's seeds}.

    ``values`` is a per-model result column's name, or one value per model in the
    record's order (a quantity computed from the record)."""
    if isinstance(values, str):
        return {s: record.models.where(setting=s).column(values) for s in settings(record)}
    values = np.asarray(values, dtype=float)
    if len(values) != len(record.models):
        raise ValueError(
            f"values must hold one entry per model ({len(record.models)}), got {len(values)}"
        )
    names = np.asarray([m["setting"] for m in record.models])
    return {s: values[names == s] for s in settings(record)}


def geomean(values) -> float:
    """Geometric mean exp(mean(log v)) of positive values (over seeds, pixels, ...)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0 or not np.all(v > 0):
        raise ValueError(f"values must be non-empty and positive, got {v}")
    return float(np.exp(np.log(v).mean()))
