"""Data samplers. Every batch is drawn fresh (the large-sample limit of the paper)."""

from __future__ import annotations

import math

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


# ------------------------------------------------------------------ the 2-D toy problem
# Berger & Sebag (2020), Fig. 3: points near a 1-D curve in the plane, in three regions
# with moderate, small and large noise. The paper gives no equations; this is our design.
TOY2D_NOISE = (0.04, 0.01, 0.10)  # std of the noise on the left, middle and right thirds


def toy2d_curve(x: torch.Tensor) -> torch.Tensor:
    """The manifold: y = 0.5 cos(pi x) + 0.15 sin(4 pi x), for x in [-1, 1].

    The cosine is the coarse shape; the faster sine is a detail of amplitude 0.15, which
    a model with sigma well above it cannot afford to represent.
    """
    return 0.5 * torch.cos(torch.pi * x) + 0.15 * torch.sin(4 * torch.pi * x)


def toy2d_noise_std(x: torch.Tensor) -> torch.Tensor:
    """Noise level by region: x < -1/3 moderate, |x| <= 1/3 small, x > 1/3 large."""
    moderate, small, large = TOY2D_NOISE
    std = torch.full_like(x, small)
    std = torch.where(x < -1.0 / 3.0, torch.full_like(x, moderate), std)
    return torch.where(x > 1.0 / 3.0, torch.full_like(x, large), std)


def sample_toy2d(
    shape: tuple[int, ...], generator: torch.Generator, device=None, scale: float = 1.0
) -> torch.Tensor:
    """Fresh points of the toy problem, shaped ``shape + (2,)``.

    A position x is uniform on [-1, 1]; the point is (x, curve(x)) plus isotropic Gaussian
    noise whose standard deviation depends on the region of x. Every point is then
    multiplied by ``scale`` (curve and noise together, so the regions keep their
    proportions); ``lvae.calibration`` derives the scale that matches the paper's.
    """
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be positive and finite, got {scale}")
    x = torch.rand(*shape, generator=generator, device=device) * 2.0 - 1.0
    on_curve = torch.stack([x, toy2d_curve(x)], dim=-1)
    noise = torch.randn(*shape, 2, generator=generator, device=device)
    points = on_curve + toy2d_noise_std(x).unsqueeze(-1) * noise
    return points if scale == 1.0 else scale * points
