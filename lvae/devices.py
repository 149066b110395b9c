"""Choosing the torch device: ``auto`` picks CUDA when present, else the CPU."""

from __future__ import annotations

import torch

from .experiments.base import DEVICES  # defined torch-free, for the CLI

__all__ = ["DEVICES", "describe", "resolve_device"]


def resolve_device(name: str) -> torch.device:
    """Map ``auto``/``cpu``/``cuda`` to a device, refusing CUDA where there is none."""
    if name not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but torch sees no CUDA device here")
    return torch.device(name)


def describe(device: torch.device) -> str:
    """A human-readable device name for provenance records."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "cpu"
