"""Data samplers. Every batch is drawn fresh (the large-sample limit of the paper)."""

from __future__ import annotations

import torch


def sample_sphere(
    shape: tuple[int, ...], dim: int, radius: float, generator: torch.Generator, device=None
) -> torch.Tensor:
    """Points uniform on the sphere S_{dim-1}(radius) in R^dim, shaped ``shape + (dim,)``.

    A standard normal vector divided by its norm is uniform on the unit sphere, because
    the normal density depends on the norm alone.
    """
    if dim < 1:
        raise ValueError(f"dim must be >= 1, got {dim}")
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    g = torch.randn(*shape, dim, generator=generator, device=device)
    return radius * g / g.norm(dim=-1, keepdim=True)
